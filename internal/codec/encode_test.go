package codec

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"testing"
)

// pngColorType returns the colour type and bit depth from an encoded PNG.
func pngColorType(b []byte) (ct, depth byte) {
	return b[25], b[24]
}

func TestEncodePNGLossless(t *testing.T) {
	t.Parallel()
	type gen func(x, y int) color.NRGBA
	tests := []struct {
		name     string
		w, h     int
		pixel    gen
		wantCT   byte // the direct form
		palDepth byte // the palette's bit depth; 0 when over 256 colours
	}{
		{"rgba many colours", 40, 30, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x * 6), uint8(y * 8), uint8(x * y), uint8(x*y*7 + 1)}
		}, pngRGBA, 0},
		{"opaque many colours", 40, 30, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x * 6), uint8(y * 8), uint8(x ^ y), 255}
		}, pngTrueColor, 0},
		{"grey 256 levels", 256, 2, func(x, y int) color.NRGBA {
			v := uint8(x)
			return color.NRGBA{v, v, v, 255}
		}, pngGray, 8},
		{"grey 17 levels", 17, 3, func(x, y int) color.NRGBA {
			v := uint8(x * 15)
			return color.NRGBA{v, v, v, 255}
		}, pngGray, 8},
		{"black and white", 33, 9, func(x, y int) color.NRGBA {
			v := uint8(255 * ((x + y) % 2))
			return color.NRGBA{v, v, v, 255}
		}, pngGray, 1},
		{"16 greys", 16, 4, func(x, y int) color.NRGBA {
			v := uint8(x * 17)
			return color.NRGBA{v, v, v, 255}
		}, pngGray, 4},
		{"256 colours with alpha", 16, 16, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x * 16), uint8(y * 16), 7, uint8(x*16 + y)}
		}, pngRGBA, 8},
		{"3 colours", 10, 10, func(x, y int) color.NRGBA {
			return [3]color.NRGBA{{255, 0, 0, 255}, {0, 0, 255, 128}, {0, 0, 0, 0}}[(x+y)%3]
		}, pngRGBA, 2},
		{"transparent pixels keep colour", 4, 4, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x * 60), 20, uint8(y * 60), 0}
		}, pngRGBA, 4},
		{"257 colours", 257, 1, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x), uint8(x >> 8), 0, 255}
		}, pngTrueColor, 0},
		{"1x1", 1, 1, func(x, y int) color.NRGBA { return color.NRGBA{1, 2, 3, 4} }, pngRGBA, 1},
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
			var buf bytes.Buffer
			if err := EncodePNG(bgCtx, &buf, src); err != nil {
				t.Fatal(err)
			}
			ct, depth := pngColorType(buf.Bytes())
			direct := ct == tc.wantCT && depth == 8
			palette := tc.palDepth != 0 && ct == pngPaletted && depth == tc.palDepth
			if !direct && !palette {
				t.Errorf("colour type %d depth %d, want %d depth 8 or palette depth %d", ct, depth, tc.wantCT, tc.palDepth)
			}
			samePixels(t, mustDecode(t, buf.Bytes()), src)
		})
	}
}

func TestEncodePNGSubImage(t *testing.T) {
	t.Parallel()
	// A sub-image (Rect.Min ≠ 0, Stride > 4·width) encodes its own pixels.
	big := photoLike(20, 20)
	sub := big.SubImage(image.Rect(5, 6, 15, 13)).(*image.NRGBA)
	var buf bytes.Buffer
	if err := EncodePNG(bgCtx, &buf, sub); err != nil {
		t.Fatal(err)
	}
	got := mustDecode(t, buf.Bytes())
	want := image.NewNRGBA(image.Rect(0, 0, 10, 7))
	for y := range 7 {
		for x := range 10 {
			want.SetNRGBA(x, y, sub.NRGBAAt(x+5, y+6))
		}
	}
	samePixels(t, got, want)
}

