package main

import (
	"image"
	"image/color"
	"math"
)

// plane is an image's luma, one float64 per pixel (0–255).
type plane struct {
	w, h int
	p    []float64
}

// luma returns the BT.601 luma of m, with transparent pixels composited on
// white (so that an image and its reference compare alike whatever their
// alpha handling).
func luma(m image.Image) plane {
	b := m.Bounds()
	out := plane{w: b.Dx(), h: b.Dy(), p: make([]float64, b.Dx()*b.Dy())}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA) // premultiplied
			white := 255 - float64(c.A)
			r, g, bl := float64(c.R)+white, float64(c.G)+white, float64(c.B)+white
			out.p[i] = 0.299*r + 0.587*g + 0.114*bl
			i++
		}
	}
	return out
}

// ssim is the mean structural similarity of two equal-sized luma planes
// (Wang et al. 2004): an 11-tap Gaussian window of σ 1.5, K1 0.01, K2 0.03,
// over the positions where the window fits (a smaller window for images
// under 11 pixels).
func ssim(a, b plane) float64 {
	const k1, k2, l = 0.01, 0.03, 255.0
	c1, c2 := (k1*l)*(k1*l), (k2*l)*(k2*l)
	win := gaussian(min(11, a.w, a.h), 1.5)
	n := len(a.p)
	aa, bb, ab := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		aa[i], bb[i], ab[i] = a.p[i]*a.p[i], b.p[i]*b.p[i], a.p[i]*b.p[i]
	}
	mu1, mu2 := blur(a.p, a.w, a.h, win), blur(b.p, a.w, a.h, win)
	s11, s22, s12 := blur(aa, a.w, a.h, win), blur(bb, a.w, a.h, win), blur(ab, a.w, a.h, win)
	var sum float64
	for i := range mu1 {
		m1, m2 := mu1[i], mu2[i]
		v1, v2, cov := s11[i]-m1*m1, s22[i]-m2*m2, s12[i]-m1*m2
		sum += ((2*m1*m2 + c1) * (2*cov + c2)) / ((m1*m1 + m2*m2 + c1) * (v1 + v2 + c2))
	}
	return sum / float64(len(mu1))
}

// gaussian is a normalised window of n taps.
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
