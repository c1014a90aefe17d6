package codec

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// encodePNG8 returns EncodePNG8's output, checking that it is a palette
// PNG that decodes to the image's bounds.
func encodePNG8(t testing.TB, img *image.NRGBA, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodePNG8(bgCtx, &buf, img, quality); err != nil {
		t.Fatalf("EncodePNG8: %v", err)
	}
	if ct, _ := pngColorType(buf.Bytes()); ct != 3 {
		t.Fatalf("colour type %d, want 3 (palette)", ct)
	}
	m, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := m.(*image.Paletted); !ok || len(p.Palette) > 256 || p.Rect.Size() != img.Rect.Size() {
		t.Fatalf("decoded %T %v", m, m.Bounds())
	}
	return buf.Bytes()
}

// softAlpha returns a w×h photo-like image under a soft radial alpha
// mask: opaque in the middle, a wide feathered ring, fully transparent
// corners, plus a hard-edged transparent hole.
func softAlpha(w, h int) *image.NRGBA {
	img := photoLike(w, h)
	cx, cy := float64(w)/2, float64(h)/2
	for y := range h {
		for x := range w {
			d := math.Hypot((float64(x)-cx)/cx, (float64(y)-cy)/cy)
			a := 255 * min(max((1.05-d)/0.45, 0), 1)
			if x > w/8 && x < w/5 && y > h/3 && y < h/2 {
				a = 0
			}
			img.Pix[img.PixOffset(x, y)+3] = clampF(a)
		}
	}
	return img
}

// softGradient returns a w×h smooth colour gradient (no noise, no hard
// edges) under softAlpha's mask.
func softGradient(w, h int) *image.NRGBA {
	img := softAlpha(w, h)
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			i := img.PixOffset(x, y)
			img.Pix[i] = clampF(255 * fx)
			img.Pix[i+1] = clampF(128 + 100*math.Sin(5*fy+2*fx))
			img.Pix[i+2] = clampF(255 * (1 - fx*fy))
		}
	}
	return img
}

// premulError returns the mean and maximum absolute difference of the
// premultiplied channels (0–255 scale) and of alpha alone.
func premulError(a, b *image.NRGBA) (meanPremul, meanAlpha float64, maxAlpha int) {
	var sum, sumA float64
	n := 0
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			p, q := a.NRGBAAt(x, y), b.NRGBAAt(x, y)
			pa, qa := float64(p.A)/255, float64(q.A)/255
			sum += math.Abs(float64(p.R)*pa-float64(q.R)*qa) + math.Abs(float64(p.G)*pa-float64(q.G)*qa) + math.Abs(float64(p.B)*pa-float64(q.B)*qa)
			d := absDiff(p.A, q.A)
			sumA += float64(d)
			maxAlpha = max(maxAlpha, d)
			n++
		}
	}
	return sum / float64(3*n), sumA / float64(n), maxAlpha
}

// blurPremul returns a 3×3 box blur of m's premultiplied values, as an
// NRGBA with the blurred alpha, to discount dithering.
func blurPremul(m *image.NRGBA) *image.NRGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var s [4]float64
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					c := m.NRGBAAt(m.Rect.Min.X+min(max(x+dx, 0), w-1), m.Rect.Min.Y+min(max(y+dy, 0), h-1))
					a := float64(c.A)
					s[0] += float64(c.R) * a / 255
					s[1] += float64(c.G) * a / 255
					s[2] += float64(c.B) * a / 255
					s[3] += a
				}
			}
			a := s[3] / 9
			if a == 0 {
				continue
			}
			out.SetNRGBA(x, y, color.NRGBA{clampF(s[0] / 9 * 255 / a), clampF(s[1] / 9 * 255 / a), clampF(s[2] / 9 * 255 / a), clampF(a)})
		}
	}
	return out
}

