// Package vp8enc is a lossy WebP encoder: it writes one VP8 key frame
// (RFC 6386) in a WebP RIFF container, from 4:2:0 Y'CbCr planes or from
// an RGB image.
//
// The encoder is deliberately simple and fast. Each 16x16 macroblock is
// predicted either as a whole (DC, V, H or TM, with its sixteen DCs
// coded apart in a Walsh-Hadamard "Y2" block) or as sixteen 4x4
// sub-blocks with one of ten modes each; the choice minimises distortion
// + lambda*rate, the 4x4 modes being preselected by prediction error.
// Chroma uses one of four 8x8 modes. Macroblocks are sorted into up to
// four segments by how much their texture masks quantisation noise, each
// with its own quantiser and loop filter level (segment.go). The
// coefficient probabilities are fitted to the frame's own statistics (two
// passes over the macroblocks) and macroblocks without coefficients are
// skipped.
//
// Prediction uses the reconstruction exactly as a decoder makes it
// before its loop filter (RFC 6386 section 15: the loop filter applies
// to the whole frame after prediction; intra prediction within a frame
// reads unfiltered pixels), so the encoder and every decoder agree.
package vp8enc

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"slices"

	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/vp8"
)

// MaxSide is the largest width or height VP8 can code (14 bits).
const MaxSide = 16383

// Options configure the encoder. The zero value is quality 0.
type Options struct {
	// Quality is 0 (smallest) to 100 (best), on about libwebp's scale.
	Quality int
	// QIndex, when > 0, is the quantiser index 1..127 itself, overriding
	// Quality (tests and calibration).
	QIndex int
	// FilterLevel, when > 0, is the loop filter level 1..63; 0 chooses it
	// from the quantiser, and a negative value turns the filter off.
	FilterLevel int
}

// Planes are 4:2:0 Y'CbCr planes in VP8's limited-range BT.601, with
// chroma planes of (W+1)/2 x (H+1)/2.
type Planes struct {
	Y, Cb, Cr        []uint8
	YStride, CStride int
	W, H             int
}

// ErrSize is returned for an empty or too large image.
var ErrSize = errors.New("vp8enc: image size out of range")

// Encode writes m as a lossy WebP file. m must be 4:2:0 with
// limited-range samples; see FromYCbCr for JPEG's full-range planes.
func Encode(ctx context.Context, w io.Writer, p *Planes, o *Options) error {
	parts, _, err := encodeParts(ctx, p, o)
	if err != nil {
		return err
	}
	return writeContainer(w, parts[:]...)
}

// EncodeImage writes an image.YCbCr (4:2:0, full-range JFIF as image/jpeg
// and image.YCbCr's colour model define it) or any other image (converted
// from RGB, alpha ignored) as lossy WebP.
func EncodeImage(ctx context.Context, w io.Writer, m image.Image, o *Options) error {
	var p *Planes
	var err error
	if y, ok := m.(*image.YCbCr); ok && y.SubsampleRatio == image.YCbCrSubsampleRatio420 {
		p, err = FromYCbCr(ctx, y)
	} else {
		p, err = FromImage(ctx, m)
	}
	if err != nil {
		return err
	}
	return Encode(ctx, w, p, o)
}

// EncodeFrame encodes the VP8 key frame of p (the payload of a WebP "VP8 "
// chunk). With recon it also returns the frame as a decoder reconstructs
// it before the loop filter, cropped to p's size.
func EncodeFrame(ctx context.Context, p *Planes, o *Options, recon bool) ([]byte, *Planes, error) {
	parts, e, err := encodeParts(ctx, p, o)
	if err != nil {
		return nil, nil, err
	}
	var rp *Planes
	if recon {
		rp = e.reconPlanes()
	}
	return slices.Concat(parts[:]...), rp, nil
}

