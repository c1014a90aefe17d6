package main

import (
	"image"

	iq "github.com/imageopto/imageopto/internal/quality" // "quality" names the workloads' JPEG quality here
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
	return plane{w: m.Bounds().Dx(), h: m.Bounds().Dy(), p: iq.LumaOver(m, 0xFF)}
}

// ssim is the mean structural similarity of two equal-sized luma planes
// (Wang et al. 2004) as quality.GaussianLumaSSIM measures it: an 11-tap
// Gaussian window of σ 1.5, K1 0.01, K2 0.03, over the positions where the
// window fits (a smaller window for images under 11 pixels).
func ssim(a, b plane) float64 {
	return iq.GaussianLumaSSIM(a.p, b.p, a.w, a.h)
}
