package imageopto

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto/internal/codec"
)

// animatedWebP is an img2webp-made animation: 6 frames of 48×32 with
// sub-rectangles, blending and disposal, durations 40, 80, 120, 10, 1000
// and 70 ms, looping twice (internal/codec's animFixtureFrames).
func animatedWebP(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("internal", "codec", "testdata", "anim.img2webp.webp"))
	require.NoError(t, err)
	return b
}

// fakeAnimCodec is a WebP or AVIF encoder for negotiation tests: still
// images write a marker; with animate, EncodeFrames records the frames
// and writes them as an animated GIF, so the test can read them back.
type fakeAnimCodec struct {
	frames atomic.Int64
	loop   atomic.Int64
	opts   atomic.Value
}

func (f *fakeAnimCodec) codec(format ImageFormat, animate bool) Codec {
	c := Codec{Format: format,
		Encode: func(_ context.Context, w io.Writer, _ *image.NRGBA, o EncodeOptions) error {
			f.opts.Store(o)
			_, err := w.Write([]byte("fake still"))
			return err
		},
		EncodeMemory: func(w, h int, _ EncodeOptions) int64 { return 7 },
	}
	if animate {
		c.EncodeFrames = func(ctx context.Context, w io.Writer, frames []Frame, loop int, o EncodeOptions) error {
			f.frames.Store(int64(len(frames)))
			f.loop.Store(int64(loop))
			f.opts.Store(o)
			return writeGIFFrames(ctx, w, frames, loop, o)
		}
		c.EncodeFramesMemory = func(w, h, n int, _ EncodeOptions) int64 { return 1000 * int64(n) }
	}
	return c
}

// chromiumAccept is Chromium's Accept header for images.
const chromiumAccept = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"

// TestAnimatedNegotiation: negotiation keeps an animation in WebP when the
// WebP codec writes animations (format=auto picks it over AVIF, which
// cannot); otherwise the animation stays GIF. frame=1 gives one frame.
// Animated WebP sources are decoded frame by frame, and without a WebP
// animation encoder they become animated GIFs.
func TestAnimatedNegotiation(t *testing.T) {
	t.Parallel()
	gifData := animatedGIF(t, 80, 40, 4)
	webpData := animatedWebP(t)
	for _, tc := range []struct {
		name, query, accept string
		src                 []byte
		animWebP            bool // the WebP codec has EncodeFrames
		format              ImageFormat
		frames              int // recorded by the fake encoder, or in the GIF
		negotiated          bool
	}{
		{"GIF, format=auto, Chromium", "format=auto", chromiumAccept, gifData, true, WebP, 4, true},
		{"GIF, format=auto, Chromium, still-only WebP", "format=auto", chromiumAccept, gifData, false, GIF, 4, false},
		{"GIF, auto=webp", "auto=webp", "image/webp", gifData, true, WebP, 4, true},
		{"GIF, format=webp", "format=webp", "", gifData, true, WebP, 4, false},
		{"GIF, format=gif&auto=webp", "format=gif&auto=webp", "image/webp", gifData, true, WebP, 4, true},
		{"GIF, auto=avif", "auto=avif", chromiumAccept, gifData, true, GIF, 4, false},
		{"GIF, format=auto&frame=1", "format=auto&frame=1", chromiumAccept, gifData, true, PNG, 0, false}, // a lossless source stays lossless where AVIF is negotiated
		{"WebP, default", "", "", webpData, true, WebP, 6, false},
		{"WebP, default, no WebP animation encoder", "", "", webpData, false, GIF, 6, false},
		{"WebP, format=auto, no modern format", "format=auto", "*/*", webpData, true, GIF, 6, false},
		{"WebP, format=auto, Chromium", "format=auto&width=24", chromiumAccept, webpData, true, WebP, 6, true},
		{"WebP, frame=1", "frame=1", "", webpData, true, WebP, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(tc.query)
			require.NoError(t, err)
			var fw, fa fakeAnimCodec
			codecs := []Codec{fw.codec(WebP, tc.animWebP), fa.codec(AVIF, false)}
			opts := &TransformOptions{Accept: tc.accept, PlanOptions: PlanOptions{Codecs: codecs}}
			res, err := TransformBytes(context.Background(), tc.src, p, opts)
			require.NoError(t, err)
			assert.Equal(t, tc.format.ContentType(), res.ContentType)
			assert.Equal(t, tc.frames > 1, res.Plan.Animated)
			assert.Equal(t, tc.negotiated, res.Plan.Negotiated)
			switch {
			case tc.format == GIF:
				g, err := gif.DecodeAll(bytes.NewReader(res.Data))
				require.NoError(t, err)
				assert.Len(t, g.Image, tc.frames)
			case tc.frames > 1:
				assert.Equal(t, int64(tc.frames), fw.frames.Load())
				assert.Equal(t, int64(1000*tc.frames), res.Plan.EncodeMemory, "the animation encoder's memory model")
			default:
				assert.Zero(t, fw.frames.Load(), "one frame: no animation encoded")
			}
		})
	}
}

