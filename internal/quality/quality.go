// Package quality measures perceptual similarity (SSIM) and searches for the
// lowest encoder quality that keeps an image above a similarity target. It
// backs optimize=low|medium|high.
package quality

import (
	"image"
	"math"
)

// SSIM returns the mean structural similarity (Wang et al. 2004) of the luma
// of a and b as LumaSSIM measures it: over 8×8 windows placed every 4
// pixels, with the usual constants for 8-bit data (C1 = (0.01·255)²,
// C2 = (0.03·255)²). Identical images score 1. Alpha is ignored (the luma
// is that of the straight colour). a and b must have the same size, else the
// result is 0; images smaller than a window are compared as one window.
func SSIM(a, b *image.NRGBA) float64 {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	if w != b.Rect.Dx() || h != b.Rect.Dy() || w == 0 || h == 0 {
		return 0
	}
	return LumaSSIM(luma(a), luma(b), w, h)
}

// LumaSSIM returns the mean structural similarity (Wang et al. 2004) of two
// w×h luma planes (row by row, 0–255) over 8×8 windows placed every 4
// pixels (a window as wide or as tall as the image where it is smaller than
// 8), with C1 = (0.01·255)² and C2 = (0.03·255)². This is the measure that
// optimize= targets. Identical planes score 1; planes that do not hold w×h
// values, or an empty size, score 0.
func LumaSSIM(a, b []float64, w, h int) float64 {
	if w <= 0 || h <= 0 || len(a) != w*h || len(b) != w*h {
		return 0
	}
	const win, step = 8, 4
	ww, wh := min(win, w), min(win, h)
	var sum float64
	n := 0
	for y := 0; y+wh <= h; y += step {
		for x := 0; x+ww <= w; x += step {
			var sa, sb, saa, sbb, sab float64
			for yy := y; yy < y+wh; yy++ {
				row := yy * w
				for xx := x; xx < x+ww; xx++ {
					va, vb := a[row+xx], b[row+xx]
					sa += va
					sb += vb
					saa += va * va
					sbb += vb * vb
					sab += va * vb
				}
			}
			k := float64(ww * wh)
			ma, mb := sa/k, sb/k
			sum += ssimTerm(ma, mb, saa/k-ma*ma, sbb/k-mb*mb, sab/k-ma*mb)
			n++
		}
	}
	return sum / float64(n)
}

// GaussianLumaSSIM returns the mean structural similarity of two w×h luma
// planes as Wang et al. (2004) define it: local statistics weighted by an
// 11-tap Gaussian window of σ 1.5 (min(11, w, h) taps for a smaller image),
// taken at every position where the window fits, with the same constants as
// LumaSSIM. It is finer and slower than LumaSSIM and gives somewhat
// different numbers; the benchmark command reports it. Planes that do not
// hold w×h values, or an empty size, score 0.
func GaussianLumaSSIM(a, b []float64, w, h int) float64 {
	if w <= 0 || h <= 0 || len(a) != w*h || len(b) != w*h {
		return 0
	}
	win := gaussian(min(11, w, h), 1.5)
	n := w * h
	aa, bb, ab := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		aa[i], bb[i], ab[i] = a[i]*a[i], b[i]*b[i], a[i]*b[i]
	}
	mu1, mu2 := blur(a, w, h, win), blur(b, w, h, win)
	s11, s22, s12 := blur(aa, w, h, win), blur(bb, w, h, win), blur(ab, w, h, win)
	var sum float64
	for i := range mu1 {
		m1, m2 := mu1[i], mu2[i]
		sum += ssimTerm(m1, m2, s11[i]-m1*m1, s22[i]-m2*m2, s12[i]-m1*m2)
	}
	return sum / float64(len(mu1))
}

// ssimTerm is the SSIM of one window from its means, variances and
// covariance, with the constants for 8-bit data.
func ssimTerm(ma, mb, va, vb, cov float64) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	return ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
}

