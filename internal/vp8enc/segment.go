package vp8enc

import (
	"math"

	"github.com/imageopto/imageopto/internal/vp8"
)

// Adaptive quantisation (RFC 6386 section 9.3): each macroblock belongs
// to one of up to four segments, each with its own quantiser and loop
// filter level, so that bits go where they are seen. Quantisation noise
// of variance D in an area whose source has local variance s² lowers its
// SSIM by about D / (2s² + C2) (C2 = (0.03*255)², SSIM's stabiliser):
// noise in flat areas costs several times what it costs in texture. For
// the least SSIM loss at a given rate, D should grow with 2s² + C2, the
// quantiser step (noise ~ step²) with its square root. The encoder
// measures each macroblock's "masking" m = 2s² + C2 (s² the variance of
// each of its 8x8 quadrants, combined harmonically so that one flat
// quadrant keeps the macroblock fine), sorts the macroblocks into four
// segments by log m (k-means over a histogram), and gives segment s the
// step of the frame's quantiser times (m_s / maskRef)^(snsStrength/2):
// flat segments finer, busy ones coarser, flat areas at the frame's
// quantiser when snsStrength is 0.

// segment is one segment's quantisers, loop filter level and
// rate-distortion multipliers.
type segment struct {
	qindex, filter int
	y1, y2, uv     quant
	lambda         int64 // of the 16x16 / 4x4 decision, SSE per bit (x16)
	lambda4        int64 // of the 4x4 mode preselection (x16)
}

// Tuning (TestCalibrateVipsSweep, VP8_* variables: tuneFromEnv): the
// exponent of the step's growth with masking (0: one quantiser), the
// masking at which a segment gets the frame's quantiser (0: the frame's
// geometric mean), the least and most step ratio, the exponent of the
// whole frame's step with its masking against maskAnchor (smooth frames
// coarser), the quantisers' rounding (0.5: to nearest; 0.39 against 0.33
// took 1.1 % off the calibrated bytes), and the fewest macroblocks for
// which segments are worth their header.
var (
	snsStrength       = 0.5
	maskRef           = 0.0
	minStep, maxStep  = 0.5, 2.5
	frameGamma        = -0.3
	acBias, y2Bias    = 0.39, 0.38 // rounding of AC levels (quant)
	maskAnchor        = 2*8*8 + c2
	uvDelta           = -3 // the chroma quantisers' index delta (-15..15)
	minSegmentMBs     = 24
	segmentHistBins   = 256
	segmentLogScale   = 16.0 // histogram bins per doubling of m
	segmentKMeansIter = 8
)

const c2 = (0.03 * 255) * (0.03 * 255)

// setSegments measures the macroblocks' masking, assigns them to
// segments (info.seg) and sets e.segs, e.nseg and e.segmented. Small
// frames and snsStrength 0 have one segment at the frame's quantiser
// and no segment map.
func (e *encoder) setSegments(filterLevel int) {
	e.nseg = 1
	n := e.mbw * e.mbh
	if snsStrength > 0 && n >= minSegmentMBs {
		e.assignSegments()
	}
	for s := range e.nseg {
		sg := &e.segs[s]
		if e.nseg > 1 {
			sg.qindex = qindexForStep(float64(vp8.ACQ[e.qindex]) * e.stepRatio[s])
		} else {
			sg.qindex = e.qindex
		}
		sg.filter = filterLevel
		if filterLevel == 0 {
			sg.filter = filterLevelFor(sg.qindex)
		}
		sg.filter = max(0, min(63, sg.filter))
		sg.setQuant()
	}
	// Segments that ended with the same quantiser and filter are merged.
	if e.nseg > 1 {
		var remap [4]uint8
		var out [4]segment
		k := 0
		for s := range e.nseg {
			j := 0
			for j < k && (out[j].qindex != e.segs[s].qindex || out[j].filter != e.segs[s].filter) {
				j++
			}
			if j == k {
				out[k] = e.segs[s]
				k++
			}
			remap[s] = uint8(j)
		}
		e.segs, e.nseg = out, k
		for i := range e.mbs {
			e.mbs[i].seg = remap[e.mbs[i].seg]
		}
	}
	// The frame's filter level is the highest (a decoder filters nothing
	// when it is 0), the segments' are deltas from it.
	e.filter = 0
	for s := range e.nseg {
		e.filter = max(e.filter, e.segs[s].filter)
	}
	// One segment at another quantiser than the frame's (a flat frame)
	// is still sent as a segment, so that the header's index stays the
	// quality's.
	e.segmented = e.nseg > 1 || e.segs[0].qindex != e.qindex
}

// qindexForStep is the quantiser index whose luma AC step is nearest to
// step.
func qindexForStep(step float64) int {
	best, bd := 0, math.Inf(1)
	for q, a := range vp8.ACQ {
		if d := math.Abs(math.Log(float64(a) / step)); d < bd {
			best, bd = q, d
		}
	}
	return best
}

