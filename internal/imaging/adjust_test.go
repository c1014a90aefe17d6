package imaging

import (
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// Test helpers shared by adjust, convolve, bw, trim and smartcrop tests. They
// carry an fx prefix so that they cannot clash with the package's other test
// helpers.

// fxSolid returns a w×h image filled with c.
func fxSolid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// fxRandom returns a w×h image of uniformly random bytes; alpha is random
// too unless opaque is set.
func fxRandom(w, h int, seed uint64, opaque bool) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.UintN(256))
		if opaque && i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// fxPhoto returns a w×h opaque image with smooth gradients, a few hard edges
// and some noise: a cheap stand-in for a photograph in benchmarks.
func fxPhoto(w, h int) *image.NRGBA {
	rng := rand.New(rand.NewPCG(7, 11))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			r := 255 * x / max(w-1, 1)
			g := 255 * y / max(h-1, 1)
			b := 128
			if (x/97+y/61)%2 == 0 {
				b = 40
			}
			n := int(rng.UintN(17)) - 8
			img.Pix[i] = uint8(min(max(r+n, 0), 255))
			img.Pix[i+1] = uint8(min(max(g+n, 0), 255))
			img.Pix[i+2] = uint8(min(max(b+n, 0), 255))
			img.Pix[i+3] = 255
		}
	}
	return img
}

// fxMaxDiff returns the largest absolute difference of any byte of a and b,
// which must have the same size.
func fxMaxDiff(t testing.TB, a, b *image.NRGBA) int {
	t.Helper()
	if a.Rect.Size() != b.Rect.Size() {
		t.Fatalf("size mismatch: %v vs %v", a.Rect, b.Rect)
	}
	d := 0
	for y := range a.Rect.Dy() {
		ra := a.Pix[a.PixOffset(a.Rect.Min.X, a.Rect.Min.Y+y):][:4*a.Rect.Dx()]
		rb := b.Pix[b.PixOffset(b.Rect.Min.X, b.Rect.Min.Y+y):][:4*b.Rect.Dx()]
		for i := range ra {
			d = max(d, fxAbs(int(ra[i])-int(rb[i])))
		}
	}
	return d
}

func fxAbs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// fxMean returns the mean of channel ch (0–3) over all pixels.
func fxMean(img *image.NRGBA, ch int) float64 {
	s, n := 0.0, 0
	for i := ch; i < len(img.Pix); i += 4 {
		s += float64(img.Pix[i])
		n++
	}
	return s / float64(n)
}

// fxClone returns a deep copy of img.
func fxClone(img *image.NRGBA) *image.NRGBA {
	out := *img
	out.Pix = append([]uint8(nil), img.Pix...)
	return &out
}

