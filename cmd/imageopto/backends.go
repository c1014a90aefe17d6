package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/diskcache"
	"github.com/imageopto/imageopto/internal/peerauth"
)

// backendFlags are the flags for shared caches, S3 and the peer cluster.
type backendFlags struct {
	peers         string
	self          string
	peerAddr      string
	peerSecret    stringList // the first is sent; all are accepted
	peerTLS       struct{ cert, key, ca string }
	redis         string
	s3            string
	s3Endpoint    string
	s3Cache       string
	diskCache     string
	diskCacheSize sizeFlag
	purgeLog      string
}

func (b *backendFlags) register(flags *flag.FlagSet) {
	b.diskCacheSize = 1 << 30
	flags.StringVar(&b.peers, "peers", "", "share work with other servers: a comma-separated `LIST` of their peer URLs (http://host:port, this server's among them) or dns:NAME[:PORT] (the addresses NAME resolves to, re-read every 5 s)")
	flags.StringVar(&b.self, "self", "", "this server's peer `URL` as the others reach it (default: http:// and -peer-addr or -addr, when it names a host)")
	flags.StringVar(&b.peerAddr, "peer-addr", "", "serve peer requests on a separate, private `HOST:PORT` instead of -addr")
	flags.Var(&b.peerSecret, "peer-secret", "shared `SECRET` that authenticates peer requests and guards /_imageopto/stats and /_imageopto/purge (required with -peers; without -peers it enables those two); repeat to rotate: the first is sent, every one is accepted (a comma-separated list in the environment)")
	flags.StringVar(&b.peerTLS.cert, "peer-tls-cert", "", "serve peer requests on -peer-addr over TLS with the certificate in `FILE` (PEM), and present it to the other members as the client certificate (it needs both server and client use)")
	flags.StringVar(&b.peerTLS.key, "peer-tls-key", "", "the private key of -peer-tls-cert, in `FILE` (PEM)")
	flags.StringVar(&b.peerTLS.ca, "peer-tls-ca", "", "the CA certificates, in `FILE` (PEM), that the members' certificates must be signed by, as servers and as clients (mutual TLS)")
	flags.StringVar(&b.redis, "redis", "", "share results and originals through Redis at `URL` (redis://host:port/db)")
	flags.StringVar(&b.s3, "s3", "", "fetch originals from S3 at `BUCKET/PREFIX` (credentials and region from AWS_* environment variables)")
	flags.StringVar(&b.s3Endpoint, "s3-endpoint", "", "`URL` of an S3-compatible store, used with path-style addressing (default $AWS_ENDPOINT_URL_S3, else AWS)")
	flags.StringVar(&b.s3Cache, "s3-cache", "", "keep results durably in S3 at `BUCKET/PREFIX`, written in the background")
	flags.StringVar(&b.diskCache, "disk-cache", "", "keep results in `DIR` across restarts")
	flags.Var(&b.diskCacheSize, "disk-cache-size", "bound of -disk-cache, a `SIZE`")
	flags.StringVar(&b.purgeLog, "purge-log", "", "keep purge records in `FILE` across restarts (default: purges.jsonl in -disk-cache; they are also kept in -redis)")
}

func (b *backendFlags) validate(cfg *config) error {
	switch {
	case b.redis != "" && !hasRedis:
		return notBuilt("-redis", "redis")
	case b.s3 != "" && !hasS3:
		return notBuilt("-s3", "s3")
	case b.s3Cache != "" && !hasS3:
		return notBuilt("-s3-cache", "s3")
	case b.peers != "" && !hasCluster:
		return notBuilt("-peers", "cluster")
	}
	if b.peers == "" && b.self != "" {
		return errors.New("-self needs -peers")
	}
	// An empty value (IMAGEOPTO_PEER_SECRET= in the environment) is none.
	b.peerSecret = slices.DeleteFunc(b.peerSecret, func(s string) bool { return s == "" })
	tls := b.peerTLS.cert != "" || b.peerTLS.key != "" || b.peerTLS.ca != ""
	shortSecret := len(b.peerSecret) == 0
	for _, s := range b.peerSecret {
		shortSecret = shortSecret || len(s) < 16
	}
	switch {
	case b.peers == "" && len(b.peerSecret) == 0 && (b.peerAddr != "" || tls):
		return errors.New("-peer-addr and -peer-tls-* need -peers or -peer-secret")
	case b.s3 != "" && (cfg.dir != "" || cfg.origin != ""):
		return errors.New("-s3, -dir and -origin are mutually exclusive")
	case (b.peers != "" || len(b.peerSecret) > 0) && shortSecret:
		return errors.New("-peers needs -peer-secret (or $IMAGEOPTO_PEER_SECRET), each secret at least 16 bytes")
	case tls && (b.peerTLS.cert == "" || b.peerTLS.key == "" || b.peerTLS.ca == ""):
		return errors.New("-peer-tls-cert, -peer-tls-key and -peer-tls-ca go together")
	case tls && b.peerAddr == "":
		return errors.New("-peer-tls-* need -peer-addr: the peer listener is the one that speaks TLS")
	case b.diskCacheSize <= 0:
		return errors.New("-disk-cache-size must be positive")
	case b.s3Endpoint != "" && b.s3 == "" && b.s3Cache == "":
		return errors.New("-s3-endpoint needs -s3 or -s3-cache")
	}
	return nil
}

