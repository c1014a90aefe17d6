package imageopto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// URLOriginOptions configure a URLOrigin. AllowedHosts (or AllowAnyHost)
// must be set; every other zero field takes the default shown.
type URLOriginOptions struct {
	// AllowedHosts are the host names originals may come from: exact names
	// ("images.example.com") or a leading wildcard ("*.example.com", which
	// matches subdomains only). Names are compared case-insensitively.
	AllowedHosts []string
	// AllowAnyHost fetches from any host (the address checks still apply).
	AllowAnyHost bool
	// Insecure fetches over plain http instead of https (for private
	// networks and tests). Default: https only, redirects included.
	Insecure bool
	// AllowedNetworks are address ranges allowed even though they are
	// loopback, private, link-local or otherwise special (for example a
	// private network of origin servers). Default: none.
	AllowedNetworks []netip.Prefix
	// Resolver looks up origin host names. Default: net.DefaultResolver.
	// The address checks apply to every address it returns, so it cannot
	// widen what may be dialled; it exists to pick a DNS server (set
	// PreferGo and Dial) and to let tests fail lookups without any DNS
	// traffic. A failed lookup is an origin failure (502, or the stale copy).
	Resolver *net.Resolver
	// HTTP holds the client settings shared with HTTPOrigin (timeouts,
	// redirects, byte cap, headers). Its Transport must be nil: the
	// address checks live in the transport's dialer.
	HTTP HTTPOriginOptions
}

// URLOrigin fetches originals from arbitrary hosts named in the request path:
// the path "images.example.com/photos/cat.jpg" fetches
// https://images.example.com/photos/cat.jpg. It is for deployments that
// proxy images from many sites, and it guards against server-side request
// forgery: hosts must be on an allow-list, and every connection — including
// those of redirects — is checked at dial time, after DNS resolution, so
// that loopback, private (RFC 1918, fc00::/7), link-local (including cloud
// metadata addresses), CGNAT (100.64.0.0/10), multicast, unspecified,
// reserved and IPv4-mapped or -translated forms of those are refused unless
// explicitly allowed. Proxies from the environment are never used.
type URLOrigin struct {
	opts  URLOriginOptions
	inner *HTTPOrigin

	mu       sync.Mutex
	breakers map[string]*breaker // per host
}

// maxBreakers bounds the per-host breaker table; it is cleared when full.
const maxBreakers = 4096

func (o *URLOrigin) breakerFor(host string) *breaker {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.breakers[host]
	if !ok {
		if o.breakers == nil || len(o.breakers) >= maxBreakers {
			o.breakers = map[string]*breaker{}
		}
		b = newBreaker(o.inner.breakerCfg)
		o.breakers[host] = b
	}
	return b
}

// errAddressRefused is returned by the guarded dialer.
var errAddressRefused = errors.New("address not allowed")

// NewURLOrigin returns a URLOrigin.
func NewURLOrigin(opts URLOriginOptions) (*URLOrigin, error) {
	if len(opts.AllowedHosts) == 0 && !opts.AllowAnyHost {
		return nil, errors.New("imageopto: NewURLOrigin: set AllowedHosts (or AllowAnyHost)")
	}
	if opts.HTTP.Transport != nil {
		return nil, errors.New("imageopto: NewURLOrigin: HTTP.Transport must be nil")
	}
	for _, h := range opts.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/@:") || strings.Contains(strings.TrimPrefix(h, "*."), "*") {
			return nil, fmt.Errorf("imageopto: NewURLOrigin: bad allowed host %q", h)
		}
	}
	o := &URLOrigin{opts: opts}
	h := opts.HTTP
	connect := durOr(h.ConnectTimeout, 2*time.Second)
	dialer := &net.Dialer{
		Timeout:   connect,
		KeepAlive: 30 * time.Second,
		Resolver:  opts.Resolver, // nil: net.DefaultResolver
		Control: func(_, address string, _ syscall.RawConn) error {
			return o.checkAddress(address)
		},
	}
	h.Transport = &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    connect,
		ResponseHeaderTimeout:  durOr(h.HeaderTimeout, 5*time.Second),
		DisableCompression:     true,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	// The base URL is a placeholder: Fetch builds each request's URL.
	inner, err := NewHTTPOrigin("https://placeholder.invalid", &h)
	if err != nil {
		return nil, err
	}
	redirect := inner.client.CheckRedirect
	inner.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := redirect(req, via); err != nil {
			return err
		}
		if err := o.checkURL(req.URL); err != nil {
			return err
		}
		return nil
	}
	o.inner = inner
	return o, nil
}

// checkURL refuses URLs whose scheme or host is not allowed.
func (o *URLOrigin) checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https", u.Scheme == "http" && o.opts.Insecure:
	default:
		return fmt.Errorf("%w: scheme %q not allowed", ErrForbidden, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: user info in URL", ErrForbidden)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return fmt.Errorf("%w: no host", ErrBadPath)
	}
	if o.opts.AllowAnyHost {
		return nil
	}
	for _, a := range o.opts.AllowedHosts {
		a = strings.ToLower(a)
		if host == a || strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]) {
			return nil
		}
	}
	return fmt.Errorf("%w: host %q is not allowed", ErrForbidden, host)
}

// checkAddress refuses special-purpose addresses at dial time.
func (o *URLOrigin) checkAddress(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", errAddressRefused, address)
	}
	ip := ap.Addr().Unmap()
	for _, n := range o.opts.AllowedNetworks {
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

// Fetch gets the original named by req.Path, "HOST/PATH" (HOST may carry
// a port).
func (o *URLOrigin) Fetch(ctx context.Context, req FetchRequest) (*Source, error) {
	p, err := CleanPath(req.Path)
	if err != nil {
		return nil, err
	}
	host, rest, ok := strings.Cut(p, "/")
	if !ok || rest == "" {
		return nil, fmt.Errorf("%w: want HOST/PATH", ErrBadPath)
	}
	scheme := "https"
	if o.opts.Insecure {
		scheme = "http"
	}
	u, err := url.Parse(scheme + "://" + host + "/")
	if err != nil || u.Host != host || u.Path != "/" {
		return nil, fmt.Errorf("%w: bad host %q", ErrBadPath, host)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: bad port %q", ErrBadPath, port)
		}
	}
	if err := o.checkURL(u); err != nil {
		return nil, err
	}
	base := *o.inner
	base.base = u
	base.base.Path = ""
	base.breaker = o.breakerFor(strings.ToLower(u.Host))
	src, err := base.Fetch(ctx, FetchRequest{Path: rest, RawQuery: req.RawQuery,
		IfNoneMatch: req.IfNoneMatch, IfModifiedSince: req.IfModifiedSince})
	if err != nil && errors.Is(err, errAddressRefused) {
		return nil, fmt.Errorf("%w: %v", ErrForbidden, err)
	}
	return src, err
}
