package jpegdec

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"testing"

	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
	"github.com/imageopto/imageopto/internal/jpegenc"
)

// TestDecodeCancel checks that Decode and DecodePlanes stop soon after
// their context is cancelled (polltest.Check): in sequential and
// progressive scans, in the progressive reconstruction and at every
// scale.
func TestDecodeCancel(t *testing.T) {
	t.Parallel()
	const w, h = 1024, 768
	src := photoLike(w, h, 9)
	var seq, prog, gray bytes.Buffer
	if err := jpeg.Encode(&seq, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := jpegenc.Encode(context.Background(), &prog, src, &jpegenc.Options{Quality: 90, Progressive: true}); err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(src.Rect)
	for i := range g.Pix {
		g.Pix[i] = src.Pix[4*i]
	}
	if err := jpeg.Encode(&gray, g, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		scale  int
		planes bool
	}{
		{"sequential", seq.Bytes(), 1, false},
		{"sequential 1/2", seq.Bytes(), 2, false},
		{"sequential planes 1/4", seq.Bytes(), 4, true},
		{"progressive", prog.Bytes(), 1, false},
		{"progressive 1/8", prog.Bytes(), 8, false},
		{"progressive planes", prog.Bytes(), 1, true},
		{"grey", gray.Bytes(), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := &Options{Scale: tc.scale}
			job := func(ctx context.Context) error {
				if tc.planes {
					p, err := DecodePlanes(ctx, tc.data, o)
					if err == nil {
						p.Release()
					}
					return err
				}
				_, err := Decode(ctx, tc.data, o)
				return err
			}
			// A scan of 1/8 of the image is a few polls' worth.
			n := polltest.Check(t, job, 4)
			t.Logf("%d polls", n)
		})
	}
	if _, err := Decode(polltest.CancelAfter(0), seq.Bytes(), nil); errors.Is(err, ErrCorrupt) {
		t.Errorf("a cancelled decode reports corrupt data: %v", err)
	}
}
