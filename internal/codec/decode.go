package codec

import (
	"bytes"
	"context"
	"fmt"
	"github.com/imageopto/imageopto/internal/format"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Decode decodes the first frame of data, whose header h was returned by
// ReadHeader, into an *image.NRGBA of h.Width × h.Height with Rect.Min at
// the origin. EXIF orientation is not applied; a GIF frame smaller than the
// logical screen is placed on a transparent screen, and the first frame of
// an animated WebP (h.Animated) is composed onto its transparent canvas.
//
// Decode enforces no limits: it allocates about EstimateBytes(h) plus 4
// bytes per pixel, and callers gate on that before calling it. Before
// decoding, it checks that data still declares h's dimensions, so the
// decoder cannot allocate more than the caller admitted. Decoder errors,
// recovered decoder panics and decoded bounds that differ from h all return
// an error wrapping ErrCorrupt.
//
// The decoders read data through a reader that fails once ctx is done
// (they read 4 KiB at a time), and the conversion to NRGBA polls ctx every
// few rows (see ctxpoll): Decode then stops and returns ctx.Err(), not
// wrapped in ErrCorrupt.
func Decode(ctx context.Context, data []byte, h Header) (img *image.NRGBA, err error) {
	switch {
	case h.Format == "":
		return nil, ErrUnknownFormat
	case !Decodable(h.Format):
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedFormat, h.Format)
	case h.Width <= 0 || h.Height <= 0:
		return nil, corruptf("%s: header has no dimensions", h.Format)
	}
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, corruptf("%s: decoder panicked: %v", h.Format, r)
		}
	}()

	if h.Format == format.PNG && !h.Interlaced {
		// Row by row (png_rows.go): no image/png buffer beside the result.
		// A file it refuses goes to image/png, which has the last word.
		img, err := DecodePNGScaled(ctx, data, h, 1)
		if err == nil || ctxpoll.Stopped(err) {
			return img, err
		}
	}
	if h.Format == format.WebP && h.Animated {
		frames, _, err := decodeWebPAnimation(ctx, data, h, 1)
		if err != nil {
			return nil, err
		}
		return frames[0].Image, nil
	}
	if h.Format == format.WebP {
		if bits := stillLossyVP8(data); bits != nil {
			ycc, err := decodeVP8(ctx, bits, image.Pt(h.Width, h.Height), false, false)
			if err != nil {
				return nil, err
			}
			pl := ctxpoll.New(ctx)
			return toNRGBA(&pl, ycc, true)
		}
	}
	cfg, err := decodeConfig(h.Format, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, h.Format, err)
	}
	if cfg.Width != h.Width || cfg.Height != h.Height {
		return nil, corruptf("%s: data declares %dx%d but the header says %dx%d",
			h.Format, cfg.Width, cfg.Height, h.Width, h.Height)
	}

	var m image.Image
	r := ctxpoll.Reader(ctx, bytes.NewReader(data))
	switch h.Format {
	case format.JPEG:
		m, err = jpeg.Decode(r)
	case format.PNG:
		m, err = png.Decode(r)
	case format.GIF:
		m, err = gif.Decode(r)
	case format.WebP:
		m, err = webp.Decode(r)
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr // stopped, not corrupt
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, h.Format, err)
	}
	if m == nil {
		return nil, corruptf("%s: decoder returned no image", h.Format)
	}

	pl := ctxpoll.New(ctx)
	screen := image.Rect(0, 0, h.Width, h.Height)
	if p, ok := m.(*image.Paletted); ok && h.Format == format.GIF && p.Rect != screen {
		if !p.Rect.In(screen) {
			return nil, corruptf("gif: frame %v lies outside the %v screen", p.Rect, screen)
		}
		return compositePaletted(&pl, p, screen)
	}
	if b := m.Bounds(); b != screen {
		return nil, corruptf("%s: decoded bounds %v differ from the header's %v", h.Format, b, screen)
	}
	return toNRGBA(&pl, m, h.Format == format.WebP)
}

