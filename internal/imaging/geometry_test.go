package imaging

import (
	"fmt"
	"image"
	"image/color"
	"testing"
)

func TestCrop(t *testing.T) {
	t.Parallel()
	src := noisy(20, 10, 1, false)
	sub := src.SubImage(image.Rect(2, 1, 18, 9)).(*image.NRGBA) // origin (2,1), padded stride
	tests := []struct {
		name string
		src  *image.NRGBA
		r    image.Rectangle
		want image.Rectangle // the region actually copied, in src coordinates
	}{
		{"whole", src, src.Rect, src.Rect},
		{"inner", src, image.Rect(3, 2, 11, 7), image.Rect(3, 2, 11, 7)},
		{"single pixel", src, image.Rect(19, 9, 20, 10), image.Rect(19, 9, 20, 10)},
		{"clipped", src, image.Rect(-5, 4, 8, 40), image.Rect(0, 4, 8, 10)},
		{"outside", src, image.Rect(30, 30, 40, 40), image.Rectangle{}},
		{"sub-image", sub, image.Rect(4, 2, 10, 8), image.Rect(4, 2, 10, 8)},
		{"sub-image clipped", sub, image.Rect(0, 0, 5, 5), image.Rect(2, 1, 5, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := must(Crop(bgCtx, tt.src, tt.r))
			if got.Rect != image.Rect(0, 0, tt.want.Dx(), tt.want.Dy()) {
				t.Fatalf("bounds %v, want size %v", got.Rect, tt.want.Size())
			}
			for y := range tt.want.Dy() {
				for x := range tt.want.Dx() {
					if g, w := got.NRGBAAt(x, y), tt.src.NRGBAAt(tt.want.Min.X+x, tt.want.Min.Y+y); g != w {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
					}
				}
			}
			if len(got.Pix) > 0 && &got.Pix[0] == &tt.src.Pix[tt.src.PixOffset(tt.want.Min.X, tt.want.Min.Y)] {
				t.Error("crop aliases the source")
			}
		})
	}
}

func TestOrientQuadrants(t *testing.T) {
	t.Parallel()
	const w, h = 6, 4
	// Corner colours (top-left, top-right, bottom-left, bottom-right) of the
	// upright image for each EXIF orientation of the stored quadrants image
	// (red, green / blue, yellow), worked out by hand.
	R, G, B, Y := qRed, qGreen, qBlue, qYellow
	tests := []struct {
		o       int
		corners [4]color.NRGBA
	}{
		{1, [4]color.NRGBA{R, G, B, Y}}, // as stored
		{2, [4]color.NRGBA{G, R, Y, B}}, // mirrored horizontally
		{3, [4]color.NRGBA{Y, B, G, R}}, // rotated 180°
		{4, [4]color.NRGBA{B, Y, R, G}}, // mirrored vertically
		{5, [4]color.NRGBA{R, B, G, Y}}, // transposed
		{6, [4]color.NRGBA{B, R, Y, G}}, // rotated 90° clockwise
		{7, [4]color.NRGBA{Y, G, B, R}}, // transversed
		{8, [4]color.NRGBA{G, Y, R, B}}, // rotated 90° counter-clockwise
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.o), func(t *testing.T) {
			t.Parallel()
			src := quadrants(w, h)
			got := must(Orient(bgCtx, src, tt.o))
			ww, wh := w, h
			if tt.o >= 5 {
				ww, wh = h, w
			}
			if got.Rect != image.Rect(0, 0, ww, wh) {
				t.Fatalf("bounds %v, want %dx%d", got.Rect, ww, wh)
			}
			pts := [4]image.Point{{0, 0}, {ww - 1, 0}, {0, wh - 1}, {ww - 1, wh - 1}}
			for i, p := range pts {
				if c := got.NRGBAAt(p.X, p.Y); c != tt.corners[i] {
					t.Errorf("corner %v = %v, want %v", p, c, tt.corners[i])
				}
			}
			if maxDiff(src, quadrants(w, h)) != 0 {
				t.Error("source modified")
			}
		})
	}
}