func TestEncodePNG8Exact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		w, h  int
		pixel func(x, y int) color.NRGBA
	}{
		{"256 colours with alpha", 16, 16, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x * 16), uint8(y * 16), uint8(x ^ y), uint8(255 - 17*((x+y)%16))}
		}},
		{"transparent pixels keep their colour", 20, 10, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x * 10), 7, 9, uint8(((x + y) % 3) * 100)}
		}},
		{"two colours", 33, 7, func(x, y int) color.NRGBA {
			if (x+y)%2 == 0 {
				return color.NRGBA{}
			}
			return color.NRGBA{10, 200, 30, 255}
		}},
		{"opaque 200 colours", 100, 50, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8((x + y) % 200), 100, uint8((x + y) % 200), 255}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := image.NewNRGBA(image.Rect(0, 0, tc.w, tc.h))
			for y := range tc.h {
				for x := range tc.w {
					src.SetNRGBA(x, y, tc.pixel(x, y))
				}
			}
			for _, q := range []int{1, 85, 100} {
				samePixels(t, mustDecode(t, encodePNG8(t, src, q)), src)
			}
		})
	}
	t.Run("invisible colours do not count", func(t *testing.T) {
		t.Parallel()
		// 100 visible colours and 1000 colours hidden under alpha 0.
		src := image.NewNRGBA(image.Rect(0, 0, 100, 20))
		want := image.NewNRGBA(src.Rect)
		for y := range 20 {
			for x := range 100 {
				if y < 10 {
					src.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(2 * x), 50, uint8(100 + x)})
					want.SetNRGBA(x, y, src.NRGBAAt(x, y))
				} else {
					src.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x * y), 0})
				}
			}
		}
		samePixels(t, mustDecode(t, encodePNG8(t, src, 50)), want)
	})
}

// TestEncodePNG8SoftAlpha quantises a smooth gradient and a noisy
// photo-like image under a soft alpha mask and checks the error, the alpha
// classes and the effect of quality on the size. (The limits are about 25%
// above what this quantiser reaches. For reference, pngquant 2.17 --speed 1
// at 256 and 185 colours on the gradient has a similar mean error, about
// 20% less blurred error and more alpha error.)
func TestEncodePNG8SoftAlpha(t *testing.T) {
	t.Parallel()
	type limit struct{ mean, blurred, alpha float64 }
	tests := []struct {
		name   string
		src    *image.NRGBA
		limits map[int]limit
	}{
		{"gradient", softGradient(320, 240), map[int]limit{100: {5, 1.7, 3}, 85: {5.8, 2.1, 3.5}, 50: {9.5, 4.6, 5.6}}},
		{"photo-like", softAlpha(320, 240), map[int]limit{100: {5.3, 2.2, 3}, 85: {6.2, 2.6, 3.6}, 50: {9.5, 4.8, 5.8}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := tc.src
			var prevSize int
			for _, q := range []int{100, 85, 50, 20, 5} {
				data := encodePNG8(t, src, q)
				got := mustDecode(t, data)
				mp, ma, xa := premulError(got, src)
				bp, _, _ := premulError(blurPremul(got), blurPremul(src))
				pm, _ := png.Decode(bytes.NewReader(data))
				t.Logf("q%3d: %6d bytes, %3d colours, premultiplied error mean %.2f (blurred %.2f), alpha error mean %.2f max %d",
					q, len(data), len(pm.(*image.Paletted).Palette), mp, bp, ma, xa)
				if prevSize != 0 && len(data) >= prevSize {
					t.Errorf("q%d: %d bytes, not smaller than %d at the quality above", q, len(data), prevSize)
				}
				prevSize = len(data)
				for y := range src.Rect.Dy() {
					for x := range src.Rect.Dx() {
						s, g := src.NRGBAAt(x, y), got.NRGBAAt(x, y)
						if s.A == 0 && g != (color.NRGBA{}) || s.A == 0xFF && g.A != 0xFF {
							t.Fatalf("q%d pixel (%d,%d): %v became %v", q, x, y, s, g)
						}
					}
				}
				if l, ok := tc.limits[q]; ok && (mp > l.mean || bp > l.blurred || ma > l.alpha) {
					t.Errorf("q%d: errors %.2f, %.2f, %.2f exceed %+v", q, mp, bp, ma, l)
				}
			}
		})
	}
}

