package imageopto

// This file is the HTTP shell: Options, New, ServeHTTP (parse, sign check,
// hook, negotiation, cache key), and the responses — images, 304s, and
// errors with their status, body and headers. Finding or making the entry
// is the fill engine's (fill.go, tier.go); when work may start is
// admission's (admission.go).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// PipelineVersion is part of every cache key. It changes whenever the
// decoders, steps or encoders may produce different bytes for the same
// request, so that old entries are never served for new code. (2: the
// pure-Go VP8 encoder and decoder, row-by-row PNG decoding with box
// reduction, Huffman-only PNG where it is smaller, chroma decoded at the
// output's 4:2:0 spacing. 3: lossy WebP with adaptive quantisation by
// segments and a new quality scale.)
const PipelineVersion = "3"

// ErrForbidden is for request hooks that refuse a request (403).
var ErrForbidden = errors.New("imageopto: forbidden")

// Request is what a request hook sees and may change before anything is
// fetched: the origin path, the parsed parameters and the query sent to the
// origin. RawQuery and Header are the client's, for reading only.
type Request struct {
	// Path is the origin path (rewritable).
	Path string
	// Params are the parsed parameters (rewritable).
	Params Params
	// OriginQuery is the query string sent to the origin and made part of
	// the cache key (rewritable): the parameters that are not Fastly IO
	// parameters when Options.PassQuery is set, else "".
	OriginQuery string
	// RawQuery is the client's query string as received.
	RawQuery string
	// Header is a copy of the client's request headers.
	Header http.Header
	// Overlay is the overlay composited over this response (rewritable):
	// nil for none, or the overlay header's when Options.TrustOverlayHeader
	// is set and the request has one. A hook sets it to watermark
	// responses (ParseOverlay reads Fastly's overlay grammar); the handler
	// checks it like the header's. Its image is fetched from the origin
	// through the source cache.
	Overlay *Overlay
}

