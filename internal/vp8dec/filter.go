package vp8dec

// The loop filter (RFC 6386 section 15), applied to the planes one
// macroblock row at a time, in raster order.

func abs32(x int32) int32 {
	m := x >> 31
	return (x ^ m) - m
}

// sclamp clamps to a signed byte.
func sclamp(v int32) int32 {
	if v < -128 {
		return -128
	}
	if v > 127 {
		return 127
	}
	return v
}

// ub converts a signed value back to a pixel.
func ub(v int32) byte { return byte(sclamp(v) + 128) }

// simpleEdge filters n pixels across an edge: pix[o-2*step..o+step] for o
// advancing by along.
func simpleEdge(pix []byte, off, step, along, n int, limit int32) {
	for i := 0; i < n; i++ {
		o := off + i*along
		p1, p0 := int32(pix[o-2*step]), int32(pix[o-step])
		q0, q1 := int32(pix[o]), int32(pix[o+step])
		if abs32(p0-q0)*2+abs32(p1-q1)>>1 > limit {
			continue
		}
		a := sclamp(sclamp(p1-q1) + 3*(q0-p0))
		f1 := sclamp(a+4) >> 3
		f2 := sclamp(a+3) >> 3
		pix[o] = ub(q0 - 128 - f1)
		pix[o-step] = ub(p0 - 128 + f2)
	}
}

// normalEdge filters n pixels across a macroblock edge (mb) or an inner
// edge.
func normalEdge(pix []byte, off, step, along, n int, limit, interior, hevT int32, mb bool) {
	for i := 0; i < n; i++ {
		o := off + i*along
		p3, p2 := int32(pix[o-4*step]), int32(pix[o-3*step])
		p1, p0 := int32(pix[o-2*step]), int32(pix[o-step])
		q0, q1 := int32(pix[o]), int32(pix[o+step])
		q2, q3 := int32(pix[o+2*step]), int32(pix[o+3*step])
		if abs32(p0-q0)*2+abs32(p1-q1)>>1 > limit ||
			abs32(p3-p2) > interior || abs32(p2-p1) > interior || abs32(p1-p0) > interior ||
			abs32(q3-q2) > interior || abs32(q2-q1) > interior || abs32(q1-q0) > interior {
			continue
		}
		hev := abs32(p1-p0) > hevT || abs32(q1-q0) > hevT
		// Signed values.
		sp1, sp0, sq0, sq1 := p1-128, p0-128, q0-128, q1-128
		if mb {
			if hev {
				a := sclamp(sclamp(sp1-sq1) + 3*(sq0-sp0))
				f1 := sclamp(a+4) >> 3
				f2 := sclamp(a+3) >> 3
				pix[o] = ub(sq0 - f1)
				pix[o-step] = ub(sp0 + f2)
				continue
			}
			sp2, sq2 := p2-128, q2-128
			w := sclamp(sclamp(sp1-sq1) + 3*(sq0-sp0))
			a := sclamp((27*w + 63) >> 7)
			pix[o] = ub(sq0 - a)
			pix[o-step] = ub(sp0 + a)
			a = sclamp((18*w + 63) >> 7)
			pix[o+step] = ub(sq1 - a)
			pix[o-2*step] = ub(sp1 + a)
			a = sclamp((9*w + 63) >> 7)
			pix[o+2*step] = ub(sq2 - a)
			pix[o-3*step] = ub(sp2 + a)
			continue
		}
		var a int32
		if hev {
			a = sclamp(sclamp(sp1-sq1) + 3*(sq0-sp0))
		} else {
			a = sclamp(3 * (sq0 - sp0))
		}
		f1 := sclamp(a+4) >> 3
		f2 := sclamp(a+3) >> 3
		pix[o] = ub(sq0 - f1)
		pix[o-step] = ub(sp0 + f2)
		if !hev {
			a = (f1 + 1) >> 1
			pix[o+step] = ub(sq1 - a)
			pix[o-2*step] = ub(sp1 + a)
		}
	}
}

// filterRow filters macroblock row mby (and the bottom of the row above,
// which its top edges reach into).
func (d *decoder) filterRow(mby int) {
	ys, cs := d.ystride, d.cstride
	for mbx := 0; mbx < d.mbw; mbx++ {
		f := d.finfo[mby*d.mbw+mbx]
		if f.limit == 0 {
			continue
		}
		limit := int32(f.limit)
		yo := mby*16*ys + mbx*16
		co := mby*8*cs + mbx*8
		if d.simpleFilter {
			if mbx > 0 {
				simpleEdge(d.y, yo, 1, ys, 16, limit+4)
			}
			if f.inner {
				for x := 4; x < 16; x += 4 {
					simpleEdge(d.y, yo+x, 1, ys, 16, limit)
				}
			}
			if mby > 0 {
				simpleEdge(d.y, yo, ys, 1, 16, limit+4)
			}
			if f.inner {
				for y := 4; y < 16; y += 4 {
					simpleEdge(d.y, yo+y*ys, ys, 1, 16, limit)
				}
			}
			continue
		}
		in, hev := int32(f.interior), int32(f.hev)
		if mbx > 0 {
			normalEdge(d.y, yo, 1, ys, 16, limit+4, in, hev, true)
			normalEdge(d.u, co, 1, cs, 8, limit+4, in, hev, true)
			normalEdge(d.v, co, 1, cs, 8, limit+4, in, hev, true)
		}
		if f.inner {
			for x := 4; x < 16; x += 4 {
				normalEdge(d.y, yo+x, 1, ys, 16, limit, in, hev, false)
			}
			normalEdge(d.u, co+4, 1, cs, 8, limit, in, hev, false)
			normalEdge(d.v, co+4, 1, cs, 8, limit, in, hev, false)
		}
		if mby > 0 {
			normalEdge(d.y, yo, ys, 1, 16, limit+4, in, hev, true)
			normalEdge(d.u, co, cs, 1, 8, limit+4, in, hev, true)
			normalEdge(d.v, co, cs, 1, 8, limit+4, in, hev, true)
		}
		if f.inner {
			for y := 4; y < 16; y += 4 {
				normalEdge(d.y, yo+y*ys, ys, 1, 16, limit, in, hev, false)
			}
			normalEdge(d.u, co+4*cs, cs, 1, 8, limit, in, hev, false)
			normalEdge(d.v, co+4*cs, cs, 1, 8, limit, in, hev, false)
		}
	}
}
