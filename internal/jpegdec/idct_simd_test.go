package jpegdec

import (
	"math/rand/v2"
	"testing"
)

// TestIDCTSIMD checks that idct8 and idct8Low (the SSE2 kernels on amd64
// unless built with purego) give exactly the samples of idct8Go: random blocks of
// every density and amplitude, coefficients at and beyond the 16-bit
// limits of the kernel, and blocks whose column pass leaves 16 bits; each
// also with columns 4…7 cleared and cut to zig-zag positions 0…9. It
// writes into a larger buffer with a stride and checks that nothing
// outside the 8×8 block changes.
func TestIDCTSIMD(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	edges := []int32{0, 1, -1, 255, -256, 1023, -1024, 2047, -2048, 4095, -4096,
		32767, -32768, 32768, -32769, 65535, -65536, 1 << 20, -1 << 20,
		1<<31 - 1, -1 << 31}
	const stride = 13
	simd, photo := 0, 0
	n := 300000
	if raceEnabled {
		n = 30000
	}
	for i := range n {
		var in [64]int32
		switch i % 6 {
		case 0: // photo-like: the kernel must take these
			in = *randomBlock(r, []float64{30, 300, 1000}[r.IntN(3)])
		case 1: // sparse, any position, wide values
			for range 1 + r.IntN(8) {
				in[r.IntN(64)] = int32(r.IntN(65536) - 32768)
			}
		case 2: // dense 16-bit
			for k := range in {
				in[k] = int32(r.IntN(65536) - 32768)
			}
		case 3: // dense, amplitude near the column-pass limit
			a := 1 + r.IntN(2000)
			for k := range in {
				in[k] = int32(r.IntN(2*a+1) - a)
			}
		case 4: // edge values
			for range 1 + r.IntN(64) {
				in[r.IntN(64)] = edges[r.IntN(len(edges))]
			}
		default: // one column or row at full scale
			v := int32(r.IntN(65536) - 32768)
			c := r.IntN(8)
			for k := range 8 {
				if r.IntN(2) == 0 {
					in[k*8+c] = v
				} else {
					in[c*8+k] = -v
				}
			}
		}
		var a, b [8 * stride]byte
		for k := range a {
			a[k] = byte(k * 7)
		}
		b = a
		idct8(&in, a[:], stride)
		idct8Go(&in, b[:], stride)
		if a != b {
			t.Fatalf("idct8 %v\n≠ idct8Go %v\nfor %v", a, b, in)
		}
		if idctSIMD {
			var c [64]byte
			if idct8SIMD(&in, &c[0], 8) {
				simd++
			} else if i%6 == 0 {
				photo++
			}
		}
		// The same block with columns 4…7 cleared (the kernel's shorter
		// path for those).
		for k := range in {
			if k%8 >= 4 {
				in[k] = 0
			}
		}
		a = b
		idct8(&in, a[:], stride)
		idct8Go(&in, b[:], stride)
		if a != b {
			t.Fatalf("idct8 %v\n≠ idct8Go %v\nfor %v (columns 0…3)", a, b, in)
		}
		// The same block cut to idct8Low's: zig-zag positions 0…9.
		for z := 10; z < 64; z++ {
			in[zigzag[z]] = 0
		}
		idct8Low(&in, a[:], stride)
		idct8Go(&in, b[:], stride)
		if a != b {
			t.Fatalf("idct8Low %v\n≠ idct8Go %v\nfor %v", a, b, in)
		}
		if idctSIMD && i%6 == 0 {
			var c [64]byte
			if !idct8LowSIMD(&in, &c[0], 8) {
				photo++
			}
		}
	}
	if photo > 0 {
		t.Errorf("the SIMD kernel refused %d photo-like blocks", photo)
	}
	t.Logf("SIMD kernel: %d of %d blocks", simd, n)
}

