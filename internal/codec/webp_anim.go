package codec

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"io"

	"golang.org/x/image/webp"

	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/format"
)

// This file reads animated WebP: the extended format's VP8X chunk with the
// animation flag, one ANIM chunk (background colour and loop count) and one
// ANMF chunk per frame. An ANMF chunk holds the frame's rectangle on the
// canvas, its duration, its blending and disposal methods, and the frame's
// own image chunks (an optional ALPH with a VP8, or a VP8L). A lossy frame
// without alpha is decoded by internal/vp8dec; any other by
// golang.org/x/image/webp, fed a minimal still WebP made of the frame's
// chunks (read in place, never copied). Frames are composed onto the canvas
// as the container specification says.

// ANMF flag bits (the last byte of the frame header).
const (
	anmfDispose = 1 << 0 // dispose to background after the frame is shown
	anmfNoBlend = 1 << 1 // replace the rectangle instead of alpha-blending
)

// anmfHeaderSize is the size of the fixed fields before an ANMF chunk's
// frame data.
const anmfHeaderSize = 16

// maxWebPDuration is the largest frame duration WebP can store, in
// milliseconds (24 bits).
const maxWebPDuration = 1<<24 - 1

// WebPFrame is one frame of an animated WebP as it is shown: the whole
// canvas with everything earlier frames left on it.
type WebPFrame struct {
	// Image is the composed canvas, Rect.Min at the origin. Pixels that no
	// frame has painted are transparent (0, 0, 0, 0).
	Image *image.NRGBA
	// Duration is how long the frame is shown, in milliseconds as stored
	// (0–16777215; browsers show very short durations longer).
	Duration int
}

// anmf is a parsed ANMF chunk. alph and bits are the payloads of its ALPH
// and VP8/VP8L sub-chunks, slices of the file.
type anmf struct {
	rect     image.Rectangle // on the canvas
	duration int             // milliseconds
	blend    bool            // alpha-blend onto the canvas (else replace)
	dispose  bool            // clear the rectangle to transparent afterwards
	lossless bool            // bits is VP8L (else VP8)
	alpha    bool            // the frame may have transparent pixels
	alph     []byte          // ALPH payload, nil when none (never with VP8L)
	bits     []byte          // VP8 or VP8L payload
}

// parseANMF parses the body of a complete ANMF chunk for a canvas of cw×ch.
// The frame must lie inside the canvas and its bitstream must have the
// frame's size, so that decoding it allocates no more than the canvas.
func parseANMF(body []byte, cw, ch int) (anmf, error) {
	var f anmf
	if len(body) < anmfHeaderSize {
		return f, corruptf("webp: ANMF chunk of %d bytes", len(body))
	}
	u24 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
	x, y := 2*u24(body[0:]), 2*u24(body[3:])
	w, h := 1+u24(body[6:]), 1+u24(body[9:])
	f.duration = u24(body[12:])
	f.blend = body[15]&anmfNoBlend == 0
	f.dispose = body[15]&anmfDispose != 0
	if x+w > cw || y+h > ch {
		return f, corruptf("webp: frame %dx%d at (%d,%d) lies outside the %dx%d canvas", w, h, x, y, cw, ch)
	}
	f.rect = image.Rect(x, y, x+w, y+h)
	// The sub-chunks: an optional ALPH, then VP8 or VP8L; unknown chunks
	// are skipped, as the specification asks.
	for p := anmfHeaderSize; f.bits == nil; {
		if p+8 > len(body) {
			return f, corruptf("webp: frame without a VP8 or VP8L chunk")
		}
		id := string(body[p : p+4])
		n := uint64(binary.LittleEndian.Uint32(body[p+4:]))
		if uint64(p)+8+n > uint64(len(body)) {
			return f, corruptf("webp: %q chunk of %d bytes overruns its frame", id, n)
		}
		sub := body[p+8 : p+8+int(n)]
		switch id {
		case "ALPH":
			if f.alph == nil {
				if len(sub) == 0 {
					return f, corruptf("webp: empty ALPH chunk")
				}
				f.alph = sub
			}
		case "VP8 ", "VP8L":
			fw, fh, alphaHint, err := webpImageSize(id, sub)
			if err != nil {
				return f, err
			}
			if fw != w || fh != h {
				return f, corruptf("webp: frame bitstream is %dx%d but its rectangle %dx%d", fw, fh, w, h)
			}
			f.bits, f.lossless = sub, id == "VP8L"
			if f.lossless {
				f.alph = nil // the frame's alpha is in the VP8L bitstream
				f.alpha = alphaHint
			}
		}
		p += 8 + int(n) + int(n&1)
	}
	f.alpha = f.alpha || f.alph != nil
	return f, nil
}

