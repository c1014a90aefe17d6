package jpegenc

import (
	"math/rand/v2"
	"testing"
)

// TestFDCTSIMD checks that fdctQuant (the SSE2 kernel on amd64 unless
// built with purego) gives exactly the coefficients and mask of
// fdctQuantGo: blocks of noise, smooth gradients, constants (where the
// exact coefficients tie) and the extremes 0 and 255, with quantisation
// tables from 1 to 255, read with a stride.
func TestFDCTSIMD(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const stride = 11
	for i := range 200000 {
		var q [64]uint8
		switch i % 4 {
		case 0:
			for k := range q {
				q[k] = 1
			}
		case 1:
			for k := range q {
				q[k] = uint8(1 + r.IntN(255))
			}
		default:
			s := 1 + r.IntN(40)
			for k := range q {
				q[k] = uint8(min(255, s*(1+k/8+k%8)/2+1))
			}
		}
		recip := quantRecip(&q)
		src := make([]byte, 7*stride+8)
		switch i % 5 {
		case 0: // noise
			for k := range src {
				src[k] = byte(r.IntN(256))
			}
		case 1: // gradient plus a little noise
			a, b, c := r.IntN(9)-4, r.IntN(9)-4, r.IntN(256)
			for y := range 8 {
				for x := range 8 {
					src[y*stride+x] = byte(max(0, min(255, c+a*x+b*y+r.IntN(3)-1)))
				}
			}
		case 2: // constant: the exact coefficients can tie
			v := byte(r.IntN(256))
			for k := range src {
				src[k] = v
			}
			if r.IntN(2) == 0 {
				src[r.IntN(8)*stride+r.IntN(8)] ^= byte(1 << r.IntN(8))
			}
		case 3: // the extremes
			for k := range src {
				src[k] = byte(r.IntN(2) * 255)
			}
		default: // few distinct values, sharp edges
			v := [3]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}
			for k := range src {
				src[k] = v[r.IntN(3)]
			}
		}
		var a, b [64]int16
		ma := fdctQuant(src, stride, &q, &recip, &a)
		mb := fdctQuantGo(src, stride, &q, &recip, &b)
		if a != b || ma != mb {
			t.Fatalf("fdctQuant %v mask %x\n≠ fdctQuantGo %v mask %x\nfor %v, q %v", a, ma, b, mb, src, q)
		}
	}
}

// BenchmarkFDCTQuant runs the forward DCT and quantisation on photo-like
// blocks: fdctQuant (SSE2 on amd64) and fdctQuantGo in the same run.
func BenchmarkFDCTQuant(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 12))
	const w = 8 * 64
	plane := make([]byte, w*8)
	for y := range 8 {
		for x := range w {
			plane[y*w+x] = byte(max(0, min(255, 128+(x%37)*2-y*3+r.IntN(9)-4)))
		}
	}
	var q [64]uint8
	for k := range q {
		q[k] = uint8(2 + k/8 + k%8)
	}
	recip := quantRecip(&q)
	var dst [64]int16
	for _, k := range []struct {
		name string
		f    func([]byte, int, *[64]uint8, *[64]float32, *[64]int16) uint64
	}{{"fdctQuant", fdctQuant}, {"Go", fdctQuantGo}} {
		b.Run(k.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				k.f(plane[(i&63)*8:], w, &q, &recip, &dst)
			}
		})
	}
}
