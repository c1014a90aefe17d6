package jpegenc

import (
	"bytes"
	"context"
	"errors"
	"image"
	"testing"

	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
)

// TestEncodeCancel checks that Encode stops soon after its context is
// cancelled (polltest.Check), in every mode and from every kind of
// source, and that a job cancelled before its first MCU row writes
// nothing.
func TestEncodeCancel(t *testing.T) {
	t.Parallel()
	const w, h = 1024, 768
	rgb := photoLike(w, h, 5)
	ycc := image.NewYCbCr(rgb.Rect, image.YCbCrSubsampleRatio420)
	gray := image.NewGray(rgb.Rect)
	for i := range gray.Pix {
		gray.Pix[i], ycc.Y[i] = rgb.Pix[4*i], rgb.Pix[4*i+1]
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(i), uint8(i/7)
	}
	for _, tc := range []struct {
		name string
		img  image.Image
		o    Options
	}{
		{"baseline", rgb, Options{Quality: 85}},
		{"baseline optimised", rgb, Options{Quality: 85, OptimizeHuffman: true}},
		{"progressive", rgb, Options{Quality: 85, Progressive: true}},
		{"progressive 4:4:4", rgb, Options{Quality: 95, Progressive: true, Subsampling: S444}},
		{"Y'CbCr planes", ycc, Options{Quality: 85, OptimizeHuffman: true}},
		{"grey progressive", gray, Options{Quality: 85, Progressive: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var written int
			job := func(ctx context.Context) error {
				var buf bytes.Buffer
				err := Encode(ctx, &buf, tc.img, &tc.o)
				written = buf.Len()
				return err
			}
			n := polltest.Check(t, job, 8)
			t.Logf("%d polls", n)
			if err := job(polltest.CancelAfter(0)); !errors.Is(err, context.Canceled) || written != 0 {
				t.Errorf("cancelled at the first poll: %v, %d bytes written", err, written)
			}
		})
	}
}
