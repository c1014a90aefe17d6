//go:build unix

package rediscache

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imageopto/imageopto"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedisKilled kills redis-server under a working cache, checks that
// the cache degrades to misses that do not touch the network once the
// breaker is open (and does not block on Sets), then restarts Redis on the
// same port and checks that the cache recovers after the breaker's
// cool-down. It counts the commands that reach the client; timings are
// logged, not asserted.
func TestRedisKilled(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	const cooldown = 500 * time.Millisecond
	c := openCache(t, srv, &Options{BreakerCooldown: cooldown}) // threshold 5, timeout 100 ms
	commands := countCommands(t, c)
	// The breaker's clock stands still from the kill until the restart, so
	// that a loaded machine cannot end the cool-down while the test checks
	// the open breaker; then it runs again.
	var frozenAt atomic.Int64 // UnixNano; 0: the clock runs
	c.br.now = func() time.Time {
		if ns := frozenAt.Load(); ns != 0 {
			return time.Unix(0, ns)
		}
		return time.Now()
	}
	ctx := t.Context()
	key := func(i int) string { return fmt.Sprintf("r/%03d", i) }

	for i := range 20 {
		require.NoError(t, c.Set(ctx, key(i), []byte(key(i)), time.Hour))
	}
	for i := range 20 {
		got, err := c.Get(ctx, key(i))
		require.NoError(t, err)
		require.Equal(t, []byte(key(i)), got)
	}

	srv.kill()
	frozenAt.Store(time.Now().UnixNano())

	// Until the breaker opens, every Get goes to the network and fails.
	var failing []time.Duration
	sent := commands.Load()
	for i := 0; c.Counters().State != BreakerOpen; i++ {
		require.Less(t, i, 50, "the breaker did not open")
		start := time.Now()
		v, err := c.Get(ctx, key(i%20))
		failing = append(failing, time.Since(start))
		require.Error(t, err)
		require.NotErrorIs(t, err, ErrUnavailable, "Get %d went to Redis", i)
		require.Nil(t, v)
	}
	assert.Len(t, failing, DefaultBreakerThreshold)
	assert.Equal(t, int64(len(failing)), commands.Load()-sent, "one command for each failing Get")

	// Open: Gets are refused without touching the network.
	sent = commands.Load()
	open := make([]time.Duration, 0, 1000)
	for i := range cap(open) {
		start := time.Now()
		_, err := c.Get(ctx, key(i%20))
		open = append(open, time.Since(start))
		require.ErrorIs(t, err, ErrUnavailable)
		require.ErrorIs(t, err, imageopto.ErrCacheMiss, "the handler must see a plain miss")
	}
	// Sets are dropped at once, Deletes refused at once.
	var sets []time.Duration
	big := make([]byte, 64<<10)
	for i := range 100 {
		start := time.Now()
		require.NoError(t, c.Set(ctx, key(i), big, time.Hour))
		sets = append(sets, time.Since(start))
	}
	require.ErrorIs(t, c.Delete(ctx, key(0)), ErrUnavailable)

	killed := c.Counters()
	t.Logf("Redis killed: %d failing Gets took %v (max %v)", len(failing), roundAll(failing), slices.Max(failing))
	t.Logf("breaker open: %d Gets took median %v, p99 %v, max %v; %d Sets median %v, max %v",
		len(open), pct(open, 50), pct(open, 99), slices.Max(open), len(sets), pct(sets, 50), slices.Max(sets))
	assert.Zero(t, commands.Load()-sent, "the open breaker sends Redis nothing")
	assert.Equal(t, BreakerOpen, killed.State)
	assert.Equal(t, int64(1), killed.Trips)
	assert.Equal(t, int64(len(open)+len(sets)+1), killed.Rejected)

	// Restart on the same port. The first operation after the cool-down
	// probes, finds Redis and closes the breaker.
	restarted := time.Now()
	srv.restart()
	frozenAt.Store(0)
	t.Logf("redis-server restarted in %v", time.Since(restarted).Round(time.Millisecond))
	var recovered time.Duration
	require.Eventually(t, func() bool {
		err := c.Set(ctx, "after", []byte("restart"), time.Minute)
		got, gerr := c.Get(ctx, "after")
		if err == nil && gerr == nil && string(got) == "restart" {
			recovered = time.Since(restarted)
			return true
		}
		return false
	}, cooldown+10*time.Second, 5*time.Millisecond)
	after := c.Counters()
	t.Logf("working again %v after the restart began (cool-down %v); counters %+v",
		recovered.Round(time.Millisecond), cooldown, after)
	assert.Equal(t, BreakerClosed, after.State)
	assert.GreaterOrEqual(t, after.Probes, int64(1))

	// The new server is empty (no persistence): old keys miss, new ones work.
	_, err := c.Get(ctx, key(1))
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)
	require.NotErrorIs(t, err, ErrUnavailable)
	for i := range 20 {
		require.NoError(t, c.Set(ctx, key(i), []byte("again"), time.Hour))
		got, err := c.Get(ctx, key(i))
		require.NoError(t, err)
		require.Equal(t, []byte("again"), got)
	}
}

// commandCounter is a go-redis hook that counts the commands a client
// sends: once each, however often the client retries it.
type commandCounter struct{ n atomic.Int64 }

func (h *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// countCommands counts the commands that c's client sends from now on.
func countCommands(t *testing.T, c *Cache) *atomic.Int64 {
	t.Helper()
	client, ok := c.client.(*redis.Client)
	require.True(t, ok, "client is a %T", c.client)
	h := &commandCounter{}
	client.AddHook(h)
	return &h.n
}

// pct returns the p-th percentile of ds.
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Microsecond)
	}
	return out
}
