package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nfnt/resize"

	"github.com/imageopto/imageopto/internal/quality"
)

var allFilters = [...]Filter{Nearest, Bilinear, Bicubic, Lanczos2, Lanczos3}

// noisy returns a deterministic pseudo-random image; with opaque set every
// alpha is 255.
func noisy(w, h int, seed uint64, opaque bool) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.UintN(256))
		if opaque && i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	return m
}

// resizeSizes are source and destination sizes covering reduction,
// enlargement, identity, one-axis changes and extreme aspect ratios.
var resizeSizes = []struct{ sw, sh, dw, dh int }{
	{64, 48, 16, 12}, // down, integer factor
	{64, 48, 23, 17}, // down, fractional
	{16, 12, 64, 48}, // up, integer
	{16, 12, 37, 29}, // up, fractional
	{33, 21, 33, 21}, // identity
	{40, 30, 40, 7},  // height only
	{40, 30, 9, 30},  // width only
	{40, 30, 80, 10}, // up in x, down in y
	{1, 500, 1, 50},  // extreme aspect, down
	{500, 1, 50, 1},  // extreme aspect, down
	{1, 50, 1, 500},  // extreme aspect, up
	{50, 1, 500, 1},  // extreme aspect, up
	{1, 1, 7, 3},     // single pixel up
	{7, 3, 1, 1},     // down to a single pixel
	{3, 2, 2, 3},     // tiny, mixed
	{1000, 2, 3, 1},  // strong reduction, tiny source axis
	{2, 2, 300, 200}, // strong enlargement
}

func TestResizeSizes(t *testing.T) {
	t.Parallel()
	for _, f := range allFilters {
		for _, s := range resizeSizes {
			for _, opaque := range []bool{true, false} {
				name := fmt.Sprintf("%v/%dx%d-%dx%d/opaque=%v", f, s.sw, s.sh, s.dw, s.dh, opaque)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					src := noisy(s.sw, s.sh, uint64(s.sw*s.sh), opaque)
					orig := must(Crop(bgCtx, src, src.Rect))
					got := must(Resize(bgCtx, src, s.dw, s.dh, f))
					if got.Rect != image.Rect(0, 0, s.dw, s.dh) {
						t.Fatalf("bounds %v, want %v", got.Rect, image.Rect(0, 0, s.dw, s.dh))
					}
					if got.Stride != 4*s.dw || len(got.Pix) != 4*s.dw*s.dh {
						t.Fatalf("stride %d len %d", got.Stride, len(got.Pix))
					}
					if maxDiff(src, orig) != 0 {
						t.Fatal("source modified")
					}
					if opaque && !IsOpaque(got) {
						t.Error("opaque source gave a non-opaque result")
					}
					if s.sw == s.dw && s.sh == s.dh {
						if d := maxDiff(got, src); d != 0 {
							t.Errorf("identity resize differs by %d", d)
						}
						if &got.Pix[0] == &src.Pix[0] {
							t.Error("identity resize aliases the source")
						}
					}
					// A sub-image source (non-zero origin, padded stride)
					// resizes exactly like its compact copy.
					big := noisy(s.sw+5, s.sh+4, 7, opaque)
					sub := big.SubImage(image.Rect(3, 2, 3+s.sw, 2+s.sh)).(*image.NRGBA)
					if d := maxDiff(must(Resize(bgCtx, sub, s.dw, s.dh, f)), must(Resize(bgCtx, must(Crop(bgCtx, sub, sub.Rect)), s.dw, s.dh, f))); d != 0 {
						t.Errorf("sub-image source differs by %d", d)
					}
				})
			}
		}
	}
}

