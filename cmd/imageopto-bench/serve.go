package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imageopto/imageopto"
)

// serveResult is one W6 measurement.
type serveResult struct {
	Mode        string  `json:"mode"` // "distinct" widths or the "same" URL
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50MS       float64 `json:"p50_ms"`
	P99MS       float64 `json:"p99_ms"`
}

// serveRow is one W6 target: our handler on one load and image, or a peer.
type serveRow struct {
	target  string // what was loaded, for the report
	results []serveResult
	rssKB   int64 // peak RSS of our server process; 0 for a peer
}

// serveLoad is one W6 load on our handler: the query is a template in
// which {w} becomes the width of each request.
type serveLoad struct {
	name, image, query string
	width              int // the centre of the widths
}

var serveLoads = []serveLoad{
	{name: "20 MP → 300 px JPEG", image: "kleiber.jpg", query: "width={w}", width: 300},
	{name: "JPEG → 800 px WebP", image: "volna.jpg", query: "width={w}&format=webp", width: 800},
}

// widthSpan is how many distinct widths a load cycles through: request i
// asks for width−widthSpan/2 + i mod widthSpan, so that no two requests of
// a measurement (fewer than widthSpan on this machine) share a cache key or
// a flight, and the mean output size stays the load's width.
const widthSpan = 200

func widthAt(centre int, i int64) int {
	return centre - widthSpan/2 + int(i%widthSpan)
}

// expand replaces every {w} in a URL template by the width.
func expand(template string, w int) string {
	return strings.ReplaceAll(template, "{w}", strconv.Itoa(w))
}

