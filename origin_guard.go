package imageopto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// This file holds what HTTPOrigin and URLOrigin share to keep a hostile
// request or a hostile origin from reaching addresses they should not: the
// host-name patterns of allow-lists, the redirect policy and the dialer that
// refuses special-purpose addresses after DNS resolution.

// errAddressRefused is returned by the guarded dialer.
var errAddressRefused = errors.New("address not allowed")

// errCircuitOpen is the failure of a fetch that the open breaker stopped:
// the origin's state, not one path's answer, so the handler does not keep
// it for the path.
var errCircuitOpen = errors.New("circuit open")

// errRedirectRefused is a redirect the origin client will not follow: to a
// scheme, host or user info that is not allowed. It is not retried and does
// not count against the origin's circuit breaker.
var errRedirectRefused = errors.New("redirect refused")

// errTooManyRedirects is a redirect chain over the cap. It is an answer of
// the origin for one path: not retried, and counted by the breaker like an
// HTTP error answer.
var errTooManyRedirects = errors.New("too many redirects")

// checkHostPattern refuses host patterns that are neither a host name nor
// "*." followed by one.
func checkHostPattern(h string) error {
	if h == "" || strings.ContainsAny(h, "/@:") || strings.Contains(strings.TrimPrefix(h, "*."), "*") {
		return fmt.Errorf("bad host %q", h)
	}
	return nil
}

// hostMatches reports whether host (a host name or address without port)
// matches one of patterns: exact names, or "*.example.com", which matches
// subdomains of example.com only. Names compare case-insensitively.
func hostMatches(host string, patterns []string) bool {
	host = strings.ToLower(host)
	for _, p := range patterns {
		p = strings.ToLower(p)
		if host == p || strings.HasPrefix(p, "*.") && strings.HasSuffix(host, p[1:]) {
			return true
		}
	}
	return false
}

// dialAddress is the "host:port" the transport dials for u, in lower case:
// the port defaults by scheme, so "http://a" and "http://a:80" are one.
func dialAddress(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

// redirectRule decides whether a redirect to target may be followed; first
// is the URL of the chain's first request. A refusal wraps
// errRedirectRefused or ErrForbidden.
type redirectRule func(target, first *url.URL) error

// checkRedirect returns an http.Client CheckRedirect that caps the chain at
// maxRedirects (< 0: none), follows http and https only, never from an
// https hop down to http, never to URLs with user info, asks allow about every hop,
// and keeps header (configured credentials) from hosts other than the first.
func checkRedirect(maxRedirects int, header http.Header, allow redirectRule) func(*http.Request, []*http.Request) error {
	maxRedirects = max(maxRedirects, 0)
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("%w: more than %d redirects", errTooManyRedirects, maxRedirects)
		}
		target, first, prev := req.URL, via[0].URL, via[len(via)-1].URL
		switch {
		case target.Scheme != "http" && target.Scheme != "https":
			return fmt.Errorf("%w: to scheme %q", errRedirectRefused, target.Scheme)
		case prev.Scheme == "https" && target.Scheme != "https":
			return fmt.Errorf("%w: from https down to %s", errRedirectRefused, target.Scheme)
		case target.User != nil:
			return fmt.Errorf("%w: user info in URL", errRedirectRefused)
		}
		if err := allow(target, first); err != nil {
			return err
		}
		if dialAddress(target) != dialAddress(first) {
			// Credentials configured for the origin stay with the origin.
			for k := range header {
				req.Header.Del(k)
			}
		}
		return nil
	}
}

// sameOriginOr is HTTPOrigin's redirect rule: a hop may go to the first
// request's scheme and host (host and port), or to a host matching one of
// hosts (any port, http or https).
func sameOriginOr(hosts []string) redirectRule {
	return func(target, first *url.URL) error {
		if target.Scheme == first.Scheme && dialAddress(target) == dialAddress(first) {
			return nil
		}
		if hostMatches(target.Hostname(), hosts) {
			return nil
		}
		return fmt.Errorf("%w: to host %q, which is neither the origin's (%s://%s) nor in RedirectHosts",
			errRedirectRefused, target.Host, first.Scheme, first.Host)
	}
}

// checkAddress refuses special-purpose addresses ("ip:port", as a dialer
// sees them after DNS resolution) unless one of allowed contains them.
func checkAddress(address string, allowed []netip.Prefix) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", errAddressRefused, address)
	}
	ip := ap.Addr().Unmap()
	for _, n := range allowed {
		if n.Contains(ip) {
			return nil
		}
	}
	if reason := specialAddress(ip); reason != "" {
		return fmt.Errorf("%w: %s is %s", errAddressRefused, ip, reason)
	}
	return nil
}

// Special-purpose ranges beyond what netip.Addr's predicates cover.
var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	ietf      = netip.MustParsePrefix("192.0.0.0/24")
	benchmark = netip.MustParsePrefix("198.18.0.0/15")
	reserved  = netip.MustParsePrefix("240.0.0.0/4")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64l    = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour = netip.MustParsePrefix("2002::/16")
	teredo    = netip.MustParsePrefix("2001::/32")
	docV6     = netip.MustParsePrefix("2001:db8::/32")
)

// specialAddress names why ip may not be dialled, or returns "".
func specialAddress(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(ip):
		return "carrier-grade NAT"
	case thisNet.Contains(ip), ietf.Contains(ip), benchmark.Contains(ip), reserved.Contains(ip), docV6.Contains(ip):
		return "reserved"
	case ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	case nat64.Contains(ip), nat64l.Contains(ip), sixToFour.Contains(ip), teredo.Contains(ip):
		return "a translated IPv4 form"
	}
	return ""
}

// guardedDialer dials origin connections. Every connection is checked by
// checkAddress after DNS resolution (in the dialer's Control hook, so each
// address tried is checked, and a name cannot resolve one way for the check
// and another for the dial), except connections to exempt: the configured
// origin's own "host:port", which the operator chose.
type guardedDialer struct {
	exempt  string // lower case; "" exempts nothing
	plain   net.Dialer
	guarded net.Dialer
}

func newGuardedDialer(connect time.Duration, resolver *net.Resolver, allowed []netip.Prefix, exempt string) *guardedDialer {
	d := &guardedDialer{
		exempt: strings.ToLower(exempt),
		plain:  net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second, Resolver: resolver},
	}
	d.guarded = d.plain
	allowed = slices.Clone(allowed)
	d.guarded.Control = func(_, address string, _ syscall.RawConn) error {
		return checkAddress(address, allowed)
	}
	return d
}

// DialContext dials addr, checking the addresses it resolves to unless addr
// is the exempt origin.
func (d *guardedDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.exempt != "" && strings.ToLower(addr) == d.exempt {
		return d.plain.DialContext(ctx, network, addr)
	}
	return d.guarded.DialContext(ctx, network, addr)
}

// newOriginTransport is the transport of HTTPOrigin and URLOrigin: dial
// through d, no proxy from the environment, no transparent gzip, bounded
// handshake, header wait and header size.
func newOriginTransport(d *guardedDialer, connect, header time.Duration, idlePerHost int) *http.Transport {
	return &http.Transport{
		Proxy:                  nil, // never a proxy from the environment
		DialContext:            d.DialContext,
		TLSHandshakeTimeout:    connect,
		ResponseHeaderTimeout:  header,
		DisableCompression:     true,
		MaxIdleConnsPerHost:    idlePerHost,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
}
