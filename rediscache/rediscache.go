package rediscache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/imageopto/imageopto"
	"github.com/redis/go-redis/v9"
)

// Compile-time checks that Cache has the capabilities the handler looks for.
var (
	_ imageopto.Cache        = (*Cache)(nil)
	_ imageopto.CacheDeleter = (*Cache)(nil)
	_ imageopto.CacheStatser = (*Cache)(nil)
)

// Defaults of Options.
const (
	DefaultPrefix           = "imageopto:"
	DefaultMaxItemBytes     = 8 << 20
	DefaultTimeout          = 100 * time.Millisecond
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = 5 * time.Second
)

// MaxRawKeyBytes is the longest key stored under its own bytes (after the
// prefix). Longer keys, and keys that begin with '#', are stored as
// prefix + "#" + hex(SHA-256(key)), so a Redis key is never longer than the
// prefix plus 65 bytes and a hashed key can never equal a raw one.
const MaxRawKeyBytes = 128

// ErrUnavailable is wrapped by the errors of operations that the circuit
// breaker refused without contacting Redis, because recent operations
// failed. A Get refused this way also matches imageopto.ErrCacheMiss, so
// the handler treats it as a plain miss (and does not log it).
var ErrUnavailable = errors.New("rediscache: redis unavailable (circuit breaker open)")

// Options configures a Cache. The zero value, and a nil *Options, mean the
// defaults documented on each field.
type Options struct {
	// Prefix is prepended to every key, so that several caches (results and
	// sources, or several applications) share one Redis database without
	// colliding. Default: "imageopto:" (an empty Prefix means the default).
	Prefix string
	// MaxItemBytes is the largest value Set stores. A larger value is not
	// stored and is not an error: Set deletes any older value under the key
	// (so Get never returns a value older than the last Set), counts the
	// skip in Counters.Skipped and returns nil. Default: 8 MiB. Raise it for
	// a source cache that should hold big originals (Redis itself accepts
	// values up to proto-max-bulk-len, 512 MB by default).
	MaxItemBytes int
	// Timeout bounds each operation, from taking a connection out of the
	// pool to reading the reply, by a context deadline (the caller's own
	// deadline still applies when it is earlier). It must cover sending a
	// value of MaxItemBytes over the network. Default: 100 ms.
	Timeout time.Duration
	// BreakerThreshold is how many consecutive failed operations open the
	// circuit breaker. A failure is an error that cost time or means no
	// server answered (a timeout, a refused or broken connection); an error
	// reply from a live server (OOM, WRONGTYPE) and the caller's own
	// cancellation are not failures. Default: 5.
	BreakerThreshold int
	// BreakerCooldown is how long the open breaker refuses operations
	// without touching the network: Get returns an error wrapping
	// ErrUnavailable (and matching imageopto.ErrCacheMiss), Set drops the
	// value and returns nil, Delete returns an error wrapping ErrUnavailable.
	// After the cool-down one operation goes through as a probe (half-open):
	// success closes the breaker, failure opens it for another cool-down.
	// Default: 5 seconds.
	BreakerCooldown time.Duration
}

