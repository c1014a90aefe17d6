package codec

import (
	"bufio"
	"compress/lzw"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"slices"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// EncodeGIFFrames writes frames as an animated GIF89a. Every frame must have
// the size of the first (the logical screen) and a Delay in 0–65535
// hundredths of a second; loopCount follows image/gif.GIF.LoopCount (−1
// writes no looping extension, so the animation plays once; 0 loops
// forever; 1–65535 is stored as the repetition count).
//
// As in EncodeGIF, pixels with alpha below 128 are transparent and the
// others opaque. Each frame gets its own colour table: exact when the
// pixels it has to paint have at most 255 colours, otherwise median cut
// with Floyd–Steinberg dithering (the quantiser EncodeGIF uses) to 255
// colours; one entry is always the transparent index.
//
// Frames after the first are stored as differences. The encoder keeps the
// canvas a decoder will show and paints only the bounding rectangle of the
// pixels that must change, with disposal method 1 (keep) and the
// transparent index for the unchanged pixels inside it, which also
// compresses better. A pixel counts as unchanged when the canvas already
// shows its exact colour, or when its source colour equals the previous
// frame's and the canvas still shows the quantised colour painted for it
// (so dithered areas that do not change are not repainted and do not
// shimmer). When a frame makes transparent a pixel the canvas shows opaque,
// the previous frame is switched to disposal method 2 (restore to
// background, which browsers and DecodeFrames treat as transparent) with
// its rectangle grown to cover those pixels. Decoding the result with
// DecodeFrames therefore gives back every frame exactly (alpha
// thresholded) when each frame has at most 255 colours.
//
// Memory stays proportional to one frame: the canvas model (4 bytes per
// pixel), the frame being quantised and the previous frame's indices
// (held back until the next frame settles its disposal method).
//
// ctx is polled every few rows of every pass over a frame (see ctxpoll):
// once it is done, EncodeGIFFrames stops, leaving w with part of a file at
// most, and returns ctx.Err().
func EncodeGIFFrames(ctx context.Context, w io.Writer, frames []Frame, loopCount int) error {
	if len(frames) == 0 {
		return errors.New("codec: no frames")
	}
	if loopCount < -1 || loopCount > 0xFFFF {
		return fmt.Errorf("codec: GIF loop count %d is outside −1–65535", loopCount)
	}
	var size image.Point
	for i, f := range frames {
		if err := checkEncodable(f.Image); err != nil {
			return fmt.Errorf("codec: frame %d: %w", i, err)
		}
		if i == 0 {
			size = f.Image.Rect.Size()
			if size.X > 0xFFFF || size.Y > 0xFFFF {
				return fmt.Errorf("codec: %dx%d is too large for GIF", size.X, size.Y)
			}
		} else if s := f.Image.Rect.Size(); s != size {
			return fmt.Errorf("codec: frame %d is %dx%d, the first frame %dx%d", i, s.X, s.Y, size.X, size.Y)
		}
		if f.Delay < 0 || f.Delay > 0xFFFF {
			return fmt.Errorf("codec: frame %d delay %d is outside 0–65535", i, f.Delay)
		}
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	// Header and logical screen descriptor, no global colour table.
	hdr := []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00")
	putLE16(hdr[6:], size.X)
	putLE16(hdr[8:], size.Y)
	bw.Write(hdr)
	if loopCount >= 0 {
		ext := []byte("\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00")
		putLE16(ext[16:], loopCount)
		bw.Write(ext)
	}
	pl := ctxpoll.New(ctx)
	e := gifAnimEncoder{
		w:      bw,
		pl:     &pl,
		canvas: image.NewNRGBA(image.Rectangle{Max: size}),
	}
	for i, f := range frames {
		var prev *image.NRGBA
		if i > 0 {
			prev = frames[i-1].Image
		}
		if err := e.add(f, prev); err != nil {
			return err
		}
	}
	e.flush()
	bw.WriteByte(gifTrailer)
	if e.err != nil {
		return e.err
	}
	return bw.Flush()
}

// putLE16 stores v little-endian in b[0:2].
func putLE16(b []byte, v int) {
	b[0], b[1] = byte(v), byte(v>>8)
}

// gifPendingFrame is an encoded frame whose disposal method is not settled
// until the next frame has been seen.
type gifPendingFrame struct {
	rect     image.Rectangle // on the screen
	pix      []byte          // rect.Dx() × rect.Dy() indices
	pal      [][3]byte
	trans    int // index of the transparent entry
	delay    int
	disposal int
}

// gifAnimEncoder holds the state of one EncodeGIFFrames call.
type gifAnimEncoder struct {
	w      *bufio.Writer
	pl     *ctxpoll.Poller // polled every few rows
	err    error
	canvas *image.NRGBA // what a decoder shows once pend has been drawn
	pend   gifPendingFrame
	has    bool // pend holds a frame
	lzw    *lzw.Writer
	blocks gifBlockWriter
}

// srcPixel returns the 4 bytes of m's pixel (x, y), counted from m's
// top-left corner.
func srcPixel(m *image.NRGBA, x, y int) []byte {
	i := y*m.Stride + 4*x // m.Pix starts at m.Rect.Min
	return m.Pix[i : i+4 : i+4]
}

// add settles the pending frame's disposal against f, writes it, and
// makes f the pending frame. It returns e.pl's error, or the writer's.
func (e *gifAnimEncoder) add(f Frame, prev *image.NRGBA) error {
	src := f.Image
	c := e.canvas
	w, h := c.Rect.Dx(), c.Rect.Dy()

	// Pixels that f makes transparent but the canvas shows opaque can only
	// be cleared by disposing of the pending frame over them.
	if e.has {
		need := image.Rectangle{Min: image.Pt(w, h)} // empty; grows to the bounding box
		for y := range h {
			if err := e.pl.Work(4 * w); err != nil {
				return err
			}
			crow := c.Pix[y*c.Stride:][:4*w]
			srow := src.Pix[y*src.Stride:][:4*w]
			for x := 3; x < len(crow); x += 4 {
				if srow[x] < 0x80 && crow[x] != 0 {
					need.Min.X, need.Max.X = min(need.Min.X, x/4), max(need.Max.X, x/4+1)
					need.Min.Y, need.Max.Y = min(need.Min.Y, y), y+1
				}
			}
		}
		if !need.Empty() {
			e.growPending(e.pend.rect.Union(need))
			e.pend.disposal = gifDisposeBackground
			fillRect(c, e.pend.rect, [4]byte{})
		}
		e.flush()
		if e.err != nil {
			return e.err
		}
	}

	// unchanged reports whether the canvas already shows pixel (x, y).
	unchanged := func(x, y int) bool {
		s := srcPixel(src, x, y)
		cp := c.Pix[y*c.Stride+4*x : y*c.Stride+4*x+4 : y*c.Stride+4*x+4]
		if s[3] < 0x80 {
			return cp[3] == 0 // always true here, after the disposal above
		}
		if cp[3] == 0 {
			return false
		}
		if cp[0] == s[0] && cp[1] == s[1] && cp[2] == s[2] {
			return true
		}
		if prev == nil {
			return false
		}
		q := srcPixel(prev, x, y)
		return q[3] >= 0x80 && q[0] == s[0] && q[1] == s[1] && q[2] == s[2]
	}
	var rect image.Rectangle
	for y := range h {
		if err := e.pl.Work(8 * w); err != nil {
			return err
		}
		x0 := -1
		for x := range w {
			if !unchanged(x, y) {
				x0 = x
				break
			}
		}
		if x0 < 0 {
			continue
		}
		x1 := x0 + 1
		for x := w - 1; x > x0; x-- {
			if !unchanged(x, y) {
				x1 = x + 1
				break
			}
		}
		rect = rect.Union(image.Rect(x0, y, x1, y+1))
	}
	if rect.Empty() {
		rect = image.Rect(0, 0, 1, 1) // one transparent pixel
	}

	// The pixels to paint, with everything else transparent.
	tmp := image.NewNRGBA(image.Rect(0, 0, rect.Dx(), rect.Dy()))
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		if err := e.pl.Work(8 * rect.Dx()); err != nil {
			return err
		}
		out := tmp.Pix[(y-rect.Min.Y)*tmp.Stride:]
		for x := rect.Min.X; x < rect.Max.X; x++ {
			if !unchanged(x, y) {
				s := srcPixel(src, x, y)
				o := out[4*(x-rect.Min.X) : 4*(x-rect.Min.X)+4 : 4*(x-rect.Min.X)+4]
				o[0], o[1], o[2], o[3] = s[0], s[1], s[2], 0xFF
			}
		}
	}
	pm, err := exactGIFPaletted(e.pl, tmp)
	if err != nil {
		return err
	}
	trans := -1
	if pm != nil {
		trans = transparentEntry(pm)
		if trans < 0 && len(pm.Palette) == 256 {
			pm = nil // 256 colours and no room for the transparent entry
		}
	}
	if pm == nil {
		if pm, err = quantize(e.pl, tmp, true); err != nil {
			return err
		}
		trans = transparentEntry(pm)
	}
	pal := make([][3]byte, len(pm.Palette), len(pm.Palette)+1)
	for i, col := range pm.Palette {
		r, g, b, _ := col.RGBA()
		pal[i] = [3]byte{byte(r >> 8), byte(g >> 8), byte(b >> 8)}
	}
	if trans < 0 {
		trans = len(pal)
		pal = append(pal, [3]byte{})
	}
	e.pend = gifPendingFrame{rect: rect, pix: pm.Pix, pal: pal, trans: trans, delay: f.Delay, disposal: gifDisposeKeep}
	e.has = true

	// Draw it, as a decoder will.
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		if err := e.pl.Work(4 * rect.Dx()); err != nil {
			return err
		}
		idx := pm.Pix[(y-rect.Min.Y)*pm.Stride:][:rect.Dx()]
		out := c.Pix[c.PixOffset(rect.Min.X, y):][:4*rect.Dx()]
		for i, k := range idx {
			if int(k) != trans {
				p := pal[k]
				out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = p[0], p[1], p[2], 0xFF
			}
		}
	}
	return nil
}

