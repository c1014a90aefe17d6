package imageopto

// This file is the fill engine: how a request's entry is found or made —
// the result cache, one flight per key (request collapsing) with its own
// deadline, the source cache and the origin with conditional revalidation,
// stale-if-error, remembered failures, and the transformation within the
// admission bounds (admission.go). The peer tier's fill is in tier.go; the
// HTTP shell that calls lookup is handler.go.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"
)

// job is one request's work, after parsing and the hook.
type job struct {
	path   string
	params Params
	query  string      // passed-through foreign query
	format ImageFormat // negotiated output format ("" for none)
	vary   bool        // the response depends on Accept
	key    string
	// leader is set by the flight this job started, if it started one:
	// the other requests that received its result were collapsed into it.
	leader bool
	// overlay, when set, is composited over the result: its canonical
	// spec, its image and the image's hash (overlay_handler.go).
	overlay *jobOverlay
	// purge is the original's purge state when the request arrived: what
	// the job's entries are made under (purge.go).
	purge purgeState
	// seen is what lookup read from the result cache for key (after the
	// purge state; nil for nothing), read when the handler had stored
	// storedAt entries: the fill starts from it instead of reading again
	// unless entries were stored since (resultForFill).
	seen     *entry
	looked   bool
	storedAt int64
}

// key hashes what determines the output: the pipeline version, the origin
// path (and passed-through query), the canonical parameters and the
// negotiated output format, never the raw Accept header.
func (h *Handler) key(j *job) string {
	sum := sha256.New()
	fmt.Fprintf(sum, "v%s\x00%s\x00%s\x00%s\x00%s\x00", PipelineVersion, j.path, j.query, j.params.Encode(), j.format)
	if o := j.overlay; o != nil {
		fmt.Fprintf(sum, "overlay\x00%s\x00%s\x00", o.spec.Encode(), o.hash)
	}
	return "r/" + hex.EncodeToString(sum.Sum(nil))
}

func (h *Handler) sourceKey(j *job) string {
	return "s/" + j.path + "\x00" + j.query // NUL: in neither a clean path nor a query
}

// lookup returns the entry for a job: from the cache when fresh, else from
// one shared flight per key. The outcome says which.
func (h *Handler) lookup(ctx context.Context, j *job) (*entry, CacheOutcome, error) {
	j.purge = h.purges.state(j.path)
	j.storedAt = h.stored.Load()
	e := h.unpurged(h.cached(ctx, h.opts.Cache, "result", j.key), j.purge)
	j.looked = true
	if e != nil {
		now := h.now()
		if now.Before(e.Expires) {
			return e, CacheHit, e.err()
		}
		c := *e // the fill's own copy
		j.seen = &c
		if e.Status == 0 && now.Before(e.Expires.Add(h.opts.StaleWhileRevalidate)) {
			// RFC 5861 stale-while-revalidate: answer now, refresh behind.
			h.flight(ctx, j)
			s := *e
			s.Stale, s.Revalidating = true, true
			return &s, CacheStale, nil
		}
	}
	select {
	case res := <-h.flight(ctx, j):
		outcome := CacheCollapsed
		if j.leader {
			outcome = CacheMiss
		}
		if res.Err != nil {
			return nil, outcome, res.Err
		}
		e := res.Val.(*entry)
		switch {
		case e.Stale:
			outcome = CacheStale
		case j.leader && e.fill != "":
			outcome = e.fill
		}
		return e, outcome, e.err()
	case <-ctx.Done():
		return nil, CacheNone, ctx.Err()
	}
}

