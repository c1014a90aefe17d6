package jpegenc

import "io"

// flushSize is the amount of buffered output at which the writer hands its
// bytes to the underlying io.Writer.
const flushSize = 64 << 10

// bitWriter buffers the encoded file. Entropy-coded bits are packed most
// significant bit first, and a zero byte is stuffed after every 0xFF byte
// they produce (T.81 F.1.2.3); marker segments are appended unchanged with
// the byte-aligned methods. The first write error is kept and returned by
// flush; later writes are dropped.
type bitWriter struct {
	w   io.Writer
	buf []byte
	acc uint64 // pending bits, right-aligned; only the low n bits are valid
	n   uint
	err error
}

func (b *bitWriter) reset(w io.Writer) {
	b.w = w
	b.buf = b.buf[:0]
	b.acc, b.n = 0, 0
	b.err = nil
}

// emit appends the low n bits of v (n ≤ 32, higher bits of v must be zero).
func (b *bitWriter) emit(v uint32, n uint) {
	b.acc = b.acc<<n | uint64(v)
	b.n += n
	if b.n >= 32 {
		b.n -= 32
		w := uint32(b.acc >> b.n)
		// Fast path: no byte of w is 0xFF, i.e. no byte of ^w is zero.
		x := ^w
		if (x-0x01010101)&^x&0x80808080 == 0 {
			b.buf = append(b.buf, byte(w>>24), byte(w>>16), byte(w>>8), byte(w))
			return
		}
		for s := 24; s >= 0; s -= 8 {
			c := byte(w >> s)
			b.buf = append(b.buf, c)
			if c == 0xff {
				b.buf = append(b.buf, 0)
			}
		}
	}
}

// align pads the pending bits with 1 bits to a byte boundary and moves them
// to the buffer, as needed at the end of every scan.
func (b *bitWriter) align() {
	if pad := (8 - b.n%8) % 8; pad > 0 {
		b.emit(1<<pad-1, pad)
	}
	for b.n >= 8 {
		b.n -= 8
		c := byte(b.acc >> b.n)
		b.buf = append(b.buf, c)
		if c == 0xff {
			b.buf = append(b.buf, 0)
		}
	}
	b.acc = 0
}

// bytes appends raw, byte-aligned data (marker segments).
func (b *bitWriter) bytes(p ...byte) { b.buf = append(b.buf, p...) }

// u16 appends a big-endian 16-bit value.
func (b *bitWriter) u16(v int) { b.buf = append(b.buf, byte(v>>8), byte(v)) }

// maybeFlush writes the buffer out once it is large enough.
func (b *bitWriter) maybeFlush() {
	if len(b.buf) >= flushSize {
		b.flushBuf()
	}
}

func (b *bitWriter) flushBuf() {
	if b.err == nil && len(b.buf) > 0 {
		_, b.err = b.w.Write(b.buf)
	}
	b.buf = b.buf[:0]
}

// flush writes everything buffered and reports the first write error.
func (b *bitWriter) flush() error {
	b.flushBuf()
	return b.err
}
