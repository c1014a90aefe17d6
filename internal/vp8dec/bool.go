package vp8dec

import (
	"encoding/binary"
	"math/bits"
)

// boolDec is VP8's boolean entropy decoder (RFC 6386 section 7). The
// arithmetic is the RFC's; the bit window is wide: value holds 8+nbits
// unread bits, refilled seven bytes at a time, so that most calls to bit
// neither load nor loop.
//
// rng is the range minus one (127..254 between calls). Reading past the
// end shifts in zeros and sets eof, which the caller turns into an error
// at the next macroblock boundary.
type boolDec struct {
	value uint64
	nbits int // unread bits in value below the top 8; negative: load first
	rng   uint32
	buf   []byte
	pos   int
	eof   bool
}

func (d *boolDec) init(buf []byte) {
	*d = boolDec{buf: buf, rng: 254, nbits: -8}
	d.load()
}

// load refills value; it is called when nbits < 0.
func (d *boolDec) load() {
	if d.pos+8 <= len(d.buf) {
		v := binary.BigEndian.Uint64(d.buf[d.pos:]) >> 8
		d.pos += 7
		d.value = d.value<<56 | v
		d.nbits += 56
		return
	}
	for d.nbits < 0 {
		if d.pos < len(d.buf) {
			d.value = d.value<<8 | uint64(d.buf[d.pos])
			d.pos++
		} else {
			d.value <<= 8
			d.eof = true
		}
		d.nbits += 8
	}
}

// topUp refills value, held in local variables with nbits < 49, with as
// many whole bytes as fit (at least 49 bits then follow the top 8). The
// caller makes sure that 8 bytes remain at pos.
func (d *boolDec) topUp(value uint64, nbits int) (uint64, int) {
	k := uint(56-nbits) >> 3 // 1..7
	w := binary.BigEndian.Uint64(d.buf[d.pos:])
	d.pos += int(k)
	return value<<(8*k&63) | w>>((64-8*k)&63), nbits + int(8*k)
}

// bit decodes one boolean whose probability of being false is p/256.
func (d *boolDec) bit(p uint8) bool {
	if d.nbits < 0 {
		d.load()
	}
	return d.bitLoaded(p)
}

// bitLoaded is bit for a caller that made sure nbits >= 0 (it inlines).
func (d *boolDec) bitLoaded(p uint8) bool {
	n := uint(d.nbits)
	split := (d.rng * uint32(p)) >> 8
	r := split + 1
	b := uint32(d.value>>n) > split
	if b {
		d.value -= uint64(r) << n
		r = d.rng - split
	}
	d.rng = uint32(normRange[uint8(r)])
	d.nbits -= int(normShift[uint8(r)])
	return b
}

// normShift and normRange renormalise a range r (1..255): shifted left by
// normShift[r] it is in 128..255, and normRange[r] is that minus one.
var normShift, normRange [256]uint8

func init() {
	for r := 1; r < 256; r++ {
		s := bits.LeadingZeros8(uint8(r))
		normShift[r] = uint8(s)
		normRange[r] = uint8(r<<s - 1)
	}
}

// bit128 decodes a boolean of even probability.
func (d *boolDec) bit128() uint32 {
	if d.bit(128) {
		return 1
	}
	return 0
}

// literal reads an n-bit unsigned number, most significant bit first.
func (d *boolDec) literal(n int) uint32 {
	var v uint32
	for ; n > 0; n-- {
		v = v<<1 | d.bit128()
	}
	return v
}

// signed reads an n-bit magnitude followed by a sign bit.
func (d *boolDec) signed(n int) int32 {
	v := int32(d.literal(n))
	if d.bit(128) {
		return -v
	}
	return v
}

// flagged reads a flag and, when it is set, a signed n-bit value; 0
// otherwise.
func (d *boolDec) flagged(n int) int32 {
	if !d.bit(128) {
		return 0
	}
	return d.signed(n)
}

// loadV is load for a caller that keeps value and nbits in local
// variables (tokens): it returns them refilled.
func (d *boolDec) loadV(value uint64, nbits int) (uint64, int) {
	d.value, d.nbits = value, nbits
	d.load()
	return d.value, d.nbits
}

// decide is bitLoaded on state held in local variables. The shift counts
// are masked (nbits is 0..56 here) so that the compiler emits bare shifts.
func decide(value uint64, nbits int, rng uint32, p uint8) (uint64, int, uint32, bool) {
	split := (rng * uint32(p)) >> 8
	sh := uint(nbits) & 63
	r := split + 1
	b := uint32(value>>sh) > split
	if b {
		value -= uint64(r) << sh
		r = rng - split
	}
	return value, nbits - int(normShift[uint8(r)]), uint32(normRange[uint8(r)]), b
}