// orientRef is the straightforward per-pixel definition of Orient: the
// source pixel that lands on each destination pixel.
func orientRef(src *image.NRGBA, o int) *image.NRGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := sw, sh
	if o >= 5 && o <= 8 {
		dw, dh = sh, sw
	}
	return fromFunc(dw, dh, func(x, y int) color.NRGBA {
		var sx, sy int
		switch o {
		case 2:
			sx, sy = sw-1-x, y
		case 3:
			sx, sy = sw-1-x, sh-1-y
		case 4:
			sx, sy = x, sh-1-y
		case 5:
			sx, sy = y, x
		case 6:
			sx, sy = y, sh-1-x
		case 7:
			sx, sy = sw-1-y, sh-1-x
		case 8:
			sx, sy = sw-1-y, x
		default:
			sx, sy = x, y
		}
		return nrgbaAt(src, sx, sy)
	})
}

func TestOrientPixels(t *testing.T) {
	t.Parallel()
	big := noisy(15, 12, 5, false)
	sources := map[string]*image.NRGBA{
		"7x5":       noisy(7, 5, 2, false),
		"1x9":       noisy(1, 9, 3, false),
		"9x1":       noisy(9, 1, 4, false),
		"sub-image": big.SubImage(image.Rect(2, 3, 13, 10)).(*image.NRGBA),
	}
	for name, src := range sources {
		for o := 1; o <= 8; o++ {
			t.Run(fmt.Sprintf("%s/%d", name, o), func(t *testing.T) {
				t.Parallel()
				got := must(Orient(bgCtx, src, o))
				if d := maxDiff(got, orientRef(src, o)); d != 0 {
					t.Errorf("differs from the reference by %d", d)
				}
				if o > 1 && got.Rect.Min != (image.Point{}) {
					t.Errorf("origin %v", got.Rect.Min)
				}
			})
		}
	}
}

func TestOrientRoundTrips(t *testing.T) {
	t.Parallel()
	src := noisy(7, 4, 6, false)
	tests := []struct {
		name string
		a, b int
	}{
		{"6 then 8", 6, 8},
		{"8 then 6", 8, 6},
		{"3 then 3", 3, 3},
		{"2 then 2", 2, 2},
		{"4 then 4", 4, 4},
		{"5 then 5", 5, 5},
		{"7 then 7", 7, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if d := maxDiff(must(Orient(bgCtx, must(Orient(bgCtx, src, tt.a)), tt.b)), src); d != 0 {
				t.Errorf("round trip differs by %d", d)
			}
		})
	}
	// Four quarter turns are the identity; two are a half turn.
	x := src
	for range 4 {
		x = must(Orient(bgCtx, x, 6))
	}
	if maxDiff(x, src) != 0 {
		t.Error("four clockwise quarter turns are not the identity")
	}
	if maxDiff(must(Orient(bgCtx, must(Orient(bgCtx, src, 6)), 6)), must(Orient(bgCtx, src, 3))) != 0 {
		t.Error("two clockwise quarter turns are not a half turn")
	}
}

func TestOrientOutOfRange(t *testing.T) {
	t.Parallel()
	src := noisy(5, 3, 7, false)
	for _, o := range []int{-1, 0, 1, 9, 100} {
		if got := must(Orient(bgCtx, src, o)); got != src {
			t.Errorf("Orient(src, %d) did not return src", o)
		}
	}
}