// encodeParts encodes the frame of p in three parts, so that they are
// written out without being copied together: the uncompressed header and
// the two partitions.
func encodeParts(ctx context.Context, p *Planes, o *Options) ([3][]byte, *encoder, error) {
	var none [3][]byte
	if p.W < 1 || p.H < 1 || p.W > MaxSide || p.H > MaxSide {
		return none, nil, fmt.Errorf("%w: %dx%d", ErrSize, p.W, p.H)
	}
	if o == nil {
		o = &Options{Quality: 75}
	}
	e := newEncoder(p, o)
	pl := ctxpoll.New(ctx)
	// Pass 1: choose modes, quantise, reconstruct, count token statistics.
	for mby := range e.mbh {
		if err := pl.Work(e.mbw * 16 * 16 * 24); err != nil {
			return none, nil, err
		}
		e.leftNZ, e.leftB = 0, [4]uint8{}
		for mbx := range e.mbw {
			e.analyse(mbx, mby)
		}
	}
	if err := pl.Err(); err != nil {
		return none, nil, err
	}
	return e.write(), e, nil
}

// quant quantises one kind of coefficient (Y1, Y2 or chroma) with the DC
// and AC factors of section 14.1 and a rounding bias (a dead zone below
// 1/2: rounding values a little more towards zero saves bits for less
// distortion than it costs).
type quant struct {
	q    [2]int32 // DC, AC step
	iq   [2]int64 // 2^20 / step, rounded up: division by multiplication
	bias [2]int32 // added to |c| before dividing, in the step's units
}

func newQuant(dc, ac int, dcBias, acBias float64) quant {
	return quant{q: [2]int32{int32(dc), int32(ac)},
		iq:   [2]int64{int64((1<<20 + dc - 1) / dc), int64((1<<20 + ac - 1) / ac)},
		bias: [2]int32{int32(dcBias * float64(dc)), int32(acBias * float64(ac))}}
}

// quantize quantises c (raster order) from coding position first into
// lv (coding order), writes the dequantised values into dq (raster
// order; dq[0] untouched when first is 1) and returns one past the last
// non-zero level (0 when all are zero).
func (q *quant) quantize(c *[16]int32, first int, lv *[16]int16, dq *[16]int32) int {
	n := 0
	for i := first; i < 16; i++ {
		j := vp8.Zigzag[i]
		k := min(i, 1)
		v := c[j]
		a := v
		if a < 0 {
			a = -a
		}
		l := int32((int64(a+q.bias[k]) * q.iq[k]) >> 20)
		if l > maxLevel {
			l = maxLevel
		}
		if l != 0 {
			n = i + 1
			if v < 0 {
				l = -l
			}
		}
		lv[i] = int16(l)
		dq[j] = l * q.q[k]
	}
	return n
}

// mbInfo is what the frame header says of one macroblock (section 19.3).
type mbInfo struct {
	ymode  uint8 // predDC..predTM, or predB
	uvmode uint8
	skip   bool // no non-zero coefficient: mb_skip_coeff
	seg    uint8
	bmodes [16]uint8
}

// residual holds one macroblock's quantised coefficients in coding order,
// with n: one past the last non-zero level of each block.
type residual struct {
	y2  [16]int16
	y2n int
	y   [16][16]int16
	yn  [16]int
	uv  [8][16]int16 // 4 Cb blocks, then 4 Cr
	uvn [8]int
}

type encoder struct {
	w, h, mbw, mbh int
	ys, cs         int     // strides of the padded planes
	sy, su, sv     []uint8 // source, padded to whole macroblocks
	ry, ru, rv     []uint8 // reconstruction (before the loop filter)

	qindex, filter int // the frame's: its segments' are deltas from these
	segs           [4]segment
	nseg           int
	segmented      bool // a segment map is sent
	stepRatio      [4]float64
	// The current macroblock's segment's (analyse).
	y1, y2, uv quant
	lambda     int64 // of the 16x16 / 4x4 decision, SSE per bit (x16)
	lambda4    int64 // of the 4x4 mode preselection (x16)

	prob  probs // during pass 1 the defaults (rate estimates)
	st    stats
	mbs   []mbInfo
	coefs []int16 // every macroblock's residual, packed (see pack)

	// Contexts, reset at the start of each pass. NZ bits: 0-3 the luma
	// columns (rows for left), 4-5 Cb, 6-7 Cr, 8 Y2.
	topNZ  []uint16
	leftNZ uint16
	topB   []uint8 // sub-block modes along the bottom of the row above
	leftB  [4]uint8
}