// TestAnimatedWebPSource: every frame of an animated WebP goes through the
// steps, with the timing and loop count kept (checked through GIF output,
// in hundredths); the first frame alone is the still image.
func TestAnimatedWebPSource(t *testing.T) {
	t.Parallel()
	data := animatedWebP(t)
	res, err := TransformBytes(context.Background(), data, Params{Format: FormatGIF, Width: Px(24)}, nil)
	require.NoError(t, err)
	g, err := gif.DecodeAll(bytes.NewReader(res.Data))
	require.NoError(t, err)
	assert.Len(t, g.Image, 6)
	assert.Equal(t, []int{4, 8, 12, 1, 100, 7}, g.Delay)
	assert.Equal(t, 1, g.LoopCount, "WebP plays twice: GIF repeats once")
	assert.Equal(t, [2]int{24, 16}, [2]int{g.Config.Width, g.Config.Height})

	// frame=1 and still outputs: the first composed frame.
	h, err := codec.ReadHeader(data)
	require.NoError(t, err)
	frames, _, err := codec.DecodeWebPFrames(context.Background(), data, h, 10, 1<<20)
	require.NoError(t, err)
	for _, p := range []Params{{Format: FormatPNG}, {Frame: 1, Format: FormatPNG}} {
		res, err := TransformBytes(context.Background(), data, p, nil)
		require.NoError(t, err)
		assert.False(t, res.Plan.Animated)
		img, err := png.Decode(bytes.NewReader(res.Data))
		require.NoError(t, err)
		want := frames[0].Image
		require.Equal(t, want.Rect, img.Bounds())
		for y := range want.Rect.Dy() {
			for x := range want.Rect.Dx() {
				w, g := want.NRGBAAt(x, y), color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				if w.A == 0 {
					w = color.NRGBA{}
				}
				require.Equal(t, w, g, "(%d,%d)", x, y)
			}
		}
	}
}

// TestAnimatedWebPLimits: the frame and total-pixel limits refuse an
// animated WebP from its header.
func TestAnimatedWebPLimits(t *testing.T) {
	t.Parallel()
	data := animatedWebP(t)
	info, _, err := inspect(data, nil)
	require.NoError(t, err)
	assert.Equal(t, 6, info.Frames)
	assert.True(t, info.HasAlpha)
	assert.True(t, info.Lossless, "the first frame is VP8L")
	for _, l := range []Limits{{MaxFrames: 5}, {MaxTotalPixels: 6*48*32 - 1}} {
		_, err := TransformBytes(context.Background(), data, Params{Format: FormatGIF}, &TransformOptions{PlanOptions: PlanOptions{Limits: l}})
		require.ErrorIs(t, err, ErrSourceTooLarge, "%+v", l)
	}
	// The decoder checks them too, before decoding (for a caller that
	// skipped the header check).
	_, _, err = decodeWebPFrames(context.Background(), data, Limits{MaxFrames: 5})
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestWebPLoopCount: WebP's ANIM loop count to the Codec convention.
func TestWebPLoopCount(t *testing.T) {
	t.Parallel()
	for stored, want := range map[int]int{0: 0, 1: -1, 2: 1, 65535: 65534} {
		assert.Equal(t, want, webpLoopCount(stored), "stored %d", stored)
	}
}