func TestResizeDegenerate(t *testing.T) {
	t.Parallel()
	src := noisy(10, 10, 1, false)
	tests := []struct {
		name string
		src  *image.NRGBA
		w, h int
		want image.Rectangle
	}{
		{"zero width", src, 0, 5, image.Rect(0, 0, 0, 5)},
		{"negative height", src, 5, -1, image.Rect(0, 0, 5, 0)},
		{"empty source", image.NewNRGBA(image.Rect(0, 0, 0, 3)), 4, 4, image.Rect(0, 0, 4, 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := must(Resize(bgCtx, tt.src, tt.w, tt.h, Lanczos3))
			if got.Rect != tt.want {
				t.Fatalf("bounds %v, want %v", got.Rect, tt.want)
			}
			for _, v := range got.Pix {
				if v != 0 {
					t.Fatal("expected a fully transparent image")
				}
			}
		})
	}
}

func TestResizeUnknownFilter(t *testing.T) {
	t.Parallel()
	src := noisy(30, 20, 2, false)
	want := must(Resize(bgCtx, src, 11, 7, Lanczos3))
	for _, f := range []Filter{-1, Lanczos3 + 1, 99} {
		if d := maxDiff(must(Resize(bgCtx, src, 11, 7, f)), want); d != 0 {
			t.Errorf("filter %d differs from Lanczos3 by %d", int(f), d)
		}
		if f.String() != "unknown" {
			t.Errorf("Filter(%d).String() = %q", int(f), f.String())
		}
	}
}

func TestResizeConstant(t *testing.T) {
	t.Parallel()
	colours := []color.NRGBA{
		{12, 200, 77, 255},
		{255, 255, 255, 255},
		{10, 200, 30, 128},
		{255, 1, 254, 1},
		{0, 0, 0, 0},
	}
	for _, f := range allFilters {
		for _, c := range colours {
			for _, s := range resizeSizes {
				name := fmt.Sprintf("%v/%v/%dx%d-%dx%d", f, c, s.sw, s.sh, s.dw, s.dh)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					got := must(Resize(bgCtx, solid(s.sw, s.sh, c), s.dw, s.dh, f))
					if d := maxDiff(got, solid(s.dw, s.dh, c)); d != 0 {
						t.Errorf("constant image changed by up to %d", d)
					}
				})
			}
		}
	}
}

func TestResizeQuadrants(t *testing.T) {
	t.Parallel()
	sizes := []struct{ sw, sh, dw, dh int }{
		{200, 200, 50, 50},
		{200, 120, 37, 23},
		{400, 300, 40, 30},
		{20, 20, 90, 60},
		{24, 16, 24, 80},
	}
	for _, f := range allFilters {
		for _, s := range sizes {
			t.Run(fmt.Sprintf("%v/%dx%d-%dx%d", f, s.sw, s.sh, s.dw, s.dh), func(t *testing.T) {
				t.Parallel()
				got := must(Resize(bgCtx, quadrants(s.sw, s.sh), s.dw, s.dh, f))
				cx0, cx1 := s.dw/4, s.dw*3/4
				cy0, cy1 := s.dh/4, s.dh*3/4
				checks := []struct {
					x, y int
					want color.NRGBA
				}{
					{cx0, cy0, qRed}, {cx1, cy0, qGreen},
					{cx0, cy1, qBlue}, {cx1, cy1, qYellow},
				}
				for _, c := range checks {
					if g := nrgbaAt(got, c.x, c.y); g != c.want {
						t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, g, c.want)
					}
				}
			})
		}
	}
}

func TestResizeNearestExact(t *testing.T) {
	t.Parallel()
	src := noisy(24, 18, 3, false)
	tests := []struct {
		name   string
		w, h   int
		source func(x, y int) (int, int)
	}{
		{"down x3", 8, 6, func(x, y int) (int, int) { return 3*x + 1, 3*y + 1 }},
		{"down x2", 12, 9, func(x, y int) (int, int) { return 2*x + 1, 2*y + 1 }},
		{"down x4 x3", 6, 6, func(x, y int) (int, int) { return 4*x + 2, 3*y + 1 }},
		{"up x2", 48, 36, func(x, y int) (int, int) { return x / 2, y / 2 }},
		{"up x3 x1", 72, 18, func(x, y int) (int, int) { return x / 3, y }},
		{"up x5", 120, 90, func(x, y int) (int, int) { return x / 5, y / 5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := must(Resize(bgCtx, src, tt.w, tt.h, Nearest))
			for y := range tt.h {
				for x := range tt.w {
					sx, sy := tt.source(x, y)
					if g, w := nrgbaAt(got, x, y), nrgbaAt(src, sx, sy); g != w {
						t.Fatalf("pixel (%d,%d) = %v, want source (%d,%d) = %v", x, y, g, sx, sy, w)
					}
				}
			}
		})
	}
}