func newEncoder(p *Planes, o *Options) *encoder {
	e := &encoder{w: p.W, h: p.H, mbw: (p.W + 15) / 16, mbh: (p.H + 15) / 16}
	e.ys, e.cs = 16*e.mbw, 8*e.mbw
	e.sy = padPlane(p.Y, p.YStride, p.W, p.H, e.ys, 16*e.mbh)
	cw, ch := (p.W+1)/2, (p.H+1)/2
	e.su = padPlane(p.Cb, p.CStride, cw, ch, e.cs, 8*e.mbh)
	e.sv = padPlane(p.Cr, p.CStride, cw, ch, e.cs, 8*e.mbh)
	e.ry = make([]uint8, len(e.sy))
	e.ru = make([]uint8, len(e.su))
	e.rv = make([]uint8, len(e.sv))
	e.qindex = o.QIndex
	if e.qindex <= 0 {
		e.qindex = QIndexForQuality(o.Quality)
	}
	e.qindex = min(e.qindex, 127)
	e.mbs = make([]mbInfo, e.mbw*e.mbh)
	e.setSegments(o.FilterLevel)
	e.prob = defaultProbs()
	// The most a macroblock stores (pack): 25 block lengths, 400 levels.
	// Allocated at once, as appending would allocate twice as much.
	e.coefs = make([]int16, 0, e.mbw*e.mbh*425)
	e.topNZ = make([]uint16, e.mbw)
	e.topB = make([]uint8, 4*e.mbw)
	return e
}

// Rate-distortion multipliers, as fractions: lambda = q^2 * 3/160 SSE per
// bit (q the luma AC step, whose quantisation noise is about q^2/48 per
// coefficient), and the 4x4 preselection's, 3q per bit of mode. Tuned on
// the corpus (TestCalibrate): from 3/20 to 3/320 the bytes at equal SSIM
// move by less than 1 %.
const (
	lambdaNum, lambdaDen   = 3, 160
	lambda4Num, lambda4Den = 3, 1
)

// padPlane copies a w x h plane into a pw x ph one, repeating the last
// column and row into the padding.
func padPlane(src []uint8, stride, w, h, pw, ph int) []uint8 {
	dst := make([]uint8, pw*ph)
	for y := range ph {
		sy := min(y, h-1)
		row := dst[y*pw : y*pw+pw]
		copy(row, src[sy*stride:sy*stride+w])
		last := row[w-1]
		for x := w; x < pw; x++ {
			row[x] = last
		}
	}
	return dst
}

// reconPlanes crops the reconstruction to the image.
func (e *encoder) reconPlanes() *Planes {
	cw, ch := (e.w+1)/2, (e.h+1)/2
	p := &Planes{W: e.w, H: e.h, YStride: e.w, CStride: cw,
		Y: make([]uint8, e.w*e.h), Cb: make([]uint8, cw*ch), Cr: make([]uint8, cw*ch)}
	for y := range e.h {
		copy(p.Y[y*e.w:], e.ry[y*e.ys:y*e.ys+e.w])
	}
	for y := range ch {
		copy(p.Cb[y*cw:], e.ru[y*e.cs:y*e.cs+cw])
		copy(p.Cr[y*cw:], e.rv[y*e.cs:y*e.cs+cw])
	}
	return p
}

