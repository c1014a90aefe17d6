package imageopto

// This file is how a Handler gets an overlay's image: from the origin,
// through the source cache and its flights like any original, before the
// result's cache key is made — so that the key holds the hash of the
// overlay's bytes, and a changed watermark makes new results instead of
// serving old ones. While the image is fresh its hash is remembered in
// memory (overlayMemo): a request whose result is cached then reads
// neither the image nor the source cache, and the image's bytes are read
// only by the fill that needs them.

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// jobOverlay is a job's overlay: the canonical spec, the image's origin
// path, its bytes (nil until a fill needs them) and their hash.
type jobOverlay struct {
	spec Overlay
	path string
	data []byte
	hash string
}

// overlay checks a request's overlay and finds the hash of its image for
// j's key: from the memo while the image is fresh, else by fetching it.
//
// The image is an original like any other: it is read from the source
// cache when fresh, revalidated with the origin when stale, fetched
// otherwise, and concurrent requests share one fetch — N requests with
// one watermark cost one origin fetch per freshness period. Its refusals
// are the original's (size limits, failures remembered), but a missing
// overlay is the operator's error, not the client's: 502, never a 404
// that would say the requested image is missing. No response is ever
// made without its overlay.
func (h *Handler) overlay(ctx context.Context, j *job, o Overlay) error {
	spec, err := o.canonical()
	if err != nil {
		return err
	}
	path, err := overlayOriginPath(spec.Path)
	if err != nil {
		return fmt.Errorf("%w: overlay path: %v", ErrBadPath, err)
	}
	j.overlay = &jobOverlay{spec: spec, path: path}
	if hash, ok := h.overlays.get(path, h.now(), h.purges.state(path)); ok {
		j.overlay.hash = hash
		return nil
	}
	return h.overlayImage(ctx, j.overlay)
}

// overlayImage fetches the overlay's image into o (and remembers its hash
// while it is fresh).
func (h *Handler) overlayImage(ctx context.Context, o *jobOverlay) error {
	// The fetch runs detached, bounded by the flight timeout: others may
	// share it when this client leaves.
	type fetchResult struct {
		f   *fetched
		ps  purgeState
		err error
	}
	done := make(chan fetchResult, 1)
	path := o.path
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.FlightTimeout)
		defer cancel()
		defer func() {
			if rec := recover(); rec != nil {
				h.log.Error("imageopto: panic fetching an overlay", "path", path, "panic", rec, "stack", string(debug.Stack()))
				done <- fetchResult{err: fmt.Errorf("%w: panic: %v", ErrInternal, rec)}
			}
		}()
		ps := h.purges.state(path)
		f, err := h.source(fctx, &job{path: path}, nil)
		done <- fetchResult{f, ps, err}
	}()
	var res fetchResult
	select {
	case res = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	switch err := res.err; {
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrGone):
		return fmt.Errorf("%w: overlay image %s: %v", ErrOriginFailed, o.spec.Path, err)
	case err != nil:
		// stale-if-error, as for results: while the origin fails, a stale
		// copy of the overlay (kept for StaleTTL) keeps the results made
		// with it servable. Its hash is not remembered: the next request
		// tries the origin again.
		if stale := h.staleOverlay(ctx, path, err); stale != nil {
			o.data, o.hash = stale.Body, stale.SourceHash
			return nil
		}
		return fmt.Errorf("overlay image %s: %w", o.spec.Path, err)
	}
	o.data, o.hash = res.f.Data, res.f.hash()
	if !res.f.NoStore {
		h.overlays.put(path, overlayMemoEntry{hash: o.hash, expires: res.f.Expires, purge: res.ps}, h.now())
	}
	return nil
}

// overlayBytes gives a job whose overlay hash came from the memo the
// image's bytes, for its fill. Should the image have changed since (its
// source-cache copy evicted and fetched anew), the job takes the new image
// and its key follows: a result is never stored under the hash of another
// overlay than the one it shows.
func (h *Handler) overlayBytes(ctx context.Context, j *job) error {
	o := j.overlay
	if o == nil || o.data != nil {
		return nil
	}
	want := o.hash
	if err := h.overlayImage(ctx, o); err != nil {
		return err
	}
	if o.hash != want {
		j.key = h.key(j)
		j.looked = false // what lookup read was for the old key
	}
	return nil
}

// staleOverlay returns the source cache's stale copy of an overlay image
// when err is an origin failure (not a refusal of the image), else nil.
func (h *Handler) staleOverlay(ctx context.Context, path string, err error) *entry {
	if !errors.Is(err, ErrOriginFailed) && !errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	e := h.cached(ctx, h.opts.SourceCache, "source", h.sourceKey(&job{path: path}))
	if e == nil || e.Status != 0 || e.Kind != "" || len(e.Body) == 0 || e.SourceHash == "" {
		return nil
	}
	h.log.Warn("imageopto: origin failed; using a stale copy of the overlay image", "path", path, "err", err)
	return e
}

// maxOverlayMemo bounds the overlay memo: overlays are few (a site's
// watermarks), each entry a path and a hash.
const maxOverlayMemo = 1024

// overlayMemo maps an overlay image's origin path to the hash of its bytes
// while they are fresh, under the purge state they were fetched in (a
// purge of the image forgets it).
type overlayMemo struct {
	mu sync.Mutex
	m  map[string]overlayMemoEntry
}

type overlayMemoEntry struct {
	hash    string
	expires time.Time
	purge   purgeState
}

func (m *overlayMemo) get(path string, now time.Time, ps purgeState) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[path]
	if !ok || !now.Before(e.expires) || e.purge != ps {
		return "", false
	}
	return e.hash, true
}

func (m *overlayMemo) put(path string, e overlayMemoEntry, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]overlayMemoEntry{}
	}
	if _, ok := m.m[path]; !ok && len(m.m) >= maxOverlayMemo {
		// Full: expired entries go, and if that is not enough, others at
		// random (map order).
		for p, old := range m.m {
			if !now.Before(old.expires) {
				delete(m.m, p)
			}
		}
		for p := range m.m {
			if len(m.m) < maxOverlayMemo {
				break
			}
			delete(m.m, p)
		}
	}
	m.m[path] = e
}
