package imaging

import (
	"image"
	"image/color"
	"testing"
)

// fxObject paints a detailed, colourful w×h object (small coloured checks)
// with its top-left corner at (x0, y0).
func fxObject(img *image.NRGBA, x0, y0, w, h int) {
	palette := []color.NRGBA{{220, 30, 40, 255}, {20, 160, 60, 255}, {250, 220, 20, 255}, {30, 60, 200, 255}, {0, 0, 0, 255}, {255, 255, 255, 255}}
	for y := y0; y < y0+h; y++ {
		for x := x0; x < x0+w; x++ {
			c := palette[((x-x0)/4+(y-y0)/4*5)%len(palette)]
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
		}
	}
}

// fxContains reports whether the cw×ch window at p contains r.
func fxContains(p image.Point, cw, ch int, r image.Rectangle) bool {
	return r.In(image.Rect(p.X, p.Y, p.X+cw, p.Y+ch))
}

func TestSmartCrop(t *testing.T) {
	t.Parallel()
	grey := color.NRGBA{128, 128, 128, 255}

	left := fxSolid(400, 300, grey)
	fxObject(left, 10, 110, 60, 80)
	bottomRight := fxSolid(400, 400, grey)
	fxObject(bottomRight, 320, 310, 60, 70)
	top := fxSolid(300, 600, grey)
	fxObject(top, 100, 20, 100, 60)
	// Large image: exercises the downscaled grid (factor 8).
	big := fxSolid(2000, 1200, grey)
	fxObject(big, 1700, 900, 200, 200)
	// A skin-coloured patch and a neutral patch of the same luma: the skin
	// and colour terms must win.
	skin := fxSolid(600, 200, color.NRGBA{40, 40, 40, 255})
	for y := 60; y < 140; y++ {
		for x := 40; x < 120; x++ {
			copy(skin.Pix[skin.PixOffset(x, y):], []uint8{181, 181, 181, 255})
		}
		for x := 480; x < 560; x++ {
			copy(skin.Pix[skin.PixOffset(x, y):], []uint8{224, 172, 140, 255})
		}
	}

	tests := []struct {
		name   string
		img    *image.NRGBA
		cw, ch int
		want   image.Rectangle // must lie inside the window
		exact  *image.Point    // exact answer, if any
	}{
		{"object near the left edge", left, 150, 300, image.Rect(10, 110, 70, 190), nil},
		{"object bottom right", bottomRight, 150, 150, image.Rect(320, 310, 380, 380), nil},
		{"object at the top", top, 300, 200, image.Rect(100, 20, 200, 80), nil},
		{"downscaled grid", big, 600, 600, image.Rect(1700, 900, 1900, 1100), nil},
		{"skin beats grey", skin, 200, 200, image.Rect(480, 60, 560, 140), nil},
		{"uniform is centred", fxSolid(400, 300, grey), 100, 300, image.Rectangle{}, &image.Point{150, 0}},
		{"uniform colour is centred", fxSolid(301, 200, color.NRGBA{200, 40, 90, 255}), 101, 100, image.Rectangle{}, &image.Point{100, 50}},
		{"transparent is centred", fxSolid(300, 300, color.NRGBA{200, 40, 90, 0}), 100, 100, image.Rectangle{}, &image.Point{100, 100}},
		{"full size", left, 400, 300, image.Rectangle{}, &image.Point{}},
		{"larger than the image", left, 900, 900, image.Rectangle{}, &image.Point{}},
		{"zero size window clamps", fxSolid(10, 10, grey), 0, -3, image.Rectangle{}, &image.Point{4, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := must(SmartCrop(bgCtx, tc.img, tc.cw, tc.ch))
			w, h := tc.img.Rect.Dx(), tc.img.Rect.Dy()
			cw, ch := min(max(tc.cw, 1), w), min(max(tc.ch, 1), h)
			if got.X < 0 || got.Y < 0 || got.X+cw > w || got.Y+ch > h {
				t.Fatalf("SmartCrop = %v: %dx%d window leaves the %dx%d image", got, cw, ch, w, h)
			}
			if tc.exact != nil && got != *tc.exact {
				t.Fatalf("SmartCrop = %v, want %v", got, *tc.exact)
			}
			if !tc.want.Empty() && !fxContains(got, cw, ch, tc.want) {
				t.Fatalf("SmartCrop = %v: window %v misses the object %v", got, image.Rect(got.X, got.Y, got.X+cw, got.Y+ch), tc.want)
			}
		})
	}
}

func TestSmartCropNotCentred(t *testing.T) {
	t.Parallel()
	img := fxSolid(400, 300, color.NRGBA{128, 128, 128, 255})
	fxObject(img, 10, 110, 60, 80)
	if got := must(SmartCrop(bgCtx, img, 150, 300)); got.X == (400-150)/2 {
		t.Fatalf("SmartCrop = %v: centred despite the object on the left", got)
	}
}

func TestSmartCropSubImage(t *testing.T) {
	t.Parallel()
	img := fxSolid(500, 300, color.NRGBA{128, 128, 128, 255})
	fxObject(img, 400, 100, 60, 80)
	sub := img.SubImage(image.Rect(100, 0, 500, 300)).(*image.NRGBA)
	got := must(SmartCrop(bgCtx, sub, 150, 300))
	if got.X < 100 || got.X+150 > 500 || !fxContains(got, 150, 300, image.Rect(400, 100, 460, 180)) {
		t.Fatalf("SmartCrop = %v, want a window inside %v around the object", got, sub.Rect)
	}
	if got := must(SmartCrop(bgCtx, sub, 400, 300)); got != sub.Rect.Min {
		t.Fatalf("full-size SmartCrop = %v, want %v", got, sub.Rect.Min)
	}
}

func TestSkinTone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		r, g, b uint8
		skin    bool
	}{
		{"light skin", 224, 172, 140, true},
		{"medium skin", 198, 134, 66, true},
		{"dark skin", 141, 85, 36, true},
		{"grey", 128, 128, 128, false},
		{"blue", 40, 60, 200, false},
		{"green", 40, 200, 60, false},
		{"black", 0, 0, 0, false},
		{"white", 255, 255, 255, false},
	}
	for _, tc := range tests {
		s := scSkin(float32(tc.r)/255, float32(tc.g)/255, float32(tc.b)/255)
		if (s > 0.3) != tc.skin || s < 0 || s > 1 {
			t.Errorf("%s: skin = %.2f, want skin=%v", tc.name, s, tc.skin)
		}
	}
}

func BenchmarkSmartCrop(b *testing.B) {
	src := fxPhoto(4000, 3000)
	b.ReportAllocs()
	for b.Loop() {
		must(SmartCrop(bgCtx, src, 3000, 3000))
	}
}
