package vp8enc

import (
	"context"
	"encoding/binary"
	"image"
	"io"
)

// Alpha: the WebP container's extended format (VP8X) carries the alpha
// plane of a lossy image in an ALPH chunk before the VP8 frame (WebP
// container specification, "Alpha"). Its header byte packs the
// pre-processing (0: none), the filtering method (0..3) and the
// compression (0: raw bytes, 1: a VP8L image stream whose green channel
// holds the values); see alphaPayload.

// Opaque reports whether every pixel of img has alpha 255.
func Opaque(img *image.NRGBA) bool {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				return false
			}
		}
	}
	return true
}

// EncodeNRGBA writes img as lossy WebP: a simple file when it is opaque,
// else the extended format with its alpha plane stored losslessly.
func EncodeNRGBA(ctx context.Context, w io.Writer, img *image.NRGBA, o *Options) error {
	p, err := FromImage(ctx, img)
	if err != nil {
		return err
	}
	parts, _, err := encodeParts(ctx, p, o)
	if err != nil {
		return err
	}
	if Opaque(img) {
		return writeContainer(w, parts[:]...)
	}
	return writeExtended(w, p.W, p.H, alphaPayload(img), parts[:]...)
}

// writeExtended writes a VP8X file: the VP8X chunk (flags: alpha; the
// canvas size minus one in 24 bits each), the ALPH chunk, the VP8 chunk
// (given in parts).
func writeExtended(w io.Writer, width, height int, alpha []byte, frame ...[]byte) error {
	n := 0
	for _, p := range frame {
		n += len(p)
	}
	na := len(alpha)
	h := make([]byte, 12+8+10+8, 12+8+10+8+8)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(4+8+10+8+na+na&1+8+n+n&1))
	copy(h[8:], "WEBPVP8X")
	binary.LittleEndian.PutUint32(h[16:], 10)
	h[20] = 0x10 // alpha
	put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(h[24:], width-1)
	put24(h[27:], height-1)
	copy(h[30:], "ALPH")
	binary.LittleEndian.PutUint32(h[34:], uint32(na))
	if err := writeAll(w, [][]byte{h, alpha}, na&1); err != nil {
		return err
	}
	ch := make([]byte, 8)
	copy(ch, "VP8 ")
	binary.LittleEndian.PutUint32(ch[4:], uint32(n))
	return writeAll(w, append([][]byte{ch}, frame...), n&1)
}

// alphaPayload is the ALPH chunk's payload for img's alpha: header byte,
// then the values. This version stores them raw (compression 0, no
// filter).
func alphaPayload(img *image.NRGBA) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]byte, 1, 1+w*h)
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for i := 3; i < len(row); i += 4 {
			out = append(out, row[i])
		}
	}
	return out
}
