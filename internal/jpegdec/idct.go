package jpegdec

import "math"

// Inverse DCTs (T.81 A.3.3). With C(0) = 1/√2 and C(k) = 1 otherwise, the
// samples of an 8×8 block are
//
//	f(y, x) = 1/4 ΣuΣv C(u)C(v) F(u, v) cos((2y+1)uπ/16) cos((2x+1)vπ/16).
//
// The full-size transform evaluates it exactly, separably, in fixed point.
// The reduced transforms evaluate the mean of f over 2×2, 4×4 or 8×8 pixel
// squares, restricted to the coefficients they keep. Averaging the one
// dimensional basis function over 2 neighbouring pixels gives
//
//	½[cos((4m+1)kπ/16) + cos((4m+3)kπ/16)] = cos(kπ/16) · cos((2m+1)kπ/8),
//
// so the 4-point output m is a 4-point cosine transform of the first four
// coefficients weighted by cos(kπ/16); the dropped coefficients 5…7 would
// only add their aliases (coefficient 4 adds nothing). Over 4 pixels the
// weight is ½[cos(kπ/16) + cos(3kπ/16)] with cos((2m+1)kπ/4), and over all 8
// only the DC term is left: F(0,0)/8.

// Fixed-point cosines for the full-size transform: cos(kπ/16)·2^13.
const (
	fc1 = 8035
	fc2 = 7568
	fc3 = 6811
	fc4 = 5793
	fc5 = 4551
	fc6 = 3135
	fc7 = 1598

	constBits = 13
	pass1Bits = 3 // fraction bits kept between the passes
	shift1    = constBits - pass1Bits
	shift2    = constBits + pass1Bits + 2 // + 2: the 1/4 of the 2-D formula
	round1    = 1 << (shift1 - 1)
	bias2     = 128<<shift2 + 1<<(shift2-1) // level shift (T.81 A.3.1) and rounding
)