// webpAnimated reports whether data is an animated WebP: its first chunk
// is a VP8X with the animation flag.
func webpAnimated(data []byte) bool {
	return len(data) >= 21 && string(data[12:16]) == "VP8X" && data[20]&webpFlagAnimation != 0
}

// DecodeWebPFrames decodes every frame of an animated WebP (h from
// ReadHeader, h.Animated set) and composes each onto the canvas as the
// WebP container specification says and browsers show it: the canvas
// starts transparent (the ANIM background colour is a hint that browsers
// ignore, and so does this); before a frame is drawn, the previous frame's
// rectangle is cleared to transparent when its disposal method says so;
// the frame is then alpha-blended onto its rectangle or, with its blending
// method set to "do not blend", replaces it. Every WebPFrame.Image is a
// separate canvas. loopCount is the ANIM chunk's: 0 loops forever, n plays
// n times.
//
// Limits are checked before any pixel is decoded: when h.Frames >
// maxFrames, or h.Frames × h.Width × h.Height > maxTotalPixels, the error
// wraps ErrTooManyFrames. Once admitted, the result takes 4 × h.Frames ×
// h.Width × h.Height bytes; decoding a frame needs its decoder's buffers on
// top (at most 4 bytes per canvas pixel: every frame lies inside the canvas
// and its bitstream has its rectangle's size, which the parser checks before
// the decoder runs). The frames are found by the same walk as ReadHeader's,
// so they never exceed h.Frames; the file must still declare h's canvas.
// A frame that fails to decode is ErrCorrupt.
//
// A still WebP (h.Animated false) gives one frame from Decode, with
// Duration 0 and loopCount 0, under the same limits.
//
// ctx is polled while each frame is read and every few rows of its
// conversion and composition (see ctxpoll): once it is done,
// DecodeWebPFrames stops and returns ctx.Err() (not wrapped in ErrCorrupt).
func DecodeWebPFrames(ctx context.Context, data []byte, h Header, maxFrames int, maxTotalPixels int64) ([]WebPFrame, int, error) {
	switch {
	case h.Format != format.WebP:
		return nil, 0, fmt.Errorf("%w: %q is not WebP", ErrUnsupportedFormat, h.Format)
	case h.Width <= 0 || h.Height <= 0:
		return nil, 0, corruptf("webp: header has no dimensions")
	}
	n := max(h.Frames, 1)
	if n > maxFrames {
		return nil, 0, fmt.Errorf("%w: %d frames, limit %d", ErrTooManyFrames, n, maxFrames)
	}
	if area := int64(h.Width) * int64(h.Height); maxTotalPixels <= 0 || area > maxTotalPixels/int64(n) {
		return nil, 0, fmt.Errorf("%w: %d frames of %dx%d exceed %d pixels", ErrTooManyFrames, n, h.Width, h.Height, maxTotalPixels)
	}
	if !h.Animated {
		img, err := Decode(ctx, data, h)
		if err != nil {
			return nil, 0, err
		}
		return []WebPFrame{{Image: img}}, 0, nil
	}
	return decodeWebPAnimation(ctx, data, h, n)
}

// decodeWebPAnimation decodes the first limit frames of an animated WebP
// whose header h was read (Decode uses it for the first frame).
func decodeWebPAnimation(ctx context.Context, data []byte, h Header, limit int) (frames []WebPFrame, loopCount int, err error) {
	defer func() {
		if r := recover(); r != nil {
			frames, loopCount, err = nil, 0, corruptf("webp: frame decoder panicked: %v", r)
		}
	}()
	if !webpAnimated(data) {
		return nil, 0, corruptf("webp: not an animation")
	}
	var all []anmf
	dh, loopCount, err := readWebPHeaderFrames(data, &all)
	if err != nil {
		return nil, 0, err
	}
	if dh.Width != h.Width || dh.Height != h.Height || dh.Frames != max(h.Frames, 1) {
		return nil, 0, corruptf("webp: data declares %d frames of %dx%d but the header says %d of %dx%d",
			dh.Frames, dh.Width, dh.Height, h.Frames, h.Width, h.Height)
	}
	pl := ctxpoll.New(ctx)
	screen := image.Rect(0, 0, h.Width, h.Height)
	var prev *anmf
	for i := range all[:min(limit, len(all))] {
		f := &all[i]
		canvas := image.NewNRGBA(screen)
		if i > 0 {
			// Copied in slices, polling between them.
			src := frames[i-1].Image.Pix
			for off := 0; off < len(src); off += ctxpoll.Interval {
				if err := pl.Work(ctxpoll.Interval); err != nil {
					return nil, 0, err
				}
				copy(canvas.Pix[off:], src[off:min(off+ctxpoll.Interval, len(src))])
			}
			if prev.dispose {
				fillRect(canvas, prev.rect, [4]byte{})
			}
		}
		img, err := decodeANMF(ctx, &pl, f)
		if err != nil {
			return nil, 0, fmt.Errorf("%w (frame %d)", err, i)
		}
		if err := drawFrame(&pl, canvas, img, f.rect.Min, f.blend); err != nil {
			return nil, 0, err
		}
		frames = append(frames, WebPFrame{Image: canvas, Duration: f.duration})
		prev = f
	}
	return frames, loopCount, nil
}

