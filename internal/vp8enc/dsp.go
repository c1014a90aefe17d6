package vp8enc

import "github.com/imageopto/imageopto/internal/vp8"

// Transforms (RFC 6386 section 14) and intra predictors (section 12).
//
// Coefficient blocks are 16 int32 in raster order within the 4x4 block.
// The inverse transforms are the decoder's own (package vp8); the forward ones
// are the encoder's own choice (the format does not fix them): scaled
// integer versions of the transforms the inverses undo.

// idct4 adds the inverse DCT of c (section 14.4) to the 4x4 prediction
// pred (stride ps) and writes the clamped sum to dst (stride ds), with the
// decoder's own function: the coefficients go through int16 as the
// decoder stores them.
func idct4(c *[16]int32, pred []uint8, ps int, dst []uint8, ds int) {
	var in [16]int16
	for i, v := range c {
		in[i] = int16(v)
	}
	for y := range 4 {
		copy(dst[y*ds:y*ds+4], pred[y*ps:y*ps+4])
	}
	vp8.IDCTAdd(in[:], dst, 0, ds)
}

// fdct4 is the forward DCT of the 4x4 residual src-pred (strides ss, ps)
// into c. It computes twice the orthonormal 2-D DCT-II, which is the
// scale idct4 inverts (a DC-only block of value v decodes to v/8 per
// pixel). Rows are transformed at 8x precision, then columns, rounding
// to nearest. sqrt(2)*cos(pi/8)*4096/8*8 = 5352 and
// sqrt(2)*sin(pi/8)*4096 = 2217 are the rotation's fixed-point factors.
func fdct4(src []uint8, ss int, pred []uint8, ps int, c *[16]int32) {
	var t [16]int32
	for y := range 4 {
		s := src[y*ss : y*ss+4]
		p := pred[y*ps : y*ps+4]
		d0 := int32(s[0]) - int32(p[0])
		d1 := int32(s[1]) - int32(p[1])
		d2 := int32(s[2]) - int32(p[2])
		d3 := int32(s[3]) - int32(p[3])
		a := (d0 + d3) * 8
		b := (d1 + d2) * 8
		cc := (d1 - d2) * 8
		d := (d0 - d3) * 8
		t[4*y] = a + b
		t[4*y+2] = a - b
		t[4*y+1] = (d*5352 + cc*2217 + 2048) >> 12
		t[4*y+3] = (d*2217 - cc*5352 + 2048) >> 12
	}
	for x := range 4 {
		a := t[x] + t[12+x]
		b := t[4+x] + t[8+x]
		cc := t[4+x] - t[8+x]
		d := t[x] - t[12+x]
		c[x] = (a + b + 8) >> 4
		c[8+x] = (a - b + 8) >> 4
		c[4+x] = (d*5352 + cc*2217 + 1<<15) >> 16
		c[12+x] = (d*2217 - cc*5352 + 1<<15) >> 16
	}
}

// iwht inverts the Walsh-Hadamard transform of the second-order (Y2)
// block (section 14.3) into the DC of each of the 16 luma blocks in raster
// order, with the decoder's own function (through int16, as the decoder
// stores them).
func iwht(c *[16]int32, out *[16]int32) {
	var in, o [16]int16
	for i, v := range c {
		in[i] = int16(v)
	}
	vp8.IWHT(&in, &o)
	for i, v := range o {
		out[i] = int32(v)
	}
}

// fwht is the forward transform iwht undoes: H x H / 2, rounded.
func fwht(in *[16]int32, c *[16]int32) {
	var t [16]int32
	for y := range 4 {
		r := in[4*y : 4*y+4]
		a := r[0] + r[3]
		b := r[1] + r[2]
		cc := r[1] - r[2]
		d := r[0] - r[3]
		t[4*y] = a + b
		t[4*y+1] = cc + d
		t[4*y+2] = a - b
		t[4*y+3] = d - cc
	}
	for i := range 4 {
		a := t[i] + t[12+i]
		b := t[4+i] + t[8+i]
		cc := t[4+i] - t[8+i]
		d := t[i] - t[12+i]
		c[i] = half(a + b)
		c[4+i] = half(cc + d)
		c[8+i] = half(a - b)
		c[12+i] = half(d - cc)
	}
}

// half is v/2 rounded to nearest, halves away from zero.
func half(v int32) int32 {
	if v < 0 {
		return -((1 - v) >> 1)
	}
	return (v + 1) >> 1
}