func TestPlace(t *testing.T) {
	t.Parallel()
	bg := color.NRGBA{10, 20, 30, 40}
	src := noisy(4, 3, 8, false)
	src.Pix[3] = 0 // a transparent pixel replaces the background too
	big := noisy(10, 10, 9, false)
	sub := big.SubImage(image.Rect(5, 6, 9, 9)).(*image.NRGBA)
	tests := []struct {
		name string
		src  *image.NRGBA
		w, h int
		x, y int
	}{
		{"top-left", src, 10, 8, 0, 0},
		{"inside", src, 10, 8, 3, 2},
		{"bottom-right", src, 10, 8, 6, 5},
		{"clipped left-top", src, 10, 8, -2, -1},
		{"clipped right-bottom", src, 10, 8, 8, 6},
		{"outside", src, 10, 8, 20, 0},
		{"exact fit", src, 4, 3, 0, 0},
		{"larger than canvas", src, 2, 2, -1, -1},
		{"sub-image source", sub, 6, 6, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := must(Place(bgCtx, tt.w, tt.h, bg, tt.src, tt.x, tt.y))
			if got.Rect != image.Rect(0, 0, tt.w, tt.h) {
				t.Fatalf("bounds %v", got.Rect)
			}
			sw, sh := tt.src.Rect.Dx(), tt.src.Rect.Dy()
			for y := range tt.h {
				for x := range tt.w {
					want := bg
					if sx, sy := x-tt.x, y-tt.y; sx >= 0 && sy >= 0 && sx < sw && sy < sh {
						want = nrgbaAt(tt.src, sx, sy)
					}
					if g := got.NRGBAAt(x, y); g != want {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, want)
					}
				}
			}
		})
	}
}

func TestFlatten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		px, bg color.NRGBA
		want   color.NRGBA
	}{
		{"opaque pixel", color.NRGBA{1, 2, 3, 255}, color.NRGBA{200, 200, 200, 255}, color.NRGBA{1, 2, 3, 255}},
		{"transparent pixel", color.NRGBA{1, 2, 3, 0}, color.NRGBA{200, 100, 50, 255}, color.NRGBA{200, 100, 50, 255}},
		// 255*128/255 + 0*127/255 = 128 exactly.
		{"half white over black", color.NRGBA{255, 255, 255, 128}, color.NRGBA{0, 0, 0, 255}, color.NRGBA{128, 128, 128, 255}},
		// 255*127/255 = 127.
		{"half black over white", color.NRGBA{0, 0, 0, 128}, color.NRGBA{255, 255, 255, 255}, color.NRGBA{127, 127, 127, 255}},
		// (100*3 + 0*252)/255 = 1.176 -> 1; (200*3 + 255*252)/255 = 254.35 -> 254.
		{"rounds down", color.NRGBA{100, 200, 0, 3}, color.NRGBA{0, 255, 0, 255}, color.NRGBA{1, 254, 0, 255}},
		// (255*2 + 0)/255 = 2; (170*3)/255 = 2.0; (85*3)/255 = 1.0; (0 + 1*253)/255 = 0.992 -> 1.
		{"rounds up", color.NRGBA{170, 85, 0, 3}, color.NRGBA{1, 1, 1, 255}, color.NRGBA{3, 2, 1, 255}},
		// (50*77 + 10*178)/255 = 22.078 -> 22; (250*77 + 90*178)/255 = 138.31 -> 138;
		// (128*77 + 255*178)/255 = 216.65 -> 217.
		{"mixed", color.NRGBA{50, 250, 128, 77}, color.NRGBA{10, 90, 255, 255}, color.NRGBA{22, 138, 217, 255}},
		// Over a translucent background: ao = (100*255 + 50*155)/255² = 0.5113
		// -> 130.4 -> 130; R = 255*100*255 / (100*255 + 50*155) = 195.6 -> 196;
		// G = 0; B = 255*50*155 / 33250 = 59.4 -> 59.
		{"translucent background", color.NRGBA{255, 0, 0, 100}, color.NRGBA{0, 0, 255, 50}, color.NRGBA{196, 0, 59, 130}},
		{"transparent background", color.NRGBA{9, 8, 7, 6}, color.NRGBA{100, 100, 100, 0}, color.NRGBA{9, 8, 7, 6}},
		{"both transparent", color.NRGBA{9, 8, 7, 0}, color.NRGBA{100, 100, 100, 0}, color.NRGBA{100, 100, 100, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			img := solid(3, 2, tt.px)
			noErr(Flatten(bgCtx, img, tt.bg))
			for y := range 2 {
				for x := range 3 {
					if g := img.NRGBAAt(x, y); g != tt.want {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, tt.want)
					}
				}
			}
		})
	}
}

