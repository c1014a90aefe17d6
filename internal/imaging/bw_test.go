package imaging

import (
	"image"
	"image/color"
	"testing"
)

// fxGradient returns a w×h opaque horizontal grey ramp from 0 to 255.
func fxGradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(255 * x / max(w-1, 1))
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
		}
	}
	return img
}

// fxCheckBinary fails unless every colour channel of img is 0 or 255 with
// R == G == B, and alpha equals that of ref.
func fxCheckBinary(t *testing.T, img, ref *image.NRGBA) {
	t.Helper()
	for i := 0; i < len(img.Pix); i += 4 {
		p := img.Pix[i : i+4]
		if (p[0] != 0 && p[0] != 255) || p[0] != p[1] || p[1] != p[2] {
			t.Fatalf("pixel %d = %v, want pure black or white", i/4, p)
		}
		if p[3] != ref.Pix[i+3] {
			t.Fatalf("alpha of pixel %d changed from %d to %d", i/4, ref.Pix[i+3], p[3])
		}
	}
}

// fxWhiteCount returns the number of pixels whose red channel is 255.
func fxWhiteCount(img *image.NRGBA) int {
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] == 255 {
			n++
		}
	}
	return n
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		src       *image.NRGBA
		luminance float64
		wantWhite int // −1: don't check
	}{
		{"random default cutoff", fxRandom(31, 17, 2, false), 49, -1},
		{"gradient 0 keeps only black", fxGradient(256, 2), 0, 2 * 255},
		{"gradient 100 is all black", fxGradient(256, 2), 100, 0},
		{"gradient 50", fxGradient(256, 2), 50, 2 * 128}, // cutoff 127.5: 128…255 white
		{"out of range clamps", fxGradient(256, 2), 180, 0},
		{"pure red is dark", fxSolid(3, 3, color.NRGBA{255, 0, 0, 255}), 25, 0},
		{"pure green is light", fxSolid(3, 3, color.NRGBA{0, 255, 0, 255}), 70, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := fxClone(tc.src)
			noErr(Threshold(bgCtx, img, tc.luminance))
			fxCheckBinary(t, img, tc.src)
			if got := fxWhiteCount(img); tc.wantWhite >= 0 && got != tc.wantWhite {
				t.Fatalf("%d white pixels, want %d", got, tc.wantWhite)
			}
		})
	}
}

func TestThresholdHigherLuminanceIsDarker(t *testing.T) {
	t.Parallel()
	src := fxGradient(300, 4)
	prev := -1
	for _, l := range []float64{100, 90, 75, 49, 30, 10, 0} {
		img := fxClone(src)
		noErr(Threshold(bgCtx, img, l))
		n := fxWhiteCount(img)
		if n <= prev {
			t.Fatalf("luminance %v gives %d white pixels, want more than %d (lower luminance, lighter image)", l, n, prev)
		}
		prev = n
	}
}

func TestAtkinson(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		c        color.NRGBA
		wantMean float64 // of the red channel, 0–255
		tol      float64
	}{
		{"black", color.NRGBA{0, 0, 0, 255}, 0, 0},
		{"white", color.NRGBA{255, 255, 255, 255}, 255, 0},
		{"50% grey", color.NRGBA{128, 128, 128, 255}, 128, 8},
		{"50% grey semi-transparent", color.NRGBA{128, 128, 128, 77}, 128, 8},
		{"25% grey", color.NRGBA{64, 64, 64, 255}, 64, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := fxSolid(64, 64, tc.c)
			img := fxClone(src)
			noErr(Atkinson(bgCtx, img))
			fxCheckBinary(t, img, src)
			if m := fxMean(img, 0); m < tc.wantMean-tc.tol || m > tc.wantMean+tc.tol {
				t.Fatalf("mean %.1f, want %.0f±%.0f", m, tc.wantMean, tc.tol)
			}
		})
	}
}

func TestAtkinsonGradientAndEdges(t *testing.T) {
	t.Parallel()
	// Ramps, single rows and columns must not index out of range, and the
	// dithered ramp must get lighter from left to right.
	for _, size := range []image.Point{{1, 1}, {1, 50}, {50, 1}, {2, 2}, {200, 40}} {
		src := fxGradient(size.X, size.Y)
		img := fxClone(src)
		noErr(Atkinson(bgCtx, img))
		fxCheckBinary(t, img, src)
	}
	img := fxGradient(200, 40)
	noErr(Atkinson(bgCtx, img))
	left, right := 0, 0
	for y := range 40 {
		for x := range 50 {
			left += int(img.Pix[img.PixOffset(x, y)])
			right += int(img.Pix[img.PixOffset(199-x, y)])
		}
	}
	if left >= right {
		t.Fatalf("left quarter (%d) not darker than right quarter (%d)", left, right)
	}
}

func BenchmarkThreshold(b *testing.B) {
	src := fxPhoto(4000, 3000)
	img := fxClone(src)
	b.ReportAllocs()
	for b.Loop() {
		copy(img.Pix, src.Pix)
		noErr(Threshold(bgCtx, img, 49))
	}
}

func BenchmarkAtkinson(b *testing.B) {
	src := fxPhoto(4000, 3000)
	img := fxClone(src)
	b.ReportAllocs()
	for b.Loop() {
		copy(img.Pix, src.Pix)
		noErr(Atkinson(bgCtx, img))
	}
}
