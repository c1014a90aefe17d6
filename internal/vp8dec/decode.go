// Package vp8dec decodes VP8 key frames — the lossy bitstream of WebP —
// into 4:2:0 Y'CbCr planes, bit-exactly as RFC 6386 specifies.
//
// It is written for speed: a wide-window boolean decoder whose state stays
// in registers through a block's tokens and a macroblock's modes (the
// coefficient sign without a branch), token decoding through per-position
// probability pointers, empty, DC-only and three-coefficient fast paths
// and SSE2 inverse transforms (amd64; the purego tag leaves the Go ones),
// prediction that writes whole rows, and a loop filter that runs one
// macroblock row behind the reconstruction, optionally on a second
// goroutine. Intra prediction reads unfiltered neighbours (the filter only
// changes what is displayed), so the reconstruction keeps an unfiltered
// copy of the row above and the filter may run concurrently.
package vp8dec

import (
	"context"
	"image"
	"sync"

	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/vp8"
)

// Options tune Decode.
type Options struct {
	// MaxPixels, if positive, is the largest width×height accepted; the
	// check happens before any allocation.
	MaxPixels int
	// Concurrent decodes in a pipeline of goroutines, a macroblock row
	// apart: parsing (the caller's), reconstruction, and the loop filter.
	Concurrent bool
	// SkipLoopFilter leaves the loop filter out: the output is then not
	// the bit-exact frame, only close to it. Meant for heavy downscaling.
	SkipLoopFilter bool
}

type quantSeg struct {
	y1, y2, uv [2]int32
}

type filterParams struct {
	limit    uint8 // sub-block edge limit; 0: no filtering
	interior uint8
	hev      uint8
	inner    bool // filter the inner edges
}

// Intra modes of 16×16 luma and 8×8 chroma prediction.
const (
	modeDC = iota
	modeV
	modeH
	modeTM
	modeB // luma only: sub-block prediction
)

// Block types (planes) of the coefficient probabilities.
const (
	typeYAC = 0 // luma after a Y2 block, from position 1
	typeY2  = 1
	typeUV  = 2
	typeY   = 3 // luma with its DC (sub-block prediction)
)

// mbData is what the parser hands the reconstruction for one macroblock.
type mbData struct {
	seg    int
	skip   bool
	ymode  int
	uvmode int
	bmodes [16]uint8
	kinds  [24]uint8  // per block: kindEmpty, kindDC, kindAC3 or kindFull, maybe with kindWide
	coeffs [384]int16 // 16 Y, 4 U, 4 V blocks of 16, raster order inside
}

// nzCtx holds, for one side of a macroblock, whether each bordering block
// had coefficients, and the sub-block modes along that border.
type nzCtx struct {
	y     [4]uint8
	u, v  [2]uint8
	y2    uint8
	bmode [4]uint8
}

type decoder struct {
	w, h, mbw, mbh int

	segEnabled, segUpdateMap, segAbsolute bool
	segQ, segLF                           [4]int32
	segProbs                              [3]uint8

	simpleFilter           bool
	filterLevel, sharpness int32
	lfDeltas               bool
	refDelta, modeDelta    [4]int32
	fparams                [4][2]filterParams

	quant       [4]quantSeg
	coef        [32][3][11]uint8
	probs       [4][17]*[3][11]uint8
	skipEnabled bool
	skipProb    uint8

	first  boolDec
	nparts int
	parts  [8]boolDec

	// Output planes, macroblock-aligned.
	y, u, v          []byte
	ystride, cstride int

	// Unfiltered bottom rows of the macroblock row above (with one byte
	// of left margin and 4 of right margin for luma).
	topY, topU, topV []byte
	top              []nzCtx
	left             nzCtx

	// Per macroblock filter parameters of the whole frame.
	finfo []filterParams

	y2 [16]int16 // the parser's Y2 block

	// Work area: 32-byte rows; luma has a top border row and a left
	// border column, chroma likewise.
	ywork [32 * 17]byte
	uwork [32 * 9]byte
	vwork [32 * 9]byte
}

const (
	bps   = 32
	yOrig = bps + 8 // offset of luma pixel (0,0) in ywork
	cOrig = bps + 8
)