// Intra prediction modes of 16x16 luma and 8x8 chroma blocks (section
// 12.2), numbered as the frame header's tree codes them below, and the
// ten 4x4 sub-block modes (section 12.3).
const (
	predDC = iota
	predV
	predH
	predTM
	predB // B_PRED: each 4x4 sub-block has its own mode
)

// The sub-block modes are numbered in the order of RFC 6386 section 11.2,
// that of vp8.KFBModeProbs' rows and columns.
const (
	bDC       = vp8.BDC
	bTM       = vp8.BTM
	bVE       = vp8.BVE
	bHE       = vp8.BHE
	bLD       = vp8.BLD
	bRD       = vp8.BRD
	bVR       = vp8.BVR
	bVL       = vp8.BVL
	bHD       = vp8.BHD
	bHU       = vp8.BHU
	numBModes = vp8.NumBModes
)

// edges are the reconstructed pixels a block is predicted from: the row
// above (with the 4 pixels above-right for 4x4 blocks), the column to the
// left and the pixel above-left. Outside the frame the decoder uses 127
// above and 129 to the left (section 12.2); DC prediction instead ignores
// missing edges, which haveAbove/haveLeft say.
type edges struct {
	above     [20]uint8
	left      [16]uint8
	topLeft   uint8
	haveAbove bool
	haveLeft  bool
}

// predictBlock writes the n x n (16 or 8) prediction of mode (predDC..TM)
// from e into dst (stride n).
func predictBlock(mode, n int, e *edges, dst []uint8) {
	switch mode {
	case predDC:
		var s, sh int
		if e.haveAbove {
			for _, v := range e.above[:n] {
				s += int(v)
			}
			sh++
		}
		if e.haveLeft {
			for _, v := range e.left[:n] {
				s += int(v)
			}
			sh++
		}
		v := uint8(128)
		if sh > 0 {
			lg := 3 // log2(n*sh): the number of edge pixels summed
			if n == 16 {
				lg = 4
			}
			lg += sh - 1
			v = uint8((s + 1<<(lg-1)) >> lg)
		}
		for i := range dst[:n*n] {
			dst[i] = v
		}
	case predV:
		for y := range n {
			copy(dst[y*n:y*n+n], e.above[:n])
		}
	case predH:
		for y := range n {
			v := e.left[y]
			r := dst[y*n : y*n+n]
			for i := range r {
				r[i] = v
			}
		}
	case predTM:
		for y := range n {
			d := int32(e.left[y]) - int32(e.topLeft)
			r := dst[y*n : y*n+n]
			for x := range r {
				r[x] = vp8.Clip8(int32(e.above[x]) + d)
			}
		}
	}
}

func avg2(a, b uint8) uint8    { return uint8((int(a) + int(b) + 1) >> 1) }
func avg3(a, b, c uint8) uint8 { return uint8((int(a) + 2*int(b) + int(c) + 2) >> 2) }