func TestFlattenSubImage(t *testing.T) {
	t.Parallel()
	img := solid(6, 5, color.NRGBA{100, 100, 100, 0})
	noErr(Flatten(bgCtx, img.SubImage(image.Rect(1, 2, 4, 4)).(*image.NRGBA), color.NRGBA{1, 2, 3, 255}))
	for y := range 5 {
		for x := range 6 {
			want := color.NRGBA{100, 100, 100, 0}
			if image.Pt(x, y).In(image.Rect(1, 2, 4, 4)) {
				want = color.NRGBA{1, 2, 3, 255}
			}
			if g := img.NRGBAAt(x, y); g != want {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, want)
			}
		}
	}
}

// TestFlattenExhaustive compares Flatten over an opaque and a translucent
// background with the exact rational result for every alpha and several
// colours.
func TestFlattenExhaustive(t *testing.T) {
	t.Parallel()
	for _, bg := range []color.NRGBA{{255, 255, 255, 255}, {3, 140, 250, 255}, {30, 200, 90, 77}} {
		img := fromFunc(256, 6, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(y * 51), uint8(255 - y*37), uint8(x), uint8(x)}
		})
		orig := must(Crop(bgCtx, img, img.Rect))
		noErr(Flatten(bgCtx, img, bg))
		if bg.A == 255 && !IsOpaque(img) {
			t.Errorf("bg %v: result not opaque", bg)
		}
		for y := range 6 {
			for x := range 256 {
				s := orig.NRGBAAt(x, y)
				sa, ba := float64(s.A)/255, float64(bg.A)/255
				ao := sa + ba*(1-sa)
				exact := func(c, b uint8) float64 {
					if ao == 0 {
						return float64(b)
					}
					return (float64(c)*sa + float64(b)*ba*(1-sa)) / ao
				}
				want := [4]float64{exact(s.R, bg.R), exact(s.G, bg.G), exact(s.B, bg.B), ao * 255}
				g := img.NRGBAAt(x, y)
				for i, v := range [4]uint8{g.R, g.G, g.B, g.A} {
					if d := float64(v) - want[i]; d > 0.5+1e-9 || d < -0.5-1e-9 {
						t.Fatalf("bg %v, src %v: channel %d = %d, exact %.3f", bg, s, i, v, want[i])
					}
				}
			}
		}
	}
}

func TestIsOpaque(t *testing.T) {
	t.Parallel()
	big := solid(40, 10, color.NRGBA{1, 2, 3, 255})
	big.Pix[big.PixOffset(35, 9)+3] = 254 // outside the sub-image below
	tests := []struct {
		name string
		img  *image.NRGBA
		want bool
	}{
		{"opaque", solid(37, 5, color.NRGBA{1, 2, 3, 255}), true},
		{"empty", image.NewNRGBA(image.Rect(0, 0, 0, 0)), true},
		{"transparent", solid(3, 3, color.NRGBA{}), false},
		{"opaque sub-image of a translucent image", big.SubImage(image.Rect(0, 0, 30, 9)).(*image.NRGBA), true},
		{"translucent", big, false},
	}
	// One translucent pixel anywhere, in the word-wise part or the tail.
	for _, x := range []int{0, 1, 7, 8, 31, 32, 35, 36} {
		m := solid(37, 3, color.NRGBA{1, 2, 3, 255})
		m.Pix[m.PixOffset(x, 2)+3] = 200
		tests = append(tests, struct {
			name string
			img  *image.NRGBA
			want bool
		}{fmt.Sprintf("one pixel at x=%d", x), m, false})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsOpaque(tt.img); got != tt.want {
				t.Errorf("IsOpaque = %v, want %v", got, tt.want)
			}
		})
	}
}

