package wasmcodec

// The measurements behind the encoder choices in README.md. They run on the
// photo corpus (scripts/corpus.sh) and are skipped unless
// IMAGEOPTO_CORPUS names it:
//
//	scripts/corpus.sh /tmp/corpus
//	IMAGEOPTO_CORPUS=/tmp/corpus go test -count=1 -run 'Table|TestFirstCall$' -v -timeout 60m ./wasmcodec
//	IMAGEOPTO_CORPUS=/tmp/corpus go test -run '^$' -bench . ./wasmcodec
//
// IMAGEOPTO_RUNS sets the runs per measurement (default 3; the table shows
// the median) and IMAGEOPTO_PHOTOS the comma-separated photo files.

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HugoSmits86/nativewebp"
	"github.com/gen2brain/avif"
	"github.com/gen2brain/heic"
	"github.com/gen2brain/webp"
	xdraw "golang.org/x/image/draw"
	xwebp "golang.org/x/image/webp"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/internal/cpuclock"
	"github.com/imageopto/imageopto/internal/quality"
)

// defaultPhotos are the corpus photos of 2560×1600.
var defaultPhotos = []string{"colorfulcups.jpg", "eveningglow.jpg", "ladybird.jpg", "path.jpg"}

// corpus returns the corpus folder, skipping the test when it is not set.
func corpus(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("IMAGEOPTO_CORPUS")
	if dir == "" {
		tb.Skip("IMAGEOPTO_CORPUS is not set (build it with scripts/corpus.sh)")
	}
	return dir
}

func runs() int {
	if n, err := strconv.Atoi(os.Getenv("IMAGEOPTO_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

func photoNames() []string {
	if s := os.Getenv("IMAGEOPTO_PHOTOS"); s != "" {
		return strings.Split(s, ",")
	}
	return defaultPhotos
}

// photo is one corpus photo at full size and resized to 1600 px wide.
type photo struct {
	name        string
	full, small *image.NRGBA
}

func loadPhotos(tb testing.TB, dir string) []photo {
	tb.Helper()
	var ps []photo
	for _, name := range photoNames() {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		src, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		full := toNRGBA(src)
		b := full.Bounds()
		small := image.NewNRGBA(image.Rect(0, 0, 1600, 1600*b.Dy()/b.Dx()))
		xdraw.CatmullRom.Scale(small, small.Bounds(), full, b, xdraw.Src, nil)
		ps = append(ps, photo{name, full, small})
	}
	return ps
}

// candidate is one encoder configuration under test.
type candidate struct {
	name   string
	encode func(w io.Writer, img *image.NRGBA) error
	decode func([]byte) (image.Image, error) // for SSIM against the source
}

func decodeWithX(b []byte) (image.Image, error) { return xwebp.Decode(bytes.NewReader(b)) }
func decodeAVIFImage(b []byte) (image.Image, error) {
	return decodeAVIF(b)
}

func webpLossy(q, method int) func(io.Writer, *image.NRGBA) error {
	return func(w io.Writer, img *image.NRGBA) error {
		return webp.Encode(w, img, webp.Options{Quality: q, Method: method})
	}
}

func webpLossless(q, method int) func(io.Writer, *image.NRGBA) error {
	return func(w io.Writer, img *image.NRGBA) error {
		return webp.Encode(w, img, webp.Options{Lossless: true, Quality: q, Method: method})
	}
}

func avifAt(q, speed int) func(io.Writer, *image.NRGBA) error {
	return func(w io.Writer, img *image.NRGBA) error {
		return avif.Encode(w, img, avif.Options{Quality: q, QualityAlpha: 100, Speed: speed, ChromaSubsampling: image.YCbCrSubsampleRatio420})
	}
}

var candidates = []candidate{
	{"image/jpeg q85 (stdlib, reference)", func(w io.Writer, img *image.NRGBA) error {
		return jpeg.Encode(w, img, &jpeg.Options{Quality: 85})
	}, func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }},
	{"gen2brain/webp lossy q85 m0", webpLossy(85, 0), decodeWithX},
	{"gen2brain/webp lossy q85 m2", webpLossy(85, 2), decodeWithX},
	{"gen2brain/webp lossy q85 m4 (libwebp default)", webpLossy(85, 4), decodeWithX},
	{"image/png (stdlib, reference)", func(w io.Writer, img *image.NRGBA) error { return png.Encode(w, img) },
		func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }},
	{"gen2brain/webp lossless z1 (m1 q20)", webpLossless(20, 1), decodeWithX},
	{"gen2brain/webp lossless z3 (m3 q30)", webpLossless(30, 3), decodeWithX},
	{"gen2brain/webp lossless z6 (m4 q75, default)", webpLossless(75, 4), decodeWithX},
	{"HugoSmits86/nativewebp lossless", func(w io.Writer, img *image.NRGBA) error {
		return nativewebp.Encode(w, img, nil)
	}, decodeWithX},
	{"gen2brain/avif q60 s10", avifAt(60, 10), decodeAVIFImage},
	{"gen2brain/avif q60 s8", avifAt(60, 8), decodeAVIFImage},
	{"gen2brain/avif q60 s6", avifAt(60, 6), decodeAVIFImage},
}

// sample is one measurement.
type sample struct {
	dur, cpu    time.Duration // wall time, process CPU time
	peak, alloc uint64        // bytes: peak live heap above the baseline, bytes allocated
}

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// measure runs f once, sampling the live heap every half millisecond.
func measure(f func() error) (sample, error) {
	runtime.GC()
	const heap, allocs = "/memory/classes/heap/objects:bytes", "/gc/heap/allocs:bytes"
	base, alloc0 := readMetric(heap), readMetric(allocs)
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		peak := base
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
				peak = max(peak, readMetric(heap))
			}
		}
	}()
	t0, c0 := time.Now(), cpuclock.Now()
	err := f()
	d, c := time.Since(t0), cpuclock.Now()-c0
	end := readMetric(heap)
	close(stop)
	peak := max(<-done, end)
	return sample{dur: d, cpu: c, peak: peak - base, alloc: readMetric(allocs) - alloc0}, err
}

