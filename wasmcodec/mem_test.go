package wasmcodec

// Peak memory and CPU time of each codec call, over image sizes: the
// measurements behind the models in memory.go (TestMemoryTable, which
// prints README.md's table), the check that the models stay above what the
// calls use (TestMemoryModel), and the return of memory to the operating
// system after a large call (TestReleaseRSS).

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
)

// photoLike is a deterministic w×h image with the statistics of a photo
// rather than of a flat graphic: smooth gradients, blotches at two scales,
// fine grain and a few hard-edged shapes; with alpha, a soft alpha ramp.
func photoLike(w, h int, alpha bool, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 42))
	// Value noise: random lattices at 97 px and 23 px, interpolated.
	type lattice struct {
		step int
		v    [][3]float64
		cols int
	}
	mk := func(step int) lattice {
		cols, rows := w/step+2, h/step+2
		l := lattice{step: step, cols: cols, v: make([][3]float64, cols*rows)}
		for i := range l.v {
			l.v[i] = [3]float64{rng.Float64(), rng.Float64(), rng.Float64()}
		}
		return l
	}
	at := func(l lattice, x, y, c int) float64 {
		fx, fy := float64(x%l.step)/float64(l.step), float64(y%l.step)/float64(l.step)
		i := (y/l.step)*l.cols + x/l.step
		a, b := l.v[i][c], l.v[i+1][c]
		d, e := l.v[i+l.cols][c], l.v[i+l.cols+1][c]
		top, bot := a+(b-a)*fx, d+(e-d)*fx
		return top + (bot-top)*fy
	}
	coarse, fine := mk(97), mk(23)
	type disc struct {
		x, y, r int
		c       color.NRGBA
	}
	var discs []disc
	for range 12 {
		discs = append(discs, disc{rng.IntN(w), rng.IntN(h), 8 + rng.IntN(max(w, h)/8+1),
			color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}})
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var px [3]uint8
			for c := range 3 {
				v := 60*float64(x)/float64(w) + 60*float64(y)/float64(h)*float64(c) +
					90*at(coarse, x, y, c) + 50*at(fine, x, y, c) + 12*(rng.Float64()-0.5)
				px[c] = uint8(max(0, min(255, v+20)))
			}
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = px[0], px[1], px[2], 255
			if alpha {
				img.Pix[o+3] = uint8(255 * (x + y) / (w + h))
			}
		}
	}
	for _, d := range discs {
		for y := max(d.y-d.r, 0); y < min(d.y+d.r, h); y++ {
			for x := max(d.x-d.r, 0); x < min(d.x+d.r, w); x++ {
				if (x-d.x)*(x-d.x)+(y-d.y)*(y-d.y) < d.r*d.r {
					o := img.PixOffset(x, y)
					img.Pix[o], img.Pix[o+1], img.Pix[o+2] = d.c.R, d.c.G, d.c.B
				}
			}
		}
	}
	return img
}

// noiseImage is w×h of uniform noise, the worst case for the encoders'
// memory and CPU; with alpha, its alpha is noise too.
func noiseImage(w, h int, alpha bool) *image.NRGBA {
	rng := rand.New(rand.NewPCG(7, 7))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	if !alpha {
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i] = 255
		}
	}
	return img
}

// content is a kind of test image.
type content struct {
	name  string
	alpha bool
	make  func(w, h int) *image.NRGBA
}

var contents = []content{
	{"photo", false, func(w, h int) *image.NRGBA { return photoLike(w, h, false, 1) }},
	{"photo + alpha ramp", true, func(w, h int) *image.NRGBA { return photoLike(w, h, true, 1) }},
	{"noise", false, func(w, h int) *image.NRGBA { return noiseImage(w, h, false) }},
	{"noise + noise alpha", true, func(w, h int) *image.NRGBA { return noiseImage(w, h, true) }},
}

// procStatus reads a "kB" field of /proc/self/status, in bytes (0 when
// unavailable).
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM to the current RSS (Linux ≥ 4.0), reporting
// whether it could.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// callStats is one measured call.
type callStats struct {
	heap uint64        // peak Go heap (live objects and garbage) above the start
	rss  uint64        // peak resident set above the start (0: not measured)
	cpu  time.Duration // process CPU time
	wall time.Duration
}

// peak is the larger of the heap and RSS peaks.
func (s callStats) peak() uint64 { return max(s.heap, s.rss) }

// measureCall runs f once after returning every free page to the system,
// sampling the heap every half millisecond (bench_test.go's measure) and
// reading the resident set's high-water mark.
func measureCall(f func() error) (callStats, error) {
	debug.FreeOSMemory()
	hwm := resetPeakRSS()
	rss0 := procStatus("VmRSS")
	s, err := measure(f)
	out := callStats{heap: s.peak, cpu: s.cpu, wall: s.dur}
	if hwm {
		if peak := procStatus("VmHWM"); peak > rss0 {
			out.rss = peak - rss0
		}
	}
	return out, err
}

