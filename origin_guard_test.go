package imageopto

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// redirectOrigin is an origin whose /a.jpg redirects to location(self) and
// whose other paths answer "origin:PATH". It counts its /a.jpg requests.
func redirectOrigin(t *testing.T, location func(self *httptest.Server) string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/a.jpg" {
			hits.Add(1)
			w.Header().Set("Location", location(srv))
			w.WriteHeader(http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "origin:"+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// secretServer stands for an internal service: it answers "secret" and
// counts every request, and whether any carried an Authorization header.
func secretServer(t *testing.T) (srv *httptest.Server, hits, withAuth *atomic.Int64) {
	t.Helper()
	hits, withAuth = new(atomic.Int64), new(atomic.Int64)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			withAuth.Add(1)
		}
		_, _ = io.WriteString(w, "secret")
	}))
	t.Cleanup(srv.Close)
	return srv, hits, withAuth
}

func serverPort(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return u.Port()
}

// TestHTTPOriginRedirectGuard pins issue 11 part 4: an origin's redirect
// cannot make the server fetch an internal address. Only the origin's own
// scheme and host are followed by default, RedirectHosts widens that, and
// redirect targets other than the origin's own host are refused at dial
// time when they are special addresses, unless AllowedNetworks lists them.
// "localhost" resolves from the hosts file, so no traffic leaves 127.0.0.1.
func TestHTTPOriginRedirectGuard(t *testing.T) {
	t.Parallel()
	loopback8 := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cases := []struct {
		name string
		// location is where the origin's /a.jpg redirects; secret is the
		// internal server.
		location func(t *testing.T, self, secret *httptest.Server) string
		opts     HTTPOriginOptions
		want     int    // status of the fetch (200: success)
		body     string // when 200
		dialed   bool   // refused at dial time rather than by the redirect rule
		reached  int64  // requests that reached the internal server
	}{
		{name: "other port on loopback", location: func(_ *testing.T, _, s *httptest.Server) string { return s.URL + "/secret.jpg" },
			want: 502},
		{name: "same host and port, relative", location: func(*testing.T, *httptest.Server, *httptest.Server) string { return "/b.jpg" },
			want: 200, body: "origin:/b.jpg"},
		{name: "same host and port, absolute", location: func(_ *testing.T, self, _ *httptest.Server) string { return self.URL + "/b.jpg" },
			want: 200, body: "origin:/b.jpg"},
		{name: "same port, other name", location: func(t *testing.T, self, _ *httptest.Server) string {
			return "http://localhost:" + serverPort(t, self) + "/b.jpg"
		}, want: 502},
		{name: "same host, other scheme", location: func(t *testing.T, self, _ *httptest.Server) string {
			return "https://127.0.0.1:" + serverPort(t, self) + "/b.jpg"
		}, want: 502},
		{name: "wildcard does not match", location: func(_ *testing.T, _, s *httptest.Server) string { return s.URL + "/secret.jpg" },
			opts: HTTPOriginOptions{RedirectHosts: []string{"*.example.com"}}, want: 502},
		{name: "RedirectHosts name resolving to loopback", location: func(t *testing.T, _, s *httptest.Server) string {
			return "http://localhost:" + serverPort(t, s) + "/secret.jpg"
		}, opts: HTTPOriginOptions{RedirectHosts: []string{"LocalHost"}}, want: 502, dialed: true},
		{name: "RedirectHosts address on loopback", location: func(_ *testing.T, _, s *httptest.Server) string { return s.URL + "/secret.jpg" },
			opts: HTTPOriginOptions{RedirectHosts: []string{"127.0.0.1"}}, want: 502, dialed: true},
		{name: "RedirectHosts and AllowedNetworks", location: func(t *testing.T, _, s *httptest.Server) string {
			return "http://localhost:" + serverPort(t, s) + "/secret.jpg"
		}, opts: HTTPOriginOptions{RedirectHosts: []string{"localhost"}, AllowedNetworks: loopback8},
			want: 200, body: "secret", reached: 1},
		{name: "AllowedNetworks alone does not allow the host", location: func(_ *testing.T, _, s *httptest.Server) string { return s.URL + "/secret.jpg" },
			opts: HTTPOriginOptions{AllowedNetworks: loopback8}, want: 502},
		{name: "credentials stay with the origin", location: func(_ *testing.T, _, s *httptest.Server) string { return s.URL + "/secret.jpg" },
			opts: HTTPOriginOptions{RedirectHosts: []string{"127.0.0.1"}, AllowedNetworks: loopback8,
				Header: http.Header{"Authorization": {"Bearer origin-only"}}},
			want: 200, body: "secret", reached: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			secret, reached, withAuth := secretServer(t)
			origin, originHits := redirectOrigin(t, func(self *httptest.Server) string { return c.location(t, self, secret) })
			o := newTestHTTPOrigin(t, origin.URL, &c.opts)
			src, err := o.Fetch(t.Context(), FetchRequest{Path: "a.jpg"})
			t.Logf("err: %v", err)
			assert.Equal(t, c.want, StatusCode(err))
			assert.Equal(t, c.reached, reached.Load(), "requests that reached the internal server")
			assert.Zero(t, withAuth.Load(), "configured credentials never leave the origin")
			if c.want == http.StatusOK {
				require.NoError(t, err)
				assert.Equal(t, c.body, string(src.Data))
				return
			}
			assert.Nil(t, src)
			require.ErrorIs(t, err, ErrOriginFailed)
			assert.Equal(t, c.dialed, errors.Is(err, errAddressRefused), "refused at dial time")
			assert.Equal(t, !c.dialed, errors.Is(err, errRedirectRefused), "refused by the redirect rule")
			assert.Equal(t, outcomeNeutral, breakerOutcome(err), "not the origin's failure")
			assert.Equal(t, int64(1), originHits.Load(), "not retried")
		})
	}
}

