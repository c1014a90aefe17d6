// Package quality measures perceptual similarity (SSIM) and searches for the
// lowest encoder quality that keeps an image above a similarity target. It
// backs optimize=low|medium|high.
package quality

import "image"

// SSIM returns the mean structural similarity (Wang et al. 2004) of the luma
// of a and b, over 8×8 windows placed every 4 pixels, with the usual
// constants for 8-bit data (C1 = (0.01·255)², C2 = (0.03·255)²). Identical
// images score 1. Alpha is ignored. a and b must have the same size; images
// smaller than a window are compared as one window.
func SSIM(a, b *image.NRGBA) float64 {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	if w != b.Rect.Dx() || h != b.Rect.Dy() || w == 0 || h == 0 {
		return 0
	}
	la, lb := luma(a), luma(b)
	const win, step = 8, 4
	const c1, c2 = 6.5025, 58.5225
	ww, wh := min(win, w), min(win, h)
	var sum float64
	n := 0
	for y := 0; y+wh <= h; y += step {
		for x := 0; x+ww <= w; x += step {
			var sa, sb, saa, sbb, sab float64
			for yy := y; yy < y+wh; yy++ {
				row := yy * w
				for xx := x; xx < x+ww; xx++ {
					va, vb := la[row+xx], lb[row+xx]
					sa += va
					sb += vb
					saa += va * va
					sbb += vb * vb
					sab += va * vb
				}
			}
			k := float64(ww * wh)
			ma, mb := sa/k, sb/k
			vara, varb := saa/k-ma*ma, sbb/k-mb*mb
			cov := sab/k - ma*mb
			sum += ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (vara + varb + c2))
			n++
		}
	}
	return sum / float64(n)
}

// luma returns Rec. 601 luma of every pixel, row by row.
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
