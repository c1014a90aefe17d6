package main

import (
	"bytes"
	"image"
	"image/color"
)

// vp8Range fixes the colours of a decoded WebP: golang.org/x/image/webp
// returns a lossy image's Y'CbCr planes as *image.YCbCr (or *image.NYCbCrA),
// whose colour model is JFIF's full range, while VP8 codes limited-range
// BT.601 (Y' 16–235, as libwebp and the WebP specification convert). Left
// as they are, the reference's blacks are lifted and its whites dimmed: an
// exact decode of a 24 MP WebP resized to 300 px scores SSIM 0.990 against
// it. Other images are returned as they are.
func vp8Range(data []byte, m image.Image) image.Image {
	if len(data) < 12 || !bytes.Equal(data[8:12], []byte("WEBP")) {
		return m
	}
	var y *image.YCbCr
	var a *image.Alpha
	switch m := m.(type) {
	case *image.YCbCr:
		y = m
	case *image.NYCbCrA:
		y = &m.YCbCr
		a = &image.Alpha{Pix: m.A, Stride: m.AStride, Rect: m.Rect}
	default:
		return m
	}
	b := y.Rect
	out := image.NewNRGBA(b)
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			yy := (float64(y.Y[y.YOffset(px, py)]) - 16) * (255.0 / 219)
			ci := y.COffset(px, py)
			cb := (float64(y.Cb[ci]) - 128) * (255.0 / 224)
			cr := (float64(y.Cr[ci]) - 128) * (255.0 / 224)
			alpha := uint8(0xff)
			if a != nil {
				alpha = a.AlphaAt(px, py).A
			}
			out.SetNRGBA(px, py, color.NRGBA{
				R: clamp8(yy + 1.402*cr),
				G: clamp8(yy - 0.344136*cb - 0.714136*cr),
				B: clamp8(yy + 1.772*cb),
				A: alpha,
			})
		}
	}
	return out
}

func clamp8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
