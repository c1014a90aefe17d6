package codec

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
)

// cancelImages returns the test images of the cancellation tests: a w×h
// photo-like opaque image, the same with noisy alpha, and one of at most
// 256 colours.
func cancelImages(w, h int) (photo, alpha, few *image.NRGBA) {
	photo = photoLike(w, h)
	alpha = image.NewNRGBA(photo.Rect)
	copy(alpha.Pix, photo.Pix)
	few = image.NewNRGBA(photo.Rect)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < len(alpha.Pix); i += 4 {
		alpha.Pix[i+3] = uint8(rng.UintN(256))
		v := uint8(rng.UintN(200))
		few.Pix[i], few.Pix[i+1], few.Pix[i+2], few.Pix[i+3] = v&0xF0, v&0x0F, 0x55, 0xFF
	}
	return photo, alpha, few
}

// TestEncodeCancel checks that every encoder stops soon after its context
// is cancelled (polltest.Check): through the colour analysis, quantisation
// (median cut, k-means, dithering) and the writing of rows.
func TestEncodeCancel(t *testing.T) {
	t.Parallel()
	photo, alpha, few := cancelImages(640, 480)
	frames := []Frame{{Image: photo, Delay: 5}, {Image: alpha, Delay: 5}, {Image: few, Delay: 5}}
	for _, tc := range []struct {
		name string
		enc  func(ctx context.Context, b *bytes.Buffer) error
	}{
		{"PNG RGB", func(ctx context.Context, b *bytes.Buffer) error { return EncodePNG(ctx, b, photo) }},
		{"PNG RGBA", func(ctx context.Context, b *bytes.Buffer) error { return EncodePNG(ctx, b, alpha) }},
		{"PNG palette and direct", func(ctx context.Context, b *bytes.Buffer) error { return EncodePNG(ctx, b, few) }},
		{"PNG8 quantised", func(ctx context.Context, b *bytes.Buffer) error { return EncodePNG8(ctx, b, alpha, 85) }},
		{"PNG8 exact", func(ctx context.Context, b *bytes.Buffer) error { return EncodePNG8(ctx, b, few, 85) }},
		{"GIF quantised", func(ctx context.Context, b *bytes.Buffer) error { return EncodeGIF(ctx, b, photo) }},
		{"GIF exact", func(ctx context.Context, b *bytes.Buffer) error { return EncodeGIF(ctx, b, few) }},
		{"GIF frames", func(ctx context.Context, b *bytes.Buffer) error { return EncodeGIFFrames(ctx, b, frames, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var written, full int
			job := func(ctx context.Context) error {
				var b bytes.Buffer
				err := tc.enc(ctx, &b)
				written = b.Len()
				return err
			}
			n := polltest.Check(t, job, 8)
			if err := job(context.Background()); err != nil {
				t.Fatal(err)
			}
			full = written
			t.Logf("%d polls, %d bytes", n, full)
			// Cancelled halfway, much less than the whole file is written.
			if err := job(polltest.CancelAfter(n / 2)); !errors.Is(err, context.Canceled) || written >= full {
				t.Errorf("cancelled at poll %d of %d: %v, %d of %d bytes written", n/2+1, n, err, written, full)
			}
		})
	}
}

// TestDecodeCancel checks that Decode and DecodeFrames stop soon after
// their context is cancelled: the standard library's decoders through
// their reader, the conversions and the animation decoder by polling. A
// stopped decode is never reported as corrupt data.
func TestDecodeCancel(t *testing.T) {
	t.Parallel()
	photo, alpha, few := cancelImages(640, 480)
	var pngData, jpegData, gifData, animData bytes.Buffer
	if err := png.Encode(&pngData, alpha); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpegData, photo, nil); err != nil {
		t.Fatal(err)
	}
	pal := make(color.Palette, 256)
	for i := range pal {
		pal[i] = color.RGBA{uint8(i), uint8(i * 3), uint8(i * 7), 255}
	}
	pm := image.NewPaletted(photo.Rect, pal)
	for i := range pm.Pix {
		pm.Pix[i] = photo.Pix[4*i] ^ photo.Pix[4*i+1]
	}
	if err := gif.Encode(&gifData, pm, nil); err != nil {
		t.Fatal(err)
	}
	if err := EncodeGIFFrames(context.Background(), &animData, []Frame{{Image: few}, {Image: photo}, {Image: few}}, 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		data     []byte
		frames   bool
		minPolls int
	}{
		{"PNG", pngData.Bytes(), false, 8},
		{"JPEG (image/jpeg)", jpegData.Bytes(), false, 8},
		{"GIF", gifData.Bytes(), false, 8},
		{"GIF frames", animData.Bytes(), true, 8},
		{"PNG frames", pngData.Bytes(), true, 8},
		{"WebP", readFixture(t, "video-001.lossy.webp"), false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := mustHeader(t, tc.data)
			job := func(ctx context.Context) error {
				var err error
				if tc.frames {
					_, _, err = DecodeFrames(ctx, tc.data, h, 10, 1<<30)
				} else {
					_, err = Decode(ctx, tc.data, h)
				}
				if err != nil && errors.Is(err, ErrCorrupt) {
					t.Errorf("stopped decode reported as corrupt: %v", err)
				}
				return err
			}
			n := polltest.Check(t, job, tc.minPolls)
			t.Logf("%d polls", n)
		})
	}
}
