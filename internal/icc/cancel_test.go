package icc

import (
	"bytes"
	"context"
	"errors"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
)

// TestApplyNRGBACancel checks that ApplyNRGBA stops soon after its context
// is cancelled (polltest.Check), with every kind of transform, and leaves
// the rows after the poll that saw it unconverted.
func TestApplyNRGBACancel(t *testing.T) {
	t.Parallel()
	const w, h = 640, 1200
	src := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range src.Pix {
		src.Pix[i] = uint8(rng.UintN(256))
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"matrix", adobeMatrixProfile()},
		{"grid", lutProfiles()["mAB XYZ A-CLUT-B"]},
		{"grey", buildProfile(profileSpec{0x02100000, "mntr", "GRAY", "XYZ "}, []testTag{{"kTRC", curvGamma(2.2)}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, tr := mustTransform(t, tc.data)
			job := func(ctx context.Context) error {
				m := image.NewNRGBA(src.Rect)
				copy(m.Pix, src.Pix)
				return tr.ApplyNRGBA(ctx, m)
			}
			n := polltest.Check(t, job, 8)

			// Cancelled at the poll k+1 of n, about k/n of the rows are
			// converted.
			k := n / 4
			m := image.NewNRGBA(src.Rect)
			copy(m.Pix, src.Pix)
			if err := tr.ApplyNRGBA(polltest.CancelAfter(k), m); !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			changed := 0
			for y := range h {
				if !bytes.Equal(m.Pix[y*m.Stride:(y+1)*m.Stride], src.Pix[y*src.Stride:(y+1)*src.Stride]) {
					changed++
				}
			}
			if lo, hi := (k-1)*h/n, (k+1)*h/n+1; changed < lo || changed > hi {
				t.Errorf("%d of %d rows converted after %d of %d polls, want %d…%d", changed, h, k, n, lo, hi)
			}
		})
	}
}
