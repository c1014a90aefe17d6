package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/groupcache"
	"github.com/golang/groupcache/consistenthash"
	pb "github.com/golang/groupcache/groupcachepb"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/internal/peerauth"
)

// Options configure a Cluster. Self, Peers and Secret are required; every
// other field has the default it documents.
type Options struct {
	// Self is this machine's peer URL as the other machines reach it:
	// scheme, host and port, e.g. "http://10.0.0.7:8080". It must be one of
	// the URLs Peers returns (it is added if missing).
	Self string
	// Peers tells who the members are: Static for a fixed list, DNS for
	// names that resolve to the members' addresses, or your own PeerSource.
	Peers PeerSource
	// Secret authenticates peer requests: this member sends it, and a
	// request without it (or one of AcceptSecrets) is refused with 403.
	Secret string
	// AcceptSecrets are further secrets accepted from other members, for
	// rotation: give every member the new secret here, then make it
	// Secret everywhere, then drop the old one. Default: none.
	AcceptSecrets []string
	// BasePath is where the peer handler is mounted on every member.
	// Default: "/_imageopto/peer/".
	BasePath string
	// MetaBytes, SourceBytes and ResultBytes bound the memory of each
	// group's cache on this machine (the keys it owns plus a hot copy of
	// popular keys others own). Defaults: 16 MiB, 256 MiB and 256 MiB.
	MetaBytes, SourceBytes, ResultBytes int64
	// PeerTimeout caps one request to a peer; the request's own remaining
	// time bounds it further. When it passes, this machine makes the value
	// itself. Default: 10 seconds.
	PeerTimeout time.Duration
	// LoadTimeout bounds a load this machine runs for a peer; it goes on
	// when the peer that asked gives up, because others may wait for the
	// same key. Default: 30 seconds.
	LoadTimeout time.Duration
	// ProbeInterval and ProbeTimeout pace the health checks of every peer.
	// Defaults: 500 ms and 300 ms.
	ProbeInterval, ProbeTimeout time.Duration
	// FailuresToOpen is how many failed probes in a row, or failed requests
	// in a row, mark a peer down. While a peer is down its keys are made
	// locally, requests in flight to it are abandoned, and probes continue;
	// one good probe brings it back — after a hold when requests failed
	// (four probe intervals, doubling while it recurs, at most 30 s), so
	// that a peer that answers probes but not values is not tried again at
	// every probe. Default: 2.
	FailuresToOpen int
	// MaxValueBytes bounds a value read from a peer. Default: 256 MiB.
	MaxValueBytes int64
	// StallTimeout abandons a peer's answer whose body stops arriving for
	// this long once its headers came (an owner sends a value all at
	// once, so a pause means a broken path); the value is then made
	// locally. Default: 2 seconds.
	StallTimeout time.Duration
	// Transport carries peer requests. Default: NewTransport(nil), keep-alive
	// connections and no proxy; NewTransport with a tls.Config for https
	// peer URLs with client certificates.
	Transport http.RoundTripper
	// Logger receives membership changes and peer failures. Default:
	// slog.Default().
	Logger *slog.Logger
}

// minSecret is the shortest shared secret accepted.
const minSecret = 16

// Group names registered with groupcache. They are process-wide.
const groupPrefix = "imageopto-"

// started guards groupcache's process-wide registries (its peer picker and
// group names): one Cluster per process.
var started atomic.Bool

// errNoForward refuses to pass on a request that came from a peer: when
// members disagree about ownership, A → B → A would wait on itself.
var errNoForward = errors.New("cluster: request came from a peer; not forwarded")

// errPeerDown is returned for a request to a peer marked down.
var errPeerDown = errors.New("cluster: peer is down")

// A Cluster is an imageopto.Tier on groupcache: it shares originals and
// results among the machines of a cluster. See the package documentation.
type Cluster struct {
	opts    Options
	self    string
	log     *slog.Logger
	client  *http.Client
	secrets [][32]byte // Secret, then AcceptSecrets
	groups  atomic.Pointer[map[imageopto.TierGroup]*groupcache.Group]
	id      string // this process's identity, answered by the health check

	mu      sync.RWMutex
	members []string // sorted, includes self
	ring    *consistenthash.Map
	peers   map[string]*peer // every member but self

	stop      context.CancelFunc
	done      sync.WaitGroup
	closeOnce sync.Once

	purges atomic.Pointer[imageopto.PurgeLog]

	// Counters for tests and monitoring.
	forwarded, forwardErrors, served, localOnly, purgeSyncs atomic.Int64
}

