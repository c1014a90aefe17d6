package jpegenc

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
)

// Test helpers shared by the test files of the package.

// bgCtx is the context of calls that are not about cancellation.
var bgCtx = context.Background()

// photoLike returns a deterministic w×h opaque image with the ingredients
// of a photograph: smooth colour gradients, a few objects with soft and hard
// edges, a fine periodic texture in one region, and sensor-like noise.
func photoLike(w, h int, seed uint64) *image.NRGBA {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	type wave struct{ fx, fy, ph, amp float64 }
	var waves [3][4]wave
	for c := range waves {
		for i := range waves[c] {
			waves[c][i] = wave{
				fx:  r.Float64() * 6 / float64(max(w, 1)),
				fy:  r.Float64() * 6 / float64(max(h, 1)),
				ph:  r.Float64() * 2 * math.Pi,
				amp: 20 + r.Float64()*30,
			}
		}
	}
	type disc struct {
		cx, cy, rad, soft float64
		col               [3]float64
	}
	discs := make([]disc, 6)
	for i := range discs {
		discs[i] = disc{
			cx: r.Float64() * float64(w), cy: r.Float64() * float64(h),
			rad:  (0.05 + r.Float64()*0.25) * float64(min(w, h)+1),
			soft: []float64{0.5, 2, 8}[i%3],
			col:  [3]float64{r.Float64() * 255, r.Float64() * 255, r.Float64() * 255},
		}
	}
	tx0, ty0 := w/2, h/3
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var px [3]float64
			for c := range px {
				v := 128.0
				for _, wv := range waves[c] {
					v += wv.amp * math.Sin(2*math.Pi*(wv.fx*float64(x)+wv.fy*float64(y))+wv.ph)
				}
				px[c] = v
			}
			for _, d := range discs {
				dist := math.Hypot(float64(x)-d.cx, float64(y)-d.cy)
				a := math.Min(1, math.Max(0, (d.rad-dist)/d.soft+0.5))
				for c := range px {
					px[c] = px[c]*(1-a) + d.col[c]*a
				}
			}
			if x >= tx0 && y >= ty0 && x < tx0+w/4+1 && y < ty0+h/4+1 {
				t := 25 * math.Sin(float64(x)*1.3) * math.Cos(float64(y)*0.9)
				for c := range px {
					px[c] += t
				}
			}
			n := r.NormFloat64() * 3
			i := m.PixOffset(x, y)
			for c := range px {
				m.Pix[i+c] = clamp8(px[c] + n + r.NormFloat64()*1.5)
			}
			m.Pix[i+3] = 255
		}
	}
	return m
}

func clamp8(v float64) uint8 {
	return uint8(math.Min(255, math.Max(0, math.Round(v))))
}

// noiseImage returns a w×h image of uniform random RGB noise.
func noiseImage(w, h int, seed uint64) *image.NRGBA {
	r := rand.New(rand.NewPCG(seed, 1))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(r.Uint32())
		if i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	return m
}

// toYCbCr converts an opaque NRGBA image to *image.YCbCr with the given
// subsampling; chroma is averaged over each subsampled square.
func toYCbCr(src *image.NRGBA, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	b := src.Bounds()
	m := image.NewYCbCr(b, ratio)
	sumCb := make([]int, len(m.Cb))
	sumCr := make([]int, len(m.Cr))
	cnt := make([]int, len(m.Cb))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := src.NRGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			m.Y[m.YOffset(x, y)] = yy
			o := m.COffset(x, y)
			sumCb[o] += int(cb)
			sumCr[o] += int(cr)
			cnt[o]++
		}
	}
	for o, n := range cnt {
		if n > 0 {
			m.Cb[o] = uint8((sumCb[o] + n/2) / n)
			m.Cr[o] = uint8((sumCr[o] + n/2) / n)
		}
	}
	return m
}

// toGray converts an image to *image.Gray.
func toGray(src image.Image) *image.Gray {
	b := src.Bounds()
	m := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			m.Set(x, y, src.At(x, y))
		}
	}
	return m
}

// rgbPix returns the pixels of m as packed 8-bit R, G, B triples, row by
// row. Y′CbCr is converted with image/color's YCbCrToRGB (nearest chroma
// sample), as image/draw does.
func rgbPix(m image.Image) []byte {
	b := m.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Rect, m, b.Min, draw.Src)
	out := make([]byte, 0, 3*b.Dx()*b.Dy())
	for i := 0; i < len(rgba.Pix); i += 4 {
		out = append(out, rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2])
	}
	return out
}

// diffStats compares two equally long sample slices: the PSNR in dB
// (capped at 99 for identical data), the mean absolute difference and the
// largest one.
func diffStats(a, b []byte) (psnr, mean float64, maxd int) {
	if len(a) != len(b) {
		panic("diffStats: lengths differ")
	}
	var se, sa int64
	for i := range a {
		d := int64(a[i]) - int64(b[i])
		se += d * d
		sa += max(d, -d)
		maxd = max(maxd, int(max(d, -d)))
	}
	if se == 0 {
		return 99, 0, 0
	}
	mse := float64(se) / float64(len(a))
	return 10 * math.Log10(255*255/mse), float64(sa) / float64(len(a)), maxd
}

// psnr returns the PSNR of b against a over R, G and B.
func psnr(a, b image.Image) float64 {
	p, _, _ := diffStats(rgbPix(a), rgbPix(b))
	return p
}

// encode encodes m with o and fails the test on error.
func encode(t testing.TB, m image.Image, o *Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(bgCtx, &buf, m, o); err != nil {
		t.Fatalf("Encode(bgCtx, %T %v, %+v): %v", m, m.Bounds(), o, err)
	}
	return buf.Bytes()
}

// encodeStd encodes m with image/jpeg.
func encodeStd(t testing.TB, m image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decode decodes a JPEG with image/jpeg and fails the test on error.
func decode(t testing.TB, data []byte) image.Image {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("image/jpeg cannot decode our output (%d bytes): %v", len(data), err)
	}
	return m
}
