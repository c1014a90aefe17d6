package codec

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"io"
	"strconv"
	"sync"

	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/format"
)

// The PNG row decoder. image/png inflates the whole image into a buffer of
// its own type (a palette image into an *image.Paletted, 16-bit images
// into 8 bytes a pixel), which Decode then converts into the NRGBA the
// pipeline works on: two full-size images, the second of them 4 bytes a
// pixel even when the output is a small thumbnail. This decoder inflates
// and unfilters one row at a time and converts it to NRGBA right away (a
// palette is looked up there, never expanded into an image of its own),
// either into the full-size result or, at a reduction, into the running
// sums of scale×scale boxes: its memory is two rows of the file, a row of
// sums and the result.
//
// It takes every non-interlaced PNG (all colour types and bit depths,
// tRNS); Adam7-interlaced files go to image/png. Its pixels are those of
// image/png followed by Decode's conversion: palette indices beyond the
// palette are opaque black, 16-bit samples are rounded to 8 bits, a tRNS
// colour key makes matching pixels transparent (compared as image/png
// does: the low byte of each key sample at 8 bits and below, the whole
// sample at 16 bits).

// maxPNGScale is the largest reduction DecodePNGScaled takes: the box sums
// of a 64×64 block of premultiplied 8-bit samples fit in 32 bits.
const maxPNGScale = 64

// PNGScaledSize is the size DecodePNGScaled returns for a w×h image at
// 1/scale: each side divided by scale, rounded up (the last box of a row
// or column may be narrower).
func PNGScaledSize(w, h, scale int) (int, int) {
	return (w + scale - 1) / scale, (h + scale - 1) / scale
}

// DecodePNGScaled decodes a non-interlaced PNG whose header h was returned
// by ReadHeader, at 1/scale of its size (scale 1 to 64): each pixel is the
// mean of a scale×scale box of the image (weighted by alpha, so that the
// colour of transparent pixels does not bleed), of PNGScaledSize. At scale
// 1 it is Decode's result for the file. It checks, before allocating, that
// data still declares h's dimensions; it allocates the result and a few
// rows of the file. Errors wrap ErrCorrupt, or ErrUnsupportedFormat for an
// interlaced file; it polls ctx once per row and returns ctx.Err() when it
// stops.
func DecodePNGScaled(ctx context.Context, data []byte, h Header, scale int) (*image.NRGBA, error) {
	if h.Format != format.PNG || scale < 1 || scale > maxPNGScale {
		return nil, errors.New("codec: DecodePNGScaled needs a PNG header and a scale from 1 to 64")
	}
	f, err := parsePNGFile(data)
	if err != nil {
		return nil, err
	}
	if f.w != h.Width || f.h != h.Height {
		return nil, corruptf("png: data declares %dx%d but the header says %dx%d", f.w, f.h, h.Width, h.Height)
	}
	if f.interlaced {
		return nil, fmt.Errorf("%w: png: an interlaced file is not decoded row by row", ErrUnsupportedFormat)
	}
	return f.decode(ctx, data, scale)
}

// pngFile is what the chunks before the image data say.
type pngFile struct {
	w, h       int
	depth, ct  byte
	interlaced bool
	// lut is the palette with tRNS alpha, indices beyond it opaque black.
	lut [256][4]byte
	// key is the tRNS colour key of a grey or truecolour image (raw
	// samples as stored), hasKey whether there is one.
	key    [3]uint16
	hasKey bool
	// alpha: some pixels may be transparent (an alpha channel, a colour
	// key, or a palette entry that is not opaque).
	alpha bool
	// idat is the offset of the first IDAT chunk in the file, idatBytes
	// the length of all IDAT data.
	idat      int
	idatBytes int64
}

