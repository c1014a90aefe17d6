package vp8dec

import (
	"encoding/binary"

	"github.com/imageopto/imageopto/internal/vp8"
)

// Intra prediction (RFC 6386 section 12) in the work area: dst[off] is the
// block's top-left pixel, the row above and the column to the left hold
// the (unfiltered) neighbours or the frame border.

// sum8 adds the eight bytes of x.
func sum8(x uint64) int {
	x = x&0x00ff00ff00ff00ff + x>>8&0x00ff00ff00ff00ff // four 16-bit sums
	return int((x * 0x0001000100010001) >> 48)
}

// The whole-block modes: pred16 predicts the 16×16 luma block of the work
// area w (pixel (0,0) at yOrig), pred8 an 8×8 chroma block (at cOrig).
// The offsets are constants, so the compiler checks no bounds, and rows
// are written eight pixels at a time.

func pred16(w *[bps * 17]byte, mode int, haveLeft, haveTop bool) {
	const o, end = yOrig, yOrig + 16*bps
	le := binary.LittleEndian
	switch mode {
	case modeDC:
		sum, n := 0, 0
		if haveTop {
			sum += sum8(le.Uint64(w[o-bps:])) + sum8(le.Uint64(w[o-bps+8:]))
			n++
		}
		if haveLeft {
			for r := o - 1; r < end-1; r += bps {
				sum += int(w[r])
			}
			n++
		}
		v := 128
		switch n {
		case 2:
			v = (sum + 16) >> 5
		case 1:
			v = (sum + 8) >> 4
		}
		pat := uint64(v) * 0x0101010101010101
		for r := o; r < end; r += bps {
			le.PutUint64(w[r:], pat)
			le.PutUint64(w[r+8:], pat)
		}
	case modeV:
		t0, t1 := le.Uint64(w[o-bps:]), le.Uint64(w[o-bps+8:])
		for r := o; r < end; r += bps {
			le.PutUint64(w[r:], t0)
			le.PutUint64(w[r+8:], t1)
		}
	case modeH:
		for r := o; r < end; r += bps {
			pat := uint64(w[r-1]) * 0x0101010101010101
			le.PutUint64(w[r:], pat)
			le.PutUint64(w[r+8:], pat)
		}
	case modeTM:
		t0, t1 := (*[8]byte)(w[o-bps:o-bps+8]), (*[8]byte)(w[o-bps+8:o-bps+16])
		p := int32(w[o-bps-1])
		for r := o; r < end; r += bps {
			l := int32(w[r-1]) - p
			le.PutUint64(w[r:], tmRow(l, t0))
			le.PutUint64(w[r+8:], tmRow(l, t1))
		}
	}
}

func pred8(w *[bps * 9]byte, mode int, haveLeft, haveTop bool) {
	const o, end = cOrig, cOrig + 8*bps
	le := binary.LittleEndian
	switch mode {
	case modeDC:
		sum, n := 0, 0
		if haveTop {
			sum += sum8(le.Uint64(w[o-bps:]))
			n++
		}
		if haveLeft {
			for r := o - 1; r < end-1; r += bps {
				sum += int(w[r])
			}
			n++
		}
		v := 128
		switch n {
		case 2:
			v = (sum + 8) >> 4
		case 1:
			v = (sum + 4) >> 3
		}
		pat := uint64(v) * 0x0101010101010101
		for r := o; r < end; r += bps {
			le.PutUint64(w[r:], pat)
		}
	case modeV:
		t0 := le.Uint64(w[o-bps:])
		for r := o; r < end; r += bps {
			le.PutUint64(w[r:], t0)
		}
	case modeH:
		for r := o; r < end; r += bps {
			le.PutUint64(w[r:], uint64(w[r-1])*0x0101010101010101)
		}
	case modeTM:
		t := (*[8]byte)(w[o-bps : o-bps+8])
		p := int32(w[o-bps-1])
		for r := o; r < end; r += bps {
			le.PutUint64(w[r:], tmRow(int32(w[r-1])-p, t))
		}
	}
}

// tmRow is eight pixels of TrueMotion: l (the left neighbour minus the
// top-left one) plus the pixels above, clamped.
func tmRow(l int32, t *[8]byte) uint64 {
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(vp8.Clip8(l+int32(t[i])))
	}
	return x
}

func avg3(a, b, c byte) byte { return byte((int(a) + 2*int(b) + int(c) + 2) >> 2) }
func avg2(a, b byte) byte    { return byte((int(a) + int(b) + 1) >> 1) }

// pack4 makes a row of four pixels, left first, for one 32-bit store.
func pack4(a, b, c, d byte) uint32 {
	return uint32(a) | uint32(b)<<8 | uint32(c)<<16 | uint32(d)<<24
}

// pair packs two pixels.
func pair(a, b byte) uint32 { return uint32(a) | uint32(b)<<8 }