// codecCall is one codec operation on a w×h image, with its model.
type codecCall struct {
	name  string
	model func(w, h int, alpha bool) int64
	// prepare makes the call's input (not measured) and returns the call.
	prepare func(tb testing.TB, img *image.NRGBA) func() error
}

func encodeCall(name string, enc func(io.Writer, *image.NRGBA, imageopto.EncodeOptions) error, o imageopto.EncodeOptions,
	model func(w, h int, o imageopto.EncodeOptions) int64) codecCall {
	return codecCall{
		name:  name,
		model: func(w, h int, alpha bool) int64 { o := o; o.Alpha = alpha; return model(w, h, o) },
		prepare: func(tb testing.TB, img *image.NRGBA) func() error {
			return func() error { return enc(io.Discard, img, o) }
		},
	}
}

// codecCalls are the calls measured: the three encoders and the two
// decoders (HEIC only when heif-enc is installed to make the input).
func codecCalls() []codecCall {
	calls := []codecCall{
		encodeCall("WebP lossy encode (q85, m2)", encodeWebP, imageopto.EncodeOptions{Quality: 85}, webpEncodeMemory),
		encodeCall("WebP lossless encode (-z 3)", encodeWebP, imageopto.EncodeOptions{Lossless: true}, webpEncodeMemory),
		encodeCall("AVIF encode (q60, speed 8)", encodeAVIF, imageopto.EncodeOptions{Quality: 60}, avifEncodeMemory),
		{
			name:  "AVIF decode",
			model: func(w, h int, _ bool) int64 { return avifDecodeModel.bytes(w, h) },
			prepare: func(tb testing.TB, img *image.NRGBA) func() error {
				var buf bytes.Buffer
				// Speed 10 makes the input faster; the decoder's cost hardly
				// depends on it.
				err := avifAt(60, 10)(&buf, img)
				require.NoError(tb, err)
				data := buf.Bytes()
				return func() error { _, err := decodeAVIF(data); return err }
			},
		},
	}
	if heifEnc, err := exec.LookPath("heif-enc"); err == nil {
		calls = append(calls, codecCall{
			name:  "HEIC decode",
			model: func(w, h int, _ bool) int64 { return heicDecodeModel.bytes(w, h) },
			prepare: func(tb testing.TB, img *image.NRGBA) func() error {
				data, err := heifFromImage(tb, heifEnc, img)
				require.NoError(tb, err)
				return func() error { _, err := decodeHEIC(data); return err }
			},
		})
	}
	return calls
}

// TestMemoryModel holds each codec's model above the peak memory its call
// uses: at 0.25 MP for the four contents, and at 1 MP for a photo with an
// alpha ramp (not under the race detector). Not parallel: it measures the process's heap, so it must run
// alone (Go runs a package's parallel tests after the others).
func TestMemoryModel(t *testing.T) {
	if testing.Short() {
		t.Skip("measures several seconds of codec calls")
	}
	require.NoError(t, Warm())
	type job struct {
		w, h int
		ct   content
	}
	var jobs []job
	for _, ct := range contents {
		jobs = append(jobs, job{500, 500, ct})
	}
	if !raceEnabled { // the race detector makes the calls slower, not larger
		jobs = append(jobs, job{1000, 1000, contents[1]})
	}
	for _, c := range codecCalls() {
		for _, j := range jobs {
			if j.ct.alpha && c.name == "HEIC decode" {
				continue
			}
			f := c.prepare(t, j.ct.make(j.w, j.h))
			s, err := measureCall(f)
			require.NoError(t, err)
			model := c.model(j.w, j.h, j.ct.alpha)
			t.Logf("%s, %s, %dx%d: heap peak %.1f MiB, RSS peak %.1f MiB, model %.1f MiB (%.0f%% of it), CPU %v",
				c.name, j.ct.name, j.w, j.h, float64(s.heap)/mib, float64(s.rss)/mib, float64(model)/mib,
				100*float64(s.peak())/float64(model), s.cpu.Round(time.Millisecond))
			assert.Less(t, s.heap, uint64(model), "%s, %s, %dx%d: the model covers the heap peak", c.name, j.ct.name, j.w, j.h)
			if s.rss > 0 && !raceEnabled {
				assert.Less(t, s.rss, uint64(model), "%s, %s, %dx%d: the model covers the RSS peak", c.name, j.ct.name, j.w, j.h)
			}
		}
	}
}

