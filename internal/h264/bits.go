package h264

import "math/bits"

// bitWriter writes a bit string most significant bit first: the raw byte
// sequence payload (RBSP) of one NAL unit.
type bitWriter struct {
	buf []byte
	acc uint64 // pending bits, the last n of them significant
	n   uint
	// counting makes the writer count bits (in count) instead of writing
	// them: how rate-distortion decisions measure a candidate.
	counting bool
	count    int
}

// u writes the low n bits of v (n ≤ 32).
func (w *bitWriter) u(n int, v uint32) {
	if w.counting {
		w.count += n
		return
	}
	if n == 0 {
		return
	}
	w.acc = w.acc<<uint(n) | uint64(v)&(1<<uint(n)-1)
	w.n += uint(n)
	for w.n >= 8 {
		w.n -= 8
		w.buf = append(w.buf, byte(w.acc>>w.n))
	}
}

// flag writes one bit.
func (w *bitWriter) flag(b bool) {
	if b {
		w.u(1, 1)
	} else {
		w.u(1, 0)
	}
}

// ue writes v as an unsigned Exp-Golomb code (ue(v)).
func (w *bitWriter) ue(v uint32) {
	x := uint64(v) + 1
	n := bits.Len64(x)
	if n > 1 {
		w.u(n-1, 0)
	}
	if n > 32 {
		w.u(n-32, uint32(x>>32))
		w.u(32, uint32(x))
		return
	}
	w.u(n, uint32(x))
}

// se writes v as a signed Exp-Golomb code (se(v)): 1, −1, 2, −2 … map to
// 1, 2, 3, 4 ….
func (w *bitWriter) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*int64(v) - 1))
	} else {
		w.ue(uint32(-2 * int64(v)))
	}
}

// code writes a variable-length code from the tables.
func (w *bitWriter) code(c vlc) { w.u(int(c.len), uint32(c.bits)) }

// align writes zero bits up to the next byte boundary.
func (w *bitWriter) align() {
	if w.counting {
		w.count += 7 // at most
		return
	}
	if w.n > 0 {
		w.u(int(8-w.n), 0)
	}
}

// trailing writes rbsp_trailing_bits: a one bit, then zeros to the byte
// boundary.
func (w *bitWriter) trailing() {
	w.u(1, 1)
	w.align()
}

// len is the number of bits written, or counted.
func (w *bitWriter) len() int {
	if w.counting {
		return w.count
	}
	return 8*len(w.buf) + int(w.n)
}

// ueLen and seLen are the sizes in bits of ue(v) and se(v).
func ueLen(v uint32) int { return 2*bits.Len64(uint64(v)+1) - 1 }

func seLen(v int32) int {
	if v > 0 {
		return ueLen(uint32(2*int64(v) - 1))
	}
	return ueLen(uint32(-2 * int64(v)))
}

// NAL unit types used here.
const (
	nalSlice = 1 // coded slice of a non-IDR picture
	nalIDR   = 5 // coded slice of an IDR picture
	nalSPS   = 7
	nalPPS   = 8
)

// nalUnit wraps an RBSP into a NAL unit: the one-byte header, then the
// payload with emulation prevention bytes (0x03 after two zero bytes when
// the next byte is 0–3), so that no start code prefix appears inside.
func nalUnit(refIdc, typ int, rbsp []byte) []byte {
	out := make([]byte, 0, len(rbsp)+len(rbsp)/64+2)
	out = append(out, byte(refIdc<<5|typ))
	zeros := 0
	for _, b := range rbsp {
		if zeros >= 2 && b <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, b)
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}