// flight starts (or joins) the one fill of a key. It runs detached from
// the caller, with its own deadline, and turns panics into errors.
func (h *Handler) flight(ctx context.Context, j *job) <-chan singleflight.Result {
	// A purge starts new flights: one begun before it may bring back what
	// it purged.
	return h.results.DoChan(j.key+j.purge.suffix(), func() (v any, err error) {
		j.leader = true // read by lookup after the result arrives
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.FlightTimeout)
		defer cancel()
		defer func() {
			if rec := recover(); rec != nil {
				h.log.Error("imageopto: panic in flight", "key", j.key, "panic", rec, "stack", string(debug.Stack()))
				v, err = nil, fmt.Errorf("%w: panic: %v", ErrInternal, rec)
			}
		}()
		return h.fill(fctx, j)
	})
}

// resultForFill returns the result-cache entry a fill starts from (after
// the purge state): what lookup read, unless an entry was stored since
// (a flight that ended meanwhile may have made this one), then read again
// without telling the observer — a request counts one result-cache
// lookup, whatever its fill does.
func (h *Handler) resultForFill(ctx context.Context, j *job) *entry {
	if j.looked && h.stored.Load() == j.storedAt {
		return j.seen
	}
	return h.unpurged(h.read(ctx, h.opts.Cache, "result", j.key, false), j.purge)
}

// cached reads and decodes an entry of c (named layer for the observer);
// any cache failure is a miss.
func (h *Handler) cached(ctx context.Context, c Cache, layer, key string) *entry {
	return h.read(ctx, c, layer, key, true)
}

// read is cached, observed or not.
func (h *Handler) read(ctx context.Context, c Cache, layer, key string, observe bool) *entry {
	if c == nil {
		return nil
	}
	b, err := c.Get(ctx, key)
	if observe && h.obs != nil {
		h.obs.Observe(Event{Kind: EventCacheLookup, Layer: layer, Result: lookupResult(err), Err: err})
	}
	if err != nil {
		if !errors.Is(err, ErrCacheMiss) {
			h.log.Warn("imageopto: cache get failed", "layer", layer, "key", key, "err", err)
		}
		return nil
	}
	e, err := decodeEntry(b)
	if err != nil {
		h.log.Warn("imageopto: bad cache entry", "layer", layer, "key", key, "err", err)
		return nil
	}
	return e
}

func (h *Handler) store(ctx context.Context, c Cache, key string, e *entry) {
	if c == nil || e.NoStore {
		return
	}
	ttl := e.Expires.Sub(h.now()) + h.opts.StaleTTL
	if e.Status != 0 {
		ttl = e.Expires.Sub(h.now())
	}
	if ttl <= 0 {
		return // already past any use
	}
	h.stored.Add(1)
	if err := c.Set(ctx, key, e.encode(), ttl); err != nil {
		h.log.Warn("imageopto: cache set failed", "key", key, "err", err)
	}
}

// fill makes the entry for a job: revalidate a stale entry, or fetch and
// transform.
func (h *Handler) fill(ctx context.Context, j *job) (*entry, error) {
	if h.opts.Tier != nil {
		return h.fillTier(ctx, j)
	}
	return h.fillLocal(ctx, j)
}

