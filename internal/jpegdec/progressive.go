package jpegdec

import "math/bits"

// progressiveScan decodes a scan of a progressive frame into the
// coefficient store (T.81 G.1.2).
func (d *decoder) progressiveScan(sc *scan) error {
	for i := range sc.ns {
		d.comps[sc.comp[i]].pred = 0
	}
	d.eobrun = 0
	rs := rstState{left: d.ri}
	if sc.ns == 1 {
		c := &d.comps[sc.comp[0]]
		total := c.nbx * c.nby
		for by := range c.nby {
			if err := d.poll.Work(c.nbx * (sc.se - sc.ss + 1)); err != nil {
				return err
			}
			for bx := range c.nbx {
				if err := d.progBlock(sc, 0, c, by*c.bw+bx); err != nil {
					return err
				}
				if err := d.endMCU(sc, &rs, by*c.nbx+bx+1 < total); err != nil {
					return err
				}
			}
		}
		return nil
	}
	total := d.mcusX * d.mcusY
	rowWork := d.mcusX * d.mcuBlocks(sc) // DC only: interleaved scans code nothing else
	for my := range d.mcusY {
		if err := d.poll.Work(rowWork); err != nil {
			return err
		}
		for mx := range d.mcusX {
			for i := range sc.ns {
				c := &d.comps[sc.comp[i]]
				for y := range c.v {
					for x := range c.h {
						if err := d.progBlock(sc, i, c, (my*c.v+y)*c.bw+mx*c.h+x); err != nil {
							return err
						}
					}
				}
			}
			if err := d.endMCU(sc, &rs, my*d.mcusX+mx+1 < total); err != nil {
				return err
			}
		}
	}
	return nil
}

// progBlock decodes the part of block bi of component c that scan sc
// carries; i is the component's index in the scan.
func (d *decoder) progBlock(sc *scan, i int, c *component, bi int) error {
	k := c.keepN
	coef := c.coef[bi*k : bi*k+k]
	var nz *uint64
	if c.nz != nil {
		nz = &c.nz[bi]
	}
	br := &d.br
	switch {
	case sc.ss == 0 && sc.ah == 0: // first DC scan (G.1.2.1)
		s, ok := br.decode(&d.huff[0][sc.td[i]])
		if !ok {
			return errBadCode
		}
		if s > 16 {
			return corrupt("bad DC coefficient size")
		}
		c.pred += extend(br.bits(s), s)
		coef[0] = int16(c.pred << sc.al)
	case sc.ss == 0: // DC refinement
		if br.bit() {
			coef[0] |= 1 << sc.al
		}
	case sc.ah == 0:
		return d.acFirst(coef, nz, &c.keep, &d.huff[1][sc.ta[i]], sc)
	default:
		return d.acRefine(coef, nz, &c.keep, &d.huff[1][sc.ta[i]], sc)
	}
	return nil
}

// acFirst decodes the first scan of a band of AC coefficients
// (T.81 G.1.2.2) for one block. Like decodeBlock, it keeps the bit
// accumulator in local variables.
func (d *decoder) acFirst(coef []int16, nz *uint64, keep *[64]uint8, t *huffTable, sc *scan) error {
	if d.eobrun > 0 {
		d.eobrun--
		return nil
	}
	br := &d.br
	acc, n := br.acc, br.n
	se, al := sc.se, sc.al
	var nzb uint64
	for k := sc.ss; k <= se; {
		if n < 32 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		p := acc >> (64 - fastBits)
		if e := t.acFast[p]; e != 0 {
			k += int(e>>8) & 15
			l := uint(e & 255)
			acc <<= l
			n -= l
			if k > se {
				break
			}
			if i := int(keep[k&63]); i < len(coef) {
				coef[i] = int16(e >> 16 << al)
			}
			nzb |= 1 << uint(k&63)
			k++
			continue
		}
		var sym, l uint
		if e := t.fast[p]; e != 0 {
			sym, l = uint(e&255), uint(e>>8)
		} else if sym, l = t.slow(acc); l == 0 {
			return errBadCode
		}
		acc <<= l
		n -= l
		r, s := int(sym>>4), sym&15
		if s == 0 {
			if r < 15 {
				run := 1<<r - 1
				if r > 0 {
					run += int(acc >> (64 - uint(r)))
					acc <<= uint(r)
					n -= uint(r)
				}
				d.eobrun = run
				break
			}
			k += 16
			continue
		}
		k += r
		v := int32(acc >> (64 - s))
		acc <<= s
		n -= s
		if k > se {
			break
		}
		if i := int(keep[k&63]); i < len(coef) {
			coef[i] = int16(extend(v, s) << al)
		}
		nzb |= 1 << uint(k&63)
		k++
	}
	br.acc, br.n = acc, n
	if nz != nil {
		*nz |= nzb
	}
	return nil
}

