//go:build unix

package rediscache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imageopto/imageopto"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openCache opens a Cache on srv and closes it when the test ends.
func openCache(t *testing.T, srv *redisServer, opts *Options) *Cache {
	t.Helper()
	c, err := Open(srv.url(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rawClient is a plain go-redis client for looking behind the cache.
func rawClient(t *testing.T, srv *redisServer) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := openCache(t, srv, &Options{Prefix: "rt:"})
	raw := rawClient(t, srv)
	ctx := t.Context()

	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name  string
		key   string
		value []byte
	}{
		{"result key", "r/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", []byte("image bytes")},
		{"source key with NUL and slashes", "s/photos/cat.jpg\x00a=1&b=2", []byte{0xff, 0xd8, 0xff, 0xe0}},
		{"every byte in key and value", string(all), all},
		{"invalid UTF-8 key", "\xc3\x28\xa0\xa1", []byte("v")},
		{"empty value", "empty", []byte{}},
		{"long key is hashed", strings.Repeat("k/", 200), []byte("long")},
		{"key that looks hashed", "#" + strings.Repeat("0", 64), []byte("hash-like")},
		{"1 MiB value", "big", bytes.Repeat([]byte{0, 1, 2, 3}, 1<<18)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(ctx, tt.key)
			require.ErrorIs(t, err, imageopto.ErrCacheMiss)

			require.NoError(t, c.Set(ctx, tt.key, tt.value, 0))
			got, err := c.Get(ctx, tt.key)
			require.NoError(t, err)
			require.Equal(t, tt.value, got)

			// Behind the cache: the expected Redis key, with no expiry.
			stored, err := raw.Get(ctx, c.redisKey(tt.key)).Bytes()
			require.NoError(t, err)
			require.Equal(t, tt.value, stored)
			ttl, err := raw.PTTL(ctx, c.redisKey(tt.key)).Result()
			require.NoError(t, err)
			assert.Equal(t, time.Duration(-1), ttl, "ttl 0 means no expiry")

			// Overwrite, then delete.
			require.NoError(t, c.Set(ctx, tt.key, []byte("second"), 0))
			got, err = c.Get(ctx, tt.key)
			require.NoError(t, err)
			require.Equal(t, []byte("second"), got)
			require.NoError(t, c.Delete(ctx, tt.key))
			_, err = c.Get(ctx, tt.key)
			require.ErrorIs(t, err, imageopto.ErrCacheMiss)
			require.NoError(t, c.Delete(ctx, tt.key), "deleting an absent key")
		})
	}

	// Plain keys are readable in redis-cli under the prefix.
	require.NoError(t, c.Set(ctx, "r/abc", []byte("x"), 0))
	n, err := raw.Exists(ctx, "rt:r/abc").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

func TestPrefixesAreSeparate(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	a := openCache(t, srv, &Options{Prefix: "a:"})
	b := openCache(t, srv, &Options{Prefix: "b:"})
	ctx := t.Context()
	require.NoError(t, a.Set(ctx, "k", []byte("from a"), 0))
	_, err := b.Get(ctx, "k")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)

	// A second Cache with the same prefix (another node) sees the value.
	a2 := openCache(t, srv, &Options{Prefix: "a:"})
	got, err := a2.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("from a"), got)
}

func TestTTL(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := openCache(t, srv, nil)
	raw := rawClient(t, srv)
	ctx := t.Context()

	tests := []struct {
		name    string
		ttl     time.Duration
		wantMax time.Duration // PTTL right after Set is in (0, wantMax]
	}{
		{"milliseconds", 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"whole seconds", 3 * time.Second, 3 * time.Second},
		{"an hour", time.Hour, time.Hour},
		{"sub-millisecond rounds up to 1 ms", 300 * time.Microsecond, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "ttl/" + tt.name
			require.NoError(t, c.Set(ctx, key, []byte("v"), tt.ttl))
			pttl, err := raw.PTTL(ctx, c.redisKey(key)).Result()
			require.NoError(t, err)
			if pttl != -2 { // -2: the 1 ms key is already gone
				assert.GreaterOrEqual(t, pttl, time.Duration(0), "-1 would mean no expiry")
				assert.LessOrEqual(t, pttl, tt.wantMax)
			}
		})
	}

	t.Run("expires", func(t *testing.T) {
		require.NoError(t, c.Set(ctx, "short", []byte("v"), 100*time.Millisecond))
		got, err := c.Get(ctx, "short")
		require.NoError(t, err)
		assert.Equal(t, []byte("v"), got)
		start := time.Now()
		require.Eventually(t, func() bool {
			_, err := c.Get(ctx, "short")
			return err == imageopto.ErrCacheMiss
		}, 5*time.Second, 10*time.Millisecond)
		t.Logf("a 100 ms entry was gone %v after the first read", time.Since(start).Round(time.Millisecond))
	})

	t.Run("negative ttl stores nothing and drops the older value", func(t *testing.T) {
		require.NoError(t, c.Set(ctx, "neg", []byte("old"), 0))
		require.NoError(t, c.Set(ctx, "neg", []byte("new"), -time.Second))
		_, err := c.Get(ctx, "neg")
		require.ErrorIs(t, err, imageopto.ErrCacheMiss)
	})
}

