package vp8dec

import (
	"math/rand/v2"
	"testing"

	"github.com/imageopto/imageopto/internal/vp8"
)

// boolWriter is the boolean encoder of RFC 6386 section 7, for tests.
type boolWriter struct {
	out      []byte
	rng      uint32 // 128..255
	bottom   uint32
	bitCount int
}

func newBoolWriter() *boolWriter { return &boolWriter{rng: 255, bitCount: 24} }

func (w *boolWriter) put(prob uint8, b bool) {
	split := 1 + ((w.rng-1)*uint32(prob))>>8
	if b {
		w.bottom += split
		w.rng -= split
	} else {
		w.rng = split
	}
	for w.rng < 128 {
		w.rng <<= 1
		if w.bottom&(1<<31) != 0 { // carry into the bytes written
			i := len(w.out) - 1
			for ; w.out[i] == 0xff; i-- {
				w.out[i] = 0
			}
			w.out[i]++
		}
		w.bottom <<= 1
		w.bitCount--
		if w.bitCount == 0 {
			w.out = append(w.out, byte(w.bottom>>24))
			w.bottom &= 1<<24 - 1
			w.bitCount = 8
		}
	}
}

func (w *boolWriter) bytes() []byte {
	for i := 0; i < 32; i++ {
		w.put(128, false)
	}
	return w.out
}

// putBMode writes sub-block mode m with the tree of parseModes.
func (w *boolWriter) putBMode(m uint8, p *[9]uint8) {
	path := map[uint8][]bool{
		vp8.BDC: {false},
		vp8.BTM: {true, false},
		vp8.BVE: {true, true, false},
		vp8.BHE: {true, true, true, false, false},
		vp8.BRD: {true, true, true, false, true, false},
		vp8.BVR: {true, true, true, false, true, true},
		vp8.BLD: {true, true, true, true, false},
		vp8.BVL: {true, true, true, true, true, false},
		vp8.BHD: {true, true, true, true, true, true, false},
		vp8.BHU: {true, true, true, true, true, true, true},
	}[m]
	// The probability of each decision along the path.
	idx := []int{0, 1, 2, 3}
	if len(path) > 3 && path[3] {
		idx = append(idx, 6, 7, 8)
	} else {
		idx = append(idx, 4, 5)
	}
	for i, b := range path {
		w.put(p[idx[i]], b)
	}
}

// TestParseModes writes random macroblock headers (every mode equally
// likely, so improbable codes and long decisions are common; random and
// extreme segment and skip probabilities) with an RFC boolean encoder and
// reads them back with parseModes (the fast path while it may, then the
// careful one) and with parseModesSlow alone.
func TestParseModes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	prob := func() uint8 {
		switch rng.IntN(4) {
		case 0:
			return 1
		case 1:
			return 255
		}
		return uint8(1 + rng.IntN(255))
	}
	implied := [4]uint8{vp8.BDC, vp8.BVE, vp8.BHE, vp8.BTM}
	for trial := 0; trial < 200; trial++ {
		const mbw = 5
		nmb := 1 + rng.IntN(400)
		segUpdate, skipEnabled := rng.IntN(2) == 0, rng.IntN(2) == 0
		segProbs, skipProb := [3]uint8{prob(), prob(), prob()}, prob()

		// Write.
		want := make([]mbData, nmb)
		w := newBoolWriter()
		top := make([]nzCtx, mbw)
		var left nzCtx
		for mb := range want {
			mbx := mb % mbw
			if mbx == 0 {
				left = nzCtx{}
			}
			m := &want[mb]
			if segUpdate {
				m.seg = rng.IntN(4)
				w.put(segProbs[0], m.seg >= 2)
				w.put(segProbs[1+m.seg/2], m.seg&1 == 1)
			}
			if skipEnabled {
				m.skip = rng.IntN(2) == 0
				w.put(skipProb, m.skip)
			}
			m.ymode = rng.IntN(5)
			tc := &top[mbx]
			if m.ymode == modeB {
				w.put(145, false)
				for y := 0; y < 4; y++ {
					for x := 0; x < 4; x++ {
						bm := uint8(rng.IntN(vp8.NumBModes))
						w.putBMode(bm, &vp8.KFBModeProbs[tc.bmode[x]][left.bmode[y]])
						m.bmodes[y*4+x] = bm
						tc.bmode[x], left.bmode[y] = bm, bm
					}
				}
			} else {
				w.put(145, true)
				w.put(156, m.ymode >= modeH)
				if m.ymode < modeH {
					w.put(163, m.ymode == modeV)
				} else {
					w.put(128, m.ymode == modeTM)
				}
				b := implied[m.ymode]
				tc.bmode = [4]uint8{b, b, b, b}
				left.bmode = tc.bmode
			}
			m.uvmode = rng.IntN(4)
			w.put(142, m.uvmode > modeDC)
			if m.uvmode > modeDC {
				w.put(114, m.uvmode > modeV)
				if m.uvmode > modeV {
					w.put(183, m.uvmode == modeTM)
				}
			}
		}
		buf := w.bytes()

		// Read, both ways.
		for _, slowOnly := range []bool{false, true} {
			d := &decoder{mbw: mbw, top: make([]nzCtx, mbw),
				segUpdateMap: segUpdate, segProbs: segProbs, skipEnabled: skipEnabled, skipProb: skipProb}
			d.first.init(buf)
			for mb := range want {
				mbx := mb % mbw
				if mbx == 0 {
					d.left = nzCtx{}
				}
				var m mbData
				if slowOnly {
					d.parseModesSlow(mbx, &m)
				} else {
					d.parseModes(mbx, &m)
				}
				wm := &want[mb]
				if m.seg != wm.seg || m.skip != wm.skip || m.ymode != wm.ymode || m.uvmode != wm.uvmode ||
					(m.ymode == modeB && m.bmodes != wm.bmodes) {
					t.Fatalf("trial %d (slow only: %v), macroblock %d of %d: read seg %d skip %v modes %d/%d %v, wrote seg %d skip %v modes %d/%d %v",
						trial, slowOnly, mb, nmb, m.seg, m.skip, m.ymode, m.uvmode, m.bmodes, wm.seg, wm.skip, wm.ymode, wm.uvmode, wm.bmodes)
				}
			}
			if d.first.eof {
				t.Fatalf("trial %d (slow only: %v): read past the end", trial, slowOnly)
			}
		}
	}
}
