package jpegdec

import (
	"bytes"
	"encoding/binary"
)

// fastBits is the lookahead of the Huffman lookup tables: codes up to this
// long decode with one table access.
const fastBits = 9

// huffTable is a Huffman decoding table (T.81 C and F.2.2.3), built for
// lookahead decoding.
type huffTable struct {
	// fast maps the next fastBits bits of the stream to length<<8|symbol
	// for codes of at most fastBits bits; 0 means a longer code.
	fast [1 << fastBits]uint16
	// acFast, for AC tables, maps the next fastBits bits to a whole
	// coefficient when its code and its extra bits fit in them:
	// value<<16 | run<<8 | code length + extra bits; 0 when they do not.
	acFast [1 << fastBits]int32
	// skip, for AC tables, maps the next fastBits bits to how far a
	// coefficient that is decoded only to be dropped moves the zig-zag
	// position (run + 1; 16 for ZRL, 64 for EOB) << 8 | code length +
	// extra bits, when the code fits in them; 0 otherwise.
	skip [1 << fastBits]uint16
	// first, for AC tables, maps the next fastBits bits to what the first
	// scan of a progressive band needs of a coefficient it does not keep
	// (firstEntry), when the code fits in them; 0 otherwise.
	first [1 << fastBits]uint16
	// ref, for AC tables, maps the next fastBits bits to a new
	// coefficient of a refinement scan (T.81 G.1.2.3: run r, size 1) when
	// its code and its sign bit fit in them: refCoef | sign<<12 | r<<8 |
	// code length + 1, the sign bit 1 for a positive coefficient; 0
	// otherwise.
	ref [1 << fastBits]uint16
	// maxcode[l] is the largest code of length l, or -1; a code c of
	// length l decodes to vals[c+delta[l]] (canonical codes, T.81 C.2).
	maxcode [17]int32
	delta   [17]int32
	vals    [256]byte
	defined bool
}

// build constructs the table from the code-length counts (counts[l] codes
// of length l) and the symbols, in the order DHT lists them.
func (t *huffTable) build(counts *[17]int, vals []byte, ac bool) error {
	*t = huffTable{}
	copy(t.vals[:], vals)
	code, k := 0, 0
	for l := 1; l <= 16; l++ {
		t.delta[l] = int32(k - code)
		t.maxcode[l] = -1
		for range counts[l] {
			if code >= 1<<l {
				return corrupt("bad Huffman table: too many codes")
			}
			if l <= fastBits {
				sh := fastBits - l
				e := uint16(l<<8) | uint16(vals[k])
				for i := code << sh; i < (code+1)<<sh; i++ {
					t.fast[i] = e
				}
			}
			t.maxcode[l] = int32(code)
			code++
			k++
		}
		code <<= 1
	}
	if ac {
		for p, e := range t.fast {
			if e == 0 {
				continue
			}
			l, sym := int(e>>8), int(e&255)
			r, s := sym>>4, sym&15
			inc := r + 1
			if s == 0 {
				inc = 64 // EOB
				if r == 15 {
					inc = 16 // ZRL
				}
			}
			t.skip[p] = uint16(inc<<8 | (l + s))
			t.first[p] = uint16(firstEntry(uint(l), uint(sym)))
			if s == 1 && l < fastBits {
				sign := p >> (fastBits - l - 1) & 1
				t.ref[p] = uint16(refCoef | sign<<12 | r<<8 | (l + 1))
			}
			if s == 0 || l+s > fastBits {
				continue
			}
			v := int32(p>>(fastBits-l-s)) & (1<<s - 1)
			v = extend(v, uint(s))
			t.acFast[p] = v<<16 | int32(r)<<8 | int32(l+s)
		}
	}
	t.defined = true
	return nil
}

// refCoef flags the entries of huffTable.ref.
const refCoef = 1 << 13

// Kinds of AC symbols in a firstEntry.
const (
	firstCoef = 1 + iota // a coefficient after a run of zeros
	firstZRL             // sixteen zeros
	firstEOB             // an end of band, or the start of an EOB run
)

// firstEntry describes the AC symbol sym of an l-bit code for the first
// scan of a progressive band: kind<<12 | run<<8 | the bits it takes (the
// code and, for a coefficient, its extra bits; for an EOB run, its length
// bits).
func firstEntry(l, sym uint) uint {
	r, s := sym>>4, sym&15
	switch {
	case s != 0:
		return firstCoef<<12 | r<<8 | (l + s)
	case r == 15:
		return firstZRL<<12 | r<<8 | l
	}
	return firstEOB<<12 | r<<8 | (l + r)
}

// slow decodes a code longer than fastBits from the top bits of acc,
// which must hold at least 16 valid bits. It returns the symbol and the
// code length, or length 0 for a bit pattern that is no code.
func (t *huffTable) slow(acc uint64) (sym, length uint) {
	for l := uint(fastBits + 1); l <= 16; l++ {
		c := int32(acc >> (64 - l))
		if c <= t.maxcode[l] {
			return uint(t.vals[(c+t.delta[l])&255]), l
		}
	}
	return 0, 0
}

// extend converts the s extra bits v of a coefficient to its value
// (T.81 F.2.2.1, EXTEND): values below 1<<(s−1) are negative, v − 2^s + 1.
// It is branchless, and gives 0 for s = 0 (v is 0 then).
func extend(v int32, s uint) int32 {
	return v + (v-1<<(s-1))>>31&(-1<<s+1)
}

// bitReader reads the entropy-coded segment of a scan, most significant
// bit first, removing stuffed zero bytes (T.81 F.1.2.3). At a marker or at
// the end of the data it supplies zero bits and counts them in zeros; a
// decoder that has consumed more bits than the segment holds has
// zeros > n.
type bitReader struct {
	data  []byte
	pos   int    // next byte to read
	acc   uint64 // the next n bits of the stream, left-aligned
	n     uint
	zeros uint // zero bits supplied past the end of the segment
}

// reset starts reading at pos with an empty accumulator.
func (b *bitReader) reset(data []byte, pos int) {
	*b = bitReader{data: data, pos: pos}
}

// overrun reports whether the decoder has used bits beyond the end of the
// segment.
func (b *bitReader) overrun() bool { return b.zeros > b.n }

const (
	ones8 = 0x0101010101010101
	high8 = 0x8080808080808080
)

// fill tops the accumulator up to at least 57 bits.
func (b *bitReader) fill() {
	for b.n <= 56 {
		if b.pos+8 <= len(b.data) {
			x := binary.BigEndian.Uint64(b.data[b.pos:])
			if y := ^x; (y-ones8)&^y&high8 == 0 { // no 0xFF byte
				k := (64 - b.n) >> 3
				b.acc |= x >> b.n
				b.n += k << 3
				b.pos += int(k)
				b.acc &= ^uint64(0) << ((64 - b.n) & 63)
				return
			}
		}
		var c byte
		if b.pos < len(b.data) {
			c = b.data[b.pos]
			if c != 0xFF {
				b.pos++
			} else if b.pos+1 < len(b.data) && b.data[b.pos+1] == 0 {
				b.pos += 2
			} else {
				c = 0 // a marker: stay in front of it
				b.zeros += 8
			}
		} else {
			b.zeros += 8
		}
		b.acc |= uint64(c) << (56 - b.n)
		b.n += 8
	}
}

// findFF returns the position of the first 0xFF byte at or after pos, or
// -1.
func findFF(data []byte, pos int) int {
	if pos >= len(data) {
		return -1
	}
	i := bytes.IndexByte(data[pos:], 0xFF)
	if i < 0 {
		return -1
	}
	return pos + i
}