// row accumulates one table row over the photos.
type row struct {
	name, size       string
	times, cpus      []time.Duration // per-photo medians
	bytes            []int
	ssim             []float64
	peak, allocTotal uint64
	n                int
}

func (r *row) add(times, cpus []time.Duration, n int, s float64, peak, alloc uint64) {
	slices.Sort(times)
	slices.Sort(cpus)
	r.times = append(r.times, times[len(times)/2])
	r.cpus = append(r.cpus, cpus[len(cpus)/2])
	r.bytes = append(r.bytes, n)
	if s >= 0 {
		r.ssim = append(r.ssim, s)
	}
	r.peak = max(r.peak, peak)
	r.allocTotal += alloc
	r.n++
}

func mean[T int | float64 | time.Duration](v []T) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(len(v))
}

const mib = 1 << 20

func (r *row) format(refBytes float64) string {
	b := mean(r.bytes)
	vs := ""
	if refBytes > 0 && b > 0 {
		vs = fmt.Sprintf("%.0f%%", 100*b/refBytes)
	}
	ss := "—"
	if len(r.ssim) > 0 {
		ss = fmt.Sprintf("%.4f", mean(r.ssim))
	}
	bs := "—"
	if b > 0 {
		bs = fmt.Sprintf("%.0f", b)
	}
	return fmt.Sprintf("| %s | %s | %.0f | %.0f | %s | %s | %s | %.0f | %.0f |", r.name, r.size,
		mean(r.times)/float64(time.Millisecond), mean(r.cpus)/float64(time.Millisecond), bs, vs, ss,
		float64(r.peak)/mib, float64(r.allocTotal)/float64(max(r.n, 1))/mib)
}

