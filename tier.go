package imageopto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A Tier shares originals and results among several machines that run the
// same Handler (package cluster implements one on groupcache). Without a
// Tier every machine fetches and transforms on its own; with one, each key
// has one owner machine — the shield for that key — and a request that
// misses everywhere reaches the origin once and is transformed once,
// cluster-wide.
//
// The handler asks the tier for three groups of values (TierGroup): the
// record "path → identity of the original's bytes" (small, re-checked every
// Options.TierRecheck), the original's bytes, and results. Result keys hold
// the identity of the original's bytes, so a result value never changes and
// needs no invalidation — and not its path: two URLs that name the same
// bytes (a path alias, another origin query) share one result. The path
// the result can be made from travels beside the key, in the context of a
// TierResult Get (TierOrigin): a tier that forwards the Get to the key's
// owner must carry it there and give it to the loader (WithTierOrigin).
//
// The tier chooses a key's owner from TierShard(key), so the record and the
// bytes of one original live on one machine. When this machine owns a key,
// or its owner cannot be reached, the tier calls the TierLoader it was given
// by Start; concurrent Gets for one key should share one load. Implementations
// must be safe for concurrent use.
type Tier interface {
	// Start is called once by New with the function that makes a value on
	// this machine. It returns an error if the tier cannot serve this
	// handler (for example when it already serves another).
	Start(load TierLoader) error
	// Get returns the value of key in group, from the key's owner.
	Get(ctx context.Context, group TierGroup, key string) ([]byte, error)
}

// TierLoader makes the value of a key on this machine: it reads the origin
// (through the handler's source cache) or transforms. Its values are in the
// handler's own encoding; a tier stores and forwards them as opaque bytes.
type TierLoader func(ctx context.Context, group TierGroup, key string) ([]byte, error)

// TierGroup names one of the kinds of values a Tier holds.
type TierGroup string

// The groups a handler asks a Tier for.
const (
	// TierMeta holds, per original, its validators, freshness and the hash
	// of its bytes: a few hundred bytes.
	TierMeta TierGroup = "meta"
	// TierSource holds the bytes of originals.
	TierSource TierGroup = "source"
	// TierResult holds transformed images, keyed by the identity of the
	// original's bytes, the canonical parameters and the output format.
	TierResult TierGroup = "result"
)

// TierGroups lists every TierGroup, for tiers that register one store per
// group.
func TierGroups() []TierGroup { return []TierGroup{TierMeta, TierSource, TierResult} }

// tierShardSep separates a key's shard from the rest. It cannot occur in a
// clean path (CleanPath refuses control characters) nor in an origin query
// (net/http refuses them in requests; the handler refuses them from hooks).
const tierShardSep = "\x1f"

// TierShard returns the part of a tier key that chooses its owner: the
// record and the bytes of one original share it (whatever the re-check
// epoch or the bytes' hash), so they live on one machine.
func TierShard(key string) string {
	shard, _, _ := strings.Cut(key, tierShardSep)
	return shard
}

func tierShard(path, query string) string {
	return "v" + PipelineVersion + "\x00" + path + "\x00" + query
}

// tierMetaKey names an original's record in one re-check epoch and purge
// state: after a purge the key is new, so no member can find a record made
// before it, and the owner learns the purge from the key.
func (h *Handler) tierMetaKey(path, query string, now time.Time, ps purgeState) string {
	epoch := now.UnixNano() / int64(h.opts.TierRecheck)
	return tierShard(path, query) + tierShardSep + "e" + strconv.FormatInt(epoch, 10) + ps.suffix()
}

// tierSourceKey names an original's bytes by their hash: the value never
// changes.
func tierSourceKey(path, query, hash string) string {
	return tierShard(path, query) + tierShardSep + "h" + hash
}

// epochEnd is when the re-check epoch that contains now ends.
func (h *Handler) epochEnd(now time.Time) time.Time {
	d := int64(h.opts.TierRecheck)
	return time.Unix(0, (now.UnixNano()/d+1)*d)
}

// parseTierKey splits a meta or source key into the original's path and
// query and what follows the shard ("e" + epoch, or "h" + hash).
func parseTierKey(key string) (path, query, rest string, err error) {
	shard, rest, ok := strings.Cut(key, tierShardSep)
	parts := strings.Split(shard, "\x00")
	if !ok || len(parts) != 3 || parts[0] != "v"+PipelineVersion {
		return "", "", "", fmt.Errorf("%w: bad tier key", ErrInternal)
	}
	return parts[1], parts[2], rest, nil
}

