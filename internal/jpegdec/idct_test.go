package jpegdec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refIDCT evaluates the T.81 A.3.3 inverse DCT of in (natural order) in
// float64, restricted to the top-left n×n coefficients, and returns the
// mean of each s×s square of the 8×8 result (s = 8/n), level-shifted and
// unrounded. n = 8 is the plain inverse DCT.
func refIDCT(in *[64]int32, n int) []float64 {
	var f [8][8]float64
	for y := range 8 {
		for x := range 8 {
			var sum float64
			for u := range n {
				for v := range n {
					cu, cv := 1.0, 1.0
					if u == 0 {
						cu = 1 / math.Sqrt2
					}
					if v == 0 {
						cv = 1 / math.Sqrt2
					}
					sum += cu * cv * float64(in[u*8+v]) *
						math.Cos(float64((2*y+1)*u)*math.Pi/16) * math.Cos(float64((2*x+1)*v)*math.Pi/16)
				}
			}
			f[y][x] = sum/4 + 128
		}
	}
	s := 8 / n
	out := make([]float64, n*n)
	for y := range n {
		for x := range n {
			var sum float64
			for i := range s {
				for j := range s {
					sum += f[y*s+i][x*s+j]
				}
			}
			out[y*n+x] = sum / float64(s*s)
		}
	}
	return out
}

// randomBlock returns dequantised coefficients like those of a photo: a
// DC term and AC terms that shrink with frequency, many of them zero.
func randomBlock(r *rand.Rand, amp float64) *[64]int32 {
	var b [64]int32
	b[0] = int32(r.IntN(2048) - 1024)
	for i := 1; i < 64; i++ {
		u, v := i/8, i%8
		if r.IntN(3) == 0 {
			continue
		}
		a := amp / float64(1+u+v)
		b[i] = int32(math.Round(r.NormFloat64() * a))
	}
	return &b
}

// TestIDCTAccuracy compares the inverse DCTs with the float reference on
// random blocks: the full-size transform must round to within 1 of the
// exact result (as IEEE 1180 requires), the reduced ones to within 1 of
// the box mean of the reconstruction from the coefficients they keep.
func TestIDCTAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{8, 4, 2, 1} {
		var maxErr, sumErr float64
		exact, count := 0, 0
		for range 3000 {
			in := randomBlock(r, []float64{30, 300, 1000}[r.IntN(3)])
			var out [64]byte
			switch n {
			case 8:
				idct8(in, out[:], 8)
			case 4:
				var c [16]int32
				for u := range 4 {
					for v := range 4 {
						c[u*4+v] = in[u*8+v]
					}
				}
				idct4(&c, out[:], 8)
			case 2:
				c := [4]int32{in[0], in[1], in[8], in[9]}
				idct2(&c, out[:], 8)
			case 1:
				out[0] = idct1(in[0])
			}
			ref := refIDCT(in, n)
			for y := range n {
				for x := range n {
					want := max(0, min(255, ref[y*n+x]))
					e := math.Abs(float64(out[y*8+x]) - want)
					if math.Round(want) == float64(out[y*8+x]) {
						exact++
					}
					count++
					maxErr = max(maxErr, e)
					sumErr += e
				}
			}
		}
		t.Logf("%d×%d: max |error| %.3f, mean %.4f, %.2f%% rounded exactly", n, n, maxErr, sumErr/float64(count), 100*float64(exact)/float64(count))
		if maxErr >= 1 {
			t.Errorf("%d×%d: max error %.3f ≥ 1", n, n, maxErr)
		}
	}
}

// TestIDCTPaths checks that the shortcuts of the full-size transform (DC
// only, top-left 4×4, zero columns and rows) give exactly what the general
// path gives: random blocks with few coefficients, transformed by idct8,
// idct8Low (when they fit) and by a copy of the general formulas.
func TestIDCTPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 200000 {
		var in [64]int32
		limit := 64
		if i%2 == 0 {
			limit = 10 // zig-zag positions of the top-left 4×4
		}
		for range 1 + r.IntN(6) {
			in[zigzag[r.IntN(limit)]] = int32(r.IntN(4001) - 2000)
		}
		var a, b [64]byte
		idct8(&in, a[:], 8)
		generalIDCT8(&in, b[:])
		if a != b {
			t.Fatalf("idct8 %v\n≠ general %v\nfor %v", a, b, in)
		}
		if limit == 10 {
			idct8Low(&in, b[:], 8)
			if a != b {
				t.Fatalf("idct8Low %v\n≠ idct8 %v\nfor %v", b, a, in)
			}
		}
	}
}

// generalIDCT8 is idct8 without shortcuts and with the direct products.
func generalIDCT8(in *[64]int32, dst []byte) {
	pass := func(x *[8]int, bias, shift int) (out [8]int) {
		a0 := (x[0]+x[4])*fc4 + bias
		a1 := (x[0]-x[4])*fc4 + bias
		b0 := x[2]*fc2 + x[6]*fc6
		b1 := x[2]*fc6 - x[6]*fc2
		e := [4]int{a0 + b0, a1 + b1, a1 - b1, a0 - b0}
		o := [4]int{
			x[1]*fc1 + x[3]*fc3 + x[5]*fc5 + x[7]*fc7,
			x[1]*fc3 - x[3]*fc7 - x[5]*fc1 - x[7]*fc5,
			x[1]*fc5 - x[3]*fc1 + x[5]*fc7 + x[7]*fc3,
			x[1]*fc7 - x[3]*fc5 + x[5]*fc3 - x[7]*fc1,
		}
		for n := range 4 {
			out[n], out[7-n] = (e[n]+o[n])>>shift, (e[n]-o[n])>>shift
		}
		return out
	}
	var ws [8][8]int
	for c := range 8 {
		var x [8]int
		for r := range 8 {
			x[r] = int(in[r*8+c])
		}
		col := pass(&x, round1, shift1)
		for r := range 8 {
			ws[r][c] = int(int32(col[r]))
		}
	}
	for r := range 8 {
		row := pass(&ws[r], bias2, shift2)
		for c := range 8 {
			dst[r*8+c] = clamp8(row[c])
		}
	}
}

// TestDCOnly checks that the DC-only shortcut gives what idct8 gives.
func TestDCOnly(t *testing.T) {
	for dc := int32(-40000); dc <= 40000; dc++ {
		var in [64]int32
		in[0] = dc
		var out [64]byte
		idct8(&in, out[:], 8)
		if v := dcOnly8(dc); out[0] != v || out[63] != v {
			t.Fatalf("dc %d: dcOnly8 %d, idct8 %d", dc, v, out[0])
		}
	}
}

// TestZigzag checks the zig-zag table against T.81 Figure A.6.
func TestZigzag(t *testing.T) {
	want := [64]uint8{
		0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
		12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
		35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
		58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
	}
	if zigzag != want {
		t.Errorf("zigzag = %v", zigzag)
	}
}

// TestExtend checks EXTEND (T.81 F.2.2.1) for every size and value.
func TestExtend(t *testing.T) {
	if extend(0, 0) != 0 {
		t.Fatal("extend(0, 0) != 0")
	}
	for s := uint(1); s <= 16; s++ {
		for v := int32(0); v < 1<<s; v++ {
			want := v
			if v < 1<<(s-1) {
				want = v - (1 << s) + 1
			}
			if got := extend(v, s); got != want {
				t.Fatalf("extend(%d, %d) = %d, want %d", v, s, got, want)
			}
		}
	}
}
