package imaging

import (
	"image"
	"image/color"
	"math"
)

// Test helpers shared by every test file of the package.

// The colours of the quadrants image.
var (
	qRed    = color.NRGBA{255, 0, 0, 255}
	qGreen  = color.NRGBA{0, 255, 0, 255}
	qBlue   = color.NRGBA{0, 0, 255, 255}
	qYellow = color.NRGBA{255, 255, 0, 255}
)

// quadrants returns a w×h opaque image split into four quadrants: red
// top-left, green top-right, blue bottom-left and yellow bottom-right. The
// left half is x < w/2 and the top half y < h/2.
func quadrants(w, h int) *image.NRGBA {
	return fromFunc(w, h, func(x, y int) color.NRGBA {
		switch {
		case x < w/2 && y < h/2:
			return qRed
		case y < h/2:
			return qGreen
		case x < w/2:
			return qBlue
		default:
			return qYellow
		}
	})
}

// solid returns a w×h image filled with c.
func solid(w, h int, c color.NRGBA) *image.NRGBA {
	return fromFunc(w, h, func(int, int) color.NRGBA { return c })
}

// fromFunc returns a w×h image whose pixel (x, y) is f(x, y).
func fromFunc(w, h int, f func(x, y int) color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := f(x, y)
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
		}
	}
	return m
}

// nrgbaAt returns pixel (x, y) of m, counted from m's top-left corner.
func nrgbaAt(m *image.NRGBA, x, y int) color.NRGBA {
	return m.NRGBAAt(m.Rect.Min.X+x, m.Rect.Min.Y+y)
}

// maxDiff returns the largest absolute difference between corresponding
// channel values of a and b, pixels being matched from each image's top-left
// corner. Images of different sizes give math.MaxInt.
func maxDiff(a, b *image.NRGBA) int {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	if w != b.Rect.Dx() || h != b.Rect.Dy() {
		return math.MaxInt
	}
	d := 0
	for y := range h {
		pa := a.Pix[a.PixOffset(a.Rect.Min.X, a.Rect.Min.Y+y):][:w*4]
		pb := b.Pix[b.PixOffset(b.Rect.Min.X, b.Rect.Min.Y+y):][:w*4]
		for i := range pa {
			d = max(d, absInt(int(pa[i])-int(pb[i])))
		}
	}
	return d
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// lumaPlane returns the Rec. 601 luma of every pixel of m (alpha ignored),
// row by row.
func lumaPlane(m *image.NRGBA) []float64 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := make([]float64, 0, w*h)
	for y := range h {
		for x := range w {
			c := nrgbaAt(m, x, y)
			out = append(out, 0.299*float64(c.R)+0.587*float64(c.G)+0.114*float64(c.B))
		}
	}
	return out
}

// ssim returns the mean structural similarity index of the lumas of a and b
// (Wang, Bovik, Sheikh and Simoncelli, "Image quality assessment: from error
// visibility to structural similarity", IEEE TIP 2004): local statistics are
// taken in an 11×11 Gaussian window with σ = 1.5 (smaller for images smaller
// than that) at every position where the window fits, with K1 = 0.01,
// K2 = 0.03 and L = 255. Alpha is ignored. Images of different sizes give 0.
func ssim(a, b *image.NRGBA) float64 {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	if w != b.Rect.Dx() || h != b.Rect.Dy() || w == 0 || h == 0 {
		return 0
	}
	win := min(11, w, h)
	if win%2 == 0 {
		win--
	}
	g := make([]float64, win)
	sum := 0.0
	for i := range g {
		d := float64(i - win/2)
		g[i] = math.Exp(-d * d / (2 * 1.5 * 1.5))
		sum += g[i]
	}
	for i := range g {
		g[i] /= sum
	}

	x, y := lumaPlane(a), lumaPlane(b)
	xx := make([]float64, len(x))
	yy := make([]float64, len(x))
	xy := make([]float64, len(x))
	for i := range x {
		xx[i], yy[i], xy[i] = x[i]*x[i], y[i]*y[i], x[i]*y[i]
	}
	ow, oh := w-win+1, h-win+1
	// blur filters p with the separable window, keeping valid positions only.
	blur := func(p []float64) []float64 {
		tmp := make([]float64, ow*h)
		for r := range h {
			for c := range ow {
				s := 0.0
				for k, gk := range g {
					s += gk * p[r*w+c+k]
				}
				tmp[r*ow+c] = s
			}
		}
		out := make([]float64, ow*oh)
		for r := range oh {
			for c := range ow {
				s := 0.0
				for k, gk := range g {
					s += gk * tmp[(r+k)*ow+c]
				}
				out[r*ow+c] = s
			}
		}
		return out
	}
	mx, my := blur(x), blur(y)
	sxx, syy, sxy := blur(xx), blur(yy), blur(xy)
	const (
		c1 = (0.01 * 255) * (0.01 * 255)
		c2 = (0.03 * 255) * (0.03 * 255)
	)
	total := 0.0
	for i := range mx {
		vx := sxx[i] - mx[i]*mx[i]
		vy := syy[i] - my[i]*my[i]
		cov := sxy[i] - mx[i]*my[i]
		total += (2*mx[i]*my[i] + c1) * (2*cov + c2) /
			((mx[i]*mx[i] + my[i]*my[i] + c1) * (vx + vy + c2))
	}
	return total / float64(len(mx))
}
