package codec

import (
	"compress/lzw"
	"context"
	"errors"
	"fmt"
	"github.com/imageopto/imageopto/internal/format"
	"image"
	"io"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Frame is one frame of an animation as it is shown: a full canvas of the
// logical screen, with everything earlier frames left on it.
type Frame struct {
	// Image is the composed canvas, Rect.Min at the origin. Pixels that no
	// frame has painted are transparent (0, 0, 0, 0).
	Image *image.NRGBA
	// Delay is how long the frame is shown, in hundredths of a second, as
	// stored (GIF allows 0–65535; 0 is kept as 0, although browsers show
	// delays of 0 and 1 as 10).
	Delay int
}

// ErrTooManyFrames means that an animation exceeds the frame-count or
// summed-area limit given to DecodeFrames. It wraps ErrCorrupt, so callers
// that only check for ErrCorrupt refuse it like any other undecodable input;
// callers that want to report the limit separately check it first.
var ErrTooManyFrames = fmt.Errorf("%w: animation exceeds the frame limits", ErrCorrupt)

// Disposal methods of the GIF graphic control extension.
const (
	gifDisposeNone       = 0 // not specified: keep
	gifDisposeKeep       = 1
	gifDisposeBackground = 2
	gifDisposePrevious   = 3
	gifDisposePrevious4  = 4 // treated as 3, as Chromium and Firefox do
)

// DecodeFrames decodes every frame of an animated GIF (h from ReadHeader)
// and composes each onto the logical screen the way browsers show it: a
// frame's pixels replace the canvas except where they use the frame's
// transparent index, and after a frame is shown its disposal method is
// applied — 0, 1 and 5–7 keep the canvas, 2 clears the frame's rectangle to
// transparent (browsers ignore the background colour, and so does this), 3
// (and 4, as in Chromium and Firefox) restores the rectangle to what it was
// before the frame was drawn. Every Frame.Image is a separate h.Width ×
// h.Height canvas. loopCount follows image/gif.GIF.LoopCount: −1 when the
// file has no NETSCAPE2.0 (or ANIMEXTS1.0) looping extension, 0 to loop
// forever, otherwise the stored repetition count.
//
// Limits are checked before any pixel is decoded: when h.Frames >
// maxFrames, or h.Frames × h.Width × h.Height > maxTotalPixels, the error
// wraps ErrTooManyFrames (which wraps ErrCorrupt). A non-positive limit
// refuses everything. Once admitted, the result takes 4 × h.Frames ×
// h.Width × h.Height bytes, and decoding needs only one row buffer (at most
// 64 KiB), one saved rectangle for disposal method 3 and the LZW state on
// top: frames are decoded one at a time straight onto their canvas, never
// kept as paletted images.
//
// The frames are parsed here rather than by image/gif.DecodeAll, which has
// no frame limit, keeps every paletted frame, refuses frames that extend
// past the screen and carries a frame's disposal method over to later
// frames that have no graphic control extension. The block walk is the
// same as ReadHeader's, so the frames found never exceed h.Frames. Frames
// extending past the logical screen are clipped; a frame whose declared
// area exceeds the screen's is refused (ErrCorrupt), so no frame decodes
// more pixels than the screen holds. A frame without a local or global
// colour table, a pixel index outside its colour table, an invalid LZW
// stream or an LZW stream that ends before the frame is full are
// ErrCorrupt. When the data simply ends (a truncated download) after at
// least one complete frame, the complete frames are returned; extra LZW
// data after a frame's pixels is ignored, as browsers do.
//
// Other decodable formats give a single frame from Decode, with Delay 0 and
// loopCount −1, under the same limits.
//
// ctx is polled every few rows of every frame (see ctxpoll): once it is
// done, DecodeFrames stops and returns ctx.Err() (not wrapped in
// ErrCorrupt).
func DecodeFrames(ctx context.Context, data []byte, h Header, maxFrames int, maxTotalPixels int64) (frames []Frame, loopCount int, err error) {
	switch {
	case h.Format == "":
		return nil, 0, ErrUnknownFormat
	case !Decodable(h.Format):
		return nil, 0, fmt.Errorf("%w: %s", ErrUnsupportedFormat, h.Format)
	case h.Width <= 0 || h.Height <= 0:
		return nil, 0, corruptf("%s: header has no dimensions", h.Format)
	}
	n := 1
	if h.Format == format.GIF {
		n = h.Frames
		if n < 1 {
			return nil, 0, corruptf("gif: header counts no frames")
		}
	}
	if n > maxFrames {
		return nil, 0, fmt.Errorf("%w: %d frames, limit %d", ErrTooManyFrames, n, maxFrames)
	}
	// h.Width and h.Height are below 2³¹, so area fits in int64; comparing
	// area with maxTotalPixels/n avoids multiplying by n.
	if area := int64(h.Width) * int64(h.Height); maxTotalPixels <= 0 || area > maxTotalPixels/int64(n) {
		return nil, 0, fmt.Errorf("%w: %d frames of %dx%d exceed %d pixels", ErrTooManyFrames, n, h.Width, h.Height, maxTotalPixels)
	}
	if h.Format != format.GIF {
		img, err := Decode(ctx, data, h)
		if err != nil {
			return nil, 0, err
		}
		return []Frame{{Image: img}}, -1, nil
	}
	defer func() {
		if r := recover(); r != nil {
			frames, loopCount, err = nil, 0, corruptf("gif: frame decoder panicked: %v", r)
		}
	}()
	d := gifFrameDecoder{data: data, h: h, loopCount: -1, pl: ctxpoll.New(ctx)}
	if err := d.decode(); err != nil {
		return nil, 0, err
	}
	return d.frames, d.loopCount, nil
}

// errGIFTruncated marks data that ends inside a block.
var errGIFTruncated = errors.New("gif: truncated")

// gifFrameDecoder holds the state of one DecodeFrames call.
type gifFrameDecoder struct {
	data      []byte
	h         Header
	pl        ctxpoll.Poller // polled every few rows
	frames    []Frame
	loopCount int

	global    [256][4]byte // global colour table as NRGBA bytes
	globalLen int          // 0 when there is none

	// Graphic control extension for the next image.
	delay       int
	disposal    int
	transparent int // −1 when none

	// Disposal of the previous frame, applied to the next canvas.
	prevDisposal int
	prevRect     image.Rectangle // clipped to the screen
	saved        []byte          // prevRect's pixels before it was drawn (disposal 3)

	row []byte       // one frame row of palette indices
	lzw *lzw.Reader  // reused across frames
	br  gifSubBlocks // the frame's data sub-blocks
}

// decode walks the blocks after the logical screen descriptor.
func (d *gifFrameDecoder) decode() error {
	data := d.data
	if len(data) < 13 || (string(data[:6]) != "GIF87a" && string(data[:6]) != "GIF89a") {
		return corruptf("gif: bad signature")
	}
	if w, h := int(data[6])|int(data[7])<<8, int(data[8])|int(data[9])<<8; w != d.h.Width || h != d.h.Height {
		return corruptf("gif: data declares %dx%d but the header says %dx%d", w, h, d.h.Width, d.h.Height)
	}
	p := 13
	if flags := data[10]; flags&gifColorTableFlag != 0 {
		n := 2 << (flags & 7)
		if p+3*n > len(data) {
			return corruptf("gif: truncated global colour table")
		}
		readColorTable(&d.global, data[p:p+3*n])
		d.globalLen = n
		p += 3 * n
	}
	d.transparent = -1
	for p < len(data) {
		var err error
		switch data[p] {
		case gifExtension:
			p, err = d.extension(p + 1)
		case gifImageSeparator:
			p, err = d.image(p + 1)
		default: // trailer, or trailing junk as ReadHeader sees it
			p = len(data)
		}
		if err == errGIFTruncated {
			break
		}
		if err != nil {
			return err
		}
	}
	if len(d.frames) == 0 {
		return corruptf("gif: no complete frame")
	}
	return nil
}

// readColorTable copies a GIF colour table into NRGBA entries.
func readColorTable(dst *[256][4]byte, rgb []byte) {
	for i := 0; 3*i+2 < len(rgb) && i < len(dst); i++ {
		dst[i] = [4]byte{rgb[3*i], rgb[3*i+1], rgb[3*i+2], 0xFF}
	}
}

// extension parses the extension whose label is at p and returns the
// offset after it. Only the graphic control and looping extensions matter;
// every extension is skipped by its sub-block lengths, like ReadHeader does.
func (d *gifFrameDecoder) extension(p int) (int, error) {
	data := d.data
	if p >= len(data) {
		return len(data), errGIFTruncated
	}
	label := data[p]
	p++
	if p < len(data) {
		b := data[p+1 : min(p+1+int(data[p]), len(data))] // first sub-block
		switch {
		case label == gifGraphicControl && len(b) >= 4:
			d.disposal = int(b[0]>>2) & 7
			d.delay = int(b[1]) | int(b[2])<<8
			d.transparent = -1
			if b[0]&gifTransparentBit != 0 {
				d.transparent = int(b[3])
			}
		case label == 0xFF && (string(b) == "NETSCAPE2.0" || string(b) == "ANIMEXTS1.0"):
			if q := p + 1 + len(b); q+4 <= len(data) && data[q] == 3 && data[q+1] == 1 {
				d.loopCount = int(data[q+2]) | int(data[q+3])<<8
			}
		}
	}
	p, ok := skipGIFSubBlocks(data, p)
	if !ok {
		return p, errGIFTruncated
	}
	return p, nil
}

// image decodes the image whose descriptor starts at p onto a new canvas
// and returns the offset after its data.
func (d *gifFrameDecoder) image(p int) (int, error) {
	data := d.data
	if len(d.frames) >= d.h.Frames {
		return 0, corruptf("gif: more frames than the header's %d", d.h.Frames)
	}
	if p+9 > len(data) {
		return len(data), d.truncated()
	}
	desc := data[p : p+9]
	p += 9
	left, top := int(desc[0])|int(desc[1])<<8, int(desc[2])|int(desc[3])<<8
	fw, fh := int(desc[4])|int(desc[5])<<8, int(desc[6])|int(desc[7])<<8
	flags := desc[8]

	lut, lutLen := &d.global, d.globalLen
	var local [256][4]byte
	if flags&gifColorTableFlag != 0 {
		n := 2 << (flags & 7)
		if p+3*n > len(data) {
			return len(data), d.truncated()
		}
		readColorTable(&local, data[p:p+3*n])
		lut, lutLen = &local, n
		p += 3 * n
	}
	if lutLen == 0 {
		return 0, corruptf("gif: frame %d has no colour table", len(d.frames))
	}
	screen := image.Rect(0, 0, d.h.Width, d.h.Height)
	if int64(fw)*int64(fh) > int64(d.h.Width)*int64(d.h.Height) {
		return 0, corruptf("gif: frame %d of %dx%d is larger than the %dx%d screen", len(d.frames), fw, fh, d.h.Width, d.h.Height)
	}
	if p >= len(data) {
		return len(data), d.truncated()
	}
	litWidth := int(data[p])
	p++
	if litWidth < 2 || litWidth > 8 {
		return 0, corruptf("gif: LZW minimum code size %d", litWidth)
	}
	// Indices below validLen are valid; like image/gif (and browsers), a
	// transparent index past the table extends it with transparent entries.
	transparent, validLen := d.transparent, lutLen
	if transparent >= validLen {
		validLen = transparent + 1
	}
	disposal, delay := d.disposal, d.delay
	d.disposal, d.delay, d.transparent = 0, 0, -1 // a GCE covers one image only

	// The canvas: the previous one after its frame's disposal.
	canvas := image.NewNRGBA(screen)
	if k := len(d.frames); k > 0 {
		// Copied in slices, polling d.pl between them.
		prev := d.frames[k-1].Image.Pix
		for off := 0; off < len(prev); off += ctxpoll.Interval {
			if err := d.pl.Work(ctxpoll.Interval); err != nil {
				return 0, err
			}
			copy(canvas.Pix[off:], prev[off:min(off+ctxpoll.Interval, len(prev))])
		}
		switch d.prevDisposal {
		case gifDisposeBackground:
			fillRect(canvas, d.prevRect, [4]byte{})
		case gifDisposePrevious, gifDisposePrevious4:
			putRect(canvas, d.prevRect, d.saved)
		}
	}
	frame := image.Rect(left, top, left+fw, top+fh)
	clip := frame.Intersect(screen)
	if disposal == gifDisposePrevious || disposal == gifDisposePrevious4 {
		d.saved = getRect(canvas, clip, d.saved[:0])
	}

	d.br = gifSubBlocks{data: data, p: p}
	if fw > 0 && fh > 0 {
		if d.lzw == nil {
			d.lzw = lzw.NewReader(&d.br, lzw.LSB, litWidth).(*lzw.Reader)
		} else {
			d.lzw.Reset(&d.br, lzw.LSB, litWidth)
		}
		if cap(d.row) < fw {
			d.row = make([]byte, fw)
		}
		row := d.row[:fw]
		interlaced := flags&0x40 != 0
		for i := range fh {
			if err := d.pl.Work(8 * fw); err != nil {
				return 0, err
			}
			if _, err := io.ReadFull(d.lzw, row); err != nil {
				if d.br.truncated {
					return len(data), d.truncated()
				}
				return 0, corruptf("gif: frame %d: reading image data: %v", len(d.frames), err)
			}
			if validLen < 256 {
				for _, c := range row {
					if int(c) >= validLen {
						return 0, corruptf("gif: frame %d: pixel index %d outside the %d-entry colour table", len(d.frames), c, validLen)
					}
				}
			}
			y := top + i
			if interlaced {
				y = top + interlacedRow(i, fh)
			}
			if y >= clip.Min.Y && y < clip.Max.Y {
				drawIndexedRow(canvas, row[clip.Min.X-left:clip.Max.X-left], clip.Min.X, y, lut, transparent)
			}
		}
	}
	end, _ := d.br.skipRest() // the pixels are complete; a cut-off tail is fine
	d.frames = append(d.frames, Frame{Image: canvas, Delay: delay})
	d.prevDisposal, d.prevRect = disposal, clip
	return end, nil
}

// truncated reports the end of the data inside a frame: fatal for the
// first frame, the end of the animation otherwise.
func (d *gifFrameDecoder) truncated() error {
	if len(d.frames) == 0 {
		return corruptf("gif: first frame truncated")
	}
	return errGIFTruncated
}

// interlacedRow maps the i-th stored row of an interlaced image of height
// h to its display row (passes every 8th from 0, every 8th from 4, every
// 4th from 2, every 2nd from 1).
func interlacedRow(i, h int) int {
	if n := (h + 7) / 8; i < n {
		return 8 * i
	} else if i -= n; i < (h+3)/8 {
		return 8*i + 4
	} else if i -= (h + 3) / 8; i < (h+1)/4 {
		return 4*i + 2
	} else {
		return 2*(i-(h+1)/4) + 1
	}
}

// drawIndexedRow paints palette indices onto canvas row y from column x,
// leaving pixels with the transparent index (−1 for none) unchanged.
func drawIndexedRow(canvas *image.NRGBA, idx []byte, x, y int, lut *[256][4]byte, transparent int) {
	out := canvas.Pix[canvas.PixOffset(x, y):][:4*len(idx)]
	for i, c := range idx {
		if int(c) == transparent {
			continue
		}
		copy(out[4*i:4*i+4], lut[c][:])
	}
}

// fillRect sets every pixel of r (inside m's bounds) to c.
func fillRect(m *image.NRGBA, r image.Rectangle, c [4]byte) {
	r = r.Intersect(m.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := m.Pix[m.PixOffset(r.Min.X, y):][:4*r.Dx()]
		for i := 0; i < len(row); i += 4 {
			copy(row[i:i+4], c[:])
		}
	}
}

// getRect appends the pixels of r (inside m's bounds) to buf, row by row.
func getRect(m *image.NRGBA, r image.Rectangle, buf []byte) []byte {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		buf = append(buf, m.Pix[m.PixOffset(r.Min.X, y):][:4*r.Dx()]...)
	}
	return buf
}