// transparentEntry returns the index of pm's first fully transparent
// palette entry, or −1.
func transparentEntry(pm *image.Paletted) int {
	for i, c := range pm.Palette {
		if _, _, _, a := c.RGBA(); a == 0 {
			return i
		}
	}
	return -1
}

// growPending enlarges the pending frame to r ⊇ its rectangle, filling the
// new pixels with its transparent index, so that it still paints the same.
func (e *gifAnimEncoder) growPending(r image.Rectangle) {
	p := &e.pend
	if r == p.rect {
		return
	}
	pix := make([]byte, r.Dx()*r.Dy())
	for i := range pix {
		pix[i] = byte(p.trans)
	}
	ow := p.rect.Dx()
	for y := p.rect.Min.Y; y < p.rect.Max.Y; y++ {
		o := (y-r.Min.Y)*r.Dx() + p.rect.Min.X - r.Min.X
		copy(pix[o:o+ow], p.pix[(y-p.rect.Min.Y)*ow:][:ow])
	}
	p.rect, p.pix = r, pix
}

// flush writes the pending frame: graphic control extension, image
// descriptor, local colour table and LZW data. Failures, e.pl's error
// included, are kept in e.err.
func (e *gifAnimEncoder) flush() {
	if !e.has || e.err != nil {
		return
	}
	p := &e.pend
	e.has = false
	bits := 1
	for 1<<bits < len(p.pal) {
		bits++
	}
	// Mark the transparent index only when the frame uses it, so that an
	// opaque animation does not read as transparent (ReadHeader.HasAlpha).
	flags := byte(p.disposal << 2)
	if slices.Contains(p.pix, byte(p.trans)) {
		flags |= gifTransparentBit
	}
	gce := []byte{gifExtension, gifGraphicControl, 4, flags, 0, 0, byte(p.trans), 0}
	putLE16(gce[4:], p.delay)
	desc := make([]byte, 10, 10+3<<bits+1)
	desc[0] = gifImageSeparator
	putLE16(desc[1:], p.rect.Min.X)
	putLE16(desc[3:], p.rect.Min.Y)
	putLE16(desc[5:], p.rect.Dx())
	putLE16(desc[7:], p.rect.Dy())
	desc[9] = gifColorTableFlag | byte(bits-1)
	for i := range 1 << bits {
		var c [3]byte
		if i < len(p.pal) {
			c = p.pal[i]
		}
		desc = append(desc, c[:]...)
	}
	litWidth := max(bits, 2)
	desc = append(desc, byte(litWidth))
	e.w.Write(gce)
	e.w.Write(desc)

	e.blocks.w = e.w
	if e.lzw == nil {
		e.lzw = lzw.NewWriter(&e.blocks, lzw.LSB, litWidth).(*lzw.Writer)
	} else {
		e.lzw.Reset(&e.blocks, lzw.LSB, litWidth)
	}
	// Compressed in slices, polling e.pl between them.
	const slice = 16 << 10
	for pix := p.pix; len(pix) > 0; {
		n := min(len(pix), slice)
		if err := e.pl.Work(4 * n); err != nil {
			e.err = err
			return
		}
		if _, err := e.lzw.Write(pix[:n]); err != nil {
			e.err = err
			return
		}
		pix = pix[n:]
	}
	if err := e.lzw.Close(); err != nil {
		e.err = err
		return
	}
	e.blocks.close()
}

// gifBlockWriter splits a byte stream into data sub-blocks of up to 255
// bytes.
type gifBlockWriter struct {
	w   *bufio.Writer
	buf [256]byte // buf[0] is the length
	n   int
}

// Write implements io.Writer.
func (b *gifBlockWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := copy(b.buf[1+b.n:], p)
		b.n += k
		p = p[k:]
		if b.n == 255 {
			b.emit()
		}
	}
	return total, nil
}

// WriteByte implements io.ByteWriter.
func (b *gifBlockWriter) WriteByte(c byte) error {
	b.buf[1+b.n] = c
	b.n++
	if b.n == 255 {
		b.emit()
	}
	return nil
}

// emit writes the buffered sub-block.
func (b *gifBlockWriter) emit() {
	if b.n == 0 {
		return
	}
	b.buf[0] = byte(b.n)
	b.w.Write(b.buf[:1+b.n])
	b.n = 0
}

// close writes the last sub-block and the terminator.
func (b *gifBlockWriter) close() {
	b.emit()
	b.w.WriteByte(0)
}