// New makes a Cluster from opts: it reads the member list once, and starts
// health checks and (for a PeerSource that changes) membership polling.
// Only one Cluster may exist in a process, because groupcache registers its
// groups and peer picker process-wide; a second New returns an error. Use
// it as imageopto.Options.Tier and mount Handler at BasePath.
func New(opts Options) (*Cluster, error) {
	o, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	if !started.CompareAndSwap(false, true) {
		return nil, errors.New("cluster: a Cluster already exists in this process (groupcache's registry is process-wide)")
	}
	c := &Cluster{
		opts:    o,
		self:    o.Self,
		log:     o.Logger,
		client:  &http.Client{Transport: o.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		secrets: hashSecrets(o),
		peers:   map[string]*peer{},
		id:      newID(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	first, err := o.Peers.Peers(ctx)
	if err != nil {
		c.log.Warn("cluster: first membership read failed; starting alone", "err", err)
	}
	c.setMembers(first)
	c.done.Add(2)
	go c.pollMembers(ctx)
	go c.probeLoop(ctx)
	return c, nil
}

func withDefaults(o Options) (Options, error) {
	var errs []error
	if o.Peers == nil {
		errs = append(errs, errors.New("cluster: Options.Peers is required"))
	}
	if len(o.Secret) < minSecret {
		errs = append(errs, fmt.Errorf("cluster: Options.Secret is required, at least %d bytes", minSecret))
	}
	for _, s := range o.AcceptSecrets {
		if len(s) < minSecret {
			errs = append(errs, fmt.Errorf("cluster: Options.AcceptSecrets: each at least %d bytes", minSecret))
			break
		}
	}
	self, err := normalizePeer(o.Self)
	if err != nil {
		errs = append(errs, fmt.Errorf("cluster: Options.Self: %w", err))
	}
	o.Self = self
	for name, d := range map[string]time.Duration{"PeerTimeout": o.PeerTimeout, "LoadTimeout": o.LoadTimeout,
		"ProbeInterval": o.ProbeInterval, "ProbeTimeout": o.ProbeTimeout, "StallTimeout": o.StallTimeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("cluster: Options.%s is negative", name))
		}
	}
	if o.FailuresToOpen < 0 || o.MetaBytes < 0 || o.SourceBytes < 0 || o.ResultBytes < 0 || o.MaxValueBytes < 0 {
		errs = append(errs, errors.New("cluster: negative size or count in Options"))
	}
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	if o.BasePath == "" {
		o.BasePath = "/_imageopto/peer/"
	}
	if o.BasePath[0] != '/' || o.BasePath[len(o.BasePath)-1] != '/' {
		return o, fmt.Errorf("cluster: Options.BasePath %q must start and end with /", o.BasePath)
	}
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MetaBytes, 16<<20)
	def(&o.SourceBytes, 256<<20)
	def(&o.ResultBytes, 256<<20)
	def(&o.MaxValueBytes, 256<<20)
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defd(&o.PeerTimeout, 10*time.Second)
	defd(&o.LoadTimeout, 30*time.Second)
	defd(&o.ProbeInterval, 500*time.Millisecond)
	defd(&o.ProbeTimeout, 300*time.Millisecond)
	defd(&o.StallTimeout, 2*time.Second)
	if o.FailuresToOpen == 0 {
		o.FailuresToOpen = 2
	}
	if o.Transport == nil {
		o.Transport = NewTransport(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// NewTransport returns the transport a Cluster uses by default: keep-alive
// connections (64 idle, at most 256 per member), no proxy, no compression;
// with tlsConf, https peer URLs are verified with it (its RootCAs) and it
// presents its Certificates to members that ask for a client certificate.
func NewTransport(tlsConf *tls.Config) *http.Transport {
	t := &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: 64,
		MaxConnsPerHost:     256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		TLSHandshakeTimeout: 5 * time.Second,
	}
	if tlsConf != nil {
		t.TLSClientConfig = tlsConf.Clone()
		t.ForceAttemptHTTP2 = false
	}
	return t
}

// hashSecrets hashes the secrets this member accepts.
func hashSecrets(o Options) [][32]byte {
	return HashSecrets(append([]string{o.Secret}, o.AcceptSecrets...)...)
}

// normalizePeer checks a peer URL and reduces it to scheme://host:port.
func normalizePeer(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("peer URL %q: scheme must be http or https", s)
	}
	if u.Host == "" || u.Port() == "" {
		return "", fmt.Errorf("peer URL %q: needs a host and a port", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("peer URL %q: only scheme, host and port are allowed", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Start registers the groups with groupcache; imageopto.New calls it.
func (c *Cluster) Start(load imageopto.TierLoader) error {
	if c.groups.Load() != nil {
		return errors.New("cluster: already serving a handler")
	}
	groupcache.RegisterPeerPicker(func() groupcache.PeerPicker { return c })
	size := map[imageopto.TierGroup]int64{imageopto.TierMeta: c.opts.MetaBytes,
		imageopto.TierSource: c.opts.SourceBytes, imageopto.TierResult: c.opts.ResultBytes}
	groups := map[imageopto.TierGroup]*groupcache.Group{}
	for _, g := range imageopto.TierGroups() {
		g := g
		groups[g] = groupcache.NewGroup(groupPrefix+string(g), size[g],
			groupcache.GetterFunc(func(ctx context.Context, key string, dest groupcache.Sink) error {
				v, err := load(ctx, g, key)
				if err != nil {
					return err
				}
				return dest.SetBytes(v)
			}))
	}
	c.groups.Store(&groups)
	return nil
}

// Get returns the value of key in group from its owner (see imageopto.Tier).
func (c *Cluster) Get(ctx context.Context, group imageopto.TierGroup, key string) ([]byte, error) {
	g := c.group(group)
	if g == nil {
		return nil, fmt.Errorf("cluster: unknown group %q (Start not called?)", group)
	}
	var v []byte
	if err := g.Get(ctx, key, groupcache.AllocatingByteSliceSink(&v)); err != nil {
		return nil, err
	}
	return v, nil
}

func (c *Cluster) group(name imageopto.TierGroup) *groupcache.Group {
	if m := c.groups.Load(); m != nil {
		return (*m)[name]
	}
	return nil
}

// Close stops health checks and membership polling, and closes idle peer
// connections. The groups stay registered (groupcache cannot unregister
// them), so a closed Cluster keeps working alone.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		c.stop()
		c.done.Wait()
		c.mu.Lock()
		c.ring = nil
		c.mu.Unlock()
		c.client.CloseIdleConnections()
	})
	return nil
}

// Stats are counters of a Cluster.
type Stats struct {
	Members   int   // configured members, self included
	Healthy   int   // members that answer, self included
	Forwarded int64 // requests sent to owners
	// ForwardErrors counts requests to owners that failed; each was then
	// made locally.
	ForwardErrors int64
	Served        int64 // requests served for peers
	// LocalOnly counts keys made locally because fewer than half of the
	// members answered.
	LocalOnly int64
	// PurgeRecords and PurgeDigest describe this member's purge log;
	// members that agree on their purges have the same digest.
	// PurgeSyncs counts the pulls of a peer's log that taught this member
	// purges it had missed.
	PurgeRecords int
	PurgeDigest  string
	PurgeSyncs   int64
}

// Stats returns the counters.
func (c *Cluster) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := Stats{Members: len(c.members), Healthy: c.healthyLocked(), Forwarded: c.forwarded.Load(),
		ForwardErrors: c.forwardErrors.Load(), Served: c.served.Load(), LocalOnly: c.localOnly.Load(),
		PurgeSyncs: c.purgeSyncs.Load()}
	if l := c.purges.Load(); l != nil {
		st.PurgeRecords, st.PurgeDigest = l.Len(), l.Digest()
	}
	return st
}

// healthyLocked counts the members that answer, this one included. c.mu
// is held.
func (c *Cluster) healthyLocked() int {
	n := 1
	for _, p := range c.peers {
		if p.isUp() {
			n++
		}
	}
	return n
}

// PickPeer implements groupcache.PeerPicker: the owner of the key's shard,
// unless that is this machine, the owner is down, or fewer than half of the
// members answer.
func (c *Cluster) PickPeer(key string) (groupcache.ProtoGetter, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ring == nil || len(c.peers) == 0 {
		return nil, false
	}
	owner := c.ring.Get(imageopto.TierShard(key))
	if owner == c.self {
		return nil, false
	}
	if 2*c.healthyLocked() < len(c.members) {
		c.localOnly.Add(1)
		return nil, false
	}
	p := c.peers[owner]
	if p == nil || !p.isUp() {
		return nil, false
	}
	return p, true
}

// setMembers installs a member list.
func (c *Cluster) setMembers(list []string) {
	seen := map[string]bool{c.self: true}
	members := []string{c.self}
	for _, s := range list {
		n, err := normalizePeer(s)
		if err != nil {
			c.log.Warn("cluster: ignoring bad peer URL", "peer", s, "err", err)
			continue
		}
		if !seen[n] {
			seen[n] = true
			members = append(members, n)
		}
	}
	slices.Sort(members)
	c.mu.Lock()
	defer c.mu.Unlock()
	if slices.Equal(members, c.members) {
		return
	}
	ring := consistenthash.New(64, nil)
	ring.Add(members...)
	peers := map[string]*peer{}
	for _, m := range members {
		if m == c.self {
			continue
		}
		if p := c.peers[m]; p != nil {
			peers[m] = p // keep its health state
		} else {
			peers[m] = newPeer(c, m)
		}
	}
	for m, p := range c.peers {
		if peers[m] == nil {
			p.markDown() // abandon requests in flight to a departed member
		}
	}
	c.log.Info("cluster: members", "self", c.self, "members", members)
	c.members, c.ring, c.peers = members, ring, peers
}

func (c *Cluster) pollMembers(ctx context.Context) {
	defer c.done.Done()
	every := c.opts.Peers.Interval()
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		list, err := c.opts.Peers.Peers(ctx)
		if err != nil {
			c.log.Warn("cluster: membership read failed; keeping the last list", "err", err)
			continue
		}
		c.setMembers(list)
	}
}