// backends are what the backend flags opened.
type backends struct {
	cluster peerTier   // nil outside a cluster
	secrets [][32]byte // -peer-secret, hashed
	tls     *tls.Config
	closers []func()
}

// peerDialContext, when set, dials every peer connection instead of the
// transport's dialer. Tests set it to route member-to-member traffic
// through fault-injecting proxies; the server never sets it.
var peerDialContext dialFunc

// dialFunc dials a connection, as net.Dialer.DialContext does.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// peerTLSConfig loads -peer-tls-*: one certificate for serving and as the
// client certificate, and the CA that signs every member's.
func (b *backendFlags) peerTLSConfig() (*tls.Config, error) {
	if b.peerTLS.cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(b.peerTLS.cert, b.peerTLS.key)
	if err != nil {
		return nil, fmt.Errorf("-peer-tls-cert, -peer-tls-key: %w", err)
	}
	pem, err := os.ReadFile(b.peerTLS.ca)
	if err != nil {
		return nil, fmt.Errorf("-peer-tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-peer-tls-ca: no PEM certificate in %s", b.peerTLS.ca)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,                           // as a client
		ClientCAs:    pool,                           // as a server
		ClientAuth:   tls.RequireAndVerifyClientCert, // mutual
	}, nil
}

// peerTier is a running peer tier (package cluster, in builds with the
// cluster tag).
type peerTier interface {
	// Handler serves the peer protocol.
	Handler() http.Handler
	// counts are the figures /readyz and the metrics need.
	counts() peerCounts
	// stats are all its statistics, for /_imageopto/stats.
	stats() any
}

// peerCounts are a peer tier's members and forwards.
type peerCounts struct {
	Members, Healthy         int
	Forwarded, ForwardErrors int64
}

func (b *backends) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// setup adds the shared caches and the cluster to opts. memResults and
// memSources are the in-memory layers (nil when -cache-size is 0).
func (b *backendFlags) setup(cfg *config, opts *imageopto.Options, memResults, memSources imageopto.Cache, logger *slog.Logger) (*backends, error) {
	out := &backends{}
	fail := func(err error) (*backends, error) {
		out.close()
		return nil, err
	}
	results := []namedCache{}
	sources := []namedCache{}
	var purgeStores []imageopto.PurgeStore
	if memResults != nil {
		results = append(results, namedCache{"memory", memResults})
		sources = append(sources, namedCache{"memory", memSources})
	}
	if b.diskCache != "" {
		if err := os.MkdirAll(b.diskCache, 0o700); err != nil {
			return fail(fmt.Errorf("-disk-cache: %w", err))
		}
		d, err := diskcache.Open(b.diskCache, int64(b.diskCacheSize), &diskcache.Options{Logger: logger})
		if err != nil {
			return fail(fmt.Errorf("-disk-cache: %w", err))
		}
		out.closers = append(out.closers, func() { _ = d.Close() })
		results = append(results, namedCache{"disk", d})
		if b.purgeLog == "" {
			b.purgeLog = filepath.Join(b.diskCache, "purges.jsonl")
		}
	}
	if b.redis != "" {
		r, s, purges, closeAll, err := openRedis(b.redis)
		if err != nil {
			return fail(err)
		}
		out.closers = append(out.closers, closeAll)
		results = append(results, namedCache{"redis", r})
		sources = append(sources, namedCache{"redis", s})
		purgeStores = append(purgeStores, purges)
	}
	if b.s3Cache != "" {
		sc, closeAll, err := b.openS3Cache(logger)
		if err != nil {
			return fail(err)
		}
		out.closers = append(out.closers, closeAll)
		results = append(results, namedCache{"s3", sc})
	}
	// Layers below memory: a hit there is copied into memory for an hour.
	// With an observer, each layer's lookups are counted under
	// "result/memory", "source/redis" and so on.
	layered := func(kind string, l []namedCache) imageopto.Cache {
		switch len(l) {
		case 0:
			return nil
		case 1:
			return l[0].c
		}
		caches := make([]imageopto.Cache, len(l))
		for i, n := range l {
			caches[i] = n.c
			if opts.Observer != nil {
				caches[i] = imageopto.ObservedCache(kind+"/"+n.name, n.c, opts.Observer)
			}
		}
		return imageopto.NewLayeredCache(time.Hour, caches...)
	}
	opts.Cache, opts.SourceCache = layered("result", results), layered("source", sources)
	if b.purgeLog != "" {
		purgeStores = append(purgeStores, imageopto.NewFilePurgeStore(b.purgeLog))
	}
	switch len(purgeStores) {
	case 0:
	case 1:
		opts.PurgeStore = purgeStores[0]
	default:
		opts.PurgeStore = imageopto.PurgeStores(purgeStores...)
	}
	if len(b.peerSecret) > 0 {
		out.secrets = peerauth.Hash(b.peerSecret...)
	}
	tlsConf, err := b.peerTLSConfig()
	if err != nil {
		return fail(err)
	}
	out.tls = tlsConf
	opts.DisableCache = opts.Cache == nil && opts.SourceCache == nil
	if opts.Cache == nil {
		opts.Cache = noCache{}
	}
	if opts.SourceCache == nil {
		opts.SourceCache = noCache{}
	}

	if b.peers != "" {
		peers, tier, closeAll, err := b.openCluster(cfg, tlsConf, peerDialContext, logger)
		if err != nil {
			return fail(err)
		}
		out.closers = append(out.closers, closeAll)
		out.cluster = peers
		opts.Tier = tier
	}
	return out, nil
}

