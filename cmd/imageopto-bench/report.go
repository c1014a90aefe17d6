package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where the benchmark ran.
type machine struct {
	cpu, os, memory, goVersion, loadStart string
	nproc, gomaxprocs                     int
	vips, magick                          string
}

func describeMachine(t tools) machine {
	m := machine{
		cpu:        procField("/proc/cpuinfo", "model name"),
		os:         runtime.GOOS + "/" + runtime.GOARCH,
		goVersion:  runtime.Version(),
		nproc:      runtime.NumCPU(),
		gomaxprocs: runtime.GOMAXPROCS(0),
		loadStart:  loadAverage(),
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.os += ", Linux " + strings.TrimSpace(string(b))
	}
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		var n float64
		if _, err := fmt.Sscanf(kb, "%f kB", &n); err == nil {
			m.memory = fmt.Sprintf("%.1f GiB", n/(1<<20))
		}
	}
	if t.vips != nil {
		m.vips = t.vips.version + " (" + t.vips.path + ")"
	}
	if t.magick != nil {
		m.magick = t.magick.version + " (" + t.magick.path + ")"
	}
	return m
}

// procField is the value of the first "key : value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage is the 1, 5 and 15 minute load average, or "n/a".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "n/a"
}

// report is everything measured, printed as Markdown.
type report struct {
	cfg               *config
	machine           machine
	started, finished time.Time
	loadEnd           string
	baselineKB        int64 // a Go child's peak RSS when it does nothing
	parentKB          int64 // this process's peak RSS
	rows              []*row
	serve             []*serveRow
	notes             []string
}

func (rep *report) write(w io.Writer) {
	m := rep.machine
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("`imageopto-bench %s` — %s, %s\n\n", strings.Join(rep.cfg.args, " "),
		rep.started.UTC().Format("2006-01-02 15:04 UTC"), rep.finished.Sub(rep.started).Round(time.Second))
	p("| Machine | |\n|---|---|\n")
	p("| CPU | %s, %d logical CPUs (GOMAXPROCS %d) |\n", orNA(m.cpu), m.nproc, m.gomaxprocs)
	p("| Memory | %s |\n| OS | %s |\n| Go | %s |\n", orNA(m.memory), m.os, m.goVersion)
	p("| Load average (1, 5, 15 min) | %s at the start, %s at the end |\n", m.loadStart, rep.loadEnd)
	p("| vipsthumbnail | %s |\n| ImageMagick | %s |\n", orNA(m.vips), orNA(m.magick))
	p("| Go child at rest | %s peak RSS (included in the Go columns below) |\n", mib(float64(rep.baselineKB)))
	p("| Bench parent | %s peak RSS (a floor under the tools' ru_maxrss) |\n\n", mib(float64(rep.parentKB)))

	if len(rep.rows) > 0 {
		p("### Time, median of %d runs\n\n", rep.cfg.runs)
		p("ms: the job inside the Go process; proc ms: process start to exit; CPU: user+system of the process. ")
		p("Ratios are our time over theirs (below 1: we are faster): in-process against naive, process against the tools.\n\n")
		p("| Workload | Image | ours ms | ours proc ms | ours CPU ms | naive ms | naive CPU ms | ours/naive | vips ms | vips CPU ms | ours/vips | IM ms | IM CPU ms | ours/IM |\n")
		p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range rep.rows {
			o, n, v, im := r.results[implOurs], r.results[implNaive], r.results[implVips], r.results[implMagick]
			p("| %s %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				r.w.name, r.w.title, r.image,
				ms(o, jobMS), ms(o, procMS), ms(o, cpuMS),
				ms(n, jobMS), ms(n, cpuMS), ratio(o, n, jobMS),
				ms(v, procMS), ms(v, cpuMS), ratio(o, v, procMS),
				ms(im, procMS), ms(im, cpuMS), ratio(o, im, procMS))
		}

		p("\n### Peak memory (RSS), median of %d runs\n\n", rep.cfg.runs)
		p("| Workload | Image | ours | naive | ours/naive | vips | ours/vips | IM | ours/IM |\n")
		p("|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range rep.rows {
			o, n, v, im := r.results[implOurs], r.results[implNaive], r.results[implVips], r.results[implMagick]
			p("| %s %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.w.name, r.w.title, r.image,
				rss(o), rss(n), ratio(o, n, rssKB), rss(v), ratio(o, v, rssKB), rss(im), ratio(o, im, rssKB))
		}

		p("\n### Output and quality\n\n")
		p("Size, bytes and SSIM (luma) against a reference made from the full-resolution source ")
		p("(image.Decode, a WebP's Y′CbCr converted as limited-range BT.601, x/image/draw CatmullRom to the output size, not encoded; a crop region mapped to the sub-pixel). ")
		p("Without crop, the naive output is that reference JPEG- or PNG-encoded, so its SSIM is the encoder's loss alone. ")
		p("\"ours q100\" is our engine with quality=100 added: the loss of shrink-on-load and resampling, nearly without the encoder's.\n\n")
		p("| Workload | Query | Image | Source | ours | ours q100 | naive | vips | IM |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range rep.rows {
			q100 := "—"
			if r.q100 != nil {
				q100 = ssimString(r.q100.SSIM, r.q100.Note)
			}
			p("| %s %s | `%s` | %s | %d×%d | %s | %s | %s | %s | %s |\n", r.w.name, r.w.title, r.w.query, r.image,
				r.srcW, r.srcH, output(r.results[implOurs], true), q100, output(r.results[implNaive], false),
				output(r.results[implVips], false), output(r.results[implMagick], false))
		}
		p("\nOur plans:\n\n")
		for _, r := range rep.rows {
			if c := r.results[implOurs].child; c != nil {
				p("- %s %s: `%s`\n", r.w.name, r.image, c.Plan)
			}
		}
		for _, r := range rep.rows {
			o, v := r.results[implOurs], r.results[implVips]
			if o.child == nil || o.child.WarmMS == 0 {
				continue
			}
			note := fmt.Sprintf("%s %s: ours proc ms includes a warm-up job before the job, which compiles the "+
				"WebAssembly codecs the plan uses, if any (%.0f ms in the last run; a server does it once, see "+
				"wasmcodec.Warm)", r.w.name, r.image, o.child.WarmMS)
			if v.skip == "" {
				note += fmt.Sprintf("; with the job's own time, ours/vips is %.2f", o.median(jobMS)/v.median(procMS))
			}
			rep.notes = append(rep.notes, note)
		}
	}

	if len(rep.serve) > 0 {
		p("\n### W6 handler: throughput over loopback HTTP, %v per line\n\n", w6Bound{d: rep.cfg.w6Duration, n: rep.cfg.w6Requests})
		p("Our server runs in a child process (imageopto.New, DirOrigin, DisableCache); the clients run in the parent. ")
		p("Request i asks for width = centre − %d + i mod %d, so that every request of a line is a distinct cache key and request collapsing cannot help; ", widthSpan/2, widthSpan)
		p("\"same\" repeats one URL, which collapsing serves from shared transformations. RSS is the server process's peak.\n\n")
		p("| Target | Widths | Concurrency | Requests | Errors | req/s | p50 ms | p99 ms | Server RSS |\n|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range rep.serve {
			rss := "—"
			if s.rssKB > 0 {
				rss = mib(float64(s.rssKB))
			}
			for _, x := range s.results {
				p("| %s | %s | %d | %d | %d | %.1f | %.1f | %.1f | %s |\n", s.target, x.Mode, x.Concurrency, x.Requests, x.Errors, x.RPS, x.P50MS, x.P99MS, rss)
			}
		}
	}
	if len(rep.notes) > 0 {
		p("\nNotes:\n\n")
		for _, n := range rep.notes {
			p("- %s\n", n)
		}
	}
}

