package imageopto

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"math"
	"sync"

	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/imaging"
	"github.com/imageopto/imageopto/internal/jpegdec"
	"github.com/imageopto/imageopto/internal/jpegenc"
)

// The Y′CbCr fast path. A JPEG written as JPEG whose plan only
// moves pixels around — EXIF orientation, orient, precrop, trim, crop,
// resize — never needs RGB: the decoder's Y′CbCr planes (at the plan's
// shrink-on-load scale) are resampled one by one, luma at the output size
// and chroma straight to the output's 4:2:0 size, and handed to the encoder
// as they are. That skips the conversion to RGB and back, and resamples 1.5
// samples per output pixel instead of 3.
//
// The geometric steps are not applied one after the other: they are
// composed into one affine map from output pixels to source pixels (a
// flip/transpose, a translation and a scale per axis): each of the plan's
// resolved operations composes itself (planarOp in ops.go), so sizes and
// crops are the RGB path's by construction. Each output plane is then filtered once from the source
// plane, with flips folded into the filter weights and, when the
// orientation swaps the axes, each filtered row written as a column of the
// output plane (imaging.ResamplePlaneTransposed). Crop
// windows keep their sub-pixel position (fit=crop's centred window is not
// rounded to whole pixels), and taps never read beyond the last crop.
//
// A plan whose geometry is followed by a colour profile's conversion, or
// written in another format, or read from a lossy WebP, uses the same
// painter up to the output size and converts to RGB there
// (transform_planes.go). Everything else — content-dependent steps
// (trim-color, smart crop), pad, canvas, filters, custom steps, CMYK or
// RGB-coded JPEG — takes the RGB path.

// planarEligible reports whether the plan can run on Y′CbCr planes, all
// the way (planarJPEG) or up to the output size (planarToRGB).
func planarEligible(info SourceInfo, plan *Plan) bool {
	return planarKindOf(info, plan) != notPlanar
}

// affine maps pipeline pixel coordinates (u, v) to source coordinates:
// x = a·u + b·v + tx, y = c·u + d·v + ty. Pixel (i, j) covers
// [i, i+1) × [j, j+1).
type affine struct{ a, b, c, d, tx, ty float64 }

var identityMap = affine{a: 1, d: 1}

// then returns m∘n: n first, then m.
func (m affine) then(n affine) affine {
	return affine{
		a: m.a*n.a + m.b*n.c, b: m.a*n.b + m.b*n.d,
		c: m.c*n.a + m.d*n.c, d: m.c*n.b + m.d*n.d,
		tx: m.a*n.tx + m.b*n.ty + m.tx, ty: m.c*n.tx + m.d*n.ty + m.ty,
	}
}

func (m affine) apply(u, v float64) (x, y float64) {
	return m.a*u + m.b*v + m.tx, m.c*u + m.d*v + m.ty
}

// orientMap maps the pixels of a w×h image oriented by o (imaging.Orient)
// back to the image before orientation.
func orientMap(o Orientation, w, h int) affine {
	fw, fh := float64(w), float64(h)
	switch o {
	case 2:
		return affine{a: -1, d: 1, tx: fw}
	case 3:
		return affine{a: -1, d: -1, tx: fw, ty: fh}
	case 4:
		return affine{a: 1, d: -1, ty: fh}
	case 5:
		return affine{b: 1, c: 1}
	case 6:
		return affine{b: 1, c: -1, ty: fh}
	case 7:
		return affine{b: -1, c: -1, tx: fw, ty: fh}
	case 8:
		return affine{b: -1, c: 1, tx: fw}
	}
	return identityMap
}

// planarGeometry is the composed geometry of a plan's steps.
type planarGeometry struct {
	w, h   int    // output size
	m      affine // output pixel → source pixel (full resolution, as stored)
	clip   rectF  // source area taps may read: the last crop's window
	filter imaging.Filter
}

// planarGeometry composes the plan's operations (each a planarOp) on a
// w×h source (as stored).
func newPlanarGeometry(steps []Step, w, h int, filter imaging.Filter) (planarGeometry, error) {
	g := planarGeometry{w: w, h: h, m: identityMap, filter: filter}
	g.clip = rectF{0, 0, float64(w), float64(h)}
	for _, s := range steps {
		op, ok := s.(planarOp)
		if !ok {
			return g, fmt.Errorf("%w: step %s on the planar path", ErrInternal, s)
		}
		op.compose(&g)
	}
	return g, nil
}

