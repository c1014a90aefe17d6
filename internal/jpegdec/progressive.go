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
		if sc.ss > 0 {
			return d.acScan(sc, c, &rs)
		}
		total := c.nbx * c.nby
		for by := range c.nby {
			if err := d.poll.Work(c.nbx); err != nil {
				return err
			}
			for bx := range c.nbx {
				if err := d.dcBlock(sc, 0, c, by*c.bw+bx); err != nil {
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
						if err := d.dcBlock(sc, i, c, (my*c.v+y)*c.bw+mx*c.h+x); err != nil {
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

// dcBlock decodes the DC coefficient bits that scan sc carries for block
// bi of component c; i is the component's index in the scan.
func (d *decoder) dcBlock(sc *scan, i int, c *component, bi int) error {
	br := &d.br
	if sc.ah == 0 { // first DC scan (G.1.2.1)
		s, ok := br.decode(&d.huff[0][sc.td[i]])
		if !ok {
			return errBadCode
		}
		if s > 16 {
			return corrupt("bad DC coefficient size")
		}
		c.pred += extend(br.bits(s), s)
		c.coef[bi*c.keepN] = int16(c.pred << sc.al)
	} else if br.bit() { // DC refinement
		c.coef[bi*c.keepN] |= 1 << sc.al
	}
	return nil
}

// acScan decodes an AC scan (a single component, T.81 G.1.2.2 and
// G.1.2.3) a run of blocks at a time: a block row, or the part of it up to
// the next restart marker (or to the end of the data window, see ecs).
func (d *decoder) acScan(sc *scan, c *component, rs *rstState) error {
	if sc.ah != 0 && c.nz == nil {
		return corrupt("unexpected refinement scan")
	}
	b := acBand{
		t:    &d.huff[1][sc.ta[0]],
		ss:   sc.ss,
		se:   sc.se,
		al:   sc.al,
		band: ^uint64(0) << uint(sc.ss) & (^uint64(0) >> uint(63-sc.se)),
	}
	for k := range 64 {
		if c.keep[k] < 64 {
			b.kept |= 1 << uint(k)
		}
	}
	var e ecs
	defer e.release()
	e.start(d.data, d.br.pos)
	total := c.nbx * c.nby
	for by := range c.nby {
		if err := d.poll.Work(c.nbx * (sc.se - sc.ss + 1)); err != nil {
			return err
		}
		for bx := 0; bx < c.nbx; {
			m := c.nbx - bx
			if d.ri > 0 && rs.left < m {
				m = rs.left
			}
			for bi, left := by*c.bw+bx, m; left > 0; {
				k := min(left, e.room())
				var err error
				if sc.ah == 0 {
					err = d.acFirst(c, &b, &e, bi, k)
				} else {
					err = d.acRefine(c, &b, &e, bi, k)
				}
				if err != nil {
					if e.overrun() {
						return errTruncated
					}
					return err
				}
				bi += k
				left -= k
			}
			bx += m
			// endMCU looks for restart markers from the end of the
			// segment, and detects the overrun.
			d.br.reset(d.data, e.src)
			if e.overrun() {
				d.br.zeros = 1
			}
			if d.ri > 0 {
				rs.left -= m - 1 // endMCU counts the last one
			}
			more := by*c.nbx+bx < total
			if err := d.endMCU(sc, rs, more); err != nil {
				return err
			}
			if more && d.ri > 0 && rs.left == d.ri { // restarted
				e.start(d.data, d.br.pos)
			}
		}
	}
	return nil
}

// acBand is what the AC decoding loops need of a scan: its table, its
// band of zig-zag positions ss…se (and as a bitmap, band), its point
// transform al, and the bitmap of the zig-zag positions the component's
// scale keeps.
type acBand struct {
	t          *huffTable
	ss, se     int
	al         uint
	band, kept uint64
}

// acFirst decodes the first scan of a band of AC coefficients
// (T.81 G.1.2.2) for m blocks from block bi on. The bit accumulator lives
// in local variables. Up to the last coefficient the component's scale
// keeps, a table lookup gives a whole coefficient when its code and extra
// bits are short; after it, only the positions of the nonzero coefficients
// matter (for the refinement scans), and a lookup gives the run and the
// bits to drop.
func (d *decoder) acFirst(c *component, b *acBand, rd *ecs, bi, m int) error {
	buf, lim := rd.buf, rd.limit()
	acc, n, pos := rd.acc, rd.n, rd.pos
	t, ss, se, al := b.t, b.ss, b.se, b.al
	kl := min(c.keepLast, se) // last position whose value is kept
	kn := c.keepN
	keep := &c.keep
	eobrun := d.eobrun
	for ; m > 0; m, bi = m-1, bi+1 {
		if eobrun > 0 {
			eobrun--
			continue
		}
		coef := c.coef[bi*kn : bi*kn+kn]
		var nzb uint64
		k := ss
		for k <= kl {
			if n < 32 {
				acc, n, pos = refill(buf, lim, acc, n, pos)
			}
			p := acc >> (64 - fastBits)
			if e := t.acFast[p]; e != 0 {
				k += int(e>>8) & 15
				l := uint(e & 255)
				acc <<= l
				n -= l
				if k > se {
					k = 64
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
					eobrun = 1<<r - 1
					if r > 0 {
						eobrun += int(acc >> (64 - uint(r)))
						acc <<= uint(r)
						n -= uint(r)
					}
					k = 64
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
				k = 64
				break
			}
			if i := int(keep[k&63]); i < len(coef) {
				coef[i] = int16(extend(v, s) << al)
			}
			nzb |= 1 << uint(k&63)
			k++
		}
		// Past the kept coefficients: positions only.
		for k <= se {
			if n < 32 {
				acc, n, pos = refill(buf, lim, acc, n, pos)
			}
			e := uint(t.first[acc>>(64-fastBits)])
			if e == 0 {
				sym, l := t.slow(acc)
				if l == 0 {
					return errBadCode
				}
				e = firstEntry(l, sym)
			}
			l, r := e&255, int(e>>8)&15
			if e>>12 == firstEOB {
				// An EOB run: its length is in the r bits after the code.
				eobrun = 1<<r - 1 + int(acc>>(64-l)&(1<<r-1))
				acc <<= l
				n -= l
				break
			}
			acc <<= l
			n -= l
			if e>>12 == firstZRL {
				k += 16
				continue
			}
			k += r
			if k > se {
				break
			}
			nzb |= 1 << uint(k&63)
			k++
		}
		if c.nz != nil {
			c.nz[bi] |= nzb
		}
	}
	rd.acc, rd.n, rd.pos = acc, n, pos
	d.eobrun = eobrun
	return nil
}

// acRefine decodes a refinement scan of a band of AC coefficients
// (T.81 G.1.2.3) for m blocks from block bi on: one correction bit for
// every coefficient that is already nonzero, and new coefficients of
// magnitude 1<<al among the zero ones. Which coefficients are nonzero comes
// from the block's bitmap, so that coefficients the scale drops are decoded
// correctly too. The loops work on the bitmap, not coefficient by
// coefficient: a coded run of zero coefficients ends at the (r+1)-th zero
// bit of the bitmap, and the correction bits of the nonzero coefficients
// on the way (and of the rest of the band in an EOB run) are skipped at
// once when the scale keeps none of them. The loops make no calls, so that
// the compiler keeps their state in registers; coefficients the scale
// drops are written, unchanged, to the block's first (see refCoefAt).
func (d *decoder) acRefine(c *component, b *acBand, rd *ecs, bi, m int) error {
	buf, lim := rd.buf, rd.limit()
	acc, n, pos := rd.acc, rd.n, rd.pos
	t, band, kept := b.t, b.band, b.kept
	p1 := int16(1) << b.al
	kn := c.keepN
	keep := &c.keep
	eobrun := d.eobrun
	nz := c.nz[bi : bi+m]
	for j := range nz {
		coef := c.coef[(bi+j)*kn : (bi+j)*kn+kn]
		nzb := nz[j]
		rest := band // the positions still to decode
		for eobrun == 0 && rest != 0 {
			if n < 32 {
				acc, n, pos = refill(buf, lim, acc, n, pos)
			}
			var r uint
			var val int16
			if e := uint(t.ref[acc>>(64-fastBits)]); e&refCoef != 0 {
				// A new coefficient, its sign bit included.
				r = e >> 8 & 15
				neg := int16(e>>12&1) - 1
				val = p1 ^ neg - neg
				acc <<= e & 31
				n -= e & 31
			} else {
				var sym, l uint
				if e := t.fast[acc>>(64-fastBits)]; e != 0 {
					sym, l = uint(e&255), uint(e>>8)
				} else if sym, l = t.slow(acc); l == 0 {
					return errBadCode
				}
				acc <<= l & 31
				n -= l
				var s uint
				r, s = sym>>4, sym&15
				if s != 0 {
					if s != 1 {
						return corrupt("bad refinement coefficient size")
					}
					neg := int16(acc>>63) - 1
					val = p1 ^ neg - neg
					acc <<= 1
					n--
				} else if r != 15 {
					eobrun = 1<<r + int(acc>>(64-r)&(1<<r-1))
					acc <<= r & 15
					n -= r
					break
				}
			}
			// The coefficient goes to the (r+1)-th zero of the rest of
			// the band (r+1 = 16 zeros skipped for ZRL); without one, the
			// rest of the band only gets its correction bits.
			z := rest &^ nzb
			p := uint(64)
			if z != 0 {
				if tz := uint(bits.TrailingZeros64(z)); r < 8 {
					p = tz + uint(nthBit8[r<<8|uint(z>>tz&255)])
				}
				if p >= 64 || p-uint(bits.TrailingZeros64(z)) >= 8 {
					// Not in the byte from the lowest zero on: a byte
					// at a time.
					p = 64
					for i := uint(0); i < 64; i += 8 {
						b := uint(z >> i & 255)
						if c := uint(bits.OnesCount8(uint8(b))); r >= c {
							r -= c
							continue
						}
						p = i + uint(nthBit8[r<<8|b])
						break
					}
				}
			}
			corr := rest & nzb
			if p < 64 {
				low := uint64(1) << p
				corr &= low - 1
				rest &^= low<<1 - 1
				if val != 0 {
					i, mk := refCoefAt(keep, kept, p)
					coef[i] = coef[i]&^mk | val&mk
					nzb |= low
				}
			} else {
				rest = 0
			}
			if corr == 0 {
				continue
			}
			if corr&kept == 0 {
				cnt := popcount(corr)
				for cnt > n {
					acc <<= n & 63
					cnt -= n
					n = 0
					acc, n, pos = refill(buf, lim, acc, n, pos)
				}
				acc <<= cnt & 63
				n -= cnt
				continue
			}
			for corr != 0 {
				if n == 0 {
					acc, n, pos = refill(buf, lim, acc, n, pos)
				}
				p := uint(bits.TrailingZeros64(corr))
				corr &= corr - 1
				i, mk := refCoefAt(keep, kept, p)
				c := coef[i]
				add := -int16(acc>>63) & mk & (c&p1 ^ p1)
				sg := c >> 15
				coef[i] = c + (add ^ sg) - sg
				acc <<= 1
				n--
			}
		}
		nz[j] = nzb
		if eobrun == 0 {
			continue
		}
		// The rest of the band is in an EOB run: only correction bits.
		eobrun--
		corr := rest & nzb
		if corr&kept == 0 {
			cnt := popcount(corr)
			for cnt > n {
				acc <<= n & 63
				cnt -= n
				n = 0
				acc, n, pos = refill(buf, lim, acc, n, pos)
			}
			acc <<= cnt & 63
			n -= cnt
			continue
		}
		for corr != 0 {
			if n == 0 {
				acc, n, pos = refill(buf, lim, acc, n, pos)
			}
			p := uint(bits.TrailingZeros64(corr))
			corr &= corr - 1
			i, mk := refCoefAt(keep, kept, p)
			c := coef[i]
			add := -int16(acc>>63) & mk & (c&p1 ^ p1)
			sg := c >> 15
			coef[i] = c + (add ^ sg) - sg
			acc <<= 1
			n--
		}
	}
	rd.acc, rd.n, rd.pos = acc, n, pos
	d.eobrun = eobrun
	return nil
}

// refCoefAt returns the index in the block's coefficients of zig-zag
// position p and a mask of all ones when the scale keeps p. For a position
// it drops, the index is 0 and the mask 0: the loops then write the first
// coefficient back as it is, rather than branch.
func refCoefAt(keep *[64]uint8, kept uint64, p uint) (int, int16) {
	mk := -int16(kept >> (p & 63) & 1)
	return int(keep[p&63]) & int(mk), mk
}

// popcount returns the number of set bits of x, without the call
// bits.OnesCount64 makes on processors without POPCNT.
func popcount(x uint64) uint {
	x -= x >> 1 & 0x5555555555555555
	x = x&0x3333333333333333 + x>>2&0x3333333333333333
	x = (x + x>>4) & 0x0f0f0f0f0f0f0f0f
	return uint(x * 0x0101010101010101 >> 56)
}

// nthBit8[r<<8|b] is the position of the set bit of the byte b that has r
// set bits below it, or 8.
var nthBit8 = func() (t [8 << 8]uint8) {
	for b := range 256 {
		r := 0
		for p := range 8 {
			if b>>p&1 != 0 {
				t[r<<8|b] = uint8(p)
				r++
			}
		}
		for ; r < 8; r++ {
			t[r<<8|b] = 8
		}
	}
	return t
}()

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