// TestHTTPOriginRedirectRefusalsDoNotOpenBreaker: refused redirects, however
// many and on however many paths, neither open the breaker nor are retried.
func TestHTTPOriginRedirectRefusalsDoNotOpenBreaker(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		opts HTTPOriginOptions
	}{
		{"by the redirect rule", HTTPOriginOptions{}},
		{"at dial time", HTTPOriginOptions{RedirectHosts: []string{"127.0.0.1"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			secret, reached, _ := secretServer(t)
			var hits atomic.Int64
			origin := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if strings.HasPrefix(r.URL.Path, "/evil") {
					http.Redirect(w, r, secret.URL+"/secret.jpg", http.StatusFound)
					return
				}
				_, _ = io.WriteString(w, "image")
			})
			c.opts.BreakerFailures = 2
			o := newTestHTTPOrigin(t, origin.URL, &c.opts)
			const n = 10
			for i := range n {
				_, err := o.Fetch(t.Context(), FetchRequest{Path: "evil" + strconv.Itoa(i) + ".jpg"})
				require.Error(t, err)
				assert.Equal(t, http.StatusBadGateway, StatusCode(err))
				assert.NotContains(t, err.Error(), "circuit open")
			}
			assert.Equal(t, int64(n), hits.Load(), "no retries")
			assert.Zero(t, reached.Load())
			src, err := o.Fetch(t.Context(), FetchRequest{Path: "good.jpg"})
			require.NoError(t, err, "the breaker stays closed")
			assert.Equal(t, "image", string(src.Data))
		})
	}
}

// TestHTTPOriginOwnHostNotGuarded: the configured origin may itself be on
// loopback, by address or by name, in any letter case.
func TestHTTPOriginOwnHostNotGuarded(t *testing.T) {
	t.Parallel()
	srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/r.jpg" {
			http.Redirect(w, r, "/a.jpg", http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "image")
	})
	p := serverPort(t, srv)
	for _, base := range []string{srv.URL, "http://localhost:" + p, "http://LocalHost:" + p + "/"} {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			o := newTestHTTPOrigin(t, base, nil)
			for _, path := range []string{"a.jpg", "r.jpg"} {
				src, err := o.Fetch(t.Context(), FetchRequest{Path: path})
				require.NoError(t, err, path)
				assert.Equal(t, "image", string(src.Data))
			}
		})
	}
}

