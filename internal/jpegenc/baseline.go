package jpegenc

import "math/bits"

// Baseline sequential Huffman coding (T.81 F.1.2): one interleaved scan
// (non-interleaved for greyscale), MCUs left to right, top to bottom.

// baselineRow writes the MCUs of MCU row my, whose blocks are stored at
// block row my·v of each component.
func (e *encoder) baselineRow(my int) {
	for mx := range e.mcusX {
		for ci := range e.ncomp {
			c := &e.comps[ci]
			dc, ac := &e.enc[c.tq], &e.enc[2+c.tq]
			for by := range c.v {
				base := ((my*c.v+by)*c.bw + mx*c.h) * 64
				for bx := range c.h {
					o := base + bx*64
					e.writeBlock((*[64]int16)(c.coef[o:o+64]), c.mask[o/64], &c.pred, dc, ac)
				}
			}
		}
	}
}

// countRow gathers the symbol statistics of MCU row my into e.freq,
// visiting the blocks exactly as baselineRow writes them.
func (e *encoder) countRow(my int) {
	for mx := range e.mcusX {
		for ci := range e.ncomp {
			c := &e.comps[ci]
			dc, ac := &e.freq[c.tq], &e.freq[2+c.tq]
			for by := range c.v {
				base := ((my*c.v+by)*c.bw + mx*c.h) * 64
				for bx := range c.h {
					o := base + bx*64
					countBlock((*[64]int16)(c.coef[o:o+64]), c.mask[o/64], &c.pred, dc, ac)
				}
			}
		}
	}
}

// magnitude returns the size category of v (T.81 Table F.1/F.2: the number
// of bits of |v|) and the extra bits that follow the Huffman code: v itself
// when positive, v−1 in the low bits (the ones' complement of |v|) when
// negative.
func magnitude(v int32) (uint, uint32) {
	m := v >> 31 // all ones when negative
	a := (v ^ m) - m
	s := uint(bits.Len32(uint32(a)))
	return s, uint32(v+m) & (1<<s - 1)
}

// writeBlock Huffman-codes one block: the DC difference, then runs of zero
// AC coefficients ending in a non-zero one, with ZRL for 16 zeros and EOB
// for a run that reaches the end of the block. mask has bit k set for each
// non-zero coefficient k, so that only those are visited.
func (e *encoder) writeBlock(b *[64]int16, mask uint64, pred *int32, dc, ac *huffEnc) {
	d := int32(b[0]) - *pred
	*pred = int32(b[0])
	s, x := magnitude(d)
	c := dc[s]
	e.out.emit((c&0xffff)<<s|x, uint(c>>16)+s)

	prev := 0
	for m := mask &^ 1; m != 0; m &= m - 1 {
		k := bits.TrailingZeros64(m)
		run := k - prev - 1
		prev = k
		for run > 15 {
			c := ac[0xf0]
			e.out.emit(c&0xffff, uint(c>>16))
			run -= 16
		}
		s, x := magnitude(int32(b[k&63]))
		c := ac[run<<4|int(s)]
		e.out.emit((c&0xffff)<<s|x, uint(c>>16)+s)
	}
	if prev < 63 {
		c := ac[0x00]
		e.out.emit(c&0xffff, uint(c>>16))
	}
}

// countBlock tallies the symbols writeBlock would write for b.
func countBlock(b *[64]int16, mask uint64, pred *int32, dc, ac *huffFreq) {
	d := int32(b[0]) - *pred
	*pred = int32(b[0])
	s, _ := magnitude(d)
	dc[s]++

	prev := 0
	for m := mask &^ 1; m != 0; m &= m - 1 {
		k := bits.TrailingZeros64(m)
		run := k - prev - 1
		prev = k
		ac[0xf0] += int64(run >> 4)
		s, _ := magnitude(int32(b[k&63]))
		ac[(run&15)<<4|int(s)]++
	}
	if prev < 63 {
		ac[0x00]++
	}
}

// writeOptimizedBaseline writes the tables built from the statistics of
// the transform pass, then the scan from the stored coefficients. It polls
// e.poll once per MCU row.
func (e *encoder) writeOptimizedBaseline() error {
	e.tabs = e.tabs[:0]
	for slot := range 4 {
		id := slot & 1
		if id == 1 && e.ncomp == 1 {
			continue
		}
		e.addOptimalTable(slot, slot>>1, id)
	}
	e.writeDHT(e.tabs)
	e.writeSOS(e.allComps(), 0, 63, 0, 0)
	e.resetPred()
	for my := range e.mcusY {
		if err := e.poll.Work(e.mcuRowWork / 2); err != nil {
			return err
		}
		e.baselineRow(my)
		e.out.maybeFlush()
	}
	e.out.align()
	return nil
}
