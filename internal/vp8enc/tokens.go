package vp8enc

import (
	"math"

	"github.com/imageopto/imageopto/internal/vp8"
)

// Coefficient token coding (RFC 6386 section 13).
//
// A block's quantised coefficients, in zigzag order, are coded as tokens
// of the tree in section 13.2, each node a boolean decision whose
// probability depends on the block type, the coefficient's band (its
// position, coarsened) and a context: for the first coded coefficient,
// how many of the blocks above and to the left have non-zero
// coefficients; later, whether the previous token was 0, 1 or larger.

// Block types (section 13.3): which plane a block belongs to, and for
// luma whether its DC is coded apart in the Y2 block.
const (
	typeYAfterY2 = 0 // luma AC, coefficients 1..15 (16x16 prediction)
	typeY2       = 1 // second-order luma DC block
	typeChroma   = 2
	typeYWithDC  = 3 // luma with its DC (4x4 prediction)
)

// maxLevel is the largest magnitude a token can code (DCT_CAT6: 67 plus
// 11 extra bits).
const maxLevel = 67 + 2047

// probs are coefficient probabilities for one frame, [type][band][ctx][node].
type probs [4][8][3][11]uint8

// stats count the decisions taken at each node: [type][band][ctx][node][bit].
type stats [4][8][3][11][2]uint32

// codeBlock codes (bw != nil) or counts (into st) the tokens of one block
// whose coefficients in coding order are lv[:n] (n: one past the last
// non-zero, 0 when all are zero), starting at position first with context
// ctx. It follows the tree of section 13.2: after a DCT_0 token the
// end-of-block decision is skipped, as it cannot follow a zero.
func codeBlock(bw *boolEncoder, st *[8][3][11][2]uint32, p *[8][3][11]uint8, ctx, first int, lv *[16]int16, n int) {
	b, c := vp8.Bands[first], ctx
	put := func(node int, bit bool) {
		if bw != nil {
			bw.put(p[b][c][node], bit)
		} else if bit {
			st[b][c][node][1]++
		} else {
			st[b][c][node][0]++
		}
	}
	if n <= first {
		put(0, false) // end of block at once
		return
	}
	prevZero := false
	for i := first; i < n; i++ {
		v := int(lv[i])
		neg := v < 0
		if neg {
			v = -v
		}
		if !prevZero {
			put(0, true) // not the end of the block
		}
		if v == 0 {
			put(1, false)
			prevZero, b, c = true, vp8.Bands[i+1], 0
			continue
		}
		put(1, true)
		if v == 1 {
			put(2, false)
			c = 1
		} else {
			put(2, true)
			switch {
			case v <= 4:
				put(3, false)
				if v == 2 {
					put(4, false)
				} else {
					put(4, true)
					put(5, v == 4)
				}
			case v <= 10:
				put(3, true)
				put(6, false)
				if v <= 6 {
					put(7, false)
					extra(bw, 0, v)
				} else {
					put(7, true)
					extra(bw, 1, v)
				}
			default:
				put(3, true)
				put(6, true)
				switch {
				case v <= 18:
					put(8, false)
					put(9, false)
					extra(bw, 2, v)
				case v <= 34:
					put(8, false)
					put(9, true)
					extra(bw, 3, v)
				case v <= 66:
					put(8, true)
					put(10, false)
					extra(bw, 4, v)
				default:
					put(8, true)
					put(10, true)
					extra(bw, 5, v)
				}
			}
			c = 2
		}
		if bw != nil {
			bw.put(128, neg) // sign, at probability 1/2
		}
		prevZero, b = false, vp8.Bands[i+1]
	}
	if n < 16 {
		put(0, false) // end of block after the last non-zero coefficient
	}
}

// extra writes the extra bits of category cat for value v.
func extra(bw *boolEncoder, cat, v int) {
	if bw == nil {
		return
	}
	v -= int(vp8.CatBase[cat])
	pr := vp8.CatProbs[cat]
	for i, p := range pr {
		bw.put(p, v>>(len(pr)-1-i)&1 != 0)
	}
}