// BenchmarkIDCT8 runs the full-size inverse DCT on photo-like blocks:
// idct8 (SSE2 on amd64) and idct8Go in the same run.
func BenchmarkIDCT8(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	blocks := make([][64]int32, 256)
	for i := range blocks {
		blocks[i] = *randomBlock(r, 300)
	}
	// Blocks whose nonzero coefficients lie in zig-zag positions 0…9, as
	// the decoder passes to idct8Low.
	low := make([][64]int32, 256)
	for i := range low {
		for z := range 10 {
			if z == 0 || r.IntN(2) == 0 {
				low[i][zigzag[z]] = blocks[i][zigzag[z]]
			}
		}
	}
	// Blocks whose columns 4…7 are zero (38 % of iphone-p3-exif6.jpg's
	// full-shape blocks).
	left := make([][64]int32, 256)
	for i := range left {
		left[i] = blocks[i]
		for k := range left[i] {
			if k%8 >= 4 {
				left[i][k] = 0
			}
		}
	}
	var out [64]byte
	for _, k := range []struct {
		name   string
		f      func(*[64]int32, []byte, int)
		blocks [][64]int32
	}{
		{"full/idct8", idct8, blocks}, {"full/Go", idct8Go, blocks},
		{"left/idct8", idct8, left}, {"left/Go", idct8Go, left},
		{"low/idct8Low", idct8Low, low}, {"low/LowGo", idct8LowGo, low},
	} {
		b.Run(k.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				k.f(&k.blocks[i&255], out[:], 8)
			}
		})
	}
}

// TestIDCT4SIMD checks that idct4 and idct2 (the SSE2 kernels on amd64
// unless built with purego) give exactly the samples of idct4Go and idct2Go: photo-like and
// random blocks of every amplitude, the int32 extremes, and small values
// whose results fall near the clamping limits and on whole numbers.
func TestIDCT4SIMD(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	edges := []int32{0, 1, -1, 1024, -1024, 1016, 32767, -32768, 1 << 24, -1 << 24,
		1<<31 - 1, -1 << 31}
	const stride = 7
	n := 300000
	if raceEnabled {
		n = 30000
	}
	for i := range n {
		var in [16]int32
		switch i % 4 {
		case 0:
			full := randomBlock(r, []float64{30, 300, 1000}[r.IntN(3)])
			for k := range in {
				in[k] = full[k/4*8+k%4]
			}
		case 1:
			a := 1 << r.IntN(31)
			for k := range in {
				in[k] = int32(r.IntN(2*a) - a)
			}
		case 2:
			for range 1 + r.IntN(16) {
				in[r.IntN(16)] = edges[r.IntN(len(edges))]
			}
		default:
			for k := range in {
				in[k] = int32(r.IntN(9) - 4)
			}
			in[0] = int32(r.IntN(2048) - 1024)
		}
		var a, b [4 * stride]byte
		for k := range a {
			a[k] = byte(k * 5)
		}
		b = a
		idct4(&in, a[:], stride)
		idct4Go(&in, b[:], stride)
		if a != b {
			t.Fatalf("idct4 %v\n≠ idct4Go %v\nfor %v", a, b, in)
		}
		// The top-left 2×2 for idct2.
		c := [4]int32{in[0], in[1], in[4], in[5]}
		idct2(&c, a[:], stride)
		idct2Go(&c, b[:], stride)
		if a != b {
			t.Fatalf("idct2 %v\n≠ idct2Go %v\nfor %v", a, b, c)
		}
	}
}

// BenchmarkIDCT4 runs the 1/2-scale inverse DCT on photo-like blocks:
// idct4 (SSE2 on amd64) and idct4Go in the same run.
func BenchmarkIDCT4(b *testing.B) {
	r := rand.New(rand.NewPCG(19, 20))
	blocks := make([][16]int32, 256)
	for i := range blocks {
		full := randomBlock(r, 300)
		for k := range blocks[i] {
			blocks[i][k] = full[k/4*8+k%4]
		}
	}
	var out [16]byte
	for _, k := range []struct {
		name string
		f    func(*[16]int32, []byte, int)
	}{{"idct4", idct4}, {"Go", idct4Go}} {
		b.Run(k.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				k.f(&blocks[i&255], out[:], 4)
			}
		})
	}
	for _, k := range []struct {
		name string
		f    func(*[4]int32, []byte, int)
	}{{"idct2", idct2}, {"idct2Go", idct2Go}} {
		b.Run(k.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				k.f((*[4]int32)(blocks[i&255][:4]), out[:], 4)
			}
		})
	}
}
