package imageopto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The memory cache implements every cache interface.
var (
	_ Cache        = (*MemoryCache)(nil)
	_ CacheDeleter = (*MemoryCache)(nil)
	_ CacheStatser = (*MemoryCache)(nil)
)

// checkMemoryCacheInvariants verifies the internal bookkeeping: the list and
// the map agree, bytes is the sum of the entries and stays within the bound.
func checkMemoryCacheInvariants(t *testing.T, c *MemoryCache) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Equal(t, len(c.items), c.ll.Len(), "list and map agree")
	var sum int64
	for el := c.ll.Front(); el != nil; el = el.Next() {
		e := el.Value.(*memoryEntry)
		require.Same(t, el, c.items[e.key], "map points at the list element of %q", e.key)
		sum += entrySize(e.key, e.value)
	}
	require.Equal(t, sum, c.bytes, "bytes is the sum of the entries")
	require.LessOrEqual(t, c.bytes, c.maxBytes, "byte bound")
}

// keysInOrder returns the keys from most to least recently used.
func keysInOrder(c *MemoryCache) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []string
	for el := c.ll.Front(); el != nil; el = el.Next() {
		keys = append(keys, el.Value.(*memoryEntry).key)
	}
	return keys
}

func TestMemoryCacheGetSetDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := NewMemoryCache(1 << 20)

	_, err := c.Get(ctx, "a")
	require.ErrorIs(t, err, ErrCacheMiss)

	require.NoError(t, c.Set(ctx, "a", []byte("alpha"), 0))
	require.NoError(t, c.Set(ctx, "b", []byte("beta"), time.Hour))
	got, err := c.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "alpha", string(got))
	got, err = c.Get(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, "beta", string(got))

	// Overwrite replaces the value and the byte count.
	require.NoError(t, c.Set(ctx, "a", []byte("a much longer alpha"), 0))
	got, err = c.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "a much longer alpha", string(got))
	assert.Equal(t, entrySize("a", []byte("a much longer alpha"))+entrySize("b", []byte("beta")), c.Stats().Bytes)
	checkMemoryCacheInvariants(t, c)

	// Delete, also of a missing key.
	require.NoError(t, c.Delete(ctx, "a"))
	require.NoError(t, c.Delete(ctx, "never-set"))
	_, err = c.Get(ctx, "a")
	require.ErrorIs(t, err, ErrCacheMiss)
	got, err = c.Get(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, "beta", string(got))
	assert.Equal(t, 1, c.Stats().Items)
	assert.Equal(t, entrySize("b", []byte("beta")), c.Stats().Bytes)
	checkMemoryCacheInvariants(t, c)

	// Empty keys and values are values like any other.
	require.NoError(t, c.Set(ctx, "", []byte{}, 0))
	got, err = c.Get(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.NotNil(t, got, "a stored empty value is not a miss")
}

func TestMemoryCacheMiss(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(c *MemoryCache)
		key   string
	}{
		{"never set", func(*MemoryCache) {}, "k"},
		{"other key set", func(c *MemoryCache) { _ = c.Set(ctx, "other", []byte("v"), 0) }, "k"},
		{"deleted", func(c *MemoryCache) { _ = c.Set(ctx, "k", []byte("v"), 0); _ = c.Delete(ctx, "k") }, "k"},
		{"too large", func(c *MemoryCache) { _ = c.Set(ctx, "k", make([]byte, 1<<20), 0) }, "k"},
		{"case differs", func(c *MemoryCache) { _ = c.Set(ctx, "K", []byte("v"), 0) }, "k"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := NewMemoryCache(64 << 10)
			tc.setup(c)
			v, err := c.Get(ctx, tc.key)
			assert.Nil(t, v)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrCacheMiss))
			assert.Same(t, ErrCacheMiss, err)
		})
	}
}

