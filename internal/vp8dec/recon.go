package vp8dec

import "encoding/binary"

// reconstruct predicts the current macroblock, adds its residual, copies it
// into the planes and keeps its unfiltered bottom row for the row below.
func (d *decoder) reconstruct(mbx, mby int, m *mbData) {
	yw, uw, vw := d.ywork[:], d.uwork[:], d.vwork[:]
	// Left column (and top-left corner): the previous macroblock's right
	// column, still in the work area, or the frame border.
	if mbx > 0 {
		for r := -1; r < 16; r++ {
			yw[yOrig+r*bps-1] = yw[yOrig+r*bps+15]
		}
		for r := -1; r < 8; r++ {
			uw[cOrig+r*bps-1] = uw[cOrig+r*bps+7]
			vw[cOrig+r*bps-1] = vw[cOrig+r*bps+7]
		}
	} else {
		corner := byte(127)
		if mby > 0 {
			corner = 129
		}
		yw[yOrig-bps-1] = corner
		uw[cOrig-bps-1] = corner
		vw[cOrig-bps-1] = corner
		for r := 0; r < 16; r++ {
			yw[yOrig+r*bps-1] = 129
		}
		for r := 0; r < 8; r++ {
			uw[cOrig+r*bps-1] = 129
			vw[cOrig+r*bps-1] = 129
		}
	}
	copy(yw[yOrig-bps:yOrig-bps+20], d.topY[1+16*mbx:])
	copy(uw[cOrig-bps:cOrig-bps+8], d.topU[1+8*mbx:])
	copy(vw[cOrig-bps:cOrig-bps+8], d.topV[1+8*mbx:])

	c := &m.coeffs
	if m.ymode == modeB {
		// The above-right pixels of sub-blocks on the right column are
		// those of the macroblock above-right, for every sub-block row.
		tr := yw[yOrig-bps+16 : yOrig-bps+20]
		copy(yw[yOrig+3*bps+16:], tr)
		copy(yw[yOrig+7*bps+16:], tr)
		copy(yw[yOrig+11*bps+16:], tr)
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
	le := binary.LittleEndian
	ys := d.ystride
	yo := mby*16*ys + mbx*16
	for r := 0; r < 16; r++ {
		dst := d.y[yo+r*ys : yo+r*ys+16]
		src := yw[yOrig+r*bps : yOrig+r*bps+16]
		le.PutUint64(dst, le.Uint64(src))
		le.PutUint64(dst[8:], le.Uint64(src[8:]))
	}
	cs := d.cstride
	co := mby*8*cs + mbx*8
	for r := 0; r < 8; r++ {
		le.PutUint64(d.u[co+r*cs:co+r*cs+8], le.Uint64(uw[cOrig+r*bps:]))
		le.PutUint64(d.v[co+r*cs:co+r*cs+8], le.Uint64(vw[cOrig+r*bps:]))
	}
	copy(d.topY[1+16*mbx:1+16*mbx+16], yw[yOrig+15*bps:])
	copy(d.topU[1+8*mbx:1+8*mbx+8], uw[cOrig+7*bps:])
	copy(d.topV[1+8*mbx:1+8*mbx+8], vw[cOrig+7*bps:])
	if mbx == d.mbw-1 {
		last := d.topY[16*d.mbw]
		for i := 1; i <= 4; i++ {
			d.topY[16*d.mbw+i] = last
		}
	}
}
