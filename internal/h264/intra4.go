package h264

// Intra 4×4 prediction (8.3.1) and coding: sixteen 4×4 blocks, each
// predicted from its reconstructed neighbours in one of nine directions,
// coded and reconstructed in turn.

// Intra 4×4 prediction modes.
const (
	i4Vertical = iota
	i4Horizontal
	i4DC
	i4DiagDownLeft
	i4DiagDownRight
	i4VerticalRight
	i4HorizontalDown
	i4VerticalLeft
	i4HorizontalUp
)

// blkIdx is luma4x4BlkIdx of the 4×4 block at (bx, by) of a macroblock.
func blkIdx(bx, by int) int { return 4*(2*(by>>1)+bx>>1) + 2*(by&1) + bx&1 }

// edge4 holds the neighbours of a 4×4 block: p[-1,-1], p[0..7,-1] and
// p[-1,0..3], with their availability.
type edge4 struct {
	corner                        int32
	top                           [8]int32
	left                          [4]int32
	haveTop, haveLeft, haveCorner bool
}

// edge4At gathers the neighbours of block (bx, by) of the macroblock at
// (mbx, mby), whose earlier blocks are reconstructed in y.
func (e *Encoder) edge4At(mbx, mby, bx, by int, y *[256]uint8) edge4 {
	var g edge4
	r := e.rec
	// at returns the reconstructed sample at (x, y) relative to the
	// macroblock: inside it from y, outside from the picture.
	at := func(x, yy int) int32 {
		if x >= 0 && yy >= 0 && x < 16 {
			return int32(y[16*yy+x])
		}
		return int32(r.y[(mby*16+yy)*r.ys+mbx*16+x])
	}
	x0, y0 := 4*bx, 4*by
	g.haveLeft = bx > 0 || mbx > 0
	g.haveTop = by > 0 || mby > 0
	g.haveCorner = g.haveLeft && g.haveTop
	if g.haveLeft {
		for i := range 4 {
			g.left[i] = at(x0-1, y0+i)
		}
	}
	if g.haveTop {
		for i := range 4 {
			g.top[i] = at(x0+i, y0-1)
		}
		// The samples above right: decoded before this block?
		topRight := false
		switch {
		case by == 0:
			topRight = bx < 3 || mbx+1 < e.mbw
		case bx < 3:
			topRight = blkIdx(bx+1, by-1) < blkIdx(bx, by)
		}
		for i := 4; i < 8; i++ {
			if topRight {
				g.top[i] = at(x0+i, y0-1)
			} else {
				g.top[i] = g.top[3]
			}
		}
	}
	if g.haveCorner {
		g.corner = at(x0-1, y0-1)
	}
	return g
}

// modeOK4 reports whether an Intra 4×4 mode can be used with g.
func modeOK4(g *edge4, mode int) bool {
	switch mode {
	case i4Vertical, i4DiagDownLeft, i4VerticalLeft:
		return g.haveTop
	case i4Horizontal, i4HorizontalUp:
		return g.haveLeft
	case i4DiagDownRight, i4VerticalRight, i4HorizontalDown:
		return g.haveCorner
	}
	return true
}

// pred4 writes the Intra 4×4 prediction of mode into out (raster order).
func pred4(g *edge4, mode int, out *[16]int32) {
	// p returns p[x, y] for x = −1 or y = −1.
	p := func(x, y int) int32 {
		switch {
		case x < 0 && y < 0:
			return g.corner
		case y < 0:
			return g.top[x]
		}
		return g.left[y]
	}
	for y := range 4 {
		for x := range 4 {
			var v int32
			switch mode {
			case i4Vertical:
				v = p(x, -1)
			case i4Horizontal:
				v = p(-1, y)
			case i4DC:
				var s int32
				switch {
				case g.haveTop && g.haveLeft:
					for i := range 4 {
						s += g.top[i] + g.left[i]
					}
					v = (s + 4) >> 3
				case g.haveLeft:
					for i := range 4 {
						s += g.left[i]
					}
					v = (s + 2) >> 2
				case g.haveTop:
					for i := range 4 {
						s += g.top[i]
					}
					v = (s + 2) >> 2
				default:
					v = 128
				}
			case i4DiagDownLeft:
				if x == 3 && y == 3 {
					v = (p(6, -1) + 3*p(7, -1) + 2) >> 2
				} else {
					v = (p(x+y, -1) + 2*p(x+y+1, -1) + p(x+y+2, -1) + 2) >> 2
				}
			case i4DiagDownRight:
				switch {
				case x > y:
					v = (p(x-y-2, -1) + 2*p(x-y-1, -1) + p(x-y, -1) + 2) >> 2
				case x < y:
					v = (p(-1, y-x-2) + 2*p(-1, y-x-1) + p(-1, y-x) + 2) >> 2
				default:
					v = (p(0, -1) + 2*p(-1, -1) + p(-1, 0) + 2) >> 2
				}
			case i4VerticalRight:
				z := 2*x - y
				switch {
				case z >= 0 && z&1 == 0:
					v = (p(x-(y>>1)-1, -1) + p(x-(y>>1), -1) + 1) >> 1
				case z > 0:
					v = (p(x-(y>>1)-2, -1) + 2*p(x-(y>>1)-1, -1) + p(x-(y>>1), -1) + 2) >> 2
				case z == -1:
					v = (p(-1, 0) + 2*p(-1, -1) + p(0, -1) + 2) >> 2
				default:
					v = (p(-1, y-1) + 2*p(-1, y-2) + p(-1, y-3) + 2) >> 2
				}
			case i4HorizontalDown:
				z := 2*y - x
				switch {
				case z >= 0 && z&1 == 0:
					v = (p(-1, y-(x>>1)-1) + p(-1, y-(x>>1)) + 1) >> 1
				case z > 0:
					v = (p(-1, y-(x>>1)-2) + 2*p(-1, y-(x>>1)-1) + p(-1, y-(x>>1)) + 2) >> 2
				case z == -1:
					v = (p(-1, 0) + 2*p(-1, -1) + p(0, -1) + 2) >> 2
				default:
					v = (p(x-1, -1) + 2*p(x-2, -1) + p(x-3, -1) + 2) >> 2
				}
			case i4VerticalLeft:
				if y&1 == 0 {
					v = (p(x+(y>>1), -1) + p(x+(y>>1)+1, -1) + 1) >> 1
				} else {
					v = (p(x+(y>>1), -1) + 2*p(x+(y>>1)+1, -1) + p(x+(y>>1)+2, -1) + 2) >> 2
				}
			case i4HorizontalUp:
				z := x + 2*y
				switch {
				case z < 5 && z&1 == 0:
					v = (p(-1, y+(x>>1)) + p(-1, y+(x>>1)+1) + 1) >> 1
				case z < 5:
					v = (p(-1, y+(x>>1)) + 2*p(-1, y+(x>>1)+1) + p(-1, y+(x>>1)+2) + 2) >> 2
				case z == 5:
					v = (p(-1, 2) + 3*p(-1, 3) + 2) >> 2
				default:
					v = p(-1, 3)
				}
			}
			out[4*y+x] = v
		}
	}
}