// decodeConfig reads the dimensions the data declares, with the decoder's
// own header parser.
func decodeConfig(f Format, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch f {
	case format.JPEG:
		return jpeg.DecodeConfig(r)
	case format.PNG:
		return png.DecodeConfig(r)
	case format.GIF:
		return gif.DecodeConfig(r)
	case format.WebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("%w: %s", ErrUnsupportedFormat, f)
}

// toNRGBA converts a decoded image whose bounds start at the origin. The
// decoder's buffer is reused in place when its layout allows (NRGBA, RGBA,
// CMYK). vp8Range selects the limited-range BT.601 matrix that VP8 uses
// for Y'CbCr; otherwise Y'CbCr is JFIF full range. It polls pl once per
// row.
func toNRGBA(pl *ctxpoll.Poller, m image.Image, vp8Range bool) (*image.NRGBA, error) {
	b := m.Bounds()
	switch m := m.(type) {
	case *image.NRGBA:
		return m, nil
	case *image.RGBA:
		for y := range b.Dy() {
			if err := pl.Work(4 * b.Dx()); err != nil {
				return nil, err
			}
			unpremultiplyInPlace(m.Pix[y*m.Stride:], m.Stride, b.Dx(), 1)
		}
		return &image.NRGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}, nil
	case *image.CMYK:
		for y := range b.Dy() {
			if err := pl.Work(4 * b.Dx()); err != nil {
				return nil, err
			}
			cmykToNRGBAInPlace(m.Pix[y*m.Stride:], m.Stride, b.Dx(), 1)
		}
		return &image.NRGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}, nil
	case *image.YCbCr:
		dst := image.NewNRGBA(b)
		if err := ycbcrToNRGBA(pl, dst, m, nil, 0, vp8Range); err != nil {
			return nil, err
		}
		return dst, nil
	case *image.NYCbCrA:
		dst := image.NewNRGBA(b)
		if err := ycbcrToNRGBA(pl, dst, &m.YCbCr, m.A, m.AStride, vp8Range); err != nil {
			return nil, err
		}
		return dst, nil
	case *image.Gray:
		dst := image.NewNRGBA(b)
		for y := range b.Dy() {
			if err := pl.Work(4 * b.Dx()); err != nil {
				return nil, err
			}
			src := m.Pix[y*m.Stride : y*m.Stride+b.Dx()]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*len(src)]
			for x, v := range src {
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = v, v, v, 0xFF
			}
		}
		return dst, nil
	case *image.Gray16:
		dst := image.NewNRGBA(b)
		for y := range b.Dy() {
			if err := pl.Work(4 * b.Dx()); err != nil {
				return nil, err
			}
			src := m.Pix[y*m.Stride : y*m.Stride+2*b.Dx()]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*b.Dx()]
			for x := range b.Dx() {
				v := to8(uint16(src[2*x])<<8 | uint16(src[2*x+1]))
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = v, v, v, 0xFF
			}
		}
		return dst, nil
	case *image.NRGBA64:
		dst := image.NewNRGBA(b)
		for y := range b.Dy() {
			if err := pl.Work(8 * b.Dx()); err != nil {
				return nil, err
			}
			src := m.Pix[y*m.Stride : y*m.Stride+8*b.Dx()]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*b.Dx()]
			for i := range out {
				out[i] = to8(uint16(src[2*i])<<8 | uint16(src[2*i+1]))
			}
		}
		return dst, nil
	case *image.RGBA64:
		dst := image.NewNRGBA(b)
		for y := range b.Dy() {
			if err := pl.Work(8 * b.Dx()); err != nil {
				return nil, err
			}
			src := m.Pix[y*m.Stride : y*m.Stride+8*b.Dx()]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*b.Dx()]
			for x := range b.Dx() {
				s := src[8*x : 8*x+8]
				r := uint32(s[0])<<8 | uint32(s[1])
				g := uint32(s[2])<<8 | uint32(s[3])
				bl := uint32(s[4])<<8 | uint32(s[5])
				a := uint32(s[6])<<8 | uint32(s[7])
				if a != 0xFFFF && a != 0 {
					r, g, bl = min(r*0xFFFF/a, 0xFFFF), min(g*0xFFFF/a, 0xFFFF), min(bl*0xFFFF/a, 0xFFFF)
				}
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = to8(uint16(r)), to8(uint16(g)), to8(uint16(bl)), to8(uint16(a))
			}
		}
		return dst, nil
	case *image.Paletted:
		return compositePaletted(pl, m, b)
	}
	dst := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		if err := pl.Work(32 * b.Dx()); err != nil {
			return nil, err
		}
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.SetNRGBA(x, y, color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA))
		}
	}
	return dst, nil
}