// TestResizeNearestNoNewColours checks that Nearest only ever copies source
// pixels, whatever the factors.
func TestResizeNearestNoNewColours(t *testing.T) {
	t.Parallel()
	src := noisy(13, 11, 4, false)
	seen := map[color.NRGBA]bool{}
	for y := range 11 {
		for x := range 13 {
			seen[nrgbaAt(src, x, y)] = true
		}
	}
	for _, s := range [][2]int{{5, 7}, {29, 3}, {13, 40}, {1, 1}} {
		got := must(Resize(bgCtx, src, s[0], s[1], Nearest))
		for y := range s[1] {
			for x := range s[0] {
				if c := nrgbaAt(got, x, y); !seen[c] {
					t.Fatalf("%dx%d: pixel (%d,%d) = %v is not a source colour", s[0], s[1], x, y, c)
				}
			}
		}
	}
}

// TestResizeSingleAxis checks that an axis whose size is unchanged is not
// resampled: an image made of constant rows keeps constant rows when only
// its height changes, and an image made of constant columns keeps its rows
// exactly when only its height changes... and vice versa.
func TestResizeSingleAxis(t *testing.T) {
	t.Parallel()
	rows := noisy(1, 40, 9, false)  // one colour per row
	cols := noisy(40, 1, 10, false) // one colour per column
	rowImg := fromFunc(30, 40, func(_, y int) color.NRGBA { return nrgbaAt(rows, 0, y) })
	colImg := fromFunc(40, 30, func(x, _ int) color.NRGBA { return nrgbaAt(cols, x, 0) })
	for _, f := range allFilters {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			// Height only: every column must equal the 1-pixel-wide resize
			// of the row colours.
			wantCol := must(Resize(bgCtx, rows, 1, 13, f))
			got := must(Resize(bgCtx, rowImg, 30, 13, f))
			for y := range 13 {
				for x := range 30 {
					if g, w := nrgbaAt(got, x, y), nrgbaAt(wantCol, 0, y); g != w {
						t.Fatalf("height-only: (%d,%d) = %v, want %v", x, y, g, w)
					}
				}
			}
			// Width only, on an image constant down its columns.
			wantRow := must(Resize(bgCtx, cols, 17, 1, f))
			got = must(Resize(bgCtx, colImg, 17, 30, f))
			for y := range 30 {
				for x := range 17 {
					if g, w := nrgbaAt(got, x, y), nrgbaAt(wantRow, x, 0); g != w {
						t.Fatalf("width-only: (%d,%d) = %v, want %v", x, y, g, w)
					}
				}
			}
		})
	}
}

// TestResizeAxisSymmetry checks that resizing only the height gives the same
// result as transposing, resizing only the width and transposing back. The
// two use different code paths (identity horizontal coefficients, or an
// identity vertical pass), whose roundings may differ by one.
func TestResizeAxisSymmetry(t *testing.T) {
	t.Parallel()
	for _, f := range allFilters {
		for _, opaque := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/opaque=%v", f, opaque), func(t *testing.T) {
				t.Parallel()
				src := noisy(23, 31, 11, opaque)
				for _, h := range []int{1, 9, 30, 32, 77} {
					direct := must(Resize(bgCtx, src, 23, h, f))
					viaWidth := must(Orient(bgCtx, must(Resize(bgCtx, must(Orient(bgCtx, src, 5)), h, 23, f)), 5))
					if d := maxDiff(direct, viaWidth); d > 1 {
						t.Errorf("height %d: paths differ by %d", h, d)
					}
				}
			})
		}
	}
}

