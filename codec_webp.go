package imageopto

import (
	"bytes"
	"cmp"
	"context"
	"image"
	"io"

	"github.com/imageopto/imageopto/internal/vp8enc"
)

// The built-in lossy WebP encoder (internal/vp8enc, pure Go): one VP8 key
// frame, with an ALPH chunk (losslessly compressed) for transparency. It writes only the lossy
// variant: lossless WebP (EncodeOptions.Lossless) and animations need a
// configured codec (wasmcodec), and an image that may be transparent
// goes to a configured codec when there is one (its alpha compresses
// better); see findEncoder.

// writeWebP writes lossy WebP at o.Quality.
func writeWebP(ctx context.Context, w io.Writer, img *image.NRGBA, o EncodeOptions) error {
	return vp8enc.EncodeNRGBA(ctx, w, img, vp8Options(o))
}

// writeWebPPlanes writes lossy WebP from 4:2:0 planes (Codec.encodePlanes).
func writeWebPPlanes(ctx context.Context, w io.Writer, m *image.YCbCr, limited bool, o EncodeOptions) error {
	if !limited {
		p, err := vp8enc.FromYCbCr(ctx, m)
		if err != nil {
			return err
		}
		return vp8enc.Encode(ctx, w, p, vp8Options(o))
	}
	b := m.Rect
	p := &vp8enc.Planes{Y: m.Y[m.YOffset(b.Min.X, b.Min.Y):], Cb: m.Cb[m.COffset(b.Min.X, b.Min.Y):],
		Cr: m.Cr[m.COffset(b.Min.X, b.Min.Y):], YStride: m.YStride, CStride: m.CStride, W: b.Dx(), H: b.Dy()}
	return vp8enc.Encode(ctx, w, p, vp8Options(o))
}

// vp8Options are the encoder's options for o (DefaultWebPQuality when a
// direct caller leaves the quality 0).
func vp8Options(o EncodeOptions) *vp8enc.Options {
	return &vp8enc.Options{Quality: cmp.Or(o.Quality, DefaultWebPQuality)}
}

// webpEncodeMemory is writeWebP's peak memory: the 4:2:0 planes three
// times (converted, padded to whole macroblocks, reconstructed: 4.5 bytes
// a pixel), the quantised coefficients kept between the two passes (at
// most 2 bytes per coefficient and one per block, 3.2 bytes a pixel),
// the two partitions and the file (each as large as the coefficients at
// worst, with append's slack); for alpha, the plane, its filtered copy,
// the lossless coder's tokens (4 bytes a pixel at worst) and outputs,
// with their growth by append: 14 bytes a pixel (under the race
// detector, whose pools keep nothing, a 1600×1200 noise job with alpha
// allocated 74.3 MiB against 71.5 estimated with 10).
func webpEncodeMemory(w, h int, o EncodeOptions) int64 {
	px := int64(w+16) * int64(h+16)
	m := 1<<20 + 12*px
	if o.Alpha {
		m += 14 * px
	}
	return m
}

// encodeFromPlanes writes the plan's output straight from 4:2:0 planes at
// the output size (the planar path's JPEG or WebP to WebP) when the
// encoder that writes the plan takes planes (Codec.encodePlanes): no RGB
// image is made. ok is false when it does not apply, and the RGB path
// encodes instead.
func encodeFromPlanes(ctx context.Context, planes image.Image, limited bool, plan *Plan, codecs []Codec) (out []byte, ok bool, err error) {
	m, isYCC := planes.(*image.YCbCr)
	if !isYCC || m.SubsampleRatio != image.YCbCrSubsampleRatio420 || plan.OptimizeTarget > 0 {
		return nil, false, nil
	}
	o := encodeOptions(plan, plan.Quality)
	c := findEncoder(codecs, plan.Format, o)
	if c == nil || c.encodePlanes == nil {
		return nil, false, nil
	}
	var buf bytes.Buffer
	if err := encodeError(c.encodePlanes(ctx, &buf, m, limited, o), plan.Format); err != nil {
		return nil, true, err
	}
	return buf.Bytes(), true, nil
}