// tierResultKey names a result by what determines its bytes, and nothing
// else: the pipeline version, the hash of the original's bytes, the
// negotiated format, the canonical parameters and, with an overlay, its
// canonical spec and the hash of its image's bytes. Where the original can
// be fetched from travels beside it (WithTierOrigin); the overlay's image
// is fetched from the spec's path, through the tier, by its hash.
func tierResultKey(hash string, j *job) string {
	parts := []string{"v" + PipelineVersion, hash, string(j.format), j.params.Encode()}
	if o := j.overlay; o != nil {
		parts = append(parts, o.spec.Encode(), o.hash)
	}
	return strings.Join(parts, "\x00")
}

func parseTierResultKey(key string) (hash string, j *job, err error) {
	parts := strings.Split(key, "\x00")
	if len(parts) != 4 && len(parts) != 6 || parts[0] != "v"+PipelineVersion {
		return "", nil, fmt.Errorf("%w: bad tier result key", ErrInternal)
	}
	p, err := ParseParams(parts[3])
	if err != nil {
		return "", nil, err
	}
	j = &job{params: p, format: ImageFormat(parts[2])}
	if len(parts) == 6 {
		spec, err := parseOverlay(parts[4], false)
		if err != nil {
			return "", nil, err
		}
		path, err := overlayOriginPath(spec.Path)
		if err != nil || parts[5] == "" {
			return "", nil, fmt.Errorf("%w: bad overlay in a tier result key", ErrBadPath)
		}
		j.overlay = &jobOverlay{spec: spec, path: path, hash: parts[5]}
	}
	return parts[1], j, nil
}

type tierOriginKey struct{}

type tierOrigin struct{ path, query string }

// WithTierOrigin returns ctx carrying the origin path and query that the
// result of a TierResult Get can be made from. The handler sets it on its
// Gets; a tier that forwards a Get sets it again on the owner's side, from
// what it carried (TierOrigin), before the owner's loader runs.
func WithTierOrigin(ctx context.Context, path, query string) context.Context {
	return context.WithValue(ctx, tierOriginKey{}, tierOrigin{path, query})
}

// TierOrigin returns what WithTierOrigin put into ctx.
func TierOrigin(ctx context.Context) (path, query string, ok bool) {
	o, ok := ctx.Value(tierOriginKey{}).(tierOrigin)
	return o.path, o.query, ok
}

// errSourceChanged means the original's bytes changed between reading its
// record and transforming it.
var errSourceChanged = fmt.Errorf("%w: the original changed while it was transformed; retry", ErrOriginFailed)

// checkPeerQuery refuses a key whose origin query this handler would never
// send: a peer cannot make it fetch what its own clients cannot.
func (h *Handler) checkPeerQuery(query string) error {
	if query != "" && !h.opts.PassQuery {
		return fmt.Errorf("%w: origin query in a tier key, but PassQuery is off", ErrForbidden)
	}
	return nil
}

// tierGet asks the tier for a value, and tells the observer.
func (h *Handler) tierGet(ctx context.Context, group TierGroup, key string) ([]byte, error) {
	if h.obs == nil {
		return h.opts.Tier.Get(ctx, group, key)
	}
	start := time.Now()
	v, err := h.opts.Tier.Get(ctx, group, key)
	result := "ok"
	if err != nil {
		result = "error"
	}
	h.obs.Observe(Event{Kind: EventTier, Layer: string(group), Result: result, Duration: time.Since(start), Err: err})
	return v, err
}