// TestEncodePNG8AlphaEdges checks a hard shape with a one-pixel
// anti-aliased edge: interior colours exact enough, and every edge pixel's
// alpha close to the source.
func TestEncodePNG8AlphaEdges(t *testing.T) {
	t.Parallel()
	const w, h = 200, 150
	src := photoLike(w, h)
	for y := range h {
		for x := range w {
			// Signed distance to a circle of radius 60, anti-aliased over
			// about two pixels, with all 254 partial alphas present.
			d := math.Hypot(float64(x)-100, float64(y)-75) - 60
			a := 255 * min(max(0.5-d/2, 0), 1)
			src.Pix[src.PixOffset(x, y)+3] = clampF(a)
		}
	}
	got := mustDecode(t, encodePNG8(t, src, 85))
	var edge, worst, sum int
	for y := range h {
		for x := range w {
			s, g := src.NRGBAAt(x, y), got.NRGBAAt(x, y)
			if s.A != 0 && s.A != 0xFF {
				edge++
				sum += absDiff(s.A, g.A)
				worst = max(worst, absDiff(s.A, g.A))
			}
		}
	}
	_, meanA, _ := premulError(got, src)
	edgeMean := float64(sum) / float64(edge)
	t.Logf("%d edge pixels: alpha error mean %.2f, worst %d; all pixels: alpha error mean %.3f", edge, edgeMean, worst, meanA)
	if edge < 500 || worst > 40 || edgeMean > 8 || meanA > 0.3 {
		t.Errorf("%d edge pixels: alpha error mean %.2f, worst %d; all pixels %.3f", edge, edgeMean, worst, meanA)
	}
}

func TestEncodePNG8Pngcheck(t *testing.T) {
	t.Parallel()
	pngcheck, err := exec.LookPath("pngcheck")
	if err != nil {
		t.Skip("pngcheck not installed")
	}
	dir := t.TempDir()
	inputs := map[string]*image.NRGBA{
		"soft.png":   softAlpha(160, 120),
		"opaque.png": photoLike(160, 120),
	}
	exact := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	exact.SetNRGBA(1, 1, color.NRGBA{1, 2, 3, 4})
	inputs["exact.png"] = exact
	for name, img := range inputs {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, encodePNG8(t, img, 85), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pngcheck, "-v", p).CombinedOutput()
		if err != nil {
			t.Errorf("pngcheck %s: %v\n%s", name, err, out)
		}
		if name == "soft.png" && !bytes.Contains(out, []byte("tRNS")) {
			t.Errorf("%s: no tRNS chunk:\n%s", name, out)
		}
	}
}

func TestEncodePNG8Rejects(t *testing.T) {
	t.Parallel()
	img := photoLike(4, 4)
	for _, q := range []int{0, 101, -5} {
		if err := EncodePNG8(bgCtx, io.Discard, img, q); err == nil {
			t.Errorf("quality %d: no error", q)
		}
	}
	if err := EncodePNG8(bgCtx, io.Discard, nil, 85); err == nil {
		t.Error("nil image: no error")
	}
	if err := EncodePNG8(bgCtx, io.Discard, image.NewNRGBA(image.Rect(0, 0, 0, 5)), 85); err == nil {
		t.Error("empty image: no error")
	}
}

func TestEncodePNG8SubImage(t *testing.T) {
	t.Parallel()
	big := softAlpha(300, 200)
	sub := big.SubImage(image.Rect(17, 9, 250, 180)).(*image.NRGBA)
	got := mustDecode(t, encodePNG8(t, sub, 85))
	if got.Rect != image.Rect(0, 0, 233, 171) {
		t.Fatalf("bounds %v", got.Rect)
	}
	bp, _, _ := premulError(blurPremul(got), blurPremul(sub))
	if bp > 2.6 {
		t.Errorf("blurred premultiplied error %.2f", bp)
	}
}

