package imageopto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// redirect cap, byte cap, headers, retries and the circuit breaker,
	// which is per host and follows the rule of BreakerFailures). Its
	// Transport must be nil: the address checks live in the transport's
	// dialer. Its RedirectHosts and AllowedNetworks must be empty: redirects
	// may reach the hosts of AllowedHosts, and addresses of AllowedNetworks,
	// above.
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
// explicitly allowed. Proxies from the environment are never used. Refused
// hosts, addresses and redirects are ErrForbidden (403); they are not
// retried and do not count against the host's circuit breaker.
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

// NewURLOrigin returns a URLOrigin.
func NewURLOrigin(opts URLOriginOptions) (*URLOrigin, error) {
	if len(opts.AllowedHosts) == 0 && !opts.AllowAnyHost {
		return nil, errors.New("imageopto: NewURLOrigin: set AllowedHosts (or AllowAnyHost)")
	}
	if opts.HTTP.Transport != nil {
		return nil, errors.New("imageopto: NewURLOrigin: HTTP.Transport must be nil")
	}
	if len(opts.HTTP.RedirectHosts) > 0 || len(opts.HTTP.AllowedNetworks) > 0 {
		return nil, errors.New("imageopto: NewURLOrigin: set AllowedHosts and AllowedNetworks, not HTTP.RedirectHosts or HTTP.AllowedNetworks")
	}
	for _, h := range opts.AllowedHosts {
		if err := checkHostPattern(h); err != nil {
			return nil, fmt.Errorf("imageopto: NewURLOrigin: allowed hosts: %w", err)
		}
	}
	opts.AllowedHosts = slices.Clone(opts.AllowedHosts)
	o := &URLOrigin{opts: opts}
	connect := durOr(opts.HTTP.ConnectTimeout, 2*time.Second)
	// No host is exempt from the address checks: the client names them.
	d := newGuardedDialer(connect, opts.Resolver, opts.AllowedNetworks, "")
	rt := newOriginTransport(d, connect, durOr(opts.HTTP.HeaderTimeout, 5*time.Second), 4)
	// The base URL is a placeholder: Fetch builds each request's URL.
	placeholder := &url.URL{Scheme: "https", Host: "placeholder.invalid"}
	o.inner = newHTTPOrigin(placeholder, opts.HTTP, rt, func(target, _ *url.URL) error {
		return o.checkURL(target)
	})
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
	if hostMatches(host, o.opts.AllowedHosts) {
		return nil
	}
	return fmt.Errorf("%w: host %q is not allowed", ErrForbidden, host)
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
	if err != nil && (errors.Is(err, errAddressRefused) || errors.Is(err, errRedirectRefused)) {
		// The client named the host: a refusal is theirs (403), like the
		// refusals of checkURL.
		return nil, fmt.Errorf("%w: %v", ErrForbidden, err)
	}
	return src, err
}
