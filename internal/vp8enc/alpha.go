package vp8enc

import (
	"context"
	"encoding/binary"
	"image"
	"io"
	"math"

	"github.com/imageopto/imageopto/internal/ctxpoll"
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
	alpha, err := alphaPayload(ctx, img)
	if err != nil {
		return err
	}
	return writeExtended(w, p.W, p.H, alpha, parts[:]...)
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

// alphaPayload is the ALPH chunk's payload for img's alpha: the header
// byte (pre-processing 0, filtering method F in bits 2-3, compression C
// in bits 0-1), then the data. Each of the four filters (none,
// horizontal, vertical, gradient: the value minus a prediction from its
// left, upper or both neighbours, modulo 256) is estimated, and the
// values under the best one compressed as VP8L (kept raw if that does not
// make them smaller).
func alphaPayload(ctx context.Context, img *image.NRGBA) ([]byte, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	pl := ctxpoll.New(ctx)
	a := make([]uint8, w*h)
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			a[y*w+x] = row[4*x+3]
		}
	}
	f := make([]uint8, w*h)
	method, bestBits := 0, math.Inf(1)
	for m := range 4 {
		if err := pl.Work(2 * w * h); err != nil {
			return nil, err
		}
		alphaFilter(a, f, w, h, m)
		if b := estimateBits(f); b < bestBits {
			method, bestBits = m, b
		}
	}
	alphaFilter(a, f, w, h, method)
	c, err := vp8lAlpha(&pl, f)
	if err != nil {
		return nil, err
	}
	if len(c) >= len(a) {
		return append([]byte{0}, a...), nil // raw, unfiltered
	}
	return append([]byte{byte(method<<2 | 1)}, c...), nil
}

// estimateBits estimates the size of vp8lAlpha's output for v: the
// entropy of the literals plus about 12 bits per run.
func estimateBits(v []uint8) float64 {
	var hist [256]int
	lits, runs := 0, 0
	for i := 0; i < len(v); {
		if n := runAt(v, i); n > 0 {
			runs++
			i += n
			continue
		}
		hist[v[i]]++
		lits++
		i++
	}
	bits := 12 * float64(runs)
	for _, n := range hist {
		if n > 0 {
			bits -= float64(n) * math.Log2(float64(n)/float64(lits))
		}
	}
	return bits
}

// alphaFilter writes into f the residuals of a (w x h) under filtering
// method m (WebP container specification, "Alpha": 1 horizontal, 2
// vertical, 3 gradient; the top-left predicted by 0, the first row from
// the left and the first column from above for the filters that lack
// those neighbours).
func alphaFilter(a, f []uint8, w, h, m int) {
	for y := range h {
		for x := range w {
			i := y*w + x
			var p uint8
			switch {
			case m == 0 || x == 0 && y == 0:
				p = 0
			case y == 0:
				p = a[i-1]
			case x == 0:
				p = a[i-w]
			case m == 1:
				p = a[i-1]
			case m == 2:
				p = a[i-w]
			default:
				p = uint8(max(0, min(255, int(a[i-1])+int(a[i-w])-int(a[i-w-1]))))
			}
			f[i] = a[i] - p
		}
	}
}

// runAt is the length of the run of values equal to the previous one at
// i, when at least 3 long, else 0: the estimate's stand-in for matches.
func runAt(v []uint8, i int) int {
	if i == 0 {
		return 0
	}
	n := 0
	for i+n < len(v) && n < maxMatch && v[i+n] == v[i-1] {
		n++
	}
	if n < 3 {
		return 0
	}
	return n
}
