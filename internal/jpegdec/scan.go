package jpegdec

import "fmt"

// scan is a parsed scan header (T.81 B.2.3).
type scan struct {
	ns     int          // components in the scan
	comp   [maxComp]int // their indexes in decoder.comps
	td, ta [maxComp]int // DC and AC Huffman table selectors
	ss, se int          // spectral selection
	ah, al uint         // successive approximation
}

// zigzag[k] is the natural (row-major) index of the k-th coefficient in
// zig-zag order (T.81 Figure A.6): the anti-diagonals r+c = s are walked
// alternately up-right (even s) and down-left (odd s).
var zigzag = func() (z [64]uint8) {
	k := 0
	for s := range 15 {
		lo, hi := max(0, s-7), min(s, 7)
		for i := lo; i <= hi; i++ {
			r := i
			if s%2 == 0 {
				r = hi + lo - i
			}
			z[k] = uint8(r*8 + s - r)
			k++
		}
	}
	return z
}()

var errBadCode = corrupt("bad Huffman code")

// parseSOS reads a scan header and decodes the scan whose entropy-coded
// data starts at pos. It returns the position of the marker that follows
// the scan.
func (d *decoder) parseSOS(seg []byte, pos int) (int, error) {
	if d.sof == 0 {
		return 0, corrupt("SOS before SOF")
	}
	var sc scan
	if len(seg) > 0 {
		sc.ns = int(seg[0])
	}
	if sc.ns < 1 || sc.ns > d.ncomp || len(seg) != 4+2*sc.ns {
		return 0, corrupt("SOS has wrong length")
	}
	blocks := 0
	for i := range sc.ns {
		id := seg[1+2*i]
		ci := -1
		for j := range d.ncomp {
			if d.comps[j].id == id {
				ci = j
			}
		}
		if ci < 0 {
			return 0, corrupt("unknown component in SOS")
		}
		for j := range i {
			if sc.comp[j] == ci {
				return 0, corrupt("repeated component in SOS")
			}
		}
		sc.comp[i] = ci
		sc.td[i], sc.ta[i] = int(seg[2+2*i]>>4), int(seg[2+2*i]&15)
		if sc.td[i] > 3 || sc.ta[i] > 3 {
			return 0, corrupt("bad Huffman table selector")
		}
		blocks += d.comps[ci].h * d.comps[ci].v
	}
	if sc.ns > 1 && blocks > 10 {
		return 0, corrupt("too many blocks per MCU")
	}
	p := seg[1+2*sc.ns:]
	if d.progressive {
		sc.ss, sc.se, sc.ah, sc.al = int(p[0]), int(p[1]), uint(p[2]>>4), uint(p[2]&15)
		if sc.ss == 0 && sc.se != 0 || sc.ss > sc.se || sc.se > 63 {
			return 0, corrupt("bad spectral selection")
		}
		if sc.ss > 0 && sc.ns != 1 {
			return 0, corrupt("AC scan with more than one component")
		}
		if sc.ah != 0 && sc.ah != sc.al+1 || sc.al > 13 {
			return 0, corrupt("bad successive approximation")
		}
	} else {
		sc.ss, sc.se = 0, 63
	}
	d.scans++
	if !d.allocated {
		if err := d.setup(&sc, pos); err != nil {
			return 0, err
		}
	}
	for i := range sc.ns {
		c := &d.comps[sc.comp[i]]
		if !c.quantLatched {
			if !d.quantSet[c.tq] {
				return 0, corrupt("missing quantisation table")
			}
			d.latchQuant(c)
		}
		if sc.ss == 0 && sc.ah == 0 && !d.huff[0][sc.td[i]].defined {
			return 0, corrupt("missing DC Huffman table")
		}
		if sc.se > 0 && !d.huff[1][sc.ta[i]].defined {
			return 0, corrupt("missing AC Huffman table")
		}
	}
	d.br.reset(d.data, pos)
	var err error
	if d.progressive {
		err = d.progressiveScan(&sc)
	} else {
		err = d.sequentialScan(&sc)
	}
	if err != nil {
		return 0, err
	}
	return scanEnd(d.data, d.br.pos), nil
}

