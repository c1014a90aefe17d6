package vp8

// Inverse transforms of RFC 6386 sections 14.3 (WHT) and 14.4 (DCT). The decoder
// reconstructs with them and the encoder predicts from what they give, so
// both use these very functions: the encoder's reconstruction is then the
// decoder's by construction.

// Fixed-point factors of the inverse DCT, in 1/65536:
// sqrt(2)*cos(pi/8) - 1 and sqrt(2)*sin(pi/8).
const (
	c1 = 20091
	c2 = 35468
)

// Clip8 clamps v to 0..255, as the reconstruction and the TrueMotion
// predictor do (RFC 6386 sections 12.2 and 14.5).
func Clip8(v int32) uint8 {
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// IDCTAdd adds the inverse DCT of the 16 dequantised coefficients in (in
// raster order) to the 4x4 block at dst[off] with the given stride,
// clamping to 0..255 (section 14.4: columns first, then rows, with the
// final (x+4)>>3 rounding).
func IDCTAdd(in []int16, dst []byte, off, stride int) {
	in = in[:16]
	var t [16]int32
	for i := 0; i < 4; i++ {
		i0, i4, i8, i12 := int32(in[i]), int32(in[4+i]), int32(in[8+i]), int32(in[12+i])
		a := i0 + i8
		b := i0 - i8
		c := (i4*c2)>>16 - (i12 + (i12*c1)>>16)
		dd := (i4 + (i4*c1)>>16) + (i12*c2)>>16
		t[i] = a + dd
		t[12+i] = a - dd
		t[4+i] = b + c
		t[8+i] = b - c
	}
	for r := 0; r < 4; r++ {
		i0, i1, i2, i3 := t[r*4]+4, t[r*4+1], t[r*4+2], t[r*4+3]
		a := i0 + i2
		b := i0 - i2
		c := (i1*c2)>>16 - (i3 + (i3*c1)>>16)
		dd := (i1 + (i1*c1)>>16) + (i3*c2)>>16
		row := dst[off+r*stride : off+r*stride+4]
		row[0] = Clip8(int32(row[0]) + (a+dd)>>3)
		row[1] = Clip8(int32(row[1]) + (b+c)>>3)
		row[2] = Clip8(int32(row[2]) + (b-c)>>3)
		row[3] = Clip8(int32(row[3]) + (a-dd)>>3)
	}
}

// DCAdd is IDCTAdd for a block whose only non-zero coefficient is its DC:
// every pixel moves by (dc+4)>>3.
func DCAdd(dc int16, dst []byte, off, stride int) {
	v := (int32(dc) + 4) >> 3
	for r := 0; r < 4; r++ {
		row := dst[off+r*stride : off+r*stride+4]
		row[0] = Clip8(int32(row[0]) + v)
		row[1] = Clip8(int32(row[1]) + v)
		row[2] = Clip8(int32(row[2]) + v)
		row[3] = Clip8(int32(row[3]) + v)
	}
}

// IWHT inverts the Walsh-Hadamard transform of the second-order (Y2)
// block, giving the DC of each of the 16 luma blocks in raster order
// (section 14.3).
func IWHT(in *[16]int16, out *[16]int16) {
	var t [16]int32
	for i := 0; i < 4; i++ {
		a1 := int32(in[i]) + int32(in[12+i])
		b1 := int32(in[4+i]) + int32(in[8+i])
		c1 := int32(in[4+i]) - int32(in[8+i])
		d1 := int32(in[i]) - int32(in[12+i])
		t[i] = a1 + b1
		t[4+i] = c1 + d1
		t[8+i] = a1 - b1
		t[12+i] = d1 - c1
	}
	for r := 0; r < 4; r++ {
		a1 := t[r*4] + t[r*4+3]
		b1 := t[r*4+1] + t[r*4+2]
		c1 := t[r*4+1] - t[r*4+2]
		d1 := t[r*4] - t[r*4+3]
		out[r*4] = int16((a1 + b1 + 3) >> 3)
		out[r*4+1] = int16((c1 + d1 + 3) >> 3)
		out[r*4+2] = int16((a1 - b1 + 3) >> 3)
		out[r*4+3] = int16((d1 - c1 + 3) >> 3)
	}
}
