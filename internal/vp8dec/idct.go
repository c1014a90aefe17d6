package vp8dec

import "github.com/imageopto/imageopto/internal/vp8"

// The inverse transforms of vp8.IDCTAdd and vp8.DCAdd for the work area,
// whose stride is the constant bps: the compiler then proves the pixel
// indices and drops the bounds checks. TestTransformsMatch checks them
// against the vp8 package's on random and extreme coefficients.

// Fixed-point factors of the inverse DCT, in 1/65536 (as in package vp8).
const (
	kC1 = 20091 // sqrt(2)*cos(pi/8) - 1
	kC2 = 35468 // sqrt(2)*sin(pi/8)
)

func mul1(x int32) int32 { return x + (x*kC1)>>16 }
func mul2(x int32) int32 { return (x * kC2) >> 16 }

// Block kinds, set by the token parser for the reconstruction.
const (
	kindEmpty = 0 // no coefficient
	kindDC    = 1 // only the DC
	kindAC3   = 2 // only raster positions 0, 1 and 4 (the first three in zigzag order)
	kindFull  = 3 // anything
	kindWide  = 4 // flag: a coefficient is beyond ±maxSIMDCoeff (wideFlag's shift)
)

// maxSIMDCoeff bounds the coefficients of the 16-bit SIMD transform: with
// |c| ≤ 2047 every intermediate stays within int16 (the two passes grow
// values at most 3.85 times each, and 2047·3.85·3.85 + 5 < 32768).
const maxSIMDCoeff = 2047

// wideBits is non-zero when x is outside ±maxSIMDCoeff (precisely: outside
// -2048..2047).
func wideBits(x int16) int32 { return (int32(x) + maxSIMDCoeff + 1) &^ (2*maxSIMDCoeff + 1) }

func wideFlag(wide int32) uint8 { return uint8(b2i(wide != 0)) << 2 }

// addResidual adds the inverse transform of block c of the given kind to
// the 4×4 pixels at dst[off].
func addResidual(kind uint8, c *[16]int16, dst []byte, off int) {
	p := dst[off : off+3*bps+4]
	if haveSIMD {
		switch kind {
		case kindDC:
			dcAddSSE2((int32(c[0])+4)>>3, &p[0])
			return
		case kindAC3, kindFull:
			idctAddSSE2(c, &p[0])
			return
		}
	}
	switch kind &^ kindWide {
	case kindDC:
		dcAdd(c[0], p, 0)
	case kindAC3:
		idctAdd3(c, p, 0)
	case kindFull:
		idctAdd(c, p, 0)
	}
}

// idctAdd is vp8.IDCTAdd(c, dst, off, bps).
func idctAdd(c *[16]int16, dst []byte, off int) {
	p := dst[off : off+3*bps+4]
	var t [16]int32
	for i := 0; i < 4; i++ {
		i0, i4, i8, i12 := int32(c[i]), int32(c[4+i]), int32(c[8+i]), int32(c[12+i])
		a := i0 + i8
		b := i0 - i8
		cc := mul2(i4) - mul1(i12)
		d := mul1(i4) + mul2(i12)
		t[i] = a + d
		t[4+i] = b + cc
		t[8+i] = b - cc
		t[12+i] = a - d
	}
	for r := 0; r < 4; r++ {
		row := (*[4]byte)(p[r*bps:])
		i0, i1, i2, i3 := t[r*4]+4, t[r*4+1], t[r*4+2], t[r*4+3]
		a := i0 + i2
		b := i0 - i2
		cc := mul2(i1) - mul1(i3)
		d := mul1(i1) + mul2(i3)
		row[0] = vp8.Clip8(int32(row[0]) + (a+d)>>3)
		row[1] = vp8.Clip8(int32(row[1]) + (b+cc)>>3)
		row[2] = vp8.Clip8(int32(row[2]) + (b-cc)>>3)
		row[3] = vp8.Clip8(int32(row[3]) + (a-d)>>3)
	}
}

// idctAdd3 is idctAdd for a block whose only non-zero coefficients are at
// raster positions 0, 1 and 4: the first pass then leaves one value per
// row in column 0 and in[1] in column 1 of every row, and the second has
// i2 = i3 = 0.
func idctAdd3(c *[16]int16, dst []byte, off int) {
	p := dst[off : off+3*bps+4]
	in0, in1, in4 := int32(c[0])+4, int32(c[1]), int32(c[4])
	m1, m2 := mul1(in4), mul2(in4)
	col := [4]int32{in0 + m1, in0 + m2, in0 - m2, in0 - m1}
	cc, d := mul2(in1), mul1(in1)
	for r := 0; r < 4; r++ {
		row := (*[4]byte)(p[r*bps:])
		a := col[r]
		row[0] = vp8.Clip8(int32(row[0]) + (a+d)>>3)
		row[1] = vp8.Clip8(int32(row[1]) + (a+cc)>>3)
		row[2] = vp8.Clip8(int32(row[2]) + (a-cc)>>3)
		row[3] = vp8.Clip8(int32(row[3]) + (a-d)>>3)
	}
}

// dcAdd is vp8.DCAdd(dc, dst, off, bps).
func dcAdd(dc int16, dst []byte, off int) {
	p := dst[off : off+3*bps+4]
	v := (int32(dc) + 4) >> 3
	for r := 0; r < 4; r++ {
		row := (*[4]byte)(p[r*bps:])
		row[0] = vp8.Clip8(int32(row[0]) + v)
		row[1] = vp8.Clip8(int32(row[1]) + v)
		row[2] = vp8.Clip8(int32(row[2]) + v)
		row[3] = vp8.Clip8(int32(row[3]) + v)
	}
}