// putRect writes pixels saved by getRect back into r.
func putRect(m *image.NRGBA, r image.Rectangle, buf []byte) {
	n := 4 * r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(m.Pix[m.PixOffset(r.Min.X, y):][:n], buf[:n])
		buf = buf[n:]
	}
}

// gifSubBlocks reads the payload of a sequence of data sub-blocks inside
// data, for the LZW decoder.
type gifSubBlocks struct {
	data      []byte
	p         int  // next unread byte
	n         int  // payload bytes left in the current sub-block
	end       bool // the zero-length terminator was read
	truncated bool // the data ended first
}

// ReadByte returns the next payload byte, io.EOF at the terminator and
// io.ErrUnexpectedEOF when the data ends.
func (b *gifSubBlocks) ReadByte() (byte, error) {
	for b.n == 0 {
		if b.end {
			return 0, io.EOF
		}
		if b.p >= len(b.data) {
			b.truncated = true
			return 0, io.ErrUnexpectedEOF
		}
		b.n = int(b.data[b.p])
		b.p++
		if b.n == 0 {
			b.end = true
			return 0, io.EOF
		}
	}
	if b.p >= len(b.data) {
		b.truncated = true
		return 0, io.ErrUnexpectedEOF
	}
	c := b.data[b.p]
	b.p++
	b.n--
	return c, nil
}

// Read implements io.Reader; the LZW decoder uses ReadByte.
func (b *gifSubBlocks) Read(p []byte) (int, error) {
	for i := range p {
		c, err := b.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = c
	}
	return len(p), nil
}

// skipRest skips what is left of the sub-blocks and returns the offset
// after the terminator, or false when the data ends first.
func (b *gifSubBlocks) skipRest() (int, bool) {
	if b.end {
		return b.p, true
	}
	p := b.p + b.n
	b.n = 0
	if p > len(b.data) {
		return len(b.data), false
	}
	return skipGIFSubBlocks(b.data, p)
}