// Decode decodes a VP8 key frame (the payload of a WebP "VP8 " chunk)
// into planes. The returned image's rectangle is the frame's size; its
// planes are padded to whole macroblocks.
func Decode(ctx context.Context, data []byte, opt Options) (*image.YCbCr, error) {
	d := new(decoder)
	if err := d.parseHeader(data); err != nil {
		return nil, err
	}
	if opt.MaxPixels > 0 && d.w*d.h > opt.MaxPixels {
		return nil, corruptf("vp8: %dx%d is more than %d pixels", d.w, d.h, opt.MaxPixels)
	}
	pl := ctxpoll.New(ctx)
	if err := pl.Err(); err != nil {
		return nil, err
	}
	d.ystride = d.mbw * 16
	d.cstride = d.mbw * 8
	ysize := d.ystride * d.mbh * 16
	csize := d.cstride * d.mbh * 8
	buf := make([]byte, ysize+2*csize)
	d.y, d.u, d.v = buf[:ysize:ysize], buf[ysize:ysize+csize:ysize+csize], buf[ysize+csize:]
	d.topY = make([]byte, 1+d.ystride+4)
	d.topU = make([]byte, 1+d.cstride)
	d.topV = make([]byte, 1+d.cstride)
	d.top = make([]nzCtx, d.mbw)
	filter := d.filterLevel != 0 && !opt.SkipLoopFilter
	if d.segEnabled && !opt.SkipLoopFilter {
		filter = false
		for s := range d.fparams {
			if d.fparams[s][0].limit != 0 || d.fparams[s][1].limit != 0 {
				filter = true
			}
		}
	}
	if filter {
		d.finfo = make([]filterParams, d.mbw*d.mbh)
	}

	err := d.decodeRows(&pl, filter, opt.Concurrent)
	if err != nil {
		return nil, err
	}
	return &image.YCbCr{
		Y: d.y, Cb: d.u, Cr: d.v,
		YStride: d.ystride, CStride: d.cstride,
		SubsampleRatio: image.YCbCrSubsampleRatio420,
		Rect:           image.Rect(0, 0, d.w, d.h),
	}, nil
}

// parseRow reads macroblock row mby's modes and coefficients into row.
func (d *decoder) parseRow(mby int, row []mbData, filter bool) error {
	tokens := &d.parts[mby&(d.nparts-1)]
	d.left = nzCtx{}
	for mbx := range row {
		m := &row[mbx]
		d.parseModes(mbx, m)
		if !m.skip {
			m.skip = !d.parseResiduals(tokens, mbx, m)
		} else {
			d.left.y, d.left.u, d.left.v = [4]uint8{}, [2]uint8{}, [2]uint8{}
			t := &d.top[mbx]
			t.y, t.u, t.v = [4]uint8{}, [2]uint8{}, [2]uint8{}
			if m.ymode != modeB {
				d.left.y2, t.y2 = 0, 0
			}
			m.kinds = [24]uint8{}
		}
		if filter {
			f := d.fparams[m.seg][b2i(m.ymode == modeB)]
			f.inner = m.ymode == modeB || !m.skip
			d.finfo[mby*d.mbw+mbx] = f
		}
		if tokens.eof {
			return corruptf("vp8: truncated token partition")
		}
	}
	if d.first.eof {
		return corruptf("vp8: truncated first partition")
	}
	return nil
}

// reconRow predicts and reconstructs macroblock row mby from row.
func (d *decoder) reconRow(mby int, row []mbData) {
	for mbx := range row {
		d.reconstruct(mbx, mby, &row[mbx])
	}
}