// edgesOf gathers the prediction edges of the n x n block at (x0, y0) of
// plane rec (stride s), whose macroblock is (mbx, mby): section 12.2's
// borders of 127 above and 129 left of the frame (the above-left pixel
// is 127 on the top row, else 129 on the left column), and for luma the
// 4 pixels above-right, which for the last macroblock of a row repeat
// the last pixel above (what a decoder's extended frame border holds).
func (e *encoder) edgesOf(rec []uint8, s, n, x0, y0, mbx, mby int, ed *edges) {
	ed.haveAbove, ed.haveLeft = mby > 0, mbx > 0
	if mby == 0 {
		for i := range ed.above {
			ed.above[i] = 127
		}
		ed.topLeft = 127
	} else {
		row := rec[(y0-1)*s:]
		copy(ed.above[:n], row[x0:x0+n])
		if n == 16 {
			if mbx < e.mbw-1 {
				copy(ed.above[16:20], row[x0+16:x0+20])
			} else {
				for i := 16; i < 20; i++ {
					ed.above[i] = row[x0+15]
				}
			}
		}
		if mbx == 0 {
			ed.topLeft = 129
		} else {
			ed.topLeft = row[x0-1]
		}
	}
	for i := range n {
		if mbx == 0 {
			ed.left[i] = 129
		} else {
			ed.left[i] = rec[(y0+i)*s+x0-1]
		}
	}
}

// sse is the sum of squared differences of n x n pixels.
func sse(a []uint8, as int, b []uint8, bs int, n int) int64 {
	var s int64
	for y := range n {
		ra := a[y*as : y*as+n]
		rb := b[y*bs : y*bs+n]
		for x := range ra {
			d := int64(ra[x]) - int64(rb[x])
			s += d * d
		}
	}
	return s
}

// Costs of the key frame's mode trees (section 11.2), in 1/256 bit, by
// mode: the 16x16 luma tree (with B_PRED) at fixed probabilities 145,
// 156, 163, 128 and the chroma tree at 142, 114, 183.
var (
	ymodeCost = [5]int32{
		predDC: bitCost[145][1] + bitCost[156][0] + bitCost[163][0],
		predV:  bitCost[145][1] + bitCost[156][0] + bitCost[163][1],
		predH:  bitCost[145][1] + bitCost[156][1] + bitCost[128][0],
		predTM: bitCost[145][1] + bitCost[156][1] + bitCost[128][1],
		predB:  bitCost[145][0],
	}
	uvmodeCost = [4]int32{
		predDC: bitCost[142][0],
		predV:  bitCost[142][1] + bitCost[114][0],
		predH:  bitCost[142][1] + bitCost[114][1] + bitCost[183][0],
		predTM: bitCost[142][1] + bitCost[114][1] + bitCost[183][1],
	}
)

// bmodePath is each sub-block mode's path in the tree of section 11.2
// (bmode_tree): the nodes visited and the bit taken at each.
var bmodePath = [numBModes][]struct {
	node int
	bit  bool
}{
	bDC: {{0, false}},
	bTM: {{0, true}, {1, false}},
	bVE: {{0, true}, {1, true}, {2, false}},
	bHE: {{0, true}, {1, true}, {2, true}, {3, false}, {4, false}},
	bRD: {{0, true}, {1, true}, {2, true}, {3, false}, {4, true}, {5, false}},
	bVR: {{0, true}, {1, true}, {2, true}, {3, false}, {4, true}, {5, true}},
	bLD: {{0, true}, {1, true}, {2, true}, {3, true}, {6, false}},
	bVL: {{0, true}, {1, true}, {2, true}, {3, true}, {6, true}, {7, false}},
	bHD: {{0, true}, {1, true}, {2, true}, {3, true}, {6, true}, {7, true}, {8, false}},
	bHU: {{0, true}, {1, true}, {2, true}, {3, true}, {6, true}, {7, true}, {8, true}},
}

