package imageopto

import (
	"fmt"
	"image"
	"math"
	"strconv"
)

// This file holds the pure geometry of the pipeline: how each parameter turns
// an image size into a new size and a placement. Only layout.resolve
// (layout.go) calls these functions; the operations it emits carry their
// answers as concrete numbers.

// round rounds half away from zero and keeps at least one pixel.
func roundPx(v float64) int {
	n := int(math.Round(v))
	if n < 1 {
		return 1
	}
	return n
}

// resolveOffset returns the start of a length-n span placed inside a length-total
// space by one axis of a Position. ref is the length that percentages of an
// absolute position refer to.
func resolveOffset(a Axis, free, ref int) int {
	switch a.Kind {
	case AxisAbsolute:
		return int(math.Round(a.Pos.Of(ref)))
	case AxisOffset:
		return int(math.Round(float64(free) * a.Offset / 100))
	}
	return int(math.Round(float64(free) * 0.5))
}

// regionSize resolves the SIZE of a crop or precrop on a w×h image.
func regionSize(w, h int, s Size) (cw, ch int) {
	switch s.Kind {
	case SizeRatio:
		r := s.RatioW / s.RatioH
		if float64(w)/float64(h) > r {
			return roundPx(float64(h) * r), h
		}
		return w, roundPx(float64(w) / r)
	case SizeAbsolute:
		return roundPx(s.Width.Of(w)), roundPx(s.Height.Of(h))
	}
	return w, h
}

// regionRect resolves a crop or precrop on a w×h image. smartAt, when not
// nil, is the top-left chosen by content-aware cropping for a region of the
// resolved size; it is used for the axes whose position was not given.
// It returns a *ParamError named param when the region leaves the image and
// the region is not "safe".
func regionRect(w, h int, r Region, param string, smartAt *image.Point) (image.Rectangle, error) {
	cw, ch := regionSize(w, h, r.Size)
	left := resolveOffset(r.Position.X, w-cw, w)
	top := resolveOffset(r.Position.Y, h-ch, h)
	if smartAt != nil {
		if r.Position.X.Kind == AxisCenter {
			left = smartAt.X
		}
		if r.Position.Y.Kind == AxisCenter {
			top = smartAt.Y
		}
	}
	rect := image.Rect(left, top, left+cw, top+ch)
	bounds := image.Rect(0, 0, w, h)
	if rect.In(bounds) {
		return rect, nil
	}
	if r.Safe {
		if in := rect.Intersect(bounds); !in.Empty() {
			return in, nil
		}
	}
	return image.Rectangle{}, &ParamError{Param: param, Value: describeRect(rect),
		Reason: fmt.Sprintf("Invalid crop, region out of bounds of the %dx%d image", w, h)}
}

// smartApplies reports whether crop=…,smart has an effect (ratio sizes only).
func smartApplies(r Region) bool { return r.Smart && r.Size.Kind == SizeRatio }

func describeRect(r image.Rectangle) string {
	return fmt.Sprintf("%dx%d at %d,%d", r.Dx(), r.Dy(), r.Min.X, r.Min.Y)
}

// trimRect resolves trim on a w×h image.
func trimRect(w, h int, s Sides) (image.Rectangle, error) {
	top := int(math.Round(s.Top.Of(h)))
	bottom := int(math.Round(s.Bottom.Of(h)))
	left := int(math.Round(s.Left.Of(w)))
	right := int(math.Round(s.Right.Of(w)))
	if left+right >= w || top+bottom >= h {
		return image.Rectangle{}, &ParamError{Param: "trim", Value: sidesString(s),
			Reason: fmt.Sprintf("removes the whole %dx%d image", w, h)}
	}
	return image.Rect(left, top, w-right, h-bottom), nil
}

func sidesString(s Sides) string {
	return fmt.Sprintf("%s,%s,%s,%s", lengthString(s.Top), lengthString(s.Right),
		lengthString(s.Bottom), lengthString(s.Left))
}

