package vp8enc

// boolEncoder is VP8's boolean entropy encoder (RFC 6386 section 7): an
// arithmetic coder for binary decisions whose probability of being 0 is
// prob/256. It keeps the lower end of the coding interval in bottom (whose
// top 8 bits are the next byte to write, once count shifts have been made)
// and the interval's width in rng (128..255 between calls). A carry out of
// bottom is added to the bytes already written (add_one_to_output).
type boolEncoder struct {
	buf    []byte
	rng    uint32
	bottom uint32
	count  int // shifts left before the next byte leaves bottom
}

func newBoolEncoder(capacity int) *boolEncoder {
	return &boolEncoder{buf: make([]byte, 0, capacity), rng: 255, count: 24}
}

// norm[r] is how many doublings bring a range r (1..255) back to >= 128.
var norm = func() (t [256]uint8) {
	for r := 1; r < 256; r++ {
		for v := r; v < 128; v <<= 1 {
			t[r]++
		}
	}
	return t
}()

// put codes bit with the probability prob/256 of it being false
// (RFC 6386 section 7.3, write_bool).
func (e *boolEncoder) put(prob uint8, bit bool) {
	split := 1 + ((e.rng-1)*uint32(prob))>>8
	if bit {
		e.bottom += split
		e.rng -= split
	} else {
		e.rng = split
	}
	for n := norm[e.rng]; n > 0; n-- {
		e.rng <<= 1
		if e.bottom&(1<<31) != 0 {
			e.carry()
		}
		e.bottom <<= 1
		e.count--
		if e.count == 0 {
			e.buf = append(e.buf, byte(e.bottom>>24))
			e.bottom &= 1<<24 - 1
			e.count = 8
		}
	}
}

// carry adds one to the bytes written so far.
func (e *boolEncoder) carry() {
	for i := len(e.buf) - 1; i >= 0; i-- {
		if e.buf[i] != 255 {
			e.buf[i]++
			return
		}
		e.buf[i] = 0
	}
}

// putLiteral writes the n-bit unsigned v, most significant bit first, each
// bit at probability 1/2 (RFC 6386 section 7.3 L(n)).
func (e *boolEncoder) putLiteral(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		e.put(128, v>>uint(i)&1 != 0)
	}
}

// finish pushes the pending bits out: coding 32 more zeros at probability
// 1/2 moves every bit of bottom into the output, which the decoder may
// read past the last decision. It returns the partition's bytes.
func (e *boolEncoder) finish() []byte {
	for range 32 {
		e.put(128, false)
	}
	return e.buf
}