func TestMemoryCacheLRU(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	val := bytes.Repeat([]byte{'v'}, 100)
	one := entrySize("k0", val)
	// Exactly eight entries fit, and each is exactly an eighth of the bound.
	c := NewMemoryCache(8 * one)
	for i := range 8 {
		require.NoError(t, c.Set(ctx, "k"+strconv.Itoa(i), val, 0))
	}
	require.Equal(t, 8, c.Stats().Items)
	require.Zero(t, c.Stats().Evictions)
	assert.Equal(t, []string{"k7", "k6", "k5", "k4", "k3", "k2", "k1", "k0"}, keysInOrder(c))

	// Touching k0 and k1 protects them: the next two sets evict k2 and k3.
	_, err := c.Get(ctx, "k0")
	require.NoError(t, err)
	_, err = c.Get(ctx, "k1")
	require.NoError(t, err)
	require.NoError(t, c.Set(ctx, "k8", val, 0))
	require.NoError(t, c.Set(ctx, "k9", val, 0))
	assert.Equal(t, []string{"k9", "k8", "k1", "k0", "k7", "k6", "k5", "k4"}, keysInOrder(c))
	for _, k := range []string{"k2", "k3"} {
		_, err := c.Get(ctx, k)
		assert.ErrorIs(t, err, ErrCacheMiss, k)
	}
	for _, k := range []string{"k0", "k1", "k4", "k8", "k9"} {
		_, err := c.Get(ctx, k)
		assert.NoError(t, err, k)
	}
	assert.EqualValues(t, 2, c.Stats().Evictions)

	// Overwriting an entry also makes it the most recent.
	require.NoError(t, c.Set(ctx, "k5", val, 0))
	assert.Equal(t, "k5", keysInOrder(c)[0])
	// A miss does not change the order.
	before := keysInOrder(c)
	_, _ = c.Get(ctx, "absent")
	assert.Equal(t, before, keysInOrder(c))

	checkMemoryCacheInvariants(t, c)
}

func TestMemoryCacheEvictsSeveralForOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Entries of size s; the bound holds 16 of them and one value may be 2s.
	small := bytes.Repeat([]byte{'s'}, 100)
	s := entrySize("k00", small)
	c := NewMemoryCache(16 * s)
	for i := range 16 {
		require.NoError(t, c.Set(ctx, fmt.Sprintf("k%02d", i), small, 0))
	}
	require.Equal(t, 16*s, c.Stats().Bytes)
	// A value of two entries' size (key "big" has the same length as "k00").
	bigVal := bytes.Repeat([]byte{'B'}, int(2*s)-len("big")-memoryEntryOverhead)
	require.Equal(t, 2*s, entrySize("big", bigVal))
	require.NoError(t, c.Set(ctx, "big", bigVal, 0))
	st := c.Stats()
	assert.EqualValues(t, 2, st.Evictions)
	assert.Equal(t, 15, st.Items)
	for _, k := range []string{"k00", "k01"} {
		_, err := c.Get(ctx, k)
		assert.ErrorIs(t, err, ErrCacheMiss)
	}
	got, err := c.Get(ctx, "big")
	require.NoError(t, err)
	assert.Equal(t, bigVal, got)
	checkMemoryCacheInvariants(t, c)
}

func TestMemoryCacheByteBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name     string
		maxBytes int64
		maxValue int
		keys     int
	}{
		{"small values many keys", 64 << 10, 512, 5000},
		{"values near the quarter", 64 << 10, 16 << 10, 200},
		{"values over the quarter mixed in", 64 << 10, 32 << 10, 200},
		{"tiny cache", 2048, 300, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, uint64(tc.maxBytes)+uint64(tc.maxValue)))
			c := NewMemoryCache(tc.maxBytes)
			for i := range 10_000 {
				key := "key-" + strconv.Itoa(rng.IntN(tc.keys))
				val := make([]byte, rng.IntN(tc.maxValue+1))
				require.NoError(t, c.Set(ctx, key, val, 0))
				st := c.Stats()
				require.LessOrEqual(t, st.Bytes, st.MaxBytes, "after set %d", i)
				require.GreaterOrEqual(t, st.Bytes, int64(0))
				if i%1000 == 0 {
					checkMemoryCacheInvariants(t, c)
				}
			}
			st := c.Stats()
			assert.Equal(t, tc.maxBytes, st.MaxBytes)
			assert.Positive(t, st.Items)
			assert.Positive(t, st.Evictions)
			checkMemoryCacheInvariants(t, c)
		})
	}
}