// TestCPUTable prints README.md's table of the CPU time of the costliest
// encoders per megapixel: the least of three runs, which is the least
// disturbed by other processes sharing the cores.
//
//	IMAGEOPTO_TABLES=1 go test -count=1 -run 'TestCPUTable$' -v -timeout 60m ./wasmcodec
func TestCPUTable(t *testing.T) {
	if os.Getenv("IMAGEOPTO_TABLES") == "" {
		t.Skip("set IMAGEOPTO_TABLES=1 to measure README.md's CPU table (minutes)")
	}
	require.NoError(t, Warm())
	out := []string{"| call | content | size | CPU s (least of 3) | CPU s/MP |", "|---|---|---|---:|---:|"}
	for _, c := range codecCalls()[:3] {
		for _, size := range [][2]int{{1000, 1000}, {2000, 2000}} {
			for _, ct := range contents {
				f := c.prepare(t, ct.make(size[0], size[1]))
				var best time.Duration
				for i := range 3 {
					s, err := measureCall(f)
					require.NoError(t, err)
					if i == 0 || s.cpu < best {
						best = s.cpu
					}
				}
				mp := float64(size[0]*size[1]) / 1e6
				out = append(out, fmt.Sprintf("| %s | %s | %dx%d | %.2f | %.2f |", c.name, ct.name, size[0], size[1], best.Seconds(), best.Seconds()/mp))
				t.Log(out[len(out)-1])
			}
		}
	}
	fmt.Printf("\nGo %s %s/%s, GOMAXPROCS %d\n\n%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), strings.Join(out, "\n"))
}

// TestMemoryTable prints README.md's table of peak memory and CPU time per
// call over image sizes and contents, and the models fitted to them. It
// takes about ten minutes.
//
//	IMAGEOPTO_TABLES=1 go test -count=1 -run 'TestMemoryTable$' -v -timeout 60m ./wasmcodec
func TestMemoryTable(t *testing.T) {
	if os.Getenv("IMAGEOPTO_TABLES") == "" {
		t.Skip("set IMAGEOPTO_TABLES=1 to measure README.md's memory table (minutes)")
	}
	require.NoError(t, Warm())
	sides := [][2]int{{500, 500}, {1000, 1000}, {2000, 2000}, {4000, 4000}}
	out := []string{
		"| call | content | size | MP | heap peak MiB | RSS peak MiB | model MiB | CPU s | CPU s/MP |",
		"|---|---|---|---:|---:|---:|---:|---:|---:|",
	}
	var fits []string
	for _, c := range codecCalls() {
		var xs, ys []float64
		for _, size := range sides {
			worst := 0.0
			for _, ct := range contents {
				if ct.alpha && c.name == "HEIC decode" {
					continue // refused: gen2brain/heic drops alpha
				}
				f := c.prepare(t, ct.make(size[0], size[1]))
				s, err := measureCall(f)
				require.NoError(t, err)
				mp := float64(size[0]*size[1]) / 1e6
				out = append(out, fmt.Sprintf("| %s | %s | %dx%d | %.2f | %.0f | %.0f | %.0f | %.2f | %.2f |", c.name, ct.name, size[0], size[1], mp,
					float64(s.heap)/mib, float64(s.rss)/mib, float64(c.model(size[0], size[1], ct.alpha))/mib, s.cpu.Seconds(), s.cpu.Seconds()/mp))
				t.Log(out[len(out)-1])
				worst = max(worst, float64(s.peak()))
			}
			xs, ys = append(xs, float64(size[0]*size[1])), append(ys, worst)
		}
		a, b := fitLine(xs, ys)
		// The model: the fit raised by modelMargin, then its base raised
		// until the model is modelMargin above every measured peak.
		ma, mb := max(a, 0)*modelMargin, b*modelMargin
		for i := range xs {
			ma = max(ma, ys[i]*modelMargin-mb*xs[i])
		}
		fits = append(fits, fmt.Sprintf("| %s | %.1f MiB + %.1f B/px | %.0f MiB + %.0f B/px |", c.name, a/mib, b, math.Ceil(ma/mib), math.Ceil(mb)))
	}
	fmt.Printf("\nGo %s %s/%s, GOMAXPROCS %d\n\n%s\n\n| call | least-squares fit of the worst peak per size | model (+%.0f%%, above every point) |\n|---|---|---|\n%s\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), strings.Join(out, "\n"),
		100*(modelMargin-1), strings.Join(fits, "\n"))
}

// fitLine is the least-squares line y = a + b·x.
func fitLine(xs, ys []float64) (a, b float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	b = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	a = (sy - b*sx) / n
	if math.IsNaN(a) {
		return 0, 0
	}
	return a, b
}
