// Command imageopto is a standalone image server: it answers
// GET /PATH?QUERY with the original at PATH transformed by QUERY, a Fastly
// Image Optimizer query (width=400&height=400&fit=crop, …).
//
// With no flags it serves a few embedded sample images on localhost:8080
// and prints example URLs to open; http://localhost:8080/ is a playground
// (a control for every parameter, the result beside the original) and
// /examples a gallery of the examples:
//
//	go run ./cmd/imageopto
//	curl -s 'http://localhost:8080/landscape.jpg?width=300' -o thumb.jpg
//
// Flags:
//
//	-addr HOST:PORT       listen address (default localhost:8080)
//	-dir DIR              serve originals from DIR (confined to it)
//	-origin URL           fetch originals from URL/PATH over HTTP(S)
//	-cache-size SIZE      memory for caches, e.g. 256MB, 1GiB; 0 disables caching
//	-memory-budget SIZE   memory for transformations and origin fetches in progress
//	                      (default min(1GiB, ¼ of GOMEMLIMIT))
//	-max-job-memory SIZE  the most one transformation may take (default half the
//	                      budget; larger jobs are refused with 422)
//	-flight-timeout D     how long one fetch-and-transform may take (default 30s; then 504)
//	-lenient              drop bad parameters (listed in a warning header) instead of answering 400
//	-header-prefix NAME   names the info, warning and error headers (Fastly-IO for drop-in use)
//	-pass-query           pass query parameters that are not Fastly IO parameters on to -origin
//	-sign-key KEY         serve only URLs signed with KEY (repeat for rotation; the
//	                      first signs); also from $IMAGEOPTO_SIGN_KEYS (comma-separated)
//	-allow-host HOST      serve /HOST/PATH from https://HOST/PATH for allowed hosts (repeatable)
//	-max-source-bytes, -max-side, -max-pixels, -max-frames, -max-output-side
//	                      limits of originals and outputs
//	-min-ttl, -max-ttl, -default-ttl, -not-found-ttl, -stale-ttl, -stale-while-revalidate
//	                      freshness policy
//	-max-concurrent N, -max-queue N, -queue-timeout D
//	                      admission: transformations at once, waiting work, wait before 503
//	-surrogate-key-header NAME
//	                      header naming the original for CDN purges (- for none)
//	-client-hints         ask for Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width and use
//	                      them where the query has no dpr or width (rounded; see -h)
//	-overlay QUERY        composite an overlay over every response, in the grammar of
//	                      Fastly's X-Fastly-Imageopto-Overlay (overlay=/wm.png&overlay-align=bottom,right)
//	-trust-overlay-header read overlays from X-Fastly-Imageopto-Overlay request headers
//	                      (only behind a proxy that sets it and strips clients' copies)
//	-metrics-addr HOST:PORT
//	                      Prometheus /metrics on a separate listener; -pprof adds net/http/pprof
//	-log-format text|json, -log-level LEVEL, -access-log=false
//	                      logging: one record per image request
//	-drain-delay D        on SIGTERM, /readyz answers 503 for D before the shutdown
//
// Every flag can also be set by the environment: IMAGEOPTO_ and the flag's
// name in upper case with dashes as underscores (IMAGEOPTO_CACHE_SIZE=1GiB,
// IMAGEOPTO_LENIENT=true; repeatable flags take a comma-separated list). A
// flag on the command line wins; -h lists every variable.
//
// GET /healthz (alive) and GET /readyz (ready: not draining or shutting
// down, and for a cluster member, its peer tier has quorum) answer 200 "ok"
// or 503 with the reason. They are reserved only for requests without a
// query string: an original named healthz is served at /healthz?width=300,
// or as it is at /healthz?.
//
// GET / is the playground, a page served with a strict
// Content-Security-Policy; /examples (the gallery) and its script and style
// sheet under /_imageopto/playground/ are reserved in the same way as
// /healthz, only for requests without a query string.
//
// "imageopto healthcheck [URL]" asks /healthz (by default on loopback at the
// port of $IMAGEOPTO_ADDR) and fails unless it answers 200: the container
// image's HEALTHCHECK, which has no curl.
//
// Signing URLs for a server started with -sign-key:
//
//	imageopto sign -key KEY [-expires 24h] [-prefix /img] URL...
//
// Without a server: "imageopto convert -q QUERY -o OUTDIR FILE|DIR..."
// transforms files and folders on all CPUs, and "imageopto info [-json]
// FILE..." prints what image headers say (format, size, frames, EXIF
// orientation, ICC profile, alpha, progressive).
//
// Builds: a plain "go run" or "go build" of this command is the server
// with the library's own codecs and none of the optional parts below, so
// that a first build compiles little beyond the standard library. Each
// part comes with a build tag; -tags full brings them all (the Dockerfile
// builds with nodynamic,full):
//
//	tag         adds                                    compiles
//	wasmcodec   lossless, animated and transparent     wazero, gen2brain's WebAssembly
//	            WebP, AVIF output, AVIF and HEIC input  builds of libwebp, libavif, libheif
//	            (package wasmcodec; lossy WebP is built in)
//	redis       -redis                                  github.com/redis/go-redis
//	s3          -s3, -s3-cache                          the AWS SDK for Go v2
//	prometheus  -metrics-addr                           Prometheus client_golang, protobuf
//	cluster     -peers (package cluster)                groupcache, protobuf
//
// In a build without a part, its flags still exist and fail with a message
// that names the tag, and -h says which parts the build has. With
// wasmcodec, add the tag nodynamic to keep the codecs pure Go, without the
// libraries' attempt to load system copies.
//
// -dir and -origin are mutually exclusive. The server stops gracefully on
// SIGINT or SIGTERM, letting requests in progress finish for up to ten
// seconds.
//
// Memory: unless GOMEMLIMIT is set, the server sets the Go runtime's soft
// memory limit to the memory budget plus the caches plus 256 MiB, so that
// resident memory stays near what the budget promises.
//
// Connection limits (net/http.Server settings): a client has 5 s to send
// its request headers (ReadHeaderTimeout, which also cuts off slowloris
// clients that trickle header bytes to hold connections open), 15 s to send
// the whole request (ReadTimeout), and a response may take 60 s to write
// (WriteTimeout); keep-alive connections are closed after 120 s idle
// (IdleTimeout), and request headers over 64 KiB are refused with 431
// (MaxHeaderBytes).
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/imageopto/imageopto"
)

