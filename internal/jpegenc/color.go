package jpegenc

import (
	"image"
)

// rgbToYCbCr converts a pixel to full-range BT.601 Y′CbCr (JFIF) in 16.16
// fixed point. Constants and rounding are those of image/color's
// RGBToYCbCr, so both give identical results for every input
// (TestRGBToYCbCrMatchesStdlib): the coefficients are 0.299, 0.587, 0.114
// for Y′ and ±0.5-normalised differences for Cb and Cr, scaled by 65536
// such that the Cb and Cr weights sum to zero exactly; 257<<15 adds the 128
// offset plus one half for rounding.
func rgbToYCbCr(r, g, b int32) (uint8, uint8, uint8) {
	y := (19595*r + 38470*g + 7471*b + 1<<15) >> 16
	cb := -11056*r - 21712*g + 32768*b + 257<<15
	cr := 32768*r - 27440*g - 5328*b + 257<<15
	return uint8(y), clampShift(cb), clampShift(cr)
}

// rgbaToYCbCr converts the len(y) RGBA pixels of p (alpha ignored) with
// rgbToYCbCr into y, cb and cr: sixteen at a time with SSE2 on amd64.
func rgbaToYCbCr(p, y, cb, cr []byte) {
	w := len(y)
	if w == 0 {
		return
	}
	_, _, _ = p[4*w-1], cb[w-1], cr[w-1]
	x := 0
	if n := w &^ 15; haveSIMD && n > 0 {
		rgbaToYCbCrSIMD(&p[0], &y[0], &cb[0], &cr[0], n)
		x = n
	}
	for ; x < w; x++ {
		q := p[4*x : 4*x+3 : 4*x+3]
		y[x], cb[x], cr[x] = rgbToYCbCr(int32(q[0]), int32(q[1]), int32(q[2]))
	}
}

// clampShift returns v>>16 clamped to 0..255.
func clampShift(v int32) uint8 {
	if uint32(v) < 1<<24 {
		return uint8(v >> 16)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// srcKind says how pixels are read from the source image.
type srcKind int

const (
	srcGeneric  srcKind = iota // image.Image.At, converted to 8-bit RGB
	srcRGB4                    // *image.RGBA or *image.NRGBA: R, G, B bytes, alpha ignored
	srcGray                    // *image.Gray
	srcGray16                  // *image.Gray16, high byte of each sample
	srcYCbCr                   // *image.YCbCr, any subsampling, chroma looked up per pixel
	srcYCbCrRaw                // *image.YCbCr whose planes match the output sampling: copied as is
)

// source is the image being encoded, with its fast-path representation.
type source struct {
	kind   srcKind
	img    image.Image
	rect   image.Rectangle
	pix    []byte // srcRGB4, srcGray, srcGray16
	stride int
	ycc    *image.YCbCr
}

// fill loads the samples of MCU row my into the component planes. Samples
// beyond the right or bottom edge of the image repeat the last column or
// row, and for 4:2:0 output the chroma planes are then downsampled by
// averaging each 2×2 square with rounding.
func (e *encoder) fill(rb *rowBufs, my int) {
	rows := 8 * e.vmax
	y0 := my * rows
	w := e.width
	padW := e.mcusX * 8 * e.hmax
	yp := &e.comps[0]
	if e.src.kind == srcYCbCrRaw {
		e.fillYCbCrRaw(rb, my)
		return
	}
	for r := range rows {
		sy := min(y0+r, e.height-1)
		yrow := rb.plane[0][r*yp.stride : r*yp.stride+padW]
		var cbrow, crrow []byte
		if e.ncomp == 3 {
			cbrow = rb.fullCb[r*padW : r*padW+padW]
			crrow = rb.fullCr[r*padW : r*padW+padW]
		}
		switch e.src.kind {
		case srcGray:
			off := sy * e.src.stride
			copy(yrow, e.src.pix[off:off+w])
		case srcGray16:
			p := e.src.pix[sy*e.src.stride:]
			for x := range w {
				yrow[x] = p[2*x]
			}
		case srcRGB4:
			p := e.src.pix[sy*e.src.stride : sy*e.src.stride+4*w]
			rgbaToYCbCr(p, yrow[:w], cbrow[:w], crrow[:w])
		case srcYCbCr:
			m := e.src.ycc
			iy := sy + m.Rect.Min.Y
			for x := range w {
				ix := x + m.Rect.Min.X
				yrow[x] = m.Y[m.YOffset(ix, iy)]
				c := m.COffset(ix, iy)
				cbrow[x], crrow[x] = m.Cb[c], m.Cr[c]
			}
		default:
			m, b := e.src.img, e.src.rect
			for x := range w {
				cr, cg, cb, _ := m.At(b.Min.X+x, b.Min.Y+sy).RGBA()
				yrow[x], cbrow[x], crrow[x] = rgbToYCbCr(int32(cr>>8), int32(cg>>8), int32(cb>>8))
			}
		}
		replicate(yrow, w)
		if e.ncomp == 3 {
			replicate(cbrow, w)
			replicate(crrow, w)
		}
	}
	if e.ncomp == 3 && e.hmax == 2 {
		downsample(rb.plane[1], e.comps[1].stride, rb.fullCb, padW)
		downsample(rb.plane[2], e.comps[2].stride, rb.fullCr, padW)
	}
}

// fillYCbCrRaw copies the planes of a *image.YCbCr whose subsampling and
// alignment match the output component layout.
func (e *encoder) fillYCbCrRaw(rb *rowBufs, my int) {
	m := e.src.ycc
	for ci := range 3 {
		c := &e.comps[ci]
		plane, stride := m.Y, m.YStride
		switch ci {
		case 1:
			plane, stride = m.Cb, m.CStride
		case 2:
			plane, stride = m.Cr, m.CStride
		}
		// Component dimensions: ceil(image size × sampling / max sampling).
		cw := (e.width*c.h + e.hmax - 1) / e.hmax
		ch := (e.height*c.v + e.vmax - 1) / e.vmax
		rows := 8 * c.v
		y0 := my * rows
		for r := range rows {
			sy := min(y0+r, ch-1)
			dst := rb.plane[ci][r*c.stride : (r+1)*c.stride]
			off := sy * stride
			copy(dst, plane[off:off+cw])
			replicate(dst, cw)
		}
	}
}

// replicate copies row[w-1] into row[w:].
func replicate(row []byte, w int) {
	if w >= len(row) {
		return
	}
	v := row[w-1]
	for i := w; i < len(row); i++ {
		row[i] = v
	}
}

// downsample averages 2×2 squares of src (stride sstride, 16 rows) with
// rounding into dst (8 rows).
func downsample(dst []byte, dstride int, src []byte, sstride int) {
	for r := range 8 {
		a := src[2*r*sstride : 2*r*sstride+sstride]
		b := src[(2*r+1)*sstride : (2*r+1)*sstride+sstride]
		d := dst[r*dstride : r*dstride+dstride]
		for x := range d {
			d[x] = uint8((uint32(a[2*x]) + uint32(a[2*x+1]) + uint32(b[2*x]) + uint32(b[2*x+1]) + 2) >> 2)
		}
	}
}