// Fields of a sample, for the table helpers.
func jobMS(s sample) float64  { return s.jobMS }
func procMS(s sample) float64 { return s.procMS }
func cpuMS(s sample) float64  { return s.cpuMS }
func rssKB(s sample) float64  { return float64(s.rssKB) }

func ms(r *result, f func(sample) float64) string {
	if r.skip != "" {
		return "—"
	}
	return fmtMS(r.median(f))
}

func fmtMS(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func ratio(a, b *result, f func(sample) float64) string {
	if a.skip != "" || b.skip != "" {
		return "—"
	}
	x, y := a.median(f), b.median(f)
	if y == 0 || math.IsNaN(x) || math.IsNaN(y) {
		return "—"
	}
	return fmt.Sprintf("%.2f", x/y)
}

func rss(r *result) string {
	if r.skip != "" {
		return "—"
	}
	return mib(r.median(rssKB))
}

func mib(kb float64) string { return fmt.Sprintf("%.1f MiB", kb/1024) }

// output describes one implementation's output: size, bytes, SSIM (and
// for ours the shrink-on-load factor).
func output(r *result, ours bool) string {
	if r.skip != "" {
		return "— (" + r.skip + ")"
	}
	s := fmt.Sprintf("%d×%d, %d B", r.width, r.height, r.bytes)
	if ours && r.child != nil && r.child.Scale > 1 {
		s += fmt.Sprintf(", decoded at 1/%d", r.child.Scale)
	}
	return s + ", " + ssimString(r.ssim, r.ssimNote)
}

func ssimString(v float64, note string) string {
	if note != "" || math.IsNaN(v) {
		return "SSIM n/a (" + note + ")"
	}
	return fmt.Sprintf("SSIM %.4f", v)
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}