// parsePNGFile walks every chunk up to IEND, checking lengths, CRCs and
// the order image/png requires (IHDR first; PLTE, then tRNS, before the
// image data; the IDAT chunks that hold the image data one after the
// other; IEND last), and reads IHDR, PLTE and tRNS. It allocates nothing.
func parsePNGFile(data []byte) (*pngFile, error) {
	if len(data) < 8 || string(data[:8]) != "\x89PNG\r\n\x1a\n" {
		return nil, corruptf("png: not a PNG signature")
	}
	f := &pngFile{idat: -1}
	for i := range f.lut {
		f.lut[i] = [4]byte{0, 0, 0, 0xFF}
	}
	const (
		start = iota
		seenIHDR
		seenPLTE
		seentRNS
		seenIDAT
	)
	stage := start
	paletted := false
	for p := 8; ; {
		if len(data)-p < 12 {
			return nil, corruptf("png: truncated before IEND")
		}
		n := binary.BigEndian.Uint32(data[p:])
		if n > 1<<31-1 || uint64(n) > uint64(len(data)-p-12) {
			return nil, corruptf("png: chunk of %d bytes runs past the end", n)
		}
		typ := string(data[p+4 : p+8])
		body := data[p+8 : p+8+int(n)]
		if crc32.ChecksumIEEE(data[p+4:p+8+int(n)]) != binary.BigEndian.Uint32(data[p+8+int(n):]) {
			return nil, corruptf("png: %q chunk fails its CRC", typ)
		}
		chunk := p
		p += 12 + int(n)
		switch typ {
		case "IHDR":
			if stage != start || n != 13 {
				return nil, corruptf("png: misplaced or bad IHDR")
			}
			stage = seenIHDR
			w, ht := binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:])
			if w == 0 || ht == 0 || w > 1<<31-1 || ht > 1<<31-1 {
				return nil, corruptf("png: invalid dimensions %dx%d", w, ht)
			}
			f.w, f.h, f.depth, f.ct = int(w), int(ht), body[8], body[9]
			if !pngValidDepth(f.ct, f.depth) {
				return nil, corruptf("png: invalid bit depth %d for colour type %d", f.depth, f.ct)
			}
			if body[10] != 0 || body[11] != 0 || body[12] > 1 {
				return nil, corruptf("png: unsupported compression, filter or interlace method")
			}
			f.interlaced = body[12] == 1
			paletted = f.ct == pngPaletted
			f.alpha = f.ct == pngGrayAlpha || f.ct == pngRGBA
		case "PLTE":
			if stage != seenIHDR {
				return nil, corruptf("png: misplaced PLTE")
			}
			stage = seenPLTE
			np := int(n / 3)
			if n%3 != 0 || np == 0 || np > 256 || np > 1<<f.depth {
				return nil, corruptf("png: bad PLTE length %d", n)
			}
			switch f.ct {
			case pngPaletted:
				for i := range np {
					f.lut[i] = [4]byte{body[3*i], body[3*i+1], body[3*i+2], 0xFF}
				}
			case pngTrueColor, pngRGBA: // allowed, and ignored
			default:
				return nil, corruptf("png: PLTE in a grey image")
			}
		case "tRNS":
			switch {
			case paletted && stage != seenPLTE,
				(f.ct == pngTrueColor || f.ct == pngRGBA) && stage != seenIHDR && stage != seenPLTE,
				!paletted && f.ct != pngTrueColor && f.ct != pngRGBA && stage != seenIHDR:
				return nil, corruptf("png: misplaced tRNS")
			}
			stage = seentRNS
			switch f.ct {
			case pngPaletted:
				if n > 256 {
					return nil, corruptf("png: bad tRNS length %d", n)
				}
				// Entries past the palette stay black, with this alpha.
				for i, a := range body {
					f.lut[i][3] = a
					f.alpha = f.alpha || a != 0xFF
				}
			case pngGray:
				if n != 2 {
					return nil, corruptf("png: bad tRNS length %d", n)
				}
				f.key[0], f.hasKey, f.alpha = binary.BigEndian.Uint16(body), true, true
			case pngTrueColor:
				if n != 6 {
					return nil, corruptf("png: bad tRNS length %d", n)
				}
				f.key = [3]uint16{binary.BigEndian.Uint16(body), binary.BigEndian.Uint16(body[2:]), binary.BigEndian.Uint16(body[4:])}
				f.hasKey, f.alpha = true, true
			default:
				return nil, corruptf("png: tRNS in an image with an alpha channel")
			}
		case "IDAT":
			if stage < seenIHDR || (stage == seenIHDR && paletted) {
				return nil, corruptf("png: misplaced IDAT")
			}
			if stage != seenIDAT {
				stage, f.idat = seenIDAT, chunk
			}
			f.idatBytes += int64(n)
		case "IEND":
			if stage != seenIDAT {
				return nil, corruptf("png: IEND before the image data")
			}
			return f, nil
		}
	}
}

