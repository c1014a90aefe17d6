package jpegenc

import "math/bits"

// Progressive DCT-based coding (T.81 Annex G): spectral selection and
// successive approximation over the stored coefficients, with an optimal
// Huffman table per scan.

// scanDef is one scan of a progressive script.
type scanDef struct {
	comps  []int // component indices; several only for DC scans
	ss, se int   // spectral selection, zig-zag indices
	ah, al int   // successive approximation bit positions
}

// The scan scripts follow the structure of libjpeg's default progression
// for Y′CbCr: all DC at reduced precision first, then the first five luma
// AC coefficients at reduced precision (a usable preview soon), chroma AC
// (small, so one coarse scan each), the rest of luma AC, a refinement bit
// for luma AC, the last DC bit, and the last AC bits, luma last because it
// is usually the largest scan.
var (
	scriptColor = []scanDef{
		{comps: []int{0, 1, 2}, ss: 0, se: 0, ah: 0, al: 1},
		{comps: []int{0}, ss: 1, se: 5, ah: 0, al: 2},
		{comps: []int{2}, ss: 1, se: 63, ah: 0, al: 1},
		{comps: []int{1}, ss: 1, se: 63, ah: 0, al: 1},
		{comps: []int{0}, ss: 6, se: 63, ah: 0, al: 2},
		{comps: []int{0}, ss: 1, se: 63, ah: 2, al: 1},
		{comps: []int{0, 1, 2}, ss: 0, se: 0, ah: 1, al: 0},
		{comps: []int{2}, ss: 1, se: 63, ah: 1, al: 0},
		{comps: []int{1}, ss: 1, se: 63, ah: 1, al: 0},
		{comps: []int{0}, ss: 1, se: 63, ah: 1, al: 0},
	}
	scriptGray = []scanDef{
		{comps: []int{0}, ss: 0, se: 0, ah: 0, al: 1},
		{comps: []int{0}, ss: 1, se: 5, ah: 0, al: 2},
		{comps: []int{0}, ss: 6, se: 63, ah: 0, al: 2},
		{comps: []int{0}, ss: 1, se: 63, ah: 2, al: 1},
		{comps: []int{0}, ss: 0, se: 0, ah: 1, al: 0},
		{comps: []int{0}, ss: 1, se: 63, ah: 1, al: 0},
	}
)

// maxCorrBits bounds the buffered correction bits of a refinement scan; the
// pending end-of-band run is written out when they exceed it. (A variable
// so that tests can exercise the limit.)
var maxCorrBits = 1 << 16

// maxEOBRun is the longest end-of-band run a symbol can code (EOB14 with 14
// extra bits).
const maxEOBRun = 0x7fff

// writeProgressive writes the scans of the script, each from the stored
// coefficients, polling e.poll every few block rows.
func (e *encoder) writeProgressive() error {
	script := scriptColor
	if e.ncomp == 1 {
		script = scriptGray
	}
	for i := range script {
		sc := &script[i]
		if sc.ss == 0 && sc.ah > 0 {
			// DC refinement: one raw bit per block, no Huffman table.
			e.writeSOS(sc.comps, sc.ss, sc.se, sc.ah, sc.al)
			if err := e.scan(sc); err != nil {
				return err
			}
			e.out.align()
			continue
		}
		e.freq = [4]huffFreq{}
		e.counting = true
		err := e.scan(sc)
		e.counting = false
		if err != nil {
			return err
		}

		e.tabs = e.tabs[:0]
		if sc.ss == 0 {
			for t := range 2 {
				if e.usesTable(sc, t) {
					e.addOptimalTable(t, 0, t)
				}
			}
		} else {
			e.addOptimalTable(2, 1, 0)
		}
		e.writeDHT(e.tabs)
		e.writeSOS(sc.comps, sc.ss, sc.se, sc.ah, sc.al)
		if err := e.scan(sc); err != nil {
			return err
		}
		e.out.align()
	}
	return nil
}