// bmodeCost[above][left][mode] is the cost of a sub-block mode given the
// modes of the sub-blocks above and to the left (section 11.5).
var bmodeCost = func() (t [numBModes][numBModes][numBModes]int32) {
	for a := range numBModes {
		for l := range numBModes {
			pr := &vp8.KFBModeProbs[a][l]
			for m := range numBModes {
				for _, s := range bmodePath[m] {
					t[a][l][m] += cost(pr[s.node], s.bit)
				}
			}
		}
	}
	return t
}()

// impliedBMode is the sub-block mode a 16x16-predicted macroblock stands
// for in its neighbours' contexts (section 11.3).
var impliedBMode = [4]uint8{predDC: bDC, predV: bVE, predH: bHE, predTM: bTM}

// analyse chooses the modes of macroblock (mbx, mby), codes its residual
// into the reconstruction, counts its tokens and stores them.
func (e *encoder) analyse(mbx, mby int) {
	info := &e.mbs[mby*e.mbw+mbx]
	sg := &e.segs[info.seg]
	e.y1, e.y2, e.uv, e.lambda, e.lambda4 = sg.y1, sg.y2, sg.uv, sg.lambda, sg.lambda4
	var res residual
	x0, y0 := 16*mbx, 16*mby
	src := e.sy[y0*e.ys+x0:]
	var ed edges
	e.edgesOf(e.ry, e.ys, 16, x0, y0, mbx, mby, &ed)

	// 16x16: the mode whose prediction is closest, then its coding cost.
	var pred [4][256]uint8
	best, bestScore := 0, int64(-1)
	for m := range 4 {
		predictBlock(m, 16, &ed, pred[m][:])
		s := 256*sse(src, e.ys, pred[m][:], 16, 16) + e.lambda4*int64(ymodeCost[m])/16
		if bestScore < 0 || s < bestScore {
			best, bestScore = m, s
		}
	}
	var rec16 [256]uint8
	d16, r16 := e.code16(src, pred[best][:], mbx, &res, &rec16)
	score16 := 16*256*d16 + e.lambda*int64(r16+ymodeCost[best])

	// 4x4: sub-block by sub-block, stopping once worse than 16x16.
	var res4 residual
	var rec4 [256]uint8
	var bmodes [16]uint8
	limit := score16
	if forceBMode >= 0 {
		limit = 1 << 62
	}
	score4, ok := e.code4(src, &ed, mbx, &res4, &rec4, &bmodes, limit)
	if ok && score4 < score16 || forceBMode >= 0 {
		info.ymode, info.bmodes = predB, bmodes
		res.y, res.yn, res.y2n = res4.y, res4.yn, 0
		rec16 = rec4
	} else {
		info.ymode = uint8(best)
	}
	for y := range 16 {
		copy(e.ry[(y0+y)*e.ys+x0:(y0+y)*e.ys+x0+16], rec16[16*y:16*y+16])
	}

	// Chroma: the mode whose prediction is closest over both planes.
	cx, cy := 8*mbx, 8*mby
	var edU, edV edges
	e.edgesOf(e.ru, e.cs, 8, cx, cy, mbx, mby, &edU)
	e.edgesOf(e.rv, e.cs, 8, cx, cy, mbx, mby, &edV)
	su, sv := e.su[cy*e.cs+cx:], e.sv[cy*e.cs+cx:]
	var pu, pv [4][64]uint8
	bestUV, bestScore := 0, int64(-1)
	for m := range 4 {
		predictBlock(m, 8, &edU, pu[m][:])
		predictBlock(m, 8, &edV, pv[m][:])
		s := 256*(sse(su, e.cs, pu[m][:], 8, 8)+sse(sv, e.cs, pv[m][:], 8, 8)) + e.lambda4*int64(uvmodeCost[m])/16
		if bestScore < 0 || s < bestScore {
			bestUV, bestScore = m, s
		}
	}
	info.uvmode = uint8(bestUV)
	e.codeChroma(su, pu[bestUV][:], e.ru[cy*e.cs+cx:], res.uv[:4], res.uvn[:4])
	e.codeChroma(sv, pv[bestUV][:], e.rv[cy*e.cs+cx:], res.uv[4:], res.uvn[4:])

	info.skip = res.y2n == 0
	for i := range 16 {
		info.skip = info.skip && res.yn[i] == 0
	}
	for i := range 8 {
		info.skip = info.skip && res.uvn[i] == 0
	}
	e.tokens(nil, info, &res, mbx)
	if !info.skip {
		e.pack(info, &res)
	}
}