// TestResizeCoeffs checks the precomputed weights: every output sample's
// weights sum to exactly one in fixed point, their positive part stays
// below 1.5, and they stay inside the source.
func TestResizeCoeffs(t *testing.T) {
	t.Parallel()
	for _, f := range allFilters[1:] {
		for _, n := range [][2]int{{4000, 400}, {4000, 1600}, {3000, 7}, {7, 3000}, {500, 1}, {1, 50}, {10, 11}, {11, 10}, {2, 3}, {3, 2}, {5, 17}, {2, 1000}} {
			c := rsMakeCoeffs(n[0], n[1], f)
			for i := range n[1] {
				s, k := c.start[i], c.count[i]
				if s < 0 || k < 1 || k > c.taps || s+k > n[0] {
					t.Fatalf("%v %v: output %d reads [%d,%d) of %d with %d taps", f, n, i, s, s+k, n[0], c.taps)
				}
				sum, pos := int32(0), int32(0)
				for _, w := range c.w[i*c.taps : i*c.taps+k] {
					sum += w
					pos += max(w, 0)
				}
				if sum != rsWeightOne {
					t.Fatalf("%v %v: output %d weights sum to %d", f, n, i, sum)
				}
				// The overflow analysis in resize.go relies on this.
				if pos >= rsWeightOne*3/2 {
					t.Fatalf("%v %v: output %d positive weights sum to %d", f, n, i, pos)
				}
			}
		}
	}
}

// softBlue is the only visible colour of softAlphaImage: a blue with
// non-extreme channel values, so that precision lost in the premultiplied
// domain shows up as a colour error.
var softBlue = color.NRGBA{0, 70, 200, 255}

// softAlphaImage is a pattern of fully transparent pure red (255,0,0,0),
// opaque softBlue and translucent softBlue of many alphas (1..254). The only
// visible colour is softBlue, so a correct premultiplied resampler must
// produce softBlue, and no red, at every pixel that has any alpha.
func softAlphaImage(w, h int) *image.NRGBA {
	return fromFunc(w, h, func(x, y int) color.NRGBA {
		c := softBlue
		switch (x/5 + y/3) % 4 {
		case 0, 2:
			return color.NRGBA{255, 0, 0, 0}
		case 3:
			c.A = uint8(1 + (x*37+y*11)%254)
		}
		return c
	})
}

// alphaStats measures, over the pixels of m with alpha > 0, the largest red
// value and the largest deviation of the straight colour from softBlue.
func alphaStats(m *image.NRGBA) (maxRed, maxErr int) {
	for y := range m.Rect.Dy() {
		for x := range m.Rect.Dx() {
			c := nrgbaAt(m, x, y)
			if c.A == 0 {
				continue
			}
			maxRed = max(maxRed, int(c.R))
			maxErr = max(maxErr, absInt(int(c.R)-int(softBlue.R)),
				absInt(int(c.G)-int(softBlue.G)), absInt(int(c.B)-int(softBlue.B)))
		}
	}
	return maxRed, maxErr
}

// naiveStraightResize resamples every channel independently without
// premultiplying (the classic bug), built from Resize itself so that it uses
// the same kernels: colour from an opaque copy, alpha from a grey copy.
func naiveStraightResize(src *image.NRGBA, w, h int, f Filter) *image.NRGBA {
	col := must(Crop(bgCtx, src, src.Rect))
	alpha := must(Crop(bgCtx, src, src.Rect))
	for i := 0; i < len(col.Pix); i += 4 {
		col.Pix[i+3] = 255
		a := alpha.Pix[i+3]
		alpha.Pix[i], alpha.Pix[i+1], alpha.Pix[i+2], alpha.Pix[i+3] = a, a, a, 255
	}
	out := must(Resize(bgCtx, col, w, h, f))
	am := must(Resize(bgCtx, alpha, w, h, f))
	for i := 0; i < len(out.Pix); i += 4 {
		out.Pix[i+3] = am.Pix[i]
	}
	return out
}