// usesTable reports whether a component of scan sc uses DC table t.
func (e *encoder) usesTable(sc *scanDef, t int) bool {
	for _, ci := range sc.comps {
		if e.comps[ci].tq == t {
			return true
		}
	}
	return false
}

// scan codes (or, when e.counting, tallies) one scan, polling e.poll once
// per block or MCU row.
func (e *encoder) scan(sc *scanDef) error {
	if sc.ss == 0 {
		e.resetPred()
		if len(sc.comps) == 1 {
			c := &e.comps[sc.comps[0]]
			for by := range c.cbh {
				if err := e.poll.Work(c.cbw); err != nil {
					return err
				}
				for bx := range c.cbw {
					e.dcBlock(c, (by*c.bw+bx)*64, sc)
				}
				e.out.maybeFlush()
			}
			return nil
		}
		for my := range e.mcusY {
			if err := e.poll.Work(e.mcusX * 6); err != nil {
				return err
			}
			for mx := range e.mcusX {
				for _, ci := range sc.comps {
					c := &e.comps[ci]
					for by := range c.v {
						base := ((my*c.v+by)*c.bw + mx*c.h) * 64
						for bx := range c.h {
							e.dcBlock(c, base+bx*64, sc)
						}
					}
				}
			}
			e.out.maybeFlush()
		}
		return nil
	}

	c := &e.comps[sc.comps[0]]
	e.eobrun = 0
	e.corr, e.be = e.corr[:0], 0
	// Bits ss..se: the coefficients of the band.
	band := (uint64(1)<<(sc.se-sc.ss+1) - 1) << sc.ss
	for by := range c.cbh {
		// A band's coefficients are visited by their non-zero mask.
		if err := e.poll.Work(c.cbw * (sc.se - sc.ss + 1) / 2); err != nil {
			return err
		}
		for bx := range c.cbw {
			i := by*c.bw + bx
			b := (*[64]int16)(c.coef[i*64:][:64])
			if sc.ah == 0 {
				e.acFirst(b, c.mask[i]&band, sc.ss, sc.se, uint(sc.al))
			} else {
				e.acRefine(b, c.mask[i]&band, sc.ss, sc.se, uint(sc.al))
			}
		}
		e.out.maybeFlush()
	}
	e.flushEOBRun()
	return nil
}

// sym writes symbol s with the table in slot t, or counts it.
func (e *encoder) sym(t int, s int) {
	if e.counting {
		e.freq[t][s]++
		return
	}
	c := e.enc[t][s]
	e.out.emit(c&0xffff, uint(c>>16))
}

// symBits writes symbol s followed by the n extra bits x, or counts s.
func (e *encoder) symBits(t int, s int, x uint32, n uint) {
	if e.counting {
		e.freq[t][s]++
		return
	}
	c := e.enc[t][s]
	e.out.emit((c&0xffff)<<n|x, uint(c>>16)+n)
}

// raw writes n bits that are not Huffman coded.
func (e *encoder) raw(x uint32, n uint) {
	if !e.counting {
		e.out.emit(x, n)
	}
}

// dcBlock codes the DC coefficient of the block at offset o of c's
// coefficients: in a first scan the difference of its value shifted right
// arithmetically by al (the point transform of G.1.2.1), in a refinement
// scan bit al of the value.
func (e *encoder) dcBlock(c *component, o int, sc *scanDef) {
	v := int32(c.coef[o]) >> uint(sc.al)
	if sc.ah > 0 {
		e.raw(uint32(v)&1, 1)
		return
	}
	d := v - c.pred
	c.pred = v
	s, x := magnitude(d)
	e.symBits(c.tq, int(s), x, s)
}