// extent returns the source rectangle the current w×h image covers.
func (g *planarGeometry) extent() rectF {
	x0, y0 := g.m.apply(0, 0)
	x1, y1 := g.m.apply(float64(g.w), float64(g.h))
	return rectF{min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)}
}

// axisPair returns the weights that fill an output plane of ow×oh samples,
// each covering ohs×ovs output pixels, from a source plane of pw×ph samples
// each covering shs×svs source pixels (scale: the decode reduction). When
// the map swaps the axes (transposed), h runs along the output plane's
// columns and v along its rows: the result is written transposed.
func (g *planarGeometry) axisPair(ow, oh, ohs, ovs, pw, ph, shs, svs, scale int) (h, v imaging.PlaneAxis, transposed bool) {
	kx, ky := float64(scale*shs), float64(scale*svs)
	m := g.m
	lox, hix := planeRange(g.clip.X0, g.clip.X1, kx, pw)
	loy, hiy := planeRange(g.clip.Y0, g.clip.Y1, ky, ph)
	if m.b == 0 && m.c == 0 {
		h = imaging.PlaneAxis{N: ow, Offset: m.tx / kx, Step: m.a * float64(ohs) / kx, Lo: lox, Hi: hix}
		v = imaging.PlaneAxis{N: oh, Offset: m.ty / ky, Step: m.d * float64(ovs) / ky, Lo: loy, Hi: hiy}
		return h, v, false
	}
	// Source x follows output rows, source y output columns.
	h = imaging.PlaneAxis{N: oh, Offset: m.tx / kx, Step: m.b * float64(ovs) / kx, Lo: lox, Hi: hix}
	v = imaging.PlaneAxis{N: ow, Offset: m.ty / ky, Step: m.c * float64(ohs) / ky, Lo: loy, Hi: hiy}
	return h, v, true
}

// planeRange returns the samples of a plane of n samples, each covering k
// source pixels, that the source interval [x0, x1) touches.
func planeRange(x0, x1, k float64, n int) (lo, hi int) {
	const eps = 1e-6
	lo = min(max(int(math.Floor(x0/k+eps)), 0), n-1)
	hi = min(max(int(math.Ceil(x1/k-eps)), lo+1), n)
	return lo, hi
}

// planarBufs pools the output planes of the fast path between requests.
var planarBufs = sync.Pool{New: func() any { return new([]byte) }}

func getPlanarBuf(n int) *[]byte {
	b := planarBufs.Get().(*[]byte)
	if cap(*b) < n {
		*b = make([]byte, n)
	}
	*b = (*b)[:n]
	return b
}