func TestEncodePNGPicksSmaller(t *testing.T) {
	t.Parallel()
	blocks := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	for y := range 200 {
		for x := range 200 {
			// 8 × 8 × 4 = 256 colours in a pattern that row filters love.
			blocks.SetNRGBA(x, y, color.NRGBA{uint8(x / 25 * 30), uint8(y / 25 * 30), uint8((x/7 + y/11) % 4 * 60), 255})
		}
	}
	bilevel := image.NewNRGBA(image.Rect(0, 0, 256, 64))
	fourColours := image.NewNRGBA(image.Rect(0, 0, 256, 64))
	for y := range 64 {
		for x := range 256 {
			v := uint8(255 * ((x * y / 3) % 2))
			bilevel.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
			fourColours.SetNRGBA(x, y, [4]color.NRGBA{{}, {255, 0, 0, 255}, {0, 0, 255, 128}, {9, 9, 9, 255}}[(x*y/5)%4])
		}
	}
	for _, tc := range []struct {
		name      string
		img       *image.NRGBA
		wantCT    byte
		wantDepth byte
	}{
		{"photo with ≤256 colours", mustDecode(t, readFixture(t, "video-001.gif")), pngPaletted, 8},
		{"smooth palette image", mustDecode(t, readFixture(t, "basn3p08.png")), pngTrueColor, 8},
		{"filter-friendly blocks", blocks, pngTrueColor, 8},
		{"black and white", bilevel, pngPaletted, 1},
		{"four colours with alpha", fourColours, pngPaletted, 2},
	} {
		var ours, plain bytes.Buffer
		if err := EncodePNG(bgCtx, &ours, tc.img); err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(&plain, tc.img); err != nil {
			t.Fatal(err)
		}
		ct, depth := pngColorType(ours.Bytes())
		t.Logf("%s: EncodePNG %d bytes (type %d, depth %d), image/png %d bytes", tc.name, ours.Len(), ct, depth, plain.Len())
		if ours.Len() > plain.Len() || ct != tc.wantCT || depth != tc.wantDepth {
			t.Errorf("%s: %d bytes (type %d, depth %d), image/png alone %d bytes", tc.name, ours.Len(), ct, depth, plain.Len())
		}
		samePixels(t, mustDecode(t, ours.Bytes()), tc.img)
	}
}

func TestEncodeGIFExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pixel func(x, y int) color.NRGBA
	}{
		{"256 opaque colours", func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x * 16), uint8(y * 16), 99, 255}
		}},
		{"255 colours and transparency", func(x, y int) color.NRGBA {
			if x == 0 && y == 0 {
				return color.NRGBA{}
			}
			return color.NRGBA{uint8(x * 16), uint8(y * 16), 5, 255}
		}},
		{"two colours", func(x, y int) color.NRGBA {
			if (x+y)%2 == 0 {
				return color.NRGBA{0, 0, 0, 0}
			}
			return color.NRGBA{10, 200, 30, 255}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := image.NewNRGBA(image.Rect(0, 0, 16, 16))
			for y := range 16 {
				for x := range 16 {
					src.SetNRGBA(x, y, tc.pixel(x, y))
				}
			}
			var buf bytes.Buffer
			if err := EncodeGIF(bgCtx, &buf, src); err != nil {
				t.Fatal(err)
			}
			samePixels(t, mustDecode(t, buf.Bytes()), src)
		})
	}
}

func TestEncodeGIFAlphaThreshold(t *testing.T) {
	t.Parallel()
	src := image.NewNRGBA(image.Rect(0, 0, 4, 1))
	src.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 127}) // → transparent
	src.SetNRGBA(1, 0, color.NRGBA{200, 100, 50, 128}) // → opaque
	src.SetNRGBA(2, 0, color.NRGBA{1, 2, 3, 0})
	src.SetNRGBA(3, 0, color.NRGBA{1, 2, 3, 255})
	var buf bytes.Buffer
	if err := EncodeGIF(bgCtx, &buf, src); err != nil {
		t.Fatal(err)
	}
	got := mustDecode(t, buf.Bytes())
	want := []color.NRGBA{{}, {200, 100, 50, 255}, {}, {1, 2, 3, 255}}
	for x, w := range want {
		if c := got.NRGBAAt(x, 0); c != w {
			t.Errorf("pixel %d = %v, want %v", x, c, w)
		}
	}
}