// tierLoad makes a tier value on this machine.
func (h *Handler) tierLoad(ctx context.Context, group TierGroup, key string) ([]byte, error) {
	switch group {
	case TierMeta:
		path, query, rest, err := parseTierKey(key)
		if err != nil {
			return nil, err
		}
		if err := h.checkPeerQuery(query); err != nil {
			return nil, err
		}
		if _, suffix, ok := strings.Cut(rest, "p"); ok {
			// The machine that asked knows of a purge: so does this one now.
			if ps, ok := parsePurgeSuffix("p" + suffix); ok {
				_, _ = h.purges.Merge(ctx, []PurgeRecord{{Path: path, Hard: ps.hard, Soft: ps.soft}})
			}
		}
		ps := h.purges.state(path)
		now := h.now()
		f, err := h.source(ctx, &job{path: path, query: query}, nil)
		switch {
		case err == nil:
			meta := &entry{ETag: f.ETag, LastModified: f.LastModified, Expires: f.Expires,
				NoStore: f.NoStore, SourceHash: f.hash(), PurgeHard: ps.hard, PurgeSoft: ps.soft}
			return meta.encode(), nil
		case errors.Is(err, ErrNotFound) || errors.Is(err, ErrGone):
			// A value, not an error: a tier retries errors elsewhere.
			neg := &entry{Status: StatusCode(err), Expires: now.Add(h.opts.NotFoundTTL), PurgeHard: ps.hard, PurgeSoft: ps.soft}
			return neg.encode(), nil
		case ctx.Err() == nil && (errors.Is(err, ErrOriginFailed) || errors.Is(err, context.DeadlineExceeded)):
			// The origin failed: kept for this epoch, so that the machine
			// that asked serves its stale copy or fails at once instead of
			// trying the origin again itself.
			kind := "origin"
			if StatusCode(err) == http.StatusGatewayTimeout {
				kind = "origin-timeout"
			}
			e := &entry{Status: StatusCode(err), Kind: kind, Error: keptErrorText(err), Expires: now}
			return e.encode(), nil
		}
		return nil, err
	case TierSource:
		path, query, rest, err := parseTierKey(key)
		if err != nil {
			return nil, err
		}
		if err := h.checkPeerQuery(query); err != nil {
			return nil, err
		}
		f, err := h.source(ctx, &job{path: path, query: query}, nil)
		if err != nil {
			return nil, err
		}
		if "h"+f.hash() != rest {
			return nil, errSourceChanged
		}
		return f.Data, nil
	case TierResult:
		hash, j, err := parseTierResultKey(key)
		if err != nil {
			return nil, err
		}
		var ok bool
		if j.path, j.query, ok = TierOrigin(ctx); !ok {
			return nil, fmt.Errorf("%w: no origin path came with the tier result key", ErrInternal)
		}
		if _, err := CleanPath(j.path); err != nil {
			return nil, err
		}
		if err := h.checkPeerQuery(j.query); err != nil {
			return nil, err
		}
		data, err := h.tierGet(ctx, TierSource, tierSourceKey(j.path, j.query, hash))
		if err != nil {
			return nil, err
		}
		if o := j.overlay; o != nil {
			// The overlay's image, by its hash, from its owner: an owner
			// that holds other bytes for the path fails (errSourceChanged)
			// and the machine that asked makes the result itself.
			if o.data, err = h.tierGet(ctx, TierSource, tierSourceKey(o.path, "", o.hash)); err != nil {
				return nil, err
			}
		}
		res, err := h.transform(ctx, j, data)
		if err != nil {
			if kind := errorKind(err); kind != "" {
				// The same bytes and parameters always fail the same way:
				// the failure is the value of this key.
				e := &entry{Status: StatusCode(err), Kind: kind, Error: keptErrorText(err)}
				return e.encode(), nil
			}
			return nil, err
		}
		e := &entry{ContentType: res.ContentType, ETag: contentETag(res.Data), Info: res.Info(),
			Warnings: res.Warnings, SourceHash: hash, Body: res.Data}
		return e.encode(), nil
	}
	return nil, fmt.Errorf("%w: unknown tier group %q", ErrInternal, group)
}