// TestPaletteSearch compares the grid search with brute force, in 4D and
// for opaque queries.
func TestPaletteSearch(t *testing.T) {
	t.Parallel()
	seed := uint32(7)
	rnd := func(n int32) int32 {
		seed = seed*1664525 + 1013904223
		return int32(uint64(seed>>8) * uint64(n+1) >> 24)
	}
	for _, opaque := range []bool{false, true} {
		var pal [][4]float64
		point := func() [4]int32 {
			a := rnd(maxChannel)
			if opaque {
				a = maxChannel
			}
			return [4]int32{rnd(a), rnd(a), rnd(a), scaleAlpha(a)}
		}
		for range 200 {
			p := point()
			pal = append(pal, [4]float64{float64(p[0]), float64(p[1]), float64(p[2]), float64(p[3])})
		}
		// Clustered entries make candidate lists long in some boxes.
		for i := range 50 {
			pal = append(pal, [4]float64{1000 + float64(i), 2000, 3000, float64(scaleAlpha(maxChannel))})
		}
		for _, bits := range []uint{3, 4, 6} {
			s := newPaletteSearch(pal, func(i int) bool { return i%3 != 0 }, opaque, bits)
			for range 20000 {
				q := point()
				got := s.nearest(q)
				best, bestD := -1, int64(math.MaxInt64)
				d := func(i int) int64 {
					p := pal[i]
					return dist4([4]int32{int32(p[0] + 0.5), int32(p[1] + 0.5), int32(p[2] + 0.5), int32(p[3] + 0.5)}, q)
				}
				for i := range pal {
					if i%3 != 0 && d(i) < bestD {
						best, bestD = i, d(i)
					}
				}
				if got%3 == 0 || d(got) != bestD {
					t.Fatalf("opaque=%v bits %d query %v: got entry %d (distance %d), brute force %d (%d)", opaque, bits, q, got, d(got), best, bestD)
				}
			}
		}
	}
}

// corpusOrSynthetic returns the corpus's gulp.png (1920×1200 RGBA with
// soft alpha) when IMAGEOPTO_CORPUS is set, else a synthetic image of the
// same size.
func corpusOrSynthetic(tb testing.TB) (*image.NRGBA, string) {
	tb.Helper()
	if dir := os.Getenv("IMAGEOPTO_CORPUS"); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, "gulp.png")); err == nil {
			return mustDecode(tb, data), "gulp.png"
		}
	}
	return softAlpha(1920, 1200), "synthetic"
}

func TestEncodePNG8Corpus(t *testing.T) {
	t.Parallel()
	p := corpusFile(t, "gulp.png")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	src := mustDecode(t, data)
	var lossless bytes.Buffer
	if err := EncodePNG(bgCtx, &lossless, src); err != nil {
		t.Fatal(err)
	}
	for _, q := range []int{100, 85, 50} {
		start := time.Now()
		out := encodePNG8(t, src, q)
		d := time.Since(start)
		got := mustDecode(t, out)
		mp, ma, xa := premulError(got, src)
		t.Logf("gulp.png q%d: %d bytes (lossless PNG %d, source %d) in %v; premultiplied error %.2f, alpha error mean %.2f max %d",
			q, len(out), lossless.Len(), len(data), d.Round(time.Millisecond), mp, ma, xa)
		if q == 85 && (mp > 0.5 || ma > 0.4) {
			t.Errorf("q85: error %.2f / %.2f", mp, ma)
		}
	}
}

func BenchmarkEncodePNG8(b *testing.B) {
	img, name := corpusOrSynthetic(b)
	b.Logf("%s %v", name, img.Rect.Size())
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodePNG8(bgCtx, io.Discard, img, 85); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(img.Rect.Dx()*img.Rect.Dy())*float64(b.N)/b.Elapsed().Seconds()/1e6, "MP/s")
}

// BenchmarkQuantizeRGBAStages times the quantiser's stages on the same
// image, to show where EncodePNG8's time goes.
func BenchmarkQuantizeRGBAStages(b *testing.B) {
	img, _ := corpusOrSynthetic(b)
	b.Run("histogram", func(b *testing.B) {
		for b.Loop() {
			must(histogramRGBA(nopoll(), img))
		}
	})
	cells := must(histogramRGBA(nopoll(), img))
	b.Run("palette", func(b *testing.B) {
		for b.Loop() {
			paletteRGBA(nopoll(), append([]qcell(nil), cells...), 185, 0)
		}
	})
	pal, classes, _ := paletteRGBA(nopoll(), cells, 185, 0)
	b.Run("dither", func(b *testing.B) {
		for b.Loop() {
			must(ditherRGBA(nopoll(), img, pal, classes, 1))
		}
	})
	pm := must(quantizeRGBA(nopoll(), img, 185, 0, 1))
	b.Run("png", func(b *testing.B) {
		for b.Loop() {
			writePNG(nopoll(), io.Discard, palettedLayout(pm))
		}
	})
}
