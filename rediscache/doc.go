// Package rediscache is an imageopto.Cache stored in Redis: a result and
// source cache shared by every imageopto node, for users who already run
// Redis. It uses github.com/redis/go-redis/v9; the root imageopto package
// does not import it, so only programs that import rediscache link Redis.
//
// # Use
//
// The shortest way in stores results under the default "imageopto:" prefix:
//
//	opts.Cache, _ = rediscache.Open("redis://127.0.0.1:6379/0", nil)
//
// Give the handler a second cache, under its own prefix, for originals, so
// that N sizes of one image cost one origin fetch across the fleet, and
// check the errors:
//
//	results, err := rediscache.Open("redis://127.0.0.1:6379/0", &rediscache.Options{Prefix: "imageopto:r:"})
//	if err != nil { … }
//	defer results.Close()
//	sources, err := rediscache.Open("redis://127.0.0.1:6379/0", &rediscache.Options{
//		Prefix:       "imageopto:s:",
//		MaxItemBytes: 64 << 20, // originals are larger than results
//	})
//	if err != nil { … }
//	defer sources.Close()
//	h, err := imageopto.New(origin, &imageopto.Options{Cache: results, SourceCache: sources})
//
// Setting only Cache leaves the handler's default in-memory SourceCache in
// place. To share one connection pool between both caches, or to use a
// Redis Cluster, Ring or Sentinel set-up, make the go-redis client yourself
// and pass it to New once per prefix; make it with ContextTimeoutEnabled so
// that Options.Timeout bounds socket I/O.
//
// Open does not contact Redis. Call Cache.Ping to fail fast at start-up, or
// start anyway: the cache answers misses until Redis is reachable.
//
// # Keys, values and expiry
//
// A value is stored under Prefix + key with SET … PX ttl (no expiry when
// ttl is 0), as the handler's opaque bytes. Keys may hold any bytes (the
// handler's source keys hold the origin path, a NUL byte and the query);
// keys longer than MaxRawKeyBytes, and keys beginning with '#', are stored
// as Prefix + "#" + hex(SHA-256(key)) so that long paths do not make long
// Redis keys. Values larger than Options.MaxItemBytes (default 8 MiB) are
// not stored: Set returns nil and counts the skip, because the handler logs
// every Set error and a big image is not a fault. Configure Redis with a
// maxmemory and an eviction policy (allkeys-lru suits a cache): entries
// carry a TTL, but Redis is what bounds memory.
//
// # Request collapsing
//
// Redis shares results; it does not collapse work across nodes. Each
// handler collapses concurrent requests for one key within its process
// (one flight per key), so a cold key costs at most one origin fetch and one
// transformation per node, after which every node finds it in Redis. The
// source cache means that N sizes of one image, requested on any nodes,
// cost one origin fetch per node at most, and usually one in total.
//
// # When Redis is slow or dies
//
// Every operation has a deadline (Options.Timeout, default 100 ms). After
// Options.BreakerThreshold consecutive failures (default 5) the circuit
// breaker opens for Options.BreakerCooldown (default 5 s): Get returns at
// once, without touching the network, an error that wraps ErrUnavailable
// and also matches imageopto.ErrCacheMiss (so the handler treats it as a
// plain miss and does not log it); Set drops the value and returns nil.
// After the cool-down one operation probes Redis; if it succeeds the cache
// works again, otherwise the breaker opens for another cool-down. The
// handler thus keeps serving every request while Redis is down, from the
// origin and its in-process request collapsing, paying at most a few
// timeouts per cool-down; a failure that does reach Redis is logged by the
// handler as a cache warning. Delete is refused at once with an error
// wrapping ErrUnavailable, since a purge that did not happen matters.
// go-redis itself reports failed dials to its package logger (see
// redis.SetLogger); the breaker bounds those too.
//
// Cache.Counters reports hits, misses, errors, refusals and the breaker's
// state; Cache.Stats reports them as imageopto.CacheStats.
//
// # Purges
//
// Results in Redis outlive every handler that made them. Cache.PurgeStore,
// given to imageopto.Options.PurgeStore, keeps the handler's purge records
// in one Redis hash under the cache's prefix, so that a handler started
// after a purge (a restart, a new machine) never serves a purged result
// from Redis.
package rediscache