// TestResizeSoftAlpha proves that colours are resampled premultiplied by
// alpha: the invisible red never reaches a visible pixel and the visible
// colour survives even at very low alpha. It also measures the same input
// through github.com/nfnt/resize and through a straight-alpha resampler.
func TestResizeSoftAlpha(t *testing.T) {
	t.Parallel()
	nfntFilter := map[Filter]resize.InterpolationFunction{
		Nearest: resize.NearestNeighbor, Bilinear: resize.Bilinear, Bicubic: resize.Bicubic,
		Lanczos2: resize.Lanczos2, Lanczos3: resize.Lanczos3,
	}
	src := softAlphaImage(120, 90)
	for _, f := range allFilters {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			var worstOurs, worstNfnt, redNfnt int
			for _, s := range [][2]int{{40, 30}, {47, 61}, {13, 9}, {300, 200}} {
				got := must(Resize(bgCtx, src, s[0], s[1], f))
				red, errOurs := alphaStats(got)
				if red > 2 {
					t.Errorf("%dx%d: visible pixels gained red: max R = %d", s[0], s[1], red)
				}
				if errOurs > 2 {
					t.Errorf("%dx%d: visible pixels deviate from the source colour by up to %d", s[0], s[1], errOurs)
				}
				// nfnt on the same NRGBA input; it returns a premultiplied
				// *image.RGBA, converted back to NRGBA for the comparison.
				nf := must(ToNRGBA(bgCtx, resize.Resize(uint(s[0]), uint(s[1]), src, nfntFilter[f])))
				nfRed, errNfnt := alphaStats(nf)
				naiveRed, errNaive := alphaStats(naiveStraightResize(src, s[0], s[1], f))
				t.Logf("%dx%d: max R / max colour error over alpha>0: ours %d/%d, nfnt %d/%d, naive straight-alpha %d/%d",
					s[0], s[1], red, errOurs, nfRed, errNfnt, naiveRed, errNaive)
				if f != Nearest && naiveRed <= 2 {
					t.Errorf("%dx%d: the straight-alpha reference should bleed red (got %d), or the test could not catch the bug", s[0], s[1], naiveRed)
				}
				worstOurs = max(worstOurs, errOurs)
				worstNfnt = max(worstNfnt, errNfnt)
				redNfnt = max(redNfnt, nfRed)
			}
			t.Logf("worst: ours %d, nfnt %d (nfnt max R %d)", worstOurs, worstNfnt, redNfnt)
			if worstNfnt <= worstOurs {
				t.Errorf("expected nfnt to be worse: ours %d, nfnt %d", worstOurs, worstNfnt)
			}
		})
	}
}

// TestResizePalettedDerived checks that a paletted source (with a
// transparent entry), once converted, resizes to a plain 8-bit NRGBA image.
func TestResizePalettedDerived(t *testing.T) {
	t.Parallel()
	pal := color.Palette{
		color.NRGBA{0, 0, 0, 0},
		color.RGBA{200, 10, 10, 255},
		color.NRGBA{10, 200, 10, 128},
		color.Gray{77},
	}
	p := image.NewPaletted(image.Rect(0, 0, 50, 40), pal)
	for i := range p.Pix {
		p.Pix[i] = uint8(i % len(pal))
	}
	for _, f := range allFilters {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			var m image.Image = must(Resize(bgCtx, must(ToNRGBA(bgCtx, p)), 23, 71, f))
			got, ok := m.(*image.NRGBA)
			if !ok {
				t.Fatalf("result is %T", m)
			}
			if got.Rect != image.Rect(0, 0, 23, 71) || got.Stride != 23*4 || len(got.Pix) != 23*71*4 {
				t.Fatalf("result is not a compact 8-bit NRGBA: %v stride %d len %d", got.Rect, got.Stride, len(got.Pix))
			}
			if got.ColorModel() != color.NRGBAModel {
				t.Fatal("colour model is not NRGBA")
			}
		})
	}
}

