package imageopto

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// FetchRequest is what the handler asks of an Origin: the path of the
// original image and, when revalidating, the validators of the copy it holds.
type FetchRequest struct {
	// Path is the origin path: slash-separated, relative (no leading
	// slash), with no "." or ".." elements, no backslashes, no NUL bytes and
	// valid UTF-8 (see CleanPath).
	Path string
	// RawQuery holds the query parameters that are not Fastly IO parameters,
	// when the handler is configured to pass them on; empty otherwise.
	RawQuery string
	// IfNoneMatch and IfModifiedSince, when set, ask the origin to answer
	// NotModified if the original has not changed.
	IfNoneMatch     string
	IfModifiedSince time.Time
}

// Source is an original image as fetched from an Origin.
type Source struct {
	// Data is the original's bytes (nil when NotModified).
	Data []byte
	// ETag and LastModified are the origin's validators, when it has them.
	ETag         string
	LastModified time.Time
	// Expires is when the origin says the original goes stale (from
	// Cache-Control max-age or Expires); zero when it said nothing.
	Expires time.Time
	// NoStore is true when the origin forbids caching (Cache-Control:
	// no-store or private).
	NoStore bool
	// NotModified is true when a conditional request found the original
	// unchanged; Data is then nil and the other fields are refreshed.
	NotModified bool
}

// Origin fetches original images. Implementations must be safe for
// concurrent use and must honour ctx. A missing image is ErrNotFound (or
// ErrGone); an origin that fails is ErrOriginFailed; a timeout wraps
// context.DeadlineExceeded.
type Origin interface {
	Fetch(ctx context.Context, req FetchRequest) (*Source, error)
}

// OriginFunc adapts a function to an Origin.
type OriginFunc func(ctx context.Context, req FetchRequest) (*Source, error)

// Fetch calls f.
func (f OriginFunc) Fetch(ctx context.Context, req FetchRequest) (*Source, error) {
	return f(ctx, req)
}

// Origin errors.
var (
	// ErrGone means the origin says the image is gone for good (410).
	ErrGone = errors.New("imageopto: gone")
	// ErrOriginFailed means the origin could not be reached or answered
	// with an error (502).
	ErrOriginFailed = errors.New("imageopto: origin failed")
	// ErrBadPath means the request path cannot name an original (400).
	ErrBadPath = errors.New("imageopto: bad path")
)

// CleanPath turns a request path into an origin path: the leading slashes
// are removed, and paths with "." or ".." elements, empty elements,
// backslashes, NUL or other control bytes, or invalid UTF-8 are refused with
// ErrBadPath. It never rewrites a bad path into a good one.
func CleanPath(p string) (string, error) {
	p = strings.TrimLeft(p, "/")
	bad := func(reason string) (string, error) {
		return "", fmt.Errorf("%w: %s", ErrBadPath, reason)
	}
	switch {
	case p == "":
		return bad("empty path")
	case !utf8.ValidString(p):
		return bad("invalid UTF-8")
	case strings.ContainsRune(p, '\\'):
		return bad("backslash in path")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return bad("control character in path")
		}
	}
	if !fs.ValidPath(p) || p == "." { // fs.ValidPath accepts "." (the root)
		return bad("path has empty, . or .. elements")
	}
	return p, nil
}

// contentETag is a strong validator made from the bytes themselves.
func contentETag(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// NotModified reports whether an original with this ETag and modification
// time satisfies the conditional request, so that an Origin may answer
// Source{NotModified: true} without the bytes. If-None-Match wins over
// If-Modified-Since, as in RFC 9110.
func (req FetchRequest) NotModified(etag string, lastModified time.Time) bool {
	if req.IfNoneMatch != "" {
		return etag != "" && req.IfNoneMatch == etag
	}
	if !req.IfModifiedSince.IsZero() && !lastModified.IsZero() {
		return !lastModified.Truncate(time.Second).After(req.IfModifiedSince)
	}
	return false
}

// isNotFound reports whether a file-system error means that no file exists
// under the path: besides ENOENT, a path through a regular file ("a.jpg/x",
// ENOTDIR) or with an over-long element (ENAMETOOLONG), both of which a
// client can ask for and neither of which is a failing origin.
func isNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG)
}