func (c *Cluster) probeLoop(ctx context.Context) {
	defer c.done.Done()
	t := time.NewTicker(c.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		peers := c.peerList()
		var wg sync.WaitGroup
		for _, p := range peers {
			wg.Go(func() { p.probe(ctx) })
		}
		wg.Wait()
	}
}

// headerSecret carries the shared secret on peer requests.
const headerSecret = peerauth.Header

// Handler serves the peer protocol under BasePath: GET BasePath+"get?g=
// GROUP&k=KEY" answers the value of a key (loading it here when needed), and
// GET BasePath+"health" answers 200. Requests without the shared secret get
// 403. Mount it on the listener the other members reach — the public one
// (the secret guards it) or a separate, private one.
func (c *Cluster) Handler() http.Handler {
	return http.HandlerFunc(c.serve)
}

func (c *Cluster) serve(w http.ResponseWriter, r *http.Request) {
	if !c.authorized(r) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	want := http.MethodGet
	if r.URL.Path == c.opts.BasePath+"purge" {
		want = http.MethodPost
	}
	if r.Method != want {
		w.Header().Set("Allow", want)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case c.opts.BasePath + "health":
		// The process's identity, and the digest of its purge log: a
		// member whose digest differs pulls the log.
		_, _ = io.WriteString(w, c.id+"\n"+c.purgeDigest())
	case c.opts.BasePath + "get":
		c.serveGet(w, r)
	case c.opts.BasePath + "purge":
		c.servePurge(w, r)
	case c.opts.BasePath + "purges":
		c.servePurges(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (c *Cluster) authorized(r *http.Request) bool {
	return Authorized(r, c.secrets)
}

// Authorized reports whether r carries one of the secrets (hashed with
// SHA-256) in the peer secret header. Every hash is compared, in constant
// time.
func Authorized(r *http.Request, secrets [][32]byte) bool {
	return peerauth.Authorized(r, secrets)
}

// HashSecrets returns the SHA-256 of each secret, for Authorized.
func HashSecrets(secrets ...string) [][32]byte {
	return peerauth.Hash(secrets...)
}

func (c *Cluster) serveGet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("k")
	if _, elsewhere := c.PickPeer(key); elsewhere && key != "" {
		// Members disagree about the owner (or this machine is listed
		// twice): the asking peer makes the value itself rather than wait
		// on a chain of forwards.
		http.Error(w, "not the owner of this key", http.StatusMisdirectedRequest)
		return
	}
	g := c.group(imageopto.TierGroup(q.Get("g")))
	if g == nil || key == "" {
		http.Error(w, "unknown group or empty key", http.StatusBadRequest)
		return
	}
	c.served.Add(1)
	// The load runs to LoadTimeout even when the asking peer gives up:
	// others (this machine's own clients among them) may wait for it.
	ctx, cancel := context.WithTimeout(fromPeer(context.WithoutCancel(r.Context()), g.Name(), key), c.opts.LoadTimeout)
	defer cancel()
	if q.Has("o") {
		ctx = imageopto.WithTierOrigin(ctx, q.Get("o"), q.Get("oq"))
	}
	var v []byte
	if err := g.Get(ctx, key, groupcache.AllocatingByteSliceSink(&v)); err != nil {
		// The asking peer makes the value itself; the detail stays here.
		c.log.Warn("cluster: load for a peer failed", "group", q.Get("g"), "err", err)
		http.Error(w, "load failed", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(v)))
	_, _ = w.Write(v)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fromPeerKey marks a context serving a peer's request for one key. That
// key is not forwarded again (other keys the load needs may be: a result's
// owner asks the original's owner).
type fromPeerKey struct{}

type peerRequest struct{ group, key string }

func fromPeer(ctx context.Context, group, key string) context.Context {
	return context.WithValue(ctx, fromPeerKey{}, peerRequest{group, key})
}

func isFromPeer(ctx context.Context, group, key string) bool {
	v, ok := ctx.Value(fromPeerKey{}).(peerRequest)
	return ok && v == peerRequest{group, key}
}

// peer is one other member: a groupcache.ProtoGetter with health state.
type peer struct {
	c   *Cluster
	url string

	mu      sync.Mutex
	up      bool
	alias   bool // this process under another URL: never forwarded to
	syncing atomic.Bool
	// Failed probes in a row, and failed requests in a row: either
	// reaching FailuresToOpen marks the peer down.
	probeFailures, dataFailures int
	// A peer marked down by failed requests while its probes pass (a gray
	// failure: it answers health checks but not values) stays down until
	// holdUntil, whatever the probes say; hold doubles each time, from
	// four probe intervals up to maxHold, and is forgotten after a
	// request succeeds.
	hold      time.Duration
	holdUntil time.Time
	downCtx   context.Context // cancelled when the peer is marked down
	cancel    context.CancelFunc
}

// maxHold bounds how long failed requests keep a peer down against its
// probes.
const maxHold = 30 * time.Second

// newPeer returns a peer that is down until its first good health check,
// so that nothing is forwarded to a member that is not ready.
func newPeer(c *Cluster, url string) *peer {
	p := &peer{c: c, url: url}
	p.downCtx, p.cancel = context.WithCancel(context.Background())
	p.cancel()
	return p
}

func (p *peer) isUp() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.up
}

// healthy records a good probe: it brings the peer back, unless failed
// requests hold it down.
func (p *peer) healthy() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.probeFailures = 0
	if !p.up && !p.alias {
		if time.Now().Before(p.holdUntil) {
			return
		}
		p.dataFailures = 0 // half-open: requests get another chance
		p.up = true
		p.downCtx, p.cancel = context.WithCancel(context.Background())
		p.c.log.Info("cluster: peer is back", "peer", p.url)
	}
}

// answered records a request that succeeded.
func (p *peer) answered() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dataFailures, p.probeFailures, p.hold = 0, 0, 0
}

