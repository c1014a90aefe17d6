package imageopto

// This file is observation: the Observer interface and its events, the
// gauges a metrics exporter polls, and ObservedCache. Package promobs
// exports them to Prometheus; the server command also writes its access
// log from them.

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// An Observer learns what a Handler does: each request it answered, each
// transformation, origin fetch, cache lookup and peer-tier request
// (Options.Observer). Observe is called synchronously on the goroutine
// doing the work, so it must be fast and must not block; it must be safe
// for concurrent use and must not keep the Event's Request after it
// returns. Levels that change continuously (transformations in flight,
// queue length, memory in use) are not events: poll Handler.Gauges.
type Observer interface {
	// Observe receives one event.
	Observe(Event)
}

// ObserverFunc adapts a function to the Observer interface.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// MultiObserver returns an Observer that passes every event to each of
// observers in turn (nil ones are skipped).
func MultiObserver(observers ...Observer) Observer {
	var list multiObserver
	for _, o := range observers {
		if o != nil {
			list = append(list, o)
		}
	}
	return list
}

type multiObserver []Observer

func (m multiObserver) Observe(e Event) {
	for _, o := range m {
		o.Observe(e)
	}
}

// EventKind says what an Event reports.
type EventKind uint8

// The kinds of events.
const (
	// EventRequest: the handler answered a request. Status, Cache, Bytes,
	// Size, Format, Duration, Request and, for 4xx and 5xx, Err are set.
	EventRequest EventKind = iota + 1
	// EventTransform: a transformation ended. Format (of the output),
	// Duration, and Err when it failed.
	EventTransform
	// EventOriginFetch: the origin answered a fetch (or failed). Result is
	// one of the FetchResult values; Duration and Err are set.
	EventOriginFetch
	// EventCacheLookup: a cache was read. Layer names the cache ("result",
	// "source", or the name given to ObservedCache); Result is "hit",
	// "miss" or "error".
	EventCacheLookup
	// EventTier: a value was asked of the peer tier (Options.Tier). Layer
	// is the TierGroup; Result is "ok" or "error"; Duration is set.
	EventTier
	// EventPurge: a purge was asked of this handler (Handler.Purge,
	// SoftPurge), one event per original. Result is PurgeHard or
	// PurgeSoft; Err is set when it was not delivered to every member or
	// not saved. Purges learnt from other members are in
	// Gauges.PurgeRecords.
	EventPurge
)

// The results of a purge (Event.Result of EventPurge).
const (
	PurgeHard = "hard"
	PurgeSoft = "soft"
)

// String names the kind.
func (k EventKind) String() string {
	switch k {
	case EventRequest:
		return "request"
	case EventTransform:
		return "transform"
	case EventOriginFetch:
		return "origin_fetch"
	case EventCacheLookup:
		return "cache_lookup"
	case EventTier:
		return "tier"
	case EventPurge:
		return "purge"
	}
	return "unknown"
}

// CacheOutcome says how a request's image was found or made.
type CacheOutcome string

// The cache outcomes of a request.
const (
	// CacheNone: the request ended before any cache was read (a bad
	// parameter, a refused signature, an unknown method).
	CacheNone CacheOutcome = "none"
	// CacheHit: a fresh entry was in the result cache (including a
	// remembered 404).
	CacheHit CacheOutcome = "hit"
	// CacheMiss: this request started the fill (fetch and transform, or a
	// peer's result).
	CacheMiss CacheOutcome = "miss"
	// CacheCollapsed: this request joined a fill another request started.
	CacheCollapsed CacheOutcome = "collapsed"
	// CacheStale: a stale entry was served, while it is revalidated in
	// the background or because the origin failed.
	CacheStale CacheOutcome = "stale"
	// CacheRevalidated: this request's fill confirmed a stale entry with
	// the origin (or the peer tier) without transforming again.
	CacheRevalidated CacheOutcome = "revalidated"
)

// The results of an origin fetch (Event.Result of EventOriginFetch).
const (
	FetchOK          = "ok"
	FetchNotModified = "not_modified"
	FetchNotFound    = "not_found" // 404 or 410
	FetchTimeout     = "timeout"
	FetchRefused     = "refused" // forbidden, too large or empty
	FetchError       = "error"
)

