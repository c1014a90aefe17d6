package imageopto

import (
	"context"
	"errors"
	"time"
)

// LayeredCache is a Cache made of several, tried in order: typically a
// MemoryCache in front of a disk cache in front of a shared one (Redis).
// Get returns the first hit and copies it into the layers before it that
// missed; Set writes every layer. A failing layer counts as a miss, so a
// dead shared cache leaves the faster layers working. It implements
// CacheDeleter (on the layers that do).
type LayeredCache struct {
	layers []Cache
	// backfill is the ttl of a copy made into a faster layer on a hit.
	backfill time.Duration
}

// NewLayeredCache returns a LayeredCache over layers, fastest first.
// backfillTTL is the ttl given to a value copied into a faster layer after
// a hit in a slower one (the slower layer does not tell how long the value
// has left; the handler still checks each entry's own expiry); 0 means no
// limit beyond the layer's own eviction.
func NewLayeredCache(backfillTTL time.Duration, layers ...Cache) *LayeredCache {
	return &LayeredCache{layers: layers, backfill: backfillTTL}
}

// Get returns the value from the first layer that has it.
func (c *LayeredCache) Get(ctx context.Context, key string) ([]byte, error) {
	var errs []error
	for i, l := range c.layers {
		v, err := l.Get(ctx, key)
		if err == nil {
			for _, upper := range c.layers[:i] {
				_ = upper.Set(ctx, key, v, c.backfill) // best effort
			}
			return v, nil
		}
		if !errors.Is(err, ErrCacheMiss) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// A miss (errors.Is(err, ErrCacheMiss) holds, so the handler does
		// not log every request while a layer is down), with the failures
		// attached for callers that want them.
		return nil, errors.Join(append([]error{ErrCacheMiss}, errs...)...)
	}
	return nil, ErrCacheMiss
}

// Set writes the value to every layer and returns their failures joined.
func (c *LayeredCache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	var errs []error
	for _, l := range c.layers {
		if err := l.Set(ctx, key, value, ttl); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Delete deletes the key from every layer that can delete.
func (c *LayeredCache) Delete(ctx context.Context, key string) error {
	var errs []error
	for _, l := range c.layers {
		if d, ok := l.(CacheDeleter); ok {
			if err := d.Delete(ctx, key); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
