package jpegdec

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestECS reads segments of entropy-coded data, with stuffed bytes and
// longer than several windows, through ecs the way the decoding loops do
// (refill, room between runs of blocks) and compares the bits with the
// unstuffed data: the window must slide without losing or repeating a bit,
// supply zero bits past the marker, and report the overrun only then.
func TestECS(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int     // unstuffed bytes
		pFF    float64 // share of 0xFF bytes
		marker []byte  // what ends the segment
	}{
		{"short, marker", 100, 0.01, []byte{0xFF, 0xD9}},
		{"windows, marker", 5*ecsWindow + 123, 0.004, []byte{0xFF, 0xD0, 1, 2}},
		{"windows, fill bytes before marker", 3 * ecsWindow, 0.02, []byte{0xFF, 0xFF, 0xFF, 0xD9}},
		{"all 0xFF", 2*ecsWindow + 5, 1, []byte{0xFF, 0xD9}},
		{"end of data", 2*ecsWindow - 7, 0.004, nil},
		{"stray 0xFF at the end", 1000, 0, []byte{0xFF}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.size)))
			want := make([]byte, tc.size)
			data := []byte{0x12, 0x34} // a prefix the segment starts after
			for i := range want {
				b := byte(rng.IntN(255))
				if rng.Float64() < tc.pFF {
					b = 0xFF
				}
				want[i] = b
				data = append(data, b)
				if b == 0xFF {
					data = append(data, 0)
				}
			}
			data = append(data, tc.marker...)
			var e ecs
			defer e.release()
			e.start(data, 2)
			read := 0 // bits read
			for read < 8*tc.size+100 {
				if e.room() < 1 {
					t.Fatal("room < 1")
				}
				buf, lim := e.buf, e.limit()
				// A "block": reads of 1 to 24 bits, up to a block's worth.
				acc, n, pos := e.acc, e.n, e.pos
				for b := 0; b < 8*maxBlockBytes; {
					if n < 32 {
						acc, n, pos = refill(buf, lim, acc, n, pos)
					}
					s := uint(1 + rng.IntN(24))
					got := acc >> (64 - s)
					var exp uint64
					for i := range s {
						bit := uint64(0)
						if j := read + int(i); j < 8*tc.size {
							bit = uint64(want[j/8]>>(7-j%8)) & 1
						}
						exp = exp<<1 | bit
					}
					if got != exp {
						t.Fatalf("bits %d…%d: got %#x, want %#x", read, read+int(s), got, exp)
					}
					acc <<= s
					n -= s
					read += int(s)
					b += int(s)
				}
				e.acc, e.n, e.pos = acc, n, pos
				if over := read > 8*tc.size; e.overrun() != over {
					t.Fatalf("after %d of %d bits: overrun %v", read, 8*tc.size, e.overrun())
				}
			}
			if want := len(data) - len(tc.marker); e.src != want {
				t.Errorf("segment ends at %d, want %d", e.src, want)
			}
			// Exactly to the end: no overrun; one bit more: overrun.
			e.start(data, 2)
			for left := 8 * tc.size; ; {
				e.room()
				acc, n, pos := e.acc, e.n, e.pos
				for b := 0; b < 8*maxBlockBytes && left > 0; {
					if n < 32 {
						acc, n, pos = refill(e.buf, e.limit(), acc, n, pos)
					}
					s := uint(min(left, 1+rng.IntN(24)))
					acc <<= s
					n -= s
					left -= int(s)
					b += int(s)
				}
				e.acc, e.n, e.pos = acc, n, pos
				if left == 0 {
					break
				}
			}
			if e.overrun() {
				t.Fatal("overrun reported at the end of the data")
			}
			if e.n == 0 {
				e.acc, e.n, e.pos = refill(e.buf, e.limit(), e.acc, e.n, e.pos)
			}
			e.acc <<= 1
			e.n--
			if !e.overrun() {
				t.Fatal("no overrun reported one bit past the end of the data")
			}
		})
	}
}

// TestBitTables checks nthBit8 and popcount against the definitions.
func TestBitTables(t *testing.T) {
	for b := range 256 {
		for r := range 8 {
			want := 8
			for p, c := 0, 0; p < 8; p++ {
				if b>>p&1 != 0 {
					if c == r {
						want = p
						break
					}
					c++
				}
			}
			if got := int(nthBit8[r<<8|b]); got != want {
				t.Fatalf("nthBit8[%d<<8|%#x] = %d, want %d", r, b, got, want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(2, 3))
	for range 10000 {
		x := rng.Uint64() & rng.Uint64()
		if got, want := popcount(x), uint(bits.OnesCount64(x)); got != want {
			t.Fatalf("popcount(%#x) = %d, want %d", x, got, want)
		}
	}
}