// bitCost[p][bit] is the cost in 1/256 bit of coding bit at probability
// p/256 of it being 0.
var bitCost = func() (t [256][2]int32) {
	for p := 1; p < 256; p++ {
		t[p][0] = int32(math.Round(-math.Log2(float64(p)/256) * 256))
		t[p][1] = int32(math.Round(-math.Log2(1-float64(p)/256) * 256))
	}
	t[0] = t[1]
	return t
}()

func cost(p uint8, bit bool) int32 {
	if bit {
		return bitCost[p][1]
	}
	return bitCost[p][0]
}

// blockCost estimates the bits (in 1/256) codeBlock would write, from the
// probabilities p; it is the rate of the mode decision.
func blockCost(p *[8][3][11]uint8, ctx, first int, lv *[16]int16, n int) int32 {
	pr := &p[vp8.Bands[first]][ctx]
	if n <= first {
		return bitCost[pr[0]][0]
	}
	var r int32
	prevZero := false
	for i := first; i < n; i++ {
		v := int(lv[i])
		if v < 0 {
			v = -v
		}
		if !prevZero {
			r += bitCost[pr[0]][1]
		}
		if v == 0 {
			r += bitCost[pr[1]][0]
			prevZero, pr = true, &p[vp8.Bands[i+1]][0]
			continue
		}
		r += bitCost[pr[1]][1] + 256 // the sign
		c := 2
		if v == 1 {
			r += bitCost[pr[2]][0]
			c = 1
		} else {
			r += bitCost[pr[2]][1] + levelCost(pr, v)
		}
		prevZero, pr = false, &p[vp8.Bands[i+1]][c]
	}
	if n < 16 {
		r += bitCost[pr[0]][0]
	}
	return r
}

// levelCost is the cost of a magnitude v >= 2 below node 2 of the tree.
func levelCost(pr *[11]uint8, v int) int32 {
	switch {
	case v <= 4:
		r := bitCost[pr[3]][0]
		if v == 2 {
			return r + bitCost[pr[4]][0]
		}
		return r + bitCost[pr[4]][1] + cost(pr[5], v == 4)
	case v <= 10:
		r := bitCost[pr[3]][1] + bitCost[pr[6]][0]
		if v <= 6 {
			return r + bitCost[pr[7]][0] + 256
		}
		return r + bitCost[pr[7]][1] + 2*256
	}
	r := bitCost[pr[3]][1] + bitCost[pr[6]][1]
	switch {
	case v <= 18:
		return r + bitCost[pr[8]][0] + bitCost[pr[9]][0] + 3*256
	case v <= 34:
		return r + bitCost[pr[8]][0] + bitCost[pr[9]][1] + 4*256
	case v <= 66:
		return r + bitCost[pr[8]][1] + bitCost[pr[10]][0] + 5*256
	}
	return r + bitCost[pr[8]][1] + bitCost[pr[10]][1] + 11*256
}

// optimizeProbs chooses the frame's coefficient probabilities from the
// decisions counted in st (section 13.4): for each node, the probability
// that fits its counts replaces the default when the bits it saves exceed
// the cost of sending it (an update flag at vp8.CoefUpdateProbs and 8 bits).
// It returns the probabilities and which of them are updates.
func optimizeProbs(st *stats) (p probs, upd [4][8][3][11]bool) {
	for t := range 4 {
		for b := range 8 {
			for c := range 3 {
				for k := range 11 {
					old := vp8.CoefProbs[t][b][c][k]
					up := vp8.CoefUpdateProbs[t][b][c][k]
					p[t][b][c][k] = old
					n0, n1 := int64(st[t][b][c][k][0]), int64(st[t][b][c][k][1])
					if n0+n1 == 0 {
						continue
					}
					np := uint8(max(1, min(255, (n0*256+(n0+n1)/2)/(n0+n1))))
					oldCost := n0*int64(bitCost[old][0]) + n1*int64(bitCost[old][1])
					newCost := n0*int64(bitCost[np][0]) + n1*int64(bitCost[np][1]) +
						8*256 + int64(bitCost[up][1]) - int64(bitCost[up][0])
					if newCost < oldCost {
						p[t][b][c][k] = np
						upd[t][b][c][k] = true
					}
				}
			}
		}
	}
	return p, upd
}

// defaultProbs are vp8.CoefProbs as a probs value.
func defaultProbs() probs { return vp8.CoefProbs }