// samples are the images served when neither -dir nor -origin is given.
// They are drawn by ./internal/gensamples.
//
//go:embed samples/*
var samples embed.FS

// Server timeouts and limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 10 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once, without waiting for the shutdown
	}()
	err := run(ctx, os.Args[1:], os.Stdout, nil)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, errorLine(err))
	os.Exit(exitCode(err))
}

// usageError is a bad command line.
type usageError struct{ err error }

// Error adds a pointer to -h.
func (e *usageError) Error() string { return e.err.Error() + " (see -h)" }

// Unwrap returns the underlying error.
func (e *usageError) Unwrap() error { return e.err }

// config is the parsed command line.
type config struct {
	addr         string
	dir          string
	origin       string
	cacheSize    sizeFlag
	lenient      bool
	headerPrefix string
	passQuery    bool
	signKeys     stringList
	backend      backendFlags
	memBudget    sizeFlag
	maxJob       sizeFlag
	flightTime   time.Duration
	metricsAddr  string
	pprof        bool
	drainDelay   time.Duration
	logFormat    string
	logLevel     string
	level        slog.Level
	accessLog    bool
	limits       imageopto.Limits
	maxSource    sizeFlag
	ttl          struct{ min, max, def, notFound, stale, swr time.Duration }
	maxConc      int
	maxQueue     int
	queueTime    time.Duration
	allowHosts   stringList
	surrogateKey string
	clientHints  bool
	overlay      overlayFlag
	trustOverlay bool
}

// stringList is a repeatable string flag.
type stringList []string

// String joins the values.
func (l *stringList) String() string { return strings.Join(*l, ",") }

// Set adds a value.
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// envPrefix starts the environment variable of every flag:
// IMAGEOPTO_CACHE_SIZE for -cache-size.
const envPrefix = "IMAGEOPTO_"

// envName is the environment variable that sets a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags reads the command line, then the environment for the flags
// it did not set. -h prints the usage to stdout and returns flag.ErrHelp.
func parseFlags(args []string, stdout io.Writer) (*config, error) {
	return parseConfig(args, stdout, os.LookupEnv)
}