// resolve validates o and fills in the defaults.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	var errs []error
	if r.MaxItemBytes < 0 {
		errs = append(errs, errors.New("rediscache: Options.MaxItemBytes is negative"))
	}
	if r.Timeout < 0 {
		errs = append(errs, errors.New("rediscache: Options.Timeout is negative"))
	}
	if r.BreakerThreshold < 0 {
		errs = append(errs, errors.New("rediscache: Options.BreakerThreshold is negative"))
	}
	if r.BreakerCooldown < 0 {
		errs = append(errs, errors.New("rediscache: Options.BreakerCooldown is negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return r, err
	}
	if r.Prefix == "" {
		r.Prefix = DefaultPrefix
	}
	if r.MaxItemBytes == 0 {
		r.MaxItemBytes = DefaultMaxItemBytes
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultTimeout
	}
	if r.BreakerThreshold == 0 {
		r.BreakerThreshold = DefaultBreakerThreshold
	}
	if r.BreakerCooldown == 0 {
		r.BreakerCooldown = DefaultBreakerCooldown
	}
	return r, nil
}

// Cache is an imageopto.Cache stored in Redis. It also implements
// imageopto.CacheDeleter and imageopto.CacheStatser. It is safe for
// concurrent use. Create it with New or Open.
type Cache struct {
	client redis.UniversalClient
	owned  bool // Close closes client
	opts   Options
	br     breaker

	hits, misses, getFailed  atomic.Int64
	sets, deletes, skipped   atomic.Int64
	errors, rejected, probes atomic.Int64
}

// New returns a Cache that stores values through client, which may be a
// *redis.Client, *redis.ClusterClient, *redis.Ring or failover client. The
// caller keeps ownership of client: Cache.Close does not close it, so one
// client can serve several caches (for example results and sources under
// two prefixes).
//
// Options.Timeout is enforced by a context deadline; go-redis applies it to
// socket reads and writes only when the client was made with
// ContextTimeoutEnabled (Open sets it). Without it a hung connection is
// bounded by the client's ReadTimeout and WriteTimeout instead, until the
// breaker opens.
func New(client redis.UniversalClient, opts *Options) (*Cache, error) {
	if client == nil {
		return nil, errors.New("rediscache: New: nil client")
	}
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return newCache(client, o), nil
}

func newCache(client redis.UniversalClient, o Options) *Cache {
	return &Cache{
		client: client,
		opts:   o,
		br:     breaker{threshold: o.BreakerThreshold, cooldown: o.BreakerCooldown, now: time.Now},
	}
}

// Client defaults that Open applies where the URL does not set them. The
// per-operation context deadline (Options.Timeout) is what normally bounds
// an operation; these are backstops for work without that deadline (the
// pool's background dialling) and keep a dead server from costing retries.
const (
	openDialTimeout  = 500 * time.Millisecond
	openReadTimeout  = 500 * time.Millisecond
	openWriteTimeout = 500 * time.Millisecond
	openPoolTimeout  = 500 * time.Millisecond
	openMaxRetries   = 1 // one retry, so a connection broken by a Redis restart is replaced at once
	openDialRetries  = 1 // one dial attempt per connection; the breaker does the waiting
	// The retry waits 1–2 ms (go-redis's 10–20 ms would cost a fifth of
	// the Timeout on every failure while Redis is down).
	openMinRetryBackoff = time.Millisecond
	openMaxRetryBackoff = 2 * time.Millisecond
)

// Open returns a Cache on the Redis server named by a URL as understood by
// redis.ParseURL ("redis://[user:password@]host:port/db", "rediss://" for
// TLS, "unix:///path.sock?db=N"). The Cache owns its client: Close closes
// it. Open does not contact the server: the first operations do, and while
// Redis is unreachable the cache answers misses (see Ping to check at
// start-up).
//
// Where the URL does not say otherwise (dial_timeout, read_timeout,
// write_timeout, pool_timeout, pool_size, max_retries, min_retry_backoff and
// max_retry_backoff query parameters), the client dials, reads and writes
// with 500 ms timeouts, waits at most 500 ms for a pooled connection,
// retries a failed command once after 1–2 ms and keeps go-redis's default
// pool size (10 connections per GOMAXPROCS). Each new connection is dialled
// once (go-redis would try five times). The client always honours context
// deadlines (ContextTimeoutEnabled), which is how Options.Timeout is
// enforced.
func Open(redisURL string, opts *Options) (*Cache, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	ro, err := redis.ParseURL(redisURL)
	if err != nil {
		// A *url.Error repeats the URL, password included: keep it out of
		// error messages and logs.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		return nil, fmt.Errorf("rediscache: %w", err)
	}
	applyClientDefaults(ro)
	c := newCache(redis.NewClient(ro), o)
	c.owned = true
	return c, nil
}

func applyClientDefaults(ro *redis.Options) {
	ro.ContextTimeoutEnabled = true
	if ro.DialTimeout == 0 {
		ro.DialTimeout = openDialTimeout
	}
	if ro.ReadTimeout == 0 {
		ro.ReadTimeout = openReadTimeout
	}
	if ro.WriteTimeout == 0 {
		ro.WriteTimeout = openWriteTimeout
	}
	if ro.PoolTimeout == 0 {
		ro.PoolTimeout = openPoolTimeout
	}
	if ro.MaxRetries == 0 {
		ro.MaxRetries = openMaxRetries
	}
	if ro.MinRetryBackoff == 0 {
		ro.MinRetryBackoff = openMinRetryBackoff
	}
	if ro.MaxRetryBackoff == 0 {
		ro.MaxRetryBackoff = openMaxRetryBackoff
	}
	if ro.DialerRetries == 0 {
		ro.DialerRetries = openDialRetries
	}
}

// Close closes the Redis client when the Cache owns it (it was made by
// Open); otherwise it does nothing. Operations after Close fail.
func (c *Cache) Close() error {
	if !c.owned {
		return nil
	}
	return c.client.Close()
}

// Ping checks that Redis answers within Options.Timeout. It bypasses the
// circuit breaker and does not affect it; use it for start-up and
// readiness checks.
func (c *Cache) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if err := c.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("rediscache: ping: %w", err)
	}
	return nil
}

