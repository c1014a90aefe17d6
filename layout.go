package imageopto

import (
	"fmt"
	"image"
	"image/color"
)

// This file owns the one place where a request's geometry is decided:
// layout.resolve turns the parameters (folded into a layout by NewPlan)
// and a source size into the plan's operations, each with concrete numbers
// — a crop rectangle in pixels, a resize to W×H from an exact source
// window at a decode scale, a canvas and the image's place on it, a blur's
// standard deviation. The painters (the RGB steps of ops.go and the planar
// Y′CbCr path of transform_ycbcr.go) and EstimateMemory only read those
// operations; none of them looks at Params.
//
// Two operations depend on the pixels: trim-color (how much is trimmed)
// and smart crop (where the window goes). NewPlan resolves them with a
// provisional answer (nothing trimmed, a centred window) and marks the plan
// inexact when sizes may change. When a run reaches one of them, it looks
// at the image, records the answer in facts, and asks resolve again for the
// whole list: the same function, with more known. The Plan itself never
// changes; an animation's frames share the facts of the first frame, so a
// smart crop does not jitter.

// layout is a request's operations with the parameters and service options
// folded in, before any size is known.
type layout struct {
	w, h      int         // source as stored
	color     *colorOp    // ICC profile to sRGB; nil: none
	exif      Orientation // EXIF orientation (0 or 1: none)
	trimColor TrimColor
	precrop   Region
	trim      Sides
	crop      Region
	orient    Orientation
	resize    resizeParams
	filter    ResizeFilter
	shrink    bool // a still JPEG: shrink-on-load is possible
	boxes     bool // an opaque PNG decoded row by row: shrink-on-load in boxes
	canvas    Canvas
	pad       Sides
	fill      color.NRGBA // pad and canvas fill
	maxSide   int
	flatten   *color.NRGBA // bg-color
	bright    float64
	contrast  float64
	saturate  float64
	sharpen   Sharpen
	blur      Length
	bw        BW
	overlay   *overlaySource // nil: none
}

// maxPNGBoxes is the largest box a PNG is averaged in while decoding
// (codec.DecodePNGScaled's limit).
const maxPNGBoxes = 64

// facts are what content-dependent operations found in the pixels.
type facts struct {
	trim  *image.Rectangle // trim-color's box in the image it looked at
	smart [2]*smartFact    // precrop, crop
}

// smartFact is where smart crop put a window; at is nil when the window
// did not fit the image (the region's own rules then apply).
type smartFact struct{ at *image.Point }

// resolved is a layout resolved for a source: the operations, the output
// size, the decode scale, and notes for the warning header.
type resolved struct {
	ops      []Step
	w, h     int
	scale    int
	exact    bool
	warnings []string
}