// gaussian returns a normalised window of n taps.
func gaussian(n int, sigma float64) []float64 {
	w := make([]float64, n)
	var sum float64
	for i := range w {
		d := float64(i) - float64(n-1)/2
		w[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// blur convolves a w×h plane with the separable window, keeping only the
// positions where it fits: (w-n+1)×(h-n+1) values.
func blur(p []float64, w, h int, win []float64) []float64 {
	n := len(win)
	ow, oh := w-n+1, h-n+1
	rows := make([]float64, ow*h)
	for y := range h {
		for x := range ow {
			var s float64
			for k, c := range win {
				s += c * p[y*w+x+k]
			}
			rows[y*ow+x] = s
		}
	}
	out := make([]float64, ow*oh)
	for y := range oh {
		for x := range ow {
			var s float64
			for k, c := range win {
				s += c * rows[(y+k)*ow+x]
			}
			out[y*ow+x] = s
		}
	}
	return out
}

// luma returns Rec. 601 luma of every pixel, row by row, alpha ignored.
func luma(m *image.NRGBA) []float64 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]float64, w*h)
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x := range w {
			p := row[4*x : 4*x+3]
			out[y*w+x] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
		}
	}
	return out
}

// LumaOver returns the Rec. 601 luma (0–255) of every pixel of m, row by
// row from m's top-left corner, with m composited over an opaque grey
// background of level bg: 0 weighs colours by their alpha (black
// background), 255 puts transparent pixels on white. Colours are taken
// premultiplied at 8 bits, as color.RGBAModel gives them. Opaque pixels give
// their own luma whatever bg; fully transparent ones give bg. Comparing two
// images this way ignores the colour they keep under transparent pixels,
// which encoders are free to change.
func LumaOver(m image.Image, bg uint8) []float64 {
	b := m.Bounds()
	out := make([]float64, 0, b.Dx()*b.Dy())
	if n, ok := m.(*image.NRGBA); ok {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := n.Pix[n.PixOffset(b.Min.X, y):][:4*b.Dx()]
			for x := 0; x < len(row); x += 4 {
				// As color.NRGBA.RGBA and then color.RGBAModel compute it.
				a := uint32(row[x+3])
				pre := func(c byte) uint32 { return uint32(c) * 0x101 * a / 0xFF >> 8 }
				out = append(out, lumaOver(pre(row[x]), pre(row[x+1]), pre(row[x+2]), a, bg))
			}
		}
		return out
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := m.At(x, y).RGBA()
			out = append(out, lumaOver(r>>8, g>>8, bl>>8, a>>8, bg))
		}
	}
	return out
}

// lumaOver is the luma of one 8-bit premultiplied colour over grey bg.
func lumaOver(r, g, b, a uint32, bg uint8) float64 {
	off := float64(bg) * float64(0xFF-a) / 0xFF
	return 0.299*(float64(r)+off) + 0.587*(float64(g)+off) + 0.114*(float64(b)+off)
}

// Sample returns img itself when it has at most maxPixels pixels, else a
// mosaic of four tiles cut from its quarters' centres, of about maxPixels
// pixels in all. Compression artefacts are local, so the mosaic predicts the
// quality a whole large image needs at a fraction of the cost.
func Sample(img *image.NRGBA, maxPixels int) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w*h <= maxPixels {
		return img
	}
	side := 1
	for (2*side+2)*(2*side+2) <= maxPixels {
		side++
	}
	tw, th := min(side, w/2), min(side, h/2)
	out := image.NewNRGBA(image.Rect(0, 0, 2*tw, 2*th))
	for ty := range 2 {
		for tx := range 2 {
			cx, cy := w/4+tx*w/2, h/4+ty*h/2
			x0, y0 := max(0, cx-tw/2), max(0, cy-th/2)
			for y := range th {
				src := img.Pix[img.PixOffset(img.Rect.Min.X+x0, img.Rect.Min.Y+y0+y):]
				dst := out.Pix[out.PixOffset(tx*tw, ty*th+y):]
				copy(dst[:4*tw], src[:4*tw])
			}
		}
	}
	return out
}

// RoundTrip encodes img at a quality and decodes the result.
type RoundTrip func(img *image.NRGBA, q int) (*image.NRGBA, error)

// Search returns the lowest quality in [lo, hi] whose round trip keeps the
// SSIM with img at or above target, by bisection (about log2(hi−lo)
// round trips). When even hi falls short it returns hi.
func Search(img *image.NRGBA, target float64, lo, hi int, rt RoundTrip) (int, error) {
	ok := func(q int) (bool, error) {
		out, err := rt(img, q)
		if err != nil {
			return false, err
		}
		return SSIM(img, out) >= target, nil
	}
	good, err := ok(hi)
	if err != nil {
		return 0, err
	}
	if !good {
		return hi, nil
	}
	for lo < hi {
		mid := (lo + hi) / 2
		good, err := ok(mid)
		if err != nil {
			return 0, err
		}
		if good {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi, nil
}
