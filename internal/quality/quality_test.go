package quality

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
)

func photo(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			n := uint8(r.IntN(24))
			img.SetNRGBA(x, y, color.NRGBA{uint8(x*255/w) + n, uint8(y*255/h) + n, uint8((x*y)%256) / 2, 255})
		}
	}
	return img
}

func noisy(img *image.NRGBA, amp int, seed uint64) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	copy(out.Pix, img.Pix)
	if amp == 0 {
		return out
	}
	r := rand.New(rand.NewPCG(seed, 9))
	for i := range out.Pix {
		if i%4 == 3 {
			continue
		}
		v := int(out.Pix[i]) + r.IntN(2*amp+1) - amp
		out.Pix[i] = uint8(max(0, min(255, v)))
	}
	return out
}

func TestSSIM(t *testing.T) {
	t.Parallel()
	img := photo(64, 48)
	if s := SSIM(img, img); s < 0.999999 {
		t.Fatalf("identical: %v", s)
	}
	prev := 1.0
	for _, amp := range []int{2, 8, 32, 96} {
		s := SSIM(img, noisy(img, amp, 1))
		if s >= prev {
			t.Errorf("noise %d: SSIM %v not below %v", amp, s, prev)
		}
		prev = s
	}
	if s := SSIM(img, photo(32, 32)); s != 0 {
		t.Errorf("different sizes: %v", s)
	}
	tiny := photo(3, 2)
	if s := SSIM(tiny, tiny); s < 0.999999 {
		t.Errorf("tiny: %v", s)
	}
}

// TestSearch: with a round trip whose damage shrinks as quality grows, the
// search finds the lowest quality that meets the target.
func TestSearch(t *testing.T) {
	t.Parallel()
	img := photo(64, 64)
	calls := 0
	rt := func(m *image.NRGBA, q int) (*image.NRGBA, error) {
		calls++
		return noisy(m, (100-q)/2, 7), nil
	}
	for _, target := range []float64{0.9, 0.97, 0.99} {
		calls = 0
		q, err := Search(img, target, 30, 95, rt)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := rt(img, q)
		if SSIM(img, got) < target {
			t.Errorf("target %v: q=%d misses it", target, q)
		}
		if q > 30 {
			below, _ := rt(img, q-1)
			if SSIM(img, below) >= target {
				t.Errorf("target %v: q=%d is not the lowest", target, q)
			}
		}
		if calls > 9 {
			t.Errorf("target %v: %d round trips", target, calls)
		}
	}
	if q, _ := Search(img, 1.1, 30, 95, rt); q != 95 {
		t.Errorf("unreachable target: got %d, want hi", q)
	}
}

// TestSearchJPEG: higher targets need higher JPEG qualities.
func TestSearchJPEG(t *testing.T) {
	t.Parallel()
	img := photo(128, 96)
	rt := func(m *image.NRGBA, q int) (*image.NRGBA, error) {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
			return nil, err
		}
		d, err := jpeg.Decode(&b)
		if err != nil {
			return nil, err
		}
		out := image.NewNRGBA(d.Bounds())
		for y := range d.Bounds().Dy() {
			for x := range d.Bounds().Dx() {
				out.Set(x, y, d.At(x, y))
			}
		}
		return out, nil
	}
	qLow, _ := Search(img, 0.90, 20, 95, rt)
	qHigh, _ := Search(img, 0.98, 20, 95, rt)
	if qLow >= qHigh {
		t.Errorf("target 0.90 → q%d, 0.98 → q%d", qLow, qHigh)
	}
}

func TestSample(t *testing.T) {
	t.Parallel()
	small := photo(100, 100)
	if Sample(small, 20000) != small {
		t.Error("small image should be used whole")
	}
	big := photo(1000, 800)
	s := Sample(big, 40000)
	if n := s.Rect.Dx() * s.Rect.Dy(); n > 40000 || n < 30000 {
		t.Errorf("sample has %d pixels", n)
	}
	// The first tile's top-left comes from the first quarter's centre.
	tw := s.Rect.Dx() / 2
	x0, y0 := 250-tw/2, 200-s.Rect.Dy()/4
	if s.NRGBAAt(0, 0) != big.NRGBAAt(x0, y0) {
		t.Errorf("tile origin: %v vs %v", s.NRGBAAt(0, 0), big.NRGBAAt(x0, y0))
	}
}

func TestLumaSSIM(t *testing.T) {
	t.Parallel()
	img := photo(64, 48)
	la, lb := luma(img), luma(noisy(img, 16, 3))
	for name, f := range map[string]func(a, b []float64, w, h int) float64{"box": LumaSSIM, "gaussian": GaussianLumaSSIM} {
		if s := f(la, la, 64, 48); math.Abs(s-1) > 1e-9 {
			t.Errorf("%s: identical: %v", name, s)
		}
		if s := f(la, lb, 64, 48); s <= 0 || s >= 0.99 {
			t.Errorf("%s: noisy: %v", name, s)
		}
		if s := f(la, lb[:10], 64, 48); s != 0 {
			t.Errorf("%s: short plane: %v", name, s)
		}
		if s := f(la[:6], la[:6], 3, 2); math.Abs(s-1) > 1e-9 {
			t.Errorf("%s: smaller than a window: %v", name, s)
		}
	}
	if s, want := LumaSSIM(la, lb, 64, 48), SSIM(img, noisy(img, 16, 3)); s != want {
		t.Errorf("LumaSSIM %v, SSIM %v", s, want)
	}
}

func TestLumaOver(t *testing.T) {
	t.Parallel()
	m := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	m.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 255}) // opaque
	m.SetNRGBA(1, 0, color.NRGBA{200, 100, 50, 0})   // transparent
	m.SetNRGBA(2, 0, color.NRGBA{255, 255, 255, 128})
	opaque := 0.299*200 + 0.587*100 + 0.114*50
	// The same pixels through image.Image.At (an RGBA64 copy).
	m64 := image.NewRGBA64(m.Rect)
	for x := range 3 {
		m64.Set(x, 0, m.At(x, 0))
	}
	for _, img := range []image.Image{m, m64, m.SubImage(m.Rect)} {
		black, white := LumaOver(img, 0), LumaOver(img, 255)
		for i, want := range [][2]float64{{opaque, opaque}, {0, 255}, {128, 255}} {
			if math.Abs(black[i]-want[0]) > 1e-9 || math.Abs(white[i]-want[1]) > 1e-9 {
				t.Errorf("%T pixel %d: over black %v, over white %v, want %v", img, i, black[i], white[i], want)
			}
		}
	}
}
