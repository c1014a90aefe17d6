package imageopto

import (
	"context"
	"errors"
	"fmt"
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
// needs no invalidation.
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
var TierGroups = []TierGroup{TierMeta, TierSource, TierResult}

// tierShardSep separates a key's shard from its epoch. It cannot occur in a
// clean path (CleanPath refuses control characters) nor in a query that
// came through net/http.
const tierShardSep = "\x1f"

// TierShard returns the part of a tier key that chooses its owner: the
// record and the bytes of one original share it (whatever the re-check
// epoch), so they live on one machine.
func TierShard(key string) string {
	shard, _, _ := strings.Cut(key, tierShardSep)
	return shard
}

// tierSourceKey names an original's record and bytes in one re-check epoch.
func (h *Handler) tierSourceKey(path, query string, now time.Time) string {
	epoch := now.UnixNano() / int64(h.opts.TierRecheck)
	return "v" + PipelineVersion + "\x00" + path + "\x00" + query + tierShardSep + strconv.FormatInt(epoch, 10)
}

// epochEnd is when the re-check epoch that contains now ends.
func (h *Handler) epochEnd(now time.Time) time.Time {
	d := int64(h.opts.TierRecheck)
	return time.Unix(0, (now.UnixNano()/d+1)*d)
}

func parseTierSourceKey(key string) (path, query string, err error) {
	shard, _, _ := strings.Cut(key, tierShardSep)
	parts := strings.Split(shard, "\x00")
	if len(parts) != 3 || parts[0] != "v"+PipelineVersion {
		return "", "", fmt.Errorf("%w: bad tier source key", ErrInternal)
	}
	return parts[1], parts[2], nil
}

// tierResultKey names a result by what determines its bytes: the pipeline
// version, the hash of the original's bytes, the negotiated format and the
// canonical parameters. The path and query follow only so that the owner
// knows where to fetch the original.
func tierResultKey(hash string, j *job) string {
	return strings.Join([]string{"v" + PipelineVersion, hash, string(j.format), j.params.Encode(), j.path, j.query}, "\x00")
}

func parseTierResultKey(key string) (hash string, j *job, err error) {
	parts := strings.Split(key, "\x00")
	if len(parts) != 6 || parts[0] != "v"+PipelineVersion {
		return "", nil, fmt.Errorf("%w: bad tier result key", ErrInternal)
	}
	p, err := ParseParams(parts[3])
	if err != nil {
		return "", nil, err
	}
	return parts[1], &job{path: parts[4], query: parts[5], params: p, format: ImageFormat(parts[2])}, nil
}

// errSourceChanged means the original's bytes changed between reading its
// record and transforming it.
var errSourceChanged = fmt.Errorf("%w: the original changed while it was transformed; retry", ErrOriginFailed)

// tierLoad makes a tier value on this machine.
func (h *Handler) tierLoad(ctx context.Context, group TierGroup, key string) ([]byte, error) {
	switch group {
	case TierSource:
		path, query, err := parseTierSourceKey(key)
		if err != nil {
			return nil, err
		}
		f, err := h.source(ctx, &job{path: path, query: query}, nil)
		if err != nil {
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrGone) {
				// A value, not an error: a tier retries errors elsewhere.
				neg := &entry{Status: StatusCode(err), Expires: h.now().Add(h.opts.NotFoundTTL)}
				return neg.encode(), nil
			}
			return nil, err
		}
		e := &entry{ETag: f.ETag, LastModified: f.LastModified, Expires: f.Expires,
			NoStore: f.NoStore, SourceHash: contentETag(f.Data), Body: f.Data}
		return e.encode(), nil
	case TierMeta:
		// The record is the original's entry without its bytes; its owner is
		// the original's owner, so this reads the bytes locally.
		b, err := h.opts.Tier.Get(ctx, TierSource, key)
		if err != nil {
			return nil, err
		}
		e, err := decodeEntry(b)
		if err != nil {
			return nil, err
		}
		e.Body = nil
		return e.encode(), nil
	case TierResult:
		hash, j, err := parseTierResultKey(key)
		if err != nil {
			return nil, err
		}
		b, err := h.opts.Tier.Get(ctx, TierSource, h.tierSourceKey(j.path, j.query, h.now()))
		if err != nil {
			return nil, err
		}
		src, err := decodeEntry(b)
		if err != nil {
			return nil, err
		}
		if src.Status != 0 || src.SourceHash != hash {
			return nil, errSourceChanged
		}
		res, err := h.transform(ctx, j, src.Body)
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
	stale := h.cached(ctx, j.key)
	if stale != nil && now.Before(stale.Expires) {
		return stale, nil // filled by an earlier flight meanwhile
	}
	serveStale := func(err error) (*entry, error) {
		if stale != nil && stale.Status == 0 && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrGone) {
			h.log.Warn("imageopto: origin failed; serving stale", "path", j.path, "err", err)
			s := *stale
			s.Stale = true
			return &s, nil
		}
		return nil, err
	}
	mb, err := h.opts.Tier.Get(ctx, TierMeta, h.tierSourceKey(j.path, j.query, now))
	var meta *entry
	if err == nil {
		meta, err = decodeEntry(mb)
	}
	if err != nil {
		return serveStale(err)
	}
	if meta.Status != 0 {
		h.store(ctx, h.opts.Cache, j.key, meta)
		return nil, meta.err()
	}
	// Freshness: the origin's, but at least until the record is re-checked.
	expires := meta.Expires
	if end := h.epochEnd(now); expires.Before(end) {
		expires = end
	}
	if stale != nil && stale.Status == 0 && stale.SourceHash == meta.SourceHash {
		e := *stale
		e.Expires, e.SourceETag, e.LastModified = expires, meta.ETag, meta.LastModified
		h.store(ctx, h.opts.Cache, j.key, &e)
		return &e, nil
	}
	rb, err := h.opts.Tier.Get(ctx, TierResult, tierResultKey(meta.SourceHash, j))
	var res *entry
	if err == nil {
		res, err = decodeEntry(rb)
	}
	if err != nil {
		return serveStale(err)
	}
	if res.Status != 0 {
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
		Body:         res.Body,
	}
	h.store(ctx, h.opts.Cache, j.key, e)
	return e, nil
}

// kindErrors are the failures that depend only on the original's bytes and
// the parameters, so a tier may keep them as the value of a result key.
var kindErrors = []struct {
	kind string
	err  error
}{
	{"param", ErrInvalidParam},
	{"unsupported", ErrUnsupportedParam},
	{"format", ErrUnsupportedFormat},
	{"corrupt", ErrCorrupt},
	{"too-large", ErrSourceTooLarge},
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
