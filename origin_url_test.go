package imageopto

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingServer counts the requests that reach it.
func countingServer(t *testing.T, body []byte) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path == "/redirect-loopback" {
			http.Redirect(w, r, "http://127.0.0.2:1/x.png", http.StatusFound)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestURLOriginSSRF pins reliability §5.2 #27: special addresses are refused
// at dial time, whatever name or form leads to them, and no byte reaches
// the target.
func TestURLOriginSSRF(t *testing.T) {
	t.Parallel()
	srv, hits := countingServer(t, samplePNG(t))
	host := srv.Listener.Addr().String() // 127.0.0.1:PORT
	u, _ := url.Parse(srv.URL)

	guarded, err := NewURLOrigin(URLOriginOptions{AllowAnyHost: true, Insecure: true})
	require.NoError(t, err)
	for _, path := range []string{
		host + "/a.png",                         // loopback by address
		"localhost:" + u.Port() + "/a.png",      // loopback by name
		"[::ffff:127.0.0.1]:" + u.Port() + "/a", // IPv4-mapped IPv6
		"[::1]:" + u.Port() + "/a.png",          // IPv6 loopback
		"169.254.169.254/latest/meta-data",      // cloud metadata
		"10.0.0.1/a.png", "192.168.1.1/a.png", "172.16.0.1/a.png", "100.64.0.1/a.png", "0.0.0.0/a.png",
	} {
		_, err := guarded.Fetch(context.Background(), FetchRequest{Path: path})
		require.Error(t, err, path)
		assert.Equal(t, http.StatusForbidden, StatusCode(err), "%s: %v", path, err)
	}
	assert.Zero(t, hits.Load(), "no request reached the loopback server")

	// Allowed explicitly: served, and a redirect to another special address is still refused.
	open, err := NewURLOrigin(URLOriginOptions{AllowedHosts: []string{"127.0.0.1"}, Insecure: true,
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	require.NoError(t, err)
	src, err := open.Fetch(context.Background(), FetchRequest{Path: host + "/a.png"})
	require.NoError(t, err)
	assert.NotEmpty(t, src.Data)
	_, err = open.Fetch(context.Background(), FetchRequest{Path: host + "/redirect-loopback"})
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, StatusCode(err), "%v", err)
}

// TestURLOriginHosts checks host rules; every case fails before any DNS
// lookup or connection.
func TestURLOriginHosts(t *testing.T) {
	t.Parallel()
	o, err := NewURLOrigin(URLOriginOptions{AllowedHosts: []string{"images.example.com", "*.cdn.example"}})
	require.NoError(t, err)
	for path, want := range map[string]int{
		"evil.example/a.png":                    403,
		"images.example.com.evil.example/a.png": 403,
		"cdn.example/a.png":                     403, // the wildcard matches subdomains only
		"user@images.example.com/a.png":         400,
		"images.example.com":                    400,
		"images.example.com:99999/a.png":        400,
		"images.example.com/../../etc/passwd":   400,
		"gopher:/images.example.com/a.png":      403,
	} {
		_, err := o.Fetch(context.Background(), FetchRequest{Path: path})
		require.Error(t, err, path)
		assert.Equal(t, want, StatusCode(err), "%s: %v", path, err)
	}
	for _, bad := range []URLOriginOptions{{}, {AllowedHosts: []string{"a/b"}}, {AllowedHosts: []string{"*.*.x"}}, {AllowAnyHost: true, HTTP: HTTPOriginOptions{Transport: http.DefaultTransport}}} {
		_, err := NewURLOrigin(bad)
		assert.Error(t, err, "%+v", bad)
	}
}

func TestSpecialAddress(t *testing.T) {
	t.Parallel()
	for addr, special := range map[string]bool{
		"8.8.8.8": false, "2606:4700::1111": false, "93.184.216.34": false,
		"127.0.0.1": true, "127.9.9.9": true, "::1": true, "10.1.2.3": true, "172.31.255.255": true,
		"192.168.0.1": true, "169.254.169.254": true, "fe80::1": true, "fc00::1": true, "fd12::1": true,
		"100.64.0.1": true, "100.127.255.255": true, "224.0.0.1": true, "ff02::1": true, "0.0.0.0": true,
		"::": true, "255.255.255.255": true, "240.0.0.1": true, "64:ff9b::7f00:1": true, "2002:7f00:1::": true,
		"198.18.0.1": true, "192.0.0.8": true,
	} {
		got := specialAddress(netip.MustParseAddr(addr).Unmap()) != ""
		assert.Equal(t, special, got, addr)
	}
}

// TestURLOriginResolver: a custom resolver cannot widen what may be dialled
// (the address checks apply to what it returns), and its failures are
// origin failures (502), not refusals.
func TestURLOriginResolver(t *testing.T) {
	t.Parallel()
	srv, hits := countingServer(t, samplePNG(t))
	u, _ := url.Parse(srv.URL)
	var queries atomic.Int64
	resolver := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		queries.Add(1)
		return nil, errors.New("no DNS in tests")
	}}
	o, err := NewURLOrigin(URLOriginOptions{AllowAnyHost: true, Insecure: true, Resolver: resolver})
	require.NoError(t, err)
	// "localhost" resolves from the hosts file, without a query: refused.
	_, err = o.Fetch(t.Context(), FetchRequest{Path: "localhost:" + u.Port() + "/a.png"})
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, StatusCode(err), "%v", err)
	assert.Zero(t, hits.Load())
	// Any other name needs a query, which fails: 502.
	_, err = o.Fetch(t.Context(), FetchRequest{Path: "images.example.com/a.png"})
	require.Error(t, err)
	assert.Equal(t, http.StatusBadGateway, StatusCode(err), "%v", err)
	assert.Positive(t, queries.Load())
}
