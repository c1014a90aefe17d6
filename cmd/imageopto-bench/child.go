package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// childFlag, as the first argument, makes the binary a measurement child:
// it runs one job and prints a childResult as JSON on stdout.
const childFlag = "-child"

// childResult is what a child reports to the parent.
type childResult struct {
	JobMS  float64      `json:"job_ms"`         // wall time of the job, without start-up
	Width  int          `json:"w"`              // output size
	Height int          `json:"h"`              //
	Scale  int          `json:"scale"`          // our shrink-on-load factor
	Plan   string       `json:"plan"`           // our plan, for the notes
	WarmMS float64      `json:"warm_ms"`        // codec warm-up before the job (W3)
	HWMKB  int64        `json:"hwm_kb"`         // VmHWM from /proc/self/status
	Check  *checkResult `json:"check,omitzero"` // the outputs' sizes and SSIM
}

// childMain runs one job: noop (the process's baseline memory), ours,
// naive, server (W6: serves the corpus until stdin closes), or check (the outputs against the reference; in a
// child so that the parent stays small, see runner.child).
func childMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("imageopto-bench child", flag.ContinueOnError)
	fs.SetOutput(stderr)
	job := fs.String("job", "noop", "noop, ours, naive, check or server")
	wname := fs.String("workload", "", "workload name")
	in := fs.String("in", "", "source image (server: the corpus folder)")
	out := fs.String("out", "", "where to write the output image")
	repeat := fs.Int("repeat", 1, "run the job this many times (profiling)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the job here")
	outs := fs.String("outs", "", "check: comma-separated output files, empty for none")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var res *childResult
	var err error
	switch *job {
	case "check":
		res = &childResult{}
		res.Check, err = check(*wname, *in, strings.Split(*outs, ","))
	case "server":
		res, err = serverChild(*in, stdout, os.Stdin)
	default:
		res, err = runChild(*job, *wname, *in, *out, *repeat, *cpuprofile)
	}
	if err != nil {
		fmt.Fprintln(stderr, "imageopto-bench child:", err)
		return 1
	}
	res.HWMKB = vmHWM()
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintln(stderr, "imageopto-bench child:", err)
		return 1
	}
	return 0
}

func runChild(job, wname, in, out string, repeat int, cpuprofile string) (*childResult, error) {
	if job == "noop" {
		return &childResult{}, nil
	}
	w := workloadByName(wname)
	if w == nil {
		return nil, fmt.Errorf("unknown workload %q", wname)
	}
	ctx := context.Background()
	var once func() ([]byte, *childResult, error)
	var warm time.Duration
	switch job {
	case "ours":
		opts := w.oursOptions()
		if len(opts.Codecs) > 0 {
			// The WebAssembly modules compile on first use; a server
			// does that once at start-up, so keep it out of the job's
			// time (its memory stays in the peak).
			t := time.Now()
			if _, err := w.ours(ctx, tinyJPEG(), opts); err != nil {
				return nil, fmt.Errorf("warm-up: %w", err)
			}
			warm = time.Since(t)
		}
		once = func() ([]byte, *childResult, error) {
			data, err := os.ReadFile(in)
			if err != nil {
				return nil, nil, err
			}
			r, err := w.ours(ctx, data, opts)
			if err != nil {
				return nil, nil, err
			}
			return r.Data, &childResult{Width: r.Output.Width, Height: r.Output.Height,
				Scale: r.Plan.DecodeScale, Plan: r.Plan.String()}, nil
		}
	case "naive":
		once = func() ([]byte, *childResult, error) {
			data, err := os.ReadFile(in)
			if err != nil {
				return nil, nil, err
			}
			b, r, err := w.naive(data)
			if err != nil {
				return nil, nil, err
			}
			return b, &childResult{Width: r.Dx(), Height: r.Dy(), Scale: 1}, nil
		}
	default:
		return nil, fmt.Errorf("unknown job %q", job)
	}

	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var data []byte
	var res *childResult
	var err error
	start := time.Now()
	for range max(repeat, 1) {
		if data, res, err = once(); err != nil {
			return nil, err
		}
	}
	res.JobMS = msOf(time.Since(start)) / float64(max(repeat, 1))
	res.WarmMS = msOf(warm)
	if out != "" {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// tinyJPEG is a 16×16 JPEG for warming up codecs.
func tinyJPEG() []byte {
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16)), nil)
	return buf.Bytes()
}

// vmHWM is the process's peak resident set size in KiB, from
// /proc/self/status (0 where there is none).
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
