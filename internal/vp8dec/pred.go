package vp8dec

import (
	"encoding/binary"

	"github.com/imageopto/imageopto/internal/vp8"
)

// Intra prediction (RFC 6386 section 12) in the work area: dst[off] is the
// block's top-left pixel, the row above and the column to the left hold
// the (unfiltered) neighbours or the frame border.

// fill sets a size×size block (size 4, 8 or 16) to v.
func fill(dst []byte, off, size int, v byte) {
	pat := uint64(v) * 0x0101010101010101
	if size == 4 {
		for r := 0; r < 4; r++ {
			binary.LittleEndian.PutUint32(dst[off+r*bps:], uint32(pat))
		}
		return
	}
	for r := 0; r < size; r++ {
		row := dst[off+r*bps : off+r*bps+size]
		for c := 0; c+8 <= len(row); c += 8 {
			binary.LittleEndian.PutUint64(row[c:], pat)
		}
	}
}

// predBlock does the four whole-block modes for a size×size block (16 for
// luma, 8 for chroma); shift is log2(2·size).
func predBlock(dst []byte, off, size, shift, mode int, haveLeft, haveTop bool) {
	switch mode {
	case modeDC:
		var sum int
		switch {
		case haveLeft && haveTop:
			for i := 0; i < size; i++ {
				sum += int(dst[off-bps+i]) + int(dst[off+i*bps-1])
			}
			fill(dst, off, size, byte((sum+size)>>shift))
		case haveTop:
			for i := 0; i < size; i++ {
				sum += int(dst[off-bps+i])
			}
			fill(dst, off, size, byte((sum+size/2)>>(shift-1)))
		case haveLeft:
			for i := 0; i < size; i++ {
				sum += int(dst[off+i*bps-1])
			}
			fill(dst, off, size, byte((sum+size/2)>>(shift-1)))
		default:
			fill(dst, off, size, 128)
		}
	case modeV:
		t0 := binary.LittleEndian.Uint64(dst[off-bps:])
		t1 := binary.LittleEndian.Uint64(dst[off-bps+8:])
		for r := 0; r < size; r++ {
			binary.LittleEndian.PutUint64(dst[off+r*bps:], t0)
			if size == 16 {
				binary.LittleEndian.PutUint64(dst[off+r*bps+8:], t1)
			}
		}
	case modeH:
		for r := 0; r < size; r++ {
			o := off + r*bps
			pat := uint64(dst[o-1]) * 0x0101010101010101
			binary.LittleEndian.PutUint64(dst[o:], pat)
			if size == 16 {
				binary.LittleEndian.PutUint64(dst[o+8:], pat)
			}
		}
	case modeTM:
		// Eight pixels at a time, stored with one write (see pred4).
		top := dst[off-bps : off-bps+size]
		p := int32(dst[off-bps-1])
		for r := 0; r < size; r++ {
			o := off + r*bps
			l := int32(dst[o-1]) - p
			row := dst[o : o+size]
			for c := 0; c+8 <= size; c += 8 {
				t := (*[8]byte)(top[c : c+8])
				var x uint64
				for i := 7; i >= 0; i-- {
					x = x<<8 | uint64(vp8.Clip8(l+int32(t[i])))
				}
				binary.LittleEndian.PutUint64(row[c:c+8], x)
			}
		}
	}
}

func pred16(dst []byte, off, mode int, haveLeft, haveTop bool) {
	predBlock(dst, off, 16, 5, mode, haveLeft, haveTop)
}

func pred8(dst []byte, off, mode int, haveLeft, haveTop bool) {
	predBlock(dst, off, 8, 4, mode, haveLeft, haveTop)
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
