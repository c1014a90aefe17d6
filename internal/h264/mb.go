package h264

// Macroblock coding: the candidates (skip, inter, intra), their residual,
// reconstruction and syntax.

// loadSrc copies the source macroblock at (mbx, mby) into e.sy, e.scb, e.scr.
func (e *Encoder) loadSrc(mbx, mby int, sy *[256]uint8, scb, scr *[64]uint8) {
	p := e.src
	for y := range 16 {
		copy(sy[16*y:16*y+16], p.y[(mby*16+y)*p.ys+mbx*16:])
	}
	for y := range 8 {
		copy(scb[8*y:8*y+8], p.cb[(mby*8+y)*p.cs+mbx*8:])
		copy(scr[8*y:8*y+8], p.cr[(mby*8+y)*p.cs+mbx*8:])
	}
}

// mbScratch is the per-macroblock working memory of an Encoder.
type mbScratch struct {
	sy       [256]uint8
	scb, scr [64]uint8
	py       [256]uint8
	pcb, pcr [64]uint8
}

// codeMB chooses how to code the macroblock at (mbx, mby) and returns the
// chosen candidate, with its reconstruction.
func (e *Encoder) codeMB(mbx, mby int, intraOnly bool) *mbCand {
	s := &e.scratch
	e.loadSrc(mbx, mby, &s.sy, &s.scb, &s.scr)
	if intraOnly {
		c := e.codeIntra(mbx, mby, false)
		e.pcmFallback(c, mbx, mby)
		return c
	}
	a, b, cn := e.neighbours(mbx, mby)
	mvp := predMV(a, b, cn)

	skip := &e.cands[0]
	skip.kind = kindSkip
	skip.mv = skipMV(a, b, cn)
	skip.nzY, skip.nzC = [16]uint8{}, [2][4]uint8{}
	e.predInter(mbx, mby, skip.mv, &skip.y, &skip.cb, &skip.cr)
	skip.ssd = ssd(s.sy[:], skip.y[:]) + ssd(s.scb[:], skip.cb[:]) + ssd(s.scr[:], skip.cr[:])
	skip.bits = 1
	if skip.ssd == 0 {
		return skip
	}
	best := skip

	inter := &e.cands[1]
	// Candidates: the neighbours' vectors, and those the previous picture
	// had here and just right of and below here (not coded yet in this
	// one): an animation's motion often lasts.
	cands := [8][2]int32{skip.mv, a.mv, b.mv, cn.mv}
	n := 4
	for _, d := range [3][2]int{{0, 0}, {1, 0}, {0, 1}} {
		if x, y := mbx+d[0], mby+d[1]; x < e.mbw && y < e.mbh {
			if m := &e.mbs[y*e.mbw+x]; m.inter {
				cands[n] = m.mv
				n++
			}
		}
	}
	mv := e.search(mbx, mby, mvp, cands[:n]...)
	e.codeInter(inter, mbx, mby, mv, mvp)
	e.measure(inter, mbx, mby, true)
	if e.cost(inter) < e.cost(best) {
		best = inter
	}

	// Intra prediction is tried where inter prediction leaves a residual.
	if best.kind == kindSkip || best.cbpL != 0 || best.cbpC != 0 {
		if intra := e.codeIntra(mbx, mby, true); e.cost(intra) < e.cost(best) {
			best = intra
		}
	}
	e.pcmFallback(best, mbx, mby)
	return best
}

// codeIntra codes the macroblock as Intra 16×16 and as Intra 4×4, and
// returns the cheaper.
func (e *Encoder) codeIntra(mbx, mby int, pslice bool) *mbCand {
	i16, i4 := &e.cands[2], &e.cands[3]
	e.codeIntra16(i16, mbx, mby)
	e.measure(i16, mbx, mby, pslice)
	// Intra 4×4 cannot do much better where the 16×16 prediction leaves
	// no luma residual, nor where the samples are noise (I_PCM then).
	if i16.cbpL == 0 || i16.bits > pcmBits {
		return i16
	}
	e.codeIntra4(i4, mbx, mby, i16)
	e.measure(i4, mbx, mby, pslice)
	if e.cost(i4) < e.cost(i16) {
		return i4
	}
	return i16
}

