package imageopto

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBreakerRule pins the breaker's counting with a fake clock: HTTP error
// answers count once per path, connection failures each, a success resets.
func TestBreakerRule(t *testing.T) {
	t.Parallel()
	type step struct {
		o    outcome
		path string
	}
	fail := func(p string) step { return step{outcomePathFailure, p} }
	conn := step{outcomeFailure, "x"}
	ok := step{outcomeSuccess, "x"}
	neutral := step{outcomeNeutral, "x"}
	cases := []struct {
		name  string
		steps []step
		open  bool
	}{
		{"one path, many times", []step{fail("a"), fail("a"), fail("a"), fail("a"), fail("a"), fail("a"), fail("a")}, false},
		{"four paths", []step{fail("a"), fail("b"), fail("c"), fail("d"), fail("a"), fail("b")}, false},
		{"five paths", []step{fail("a"), fail("b"), fail("a"), fail("c"), fail("d"), fail("e")}, true},
		{"five connection failures", []step{conn, conn, conn, conn, conn}, true},
		{"mixed", []step{conn, fail("a"), conn, fail("a"), fail("b"), conn}, true},
		{"success resets paths", []step{fail("a"), fail("b"), fail("c"), fail("d"), ok, fail("a"), fail("b"), fail("c"), fail("d")}, false},
		{"neutral does not count", []step{fail("a"), neutral, neutral, neutral, neutral, neutral}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBreaker(breakerConfig{failures: 5, open: time.Minute})
			now := time.Unix(1e9, 0)
			for _, s := range c.steps {
				require.True(t, b.allow(now), "closed until the last step")
				b.record(now, s.o, s.path)
			}
			assert.Equal(t, !c.open, b.allow(now))
			assert.LessOrEqual(t, len(b.paths), 5, "the path set is bounded")
		})
	}
	t.Run("probe", func(t *testing.T) {
		t.Parallel()
		b := newBreaker(breakerConfig{failures: 2, open: time.Minute})
		now := time.Unix(1e9, 0)
		b.record(now, outcomePathFailure, "a")
		b.record(now, outcomePathFailure, "b")
		require.False(t, b.allow(now))
		later := now.Add(time.Minute)
		require.True(t, b.allow(later), "one probe")
		b.record(later, outcomePathFailure, "a") // a path seen before still re-opens
		require.False(t, b.allow(later.Add(time.Second)))
		later = later.Add(time.Minute)
		require.True(t, b.allow(later))
		b.record(later, outcomeSuccess, "c")
		assert.True(t, b.allow(later))
		b.record(later, outcomePathFailure, "a")
		assert.True(t, b.allow(later), "closed again: counting from zero")
	})
	t.Run("disabled", func(t *testing.T) {
		t.Parallel()
		b := newBreaker(breakerConfig{failures: -1})
		for i := range 100 {
			b.record(time.Now(), outcomePathFailure, strconv.Itoa(i))
			b.record(time.Now(), outcomeFailure, "")
		}
		assert.True(t, b.allow(time.Now()))
		assert.Empty(t, b.paths)
	})
}

// breakerServer answers paths starting with /bad with status and the rest
// with an image, unless healthy; it counts the requests for other paths.
func breakerServer(t *testing.T, status int, healthy *atomic.Bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var good atomic.Int64
	srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/bad") && (healthy == nil || !healthy.Load()) {
			w.WriteHeader(status)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/bad") {
			good.Add(1)
		}
		_, _ = io.WriteString(w, "image")
	})
	return srv, &good
}

// TestHTTPOriginBreakerPaths pins issue 11 part 5: HTTP errors for one path,
// however many, leave other paths served; spread over BreakerFailures paths
// they open the breaker.
func TestHTTPOriginBreakerPaths(t *testing.T) {
	t.Parallel()
	same := func(n int, path, query string) []FetchRequest {
		var r []FetchRequest
		for i := range n {
			q := ""
			if query != "" {
				q = query + strconv.Itoa(i)
			}
			r = append(r, FetchRequest{Path: path, RawQuery: q})
		}
		return r
	}
	distinct := func(n int) []FetchRequest {
		var r []FetchRequest
		for i := range n {
			r = append(r, FetchRequest{Path: "bad" + strconv.Itoa(i) + ".jpg"})
		}
		return r
	}
	cases := []struct {
		name   string
		status int
		fails  []FetchRequest
		open   bool
	}{
		{"20 × one 500 path", 500, same(20, "bad.jpg", ""), false},
		{"20 × one 503 path", 503, same(20, "bad.jpg", ""), false},
		{"20 × one 429 path", 429, same(20, "bad.jpg", ""), false},
		{"20 × one 403 path", 403, same(20, "bad.jpg", ""), false},
		{"20 × one path, other queries", 500, same(20, "bad.jpg", "v="), false},
		{"4 distinct 500 paths", 500, distinct(4), false},
		{"5 distinct 500 paths", 500, distinct(5), true},
		{"5 distinct 503 paths", 503, distinct(5), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, good := breakerServer(t, c.status, nil)
			o := newTestHTTPOrigin(t, srv.URL, &HTTPOriginOptions{MaxRetries: -1})
			for _, r := range c.fails {
				_, err := o.Fetch(t.Context(), r)
				require.Error(t, err)
				assert.Equal(t, http.StatusBadGateway, StatusCode(err))
			}
			src, err := o.Fetch(t.Context(), FetchRequest{Path: "good.jpg"})
			if c.open {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "circuit open")
				assert.Zero(t, good.Load(), "the open breaker does not ask the origin")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "image", string(src.Data))
		})
	}
}

