package vp8dec

// The loop filter (RFC 6386 section 15), applied to the planes one
// macroblock row at a time, in raster order. Each edge kind has its own
// loop, for edges across rows (h: the pixels of one side are contiguous)
// and across columns (v), so that the compiler can drop the bounds checks
// from the inner loops.

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

// simpleH filters an edge between rows: the n pixels at pix[o:] and those
// above them (stride s).
func simpleH(pix []byte, o, s, n int, limit int32) {
	q0 := pix[o : o+n]
	q1 := pix[o+s:][:len(q0)]
	p0 := pix[o-s:][:len(q0)]
	p1 := pix[o-2*s:][:len(q0)]
	for i := range q0 {
		a0, a1, b0, b1 := int32(p0[i]), int32(p1[i]), int32(q0[i]), int32(q1[i])
		if abs32(a0-b0)*2+abs32(a1-b1)>>1 > limit {
			continue
		}
		a := sclamp(sclamp(a1-b1) + 3*(b0-a0))
		q0[i] = ub(b0 - 128 - sclamp(a+4)>>3)
		p0[i] = ub(a0 - 128 + sclamp(a+3)>>3)
	}
}

// simpleV filters an edge between columns: the pixel at pix[o] and those
// left of it, for n rows of stride s.
func simpleV(pix []byte, o, s, n int, limit int32) {
	for r := 0; r < n; r++ {
		b := pix[o+r*s-2 : o+r*s+2]
		a1, a0, b0, b1 := int32(b[0]), int32(b[1]), int32(b[2]), int32(b[3])
		if abs32(a0-b0)*2+abs32(a1-b1)>>1 > limit {
			continue
		}
		a := sclamp(sclamp(a1-b1) + 3*(b0-a0))
		b[2] = ub(b0 - 128 - sclamp(a+4)>>3)
		b[1] = ub(a0 - 128 + sclamp(a+3)>>3)
	}
}

// mbH filters a macroblock edge between rows.
func mbH(pix []byte, o, s, n int, limit, interior, hevT int32) {
	q0 := pix[o : o+n]
	q1 := pix[o+s:][:len(q0)]
	q2 := pix[o+2*s:][:len(q0)]
	q3 := pix[o+3*s:][:len(q0)]
	p0 := pix[o-s:][:len(q0)]
	p1 := pix[o-2*s:][:len(q0)]
	p2 := pix[o-3*s:][:len(q0)]
	p3 := pix[o-4*s:][:len(q0)]
	for i := range q0 {
		x3, x2, x1, x0 := int32(p3[i]), int32(p2[i]), int32(p1[i]), int32(p0[i])
		y0, y1, y2, y3 := int32(q0[i]), int32(q1[i]), int32(q2[i]), int32(q3[i])
		if abs32(x0-y0)*2+abs32(x1-y1)>>1 > limit ||
			abs32(x3-x2) > interior || abs32(x2-x1) > interior || abs32(x1-x0) > interior ||
			abs32(y3-y2) > interior || abs32(y2-y1) > interior || abs32(y1-y0) > interior {
			continue
		}
		w := sclamp(sclamp(x1-y1) + 3*(y0-x0))
		if abs32(x1-x0) > hevT || abs32(y1-y0) > hevT {
			q0[i] = ub(y0 - 128 - sclamp(w+4)>>3)
			p0[i] = ub(x0 - 128 + sclamp(w+3)>>3)
			continue
		}
		a := (27*w + 63) >> 7
		q0[i] = ub(y0 - 128 - a)
		p0[i] = ub(x0 - 128 + a)
		a = (18*w + 63) >> 7
		q1[i] = ub(y1 - 128 - a)
		p1[i] = ub(x1 - 128 + a)
		a = (9*w + 63) >> 7
		q2[i] = ub(y2 - 128 - a)
		p2[i] = ub(x2 - 128 + a)
	}
}

// mbV filters a macroblock edge between columns.
func mbV(pix []byte, o, s, n int, limit, interior, hevT int32) {
	for r := 0; r < n; r++ {
		b := pix[o+r*s-4 : o+r*s+4]
		x3, x2, x1, x0 := int32(b[0]), int32(b[1]), int32(b[2]), int32(b[3])
		y0, y1, y2, y3 := int32(b[4]), int32(b[5]), int32(b[6]), int32(b[7])
		if abs32(x0-y0)*2+abs32(x1-y1)>>1 > limit ||
			abs32(x3-x2) > interior || abs32(x2-x1) > interior || abs32(x1-x0) > interior ||
			abs32(y3-y2) > interior || abs32(y2-y1) > interior || abs32(y1-y0) > interior {
			continue
		}
		w := sclamp(sclamp(x1-y1) + 3*(y0-x0))
		if abs32(x1-x0) > hevT || abs32(y1-y0) > hevT {
			b[4] = ub(y0 - 128 - sclamp(w+4)>>3)
			b[3] = ub(x0 - 128 + sclamp(w+3)>>3)
			continue
		}
		a := (27*w + 63) >> 7
		b[4] = ub(y0 - 128 - a)
		b[3] = ub(x0 - 128 + a)
		a = (18*w + 63) >> 7
		b[5] = ub(y1 - 128 - a)
		b[2] = ub(x1 - 128 + a)
		a = (9*w + 63) >> 7
		b[6] = ub(y2 - 128 - a)
		b[1] = ub(x2 - 128 + a)
	}
}