// Options configure a Handler. A nil *Options means every default below.
type Options struct {
	// Transform configures the engine: limits, upscaling, default filter and
	// quality, custom steps. Default: the zero TransformOptions.
	Transform TransformOptions
	// Cache stores transformed images. Default: a MemoryCache of 256 MiB.
	Cache Cache
	// SourceCache stores originals, so that N sizes of one image cost one
	// origin fetch. Default: a MemoryCache of 256 MiB (which holds originals
	// up to 64 MiB, above the default 50 MiB source limit).
	SourceCache Cache
	// DisableCache turns both caches off (request collapsing stays on).
	DisableCache bool
	// DefaultTTL is how long an original and its derivatives stay fresh when
	// the origin sends no Cache-Control or Expires. Default: 1 hour.
	DefaultTTL time.Duration
	// MinTTL and MaxTTL bound the freshness the origin asks for. Defaults:
	// 10 seconds and 30 days.
	MinTTL, MaxTTL time.Duration
	// StaleTTL is how long a stale entry is kept for revalidation, and served
	// when the origin fails while revalidating. Default: 24 hours.
	StaleTTL time.Duration
	// StaleWhileRevalidate is how long after an entry goes stale it is
	// still served at once while a background request revalidates it
	// (RFC 5861). Default: 60 seconds.
	StaleWhileRevalidate time.Duration
	// NotFoundTTL is how long an origin 404/410 is remembered.
	// Default: 30 seconds.
	NotFoundTTL time.Duration
	// MaxConcurrent is how many transformations run at once (CPU slots).
	// Default: runtime.GOMAXPROCS(0). A transformation that starts while
	// slots are idle and no request waits may borrow one more for a
	// second goroutine (see TransformOptions.Threads).
	MaxConcurrent int
	// MemoryBudget bounds the memory that transformations in progress and
	// origin fetches may use together: a transformation's as estimated from
	// its source's header and plan (EstimateMemory) before any pixel is
	// decoded, a fetch's as the largest original it may bring
	// (Limits.MaxSourceBytes). Work waits until its share fits. Default:
	// min(1 GiB, a quarter of the runtime's memory limit).
	MemoryBudget int64
	// MaxJobMemory is the most one transformation may take of the budget:
	// a job whose estimate is over it is refused with 422 (ErrJobTooLarge)
	// before any work, never run alone. Jobs over a quarter of it are
	// "heavy": at most half the transformation slots (at least one) run
	// heavy jobs, so cheap requests are still served while expensive ones
	// run. Default: half of MemoryBudget; at most MemoryBudget.
	MaxJobMemory int64
	// MaxFetches is how many origin fetches may run at once; more wait
	// like transformations (QueueTimeout, MaxQueue). Each reserves
	// Limits.MaxSourceBytes of the memory budget while it reads. Default:
	// 4 × MaxConcurrent.
	MaxFetches int
	// FailureTTL is how long an origin's failure for one path (an error
	// answer, a timeout) is remembered when no stale copy can be served, so
	// that a flood of requests for a failing path reaches the origin once
	// per FailureTTL. Originals refused for their size or for being empty
	// are remembered for NotFoundTTL. Default: 5 seconds.
	FailureTTL time.Duration
	// MaxQueue is how many transformations may wait for a slot; more are
	// refused at once with 503. Default: 64.
	MaxQueue int
	// QueueTimeout is how long a transformation waits for a slot before the
	// request gets 503 with Retry-After. Default: 2 seconds.
	QueueTimeout time.Duration
	// FlightTimeout bounds one shared fetch-and-transform, which runs
	// detached from any single client. Default: 30 seconds.
	FlightTimeout time.Duration
	// MaxQueryBytes refuses longer query strings with 414. Default: 4096.
	MaxQueryBytes int
	// Lenient drops bad parameters instead of answering 400, and lists them
	// in the warning header. Default: false (strict).
	Lenient bool
	// PassQuery passes query parameters that are not Fastly IO parameters
	// on to the origin (Fastly's qp=*). They then become part of the
	// cache key. Default: false (the origin request has no query).
	PassQuery bool
	// HeaderPrefix names the info, error and warning headers:
	// PREFIX-Info, PREFIX-Error, PREFIX-Warning. Default: "Imageopto";
	// "Fastly-IO" gives drop-in compatibility.
	HeaderPrefix string
	// Signer, when set, makes the handler serve only signed URLs (see
	// Signer): a missing, wrong or expired signature gets 403. The check
	// runs before the hook. A signature fixes the query, not the client
	// hints: with ClientHints also set (both are explicit choices; neither
	// is on by default), a signed URL that names no width, height or dpr
	// lets the browser's hints choose among their bounded variants (about
	// 300); sign a width (or dpr=1) to fix the output. Default: nil
	// (unsigned URLs are served).
	Signer *Signer
	// Hook, when set, runs after parsing and before anything is fetched. It
	// may rewrite r.Path and r.Params, or refuse the request by returning an
	// error (StatusCode of the error is the response status; ErrForbidden
	// gives 403).
	Hook func(ctx context.Context, r *Request) error
	// Logger receives errors and warnings. Default: slog.Default().
	Logger *slog.Logger
	// Tier, when set, shares originals and results with other machines
	// (see Tier and package cluster): each key is fetched and transformed
	// by its owner, once cluster-wide. Cache and SourceCache stay this
	// machine's own. Default: nil (this machine works alone).
	Tier Tier
	// TierRecheck is how long the record "path → identity of the original"
	// that a Tier shares is used before its owner asks again, which reads
	// the source cache and revalidates with the origin once the original's
	// own freshness has run out. Default: 10 seconds.
	TierRecheck time.Duration
	// SurrogateKeyHeader names the response header that carries the
	// original's surrogate key (SurrogateKey), which lets a CDN in front
	// purge every image derived from one original at once. Default:
	// "Surrogate-Key" (Fastly's name; "Cache-Tag" suits Cloudflare and
	// Akamai). "-" sends no such header.
	SurrogateKeyHeader string
	// Observer, when set, learns of every request, transformation, origin
	// fetch, cache lookup and peer-tier request (see Observer; package
	// promobs exports them to Prometheus). Default: nil (nothing is
	// measured, at no cost).
	Observer Observer
	// TrustOverlayHeader makes the handler read overlays from the
	// X-Fastly-Imageopto-Overlay request header (OverlayHeader), for
	// deployments behind a CDN or proxy that sets it (as Fastly's VCL
	// does) and removes any copy sent by clients: whoever can send that
	// header can make the handler fetch any original as an overlay and
	// paint it over any image. Responses then carry Vary on the header.
	// A bad header value is a 400 naming the key (Lenient does not drop
	// overlay keys: a watermark is never half applied). Default: false (the
	// header is ignored; overlays come only from Hook, via
	// Request.Overlay).
	TrustOverlayHeader bool
	// ClientHints, when set, sends Accept-CH: Sec-CH-DPR, Sec-CH-Width,
	// Sec-CH-Viewport-Width on images, and uses those hints where the
	// query (after the hook) leaves dpr or width out; the query always
	// wins. Sec-CH-Width is in device pixels and becomes the width as it
	// is (the DPR is not applied twice); else Sec-CH-DPR sets dpr and
	// Sec-CH-Viewport-Width (CSS pixels) the width. The hints are rounded
	// up — dpr to a multiple of 0.5 up to 3, widths to a multiple of 50 px
	// up to 1000, 100 up to 2000, 200 up to 4000, 400 above, capped by the
	// output limit — before the cache key is made, so a URL has a bounded
	// number of variants, and malformed hints are ignored. Under a Signer
	// the hints still apply (set this only if signed URLs may follow the
	// browser's layout): a signature covers the query only, so hints
	// choose among those variants where a signed query leaves width and
	// dpr out, no more. Responses that depended on a hint name it in Vary.
	// Default: false (hints are neither asked for nor read, signed or not).
	ClientHints bool
	// PurgeStore, when set, keeps the records of Purge and SoftPurge
	// across restarts (NewFilePurgeStore; rediscache's Cache.PurgeStore):
	// set it whenever a cache outlives the process. Default: nil (purges
	// are kept in memory, and learnt again from the other members of a
	// Tier).
	PurgeStore PurgeStore
	// MaxPurgeRecords bounds the purge log: one record per purged original
	// (about 100 bytes) for MaxTTL + StaleTTL. Past it, the oldest tenth is
	// folded into a purge of every original. Default: 100000.
	MaxPurgeRecords int
}

