package main

// The network-fault suite: real server processes whose member-to-member
// connections all pass through fault-injecting proxies (faultproxy_test.go),
// a counting origin, and a bounded client load against every member while
// each fault is held. See TestClusterFaults.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/require"
)

// The configuration the bounds below are derived from: the flight timeout
// the members run with (-flight-timeout) and the cluster package's
// defaults (500 ms probes with a 300 ms timeout, two failures mark a peer
// down, a stalled answer is given up after 2 s).
const (
	faultFlightTimeout = 10 * time.Second
	// A request ends within the flight timeout (its flight is bounded by
	// it, and a peer request takes at most half of it before the value is
	// made locally); the margin is for a loaded machine, not a speed claim.
	faultLatencyBound = faultFlightTimeout + 5*time.Second
	// How long after a fault starts errors may still come: until the
	// probes mark the peer down (2 × 500 ms + 300 ms), or a stalled
	// answer is given up (2 s), with a wide margin.
	faultOnset = 5 * time.Second
	// How long after healing the members must agree again: every member
	// sees every other healthy (one good probe, 500 ms) and has the same
	// purge log (one pull at the next probe), with a wide margin.
	faultConvergeBound = 15 * time.Second
)

// faultOrigin serves a generated JPEG for any path ending in .jpg, counts
// fetches per path, and can be slowed down or given a new version of a
// path's image.
type faultOrigin struct {
	mu       sync.Mutex
	counts   map[string]int
	versions map[string]int
	cache    map[string][]byte
	delay    atomic.Int64 // nanoseconds
}

func newFaultOrigin() *faultOrigin {
	return &faultOrigin{counts: map[string]int{}, versions: map[string]int{}, cache: map[string][]byte{}}
}

func (o *faultOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(o.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if !strings.HasSuffix(r.URL.Path, ".jpg") {
		http.NotFound(w, r)
		return
	}
	o.mu.Lock()
	o.counts[r.URL.Path]++
	v := o.versions[r.URL.Path]
	key := fmt.Sprintf("%s#%d", r.URL.Path, v)
	data, ok := o.cache[key]
	o.mu.Unlock()
	if !ok {
		h := fnv.New32a()
		h.Write([]byte(key))
		data = gradientJPEGSeed(h.Sum32(), 160, 120)
		o.mu.Lock()
		o.cache[key] = data
		o.mu.Unlock()
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Header().Set("ETag", fmt.Sprintf(`"%s-%d"`, strings.ReplaceAll(r.URL.Path, "/", "_"), v))
	_, _ = w.Write(data)
}

func (o *faultOrigin) bump(path string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.versions[path]++
}

func (o *faultOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[path]
}

// gradientJPEGSeed draws a w×h JPEG that depends on seed.
func gradientJPEGSeed(seed uint32, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	a, b, c := uint8(seed), uint8(seed>>8), uint8(seed>>16)
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x) + a, uint8(y) + b, uint8(x+y) ^ c, 255})
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes()
}

