package imaging

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// fxStep returns a w×h opaque grey image, lo on the left half and hi on the
// right half.
func fxStep(w, h int, lo, hi uint8) *image.NRGBA {
	img := fxSolid(w, h, color.NRGBA{lo, lo, lo, 255})
	for y := range h {
		for x := w / 2; x < w; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = hi, hi, hi
		}
	}
	return img
}

// fxStd returns the standard deviation of channel ch.
func fxStd(img *image.NRGBA, ch int) float64 {
	m := fxMean(img, ch)
	s, n := 0.0, 0
	for i := ch; i < len(img.Pix); i += 4 {
		d := float64(img.Pix[i]) - m
		s += d * d
		n++
	}
	return math.Sqrt(s / float64(n))
}

// blurPaths lists both implementations so that every property is checked on
// each of them, plus the public entry point.
var fxBlurPaths = []struct {
	name string
	blur func(*image.NRGBA, float64) *image.NRGBA
}{
	{"Blur", func(m *image.NRGBA, s float64) *image.NRGBA { return must(Blur(bgCtx, m, s)) }},
	{"exact", func(m *image.NRGBA, s float64) *image.NRGBA { return must(cvBlurExact(bgCtx, m, s)) }},
	{"boxes", func(m *image.NRGBA, s float64) *image.NRGBA { return must(cvBlurBoxes(bgCtx, m, s)) }},
}

func TestBlurConstantImage(t *testing.T) {
	t.Parallel()
	for _, p := range fxBlurPaths {
		for _, sigma := range []float64{0.5, 1.7, 3, 25, 500} {
			for _, c := range []color.NRGBA{{12, 200, 99, 255}, {250, 3, 70, 90}} {
				src := fxSolid(41, 29, c)
				got := p.blur(src, sigma)
				if d := fxMaxDiff(t, src, got); d != 0 {
					t.Errorf("%s sigma %v colour %v: max diff %d, want 0", p.name, sigma, c, d)
				}
			}
		}
	}
}

func TestBlurPreservesMean(t *testing.T) {
	t.Parallel()
	src := fxRandom(120, 90, 3, true)
	for _, p := range fxBlurPaths {
		for _, sigma := range []float64{0.5, 2, 3, 6, 10} {
			got := p.blur(src, sigma)
			for ch := range 3 {
				if d := math.Abs(fxMean(got, ch) - fxMean(src, ch)); d > 1 {
					t.Errorf("%s sigma %v channel %d: mean moved by %.3f", p.name, sigma, ch, d)
				}
			}
			if got.Rect != src.Rect {
				t.Errorf("%s: bounds %v, want %v", p.name, got.Rect, src.Rect)
			}
		}
	}
}

func TestBlurStrength(t *testing.T) {
	t.Parallel()
	src := fxRandom(160, 120, 4, true)
	small := must(Blur(bgCtx, src, 0.5))
	large := must(Blur(bgCtx, src, 30))
	s0, s1, s2 := fxStd(src, 1), fxStd(small, 1), fxStd(large, 1)
	if !(s0 > s1 && s1 > s2) {
		t.Fatalf("std dev original %.2f, sigma 0.5 %.2f, sigma 30 %.2f: want strictly decreasing", s0, s1, s2)
	}
	if s1 < s0/3 {
		t.Errorf("sigma 0.5 removed too much: std %.2f from %.2f", s1, s0)
	}
	if s2 > s0/10 {
		t.Errorf("sigma 30 left std %.2f of %.2f, want nearly flat", s2, s0)
	}
}

func TestBlurZeroSigmaCopies(t *testing.T) {
	t.Parallel()
	src := fxRandom(10, 7, 5, false)
	for _, sigma := range []float64{0, -3, math.NaN()} {
		got := must(Blur(bgCtx, src, sigma))
		if got == src || &got.Pix[0] == &src.Pix[0] {
			t.Fatalf("sigma %v: result shares memory with the source", sigma)
		}
		if d := fxMaxDiff(t, src, got); d != 0 {
			t.Fatalf("sigma %v: max diff %d, want 0", sigma, d)
		}
	}
}

