package rediscache_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing/fstest"
	"time"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/rediscache"
)

// Results and originals in one Redis, under two prefixes, shared by every
// node that runs this. Open does not contact Redis, so this runs without a
// server; until one answers, the caches answer misses.
func Example() {
	results, err := rediscache.Open("redis://127.0.0.1:6379/0", &rediscache.Options{Prefix: "imageopto:r:"})
	if err != nil {
		panic(err)
	}
	defer results.Close()
	sources, err := rediscache.Open("redis://127.0.0.1:6379/0", &rediscache.Options{
		Prefix:       "imageopto:s:",
		MaxItemBytes: 64 << 20,
	})
	if err != nil {
		panic(err)
	}
	defer sources.Close()

	origin := imageopto.NewFSOrigin(fstest.MapFS{}, 50<<20)
	h, err := imageopto.New(origin, &imageopto.Options{Cache: results, SourceCache: sources})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/img/", http.StripPrefix("/img", h))
	fmt.Println("breaker:", results.Counters().State)
	// Output: breaker: closed
}

func ExampleOpen() {
	_, err := rediscache.Open("localhost:6379", nil) // not a URL
	fmt.Println(err)
	// Output: rediscache: redis: invalid URL scheme: localhost
}

// While Redis is unreachable, failed operations open the breaker, and Gets
// are then refused at once with an error that is a miss to the handler.
func ExampleCache_Get_breaker() {
	c, err := rediscache.Open("redis://127.0.0.1:1/0", &rediscache.Options{ // nothing listens on port 1
		BreakerThreshold: 1,
		BreakerCooldown:  time.Minute,
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()

	_, err = c.Get(ctx, "k")
	fmt.Println("unreachable:", err != nil && !errors.Is(err, imageopto.ErrCacheMiss))
	_, err = c.Get(ctx, "k")
	fmt.Println("refused by the breaker:", errors.Is(err, rediscache.ErrUnavailable))
	fmt.Println("a miss to the handler:", errors.Is(err, imageopto.ErrCacheMiss))
	fmt.Println("breaker:", c.Counters().State)
	// Output:
	// unreachable: true
	// refused by the breaker: true
	// a miss to the handler: true
	// breaker: open
}
