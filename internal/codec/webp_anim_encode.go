package codec

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// webpMaxSide is the largest width or height of a WebP image (VP8 and VP8L
// store 14 bits).
const webpMaxSide = 16383

// WebPStillEncoder encodes img as a complete still WebP file: a RIFF form
// holding a VP8 chunk (with a VP8X and an ALPH chunk before it when the
// image has alpha) or a VP8L chunk, as libwebp's WebPEncode writes it.
type WebPStillEncoder func(img *image.NRGBA) ([]byte, error)

// EncodeWebPAnimation writes frames as an animated WebP (a VP8X chunk with
// the animation flag, an ANIM chunk and one ANMF chunk per frame), each
// frame's image coded by still: the animation is assembled from the image
// chunks of still WebP files, so any single-image encoder can write
// animations. Every frame must have the size of the first (the canvas, at
// most 16383 px per side); a Duration outside 0–16777215 ms is clamped;
// loopCount is stored as it is (0 loops forever, n plays n times;
// 0–65535). The ANIM background colour is transparent black.
//
// The first frame covers the canvas. Each later frame codes only the
// bounding rectangle of the pixels that differ from the previous frame
// (its corner moved up and left to even coordinates, as ANMF requires),
// with disposal "none", so that a decoder's canvas always equals the last
// frame shown:
//
//   - when every changed pixel is opaque, the frame alpha-blends and the
//     unchanged pixels inside the rectangle are coded fully transparent,
//     which leaves the canvas under them as it is (and compresses well);
//   - otherwise the frame replaces the rectangle ("do not blend") with its
//     exact pixels, which is correct whatever the canvas holds;
//   - a frame identical to the previous one becomes a 1×1 fully
//     transparent blended frame, so the frame count and timing are kept.
//
// With a lossless still encoder, decoding the result with DecodeWebPFrames
// gives back every frame exactly (the colour of fully transparent pixels
// aside, which libwebp does not keep).
//
// Memory: one frame's rectangle (4 bytes per pixel) on top of what still
// needs for one call, and the encoded frames, which are kept until the
// end (the RIFF header needs the total size) and then written in one pass;
// when w has a Grow method (a *bytes.Buffer) it is grown to the total
// first, so the output is held at most twice.
//
// ctx is polled every few rows of the comparison of two frames, and
// between frames: once it is done, EncodeWebPAnimation stops (after the
// still encoder call under way, which may not be interruptible), writes
// nothing, and returns ctx.Err().
func EncodeWebPAnimation(ctx context.Context, w io.Writer, frames []WebPFrame, loopCount int, still WebPStillEncoder) error {
	if len(frames) == 0 {
		return errors.New("codec: no frames")
	}
	if loopCount < 0 || loopCount > 0xFFFF {
		return fmt.Errorf("codec: WebP loop count %d is outside 0–65535", loopCount)
	}
	var size image.Point
	for i, f := range frames {
		if err := checkEncodable(f.Image); err != nil {
			return fmt.Errorf("codec: frame %d: %w", i, err)
		}
		if i == 0 {
			size = f.Image.Rect.Size()
			if size.X > webpMaxSide || size.Y > webpMaxSide {
				return fmt.Errorf("codec: %dx%d is too large for WebP (%d px per side)", size.X, size.Y, webpMaxSide)
			}
		} else if s := f.Image.Rect.Size(); s != size {
			return fmt.Errorf("codec: frame %d is %dx%d, the first frame %dx%d", i, s.X, s.Y, size.X, size.Y)
		}
	}
	pl := ctxpoll.New(ctx)
	var (
		out   []webpOutFrame
		total = 12 + 18 + 14 // RIFF header, VP8X, ANIM
		alpha bool
	)
	for i := range frames {
		if err := pl.Err(); err != nil {
			return err
		}
		var prev *image.NRGBA
		if i > 0 {
			prev = frames[i-1].Image
		}
		img, at, blend, err := frameDelta(&pl, frames[i].Image, prev)
		if err != nil {
			return err
		}
		file, err := still(img)
		if err != nil {
			return fmt.Errorf("codec: frame %d: %w", i, err)
		}
		f, err := webpOutChunks(file, img.Rect.Dx(), img.Rect.Dy())
		if err != nil {
			return fmt.Errorf("codec: frame %d: the still encoder's output: %w", i, err)
		}
		f.setHeader(at, img.Rect.Size(), frames[i].Duration, blend)
		alpha = alpha || f.alpha
		total += f.size()
		if total > math.MaxUint32-8 {
			return errors.New("codec: the animation exceeds 4 GiB, the most a WebP file may hold")
		}
		out = append(out, f)
	}
	if err := pl.Err(); err != nil {
		return err
	}
	if g, ok := w.(interface{ Grow(int) }); ok {
		g.Grow(total)
	}
	var hdr [12 + 18 + 14]byte
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(total-8))
	copy(hdr[8:], "WEBP")
	copy(hdr[12:], "VP8X")
	binary.LittleEndian.PutUint32(hdr[16:], 10)
	hdr[20] = webpFlagAnimation
	if alpha {
		hdr[20] |= webpFlagAlpha
	}
	putLE24(hdr[24:], size.X-1)
	putLE24(hdr[27:], size.Y-1)
	copy(hdr[30:], "ANIM")
	binary.LittleEndian.PutUint32(hdr[34:], 6)
	// hdr[38:42], the background colour, stays transparent black.
	putLE16(hdr[42:], loopCount)
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	for _, f := range out {
		if _, err := w.Write(f.header[:]); err != nil {
			return err
		}
		for _, c := range f.chunks {
			if _, err := w.Write(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// webpOutFrame is an ANMF chunk to write: its chunk header and frame
// fields, then the frame's image chunks (slices of the still file, each
// with its chunk header and padding).
type webpOutFrame struct {
	header [8 + anmfHeaderSize]byte
	chunks [][]byte
	alpha  bool // the frame has an ALPH chunk or a VP8L alpha hint
}

// size is the ANMF chunk's size with its header.
func (f *webpOutFrame) size() int {
	n := len(f.header)
	for _, c := range f.chunks {
		n += len(c)
	}
	return n
}

// setHeader fills the ANMF chunk header: at must have even coordinates.
func (f *webpOutFrame) setHeader(at, size image.Point, duration int, blend bool) {
	h := f.header[:]
	copy(h, "ANMF")
	binary.LittleEndian.PutUint32(h[4:], uint32(f.size()-8))
	putLE24(h[8:], at.X/2)
	putLE24(h[11:], at.Y/2)
	putLE24(h[14:], size.X-1)
	putLE24(h[17:], size.Y-1)
	putLE24(h[20:], min(max(duration, 0), maxWebPDuration))
	h[23] = 0 // disposal: none
	if !blend {
		h[23] |= anmfNoBlend
	}
}

// webpOutChunks takes the ALPH (if any) and VP8 or VP8L chunks out of a
// still WebP file whose image must be w×h.
func webpOutChunks(file []byte, w, h int) (webpOutFrame, error) {
	var f webpOutFrame
	if len(file) < 12 || string(file[:4]) != "RIFF" || string(file[8:12]) != "WEBP" {
		return f, errors.New("not a WebP file")
	}
	var alph []byte
	for p := 12; p+8 <= len(file); {
		id := string(file[p : p+4])
		n := int(binary.LittleEndian.Uint32(file[p+4:]))
		if n < 0 || n > len(file)-p-8 {
			return f, fmt.Errorf("%q chunk overruns the file", id)
		}
		end := min(p+8+n+n&1, len(file))
		switch id {
		case "ALPH":
			alph = file[p:end]
		case "VP8 ", "VP8L":
			fw, fh, hint, err := webpImageSize(id, file[p+8:p+8+n])
			if err != nil {
				return f, err
			}
			if fw != w || fh != h {
				return f, fmt.Errorf("image is %dx%d, want %dx%d", fw, fh, w, h)
			}
			if id == "VP8 " && alph != nil {
				f.chunks = append(f.chunks, alph)
				f.alpha = true
			}
			f.alpha = f.alpha || (id == "VP8L" && hint)
			f.chunks = append(f.chunks, file[p:end])
			if len(f.chunks[len(f.chunks)-1])%2 == 1 {
				f.chunks = append(f.chunks, []byte{0}) // the file ended without the padding byte
			}
			return f, nil
		}
		p = end
	}
	return f, errors.New("no VP8 or VP8L chunk")
}

// frameDelta returns what frame cur must code when the canvas shows prev
// (nil for the first frame): the image, its place on the canvas and
// whether it blends (see EncodeWebPAnimation).
func frameDelta(pl *ctxpoll.Poller, cur, prev *image.NRGBA) (*image.NRGBA, image.Point, bool, error) {
	if prev == nil {
		return cur, image.Point{}, false, nil
	}
	w, h := cur.Rect.Dx(), cur.Rect.Dy()
	// The bounding box of the changed pixels, and whether they are all
	// opaque.
	box := image.Rectangle{Min: image.Pt(w, h)}
	opaque := true
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return nil, image.Point{}, false, err
		}
		c := cur.Pix[cur.PixOffset(cur.Rect.Min.X, cur.Rect.Min.Y+y):][:4*w]
		p := prev.Pix[prev.PixOffset(prev.Rect.Min.X, prev.Rect.Min.Y+y):][:4*w]
		for x := 0; x < w; x++ {
			i := 4 * x
			if [4]byte(c[i:i+4]) == [4]byte(p[i:i+4]) {
				continue
			}
			box.Min.X, box.Max.X = min(box.Min.X, x), max(box.Max.X, x+1)
			box.Min.Y, box.Max.Y = min(box.Min.Y, y), max(box.Max.Y, y+1)
			opaque = opaque && c[i+3] == 0xFF
		}
	}
	if box.Empty() {
		// Nothing changed: one transparent pixel keeps the frame.
		return image.NewNRGBA(image.Rect(0, 0, 1, 1)), image.Point{}, true, nil
	}
	box.Min.X &^= 1
	box.Min.Y &^= 1
	out := image.NewNRGBA(image.Rect(0, 0, box.Dx(), box.Dy()))
	for y := range box.Dy() {
		if err := pl.Work(4 * box.Dx()); err != nil {
			return nil, image.Point{}, false, err
		}
		off := 4 * box.Min.X
		c := cur.Pix[cur.PixOffset(cur.Rect.Min.X, cur.Rect.Min.Y+box.Min.Y+y)+off:][:4*box.Dx()]
		dst := out.Pix[y*out.Stride:][:4*box.Dx()]
		if !opaque {
			copy(dst, c)
			continue
		}
		p := prev.Pix[prev.PixOffset(prev.Rect.Min.X, prev.Rect.Min.Y+box.Min.Y+y)+off:][:4*box.Dx()]
		for i := 0; i < len(c); i += 4 {
			if [4]byte(c[i:i+4]) != [4]byte(p[i:i+4]) {
				copy(dst[i:i+4], c[i:i+4])
			} // else stays transparent: the blend keeps the canvas
		}
	}
	return out, box.Min, opaque, nil
}

func putLE24(b []byte, v int) {
	b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16)
}
