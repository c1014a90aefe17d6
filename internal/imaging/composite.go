package imaging

import (
	"context"
	"image"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// OverGrid composites src over dst in place (Porter–Duff source-over,
// computed in premultiplied alpha) at nx×ny places: the top-left pixel of
// copy (i, j) lands at at + (i·step.X, j·step.Y), in dst's coordinates
// relative to dst.Rect.Min. The steps must be at least src's size on each
// axis where there is more than one copy (the copies do not overlap), so
// that every pixel of dst is composited at most once. The parts that fall
// outside dst are clipped. ctx is polled every few rows (see ctxpoll).
//
// With straight-alpha inputs, a source pixel (c_s, α_s) over (c_d, α_d)
// gives α = α_s + α_d(1−α_s) and c = (c_s·α_s + c_d·α_d(1−α_s)) / α,
// rounded to the nearest 8-bit value: 50 %-opaque red over opaque blue is
// (128, 0, 127), opaque.
func OverGrid(ctx context.Context, dst, src *image.NRGBA, at, step image.Point, nx, ny int) error {
	tw, th := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	if tw <= 0 || th <= 0 || nx <= 0 || ny <= 0 {
		return nil
	}
	pl := ctxpoll.New(ctx)
	for j := range ny {
		top := at.Y + j*step.Y
		y0, y1 := max(top, 0), min(top+th, dh)
		for y := y0; y < y1; y++ {
			if err := pl.Work(dst.Stride); err != nil {
				return err
			}
			srow := src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y-top):]
			drow := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):]
			for i := range nx {
				left := at.X + i*step.X
				x0, x1 := max(left, 0), min(left+tw, dw)
				if x0 >= x1 {
					continue
				}
				overRow(drow[4*x0:4*x1], srow[4*(x0-left):4*(x1-left)])
			}
		}
	}
	return nil
}

// overRow composites the pixels of s over those of d (same length).
func overRow(d, s []uint8) {
	for i := 0; i+3 < len(s); i += 4 {
		sa := uint32(s[i+3])
		switch {
		case sa == 0:
			continue
		case sa == 255:
			copy(d[i:i+4], s[i:i+4])
			continue
		}
		da := uint32(d[i+3])
		if da == 255 {
			// Opaque below: c = c_s·α_s + c_d·(1−α_s).
			for c := range 3 {
				d[i+c] = uint8((uint32(s[i+c])*sa + uint32(d[i+c])*(255-sa) + 127) / 255)
			}
			continue
		}
		// In units of 255²: A = α_s + α_d(1−α_s), P = premultiplied colour.
		a := sa*255 + da*(255-sa)
		for c := range 3 {
			p := uint32(s[i+c])*sa*255 + uint32(d[i+c])*da*(255-sa)
			d[i+c] = uint8((p + a/2) / a)
		}
		d[i+3] = uint8((a + 127) / 255)
	}
}
