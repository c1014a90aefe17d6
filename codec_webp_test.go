package imageopto

import (
	"context"
	"image"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWebPEncoderChoice: lossy WebP is the built-in encoder's, from the
// planes when the planar path hands them over; lossless WebP, and images
// that may be transparent, go to a configured codec; without one, the
// built-in writes transparent images but never lossless ones.
func TestWebPEncoderChoice(t *testing.T) {
	t.Parallel()
	configured := []Codec{{Format: WebP, Encode: func(context.Context, io.Writer, *image.NRGBA, EncodeOptions) error { return nil }}}
	for _, c := range []struct {
		name       string
		codecs     []Codec
		o          EncodeOptions
		builtin    bool
		noEncoders bool
	}{
		{"lossy, no codec", nil, EncodeOptions{Quality: 80}, true, false},
		{"lossy, configured codec", configured, EncodeOptions{Quality: 80}, true, false},
		{"alpha, configured codec", configured, EncodeOptions{Quality: 80, Alpha: true}, false, false},
		{"alpha, no codec", nil, EncodeOptions{Quality: 80, Alpha: true}, true, false},
		{"lossless, configured codec", configured, EncodeOptions{Lossless: true}, false, false},
		{"lossless, no codec", nil, EncodeOptions{Lossless: true}, false, true},
	} {
		e := findEncoder(c.codecs, WebP, c.o)
		if c.noEncoders {
			assert.Nil(t, e, c.name)
			continue
		}
		require.NotNil(t, e, c.name)
		assert.Equal(t, c.builtin, e.lossyOnly, c.name)
	}

	m := image.NewYCbCr(image.Rect(0, 0, 40, 30), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(i)
	}
	plan := &Plan{Format: WebP, Quality: 80, Width: 40, Height: 30}
	out, ok, err := encodeFromPlanes(context.Background(), m, false, plan, nil)
	require.NoError(t, err)
	require.True(t, ok, "lossy WebP from planes")
	img, err := builtinDecode(context.Background(), out)
	require.NoError(t, err)
	assert.Equal(t, image.Pt(40, 30), img.Bounds().Size())
	_, ok, _ = encodeFromPlanes(context.Background(), m, false, &Plan{Format: WebP, Lossless: true}, configured)
	assert.False(t, ok, "lossless goes to the configured codec")
	_, ok, _ = encodeFromPlanes(context.Background(), m, false, &Plan{Format: JPEG}, nil)
	assert.False(t, ok, "not WebP")
}