// flushEOBRun writes the pending end-of-band run, as EOBn (symbol n<<4)
// with the n low bits of the run, followed by the correction bits of the
// blocks in the run.
func (e *encoder) flushEOBRun() {
	if e.eobrun == 0 {
		return
	}
	n := uint(0)
	for e.eobrun>>(n+1) != 0 {
		n++
	}
	e.symBits(2, int(n<<4), uint32(e.eobrun)&(1<<n-1), n)
	e.eobrun = 0
	e.writeCorr(e.corr[:e.be])
	rest := copy(e.corr, e.corr[e.be:])
	e.corr, e.be = e.corr[:rest], 0
}

// writeCorr writes buffered correction bits.
func (e *encoder) writeCorr(bits []byte) {
	if e.counting {
		return
	}
	for _, b := range bits {
		e.out.emit(uint32(b), 1)
	}
}

// acFirst codes coefficients ss..se of b in a first AC scan (G.1.2.2): the
// values divided by 2^al (rounding towards zero) are run-length coded like
// baseline, except that blocks ending in zeros are gathered into
// end-of-band runs spanning blocks. mask holds the non-zero coefficients of
// the band.
func (e *encoder) acFirst(b *[64]int16, mask uint64, ss, se int, al uint) {
	prev := ss - 1 // last coefficient coded
	for ; mask != 0; mask &= mask - 1 {
		k := bits.TrailingZeros64(mask)
		v := int32(b[k&63])
		m := v >> 31
		a := ((v ^ m) - m) >> al
		if a == 0 {
			continue // zero at this precision
		}
		run := k - prev - 1
		prev = k
		e.flushEOBRun()
		for run > 15 {
			e.sym(2, 0xf0)
			run -= 16
		}
		v = (a ^ m) - m // the point-transformed value, sign restored
		s, x := magnitude(v)
		e.symBits(2, run<<4|int(s), x, s)
	}
	if prev < se {
		e.eobrun++
		if e.eobrun == maxEOBRun {
			e.flushEOBRun()
		}
	}
}

// acRefine codes bit al of coefficients ss..se of b in an AC refinement
// scan (G.1.2.3). Coefficients that became non-zero in an earlier scan
// (history) contribute one correction bit each, carried after the next
// symbol; newly non-zero ones (magnitude 1 at this precision) are coded as
// a run of zero-history coefficients and a sign bit. ZRL is written only
// when a newly non-zero coefficient follows in the block; otherwise the
// block ends with an end-of-band (run). mask holds the non-zero
// coefficients of the band; all others are zero-history zeros.
func (e *encoder) acRefine(b *[64]int16, mask uint64, ss, se int, al uint) {
	eob := -1 // index of the last newly non-zero coefficient
	for m := mask; m != 0; m &= m - 1 {
		k := bits.TrailingZeros64(m)
		v := int32(b[k&63])
		m := v >> 31
		if ((v^m)-m)>>al == 1 {
			eob = k
		}
	}
	run, prev := 0, ss-1
	for ; mask != 0; mask &= mask - 1 {
		k := bits.TrailingZeros64(mask)
		v := int32(b[k&63])
		m := v >> 31
		a := ((v ^ m) - m) >> al
		if a == 0 {
			continue // a zero at this precision
		}
		run += k - prev - 1
		prev = k
		for run > 15 && k <= eob {
			e.flushEOBRun()
			e.sym(2, 0xf0)
			run -= 16
			e.writeCorr(e.corr)
			e.corr = e.corr[:0]
		}
		if a > 1 {
			e.corr = append(e.corr, byte(a&1))
			continue
		}
		e.flushEOBRun()
		e.sym(2, run<<4|1)
		e.raw(uint32(^m)&1, 1) // 1 for positive
		e.writeCorr(e.corr)
		e.corr = e.corr[:0]
		run = 0
	}
	run += se - prev
	if run > 0 || len(e.corr) > e.be {
		e.eobrun++
		e.be = len(e.corr)
		if e.eobrun == maxEOBRun || e.be > maxCorrBits {
			e.flushEOBRun()
		}
	}
}