// smoothChannel is a smooth test signal on the unit square, in 0..255: a sum
// of sinusoids whose shortest period is a tenth of the image width (ten
// pixels at the 200-pixel output size, well below its Nyquist limit).
func smoothChannel(ch int, u, v float64) float64 {
	p := float64(ch)
	return 127.5 +
		55*math.Sin(2*math.Pi*(2*u+p*0.3)) +
		35*math.Cos(2*math.Pi*(3*v+1.5*u+p*0.7)) +
		20*math.Sin(2*math.Pi*(4*u-2*v+p)) +
		12*math.Sin(2*math.Pi*(10*u+p*0.1))
}

// TestResizeQuality downsamples a finely sampled smooth image and
// compares the result with the continuous function sampled directly at the
// output pixel centres.
func TestResizeQuality(t *testing.T) {
	t.Parallel()
	const sw, sh, dw, dh = 800, 600, 200, 150
	sample := func(w, h int) func(x, y int) color.NRGBA {
		return func(x, y int) color.NRGBA {
			u, v := (float64(x)+0.5)/float64(w), (float64(y)+0.5)/float64(h)
			return color.NRGBA{
				uint8(math.Round(smoothChannel(0, u, v))),
				uint8(math.Round(smoothChannel(1, u, v))),
				uint8(math.Round(smoothChannel(2, u, v))),
				255,
			}
		}
	}
	src := fromFunc(sw, sh, sample(sw, sh))
	ref := fromFunc(dw, dh, sample(dw, dh)) // 8-bit, for SSIM
	for _, f := range allFilters {
		got := must(Resize(bgCtx, src, dw, dh, f))
		score := quality.SSIM(got, ref)
		// Largest error against the unrounded float64 function values.
		worst := 0.0
		for y := range dh {
			for x := range dw {
				u, v := (float64(x)+0.5)/dw, (float64(y)+0.5)/dh
				c := nrgbaAt(got, x, y)
				for ch, g := range [3]uint8{c.R, c.G, c.B} {
					worst = max(worst, math.Abs(float64(g)-smoothChannel(ch, u, v)))
				}
			}
		}
		t.Logf("%v: SSIM %.5f, max error %.3f", f, score, worst)
		if f == Lanczos3 {
			if score < 0.99 {
				t.Errorf("SSIM %.5f < 0.99", score)
			}
			if worst > 1.5 {
				t.Errorf("max error %.3f > 1.5", worst)
			}
		}
	}
}

// TestResizeAntialias downsamples a pattern far above the output's Nyquist
// limit (a period of 3 source pixels, reduced 4 times): the filters must
// average it away instead of aliasing it into a visible low frequency.
func TestResizeAntialias(t *testing.T) {
	t.Parallel()
	src := fromFunc(800, 8, func(x, _ int) color.NRGBA {
		v := uint8(math.Round(128 + 100*math.Sin(2*math.Pi*(float64(x)+0.5)/3)))
		return color.NRGBA{v, v, v, 255}
	})
	limits := map[Filter]int{Bilinear: 4, Bicubic: 1, Lanczos2: 1, Lanczos3: 1}
	for _, f := range allFilters {
		got := must(Resize(bgCtx, src, 200, 2, f))
		// The first and last 3 output pixels see the edge extension of the
		// source, which breaks the pattern's balance; skip them.
		dev := 0
		for x := 3; x < 197; x++ {
			dev = max(dev, absInt(int(nrgbaAt(got, x, 1).G)-128))
		}
		t.Logf("%v: largest deviation from the mean %d", f, dev)
		if lim, ok := limits[f]; ok && dev > lim {
			t.Errorf("%v: aliasing, deviation %d > %d", f, dev, lim)
		}
	}
}