// runPlanar runs the plan on Y′CbCr planes (transform_planes.go says
// which plans and how). It returns the encoded output; or, when the
// decoded image turns out to be neither Y′CbCr nor greyscale (CMYK,
// RGB-coded), the image converted to NRGBA for the RGB path in
// res.fallback. The decoder, the resampler and the encoder stop soon after
// ctx is done, and runPlanar then returns ctx.Err().
func (j *prepared) runPlanar(ctx context.Context) (res planarResult, err error) {
	info, plan := j.info, j.plan
	kind := planarKindOf(info, plan)
	geo := geometryPrefix(plan.Steps)
	g, err := newPlanarGeometry(plan.Steps[:geo], info.Width, info.Height, imagingFilter(cmpFilter(j.o.ResizeFilter)))
	if err != nil {
		return res, err
	}
	scale := max(plan.DecodeScale, 1)
	src, err := j.decodePlanes(ctx, g, scale)
	if err != nil || src.fallback != nil {
		return planarResult{fallback: src.fallback}, err
	}
	defer src.release() // on every path; a second release does nothing
	res.bounds = image.Rect(0, 0, g.w, g.h)
	var bufs []*[]byte
	defer func() {
		for _, b := range bufs {
			planarBufs.Put(b)
		}
	}()
	// plane resamples src into an ow×oh output plane whose samples cover
	// ohs×ovs output pixels.
	plane := func(dst []byte, ow, oh, ohs, ovs int, src jpegdec.Plane, hw, vw **imaging.PlaneWeights) error {
		ha, va, tr := g.axisPair(ow, oh, ohs, ovs, src.W, src.H, src.HS, src.VS, scale)
		if *hw == nil {
			*hw, *vw = imaging.NewPlaneWeights(ha, g.filter), imaging.NewPlaneWeights(va, g.filter)
		}
		s := imaging.Plane{Pix: src.Pix, Stride: src.Stride, W: src.W, H: src.H}
		out := imaging.Plane{Pix: dst, Stride: ow, W: ow, H: oh}
		if !tr {
			return imaging.ResamplePlane(ctx, out, s, *hw, *vw)
		}
		return imaging.ResamplePlaneTransposed(ctx, out, s, *hw, *vw)
	}
	// Chroma goes straight to the output's 4:2:0 size when the output
	// format keeps no more and nothing follows the geometry (the planes are
	// then encoded as they are, or converted with each chroma sample
	// repeated over its 2×2 pixels, which the encoder averages back), else
	// to the output size.
	cs := chromaSubsampling(plan, kind)
	n := g.w * g.h
	var enc image.Image
	if len(src.comp) == 3 {
		cw, ch := (g.w+cs-1)/cs, (g.h+cs-1)/cs
		b := getPlanarBuf(n + 2*cw*ch)
		bufs = append(bufs, b)
		y, cb, cr := (*b)[:n], (*b)[n:n+cw*ch], (*b)[n+cw*ch:]
		var yh, yv, ch1, cv1 *imaging.PlaneWeights
		chroma := func() error {
			err := plane(cb, cw, ch, cs, cs, src.comp[1], &ch1, &cv1)
			if err == nil {
				err = plane(cr, cw, ch, cs, cs, src.comp[2], &ch1, &cv1)
			}
			return err
		}
		if j.o.Threads > 1 {
			// Luma on a second goroutine, chroma on this one: each plane is
			// resampled alike wherever.
			err = together(func() error { return plane(y, g.w, g.h, 1, 1, src.comp[0], &yh, &yv) }, chroma)
		} else {
			err = plane(y, g.w, g.h, 1, 1, src.comp[0], &yh, &yv)
			if err == nil {
				err = chroma()
			}
		}
		ratio := image.YCbCrSubsampleRatio420
		if cs == 1 {
			ratio = image.YCbCrSubsampleRatio444
		}
		enc = &image.YCbCr{Y: y, Cb: cb, Cr: cr, YStride: g.w, CStride: cw,
			SubsampleRatio: ratio, Rect: res.bounds}
	} else {
		b := getPlanarBuf(n)
		bufs = append(bufs, b)
		var hw, vw *imaging.PlaneWeights
		err = plane(*b, g.w, g.h, 1, 1, src.comp[0], &hw, &vw)
		enc = &image.Gray{Pix: *b, Stride: g.w, Rect: res.bounds}
	}
	if err != nil {
		return res, err
	}
	src.release() // the decoded planes are done with: not held while encoding
	if kind == planarToRGB {
		res.out, res.q, err = j.finishRGB(ctx, enc, src.limited, plan.Steps[geo:])
		return res, err
	}
	res.pure, res.q = true, plan.Quality
	var buf bytes.Buffer
	o := encodeOptions(plan, plan.Quality)
	o.threads = j.o.Threads
	if err := jpegenc.Encode(ctx, &buf, enc, jpegOptions(o)); err != nil {
		if ctxpoll.Stopped(err) {
			return res, err
		}
		return res, fmt.Errorf("%w: encoding %s: %v", ErrInternal, plan.Format, err)
	}
	res.out = buf.Bytes()
	return res, nil
}

// together runs a on a new goroutine and b on this one, and returns the
// first error of a, then b. It returns once both have: a panic in either
// is raised again on this goroutine after the other has ended.
func together(a, b func() error) error {
	var errA error
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		errA = a()
	}()
	errB := func() error {
		defer func() {
			if v := recover(); v != nil {
				<-done
				panic(v)
			}
		}()
		return b()
	}()
	if v := <-done; v != nil {
		panic(v)
	}
	if errA != nil {
		return errA
	}
	return errB
}