// TestCorpusTable prints the measurement table of README.md. It takes many
// minutes, so it runs only when IMAGEOPTO_TABLES is set as well as
// IMAGEOPTO_CORPUS.
func TestCorpusTable(t *testing.T) {
	if os.Getenv("IMAGEOPTO_TABLES") == "" {
		t.Skip("set IMAGEOPTO_TABLES=1 (and IMAGEOPTO_CORPUS) to regenerate README.md's tables")
	}
	dir := corpus(t)
	photos := loadPhotos(t, dir)
	n := runs()
	// Compile every module first: the first call's cost is TestFirstCall's.
	if err := Warm(); err != nil {
		t.Fatal(err)
	}
	var out []string
	header := "| codec | size | encode ms (median) | CPU ms (median) | bytes (mean) | vs JPEG | SSIM (luma) | peak heap MiB | allocated MiB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|"
	heifEnc, _ := exec.LookPath("heif-enc")
	for _, size := range []string{"2560×1600", "1600×1000"} {
		rows := make([]*row, len(candidates))
		for i, c := range candidates {
			rows[i] = &row{name: c.name, size: size}
		}
		dec := map[string]*row{}
		decRow := func(name string) *row {
			if dec[name] == nil {
				dec[name] = &row{name: name, size: size}
			}
			return dec[name]
		}
		for _, p := range photos {
			img := p.full
			if size != "2560×1600" {
				img = p.small
			}
			files := map[string][]byte{}
			for i, c := range candidates {
				var times, cpus []time.Duration
				var first sample
				var data []byte
				for k := range n {
					var buf bytes.Buffer
					s, err := measure(func() error { return c.encode(&buf, img) })
					if err != nil {
						t.Fatalf("%s %s: %v", c.name, p.name, err)
					}
					times, cpus = append(times, s.dur), append(cpus, s.cpu)
					if k == 0 {
						first, data = s, buf.Bytes()
					}
				}
				got, err := c.decode(data)
				if err != nil {
					t.Fatalf("%s %s: decoding our output: %v", c.name, p.name, err)
				}
				ss := ssimLuma(img, got)
				rows[i].add(times, cpus, len(data), ss, first.peak, first.alloc)
				files[c.name] = data
				t.Logf("%s %s %s: wall %v CPU %v, %d bytes, SSIM %.4f", size, p.name, c.name, times, cpus, len(data), ss)
			}
			// Decoders.
			decodeCases := []struct {
				name string
				data []byte
				f    func([]byte) (image.Image, error)
			}{
				{"x/image/webp decode (root; the q85 m2 file)", files["gen2brain/webp lossy q85 m2"], decodeWithX},
				{"gen2brain/webp decode (the q85 m2 file)", files["gen2brain/webp lossy q85 m2"], func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }},
				{"wasmcodec AVIF decode (the q60 s8 file)", files["gen2brain/avif q60 s8"], decodeAVIFImage},
			}
			if heifEnc != "" {
				hd, err := heifFromImage(t, heifEnc, img)
				if err != nil {
					t.Fatal(err)
				}
				decodeCases = append(decodeCases, struct {
					name string
					data []byte
					f    func([]byte) (image.Image, error)
				}{"wasmcodec HEIC decode (heif-enc -q 60 file)", hd, func(b []byte) (image.Image, error) { return decodeHEIC(b) }})
			}
			for _, dc := range decodeCases {
				var times, cpus []time.Duration
				var first sample
				var got image.Image
				for k := range n {
					var m image.Image
					s, err := measure(func() (err error) { m, err = dc.f(dc.data); return err })
					if err != nil {
						t.Fatalf("%s %s: %v", dc.name, p.name, err)
					}
					times, cpus = append(times, s.dur), append(cpus, s.cpu)
					if k == 0 {
						first, got = s, m
					}
				}
				decRow(dc.name).add(times, cpus, len(dc.data), ssimLuma(img, got), first.peak, first.alloc)
			}
		}
		ref := mean(rows[0].bytes)
		out = append(out, fmt.Sprintf("\nEncoders at %s (%d photos, median of %d runs each):\n\n%s", size, len(photos), n, header))
		for _, r := range rows {
			out = append(out, r.format(ref))
		}
		out = append(out, fmt.Sprintf("\nDecoders at %s (time to decode; SSIM against the source photo):\n\n%s", size, strings.Replace(header, "encode ms", "decode ms", 1)))
		names := make([]string, 0, len(dec))
		for k := range dec {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			out = append(out, dec[k].format(0))
		}
	}
	fmt.Println(strings.Join(out, "\n"))
}

// TestConcurrencyTable prints the concurrency table of README.md.
func TestConcurrencyTable(t *testing.T) {
	photos := loadPhotos(t, corpus(t))
	if err := Warm(); err != nil {
		t.Fatal(err)
	}
	fmt.Println(strings.Join(concurrencyTable(t, photos[0].full), "\n"))
}

// losslessGraphics are the corpus images that lossless WebP is for: a
// graphic with soft alpha, a palette image and a photo with an alpha mask.
var losslessGraphics = []string{"gulp.png", "cups-palette.png", "ladybird-alpha.png"}

// TestLosslessTable prints the lossless table of README.md: the lossless
// encoders on losslessGraphics.
func TestLosslessTable(t *testing.T) {
	dir := corpus(t)
	if err := Warm(); err != nil {
		t.Fatal(err)
	}
	fmt.Println(strings.Join(losslessTable(t, dir, runs()), "\n"))
}