func TestSSIMSanity(t *testing.T) {
	t.Parallel()
	a := noisy(64, 48, 1, true)
	if s := quality.SSIM(a, a); math.Abs(s-1) > 1e-12 {
		t.Errorf("quality.SSIM(a, a) = %v, want 1", s)
	}
	b := noisy(64, 48, 2, true)
	if s := quality.SSIM(a, b); s > 0.2 {
		t.Errorf("ssim of unrelated noise = %v, want near 0", s)
	}
	if s := quality.SSIM(a, must(Resize(bgCtx, must(Resize(bgCtx, a, 32, 24, Lanczos3)), 64, 48, Lanczos3))); s > 0.9 || s < 0.1 {
		t.Errorf("ssim of a blurred noise image = %v, want in between", s)
	}
}

// benchSource is a 12 MP opaque photograph-like image.
func benchSource() *image.NRGBA {
	const w, h = 4000, 3000
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			i := m.PixOffset(x, y)
			n := uint8(rng.UintN(32))
			m.Pix[i] = uint8(x*255/w) + n
			m.Pix[i+1] = uint8(y*255/h) ^ n
			m.Pix[i+2] = uint8((x+y)/32) + n
			m.Pix[i+3] = 255
		}
	}
	return m
}

func BenchmarkResize(b *testing.B) {
	src := benchSource()
	for _, size := range [][2]int{{400, 300}, {1600, 1200}} {
		for _, f := range []Filter{Lanczos3, Bilinear} {
			b.Run(fmt.Sprintf("ours/%v/%dx%d", f, size[0], size[1]), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					must(Resize(bgCtx, src, size[0], size[1], f))
				}
			})
			// nfnt takes the *image.NRGBA directly (no conversion cost), runs
			// GOMAXPROCS goroutines and returns a premultiplied *image.RGBA;
			// converting that back to NRGBA is not included.
			nf := resize.Bilinear
			if f == Lanczos3 {
				nf = resize.Lanczos3
			}
			b.Run(fmt.Sprintf("nfnt/%v/%dx%d", f, size[0], size[1]), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					resize.Resize(uint(size[0]), uint(size[1]), src, nf)
				}
			})
		}
	}
}

// TestResizeWindow: a window with fractional edges is resampled where it
// lies. On a horizontal ramp (value 2x+1 at pixel x's centre) each output
// pixel has the ramp's value at its centre in the window; the whole image
// as a window is Resize.
func TestResizeWindow(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 120, 6))
	for y := range 6 {
		for x := range 120 {
			v := uint8(2*x + 1)
			copy(src.Pix[src.PixOffset(x, y):], []uint8{v, v, v, 0xFF})
		}
	}
	for _, c := range []struct {
		x0, x1 float64
		w      int
		f      Filter
	}{
		{20, 100, 40, Bilinear},
		{20.5, 100.5, 40, Bilinear},
		{10, 110.25, 30, Lanczos3},
		{33.3, 86.7, 17, Bicubic},
	} {
		t.Run(fmt.Sprintf("%v-%v-%v", c.x0, c.x1, c.f), func(t *testing.T) {
			got, err := ResizeWindow(context.Background(), src, c.w, 3, c.f, c.x0, 0, c.x1, 6)
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.w {
				centre := c.x0 + (float64(i)+0.5)*(c.x1-c.x0)/float64(c.w)
				want := 2 * centre // the ramp at a position: 2(x+0.5)+1-1
				if d := float64(got.Pix[got.PixOffset(i, 1)]) - want; d < -1 || d > 1 {
					t.Errorf("pixel %d = %d, want %.1f ± 1", i, got.Pix[got.PixOffset(i, 1)], want)
				}
			}
		})
	}
	whole, err := ResizeWindow(context.Background(), src, 50, 3, Lanczos3, 0, 0, 120, 6)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Resize(context.Background(), src, 50, 3, Lanczos3)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(whole.Pix, plain.Pix) {
		t.Error("ResizeWindow of the whole image differs from Resize")
	}
}