// Event is one thing a Handler did (see EventKind for the fields each kind
// sets).
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// Status is the response status (EventRequest).
	Status int
	// Cache is how the image was found or made (EventRequest).
	Cache CacheOutcome
	// Result is the outcome of a fetch, cache lookup or tier request, or
	// the kind of a purge.
	Result string
	// Layer names a cache (EventCacheLookup) or a TierGroup (EventTier).
	Layer string
	// Format is the output format, "" when unknown.
	Format ImageFormat
	// Bytes is how many body bytes were written (EventRequest).
	Bytes int64
	// Size is the image's size, written or not (EventRequest: 0 for
	// errors; a 304 or a HEAD has a Size but no Bytes).
	Size int64
	// Duration is how long the work took.
	Duration time.Duration
	// Request is the client's request (EventRequest only).
	Request *http.Request
	// Err is the failure, if any.
	Err error
}

// Gauges are the handler's current levels, for a metrics exporter to poll.
type Gauges struct {
	// InflightTransforms is how many transformations hold a slot now.
	InflightTransforms int64
	// InflightFetches is how many origin fetches hold a slot now.
	InflightFetches int64
	// Queued is how many transformations and fetches wait for a slot or
	// for memory.
	Queued int64
	// MemoryInUse is how much of the memory budget is taken, in bytes.
	MemoryInUse int64
	// MemoryBudget is the memory budget, in bytes.
	MemoryBudget int64
	// PurgeRecords is how many originals the purge log holds a purge of
	// (asked here or learnt from other members; PurgeLog.Len).
	PurgeRecords int64
}

// Gauges returns the handler's current levels.
func (h *Handler) Gauges() Gauges {
	a := h.admit
	return Gauges{
		InflightTransforms: int64(len(a.slots)),
		InflightFetches:    int64(len(a.fetches)),
		Queued:             a.waiting.Load(),
		MemoryInUse:        a.inUse.Load(),
		MemoryBudget:       h.opts.MemoryBudget,
		PurgeRecords:       int64(h.purges.Len()),
	}
}

// fetchResult classifies an origin fetch's outcome.
func fetchResult(src *Source, err error) string {
	switch {
	case err == nil && src != nil && src.NotModified:
		return FetchNotModified
	case err == nil:
		return FetchOK
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrGone):
		return FetchNotFound
	case errors.Is(err, context.DeadlineExceeded) || StatusCode(err) == http.StatusGatewayTimeout:
		return FetchTimeout
	case errors.Is(err, ErrForbidden) || errors.Is(err, ErrSourceTooLarge) || errors.Is(err, ErrCorrupt):
		return FetchRefused
	}
	return FetchError
}

// lookupResult classifies a cache read.
func lookupResult(err error) string {
	switch {
	case err == nil:
		return "hit"
	case errors.Is(err, ErrCacheMiss) && len(unjoin(err)) <= 1:
		return "miss"
	}
	return "error"
}

// ObservedCache returns c reporting each Get to o as an EventCacheLookup
// with Layer name: for example each layer of a LayeredCache, so that a
// metrics exporter counts hits per layer.
func ObservedCache(name string, c Cache, o Observer) Cache {
	return &observedCache{name: name, Cache: c, obs: o}
}

type observedCache struct {
	Cache
	name string
	obs  Observer
}

// Get reads the layer and reports the lookup.
func (c *observedCache) Get(ctx context.Context, key string) ([]byte, error) {
	start := time.Now()
	v, err := c.Cache.Get(ctx, key)
	c.obs.Observe(Event{Kind: EventCacheLookup, Layer: c.name, Result: lookupResult(err), Duration: time.Since(start), Err: err})
	return v, err
}

// Delete deletes from the layer when it can.
func (c *observedCache) Delete(ctx context.Context, key string) error {
	if d, ok := c.Cache.(CacheDeleter); ok {
		return d.Delete(ctx, key)
	}
	return nil
}