// Handler serves transformed images: GET /path?fastly-io-query. It is safe
// for concurrent use. Mount it under a prefix with http.StripPrefix; the
// remaining path is the origin path.
type Handler struct {
	origin  Origin
	opts    Options
	log     *slog.Logger
	results singleflight.Group
	sources singleflight.Group
	admit   *admission
	now     func() time.Time
	obs     Observer // Options.Observer
	purges  *PurgeLog
	// overlays remembers the hash of each overlay image while it is fresh
	// (overlay_handler.go).
	overlays overlayMemo

	headerInfo, headerError, headerWarning string
	// transforms counts transformations run (for tests and stats).
	transforms     atomic.Int64
	etagMismatches atomic.Int64
	// stored counts the entries stored in either cache (resultForFill).
	stored atomic.Int64
}

// New returns a Handler that fetches originals from origin. It validates the
// options and fills in the defaults documented on Options.
func New(origin Origin, opts *Options) (*Handler, error) {
	if origin == nil {
		return nil, errors.New("imageopto: New: nil origin")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := validateOptions(&o); err != nil {
		return nil, err
	}
	if o.DisableCache {
		o.Cache, o.SourceCache = nil, nil
	} else {
		if o.Cache == nil {
			o.Cache = NewMemoryCache(256 << 20)
		}
		if o.SourceCache == nil {
			o.SourceCache = NewMemoryCache(256 << 20)
		}
	}
	h := &Handler{
		origin:        origin,
		opts:          o,
		log:           o.Logger,
		admit:         newAdmission(&o),
		obs:           o.Observer,
		now:           time.Now,
		headerInfo:    o.HeaderPrefix + "-Info",
		headerError:   o.HeaderPrefix + "-Error",
		headerWarning: o.HeaderPrefix + "-Warning",
		purges:        newPurgeLog(&o),
	}
	h.purges.load()
	if o.Tier != nil {
		if err := o.Tier.Start(h.tierLoad); err != nil {
			return nil, fmt.Errorf("imageopto: Options.Tier: %w", err)
		}
		if tp, ok := o.Tier.(TierPurger); ok {
			tp.StartPurges(h.purges)
		}
	}
	return h, nil
}

func validateOptions(o *Options) error {
	var errs []error
	neg := func(name string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("imageopto: Options.%s is negative", name))
		}
	}
	neg("DefaultTTL", o.DefaultTTL)
	neg("MinTTL", o.MinTTL)
	neg("MaxTTL", o.MaxTTL)
	neg("StaleTTL", o.StaleTTL)
	neg("NotFoundTTL", o.NotFoundTTL)
	neg("StaleWhileRevalidate", o.StaleWhileRevalidate)
	neg("TierRecheck", o.TierRecheck)
	neg("QueueTimeout", o.QueueTimeout)
	neg("FlightTimeout", o.FlightTimeout)
	neg("FailureTTL", o.FailureTTL)
	if o.MaxConcurrent < 0 || o.MaxQueue < 0 || o.MaxQueryBytes < 0 || o.MemoryBudget < 0 || o.MaxJobMemory < 0 || o.MaxFetches < 0 || o.MaxPurgeRecords < 0 {
		errs = append(errs, errors.New("imageopto: Options.MaxConcurrent, MaxQueue, MaxQueryBytes, MemoryBudget, MaxJobMemory, MaxFetches and MaxPurgeRecords must not be negative"))
	}
	tr := o.Transform
	if q := tr.JPEGQuality; q < 0 || q > 100 {
		errs = append(errs, fmt.Errorf("imageopto: Options.Transform.JPEGQuality %d is outside 0–100", q))
	}
	switch tr.ResizeFilter {
	case "", FilterNearest, FilterBilinear, FilterBicubic, FilterLanczos2, FilterLanczos3:
	default:
		errs = append(errs, fmt.Errorf("imageopto: Options.Transform.ResizeFilter %q is unknown", tr.ResizeFilter))
	}
	if tr.Overlay != nil || tr.OverlayImage != nil {
		errs = append(errs, errors.New("imageopto: Options.Transform.Overlay is for Transform: a Handler takes overlays from Request.Overlay (Hook) or the overlay header (TrustOverlayHeader)"))
	}
	if o.Signer != nil && o.PassQuery {
		errs = append(errs, errors.New("imageopto: Options.PassQuery cannot be combined with Signer: unsigned parameters would reach the origin and the cache key"))
	}
	if strings.ContainsAny(o.HeaderPrefix, " \t\r\n:") {
		errs = append(errs, fmt.Errorf("imageopto: Options.HeaderPrefix %q is not a header name", o.HeaderPrefix))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.DefaultTTL, time.Hour)
	def(&o.MinTTL, 10*time.Second)
	def(&o.MaxTTL, 30*24*time.Hour)
	def(&o.StaleTTL, 24*time.Hour)
	def(&o.NotFoundTTL, 30*time.Second)
	def(&o.StaleWhileRevalidate, time.Minute)
	def(&o.QueueTimeout, 2*time.Second)
	def(&o.FlightTimeout, 30*time.Second)
	def(&o.TierRecheck, 10*time.Second)
	def(&o.FailureTTL, 5*time.Second)
	if o.MaxTTL < o.MinTTL {
		return fmt.Errorf("imageopto: Options.MaxTTL %v is below MinTTL %v", o.MaxTTL, o.MinTTL)
	}
	if o.MaxConcurrent == 0 {
		o.MaxConcurrent = runtime.GOMAXPROCS(0)
	}
	if o.MaxQueue == 0 {
		o.MaxQueue = 64
	}
	if o.MemoryBudget == 0 {
		o.MemoryBudget = min(1<<30, debug.SetMemoryLimit(-1)/4)
	}
	if o.MaxJobMemory == 0 {
		o.MaxJobMemory = o.MemoryBudget / 2
	}
	if o.MaxJobMemory > o.MemoryBudget {
		return fmt.Errorf("imageopto: Options.MaxJobMemory %d is over MemoryBudget %d", o.MaxJobMemory, o.MemoryBudget)
	}
	if o.MaxFetches == 0 {
		o.MaxFetches = 4 * o.MaxConcurrent
	}
	if o.MaxQueryBytes == 0 {
		o.MaxQueryBytes = 4096
	}
	if o.MaxPurgeRecords == 0 {
		o.MaxPurgeRecords = 100000
	}
	if o.HeaderPrefix == "" {
		o.HeaderPrefix = "Imageopto"
	}
	switch o.SurrogateKeyHeader {
	case "":
		o.SurrogateKeyHeader = "Surrogate-Key"
	case "-":
	default:
		if strings.ContainsAny(o.SurrogateKeyHeader, " \t\r\n:") {
			return fmt.Errorf("imageopto: Options.SurrogateKeyHeader %q is not a header name", o.SurrogateKeyHeader)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// ServeHTTP serves GET and HEAD requests for transformed images.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.obs == nil {
		var st reqState
		h.serve(w, r, &st)
		return
	}
	start := time.Now()
	st := reqState{cache: CacheNone}
	h.serve(w, r, &st)
	h.obs.Observe(Event{Kind: EventRequest, Status: st.status, Cache: st.cache, Format: st.format,
		Bytes: st.bytes, Size: st.size, Duration: time.Since(start), Request: r, Err: st.err})
}