// readCapped reads at most limit bytes from r, or fails with
// ErrSourceTooLarge. size, when positive, is the size the source declared
// (a file's, a Content-Length): the buffer is made that size at once, so a
// large original is not copied through doubling buffers (which would cost
// about three times its size at the peak).
func readCapped(r io.Reader, limit, size int64) ([]byte, error) {
	if size <= 0 || size > limit {
		size = 512
	}
	r = io.LimitReader(r, limit+1)
	buf := make([]byte, 0, size+1) // +1: room to read EOF without growing
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow as append does
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("%w: original over %d bytes", ErrSourceTooLarge, limit)
	}
	return buf, nil
}

// DirOrigin serves originals from a directory. It is confined with os.Root:
// paths cannot leave the directory, not through "..", absolute paths or
// symbolic links that point outside it.
type DirOrigin struct {
	root     *os.Root
	maxBytes int64
}

// NewDirOrigin opens dir as an origin. Originals larger than maxBytes are
// refused with ErrSourceTooLarge (0: 50 MiB). Close releases the directory.
func NewDirOrigin(dir string, maxBytes int64) (*DirOrigin, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("imageopto: directory origin: %w", err)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultLimits().MaxSourceBytes
	}
	return &DirOrigin{root: root, maxBytes: maxBytes}, nil
}

// Close releases the directory.
func (o *DirOrigin) Close() error { return o.root.Close() }

// Fetch reads the file at req.Path. Its validators are its modification
// time and an ETag made from its size and modification time. A file whose
// size is over the cap is refused with ErrSourceTooLarge before any byte is
// read.
func (o *DirOrigin) Fetch(ctx context.Context, req FetchRequest) (*Source, error) {
	p, err := CleanPath(req.Path)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Stat before opening: opening a FIFO blocks (forever, ignoring ctx)
	// and opening a device may have side effects.
	st, err := o.root.Stat(p)
	if err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a file", ErrNotFound, p)
	}
	var f *os.File
	if err == nil {
		f, err = o.root.Open(p)
	}
	if err != nil {
		// os.Root refuses paths that leave the root (through "..", absolute
		// or symbolic links) with an error that carries no errno; those are
		// the client's doing, like a missing file. Errors with an errno
		// other than the not-found family are the origin's trouble.
		var errno syscall.Errno
		if isNotFound(err) || errors.Is(err, fs.ErrPermission) || !errors.As(err, &errno) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, p)
		}
		return nil, fmt.Errorf("%w: %v", ErrOriginFailed, err)
	}
	defer f.Close()
	st, err = f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOriginFailed, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a file", ErrNotFound, p)
	}
	if st.Size() > o.maxBytes {
		// Refused before reading a byte; readCapped below still guards
		// against a file that grows.
		return nil, fmt.Errorf("%w: original of %d bytes, limit %d", ErrSourceTooLarge, st.Size(), o.maxBytes)
	}
	mod := st.ModTime().UTC()
	src := &Source{
		ETag:         fmt.Sprintf(`"%x-%x"`, st.Size(), mod.UnixNano()),
		LastModified: mod,
	}
	if req.NotModified(src.ETag, mod) {
		src.NotModified = true
		return src, nil
	}
	if src.Data, err = readCapped(f, o.maxBytes, st.Size()); err != nil {
		if errors.Is(err, ErrSourceTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrOriginFailed, err)
	}
	return src, nil
}

// FSOrigin serves originals from an fs.FS, such as an embed.FS. Its ETags
// are made from the files' contents.
type FSOrigin struct {
	fsys     fs.FS
	maxBytes int64
}

// NewFSOrigin returns an origin reading from fsys. Originals larger than
// maxBytes are refused with ErrSourceTooLarge (0: 50 MiB).
func NewFSOrigin(fsys fs.FS, maxBytes int64) *FSOrigin {
	if maxBytes <= 0 {
		maxBytes = DefaultLimits().MaxSourceBytes
	}
	return &FSOrigin{fsys: fsys, maxBytes: maxBytes}
}

