//go:build unix

package rediscache

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imageopto/imageopto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPNG is a small gradient, generated so the test needs no files.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 128, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// node is one imageopto handler with its own Redis caches (its own
// connection pools and breakers), as on one server of a fleet.
type node struct {
	h        *imageopto.Handler
	results  *Cache
	sources  *Cache
	warnings *syncBuffer
}

func newNode(t *testing.T, srv *redisServer, origin imageopto.Origin) *node {
	t.Helper()
	n := &node{
		results:  openCache(t, srv, &Options{Prefix: "e2e:r:"}),
		sources:  openCache(t, srv, &Options{Prefix: "e2e:s:", MaxItemBytes: 64 << 20}),
		warnings: &syncBuffer{},
	}
	var err error
	n.h, err = imageopto.New(origin, &imageopto.Options{
		Cache:       n.results,
		SourceCache: n.sources,
		Logger:      slog.New(slog.NewTextHandler(n.warnings, nil)),
	})
	require.NoError(t, err)
	return n
}

// get serves one request and returns the response and how long it took.
func (n *node) get(target string) (*httptest.ResponseRecorder, time.Duration) {
	rec := httptest.NewRecorder()
	start := time.Now()
	n.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec, time.Since(start)
}

// TestHandlerSharesRedis runs two handlers (two nodes) on one Redis: the
// second serves what the first made without calling the origin. Then Redis
// is killed and both keep answering every request, from the origin.
func TestHandlerSharesRedis(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	src := testPNG(t)
	var originCalls atomic.Int64
	origin := imageopto.OriginFunc(func(ctx context.Context, req imageopto.FetchRequest) (*imageopto.Source, error) {
		originCalls.Add(1)
		if req.Path != "cat.png" {
			return nil, imageopto.ErrNotFound
		}
		return &imageopto.Source{Data: src, ETag: `"v1"`}, nil
	})
	a, b := newNode(t, srv, origin), newNode(t, srv, origin)

	ok := func(rec *httptest.ResponseRecorder, target string) {
		t.Helper()
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", target, rec.Body)
		require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "image/"), rec.Header().Get("Content-Type"))
		cfg, _, err := image.DecodeConfig(bytes.NewReader(rec.Body.Bytes()))
		require.NoError(t, err, target)
		require.Positive(t, cfg.Width)
	}

	// Node A makes the result; node B finds it in Redis.
	rec, _ := a.get("/cat.png?width=32")
	ok(rec, "A width=32")
	require.Equal(t, int64(1), originCalls.Load())
	rec, _ = b.get("/cat.png?width=32")
	ok(rec, "B width=32")
	assert.Equal(t, int64(1), originCalls.Load(), "B must serve A's result without the origin")
	assert.Equal(t, int64(1), b.results.Counters().Hits)

	// A new size on node B: the original comes from the shared source cache.
	rec, _ = b.get("/cat.png?width=16&format=png")
	ok(rec, "B width=16")
	assert.Equal(t, int64(1), originCalls.Load(), "B must take the original from Redis")
	assert.Equal(t, int64(1), b.sources.Counters().Hits)

	// Kill Redis. Every request still succeeds, without the shared cache.
	srv.kill()
	before := originCalls.Load()
	const requests = 60
	var failures int
	var took []time.Duration
	for i := range requests {
		n := []*node{a, b}[i%2]
		target := fmt.Sprintf("/cat.png?width=%d", 8+i%12) // repeats: no cache left to hit
		rec, d := n.get(target)
		took = append(took, d)
		if rec.Code != http.StatusOK {
			failures++
			t.Errorf("%s with Redis dead: %d %s", target, rec.Code, rec.Body)
			continue
		}
		ok(rec, target)
	}
	assert.Zero(t, failures)
	for _, n := range []*node{a, b} {
		for _, c := range []*Cache{n.results, n.sources} {
			assert.Equal(t, BreakerOpen, c.Counters().State)
		}
	}
	countWarnings := func(n *node) int { return strings.Count(n.warnings.String(), "level=WARN") }
	t.Logf("Redis dead: %d/%d requests OK, %d origin calls, latency median %v, max %v; handler warnings: A %d, B %d",
		requests-failures, requests, originCalls.Load()-before, pct(took, 50), slices.Max(took), countWarnings(a), countWarnings(b))
	t.Logf("first requests with Redis dead took %v", roundAll(took[:8]))
	t.Logf("node A results %+v", a.results.Counters())
	t.Logf("node A sources %+v", a.sources.Counters())
	// Only the failures that reach the network are logged: the breaker's
	// refusals are plain misses to the handler.
	assert.Less(t, countWarnings(a)+countWarnings(b), requests)
}