// reqState is what a request's answer was, for the observer.
type reqState struct {
	status      int
	cache       CacheOutcome
	format      ImageFormat
	bytes, size int64
	err         error
}

// serve answers a request and notes the answer in st.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, st *reqState) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		st.plainError(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if len(r.URL.RawQuery) > h.opts.MaxQueryBytes {
		w.Header().Set("Cache-Control", "no-store")
		st.plainError(w, fmt.Sprintf("query string longer than %d bytes", h.opts.MaxQueryBytes), http.StatusRequestURITooLong)
		return
	}
	if strings.Trim(r.URL.Path, "/") == "" {
		st.plainError(w, "not found", http.StatusNotFound) // no image at the root
		return
	}
	path, err := CleanPath(r.URL.Path)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	var warnings []string
	var p Params
	if h.opts.Lenient {
		var perr error
		p, perr = ParseParamsLenient(r.URL.RawQuery)
		for _, e := range unjoin(perr) {
			warnings = append(warnings, e.Error())
		}
	} else if p, err = ParseParams(r.URL.RawQuery); err != nil {
		h.fail(w, r, st, err)
		return
	}
	if h.opts.Signer != nil {
		if err := h.opts.Signer.Verify(path, p, r.URL.RawQuery); err != nil {
			h.fail(w, r, st, err)
			return
		}
	}
	req := &Request{Path: path, Params: p, RawQuery: r.URL.RawQuery}
	if h.opts.TrustOverlayHeader {
		if req.Overlay, err = overlayFromHeader(r.Header); err != nil {
			h.fail(w, r, st, err)
			return
		}
	}
	if h.opts.PassQuery {
		req.OriginQuery = foreignQuery(r.URL.RawQuery)
	}
	if h.opts.Hook != nil {
		req.Header = r.Header.Clone()
		if err := h.opts.Hook(r.Context(), req); err != nil {
			h.fail(w, r, st, err)
			return
		}
		if req.Path, err = CleanPath(req.Path); err != nil {
			h.fail(w, r, st, err)
			return
		}
		if strings.ContainsFunc(req.OriginQuery, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			h.fail(w, r, st, fmt.Errorf("%w: control character in the origin query", ErrBadPath))
			return
		}
	}
	hints := h.clientHints(r, &req.Params)
	job := &job{path: req.Path, params: req.Params, query: req.OriginQuery}
	if req.Overlay != nil {
		if err := h.overlay(r.Context(), job, *req.Overlay); err != nil {
			h.fail(w, r, st, err)
			return
		}
	}
	if h.opts.TrustOverlayHeader {
		w.Header().Set("Vary", joinVary(w.Header().Get("Vary"), OverlayHeader))
	}
	job.format, job.vary = Negotiate(job.params, r.Header.Get("Accept"), h.opts.Transform.Codecs)
	job.key = h.key(job)

	e, outcome, err := h.lookup(r.Context(), job)
	st.cache = outcome
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	hints.setHeaders(w.Header())
	h.respond(w, r, st, e, warnings, job.path)
}