func TestBlurTinyImages(t *testing.T) {
	t.Parallel()
	for _, size := range []image.Point{{1, 1}, {1, 9}, {9, 1}, {2, 3}, {0, 5}} {
		src := fxRandom(size.X, size.Y, 6, false)
		for _, sigma := range []float64{0.3, 2, 3, 500, 1e9, math.Inf(1)} {
			got := must(Blur(bgCtx, src, sigma))
			if got.Rect.Size() != size {
				t.Fatalf("size %v sigma %v: got %v", size, sigma, got.Rect)
			}
		}
	}
}

func TestBlurSubImage(t *testing.T) {
	t.Parallel()
	src := fxRandom(50, 40, 12, false)
	r := image.Rect(7, 5, 43, 31)
	sub := src.SubImage(r).(*image.NRGBA)
	want := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := range r.Dy() {
		copy(want.Pix[y*want.Stride:(y+1)*want.Stride], src.Pix[src.PixOffset(r.Min.X, r.Min.Y+y):])
	}
	for _, sigma := range []float64{1, 4} {
		got := must(Blur(bgCtx, sub, sigma))
		if got.Rect != want.Rect {
			t.Fatalf("bounds %v, want %v", got.Rect, want.Rect)
		}
		if d := fxMaxDiff(t, got, must(Blur(bgCtx, want, sigma))); d != 0 {
			t.Fatalf("sigma %v: sub-image differs from its copy by %d", sigma, d)
		}
		if d := fxMaxDiff(t, must(Sharpen(bgCtx, sub, 1, 2*sigma, 0)), must(Sharpen(bgCtx, want, 1, 2*sigma, 0))); d != 0 {
			t.Fatalf("sigma %v: sharpened sub-image differs from its copy by %d", sigma, d)
		}
	}
}

func TestBlurNoColourBleedFromTransparent(t *testing.T) {
	t.Parallel()
	// Left half transparent red, right half opaque blue.
	src := fxSolid(60, 20, color.NRGBA{0, 0, 255, 255})
	for y := range 20 {
		for x := range 30 {
			i := src.PixOffset(x, y)
			copy(src.Pix[i:i+4], []uint8{255, 0, 0, 0})
		}
	}
	for _, p := range fxBlurPaths {
		for _, sigma := range []float64{1, 3, 12} {
			got := p.blur(src, sigma)
			semi := 0
			for i := 0; i < len(got.Pix); i += 4 {
				a := got.Pix[i+3]
				if a == 0 {
					continue
				}
				if a < 255 {
					semi++
				}
				if got.Pix[i] != 0 || got.Pix[i+2] != 255 {
					t.Fatalf("%s sigma %v: pixel %d = %v, want pure blue", p.name, sigma, i/4, got.Pix[i:i+4])
				}
			}
			if semi == 0 {
				t.Fatalf("%s sigma %v: alpha was not blurred", p.name, sigma)
			}
		}
	}
}

func TestBlurBoxesMatchExactGaussian(t *testing.T) {
	t.Parallel()
	srcs := map[string]*image.NRGBA{
		"step":   fxStep(80, 40, 0, 255),
		"random": fxRandom(64, 64, 8, false),
		"photo":  fxPhoto(150, 100),
	}
	for name, src := range srcs {
		for _, sigma := range []float64{2.5, 3, 4} {
			a, b := must(cvBlurExact(bgCtx, src, sigma)), must(cvBlurBoxes(bgCtx, src, sigma))
			if d := fxMaxDiff(t, a, b); d > 4 {
				t.Errorf("%s sigma %v: box path differs from exact kernel by %d", name, sigma, d)
			}
		}
	}
}

func TestBoxVarianceMatchesSigma(t *testing.T) {
	t.Parallel()
	for _, sigma := range []float64{0.3, 1, 2.5, 3, 7.77, 25, 123.4, 500} {
		v := 0.0
		for _, b := range cvBoxes(sigma) {
			if b.alpha < 0 || b.alpha > 1 || b.r < 0 {
				t.Fatalf("sigma %v: bad box %+v", sigma, b)
			}
			r := float64(b.r)
			sum := 2*r + 1 + 2*b.alpha
			if math.Abs(sum*b.inv-1) > 1e-12 {
				t.Fatalf("sigma %v: box not normalised", sigma)
			}
			v += (r*(r+1)*(2*r+1)/3 + 2*b.alpha*(r+1)*(r+1)) / sum
		}
		if math.Abs(v-sigma*sigma) > 1e-9*sigma*sigma {
			t.Errorf("sigma %v: boxes give variance %v, want %v", sigma, v, sigma*sigma)
		}
	}
}