// pred4 predicts a 4×4 sub-block. Every mode computes its four rows in
// registers and stores each with one 32-bit write: the transform that
// follows loads the rows 32 bits at a time, and a load that spans several
// narrower stores cannot be forwarded from them and stalls.
func pred4(dst []byte, off int, mode uint8) {
	// w[0] is the top-left neighbour, w[1:9] the row above and above
	// right, w[(r+1)*bps] the left neighbour of row r and
	// w[(r+1)*bps+1:] row r itself.
	w := (*[4*bps + 5]byte)(dst[off-bps-1:])
	p := w[0]
	a0, a1, a2, a3, a4, a5, a6, a7 := w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]
	l0, l1, l2, l3 := w[bps], w[2*bps], w[3*bps], w[4*bps]
	var r0, r1, r2, r3 uint32
	switch mode {
	case vp8.BDC:
		s := 4 + int(a0) + int(a1) + int(a2) + int(a3) + int(l0) + int(l1) + int(l2) + int(l3)
		r0 = uint32(s>>3) * 0x01010101
		r1, r2, r3 = r0, r0, r0
	case vp8.BTM:
		tm := func(l byte) uint32 {
			d := int32(l) - int32(p)
			return pack4(vp8.Clip8(d+int32(a0)), vp8.Clip8(d+int32(a1)), vp8.Clip8(d+int32(a2)), vp8.Clip8(d+int32(a3)))
		}
		r0, r1, r2, r3 = tm(l0), tm(l1), tm(l2), tm(l3)
	case vp8.BVE:
		r0 = pack4(avg3(p, a0, a1), avg3(a0, a1, a2), avg3(a1, a2, a3), avg3(a2, a3, a4))
		r1, r2, r3 = r0, r0, r0
	case vp8.BHE:
		r0 = uint32(avg3(p, l0, l1)) * 0x01010101
		r1 = uint32(avg3(l0, l1, l2)) * 0x01010101
		r2 = uint32(avg3(l1, l2, l3)) * 0x01010101
		r3 = uint32(avg3(l2, l3, l3)) * 0x01010101
	case vp8.BLD:
		// Row r is f(r) .. f(r+3), f(k) the smoothed row above at k+1.
		q := uint64(avg3(a0, a1, a2)) | uint64(avg3(a1, a2, a3))<<8 |
			uint64(avg3(a2, a3, a4))<<16 | uint64(avg3(a3, a4, a5))<<24 |
			uint64(avg3(a4, a5, a6))<<32 | uint64(avg3(a5, a6, a7))<<40 |
			uint64(avg3(a6, a7, a7))<<48
		r0, r1, r2, r3 = uint32(q), uint32(q>>8), uint32(q>>16), uint32(q>>24)
	case vp8.BRD:
		// The edge from the bottom left up to the top right, smoothed;
		// row r is g(3-r) .. g(6-r).
		q := uint64(avg3(l3, l2, l1)) | uint64(avg3(l2, l1, l0))<<8 |
			uint64(avg3(l1, l0, p))<<16 | uint64(avg3(l0, p, a0))<<24 |
			uint64(avg3(p, a0, a1))<<32 | uint64(avg3(a0, a1, a2))<<40 |
			uint64(avg3(a1, a2, a3))<<48
		r0, r1, r2, r3 = uint32(q>>24), uint32(q>>16), uint32(q>>8), uint32(q)
	case vp8.BVR:
		ha, hb, hc, hd := avg2(p, a0), avg2(a0, a1), avg2(a1, a2), avg2(a2, a3)
		e, f, g, h := avg3(l0, p, a0), avg3(p, a0, a1), avg3(a0, a1, a2), avg3(a1, a2, a3)
		r0 = pack4(ha, hb, hc, hd)
		r1 = pack4(e, f, g, h)
		r2 = pack4(avg3(l1, l0, p), ha, hb, hc)
		r3 = pack4(avg3(l2, l1, l0), e, f, g)
	case vp8.BVL:
		b0, b1, b2, b3 := avg2(a0, a1), avg2(a1, a2), avg2(a2, a3), avg2(a3, a4)
		t0, t1, t2, t3 := avg3(a0, a1, a2), avg3(a1, a2, a3), avg3(a2, a3, a4), avg3(a3, a4, a5)
		r0 = pack4(b0, b1, b2, b3)
		r1 = pack4(t0, t1, t2, t3)
		r2 = pack4(b1, b2, b3, avg3(a4, a5, a6))
		r3 = pack4(t1, t2, t3, avg3(a5, a6, a7))
	case vp8.BHD:
		// Row r starts with the pair of edge position 3-r and goes on
		// with the row above's.
		q0 := pair(avg2(l0, p), avg3(l0, p, a0))
		q1 := pair(avg2(l1, l0), avg3(l1, l0, p))
		q2 := pair(avg2(l2, l1), avg3(l2, l1, l0))
		q3 := pair(avg2(l3, l2), avg3(l3, l2, l1))
		r0 = q0 | pair(avg3(p, a0, a1), avg3(a0, a1, a2))<<16
		r1 = q1 | q0<<16
		r2 = q2 | q1<<16
		r3 = q3 | q2<<16
	case vp8.BHU:
		q0 := pair(avg2(l0, l1), avg3(l0, l1, l2))
		q1 := pair(avg2(l1, l2), avg3(l1, l2, l3))
		q2 := pair(avg2(l2, l3), avg3(l2, l3, l3))
		q3 := pair(l3, l3)
		r0 = q0 | q1<<16
		r1 = q1 | q2<<16
		r2 = q2 | q3<<16
		r3 = q3 | q3<<16
	}
	le := binary.LittleEndian
	le.PutUint32(w[bps+1:bps+5], r0)
	le.PutUint32(w[2*bps+1:2*bps+5], r1)
	le.PutUint32(w[3*bps+1:3*bps+5], r2)
	le.PutUint32(w[4*bps+1:4*bps+5], r3)
}
