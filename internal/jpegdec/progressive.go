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
	if sc.ns > 1 { // DC only: interleaved scans code nothing else
		return d.runScan(sc, &rs, d.mcusX, d.mcusY, d.mcusX*d.mcuBlocks(sc), func(e *ecs, my, mx, k int) error {
			return d.dcRun(sc, e, false, my, mx, k)
		})
	}
	c := &d.comps[sc.comp[0]]
	if sc.ss == 0 {
		return d.runScan(sc, &rs, c.nbx, c.nby, c.nbx, func(e *ecs, by, bx, k int) error {
			return d.dcRun(sc, e, true, by, bx, k)
		})
	}
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
	return d.runScan(sc, &rs, c.nbx, c.nby, c.nbx*(sc.se-sc.ss+1), func(e *ecs, by, bx, k int) error {
		if sc.ah == 0 {
			return d.acFirst(c, &b, e, by*c.bw+bx, k)
		}
		return d.acRefine(c, &b, e, by*c.bw+bx, k)
	})
}

// runScan runs the decoding of a scan of rows×perRow units (MCUs, or
// blocks of a single component), calling run for runs of k units from
// unit u of a row: a row, or the part of it up to the next restart marker
// or to the end of the data window (see ecs). rowWork is the work of a row
// for d.poll.
func (d *decoder) runScan(sc *scan, rs *rstState, perRow, rows, rowWork int, run func(e *ecs, row, u, k int) error) error {
	var e ecs
	defer e.release()
	e.start(d.data, d.br.pos)
	total := perRow * rows
	for row := range rows {
		if err := d.poll.Work(rowWork); err != nil {
			return err
		}
		for u := 0; u < perRow; {
			m := perRow - u
			if d.ri > 0 && rs.left < m {
				m = rs.left
			}
			for v, left := u, m; left > 0; {
				k := min(left, e.room())
				if err := run(&e, row, v, k); err != nil {
					if e.overrun() {
						return errTruncated
					}
					return err
				}
				v += k
				left -= k
			}
			u += m
			// endMCU looks for restart markers from the end of the
			// segment, and detects the overrun.
			d.br.reset(d.data, e.src)
			if e.overrun() {
				d.br.zeros = 1
			}
			if d.ri > 0 {
				rs.left -= m - 1 // endMCU counts the last one
			}
			more := row*perRow+u < total
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

// dcRun decodes the DC coefficient bits that scan sc carries (T.81
// G.1.2.1, a first scan, or a refinement bit) for k units from unit u of
// row row: blocks of its single component, or MCUs of an interleaved scan
// (at most 10 blocks of at most 32 bits: less than the maxBlockBytes an
// ecs unit may take).
func (d *decoder) dcRun(sc *scan, rd *ecs, single bool, row, u, k int) error {
	buf, lim := rd.buf, rd.limit()
	acc, n, pos := rd.acc, rd.n, rd.pos
	al := sc.al
	for ; k > 0; u, k = u+1, k-1 {
		for i := range sc.ns {
			c := &d.comps[sc.comp[i]]
			t := &d.huff[0][sc.td[i]]
			h, v, base := c.h, c.v, (row*c.v*c.bw+u*c.h)*c.keepN
			if single {
				h, v, base = 1, 1, (row*c.bw+u)*c.keepN
			}
			for y := range v {
				for x := range h {
					bi := base + (y*c.bw+x)*c.keepN
					if n < 32 {
						acc, n, pos = refill(buf, lim, acc, n, pos)
					}
					if sc.ah != 0 { // refinement
						c.coef[bi] |= int16(acc>>63) << al
						acc <<= 1
						n--
						continue
					}
					var s, l uint
					if e := t.fast[acc>>(64-fastBits)]; e != 0 {
						s, l = uint(e&255), uint(e>>8)
					} else if s, l = t.slow(acc); l == 0 {
						return errBadCode
					}
					if s > 16 {
						return corrupt("bad DC coefficient size")
					}
					acc <<= l & 31
					n -= l                            // at least 16 bits left
					vv := int32(acc >> 1 >> (63 - s)) // 0 for s = 0
					acc <<= s & 31
					n -= s
					c.pred += extend(vv, s)
					c.coef[bi] = int16(c.pred << al)
				}
			}
		}
	}
	rd.acc, rd.n, rd.pos = acc, n, pos
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
// the compiler keeps their state in registers; a new coefficient or a
// correction at a position the scale drops writes the block's first
// coefficient back unchanged (lc.at gives index 0 and mask 0) rather than
// branch.
func (d *decoder) acRefine(c *component, b *acBand, rd *ecs, bi, m int) error {
	buf := rd.buf[:rd.limit()+8]
	acc, n, pos := rd.acc, rd.n, rd.pos
	// The loop invariants live in memory (lc is not a register
	// candidate), leaving the registers to the loop's state.
	var lc struct {
		at   [64]uint16 // keep[p] | 0xff00 for the positions kept, 0 for the others
		kept uint64
		t    *huffTable
		p1   int16
	}
	for p, i := range c.keep {
		if i < 64 {
			lc.at[p] = uint16(i) | 0xff00
		}
	}
	lc.kept, lc.t, lc.p1 = b.kept, b.t, int16(1)<<b.al
	band := b.band
	kn := c.keepN
	eobrun := d.eobrun
	nz := c.nz[bi : bi+m]
	for j := range nz {
		coef := c.coef[(bi+j)*kn : (bi+j)*kn+kn]
		nzb := nz[j]
		rest := band // the positions still to decode
		for eobrun == 0 && rest != 0 {
			if n < 32 {
				acc, n, pos = refill(buf, len(buf)-8, acc, n, pos)
			}
			var r uint
			var val int16
			if e := uint(lc.t.ref[acc>>(64-fastBits)]); e&refCoef != 0 {
				// A new coefficient, its sign bit included.
				r = e >> 8 & 15
				neg := int16(e>>12&1) - 1
				val = lc.p1 ^ neg - neg
				acc <<= e & 31
				n -= e & 31
			} else {
				var sym, l uint
				if e := lc.t.fast[acc>>(64-fastBits)]; e != 0 {
					sym, l = uint(e&255), uint(e>>8)
				} else if sym, l = lc.t.slow(acc); l == 0 {
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
					val = lc.p1 ^ neg - neg
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
			k := uint(bits.TrailingZeros64(rest)) // rest is a range of positions
			p := uint(64)
			if z != 0 {
				tz := uint(bits.TrailingZeros64(z))
				if q := uint(nthBit8[(r&7)<<8|uint(z>>tz&255)]); r < 8 && q < 8 {
					p = tz + q
				} else {
					// Not in the byte from the lowest zero on: a byte
					// at a time.
					r := r
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
			var corr uint64
			var cnt uint
			if p < 64 {
				// Positions k…p hold r+1 zeros; the others are the
				// nonzero coefficients that take a correction bit.
				low := uint64(1) << p
				corr = rest & nzb & (low - 1)
				cnt = p - k - r
				rest &^= low<<1 - 1
				if val != 0 {
					e := lc.at[p&63]
					i, mk := int(e&255), int16(e)>>15
					coef[i] = coef[i]&^mk | val&mk
					nzb |= low
				}
			} else {
				corr = rest & nzb
				cnt = popcount(corr)
				rest = 0
			}
			if cnt == 0 {
				continue
			}
			if corr&lc.kept == 0 {
				for cnt > n {
					acc <<= n & 63
					cnt -= n
					n = 0
					acc, n, pos = refill(buf, len(buf)-8, acc, n, pos)
				}
				acc <<= cnt & 63
				n -= cnt
				continue
			}
			for corr != 0 {
				if n == 0 {
					acc, n, pos = refill(buf, len(buf)-8, acc, n, pos)
				}
				p := uint(bits.TrailingZeros64(corr))
				corr &= corr - 1
				e := lc.at[p&63]
				i, mk := int(e&255), int16(e)>>15
				c := coef[i]
				add := -int16(acc>>63) & mk & (c&lc.p1 ^ lc.p1)
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
		if corr&lc.kept == 0 {
			cnt := popcount(corr)
			for cnt > n {
				acc <<= n & 63
				cnt -= n
				n = 0
				acc, n, pos = refill(buf, len(buf)-8, acc, n, pos)
			}
			acc <<= cnt & 63
			n -= cnt
			continue
		}
		for corr != 0 {
			if n == 0 {
				acc, n, pos = refill(buf, len(buf)-8, acc, n, pos)
			}
			p := uint(bits.TrailingZeros64(corr))
			corr &= corr - 1
			e := lc.at[p&63]
			i, mk := int(e&255), int16(e)>>15
			c := coef[i]
			add := -int16(acc>>63) & mk & (c&lc.p1 ^ lc.p1)
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
