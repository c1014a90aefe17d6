package imageopto

// This file is how a Handler gets an overlay's image: from the origin,
// through the source cache and its flights like any original, before the
// result's cache key is made — so that the key holds the hash of the
// overlay's bytes, and a changed watermark makes new results instead of
// serving old ones.

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
)

// jobOverlay is a job's overlay: the canonical spec, the image's bytes and
// their hash.
type jobOverlay struct {
	spec Overlay
	data []byte
	hash string
}

// overlay checks a request's overlay and fetches its image into j.
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
	// The fetch runs detached, bounded by the flight timeout: others may
	// share it when this client leaves.
	type fetchResult struct {
		f   *fetched
		err error
	}
	done := make(chan fetchResult, 1)
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.FlightTimeout)
		defer cancel()
		defer func() {
			if rec := recover(); rec != nil {
				h.log.Error("imageopto: panic fetching an overlay", "path", path, "panic", rec, "stack", string(debug.Stack()))
				done <- fetchResult{err: fmt.Errorf("%w: panic: %v", ErrInternal, rec)}
			}
		}()
		f, err := h.source(fctx, &job{path: path}, nil)
		done <- fetchResult{f, err}
	}()
	var res fetchResult
	select {
	case res = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	switch err := res.err; {
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrGone):
		return fmt.Errorf("%w: overlay image %s: %v", ErrOriginFailed, spec.Path, err)
	case err != nil:
		// stale-if-error, as for results: while the origin fails, a stale
		// copy of the overlay (kept for StaleTTL) keeps the results made
		// with it servable.
		if stale := h.staleOverlay(ctx, path, err); stale != nil {
			j.overlay = &jobOverlay{spec: spec, data: stale.Body, hash: stale.SourceHash}
			return nil
		}
		return fmt.Errorf("overlay image %s: %w", spec.Path, err)
	}
	j.overlay = &jobOverlay{spec: spec, data: res.f.Data, hash: res.f.hash()}
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