// decodeRows runs the rows through parsing, reconstruction and the loop
// filter: in turn, or (concurrent) as a pipeline of three goroutines, one
// row apart. Reconstruction reads only the parser's output and unfiltered
// pixels (the copies in topY/U/V and its own work area); the filter of a
// row changes only that row and the bottom of the row above, which
// reconstruction no longer reads.
func (d *decoder) decodeRows(pl *ctxpoll.Poller, filter, concurrent bool) error {
	for i := range d.topY {
		d.topY[i] = 127
	}
	for i := range d.topU {
		d.topU[i] = 127
		d.topV[i] = 127
	}
	if !concurrent || d.mbh < 2 {
		row := make([]mbData, d.mbw)
		for mby := 0; mby < d.mbh; mby++ {
			if err := pl.Work(d.mbw * 16 * 16 * 8); err != nil {
				return err
			}
			if err := d.parseRow(mby, row, filter); err != nil {
				return err
			}
			d.reconRow(mby, row)
			if filter {
				d.filterRow(mby)
			}
		}
		return nil
	}

	const nbuf = 3
	type job struct {
		mby int
		row []mbData
	}
	free := make(chan []mbData, nbuf)
	for i := 0; i < nbuf; i++ {
		free <- make([]mbData, d.mbw)
	}
	parsed := make(chan job, nbuf)
	recon := make(chan int, nbuf)
	done := make(chan struct{})
	// A panic in a worker (a decoder bug on some input) must neither crash
	// the process (the caller's recover covers only its own goroutine) nor
	// leave the others blocked: the first one is kept and returned as
	// ErrCorrupt, and the panicking worker drains its input.
	var once sync.Once
	var crashed any
	catch := func(drain func()) {
		if r := recover(); r != nil {
			once.Do(func() { crashed = r })
			drain()
		}
	}
	go func() {
		defer close(recon)
		defer catch(func() {
			for j := range parsed {
				free <- j.row
			}
		})
		for j := range parsed {
			d.reconRow(j.mby, j.row)
			free <- j.row
			if filter {
				recon <- j.mby
			}
		}
	}()
	go func() {
		defer close(done)
		defer catch(func() {
			for range recon {
			}
		})
		for mby := range recon {
			d.filterRow(mby)
		}
	}()
	// Also when the parser itself panics, the workers are stopped before
	// the panic reaches the caller.
	stop := sync.OnceFunc(func() { close(parsed); <-done })
	defer stop()
	var err error
	for mby := 0; mby < d.mbh; mby++ {
		if err = pl.Work(d.mbw * 16 * 16 * 8); err != nil {
			break
		}
		row := <-free
		if err = d.parseRow(mby, row, filter); err != nil {
			break
		}
		parsed <- job{mby, row}
	}
	stop()
	if crashed != nil {
		return corruptf("decoder panicked: %v", crashed)
	}
	return err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxModeBytes bounds how far a macroblock header moves the first
// partition's read position: 16 sub-block modes of at most 7 decisions
// and 9 more decisions, each decision at most 7 bits, plus the 64 bits
// that the window may hold ahead of them, plus the 8 bytes that topUp
// reads.
const maxModeBytes = ((16*7+9)*7+64+7)/8 + 8

// parseModes reads a macroblock's header from the first partition: away
// from the partition's end with the decoder's state in local variables
// and refills a word at a time, near it with the careful bit.
func (d *decoder) parseModes(mbx int, m *mbData) {
	if d.first.pos+maxModeBytes <= len(d.first.buf) {
		d.parseModesFast(mbx, m)
	} else {
		d.parseModesSlow(mbx, m)
	}
}

// parseModesFast is parseModesSlow for a macroblock at least
// maxModeBytes from the partition's end: topUp then gives at least 49 bits
// (seven decisions) without end checks.
func (d *decoder) parseModesFast(mbx int, m *mbData) {
	br := &d.first
	v, n, r := br.value, br.nbits, br.rng
	var b bool
	if n < 49 {
		v, n = br.topUp(v, n)
	}
	// At most 2 + 1 + 3 decisions up to the sub-block modes.
	m.seg = 0
	if d.segUpdateMap {
		if v, n, r, b = decide(v, n, r, d.segProbs[0]); !b {
			v, n, r, b = decide(v, n, r, d.segProbs[1])
			m.seg = b2i(b)
		} else {
			v, n, r, b = decide(v, n, r, d.segProbs[2])
			m.seg = 2 + b2i(b)
		}
	}
	m.skip = false
	if d.skipEnabled {
		v, n, r, m.skip = decide(v, n, r, d.skipProb)
	}
	top := &d.top[mbx]
	if v, n, r, b = decide(v, n, r, 145); !b {
		m.ymode = modeB
		for y := 0; y < 4; y++ {
			l := d.left.bmode[y]
			for x := 0; x < 4; x++ {
				if n < 49 {
					v, n = br.topUp(v, n)
				}
				var bm uint8
				v, n, r, bm = readBMode(v, n, r, &vp8.KFBModeProbs[top.bmode[x]][l])
				m.bmodes[y*4+x] = bm
				top.bmode[x] = bm
				l = bm
			}
			d.left.bmode[y] = l
		}
	} else {
		var bm uint8
		if v, n, r, b = decide(v, n, r, 156); !b {
			if v, n, r, b = decide(v, n, r, 163); !b {
				m.ymode, bm = modeDC, vp8.BDC
			} else {
				m.ymode, bm = modeV, vp8.BVE
			}
		} else if v, n, r, b = decide(v, n, r, 128); !b {
			m.ymode, bm = modeH, vp8.BHE
		} else {
			m.ymode, bm = modeTM, vp8.BTM
		}
		top.bmode = [4]uint8{bm, bm, bm, bm}
		d.left.bmode = top.bmode
	}
	if n < 49 {
		v, n = br.topUp(v, n)
	}
	if v, n, r, b = decide(v, n, r, 142); !b {
		m.uvmode = modeDC
	} else if v, n, r, b = decide(v, n, r, 114); !b {
		m.uvmode = modeV
	} else if v, n, r, b = decide(v, n, r, 183); !b {
		m.uvmode = modeH
	} else {
		m.uvmode = modeTM
	}
	br.value, br.nbits, br.rng = v, n, r
}

// readBMode decodes a sub-block mode (at most 7 decisions: the caller
// makes sure of 49 bits) with the probabilities p.
func readBMode(v uint64, n int, r uint32, p *[9]uint8) (uint64, int, uint32, uint8) {
	var b bool
	if v, n, r, b = decide(v, n, r, p[0]); !b {
		return v, n, r, vp8.BDC
	}
	if v, n, r, b = decide(v, n, r, p[1]); !b {
		return v, n, r, vp8.BTM
	}
	if v, n, r, b = decide(v, n, r, p[2]); !b {
		return v, n, r, vp8.BVE
	}
	if v, n, r, b = decide(v, n, r, p[3]); !b {
		if v, n, r, b = decide(v, n, r, p[4]); !b {
			return v, n, r, vp8.BHE
		}
		if v, n, r, b = decide(v, n, r, p[5]); !b {
			return v, n, r, vp8.BRD
		}
		return v, n, r, vp8.BVR
	}
	if v, n, r, b = decide(v, n, r, p[6]); !b {
		return v, n, r, vp8.BLD
	}
	if v, n, r, b = decide(v, n, r, p[7]); !b {
		return v, n, r, vp8.BVL
	}
	if v, n, r, b = decide(v, n, r, p[8]); !b {
		return v, n, r, vp8.BHD
	}
	return v, n, r, vp8.BHU
}

// parseModesSlow reads a macroblock's header from the first partition.
func (d *decoder) parseModesSlow(mbx int, m *mbData) {
	br := &d.first
	m.seg = 0
	if d.segUpdateMap {
		if !br.bit(d.segProbs[0]) {
			m.seg = int(br.bit128Prob(d.segProbs[1]))
		} else {
			m.seg = 2 + int(br.bit128Prob(d.segProbs[2]))
		}
	}
	m.skip = d.skipEnabled && br.bit(d.skipProb)
	top := &d.top[mbx]
	if !br.bit(145) {
		m.ymode = modeB
		for y := 0; y < 4; y++ {
			l := d.left.bmode[y]
			for x := 0; x < 4; x++ {
				p := &vp8.KFBModeProbs[top.bmode[x]][l]
				var bm uint8
				switch {
				case !br.bit(p[0]):
					bm = vp8.BDC
				case !br.bit(p[1]):
					bm = vp8.BTM
				case !br.bit(p[2]):
					bm = vp8.BVE
				case !br.bit(p[3]):
					if !br.bit(p[4]) {
						bm = vp8.BHE
					} else if !br.bit(p[5]) {
						bm = vp8.BRD
					} else {
						bm = vp8.BVR
					}
				case !br.bit(p[6]):
					bm = vp8.BLD
				case !br.bit(p[7]):
					bm = vp8.BVL
				case !br.bit(p[8]):
					bm = vp8.BHD
				default:
					bm = vp8.BHU
				}
				m.bmodes[y*4+x] = bm
				top.bmode[x] = bm
				l = bm
			}
			d.left.bmode[y] = l
		}
	} else {
		var b uint8
		if !br.bit(156) {
			if !br.bit(163) {
				m.ymode, b = modeDC, vp8.BDC
			} else {
				m.ymode, b = modeV, vp8.BVE
			}
		} else if !br.bit(128) {
			m.ymode, b = modeH, vp8.BHE
		} else {
			m.ymode, b = modeTM, vp8.BTM
		}
		top.bmode = [4]uint8{b, b, b, b}
		d.left.bmode = top.bmode
	}
	switch {
	case !br.bit(142):
		m.uvmode = modeDC
	case !br.bit(114):
		m.uvmode = modeV
	case !br.bit(183):
		m.uvmode = modeH
	default:
		m.uvmode = modeTM
	}
}

// bit128Prob is bit returning 0 or 1.
func (d *boolDec) bit128Prob(p uint8) uint32 {
	if d.bit(p) {
		return 1
	}
	return 0
}

// parseResiduals reads a macroblock's coefficients into m.coeffs, sets
// m.kinds and the non-zero contexts, and reports whether any block had
// coefficients.
func (d *decoder) parseResiduals(br *boolDec, mbx int, m *mbData) bool {
	q := &d.quant[m.seg]
	top := &d.top[mbx]
	left := &d.left
	any := false
	var nz uint8
	first := 0
	ytype := typeY
	var dcs [16]int16
	haveY2 := m.ymode != modeB
	if haveY2 {
		d.y2 = [16]int16{}
		ctx := int(top.y2 + left.y2)
		n, _ := br.tokens(&d.probs[typeY2], ctx, q.y2[0], q.y2[1], 0, d.y2[:])
		nz := uint8(b2i(n > 0))
		top.y2, left.y2 = nz, nz
		if n > 0 {
			any = true
			if n > 1 {
				vp8.IWHT(&d.y2, &dcs)
			} else {
				dc := int16((int32(d.y2[0]) + 3) >> 3)
				for i := range dcs {
					dcs[i] = dc
				}
			}
		}
		first = 1
		ytype = typeYAC
	}
	c := m.coeffs[:]
	for i := range c {
		c[i] = 0
	}
	pp := &d.probs[ytype]
	for y := 0; y < 4; y++ {
		l := left.y[y]
		for x := 0; x < 4; x++ {
			b := y*4 + x
			blk := c[b*16 : b*16+16]
			n, wide := br.tokens(pp, int(l+top.y[x]), q.y1[0], q.y1[1], first, blk)
			l = uint8(b2i(n > first))
			top.y[x] = l
			nz |= l
			k := kindOf[n&31]
			if haveY2 {
				// The DC comes from the Y2 block: n is 1 (no AC) or more.
				blk[0] = dcs[b]
				wide |= wideBits(dcs[b])
				k *= uint8(b2i(dcs[b] != 0) | b2i(n > 1))
			}
			m.kinds[b] = k | wideFlag(wide)
		}
		left.y[y] = l
	}
	pp = &d.probs[typeUV]
	for p := 0; p < 2; p++ {
		tc, lc := &top.u, &left.u
		if p == 1 {
			tc, lc = &top.v, &left.v
		}
		for y := 0; y < 2; y++ {
			l := lc[y]
			for x := 0; x < 2; x++ {
				b := 16 + p*4 + y*2 + x
				blk := c[b*16 : b*16+16]
				n, wide := br.tokens(pp, int(l+tc[x]), q.uv[0], q.uv[1], 0, blk)
				l = uint8(b2i(n > 0))
				tc[x] = l
				nz |= l
				m.kinds[b] = kindOf[n&31] | wideFlag(wide)
			}
			lc[y] = l
		}
	}
	return any || nz != 0
}

// kindOf is the kind of a block by the position after its last token
// (the blocks' kinds are set without branches, which would mispredict).
var kindOf = [32]uint8{kindEmpty, kindDC, kindAC3, kindAC3,
	kindFull, kindFull, kindFull, kindFull, kindFull, kindFull, kindFull, kindFull,
	kindFull, kindFull, kindFull, kindFull, kindFull}

// tokens decodes one block's tokens from position first, writes the
// dequantised coefficients into out in raster order and returns the
// position after the last token (first for an empty block), and the OR
// of wideBits of the coefficients.
func (br *boolDec) tokens(pp *[17]*[3][11]uint8, ctx int, dcq, acq int32, first int, out []int16) (int, int32) {
	// The decoder's state lives in local variables while the block is
	// read, so that the compiler keeps it in registers.
	value, nbits, rng := br.value, br.nbits, br.rng
	var b bool
	var wide int32
	out = out[:16]
	n := first
	p := &pp[n][ctx]
loop:
	for n < 16 {
		if nbits < 0 {
			value, nbits = br.loadV(value, nbits)
		}
		if value, nbits, rng, b = decide(value, nbits, rng, p[0]); !b {
			break // end of block
		}
		for {
			if nbits < 0 {
				value, nbits = br.loadV(value, nbits)
			}
			if value, nbits, rng, b = decide(value, nbits, rng, p[1]); b {
				break
			}
			n++ // a zero
			if n == 16 {
				break loop
			}
			p = &pp[n][0]
		}
		var v int32
		next := 1
		if nbits < 0 {
			value, nbits = br.loadV(value, nbits)
		}
		if value, nbits, rng, b = decide(value, nbits, rng, p[2]); !b {
			v = 1
		} else {
			br.value, br.nbits, br.rng = value, nbits, rng
			v = br.large(p)
			value, nbits, rng = br.value, br.nbits, br.rng
			next = 2
		}
		q := acq
		if n == 0 {
			q = dcq
		}
		if nbits < 0 {
			value, nbits = br.loadV(value, nbits)
		}
		{
			// The sign: decide(value, nbits, rng, 128) without a branch
			// (a coin toss mispredicts half the time). With p = 128 the
			// split is rng/2 and the new range r is 64..128, so the
			// renormalising shift is 0 or 1 and needs no table. Written
			// out here: as a function it is over the inlining budget.
			split := rng >> 1
			sh := uint(nbits) & 63
			m := uint32(int32(split-uint32(value>>sh)) >> 31)
			value -= uint64((split+1)&m) << sh
			r := split + 1 + (m & (rng&1 - 1))
			s := (r >> 7) ^ 1
			nbits -= int(s)
			rng = r<<s - 1
			v = (v ^ int32(m)) - int32(m)
		}
		x := int16(v * q)
		out[vp8.Zigzag[n]&15] = x
		wide |= wideBits(x)
		n++
		p = &pp[n][next]
	}
	br.value, br.nbits, br.rng = value, nbits, rng
	return n, wide
}

// large decodes a token worth 2 or more, with its extra bits.
func (br *boolDec) large(p *[11]uint8) int32 {
	if !br.bit(p[3]) {
		if !br.bit(p[4]) {
			return 2
		}
		return 3 + int32(br.bit128Prob(p[5]))
	}
	if !br.bit(p[6]) {
		if !br.bit(p[7]) {
			return 5 + int32(br.bit128Prob(159))
		}
		v := 7 + 2*int32(br.bit128Prob(165))
		return v + int32(br.bit128Prob(145))
	}
	var extra []uint8
	var base int32
	if !br.bit(p[8]) {
		if !br.bit(p[9]) {
			extra, base = vp8.CatProbs[2], 11
		} else {
			extra, base = vp8.CatProbs[3], 19
		}
	} else if !br.bit(p[10]) {
		extra, base = vp8.CatProbs[4], 35
	} else {
		extra, base = vp8.CatProbs[5], 67
	}
	var v int32
	for _, pr := range extra {
		v = v<<1 | int32(br.bit128Prob(pr))
	}
	return base + v
}