// mount adds the peer handler (in a cluster), the stats endpoint and the
// purge endpoint, all behind the peer secret, when one is set: to mux, or
// with -peer-addr to a separate server of their own (over TLS with
// -peer-tls-*).
func (b *backends) mount(ctx context.Context, mux *http.ServeMux, h *imageopto.Handler, peerAddr string, logger *slog.Logger) error {
	if len(b.secrets) == 0 {
		return nil
	}
	if peerAddr != "" {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", peerAddr)
		if err != nil {
			return fmt.Errorf("-peer-addr: %w", err)
		}
		if b.tls != nil {
			ln = tls.NewListener(ln, b.tls)
		}
		mux = http.NewServeMux()
		srv := newServer(peerAddr, mux)
		srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
		go func() { _ = srv.Serve(ln) }()
		b.closers = append(b.closers, func() {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if srv.Shutdown(sctx) != nil {
				_ = srv.Close()
			}
		})
	}
	if b.cluster != nil {
		mux.Handle("/_imageopto/peer/", b.cluster.Handler())
	}
	guard := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !peerauth.Authorized(r, b.secrets) {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			next(w, r)
		}
	}
	mux.HandleFunc("GET /_imageopto/stats", guard(func(w http.ResponseWriter, r *http.Request) {
		cs := noPeerStats()
		if b.cluster != nil {
			cs = b.cluster.stats()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Handler imageopto.HandlerStats
			Cluster any
		}{h.Stats(), cs})
	}))
	mux.HandleFunc("POST /_imageopto/purge", guard(func(w http.ResponseWriter, r *http.Request) {
		servePurge(w, r, h, logger)
	}))
	return nil
}

// servePurge is POST /_imageopto/purge?path=P[&path=Q…][&soft=1] (or the
// same as a form body): it purges the originals at the paths on every
// member. 200: done everywhere; 202: done here and on the members reached,
// the others catch up when they are reachable again; 400: a bad path.
func servePurge(w http.ResponseWriter, r *http.Request, h *imageopto.Handler, logger *slog.Logger) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	paths := r.Form["path"]
	if len(paths) == 0 {
		http.Error(w, "no path to purge: give path=… (repeatable)", http.StatusBadRequest)
		return
	}
	soft, _ := strconv.ParseBool(r.Form.Get("soft"))
	purge := h.Purge
	if soft {
		purge = h.SoftPurge
	}
	err := purge(r.Context(), paths...)
	status := http.StatusOK
	answer := struct {
		Purged  []string `json:"purged"`
		Soft    bool     `json:"soft"`
		Warning string   `json:"warning,omitempty"`
	}{paths, soft, ""}
	switch {
	case errors.Is(err, imageopto.ErrBadPath):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case errors.Is(err, imageopto.ErrPurgeIncomplete):
		status = http.StatusAccepted
		answer.Warning = err.Error()
	case err != nil:
		// Applied in memory, not saved for a restart.
		status = http.StatusInternalServerError
		answer.Warning = err.Error()
	}
	logger.Info("purge", "paths", paths, "soft", soft, "status", status)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(answer)
}

// namedCache is a cache layer with its name for the metrics.
type namedCache struct {
	name string
	c    imageopto.Cache
}

// noCache stores nothing: it stands for an absent layer while request
// collapsing stays on.
type noCache struct{}

func (noCache) Get(context.Context, string) ([]byte, error) { return nil, imageopto.ErrCacheMiss }
func (noCache) Set(context.Context, string, []byte, time.Duration) error {
	return nil
}

func (b *backendFlags) describe() string {
	s := ""
	add := func(f string, v ...any) { s += fmt.Sprintf(f, v...) }
	if b.peers != "" {
		add("  cluster: peers %s\n", b.peers)
	}
	if b.redis != "" {
		add("  redis: %s\n", b.redis)
	}
	if b.diskCache != "" {
		add("  disk cache: %s (%s)\n", b.diskCache, formatSize(int64(b.diskCacheSize)))
	}
	if b.s3Cache != "" {
		add("  results kept in S3: %s\n", b.s3Cache)
	}
	return s
}
