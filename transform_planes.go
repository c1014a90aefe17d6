package imageopto

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/imageopto/imageopto/internal/codec"
	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/jpegdec"
)

// Which plans run on Y′CbCr planes, and how far. The planar painter
// (transform_ycbcr.go) composes the plan's geometric operations — EXIF
// orientation, orient, precrop, trim, crop, resize — into one map and
// resamples the decoded planes once. Two kinds of plan use it:
//
//   - planarJPEG: a JPEG written as JPEG whose operations are all
//     geometric. The resampled planes (chroma at the output's 4:2:0 size)
//     go to the encoder as they are: no RGB image is ever made.
//   - planarToRGB: the geometric operations are followed only by
//     operations on each pixel alone (pixelOp: the colour profile's
//     conversion, which layout.resolve moves after the resize), or the
//     output is another format, or the source is a lossy WebP (whose
//     Y′CbCr is in VP8's limited range). The planes are resampled to the
//     output size (chroma too), converted to RGB there, and the remaining
//     operations and the encoder work on that small image: a 12 MP
//     Display P3 photo made 1600 px wide converts 3.4 MP, not 12.
//
// Everything else takes the RGB path: content-dependent operations,
// pad, canvas, filters, custom steps, animations, and plans that do not
// make the image smaller (converting planes that are not reduced would
// cost more than it saves).

// planarKind is how far a plan stays in planes.
type planarKind uint8

const (
	notPlanar planarKind = iota
	planarJPEG
	planarToRGB
)

// pixelOp is an operation on each pixel alone, which therefore commutes
// with the geometry: the planar path runs it on the RGB image at the
// output size.
type pixelOp interface {
	pixelwise()
}

func (s *colorOp) pixelwise() {}

// geometryPrefix returns how many of steps, from the first, the planar
// painter composes.
func geometryPrefix(steps []Step) int {
	for i, s := range steps {
		if _, ok := s.(planarOp); !ok {
			return i
		}
	}
	return len(steps)
}

// planarKindOf decides whether and how far the plan runs on planes.
func planarKindOf(info SourceInfo, plan *Plan) planarKind {
	if plan.Animated || !(info.Format == JPEG || info.Format == WebP && info.planes) {
		return notPlanar
	}
	geo := geometryPrefix(plan.Steps)
	for _, s := range plan.Steps[geo:] {
		if _, ok := s.(pixelOp); !ok {
			return notPlanar
		}
	}
	if geo == len(plan.Steps) && info.Format == JPEG && plan.Format == JPEG && plan.OptimizeTarget == 0 {
		return planarJPEG
	}
	scale := max(plan.DecodeScale, 1)
	decoded := int64(ceilDiv(info.Width, scale)) * int64(ceilDiv(info.Height, scale))
	if int64(plan.Width)*int64(plan.Height) >= decoded {
		return notPlanar
	}
	return planarToRGB
}

// threaded reports whether the job can keep a second goroutine busy
// (TransformOptions.Threads): the planar paths can.
func (j *prepared) threaded() bool { return planarEligible(j.info, j.plan) }

// planarResult is what runPlanar made: the output and its bounds, the
// quality used, and whether the pixels never left the planes (pure); or
// the decoded image for the RGB path (fallback).
type planarResult struct {
	out      []byte
	bounds   image.Rectangle
	q        int
	pure     bool
	fallback *image.NRGBA
}

// sourcePlanes are a decoded source's planes: Y′ alone, or Y′, Cb and Cr,
// each with the number of source pixels a sample covers.
type sourcePlanes struct {
	comp     []jpegdec.Plane
	limited  bool // VP8's limited-range Y′CbCr (else JFIF's full range)
	release  func()
	fallback *image.NRGBA // not planar after all: the RGB path takes it
}