// clamp8 clamps v to a sample value.
func clamp8(v int) byte {
	if uint(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return byte(v)
}

// idct8 computes the full 8×8 inverse DCT of the dequantised coefficients
// in (natural order) and writes the level-shifted samples to dst (rows
// stride bytes apart): with SSE2 on amd64 when the block allows it (see
// idct8SIMD), otherwise with idct8Go. Both give the same samples.
func idct8(in *[64]int32, dst []byte, stride int) {
	if idctSIMD {
		_ = dst[7*stride+7]
		if idct8SIMD(in, &dst[0], stride) {
			return
		}
	}
	idct8Go(in, dst, stride)
}

// idct8Go is idct8 in Go.
//
// Each one-dimensional pass splits the 8-point transform
// s[n] = Σk C(k) X[k] cos((2n+1)kπ/16) into an even part (coefficients
// 0, 2, 4, 6; itself a 4-point transform) and an odd part (1, 3, 5, 7):
// s[n] = e[n] + o[n] and s[7−n] = e[n] − o[n] for n = 0…3, where, with
// ck = cos(kπ/16),
//
//	o0 = c1·x1 + c3·x3 + c5·x5 + c7·x7 = P(x1, x7; c1, c7) + P(x3, x5; c3, c5)
//	o1 = c3·x1 − c7·x3 − c1·x5 − c5·x7 = Q(x1, x7; c5, c3) − P(x3, x5; c7, c1)
//	o2 = c5·x1 − c1·x3 + c7·x5 + c3·x7 = P(x1, x7; c5, c3) − Q(x3, x5; c7, c1)
//	o3 = c7·x1 − c5·x3 + c3·x5 − c1·x7 = Q(x1, x7; c1, c7) − Q(x3, x5; c3, c5)
//
// for the rotations P(x, y; a, b) = a·x + b·y and Q(x, y; a, b) = b·x − a·y,
// which share t = b·(x+y): P = t + (a−b)·x, Q = t − (a+b)·y. The odd part
// takes 12 products instead of 16, the even part 5 instead of 6. Columns
// or rows whose AC terms (or upper halves) are zero take shortcuts that
// give the same results.
func idct8Go(in *[64]int32, dst []byte, stride int) {
	var ws [64]int32
	for c := range 8 {
		x0, x1, x2, x3 := int(in[c]), int(in[8+c]), int(in[16+c]), int(in[24+c])
		x4, x5, x6, x7 := int(in[32+c]), int(in[40+c]), int(in[48+c]), int(in[56+c])
		if x1|x2|x3|x4|x5|x6|x7 == 0 {
			v := int32((x0*fc4 + round1) >> shift1)
			ws[c], ws[8+c], ws[16+c], ws[24+c] = v, v, v, v
			ws[32+c], ws[40+c], ws[48+c], ws[56+c] = v, v, v, v
			continue
		}
		if x4|x5|x6|x7 == 0 { // only the low half: half the products
			a0 := x0*fc4 + round1
			b0, b1 := x2*fc2, x2*fc6
			e0, e3 := a0+b0, a0-b0
			e1, e2 := a0+b1, a0-b1
			o0 := x1*fc1 + x3*fc3
			o1 := x1*fc3 - x3*fc7
			o2 := x1*fc5 - x3*fc1
			o3 := x1*fc7 - x3*fc5
			ws[c], ws[56+c] = int32((e0+o0)>>shift1), int32((e0-o0)>>shift1)
			ws[8+c], ws[48+c] = int32((e1+o1)>>shift1), int32((e1-o1)>>shift1)
			ws[16+c], ws[40+c] = int32((e2+o2)>>shift1), int32((e2-o2)>>shift1)
			ws[24+c], ws[32+c] = int32((e3+o3)>>shift1), int32((e3-o3)>>shift1)
			continue
		}
		a0 := (x0+x4)*fc4 + round1
		a1 := (x0-x4)*fc4 + round1
		b0, b1 := rotEven(x2, x6)
		e0, e3 := a0+b0, a0-b0
		e1, e2 := a1+b1, a1-b1
		// The odd part, as four 3-product rotations (see idct8).
		s17, s35 := x1+x7, x3+x5
		ta, tb := s17*fc7, s35*fc5
		pa, qa := ta+x1*fc1m7, ta-x7*fc1p7
		pb, qb := tb+x3*fc3m5, tb-x5*fc3p5
		tc, td := s17*fc3, s35*fc1
		pc, qc := tc-x1*fc3m5, tc-x7*fc3p5
		pd, qd := td-x3*fc1m7, td-x5*fc1p7
		o0, o1, o2, o3 := pa+pb, qc-pd, pc-qd, qa-qb
		ws[c], ws[56+c] = int32((e0+o0)>>shift1), int32((e0-o0)>>shift1)
		ws[8+c], ws[48+c] = int32((e1+o1)>>shift1), int32((e1-o1)>>shift1)
		ws[16+c], ws[40+c] = int32((e2+o2)>>shift1), int32((e2-o2)>>shift1)
		ws[24+c], ws[32+c] = int32((e3+o3)>>shift1), int32((e3-o3)>>shift1)
	}
	for r := range 8 {
		y := (*[8]int32)(ws[r*8:])
		out := (*[8]byte)(dst[r*stride:])
		x0, x1, x2, x3 := int(y[0]), int(y[1]), int(y[2]), int(y[3])
		x4, x5, x6, x7 := int(y[4]), int(y[5]), int(y[6]), int(y[7])
		if x1|x2|x3|x4|x5|x6|x7 == 0 {
			v := clamp8((x0*fc4 + bias2) >> shift2)
			*out = [8]byte{v, v, v, v, v, v, v, v}
			continue
		}
		if x4|x5|x6|x7 == 0 {
			a0 := x0*fc4 + bias2
			b0, b1 := x2*fc2, x2*fc6
			e0, e3 := a0+b0, a0-b0
			e1, e2 := a0+b1, a0-b1
			o0 := x1*fc1 + x3*fc3
			o1 := x1*fc3 - x3*fc7
			o2 := x1*fc5 - x3*fc1
			o3 := x1*fc7 - x3*fc5
			out[0], out[7] = clamp8((e0+o0)>>shift2), clamp8((e0-o0)>>shift2)
			out[1], out[6] = clamp8((e1+o1)>>shift2), clamp8((e1-o1)>>shift2)
			out[2], out[5] = clamp8((e2+o2)>>shift2), clamp8((e2-o2)>>shift2)
			out[3], out[4] = clamp8((e3+o3)>>shift2), clamp8((e3-o3)>>shift2)
			continue
		}
		a0 := (x0+x4)*fc4 + bias2
		a1 := (x0-x4)*fc4 + bias2
		b0, b1 := rotEven(x2, x6)
		e0, e3 := a0+b0, a0-b0
		e1, e2 := a1+b1, a1-b1
		// The odd part, as four 3-product rotations (see idct8).
		s17, s35 := x1+x7, x3+x5
		ta, tb := s17*fc7, s35*fc5
		pa, qa := ta+x1*fc1m7, ta-x7*fc1p7
		pb, qb := tb+x3*fc3m5, tb-x5*fc3p5
		tc, td := s17*fc3, s35*fc1
		pc, qc := tc-x1*fc3m5, tc-x7*fc3p5
		pd, qd := td-x3*fc1m7, td-x5*fc1p7
		o0, o1, o2, o3 := pa+pb, qc-pd, pc-qd, qa-qb
		out[0], out[7] = clamp8((e0+o0)>>shift2), clamp8((e0-o0)>>shift2)
		out[1], out[6] = clamp8((e1+o1)>>shift2), clamp8((e1-o1)>>shift2)
		out[2], out[5] = clamp8((e2+o2)>>shift2), clamp8((e2-o2)>>shift2)
		out[3], out[4] = clamp8((e3+o3)>>shift2), clamp8((e3-o3)>>shift2)
	}
}

// idct8Low is idct8 for blocks whose nonzero coefficients all lie in the
// top-left 4×4 (zig-zag positions up to 9 always do). Its results are
// those of idct8: the SSE2 kernel idct8LowSIMD when it takes the block,
// otherwise idct8LowGo.
func idct8Low(in *[64]int32, dst []byte, stride int) {
	if idctSIMD {
		_ = dst[7*stride+7]
		if idct8LowSIMD(in, &dst[0], stride) {
			return
		}
	}
	idct8LowGo(in, dst, stride)
}

// idct8LowGo is idct8Low in Go: it skips the zero half of every pass.
func idct8LowGo(in *[64]int32, dst []byte, stride int) {
	var ws [32]int32 // columns 0…3 of the column pass, row-major 8×4
	for c := range 4 {
		x0, x1, x2, x3 := int(in[c]), int(in[8+c]), int(in[16+c]), int(in[24+c])
		if x1|x2|x3 == 0 {
			v := int32((x0*fc4 + round1) >> shift1)
			ws[c], ws[4+c], ws[8+c], ws[12+c] = v, v, v, v
			ws[16+c], ws[20+c], ws[24+c], ws[28+c] = v, v, v, v
			continue
		}
		a0 := x0*fc4 + round1
		b0, b1 := x2*fc2, x2*fc6
		e0, e3 := a0+b0, a0-b0
		e1, e2 := a0+b1, a0-b1
		o0 := x1*fc1 + x3*fc3
		o1 := x1*fc3 - x3*fc7
		o2 := x1*fc5 - x3*fc1
		o3 := x1*fc7 - x3*fc5
		ws[c], ws[28+c] = int32((e0+o0)>>shift1), int32((e0-o0)>>shift1)
		ws[4+c], ws[24+c] = int32((e1+o1)>>shift1), int32((e1-o1)>>shift1)
		ws[8+c], ws[20+c] = int32((e2+o2)>>shift1), int32((e2-o2)>>shift1)
		ws[12+c], ws[16+c] = int32((e3+o3)>>shift1), int32((e3-o3)>>shift1)
	}
	for r := range 8 {
		y := (*[4]int32)(ws[r*4:])
		out := (*[8]byte)(dst[r*stride:])
		x0, x1, x2, x3 := int(y[0]), int(y[1]), int(y[2]), int(y[3])
		a0 := x0*fc4 + bias2
		b0, b1 := x2*fc2, x2*fc6
		e0, e3 := a0+b0, a0-b0
		e1, e2 := a0+b1, a0-b1
		o0 := x1*fc1 + x3*fc3
		o1 := x1*fc3 - x3*fc7
		o2 := x1*fc5 - x3*fc1
		o3 := x1*fc7 - x3*fc5
		out[0], out[7] = clamp8((e0+o0)>>shift2), clamp8((e0-o0)>>shift2)
		out[1], out[6] = clamp8((e1+o1)>>shift2), clamp8((e1-o1)>>shift2)
		out[2], out[5] = clamp8((e2+o2)>>shift2), clamp8((e2-o2)>>shift2)
		out[3], out[4] = clamp8((e3+o3)>>shift2), clamp8((e3-o3)>>shift2)
	}
}

// Sums and differences of the fixed-point cosines for the rotations,
// exact in the rounded constants, so that the rotations compute exactly
// the products of the direct form (and the shortcuts agree with them).
const (
	fc1m7 = fc1 - fc7
	fc1p7 = fc1 + fc7
	fc3m5 = fc3 - fc5
	fc3p5 = fc3 + fc5
	fc2m6 = fc2 - fc6
	fc2p6 = fc2 + fc6
)

// rotEven returns the even-part rotation of (x2, x6): cos(2π/16)·x2 +
// cos(6π/16)·x6 and cos(6π/16)·x2 − cos(2π/16)·x6, in 3 products instead
// of 4: with t = b(x+y), ax + by = t + (a−b)x and bx − ay = t − (a+b)y.
func rotEven(x2, x6 int) (int, int) {
	t := (x2 + x6) * fc6
	return t + x2*fc2m6, t - x6*fc2p6
}

// dcOnly8 is the sample value of every pixel of a block whose AC
// coefficients are all zero, computed exactly as idct8 would.
func dcOnly8(dc int32) byte {
	v := (int(dc)*fc4 + round1) >> shift1
	return clamp8((v*fc4 + bias2) >> shift2)
}

// fill8 sets an 8×8 block of dst to v.
func fill8(dst []byte, stride int, v byte) {
	for r := range 8 {
		*(*[8]byte)(dst[r*stride:]) = [8]byte{v, v, v, v, v, v, v, v}
	}
}

// Weights of the reduced transforms, per dimension, with the 1/2 of the
// normalisation, C(k) and the box-filter weights folded in; the 2-D table
// is the outer product. w4 also folds the 1/√2 of cos((2m+1)2π/8) and w2
// the 1/√2 of cos((2m+1)π/4), so that the passes only add and rotate.
var (
	w4 [16]float32
	w2 [4]float32
)

// Rotation of the 4-point odd part: cos(π/8) and cos(3π/8).
var (
	k1 = float32(math.Cos(math.Pi / 8))
	k3 = float32(math.Cos(3 * math.Pi / 8))
)

func init() {
	c := func(k float64) float64 { return math.Cos(k * math.Pi / 16) }
	a4 := [4]float64{
		math.Sqrt2 / 4,        // C(0)/2
		c(1) / 2,              // box weight cos(π/16)
		c(2) / 2 / math.Sqrt2, // box weight cos(2π/16), cos(π/4)
		c(3) / 2,              // box weight cos(3π/16)
	}
	for u := range 4 {
		for v := range 4 {
			w4[u*4+v] = float32(a4[u] * a4[v])
		}
	}
	a2 := [2]float64{
		math.Sqrt2 / 4,
		(c(1) + c(3)) / 2 / 2 / math.Sqrt2,
	}
	for u := range 2 {
		for v := range 2 {
			w2[u*2+v] = float32(a2[u] * a2[v])
		}
	}
}

// clampf rounds down and clamps v (already offset by 128.5) to a sample.
func clampf(v float32) byte {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return byte(v)
}

// idct4 computes the 4×4 pixels of a block at 1/2 scale from its top-left
// 4×4 dequantised coefficients (natural order of the 4×4 grid): with SSE2
// on amd64 (idct4SIMD, the same float32 operations), otherwise idct4Go.
func idct4(in *[16]int32, dst []byte, stride int) {
	if idctSIMD {
		_ = dst[3*stride+3]
		idct4SIMD(in, &dst[0], stride)
		return
	}
	idct4Go(in, dst, stride)
}

// idct4Go is idct4 in Go.
//
// Every product is rounded to float32 by an explicit conversion, which
// keeps the compiler from fusing it with the following addition where the
// target has FMA (arm64; amd64 with GOAMD64=v3): the samples are then the
// same on every architecture and those of idct4SIMD.
func idct4Go(in *[16]int32, dst []byte, stride int) {
	var ws [16]float32
	for c := range 4 {
		y0 := float32(float32(in[c]) * w4[c])
		y1 := float32(float32(in[4+c]) * w4[4+c])
		y2 := float32(float32(in[8+c]) * w4[8+c])
		y3 := float32(float32(in[12+c]) * w4[12+c])
		e0, e1 := y0+y2, y0-y2
		o0, o1 := float32(k1*y1)+float32(k3*y3), float32(k3*y1)-float32(k1*y3)
		ws[c], ws[12+c] = e0+o0, e0-o0
		ws[4+c], ws[8+c] = e1+o1, e1-o1
	}
	for r := range 4 {
		y := (*[4]float32)(ws[r*4:])
		out := (*[4]byte)(dst[r*stride:])
		e0, e1 := y[0]+y[2]+128.5, y[0]-y[2]+128.5
		o0, o1 := float32(k1*y[1])+float32(k3*y[3]), float32(k3*y[1])-float32(k1*y[3])
		out[0], out[3] = clampf(e0+o0), clampf(e0-o0)
		out[1], out[2] = clampf(e1+o1), clampf(e1-o1)
	}
}

// idct2 computes the 2×2 pixels of a block at 1/4 scale from its top-left
// 2×2 dequantised coefficients: with SSE2 on amd64 (idct2SIMD, the same
// float32 operations), otherwise idct2Go.
func idct2(in *[4]int32, dst []byte, stride int) {
	if idctSIMD {
		_ = dst[stride+1]
		idct2SIMD(in, &dst[0], stride)
		return
	}
	idct2Go(in, dst, stride)
}

// idct2Go is idct2 in Go.
// (The conversions keep the products from being fused, as in idct4Go.)
func idct2Go(in *[4]int32, dst []byte, stride int) {
	g00 := float32(float32(in[0]) * w2[0])
	g01 := float32(float32(in[1]) * w2[1])
	g10 := float32(float32(in[2]) * w2[2])
	g11 := float32(float32(in[3]) * w2[3])
	t0, t1 := g00+g10+128.5, g00-g10+128.5
	s0, s1 := g01+g11, g01-g11
	out := (*[2]byte)(dst)
	out[0], out[1] = clampf(t0+s0), clampf(t0-s0)
	out = (*[2]byte)(dst[stride:])
	out[0], out[1] = clampf(t1+s1), clampf(t1-s1)
}

// idct1 is the pixel of a block at 1/8 scale: the mean of the block,
// F(0,0)/8, level-shifted.
func idct1(dc int32) byte {
	return clamp8((int(dc) + 1028) >> 3)
}