// genericNRGBA is the reference conversion: At and color.NRGBAModel.
func genericNRGBA(m image.Image) *image.NRGBA {
	b := m.Bounds()
	return fromFunc(b.Dx(), b.Dy(), func(x, y int) color.NRGBA {
		return color.NRGBAModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
	})
}

// fillBytes fills p with deterministic pseudo-random bytes.
func fillBytes(p []uint8, seed uint64) {
	src := noisy(len(p)/4+1, 1, seed, false)
	copy(p, src.Pix)
}

func TestToNRGBA(t *testing.T) {
	t.Parallel()
	r := image.Rect(3, -2, 3+37, -2+23) // non-zero origin, odd sizes
	rgba := image.NewRGBA(r)
	fillBytes(rgba.Pix, 1)
	for i := 0; i < len(rgba.Pix); i += 4 { // valid premultiplied values
		a := rgba.Pix[i+3]
		rgba.Pix[i] = min(rgba.Pix[i], a)
		rgba.Pix[i+1] = min(rgba.Pix[i+1], a)
		rgba.Pix[i+2] = min(rgba.Pix[i+2], a)
	}
	rgba.Pix[3], rgba.Pix[7] = 255, 0

	gray := image.NewGray(r)
	fillBytes(gray.Pix, 2)

	pal := color.Palette{color.NRGBA{1, 2, 3, 4}, color.RGBA{50, 60, 70, 128}, color.Gray{9}, color.NRGBA{200, 10, 0, 0}}
	paletted := image.NewPaletted(r, pal)
	fillBytes(paletted.Pix, 3)
	for i := range paletted.Pix {
		paletted.Pix[i] %= uint8(len(pal))
	}

	nrgba64 := image.NewNRGBA64(r)
	fillBytes(nrgba64.Pix, 4)
	for i := 6; i < len(nrgba64.Pix); i += 8 { // the generic path is lossy at low alpha
		nrgba64.Pix[i] |= 0x80
	}
	rgba64 := image.NewRGBA64(r)
	fillBytes(rgba64.Pix, 5)
	for i := 0; i < len(rgba64.Pix); i += 8 { // valid premultiplied values
		a := uint16(rgba64.Pix[i+6])<<8 | uint16(rgba64.Pix[i+7])
		for c := 0; c < 6; c += 2 {
			v := min(uint16(rgba64.Pix[i+c])<<8|uint16(rgba64.Pix[i+c+1]), a)
			rgba64.Pix[i+c], rgba64.Pix[i+c+1] = uint8(v>>8), uint8(v)
		}
	}
	cmyk := image.NewCMYK(r)
	fillBytes(cmyk.Pix, 6)

	nrgba := image.NewNRGBA(r)
	fillBytes(nrgba.Pix, 7)

	nycbcra := image.NewNYCbCrA(r, image.YCbCrSubsampleRatio420)
	fillBytes(nycbcra.Y, 8)
	fillBytes(nycbcra.Cb, 9)
	fillBytes(nycbcra.Cr, 10)
	fillBytes(nycbcra.A, 11)
	for i := range nycbcra.A { // the generic path is lossy at low alpha
		nycbcra.A[i] |= 0x80
	}

	gray16 := image.NewGray16(r) // no fast path: the At fallback
	fillBytes(gray16.Pix, 12)

	tests := []struct {
		name string
		img  image.Image
		tol  int
	}{
		{"RGBA", rgba, 0},
		{"Gray", gray, 0},
		{"Paletted", paletted, 0},
		{"CMYK", cmyk, 0},
		{"NRGBA with offset origin", nrgba, 0},
		{"Gray16 (fallback)", gray16, 0},
		// The fast paths round 16-bit values to nearest; the generic path
		// truncates (and for RGBA64 goes through a lossy round trip).
		{"NRGBA64", nrgba64, 1},
		{"RGBA64", rgba64, 1},
		// color.YCbCrToRGB (fast path) and color.YCbCr.RGBA (generic path)
		// use different precisions.
		{"NYCbCrA 4:2:0", nycbcra, 1},
	}
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	for i, ratio := range ratios {
		for _, yr := range []image.Rectangle{r, image.Rect(0, 0, 16, 16), image.Rect(-3, -5, 10, 10)} {
			m := image.NewYCbCr(yr, ratio)
			fillBytes(m.Y, uint64(20+i))
			fillBytes(m.Cb, uint64(30+i))
			fillBytes(m.Cr, uint64(40+i))
			tests = append(tests, struct {
				name string
				img  image.Image
				tol  int
			}{fmt.Sprintf("YCbCr %v %v", ratio, yr), m, 1})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := must(ToNRGBA(bgCtx, tt.img))
			b := tt.img.Bounds()
			if got.Rect != image.Rect(0, 0, b.Dx(), b.Dy()) {
				t.Fatalf("bounds %v", got.Rect)
			}
			if d := maxDiff(got, genericNRGBA(tt.img)); d > tt.tol {
				t.Errorf("differs from the At conversion by %d (tolerance %d)", d, tt.tol)
			}
			if ycc, ok := tt.img.(*image.YCbCr); ok {
				// Exactly color.YCbCrToRGB.
				for y := b.Min.Y; y < b.Max.Y; y++ {
					for x := b.Min.X; x < b.Max.X; x++ {
						c := ycc.YCbCrAt(x, y)
						r, g, bb := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
						if p := got.NRGBAAt(x-b.Min.X, y-b.Min.Y); p != (color.NRGBA{r, g, bb, 255}) {
							t.Fatalf("(%d,%d) = %v, want YCbCrToRGB %v", x, y, p, color.NRGBA{r, g, bb, 255})
						}
					}
				}
			}
		})
	}
}