// assignSegments sorts the macroblocks into up to four segments by their
// log masking and sets each segment's step ratio.
func (e *encoder) assignSegments() {
	bins := segmentHistBins
	hist := make([]int, bins)
	var logSum float64
	for mby := range e.mbh {
		for mbx := range e.mbw {
			m := e.masking(mbx, mby)
			logSum += math.Log2(m / c2)
			b := int(segmentLogScale * math.Log2(m/c2))
			b = max(0, min(bins-1, b))
			e.mbs[mby*e.mbw+mbx].seg = uint8(b) // the bin, for now
			hist[b]++
		}
	}
	// Centres at the 1/8, 3/8, 5/8 and 7/8 quantiles, then k-means.
	total := e.mbw * e.mbh
	var centre [4]float64
	acc, k := 0, 0
	for b := range bins {
		acc += hist[b]
		for k < 4 && acc*8 > (2*k+1)*total {
			centre[k] = float64(b)
			k++
		}
	}
	var bound [4]int // bins below bound[s] (and at or above bound[s-1]) are segment s
	for range segmentKMeansIter {
		for s := range 3 {
			bound[s] = int(math.Ceil((centre[s] + centre[s+1]) / 2))
		}
		bound[3] = bins
		lo := 0
		for s := range 4 {
			var sum, cnt float64
			for b := lo; b < bound[s]; b++ {
				sum += float64(b * hist[b])
				cnt += float64(hist[b])
			}
			if cnt > 0 {
				centre[s] = sum / cnt
			}
			lo = bound[s]
		}
	}
	for i := range e.mbs {
		b := int(e.mbs[i].seg)
		s := 0
		for s < 3 && b >= bound[s] {
			s++
		}
		e.mbs[i].seg = uint8(s)
	}
	frame := c2 * math.Exp2(logSum/float64(total))
	ref := maskRef
	if ref == 0 {
		ref = frame
	}
	fr := math.Pow(frame/maskAnchor, frameGamma/2)
	for s := range 4 {
		m := c2 * math.Exp2((centre[s]+0.5)/segmentLogScale)
		e.stepRatio[s] = fr * max(minStep, min(maxStep, math.Pow(m/ref, snsStrength/2)))
	}
	e.nseg = 4
}

// masking is 1 / the mean over the macroblock's 8x8 luma quadrants of
// 1/(2 s² + C2), s² the quadrant's source variance.
func (e *encoder) masking(mbx, mby int) float64 {
	var w float64
	for q := range 4 {
		x0, y0 := 16*mbx+8*(q&1), 16*mby+8*(q>>1)
		var sum, sq int
		for y := range 8 {
			row := e.sy[(y0+y)*e.ys+x0 : (y0+y)*e.ys+x0+8]
			for _, v := range row {
				sum += int(v)
				sq += int(v) * int(v)
			}
		}
		v := float64(64*sq-sum*sum) / (64 * 64)
		w += 1 / (2*v + c2)
	}
	return 4 / w
}

// setQuant derives the dequantisation factors of section 14.1 (y1 DC/AC,
// y2 DC*2 and AC*155/100 at least 8, chroma at index q+uvDelta with DC
// at most 132) and the rate-distortion multipliers.
func (sg *segment) setQuant() {
	q := sg.qindex
	y2ac := int(vp8.ACQ[q]) * 155 / 100
	y2ac = max(y2ac, 8)
	uq := max(0, min(127, q+uvDelta))
	uvdc := min(int(vp8.DCQ[uq]), 132)
	sg.y1 = newQuant(int(vp8.DCQ[q]), int(vp8.ACQ[q]), 0.45, acBias)
	sg.y2 = newQuant(2*int(vp8.DCQ[q]), y2ac, 0.45, y2Bias)
	sg.uv = newQuant(uvdc, int(vp8.ACQ[uq]), 0.45, acBias)
	ac := int64(vp8.ACQ[q])
	sg.lambda = max(1, ac*ac*16*lambdaNum/lambdaDen)
	sg.lambda4 = max(1, ac*16*lambda4Num/lambda4Den)
}

// segmentProbs are the probabilities of the segment id tree (section
// 9.3: is the id 2 or 3, then 1 (of 0, 1), then 3 (of 2, 3)) fitted to
// the frame's segment map.
func (e *encoder) segmentProbs() [3]uint8 {
	var cnt [4]int
	for i := range e.mbs {
		cnt[e.mbs[i].seg]++
	}
	p := func(zero, one int) uint8 {
		if zero+one == 0 {
			return 255
		}
		return uint8(max(1, min(255, (zero*256+(zero+one)/2)/(zero+one))))
	}
	return [3]uint8{p(cnt[0]+cnt[1], cnt[2]+cnt[3]), p(cnt[0], cnt[1]), p(cnt[2], cnt[3])}
}