func TestEncodeGIFQuantized(t *testing.T) {
	t.Parallel()
	for _, withAlpha := range []bool{false, true} {
		src := photoLike(160, 120)
		if withAlpha {
			for y := range 20 {
				for x := range 160 {
					src.Pix[src.PixOffset(x, y)+3] = 0
				}
			}
		}
		var buf bytes.Buffer
		if err := EncodeGIF(bgCtx, &buf, src); err != nil {
			t.Fatal(err)
		}
		g, err := gif.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		pal := g.(*image.Paletted).Palette
		if len(pal) > 256 {
			t.Errorf("palette has %d entries", len(pal))
		}
		got := mustDecode(t, buf.Bytes())
		var transparent int
		for y := range 120 {
			for x := range 160 {
				if a := got.NRGBAAt(x, y).A; a == 0 {
					transparent++
				} else if a != 255 {
					t.Fatalf("alpha %d", a)
				}
			}
		}
		if want := map[bool]int{false: 0, true: 20 * 160}[withAlpha]; transparent != want {
			t.Errorf("alpha=%v: %d transparent pixels, want %d", withAlpha, transparent, want)
		}
		// Compare the opaque part, lightly blurred to discount the dither.
		opaque := image.Rect(0, 20, 160, 120)
		p := psnr(blur3(got.SubImage(opaque).(*image.NRGBA)), blur3(src.SubImage(opaque).(*image.NRGBA)))
		t.Logf("alpha=%v: %d bytes, %d palette entries, blurred PSNR %.2f dB", withAlpha, buf.Len(), len(pal), p)
		if p < 30 {
			t.Errorf("alpha=%v: blurred PSNR %.2f dB", withAlpha, p)
		}
	}
}

// blur3 returns a 3×3 box blur of m (edges clamped), at the origin.
func blur3(m *image.NRGBA) *image.NRGBA {
	b := m.Rect
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			var s [3]int
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx := min(max(x+dx, 0), b.Dx()-1)
					yy := min(max(y+dy, 0), b.Dy()-1)
					c := m.NRGBAAt(b.Min.X+xx, b.Min.Y+yy)
					s[0] += int(c.R)
					s[1] += int(c.G)
					s[2] += int(c.B)
				}
			}
			out.SetNRGBA(x, y, color.NRGBA{uint8(s[0] / 9), uint8(s[1] / 9), uint8(s[2] / 9), 255})
		}
	}
	return out
}

func TestEncodeGIFRejects(t *testing.T) {
	t.Parallel()
	if err := EncodeGIF(bgCtx, &bytes.Buffer{}, nil); err == nil {
		t.Error("nil image: no error")
	}
	if err := EncodePNG(bgCtx, &bytes.Buffer{}, image.NewNRGBA(image.Rect(0, 0, 3, 0))); err == nil {
		t.Error("empty image: no error")
	}
}

func TestMedianCutDistinct(t *testing.T) {
	t.Parallel()
	// 1000 histogram cells in 8 clusters → 8 entries near the centres.
	centres := [][3]uint8{{0, 0, 0}, {255, 255, 255}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 0}, {0, 255, 255}, {255, 0, 255}}
	var bins []histBin
	for _, c := range centres {
		for d := range 3 {
			q := [3]uint8{c[0] >> 3, c[1] >> 3, c[2] >> 3}
			if q[d] > 0 {
				q[d]--
			}
			bins = append(bins, histBin{c: q, count: 10, sum: [3]uint64{uint64(q[0]) * 80, uint64(q[1]) * 80, uint64(q[2]) * 80}})
		}
	}
	pal := must(medianCut(nopoll(), bins, 8))
	if len(pal) != 8 {
		t.Fatalf("%d entries", len(pal))
	}
	for _, want := range centres {
		found := false
		for _, c := range pal {
			r, g, b, _ := c.RGBA()
			if absDiff(uint8(r>>8), want[0]) <= 16 && absDiff(uint8(g>>8), want[1]) <= 16 && absDiff(uint8(b>>8), want[2]) <= 16 {
				found = true
			}
		}
		if !found {
			t.Errorf("no palette entry near %v in %v", want, pal)
		}
	}
}