// TestHTTPOriginCustomTransportRedirects: with a custom Transport the
// redirect rule still applies (the dial-time check cannot).
func TestHTTPOriginCustomTransportRedirects(t *testing.T) {
	t.Parallel()
	var internal atomic.Int64
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "images.example" {
			internal.Add(1)
		}
		h := http.Header{"Location": {"http://10.0.0.1/secret.jpg"}}
		return &http.Response{StatusCode: http.StatusFound, Header: h, Body: http.NoBody, Request: r}, nil
	})
	o := newTestHTTPOrigin(t, "http://images.example", &HTTPOriginOptions{Transport: rt})
	_, err := o.Fetch(t.Context(), FetchRequest{Path: "a.jpg"})
	require.ErrorIs(t, err, errRedirectRefused)
	assert.Equal(t, http.StatusBadGateway, StatusCode(err))
	assert.Zero(t, internal.Load())
}

func TestNewHTTPOriginRedirectHosts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		hosts []string
		ok    bool
	}{
		{[]string{"images.example.com", "*.cdn.example"}, true},
		{[]string{""}, false},
		{[]string{"a/b"}, false},
		{[]string{"a:80"}, false},
		{[]string{"user@a"}, false},
		{[]string{"*.*.example"}, false},
	} {
		_, err := NewHTTPOrigin("http://127.0.0.1:1", &HTTPOriginOptions{RedirectHosts: c.hosts})
		assert.Equal(t, c.ok, err == nil, "%q: %v", c.hosts, err)
	}
	_, err := NewURLOrigin(URLOriginOptions{AllowAnyHost: true, HTTP: HTTPOriginOptions{RedirectHosts: []string{"a"}}})
	assert.Error(t, err, "URLOrigin's redirects follow AllowedHosts")
	_, err = NewURLOrigin(URLOriginOptions{AllowAnyHost: true,
		HTTP: HTTPOriginOptions{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}})
	assert.Error(t, err, "URLOrigin's networks are URLOriginOptions.AllowedNetworks")
}

func TestHostMatches(t *testing.T) {
	t.Parallel()
	patterns := []string{"Images.Example.com", "*.cdn.example"}
	for host, want := range map[string]bool{
		"images.example.com": true, "IMAGES.EXAMPLE.COM": true, "a.cdn.example": true, "a.b.cdn.example": true,
		"cdn.example": false, "xcdn.example": false, "images.example.com.evil": false, "evil.example.com": false, "": false,
	} {
		assert.Equal(t, want, hostMatches(host, patterns), host)
	}
}

// TestURLOriginRedirectRefusals: URLOrigin's refused redirects are the
// client's doing (403), reach nothing, are not retried and leave the host's
// breaker closed.
func TestURLOriginRedirectRefusals(t *testing.T) {
	t.Parallel()
	secret, reached, _ := secretServer(t)
	cases := []struct {
		name     string
		location string
		anyHost  bool
	}{
		{"host not allowed", "http://localhost:" + serverPort(t, secret) + "/secret.jpg", false},
		{"address not allowed", "http://[::1]:" + serverPort(t, secret) + "/secret.jpg", true},
		{"scheme not allowed", "gopher://127.0.0.1:" + serverPort(t, secret) + "/_GET", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int64
			srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if strings.HasPrefix(r.URL.Path, "/evil") {
					http.Redirect(w, r, c.location, http.StatusFound)
					return
				}
				_, _ = io.WriteString(w, "image")
			})
			host := srv.Listener.Addr().String()
			o, err := NewURLOrigin(URLOriginOptions{AllowedHosts: []string{"127.0.0.1"}, AllowAnyHost: c.anyHost, Insecure: true,
				AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
				HTTP:            HTTPOriginOptions{BreakerFailures: 2}})
			require.NoError(t, err)
			const n = 6
			for i := range n {
				_, err := o.Fetch(t.Context(), FetchRequest{Path: host + "/evil" + strconv.Itoa(i) + ".jpg"})
				require.Error(t, err)
				assert.Equal(t, http.StatusForbidden, StatusCode(err), "%v", err)
			}
			assert.Equal(t, int64(n), hits.Load(), "no retries")
			src, err := o.Fetch(t.Context(), FetchRequest{Path: host + "/good.jpg"})
			require.NoError(t, err, "the breaker stays closed")
			assert.Equal(t, "image", string(src.Data))
		})
	}
	t.Cleanup(func() { assert.Zero(t, reached.Load()) })
}