func TestGaussKernel(t *testing.T) {
	t.Parallel()
	k := cvGaussKernel(2)
	if len(k) != 13 {
		t.Fatalf("len = %d, want 13 (radius ⌈3σ⌉ = 6)", len(k))
	}
	s := float32(0)
	for i, v := range k {
		s += v
		if v != k[len(k)-1-i] {
			t.Fatalf("kernel not symmetric")
		}
	}
	if math.Abs(float64(s)-1) > 1e-6 {
		t.Fatalf("kernel sums to %v", s)
	}
}

func TestSharpen(t *testing.T) {
	t.Parallel()
	step := fxStep(40, 10, 64, 192)
	rnd := fxRandom(33, 21, 9, false)
	tests := []struct {
		name           string
		src            *image.NRGBA
		amount, radius float64
		threshold      int
		wantSame       bool
	}{
		{"amount 0", rnd, 0, 2, 0, true},
		{"radius 0", rnd, 3, 0, 0, true},
		{"threshold 255", rnd, 5, 2, 255, true},
		{"threshold 255 on step", step, 10, 4, 255, true},
		{"step", step, 1, 2, 0, false},
		{"random", rnd, 2, 1, 10, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := fxClone(tc.src)
			got := must(Sharpen(bgCtx, tc.src, tc.amount, tc.radius, tc.threshold))
			if d := fxMaxDiff(t, before, tc.src); d != 0 {
				t.Fatalf("source modified")
			}
			for i := 3; i < len(got.Pix); i += 4 {
				if got.Pix[i] != tc.src.Pix[i] {
					t.Fatalf("alpha of pixel %d changed", i/4)
				}
			}
			d := fxMaxDiff(t, tc.src, got)
			if tc.wantSame != (d == 0) {
				t.Fatalf("max diff %d, want unchanged=%v", d, tc.wantSame)
			}
		})
	}
}

func TestSharpenIncreasesEdgeContrast(t *testing.T) {
	t.Parallel()
	src := fxStep(40, 10, 64, 192)
	got := must(Sharpen(bgCtx, src, 1.5, 3, 0))
	left := got.Pix[got.PixOffset(19, 5)]
	right := got.Pix[got.PixOffset(20, 5)]
	if !(left < 64 && right > 192) {
		t.Fatalf("edge pixels %d | %d, want < 64 | > 192", left, right)
	}
	// Far from the edge nothing changes.
	if v := got.Pix[got.PixOffset(2, 5)]; v != 64 {
		t.Fatalf("flat area changed to %d", v)
	}
	// A threshold above the local differences protects the edge.
	if d := fxMaxDiff(t, src, must(Sharpen(bgCtx, src, 1.5, 3, 128))); d != 0 {
		t.Fatalf("threshold 128 on a 128-step edge still changed pixels by %d", d)
	}
}

func benchBlurSrc() *image.NRGBA { return fxPhoto(4000, 3000) }

func BenchmarkBlurSigma2(b *testing.B) {
	src := benchBlurSrc()
	b.ReportAllocs()
	for b.Loop() {
		must(Blur(bgCtx, src, 2))
	}
}

func BenchmarkBlurSigma25(b *testing.B) {
	src := benchBlurSrc()
	b.ReportAllocs()
	for b.Loop() {
		must(Blur(bgCtx, src, 25))
	}
}

func BenchmarkBlurSigma500(b *testing.B) {
	src := benchBlurSrc()
	b.ReportAllocs()
	for b.Loop() {
		must(Blur(bgCtx, src, 500))
	}
}

func BenchmarkSharpen(b *testing.B) {
	src := benchBlurSrc()
	b.ReportAllocs()
	for b.Loop() {
		must(Sharpen(bgCtx, src, 2, 2, 1))
	}
}