// code16 codes the luma of a 16x16-predicted macroblock: the DCT of each
// 4x4 residual block, the Walsh-Hadamard transform of their DCs into Y2
// (section 14.3), quantisation, and the decoder's reconstruction. It
// returns the distortion (SSE) and the estimated rate of the residual.
func (e *encoder) code16(src []uint8, pred []uint8, mbx int, res *residual, rec *[256]uint8) (int64, int32) {
	var coef [16][16]int32
	var dcs, y2 [16]int32
	for b := range 16 {
		bx, by := 4*(b&3), 4*(b>>2)
		fdct4(src[by*e.ys+bx:], e.ys, pred[by*16+bx:], 16, &coef[b])
		dcs[b] = coef[b][0]
	}
	fwht(&dcs, &y2)
	var dq2 [16]int32
	res.y2n = e.y2.quantize(&y2, 0, &res.y2, &dq2)
	var dc [16]int32
	iwht(&dq2, &dc)
	var dq [16]int32
	for b := range 16 {
		res.yn[b] = e.y1.quantize(&coef[b], 1, &res.y[b], &dq)
		dq[0] = dc[b]
		bx, by := 4*(b&3), 4*(b>>2)
		idct4(&dq, pred[by*16+bx:], 16, rec[by*16+bx:], 16)
	}
	d := sse(src, e.ys, rec[:], 16, 16)
	// Rate, with the token contexts the blocks will have.
	tnz, lnz := e.topNZ[mbx], e.leftNZ
	r := blockCost(&e.prob[typeY2], int(tnz>>8&1+lnz>>8&1), 0, &res.y2, res.y2n)
	for b := range 16 {
		bx, by := b&3, b>>2
		ctx := int(tnz>>bx&1 + lnz>>by&1)
		r += blockCost(&e.prob[typeYAfterY2], ctx, 1, &res.y[b], res.yn[b])
		nz := uint16(0)
		if res.yn[b] > 0 {
			nz = 1
		}
		tnz = tnz&^(1<<bx) | nz<<bx
		lnz = lnz&^(1<<by) | nz<<by
	}
	return d, r
}

