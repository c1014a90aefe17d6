package wasmcodec

import (
	"image"
	"image/color"
)

// toNRGBA copies any decoded image into a new compact *image.NRGBA with
// Rect.Min at (0,0). It always copies: the libraries hand back views into the
// WebAssembly module's linear memory, and keeping such a view alive would
// keep the whole linear memory (often several times the image) alive too.
func toNRGBA(src image.Image) *image.NRGBA {
	b := src.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	w, h := b.Dx(), b.Dy()
	switch s := src.(type) {
	case *image.NRGBA:
		for y := range h {
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.RGBA:
		for y := range h {
			unpremultiply(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.RGBA64:
		for y := range h {
			unpremultiply64(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.YCbCr:
		for y := range h {
			row := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for x := range w {
				yi := s.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := s.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = r, g, bl, 0xFF
			}
		}
	case *image.Gray:
		for y := range h {
			row := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			in := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				v := in[x]
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v, v, 0xFF
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				dst.SetNRGBA(x, y, c)
			}
		}
	}
	return dst
}

// unpremultiply converts a row of premultiplied 8-bit RGBA into straight
// alpha, rounding to nearest. dst has 4×w bytes; src at least as many.
func unpremultiply(dst, src []byte) {
	src = src[:len(dst)]
	for i := 0; i+3 < len(dst); i += 4 {
		a := uint32(src[i+3])
		switch a {
		case 0xFF:
			copy(dst[i:i+4], src[i:i+4])
		case 0:
			dst[i], dst[i+1], dst[i+2], dst[i+3] = 0, 0, 0, 0
		default:
			dst[i] = unpre8(src[i], a)
			dst[i+1] = unpre8(src[i+1], a)
			dst[i+2] = unpre8(src[i+2], a)
			dst[i+3] = byte(a)
		}
	}
}

func unpre8(c byte, a uint32) byte {
	v := (uint32(c)*0xFF + a/2) / a
	return byte(min(v, 0xFF))
}

// unpremultiply64 converts a row of premultiplied 16-bit RGBA (big-endian,
// as image.RGBA64 stores it) into straight 8-bit alpha.
func unpremultiply64(dst, src []byte) {
	src = src[:2*len(dst)]
	for i, j := 0, 0; i+3 < len(dst); i, j = i+4, j+8 {
		a := uint32(src[j+6])<<8 | uint32(src[j+7])
		if a == 0 {
			dst[i], dst[i+1], dst[i+2], dst[i+3] = 0, 0, 0, 0
			continue
		}
		for k := range 3 {
			c := uint32(src[j+2*k])<<8 | uint32(src[j+2*k+1])
			v := min((c*0xFFFF+a/2)/a, 0xFFFF)
			dst[i+k] = byte((v*0xFF + 0x7FFF) / 0xFFFF)
		}
		dst[i+3] = byte((a*0xFF + 0x7FFF) / 0xFFFF)
	}
}

// compact returns img itself when its pixels are one contiguous block
// starting at (0,0), or a compact copy. The WebP encoder reads Pix as
// width×4 bytes per row.
func compact(img *image.NRGBA) *image.NRGBA {
	b := img.Bounds()
	if b.Min == (image.Point{}) && img.Stride == 4*b.Dx() && len(img.Pix) == 4*b.Dx()*b.Dy() {
		return img
	}
	return toNRGBA(img)
}
