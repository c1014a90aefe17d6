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

// bit decodes one boolean whose probability of being false is p/256.
func (d *boolDec) bit(p uint8) bool {
	if d.nbits < 0 {
		d.load()
	}
	n := uint(d.nbits)
	split := (d.rng * uint32(p)) >> 8
	var r uint32
	var b bool
	if uint32(d.value>>n) > split {
		r = d.rng - split
		d.value -= uint64(split+1) << n
		b = true
	} else {
		r = split + 1
	}
	// r is the new range (1..255); renormalise it to 128..255.
	s := 8 - bits.Len32(r)
	d.rng = r<<uint(s) - 1
	d.nbits -= s
	return b
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