// acRefine decodes a refinement scan of a band of AC coefficients
// (T.81 G.1.2.3) for one block: one correction bit for every coefficient
// that is already nonzero, and new coefficients of magnitude 1<<al among
// the zero ones. Which coefficients are nonzero comes from the block's
// bitmap, so that coefficients the scale drops are decoded correctly too.
func (d *decoder) acRefine(coef []int16, nz *uint64, keep *[64]uint8, t *huffTable, sc *scan) error {
	if nz == nil {
		return corrupt("unexpected refinement scan")
	}
	br := &d.br
	acc, n := br.acc, br.n
	p1 := int16(1) << sc.al
	se := sc.se
	nzb := *nz
	// correct applies a set correction bit to the coefficient at k.
	correct := func(k int) {
		if i := int(keep[k&63]); i < len(coef) {
			if c := coef[i]; c&p1 == 0 {
				if c >= 0 {
					coef[i] = c + p1
				} else {
					coef[i] = c - p1
				}
			}
		}
	}
	k := sc.ss
	if d.eobrun == 0 {
		for k <= se {
			if n < 32 {
				br.acc, br.n = acc, n
				br.fill()
				acc, n = br.acc, br.n
			}
			var sym, l uint
			if e := t.fast[acc>>(64-fastBits)]; e != 0 {
				sym, l = uint(e&255), uint(e>>8)
			} else if sym, l = t.slow(acc); l == 0 {
				return errBadCode
			}
			acc <<= l
			n -= l
			r, s := int(sym>>4), sym&15
			var val int16
			if s != 0 {
				if s != 1 {
					return corrupt("bad refinement coefficient size")
				}
				val = -p1
				if acc>>63 != 0 {
					val = p1
				}
				acc <<= 1
				n--
			} else if r != 15 {
				run := 1 << r
				if r > 0 {
					run += int(acc >> (64 - uint(r)))
					acc <<= uint(r)
					n -= uint(r)
				}
				d.eobrun = run
				break
			}
			// Skip r coefficients that are still zero, correcting the
			// nonzero ones on the way, and put val in the next zero one.
			for ; k <= se; k++ {
				if nzb&(1<<uint(k&63)) != 0 {
					if n == 0 {
						br.acc, br.n = acc, n
						br.fill()
						acc, n = br.acc, br.n
					}
					if acc>>63 != 0 {
						correct(k)
					}
					acc <<= 1
					n--
					continue
				}
				if r == 0 {
					if val != 0 {
						if i := int(keep[k&63]); i < len(coef) {
							coef[i] = val
						}
						nzb |= 1 << uint(k&63)
					}
					k++
					break
				}
				r--
			}
		}
	}
	if d.eobrun > 0 {
		// The rest of the band is in an EOB run: only correction bits.
		if k <= se {
			m := nzb >> uint(k) << uint(k)
			if se < 63 {
				m &= 2<<uint(se) - 1
			}
			for m != 0 {
				j := bits.TrailingZeros64(m)
				m &= m - 1
				if n == 0 {
					br.acc, br.n = acc, n
					br.fill()
					acc, n = br.acc, br.n
				}
				if acc>>63 != 0 {
					correct(j)
				}
				acc <<= 1
				n--
			}
		}
		d.eobrun--
	}
	br.acc, br.n = acc, n
	*nz = nzb
	return nil
}

// outside4 is −1 (all ones) at the natural positions outside the top-left
// 4×4 of a block, 0 inside.
var outside4 = func() (m [64]int16) {
	for j := range m {
		if j&7 >= 4 || j >= 32 {
			m[j] = -1
		}
	}
	return m
}()

// outside4zz has bit k set for the zig-zag positions outside the top-left
// 4×4 of a block.
var outside4zz = func() (m uint64) {
	for k := range 64 {
		if j := zigzag[k]; j&7 >= 4 || j >= 32 {
			m |= 1 << k
		}
	}
	return m
}()

// dequantSparse dequantises the full-size block src, whose nonzero AC
// coefficients are at the zig-zag positions set in ac, into d.blk and
// returns its shape.
func (d *decoder) dequantSparse(c *component, src []int16, ac uint64) int {
	blk := (*[64]int32)(d.blk[:64])
	*blk = [64]int32{}
	src = src[:64]
	blk[0] = int32(src[0]) * c.qr[0]
	if ac == 0 {
		return shapeDC
	}
	shape := shapeLow
	if ac&outside4zz != 0 {
		shape = shapeFull
	}
	for ac != 0 {
		j := zigzag[bits.TrailingZeros64(ac)] & 63
		ac &= ac - 1
		blk[j] = int32(src[j]) * c.qr[j]
	}
	return shape
}

// reconstruct dequantises the coefficient store of a progressive frame and
// writes the pixels, releasing the store component by component. It polls
// d.poll once per block row.
func (d *decoder) reconstruct() error {
	for ci := range d.ncomp {
		c := &d.comps[ci]
		if !c.quantLatched {
			continue // never scanned: no data
		}
		kn, bs := c.keepN, c.bs
		for by := range c.bh {
			if err := d.poll.Work(c.bw * (kn + bs*bs)); err != nil {
				return err
			}
			for bx := range c.bw {
				bi := by*c.bw + bx
				src := c.coef[bi*kn : bi*kn+kn]
				if kn == 64 && c.nz != nil {
					// The bitmap of nonzero coefficients (kept for the
					// refinement scans) says which to dequantise and the
					// block's shape: most blocks have a few.
					d.writeBlock(c.pix[(by*c.stride+bx)*bs:], c.stride, 1, d.dequantSparse(c, src, c.nz[bi]&^1))
					continue
				}
				d.blk[0] = int32(src[0]) * c.qr[0]
				var ac, high int16 // ORs of the AC and the outside-4×4 coefficients
				for j := 1; j < len(src); j++ {
					v := src[j]
					d.blk[j] = int32(v) * c.qr[j]
					ac |= v
					high |= v & outside4[j&63]
				}
				shape := shapeFull
				if ac == 0 {
					shape = shapeDC
				} else if high == 0 {
					shape = shapeLow
				}
				d.writeBlock(c.pix[(by*c.stride+bx)*bs:], c.stride, c.scale, shape)
			}
		}
		int16Pool.put(c.coef)
		nzPool.put(c.nz)
		c.coef, c.nz = nil, nil
	}
	return nil
}