// stablePort returns a loopback port that was free a moment ago, below
// the usual ephemeral range (32768–60999 on Linux): the proxies' and the
// members' own connections take their local ports from that range, so they
// cannot take this one before the member that is told to listen on it
// does.
func stablePort(t *testing.T) string {
	for range 200 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			addr := ln.Addr().String()
			_ = ln.Close()
			return addr
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

// faultCluster is n member processes and a proxy per directed link.
type faultCluster struct {
	t         *testing.T
	n         int
	addrs     []string  // public listeners (clients, direct)
	peerAddrs []string  // peer listeners (members, through the proxies)
	links     [][]*link // links[i][j]: member i's connections to member j
	origin    *faultOrigin
	client    *http.Client
}

const faultSecret = "fault-suite-secret-0123456789"

func startFaultCluster(t *testing.T, n int) *faultCluster {
	fc := &faultCluster{t: t, n: n, origin: newFaultOrigin(),
		client: &http.Client{Timeout: 2 * faultLatencyBound, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	t.Cleanup(fc.client.CloseIdleConnections)
	originSrv := httptest.NewServer(fc.origin)
	t.Cleanup(originSrv.Close)
	var peers []string
	for range n {
		fc.addrs = append(fc.addrs, stablePort(t))
		fc.peerAddrs = append(fc.peerAddrs, stablePort(t))
		peers = append(peers, "http://"+fc.peerAddrs[len(fc.peerAddrs)-1])
	}
	fc.links = make([][]*link, n)
	for i := range n {
		fc.links[i] = make([]*link, n)
		routes := map[string]string{}
		for j := range n {
			if i == j {
				continue
			}
			l, err := newLink(fc.peerAddrs[j])
			require.NoError(t, err)
			t.Cleanup(l.closeAll)
			fc.links[i][j] = l
			routes[fc.peerAddrs[j]] = l.addr()
		}
		b, err := json.Marshal(routes)
		require.NoError(t, err)
		startServerEnv(t, fc.addrs[i], []string{"IMAGEOPTO_TEST_PEER_ROUTES=" + string(b)},
			"-origin", originSrv.URL, "-peers", strings.Join(peers, ","), "-self", peers[i],
			"-peer-addr", fc.peerAddrs[i], "-peer-secret", faultSecret,
			"-flight-timeout", faultFlightTimeout.String(), "-cache-size", "64MiB", "-access-log=false")
	}
	_, err := fc.converge(30 * time.Second)
	require.NoError(t, err, "the members did not find each other")
	return fc
}

type memberStats struct {
	Handler struct{ Transforms int64 }
	Cluster struct {
		Members, Healthy int
		Forwarded        int64
		PurgeDigest      string
	}
}

func (fc *faultCluster) stats(i int) (memberStats, error) {
	var s memberStats
	req, _ := http.NewRequest(http.MethodGet, "http://"+fc.peerAddrs[i]+"/_imageopto/stats", nil)
	req.Header.Set("Imageopto-Peer-Secret", faultSecret)
	resp, err := fc.client.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("stats: %s", resp.Status)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// converge waits until every member sees every other healthy and all have
// the same purge log, and returns how long that took.
func (fc *faultCluster) converge(bound time.Duration) (time.Duration, error) {
	start := time.Now()
	var last string
	for time.Since(start) < bound {
		ok := true
		digests := map[string]bool{}
		for i := range fc.n {
			s, err := fc.stats(i)
			if err != nil || s.Cluster.Healthy != fc.n {
				ok = false
				last = fmt.Sprintf("member %d: healthy %d of %d (%v)", i, s.Cluster.Healthy, fc.n, err)
				break
			}
			digests[s.Cluster.PurgeDigest] = true
		}
		if ok && len(digests) == 1 {
			return time.Since(start), nil
		}
		if ok {
			last = fmt.Sprintf("purge digests differ: %v", digests)
		}
		time.Sleep(25 * time.Millisecond)
	}
	return time.Since(start), fmt.Errorf("not converged after %v: %s", bound, last)
}

// set applies faults to the links i → j for which f returns ok.
func (fc *faultCluster) set(f func(i, j int) (linkSettings, bool)) {
	for i := range fc.n {
		for j := range fc.n {
			if i == j {
				continue
			}
			if s, ok := f(i, j); ok {
				fc.links[i][j].apply(s)
			}
		}
	}
}

func (fc *faultCluster) heal() {
	fc.set(func(int, int) (linkSettings, bool) { return linkSettings{}, true })
	fc.origin.delay.Store(0)
}

// isolate applies s to every link into and out of the members in group
// that crosses to a member outside it.
func (fc *faultCluster) isolate(s linkSettings, group ...int) {
	in := func(k int) bool { return slices.Contains(group, k) }
	fc.set(func(i, j int) (linkSettings, bool) { return s, in(i) != in(j) })
}

func (fc *faultCluster) get(member int, u string) (int, []byte, error) {
	resp, err := fc.client.Get("http://" + fc.addrs[member] + u)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (fc *faultCluster) purge(member int, path string) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+fc.peerAddrs[member]+"/_imageopto/purge?path="+url.QueryEscape(path), nil)
	req.Header.Set("Imageopto-Peer-Secret", faultSecret)
	resp, err := fc.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sample is one client request of the load.
type sample struct {
	member     int
	url        string
	start, end time.Time
	code       int
	body       [32]byte
	err        error
}

// keyURL is the i-th URL of scenario k: it walks the originals, then
// the widths, then two formats, so that each new i is a new result key.
func keyURL(k, i int) string {
	const originals, widths = 6, 385
	o, w, f := i%originals, 16+(i/originals)%widths, (i/(originals*widths))%2
	return fmt.Sprintf("/f%d/o%d.jpg?width=%d%s", k, o, w, []string{"", "&format=png"}[f])
}

// load runs workers until ctx ends; each request goes to a random member
// and asks, half the time, for a URL never asked before (a miss
// everywhere: the tier's work), else for one asked before (a hit, on a
// member that may not have served it yet).
func (fc *faultCluster) load(ctx context.Context, workers, k int) []sample {
	var mu sync.Mutex
	var out []sample
	var issued []string
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil {
				mu.Lock()
				var u string
				if len(issued) == 0 || rng.IntN(2) == 0 {
					u = keyURL(k, int(next.Add(1)-1))
					issued = append(issued, u)
				} else {
					u = issued[rng.IntN(len(issued))]
				}
				mu.Unlock()
				s := sample{member: rng.IntN(fc.n), url: u, start: time.Now()}
				code, body, err := fc.get(s.member, s.url)
				s.end, s.code, s.err = time.Now(), code, err
				if err == nil && code == http.StatusOK {
					s.body = sha256.Sum256(body)
				}
				mu.Lock()
				out = append(out, s)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

// fault is one scenario of the suite.
type fault struct {
	name string
	// apply starts the fault; during, when set, runs while it is held
	// (it returns when ctx ends).
	apply  func(fc *faultCluster)
	during func(ctx context.Context, fc *faultCluster, r *faultRun)
	// purged: the scenario purges an original.
	purged bool
	// cuts: the fault must make some member see another down (proof that
	// the proxies did cut the links).
	cuts bool
}

// faultRun is what one scenario measured.
type faultRun struct {
	name                   string
	requests               int
	onsetErrs, afterErrs   int // 5xx and failed requests while the fault starts, and after
	onsetReqs              int
	distinct               int // most distinct bodies for one URL
	maxFetches, fetchBound int
	p99, maxLatency        time.Duration
	minUp                  int // fewest members any member saw healthy during the fault
	converge               time.Duration
	purgePath              string    // the original the scenario purges
	bumpAt, purgeAt        time.Time // when it changed at the origin, when the purge returned
	notes                  []string
}

// TestClusterFaults is the network-fault suite. Member processes talk to
// each other only through fault-injecting proxies on loopback; clients
// and the origin reach every member directly. Under each fault a bounded
// load (8 workers) runs against every member; it checks, per fault:
//
//   - errors (5xx or a failed request): at most 1 % of the requests
//     while the fault starts (faultOnset), none after the probes acted;
//   - every 200 for a URL carries the same bytes on every member;
//   - origin fetches per original ≤ the number of members: a member's
//     source cache keeps an original (max-age 3600) and its fetches of one
//     original are collapsed, so whatever the faults each member fetches
//     an original at most once; without faults the owner alone does;
//   - no request takes longer than the flight timeout plus a margin;
//   - after healing, the members converge (all healthy, one purge log)
//     within faultConvergeBound, and forwarding has resumed: a new
//     original asked of every member is fetched and transformed once.
//
// The default run (go test ./...) runs a short version: three members,
// two faults. IMAGEOPTO_FAULTS=1 runs five members and every fault (about
// three minutes), as .ci/run does.
func TestClusterFaults(t *testing.T) {
	needFeature(t, "cluster")
	if testing.Short() {
		t.Skip("starts member processes")
	}
	full := os.Getenv("IMAGEOPTO_FAULTS") != ""
	n, hold := 3, 3*time.Second
	if full {
		n, hold = 5, 7*time.Second
	}
	fc := startFaultCluster(t, n)
	last := n - 1
	blackhole := linkSettings{mode: modeBlackhole}
	faults := []fault{
		{name: "none", apply: func(*faultCluster) {}},
		{name: "partition of one member", cuts: true, apply: func(fc *faultCluster) { fc.isolate(blackhole, last) }},
		{name: "purge during a partition", purged: true, cuts: true,
			apply:  func(fc *faultCluster) { fc.isolate(blackhole, last) },
			during: purgeDuringPartition},
	}
	if full {
		faults = []fault{faults[0], faults[1],
			{name: "minority partition (2 of 5)", cuts: true, apply: func(fc *faultCluster) { fc.isolate(blackhole, last-1, last) }},
			{name: "flapping link (300 ms)", apply: func(*faultCluster) {}, during: flap},
			{name: "latency 200±50 ms", apply: func(fc *faultCluster) {
				fc.set(func(int, int) (linkSettings, bool) {
					return linkSettings{latency: 200 * time.Millisecond, jitter: 50 * time.Millisecond}, true
				})
			}},
			{name: "connections reset", cuts: true, apply: func(fc *faultCluster) { fc.isolate(linkSettings{mode: modeReset}, last) }},
			{name: "answers stall mid-body", apply: func(fc *faultCluster) {
				fc.isolate(linkSettings{mode: modeStall, stallAfter: 600}, last)
			}},
			{name: "bandwidth 32 KB/s", apply: func(fc *faultCluster) {
				fc.set(func(int, int) (linkSettings, bool) { return linkSettings{bandwidth: 32 << 10}, true })
			}},
			{name: "asymmetric (0→last answers lost)", cuts: true, apply: func(fc *faultCluster) {
				fc.links[0][last].apply(linkSettings{mode: modeOneWay})
			}},
			{name: "slow origin (1.5 s) + partition", cuts: true, apply: func(fc *faultCluster) {
				fc.origin.delay.Store(int64(1500 * time.Millisecond))
				fc.isolate(blackhole, last)
			}},
			faults[2],
		}
	}
	var runs []*faultRun
	for k, f := range faults {
		r := runFault(t, fc, k, f, hold)
		runs = append(runs, r)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "fault\trequests\terrors onset/after\tdistinct bodies/key\torigin fetches max/bound\tp99\tmax\tmin up\tconverge\t\n")
	for _, r := range runs {
		bound := fmt.Sprint(r.fetchBound)
		if r.purgePath != "" {
			bound += fmt.Sprintf(" (purged: %d)", 2*r.fetchBound)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d/%d\t%d\t%d/%s\t%v\t%v\t%d\t%v\t\n", r.name, r.requests, r.onsetErrs, r.afterErrs,
			r.distinct, r.maxFetches, bound, r.p99.Round(time.Millisecond), r.maxLatency.Round(time.Millisecond),
			r.minUp, r.converge.Round(time.Millisecond))
	}
	_ = tw.Flush()
	t.Logf("network faults, %d members, each held %v under 8 workers:\n%s", n, hold, b.String())
	for _, r := range runs {
		for _, note := range r.notes {
			t.Logf("%s: %s", r.name, note)
		}
	}
}

// runFault holds one fault under load, heals, and checks.
func runFault(t *testing.T, fc *faultCluster, k int, f fault, hold time.Duration) *faultRun {
	r := &faultRun{name: f.name, fetchBound: fc.n}
	if f.purged {
		r.purgePath = fmt.Sprintf("/f%d/o0.jpg", k)
	}
	const originals = 6
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []sample)
	go func() { done <- fc.load(ctx, 8, k) }()
	time.Sleep(time.Second) // the load before the fault
	applied := time.Now()
	f.apply(fc)
	dctx, dcancel := context.WithCancel(context.Background())
	var dwg sync.WaitGroup
	if f.during != nil {
		dwg.Go(func() { f.during(dctx, fc, r) })
	}
	r.minUp = fc.n
	dwg.Go(func() { // how the members see each other while the fault holds
		for dctx.Err() == nil {
			for i := range fc.n {
				if s, err := fc.stats(i); err == nil {
					r.minUp = min(r.minUp, s.Cluster.Healthy)
				}
			}
			select {
			case <-dctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	})
	time.Sleep(hold)
	cancel()
	samples := <-done
	dcancel()
	dwg.Wait()
	fc.heal()
	var err error
	r.converge, err = fc.converge(faultConvergeBound)
	if err != nil {
		t.Errorf("%s: %v", f.name, err)
	}

	if f.cuts && r.minUp == fc.n {
		t.Errorf("%s: no member ever saw another down: the fault did not cut anything", f.name)
	}

	// Errors, latency, bodies.
	r.requests = len(samples)
	bodies := map[string]map[[32]byte]bool{}
	var lat []time.Duration
	for _, s := range samples {
		d := s.end.Sub(s.start)
		lat = append(lat, d)
		if d > faultLatencyBound {
			t.Errorf("%s: %s on member %d took %v, over the bound %v", f.name, s.url, s.member, d, faultLatencyBound)
		}
		failed := s.err != nil || s.code >= 500
		if s.err == nil && s.code != http.StatusOK && s.code < 500 {
			t.Errorf("%s: %s on member %d: %d", f.name, s.url, s.member, s.code)
		}
		switch {
		case !failed:
		case s.end.Before(applied.Add(faultOnset)):
			r.onsetErrs++
		default:
			r.afterErrs++
			r.notes = append(r.notes, fmt.Sprintf("error after the onset: %s on member %d at +%v: %d %v",
				s.url, s.member, s.start.Sub(applied).Round(time.Millisecond), s.code, s.err))
		}
		if s.start.After(applied) && s.start.Before(applied.Add(faultOnset)) {
			r.onsetReqs++
		}
		if failed || s.code != http.StatusOK {
			continue
		}
		if f.purged && strings.Contains(s.url, "/o0.jpg") {
			continue // two versions: checked by purgeDuringPartition's rules below
		}
		if bodies[s.url] == nil {
			bodies[s.url] = map[[32]byte]bool{}
		}
		bodies[s.url][s.body] = true
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		r.p99, r.maxLatency = lat[len(lat)*99/100], lat[len(lat)-1]
	}
	for u, set := range bodies {
		r.distinct = max(r.distinct, len(set))
		if len(set) != 1 {
			t.Errorf("%s: %s was served with %d different bodies", f.name, u, len(set))
		}
	}
	if budget := (r.onsetReqs + 99) / 100; r.onsetErrs > budget {
		t.Errorf("%s: %d errors while the fault started, over 1%% of %d requests", f.name, r.onsetErrs, r.onsetReqs)
	}
	if r.afterErrs > 0 {
		t.Errorf("%s: %d errors after the probes acted", f.name, r.afterErrs)
	}

	// Origin fetches per original.
	for i := range originals {
		path := fmt.Sprintf("/f%d/o%d.jpg", k, i)
		bound := fc.n
		if f.purged && i == 0 {
			bound = 2 * fc.n // before and after the purge
		}
		c := fc.origin.count(path)
		r.maxFetches = max(r.maxFetches, c)
		if c > bound {
			t.Errorf("%s: %s fetched %d times, over the bound %d", f.name, path, c, bound)
		}
	}

	if f.purged {
		checkPurge(t, fc, f, r, samples)
	}

	// Forwarding resumed: a new original asked of every member is fetched
	// once and transformed once, cluster-wide.
	var before int64
	for i := range fc.n {
		s, err := fc.stats(i)
		require.NoError(t, err)
		before += s.Handler.Transforms
	}
	conv := fmt.Sprintf("/f%d/converged.jpg", k)
	var first []byte
	for i := range fc.n {
		code, body, err := fc.get(i, conv+"?width=50")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, "%s: after healing: %s", f.name, body)
		if first == nil {
			first = body
		}
		require.Equal(t, first, body)
	}
	var after int64
	for i := range fc.n {
		s, _ := fc.stats(i)
		after += s.Handler.Transforms
	}
	if fc.origin.count(conv) != 1 || after-before != 1 {
		t.Errorf("%s: after healing, a new original cost %d fetches and %d transforms, want 1 and 1",
			f.name, fc.origin.count(conv), after-before)
	}
	t.Logf("%s: %d requests, errors %d/%d, p99 %v, converged in %v", f.name, r.requests, r.onsetErrs, r.afterErrs,
		r.p99.Round(time.Millisecond), r.converge.Round(time.Millisecond))
	return r
}

// flap takes the links of the last member down and up every 300 ms.
func flap(ctx context.Context, fc *faultCluster, _ *faultRun) {
	down := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(300 * time.Millisecond):
		}
		down = !down
		s := linkSettings{}
		if down {
			s.mode = modeBlackhole
		}
		fc.isolate(s, fc.n-1)
	}
}

// purgeDuringPartition changes original o0 at the origin while the last
// member is cut off, and purges it through member 0.
func purgeDuringPartition(ctx context.Context, fc *faultCluster, r *faultRun) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(faultOnset / 2):
	}
	r.bumpAt = time.Now()
	fc.origin.bump(r.purgePath)
	code, body := fc.purge(0, r.purgePath)
	r.purgeAt = time.Now()
	r.notes = append(r.notes, fmt.Sprintf("purge through member 0 answered %d: %s", code, strings.TrimSpace(body)))
	if code != http.StatusAccepted {
		r.notes = append(r.notes, "UNEXPECTED: the cut-off member should not have been reached")
	}
}

// checkPurge: after the purge returned, no member that heard it serves the
// old original; after healing, no member does.
func checkPurge(t *testing.T, fc *faultCluster, f fault, r *faultRun, samples []sample) {
	if r.purgeAt.IsZero() {
		t.Errorf("%s: the purge did not run", f.name)
		return
	}
	old := map[string]map[[32]byte]bool{}
	for _, s := range samples {
		if strings.Contains(s.url, "/o0.jpg") && s.code == http.StatusOK && s.end.Before(r.bumpAt) {
			if old[s.url] == nil {
				old[s.url] = map[[32]byte]bool{}
			}
			old[s.url][s.body] = true
		}
	}
	var stale, staleCut int
	for _, s := range samples {
		if !strings.Contains(s.url, "/o0.jpg") || s.code != http.StatusOK || !s.start.After(r.purgeAt) || !old[s.url][s.body] {
			continue
		}
		if s.member == fc.n-1 {
			staleCut++ // the cut-off member has not heard of it: allowed
			continue
		}
		stale++
	}
	if stale > 0 {
		t.Errorf("%s: %d requests to members that heard the purge got the purged image", f.name, stale)
	}
	r.notes = append(r.notes, fmt.Sprintf("after the purge: %d old bodies from the cut-off member (allowed), %d from the others", staleCut, stale))
	for u := range old {
		var first []byte
		for i := range fc.n {
			code, body, err := fc.get(i, u)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, code)
			if old[u][sha256.Sum256(body)] {
				t.Errorf("%s: after healing, member %d still serves the purged %s", f.name, i, u)
			}
			if first == nil {
				first = body
			}
			if string(first) != string(body) {
				t.Errorf("%s: after healing, members disagree on %s", f.name, u)
			}
		}
	}
}