// to8 scales a 16-bit sample to 8 bits with rounding: round(v / 257).
func to8(v uint16) uint8 {
	return uint8((uint32(v)*255 + 32895) >> 16)
}

// unpremultiplyInPlace turns premultiplied RGBA rows into straight alpha.
func unpremultiplyInPlace(pix []byte, stride, w, h int) {
	for y := range h {
		row := pix[y*stride : y*stride+4*w]
		for i := 0; i < len(row); i += 4 {
			a := uint32(row[i+3])
			switch a {
			case 0xFF:
			case 0:
				row[i], row[i+1], row[i+2] = 0, 0, 0
			default:
				row[i] = uint8(min((uint32(row[i])*0xFF+a/2)/a, 0xFF))
				row[i+1] = uint8(min((uint32(row[i+1])*0xFF+a/2)/a, 0xFF))
				row[i+2] = uint8(min((uint32(row[i+2])*0xFF+a/2)/a, 0xFF))
			}
		}
	}
}

// cmykToNRGBAInPlace converts *image.CMYK rows (as image/jpeg returns them
// for Adobe CMYK and YCCK files) with color.CMYKToRGB.
func cmykToNRGBAInPlace(pix []byte, stride, w, h int) {
	for y := range h {
		row := pix[y*stride : y*stride+4*w]
		for i := 0; i < len(row); i += 4 {
			row[i], row[i+1], row[i+2] = color.CMYKToRGB(row[i], row[i+1], row[i+2], row[i+3])
			row[i+3] = 0xFF
		}
	}
}

// compositePaletted paints p onto a transparent NRGBA covering screen.
// Palette indices beyond the palette are opaque black. It polls pl once
// per row.
func compositePaletted(pl *ctxpoll.Poller, p *image.Paletted, screen image.Rectangle) (*image.NRGBA, error) {
	var lut [256]color.NRGBA
	for i := range lut {
		lut[i] = color.NRGBA{A: 0xFF}
	}
	for i, c := range p.Palette[:min(len(p.Palette), len(lut))] {
		if c != nil {
			lut[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
		}
	}
	dst := image.NewNRGBA(screen)
	r := p.Rect.Intersect(screen)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		if err := pl.Work(4 * r.Dx()); err != nil {
			return nil, err
		}
		src := p.Pix[p.PixOffset(r.Min.X, y):][:r.Dx()]
		out := dst.Pix[dst.PixOffset(r.Min.X, y):][:4*r.Dx()]
		for x, idx := range src {
			c := lut[idx]
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = c.R, c.G, c.B, c.A
		}
	}
	return dst, nil
}

// chromaShift returns the horizontal and vertical chroma subsampling as
// right shifts.
func chromaShift(r image.YCbCrSubsampleRatio) (hs, vs uint) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 1, 0
	case image.YCbCrSubsampleRatio420:
		return 1, 1
	case image.YCbCrSubsampleRatio440:
		return 0, 1
	case image.YCbCrSubsampleRatio411:
		return 2, 0
	case image.YCbCrSubsampleRatio410:
		return 2, 1
	}
	return 0, 0
}