// plainError writes a short error that is not the handler's kind of
// error (no error header).
func (st *reqState) plainError(w http.ResponseWriter, msg string, status int) {
	st.status, st.bytes = status, int64(len(msg)+1)
	http.Error(w, msg, status)
}

// unjoin splits an errors.Join error into its parts.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// foreignQuery keeps the query parameters that are not Fastly IO parameters.
func foreignQuery(raw string) string {
	var keep []string
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil && !IsParam(n) {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, "&")
}

// HandlerStats are counters of a Handler.
type HandlerStats struct {
	// Transforms counts transformations run.
	Transforms int64
	// ETagMismatches counts detections of an original whose bytes changed
	// while the origin kept its strong ETag (a broken origin; the new bytes
	// were used).
	ETagMismatches int64
}

// Stats returns the handler's counters.
func (h *Handler) Stats() HandlerStats {
	return HandlerStats{Transforms: h.transforms.Load(), ETagMismatches: h.etagMismatches.Load()}
}

// respond writes an entry, or 304 when the client already has it. path
// is the origin path, which names the surrogate key.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, st *reqState, e *entry, warnings []string, path string) {
	st.size = int64(len(e.Body))
	st.format = ImageFormat(strings.TrimSuffix(e.ContentType[strings.LastIndexByte(e.ContentType, '/')+1:], "+xml")) // image/png, image/svg+xml, video/mp4
	hdr := w.Header()
	hdr.Set("Content-Type", e.ContentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", e.ETag)
	if !e.LastModified.IsZero() {
		hdr.Set("Last-Modified", e.LastModified.UTC().Format(http.TimeFormat))
	}
	if e.NoStore {
		hdr.Set("Cache-Control", "no-store")
	} else {
		age := max(int(e.Expires.Sub(h.now()).Seconds()), 0)
		cc := "public, max-age=" + strconv.Itoa(age)
		if h.opts.Cache != nil {
			// What the handler itself does with stale entries (RFC 5861),
			// so that a CDN in front behaves alike.
			cc += ", stale-while-revalidate=" + strconv.Itoa(int(h.opts.StaleWhileRevalidate.Seconds())) +
				", stale-if-error=" + strconv.Itoa(int(h.opts.StaleTTL.Seconds()))
		}
		hdr.Set("Cache-Control", cc)
		if h.opts.SurrogateKeyHeader != "-" {
			hdr.Set(h.opts.SurrogateKeyHeader, SurrogateKey(path))
		}
	}
	if e.Vary {
		hdr.Set("Vary", joinVary("Accept", hdr.Get("Vary"))) // after any client hints' names
	}
	hdr.Set(h.headerInfo, e.Info)
	warnings = append(warnings, e.Warnings...)
	switch {
	case e.Revalidating:
		warnings = append(warnings, "stale copy served while it is revalidated")
	case e.Stale:
		warnings = append(warnings, "origin unreachable; serving a stale copy")
	}
	if len(warnings) > 0 {
		hdr.Set(h.headerWarning, headerSafe(strings.Join(warnings, "; ")))
	}
	if notModified(r.Header, e) {
		st.status = http.StatusNotModified
		w.WriteHeader(http.StatusNotModified)
		return
	}
	sendBody(w, r, st, e) // ranges, If-Range, If-Match (handler_range.go)
}

