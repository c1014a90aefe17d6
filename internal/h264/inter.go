package h264

// Inter prediction: motion vector prediction (8.4.1), motion compensation
// from the previous picture (8.4.2) and the motion search. Vectors are in
// quarter luma samples but always whole samples here (multiples of 4):
// the candidates are, and so are the medians of them.

// nb is a neighbouring macroblock's motion as vector prediction sees it.
type nb struct {
	avail bool     // inside the picture (and already coded)
	ref   int      // 0 for inter macroblocks, −1 for intra or unavailable
	mv    [2]int32 // zero unless ref is 0
}

func (e *Encoder) nbAt(x, y int) nb {
	if x < 0 || y < 0 || x >= e.mbw {
		return nb{ref: -1}
	}
	m := &e.mbs[y*e.mbw+x]
	if !m.inter {
		return nb{avail: true, ref: -1}
	}
	return nb{avail: true, mv: m.mv}
}

// neighbours returns A (left), B (above) and C (above right, or above left
// when that is not available) of the macroblock at (mbx, mby).
func (e *Encoder) neighbours(mbx, mby int) (a, b, c nb) {
	a, b, c = e.nbAt(mbx-1, mby), e.nbAt(mbx, mby-1), e.nbAt(mbx+1, mby-1)
	if !c.avail {
		c = e.nbAt(mbx-1, mby-1)
	}
	return a, b, c
}

func median(a, b, c int32) int32 {
	return max(min(a, b), min(max(a, b), c))
}

// predMV is the motion vector prediction of a 16×16 partition with
// reference index 0 (8.4.1.3).
func predMV(a, b, c nb) [2]int32 {
	if !b.avail && !c.avail && a.avail {
		b, c = a, a
	}
	switch {
	case a.ref == 0 && b.ref != 0 && c.ref != 0:
		return a.mv
	case a.ref != 0 && b.ref == 0 && c.ref != 0:
		return b.mv
	case a.ref != 0 && b.ref != 0 && c.ref == 0:
		return c.mv
	}
	return [2]int32{median(a.mv[0], b.mv[0], c.mv[0]), median(a.mv[1], b.mv[1], c.mv[1])}
}

// skipMV is the motion vector of a P_Skip macroblock (8.4.1.1).
func skipMV(a, b, c nb) [2]int32 {
	if !a.avail || !b.avail || (a.ref == 0 && a.mv == [2]int32{}) || (b.ref == 0 && b.mv == [2]int32{}) {
		return [2]int32{}
	}
	return predMV(a, b, c)
}

// predInter writes the motion-compensated prediction of the macroblock at
// (mbx, mby) with vector mv (whole luma samples).
func (e *Encoder) predInter(mbx, mby int, mv [2]int32, y *[256]uint8, cb, cr *[64]uint8) {
	r := e.ref
	lumaBlock(r, mbx*16+int(mv[0]>>2), mby*16+int(mv[1]>>2), y)
	chromaBlock(r.cb, r.cs, r.ch, mbx, mby, mv, cb)
	chromaBlock(r.cr, r.cs, r.ch, mbx, mby, mv, cr)
}

// lumaBlock copies the 16×16 block at (x, y) of p's luma, samples outside
// the picture taking the value of the nearest edge sample.
func lumaBlock(p *picture, x, y int, out *[256]uint8) {
	if x >= 0 && y >= 0 && x+16 <= p.ys && y+16 <= p.lh {
		for j := range 16 {
			copy(out[16*j:16*j+16], p.y[(y+j)*p.ys+x:])
		}
		return
	}
	for j := range 16 {
		row := p.y[min(max(y+j, 0), p.lh-1)*p.ys:][:p.ys]
		for i := range 16 {
			out[16*j+i] = row[min(max(x+i, 0), p.ys-1)]
		}
	}
}