func (e *Encoder) cost(c *mbCand) float64 { return float64(c.ssd) + e.lambda*float64(c.bits) }

// measure sets the candidate's distortion and size in bits.
func (e *Encoder) measure(c *mbCand, mbx, mby int, pslice bool) {
	s := &e.scratch
	c.ssd = ssd(s.sy[:], c.y[:]) + ssd(s.scb[:], c.cb[:]) + ssd(s.scr[:], c.cr[:])
	t := &e.tmp
	t.counting, t.count = true, 0
	e.writeMB(t, mbx, mby, c, pslice)
	c.bits = t.count
}

// pcmBits is the size of an I_PCM macroblock's samples.
const pcmBits = 384 * 8

// pcmFallback turns c into an I_PCM macroblock when its coded size would
// exceed that of its samples, which bounds every picture's size.
func (e *Encoder) pcmFallback(c *mbCand, mbx, mby int) {
	if c.kind == kindSkip || c.bits <= pcmBits {
		return
	}
	s := &e.scratch
	c.kind = kindPCM
	c.y, c.cb, c.cr = s.sy, s.scb, s.scr
	for i := range c.nzY {
		c.nzY[i] = 16
	}
	for k := range 2 {
		for i := range 4 {
			c.nzC[k][i] = 16
		}
	}
}

func ssd(a, b []uint8) int64 {
	var s int64
	for i := range a {
		d := int64(a[i]) - int64(b[i])
		s += d * d
	}
	return s
}

// satd4x4 sums the absolute Hadamard-transformed differences of the 4×4
// block at offset off (stride st) of a and b.
func satd4x4(a, b []uint8, off, st int) int32 {
	var d [16]int32
	for y := range 4 {
		for x := range 4 {
			d[4*y+x] = int32(a[off+y*st+x]) - int32(b[off+y*st+x])
		}
	}
	hadamard4x4(&d)
	var s int32
	for _, v := range d {
		s += max(v, -v)
	}
	return s
}

func satd16(a, b *[256]uint8) int32 {
	var s int32
	for by := range 4 {
		for bx := range 4 {
			s += satd4x4(a[:], b[:], 64*by+4*bx, 16)
		}
	}
	return s
}

func satd8(a, b *[64]uint8) int32 {
	var s int32
	for by := range 2 {
		for bx := range 2 {
			s += satd4x4(a[:], b[:], 32*by+4*bx, 8)
		}
	}
	return s
}

// codeIntra16 codes the macroblock as Intra 16×16 with the luma and chroma
// modes of least SATD.
func (e *Encoder) codeIntra16(c *mbCand, mbx, mby int) {
	s := &e.scratch
	c.kind = kindI16
	best := int32(-1)
	for mode := range 4 {
		if !lumaModeOK(mbx, mby, mode) {
			continue
		}
		predLuma16(e.rec, mbx, mby, mode, &s.py)
		if d := satd16(&s.sy, &s.py); best < 0 || d < best {
			best, c.i16 = d, mode
		}
	}
	predLuma16(e.rec, mbx, mby, c.i16, &s.py)
	best = -1
	for mode := range 4 {
		if !chromaModeOK(mbx, mby, mode) {
			continue
		}
		predChroma(e.rec.cb, e.rec.cs, mbx, mby, mode, &s.pcb)
		predChroma(e.rec.cr, e.rec.cs, mbx, mby, mode, &s.pcr)
		if d := satd8(&s.scb, &s.pcb) + satd8(&s.scr, &s.pcr); best < 0 || d < best {
			best, c.cmode = d, mode
		}
	}
	predChroma(e.rec.cb, e.rec.cs, mbx, mby, c.cmode, &s.pcb)
	predChroma(e.rec.cr, e.rec.cs, mbx, mby, c.cmode, &s.pcr)
	e.codeLuma(c, &s.py, true)
	e.codeChroma(c, true)
}

// codeInter codes the macroblock as P_L0_16x16 with motion vector mv.
func (e *Encoder) codeInter(c *mbCand, mbx, mby int, mv, mvp [2]int32) {
	s := &e.scratch
	c.kind = kindInter
	c.mv = mv
	c.mvd = [2]int32{mv[0] - mvp[0], mv[1] - mvp[1]}
	e.predInter(mbx, mby, mv, &s.py, &s.pcb, &s.pcr)
	e.codeLuma(c, &s.py, false)
	e.codeChroma(c, false)
}