// fillTier makes the entry for a job through the tier: the original's
// record from its owner, then the result from its owner.
func (h *Handler) fillTier(ctx context.Context, j *job) (*entry, error) {
	now := h.now()
	stale := h.resultForFill(ctx, j)
	if stale != nil && now.Before(stale.Expires) {
		stale.fill = CacheHit
		return stale, nil // filled by an earlier flight meanwhile
	}
	mb, err := h.tierGet(ctx, TierMeta, h.tierMetaKey(j.path, j.query, now, j.purge))
	var meta *entry
	if err == nil {
		meta, err = decodeEntry(mb)
	}
	if err != nil {
		return h.staleOr(j, stale, err)
	}
	if meta.PurgeHard > j.purge.hard || meta.PurgeSoft > j.purge.soft {
		// The owner knows of a purge this machine missed. What this fill
		// makes carries the older generation and is made again on the next
		// request, under the new one.
		_, _ = h.purges.Merge(ctx, []PurgeRecord{{Path: j.path, Hard: meta.PurgeHard, Soft: meta.PurgeSoft}})
	}
	meta.Gen = j.purge.gen()
	switch {
	case meta.Kind != "":
		return h.staleOr(j, stale, meta.err()) // the origin failed
	case meta.Status != 0:
		h.store(ctx, h.opts.Cache, j.key, meta) // 404 or 410
		return nil, meta.err()
	case meta.NoStore:
		// The origin forbids keeping the original: no sharing either.
		return h.fillLocal(ctx, j)
	}
	// Freshness: the origin's, but at least until the record is re-checked.
	expires := meta.Expires
	if end := h.epochEnd(now); expires.Before(end) {
		expires = end
	}
	if stale != nil && stale.Status == 0 && stale.SourceHash == meta.SourceHash {
		e := *stale
		e.Expires, e.SourceETag, e.LastModified = expires, meta.ETag, meta.LastModified
		e.Gen = j.purge.gen()
		e.fill = CacheRevalidated
		h.store(ctx, h.opts.Cache, j.key, &e)
		return &e, nil
	}
	rb, err := h.tierGet(WithTierOrigin(ctx, j.path, j.query), TierResult, tierResultKey(meta.SourceHash, j))
	var res *entry
	if err == nil {
		res, err = decodeEntry(rb)
	}
	if err != nil && j.overlay != nil && ctx.Err() == nil {
		// While an overlay image changes, its owner may hold other bytes
		// than the hash this machine knows: the result is made here, from
		// the image this machine has.
		h.log.Warn("imageopto: peer tier could not make a result with an overlay; making it here", "path", j.path, "overlay", j.overlay.path, "err", err)
		return h.fillLocal(ctx, j)
	}
	if err != nil {
		return h.staleOr(j, stale, err)
	}
	if res.Status != 0 {
		// A kept failure (a corrupt image, an impossible parameter): kept
		// here too, as briefly as a 404.
		neg := *res
		neg.Expires = now.Add(h.opts.NotFoundTTL)
		neg.Gen = j.purge.gen()
		h.store(ctx, h.opts.Cache, j.key, &neg)
		return nil, res.err()
	}
	e := &entry{
		ContentType:  res.ContentType,
		ETag:         res.ETag,
		LastModified: meta.LastModified,
		Expires:      expires,
		NoStore:      meta.NoStore,
		Vary:         j.vary,
		Info:         res.Info,
		Warnings:     res.Warnings,
		SourceETag:   meta.ETag,
		SourceHash:   meta.SourceHash,
		Gen:          j.purge.gen(),
		Body:         res.Body,
	}
	h.store(ctx, h.opts.Cache, j.key, e)
	return e, nil
}

// kindErrors are the failures that depend only on the original's bytes and
// the parameters, so a tier may keep them as the value of a result key.
var kindErrors = []keptKind{
	{"param", ErrInvalidParam},
	{"unsupported", ErrUnsupportedParam},
	{"format", ErrUnsupportedFormat},
	{"corrupt", ErrCorrupt},
	{"too-large", ErrSourceTooLarge},
	{"job-too-large", ErrJobTooLarge},
}

// keptKinds are every failure a tier value can hold: kindErrors, and origin
// failures kept for one re-check epoch.
var keptKinds = append([]keptKind{
	{"origin", ErrOriginFailed},
	{"origin-timeout", context.DeadlineExceeded},
}, kindErrors...)

// keptKind names the sentinel a kept failure wraps.
type keptKind struct {
	kind string
	err  error
}

func errorKind(err error) string {
	for _, k := range kindErrors {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return ""
}

// keptErrorText bounds the text of a failure kept as a tier value.
func keptErrorText(err error) string {
	s := err.Error()
	if len(s) > 2000 {
		s = s[:2000]
	}
	return s
}

// keptError is a failure read back from a tier value: its text, and the
// sentinel it wrapped.
type keptError struct {
	msg  string
	kind error
}

func (e *keptError) Error() string { return e.msg }
func (e *keptError) Unwrap() error { return e.kind }