// idatReader reads the data of consecutive IDAT chunks from a file whose
// chunks parsePNGFile checked. It is a flate.Reader (ReadByte), so the
// inflater reads it without a buffer of its own.
type idatReader struct {
	data     []byte
	pos, end int // unread data of the current chunk: data[pos:end]
	next     int // offset of the chunk after it
}

// errShortIDAT is the reader's error when the image data ends early.
var errShortIDAT = errors.New("png: not enough image data")

// fill moves to the next IDAT chunk with data.
func (r *idatReader) fill() error {
	for r.pos == r.end {
		p := r.next
		if len(r.data)-p < 12 || string(r.data[p+4:p+8]) != "IDAT" {
			return errShortIDAT
		}
		n := int(binary.BigEndian.Uint32(r.data[p:]))
		r.pos, r.end, r.next = p+8, p+8+n, p+12+n
	}
	return nil
}

func (r *idatReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if err := r.fill(); err != nil {
		return 0, err
	}
	n := copy(b, r.data[r.pos:r.end])
	r.pos += n
	return n, nil
}

func (r *idatReader) ReadByte() (byte, error) {
	if r.pos == r.end {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	b := r.data[r.pos]
	r.pos++
	return b, nil
}

// inflaters pools zlib readers (each holds a 32 KiB window and tables).
var inflaters sync.Pool // of io.ReadCloser (zlib.Resetter)

// emptyZlib is a complete zlib stream of no data (the header, an empty
// final deflate block, the Adler-32 of nothing).
var emptyZlib = []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}

// decode inflates the image data of f (which data holds) row by row.
func (f *pngFile) decode(ctx context.Context, data []byte, scale int) (*image.NRGBA, error) {
	ir := &idatReader{data: data, next: f.idat}
	var zr io.ReadCloser
	if v, ok := inflaters.Get().(io.ReadCloser); ok {
		if err := v.(zlib.Resetter).Reset(ir, nil); err != nil {
			inflaters.Put(v)
			return nil, corruptf("png: %v", err)
		}
		zr = v
	} else {
		var err error
		if zr, err = zlib.NewReader(ir); err != nil {
			return nil, corruptf("png: %v", err)
		}
	}
	defer func() {
		// Point the pooled inflater at an empty stream, so that it does
		// not keep the file alive: a reset onto a reader without a valid
		// zlib header fails before it resets the decompressor.
		zr.(zlib.Resetter).Reset(bytes.NewReader(emptyZlib), nil)
		inflaters.Put(zr)
	}()

	channels := 1 // grey, palette
	switch f.ct {
	case pngTrueColor:
		channels = 3
	case pngGrayAlpha:
		channels = 2
	case pngRGBA:
		channels = 4
	}
	bitsPP := channels * int(f.depth)
	rowLen := (f.w*bitsPP + 7) / 8
	bpp := max(bitsPP/8, 1)
	// Deflate expands at most 1032:1, so image data too short for the
	// rows the header declares is refused before anything is allocated (a
	// 50 MP header over a few bytes would otherwise cost 200 MB first).
	if need := int64(rowLen+1) * int64(f.h); need > 1032*f.idatBytes+1032 {
		return nil, corruptf("png: %d bytes of image data cannot hold %dx%d pixels", f.idatBytes, f.w, f.h)
	}
	rows := make([]byte, 2*(rowLen+1)+4*f.w)
	cur, prev, rgba := rows[:rowLen+1], rows[rowLen+1:2*(rowLen+1)], rows[2*(rowLen+1):]

	ow, oh := PNGScaledSize(f.w, f.h, scale)
	dst := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	var box *boxSums
	if scale > 1 {
		box = newBoxSums(f.w, scale, f.alpha)
	}
	pl := ctxpoll.New(ctx)
	for y := range f.h {
		if err := pl.Work(2*rowLen + 8*f.w); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(zr, cur); err != nil {
			if errors.Is(err, io.EOF) {
				err = errShortIDAT
			}
			return nil, corruptf("png: row %d: %v", y, err)
		}
		if err := unfilter(cur[0], cur[1:], prev[1:], bpp); err != nil {
			return nil, err
		}
		out := rgba
		if box == nil {
			out = dst.Pix[y*dst.Stride : y*dst.Stride+4*f.w]
		}
		f.toNRGBA(out, cur[1:])
		if box != nil {
			box.add(out)
			if last := y == f.h-1; last || (y+1)%scale == 0 {
				oy := y / scale
				box.emit(dst.Pix[oy*dst.Stride : oy*dst.Stride+4*ow])
			}
		}
		cur, prev = prev, cur
	}
	// The zlib stream must end here (its checksum is checked at its end).
	var one [1]byte
	n, err := zr.Read(one[:])
	for i := 0; n == 0 && err == nil && i < 100; i++ {
		n, err = zr.Read(one[:])
	}
	switch {
	case n != 0:
		return nil, corruptf("png: too much image data")
	case err == nil:
		return nil, corruptf("png: image data does not end")
	case err != io.EOF:
		return nil, corruptf("png: %v", err)
	}
	return dst, nil
}

