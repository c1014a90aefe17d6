package codec

import (
	"bytes"
	"context"
	"fmt"
	"image"

	"golang.org/x/image/webp"

	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/format"
)

// DecodeWebPPlanes decodes a lossy WebP without alpha (Header.Planar) into
// its 4:2:0 Y'CbCr planes, in VP8's limited range, without converting
// them: a caller that resizes can convert at the output size instead. A
// file whose decoded image turns out to be anything else (alpha, lossless)
// comes back converted, as Decode returns it, with ycc nil. Errors are
// Decode's.
//
// shrink is the least number of source pixels, across or down, that one
// output pixel spans (1 or less: no reduction). From SkipFilterShrink on,
// a lossy frame is decoded without its loop filter: not bit-exact, but the
// difference does not survive the reduction.
func DecodeWebPPlanes(ctx context.Context, data []byte, h Header, shrink float64, parallel bool) (ycc *image.YCbCr, rgb *image.NRGBA, err error) {
	if h.Format != format.WebP || h.Width <= 0 || h.Height <= 0 {
		return nil, nil, corruptf("webp planes: not a WebP header")
	}
	defer func() {
		if r := recover(); r != nil {
			ycc, rgb, err = nil, nil, corruptf("webp: decoder panicked: %v", r)
		}
	}()
	if bits := stillLossyVP8(data); bits != nil {
		ycc, err := decodeVP8(ctx, bits, image.Pt(h.Width, h.Height), shrink >= SkipFilterShrink, parallel)
		return ycc, nil, err
	}
	cfg, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: webp: %w", ErrCorrupt, err)
	}
	if cfg.Width != h.Width || cfg.Height != h.Height {
		return nil, nil, corruptf("webp: data declares %dx%d but the header says %dx%d", cfg.Width, cfg.Height, h.Width, h.Height)
	}
	m, err := webp.Decode(ctxpoll.Reader(ctx, bytes.NewReader(data)))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, nil, cerr
		}
		return nil, nil, fmt.Errorf("%w: webp: %w", ErrCorrupt, err)
	}
	screen := image.Rect(0, 0, h.Width, h.Height)
	if m == nil || m.Bounds() != screen {
		return nil, nil, corruptf("webp: decoded bounds differ from the header's %v", screen)
	}
	if y, ok := m.(*image.YCbCr); ok && y.SubsampleRatio == image.YCbCrSubsampleRatio420 {
		return y, nil, nil
	}
	pl := ctxpoll.New(ctx)
	rgb, err = toNRGBA(&pl, m, true)
	return nil, rgb, err
}