// ycbcrToNRGBA converts m (bounds at the origin) into dst. alpha, when not
// nil, is a straight alpha plane with stride aStride; otherwise the result
// is opaque. It polls pl once per row.
func ycbcrToNRGBA(pl *ctxpoll.Poller, dst *image.NRGBA, m *image.YCbCr, alpha []byte, aStride int, vp8Range bool) error {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	hs, vs := chromaShift(m.SubsampleRatio)
	for y := range h {
		if err := pl.Work(8 * w); err != nil {
			return err
		}
		ys := m.Y[y*m.YStride : y*m.YStride+w]
		cOff := (y >> vs) * m.CStride
		cw := (w-1)>>hs + 1
		cb, cr := m.Cb[cOff:cOff+cw], m.Cr[cOff:cOff+cw]
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		if vp8Range {
			ycbcrRowLimited(out, ys, cb, cr, hs)
		} else {
			ycbcrRowFull(out, ys, cb, cr, hs)
		}
		if alpha != nil {
			as := alpha[y*aStride : y*aStride+w]
			for x, a := range as {
				out[4*x+3] = a
			}
		}
	}
	return nil
}

// ycbcrRowFull converts one row with ycbcrFull's arithmetic, written out
// so that the compiler keeps it in the loop.
func ycbcrRowFull(out, ys, cb, cr []byte, hs uint) {
	for x, y := range ys {
		ci := x >> hs
		yy := int32(y) * 0x10101
		cb1, cr1 := int32(cb[ci])-128, int32(cr[ci])-128
		r := yy + 91881*cr1
		g := yy - 22554*cb1 - 46802*cr1
		b := yy + 116130*cb1
		p := out[4*x : 4*x+4 : 4*x+4]
		p[0], p[1], p[2], p[3] = clamp1616(r), clamp1616(g), clamp1616(b), 0xFF
	}
}

// ycbcrRowLimited converts one row with ycbcrLimited's arithmetic.
func ycbcrRowLimited(out, ys, cb, cr []byte, hs uint) {
	for x, y := range ys {
		ci := x >> hs
		yy := (int32(y)-16)*76309 + 1<<15
		cb1, cr1 := int32(cb[ci])-128, int32(cr[ci])-128
		r := yy + 104597*cr1
		g := yy - 25675*cb1 - 53279*cr1
		b := yy + 132201*cb1
		p := out[4*x : 4*x+4 : 4*x+4]
		p[0], p[1], p[2], p[3] = clamp1616(r), clamp1616(g), clamp1616(b), 0xFF
	}
}

// ycbcrFull converts JFIF full-range Y'CbCr to RGB with the same 16.16
// fixed-point arithmetic as color.YCbCrToRGB, so results are identical.
func ycbcrFull(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy := int32(y) * 0x10101
	cb1, cr1 := int32(cb)-128, int32(cr)-128
	return clamp1616(yy + 91881*cr1),
		clamp1616(yy - 22554*cb1 - 46802*cr1),
		clamp1616(yy + 116130*cb1)
}

// ycbcrLimited converts limited-range BT.601 Y'CbCr (Y' 16–235, C 16–240),
// as VP8 stores it, to full-range RGB in 16.16 fixed point with rounding:
//
//	R = 1.164(Y'−16) + 1.596(Cr−128)
//	G = 1.164(Y'−16) − 0.392(Cb−128) − 0.813(Cr−128)
//	B = 1.164(Y'−16) + 2.017(Cb−128)
func ycbcrLimited(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy := (int32(y)-16)*76309 + 1<<15
	cb1, cr1 := int32(cb)-128, int32(cr)-128
	return clamp1616(yy + 104597*cr1),
		clamp1616(yy - 25675*cb1 - 53279*cr1),
		clamp1616(yy + 132201*cb1)
}

// clamp1616 returns the integer part of a 16.16 fixed-point value clamped to
// [0, 255].
func clamp1616(v int32) uint8 {
	if uint32(v)&0xFF000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31)) // 0 when negative, 255 when too large
}