// decodePlanes decodes the source into planes at 1/scale: a JPEG with our
// decoder, a lossy WebP with internal/vp8dec (full size; without the loop
// filter when the reduction makes it invisible: codec.SkipFilterShrink).
func (j *prepared) decodePlanes(ctx context.Context, g planarGeometry, scale int) (sourcePlanes, error) {
	info := j.info
	if info.Format == WebP {
		h, err := codec.ReadHeader(j.data)
		if err != nil {
			return sourcePlanes{}, codecError(err)
		}
		m := g.m
		shrink := min(math.Abs(m.a)+math.Abs(m.b), math.Abs(m.c)+math.Abs(m.d))
		ycc, rgb, err := codec.DecodeWebPPlanes(ctx, j.data, h, shrink, j.o.Threads > 1)
		switch {
		case err != nil:
			return sourcePlanes{}, codecError(err)
		case rgb != nil:
			return sourcePlanes{fallback: rgb}, nil
		}
		cw, ch := (info.Width+1)/2, (info.Height+1)/2
		return sourcePlanes{limited: true, release: func() {}, comp: []jpegdec.Plane{
			{Pix: ycc.Y, Stride: ycc.YStride, W: info.Width, H: info.Height, HS: 1, VS: 1},
			{Pix: ycc.Cb, Stride: ycc.CStride, W: cw, H: ch, HS: 2, VS: 2},
			{Pix: ycc.Cr, Stride: ycc.CStride, W: cw, H: ch, HS: 2, VS: 2},
		}}, nil
	}
	// The output keeps chroma samples 2 output pixels apart when its
	// format stores 4:2:0 (JPEG, lossy WebP, AVIF; converted to RGB first or
	// not), else 1; decoded chroma samples at most half that (in source
	// pixels) keep twice the resolution the output keeps, the plan's own
	// rule for luma. (A 24 MP 4:4:4 JPEG made 1600 px wide through a
	// colour profile decodes chroma at 1/4, luma at 1/2.)
	m := g.m
	sx, sy := math.Abs(m.a)+math.Abs(m.b), math.Abs(m.c)+math.Abs(m.d)
	if !halfChromaOutput(j.plan) {
		sx, sy = sx/2, sy/2
	}
	opts := &jpegdec.Options{Scale: scale, MaxScans: max(info.Scans, 1), ChromaStepX: int(sx), ChromaStepY: int(sy), Threads: j.o.Threads}
	pl, err := jpegdec.DecodePlanes(ctx, j.data, opts)
	if err == nil {
		if sw, sh := jpegdec.ScaledSize(info.Width, info.Height, scale); pl.Width != sw || pl.Height != sh {
			pl.Release()
			err = fmt.Errorf("%w: decoded %dx%d, want %dx%d", ErrCorrupt, pl.Width, pl.Height, sw, sh)
		}
	}
	switch {
	case ctxpoll.Stopped(err):
		return sourcePlanes{}, err
	case errors.Is(err, jpegdec.ErrNotPlanar):
		// CMYK or RGB-coded: the RGB path decodes it.
		rgb, err := j.dec.decode(ctx, scale)
		return sourcePlanes{fallback: rgb}, err
	case err != nil && scale > 1:
		// As decoder.decode: no full-size fallback after a reduced-scale
		// admission.
		return sourcePlanes{}, fmt.Errorf("%w: cannot decode at 1/%d: %v", ErrCorrupt, scale, err)
	case err != nil:
		// At full size image/jpeg may accept what our decoder refuses.
		rgb, err := j.dec.first(ctx)
		return sourcePlanes{fallback: rgb}, err
	}
	return sourcePlanes{comp: pl.Comp, release: pl.Release}, nil
}

// chromaSubsampling is how many output pixels apart, across and down, the
// planar path makes chroma samples: 2 when the output is written in 4:2:0
// anyway (JPEG, lossy WebP, AVIF) and no operation follows the geometry,
// else 1. (A colour conversion mixes chroma into luma: chroma repeated over
// 2×2 pixels would show as blocks in the converted luma.)
func chromaSubsampling(plan *Plan, kind planarKind) int {
	if kind == planarJPEG {
		return 2
	}
	if geometryPrefix(plan.Steps) == len(plan.Steps) && halfChromaOutput(plan) {
		return 2
	}
	return 1
}

// halfChromaOutput reports whether the plan's output format stores chroma
// at half the size across and down (4:2:0): JPEG, AVIF and lossy WebP as
// this package writes them.
func halfChromaOutput(plan *Plan) bool {
	return plan.Format == JPEG || plan.Format == AVIF || plan.Format == WebP && !plan.Lossless
}

// finishRGB converts the resampled planes (Y′CbCr or grey, at the
// output size) to RGB, runs the plan's remaining operations (pixelOp) and
// encodes the result in the plan's format. It returns the quality used.
// Lossy WebP by the built-in encoder takes 4:2:0 planes as they are.
func (j *prepared) finishRGB(ctx context.Context, planes image.Image, limited bool, tail []Step) ([]byte, int, error) {
	if len(tail) == 0 {
		if out, ok, err := encodeFromPlanes(ctx, planes, limited, j.plan, j.o.Codecs); ok {
			return out, j.plan.Quality, err
		}
	}
	// Colour conversions run band by band with the conversion to RGB.
	n := 0
	for n < len(tail) {
		if _, ok := tail[n].(*colorOp); !ok {
			break
		}
		n++
	}
	img, err := planesToNRGBA(ctx, planes, limited, tail[:n], j.o.Threads)
	if err != nil {
		return nil, 0, err
	}
	for _, s := range tail[n:] {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		if img, err = s.Apply(ctx, img); err != nil {
			return nil, 0, err
		}
	}
	return encode(ctx, img, j.plan, j.o.Codecs, j.o.Threads)
}

// rgbBand is how many rows planesToNRGBA converts before it runs the
// colour conversions on them, while they are in cache.
const rgbBand = 16

