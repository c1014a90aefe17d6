package vp8enc

import (
	"encoding/binary"
	"io"
	"math"

	"github.com/imageopto/imageopto/internal/vp8"
)

// write makes the frame of section 9 from pass 1's decisions: the frame
// tag and key-frame header (section 9.1), the first partition (the frame
// header of section 19.2 and every macroblock's modes, section 19.3) and
// one token partition (section 13).
func (e *encoder) write() [3][]byte {
	skips := 0
	for i := range e.mbs {
		if e.mbs[i].skip {
			skips++
		}
	}
	var upd [4][8][3][11]bool
	e.prob, upd = optimizeProbs(&e.st)

	hdr := newBoolEncoder(1024 + len(e.mbs)*4)
	hdr.putLiteral(0, 1) // color_space: YUV
	hdr.putLiteral(0, 1) // clamping_type: clamp the reconstruction
	var segProbs [3]uint8
	hdr.putLiteral(b2u(e.segmented), 1) // segmentation_enabled
	if e.segmented {
		// Section 9.3: a map and its features, the quantisers and filter
		// levels as deltas from the frame's.
		hdr.putLiteral(1, 1) // update_mb_segmentation_map
		hdr.putLiteral(1, 1) // update_segment_feature_data
		hdr.putLiteral(0, 1) // segment_feature_mode: deltas
		for s := range 4 {
			putSigned(hdr, e.segs[s].qindex-e.qindex, 7, s < e.nseg)
		}
		for s := range 4 {
			putSigned(hdr, e.segs[s].filter-e.filter, 6, s < e.nseg)
		}
		segProbs = e.segmentProbs()
		for _, p := range segProbs {
			hdr.putLiteral(1, 1)
			hdr.putLiteral(uint32(p), 8)
		}
	}
	hdr.putLiteral(0, 1) // filter_type: normal
	hdr.putLiteral(uint32(e.filter), 6)
	hdr.putLiteral(0, 3) // sharpness
	hdr.putLiteral(0, 1) // loop_filter_adj_enable
	hdr.putLiteral(0, 2) // log2_nbr_of_dct_partitions: one
	hdr.putLiteral(uint32(e.qindex), 7)
	for range 3 { // no y_dc, y2_dc, y2_ac deltas
		hdr.putLiteral(0, 1)
	}
	putSigned(hdr, uvDelta, 4, true) // uv_dc_delta
	putSigned(hdr, uvDelta, 4, true) // uv_ac_delta
	hdr.putLiteral(0, 1)             // refresh_entropy_probs: irrelevant to a single frame
	for t := range 4 {
		for b := range 8 {
			for c := range 3 {
				for k := range 11 {
					u := upd[t][b][c][k]
					hdr.put(vp8.CoefUpdateProbs[t][b][c][k], u)
					if u {
						hdr.putLiteral(uint32(e.prob[t][b][c][k]), 8)
					}
				}
			}
		}
	}
	var skipProb uint8
	hdr.putLiteral(b2u(skips > 0), 1) // mb_no_coeff_skip
	if skips > 0 {
		n := len(e.mbs)
		skipProb = uint8(max(1, min(255, ((n-skips)*256+n/2)/n)))
		hdr.putLiteral(uint32(skipProb), 8)
	}

	// Pass 2: modes into the first partition, tokens into the second,
	// with the contexts of pass 1 replayed.
	tok := newBoolEncoder(len(e.coefs) + len(e.coefs)/4 + 1024) // about 10 bits a level at most
	for i := range e.topNZ {
		e.topNZ[i] = 0
	}
	for i := range e.topB {
		e.topB[i] = 0
	}
	var res residual
	off := 0
	for mby := range e.mbh {
		e.leftNZ, e.leftB = 0, [4]uint8{}
		for mbx := range e.mbw {
			info := &e.mbs[mby*e.mbw+mbx]
			if e.segmented {
				hdr.put(segProbs[0], info.seg >= 2)
				hdr.put(segProbs[1+info.seg>>1], info.seg&1 != 0)
			}
			if skips > 0 {
				hdr.put(skipProb, info.skip)
			}
			e.writeModes(hdr, info, mbx)
			if info.skip {
				res = residual{}
			} else {
				off = e.unpack(info, &res, off)
			}
			e.tokens(tok, info, &res, mbx)
		}
	}
	first := hdr.finish()
	second := tok.finish()

	out := make([]byte, 10)
	// Frame tag (section 9.1): key frame (bit 0 clear), version 0, shown,
	// and the first partition's size.
	tag := uint32(0) | 0<<1 | 1<<4 | uint32(len(first))<<5
	out[0], out[1], out[2] = byte(tag), byte(tag>>8), byte(tag>>16)
	out[3], out[4], out[5] = 0x9d, 0x01, 0x2a           // start code
	binary.LittleEndian.PutUint16(out[6:], uint16(e.w)) // no upscaling
	binary.LittleEndian.PutUint16(out[8:], uint16(e.h))
	return [3][]byte{out, first, second}
}

