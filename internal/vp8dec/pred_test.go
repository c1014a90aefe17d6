package vp8dec

import (
	"math/rand/v2"
	"testing"

	"github.com/imageopto/imageopto/internal/vp8"
)

// TestPred4 compares pred4 with the per-pixel reference for every
// sub-block mode on random neighbours, and checks that it writes nothing
// but the block.
func TestPred4(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const off = 2*bps + 8
	for mode := uint8(0); mode < vp8.NumBModes; mode++ {
		for i := 0; i < 2000; i++ {
			var want [8 * bps]byte
			for k := range want {
				want[k] = byte(rng.IntN(256))
				if i%5 == 0 {
					want[k] = byte(255 * rng.IntN(2))
				}
			}
			got := want
			pred4(got[:], off, mode)
			pred4Ref(want[:], off, mode)
			if got != want {
				for k := range got {
					if got[k] != want[k] {
						t.Fatalf("mode %d: byte %d (row %d, column %d from the block) is %d, want %d",
							mode, k, k/bps-off/bps, k%bps-off%bps, got[k], want[k])
					}
				}
			}
		}
	}
}

// pred4Ref is the byte-at-a-time sub-block prediction pred4 replaced,
// kept as the reference.
func pred4Ref(dst []byte, off int, mode uint8) {
	_ = dst[off+3*bps+3]
	a := dst[off-bps : off-bps+8] // above, then above-right
	p := dst[off-bps-1]
	l0, l1, l2, l3 := dst[off-1], dst[off+bps-1], dst[off+2*bps-1], dst[off+3*bps-1]
	set := func(r, c int, v byte) { dst[off+r*bps+c] = v }
	switch mode {
	case vp8.BDC:
		s := 4
		for i := 0; i < 4; i++ {
			s += int(a[i])
		}
		s += int(l0) + int(l1) + int(l2) + int(l3)
		for r := 0; r < 4; r++ {
			for c := 0; c < 4; c++ {
				set(r, c, byte(s>>3))
			}
		}
	case vp8.BTM:
		ls := [4]byte{l0, l1, l2, l3}
		for r := 0; r < 4; r++ {
			l := int32(ls[r]) - int32(p)
			for c := 0; c < 4; c++ {
				set(r, c, vp8.Clip8(l+int32(a[c])))
			}
		}
	case vp8.BVE:
		v := [4]byte{avg3(p, a[0], a[1]), avg3(a[0], a[1], a[2]), avg3(a[1], a[2], a[3]), avg3(a[2], a[3], a[4])}
		for r := 0; r < 4; r++ {
			copy(dst[off+r*bps:off+r*bps+4], v[:])
		}
	case vp8.BHE:
		v := [4]byte{avg3(p, l0, l1), avg3(l0, l1, l2), avg3(l1, l2, l3), avg3(l2, l3, l3)}
		for r := 0; r < 4; r++ {
			x := v[r]
			set(r, 0, x)
			set(r, 1, x)
			set(r, 2, x)
			set(r, 3, x)
		}
	case vp8.BLD:
		for r := 0; r < 4; r++ {
			for c := 0; c < 4; c++ {
				k := r + c
				if k == 6 {
					set(r, c, avg3(a[6], a[7], a[7]))
				} else {
					set(r, c, avg3(a[k], a[k+1], a[k+2]))
				}
			}
		}
	case vp8.BRD:
		e := [9]byte{l3, l2, l1, l0, p, a[0], a[1], a[2], a[3]}
		for r := 0; r < 4; r++ {
			for c := 0; c < 4; c++ {
				k := c - r + 3
				set(r, c, avg3(e[k], e[k+1], e[k+2]))
			}
		}
	case vp8.BVR:
		set(3, 0, avg3(l2, l1, l0))
		set(2, 0, avg3(l1, l0, p))
		v := avg3(l0, p, a[0])
		set(3, 1, v)
		set(1, 0, v)
		v = avg2(p, a[0])
		set(2, 1, v)
		set(0, 0, v)
		v = avg3(p, a[0], a[1])
		set(3, 2, v)
		set(1, 1, v)
		v = avg2(a[0], a[1])
		set(2, 2, v)
		set(0, 1, v)
		v = avg3(a[0], a[1], a[2])
		set(3, 3, v)
		set(1, 2, v)
		v = avg2(a[1], a[2])
		set(2, 3, v)
		set(0, 2, v)
		set(1, 3, avg3(a[1], a[2], a[3]))
		set(0, 3, avg2(a[2], a[3]))
	case vp8.BVL:
		set(0, 0, avg2(a[0], a[1]))
		set(1, 0, avg3(a[0], a[1], a[2]))
		v := avg2(a[1], a[2])
		set(2, 0, v)
		set(0, 1, v)
		v = avg3(a[1], a[2], a[3])
		set(1, 1, v)
		set(3, 0, v)
		v = avg2(a[2], a[3])
		set(2, 1, v)
		set(0, 2, v)
		v = avg3(a[2], a[3], a[4])
		set(3, 1, v)
		set(1, 2, v)
		v = avg2(a[3], a[4])
		set(2, 2, v)
		set(0, 3, v)
		v = avg3(a[3], a[4], a[5])
		set(3, 2, v)
		set(1, 3, v)
		set(2, 3, avg3(a[4], a[5], a[6]))
		set(3, 3, avg3(a[5], a[6], a[7]))
	case vp8.BHD:
		e := [8]byte{l3, l2, l1, l0, p, a[0], a[1], a[2]}
		// Row r starts 2r pixels further down the edge.
		for r := 0; r < 4; r++ {
			base := 3 - r // e index of the row's left pixel
			set(r, 0, avg2(e[base], e[base+1]))
			set(r, 1, avg3(e[base], e[base+1], e[base+2]))
			if r == 0 {
				set(0, 2, avg3(p, a[0], a[1]))
				set(0, 3, avg3(a[0], a[1], a[2]))
			} else {
				b := base + 1
				set(r, 2, avg2(e[b], e[b+1]))
				set(r, 3, avg3(e[b], e[b+1], e[b+2]))
			}
		}
	case vp8.BHU:
		set(0, 0, avg2(l0, l1))
		set(0, 1, avg3(l0, l1, l2))
		v := avg2(l1, l2)
		set(0, 2, v)
		set(1, 0, v)
		v = avg3(l1, l2, l3)
		set(0, 3, v)
		set(1, 1, v)
		v = avg2(l2, l3)
		set(1, 2, v)
		set(2, 0, v)
		v = avg3(l2, l3, l3)
		set(1, 3, v)
		set(2, 1, v)
		set(2, 2, l3)
		set(2, 3, l3)
		set(3, 0, l3)
		set(3, 1, l3)
		set(3, 2, l3)
		set(3, 3, l3)
	}
}