// resolve decides every operation of l for the source, given the facts
// found so far. While trim-color's box is unknown the sizes after it are
// provisional: a geometric error there drops the operation instead of
// failing (the run resolves again once it knows the box).
func (l *layout) resolve(f facts) (resolved, error) {
	r := resolved{scale: 1, exact: !l.trimColor.IsSet() || f.trim != nil}
	warn := func(s string) { r.warnings = append(r.warnings, s) }
	add := func(s Step) { r.ops = append(r.ops, s) }
	w, h := l.w, l.h
	// fail reports a geometric error, or drops the operation when the
	// sizes are provisional.
	fail := func(err error) error {
		if r.exact {
			return err
		}
		return nil
	}
	// Shrink-on-load needs every operation before the resize to be free of
	// pixel coordinates and content: colour conversion and orientation.
	coordsFree := (l.shrink || l.boxes) && f.trim == nil && f.smart == [2]*smartFact{}

	// 1. Colour profile to sRGB, then EXIF orientation. The conversion
	// works on each pixel alone, so it commutes with the geometry: it moves
	// to after the resize (7½) when that leaves fewer pixels to convert, as
	// libvips does — unless a step before the resize looks at colours
	// (trim-color, smart crop). See lateColor.
	late := l.lateColor()
	if l.color != nil && !late {
		add(l.color)
	}
	if o := l.exif; o > 1 && o <= 8 {
		add(&orientOp{o: o, exif: true, w: w, h: h})
		if o.Swaps() {
			w, h = h, w
		}
	}
	// 2. trim-color.
	if l.trimColor.IsSet() {
		coordsFree = false
		if f.trim == nil {
			add(&trimColorOp{t: l.trimColor})
		} else {
			add(&cropOp{param: "trim-color", r: *f.trim, w: w, h: h})
			w, h = f.trim.Dx(), f.trim.Dy()
		}
	}
	// 3–5. precrop, trim, crop.
	region := func(i int, param string, reg Region) error {
		if !reg.IsSet() {
			return nil
		}
		coordsFree = false
		if reg.Smart && !smartApplies(reg) {
			warn(param + ": smart needs a ratio size (w:h); ignored")
		}
		if smartApplies(reg) && f.smart[i] == nil {
			// Provisional: centred, until the run looks at the pixels.
			rect, err := regionRect(w, h, reg, param, nil)
			if err != nil {
				return fail(err)
			}
			add(&smartCropOp{param: param, index: i, w: rect.Dx(), h: rect.Dy()})
			w, h = rect.Dx(), rect.Dy()
			return nil
		}
		var at *image.Point
		if f.smart[i] != nil {
			at = f.smart[i].at
		}
		rect, err := regionRect(w, h, reg, param, at)
		if err != nil {
			return fail(err)
		}
		add(&cropOp{param: param, r: rect, w: w, h: h})
		w, h = rect.Dx(), rect.Dy()
		return nil
	}
	if err := region(0, "precrop", l.precrop); err != nil {
		return r, err
	}
	if l.trim.IsSet() {
		coordsFree = false
		rect, err := trimRect(w, h, l.trim)
		if err == nil {
			add(&cropOp{param: "trim", sides: true, r: rect, w: w, h: h})
			w, h = rect.Dx(), rect.Dy()
		} else if err = fail(err); err != nil {
			return r, err
		}
	}
	if err := region(1, "crop", l.crop); err != nil {
		return r, err
	}
	// 6. orient.
	if l.orient > 1 {
		add(&orientOp{o: l.orient, w: w, h: h})
		if l.orient.Swaps() {
			w, h = h, w
		}
	}
	// 7. resize (always considered: the output limit applies without
	// parameters too).
	if g := resolveResize(w, h, l.resize, warn); !g.noResize(w, h) {
		op := &resizeOp{g: g, filter: l.filter, w: w, h: h, scale: 1}
		if coordsFree && l.boxes {
			// A PNG: averaged in boxes of any whole size while decoding,
			// leaving twice the output resolution as above (libvips
			// shrinks in boxes too, then reduces). Not for nearest: a
			// pixel-art thumbnail keeps pixels that were there. Only
			// for opaque PNGs (boxes): a box's mean alpha rounded to 8
			// bits loses the faint levels that soft shadows are made of
			// (gulp.png at 400 px: SSIM 0.9980 → 0.9973, 51,796 →
			// 73,625 bytes).
			sc := min(g.Src.Dx()/(2*g.W), g.Src.Dy()/(2*g.H), maxPNGBoxes)
			if sc >= 2 && l.filter != FilterNearest {
				op.scale, r.scale, op.window = sc, sc, true
			}
		} else if coordsFree {
			// Decode at the largest reduction that still leaves twice the
			// output resolution in the region that is kept, so the
			// resampler that finishes the exact size still has detail to
			// filter (at exactly 1× the DCT reduction shows on fine
			// textures: SSIM 0.976 instead of ≥ 0.98 on a forest photo).
			for _, sc := range []int{8, 4, 2} {
				if g.Src.Dx()/sc >= 2*g.W && g.Src.Dy()/sc >= 2*g.H {
					op.scale, r.scale = sc, sc
					break
				}
			}
		}
		add(op)
		w, h = g.W, g.H
	}
	// 7½. The colour profile, at output resolution when that is smaller.
	if late {
		if dw, dh := ceilDiv(l.w, r.scale), ceilDiv(l.h, r.scale); int64(w)*int64(h) <= int64(dw)*int64(dh) {
			add(l.color)
		} else {
			r.ops = append([]Step{l.color}, r.ops...)
		}
	}
	// 8. pad or canvas (pad is ignored when canvas is given).
	switch {
	case l.canvas.IsSet():
		cw, ch, x, y, err := canvasLayout(w, h, l.canvas)
		if err == nil {
			add(&placeOp{param: "canvas", size: sizeString(l.canvas.Size), w: cw, h: ch, x: x, y: y, bg: l.fill})
			w, h = cw, ch
		} else if err = fail(err); err != nil {
			return r, err
		}
	case l.pad.IsSet():
		cw, ch, x, y := padLayout(w, h, l.pad)
		add(&placeOp{param: "pad", size: sidesString(l.pad), w: cw, h: ch, x: x, y: y, bg: l.fill})
		w, h = cw, ch
	}
	if max(w, h) > l.maxSide {
		param := "pad"
		if l.canvas.IsSet() {
			param = "canvas"
		}
		return r, &ParamError{Param: param, Value: fmt.Sprintf("%dx%d", w, h),
			Reason: fmt.Sprintf("output would exceed the %d px limit", l.maxSide)}
	}
	// 9. bg-color flattens transparency.
	if l.flatten != nil {
		add(&flattenOp{bg: *l.flatten})
	}
	// 10–13. colour, sharpen, blur, bw.
	if l.bright != 0 || l.contrast != 0 || l.saturate != 0 {
		add(&adjustOp{b: l.bright, c: l.contrast, s: l.saturate})
	}
	if l.sharpen.IsSet() && l.sharpen.Amount > 0 {
		add(&sharpenOp{s: l.sharpen})
	}
	if l.blur.IsSet() {
		add(&blurOp{l: l.blur, sigma: blurSigma(w, h, l.blur)})
	}
	if l.bw.Mode != "" {
		add(&bwOp{bw: l.bw})
	}
	// 14. overlay.
	if l.overlay != nil {
		if op, err := newOverlayOp(l.overlay, w, h, l.filter, l.maxSide); err == nil {
			add(op)
		} else if err = fail(err); err != nil {
			return r, err
		}
	}
	r.w, r.h = w, h
	return r, nil
}

// lateColor reports whether the colour profile's conversion may run after
// the geometry (crop, orientation, resize) instead of first: no step
// before the resize looks at the colours (trim-color compares them with a
// colour given in sRGB; smart crop scores them). Resampling then happens
// in the source's encoding rather than in sRGB's, which differs by a
// fraction of a ΔE on photos (TestLateColorDeltaE); pad, canvas,
// bg-color and the filters still come after it, on sRGB pixels.
func (l *layout) lateColor() bool {
	return l.color != nil && !l.trimColor.IsSet() && !smartApplies(l.precrop) && !smartApplies(l.crop)
}