// checkPeer validates a -peer URL template: http(s), a {w} to replace, and a
// loopback host (this benchmark drives servers on this machine only).
func checkPeer(template string) error {
	if !strings.Contains(template, "{w}") {
		return fmt.Errorf("-peer %q: no {w} for the width", template)
	}
	u, err := url.Parse(expand(template, 300))
	if err != nil {
		return fmt.Errorf("-peer %q: %w", template, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("-peer %q: scheme %q, want http or https", template, u.Scheme)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return fmt.Errorf("-peer %q: host %q is not a loopback address (127.0.0.0/8, ::1 or localhost); only servers on this machine may be loaded", template, host)
	}
	return nil
}

// serveAll runs W6: each load against our handler (in a server child), then
// the peer if there is one. Each target gets distinct widths at
// concurrency 1 and 8; ours also the same URL at 8 (request collapsing).
func (r *runner) serveAll(ctx context.Context, rep *report) error {
	d := w6Bound{d: r.cfg.w6Duration, n: r.cfg.w6Requests}
	for _, l := range serveLoads {
		images := []string{l.image}
		if len(r.cfg.images) > 0 {
			images = r.cfg.images
		}
		for _, img := range images {
			if _, err := os.Stat(filepath.Join(r.cfg.corpus, img)); err != nil {
				rep.notes = append(rep.notes, fmt.Sprintf("W6: %s not in the corpus, skipped", img))
				continue
			}
			fmt.Fprintf(r.log, "W6 %s %s: %v per measurement\n", l.name, img, d)
			row, err := r.serveOurs(ctx, l, img, d)
			if err != nil {
				return fmt.Errorf("W6 %s %s: %w", l.name, img, err)
			}
			rep.serve = append(rep.serve, row)
		}
	}
	if r.cfg.peer != "" {
		fmt.Fprintf(r.log, "W6 peer %s: %v per measurement\n", r.cfg.peer, d)
		res, err := loadAll(r.cfg.peer, r.cfg.peerWidth, d, false)
		if err != nil {
			return fmt.Errorf("W6 peer: %w", err)
		}
		rep.serve = append(rep.serve, &serveRow{target: "peer `" + r.cfg.peer + "`", results: res})
	}
	return nil
}

// serveOurs starts our handler in a child process, loads it from this
// process, stops it and collects its peak RSS.
func (r *runner) serveOurs(ctx context.Context, l serveLoad, img string, d w6Bound) (*serveRow, error) {
	cmd := exec.CommandContext(ctx, r.self, childFlag, "-job", "server", "-in", r.cfg.corpus)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() error {
		stdin.Close()
		return cmd.Wait()
	}
	out := bufio.NewReader(stdout)
	addr, err := out.ReadString('\n')
	if err != nil {
		stop()
		return nil, fmt.Errorf("server child: %v: %s", err, stderr.String())
	}
	template := "http://" + strings.TrimSpace(addr) + "/" + filepath.ToSlash(img) + "?" + l.query
	res, lerr := loadAll(template, l.width, d, true)
	stdin.Close() // the server reports and exits
	rest, _ := io.ReadAll(out)
	if err := stop(); err != nil {
		return nil, fmt.Errorf("server child: %v: %s", err, stderr.String())
	}
	if lerr != nil {
		return nil, lerr
	}
	var cr childResult
	if err := json.Unmarshal(rest, &cr); err != nil {
		return nil, fmt.Errorf("server child report %q: %w", rest, err)
	}
	rss := cr.HWMKB
	if rss == 0 {
		rss = maxRSSKB(cmd.ProcessState)
	}
	return &serveRow{target: fmt.Sprintf("imageopto %s: `/%s?%s`", l.name, img, l.query), results: res, rssKB: rss}, nil
}

// serverChild serves the corpus folder with imageopto's handler (cache
// off, the WebAssembly codecs when built in) on a loopback port, writes
// the address as the first line of stdout and serves until stdin closes.
func serverChild(dir string, stdout io.Writer, stdin io.Reader) (*childResult, error) {
	files, err := imageopto.NewDirOrigin(dir, 0)
	if err != nil {
		return nil, err
	}
	defer files.Close()
	h, err := imageopto.New(files, &imageopto.Options{
		DisableCache: true,
		Transform:    imageopto.TransformOptions{PlanOptions: imageopto.PlanOptions{Codecs: extraCodecs()}},
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	if _, err := fmt.Fprintln(stdout, ln.Addr().String()); err != nil {
		return nil, err
	}
	io.Copy(io.Discard, stdin) // until the parent closes it
	return &childResult{}, nil
}

// w6Bound is how long a W6 measurement lasts: n requests when n > 0, else
// d.
type w6Bound struct {
	d time.Duration
	n int
}

func (b w6Bound) String() string {
	if b.n > 0 {
		return strconv.Itoa(b.n) + " requests"
	}
	return b.d.String()
}

// loadAll loads a URL template (with {w}) for d per measurement: distinct
// widths around width at concurrency 1 and 8, and with same the one URL of
// width at 8.
func loadAll(template string, width int, d w6Bound, same bool) ([]serveResult, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var seq atomic.Int64
	distinct := func() string { return expand(template, widthAt(width, seq.Add(1)-1)) }
	one := func() string { return expand(template, width) }
	type m struct {
		mode string
		c    int
		url  func() string
	}
	ms := []m{{"distinct", 1, distinct}, {"distinct", 8, distinct}}
	if same {
		ms = append(ms, m{"same", 8, one})
	}
	var out []serveResult
	for _, x := range ms {
		// Warm up: open the connections, compile the codecs, run the
		// engine once.
		for range 2 {
			if _, err := get(client, x.url()); err != nil {
				return nil, fmt.Errorf("warm-up: %w", err)
			}
		}
		res := load(client, x.url, x.mode, x.c, d)
		if res.Requests == 0 {
			return nil, errors.New("no request succeeded")
		}
		out = append(out, res)
	}
	return out, nil
}

// load runs c clients that request url() back to back for d: until d.d
// has passed, or until d.n requests were sent in all.
func load(client *http.Client, url func() string, mode string, c int, d w6Bound) serveResult {
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	start := time.Now()
	deadline := start.Add(d.d)
	var sent atomic.Int64
	more := func() bool {
		if d.n > 0 {
			return sent.Add(1) <= int64(d.n)
		}
		return time.Now().Before(deadline)
	}
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			var mine []time.Duration
			var bad int
			for more() {
				t, err := get(client, url())
				if err != nil {
					bad++
					continue
				}
				mine = append(mine, t)
			}
			mu.Lock()
			lat, errs = append(lat, mine...), errs+bad
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	slices.Sort(lat)
	return serveResult{
		Mode: mode, Concurrency: c, Requests: len(lat), Errors: errs, Seconds: elapsed,
		RPS:   float64(len(lat)) / elapsed,
		P50MS: msOf(percentile(lat, 0.50)), P99MS: msOf(percentile(lat, 0.99)),
	}
}

// get fetches one URL and reads the whole body; non-200 answers are errors.
func get(client *http.Client, url string) (time.Duration, error) {
	start := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return time.Since(start), nil
}

// percentile of sorted durations (nearest rank); 0 for none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*q)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
