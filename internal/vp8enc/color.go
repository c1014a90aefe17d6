package vp8enc

import (
	"context"
	"image"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Colour conversion to the limited-range BT.601 Y'CbCr VP8 codes (as
// WebP decoders interpret it): Y' = 16 + 219*(0.299 R + 0.587 G +
// 0.114 B)/255, Cb and Cr = 128 + 224*(B-Y, R-Y scaled to +-0.5)/255.
// Factors are in 1/65536, divided by 255 already.
const (
	kYR, kYG, kYB    = 16829, 33039, 6416
	kUR, kUG, kUB    = -9714, -19070, 28784
	kVR, kVG, kVB    = 28784, -24103, -4681
	yRound, cRound   = 16<<16 + 1<<15, 128<<16 + 1<<15
	cRound4, cShift4 = 128<<18 + 1<<17, 18
)

// FromImage converts m to 4:2:0 planes: luma per pixel, chroma from the
// average of each 2x2 block's R, G and B (not one pixel's). Alpha is
// ignored (straight alpha: the colour is kept).
func FromImage(ctx context.Context, m image.Image) (*Planes, error) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 || w > MaxSide || h > MaxSide {
		return nil, ErrSize
	}
	cw, ch := (w+1)/2, (h+1)/2
	p := &Planes{W: w, H: h, YStride: w, CStride: cw,
		Y: make([]uint8, w*h), Cb: make([]uint8, cw*ch), Cr: make([]uint8, cw*ch)}
	nrgba, _ := m.(*image.NRGBA)
	row := make([]int32, 3*2*2*cw) // two rows of R, G, B, padded to even width
	pl := ctxpoll.New(ctx)
	for cy := range ch {
		if err := pl.Work(8 * w); err != nil {
			return nil, err
		}
		for dy := range 2 {
			y := min(2*cy+dy, h-1)
			r := row[dy*3*2*cw:]
			for x := range 2 * cw {
				sx := min(x, w-1)
				var R, G, B int32
				if nrgba != nil {
					o := (y+b.Min.Y-nrgba.Rect.Min.Y)*nrgba.Stride + 4*(sx+b.Min.X-nrgba.Rect.Min.X)
					R, G, B = int32(nrgba.Pix[o]), int32(nrgba.Pix[o+1]), int32(nrgba.Pix[o+2])
				} else {
					R, G, B = rgb8(m, b.Min.X+sx, b.Min.Y+y)
				}
				r[3*x], r[3*x+1], r[3*x+2] = R, G, B
				if 2*cy+dy < h && x < w {
					p.Y[y*w+x] = uint8((kYR*R + kYG*G + kYB*B + yRound) >> 16)
				}
			}
		}
		r0, r1 := row, row[3*2*cw:]
		for cx := range cw {
			i := 6 * cx
			R := r0[i] + r0[i+3] + r1[i] + r1[i+3]
			G := r0[i+1] + r0[i+4] + r1[i+1] + r1[i+4]
			B := r0[i+2] + r0[i+5] + r1[i+2] + r1[i+5]
			p.Cb[cy*cw+cx] = uint8((kUR*R + kUG*G + kUB*B + cRound4) >> cShift4)
			p.Cr[cy*cw+cx] = uint8((kVR*R + kVG*G + kVB*B + cRound4) >> cShift4)
		}
	}
	return p, nil
}

// rgb8 reads one pixel of any image as straight 8-bit R, G, B.
func rgb8(m image.Image, x, y int) (int32, int32, int32) {
	r, g, b, a := m.At(x, y).RGBA()
	if a == 0 {
		return 0, 0, 0
	}
	if a != 0xffff {
		r, g, b = r*0xffff/a, g*0xffff/a, b*0xffff/a
	}
	return int32(r >> 8), int32(g >> 8), int32(b >> 8)
}

// Full-range (JFIF) to limited-range sample maps: Y' = 16 + Y*219/255,
// C' = 128 + (C-128)*224/255, rounded.
var fullToLimitedY, fullToLimitedC = func() (y, c [256]uint8) {
	for i := range 256 {
		y[i] = uint8((i*219*2+255)/510 + 16)
		c[i] = uint8(128 + roundDiv((i-128)*224, 255))
	}
	return y, c
}()

func roundDiv(a, b int) int {
	if a < 0 {
		return -((-a + b/2) / b)
	}
	return (a + b/2) / b
}

// FromYCbCr converts a 4:2:0 image.YCbCr, full-range as image/jpeg
// decodes it, to VP8's limited range.
func FromYCbCr(ctx context.Context, m *image.YCbCr) (*Planes, error) {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 || w > MaxSide || h > MaxSide {
		return nil, ErrSize
	}
	cw, ch := (w+1)/2, (h+1)/2
	p := &Planes{W: w, H: h, YStride: w, CStride: cw,
		Y: make([]uint8, w*h), Cb: make([]uint8, cw*ch), Cr: make([]uint8, cw*ch)}
	pl := ctxpoll.New(ctx)
	for y := range h {
		if err := pl.Work(2 * w); err != nil {
			return nil, err
		}
		src := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):]
		dst := p.Y[y*w : y*w+w]
		for x := range dst {
			dst[x] = fullToLimitedY[src[x]]
		}
	}
	for cy := range ch {
		o := m.COffset(b.Min.X, b.Min.Y+2*cy)
		for cx := range cw {
			p.Cb[cy*cw+cx] = fullToLimitedC[m.Cb[o+cx]]
			p.Cr[cy*cw+cx] = fullToLimitedC[m.Cr[o+cx]]
		}
	}
	return p, nil
}