// putSigned writes a flagged signed field: the flag, and if set and v
// is not 0 the magnitude in n bits and the sign.
func putSigned(bw *boolEncoder, v, n int, set bool) {
	if !set || v == 0 {
		bw.putLiteral(0, 1)
		return
	}
	bw.putLiteral(1, 1)
	bw.putLiteral(uint32(abs(v)), n)
	bw.putLiteral(b2u(v < 0), 1)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// writeModes writes a macroblock's luma and chroma modes (section 11.2),
// the sub-block modes in the contexts of their neighbours' (section 11.3).
func (e *encoder) writeModes(bw *boolEncoder, info *mbInfo, mbx int) {
	m := info.ymode
	bw.put(145, m != predB)
	switch m {
	case predDC, predV:
		bw.put(156, false)
		bw.put(163, m == predV)
	case predH, predTM:
		bw.put(156, true)
		bw.put(128, m == predTM)
	case predB:
		for b := range 16 {
			bx, by := b&3, b>>2
			var am, lm uint8
			if by == 0 {
				am = e.topB[4*mbx+bx]
			} else {
				am = info.bmodes[b-4]
			}
			if bx == 0 {
				lm = e.leftB[by]
			} else {
				lm = info.bmodes[b-1]
			}
			pr := &vp8.KFBModeProbs[am][lm]
			for _, s := range bmodePath[info.bmodes[b]] {
				bw.put(pr[s.node], s.bit)
			}
		}
	}
	uv := info.uvmode
	bw.put(142, uv != predDC)
	if uv != predDC {
		bw.put(114, uv != predV)
		if uv != predV {
			bw.put(183, uv == predTM)
		}
	}
}

// writeContainer wraps a VP8 frame, given in parts, in a simple-format
// WebP file: RIFF header, "WEBP", and one "VP8 " chunk padded to an even
// size.
func writeContainer(w io.Writer, frame ...[]byte) error {
	n := 0
	for _, p := range frame {
		n += len(p)
	}
	h := make([]byte, 20)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(4+8+n+n&1))
	copy(h[8:], "WEBPVP8 ")
	binary.LittleEndian.PutUint32(h[16:], uint32(n))
	return writeAll(w, append([][]byte{h}, frame...), n&1)
}

// writeAll writes parts and pad zero bytes.
func writeAll(w io.Writer, parts [][]byte, pad int) error {
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	if pad != 0 {
		_, err := w.Write(make([]byte, pad))
		return err
	}
	return nil
}

// QIndexForQuality maps quality 0..100 to the frame's quantiser index
// 127..0 (its segments' are finer or coarser, segment.go) so that a
// quality gives at least the luma SSIM libwebp at its defaults (libvips's
// webpsave: method 4, sns 50) gives at the same quality, less 0.0015, on
// each of five corpus photos at 800 px: qualityIndex holds, every 5
// qualities, the highest index at which this encoder still matched on
// every one of them (TestCalibrateVipsSweep), and qualities between are
// interpolated.
func QIndexForQuality(q int) int {
	q = max(0, min(100, q))
	i, f := q/5, q%5
	if f == 0 {
		return int(qualityIndex[i])
	}
	a, b := float64(qualityIndex[i]), float64(qualityIndex[i+1])
	return int(math.Round(a + (b-a)*float64(f)/5))
}

// qualityIndex is QIndexForQuality at qualities 0, 5, …, 100: the lowest
// of the five photos' SSIM-matched indices in TestCalibrateVipsSweep's
// output (at quality 100 index 0 stays 0.0023 below libwebp on volna.jpg),
// except at quality 85, the default: there the project benchmark's W3 rows
// (800 px WebP from 4, 15 and 20 MP JPEGs, decoded reduced as the Handler
// does) set it. Index 13 left kleiber.jpg 0.0021 below vips's SSIM there;
// 11 keeps all three within 0.0011 of vips's SSIM at no more than 1.004×
// its bytes.
var qualityIndex = [21]uint8{103, 78, 68, 62, 57, 54, 48, 40, 38, 35, 33, 31, 27, 26, 24, 23, 17, 11, 8, 3, 0}

// filterLevelFor is the loop filter level for quantiser index q: stronger
// as the blocks' quantisation error grows.
func filterLevelFor(q int) int {
	return max(0, min(63, int(vp8.ACQ[q])*filterNum/filterDen))
}

const filterNum, filterDen = 1, 3