// redisKey maps a cache key to the Redis key: the prefix and the key's own
// bytes (Redis keys are binary-safe), or for a key longer than
// MaxRawKeyBytes or beginning with '#', the prefix, '#' and the hex SHA-256
// of the key.
func (c *Cache) redisKey(key string) string {
	if len(key) <= MaxRawKeyBytes && (key == "" || key[0] != '#') {
		return c.opts.Prefix + key
	}
	sum := sha256.Sum256([]byte(key))
	return c.opts.Prefix + "#" + hex.EncodeToString(sum[:])
}

// The errors of operations refused by the open breaker.
var (
	errGetUnavailable    error = &unavailableError{op: "get", miss: true}
	errDeleteUnavailable error = &unavailableError{op: "delete"}
)

// unavailableError matches ErrUnavailable, and for a Get also
// imageopto.ErrCacheMiss.
type unavailableError struct {
	op   string
	miss bool
}

func (e *unavailableError) Error() string {
	return "rediscache: " + e.op + ": redis unavailable (circuit breaker open)"
}

func (e *unavailableError) Is(target error) bool {
	return target == ErrUnavailable || e.miss && target == imageopto.ErrCacheMiss
}

// Get returns the value stored under key, imageopto.ErrCacheMiss when there
// is none, an error wrapping ErrUnavailable (and matching ErrCacheMiss) at
// once while the breaker is open, or the Redis or network error. The
// returned slice belongs to the caller.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	probe, ok := c.br.allow()
	if !ok {
		c.rejected.Add(1)
		c.getFailed.Add(1)
		return nil, errGetUnavailable
	}
	octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	b, err := c.client.Get(octx, c.redisKey(key)).Bytes()
	cancel()
	c.settle(ctx, probe, err)
	switch {
	case err == nil:
		c.hits.Add(1)
		return b, nil
	case errors.Is(err, redis.Nil):
		c.misses.Add(1)
		return nil, imageopto.ErrCacheMiss
	default:
		c.getFailed.Add(1)
		return nil, fmt.Errorf("rediscache: get: %w", err)
	}
}

// Set stores value under key for ttl (0: no expiry) with SET … PX. A value
// larger than Options.MaxItemBytes, or a negative ttl (already expired), is
// not stored: Set deletes any older value under the key instead and returns
// nil. While the breaker is open Set drops the value and returns nil (the
// drop is counted in Counters.Rejected). Redis keeps its own copy: the
// caller may reuse value afterwards.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if len(value) > c.opts.MaxItemBytes || ttl < 0 {
		c.skipped.Add(1)
		if err := c.del(ctx, key); err != nil && !errors.Is(err, ErrUnavailable) {
			return fmt.Errorf("rediscache: set: value not stored (%d bytes, ttl %v), deleting the older value: %w", len(value), ttl, err)
		}
		return nil
	}
	probe, ok := c.br.allow()
	if !ok {
		c.rejected.Add(1)
		return nil
	}
	octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	var err error
	if ttl == 0 {
		err = c.client.Set(octx, c.redisKey(key), value, 0).Err()
	} else {
		// Round up to whole milliseconds (PX has no finer unit; 0 is refused).
		ms := (ttl + time.Millisecond - 1) / time.Millisecond
		cmd := redis.NewStatusCmd(octx, "set", c.redisKey(key), value, "px", int64(ms))
		_ = c.client.Process(octx, cmd)
		err = cmd.Err()
	}
	cancel()
	c.settle(ctx, probe, err)
	if err != nil {
		return fmt.Errorf("rediscache: set: %w", err)
	}
	c.sets.Add(1)
	return nil
}

