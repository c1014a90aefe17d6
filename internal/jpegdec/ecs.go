package jpegdec

import (
	"bytes"
	"encoding/binary"
)

// ecsWindow is the size of the window of unstuffed entropy-coded data the
// AC scans of a progressive frame decode from.
const ecsWindow = 64 << 10

// maxBlockBytes bounds the bytes of entropy-coded data one block of a
// progressive AC scan can take: at most 63 codes of 16 bits with up to 15
// extra bits each (first scans), or 63 codes with a sign bit and up to 63
// correction bits (refinement), and an EOB run length.
const maxBlockBytes = (63*(16+15) + 16 + 14 + 7) / 8

// ecs reads the entropy-coded data of a progressive AC scan, most
// significant bit first, through a window from which the stuffed zero
// bytes (T.81 F.1.2.3) have been removed. The decoding loops keep acc, n
// and pos in local variables and refill the accumulator without a branch
// on the data (refill): the window holds whole blocks' worth of data
// (room), and past the marker that ends the segment it supplies zero bits,
// which overrun detects.
type ecs struct {
	data []byte // the file
	src  int    // next byte of data to unstuff
	end  bool   // src is at the marker that ends the segment, or at the end of data
	// buf holds the unstuffed bytes in buf[:fill], followed by at least
	// 16 zero bytes.
	buf  []byte
	fill int
	// The reader: acc holds the next n ≤ 63 bits of the data, left-aligned
	// (the bits below them are the data's too: a part of the byte at pos),
	// and pos is the next byte of buf to load.
	acc uint64
	n   uint
	pos int
}

// start starts reading the segment of data that begins at src.
func (e *ecs) start(data []byte, src int) {
	if e.buf == nil {
		e.buf = bytePool.get(ecsWindow + 16)
	}
	e.data, e.src, e.end = data, src, false
	e.fill, e.acc, e.n, e.pos = 0, 0, 0, 0
	e.load()
}

// release returns the window to the pool.
func (e *ecs) release() {
	bytePool.put(e.buf)
	e.buf = nil
}

// load unstuffs data into the window, up to its size or to the end of the
// segment.
func (e *ecs) load() {
	w := len(e.buf) - 16
	for e.fill < w && !e.end {
		chunk := e.data[e.src:]
		if len(chunk) > w-e.fill {
			chunk = chunk[:w-e.fill]
		}
		i := bytes.IndexByte(chunk, 0xFF)
		if i < 0 {
			e.fill += copy(e.buf[e.fill:], chunk)
			e.src += len(chunk)
			e.end = e.src == len(e.data)
			continue
		}
		e.fill += copy(e.buf[e.fill:], chunk[:i])
		e.src += i
		if e.src+1 < len(e.data) && e.data[e.src+1] == 0 {
			e.buf[e.fill] = 0xFF
			e.fill++
			e.src += 2
			continue
		}
		e.end = true // a marker
	}
	clear(e.buf[e.fill : e.fill+16])
}

// room returns how many blocks can be decoded before the window must
// slide, at least 1 (it slides the window when needed).
func (e *ecs) room() int {
	if e.end {
		return int(^uint(0) >> 1)
	}
	r := (e.fill - e.pos - 8) / maxBlockBytes
	if r < 1 {
		// Drop the bytes before pos (acc holds what is left of them).
		e.fill = copy(e.buf, e.buf[e.pos:e.fill])
		e.pos = 0
		e.load()
		if e.end {
			return int(^uint(0) >> 1)
		}
		r = (e.fill - 8) / maxBlockBytes
	}
	return r
}

// overrun reports whether the decoder has used bits beyond the end of the
// segment.
func (e *ecs) overrun() bool {
	return e.end && e.pos*8-int(e.n) > e.fill*8
}

// limit returns the largest pos refill may load at: past the data, the
// zero bytes after it.
func (e *ecs) limit() int { return e.fill + 8 }

// refill tops the accumulator up to at least 56 bits, n < 64 and
// lim = e.limit().
func refill(buf []byte, lim int, acc uint64, n uint, pos int) (uint64, uint, int) {
	acc |= binary.BigEndian.Uint64(buf[min(pos, lim):]) >> (n & 63)
	return acc, n | 56, pos + int((63-n)>>3)
}
