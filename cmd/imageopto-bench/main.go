// Command imageopto-bench measures imageopto on real photographs and compares
// it with a naive pure-Go pipeline and, where installed, with libvips
// (vipsthumbnail) and ImageMagick. It prints Markdown tables on stdout
// (progress goes to stderr):
//
//	go run ./cmd/imageopto-bench -corpus DIR [-runs 5] [-workloads W1,W2,...] [-images a.jpg,b.jpg]
//
// Workloads (Fastly IO query, default image):
//
//	W1 thumbnail  width=300                     kleiber.jpg (6028×3391), JPEG q85
//	W2 medium     width=1600                    volna.jpg (5120×2880), JPEG q85
//	W3 format     width=800&format=webp         volna.jpg → WebP q85
//	W4 alpha      width=400&format=png          gulp.png (RGBA) → PNG
//	W5 crop       width=400&height=400&fit=crop kleiber.jpg, JPEG q85
//	W6 handler    our handler (cache off) in a child process over loopback
//	              HTTP: kleiber.jpg (20 MP) at width≈300 and volna.jpg at
//	              width≈800&format=webp, a distinct width per request
//	              (neither request collapsing nor a cache helps), at
//	              concurrency 1 and 8; req/s, p50/p99 latency, the server's
//	              peak RSS. -peer 'http://127.0.0.1:8080/…{w}…' loads another
//	              server on this machine the same way ({w} = the width,
//	              around -peer-width, default 300; loopback hosts only).
//	              Each line lasts -w6-duration (default 3s), or with
//	              -w6-requests N sends exactly N requests (the same work
//	              for every target, however fast; the widths repeat every
//	              200 requests, which with the cache off costs a
//	              transformation each all the same).
//
// -images replaces each workload's default image by the listed files of
// the corpus (each selected workload runs on each of them).
//
// # What is measured
//
// Every measured job runs in a fresh process, so that peak memory is the
// job's own: our engine and the naive pipeline run in a child process of
// this binary (it re-executes itself with a hidden -child flag), the
// reference tools are run as they are. Our job may use every processor
// (TransformOptions.Threads = GOMAXPROCS), as vipsthumbnail runs its
// threads; today that parallelises large lossy WebP decoding only, so the
// other jobs run on one goroutine. For each process the parent records
// the wall time from start to exit ("proc ms"), the CPU time (user+system)
// and the peak resident set size (getrusage's ru_maxrss, what
// /usr/bin/time -v reports). The Go children also report the wall time of
// the job itself ("ms": reading the file, parsing the query, decoding,
// resizing, encoding), without process start-up. Each figure is the median
// over -runs runs; the implementations take turns within each run, so that
// a change in the machine's load hits them alike.
//
// Ratios are our time divided by the other's (0.25 means we take a quarter
// of its time): against the naive pipeline in-process job times, against
// the tools process times (both sides then pay process start-up).
//
// The naive pipeline is what a Go program does without an image library:
// image.Decode (image/jpeg, image/png) at full size, golang.org/x/image/draw
// CatmullRom into an RGBA image of the output size, image/jpeg at quality 85
// or image/png. It has no WebP encoder, so W3 has no naive column.
//
// Quality is checked too: every output is compared with a reference made
// from the full-resolution source (image.Decode, a WebP's Y'CbCr converted
// as the limited-range BT.601 VP8 codes, then CatmullRom to the output's
// size, without encoding) by SSIM over luma (Gaussian window 11,
// σ 1.5; transparent pixels composited on white). For JPEG outputs our
// engine also runs once with quality=100, which separates the loss of
// shrink-on-load and resampling from the encoder's.
//
// Peak memory is the children's VmHWM for the Go jobs and ru_maxrss for
// the tools. On Linux ru_maxrss carries over execve from the address space
// the child was started in (the parent's, with vfork), so the parent keeps
// its own footprint small (the reference and SSIM work runs in a child too)
// and reports its peak as a floor under the tools' figures.
//
// Lossy WebP output (W3, W6's WebP load) is the library's built-in encoder.
// The opt-in WebAssembly codecs (package wasmcodec) are configured too, as a
// production server would have them; -tags nowasmcodec leaves them out.
//
// Sources with an EXIF orientation or a colour profile other than sRGB
// are compared upright and in sRGB: vipsthumbnail gets --eprofile srgb,
// ImageMagick -auto-orient and -profile (Debian colord's sRGB.icc), and the
// reference is rotated and converted at full resolution. -write-display-p3
// FILE writes a Display P3 profile for making an iPhone-like test photo
// (BENCHMARKS.md shows how).
//
// Other flags: -no-ref skips the reference tools, -w6-duration bounds each
// W6 measurement (default 3s) unless -w6-requests N fixes its count of
// requests, -cpuprofile DIR writes a CPU profile of our
// engine per workload and image (the job repeated for about two seconds in
// one child) for `go tool pprof -top`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		os.Exit(childMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) == 3 && os.Args[1] == "-write-display-p3" {
		if err := os.WriteFile(os.Args[2], displayP3(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "imageopto-bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "imageopto-bench:", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	corpus     string
	runs       int
	workloads  []*workload
	images     []string // overrides the workloads' default images
	noRef      bool
	w6Duration time.Duration
	w6Requests int // > 0: each W6 line sends exactly this many requests
	cpuprofile string
	peer       string // W6: a URL template of another server, {w} = width
	peerWidth  int
	args       []string // as given, for the report
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("imageopto-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{args: args}
	var wls, imgs string
	fs.StringVar(&c.corpus, "corpus", "", "folder of source images (required)")
	fs.IntVar(&c.runs, "runs", 5, "runs per measurement; medians are reported")
	fs.StringVar(&wls, "workloads", "W1,W2,W3,W4,W5,W6", "comma-separated workloads to run")
	fs.StringVar(&imgs, "images", "", "comma-separated corpus files replacing each workload's default image")
	fs.BoolVar(&c.noRef, "no-ref", false, "skip the reference tools (vipsthumbnail, ImageMagick)")
	fs.DurationVar(&c.w6Duration, "w6-duration", 3*time.Second, "length of each W6 (handler) measurement")
	fs.IntVar(&c.w6Requests, "w6-requests", 0, "W6: send exactly this many distinct requests per measurement instead of loading for -w6-duration")
	fs.StringVar(&c.peer, "peer", "", "W6: also load this loopback URL template, {w} = the width (e.g. another image server)")
	fs.IntVar(&c.peerWidth, "peer-width", 300, "W6: the centre of the widths sent to -peer")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write CPU profiles of our engine per workload into this folder")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.corpus == "" {
		return nil, errors.New("-corpus DIR is required")
	}
	if st, err := os.Stat(c.corpus); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("-corpus %s: not a folder", c.corpus)
	}
	if c.runs < 1 {
		return nil, errors.New("-runs must be at least 1")
	}
	if c.w6Requests < 0 {
		return nil, errors.New("-w6-requests must not be negative")
	}
	for _, name := range splitList(wls) {
		w := workloadByName(name)
		if w == nil {
			return nil, fmt.Errorf("unknown workload %q (want W1…W6)", name)
		}
		c.workloads = append(c.workloads, w)
	}
	c.images = splitList(imgs)
	if c.peer != "" {
		if err := checkPeer(c.peer); err != nil {
			return nil, err
		}
		if c.peerWidth <= widthSpan/2 {
			return nil, fmt.Errorf("-peer-width must be above %d", widthSpan/2)
		}
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// run is the parent: it measures every selected workload and prints the
// report.
func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	r := &runner{cfg: c, self: self, log: stderr}
	if !c.noRef {
		r.tools = findTools()
	}
	if r.tmp, err = os.MkdirTemp("", "imageopto-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(r.tmp)
	if c.cpuprofile != "" {
		if err := os.MkdirAll(c.cpuprofile, 0o755); err != nil {
			return err
		}
	}

	rep := &report{cfg: c, machine: describeMachine(r.tools), started: time.Now()}
	rep.baselineKB = r.baseline()
	ctx := context.Background()
	for _, w := range c.workloads {
		if w.name == "W6" {
			if err := r.serveAll(ctx, rep); err != nil {
				return err
			}
			continue
		}
		images := w.images
		if len(c.images) > 0 {
			images = c.images
		}
		for _, img := range images {
			path := filepath.Join(c.corpus, img)
			if _, err := os.Stat(path); err != nil {
				rep.notes = append(rep.notes, fmt.Sprintf("%s: %s not in the corpus, skipped", w.name, img))
				continue
			}
			row, err := r.measure(ctx, w, img)
			if err != nil {
				return fmt.Errorf("%s %s: %w", w.name, img, err)
			}
			rep.rows = append(rep.rows, row)
		}
	}
	rep.finished = time.Now()
	rep.loadEnd = loadAverage()
	rep.parentKB = vmHWM()
	rep.write(stdout)
	return nil
}
