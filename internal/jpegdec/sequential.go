package jpegdec

// sequentialScan decodes a scan of a sequential frame, writing each block
// to the output planes as soon as it is decoded.
//
// With Options.Threads > 1 and a scan large enough, the blocks' inverse
// DCTs run on a second goroutine (see idctPipe).
func (d *decoder) sequentialScan(sc *scan) error {
	if d.threads <= 1 || d.scanBlocks(sc) < minPipeBlocks {
		return d.sequentialBlocks(sc)
	}
	p := newIDCTPipe(d)
	d.pipe = p
	defer func() { // a panic: stop the worker all the same
		if d.pipe != nil {
			d.pipe = nil
			p.close(false)
		}
	}()
	err := d.sequentialBlocks(sc)
	d.pipe = nil
	if cerr := p.close(err == nil); err == nil {
		err = cerr
	}
	return err
}

// sequentialBlocks decodes the blocks of sc in order.
func (d *decoder) sequentialBlocks(sc *scan) error {
	for i := range sc.ns {
		d.comps[sc.comp[i]].pred = 0
	}
	rs := rstState{left: d.ri}
	if sc.ns == 1 {
		c := &d.comps[sc.comp[0]]
		dct, act := &d.huff[0][sc.td[0]], &d.huff[1][sc.ta[0]]
		total := c.nbx * c.nby
		for by := range c.nby {
			if err := d.poll.Work(c.nbx * 64); err != nil {
				return err
			}
			for bx := range c.nbx {
				if err := d.seqBlock(c, sc.comp[0], dct, act, bx, by); err != nil {
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
	rowWork := d.mcusX * d.mcuBlocks(sc) * 64
	for my := range d.mcusY {
		if err := d.poll.Work(rowWork); err != nil {
			return err
		}
		for mx := range d.mcusX {
			for i := range sc.ns {
				c := &d.comps[sc.comp[i]]
				dct, act := &d.huff[0][sc.td[i]], &d.huff[1][sc.ta[i]]
				for y := range c.v {
					for x := range c.h {
						if err := d.seqBlock(c, sc.comp[i], dct, act, mx*c.h+x, my*c.v+y); err != nil {
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

// seqBlock decodes block (bx, by) of component c (d.comps[ci]) and writes
// its pixels, or hands it to the pipe.
func (d *decoder) seqBlock(c *component, ci int, dct, act *huffTable, bx, by int) error {
	blk := &d.blk
	if d.pipe != nil {
		blk = d.pipe.slot()
	}
	lastK, err := d.decodeBlock(c, dct, act, blk)
	if err != nil {
		return err
	}
	shape := shapeFull
	if lastK == 0 {
		shape = shapeDC
	} else if lastK <= 9 { // zig-zag positions 0…9 lie in the top-left 4×4
		shape = shapeLow
	}
	if d.pipe != nil {
		return d.pipe.add(ci, c.keepN, shape, bx, by)
	}
	d.writeBlock(c.pix[(by*c.stride+bx)*c.bs:], c.stride, c.scale, shape)
	return nil
}

// Where the nonzero coefficients of a block lie, for the full-size
// inverse DCT: the DC alone, the top-left 4×4, anywhere.
const (
	shapeDC = iota
	shapeLow
	shapeFull
)

// writeBlock runs the inverse DCT of the scale on the dequantised
// coefficients in d.blk and writes the pixels at dst. shape tells the
// full-size transform which coefficients may be nonzero.
func (d *decoder) writeBlock(dst []byte, stride, scale, shape int) {
	idctBlock(d.blk[:], dst, stride, scale, shape)
}

// idctBlock runs the inverse DCT of the scale on the dequantised
// coefficients blk (the scale's keepN of them, reduced natural order) and
// writes the pixels at dst.
func idctBlock(blk []int32, dst []byte, stride, scale, shape int) {
	switch scale {
	case 1:
		switch shape {
		case shapeDC:
			fill8(dst, stride, dcOnly8(blk[0]))
		case shapeLow:
			idct8Low((*[64]int32)(blk[:64]), dst, stride)
		default:
			idct8((*[64]int32)(blk[:64]), dst, stride)
		}
	case 2:
		idct4((*[16]int32)(blk[:16]), dst, stride)
	case 4:
		idct2((*[4]int32)(blk[:4]), dst, stride)
	default:
		dst[0] = idct1(blk[0])
	}
}

// decodeBlock decodes the Huffman-coded coefficients of one block of a
// sequential scan (T.81 F.2.2), dequantises the ones the scale keeps into
// blk (reduced natural order; index 64 takes dropped ones: see
// idctPipe.slot) and returns the last zig-zag position
// written. Once past the last coefficient the component's scale keeps, the
// rest are only skipped: one table lookup per code gives both the bits to
// drop and the zig-zag step. The bit accumulator lives in local variables
// for speed.
func (d *decoder) decodeBlock(c *component, dct, act *huffTable, blk *[256]int32) (int, error) {
	if c.keepN == 64 {
		*(*[64]int32)(blk[:64]) = [64]int32{}
	} else {
		clear(blk[:c.keepN])
	}
	keep := &c.keep
	q := &c.qz
	br := &d.br
	acc, n := br.acc, br.n
	if n < 32 {
		br.fill()
		acc, n = br.acc, br.n
	}
	var s, l uint
	if e := dct.fast[acc>>(64-fastBits)]; e != 0 {
		s, l = uint(e&255), uint(e>>8)
	} else if s, l = dct.slow(acc); l == 0 {
		return 0, errBadCode
	}
	acc <<= l
	n -= l
	if s != 0 {
		if s > 16 {
			return 0, corrupt("bad DC coefficient size")
		}
		v := int32(acc >> (64 - s))
		acc <<= s
		n -= s
		c.pred += extend(v, s)
	}
	blk[0] = c.pred * q[0]
	lastK := 0
	kl := c.keepLast
	k := 1
	for k <= kl {
		if n < 32 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		p := acc >> (64 - fastBits)
		if e := act.acFast[p]; e != 0 {
			k += int(e>>8) & 15
			l := uint(e & 255)
			acc <<= l
			n -= l
			if k > 63 {
				break
			}
			blk[keep[k&63]] = e >> 16 * q[k&63]
			lastK = k
			k++
			continue
		}
		var sym uint
		if e := act.fast[p]; e != 0 {
			sym, l = uint(e&255), uint(e>>8)
		} else if sym, l = act.slow(acc); l == 0 {
			return 0, errBadCode
		}
		acc <<= l
		n -= l
		r, s := int(sym>>4), sym&15
		if s == 0 {
			if r != 15 {
				br.acc, br.n = acc, n
				return lastK, nil // EOB
			}
			k += 16
			continue
		}
		k += r
		v := int32(acc >> (64 - s))
		acc <<= s
		n -= s
		if k > 63 {
			break
		}
		blk[keep[k&63]] = extend(v, s) * q[k&63]
		lastK = k
		k++
	}
	// The coefficients after keepLast are dropped at this scale (all but
	// the DC at 1/8): only their codes are decoded, and their extra bits
	// skipped, without sign extension, dequantisation or stores.
	for k < 64 {
		if n < 32 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		if e := act.skip[acc>>(64-fastBits)]; e != 0 {
			acc <<= e & 255
			n -= uint(e & 255)
			k += int(e >> 8)
			continue
		}
		sym, l := act.slow(acc)
		if l == 0 {
			return 0, errBadCode
		}
		r, s := int(sym>>4), sym&15
		acc <<= l + s
		n -= l + s
		if s == 0 {
			if r != 15 {
				break // EOB
			}
			k += 16
			continue
		}
		k += r + 1
	}
	br.acc, br.n = acc, n
	return lastK, nil
}