// predict4 writes the 4x4 prediction of sub-block mode m into dst
// (stride 4) from the 8 pixels above (A..H, the last 4 above-right), the 4
// to the left (I..L) and the one above-left (X) (section 12.3). d(x, y)
// names the pixel at column x, row y.
func predict4(m int, A *[8]uint8, L *[4]uint8, X uint8, dst *[16]uint8) {
	d := func(x, y int, v uint8) { dst[4*y+x] = v }
	switch m {
	case bDC:
		s := 4
		for i := range 4 {
			s += int(A[i]) + int(L[i])
		}
		v := uint8(s >> 3)
		for i := range dst {
			dst[i] = v
		}
	case bTM:
		for y := range 4 {
			for x := range 4 {
				d(x, y, vp8.Clip8(int32(L[y])+int32(A[x])-int32(X)))
			}
		}
	case bVE: // vertical, smoothed along the row above
		v := [4]uint8{avg3(X, A[0], A[1]), avg3(A[0], A[1], A[2]), avg3(A[1], A[2], A[3]), avg3(A[2], A[3], A[4])}
		for y := range 4 {
			copy(dst[4*y:4*y+4], v[:])
		}
	case bHE: // horizontal, smoothed along the left column
		v := [4]uint8{avg3(X, L[0], L[1]), avg3(L[0], L[1], L[2]), avg3(L[1], L[2], L[3]), avg3(L[2], L[3], L[3])}
		for y := range 4 {
			for x := range 4 {
				d(x, y, v[y])
			}
		}
	case bLD: // down-left diagonal, from above and above-right
		for y := range 4 {
			for x := range 4 {
				k := x + y
				if k == 6 {
					d(x, y, avg3(A[6], A[7], A[7]))
				} else {
					d(x, y, avg3(A[k], A[k+1], A[k+2]))
				}
			}
		}
	case bRD: // down-right diagonal, along the edge L3..L0, X, A0..A3
		e := [9]uint8{L[3], L[2], L[1], L[0], X, A[0], A[1], A[2], A[3]}
		for y := range 4 {
			for x := range 4 {
				i := 4 - y + x
				d(x, y, avg3(e[i-1], e[i], e[i+1]))
			}
		}
	case bVR: // vertical-right
		I, J, K := L[0], L[1], L[2]
		d(0, 0, avg2(X, A[0]))
		d(1, 2, avg2(X, A[0]))
		d(1, 0, avg2(A[0], A[1]))
		d(2, 2, avg2(A[0], A[1]))
		d(2, 0, avg2(A[1], A[2]))
		d(3, 2, avg2(A[1], A[2]))
		d(3, 0, avg2(A[2], A[3]))
		d(0, 3, avg3(K, J, I))
		d(0, 2, avg3(J, I, X))
		d(0, 1, avg3(I, X, A[0]))
		d(1, 3, avg3(I, X, A[0]))
		d(1, 1, avg3(X, A[0], A[1]))
		d(2, 3, avg3(X, A[0], A[1]))
		d(2, 1, avg3(A[0], A[1], A[2]))
		d(3, 3, avg3(A[0], A[1], A[2]))
		d(3, 1, avg3(A[1], A[2], A[3]))
	case bVL: // vertical-left, from above and above-right
		d(0, 0, avg2(A[0], A[1]))
		d(1, 0, avg2(A[1], A[2]))
		d(0, 2, avg2(A[1], A[2]))
		d(2, 0, avg2(A[2], A[3]))
		d(1, 2, avg2(A[2], A[3]))
		d(3, 0, avg2(A[3], A[4]))
		d(2, 2, avg2(A[3], A[4]))
		d(0, 1, avg3(A[0], A[1], A[2]))
		d(1, 1, avg3(A[1], A[2], A[3]))
		d(0, 3, avg3(A[1], A[2], A[3]))
		d(2, 1, avg3(A[2], A[3], A[4]))
		d(1, 3, avg3(A[2], A[3], A[4]))
		d(3, 1, avg3(A[3], A[4], A[5]))
		d(2, 3, avg3(A[3], A[4], A[5]))
		d(3, 2, avg3(A[4], A[5], A[6]))
		d(3, 3, avg3(A[5], A[6], A[7]))
	case bHD: // horizontal-down
		I, J, K, LL := L[0], L[1], L[2], L[3]
		d(0, 0, avg2(I, X))
		d(2, 1, avg2(I, X))
		d(0, 1, avg2(J, I))
		d(2, 2, avg2(J, I))
		d(0, 2, avg2(K, J))
		d(2, 3, avg2(K, J))
		d(0, 3, avg2(LL, K))
		d(3, 0, avg3(A[0], A[1], A[2]))
		d(2, 0, avg3(X, A[0], A[1]))
		d(1, 0, avg3(I, X, A[0]))
		d(3, 1, avg3(I, X, A[0]))
		d(1, 1, avg3(J, I, X))
		d(3, 2, avg3(J, I, X))
		d(1, 2, avg3(K, J, I))
		d(3, 3, avg3(K, J, I))
		d(1, 3, avg3(LL, K, J))
	case bHU: // horizontal-up, from the left column only
		I, J, K, LL := L[0], L[1], L[2], L[3]
		d(0, 0, avg2(I, J))
		d(2, 0, avg2(J, K))
		d(0, 1, avg2(J, K))
		d(2, 1, avg2(K, LL))
		d(0, 2, avg2(K, LL))
		d(1, 0, avg3(I, J, K))
		d(3, 0, avg3(J, K, LL))
		d(1, 1, avg3(J, K, LL))
		d(3, 1, avg3(K, LL, LL))
		d(1, 2, avg3(K, LL, LL))
		for _, p := range [][2]int{{3, 2}, {2, 2}, {0, 3}, {1, 3}, {2, 3}, {3, 3}} {
			d(p[0], p[1], LL)
		}
	}
}