// planesToNRGBA converts a 4:4:4 or 4:2:0 Y′CbCr image (JFIF full range, or
// VP8's limited range) or a grey one to an opaque NRGBA, and runs ops
// (colorOp: each pixel changed alone, in place) on each band of rgbBand
// rows once it is converted. It polls ctx every few rows. With threads > 1
// a second goroutine does the bottom half of the rows (the same work on
// the same rows: the pixels do not depend on it; see together).
func planesToNRGBA(ctx context.Context, m image.Image, limited bool, ops []Step, threads int) (*image.NRGBA, error) {
	switch m := m.(type) {
	case *image.Gray:
	case *image.YCbCr:
		if m.SubsampleRatio != image.YCbCrSubsampleRatio420 && m.SubsampleRatio != image.YCbCrSubsampleRatio444 {
			return nil, fmt.Errorf("%w: planes of subsampling %v", ErrInternal, m.SubsampleRatio)
		}
	default:
		return nil, fmt.Errorf("%w: planes of type %T", ErrInternal, m)
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	// rows converts rows [y0, y1) band by band.
	rows := func(y0, y1 int) error {
		pl := ctxpoll.New(ctx)
		for y := y0; y < y1; y += rgbBand {
			end := min(y+rgbBand, y1)
			for y := y; y < end; y++ {
				if err := pl.Work(8 * w); err != nil {
					return err
				}
				planesRow(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], m, y, w, limited)
			}
			if len(ops) == 0 {
				continue
			}
			band := dst.SubImage(image.Rect(0, y, w, end)).(*image.NRGBA)
			for _, op := range ops {
				out, err := op.Apply(ctx, band)
				if err != nil {
					return err
				}
				if out != band {
					return fmt.Errorf("%w: %s did not work in place", ErrInternal, op)
				}
			}
		}
		return nil
	}
	split := h
	if threads > 1 && h >= 2*rgbBand {
		split = (h/2 + rgbBand - 1) / rgbBand * rgbBand
	}
	var err error
	if split == h {
		err = rows(0, h)
	} else {
		err = together(func() error { return rows(split, h) }, func() error { return rows(0, split) })
	}
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// planesRow converts row y of m (*image.Gray, or *image.YCbCr 4:4:4 or
// 4:2:0), w pixels, to opaque RGBA in out.
func planesRow(out []byte, m image.Image, y, w int, limited bool) {
	switch m := m.(type) {
	case *image.Gray:
		for x, v := range m.Pix[y*m.Stride : y*m.Stride+w] {
			p := out[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = v, v, v, 0xFF
		}
	case *image.YCbCr:
		var s uint // chroma shift: 4:4:4 or 4:2:0
		if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			s = 1
		}
		cw, co := (w+int(s))>>s, (y>>s)*m.CStride
		ys := m.Y[y*m.YStride : y*m.YStride+w]
		ycbcrRow(out, ys, m.Cb[co:co+cw], m.Cr[co:co+cw], s, limited)
	}
}

// ycbcrRow converts one row of Y′CbCr (chroma samples s bits apart: 4:4:4
// or 4:2:0, each repeated) to opaque RGB in 16.16 fixed point: JFIF's
// full-range matrix (as color.YCbCrToRGB), or BT.601's limited range as VP8
// stores it:
//
//	R = 1.164(Y′−16) + 1.596(Cr−128)
//	G = 1.164(Y′−16) − 0.392(Cb−128) − 0.813(Cr−128)
//	B = 1.164(Y′−16) + 2.017(Cb−128)
func ycbcrRow(out, ys, cb, cr []byte, s uint, limited bool) {
	if len(ys) == 0 {
		return
	}
	n := (len(ys)-1)>>s + 1
	cb, cr = cb[:n], cr[:n]
	if limited {
		for x, y := range ys {
			yy := (int32(y)-16)*76309 + 1<<15
			cb1, cr1 := int32(cb[x>>s])-128, int32(cr[x>>s])-128
			p := out[4*x : 4*x+4 : 4*x+4]
			p[0] = clamp1616(yy + 104597*cr1)
			p[1] = clamp1616(yy - 25675*cb1 - 53279*cr1)
			p[2] = clamp1616(yy + 132201*cb1)
			p[3] = 0xFF
		}
		return
	}
	for x, y := range ys {
		yy := int32(y) * 0x10101
		cb1, cr1 := int32(cb[x>>s])-128, int32(cr[x>>s])-128
		p := out[4*x : 4*x+4 : 4*x+4]
		p[0] = clamp1616(yy + 91881*cr1)
		p[1] = clamp1616(yy - 22554*cb1 - 46802*cr1)
		p[2] = clamp1616(yy + 116130*cb1)
		p[3] = 0xFF
	}
}

// clamp1616 returns the integer part of a 16.16 fixed-point value clamped
// to [0, 255].
func clamp1616(v int32) uint8 {
	if uint32(v)&0xFF000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31)) // 0 when negative, 255 when too large
}