// TestHTTPOriginBreakerConnection: connection failures and timeouts still
// open the breaker, whatever the path.
func TestHTTPOriginBreakerConnection(t *testing.T) {
	t.Parallel()
	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		return "http://" + addr
	}
	cases := []struct {
		name string
		base func(t *testing.T) string
		opts HTTPOriginOptions
		n    int
	}{
		{"connection refused ×5", closedPort, HTTPOriginOptions{MaxRetries: -1}, 5},
		{"connection refused ×5 with retries", closedPort, HTTPOriginOptions{}, 5},
		{"header timeout ×2", func(t *testing.T) string { return "http://" + blackHole(t) },
			HTTPOriginOptions{MaxRetries: -1, BreakerFailures: 2, HeaderTimeout: 50 * time.Millisecond}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := newTestHTTPOrigin(t, c.base(t), &c.opts)
			for range c.n {
				_, err := o.Fetch(t.Context(), FetchRequest{Path: "a.jpg"})
				require.Error(t, err)
				assert.Equal(t, outcomeFailure, breakerOutcome(err), "%v", err)
			}
			_, err := o.Fetch(t.Context(), FetchRequest{Path: "b.jpg"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "circuit open")
			assert.Equal(t, http.StatusBadGateway, StatusCode(err))
		})
	}
}

// TestHTTPOriginBreakerProbe: after BreakerOpen one probe closes the
// breaker when the origin is healthy again, and re-opens it when not.
// BreakerOpen is longer than the test runs, so that a loaded machine cannot
// end the open period before the checks that it is open; endBreakerOpen
// ends it where BreakerOpen would have passed.
func TestHTTPOriginBreakerProbe(t *testing.T) {
	t.Parallel()
	const open = time.Minute
	for _, c := range []struct {
		name    string
		healthy bool
	}{{"healthy probe closes", true}, {"failed probe re-opens", false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var healthy atomic.Bool
			srv, _ := breakerServer(t, 500, &healthy)
			o := newTestHTTPOrigin(t, srv.URL, &HTTPOriginOptions{MaxRetries: -1, BreakerOpen: open})
			for i := range 5 {
				_, err := o.Fetch(t.Context(), FetchRequest{Path: "bad" + strconv.Itoa(i) + ".jpg"})
				require.Error(t, err)
			}
			_, err := o.Fetch(t.Context(), FetchRequest{Path: "bad0.jpg"})
			require.ErrorContains(t, err, "circuit open")
			healthy.Store(c.healthy)
			endBreakerOpen(o)
			_, err = o.Fetch(t.Context(), FetchRequest{Path: "bad0.jpg"}) // the probe
			if !c.healthy {
				require.ErrorContains(t, err, "origin answered 500")
				_, err = o.Fetch(t.Context(), FetchRequest{Path: "good.jpg"})
				require.ErrorContains(t, err, "circuit open")
				return
			}
			require.NoError(t, err)
			for _, p := range []string{"good.jpg", "bad1.jpg"} {
				_, err = o.Fetch(t.Context(), FetchRequest{Path: p})
				require.NoError(t, err, "closed")
			}
		})
	}
}

// TestURLOriginBreakerPaths: URLOrigin's per-host breakers follow the same
// rule.
func TestURLOriginBreakerPaths(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		paths []string
		open  bool
	}{
		{"20 × one path", strings.Split(strings.Repeat("bad.jpg ", 20), " ")[:20], false},
		{"5 distinct paths", []string{"bad1.jpg", "bad2.jpg", "bad3.jpg", "bad4.jpg", "bad5.jpg"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, good := breakerServer(t, 500, nil)
			host := srv.Listener.Addr().String()
			o, err := NewURLOrigin(URLOriginOptions{AllowedHosts: []string{"127.0.0.1"}, Insecure: true,
				AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, HTTP: HTTPOriginOptions{MaxRetries: -1}})
			require.NoError(t, err)
			for _, p := range c.paths {
				_, err := o.Fetch(t.Context(), FetchRequest{Path: host + "/" + p})
				require.ErrorIs(t, err, ErrOriginFailed)
			}
			_, err = o.Fetch(t.Context(), FetchRequest{Path: host + "/good.jpg"})
			if c.open {
				require.ErrorContains(t, err, "circuit open")
				assert.Zero(t, good.Load())
				return
			}
			require.NoError(t, err)
		})
	}
}