func losslessTable(t *testing.T, dir string, n int) []string {
	out := []string{fmt.Sprintf("\nLossless encoders on %s (median of %d runs; SSIM 1 = identical visible pixels):\n",
		strings.Join(losslessGraphics, ", "), n),
		"| codec | size | encode ms (median) | CPU ms (median) | bytes (mean) | vs PNG | SSIM (luma) | peak heap MiB | allocated MiB |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"}
	var lossless []candidate
	for _, c := range candidates {
		if strings.Contains(c.name, "lossless") || strings.Contains(c.name, "png") {
			lossless = append(lossless, c)
		}
	}
	// Another of libwebp's presets between z1 and z6 (cwebp -z 5).
	lossless = append(lossless, candidate{"gen2brain/webp lossless z5 (m4 q50)", webpLossless(50, 4), decodeWithX})
	rows := make([]*row, len(lossless))
	for i, c := range lossless {
		rows[i] = &row{name: c.name, size: "as stored"}
	}
	for _, name := range losslessGraphics {
		f, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		src, err := png.Decode(bytes.NewReader(f))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img := toNRGBA(src)
		for i, c := range lossless {
			var times, cpus []time.Duration
			var first sample
			var data []byte
			for k := range n {
				var buf bytes.Buffer
				s, err := measure(func() error { return c.encode(&buf, img) })
				if err != nil {
					t.Fatalf("%s %s: %v", c.name, name, err)
				}
				times, cpus = append(times, s.dur), append(cpus, s.cpu)
				if k == 0 {
					first, data = s, buf.Bytes()
				}
			}
			got, err := c.decode(data)
			if err != nil {
				t.Fatalf("%s %s: decoding our output: %v", c.name, name, err)
			}
			rows[i].add(times, cpus, len(data), ssimLuma(img, got), first.peak, first.alloc)
			t.Logf("lossless %s %s: wall %v CPU %v, %d bytes", name, c.name, times, cpus, len(data))
		}
	}
	ref := mean(rows[0].bytes)
	for _, r := range rows {
		out = append(out, r.format(ref))
	}
	return out
}

// concurrencyTable encodes the same photo once and then twice at the same
// time, to show whether the runtime serialises calls and how memory adds up.
func concurrencyTable(t *testing.T, img *image.NRGBA) []string {
	out := []string{"\nConcurrency (one 2560×1600 photo; wall time and peak heap for 1 call, then 2 calls at once):\n",
		"| encoder | 1 call ms | 2 parallel calls ms | 1 call CPU ms | 2 calls CPU ms | 1 call peak MiB | 2 calls peak MiB |", "|---|---:|---:|---:|---:|---:|---:|"}
	for _, c := range []candidate{candidates[2], candidates[10]} {
		one, err := measure(func() error { return c.encode(io.Discard, img) })
		if err != nil {
			t.Fatal(err)
		}
		two, err := measure(func() error {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range 2 {
				wg.Go(func() { errs[i] = c.encode(io.Discard, img) })
			}
			wg.Wait()
			return errs[0]
		})
		if err != nil {
			t.Fatal(err)
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		out = append(out, fmt.Sprintf("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |", c.name,
			ms(one.dur), ms(two.dur), ms(one.cpu), ms(two.cpu), float64(one.peak)/mib, float64(two.peak)/mib))
	}
	return out
}

// heifFromImage encodes img with Debian's heif-enc at quality 60.
func heifFromImage(tb testing.TB, heifEnc string, img *image.NRGBA) ([]byte, error) {
	tmp := tb.TempDir()
	in, out := filepath.Join(tmp, "in.png"), filepath.Join(tmp, "out.heic")
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, err
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if b, err := exec.Command(heifEnc, "-q", "60", "-o", out, in).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("heif-enc: %v\n%s", err, b)
	}
	return os.ReadFile(out)
}

// ssimLuma is quality.LumaSSIM (8×8 windows at a stride of 4, the usual
// constants for 8-bit data) of the luma of a and b (BT.601 weights, colours
// premultiplied by alpha), or -1 when their sizes differ.
func ssimLuma(a, b image.Image) float64 {
	w, h := a.Bounds().Dx(), a.Bounds().Dy()
	if b.Bounds().Dx() != w || b.Bounds().Dy() != h {
		return -1
	}
	return quality.LumaSSIM(quality.LumaOver(a, 0), quality.LumaOver(b, 0), w, h)
}

