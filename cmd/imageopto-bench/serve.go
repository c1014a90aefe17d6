package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
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
	Mode        string  `json:"mode"` // "unique" or "same" URLs
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	P50MS       float64 `json:"p50_ms"`
	P99MS       float64 `json:"p99_ms"`
}

// serveRow is W6 on one image, as the parent reports it.
type serveRow struct {
	w       *workload
	image   string
	results []serveResult
	rssKB   int64 // peak RSS of the child (server and client)
}

// serve runs W6 in a child process.
func (r *runner) serve(ctx context.Context, w *workload, img string) (*serveRow, error) {
	fmt.Fprintf(r.log, "%s %s: %v per measurement\n", w.name, img, r.cfg.w6Duration)
	s, res, err := r.child(ctx, "-job", "serve", "-workload", w.name, "-in", r.cfg.corpus,
		"-image", img, "-duration", r.cfg.w6Duration.String())
	if err != nil {
		return nil, err
	}
	return &serveRow{w: w, image: img, results: res.Serve, rssKB: s.rssKB}, nil
}

// serveLoads are the W6 measurements: concurrency 1 and 8 with a distinct
// URL per request, and 8 on one URL. The handler collapses concurrent
// requests for one URL into one transformation even with the cache off,
// so the distinct URLs (/u<N>/image, which the origin maps back to image)
// measure the transformations; the same URL shows what collapsing gives.
var serveLoads = []struct {
	mode        string
	concurrency int
}{{"unique", 1}, {"unique", 8}, {"same", 8}}

// serveBench serves the corpus folder with imageopto's handler (cache off)
// on a loopback port and loads it from this process for d per
// measurement.
func serveBench(dir, img, query string, d time.Duration) ([]serveResult, error) {
	files, err := imageopto.NewDirOrigin(dir, 0)
	if err != nil {
		return nil, err
	}
	defer files.Close()
	origin := imageopto.OriginFunc(func(ctx context.Context, req imageopto.FetchRequest) (*imageopto.Source, error) {
		if rest, ok := strings.CutPrefix(req.Path, "u"); ok {
			if n, p, ok := strings.Cut(rest, "/"); ok && isDigits(n) {
				req.Path = p
			}
		}
		return files.Fetch(ctx, req)
	})
	h, err := imageopto.New(origin, &imageopto.Options{DisableCache: true})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	defer client.CloseIdleConnections()

	var seq atomic.Int64
	url := func(mode string) string {
		if mode == "same" {
			return srv.URL + "/" + filepath.ToSlash(img) + "?" + query
		}
		return fmt.Sprintf("%s/u%d/%s?%s", srv.URL, seq.Add(1), filepath.ToSlash(img), query)
	}
	var out []serveResult
	for _, l := range serveLoads {
		// Warm up: open the connections, run the engine once.
		for range 2 {
			if _, err := get(client, url(l.mode)); err != nil {
				return nil, fmt.Errorf("warm-up: %w", err)
			}
		}
		out = append(out, load(client, func() string { return url(l.mode) }, l.mode, l.concurrency, d))
	}
	return out, nil
}

// load runs c clients that request url() back to back for d.
func load(client *http.Client, url func() string, mode string, c int, d time.Duration) serveResult {
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			var mine []time.Duration
			var bad int
			for time.Now().Before(deadline) {
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

func isDigits(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil && s != ""
}