// fillLocal makes the entry for a job on this machine alone.
func (h *Handler) fillLocal(ctx context.Context, j *job) (*entry, error) {
	if err := h.overlayBytes(ctx, j); err != nil {
		return nil, err
	}
	now := h.now()
	stale := h.resultForFill(ctx, j)
	if stale != nil && now.Before(stale.Expires) {
		stale.fill = CacheHit
		return stale, nil // filled by an earlier flight meanwhile
	}
	src, err := h.source(ctx, j, stale)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrGone) {
			neg := &entry{Status: StatusCode(err), Expires: now.Add(h.opts.NotFoundTTL), Gen: j.purge.gen()}
			h.store(ctx, h.opts.Cache, j.key, neg)
		}
		return h.staleOr(j, stale, err)
	}
	// The original is unchanged when the origin confirms the validator, or
	// when new bytes hash the same (ETag flapping across origin replicas).
	// When we hold the bytes, their hash decides: a 304 for an ETag whose
	// bytes changed earlier under it (a broken origin) must not bring back
	// a result made from the old bytes.
	hashKnown := stale != nil && stale.Status == 0 && src.Data != nil && stale.SourceHash != ""
	sameBytes := hashKnown && src.hash() == stale.SourceHash
	unchanged := sameBytes || src.confirms(stale) && !hashKnown
	if src.confirms(stale) && hashKnown && !sameBytes {
		h.etagMismatches.Add(1)
		h.log.Warn("imageopto: origin confirmed an ETag whose bytes changed; using the new bytes", "path", j.path, "etag", src.ETag)
	}
	if unchanged {
		// The original is unchanged: refresh the entry without transforming.
		e := *stale
		e.Expires = src.Expires
		e.SourceETag = src.ETag
		e.Gen = j.purge.gen()
		e.fill = CacheRevalidated
		h.store(ctx, h.opts.Cache, j.key, &e)
		return &e, nil
	}
	res, err := h.transform(ctx, j, src.Data)
	if err != nil {
		return nil, err
	}
	e := &entry{
		ContentType:  res.ContentType,
		ETag:         contentETag(res.Data),
		LastModified: src.LastModified,
		Expires:      src.Expires,
		NoStore:      src.NoStore,
		Vary:         j.vary,
		Info:         res.Info(),
		Warnings:     res.Warnings,
		SourceETag:   src.ETag,
		SourceHash:   src.hash(),
		Gen:          j.purge.gen(),
		Body:         res.Data,
	}
	h.store(ctx, h.opts.Cache, j.key, e)
	return e, nil
}

// staleOr serves a stale copy when the origin failed (RFC 5861
// stale-if-error): not for a 404 or 410, which mean the original is gone.
func (h *Handler) staleOr(j *job, stale *entry, err error) (*entry, error) {
	if stale == nil || stale.Status != 0 || errors.Is(err, ErrNotFound) || errors.Is(err, ErrGone) {
		return nil, err
	}
	h.log.Warn("imageopto: origin failed; serving stale", "path", j.path, "err", err)
	s := *stale
	s.Stale = true
	return &s, nil
}

// transform runs the engine within the admission bounds. It answers when
// ctx ends even if the work goes on (a WebAssembly codec cannot be
// stopped half-way): the work then gives back its slot and memory only
// when it really ends, so that admission never counts it as gone early.
func (h *Handler) transform(ctx context.Context, j *job, data []byte) (*Result, error) {
	// Plan from the header first, for the format negotiated with the
	// request: refuse bad requests and bombs before queueing, and learn how
	// much memory the job needs.
	o := h.opts.Transform
	held := int64(len(data))
	if j.overlay != nil {
		o.Overlay, o.OverlayImage = &j.overlay.spec, j.overlay.data
		held += int64(len(j.overlay.data))
	}
	prep, err := prepare(data, j.params, j.format, o)
	if err != nil {
		return nil, err
	}
	// The original (and overlay image) is held through the job, and while
	// it waits: it counts toward the ceiling and is taken from the budget
	// before the wait.
	need := EstimateMemory(prep.info, prep.plan)
	if err := h.admit.fits(need + held); err != nil {
		return nil, err
	}
	releaseData, err := h.admit.hold(ctx, held)
	if err != nil {
		return nil, err
	}
	releaseJob, err := h.admit.job(ctx, need)
	if err != nil {
		releaseData()
		return nil, err
	}
	release := func() { releaseJob(); releaseData() }
	if o.Threads == 0 && prep.threaded() {
		// An idle slot makes the job's decoder and encoder run on two
		// goroutines (TransformOptions.Threads); it is given back with
		// the job's own.
		n, giveBack := h.admit.lend(1)
		prep.o.Threads = 1 + n
		release = func() { giveBack(); releaseJob(); releaseData() }
	}
	h.transforms.Add(1)
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	start, began := h.now(), time.Now()
	go func() {
		defer release()
		res, err := prep.run(ctx)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		if h.obs != nil {
			f := j.format
			if o.res != nil {
				f = o.res.Output.Format
			}
			h.obs.Observe(Event{Kind: EventTransform, Format: f, Duration: time.Since(began), Err: o.err})
		}
		return o.res, o.err
	case <-ctx.Done():
		h.log.Warn("imageopto: transformation stopped at its deadline", "path", j.path, "plan", prep.plan.String(), "after", h.now().Sub(start), "err", ctx.Err())
		return nil, fmt.Errorf("imageopto: transformation stopped: %w", ctx.Err())
	}
}