func TestMemoryCacheTooLarge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const maxBytes = 8000
	quarter := int(maxBytes / 4)
	valueOfSize := func(key string, size int) []byte {
		return make([]byte, size-len(key)-memoryEntryOverhead)
	}
	cases := []struct {
		name   string
		size   int // entry size including key and overhead
		stored bool
	}{
		{"well under", quarter / 2, true},
		{"exactly a quarter", quarter, true},
		{"one over a quarter", quarter + 1, false},
		{"half the cache", maxBytes / 2, false},
		{"whole cache", maxBytes, false},
		{"more than the cache", 10 * maxBytes, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := NewMemoryCache(maxBytes)
			// Something that must survive a refused value.
			require.NoError(t, c.Set(ctx, "keep", []byte("kept"), 0))
			v := valueOfSize("k", tc.size)
			require.Equal(t, int64(tc.size), entrySize("k", v))
			require.NoError(t, c.Set(ctx, "k", v, 0), "a refused value is not an error")
			got, err := c.Get(ctx, "k")
			if tc.stored {
				require.NoError(t, err)
				assert.Len(t, got, len(v))
			} else {
				assert.ErrorIs(t, err, ErrCacheMiss)
			}
			_, err = c.Get(ctx, "keep")
			assert.NoError(t, err, "a refused value evicts nothing")
			checkMemoryCacheInvariants(t, c)
		})
	}

	t.Run("too large overwrite drops the old value", func(t *testing.T) {
		t.Parallel()
		c := NewMemoryCache(maxBytes)
		require.NoError(t, c.Set(ctx, "k", []byte("old"), 0))
		require.NoError(t, c.Set(ctx, "k", make([]byte, maxBytes), 0))
		_, err := c.Get(ctx, "k")
		assert.ErrorIs(t, err, ErrCacheMiss, "an outdated value is never served")
		assert.Zero(t, c.Stats().Items)
		assert.Zero(t, c.Stats().Bytes)
		checkMemoryCacheInvariants(t, c)
	})
	t.Run("zero bound stores nothing", func(t *testing.T) {
		t.Parallel()
		c := NewMemoryCache(0)
		require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))
		_, err := c.Get(ctx, "k")
		assert.ErrorIs(t, err, ErrCacheMiss)
		assert.Zero(t, c.Stats().Bytes)
	})
}

// fakeClock is a settable clock for the cache's now field.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemoryCacheTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name    string
		ttl     time.Duration
		advance time.Duration
		hit     bool
	}{
		{"fresh", 10 * time.Second, 0, true},
		{"just before expiry", 10 * time.Second, 10*time.Second - time.Nanosecond, true},
		{"at expiry", 10 * time.Second, 10 * time.Second, false},
		{"after expiry", 10 * time.Second, time.Hour, false},
		{"no ttl never expires", 0, 100 * 365 * 24 * time.Hour, true},
		{"tiny ttl", time.Nanosecond, time.Nanosecond, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			c := NewMemoryCache(1 << 20)
			c.now = clock.now
			require.NoError(t, c.Set(ctx, "k", []byte("v"), tc.ttl))
			clock.advance(tc.advance)
			got, err := c.Get(ctx, "k")
			if tc.hit {
				require.NoError(t, err)
				assert.Equal(t, "v", string(got))
				assert.Equal(t, 1, c.Stats().Items)
				return
			}
			assert.ErrorIs(t, err, ErrCacheMiss)
			st := c.Stats()
			assert.Zero(t, st.Items, "an expired entry is dropped when found")
			assert.Zero(t, st.Bytes)
			assert.EqualValues(t, 1, st.Misses)
			assert.Zero(t, st.Hits)
		})
	}

	t.Run("overwrite renews the ttl", func(t *testing.T) {
		t.Parallel()
		clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		c := NewMemoryCache(1 << 20)
		c.now = clock.now
		require.NoError(t, c.Set(ctx, "k", []byte("v1"), 10*time.Second))
		clock.advance(8 * time.Second)
		require.NoError(t, c.Set(ctx, "k", []byte("v2"), 10*time.Second))
		clock.advance(8 * time.Second)
		got, err := c.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, "v2", string(got))
		clock.advance(2 * time.Second)
		_, err = c.Get(ctx, "k")
		assert.ErrorIs(t, err, ErrCacheMiss)
	})
	t.Run("overwrite without ttl removes expiry", func(t *testing.T) {
		t.Parallel()
		clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		c := NewMemoryCache(1 << 20)
		c.now = clock.now
		require.NoError(t, c.Set(ctx, "k", []byte("v1"), time.Second))
		require.NoError(t, c.Set(ctx, "k", []byte("v2"), 0))
		clock.advance(time.Hour)
		got, err := c.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, "v2", string(got))
	})
	t.Run("expired entries do not break the bound", func(t *testing.T) {
		t.Parallel()
		clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		c := NewMemoryCache(16 << 10)
		c.now = clock.now
		for i := range 1000 {
			require.NoError(t, c.Set(ctx, strconv.Itoa(i), make([]byte, 500), time.Second))
			clock.advance(100 * time.Millisecond)
			_, _ = c.Get(ctx, strconv.Itoa(i-20))
		}
		checkMemoryCacheInvariants(t, c)
	})
}

func TestMemoryCacheStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	val := make([]byte, 100)
	one := entrySize("a", val)
	c := NewMemoryCache(8 * one)
	assert.Equal(t, CacheStats{MaxBytes: 8 * one}, c.Stats())

	require.NoError(t, c.Set(ctx, "a", val, 0))
	require.NoError(t, c.Set(ctx, "b", val, 0))
	_, _ = c.Get(ctx, "a")
	_, _ = c.Get(ctx, "a")
	_, _ = c.Get(ctx, "zz")
	assert.Equal(t, CacheStats{Hits: 2, Misses: 1, Sets: 2, Items: 2, Bytes: 2 * one, MaxBytes: 8 * one}, c.Stats())

	// Seven more sets: one eviction (b, the least recently used).
	for _, k := range []string{"c", "d", "e", "f", "g", "h", "i"} {
		require.NoError(t, c.Set(ctx, k, val, 0))
	}
	st := c.Stats()
	assert.EqualValues(t, 9, st.Sets)
	assert.EqualValues(t, 1, st.Evictions)
	assert.Equal(t, 8, st.Items)
	assert.Equal(t, 8*one, st.Bytes)
	_, err := c.Get(ctx, "b")
	assert.ErrorIs(t, err, ErrCacheMiss)

	// A refused value is not counted as a set; a delete is not an eviction.
	require.NoError(t, c.Set(ctx, "huge", make([]byte, 10*one), 0))
	require.NoError(t, c.Delete(ctx, "a"))
	st = c.Stats()
	assert.EqualValues(t, 9, st.Sets)
	assert.EqualValues(t, 1, st.Evictions)
	assert.Equal(t, 7, st.Items)
	assert.Equal(t, 7*one, st.Bytes)
	assert.EqualValues(t, 2, st.Misses) // the Get of b
	assert.EqualValues(t, 2, st.Hits)
}

func TestMemoryCacheConcurrent(t *testing.T) {
	t.Parallel()
	const (
		goroutines = 16
		ops        = 3000
		keys       = 300
		maxBytes   = 64 << 10
	)
	ctx := context.Background()
	c := NewMemoryCache(maxBytes)
	// Each key's value is derived from the key, so a Get can check that it
	// got the value of the key it asked for.
	valueFor := func(k, n int) []byte {
		return bytes.Repeat([]byte{byte(k)}, n)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			for i := range ops {
				k := rng.IntN(keys)
				key := "key-" + strconv.Itoa(k)
				switch op := rng.IntN(10); {
				case op < 5:
					v, err := c.Get(ctx, key)
					if errors.Is(err, ErrCacheMiss) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					if len(v) > 0 && (v[0] != byte(k) || v[len(v)-1] != byte(k)) {
						errs <- fmt.Errorf("key %s got another key's value", key)
						return
					}
				case op < 9:
					if err := c.Set(ctx, key, valueFor(k, rng.IntN(2048)), time.Duration(rng.IntN(2))*time.Hour); err != nil {
						errs <- err
						return
					}
				default:
					if err := c.Delete(ctx, key); err != nil {
						errs <- err
						return
					}
				}
				if i%100 == 0 {
					if st := c.Stats(); st.Bytes > st.MaxBytes || st.Bytes < 0 {
						errs <- fmt.Errorf("bound broken: %d of %d bytes", st.Bytes, st.MaxBytes)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := c.Stats()
	assert.LessOrEqual(t, st.Bytes, int64(maxBytes))
	assert.Positive(t, st.Hits)
	assert.Positive(t, st.Misses)
	assert.Positive(t, st.Evictions)
	checkMemoryCacheInvariants(t, c)
}
