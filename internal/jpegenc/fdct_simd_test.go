package jpegenc

import (
	"math/rand/v2"
	"testing"
)

// TestFDCTSIMD checks that fdctQuant (the SSE2 kernel on amd64 unless
// built with purego) gives exactly the coefficients and mask of
// fdctQuantGo: blocks of noise, smooth gradients, constants (where the
// exact coefficients tie) and the extremes 0 and 255, with quantisation
// tables from 1 to 255 or reciprocals that are powers of two (where other
// coefficients tie), read with a stride.
func TestFDCTSIMD(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const stride = 11
	n := 200000
	if raceEnabled {
		n = 20000
	}
	for i := range n {
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
		if i%3 == 0 {
			// Powers of two: the products keep the coefficients' low bits,
			// so some land exactly halfway between two integers.
			for k := range recip {
				recip[k] = 1 / float32(int(8)<<r.IntN(3))
			}
		}
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

// TestRGBAToYCbCrSIMD checks rgbaToYCbCr (SSE2 on amd64 for multiples of
// 16 pixels) against rgbToYCbCr on every 8-bit value of each channel with
// random others, the eight corners of the cube, and random row lengths.
func TestRGBAToYCbCrSIMD(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	var pix []byte
	for c := range 3 {
		for v := range 256 {
			for range 4 {
				p := []byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}
				p[c] = byte(v)
				pix = append(pix, p...)
			}
		}
	}
	for k := range 8 {
		for range 2 {
			pix = append(pix, byte(k&1*255), byte(k>>1&1*255), byte(k>>2*255), byte(r.IntN(256)))
		}
	}
	for range 2000 {
		pix = append(pix, byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)))
	}
	for _, w := range []int{len(pix) / 4, 1, 15, 16, 17, 31, 33, 1000} {
		off := 4 * r.IntN(len(pix)/4-w+1)
		p := pix[off : off+4*w]
		y, cb, cr := make([]byte, w), make([]byte, w), make([]byte, w)
		rgbaToYCbCr(p, y, cb, cr)
		for x := range w {
			wy, wcb, wcr := rgbToYCbCr(int32(p[4*x]), int32(p[4*x+1]), int32(p[4*x+2]))
			if y[x] != wy || cb[x] != wcb || cr[x] != wcr {
				t.Fatalf("w %d pixel %d %v: got %d %d %d, want %d %d %d", w, x, p[4*x:4*x+4], y[x], cb[x], cr[x], wy, wcb, wcr)
			}
		}
	}
}

// BenchmarkRGBAToYCbCr converts a 1600-pixel row: rgbaToYCbCr (SSE2 on
// amd64) and the rgbToYCbCr loop in the same run.
func BenchmarkRGBAToYCbCr(b *testing.B) {
	r := rand.New(rand.NewPCG(15, 16))
	const w = 1600
	p := make([]byte, 4*w)
	for i := range p {
		p[i] = byte(r.IntN(256))
	}
	y, cb, cr := make([]byte, w), make([]byte, w), make([]byte, w)
	b.Run("rgbaToYCbCr", func(b *testing.B) {
		for b.Loop() {
			rgbaToYCbCr(p, y, cb, cr)
		}
	})
	b.Run("Go", func(b *testing.B) {
		for b.Loop() {
			for x := range w {
				q := p[4*x : 4*x+3 : 4*x+3]
				y[x], cb[x], cr[x] = rgbToYCbCr(int32(q[0]), int32(q[1]), int32(q[2]))
			}
		}
	})
}