// fetched is an original with its validators and freshness.
type fetched struct {
	Data         []byte
	ETag         string
	LastModified time.Time
	Expires      time.Time
	NoStore      bool
	revalidated  bool // the origin confirmed an older copy (304)
	// The validators the conditional request carried: a 304 confirms the
	// copy they came from, and no other.
	sentETag string
	sentIMS  time.Time
	// sum is contentETag(Data), once known.
	sum string
}

// hash is the identity of the original's bytes (computed once).
func (f *fetched) hash() string {
	if f.sum == "" && f.Data != nil {
		f.sum = contentETag(f.Data)
	}
	return f.sum
}

// confirms reports whether f is a 304 for the original that e was made from.
func (f *fetched) confirms(e *entry) bool {
	return f.revalidated && e != nil && e.Status == 0 &&
		f.sentETag == e.SourceETag && f.sentIMS.Equal(e.LastModified)
}

// source returns the original for a job: from the source cache when fresh,
// revalidated with the origin when stale, fetched otherwise. Concurrent
// requests for one original share one fetch. stale, when not nil, is a stale
// result entry whose source validators allow a conditional request even when
// the source cache no longer holds the bytes.
func (h *Handler) source(ctx context.Context, j *job, stale *entry) (*fetched, error) {
	skey := h.sourceKey(j)
	ps := h.purges.state(j.path)
	v, err, _ := h.sources.Do(skey+ps.suffix(), func() (any, error) {
		now := h.now()
		have := h.unpurged(h.cached(ctx, h.opts.SourceCache, "source", skey), ps)
		if have != nil && (have.Status != 0 || have.Kind != "") {
			// A remembered refusal of this original.
			if now.Before(have.Expires) {
				return nil, have.err()
			}
			have = nil
		}
		if have != nil && now.Before(have.Expires) {
			return &fetched{Data: have.Body, ETag: have.ETag, LastModified: have.LastModified, Expires: have.Expires, sum: have.SourceHash}, nil
		}
		req := FetchRequest{Path: j.path, RawQuery: j.query}
		switch {
		case have != nil:
			req.IfNoneMatch, req.IfModifiedSince = have.ETag, have.LastModified
		case stale != nil && stale.Status == 0:
			req.IfNoneMatch, req.IfModifiedSince = stale.SourceETag, stale.LastModified
		}
		release, err := h.admit.fetch(ctx, h.opts.Transform.Limits.withDefaults().MaxSourceBytes)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		src, err := h.origin.Fetch(ctx, req)
		release()
		if h.obs != nil {
			h.obs.Observe(Event{Kind: EventOriginFetch, Result: fetchResult(src, err), Duration: time.Since(start), Err: err})
		}
		if err == nil && !src.NotModified && len(src.Data) == 0 {
			err = fmt.Errorf("%w: the original is empty", ErrCorrupt)
		}
		if err != nil {
			if have == nil {
				h.keepRefusal(ctx, skey, err, ps)
			}
			return nil, err
		}
		f := &fetched{ETag: src.ETag, LastModified: src.LastModified, NoStore: src.NoStore,
			Expires: h.expiry(now, src.Expires), sentETag: req.IfNoneMatch, sentIMS: req.IfModifiedSince}
		if src.NotModified {
			if req.IfNoneMatch == "" && req.IfModifiedSince.IsZero() {
				return nil, fmt.Errorf("%w: unconditional request answered Not Modified", ErrOriginFailed)
			}
			f.revalidated = true
			if f.ETag == "" {
				f.ETag = req.IfNoneMatch
			}
			if f.LastModified.IsZero() {
				f.LastModified = req.IfModifiedSince
			}
			if have == nil {
				// Only the result entry was stale; its bytes are not needed.
				return f, nil
			}
			f.Data = have.Body
		} else {
			f.Data = src.Data
			if req.IfNoneMatch != "" && !strings.HasPrefix(src.ETag, "W/") && src.ETag == req.IfNoneMatch {
				// (A weak ETag promises equivalence, not the same bytes.)
				h.checkSameETag(j.path, src.ETag, have, stale, src.Data)
			}
		}
		if have != nil && f.revalidated {
			f.sum = have.SourceHash
		}
		h.store(ctx, h.opts.SourceCache, skey, &entry{ETag: f.ETag, LastModified: f.LastModified,
			Expires: f.Expires, NoStore: f.NoStore, SourceHash: f.hash(), Gen: ps.gen(), Body: f.Data})
		return f, nil
	})
	if err != nil {
		return nil, err
	}
	f := v.(*fetched)
	if f.Data == nil && !f.confirms(stale) {
		// Revalidated for a different entry than ours: fetch the bytes.
		return h.source(ctx, &job{path: j.path, query: j.query, key: j.key}, nil)
	}
	return f, nil
}