func lengthString(l Length) string {
	if l.Unit == UnitPercent {
		return strconv.FormatFloat(l.Value, 'f', -1, 64) + "p"
	}
	return strconv.FormatFloat(l.Value, 'f', -1, 64)
}

// resizeGeometry is what the resize parameters ask of a w×h image: take the
// Src rectangle of it and resample that to W×H. Src is the whole image except
// for fit=crop, where the centred cut is made in source coordinates so that
// no oversized intermediate image is ever allocated.
type resizeGeometry struct {
	W, H int
	Src  image.Rectangle
	// SrcF is Src before rounding to whole pixels: for fit=crop, the exact
	// centred window, which a resampler with sub-pixel offsets can use.
	SrcF rectF
}

// rectF is a rectangle with fractional coordinates: [X0, X1) × [Y0, Y1).
type rectF struct{ X0, Y0, X1, Y1 float64 }

// noResize reports whether g leaves a w×h image as it is.
func (g resizeGeometry) noResize(w, h int) bool {
	return g.W == w && g.H == h && g.Src == image.Rect(0, 0, w, h)
}

// resizeParams is the part of the parameters and options that resize uses.
type resizeParams struct {
	Width, Height Length
	DPR           float64
	Fit           Fit
	Upscale       bool
	MaxSide       int
	MaxPixels     int64 // output area limit (animations: per frame); 0 none
}

// resolveResize computes the resize of a w×h image (the image after orient)
// following the rules of width, height, dpr, fit and the upscale settings,
// with the output side limit. warn receives
// notes for the warning header.
func resolveResize(w, h int, p resizeParams, warn func(string)) resizeGeometry {
	dpr := p.DPR
	if dpr == 0 {
		dpr = 1
	}
	fw, fh := float64(w), float64(h)
	reqW, reqH := p.Width.Of(w)*dpr, p.Height.Of(h)*dpr
	hasW, hasH := p.Width.IsSet(), p.Height.IsSet()

	// Scale factors per axis, before upscale rules.
	var sx, sy float64
	crop := false
	switch {
	case hasW && hasH:
		ax, ay := reqW/fw, reqH/fh
		switch p.Fit {
		case FitBounds:
			sx = math.Min(ax, ay)
			sy = sx
		case FitCover:
			sx = math.Max(ax, ay)
			sy = sx
		case FitCrop:
			sx = math.Max(ax, ay)
			sy = sx
			crop = true
		default: // both sides given without fit: stretch to exactly that size
			sx, sy = ax, ay
		}
	case hasW:
		sx = reqW / fw
		sy = sx
	case hasH:
		sy = reqH / fh
		sx = sy
	default:
		sx, sy = dpr, dpr
	}
	if !p.Upscale { // without upscaling: clamp each factor to 1 (keeps the ratio where the factors are equal)
		sx, sy = math.Min(sx, 1), math.Min(sy, 1)
	}
	// The full resized size, and the output box cut from it (fit=crop).
	rw, rh := roundPx(fw*sx), roundPx(fh*sy)
	ow, oh := rw, rh
	if crop {
		ow, oh = min(rw, roundPx(reqW)), min(rh, roundPx(reqH))
	}
	// keep every side of the output within the limit, proportionally.
	shrink := func(f float64) {
		sx, sy = sx*f, sy*f
		rw, rh = roundPx(fw*sx), roundPx(fh*sy)
		ow, oh = min(roundPx(float64(ow)*f), rw), min(roundPx(float64(oh)*f), rh)
	}
	if maxSide := p.MaxSide; maxSide > 0 && (ow > maxSide || oh > maxSide) {
		warn(fmt.Sprintf("output %dx%d exceeds the %d px limit; scaled down", ow, oh, maxSide))
		shrink(float64(maxSide) / float64(max(ow, oh)))
		ow, oh = min(ow, maxSide), min(oh, maxSide)
	}
	if p.MaxPixels > 0 && int64(ow)*int64(oh) > p.MaxPixels {
		warn(fmt.Sprintf("animation frames of %dx%d exceed the output area limit; scaled down", ow, oh))
		shrink(math.Sqrt(float64(p.MaxPixels) / (float64(ow) * float64(oh))))
	}
	g := resizeGeometry{W: ow, H: oh, Src: image.Rect(0, 0, w, h), SrcF: rectF{0, 0, fw, fh}}
	if ow != rw || oh != rh {
		// Centre the output box in the resized image and map it back to the
		// source exactly: the box is ow/sx × oh/sy source pixels. (Rounding
		// the box's place in the resized image first would shift it by up
		// to half an output pixel.) Src is that window rounded to whole
		// source pixels.
		if ow != rw {
			cw := math.Min(fw, float64(ow)/sx)
			g.SrcF.X0 = (fw - cw) / 2
			g.SrcF.X1 = g.SrcF.X0 + cw
		}
		if oh != rh {
			ch := math.Min(fh, float64(oh)/sy)
			g.SrcF.Y0 = (fh - ch) / 2
			g.SrcF.Y1 = g.SrcF.Y0 + ch
		}
		x0 := clampInt(int(math.Round(g.SrcF.X0)), 0, w-1)
		y0 := clampInt(int(math.Round(g.SrcF.Y0)), 0, h-1)
		x1 := clampInt(int(math.Round(g.SrcF.X1)), x0+1, w)
		y1 := clampInt(int(math.Round(g.SrcF.Y1)), y0+1, h)
		g.Src = image.Rect(x0, y0, x1, y1)
	}
	return g
}