// Delete removes key. Deleting an absent key is not an error. While the
// breaker is open Delete returns an error wrapping ErrUnavailable at once.
func (c *Cache) Delete(ctx context.Context, key string) error {
	switch err := c.del(ctx, key); {
	case err == ErrUnavailable:
		return errDeleteUnavailable
	case err != nil:
		return fmt.Errorf("rediscache: delete: %w", err)
	}
	return nil
}

func (c *Cache) del(ctx context.Context, key string) error {
	probe, ok := c.br.allow()
	if !ok {
		c.rejected.Add(1)
		return ErrUnavailable
	}
	octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	err := c.client.Del(octx, c.redisKey(key)).Err()
	cancel()
	c.settle(ctx, probe, err)
	if err == nil {
		c.deletes.Add(1)
	}
	return err
}

// settle reports the outcome of an operation to the breaker and counts
// errors. ctx is the caller's context, without the per-operation deadline.
func (c *Cache) settle(ctx context.Context, probe bool, err error) {
	if probe {
		c.probes.Add(1)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		c.errors.Add(1)
	}
	c.br.done(probe, classify(ctx, err))
}

// classify tells the breaker what an operation's error says about Redis.
func classify(ctx context.Context, err error) outcome {
	switch {
	case err == nil, errors.Is(err, redis.Nil):
		return success
	case ctx.Err() != nil:
		// The caller gave up (or its deadline, earlier than ours, passed):
		// that says nothing about Redis.
		return neutral
	}
	if _, ok := errors.AsType[redis.Error](err); ok {
		// An error reply: the server is there and answered at once.
		return success
	}
	return failure
}

// Counters are the detailed counters of a Cache, beyond imageopto.CacheStats.
type Counters struct {
	// Hits counts Gets that returned a value.
	Hits int64
	// Misses counts Gets of keys that Redis does not hold. (Stats().Misses
	// also counts Gets that failed or were refused by the breaker.)
	Misses int64
	// Sets counts values stored; Deletes counts successful deletions
	// (including those made by Sets that skipped a value).
	Sets, Deletes int64
	// Skipped counts Sets not stored because the value was larger than
	// MaxItemBytes or the ttl was negative.
	Skipped int64
	// Errors counts operations that failed in Redis or on the way to it,
	// timeouts included.
	Errors int64
	// Rejected counts operations the open breaker refused without
	// contacting Redis: Gets answered with ErrUnavailable, Sets dropped,
	// Deletes refused.
	Rejected int64
	// Probes counts half-open probes; Trips counts how often the breaker
	// opened.
	Probes, Trips int64
	// State is the breaker's state now.
	State BreakerState
}

// Counters returns the cache's detailed counters.
func (c *Cache) Counters() Counters {
	state, trips := c.br.snapshot()
	return Counters{
		Hits:     c.hits.Load(),
		Misses:   c.misses.Load(),
		Sets:     c.sets.Load(),
		Deletes:  c.deletes.Load(),
		Skipped:  c.skipped.Load(),
		Errors:   c.errors.Load(),
		Rejected: c.rejected.Load(),
		Probes:   c.probes.Load(),
		Trips:    trips,
		State:    state,
	}
}

// Stats returns the counters as imageopto.CacheStats: Hits, Misses (every
// Get that returned no value: absent keys, errors and refusals) and Sets.
// Items, Bytes, MaxBytes and Evictions are zero: Redis is shared and evicts
// on its own, so this process cannot know them without asking the server
// (use INFO for those).
func (c *Cache) Stats() imageopto.CacheStats {
	return imageopto.CacheStats{
		Hits:   c.hits.Load(),
		Misses: c.misses.Load() + c.getFailed.Load(),
		Sets:   c.sets.Load(),
	}
}
