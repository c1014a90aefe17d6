package imaging

import (
	"context"
	"math"
	"sync"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// This file resamples single 8-bit planes, such as the Y′, Cb and Cr planes
// of a decoded JPEG, without converting them to RGB: the pipeline's fast
// path for Y′CbCr sources written as JPEG resizes the luma plane and the
// (smaller) chroma planes separately and hands them to the encoder as they
// are.

// Plane is a W×H plane of 8-bit samples: row y is Pix[y*Stride : y*Stride+W].
type Plane struct {
	Pix    []uint8
	Stride int
	W, H   int
}

// PlaneAxis maps one axis of an output plane onto one axis of a source
// plane. Source sample k covers the interval [k, k+1). Output sample i
// (0 ≤ i < N) is filtered around the source coordinate
// Offset + Step·(i + 0.5); a negative Step mirrors the axis, and |Step| is
// the reduction (above 1) or enlargement (below 1) factor. Only source
// samples Lo … Hi−1 are read: taps beyond them repeat the nearest of those
// (edge extension), so a plane can be resampled from a window of a larger
// one without copying.
type PlaneAxis struct {
	N            int
	Offset, Step float64
	Lo, Hi       int
}

// Fixed-point formats of the planar resampler. Weights have plWeightBits
// fractional bits and sum to exactly 1<<plWeightBits per output sample; the
// vertical pass, which runs first, keeps plInterBits fractional bits in
// int16. With the kernels here the positive weights of an output sample
// sum to at most 1.28 and the negative ones to at least −0.28
// (TestResamplePlaneWeightsSum), so intermediate values stay within
// −0.28·255·64 … 1.28·255·64, inside int16, and the horizontal pass's int32
// sums below 1.28·(1.28·255·64)·2^14 + 0.28·(0.28·255·64)·2^14 < 2^29.
const (
	plWeightBits = 14
	plWeightOne  = 1 << plWeightBits
	plInterBits  = 6
	plHShift     = plWeightBits - plInterBits
	plVShift     = plWeightBits + plInterBits
)

// PlaneWeights are the precomputed fixed-point filter weights of one
// PlaneAxis: output sample i reads count[i] consecutive source samples from
// start[i] with the weights w[i*taps : i*taps+count[i]], the rest of the
// row up to taps (a multiple of 8, for the SIMD kernels) being zero; reach
// is the largest start[i]+taps. They depend only on
// the axis and the filter, and may be shared by planes of the same geometry
// (the Cb and Cr planes) and by concurrent calls.
type PlaneWeights struct {
	n     int
	start []int32
	count []int32
	w     []int16
	taps  int
	reach int
	// copyFrom ≥ 0 means output sample i is source sample copyFrom+i at
	// full weight (an unscaled, whole-sample-aligned axis).
	copyFrom int
}

// Len returns the number of output samples.
func (pw *PlaneWeights) Len() int { return pw.n }

// NewPlaneWeights computes the weights of axis a for filter f. When
// reducing, the kernel is widened by the reduction factor so that it also
// acts as the anti-aliasing filter; Nearest takes the source sample under
// each output sample's centre. An unknown filter is treated as Lanczos3.
// Lo and Hi are clamped to a valid, non-empty range of at least one sample
// when Hi ≤ Lo.
func NewPlaneWeights(a PlaneAxis, f Filter) *PlaneWeights {
	n := max(a.N, 0)
	lo, hi := max(a.Lo, 0), a.Hi
	if hi <= lo {
		hi = lo + 1
	}
	if f < Nearest || f > Lanczos3 {
		f = Lanczos3
	}
	pw := &PlaneWeights{n: n, copyFrom: -1}
	scale := math.Abs(a.Step)
	fscale := max(scale, 1)
	support := 0.5
	if f != Nearest {
		support = rsSupport(f) * fscale
	}
	taps := min(int(math.Ceil(2*support))+2, hi-lo)
	pw.taps = (taps + 7) &^ 7
	pw.start = make([]int32, 2*n)
	pw.start, pw.count = pw.start[:n:n], pw.start[n:]
	pw.w = make([]int16, n*pw.taps)
	fw := make([]float64, taps)
	for i := range n {
		centre := a.Offset + a.Step*(float64(i)+0.5)
		row := pw.w[i*pw.taps : (i+1)*pw.taps]
		if f == Nearest {
			k := min(max(int(math.Floor(centre)), lo), hi-1)
			pw.start[i], pw.count[i] = int32(k), 1
			row[0] = plWeightOne
			continue
		}
		first := min(max(int(math.Floor(centre-support)), lo), hi-1)
		last := min(max(int(math.Ceil(centre+support)), lo), hi-1)
		cnt := last - first + 1
		clear(fw[:cnt])
		sum := 0.0
		for j := int(math.Floor(centre - support)); j <= int(math.Ceil(centre+support)); j++ {
			v := rsKernel(f, (float64(j)+0.5-centre)/fscale)
			if v == 0 {
				continue
			}
			jj := min(max(j, lo), hi-1)
			fw[jj-first] += v
			sum += v
		}
		if sum == 0 { // cannot happen with these kernels; be safe
			k := min(max(int(math.Floor(centre)), lo), hi-1)
			pw.start[i], pw.count[i] = int32(k), 1
			row[0] = plWeightOne
			continue
		}
		total, big := int32(0), 0
		for k := range cnt {
			q := int32(math.Round(fw[k] / sum * plWeightOne))
			row[k] = int16(q)
			total += q
			if row[k] > row[big] {
				big = k
			}
		}
		row[big] += int16(plWeightOne - total)
		skip := 0
		for skip < cnt-1 && row[skip] == 0 {
			skip++
		}
		for cnt > skip+1 && row[cnt-1] == 0 {
			cnt--
		}
		copy(row, row[skip:cnt])
		clear(row[cnt-skip:])
		pw.start[i], pw.count[i] = int32(first+skip), int32(cnt-skip)
	}
	for _, s := range pw.start {
		pw.reach = max(pw.reach, int(s)+pw.taps)
	}
	pw.detectCopy()
	return pw
}

// detectCopy sets copyFrom when every output sample is a single source
// sample at full weight, consecutive from the first.
func (pw *PlaneWeights) detectCopy() {
	if pw.n == 0 {
		return
	}
	s0 := pw.start[0]
	for i := range pw.n {
		if pw.count[i] != 1 || pw.w[i*pw.taps] != plWeightOne || pw.start[i] != s0+int32(i) {
			return
		}
	}
	pw.copyFrom = int(s0)
}

// plScratch holds the working rows of one ResamplePlane call.
type plScratch struct {
	acc  []int32
	tmp  []int16
	wpad []int16
	row  []uint8
}

var plScratchPool = sync.Pool{New: func() any { return new(plScratch) }}

// ResamplePlane fills dst (dst.W = h.Len(), dst.H = v.Len()) from src:
// vertical filtering with v along src's columns, then horizontal filtering
// with h along the resulting row. h and v must have been computed for axes
// whose Lo…Hi lie within src's width and height. The vertical pass runs
// first because it streams whole source rows (the cheaper access pattern)
// and leaves the horizontal pass only the output rows to filter. Working
// buffers come from a pool: ResamplePlane allocates nothing in the steady
// state, and it starts no goroutines. ctx is polled every few output rows
// (see ctxpoll): once it is done, ResamplePlane stops, leaving dst partly
// filled, and returns ctx.Err().
func ResamplePlane(ctx context.Context, dst, src Plane, h, v *PlaneWeights) error {
	return resampleInto(ctx, dst, src, h, v, false)
}

// ResamplePlaneTransposed is ResamplePlane writing the transpose of its
// result: dst.W = v.Len(), dst.H = h.Len() and dst(y, x) is ResamplePlane's
// sample (x, y). Each filtered row goes straight into a column of dst,
// which saves a transpose, and its buffer, when an orientation swaps the
// axes.
func ResamplePlaneTransposed(ctx context.Context, dst, src Plane, h, v *PlaneWeights) error {
	return resampleInto(ctx, dst, src, h, v, true)
}

func resampleInto(ctx context.Context, dst, src Plane, h, v *PlaneWeights, transposed bool) error {
	w, ht := h.n, v.n
	if w <= 0 || ht <= 0 {
		return nil
	}
	if last := (w-1)*dst.Stride + ht - 1; transposed && last >= len(dst.Pix) {
		panic("imaging: transposed destination too small")
	}
	pl := ctxpoll.New(ctx)
	// The source columns the horizontal pass reads.
	c0, c1 := int(h.start[0]), int(h.start[0])
	for i := range w {
		s := int(h.start[i])
		c0, c1 = min(c0, s), max(c1, s+int(h.count[i]))
	}
	sc := plScratchPool.Get().(*plScratch)
	defer plScratchPool.Put(sc)
	// row returns where output row y goes: dst's row, or when transposed
	// a scratch row that column scatters into column y of dst.
	sc.row = growSlice(sc.row, w)
	row := func(y int) []uint8 {
		if transposed {
			return sc.row
		}
		return dst.Pix[y*dst.Stride : y*dst.Stride+w]
	}
	column := func(y int) {
		if transposed {
			for x, v := range sc.row {
				dst.Pix[x*dst.Stride+y] = v
			}
		}
	}
	if h.copyFrom >= 0 && v.copyFrom >= 0 {
		for y := range ht {
			if err := pl.Work(w); err != nil {
				return err
			}
			in := src.Pix[(v.copyFrom+y)*src.Stride+h.copyFrom:]
			copy(row(y), in[:w])
			column(y)
		}
		return nil
	}
	n := c1 - c0
	sc.acc = growSlice(sc.acc, n)
	// The horizontal kernel reads taps samples from every start: beyond
	// c1 it multiplies whatever is there by zero weights.
	sc.tmp = growSlice(sc.tmp, max(c1, h.reach))
	sc.wpad = growSlice(sc.wpad, v.taps+1)
	acc, tmp := sc.acc, sc.tmp
	var rows [maxPlaneTaps + 1][]uint8
	var rowsBig [][]uint8
	hWork := w * h.taps // the horizontal pass of one row, in ctxpoll units
	for y := range ht {
		out := row(y)
		s, cnt := int(v.start[y]), int(v.count[y])
		if err := pl.Work(hWork + n*cnt); err != nil {
			return err
		}
		if h.copyFrom < 0 && cnt == 1 && v.w[y*v.taps] == plWeightOne {
			// One whole source row: horizontal pass only.
			plHRow8(out, src.Pix[s*src.Stride:s*src.Stride+c1], h)
			column(y)
			continue
		}
		rs := rows[:0]
		if cnt > maxPlaneTaps {
			rowsBig = growSlice(rowsBig, cnt+1)
			rs = rowsBig[:0]
		}
		for k := range cnt {
			r := (s + k) * src.Stride
			rs = append(rs, src.Pix[r+c0:r+c1])
		}
		ws := v.w[y*v.taps : y*v.taps+cnt]
		if plSIMD && n >= 16 {
			plVRowPairs(tmp[c0:c1], rs, ws, sc.wpad)
		} else {
			plVRow(tmp[c0:c1], rs, ws, acc)
		}
		switch {
		case h.copyFrom >= 0:
			plRound(out, tmp[h.copyFrom:h.copyFrom+w], plInterBits)
			column(y)
		case plSIMD && transposed:
			// Straight into column y.
			plHRowSIMD(dst.Pix[y:], w, dst.Stride, tmp[:h.reach], h.start, h.w, h.taps)
		default:
			plHRow16(out, tmp, h)
			column(y)
		}
	}
	return nil
}

// maxPlaneTaps is the number of vertical taps handled without allocating
// (reductions up to about 7× with Lanczos3).
const maxPlaneTaps = 48

func growSlice[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// plVRow filters source rows vertically with weights ws into out
// (plInterBits fractional bits), using acc as scratch.
func plVRow(out []int16, rows [][]uint8, ws []int16, acc []int32) {
	n := len(out)
	acc = acc[:n]
	ws = ws[:len(rows)]
	k := 0
	switch len(rows) % 4 {
	case 0:
		plAxpy4(acc, rows[0][:n], rows[1][:n], rows[2][:n], rows[3][:n],
			int32(ws[0]), int32(ws[1]), int32(ws[2]), int32(ws[3]), true)
		k = 4
	case 1:
		r0, w0 := rows[0][:n], int32(ws[0])
		for i := range acc {
			acc[i] = w0 * int32(r0[i])
		}
		k = 1
	case 2:
		plAxpy2(acc, rows[0][:n], rows[1][:n], int32(ws[0]), int32(ws[1]))
		k = 2
	case 3:
		plAxpy3(acc, rows[0][:n], rows[1][:n], rows[2][:n], int32(ws[0]), int32(ws[1]), int32(ws[2]))
		k = 3
	}
	for ; k+8 <= len(rows); k += 8 {
		plAxpy8(acc, rows[k:k+8], ws[k:k+8])
	}
	for ; k+4 <= len(rows); k += 4 {
		plAxpy4(acc, rows[k][:n], rows[k+1][:n], rows[k+2][:n], rows[k+3][:n],
			int32(ws[k]), int32(ws[k+1]), int32(ws[k+2]), int32(ws[k+3]), false)
	}
	for i, v := range acc {
		out[i] = int16((v + 1<<(plHShift-1)) >> plHShift)
	}
}

// plAxpy2 sets acc to w0·r0 + w1·r1.
//
//go:noinline
func plAxpy2(acc []int32, r0, r1 []uint8, w0, w1 int32) {
	r0, r1 = r0[:len(acc)], r1[:len(acc)]
	for i := range acc {
		acc[i] = w0*int32(r0[i]) + w1*int32(r1[i])
	}
}

// plAxpy3 sets acc to w0·r0 + w1·r1 + w2·r2.
//
//go:noinline
func plAxpy3(acc []int32, r0, r1, r2 []uint8, w0, w1, w2 int32) {
	r0, r1, r2 = r0[:len(acc)], r1[:len(acc)], r2[:len(acc)]
	for i := range acc {
		acc[i] = w0*int32(r0[i]) + w1*int32(r1[i]) + w2*int32(r2[i])
	}
}

// plAxpy4 sets (first) or adds w0·r0 + … + w3·r3 to acc.
//
//go:noinline
func plAxpy4(acc []int32, r0, r1, r2, r3 []uint8, w0, w1, w2, w3 int32, first bool) {
	r0, r1, r2, r3 = r0[:len(acc)], r1[:len(acc)], r2[:len(acc)], r3[:len(acc)]
	if first {
		for i := range acc {
			acc[i] = w0*int32(r0[i]) + w1*int32(r1[i]) + w2*int32(r2[i]) + w3*int32(r3[i])
		}
		return
	}
	for i := range acc {
		acc[i] += w0*int32(r0[i]) + w1*int32(r1[i]) + w2*int32(r2[i]) + w3*int32(r3[i])
	}
}

// plAxpy8 adds the eight rows weighted by ws to acc.
//
//go:noinline
func plAxpy8(acc []int32, rows [][]uint8, ws []int16) {
	n := len(acc)
	r0, r1, r2, r3 := rows[0][:n], rows[1][:n], rows[2][:n], rows[3][:n]
	r4, r5, r6, r7 := rows[4][:n], rows[5][:n], rows[6][:n], rows[7][:n]
	w0, w1, w2, w3 := int32(ws[0]), int32(ws[1]), int32(ws[2]), int32(ws[3])
	w4, w5, w6, w7 := int32(ws[4]), int32(ws[5]), int32(ws[6]), int32(ws[7])
	for i := range acc {
		acc[i] += w0*int32(r0[i]) + w1*int32(r1[i]) + w2*int32(r2[i]) + w3*int32(r3[i]) +
			w4*int32(r4[i]) + w5*int32(r5[i]) + w6*int32(r6[i]) + w7*int32(r7[i])
	}
}

// plVRowPairs is plVRow with the SIMD kernel, which takes rows in pairs:
// an odd row count gets a last row of weight zero (wpad, of at least
// len(rows)+1, holds the weights). The last len(out) mod 16 samples are
// filtered here.
func plVRowPairs(out []int16, rows [][]uint8, ws, wpad []int16) {
	cnt := len(rows)
	wpad = wpad[:cnt+cnt&1]
	copy(wpad, ws)
	if cnt&1 == 1 {
		wpad[cnt] = 0
		rows = append(rows, rows[0])
	}
	n16 := len(out) &^ 15
	plVRowSIMD(out[:n16], rows, wpad)
	for i := n16; i < len(out); i++ {
		var v int32
		for k, w := range ws {
			v += int32(w) * int32(rows[k][i])
		}
		out[i] = int16((v + 1<<(plHShift-1)) >> plHShift)
	}
}

// plHRow16 filters an intermediate row horizontally into out; in must
// hold h.reach samples.
func plHRow16(out []uint8, in []int16, h *PlaneWeights) {
	if plSIMD {
		plHRowSIMD(out, len(out), 1, in[:h.reach], h.start, h.w, h.taps)
		return
	}
	plHRow16Go(out, in, h)
}

// plHRow16Go is plHRow16 in Go.
func plHRow16Go(out []uint8, in []int16, h *PlaneWeights) {
	taps := h.taps
	count := h.count[:len(out)]
	start := h.start[:len(out)]
	for i := range out {
		s, n := int(start[i]), int(count[i])
		acc := plDot(in[s:s+n], h.w[i*taps:i*taps+n])
		out[i] = rsClamp8(int((acc + 1<<(plVShift-1)) >> plVShift))
	}
}

// plHRow8 filters a source row horizontally into out.
func plHRow8(out []uint8, in []uint8, h *PlaneWeights) {
	taps := h.taps
	count := h.count[:len(out)]
	start := h.start[:len(out)]
	for i := range out {
		s, n := int(start[i]), int(count[i])
		acc := plDot(in[s:s+n], h.w[i*taps:i*taps+n])
		out[i] = rsClamp8(int((acc + 1<<(plWeightBits-1)) >> plWeightBits))
	}
}

// plDot returns the weighted sum of p by ws (len(p) = len(ws)), four taps
// per iteration; for 16-bit intermediates and 8-bit samples alike.
func plDot[T int16 | uint8](p []T, ws []int16) int32 {
	p = p[:len(ws)]
	var s0, s1 int32
	for len(ws) >= 4 && len(p) >= 4 {
		s0 += int32(ws[0])*int32(p[0]) + int32(ws[1])*int32(p[1])
		s1 += int32(ws[2])*int32(p[2]) + int32(ws[3])*int32(p[3])
		ws, p = ws[4:], p[4:]
	}
	for i, w := range ws {
		if i < len(p) {
			s0 += int32(w) * int32(p[i])
		}
	}
	return s0 + s1
}

// plRound turns intermediate values with frac fractional bits into samples.
func plRound(out []uint8, in []int16, frac uint) {
	in = in[:len(out)]
	for i, v := range in {
		out[i] = rsClamp8((int(v) + 1<<(frac-1)) >> frac)
	}
}

// TransposePlane writes the transpose of src into dst (dst.W = src.H,
// dst.H = src.W): dst(x, y) = src(y, x). ctx is polled every few rows of
// tiles (see ctxpoll): once it is done, TransposePlane stops, leaving dst
// partly filled, and returns ctx.Err().
func TransposePlane(ctx context.Context, dst, src Plane) error {
	const tile = 32
	pl := ctxpoll.New(ctx)
	for y0 := 0; y0 < src.H; y0 += tile {
		y1 := min(y0+tile, src.H)
		if err := pl.Work((y1 - y0) * src.W); err != nil {
			return err
		}
		for x0 := 0; x0 < src.W; x0 += tile {
			x1 := min(x0+tile, src.W)
			for y := y0; y < y1; y++ {
				row := src.Pix[y*src.Stride : y*src.Stride+x1]
				for x := x0; x < x1; x++ {
					dst.Pix[x*dst.Stride+y] = row[x]
				}
			}
		}
	}
	return nil
}