// Fetch reads the file at req.Path. A file whose size, as Stat reports it,
// is over the cap is refused with ErrSourceTooLarge before any byte is read.
func (o *FSOrigin) Fetch(ctx context.Context, req FetchRequest) (*Source, error) {
	p, err := CleanPath(req.Path)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := o.fsys.Open(p)
	if err != nil {
		if isNotFound(err) || errors.Is(err, fs.ErrInvalid) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, p)
		}
		return nil, fmt.Errorf("%w: %v", ErrOriginFailed, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOriginFailed, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a file", ErrNotFound, p)
	}
	if st.Size() > o.maxBytes {
		// A file system that knows the size is believed before reading;
		// one that reports 0 or too little is still capped by readCapped.
		return nil, fmt.Errorf("%w: original of %d bytes, limit %d", ErrSourceTooLarge, st.Size(), o.maxBytes)
	}
	data, err := readCapped(f, o.maxBytes, st.Size())
	if err != nil {
		if errors.Is(err, ErrSourceTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrOriginFailed, err)
	}
	src := &Source{ETag: contentETag(data), LastModified: st.ModTime().UTC()}
	if src.LastModified.IsZero() || src.LastModified.Unix() <= 0 {
		src.LastModified = time.Time{}
	}
	if req.NotModified(src.ETag, src.LastModified) {
		src.NotModified = true
		return src, nil
	}
	src.Data = data
	return src, nil
}

// HTTPOriginOptions configure an HTTPOrigin. A nil pointer or a zero field
// takes the default shown.
type HTTPOriginOptions struct {
	ConnectTimeout time.Duration // TCP connect and TLS handshake, each: 2 s
	HeaderTimeout  time.Duration // from request written to response headers: 5 s
	Timeout        time.Duration // whole fetch including the body: 10 s
	MaxRedirects   int           // redirects followed (see RedirectHosts): 3; -1 follows none
	MaxBytes       int64         // largest original: 50 MiB
	// RedirectHosts are the hosts besides the origin's own that redirects
	// may lead to: exact names ("images.example.com") or a leading wildcard
	// ("*.example.com", subdomains only), compared case-insensitively, on
	// any port, over http or https. By default a redirect is followed only
	// to the origin's own scheme and host (host and port). Every hop is
	// checked; none goes to another scheme than http and https, from an
	// https hop down to http, or to a URL with user info. A refused redirect
	// fails the fetch with ErrOriginFailed (502: the client did nothing
	// wrong); it is neither retried nor counted by the circuit breaker.
	RedirectHosts []string
	// AllowedNetworks are address ranges that redirect targets may reach
	// even though they are loopback, private, link-local, CGNAT or otherwise
	// special. Connections to any host but the origin's own are checked at
	// dial time, after DNS resolution, and such addresses are refused
	// (ErrOriginFailed, 502) unless listed here; the origin's own host is
	// never checked, so an origin on localhost or a private network works.
	// Default: none.
	AllowedNetworks []netip.Prefix
	// Header is sent with every origin request (for example credentials for
	// a private origin). Client request headers are never forwarded.
	Header http.Header
	// UserAgent is sent as User-Agent: "imageopto".
	UserAgent string
	// Transport replaces the built-in transport (for tests or custom
	// dialers). Timeout, MaxRedirects and the redirect rules of
	// RedirectHosts still apply, since they live in the client; the other
	// timeouts and the dial-time address checks (AllowedNetworks) live in
	// the built-in transport's dialer and cannot, so a custom Transport that
	// may follow a redirect to other hosts must guard its own dials.
	Transport http.RoundTripper
	// MaxRetries is how often a failed fetch is retried: connection
	// errors and 429/502/503/504 answers, after a jittered pause (or the
	// answer's Retry-After, up to a second), within Timeout and within a
	// retry budget of about 10 % of recent fetches. Default 1; -1: none.
	MaxRetries int
	// BreakerFailures consecutive failures open the origin's circuit
	// breaker: fetches then fail at once (502) for BreakerOpen, after which
	// one probe decides. Connection failures and timeouts (refused, reset,
	// DNS failure, header or total timeout) count one each. HTTP error
	// answers (5xx, 429, other unexpected statuses, a refused encoding, a
	// redirect loop) count once per distinct path, so that requests for one
	// failing original, however many, cannot open the breaker for every
	// other: they count only when spread over BreakerFailures paths. Any
	// success resets the count; 404 and 410 are successes; refused
	// redirects and canceled fetches do not count. Default 5; -1 disables
	// the breaker.
	BreakerFailures int
	// BreakerOpen is how long an open breaker fails fetches before a probe
	// may try the origin again. Default 10 s.
	BreakerOpen time.Duration
}