// chromaBlock writes the 8×8 chroma prediction (bilinear, eighth samples)
// for luma vector mv.
func chromaBlock(pl []uint8, s, h, mbx, mby int, mv [2]int32, out *[64]uint8) {
	x0, y0 := mbx*8+int(mv[0]>>3), mby*8+int(mv[1]>>3)
	fx, fy := mv[0]&7, mv[1]&7
	at := func(x, y int) int32 {
		return int32(pl[min(max(y, 0), h-1)*s+min(max(x, 0), s-1)])
	}
	for j := range 8 {
		for i := range 8 {
			x, y := x0+i, y0+j
			if fx == 0 && fy == 0 {
				out[8*j+i] = uint8(at(x, y))
				continue
			}
			v := (8-fx)*(8-fy)*at(x, y) + fx*(8-fy)*at(x+1, y) + (8-fx)*fy*at(x, y+1) + fx*fy*at(x+1, y+1)
			out[8*j+i] = uint8((v + 32) >> 6)
		}
	}
}

// maxMotion bounds motion vectors, in whole samples.
const maxMotion = 64

// searchGoodEnough ends a motion search: a match within about half a level
// per sample cannot be improved in any way that matters.
const searchGoodEnough = 128

// searchBudget bounds the positions a search tries (where nothing matches,
// as in noise, it would try them all).
const searchBudget = 64

// sadAt is the sum of absolute differences between the source macroblock
// and the reference block at (x, y), stopping early above limit.
func (e *Encoder) sadAt(x, y int, limit int32) int32 {
	s := &e.scratch
	r := e.ref
	var sum int32
	if x >= 0 && y >= 0 && x+16 <= r.ys && y+16 <= r.lh {
		for j := range 16 {
			row := r.y[(y+j)*r.ys+x:][:16]
			src := s.sy[16*j : 16*j+16]
			for i, v := range row {
				d := int32(src[i]) - int32(v)
				sum += max(d, -d)
			}
			if sum > limit {
				return sum
			}
		}
		return sum
	}
	var blk [256]uint8
	lumaBlock(r, x, y, &blk)
	for i, v := range blk {
		d := int32(s.sy[i]) - int32(v)
		sum += max(d, -d)
	}
	return sum
}

// search finds a motion vector for the macroblock at (mbx, mby): the best
// of the candidates, refined by a pattern search of shrinking steps. The
// cost is SAD plus λ times the bits of the vector difference from mvp.
func (e *Encoder) search(mbx, mby int, mvp [2]int32, cands ...[2]int32) [2]int32 {
	x0, y0 := mbx*16, mby*16
	// Whole-sample vectors that keep the block within 16 samples of the
	// picture and within maxMotion.
	lo := func(p int) int { return max(-maxMotion, -16-p) }
	hiX, hiY := min(maxMotion, e.ref.ys-x0), min(maxMotion, e.ref.lh-y0)
	loX, loY := lo(x0), lo(y0)
	cost := func(dx, dy int, limit int32) int32 {
		mvd := seLen(int32(4*dx)-mvp[0]) + seLen(int32(4*dy)-mvp[1])
		return e.sadAt(x0+dx, y0+dy, limit) + e.lambdaMV*int32(mvd)
	}
	bx, by := 0, 0
	best := cost(0, 0, 1<<30)
	budget := searchBudget
	try := func(dx, dy int) bool {
		if dx < loX || dx > hiX || dy < loY || dy > hiY || budget == 0 {
			return false
		}
		budget--
		if c := cost(dx, dy, best); c < best {
			best, bx, by = c, dx, dy
			return true
		}
		return false
	}
	for _, c := range cands {
		try(int(c[0]>>2), int(c[1]>>2))
	}
	try(int(mvp[0]>>2), int(mvp[1]>>2))
	// The eight neighbours at shrinking steps: large steps find the pans
	// and jumps of animations that no neighbour predicts.
	for _, step := range [...]int{16, 8, 4, 2, 1} {
		for range 8 {
			if best <= searchGoodEnough {
				return [2]int32{int32(4 * bx), int32(4 * by)}
			}
			cx, cy := bx, by
			moved := false
			for _, d := range [8][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {1, -1}, {-1, 1}, {1, 1}} {
				if try(cx+d[0]*step, cy+d[1]*step) {
					moved = true
				}
			}
			if !moved {
				break
			}
		}
	}
	return [2]int32{int32(4 * bx), int32(4 * by)}
}