// notModified evaluates the request's preconditions (RFC 9110 §13.2.2):
// If-None-Match when it is sent, else If-Modified-Since, which holds when
// the entry was not modified after the date. A date that does not parse
// is ignored, as the RFC asks.
func notModified(h http.Header, e *entry) bool {
	if inm := h.Get("If-None-Match"); inm != "" {
		return etagMatch(inm, e.ETag)
	}
	ims := h.Get("If-Modified-Since")
	if ims == "" || e.LastModified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	// Last-Modified is sent with whole seconds.
	return !e.LastModified.Truncate(time.Second).After(t)
}

// SurrogateKey returns the surrogate key of the original at an origin path:
// "io-" and 20 hexadecimal digits of a SHA-256 of the path. Every response
// made from that original carries it (Options.SurrogateKeyHeader), so a
// CDN that indexes it (Fastly's Surrogate-Key, Cloudflare's and Akamai's
// Cache-Tag) purges all of its sizes and formats with one request naming
// the key. The path is the one given to the Origin, after any hook.
func SurrogateKey(path string) string {
	sum := sha256.Sum256([]byte(path))
	return "io-" + hex.EncodeToString(sum[:10])
}

// etagMatch implements If-None-Match's weak comparison (RFC 9110 §13.1.2).
func etagMatch(header, etag string) bool {
	if header == "" || etag == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	for _, t := range strings.Split(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// headerSafe bounds a header value and strips bytes that cannot be in one.
func headerSafe(s string) string {
	const maxLen = 1024
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// fail writes an error response: a short, safe text for 4xx, a generic one
// for 5xx (the detail goes to the log), and the error header.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, st *reqState, err error) {
	status := StatusCode(err)
	st.err = err
	if status == 499 {
		if r.Context().Err() != nil {
			st.status = 499 // the client is gone: nothing is written
			return
		}
		status = http.StatusBadGateway // cancelled by someone else: never an empty 200
	}
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	if reason := fastlyReason(err); reason != "" {
		hdr.Set(h.headerError, reason)
	}
	var body string
	switch {
	case errors.Is(err, ErrInvalidParam) || errors.Is(err, ErrUnsupportedParam):
		var parts []string
		for _, e := range unjoin(err) {
			parts = append(parts, e.Error())
		}
		body = "Invalid transformation for requested image: " + strings.Join(parts, "; ")
	case status == http.StatusServiceUnavailable:
		hdr.Set("Retry-After", "1")
		body = "Service Unavailable: too many images in progress, retry shortly"
	case status >= 500:
		h.log.Error("imageopto: request failed", "path", r.URL.Path, "query", r.URL.RawQuery, "status", status, "err", err)
		body = http.StatusText(status)
	default:
		body = clientMessage(err)
	}
	st.status, st.bytes = status, int64(len(body)+1)
	http.Error(w, body, status)
}

// clientMessage is a 4xx error's text without internal detail beyond the
// first line, bounded in length.
func clientMessage(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	s = strings.TrimPrefix(s, "imageopto: ")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// fastlyReason gives the Fastly-IO-Error reason for source errors.
func fastlyReason(err error) string {
	switch {
	case errors.Is(err, ErrSourceTooLarge):
		return "Image exceeds maximum dimensions"
	case errors.Is(err, ErrUnsupportedFormat):
		return "Not a supported image format"
	case errors.Is(err, ErrCorrupt):
		return "Image could not be parsed"
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrGone), errors.Is(err, ErrOriginFailed):
		return "Invalid status"
	}
	return ""
}

// Transforms returns how many transformations the handler has run.
func (h *Handler) Transforms() int64 { return h.transforms.Load() }

// IsParam reports whether name is a Fastly IO query parameter (names are
// case-sensitive).
func IsParam(name string) bool { return paramIndex(name) >= 0 }