func clampInt(v, lo, hi int) int {
	return max(lo, min(v, hi))
}

// padLayout resolves pad on a w×h image: the new size and the image's place.
func padLayout(w, h int, s Sides) (cw, ch, x, y int) {
	top := int(math.Round(s.Top.Of(h)))
	bottom := int(math.Round(s.Bottom.Of(h)))
	left := int(math.Round(s.Left.Of(w)))
	right := int(math.Round(s.Right.Of(w)))
	return w + left + right, h + top + bottom, left, top
}

// canvasLayout resolves canvas on a w×h image .
func canvasLayout(w, h int, c Canvas) (cw, ch, x, y int, err error) {
	switch c.Size.Kind {
	case SizeRatio:
		r := c.Size.RatioW / c.Size.RatioH
		if float64(w)/float64(h) > r {
			cw, ch = w, roundPx(float64(w)/r)
		} else {
			cw, ch = roundPx(float64(h)*r), h
		}
		// Rounding may land one pixel short of the image; the canvas must contain it.
		cw, ch = max(cw, w), max(ch, h)
	default:
		cw, ch = roundPx(c.Size.Width.Of(w)), roundPx(c.Size.Height.Of(h))
	}
	if cw < w || ch < h {
		return 0, 0, 0, 0, &ParamError{Param: "canvas", Value: fmt.Sprintf("%dx%d", cw, ch),
			Reason: fmt.Sprintf("canvas smaller than the %dx%d image", w, h)}
	}
	x = resolveOffset(c.Position.X, cw-w, w)
	y = resolveOffset(c.Position.Y, ch-h, h)
	if x < 0 || y < 0 || x+w > cw || y+h > ch {
		return 0, 0, 0, 0, &ParamError{Param: "canvas", Value: fmt.Sprintf("%dx%d at %d,%d", cw, ch, x, y),
			Reason: fmt.Sprintf("position puts the %dx%d image outside the canvas", w, h)}
	}
	return cw, ch, x, y, nil
}

// blurSigma returns the Gaussian standard deviation for blur on a w×h image:
// the radius is blur pixels, or blur percent of the longer side; the
// kernel reaches the radius at two standard deviations.
func blurSigma(w, h int, l Length) float64 {
	r := l.Value
	if l.Unit == UnitPercent {
		r = float64(max(w, h)) * l.Value / 100
	}
	return r / 2
}