// innerH filters an inner (sub-block) edge between rows.
func innerH(pix []byte, o, s, n int, limit, interior, hevT int32) {
	q0 := pix[o : o+n]
	q1 := pix[o+s:][:len(q0)]
	q2 := pix[o+2*s:][:len(q0)]
	q3 := pix[o+3*s:][:len(q0)]
	p0 := pix[o-s:][:len(q0)]
	p1 := pix[o-2*s:][:len(q0)]
	p2 := pix[o-3*s:][:len(q0)]
	p3 := pix[o-4*s:][:len(q0)]
	for i := range q0 {
		x3, x2, x1, x0 := int32(p3[i]), int32(p2[i]), int32(p1[i]), int32(p0[i])
		y0, y1, y2, y3 := int32(q0[i]), int32(q1[i]), int32(q2[i]), int32(q3[i])
		if abs32(x0-y0)*2+abs32(x1-y1)>>1 > limit ||
			abs32(x3-x2) > interior || abs32(x2-x1) > interior || abs32(x1-x0) > interior ||
			abs32(y3-y2) > interior || abs32(y2-y1) > interior || abs32(y1-y0) > interior {
			continue
		}
		if abs32(x1-x0) > hevT || abs32(y1-y0) > hevT {
			a := sclamp(sclamp(x1-y1) + 3*(y0-x0))
			q0[i] = ub(y0 - 128 - sclamp(a+4)>>3)
			p0[i] = ub(x0 - 128 + sclamp(a+3)>>3)
			continue
		}
		a := sclamp(3 * (y0 - x0))
		f1 := sclamp(a+4) >> 3
		q0[i] = ub(y0 - 128 - f1)
		p0[i] = ub(x0 - 128 + sclamp(a+3)>>3)
		a = (f1 + 1) >> 1
		q1[i] = ub(y1 - 128 - a)
		p1[i] = ub(x1 - 128 + a)
	}
}

// innerV filters an inner (sub-block) edge between columns.
func innerV(pix []byte, o, s, n int, limit, interior, hevT int32) {
	for r := 0; r < n; r++ {
		b := pix[o+r*s-4 : o+r*s+4]
		x3, x2, x1, x0 := int32(b[0]), int32(b[1]), int32(b[2]), int32(b[3])
		y0, y1, y2, y3 := int32(b[4]), int32(b[5]), int32(b[6]), int32(b[7])
		if abs32(x0-y0)*2+abs32(x1-y1)>>1 > limit ||
			abs32(x3-x2) > interior || abs32(x2-x1) > interior || abs32(x1-x0) > interior ||
			abs32(y3-y2) > interior || abs32(y2-y1) > interior || abs32(y1-y0) > interior {
			continue
		}
		if abs32(x1-x0) > hevT || abs32(y1-y0) > hevT {
			a := sclamp(sclamp(x1-y1) + 3*(y0-x0))
			b[4] = ub(y0 - 128 - sclamp(a+4)>>3)
			b[3] = ub(x0 - 128 + sclamp(a+3)>>3)
			continue
		}
		a := sclamp(3 * (y0 - x0))
		f1 := sclamp(a+4) >> 3
		b[4] = ub(y0 - 128 - f1)
		b[3] = ub(x0 - 128 + sclamp(a+3)>>3)
		a = (f1 + 1) >> 1
		b[5] = ub(y1 - 128 - a)
		b[2] = ub(x1 - 128 + a)
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
				simpleV(d.y, yo, ys, 16, limit+4)
			}
			if f.inner {
				simpleV(d.y, yo+4, ys, 16, limit)
				simpleV(d.y, yo+8, ys, 16, limit)
				simpleV(d.y, yo+12, ys, 16, limit)
			}
			if mby > 0 {
				simpleH(d.y, yo, ys, 16, limit+4)
			}
			if f.inner {
				simpleH(d.y, yo+4*ys, ys, 16, limit)
				simpleH(d.y, yo+8*ys, ys, 16, limit)
				simpleH(d.y, yo+12*ys, ys, 16, limit)
			}
			continue
		}
		in, hev := int32(f.interior), int32(f.hev)
		if mbx > 0 {
			mbV(d.y, yo, ys, 16, limit+4, in, hev)
			mbV(d.u, co, cs, 8, limit+4, in, hev)
			mbV(d.v, co, cs, 8, limit+4, in, hev)
		}
		if f.inner {
			innerV(d.y, yo+4, ys, 16, limit, in, hev)
			innerV(d.y, yo+8, ys, 16, limit, in, hev)
			innerV(d.y, yo+12, ys, 16, limit, in, hev)
			innerV(d.u, co+4, cs, 8, limit, in, hev)
			innerV(d.v, co+4, cs, 8, limit, in, hev)
		}
		if mby > 0 {
			mbH(d.y, yo, ys, 16, limit+4, in, hev)
			mbH(d.u, co, cs, 8, limit+4, in, hev)
			mbH(d.v, co, cs, 8, limit+4, in, hev)
		}
		if f.inner {
			innerH(d.y, yo+4*ys, ys, 16, limit, in, hev)
			innerH(d.y, yo+8*ys, ys, 16, limit, in, hev)
			innerH(d.y, yo+12*ys, ys, 16, limit, in, hev)
			innerH(d.u, co+4*cs, cs, 8, limit, in, hev)
			innerH(d.v, co+4*cs, cs, 8, limit, in, hev)
		}
	}
}