// HTTPOrigin fetches originals over HTTP(S) below a fixed base URL, with its
// own client: bounded connect, header and total times, no proxy from the
// environment, redirects only to the origin's own host (or
// HTTPOriginOptions.RedirectHosts) and never to special-purpose addresses
// other than the origin's own, a redirect cap, no transparent gzip (a
// compressed body is refused, so a byte cap cannot be bypassed), a byte cap,
// conditional revalidation with If-None-Match / If-Modified-Since, a retry
// budget and a circuit breaker that one failing path cannot open.
type HTTPOrigin struct {
	base       *url.URL
	client     *http.Client
	timeout    time.Duration
	maxBytes   int64
	header     http.Header
	ua         string
	maxRetries int
	budget     *retryBudget
	breaker    *breaker
	breakerCfg breakerConfig
}

// NewHTTPOrigin returns an origin that fetches base + "/" + path. base must
// be an absolute http or https URL without query or fragment.
func NewHTTPOrigin(base string, opts *HTTPOriginOptions) (*HTTPOrigin, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("imageopto: origin URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("imageopto: origin URL %q: want http(s)://host[/path] without user, query or fragment", base)
	}
	var o HTTPOriginOptions
	if opts != nil {
		o = *opts
	}
	for _, h := range o.RedirectHosts {
		if err := checkHostPattern(h); err != nil {
			return nil, fmt.Errorf("imageopto: NewHTTPOrigin: RedirectHosts: %w", err)
		}
	}
	rt := o.Transport
	if rt == nil {
		connect := durOr(o.ConnectTimeout, 2*time.Second)
		// The origin's own host is the operator's choice and is not
		// checked; every other host (a redirect target) is.
		d := newGuardedDialer(connect, nil, o.AllowedNetworks, dialAddress(u))
		rt = newOriginTransport(d, connect, durOr(o.HeaderTimeout, 5*time.Second), 16)
	}
	return newHTTPOrigin(u, o, rt, sameOriginOr(slices.Clone(o.RedirectHosts))), nil
}

// newHTTPOrigin builds an HTTPOrigin for base u on transport rt, following
// the redirects that allow accepts, with o's defaults filled in.
func newHTTPOrigin(u *url.URL, o HTTPOriginOptions, rt http.RoundTripper, allow redirectRule) *HTTPOrigin {
	o.Timeout = durOr(o.Timeout, 10*time.Second)
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 3
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultLimits().MaxSourceBytes
	}
	if o.UserAgent == "" {
		o.UserAgent = "imageopto"
	}
	header := o.Header.Clone()
	client := &http.Client{Transport: rt, CheckRedirect: checkRedirect(o.MaxRedirects, header, allow)}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if o.MaxRetries == 0 {
		o.MaxRetries = 1
	}
	cfg := breakerConfig{failures: o.BreakerFailures, open: durOr(o.BreakerOpen, 10*time.Second)}
	if cfg.failures == 0 {
		cfg.failures = 5
	}
	return &HTTPOrigin{base: u, client: client, timeout: o.Timeout, maxBytes: o.MaxBytes,
		header: header, ua: o.UserAgent, maxRetries: max(o.MaxRetries, 0),
		budget: &retryBudget{tokens: 1}, breaker: newBreaker(cfg), breakerCfg: cfg}
}

func durOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Fetch gets base/req.Path with conditional headers when req has
// validators, retrying once within the retry budget and failing fast while
// the circuit breaker is open.
func (o *HTTPOrigin) Fetch(ctx context.Context, req FetchRequest) (*Source, error) {
	p, err := CleanPath(req.Path)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if !o.breaker.allow(time.Now()) {
		return nil, fmt.Errorf("%w: %w after repeated failures of %s", ErrOriginFailed, errCircuitOpen, o.base.Host)
	}
	o.budget.earn()
	for attempt := 0; ; attempt++ {
		src, retry, err := o.fetchOnce(ctx, req, p)
		o.breaker.record(time.Now(), breakerOutcome(err), p)
		if err == nil || retry < 0 || attempt >= o.maxRetries || !o.budget.spend() {
			return src, err
		}
		pause := retry
		if pause == 0 {
			pause = time.Duration(50+rand.IntN(100)) * time.Millisecond
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < pause+100*time.Millisecond {
			return nil, err // no time left for another try
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return nil, err
		}
	}
}

// fetchOnce makes one request. retry is -1 when the failure must not be
// retried, else the pause the origin asked for (0: our own).
func (o *HTTPOrigin) fetchOnce(ctx context.Context, req FetchRequest, p string) (src *Source, retry time.Duration, err error) {
	retry = -1
	u := *o.base
	u.Path = o.base.Path + "/" + p
	u.RawQuery = req.RawQuery
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, -1, fmt.Errorf("%w: %v", ErrBadPath, err)
	}
	for k, v := range o.header {
		hr.Header[k] = v
	}
	hr.Header.Set("User-Agent", o.ua)
	hr.Header.Set("Accept-Encoding", "identity")
	if req.IfNoneMatch != "" {
		hr.Header.Set("If-None-Match", req.IfNoneMatch)
	} else if !req.IfModifiedSince.IsZero() {
		hr.Header.Set("If-Modified-Since", req.IfModifiedSince.UTC().Format(http.TimeFormat))
	}
	resp, err := o.client.Do(hr)
	if err != nil {
		err = originNetError(ctx, err)
		switch {
		case errors.Is(err, errTooManyRedirects):
			return nil, -1, answerFailure{err} // a redirect loop is an answer for this path
		case !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) &&
			!errors.Is(err, errAddressRefused) && !errors.Is(err, errRedirectRefused) && !errors.Is(err, ErrForbidden):
			retry = 0 // connection refused or reset before any answer
		}
		return nil, retry, err
	}
	defer resp.Body.Close()
	now := time.Now()
	src = &Source{ETag: resp.Header.Get("ETag")}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		src.LastModified = t.UTC()
	}
	src.Expires, src.NoStore = Freshness(resp.Header, now)
	switch {
	case resp.StatusCode == http.StatusNotModified && req.IfNoneMatch == "" && req.IfModifiedSince.IsZero():
		return nil, -1, answerFailure{fmt.Errorf("%w: unconditional request answered 304", ErrOriginFailed)}
	case resp.StatusCode == http.StatusNotModified:
		if src.ETag == "" {
			src.ETag = req.IfNoneMatch
		}
		src.NotModified = true
		return src, -1, nil
	case resp.StatusCode == http.StatusNotFound:
		return nil, -1, fmt.Errorf("%w: origin answered 404", ErrNotFound)
	case resp.StatusCode == http.StatusGone:
		return nil, -1, fmt.Errorf("%w: origin answered 410", ErrGone)
	case resp.StatusCode != http.StatusOK:
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			retry = retryAfter(resp.Header.Get("Retry-After"), now)
		}
		return nil, retry, answerFailure{fmt.Errorf("%w: origin answered %d", ErrOriginFailed, resp.StatusCode)}
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, -1, answerFailure{fmt.Errorf("%w: Unsupported Content-Encoding %q", ErrOriginFailed, ce)}
	}
	if resp.ContentLength > o.maxBytes {
		return nil, -1, fmt.Errorf("%w: original of %d bytes, limit %d", ErrSourceTooLarge, resp.ContentLength, o.maxBytes)
	}
	if src.Data, err = readCapped(resp.Body, o.maxBytes, resp.ContentLength); err != nil {
		if errors.Is(err, ErrSourceTooLarge) {
			return nil, -1, err
		}
		return nil, -1, originNetError(ctx, err) // nothing partial is ever returned
	}
	return src, -1, nil
}

// originNetError classifies a transport error: timeouts wrap
// context.DeadlineExceeded (504), the rest ErrOriginFailed (502).
func originNetError(ctx context.Context, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("imageopto: origin timed out: %w (%v)", context.DeadlineExceeded, err)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrOriginFailed, err)
}

// Freshness reads the Cache-Control and Expires headers of an origin's
// answer (RFC 9111): when the original goes stale (zero when they do not
// say), and whether it may be stored at all. Origins that are not HTTP
// servers but keep the same metadata (object stores) can use it to fill
// Source.Expires and Source.NoStore.
func Freshness(h http.Header, now time.Time) (expires time.Time, noStore bool) {
	noCache := false
	// A field may be split over several header lines (RFC 9110 §5.3).
	for _, part := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch strings.ToLower(name) {
		case "no-store", "private":
			noStore = true
		case "no-cache":
			noCache = true // store, but revalidate every time, whatever max-age says
		case "s-maxage", "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
				e := now.Add(time.Duration(min(n, 1<<31)) * time.Second)
				if strings.EqualFold(name, "s-maxage") || expires.IsZero() {
					expires = e
				}
			}
		}
	}
	if noCache {
		return now, noStore
	}
	if expires.IsZero() {
		if t, err := http.ParseTime(h.Get("Expires")); err == nil {
			expires = t
		} else if h.Get("Expires") != "" {
			expires = now // an invalid Expires means already expired
		}
	}
	return expires, noStore
}