func TestSizeCap(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := openCache(t, srv, &Options{MaxItemBytes: 1024})
	ctx := t.Context()

	tests := []struct {
		name   string
		size   int
		stored bool
	}{
		{"under", 1000, true},
		{"exactly the cap", 1024, true},
		{"one over", 1025, false},
		{"far over", 1 << 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "cap/" + tt.name
			require.NoError(t, c.Set(ctx, key, []byte("an older, small value"), 0))
			before := c.Counters()
			value := bytes.Repeat([]byte{'v'}, tt.size)
			require.NoError(t, c.Set(ctx, key, value, time.Minute), "an oversized value is skipped, not an error")
			got, err := c.Get(ctx, key)
			after := c.Counters()
			if tt.stored {
				require.NoError(t, err)
				assert.Equal(t, value, got)
				assert.Equal(t, before.Skipped, after.Skipped)
			} else {
				require.ErrorIs(t, err, imageopto.ErrCacheMiss, "the older value must not survive a skipped Set")
				assert.Equal(t, before.Skipped+1, after.Skipped)
				assert.Equal(t, before.Sets, after.Sets)
			}
		})
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := openCache(t, srv, &Options{MaxItemBytes: 10})
	ctx := t.Context()

	require.NoError(t, c.Set(ctx, "a", []byte("1"), 0))
	require.NoError(t, c.Set(ctx, "b", []byte("2"), time.Minute))
	require.NoError(t, c.Set(ctx, "big", make([]byte, 11), 0)) // skipped (and deletes "big")
	for _, k := range []string{"a", "a", "b", "x", "y"} {
		_, _ = c.Get(ctx, k)
	}
	require.NoError(t, c.Delete(ctx, "a"))
	// An error reply: a list under a cache key.
	require.NoError(t, rawClient(t, srv).LPush(ctx, c.redisKey("list"), "x").Err())
	_, err := c.Get(ctx, "list")
	require.Error(t, err)
	require.NotErrorIs(t, err, imageopto.ErrCacheMiss)
	assert.Contains(t, err.Error(), "WRONGTYPE")

	assert.Equal(t, Counters{
		Hits: 3, Misses: 2, Sets: 2, Deletes: 2, Skipped: 1, Errors: 1, State: BreakerClosed,
	}, c.Counters())
	assert.Equal(t, imageopto.CacheStats{Hits: 3, Misses: 3, Sets: 2}, c.Stats())
}

// Error replies come back at once from a live server: they are returned
// but do not open the breaker. Neither does a caller that gives up.
func TestBreakerIgnoresErrorRepliesAndCancellation(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := openCache(t, srv, &Options{BreakerThreshold: 2})
	require.NoError(t, rawClient(t, srv).HSet(t.Context(), c.redisKey("hash"), "f", "v").Err())

	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	for range 10 {
		_, err := c.Get(t.Context(), "hash")
		require.ErrorContains(t, err, "WRONGTYPE")
		_, err = c.Get(canceled, "k")
		require.ErrorIs(t, err, context.Canceled)
		require.Error(t, c.Set(canceled, "k", []byte("v"), 0))
	}
	got := c.Counters()
	assert.Equal(t, BreakerClosed, got.State)
	assert.Zero(t, got.Trips)
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := openCache(t, srv, &Options{Timeout: 2 * time.Second}) // -race on 2 shared cores is slow
	ctx := t.Context()

	const workers, ops, keys = 16, 200, 24
	value := func(k, n int) []byte {
		return fmt.Appendf(nil, "key=%d n=%d %s", k, n, bytes.Repeat([]byte{byte(k)}, k*100))
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range ops {
				k := (w*7 + i) % keys
				key := fmt.Sprintf("c/%d\x00", k)
				switch i % 5 {
				case 0, 1:
					if err := c.Set(ctx, key, value(k, i), time.Minute); err != nil {
						errs <- err
						return
					}
				case 4:
					if err := c.Delete(ctx, key); err != nil {
						errs <- err
						return
					}
				default:
					got, err := c.Get(ctx, key)
					if err == imageopto.ErrCacheMiss {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					if !bytes.HasPrefix(got, fmt.Appendf(nil, "key=%d ", k)) {
						errs <- fmt.Errorf("key %d: got a value of another key: %.20q", k, got)
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
	got := c.Counters()
	assert.Zero(t, got.Errors)
	assert.Equal(t, int64(workers*ops*2/5), got.Sets)
	assert.Equal(t, int64(workers*ops*2/5), got.Hits+got.Misses)
	t.Logf("counters: %+v", got)
}

// A hung Redis (SIGSTOP: connections are accepted, nothing is answered)
// costs Options.Timeout per operation, not go-redis's read timeout, until
// the breaker opens.
func TestHungRedis(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	const timeout = 50 * time.Millisecond
	// go-redis's own read and write timeouts are set a minute away, so that
	// a Get that fails within 20 s can only have been ended by the Timeout.
	c, err := Open(srv.url()+"?read_timeout=1m&write_timeout=1m", &Options{Timeout: timeout, BreakerThreshold: 3, BreakerCooldown: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx := t.Context()
	require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))

	srv.signal(syscall.SIGSTOP)
	defer srv.signal(syscall.SIGCONT)
	var took []time.Duration
	for range 3 {
		start := time.Now()
		_, err := c.Get(ctx, "k")
		took = append(took, time.Since(start))
		require.Error(t, err)
		require.True(t, isTimeout(err), "want a timeout, got %v", err)
		require.NotErrorIs(t, err, ErrUnavailable)
	}
	rejected := c.Counters().Rejected
	start := time.Now()
	_, err = c.Get(ctx, "k")
	open := time.Since(start)
	require.ErrorIs(t, err, ErrUnavailable)
	t.Logf("hung Redis, Timeout %v: failing Gets took %v; with the breaker open: %v", timeout, took, open)
	for _, d := range took {
		assert.Less(t, d, 20*time.Second, "the Timeout bounds a Get (the client's read timeout is a minute)")
	}
	assert.Equal(t, BreakerOpen, c.Counters().State)
	assert.Equal(t, rejected+1, c.Counters().Rejected, "with the breaker open, the Get is refused without asking Redis")
}

// isTimeout reports whether err is a deadline: the context's or a socket's.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}