// setup runs at the first scan: it checks that the colour layout is one
// Decode can return, enforces the scan limit, refuses data too short for
// the frame and allocates the output planes and the coefficient store.
func (d *decoder) setup(sc *scan, pos int) error {
	if d.planes && (d.ncomp == 4 || d.ncomp == 3 && d.isRGB()) {
		return ErrNotPlanar
	}
	switch d.ncomp {
	case 3:
		d.rgb = d.isRGB()
		if !d.rgb {
			c0, c1, c2 := &d.comps[0], &d.comps[1], &d.comps[2]
			if c0.h != d.hmax || c0.v != d.vmax || c1.h != c2.h || c1.v != c2.v {
				return unsupported("chroma subsampling layout")
			}
			switch (c0.h/c1.h)<<4 | c0.v/c1.v {
			case 0x11, 0x12, 0x21, 0x22, 0x41, 0x42:
			default:
				return unsupported("chroma subsampling ratio")
			}
		}
	case 4:
		if !d.adobe {
			return unsupported("4-component JPEG without Adobe APP14 marker")
		}
	}
	if d.progressive {
		n, acr := countScans(d.data, pos, d.maxScans)
		if n > d.maxScans {
			return fmt.Errorf("%w: more than %d", ErrTooManyScans, d.maxScans)
		}
		d.hasRefine = acr
	}
	// Every block of a sequential scan takes at least two bits (a DC code
	// and an AC code), every block of a first DC scan at least one: refuse
	// data that cannot hold the frame before allocating for it. T.81
	// requires the DC coefficients of a component to be coded before its
	// AC coefficients, so a progressive file starts with a first DC scan
	// (libjpeg only warns; here it bounds the allocation).
	perBlock := 2
	if d.progressive {
		if sc.ss != 0 || sc.ah != 0 {
			return corrupt("progressive file does not start with a DC scan")
		}
		perBlock = 1
	}
	{
		var nb int64
		if sc.ns == 1 {
			c := &d.comps[sc.comp[0]]
			nb = int64(c.nbx) * int64(c.nby)
		} else {
			for i := range sc.ns {
				c := &d.comps[sc.comp[i]]
				nb += int64(d.mcusX) * int64(d.mcusY) * int64(c.h*c.v)
			}
		}
		if int64(scanEnd(d.data, pos)-pos)*8 < nb*int64(perBlock) {
			return errTruncated
		}
	}

	for i := range d.ncomp {
		c := &d.comps[i]
		c.setScale(d.scale)
		if i > 0 && d.planes && d.ncomp == 3 && !d.rgb {
			// Chroma further reduced, while its samples stay within the
			// caller's bound.
			for f := 8 / d.scale; f > 1; f /= 2 {
				s := d.scale * f
				if d.hmax/c.h*s <= d.chromaStep[0] && d.vmax/c.v*s <= d.chromaStep[1] {
					c.setScale(s)
					break
				}
			}
		}
		c.stride = c.bw * c.bs
		if d.planes {
			c.pix = bytePool.get(c.stride * c.bh * c.bs)
		} else {
			c.pix = make([]byte, c.stride*c.bh*c.bs)
		}
		if d.progressive {
			c.coef = int16Pool.get(c.bw * c.bh * c.keepN)
			if d.hasRefine {
				c.nz = nzPool.get(c.bw * c.bh)
			}
		}
	}
	d.allocated = true
	return nil
}

// setScale sets the component's reduction and the coefficients it keeps.
func (c *component) setScale(scale int) {
	c.scale, c.bs = scale, 8/scale
	n := c.bs
	for k := range 64 {
		r, col := int(zigzag[k]/8), int(zigzag[k]%8)
		if r < n && col < n {
			c.keep[k] = uint8(r*n + col)
			c.keepLast = k
		} else {
			c.keep[k] = 64
		}
	}
	c.keepN = n * n
}

// isRGB reports whether a 3-component frame holds RGB rather than Y'CbCr,
// by the rules image/jpeg and libjpeg use: not JFIF, and either an Adobe
// marker with transform 0 or the component identifiers 'R', 'G', 'B'.
func (d *decoder) isRGB() bool {
	if d.jfif {
		return false
	}
	if d.adobe && d.adobeTransform == 0 {
		return true
	}
	return d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B'
}

// latchQuant copies the component's quantisation table into its
// dequantisation factors at the start of its first scan.
func (d *decoder) latchQuant(c *component) {
	q := &d.quant[c.tq]
	for k := range 64 {
		c.qz[k] = int32(q[k])
		if i := c.keep[k]; i < 64 {
			c.qr[i] = int32(q[k])
		}
	}
	c.quantLatched = true
}

// countScans counts the scans of a progressive file: the one whose header
// ends at pos and every SOS that follows, stopping early once the count
// exceeds limit. acRefine reports AC refinement scans among the ones
// after the first.
func countScans(data []byte, pos, limit int) (n int, acRefine bool) {
	n = 1
	pos = scanEnd(data, pos)
	for n <= limit {
		m, p, ok := nextMarker(data, pos)
		if !ok || m == mEOI {
			break
		}
		if m >= mRST0 && m <= mRST7 || m == mTEM || m == mSOI {
			pos = p
			continue
		}
		if p+2 > len(data) {
			break
		}
		l := be16(data[p:])
		if l < 2 || p+l > len(data) {
			break
		}
		pos = p + l
		if m != mSOS {
			continue
		}
		n++
		seg := data[p+2 : p+l]
		if len(seg) > 0 && len(seg) == 4+2*int(seg[0]) {
			ns := int(seg[0])
			if seg[1+2*ns] > 0 && seg[3+2*ns]>>4 > 0 {
				acRefine = true
			}
		}
		pos = scanEnd(data, pos)
	}
	return n, acRefine
}

// mcuBlocks returns the number of blocks in an MCU of the interleaved scan
// sc.
func (d *decoder) mcuBlocks(sc *scan) int {
	n := 0
	for i := range sc.ns {
		c := &d.comps[sc.comp[i]]
		n += c.h * c.v
	}
	return n
}

// rstState tracks restart intervals within a scan.
type rstState struct {
	left int  // MCUs left in the interval
	next byte // expected RSTn, 0…7
}

// endMCU runs after every MCU: it detects reading past the end of the
// data and, at the end of a restart interval, resynchronises on the
// restart marker. more is false after the last MCU of the scan.
func (d *decoder) endMCU(sc *scan, rs *rstState, more bool) error {
	if d.br.overrun() {
		return errTruncated
	}
	if d.ri == 0 || !more {
		return nil
	}
	rs.left--
	if rs.left > 0 {
		return nil
	}
	rs.left = d.ri
	data := d.data
	pos := d.br.pos
	for {
		p := findFF(data, pos)
		if p < 0 {
			return errTruncated
		}
		q := p + 1
		for q < len(data) && data[q] == 0xFF {
			q++
		}
		if q >= len(data) {
			return errTruncated
		}
		if data[q] == 0 {
			pos = q + 1
			continue
		}
		if data[q] != mRST0+rs.next {
			return corrupt("missing restart marker")
		}
		d.br.reset(data, q+1)
		break
	}
	rs.next = (rs.next + 1) & 7
	for i := range sc.ns {
		d.comps[sc.comp[i]].pred = 0
	}
	d.eobrun = 0
	return nil
}