// code4 codes the luma of a macroblock as sixteen 4x4 sub-blocks (section
// 12.3), each predicted from the reconstruction of those before it: of
// the rdCandidates modes of least prediction SSE + lambda4 * mode bits,
// the one whose coded block has the least distortion + lambda*rate. It returns the
// macroblock's distortion + lambda*rate, or ok false as soon as that
// exceeds limit.
func (e *encoder) code4(src []uint8, ed *edges, mbx int, res *residual, rec *[256]uint8, bmodes *[16]uint8, limit int64) (int64, bool) {
	tnz, lnz := e.topNZ[mbx], e.leftNZ
	score := e.lambda * int64(ymodeCost[predB])
	var A [8]uint8
	var L [4]uint8
	var pred [16]uint8
	var coef, dq [16]int32
	for b := range 16 {
		bx, by := b&3, b>>2
		x, y := 4*bx, 4*by
		// Edges: the macroblock's own reconstruction inside it, else ed.
		var X uint8
		if by == 0 {
			copy(A[:], ed.above[x:x+8])
		} else {
			copy(A[:4], rec[(y-1)*16+x:(y-1)*16+x+4])
			if bx < 3 {
				copy(A[4:], rec[(y-1)*16+x+4:(y-1)*16+x+8])
			} else {
				copy(A[4:], ed.above[16:20]) // above-right of the macroblock
			}
		}
		for i := range 4 {
			if bx == 0 {
				L[i] = ed.left[y+i]
			} else {
				L[i] = rec[(y+i)*16+x-1]
			}
		}
		switch {
		case bx == 0 && by == 0:
			X = ed.topLeft
		case by == 0:
			X = ed.above[x-1]
		case bx == 0:
			X = ed.left[y-1]
		default:
			X = rec[(y-1)*16+x-1]
		}
		var am, lm uint8
		if by == 0 {
			am = e.topB[4*mbx+bx]
		} else {
			am = bmodes[b-4]
		}
		if bx == 0 {
			lm = e.leftB[by]
		} else {
			lm = bmodes[b-1]
		}
		mc := &bmodeCost[am][lm]
		// Preselect by prediction SSE + lambda4 * mode bits, then code the
		// rdCandidates best and keep the one of least D + lambda*R.
		s := src[y*e.ys+x:]
		var pre [numBModes]int64
		for m := range numBModes {
			pre[m] = -1
			if forceBMode >= 0 && m != forceBMode {
				continue
			}
			predict4(m, &A, &L, X, &pred)
			pre[m] = 256*sse(s, e.ys, pred[:], 4, 4) + e.lambda4*int64(mc[m])/16
		}
		ctx := int(tnz>>bx&1 + lnz>>by&1)
		bestScore, bm := int64(-1), 0
		var bestRec [16]uint8
		var lv [16]int16
		for range rdCandidates {
			m := -1
			for k, v := range pre {
				if v >= 0 && (m < 0 || v < pre[m]) {
					m = k
				}
			}
			if m < 0 {
				break
			}
			pre[m] = -1
			predict4(m, &A, &L, X, &pred)
			fdct4(s, e.ys, pred[:], 4, &coef)
			n := e.y1.quantize(&coef, 0, &lv, &dq)
			var out [16]uint8
			idct4(&dq, pred[:], 4, out[:], 4)
			rate := blockCost(&e.prob[typeYWithDC], ctx, 0, &lv, n) + mc[m]
			sc := 16*256*sse(s, e.ys, out[:], 4, 4) + e.lambda*int64(rate)
			if bestScore < 0 || sc < bestScore {
				bestScore, bm, bestRec = sc, m, out
				res.y[b], res.yn[b] = lv, n
			}
		}
		bmodes[b] = uint8(bm)
		for i := range 4 {
			copy(rec[(y+i)*16+x:(y+i)*16+x+4], bestRec[4*i:4*i+4])
		}
		nz := uint16(0)
		if res.yn[b] > 0 {
			nz = 1
		}
		tnz = tnz&^(1<<bx) | nz<<bx
		lnz = lnz&^(1<<by) | nz<<by
		score += bestScore
		if score >= limit {
			return score, false
		}
	}
	return score, true
}

// codeChroma codes the four 8x8 quadrant blocks of one chroma plane of a
// macroblock, writing the reconstruction to rec (stride e.cs).
func (e *encoder) codeChroma(src, pred, rec []uint8, lv [][16]int16, n []int) {
	var coef, dq [16]int32
	for b := range 4 {
		x, y := 4*(b&1), 4*(b>>1)
		fdct4(src[y*e.cs+x:], e.cs, pred[y*8+x:], 8, &coef)
		n[b] = e.uv.quantize(&coef, 0, &lv[b], &dq)
		idct4(&dq, pred[y*8+x:], 8, rec[y*e.cs+x:], e.cs)
	}
}