// predictedMode4 is predIntra4x4PredMode of block (bx, by) (8.3.1.1): the
// lesser of the modes of the blocks left and above, DC (2) for a block of
// a macroblock coded otherwise, and DC for both when either macroblock is
// outside the picture.
func (e *Encoder) predictedMode4(mbx, mby, bx, by int, c *mbCand) uint8 {
	if (bx == 0 && mbx == 0) || (by == 0 && mby == 0) {
		return i4DC
	}
	a, b := uint8(i4DC), uint8(i4DC)
	if bx > 0 {
		a = c.modes[4*by+bx-1]
	} else if m := &e.mbs[mby*e.mbw+mbx-1]; m.i4 {
		a = m.modes[4*by+3]
	}
	if by > 0 {
		b = c.modes[4*(by-1)+bx]
	} else if m := &e.mbs[(mby-1)*e.mbw+mbx]; m.i4 {
		b = m.modes[12+bx]
	}
	return min(a, b)
}

// codeIntra4 codes the macroblock as Intra 4×4: for each block in
// decoding order, the mode of least SATD (plus the cost of signalling it),
// then its residual and reconstruction, which the next blocks predict
// from. The chroma is that of the Intra 16×16 candidate (same prediction).
func (e *Encoder) codeIntra4(c *mbCand, mbx, mby int, chroma *mbCand) {
	s := &e.scratch
	q := &e.q
	c.kind = kindI4
	c.nzY = [16]uint8{}
	for blk := range 16 {
		bx, by := int(blockXY[blk][0]), int(blockXY[blk][1])
		ri := 4*by + bx
		g := e.edge4At(mbx, mby, bx, by, &c.y)
		pm := e.predictedMode4(mbx, mby, bx, by, c)
		var src [16]int32
		for y := range 4 {
			for x := range 4 {
				src[4*y+x] = int32(s.sy[16*(4*by+y)+4*bx+x])
			}
		}
		best, bestCost := -1, int32(0)
		var pred [16]int32
		for mode := range 9 {
			if !modeOK4(&g, mode) {
				continue
			}
			pred4(&g, mode, &pred)
			var d [16]int32
			for i := range d {
				d[i] = src[i] - pred[i]
			}
			hadamard4x4(&d)
			cost := int32(0)
			for _, v := range d {
				cost += max(v, -v)
			}
			cost /= 2
			if uint8(mode) == pm {
				cost += e.lambdaMV
			} else {
				cost += 4 * e.lambdaMV
			}
			if best < 0 || cost < bestCost {
				best, bestCost = mode, cost
			}
		}
		c.modes[ri], c.predModes[ri] = uint8(best), pm
		pred4(&g, best, &pred)
		b := &c.ac[ri]
		var coef [16]int32
		for i := range coef {
			coef[i] = src[i] - pred[i]
		}
		forward4x4(&coef)
		any := false
		for k := range 16 {
			b[k] = q.quant(coef[zigzag[k]], int(zigzag[k]), q.fIntra)
			any = any || b[k] != 0
		}
		var d [16]int32
		if any {
			c.nzY[ri] = count(b[:])
			for k, l := range b {
				if l != 0 {
					d[zigzag[k]] = q.dequant(l, int(zigzag[k]))
				}
			}
			inverse4x4(&d)
		}
		for y := range 4 {
			for x := range 4 {
				c.y[16*(4*by+y)+4*bx+x] = clip1(pred[4*y+x] + d[4*y+x])
			}
		}
	}
	c.cbpL = 0
	for q8, blocks := range quadrantBlocks {
		for _, bi := range blocks {
			if c.nzY[bi] != 0 {
				c.cbpL |= 1 << q8
			}
		}
	}
	c.cmode, c.cbpC, c.cdc, c.cac, c.nzC = chroma.cmode, chroma.cbpC, chroma.cdc, chroma.cac, chroma.nzC
	c.cb, c.cr = chroma.cb, chroma.cr
}
