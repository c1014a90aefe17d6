package jpegenc

import "math"

// The forward DCT is the scaled 8-point factorisation of Arai, Agui and
// Nakajima (AAN) in float32, applied to rows and then columns. It needs 5
// multiplications and 29 additions per 8 points, and yields every
// coefficient F(u,v) of T.81 A.3.3 multiplied by 8·s(u)·s(v), where
// s(0) = 1 and s(k) = √2·cos(kπ/16). That factor is folded into the
// quantiser reciprocals (see quantRecip), so quantisation is a single
// multiplication followed by rounding to nearest, halves away from zero.
//
// Against an exact float64 DCT the error of the float32 pipeline stays
// below 1e-3 coefficient units (TestFDCTAccuracy); image/jpeg's 13-bit
// integer DCT is off by up to about 0.1 units, which is measurable at high
// quality (TestFDCTVersusStdlib).

const (
	aanC4  = 0.707106781186547524 // cos(4π/16)
	aanC6  = 0.382683432365089772 // cos(6π/16)
	aanC2m = 0.541196100146196984 // cos(6π/16)·√2
	aanC2p = 1.306562964876376527 // cos(2π/16)·√2
)

// aanScale[k] is s(k) above; s(4) = √2·cos(π/4) is exactly 1.
var aanScale = func() (s [8]float64) {
	for k := range s {
		s[k] = math.Sqrt2 * math.Cos(float64(k)*math.Pi/16)
	}
	s[0], s[4] = 1, 1
	return s
}()

// quantRecip returns, in natural order, the reciprocal of each divisor
// q(u,v)·8·s(u)·s(v), given the quantisation table q in natural order.
func quantRecip(q *[64]uint8) (r [64]float32) {
	for n := range r {
		u, v := n>>3, n&7
		r[n] = float32(1 / (float64(q[n]) * 8 * aanScale[u] * aanScale[v]))
	}
	return r
}

// exactZ lists, in zig-zag order, the coefficients (0,0), (0,4), (4,0) and
// (4,4): their scale factor is 1 and the AAN flow computes them with
// additions only, so for integer samples they are exact multiples of 1/8
// and can be exactly halfway between two quantised values. fdctQuant
// divides them by the exact divisor 8·q instead of multiplying by a rounded
// reciprocal, so that such ties round away from zero as intended.
var exactZ = [4]int{unzigzag[0], unzigzag[4], unzigzag[32], unzigzag[36]}

// dct8 is the 1-D AAN transform of d0..d7 (outputs scaled as described
// above). Every product is rounded to float32 by an explicit conversion,
// which keeps the compiler from fusing it with the following addition
// where the target has FMA (arm64; amd64 with GOAMD64=v3): the
// coefficients are then the same on every architecture and those of
// fdctQuantSIMD.
func dct8(d0, d1, d2, d3, d4, d5, d6, d7 float32) (o0, o1, o2, o3, o4, o5, o6, o7 float32) {
	t0, t7 := d0+d7, d0-d7
	t1, t6 := d1+d6, d1-d6
	t2, t5 := d2+d5, d2-d5
	t3, t4 := d3+d4, d3-d4

	// Even half: a 4-point DCT of t0..t3.
	e0, e3 := t0+t3, t0-t3
	e1, e2 := t1+t2, t1-t2
	o0, o4 = e0+e1, e0-e1
	m := float32((e2 + e3) * aanC4)
	o2, o6 = e3+m, e3-m

	// Odd half, with the rotation by 3π/8 done in three multiplications.
	a0, a1, a2 := t4+t5, t5+t6, t6+t7
	r := float32((a0 - a2) * aanC6)
	a := float32(aanC2m*a0) + r
	b := float32(aanC2p*a2) + r
	c := float32(a1 * aanC4)
	p, q := t7+c, t7-c
	o5, o3 = q+a, q-a
	o1, o7 = p+b, p-b
	return
}

// fdct2 is the 2-D transform of blk in place: rows, then columns.
func fdct2(blk *[64]float32) {
	for y := range 8 {
		p := (*[8]float32)(blk[8*y:])
		p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7] = dct8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
	}
	for x := range 8 {
		blk[x], blk[x+8], blk[x+16], blk[x+24], blk[x+32], blk[x+40], blk[x+48], blk[x+56] =
			dct8(blk[x], blk[x+8], blk[x+16], blk[x+24], blk[x+32], blk[x+40], blk[x+48], blk[x+56])
	}
}

// fdctQuant level-shifts the 8×8 samples at src (rows stride bytes apart),
// transforms and quantises them with the table q and its reciprocals (both
// in natural order), and stores the result in zig-zag order. It returns
// the mask of non-zero coefficients: bit z is set when dst[z] ≠ 0. On
// amd64 it runs fdctQuantSIMD, which gives the same coefficients.
func fdctQuant(src []byte, stride int, q *[64]uint8, recip *[64]float32, dst *[64]int16) uint64 {
	if haveSIMD {
		_ = src[7*stride+7]
		return fdctQuantSIMD(&src[0], stride, q, recip, dst)
	}
	return fdctQuantGo(src, stride, q, recip, dst)
}

// fdctQuantGo is fdctQuant in Go.
func fdctQuantGo(src []byte, stride int, q *[64]uint8, recip *[64]float32, dst *[64]int16) uint64 {
	var blk [64]float32
	_ = src[7*stride+7]
	for y := range 8 {
		row := (*[8]byte)(src[y*stride:])
		b := (*[8]float32)(blk[8*y:])
		for x := range 8 {
			b[x] = float32(row[x])
		}
	}
	fdct2(&blk)
	// The level shift by −128 only changes the DC term, which is the sum of
	// the samples here; the flow graph cancels the constant exactly in all
	// others (it only enters through differences of integer values).
	blk[0] -= 64 * 128
	for z := range 64 {
		// floor(x + 0.5), i.e. round to nearest, in float64 (exact for
		// |x| < 4096) without a data-dependent branch. The coefficients
		// of exactZ, where ties are common, are redone below; elsewhere a
		// tie needs contrived input and float rounding decides it.
		n := zigzag[z] & 63
		v := float64(float32(blk[n] * recip[n]))
		dst[z] = int16(int32(v+4096.5) - 4096)
	}
	for _, z := range exactZ {
		n := zigzag[z] & 63
		dst[z] = roundHalfAway(blk[n] / (8 * float32(q[n])))
	}
	var mask uint64
	for z := range 64 {
		x := uint32(int32(dst[z]))
		mask |= uint64((x|-x)>>31) << z
	}
	return mask
}

// roundHalfAway rounds v to the nearest integer, halves away from zero.
func roundHalfAway(v float32) int16 {
	if v < 0 {
		return int16(v - 0.5)
	}
	return int16(v + 0.5)
}
