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
		top := dst[off-bps : off-bps+size]
		p := int32(dst[off-bps-1])
		for r := 0; r < size; r++ {
			o := off + r*bps
			l := int32(dst[o-1]) - p
			row := dst[o : o+size]
			for i := range row {
				row[i] = vp8.Clip8(l + int32(top[i]))
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

// pred4 predicts a 4×4 sub-block.
func pred4(dst []byte, off int, mode uint8) {
	_ = dst[off+3*bps+3]
	a := dst[off-bps : off-bps+8] // above, then above-right
	p := dst[off-bps-1]
	l0, l1, l2, l3 := dst[off-1], dst[off+bps-1], dst[off+2*bps-1], dst[off+3*bps-1]
	set := func(r, c int, v byte) { dst[off+r*bps+c] = v }
	switch mode {
	case vp8.BDC:
		s := 4
		for i := 0; i < 4; i++ {
			s += int(a[i])
		}
		s += int(l0) + int(l1) + int(l2) + int(l3)
		fill(dst, off, 4, byte(s>>3))
	case vp8.BTM:
		ls := [4]byte{l0, l1, l2, l3}
		for r := 0; r < 4; r++ {
			l := int32(ls[r]) - int32(p)
			for c := 0; c < 4; c++ {
				set(r, c, vp8.Clip8(l+int32(a[c])))
			}
		}
	case vp8.BVE:
		v := [4]byte{avg3(p, a[0], a[1]), avg3(a[0], a[1], a[2]), avg3(a[1], a[2], a[3]), avg3(a[2], a[3], a[4])}
		for r := 0; r < 4; r++ {
			copy(dst[off+r*bps:off+r*bps+4], v[:])
		}
	case vp8.BHE:
		v := [4]byte{avg3(p, l0, l1), avg3(l0, l1, l2), avg3(l1, l2, l3), avg3(l2, l3, l3)}
		for r := 0; r < 4; r++ {
			x := v[r]
			set(r, 0, x)
			set(r, 1, x)
			set(r, 2, x)
			set(r, 3, x)
		}
	case vp8.BLD:
		for r := 0; r < 4; r++ {
			for c := 0; c < 4; c++ {
				k := r + c
				if k == 6 {
					set(r, c, avg3(a[6], a[7], a[7]))
				} else {
					set(r, c, avg3(a[k], a[k+1], a[k+2]))
				}
			}
		}
	case vp8.BRD:
		e := [9]byte{l3, l2, l1, l0, p, a[0], a[1], a[2], a[3]}
		for r := 0; r < 4; r++ {
			for c := 0; c < 4; c++ {
				k := c - r + 3
				set(r, c, avg3(e[k], e[k+1], e[k+2]))
			}
		}
	case vp8.BVR:
		set(3, 0, avg3(l2, l1, l0))
		set(2, 0, avg3(l1, l0, p))
		v := avg3(l0, p, a[0])
		set(3, 1, v)
		set(1, 0, v)
		v = avg2(p, a[0])
		set(2, 1, v)
		set(0, 0, v)
		v = avg3(p, a[0], a[1])
		set(3, 2, v)
		set(1, 1, v)
		v = avg2(a[0], a[1])
		set(2, 2, v)
		set(0, 1, v)
		v = avg3(a[0], a[1], a[2])
		set(3, 3, v)
		set(1, 2, v)
		v = avg2(a[1], a[2])
		set(2, 3, v)
		set(0, 2, v)
		set(1, 3, avg3(a[1], a[2], a[3]))
		set(0, 3, avg2(a[2], a[3]))
	case vp8.BVL:
		set(0, 0, avg2(a[0], a[1]))
		set(1, 0, avg3(a[0], a[1], a[2]))
		v := avg2(a[1], a[2])
		set(2, 0, v)
		set(0, 1, v)
		v = avg3(a[1], a[2], a[3])
		set(1, 1, v)
		set(3, 0, v)
		v = avg2(a[2], a[3])
		set(2, 1, v)
		set(0, 2, v)
		v = avg3(a[2], a[3], a[4])
		set(3, 1, v)
		set(1, 2, v)
		v = avg2(a[3], a[4])
		set(2, 2, v)
		set(0, 3, v)
		v = avg3(a[3], a[4], a[5])
		set(3, 2, v)
		set(1, 3, v)
		set(2, 3, avg3(a[4], a[5], a[6]))
		set(3, 3, avg3(a[5], a[6], a[7]))
	case vp8.BHD:
		e := [8]byte{l3, l2, l1, l0, p, a[0], a[1], a[2]}
		// Row r starts 2r pixels further down the edge.
		for r := 0; r < 4; r++ {
			base := 3 - r // e index of the row's left pixel
			set(r, 0, avg2(e[base], e[base+1]))
			set(r, 1, avg3(e[base], e[base+1], e[base+2]))
			if r == 0 {
				set(0, 2, avg3(p, a[0], a[1]))
				set(0, 3, avg3(a[0], a[1], a[2]))
			} else {
				b := base + 1
				set(r, 2, avg2(e[b], e[b+1]))
				set(r, 3, avg3(e[b], e[b+1], e[b+2]))
			}
		}
	case vp8.BHU:
		set(0, 0, avg2(l0, l1))
		set(0, 1, avg3(l0, l1, l2))
		v := avg2(l1, l2)
		set(0, 2, v)
		set(1, 0, v)
		v = avg3(l1, l2, l3)
		set(0, 3, v)
		set(1, 1, v)
		v = avg2(l2, l3)
		set(1, 2, v)
		set(2, 0, v)
		v = avg3(l2, l3, l3)
		set(1, 3, v)
		set(2, 1, v)
		set(2, 2, l3)
		set(2, 3, l3)
		set(3, 0, l3)
		set(3, 1, l3)
		set(3, 2, l3)
		set(3, 3, l3)
	}
}
