package vp8enc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/imageopto/imageopto/internal/vp8dec"
)

// halfBusy makes w x h planes whose left half is a smooth gradient and
// right half noise of amplitude noise around mid-grey.
func halfBusy(w, h, noise int) *Planes {
	rng := rand.New(rand.NewPCG(1, 2))
	p := testPlanes(w, h, 0, 1)
	for y := range h {
		for x := range w {
			v := 60 + x/4 + y/8
			if x >= w/2 {
				v = 128 + rng.IntN(2*noise+1) - noise
			}
			p.Y[y*w+x] = uint8(max(16, min(235, v)))
		}
	}
	return p
}

// TestSegments: flat macroblocks get a finer quantiser than busy ones,
// the frame header keeps the frame's index, and every decoder decodes
// the segmented frame as the encoder reconstructed it (filter off) and
// as each other (filter on: per-segment levels).
func TestSegments(t *testing.T) {
	for _, tc := range []struct {
		w, h, q, noise int
		segmented      bool
	}{
		{256, 128, 40, 40, true},
		{256, 128, 10, 40, true},
		{256, 128, 100, 60, true},
		{160, 96, 60, 20, true},
		{64, 48, 40, 40, false}, // 12 macroblocks: too few
		{256, 128, 40, 0, true}, // all flat: one segment, coarser
	} {
		t.Run(fmt.Sprintf("%dx%d/q%d/n%d", tc.w, tc.h, tc.q, tc.noise), func(t *testing.T) {
			p := halfBusy(tc.w, tc.h, tc.noise)
			if tc.noise == 0 {
				p = testPlanes(tc.w, tc.h, 0, 1)
				for i := range p.Y {
					p.Y[i] = 100
				}
			}
			e := newEncoder(p, &Options{QIndex: tc.q})
			if e.segmented != tc.segmented {
				t.Fatalf("segmented %v (%d segments), want %v", e.segmented, e.nseg, tc.segmented)
			}
			if tc.noise == 0 && (e.nseg != 1 || e.segs[0].qindex <= tc.q) {
				t.Errorf("flat frame: %d segments, the first at qindex %d; want 1 above %d", e.nseg, e.segs[0].qindex, tc.q)
			}
			if tc.segmented && tc.noise > 0 {
				flat := e.segs[e.mbs[0].seg].qindex
				busy := e.segs[e.mbs[e.mbw-1].seg].qindex
				if flat >= busy {
					t.Errorf("flat macroblock at qindex %d, busy at %d", flat, busy)
				}
			}
			for _, filter := range []int{-1, 0} {
				data, rec := encodeFile(t, p, &Options{QIndex: tc.q, FilterLevel: filter})
				if qi, err := FrameQIndex(data); err != nil || qi != tc.q {
					t.Errorf("FrameQIndex %d, %v; want %d", qi, err, tc.q)
				}
				m := decodeGo(t, data)
				if filter < 0 {
					if err := samePlanes(m, rec); err != nil {
						t.Fatalf("x/image/webp: %v", err)
					}
					frame, _, _ := EncodeFrame(context.Background(), p, &Options{QIndex: tc.q, FilterLevel: filter}, false)
					d, err := vp8dec.Decode(context.Background(), frame, vp8dec.Options{})
					if err != nil {
						t.Fatalf("vp8dec: %v", err)
					}
					if err := samePlanes(d, rec); err != nil {
						t.Fatalf("vp8dec: %v", err)
					}
				}
				goPlanes := &Planes{Y: m.Y, Cb: m.Cb, Cr: m.Cr, YStride: m.YStride, CStride: m.CStride, W: tc.w, H: tc.h}
				if err := sameDwebp(t, data, goPlanes); err != nil {
					t.Fatalf("filter %d: x/image/webp and dwebp differ: %v", filter, err)
				}
			}
		})
	}
}