// tokens codes (bw != nil) or counts the tokens of a macroblock in the
// order of section 13 — Y2 if any, the 16 luma blocks, 4 Cb, 4 Cr — and
// updates the contexts: the non-zero flags of the blocks along its
// bottom and right edges, and its sub-block modes. A skipped macroblock
// codes nothing and leaves flags of zero (but keeps the Y2 flags when it
// has no Y2 block, as a decoder does).
func (e *encoder) tokens(bw *boolEncoder, info *mbInfo, res *residual, mbx int) {
	tnz, lnz := e.topNZ[mbx], e.leftNZ
	if info.ymode == predB {
		copy(e.topB[4*mbx:4*mbx+4], info.bmodes[12:16])
		for i := range 4 {
			e.leftB[i] = info.bmodes[4*i+3]
		}
	} else {
		m := impliedBMode[info.ymode]
		for i := range 4 {
			e.topB[4*mbx+i], e.leftB[i] = m, m
		}
	}
	if info.skip {
		keep := uint16(0)
		if info.ymode == predB {
			keep = 1 << 8
		}
		e.topNZ[mbx], e.leftNZ = tnz&keep, lnz&keep
		return
	}
	flag := func(n int) uint16 {
		if n > 0 {
			return 1
		}
		return 0
	}
	first, typ := 0, typeYWithDC
	if info.ymode != predB {
		ctx := int(tnz>>8&1 + lnz>>8&1)
		codeBlock(bw, &e.st[typeY2], &e.prob[typeY2], ctx, 0, &res.y2, res.y2n)
		nz := flag(res.y2n)
		tnz = tnz&^(1<<8) | nz<<8
		lnz = lnz&^(1<<8) | nz<<8
		first, typ = 1, typeYAfterY2
	}
	for b := range 16 {
		bx, by := b&3, b>>2
		ctx := int(tnz>>bx&1 + lnz>>by&1)
		codeBlock(bw, &e.st[typ], &e.prob[typ], ctx, first, &res.y[b], res.yn[b])
		nz := flag(res.yn[b])
		tnz = tnz&^(1<<bx) | nz<<bx
		lnz = lnz&^(1<<by) | nz<<by
	}
	for b := range 8 {
		bx, by := 4+b&1, 4+(b&3)>>1 // bits 4-5 Cb, 6-7 Cr
		if b >= 4 {
			bx, by = bx+2, by+2
		}
		ctx := int(tnz>>bx&1 + lnz>>by&1)
		codeBlock(bw, &e.st[typeChroma], &e.prob[typeChroma], ctx, 0, &res.uv[b], res.uvn[b])
		nz := flag(res.uvn[b])
		tnz = tnz&^(1<<bx) | nz<<bx
		lnz = lnz&^(1<<by) | nz<<by
	}
	e.topNZ[mbx], e.leftNZ = tnz, lnz
}

// pack appends a macroblock's levels to e.coefs: per block, n, then its
// n levels in coding order. unpack reads them back in the same order.
func (e *encoder) pack(info *mbInfo, res *residual) {
	put := func(lv *[16]int16, n int) {
		e.coefs = append(e.coefs, int16(n))
		e.coefs = append(e.coefs, lv[:n]...)
	}
	if info.ymode != predB {
		put(&res.y2, res.y2n)
	}
	for b := range 16 {
		put(&res.y[b], res.yn[b])
	}
	for b := range 8 {
		put(&res.uv[b], res.uvn[b])
	}
}

func (e *encoder) unpack(info *mbInfo, res *residual, off int) int {
	get := func(lv *[16]int16, n *int) {
		*n = int(e.coefs[off])
		off++
		*lv = [16]int16{}
		copy(lv[:], e.coefs[off:off+*n])
		off += *n
	}
	if info.ymode != predB {
		get(&res.y2, &res.y2n)
	}
	for b := range 16 {
		get(&res.y[b], &res.yn[b])
	}
	for b := range 8 {
		get(&res.uv[b], &res.uvn[b])
	}
	return off
}

var forceBMode = -1 // tests: every macroblock 4x4 with this mode

// rdCandidates is how many of the preselected 4x4 modes are coded to
// compare their distortion + lambda*rate. Measured on path.jpg at 800 px,
// q85 (CPU per encode, median of 7) and on three photos x 8 qualities
// (bytes at equal SSIM against libwebp m2): 1: 50.6 ms, 0.942; 2: 60.5
// ms, 0.916; 3: 70.8 ms, 0.905; 5: 0.896.
const rdCandidates = 2
