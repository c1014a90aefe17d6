package rediscache

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imageopto/imageopto"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unusedClient is a client that is never asked anything (go-redis dials
// lazily).
func unusedClient(t *testing.T) redis.UniversalClient {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    *Options
		want    Options
		wantErr []string
	}{
		{name: "nil means defaults", opts: nil, want: Options{
			Prefix: "imageopto:", MaxItemBytes: 8 << 20, Timeout: 100 * time.Millisecond,
			BreakerThreshold: 5, BreakerCooldown: 5 * time.Second,
		}},
		{name: "set fields are kept", opts: &Options{
			Prefix: "p/", MaxItemBytes: 10, Timeout: time.Second, BreakerThreshold: 1, BreakerCooldown: time.Minute,
		}, want: Options{
			Prefix: "p/", MaxItemBytes: 10, Timeout: time.Second, BreakerThreshold: 1, BreakerCooldown: time.Minute,
		}},
		{name: "negative values are refused, all at once", opts: &Options{
			MaxItemBytes: -1, Timeout: -1, BreakerThreshold: -1, BreakerCooldown: -1,
		}, wantErr: []string{"MaxItemBytes", "Timeout", "BreakerThreshold", "BreakerCooldown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(unusedClient(t), tt.opts)
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.Nil(t, c)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), "Options."+s)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.opts)
			assert.Equal(t, BreakerClosed, c.Counters().State)
			require.NoError(t, c.Close()) // does not close a client it does not own
		})
	}
}

func TestNewNilClient(t *testing.T) {
	t.Parallel()
	_, err := New(nil, nil)
	require.EqualError(t, err, "rediscache: New: nil client")
}

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		url     string
		opts    *Options
		wantErr string // substring; "" for success
		notIn   string // must not appear in the error
	}{
		{name: "redis URL", url: "redis://127.0.0.1:1/3"},
		{name: "URL options override defaults", url: "redis://127.0.0.1:1/0?dial_timeout=2s&max_retries=-1"},
		{name: "no scheme", url: "localhost:6379", wantErr: "rediscache: redis: invalid URL scheme: localhost"},
		{name: "wrong scheme", url: "http://localhost:6379", wantErr: "invalid URL scheme: http"},
		{name: "bad db", url: "redis://localhost:6379/x", wantErr: "invalid database number"},
		{name: "password stays out of the error", url: "redis://:s3cret\x7f@localhost/0", wantErr: "rediscache:", notIn: "s3cret"},
		{name: "bad options are checked first", url: "redis://localhost", opts: &Options{Timeout: -1}, wantErr: "Options.Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Open(tt.url, tt.opts)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Nil(t, c)
				assert.Contains(t, err.Error(), tt.wantErr)
				if tt.notIn != "" {
					assert.NotContains(t, err.Error(), tt.notIn)
				}
				return
			}
			require.NoError(t, err)
			require.True(t, c.owned)
			ro := c.client.(*redis.Client).Options()
			assert.True(t, ro.ContextTimeoutEnabled)
			assert.Equal(t, openReadTimeout, ro.ReadTimeout)
			assert.Equal(t, openWriteTimeout, ro.WriteTimeout)
			assert.Equal(t, openPoolTimeout, ro.PoolTimeout)
			if strings.Contains(tt.url, "dial_timeout") {
				assert.Equal(t, 2*time.Second, ro.DialTimeout)
				assert.Equal(t, 0, ro.MaxRetries, "-1 (no retries) is kept, and normalised to 0 by go-redis")
			} else {
				assert.Equal(t, openDialTimeout, ro.DialTimeout)
				assert.Equal(t, openMaxRetries, ro.MaxRetries)
			}
			require.NoError(t, c.Close())
			// The client is closed with the cache.
			_, err = c.Get(context.Background(), "k")
			assert.ErrorIs(t, err, redis.ErrClosed)
		})
	}
}

func TestRedisKey(t *testing.T) {
	t.Parallel()
	c, err := New(unusedClient(t), &Options{Prefix: "p:"})
	require.NoError(t, err)
	long := strings.Repeat("x", MaxRawKeyBytes+1)
	atLimit := strings.Repeat("y", MaxRawKeyBytes)
	hashed := func(k string) bool {
		return strings.HasPrefix(c.redisKey(k), "p:#") && len(c.redisKey(k)) == len("p:#")+64
	}
	tests := []struct {
		key    string
		raw    bool
		reason string
	}{
		{"r/0123abcd", true, "short keys keep their bytes"},
		{"s/a/b.jpg\x00q=1", true, "NUL and slash are fine"},
		{"", true, "empty key"},
		{"\xff\xfe binary", true, "non-UTF-8"},
		{atLimit, true, "exactly MaxRawKeyBytes"},
		{long, false, "longer keys are hashed"},
		{"#abc", false, "keys that look hashed are hashed"},
	}
	for _, tt := range tests {
		if tt.raw {
			assert.Equal(t, "p:"+tt.key, c.redisKey(tt.key), tt.reason)
		} else {
			assert.True(t, hashed(tt.key), "%s: %q", tt.reason, c.redisKey(tt.key))
		}
	}
	assert.NotEqual(t, c.redisKey(long), c.redisKey(long+"x"))
	assert.NotEqual(t, c.redisKey("#abc"), c.redisKey("#abd"))
	// A raw key can never equal a hashed one: it cannot begin with '#'.
	assert.NotEqual(t, c.redisKey(c.redisKey(long)[len("p:"):]), c.redisKey(long))
}

func TestUnavailableErrorMatches(t *testing.T) {
	t.Parallel()
	assert.ErrorIs(t, errGetUnavailable, ErrUnavailable)
	assert.ErrorIs(t, errGetUnavailable, imageopto.ErrCacheMiss)
	assert.False(t, errors.Is(errGetUnavailable, context.DeadlineExceeded))
	assert.Equal(t, "rediscache: get: redis unavailable (circuit breaker open)", errGetUnavailable.Error())
	assert.ErrorIs(t, errDeleteUnavailable, ErrUnavailable)
	assert.NotErrorIs(t, errDeleteUnavailable, imageopto.ErrCacheMiss)
	assert.Equal(t, "rediscache: delete: redis unavailable (circuit breaker open)", errDeleteUnavailable.Error())
}