// decimateScore rates a block of ±1 levels by how cheaply they could be
// dropped: isolated ones after long runs of zeros matter least.
var decimateScore = [16]int{3, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

func blockScore(l []int32) int {
	score, run := 0, 0
	for _, v := range l {
		switch {
		case v == 0:
			run++
			continue
		case v > 1 || v < -1:
			return 1 << 10
		}
		score += decimateScore[run]
		run = 0
	}
	return score
}

// codeLuma transforms, quantises and reconstructs the luma residual
// against pred. For Intra 16×16 the DC coefficients go through the
// Hadamard transform and the AC ones are all coded or none (cbp 0 or 15);
// for inter macroblocks each 8×8 quadrant is coded or not, and quadrants
// holding only a few isolated ±1 levels are dropped.
func (e *Encoder) codeLuma(c *mbCand, pred *[256]uint8, i16 bool) {
	s := &e.scratch
	q := &e.q
	f := q.fInter
	if i16 {
		f = q.fIntra
	}
	var coef [16][16]int32 // per block (raster), raster positions
	var dcs [16]int32
	for bi := range 16 {
		bx, by := bi&3, bi>>2
		b := &coef[bi]
		for y := range 4 {
			for x := range 4 {
				o := 16*(4*by+y) + 4*bx + x
				b[4*y+x] = int32(s.sy[o]) - int32(pred[o])
			}
		}
		forward4x4(b)
		lv := &c.ac[bi]
		start := 0
		if i16 {
			dcs[bi], lv[0], start = b[0], 0, 1
		}
		for k := start; k < 16; k++ {
			lv[k] = q.quant(b[zigzag[k]], int(zigzag[k]), f)
		}
	}
	c.cbpL = 0
	c.nzY = [16]uint8{}
	if i16 {
		hadamard4x4(&dcs)
		for k := range 16 {
			v := dcs[zigzag[k]]
			v = (v + v>>31&1) >> 1 // halve, rounding towards zero
			c.dc[k] = q.quantDC(v, q.fIntra)
		}
		for bi := range 16 {
			for _, v := range c.ac[bi][1:] {
				if v != 0 {
					c.cbpL = 15
				}
			}
		}
		if c.cbpL != 0 {
			for bi := range 16 {
				c.nzY[bi] = count(c.ac[bi][1:])
			}
		}
	} else {
		total := 0
		var scores [4]int
		for bi := range 16 {
			q8 := (bi>>3)<<1 | (bi&3)>>1
			scores[q8] += blockScore(c.ac[bi][:])
		}
		for _, sc := range scores {
			total += sc
		}
		for q8, sc := range scores {
			if sc >= 4 && total >= 6 {
				c.cbpL |= 1 << q8
			}
		}
		for bi := range 16 {
			q8 := (bi>>3)<<1 | (bi&3)>>1
			if c.cbpL>>q8&1 == 0 {
				c.ac[bi] = [16]int32{}
			} else {
				c.nzY[bi] = count(c.ac[bi][:])
			}
		}
		for q8 := range 4 { // a quadrant whose levels all vanished is not coded
			if c.cbpL>>q8&1 == 0 {
				continue
			}
			n := 0
			for _, bi := range quadrantBlocks[q8] {
				n += int(c.nzY[bi])
			}
			if n == 0 {
				c.cbpL &^= 1 << q8
			}
		}
	}
	// Reconstruction, as the decoder does it.
	var dcY [16]int32
	if i16 {
		var m [16]int32
		for k := range 16 {
			m[zigzag[k]] = c.dc[k]
		}
		hadamard4x4(&m)
		for i := range 16 {
			dcY[i] = q.dequantLumaDC(m[i])
		}
	}
	for bi := range 16 {
		bx, by := bi&3, bi>>2
		var d [16]int32
		any := false
		if i16 {
			d[0] = dcY[bi]
			any = d[0] != 0
		}
		for k, l := range c.ac[bi] {
			if l != 0 && (k > 0 || !i16) {
				d[zigzag[k]] = q.dequant(l, int(zigzag[k]))
				any = true
			}
		}
		if any {
			inverse4x4(&d)
		}
		for y := range 4 {
			for x := range 4 {
				o := 16*(4*by+y) + 4*bx + x
				c.y[o] = clip1(int32(pred[o]) + d[4*y+x])
			}
		}
	}
}

// quadrantBlocks lists the raster 4×4 blocks of each 8×8 quadrant.
var quadrantBlocks = [4][4]int{{0, 1, 4, 5}, {2, 3, 6, 7}, {8, 9, 12, 13}, {10, 11, 14, 15}}

func count(l []int32) uint8 {
	n := uint8(0)
	for _, v := range l {
		if v != 0 {
			n++
		}
	}
	return n
}

// codeChroma transforms, quantises and reconstructs both chroma residuals
// against e.scratch.pcb and pcr.
func (e *Encoder) codeChroma(c *mbCand, intra bool) {
	s := &e.scratch
	q := &e.qc
	f := q.fInter
	if intra {
		f = q.fIntra
	}
	srcs := [2]*[64]uint8{&s.scb, &s.scr}
	preds := [2]*[64]uint8{&s.pcb, &s.pcr}
	recs := [2]*[64]uint8{&c.cb, &c.cr}
	anyDC, anyAC := false, false
	for k := range 2 {
		var dc [4]int32
		for bi := range 4 {
			bx, by := bi&1, bi>>1
			var b [16]int32
			for y := range 4 {
				for x := range 4 {
					o := 8*(4*by+y) + 4*bx + x
					b[4*y+x] = int32(srcs[k][o]) - int32(preds[k][o])
				}
			}
			forward4x4(&b)
			dc[bi] = b[0]
			lv := &c.cac[k][bi]
			lv[0] = 0
			for i := 1; i < 16; i++ {
				lv[i] = q.quant(b[zigzag[i]], int(zigzag[i]), f)
				if lv[i] != 0 {
					anyAC = true
				}
			}
		}
		h := [4]int32{dc[0] + dc[1] + dc[2] + dc[3], dc[0] - dc[1] + dc[2] - dc[3], dc[0] + dc[1] - dc[2] - dc[3], dc[0] - dc[1] - dc[2] + dc[3]}
		for i := range 4 {
			c.cdc[k][i] = q.quantDC(h[i], f)
			if c.cdc[k][i] != 0 {
				anyDC = true
			}
		}
	}
	switch {
	case anyAC:
		c.cbpC = 2
	case anyDC:
		c.cbpC = 1
	default:
		c.cbpC = 0
	}
	c.nzC = [2][4]uint8{}
	for k := range 2 {
		l := c.cdc[k]
		f := [4]int32{l[0] + l[1] + l[2] + l[3], l[0] - l[1] + l[2] - l[3], l[0] + l[1] - l[2] - l[3], l[0] - l[1] - l[2] + l[3]}
		for bi := range 4 {
			bx, by := bi&1, bi>>1
			var d [16]int32
			d[0] = q.dequantChromaDC(f[bi])
			any := d[0] != 0
			if c.cbpC == 2 {
				c.nzC[k][bi] = count(c.cac[k][bi][1:])
				for i := 1; i < 16; i++ {
					if l := c.cac[k][bi][i]; l != 0 {
						d[zigzag[i]] = q.dequant(l, int(zigzag[i]))
						any = true
					}
				}
			}
			if any {
				inverse4x4(&d)
			}
			for y := range 4 {
				for x := range 4 {
					o := 8*(4*by+y) + 4*bx + x
					recs[k][o] = clip1(int32(preds[k][o]) + d[4*y+x])
				}
			}
		}
	}
}

// writeMB writes macroblock_layer (7.3.5) for c.
func (e *Encoder) writeMB(w *bitWriter, mbx, mby int, c *mbCand, pslice bool) {
	off := uint32(0)
	if pslice {
		off = 5 // intra macroblock types follow the five P types
	}
	switch c.kind {
	case kindPCM:
		w.ue(off + 25)
		w.align()
		for _, v := range c.y {
			w.u(8, uint32(v))
		}
		for _, v := range c.cb {
			w.u(8, uint32(v))
		}
		for _, v := range c.cr {
			w.u(8, uint32(v))
		}
		return
	case kindI16:
		t := 1 + uint32(c.i16) + 4*uint32(c.cbpC)
		if c.cbpL != 0 {
			t += 12
		}
		w.ue(off + t)
		w.ue(uint32(c.cmode)) // intra_chroma_pred_mode
		w.se(0)               // mb_qp_delta
		writeBlock(w, c.dc[:], e.lumaNC(mbx, mby, c, 0, 0))
		if c.cbpL != 0 {
			for _, xy := range blockXY {
				bx, by := int(xy[0]), int(xy[1])
				writeBlock(w, c.ac[4*by+bx][1:], e.lumaNC(mbx, mby, c, bx, by))
			}
		}
	case kindInter, kindI4:
		cbp := c.cbpL | c.cbpC<<4
		if c.kind == kindInter {
			w.ue(0) // P_L0_16x16
			w.se(c.mvd[0])
			w.se(c.mvd[1])
			w.ue(uint32(interCBPCode[cbp]))
		} else {
			w.ue(off) // I_NxN
			for _, xy := range blockXY {
				i := 4*int(xy[1]) + int(xy[0])
				switch m, pm := c.modes[i], c.predModes[i]; {
				case m == pm:
					w.u(1, 1) // prev_intra4x4_pred_mode_flag
				case m < pm:
					w.u(4, uint32(m)) // flag 0, rem_intra4x4_pred_mode
				default:
					w.u(4, uint32(m-1))
				}
			}
			w.ue(uint32(c.cmode))
			w.ue(uint32(intraCBPCode[cbp]))
		}
		if cbp == 0 {
			return
		}
		w.se(0) // mb_qp_delta
		for i, xy := range blockXY {
			if c.cbpL>>(i>>2)&1 == 0 {
				continue
			}
			bx, by := int(xy[0]), int(xy[1])
			writeBlock(w, c.ac[4*by+bx][:], e.lumaNC(mbx, mby, c, bx, by))
		}
	}
	if c.cbpC != 0 {
		writeBlock(w, c.cdc[0][:], -1)
		writeBlock(w, c.cdc[1][:], -1)
	}
	if c.cbpC == 2 {
		for k := range 2 {
			for bi := range 4 {
				writeBlock(w, c.cac[k][bi][1:], e.chromaNC(mbx, mby, c, k, bi&1, bi>>1))
			}
		}
	}
}

// lumaNC is nC for the luma block at (bx, by) of the macroblock at (mbx,
// mby) being coded as c (9.2.1).
func (e *Encoder) lumaNC(mbx, mby int, c *mbCand, bx, by int) int {
	na, nb := -1, -1
	switch {
	case bx > 0:
		na = int(c.nzY[4*by+bx-1])
	case mbx > 0:
		na = int(e.mbs[mby*e.mbw+mbx-1].nzY[4*by+3])
	}
	switch {
	case by > 0:
		nb = int(c.nzY[4*(by-1)+bx])
	case mby > 0:
		nb = int(e.mbs[(mby-1)*e.mbw+mbx].nzY[12+bx])
	}
	return combineNC(na, nb)
}

// chromaNC is nC for chroma AC block (bx, by) of component k.
func (e *Encoder) chromaNC(mbx, mby int, c *mbCand, k, bx, by int) int {
	na, nb := -1, -1
	switch {
	case bx > 0:
		na = int(c.nzC[k][2*by])
	case mbx > 0:
		na = int(e.mbs[mby*e.mbw+mbx-1].nzC[k][2*by+1])
	}
	switch {
	case by > 0:
		nb = int(c.nzC[k][bx])
	case mby > 0:
		nb = int(e.mbs[(mby-1)*e.mbw+mbx].nzC[k][2+bx])
	}
	return combineNC(na, nb)
}

// combineNC combines the counts of the left and upper blocks (−1: not
// available).
func combineNC(na, nb int) int {
	switch {
	case na >= 0 && nb >= 0:
		return (na + nb + 1) >> 1
	case na >= 0:
		return na
	case nb >= 0:
		return nb
	}
	return 0
}