// unfilter undoes the filter of type ft on row cur, whose previous
// (unfiltered) row is prev, with pixels bpp bytes apart.
func unfilter(ft byte, cur, prev []byte, bpp int) error {
	prev = prev[:len(cur)]
	switch ft {
	case ftNone:
	case ftSub:
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case ftUp:
		for i, p := range prev {
			cur[i] += p
		}
	case ftAverage:
		for i := 0; i < bpp && i < len(cur); i++ {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += byte((uint(cur[i-bpp]) + uint(prev[i])) / 2)
		}
	case ftPaeth:
		// One channel at a time, so that the left (a) and upper-left (c)
		// samples stay in registers.
		n := len(cur)
		for i := 0; i < bpp && i < n; i++ {
			a, c := 0, 0
			for j := i; j < n; j += bpp {
				b := int(prev[j])
				pa, pb := b-c, a-c // p−a and p−b, for p = a+b−c
				pc := absInt(pa + pb)
				pa, pb = absInt(pa), absInt(pb)
				switch {
				case pa <= pb && pa <= pc:
				case pb <= pc:
					a = b
				default:
					a = c
				}
				a = (a + int(cur[j])) & 0xFF
				cur[j] = byte(a)
				c = b
			}
		}
	default:
		return corruptf("png: bad filter type %d", ft)
	}
	return nil
}

// absInt returns |x|.
func absInt(x int) int {
	m := x >> (strconv.IntSize - 1)
	return (x ^ m) - m
}

// toNRGBA converts one unfiltered row src into 4*f.w bytes of dst.
func (f *pngFile) toNRGBA(dst, src []byte) {
	w := f.w
	dst = dst[:4*w]
	switch {
	case f.ct == pngPaletted && f.depth == 8:
		src = src[:w]
		for x, i := range src {
			copy(dst[4*x:4*x+4], f.lut[i][:])
		}
	case f.ct == pngPaletted:
		d := uint(f.depth)
		mask := byte(1)<<d - 1
		for x := range w {
			bit := uint(x) * d
			i := src[bit/8] >> (8 - d - bit%8) & mask
			copy(dst[4*x:4*x+4], f.lut[i][:])
		}
	case f.ct == pngGray && f.depth < 8:
		d := uint(f.depth)
		mask := byte(1)<<d - 1
		mul := 0xFF / mask
		key := byte(f.key[0]) * mul // as image/png: the low byte, scaled
		for x := range w {
			bit := uint(x) * d
			v := (src[bit/8] >> (8 - d - bit%8) & mask) * mul
			a := byte(0xFF)
			if f.hasKey && v == key {
				a = 0
			}
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = v, v, v, a
		}
	case f.ct == pngGray && f.depth == 8:
		src = src[:w]
		key := byte(f.key[0])
		for x, v := range src {
			a := byte(0xFF)
			if f.hasKey && v == key {
				a = 0
			}
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = v, v, v, a
		}
	case f.ct == pngGray:
		src = src[:2*w]
		for x := range w {
			s := binary.BigEndian.Uint16(src[2*x:])
			v, a := to8(s), byte(0xFF)
			if f.hasKey && s == f.key[0] {
				a = 0
			}
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = v, v, v, a
		}
	case f.ct == pngGrayAlpha && f.depth == 8:
		src = src[:2*w]
		for x := range w {
			v, a := src[2*x], src[2*x+1]
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = v, v, v, a
		}
	case f.ct == pngGrayAlpha:
		src = src[:4*w]
		for x := range w {
			v, a := to8(binary.BigEndian.Uint16(src[4*x:])), to8(binary.BigEndian.Uint16(src[4*x+2:]))
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = v, v, v, a
		}
	case f.ct == pngTrueColor && f.depth == 8:
		src = src[:3*w]
		kr, kg, kb := byte(f.key[0]), byte(f.key[1]), byte(f.key[2])
		for x := range w {
			s := src[3*x : 3*x+3 : 3*x+3]
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = s[0], s[1], s[2], 0xFF
			if f.hasKey && s[0] == kr && s[1] == kg && s[2] == kb {
				p[3] = 0
			}
		}
	case f.ct == pngTrueColor:
		src = src[:6*w]
		for x := range w {
			s := src[6*x : 6*x+6 : 6*x+6]
			r, g, b := binary.BigEndian.Uint16(s), binary.BigEndian.Uint16(s[2:]), binary.BigEndian.Uint16(s[4:])
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = to8(r), to8(g), to8(b), 0xFF
			if f.hasKey && r == f.key[0] && g == f.key[1] && b == f.key[2] {
				p[3] = 0
			}
		}
	case f.depth == 8: // RGBA
		copy(dst, src[:4*w])
	default: // RGBA, 16 bits
		src = src[:8*w]
		for i := range dst {
			dst[i] = to8(binary.BigEndian.Uint16(src[2*i:]))
		}
	}
}

