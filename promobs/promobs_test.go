package promobs_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/promobs"
)

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.NRGBA{uint8(x * 4), uint8(y * 5), 90, 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// gatedOrigin serves one PNG for every path but missing.png (404); the
// paths in gates wait until their channel is closed.
type gatedOrigin struct {
	data  []byte
	gates map[string]chan struct{}
}

func (o *gatedOrigin) Fetch(ctx context.Context, req imageopto.FetchRequest) (*imageopto.Source, error) {
	if g, ok := o.gates[req.Path]; ok {
		select {
		case <-g:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if req.Path == "missing.png" {
		return nil, imageopto.ErrNotFound
	}
	return &imageopto.Source{Data: o.data}, nil
}

// lookupCounter counts result-cache misses, to know when a burst has
// reached its flight.
type lookupCounter struct{ misses atomic.Int64 }

func (c *lookupCounter) Observe(e imageopto.Event) {
	if e.Kind == imageopto.EventCacheLookup && e.Layer == "result" && e.Result == "miss" {
		c.misses.Add(1)
	}
}

// TestScrapeAfterScriptedMix drives a handler through a hit, a miss, a
// collapsed burst, an origin 404, a bad parameter and a 503 under overload,
// then scrapes /metrics and checks every counter's exact value.
func TestScrapeAfterScriptedMix(t *testing.T) {
	t.Parallel()
	burstGate, slowGate := make(chan struct{}), make(chan struct{})
	origin := &gatedOrigin{data: pngBytes(t), gates: map[string]chan struct{}{"b.png": burstGate, "slow.png": slowGate}}
	reg := prometheus.NewRegistry()
	m, err := promobs.New(reg)
	require.NoError(t, err)
	counter := &lookupCounter{}
	h, err := imageopto.New(origin, &imageopto.Options{
		Observer:     imageopto.MultiObserver(m, counter),
		MaxFetches:   1,
		MaxQueue:     1,
		QueueTimeout: time.Minute,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	require.NoError(t, m.WatchHandler(h))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	get := func(path string) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			return -1
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			require.True(t, time.Now().Before(deadline), "waiting for %s", what)
			time.Sleep(time.Millisecond)
		}
	}

	start := time.Now()
	require.Equal(t, http.StatusOK, get("/a.png?width=50&format=png"), "miss")
	require.Equal(t, http.StatusOK, get("/a.png?width=50&format=png"), "hit")

	// A burst of 5 for one key: one miss, four collapsed into its flight.
	const burst = 5
	before := counter.misses.Load()
	codes := make(chan int, burst)
	for range burst {
		go func() { codes <- get("/b.png?width=50&format=png") }()
	}
	// Each request misses once (its flight starts from what it read).
	waitFor("the burst to reach its flight", func() bool { return counter.misses.Load() == before+burst })
	time.Sleep(50 * time.Millisecond) // from the lookup to joining the flight
	close(burstGate)
	for range burst {
		require.Equal(t, http.StatusOK, <-codes)
	}

	require.Equal(t, http.StatusNotFound, get("/missing.png?format=png"), "origin 404")
	require.Equal(t, http.StatusBadRequest, get("/a.png?width=abc"), "bad parameter")

	// Overload: one fetch slot, a queue of one. slow.png holds the slot,
	// q.png waits, r.png finds the queue full.
	var wg sync.WaitGroup
	var slowCode, queuedCode atomic.Int64
	wg.Go(func() { slowCode.Store(int64(get("/slow.png?format=png"))) })
	waitFor("the slow fetch", func() bool { return h.Gauges().InflightFetches == 1 })
	wg.Go(func() { queuedCode.Store(int64(get("/q.png?format=png"))) })
	waitFor("the queued fetch", func() bool { return h.Gauges().Queued == 1 })
	require.Equal(t, http.StatusServiceUnavailable, get("/r.png?format=png"), "queue full")
	close(slowGate)
	wg.Wait()
	require.EqualValues(t, http.StatusOK, slowCode.Load())
	require.EqualValues(t, http.StatusOK, queuedCode.Load())
	t.Logf("scripted mix took %v", time.Since(start))
	// A transformation gives its slot and memory back just after its
	// result is delivered.
	waitFor("the work to end", func() bool { g := h.Gauges(); return g.InflightTransforms == 0 && g.MemoryInUse == 0 })
	require.NoError(t, h.Purge(context.Background(), "a.png"))
	require.NoError(t, h.SoftPurge(context.Background(), "b.png", "c.png"))

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	got := parseExposition(rec.Body.String())
	for _, tc := range []struct {
		series string
		want   float64
	}{
		{`imageopto_requests_total{cache="miss",code="200"}`, 4}, // a, b's leader, slow, q
		{`imageopto_requests_total{cache="hit",code="200"}`, 1},
		{`imageopto_requests_total{cache="collapsed",code="200"}`, burst - 1},
		{`imageopto_requests_total{cache="miss",code="404"}`, 1},
		{`imageopto_requests_total{cache="none",code="400"}`, 1},
		{`imageopto_requests_total{cache="miss",code="503"}`, 1},
		{`imageopto_rejected_total`, 1},
		{`imageopto_origin_fetches_total{result="ok"}`, 4},
		{`imageopto_origin_fetches_total{result="not_found"}`, 1},
		{`imageopto_origin_fetch_duration_seconds_count{result="ok"}`, 4},
		{`imageopto_transform_duration_seconds_count{format="png"}`, 4},
		{`imageopto_cache_lookups_total{cache="result",result="hit"}`, 1},
		// One per request that missed: a, the burst, missing, slow, q, r.
		{`imageopto_cache_lookups_total{cache="result",result="miss"}`, 1 + burst + 1 + 3},
		{`imageopto_cache_lookups_total{cache="source",result="miss"}`, 6},
		{`imageopto_inflight_transforms`, 0},
		{`imageopto_inflight_fetches`, 0},
		{`imageopto_queue_length`, 0},
		{`imageopto_memory_in_use_bytes`, 0},
		{`imageopto_memory_budget_bytes`, float64(h.Gauges().MemoryBudget)},
		{`imageopto_purges_total{kind="hard"}`, 1},
		{`imageopto_purges_total{kind="soft"}`, 2},
		{`imageopto_purge_records`, 3},
	} {
		assert.Equal(t, tc.want, got[tc.series], tc.series)
	}
	for series := range got {
		if strings.HasPrefix(series, "imageopto_requests_total") {
			assert.Contains(t, []string{
				`imageopto_requests_total{cache="miss",code="200"}`, `imageopto_requests_total{cache="hit",code="200"}`,
				`imageopto_requests_total{cache="collapsed",code="200"}`, `imageopto_requests_total{cache="miss",code="404"}`,
				`imageopto_requests_total{cache="none",code="400"}`, `imageopto_requests_total{cache="miss",code="503"}`,
			}, series, "no other series")
		}
	}
}

// parseExposition reads the text format into series → value.
func parseExposition(text string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v float64
		if _, err := fmt.Sscan(line[i+1:], &v); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// TestRegistersOnGivenRegistry: New registers on the registry passed, and a
// second New on the same registry fails instead of panicking.
func TestRegistersOnGivenRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	_, err := promobs.New(reg)
	require.NoError(t, err)
	_, err = promobs.New(reg)
	require.Error(t, err)
	_, err = promobs.New(prometheus.NewRegistry())
	require.NoError(t, err)
}

// TestWatchPeers exports the peer tier's counters.
func TestWatchPeers(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := promobs.New(reg)
	require.NoError(t, err)
	require.NoError(t, m.WatchPeers(func() promobs.PeerStats { return promobs.PeerStats{Forwarded: 7, ForwardErrors: 2, Healthy: 3} }))
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	got := parseExposition(rec.Body.String())
	assert.Equal(t, 7.0, got["imageopto_peer_forwards_total"])
	assert.Equal(t, 2.0, got["imageopto_peer_forward_failures_total"])
	assert.Equal(t, 3.0, got["imageopto_peer_healthy_members"])
}
