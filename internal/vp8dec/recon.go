package vp8dec

import "encoding/binary"

// reconstruct predicts the current macroblock, adds its residual, copies it
// into the planes and keeps its unfiltered bottom row for the row below.
func (d *decoder) reconstruct(mbx, mby int, m *mbData) {
	// The work areas as arrays, indexed at constant offsets or with
	// induction variables: no bounds checks.
	ya, ua, va := &d.ywork, &d.uwork, &d.vwork
	yw, uw, vw := ya[:], ua[:], va[:]
	// Left column (and top-left corner): the previous macroblock's right
	// column, still in the work area, or the frame border.
	if mbx > 0 {
		for o := yOrig - bps - 1; o < yOrig+16*bps-1; o += bps {
			ya[o] = ya[o+16]
		}
		for o := cOrig - bps - 1; o < cOrig+8*bps-1; o += bps {
			ua[o] = ua[o+8]
			va[o] = va[o+8]
		}
	} else {
		corner := byte(127)
		if mby > 0 {
			corner = 129
		}
		ya[yOrig-bps-1] = corner
		ua[cOrig-bps-1] = corner
		va[cOrig-bps-1] = corner
		for o := yOrig - 1; o < yOrig+16*bps-1; o += bps {
			ya[o] = 129
		}
		for o := cOrig - 1; o < cOrig+8*bps-1; o += bps {
			ua[o] = 129
			va[o] = 129
		}
	}
	// The row above (luma: and the four pixels above right), in words
	// rather than through memmove.
	le := binary.LittleEndian
	ty := d.topY[1+16*mbx : 1+16*mbx+20]
	le.PutUint64(ya[yOrig-bps:], le.Uint64(ty))
	le.PutUint64(ya[yOrig-bps+8:], le.Uint64(ty[8:]))
	le.PutUint32(ya[yOrig-bps+16:], le.Uint32(ty[16:]))
	le.PutUint64(ua[cOrig-bps:], le.Uint64(d.topU[1+8*mbx:]))
	le.PutUint64(va[cOrig-bps:], le.Uint64(d.topV[1+8*mbx:]))

	c := &m.coeffs
	if m.ymode == modeB {
		// The above-right pixels of sub-blocks on the right column are
		// those of the macroblock above-right, for every sub-block row.
		tr := le.Uint32(ya[yOrig-bps+16:])
		le.PutUint32(ya[yOrig+3*bps+16:], tr)
		le.PutUint32(ya[yOrig+7*bps+16:], tr)
		le.PutUint32(ya[yOrig+11*bps+16:], tr)
		for b := 0; b < 16; b++ {
			off := yOrig + (b>>2)*4*bps + (b&3)*4
			pred4(yw, off, m.bmodes[b])
			addResidual(m.kinds[b], (*[16]int16)(c[b*16:b*16+16]), yw, off)
		}
	} else {
		pred16(&d.ywork, m.ymode, mbx > 0, mby > 0)
		if !m.skip {
			for b := 0; b < 16; b++ {
				if k := m.kinds[b]; k != kindEmpty {
					addResidual(k, (*[16]int16)(c[b*16:b*16+16]), yw, yOrig+(b>>2)*4*bps+(b&3)*4)
				}
			}
		}
	}
	pred8(&d.uwork, m.uvmode, mbx > 0, mby > 0)
	pred8(&d.vwork, m.uvmode, mbx > 0, mby > 0)
	if !m.skip {
		for b := 0; b < 4; b++ {
			off := cOrig + (b>>1)*4*bps + (b&1)*4
			addResidual(m.kinds[16+b], (*[16]int16)(c[(16+b)*16:(16+b)*16+16]), uw, off)
			addResidual(m.kinds[20+b], (*[16]int16)(c[(20+b)*16:(20+b)*16+16]), vw, off)
		}
	}

	// Copy out, eight bytes at a time.
	ys := d.ystride
	yo := mby*16*ys + mbx*16
	for o := yOrig; o < yOrig+16*bps; o += bps {
		dst := d.y[yo : yo+16]
		le.PutUint64(dst, le.Uint64(ya[o:]))
		le.PutUint64(dst[8:], le.Uint64(ya[o+8:]))
		yo += ys
	}
	cs := d.cstride
	co := mby*8*cs + mbx*8
	for o := cOrig; o < cOrig+8*bps; o += bps {
		le.PutUint64(d.u[co:co+8], le.Uint64(ua[o:]))
		le.PutUint64(d.v[co:co+8], le.Uint64(va[o:]))
		co += cs
	}
	ty = d.topY[1+16*mbx : 1+16*mbx+16]
	le.PutUint64(ty, le.Uint64(ya[yOrig+15*bps:]))
	le.PutUint64(ty[8:], le.Uint64(ya[yOrig+15*bps+8:]))
	le.PutUint64(d.topU[1+8*mbx:], le.Uint64(ua[cOrig+7*bps:]))
	le.PutUint64(d.topV[1+8*mbx:], le.Uint64(va[cOrig+7*bps:]))
	if mbx == d.mbw-1 {
		last := d.topY[16*d.mbw]
		for i := 1; i <= 4; i++ {
			d.topY[16*d.mbw+i] = last
		}
	}
}
