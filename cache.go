package imageopto

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// ErrCacheMiss is returned by Cache.Get when the key is not stored.
var ErrCacheMiss = errors.New("imageopto: cache miss")

// Cache stores opaque byte values by key. The handler owns the key (a hash,
// see Handler) and the value format (the encoded image with its validators
// and expiry), so a Cache needs no knowledge of images. Get returns
// ErrCacheMiss for a missing key. ttl is how long the value is worth keeping
// (0: no limit); a cache may drop values earlier. Any other error is logged
// by the handler and treated as a miss: a failing cache never turns a good
// response into an error. Implementations must be safe for concurrent use.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// CacheDeleter is implemented by caches that can delete a key.
type CacheDeleter interface {
	Delete(ctx context.Context, key string) error
}

// CacheStats are counters of a cache.
type CacheStats struct {
	Hits, Misses, Sets, Evictions int64
	Items                         int
	Bytes, MaxBytes               int64
}

// CacheStatser is implemented by caches that report CacheStats.
type CacheStatser interface {
	Stats() CacheStats
}

// memoryEntryOverhead approximates the bookkeeping bytes of one entry.
const memoryEntryOverhead = 96

// MemoryCache is a Cache in process memory, bounded by bytes (keys, values
// and bookkeeping), evicting the least recently used entries. It also
// implements CacheDeleter and CacheStatser. The zero value is not usable:
// call NewMemoryCache.
type MemoryCache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	ll       *list.List // front = most recently used
	items    map[string]*list.Element
	stats    CacheStats
	now      func() time.Time
}

type memoryEntry struct {
	key     string
	value   []byte
	expires time.Time // zero: never
}

// NewMemoryCache returns a cache holding at most maxBytes. A value larger
// than a quarter of maxBytes is not stored, so one huge image cannot flush
// everything else.
func NewMemoryCache(maxBytes int64) *MemoryCache {
	return &MemoryCache{maxBytes: maxBytes, ll: list.New(), items: map[string]*list.Element{}, now: time.Now}
}

func entrySize(key string, value []byte) int64 {
	return int64(len(key) + len(value) + memoryEntryOverhead)
}

// Get returns the value stored under key. The returned slice must not be
// modified.
func (c *MemoryCache) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		c.stats.Misses++
		return nil, ErrCacheMiss
	}
	e := el.Value.(*memoryEntry)
	if !e.expires.IsZero() && !c.now().Before(e.expires) {
		c.removeElement(el)
		c.stats.Misses++
		return nil, ErrCacheMiss
	}
	c.ll.MoveToFront(el)
	c.stats.Hits++
	return e.value, nil
}

// Set stores value under key, evicting least recently used entries to stay
// within the byte bound. The cache keeps value as it is: the caller must not
// modify it afterwards.
func (c *MemoryCache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	size := entrySize(key, value)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
	if size > c.maxBytes/4 {
		return nil
	}
	e := &memoryEntry{key: key, value: value}
	if ttl > 0 {
		e.expires = c.now().Add(ttl)
	}
	c.items[key] = c.ll.PushFront(e)
	c.bytes += size
	c.stats.Sets++
	for c.bytes > c.maxBytes {
		c.removeElement(c.ll.Back())
		c.stats.Evictions++
	}
	return nil
}

// Delete removes key.
func (c *MemoryCache) Delete(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
	return nil
}

// Stats returns the cache's counters.
func (c *MemoryCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Items, s.Bytes, s.MaxBytes = len(c.items), c.bytes, c.maxBytes
	return s
}

func (c *MemoryCache) removeElement(el *list.Element) {
	e := c.ll.Remove(el).(*memoryEntry)
	delete(c.items, e.key)
	c.bytes -= entrySize(e.key, e.value)
}