// decodeANMF decodes one frame's bitstream: a lossy frame without alpha
// with internal/vp8dec, any other fed to golang.org/x/image/webp as a
// still WebP whose chunks are the frame's, read in place.
func decodeANMF(ctx context.Context, pl *ctxpoll.Poller, f *anmf) (*image.NRGBA, error) {
	w, h := f.rect.Dx(), f.rect.Dy()
	if !f.lossless && f.alph == nil {
		ycc, err := decodeVP8(ctx, f.bits, image.Pt(w, h), false, false)
		if err != nil {
			return nil, err
		}
		return toNRGBA(pl, ycc, true)
	}
	bitsID := "VP8 "
	if f.lossless {
		bitsID = "VP8L"
	}
	var hdr [12 + 18 + 8]byte // RIFF header, VP8X, the next chunk's header
	parts := make([]io.Reader, 0, 6)
	size := 4 + 8 + len(f.bits) + len(f.bits)&1
	if f.alph != nil {
		size += 18 + 8 + len(f.alph) + len(f.alph)&1
	}
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(size))
	copy(hdr[8:], "WEBP")
	pad := []byte{0}
	if f.alph != nil {
		x := hdr[12:30]
		copy(x, "VP8X")
		binary.LittleEndian.PutUint32(x[4:], 10)
		x[8] = webpFlagAlpha
		w1, h1 := w-1, h-1
		x[12], x[13], x[14] = byte(w1), byte(w1>>8), byte(w1>>16)
		x[15], x[16], x[17] = byte(h1), byte(h1>>8), byte(h1>>16)
		a := hdr[30:38]
		copy(a, "ALPH")
		binary.LittleEndian.PutUint32(a[4:], uint32(len(f.alph)))
		parts = append(parts, bytes.NewReader(hdr[:38]), bytes.NewReader(f.alph), bytes.NewReader(pad[:len(f.alph)&1]))
	} else {
		parts = append(parts, bytes.NewReader(hdr[:12]))
	}
	var ch [8]byte
	copy(ch[:], bitsID)
	binary.LittleEndian.PutUint32(ch[4:], uint32(len(f.bits)))
	parts = append(parts, bytes.NewReader(ch[:]), bytes.NewReader(f.bits), bytes.NewReader(pad[:len(f.bits)&1]))

	m, err := webp.Decode(ctxpoll.Reader(ctx, io.MultiReader(parts...)))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("%w: webp: %w", ErrCorrupt, err)
	}
	if m == nil || m.Bounds() != image.Rect(0, 0, w, h) {
		return nil, corruptf("webp: frame decoded to the wrong size")
	}
	return toNRGBA(pl, m, true)
}

// drawFrame paints img onto canvas with its top-left corner at at:
// replacing the pixels, or alpha-blending with the WebP specification's
// formula for straight alpha (a fully opaque pixel replaces, a fully
// transparent one leaves the canvas as it is).
func drawFrame(pl *ctxpoll.Poller, canvas, img *image.NRGBA, at image.Point, blend bool) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return err
		}
		src := img.Pix[y*img.Stride:][:4*w]
		dst := canvas.Pix[canvas.PixOffset(at.X, at.Y+y):][:4*w]
		if !blend {
			copy(dst, src)
			continue
		}
		for i := 0; i < len(src); i += 4 {
			blendPixel(dst[i:i+4:i+4], src[i:i+4:i+4])
		}
	}
	return nil
}

// blendPixel alpha-blends the straight-alpha pixel src over dst, in place:
// A = Asrc + Adst·(1 − Asrc), C = (Csrc·Asrc + Cdst·Adst·(1 − Asrc)) / A,
// rounded (all values scaled to 0–255).
func blendPixel(dst, src []byte) {
	sa, da := uint32(src[3]), uint32(dst[3])
	switch {
	case sa == 0:
		return
	case sa == 255 || da == 0:
		copy(dst, src)
		return
	}
	df := da * (255 - sa) // the canvas's weight, ×255
	a255 := sa*255 + df   // the result's alpha, ×255
	for c := range 3 {
		dst[c] = byte((uint32(src[c])*sa*255 + uint32(dst[c])*df + a255/2) / a255)
	}
	dst[3] = byte((a255 + 127) / 255)
}
