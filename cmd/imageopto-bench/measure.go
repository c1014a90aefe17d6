package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Implementations, in the order they take turns within a run.
const (
	implOurs = iota
	implNaive
	implVips
	implMagick
	numImpls
)

var implNames = [numImpls]string{"ours", "naive", "vips", "IM"}

// tool is an installed reference program.
type tool struct {
	path, version string
}

// tools are the reference programs found; nil fields are not installed.
type tools struct {
	vips, magick *tool
}

// findTools looks for vipsthumbnail and ImageMagick. For ImageMagick the
// real binaries come before a plain "convert", which may be a wrapper
// script whose start-up would be counted.
func findTools() tools {
	var t tools
	if p, err := exec.LookPath("vipsthumbnail"); err == nil {
		t.vips = &tool{path: p, version: firstLine(p, "--vips-version")}
	}
	for _, name := range []string{"magick", "convert-im6.q16", "convert-im7.q16", "convert"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if v := firstLine(p, "-version"); strings.Contains(v, "ImageMagick") {
			t.magick = &tool{path: p, version: strings.TrimPrefix(v, "Version: ")}
			break
		}
	}
	return t
}

// firstLine is the first line a program prints, or "".
func firstLine(path string, args ...string) string {
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// sample is one measured run of one implementation.
type sample struct {
	procMS float64 // wall time from start to exit of the process
	jobMS  float64 // wall time of the job inside a Go child
	cpuMS  float64 // user+system CPU time of the process
	rssKB  int64   // peak resident set size
}

// result is one implementation's runs of one workload on one image.
type result struct {
	skip     string // why it did not run ("" if it did)
	samples  []sample
	out      string // output file of the last run
	child    *childResult
	width    int // output size and bytes, from the last run
	height   int
	bytes    int
	ssim     float64 // against the reference; NaN when not computed
	ssimNote string  // why not
}

func (r *result) median(f func(sample) float64) float64 {
	v := make([]float64, len(r.samples))
	for i, s := range r.samples {
		v[i] = f(s)
	}
	return median(v)
}

// row is one workload on one image.
type row struct {
	w       *workload
	image   string
	srcW    int
	srcH    int
	results [numImpls]*result
	q100    *outputInfo // ours at quality=100, for JPEG outputs
}

// runner runs the measurements.
type runner struct {
	cfg   *config
	self  string // this binary, re-executed for the Go jobs
	tools tools
	tmp   string
	log   io.Writer
}

// measure runs one workload on one image: -runs rounds in which every
// implementation runs once, then checks the outputs against the reference.
func (r *runner) measure(ctx context.Context, w *workload, img string) (*row, error) {
	in := filepath.Join(r.cfg.corpus, img)
	base := filepath.Join(r.tmp, w.name+"-"+strings.TrimSuffix(img, filepath.Ext(img)))
	rw := &row{w: w, image: img}
	for i := range rw.results {
		rw.results[i] = &result{ssim: math.NaN(), out: base + "-" + implNames[i] + "." + w.ext}
	}
	if w.ext != "jpg" && w.ext != "png" {
		rw.results[implNaive].skip = "no pure-Go " + w.ext + " encoder"
	}
	if r.tools.vips == nil {
		rw.results[implVips].skip = "not installed"
	}
	if r.tools.magick == nil {
		rw.results[implMagick].skip = "not installed"
	}
	if r.cfg.noRef {
		rw.results[implVips].skip, rw.results[implMagick].skip = "-no-ref", "-no-ref"
	}

	for run := range r.cfg.runs {
		fmt.Fprintf(r.log, "%s %s run %d/%d:", w.name, img, run+1, r.cfg.runs)
		for i, res := range rw.results {
			if res.skip != "" {
				continue
			}
			var s sample
			var err error
			switch i {
			case implOurs, implNaive:
				job := "ours"
				if i == implNaive {
					job = "naive"
				}
				s, res.child, err = r.child(ctx, "-job", job, "-workload", w.name, "-in", in, "-out", res.out)
			case implVips:
				s, _, err = runProcess(ctx, r.tools.vips.path, append(vipsColourArgs(in), w.vipsArgs(in, res.out)...)...)
			case implMagick:
				args := w.magickArgs(in, res.out)
				args = append(append(args[:1:1], magickColourArgs(in)...), args[1:]...)
				s, _, err = runProcess(ctx, r.tools.magick.path, args...)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", implNames[i], err)
			}
			res.samples = append(res.samples, s)
			fmt.Fprintf(r.log, " %s %.0f ms", implNames[i], s.procMS)
		}
		fmt.Fprintln(r.log)
	}
	if err := r.check(ctx, rw, in); err != nil {
		return nil, err
	}
	if r.cfg.cpuprofile != "" {
		r.profile(ctx, rw, in)
	}
	return rw, nil
}

// checkResult is the source's size and, per output file, its size, bytes
// and SSIM against the reference.
type checkResult struct {
	SrcW    int          `json:"src_w"`
	SrcH    int          `json:"src_h"`
	Outputs []outputInfo `json:"outputs"`
	// Q100 is our engine's output at quality=100 (JPEG workloads), to
	// tell the loss of decoding and resizing from the encoder's.
	Q100 *outputInfo `json:"q100,omitzero"`
}

type outputInfo struct {
	Width  int     `json:"w"`
	Height int     `json:"h"`
	Bytes  int     `json:"bytes"`
	SSIM   float64 `json:"ssim"`
	Note   string  `json:"note"` // why there is no SSIM ("" when there is)
}

// check (in a child) reads the output files and compares each with the
// reference resize of the full-resolution source; "" outputs are skipped.
func check(wname, in string, outs []string) (*checkResult, error) {
	w := workloadByName(wname)
	if w == nil {
		return nil, fmt.Errorf("unknown workload %q", wname)
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return nil, err
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reference decode: %w", err)
	}
	src = vp8Range(data, src)
	res := &checkResult{SrcW: src.Bounds().Dx(), SrcH: src.Bounds().Dy(), Outputs: make([]outputInfo, len(outs))}
	ref := luma(w.reference(uprightSRGB(data, src)))
	compare := func(o *outputInfo, out []byte) {
		o.Bytes = len(out)
		m, _, err := image.Decode(bytes.NewReader(out))
		if err != nil {
			o.Note = "cannot decode"
			return
		}
		m = vp8Range(out, m)
		o.Width, o.Height = m.Bounds().Dx(), m.Bounds().Dy()
		if got := luma(m); got.w != ref.w || got.h != ref.h {
			o.Note = fmt.Sprintf("size differs from reference %d×%d", ref.w, ref.h)
		} else {
			o.SSIM = ssim(ref, got)
		}
	}
	for i, path := range outs {
		if path == "" {
			res.Outputs[i].Note = "did not run"
			continue
		}
		out, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		compare(&res.Outputs[i], out)
	}
	if w.ext == "jpg" {
		q := *w
		q.query += "&quality=100"
		r, err := q.ours(context.Background(), data, q.oursOptions())
		if err != nil {
			return nil, fmt.Errorf("quality=100: %w", err)
		}
		res.Q100 = &outputInfo{}
		compare(res.Q100, r.Data)
	}
	return res, nil
}

// check runs check in a child and records its findings in the row.
func (r *runner) check(ctx context.Context, rw *row, in string) error {
	outs := make([]string, numImpls)
	for i, res := range rw.results {
		if res.skip == "" {
			outs[i] = res.out
		}
	}
	_, c, err := r.child(ctx, "-job", "check", "-workload", rw.w.name, "-in", in, "-outs", strings.Join(outs, ","))
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if c.Check == nil || len(c.Check.Outputs) != numImpls {
		return errors.New("check: bad report")
	}
	rw.srcW, rw.srcH, rw.q100 = c.Check.SrcW, c.Check.SrcH, c.Check.Q100
	for i, res := range rw.results {
		o := c.Check.Outputs[i]
		res.width, res.height, res.bytes, res.ssimNote = o.Width, o.Height, o.Bytes, o.Note
		if o.Note == "" {
			res.ssim = o.SSIM
		}
	}
	return nil
}

// profile writes a CPU profile of our engine on the row's job, repeated
// for about two seconds.
func (r *runner) profile(ctx context.Context, rw *row, in string) {
	ms := rw.results[implOurs].median(func(s sample) float64 { return s.jobMS })
	n := int(min(200, max(3, math.Ceil(2000/max(ms, 1)))))
	path := filepath.Join(r.cfg.cpuprofile, rw.w.name+"-"+strings.TrimSuffix(rw.image, filepath.Ext(rw.image))+".pprof")
	_, _, err := r.child(ctx, "-job", "ours", "-workload", rw.w.name, "-in", in,
		"-repeat", strconv.Itoa(n), "-cpuprofile", path)
	if err != nil {
		fmt.Fprintf(r.log, "profile %s: %v\n", path, err)
		return
	}
	fmt.Fprintf(r.log, "wrote %s (%d runs)\n", path, n)
}

// baseline is the median peak RSS, in KiB, of a child that does nothing.
func (r *runner) baseline() int64 {
	var v []float64
	for range r.cfg.runs {
		if s, _, err := r.child(context.Background(), "-job", "noop"); err == nil {
			v = append(v, float64(s.rssKB))
		}
	}
	if len(v) == 0 {
		return 0
	}
	return int64(median(v))
}

// child runs this binary as a measurement child and decodes its report.
// The peak RSS is the child's own VmHWM: on Linux ru_maxrss survives
// execve, and a child started with vfork (as os/exec does) begins in the
// parent's address space, so ru_maxrss is at least the parent's peak. For
// the reference tools, which do not report VmHWM, the parent therefore
// keeps its own peak low (the reference decode and SSIM run in a child
// too) and the report states it.
func (r *runner) child(ctx context.Context, args ...string) (sample, *childResult, error) {
	s, out, err := runProcess(ctx, r.self, append([]string{childFlag}, args...)...)
	if err != nil {
		return s, nil, err
	}
	var res childResult
	if err := json.Unmarshal(out, &res); err != nil {
		return s, nil, fmt.Errorf("child report %q: %w", out, err)
	}
	s.jobMS = res.JobMS
	if res.HWMKB > 0 {
		s.rssKB = res.HWMKB
	}
	return s, &res, nil
}

// runProcess runs a program to its end and measures it.
func runProcess(ctx context.Context, path string, args ...string) (sample, []byte, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return sample{}, nil, fmt.Errorf("%s %s: %w: %s", filepath.Base(path), strings.Join(args, " "), err, msg)
	}
	ps := cmd.ProcessState
	if ps == nil {
		return sample{}, nil, errors.New("no process state")
	}
	return sample{
		procMS: msOf(wall),
		cpuMS:  msOf(ps.UserTime() + ps.SystemTime()),
		rssKB:  maxRSSKB(ps),
	}, stdout.Bytes(), nil
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

// median of v (the mean of the middle two for an even count); NaN for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
