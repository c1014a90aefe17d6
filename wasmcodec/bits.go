package wasmcodec

import "errors"

// bitReader reads big-endian bit fields, as the AV1 and HEVC specifications
// write them, remembering the first read past the end (the fields then read
// as zero). Every read is O(1) or, for the variable-length codes, bounded by
// 32 steps.
type bitReader struct {
	b   []byte
	pos int // in bits
	bad bool
}

var errShortBits = errors.New("truncated bitstream header")

// f reads an n-bit unsigned field, n ≤ 32 (the AV1 specification's f(n),
// HEVC's u(n)).
func (r *bitReader) f(n int) uint32 {
	if n == 0 || r.bad {
		return 0
	}
	if r.pos+n > 8*len(r.b) {
		r.bad = true
		return 0
	}
	var v uint64
	for n > 0 {
		byteIdx, bit := r.pos>>3, r.pos&7
		take := min(8-bit, n)
		cur := uint64(r.b[byteIdx]>>(8-bit-take)) & (1<<take - 1)
		v = v<<take | cur
		r.pos += take
		n -= take
	}
	return uint32(v)
}

// flag reads one bit.
func (r *bitReader) flag() bool { return r.f(1) == 1 }

// uvlc reads AV1's variable-length code (§4.10.3).
func (r *bitReader) uvlc() uint32 {
	leading := 0
	for !r.flag() {
		if r.bad {
			return 0
		}
		leading++
		if leading >= 32 {
			// The specification's value for this case; the remaining bits
			// are not read.
			return 1<<32 - 1
		}
	}
	return r.f(leading) + (1<<leading - 1)
}

// ue reads an HEVC unsigned Exp-Golomb code ue(v) (H.265 §9.2). Codes of
// more than 31 leading zeros, which no conforming stream has, mark the
// reader bad.
func (r *bitReader) ue() uint32 {
	leading := 0
	for !r.flag() {
		if r.bad {
			return 0
		}
		if leading++; leading > 31 {
			r.bad = true
			return 0
		}
	}
	return uint32(uint64(1)<<leading - 1 + uint64(r.f(leading)))
}