// parseConfig is parseFlags with the environment read through lookup.
func parseConfig(args []string, stdout io.Writer, lookup func(string) (string, bool)) (*config, error) {
	cfg := &config{cacheSize: 256 << 20}
	flags := flag.NewFlagSet("imageopto", flag.ContinueOnError)
	flags.SetOutput(io.Discard) // errors are returned; -h prints below
	flags.StringVar(&cfg.addr, "addr", "localhost:8080", "listen on `HOST:PORT`")
	flags.StringVar(&cfg.dir, "dir", "", "serve originals from `DIR` (paths cannot leave it)")
	flags.StringVar(&cfg.origin, "origin", "", "fetch originals from `URL`/PATH over HTTP(S)")
	flags.Var(&cfg.cacheSize, "cache-size", "memory for caches, a `SIZE` like 256MB or 1GiB (two thirds for results, one third for originals); 0 disables caching")
	flags.BoolVar(&cfg.lenient, "lenient", false, "drop bad parameters (listed in the warning header) instead of answering 400")
	flags.StringVar(&cfg.headerPrefix, "header-prefix", "Imageopto", "prefix `NAME` of the info, warning and error headers (NAME-Info, NAME-Warning, NAME-Error); Fastly-IO for drop-in use")
	flags.BoolVar(&cfg.passQuery, "pass-query", false, "pass query parameters that are not Fastly IO parameters on to -origin (they become part of the cache key)")
	flags.Var(&cfg.memBudget, "memory-budget", "memory that transformations and origin fetches in progress may use together, a `SIZE`; 0: min(1GiB, a quarter of GOMEMLIMIT)")
	flags.Var(&cfg.maxJob, "max-job-memory", "the most one transformation may take of the budget, a `SIZE` (larger jobs get 422); 0: half the budget")
	flags.DurationVar(&cfg.flightTime, "flight-timeout", 30*time.Second, "how long one fetch-and-transform may take before the request gets 504")
	flags.StringVar(&cfg.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at /metrics on a separate `HOST:PORT` (off by default)")
	flags.BoolVar(&cfg.pprof, "pprof", false, "also serve net/http/pprof at /debug/pprof/ on -metrics-addr")
	flags.StringVar(&cfg.logFormat, "log-format", "text", "log `FORMAT`: text or json")
	flags.StringVar(&cfg.logLevel, "log-level", "info", "log records at `LEVEL` and above: debug, info, warn or error (the access log writes 4xx at warn, 5xx at error)")
	flags.BoolVar(&cfg.accessLog, "access-log", true, "log one record per image request")
	flags.DurationVar(&cfg.drainDelay, "drain-delay", 0, "on SIGTERM, answer /readyz with 503 for this `DURATION` while still serving, so that load balancers stop sending requests, before shutting down")
	cfg.backend.register(flags)
	flags.Var(&cfg.signKeys, "sign-key", "serve only URLs signed with `KEY` (at least 16 bytes; repeat for rotation, the first signs; also $IMAGEOPTO_SIGN_KEYS)")
	flags.Var(&cfg.maxSource, "max-source-bytes", "refuse originals larger than `SIZE` (0: 50MiB)")
	flags.IntVar(&cfg.limits.MaxSourceSide, "max-side", 0, "refuse originals wider or taller than `PX` (0: 12000)")
	flags.Int64Var(&cfg.limits.MaxSourcePixels, "max-pixels", 0, "refuse originals of more than `N` pixels per frame (0: 50 million)")
	flags.IntVar(&cfg.limits.MaxFrames, "max-frames", 0, "refuse animations of more than `N` frames (0: 1000)")
	flags.IntVar(&cfg.limits.MaxOutputSide, "max-output-side", 0, "refuse outputs wider or taller than `PX` (0: 8192)")
	flags.DurationVar(&cfg.ttl.min, "min-ttl", 0, "least freshness given to an original, whatever the origin says (0: 10s)")
	flags.DurationVar(&cfg.ttl.max, "max-ttl", 0, "most freshness given to an original (0: 720h)")
	flags.DurationVar(&cfg.ttl.def, "default-ttl", 0, "freshness when the origin sends no Cache-Control or Expires (0: 1h)")
	flags.DurationVar(&cfg.ttl.notFound, "not-found-ttl", 0, "how long an origin 404 or 410 is remembered (0: 30s)")
	flags.DurationVar(&cfg.ttl.stale, "stale-ttl", 0, "how long a stale entry is kept to be revalidated, or served when the origin fails (0: 24h)")
	flags.DurationVar(&cfg.ttl.swr, "stale-while-revalidate", 0, "how long after going stale an entry is served at once while it is revalidated (0: 60s)")
	flags.IntVar(&cfg.maxConc, "max-concurrent", 0, "transformations that run at once (0: the number of CPUs)")
	flags.IntVar(&cfg.maxQueue, "max-queue", 0, "transformations and fetches that may wait for a slot; more get 503 (0: 64)")
	flags.DurationVar(&cfg.queueTime, "queue-timeout", 0, "how long work waits for a slot before the request gets 503 (0: 2s)")
	flags.Var(&cfg.allowHosts, "allow-host", "fetch originals named /HOST/PATH from https://HOST/PATH when `HOST` is allowed (repeatable; *.example.com matches subdomains)")
	flags.StringVar(&cfg.surrogateKey, "surrogate-key-header", "Surrogate-Key", "`NAME` of the header that carries the original's surrogate key, for CDN purges (- for none)")
	flags.BoolVar(&cfg.clientHints, "client-hints", false, "send Accept-CH: Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width on images and use those hints where the query has no dpr or width (the query wins): "+
		"Sec-CH-Width (device pixels) as the width, else Sec-CH-DPR as dpr (rounded up to 0.5, at most 3) and Sec-CH-Viewport-Width as the width, widths rounded up to 50 px steps (100 above 1000, 200 above 2000, 400 above 4000); responses name the hints they depended on in Vary")
	flags.Var(&cfg.overlay, "overlay", "composite an overlay over every response: a `QUERY` in the grammar of Fastly's X-Fastly-Imageopto-Overlay header, e.g. overlay=/img/wm.png&overlay-width=20p&overlay-align=bottom,right (the image is fetched from the origin; a trusted header's overlay wins)")
	flags.BoolVar(&cfg.trustOverlay, "trust-overlay-header", false, "read overlays from the X-Fastly-Imageopto-Overlay request header; only behind a CDN or proxy that sets it and removes clients' copies (anyone who can send it can watermark any image with any original)")
	for _, name := range []string{"sign-key", "allow-host"} {
		flags.Lookup(name).Usage += " (a comma-separated list in the environment)"
	}
	flags.VisitAll(func(f *flag.Flag) { f.Usage += " [$" + envName(f.Name) + "]" })
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, `usage: imageopto [flags]
       imageopto COMMAND [flags] ARGS...

Serves GET /PATH?QUERY: the original at PATH transformed by QUERY, a Fastly
Image Optimizer query such as width=400&height=400&fit=crop. Without -dir or
-origin it serves embedded sample images and prints example URLs.
`+subcommandHelp+`
Every flag can also be set by the environment variable shown in brackets
after it (IMAGEOPTO_ and the name in upper case, dashes as underscores;
IMAGEOPTO_LENIENT=true); a flag on the command line wins.

`+buildSummary()+`
flags:
`)
			flags.SetOutput(stdout)
			flags.PrintDefaults()
			return nil, err
		}
		return nil, &usageError{err}
	}
	if err := applyEnv(flags, lookup); err != nil {
		return nil, &usageError{err}
	}
	cfg.limits.MaxSourceBytes = int64(cfg.maxSource)
	switch {
	case flags.NArg() > 0:
		return nil, &usageError{fmt.Errorf("unexpected arguments %q", flags.Args())}
	case cfg.dir != "" && cfg.origin != "":
		return nil, &usageError{errors.New("-dir and -origin are mutually exclusive")}
	case cfg.cacheSize < 0 || cfg.memBudget < 0 || cfg.maxJob < 0 || cfg.maxSource < 0:
		return nil, &usageError{errors.New("-cache-size, -memory-budget, -max-job-memory and -max-source-bytes must not be negative")}
	case cfg.limits.MaxSourceSide < 0 || cfg.limits.MaxSourcePixels < 0 || cfg.limits.MaxFrames < 0 || cfg.limits.MaxOutputSide < 0 ||
		cfg.maxConc < 0 || cfg.maxQueue < 0:
		return nil, &usageError{errors.New("-max-side, -max-pixels, -max-frames, -max-output-side, -max-concurrent and -max-queue must not be negative")}
	case cfg.ttl.min < 0 || cfg.ttl.max < 0 || cfg.ttl.def < 0 || cfg.ttl.notFound < 0 || cfg.ttl.stale < 0 || cfg.ttl.swr < 0 || cfg.queueTime < 0:
		return nil, &usageError{errors.New("durations must not be negative")}
	case len(cfg.allowHosts) > 0 && (cfg.dir != "" || cfg.origin != "" || cfg.backend.s3 != ""):
		return nil, &usageError{errors.New("-allow-host, -dir, -origin and -s3 are mutually exclusive")}
	case cfg.flightTime <= 0:
		return nil, &usageError{errors.New("-flight-timeout must be positive")}
	case cfg.logFormat != "text" && cfg.logFormat != "json":
		return nil, &usageError{fmt.Errorf("-log-format %q: want text or json", cfg.logFormat)}
	case cfg.drainDelay < 0:
		return nil, &usageError{errors.New("-drain-delay must not be negative")}
	case cfg.pprof && cfg.metricsAddr == "":
		return nil, &usageError{errors.New("-pprof needs -metrics-addr")}
	case cfg.metricsAddr != "" && !hasPrometheus:
		return nil, &usageError{notBuilt("-metrics-addr", "prometheus")}
	}
	var err error
	if cfg.level, err = parseLevel(cfg.logLevel); err != nil {
		return nil, &usageError{err}
	}
	if err := cfg.backend.validate(cfg); err != nil {
		return nil, &usageError{err}
	}
	if len(cfg.signKeys) == 0 {
		if env, _ := lookup("IMAGEOPTO_SIGN_KEYS"); env != "" {
			cfg.signKeys = strings.Split(env, ",")
		}
	}
	return cfg, nil
}