// TestFirstCall measures, in a fresh process per module, how long the first
// call takes to compile the module, what that adds to the process, and what
// each later call costs on a tiny image (module instantiation).
func TestFirstCall(t *testing.T) {
	corpus(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("\nFirst call (a fresh process per module):\n\n| module | compile (first call) ms | CPU ms | RSS added MiB | Go heap added MiB | later call on a tiny image ms |\n|---|---:|---:|---:|---:|---:|")
	for _, m := range []string{"webp", "avif-decoder", "avif-encoder", "heic"} {
		cmd := exec.Command(exe, "-test.run=^TestFirstCallChild$", "-test.v")
		cmd.Env = append(os.Environ(), "WASMCODEC_FIRSTCALL="+m)
		outb, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", m, err, outb)
		}
		sc := bufio.NewScanner(bytes.NewReader(outb))
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "FIRSTCALL "); ok {
				fmt.Println(line)
			}
		}
	}
}

// TestFirstCallChild is TestFirstCall's child process.
func TestFirstCallChild(t *testing.T) {
	m := os.Getenv("WASMCODEC_FIRSTCALL")
	if m == "" {
		t.Skip("run by TestFirstCall")
	}
	tiny := testImage(64, 64, false)
	var avifTiny, heicTiny []byte
	var err error
	// Inputs for the later calls, made without compiling the module under test.
	avifTiny, err = os.ReadFile("testdata/tiny.avif")
	if err != nil {
		t.Fatal(err)
	}
	heicTiny, err = os.ReadFile("testdata/tiny.heic")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	rss0, heap0 := rssBytes(), readMetric("/memory/classes/heap/objects:bytes")
	t0, c0 := time.Now(), cpuclock.Now()
	var later func() error
	switch m {
	case "webp":
		webp.Init()
		later = func() error { return webp.Encode(io.Discard, tiny, webp.Options{Quality: 85, Method: 2}) }
	case "avif-decoder":
		avif.InitDecoder()
		later = func() error { _, err := avif.Decode(bytes.NewReader(avifTiny)); return err }
	case "avif-encoder":
		avif.InitEncoder()
		later = func() error { return avif.Encode(io.Discard, tiny, avif.Options{Quality: 60, Speed: 8}) }
	case "heic":
		heic.Init()
		later = func() error { _, err := heic.Decode(bytes.NewReader(heicTiny)); return err }
	}
	d, c := time.Since(t0), cpuclock.Now()-c0
	runtime.GC()
	rss1, heap1 := rssBytes(), readMetric("/memory/classes/heap/objects:bytes")
	var times []time.Duration
	for range 5 {
		t1 := time.Now()
		if err := later(); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Since(t1))
	}
	slices.Sort(times)
	fmt.Printf("FIRSTCALL | %s | %.0f | %.0f | %.1f | %.1f | %.1f |\n", m, float64(d)/float64(time.Millisecond), float64(c)/float64(time.Millisecond),
		(float64(rss1)-float64(rss0))/mib, (float64(heap1)-float64(heap0))/mib, float64(times[2])/float64(time.Millisecond))
}

// rssBytes reads the resident set size of this process (Linux).
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkEncode runs each candidate on the first photo resized to 1600 px.
func BenchmarkEncode(b *testing.B) {
	photos := loadPhotos(b, corpus(b))[:1]
	img := photos[0].small
	if err := Warm(); err != nil {
		b.Fatal(err)
	}
	for _, c := range candidates {
		b.Run(strings.NewReplacer(" ", "_", "/", "-").Replace(c.name), func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				var buf bytes.Buffer
				if err := c.encode(&buf, img); err != nil {
					b.Fatal(err)
				}
				n = buf.Len()
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}

// BenchmarkCodecs runs the chosen wasmcodec codecs through their Codec
// functions on the first photo resized to 1600 px.
func BenchmarkCodecs(b *testing.B) {
	img := loadPhotos(b, corpus(b))[0].small
	if err := Warm(); err != nil {
		b.Fatal(err)
	}
	var avifData bytes.Buffer
	if err := encodeAVIF(&avifData, img, imageopto.EncodeOptions{Quality: 60}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		f    func() error
	}{
		{"webp-q85", func() error { return encodeWebP(io.Discard, img, imageopto.EncodeOptions{Quality: 85}) }},
		{"webp-lossless", func() error { return encodeWebP(io.Discard, img, imageopto.EncodeOptions{Lossless: true}) }},
		{"avif-q60", func() error { return encodeAVIF(io.Discard, img, imageopto.EncodeOptions{Quality: 60}) }},
		{"avif-decode", func() error { _, err := decodeAVIF(avifData.Bytes()); return err }},
		{"avif-header", func() error { _, err := avifHeader(avifData.Bytes()); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
