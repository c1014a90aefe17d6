package imageopto

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultServer answers with fault(n) for its n-th request (from 1).
func faultServer(t *testing.T, fault func(n int64, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fault(n.Add(1), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func httpHandler(t *testing.T, base string, o *HTTPOriginOptions, opts *Options) *Handler {
	t.Helper()
	origin, err := NewHTTPOrigin(base, o)
	require.NoError(t, err)
	return newTestHandler(t, origin, opts)
}

// TestOriginFaults pins reliability §5.3 for the origin: statuses, retries
// and that nothing partial is ever cached.
func TestOriginFaults(t *testing.T) {
	t.Parallel()
	img := samplePNG(t)
	serve := func(w http.ResponseWriter) { _, _ = w.Write(img) }
	cases := []struct {
		name    string
		fault   func(n int64, w http.ResponseWriter, r *http.Request)
		status  int
		fetches int64 // requests the origin saw for one client request
	}{
		{"503 then fine: retried", func(n int64, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(503)
				return
			}
			serve(w)
		}, 200, 2},
		{"always 503: one retry, then 502", func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }, 502, 2},
		{"429: one retry", func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(429) }, 502, 2},
		{"500: not retried", func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }, 502, 1},
		{"404 passes through", func(_ int64, w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }, 404, 1},
		{"410 passes through", func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(410) }, 410, 1},
		{"gzip body refused", func(_ int64, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			serve(w)
		}, 502, 1},
		{"short body", func(_ int64, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(img)+100))
			serve(w)
		}, 502, 1},
		{"reset mid-body", func(_ int64, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(img)))
			_, _ = w.Write(img[:len(img)/2])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST, not FIN
				}
				conn.Close()
			}
		}, 502, 1},
		{"redirect loop", func(_ int64, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		}, 502, 4},
		{"not an image", func(_ int64, w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>error</html>"))
		}, 415, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := faultServer(t, c.fault)
			h := httpHandler(t, srv.URL, &HTTPOriginOptions{BreakerFailures: -1}, nil)
			w := get(h, "/a.png?width=10")
			assert.Equal(t, c.status, w.Code, w.Body.String())
			assert.Equal(t, c.fetches, hits.Load(), "origin requests")
			if c.status == http.StatusBadGateway {
				before := hits.Load()
				get(h, "/a.png?width=10")
				assert.Greater(t, hits.Load(), before, "the failure was not cached")
			}
		})
	}
}

// TestOriginTimeouts: a black hole and a slow body end with 504 by the
// configured deadlines, and the transformation slot is not held.
func TestOriginTimeouts(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() { // accept and never answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	h := httpHandler(t, "http://"+ln.Addr().String(), &HTTPOriginOptions{HeaderTimeout: 200 * time.Millisecond, Timeout: time.Second}, nil)
	start := time.Now()
	w := get(h, "/a.png")
	t.Logf("black hole answered %d after %v", w.Code, time.Since(start))
	assert.Equal(t, http.StatusGatewayTimeout, w.Code)
	assert.Less(t, time.Since(start), 200*time.Millisecond+raceSlowdown*300*time.Millisecond)

	img := samplePNG(t)
	slow, _ := faultServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(img)))
		for i := range img {
			if _, err := w.Write(img[i : i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	})
	h = httpHandler(t, slow.URL, &HTTPOriginOptions{Timeout: 300 * time.Millisecond}, nil)
	start = time.Now()
	w = get(h, "/a.png")
	t.Logf("slow body answered %d after %v", w.Code, time.Since(start))
	assert.Equal(t, http.StatusGatewayTimeout, w.Code)
	assert.Less(t, time.Since(start), raceSlowdown*time.Second)
}

// TestOriginBreaker: after repeated failures the breaker fails fast without
// touching the origin, and one probe closes it again.
func TestOriginBreaker(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	img := samplePNG(t)
	srv, hits := faultServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		if healthy.Load() {
			_, _ = w.Write(img)
			return
		}
		w.WriteHeader(500)
	})
	o, err := NewHTTPOrigin(srv.URL, &HTTPOriginOptions{BreakerFailures: 3, BreakerOpen: 100 * time.Millisecond})
	require.NoError(t, err)
	h := newTestHandler(t, o, nil)
	for i := range 3 {
		assert.Equal(t, 502, get(h, "/a.png?width="+strconv.Itoa(i+1)).Code)
	}
	before := hits.Load()
	w := get(h, "/a.png?width=9")
	assert.Equal(t, 502, w.Code)
	assert.Equal(t, before, hits.Load(), "open breaker: the origin is not asked")
	healthy.Store(true)
	time.Sleep(150 * time.Millisecond)
	assert.Equal(t, 200, get(h, "/a.png?width=9").Code, "the probe succeeds and closes the breaker")
	assert.Equal(t, 200, get(h, "/a.png?width=8").Code)
}

// TestOriginRetryBudget: during an outage retries stop once the budget is
// spent, so the origin sees at most about 10 % extra requests.
func TestOriginRetryBudget(t *testing.T) {
	t.Parallel()
	srv, hits := faultServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	o, err := NewHTTPOrigin(srv.URL, &HTTPOriginOptions{BreakerFailures: -1})
	require.NoError(t, err)
	const n = 100
	for i := range n {
		_, err := o.Fetch(t.Context(), FetchRequest{Path: "a" + strconv.Itoa(i) + ".png"})
		require.Error(t, err)
	}
	extra := hits.Load() - n
	t.Logf("%d fetches during an outage made %d retries (%.0f %%)", n, extra, float64(extra)*100/n)
	assert.LessOrEqual(t, extra, int64(n/10+2))
	assert.Positive(t, extra)
}

// TestETagFlapping: new validators for the same bytes do not cost a
// transformation (reliability §5.3).
func TestETagFlapping(t *testing.T) {
	t.Parallel()
	img := samplePNG(t)
	srv, _ := faultServer(t, func(n int64, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("ETag", `"v`+strconv.FormatInt(n, 10)+`"`)
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write(img)
	})
	h := httpHandler(t, srv.URL, nil, &Options{StaleWhileRevalidate: time.Nanosecond, MinTTL: time.Second})
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	h.now = func() time.Time { return time.Unix(0, clock.Load()) }
	first := get(h, "/a.png?width=10")
	require.Equal(t, 200, first.Code)
	clock.Add(int64(2 * time.Minute))
	second := get(h, "/a.png?width=10")
	require.Equal(t, 200, second.Code)
	assert.Equal(t, first.Header().Get("ETag"), second.Header().Get("ETag"))
	assert.Equal(t, int64(1), h.Transforms(), "same bytes behind a new ETag: no new transform")
}

// TestBreakerNeutralProbe: a half-open probe that ends without a verdict
// (the caller gave up) does not leave the breaker open for ever.
func TestBreakerNeutralProbe(t *testing.T) {
	t.Parallel()
	b := newBreaker(breakerConfig{failures: 1, open: time.Millisecond})
	now := time.Now()
	b.record(now, outcomeFailure)
	later := now.Add(time.Second)
	require.True(t, b.allow(later), "half-open: one probe")
	assert.False(t, b.allow(later), "only one probe at a time")
	b.record(later, outcomeNeutral)
	assert.True(t, b.allow(later), "the next request probes again")
	b.record(later, outcomeSuccess)
	assert.True(t, b.allow(later))
}