// retryAfter reads a Retry-After header (seconds or a date), capped at one
// second; 0 when absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, time.Second))
}

// retryBudget allows retries for about 10 % of fetches: every fetch earns a
// tenth of a token (up to 10 saved), every retry spends one.
type retryBudget struct {
	mu     sync.Mutex
	tokens float64
}

func (b *retryBudget) earn() {
	b.mu.Lock()
	b.tokens = min(b.tokens+0.1, 10)
	b.mu.Unlock()
}

func (b *retryBudget) spend() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

type breakerConfig struct {
	failures int // consecutive failures that open the breaker; < 0: never
	open     time.Duration
}

// breaker is a circuit breaker: closed, open until a time, then half-open
// (one probe at a time) until a success closes it. It counts consecutive
// failures: each connection failure, and each distinct path among HTTP
// error answers, so that one failing path cannot open it.
type breaker struct {
	mu        sync.Mutex
	cfg       breakerConfig
	failures  int                 // since the last success
	paths     map[uint64]struct{} // hashes of the paths among them; at most cfg.failures
	seed      maphash.Seed
	openUntil time.Time
	probing   bool
}

func newBreaker(cfg breakerConfig) *breaker { return &breaker{cfg: cfg, seed: maphash.MakeSeed()} }

// allow reports whether a request may go out now.
func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cfg.failures < 0 || b.failures < b.cfg.failures {
		return true
	}
	if now.Before(b.openUntil) || b.probing {
		return false
	}
	b.probing = true // half-open: this request is the probe
	return true
}

// outcome of a request for the breaker.
type outcome int

const (
	outcomeNeutral     outcome = iota // tells nothing about the origin (canceled, refused redirect or address)
	outcomeSuccess                    // the origin answered properly (also 404, 410)
	outcomeFailure                    // a connection failure or timeout: counts on its own
	outcomePathFailure                // an HTTP error answer: counts once per distinct path
)

// answerFailure marks an origin failure that is an HTTP answer about one
// path (a 5xx or 429, an unexpected status, a refused encoding, a redirect
// loop), as opposed to a failure to reach the origin at all. Its message
// and the errors it wraps are those of err.
type answerFailure struct{ err error }

func (e answerFailure) Error() string { return e.err.Error() }
func (e answerFailure) Unwrap() error { return e.err }

func breakerOutcome(err error) outcome {
	var answer answerFailure
	switch {
	case err == nil:
		return outcomeSuccess
	case errors.Is(err, context.Canceled), errors.Is(err, errAddressRefused),
		errors.Is(err, errRedirectRefused), errors.Is(err, ErrForbidden):
		return outcomeNeutral
	case errors.As(err, &answer):
		return outcomePathFailure
	case errors.Is(err, ErrOriginFailed), errors.Is(err, context.DeadlineExceeded):
		return outcomeFailure
	}
	return outcomeSuccess // 404, 410, too large: the origin answered properly
}

// record counts the outcome of a request for path.
func (b *breaker) record(now time.Time, o outcome, path string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch o {
	case outcomeNeutral:
		b.probing = false // the probe told nothing; the next request probes again
	case outcomeSuccess:
		b.failures, b.probing, b.paths = 0, false, nil
	case outcomeFailure, outcomePathFailure:
		b.probing = false
		if b.cfg.failures < 0 {
			return
		}
		if o == outcomeFailure || b.newPath(path) {
			b.failures++
		}
		if b.failures >= b.cfg.failures {
			b.openUntil = now.Add(b.cfg.open) // opens, or stays open after a failed probe
		}
	}
}

// newPath notes path among the failing paths and reports whether it was not
// there yet. The set needs no more than cfg.failures entries: each one
// counted a failure, so once it is full the breaker is open, and a failure
// then only keeps it open.
func (b *breaker) newPath(path string) bool {
	h := maphash.String(b.seed, path)
	if _, ok := b.paths[h]; ok {
		return false
	}
	if b.paths == nil {
		b.paths = map[uint64]struct{}{}
	}
	if len(b.paths) < b.cfg.failures {
		b.paths[h] = struct{}{}
	}
	return true
}