// applyEnv sets each flag the command line did not set from its
// environment variable (flags win). Repeatable flags take a
// comma-separated list.
func applyEnv(flags *flag.FlagSet, lookup func(string) (string, bool)) error {
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	flags.VisitAll(func(f *flag.Flag) {
		v, ok := lookup(envName(f.Name))
		if !ok || set[f.Name] {
			return
		}
		values := []string{v}
		if _, list := f.Value.(*stringList); list {
			values = strings.Split(v, ",")
		}
		for _, v := range values {
			if err := flags.Set(f.Name, strings.TrimSpace(v)); err != nil {
				errs = append(errs, fmt.Errorf("$%s: %w", envName(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}

// run is the whole server: it parses args, serves until ctx is done, then
// shuts down gracefully. It writes the banner and the log to stdout and
// calls ready, when not nil, with the address it listens on once
// connections are accepted. -h prints the usage and returns nil.
func run(ctx context.Context, args []string, stdout io.Writer, ready func(addr string)) error {
	if len(args) > 0 && args[0] == "sign" {
		return runSign(args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "healthcheck" {
		return runHealthcheck(ctx, args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "convert" {
		return runConvert(ctx, args[1:], stdout, os.Stderr)
	}
	if len(args) > 0 && args[0] == "info" {
		return runInfo(args[1:], stdout)
	}
	cfg, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := newLogger(stdout, cfg.logFormat, cfg.level)

	src, err := openSource(cfg)
	if err != nil {
		return err
	}
	defer src.close()

	opts := &imageopto.Options{
		Transform:            imageopto.TransformOptions{PlanOptions: imageopto.PlanOptions{Codecs: extraCodecs()}},
		Lenient:              cfg.lenient,
		HeaderPrefix:         cfg.headerPrefix,
		PassQuery:            cfg.passQuery,
		Logger:               logger,
		MemoryBudget:         int64(cfg.memBudget),
		MaxJobMemory:         int64(cfg.maxJob),
		FlightTimeout:        cfg.flightTime,
		DefaultTTL:           cfg.ttl.def,
		MinTTL:               cfg.ttl.min,
		MaxTTL:               cfg.ttl.max,
		NotFoundTTL:          cfg.ttl.notFound,
		StaleTTL:             cfg.ttl.stale,
		MaxConcurrent:        cfg.maxConc,
		MaxQueue:             cfg.maxQueue,
		QueueTimeout:         cfg.queueTime,
		SurrogateKeyHeader:   cfg.surrogateKey,
		ClientHints:          cfg.clientHints,
		TrustOverlayHeader:   cfg.trustOverlay,
		Hook:                 cfg.overlay.hook(),
		StaleWhileRevalidate: cfg.ttl.swr,
	}
	opts.Transform.Limits = cfg.limits
	if len(cfg.signKeys) > 0 {
		if opts.Signer, err = newSigner(cfg.signKeys); err != nil {
			return &usageError{err}
		}
	}
	var observers []imageopto.Observer
	var m metrics
	if cfg.metricsAddr != "" {
		if m, err = newMetrics(); err != nil {
			return err
		}
		observers = append(observers, m)
	}
	if cfg.accessLog {
		observers = append(observers, accessLog{logger})
	}
	if len(observers) > 0 {
		opts.Observer = imageopto.MultiObserver(observers...)
	}
	var memResults, memSources imageopto.Cache
	if size := int64(cfg.cacheSize); size > 0 {
		memResults = imageopto.NewMemoryCache(size - size/3)
		memSources = imageopto.NewMemoryCache(size / 3)
	}
	back, err := cfg.backend.setup(cfg, opts, memResults, memSources, logger)
	if err != nil {
		return err
	}
	defer back.close()
	h, err := imageopto.New(src.origin, opts)
	if err != nil {
		return err
	}
	setMemoryLimit(h, int64(cfg.cacheSize), logger)
	if m != nil {
		if err := m.watch(h, back.cluster); err != nil {
			return err
		}
		stopMetrics, err := serveMetrics(ctx, cfg, m.handler(logger), logger)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	// Compile the WebAssembly codecs now, in the background, so that no
	// request pays for it (seconds of CPU for AVIF).
	go func() {
		if err := warmCodecs(); err != nil {
			logger.Warn("WebAssembly codecs failed to compile; their formats will fail", "err", err)
		}
	}()

	mux := http.NewServeMux()
	mux.Handle("/", h)
	var draining atomic.Bool
	mountHealth(mux, h, &draining, back.cluster)
	if err := back.mount(ctx, mux, h, cfg.backend.peerAddr, logger); err != nil {
		return err
	}
	mountPlayground(mux, h, src, cfg)

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := newServer(cfg.addr, mux)
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	printBanner(stdout, baseURL(cfg.addr, ln.Addr()), src, cfg)
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return err // Serve failed; it never returns nil
	case <-ctx.Done():
	}
	draining.Store(true) // /readyz answers 503 from now on
	if cfg.drainDelay > 0 {
		logger.Info("draining: not ready, still serving", "delay", cfg.drainDelay)
		time.Sleep(cfg.drainDelay)
	}
	logger.Info("shutting down", "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// mountHealth adds GET /healthz (the process is alive) and GET /readyz
// (it should receive traffic: not draining or shutting down, and, in a
// cluster, its peer tier has quorum) to mux. Both answer 200 "ok" or 503
// with the reason. They answer only requests without a query string: an
// original named healthz or readyz at the root is still served to any
// request with one (/healthz?format=png, or /healthz? for the original
// as it is).
func mountHealth(mux *http.ServeMux, images http.Handler, draining *atomic.Bool, c peerTier) {
	health := func(check func() string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.RawQuery != "" || r.URL.ForceQuery {
				images.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			if reason := check(); reason != "" {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, reason)
				return
			}
			fmt.Fprintln(w, "ok")
		}
	}
	mux.Handle("GET /healthz", health(func() string { return "" }))
	mux.Handle("GET /readyz", health(func() string {
		if draining.Load() {
			return "shutting down"
		}
		if c != nil {
			if st := c.counts(); 2*st.Healthy < st.Members {
				return fmt.Sprintf("peer tier has no quorum: %d of %d members answer", st.Healthy, st.Members)
			}
		}
		return ""
	}))
}

// metrics are what -metrics-addr serves at /metrics (Prometheus, in
// builds with the prometheus tag): an observer of the handler that also
// watches its gauges and the peer tier's.
type metrics interface {
	imageopto.Observer
	watch(h *imageopto.Handler, peers peerTier) error
	handler(logger *slog.Logger) http.Handler
}

// serveMetrics serves /metrics (and with -pprof, /debug/pprof/) on
// -metrics-addr until the returned function is called.
func serveMetrics(ctx context.Context, cfg *config, metricsHandler http.Handler, logger *slog.Logger) (stop func(), err error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.metricsAddr)
	if err != nil {
		return nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler)
	if cfg.pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := newServer(cfg.metricsAddr, mux)
	srv.WriteTimeout = 0 // CPU profiles and traces last as long as asked
	srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	go func() { _ = srv.Serve(ln) }()
	logger.Info("metrics listening", "addr", ln.Addr().String(), "pprof", cfg.pprof)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}, nil
}

// setMemoryLimit gives the Go runtime a soft memory limit when GOMEMLIMIT
// does not set one: the memory budget, the caches and 256 MiB for code,
// compiled WebAssembly, connections and the garbage collector's slack. Without it the
// collector lets the heap grow to twice what is live, so a full budget
// could take twice its size in resident memory.
func setMemoryLimit(h *imageopto.Handler, caches int64, logger *slog.Logger) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return // GOMEMLIMIT is set: the operator decided
	}
	limit := h.Gauges().MemoryBudget + max(caches, 0) + 256<<20
	debug.SetMemoryLimit(limit)
	logger.Debug("soft memory limit set", "bytes", limit)
}

// newServer is the command's HTTP server for h, with the timeouts and the
// header limit the package documentation lists. Addr is informational: run
// serves on a listener it opened itself.
func newServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// source is where originals come from, with what to tell the user about it.
type source struct {
	origin   imageopto.Origin
	describe string    // for the banner and the index page
	examples []example // ready-to-open requests
	close    func()
}

// openSource opens the origin the flags ask for: a directory, an HTTP
// base URL, or the embedded samples.
func openSource(cfg *config) (*source, error) {
	switch {
	case cfg.backend.s3 != "":
		return cfg.backend.openS3Origin()
	case cfg.dir != "":
		o, err := imageopto.NewDirOrigin(cfg.dir, 0)
		if err != nil {
			return nil, err
		}
		return &source{
			origin:   o,
			describe: "originals from directory " + cfg.dir,
			examples: dirExamples(cfg.dir),
			close:    func() { _ = o.Close() },
		}, nil
	case cfg.origin != "":
		o, err := imageopto.NewHTTPOrigin(cfg.origin, nil)
		if err != nil {
			return nil, err
		}
		return &source{
			origin:   o,
			describe: "originals from " + strings.TrimRight(cfg.origin, "/") + "/PATH",
			examples: []example{{Path: "/PATH?width=300", What: "PATH at 300 px wide"}},
			close:    func() {},
		}, nil
	}
	if len(cfg.allowHosts) > 0 {
		o, err := imageopto.NewURLOrigin(imageopto.URLOriginOptions{AllowedHosts: cfg.allowHosts})
		if err != nil {
			return nil, err
		}
		return &source{
			origin:   schemeOrigin{o},
			describe: "originals from https://HOST/PATH for HOST in " + cfg.allowHosts.String(),
			examples: []example{{Path: "/" + strings.TrimPrefix(cfg.allowHosts[0], "*.") + "/PATH?width=300", What: "https://HOST/PATH at 300 px wide"}},
			close:    func() {},
		}, nil
	}
	sub, err := fs.Sub(samples, "samples")
	if err != nil {
		return nil, err
	}
	return &source{
		origin:   imageopto.NewFSOrigin(sub, 0),
		describe: "embedded sample images",
		examples: sampleExamples,
		close:    func() {},
	}, nil
}

// schemeOrigin lets a URLOrigin's path start with "https:/": a client
// that puts a whole URL in the path (/https://HOST/PATH) sees it cleaned
// to /https:/HOST/PATH by the server's mux.
type schemeOrigin struct{ imageopto.Origin }

// Fetch drops the scheme prefix and fetches HOST/PATH.
func (o schemeOrigin) Fetch(ctx context.Context, req imageopto.FetchRequest) (*imageopto.Source, error) {
	req.Path = strings.TrimPrefix(req.Path, "https:/")
	return o.Origin.Fetch(ctx, req)
}

// baseURL is the URL to print for the listener: the host the user asked
// for (localhost when it was empty or a wildcard) with the port actually
// bound.
func baseURL(flagAddr string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(flagAddr)
	if err != nil || host == "" {
		host = "localhost"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	port := "0"
	if tcp, ok := bound.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
	} else if _, p, err := net.SplitHostPort(bound.String()); err == nil {
		port = p
	}
	return "http://" + net.JoinHostPort(host, port)
}