func TestAdjust(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, before, after *image.NRGBA)
	allRGB := func(want uint8) check {
		return func(t *testing.T, _, after *image.NRGBA) {
			for i := 0; i < len(after.Pix); i += 4 {
				if p := after.Pix[i : i+3]; p[0] != want || p[1] != want || p[2] != want {
					t.Fatalf("pixel %d = %v, want all %d", i/4, p, want)
				}
			}
		}
	}
	identity := func(t *testing.T, before, after *image.NRGBA) {
		if d := fxMaxDiff(t, before, after); d != 0 {
			t.Fatalf("image changed, max diff %d", d)
		}
	}
	grey := func(t *testing.T, _, after *image.NRGBA) {
		for i := 0; i < len(after.Pix); i += 4 {
			if p := after.Pix[i : i+3]; p[0] != p[1] || p[1] != p[2] {
				t.Fatalf("pixel %d = %v, want R==G==B", i/4, p)
			}
		}
	}
	binary := func(t *testing.T, _, after *image.NRGBA) {
		for i := 0; i < len(after.Pix); i += 4 {
			for _, v := range after.Pix[i : i+3] {
				if v != 0 && v != 255 {
					t.Fatalf("pixel %d = %v, want 0 or 255", i/4, after.Pix[i:i+3])
				}
			}
		}
	}
	meanMoves := func(sign int) check {
		return func(t *testing.T, before, after *image.NRGBA) {
			d := fxMean(after, 0) + fxMean(after, 1) + fxMean(after, 2) -
				fxMean(before, 0) - fxMean(before, 1) - fxMean(before, 2)
			if d*float64(sign) <= 0 {
				t.Fatalf("mean moved by %.2f, want sign %d", d, sign)
			}
		}
	}
	spread := func(img *image.NRGBA) float64 { // mean |v−128|
		s, n := 0.0, 0
		for i := 0; i < len(img.Pix); i++ {
			if i%4 != 3 {
				s += float64(fxAbs(int(img.Pix[i]) - 128))
				n++
			}
		}
		return s / float64(n)
	}
	chroma := func(img *image.NRGBA) float64 {
		s := 0.0
		for i := 0; i < len(img.Pix); i += 4 {
			p := img.Pix[i : i+3]
			s += float64(max(p[0], p[1], p[2]) - min(p[0], p[1], p[2]))
		}
		return s
	}
	tests := []struct {
		name    string
		b, c, s float64
		check   check
	}{
		{"zero is identity", 0, 0, 0, identity},
		{"brightness 100 is white", 100, 0, 0, allRGB(255)},
		{"brightness -100 is black", -100, 0, 0, allRGB(0)},
		{"brightness above range clamps", 250, 0, 0, allRGB(255)},
		{"brightness 40 brightens", 40, 0, 0, meanMoves(1)},
		{"brightness -40 darkens", -40, 0, 0, meanMoves(-1)},
		{"contrast -100 is mid grey", 0, -100, 0, allRGB(128)},
		{"brightness then contrast -100 is mid grey", 100, -100, 0, allRGB(128)},
		{"contrast 100 is a hard threshold", 0, 100, 0, binary},
		{"saturation -100 is greyscale", 0, 0, -100, grey},
		{"all three", 20, 30, -100, grey},
		{"contrast 50 widens the spread", 0, 50, 0, func(t *testing.T, before, after *image.NRGBA) {
			if a, b := spread(after), spread(before); a <= b {
				t.Fatalf("spread %.2f, want more than %.2f", a, b)
			}
		}},
		{"contrast -50 narrows the spread", 0, -50, 0, func(t *testing.T, before, after *image.NRGBA) {
			if a, b := spread(after), spread(before); a >= b {
				t.Fatalf("spread %.2f, want less than %.2f", a, b)
			}
		}},
		{"saturation 60 adds chroma", 0, 0, 60, func(t *testing.T, before, after *image.NRGBA) {
			if a, b := chroma(after), chroma(before); a <= b {
				t.Fatalf("chroma %.0f, want more than %.0f", a, b)
			}
		}},
		{"saturation -50 removes chroma", 0, 0, -50, func(t *testing.T, before, after *image.NRGBA) {
			if a, b := chroma(after), chroma(before); a >= b {
				t.Fatalf("chroma %.0f, want less than %.0f", a, b)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := fxRandom(37, 23, 1, false)
			after := fxClone(before)
			noErr(Adjust(bgCtx, after, tc.b, tc.c, tc.s))
			for i := 3; i < len(after.Pix); i += 4 {
				if after.Pix[i] != before.Pix[i] {
					t.Fatalf("alpha of pixel %d changed", i/4)
				}
			}
			tc.check(t, before, after)
		})
	}
}

func TestAdjustLUTEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		b, c float64
		in   int
		want uint8
	}{
		{0, 0, 77, 77},
		{50, 0, 0, 128}, // 0 + 255·0.5 = 127.5 → 128
		{-50, 0, 200, 100},
		{0, -50, 0, 64},
		{0, 100, 127, 0},
		{0, 100, 128, 255},
		{0, 99.9, 128, 128},
	}
	for _, tc := range tests {
		lut := adjToneLUT(tc.b, tc.c)
		if got := lut[tc.in]; got != tc.want {
			t.Errorf("b=%v c=%v: lut[%d] = %d, want %d", tc.b, tc.c, tc.in, got, tc.want)
		}
	}
}

func TestAdjustSaturationKeepsGrey(t *testing.T) {
	t.Parallel()
	img := fxSolid(4, 4, color.NRGBA{90, 90, 90, 200})
	noErr(Adjust(bgCtx, img, 0, 0, 100))
	if img.Pix[0] != 90 || img.Pix[1] != 90 || img.Pix[2] != 90 || img.Pix[3] != 200 {
		t.Fatalf("grey pixel changed to %v", img.Pix[:4])
	}
}

func BenchmarkAdjust(b *testing.B) {
	src := fxPhoto(4000, 3000)
	img := fxClone(src)
	b.ReportAllocs()
	for b.Loop() {
		copy(img.Pix, src.Pix)
		noErr(Adjust(bgCtx, img, 10, 20, 30))
	}
}