// failed records a failed probe.
func (p *peer) failed(err error) {
	p.mu.Lock()
	p.probeFailures++
	open := p.up && p.probeFailures >= p.c.opts.FailuresToOpen
	p.mu.Unlock()
	if open {
		p.c.log.Warn("cluster: peer marked down", "peer", p.url, "err", err)
		p.markDown()
	}
}

// requestFailed records a failed request (refused, reset, stalled).
func (p *peer) requestFailed(err error) {
	p.mu.Lock()
	p.dataFailures++
	open := p.up && p.dataFailures >= p.c.opts.FailuresToOpen
	if open {
		p.hold = min(max(2*p.hold, 4*p.c.opts.ProbeInterval), maxHold)
		p.holdUntil = time.Now().Add(p.hold)
	}
	hold := p.hold
	p.mu.Unlock()
	if open {
		p.c.log.Warn("cluster: peer marked down after failed requests", "peer", p.url, "for at least", hold, "err", err)
		p.markDown()
	}
}

func (p *peer) markDown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = false
	p.cancel()
}

// done returns the context that is cancelled when the peer goes down.
func (p *peer) done() context.Context {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.downCtx
}

func (p *peer) probe(loop context.Context) {
	ctx, cancel := context.WithTimeout(loop, p.c.opts.ProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+p.c.opts.BasePath+"health", nil)
	if err != nil {
		p.failed(err)
		return
	}
	req.Header.Set(headerSecret, p.c.opts.Secret)
	resp, err := p.c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return // closing
		}
		p.failed(err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	_ = resp.Body.Close()
	if err != nil {
		p.failed(err)
		return
	}
	if resp.StatusCode != http.StatusOK {
		p.failed(fmt.Errorf("health: %s", resp.Status))
		return
	}
	id, digest, _ := strings.Cut(string(body), "\n")
	if id == p.c.id {
		p.mu.Lock()
		first := !p.alias
		p.alias = true
		p.mu.Unlock()
		if first {
			p.c.log.Error("cluster: a member URL reaches this process itself; list it once, as Self", "self", p.c.self, "alias", p.url)
		}
		p.markDown()
		return
	}
	p.healthy()
	if digest != "" && digest != p.c.purgeDigest() && !p.syncing.Load() {
		// In the background: a slow pull must not hold up the probes.
		p.c.done.Add(1) // (the probe loop's own count keeps it above 0)
		go func() {
			defer p.c.done.Done()
			p.syncPurges(loop)
		}()
	}
}