// boxSums adds rows of NRGBA pixels into boxes scale pixels wide, and
// turns them into the boxes' mean pixels: alpha-weighted (sums of
// premultiplied colour and of alpha) when the image may have transparent
// pixels.
type boxSums struct {
	w, scale int
	alpha    bool
	sums     []uint32 // 4 per box
	rows     int      // rows added since the last emit
}

func newBoxSums(w, scale int, alpha bool) *boxSums {
	ow := (w + scale - 1) / scale
	return &boxSums{w: w, scale: scale, alpha: alpha, sums: make([]uint32, 4*ow)}
}

// add adds one row (4*w bytes).
func (b *boxSums) add(row []byte) {
	s := b.scale
	sums := b.sums
	for bx := 0; bx < len(sums)/4; bx++ {
		x0, x1 := bx*s, min(bx*s+s, b.w)
		px := row[4*x0 : 4*x1]
		var r, g, bl, a uint32
		if b.alpha {
			for i := 0; i < len(px); i += 4 {
				p := px[i : i+4 : i+4]
				al := uint32(p[3])
				r += uint32(p[0]) * al
				g += uint32(p[1]) * al
				bl += uint32(p[2]) * al
				a += al
			}
		} else {
			for i := 0; i < len(px); i += 4 {
				p := px[i : i+4 : i+4]
				r += uint32(p[0])
				g += uint32(p[1])
				bl += uint32(p[2])
			}
		}
		q := sums[4*bx : 4*bx+4 : 4*bx+4]
		q[0] += r
		q[1] += g
		q[2] += bl
		q[3] += a
	}
	b.rows++
}

// emit writes the boxes' mean pixels into out and clears the sums.
func (b *boxSums) emit(out []byte) {
	s := b.scale
	n := len(b.sums) / 4
	for bx := range n {
		q := b.sums[4*bx : 4*bx+4 : 4*bx+4]
		p := out[4*bx : 4*bx+4 : 4*bx+4]
		count := uint32((min(bx*s+s, b.w) - bx*s) * b.rows)
		if !b.alpha {
			inv := 1 / float32(count)
			p[0] = byte(float32(q[0])*inv + 0.5)
			p[1] = byte(float32(q[1])*inv + 0.5)
			p[2] = byte(float32(q[2])*inv + 0.5)
			p[3] = 0xFF
		} else if a := q[3]; a == 0 {
			p[0], p[1], p[2], p[3] = 0, 0, 0, 0
		} else {
			inv := 1 / float32(a)
			p[0] = byte(min(float32(q[0])*inv+0.5, 255))
			p[1] = byte(min(float32(q[1])*inv+0.5, 255))
			p[2] = byte(min(float32(q[2])*inv+0.5, 255))
			p[3] = byte((a + count/2) / count)
		}
		q[0], q[1], q[2], q[3] = 0, 0, 0, 0
	}
	b.rows = 0
}