// TestToNRGBA16Rounding checks that 16-bit straight values are rounded to
// the nearest 8-bit value at every alpha (the generic path truncates and,
// at low alpha, loses precision in its premultiplied round trip).
func TestToNRGBA16Rounding(t *testing.T) {
	t.Parallel()
	m := image.NewNRGBA64(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			v := uint16(y<<8 | x)
			m.SetNRGBA64(x, y, color.NRGBA64{v, 65535 - v, v / 3, v})
		}
	}
	got := must(ToNRGBA(bgCtx, m))
	round := func(v uint16) uint8 { return uint8((float64(v) / 257) + 0.5) }
	for y := range 256 {
		for x := range 256 {
			c := m.NRGBA64At(x, y)
			want := color.NRGBA{round(c.R), round(c.G), round(c.B), round(c.A)}
			if g := got.NRGBAAt(x, y); g != want {
				t.Fatalf("%v -> %v, want %v", c, g, want)
			}
		}
	}
}

func TestToNRGBASpecialCases(t *testing.T) {
	t.Parallel()
	compact := noisy(5, 4, 1, false)
	if must(ToNRGBA(bgCtx, compact)) != compact {
		t.Error("an NRGBA image at the origin should be returned as is")
	}
	if got := must(ToNRGBA(bgCtx, image.NewRGBA(image.Rect(2, 2, 2, 9)))); got.Rect != image.Rect(0, 0, 0, 7) {
		t.Errorf("empty image gave bounds %v", got.Rect)
	}
	// Palette indices past the palette, and empty palettes, give transparent
	// black rather than a panic.
	p := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.Black})
	p.Pix[1] = 7
	if got := must(ToNRGBA(bgCtx, p)); got.NRGBAAt(0, 0) != (color.NRGBA{0, 0, 0, 255}) || got.NRGBAAt(1, 0) != (color.NRGBA{}) {
		t.Errorf("paletted with an index out of range: %v %v", got.NRGBAAt(0, 0), got.NRGBAAt(1, 0))
	}
	if got := must(ToNRGBA(bgCtx, image.NewPaletted(image.Rect(0, 0, 2, 2), nil))); got.NRGBAAt(1, 1) != (color.NRGBA{}) {
		t.Error("empty palette should give transparent pixels")
	}
}