// Get implements groupcache.ProtoGetter: one request to the owner, bounded
// by the caller's remaining time and PeerTimeout, abandoned when the peer is
// marked down meanwhile.
func (p *peer) Get(ctx context.Context, in *pb.GetRequest, out *pb.GetResponse) error {
	if isFromPeer(ctx, in.GetGroup(), in.GetKey()) {
		return errNoForward
	}
	if !p.isUp() {
		return errPeerDown
	}
	c := p.c
	c.forwarded.Add(1)
	timeout := c.opts.PeerTimeout
	if dl, ok := ctx.Deadline(); ok {
		// Half the time left at most: when the owner does not answer, the
		// other half makes the value here.
		timeout = min(timeout, time.Until(dl)/2)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(p.done(), cancel)
	defer stop()
	v, err := p.fetch(rctx, in.GetGroup(), in.GetKey()) // (the result's origin rides in rctx)
	if err != nil {
		c.forwardErrors.Add(1)
		return err
	}
	out.Value = v
	return nil
}

func (p *peer) fetch(ctx context.Context, group, key string) ([]byte, error) {
	c := p.c
	group = group[len(groupPrefix):]
	q := url.Values{"g": {group}, "k": {key}}
	if path, query, ok := imageopto.TierOrigin(ctx); ok && group == string(imageopto.TierResult) {
		// Result keys name bytes, not where to find them: the owner needs
		// the path to make the value.
		q.Set("o", path)
		q.Set("oq", query)
	}
	u := p.url + c.opts.BasePath + "get?" + q.Encode()
	rctx, cancel := context.WithCancel(ctx) // also cancelled by a stalled body
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(headerSecret, c.opts.Secret)
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			// Refused or reset: the peer's fault. A request that ran out of
			// time is not: the owner may be busy with a slow transform, and
			// a hung peer is found by the health probes.
			p.requestFailed(err)
		}
		return nil, fmt.Errorf("cluster: peer %s: %w", p.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("cluster: peer %s: %s", p.url, resp.Status)
	}
	if resp.ContentLength > c.opts.MaxValueBytes {
		return nil, fmt.Errorf("cluster: peer %s: value of %d bytes is over the limit", p.url, resp.ContentLength)
	}
	v, err := readWatched(resp.Body, c.opts.MaxValueBytes+1, c.opts.StallTimeout, cancel)
	if err != nil {
		if ctx.Err() == nil || errors.Is(err, errStalled) {
			p.requestFailed(err)
		}
		return nil, fmt.Errorf("cluster: peer %s: %w", p.url, err)
	}
	if int64(len(v)) > c.opts.MaxValueBytes {
		return nil, fmt.Errorf("cluster: peer %s: value over %d bytes", p.url, c.opts.MaxValueBytes)
	}
	if resp.ContentLength >= 0 && int64(len(v)) != resp.ContentLength {
		return nil, fmt.Errorf("cluster: peer %s: short value", p.url)
	}
	p.answered()
	return v, nil
}

// peerList returns the peers known now, for work done without the lock.
func (c *Cluster) peerList() []*peer {
	c.mu.RLock()
	defer c.mu.RUnlock()
	peers := make([]*peer, 0, len(c.peers))
	for _, p := range c.peers {
		peers = append(peers, p)
	}
	return peers
}
