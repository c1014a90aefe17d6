package vp8dec

import (
	"math/rand/v2"
	"testing"

	"github.com/imageopto/imageopto/internal/vp8"
)

// TestTransformsMatch checks addResidual (the SIMD transforms where the
// build has them, the Go ones otherwise, and the Go ones always) against
// vp8.IDCTAdd and vp8.DCAdd, for every block kind, on random pixels and
// coefficients: small, at the SIMD bound, and anywhere in int16 (wide).
func TestTransformsMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	coef := func(limit int) int16 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return int16(rng.IntN(2*limit+1) - limit)
		case 2:
			if rng.IntN(2) == 0 {
				return int16(limit)
			}
			return int16(-limit - 1)
		}
		return int16(rng.IntN(41) - 20)
	}
	for _, tc := range []struct {
		name  string
		kind  uint8
		limit int // coefficients within -limit-1..limit
		only  []int
	}{
		{"dc", kindDC, 32767, []int{0}},
		{"ac3", kindAC3, maxSIMDCoeff, []int{0, 1, 4}},
		{"ac3-wide", kindAC3 | kindWide, 32767, []int{0, 1, 4}},
		{"full", kindFull, maxSIMDCoeff, nil},
		{"full-wide", kindFull | kindWide, 32767, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 20000; i++ {
				var c [16]int16
				if tc.only == nil {
					for k := range c {
						c[k] = coef(tc.limit)
					}
				} else {
					for _, k := range tc.only {
						c[k] = coef(tc.limit)
					}
				}
				var want, got, gotGo [bps * 4]byte
				for k := range want {
					want[k] = byte(rng.IntN(256))
					if i%7 == 0 {
						want[k] = byte(255 * rng.IntN(2)) // clamping both ways
					}
				}
				got, gotGo = want, want
				if tc.kind == kindDC {
					vp8.DCAdd(c[0], want[:], 0, bps)
				} else {
					vp8.IDCTAdd(c[:], want[:], 0, bps)
				}
				addResidual(tc.kind, &c, got[:], 0)
				switch tc.kind &^ kindWide {
				case kindDC:
					dcAdd(c[0], gotGo[:], 0)
				case kindAC3:
					idctAdd3(&c, gotGo[:], 0)
				default:
					idctAdd(&c, gotGo[:], 0)
				}
				for r := 0; r < 4; r++ {
					for x := 0; x < 4; x++ {
						k := r*bps + x
						if got[k] != want[k] || gotGo[k] != want[k] {
							t.Fatalf("coefficients %v: pixel (%d,%d): addResidual %d, Go %d, vp8 %d", c, x, r, got[k], gotGo[k], want[k])
						}
					}
				}
				// Nothing outside the 4×4 block is written.
				for k := range got {
					if k%bps >= 4 && (got[k] != want[k] || gotGo[k] != want[k]) {
						t.Fatalf("byte %d outside the block changed", k)
					}
				}
			}
		})
	}
}

// TestWideBits checks the bound of the SIMD transform's inputs.
func TestWideBits(t *testing.T) {
	for _, tc := range []struct {
		x    int16
		wide bool
	}{
		{0, false}, {2047, false}, {-2048, false}, {2048, true}, {-2049, true},
		{32767, true}, {-32768, true}, {-1, false},
	} {
		if got := wideBits(tc.x) != 0; got != tc.wide {
			t.Errorf("wideBits(%d) != 0 is %v, want %v", tc.x, got, tc.wide)
		}
	}
}