// keepRefusal remembers, in the source cache, an origin's refusal of one
// original that holds for a while whatever the parameters: an original too
// large or empty (for NotFoundTTL), an origin failure (for FailureTTL).
// 404 and 410 are remembered per result (fillLocal); a caller's own end is
// not the origin's answer and is never kept.
func (h *Handler) keepRefusal(ctx context.Context, skey string, err error, ps purgeState) {
	if h.opts.SourceCache == nil || ctx.Err() != nil || errors.Is(err, errCircuitOpen) {
		return
	}
	var kind string
	ttl := h.opts.NotFoundTTL
	switch {
	case errors.Is(err, ErrSourceTooLarge):
		kind = "too-large"
	case errors.Is(err, ErrCorrupt):
		kind = "corrupt"
	case errors.Is(err, ErrOriginFailed):
		kind, ttl = "origin", h.opts.FailureTTL
	case errors.Is(err, context.DeadlineExceeded):
		kind, ttl = "origin-timeout", h.opts.FailureTTL
	default:
		return
	}
	e := &entry{Status: StatusCode(err), Kind: kind, Error: keptErrorText(err), Expires: h.now().Add(ttl), Gen: ps.gen()}
	h.store(ctx, h.opts.SourceCache, skey, e)
}

// checkSameETag is called when the origin answers a conditional request
// with 200 and the very ETag it was asked about. Either it ignores
// conditional requests (harmless), or it changed the bytes without changing
// the ETag (a broken origin, e.g. replicas that disagree): that is counted
// and logged. The new bytes win either way.
func (h *Handler) checkSameETag(path, etag string, have, stale *entry, data []byte) {
	var changed bool
	switch {
	case have != nil:
		changed = !bytes.Equal(have.Body, data)
	case stale != nil && stale.SourceHash != "":
		changed = contentETag(data) != stale.SourceHash
	}
	if changed {
		h.etagMismatches.Add(1)
		h.log.Warn("imageopto: origin sent different bytes under the same ETag; using the new bytes", "path", path, "etag", etag)
	}
}

// expiry clamps the origin's freshness into [MinTTL, MaxTTL], or applies
// DefaultTTL when the origin said nothing.
func (h *Handler) expiry(now, origin time.Time) time.Time {
	if origin.IsZero() {
		return now.Add(h.opts.DefaultTTL)
	}
	ttl := min(max(origin.Sub(now), h.opts.MinTTL), h.opts.MaxTTL)
	return now.Add(ttl)
}
