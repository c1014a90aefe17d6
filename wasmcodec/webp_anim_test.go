package wasmcodec

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gen2brain/webp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
	codecpkg "github.com/imageopto/imageopto/internal/codec"
)

// animFrames makes n w×h frames: testImage with a disc that moves right,
// then (from frame 2) a half-transparent band and (frame 3) a transparent
// hole; frame 1 repeats frame 0 when repeat is set.
func animFrames(w, h, n int, alpha, repeat bool) []imageopto.Frame {
	var out []imageopto.Frame
	for i := range n {
		m := testImage(w, h, false)
		k := i
		if repeat && i == 1 {
			k = 0
		}
		for y := range h {
			for x := range w {
				cx, cy := w/5+k*w/8, h/2
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) < (h/6)*(h/6) {
					m.SetNRGBA(x, y, color.NRGBA{20, 200, 40, 255})
				}
				if alpha && k >= 2 && y >= h-h/4 {
					c := m.NRGBAAt(x, y)
					c.A = uint8(40 * k)
					m.SetNRGBA(x, y, c)
				}
				if alpha && k == 3 && x < w/4 && y < h/4 {
					m.SetNRGBA(x, y, color.NRGBA{})
				}
			}
		}
		out = append(out, imageopto.Frame{Image: m, Delay: time.Duration(30+10*i) * time.Millisecond})
	}
	return out
}

// visibleDiff is the largest channel difference of two images after
// premultiplying (so that the colour of transparent pixels, which the
// encoders do not keep, does not count), and the mean difference.
func visibleDiff(a, b *image.NRGBA) (worst int, mean float64) {
	var sum int
	for i := 0; i < len(a.Pix); i += 4 {
		for c := range 4 {
			p, q := int(a.Pix[i+c]), int(b.Pix[i+c])
			if c < 3 {
				p, q = p*int(a.Pix[i+3])/255, q*int(b.Pix[i+3])/255
			}
			worst = max(worst, p-q, q-p)
			sum += max(p-q, q-p)
		}
	}
	return worst, float64(sum) / float64(len(a.Pix))
}

// webpmuxInfo runs Debian's webpmux -info on data and returns the frame
// count, the frame durations (ms) and the loop count it reports.
func webpmuxInfo(t *testing.T, data []byte) (frames int, durations []int, loop int) {
	t.Helper()
	tool, err := exec.LookPath("webpmux")
	if err != nil {
		t.Skip("webpmux not installed (apt-get install webp)")
	}
	f := filepath.Join(t.TempDir(), "a.webp")
	require.NoError(t, os.WriteFile(f, data, 0o644))
	out, err := exec.Command(tool, "-info", f).CombinedOutput()
	require.NoError(t, err, "%s", out)
	s := string(out)
	if m := regexp.MustCompile(`Number of frames: (\d+)`).FindStringSubmatch(s); m != nil {
		frames, _ = strconv.Atoi(m[1])
	}
	if m := regexp.MustCompile(`Loop Count : (\d+)`).FindStringSubmatch(s); m != nil {
		loop, _ = strconv.Atoi(m[1])
	}
	// Frame rows: "  1:    40    30    no        0        0       50 ..."
	for _, line := range strings.Split(s, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 7 && strings.HasSuffix(fields[0], ":") {
			if _, err := strconv.Atoi(strings.TrimSuffix(fields[0], ":")); err == nil {
				d, _ := strconv.Atoi(fields[6])
				durations = append(durations, d)
			}
		}
	}
	return frames, durations, loop
}

// decodeOurs decodes an animated WebP with the root package's decoder.
func decodeOurs(t *testing.T, data []byte) ([]codecpkg.WebPFrame, int) {
	t.Helper()
	h, err := codecpkg.ReadHeader(data)
	require.NoError(t, err)
	frames, loop, err := codecpkg.DecodeWebPFrames(context.Background(), data, h, 1000, 1<<30)
	require.NoError(t, err)
	return frames, loop
}

// TestEncodeWebPFrames writes animations with the libwebp still encoder
// and the Go container writer, and reads them back three ways: webpmux
// -info (frame count, durations, loop count), libwebp's own animation
// decoder (WebPAnimDecoder, through gen2brain/webp's DecodeAll) and ours.
// Lossless frames come back exactly; lossy ones close, alpha exactly.
func TestEncodeWebPFrames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		frames   []imageopto.Frame
		loop     int // Codec convention
		stored   int // ANIM loop count
		o        imageopto.EncodeOptions
		tolerate float64 // mean difference; lossless: none at all
	}{
		{"lossless, alpha, repeated frame", animFrames(96, 64, 5, true, true), 0, 0, imageopto.EncodeOptions{Lossless: true}, 0},
		{"lossless, opaque, play once", animFrames(64, 40, 3, false, false), -1, 1, imageopto.EncodeOptions{Lossless: true}, 0},
		// Lossy: hard edges and 4:2:0 chroma on a small image (the
		// geometry is held exactly by the lossless cases).
		{"lossy, alpha, twice", animFrames(96, 64, 4, true, false), 1, 2, imageopto.EncodeOptions{Quality: 90}, 8},
		{"lossy, one frame", animFrames(33, 17, 1, false, false), 0, 0, imageopto.EncodeOptions{Quality: 80}, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			require.NoError(t, encodeWebPFrames(context.Background(), &buf, tc.frames, tc.loop, tc.o))
			data := buf.Bytes()

			n, durations, loop := webpmuxInfo(t, data)
			assert.Equal(t, len(tc.frames), n, "webpmux frame count")
			assert.Equal(t, tc.stored, loop, "webpmux loop count")
			var want []int
			for _, f := range tc.frames {
				want = append(want, int(f.Delay/time.Millisecond))
			}
			assert.Equal(t, want, durations, "webpmux durations")

			ours, ourLoop := decodeOurs(t, data)
			assert.Equal(t, tc.stored, ourLoop)
			require.Len(t, ours, len(tc.frames))
			require.NoError(t, webpInit())
			var lib *webp.WEBP
			require.NoError(t, call("webp: decode all", func() (err error) {
				lib, err = webp.DecodeAll(bytes.NewReader(data))
				return err
			}))
			require.Len(t, lib.Image, len(tc.frames))
			for i, f := range tc.frames {
				worst, mean := visibleDiff(ours[i].Image, f.Image)
				if tc.o.Lossless {
					assert.Zero(t, worst, "frame %d, ours", i)
				} else {
					assert.Less(t, mean, tc.tolerate, "frame %d, ours", i)
				}
				// libwebp composes in premultiplied alpha (a rounding
				// more) and converts lossy frames to RGB its own way
				// (fancy chroma upsampling).
				libImg := toNRGBA(lib.Image[i])
				worst, mean = visibleDiff(libImg, f.Image)
				if tc.o.Lossless {
					assert.LessOrEqual(t, worst, 1, "frame %d, libwebp", i)
				} else {
					assert.Less(t, mean, tc.tolerate, "frame %d, libwebp", i)
				}
				if !tc.o.Lossless {
					_, mean = visibleDiff(libImg, ours[i].Image)
					assert.Less(t, mean, tc.tolerate, "frame %d: libwebp and ours agree", i)
				}
				for p := 3; p < len(f.Image.Pix); p += 4 {
					if ours[i].Image.Pix[p] != f.Image.Pix[p] {
						t.Fatalf("frame %d: alpha %d at byte %d, want %d", i, ours[i].Image.Pix[p], p, f.Image.Pix[p])
					}
				}
				assert.Equal(t, want[i], ours[i].Duration)
			}
		})
	}
}

// TestEncodeWebPFramesDeltas: after the first, frames code only what
// changed, so a small moving object costs little.
func TestEncodeWebPFramesDeltas(t *testing.T) {
	t.Parallel()
	frames := animFrames(400, 300, 6, false, false)
	var anim bytes.Buffer
	require.NoError(t, encodeWebPFrames(context.Background(), &anim, frames, 0, imageopto.EncodeOptions{Lossless: true}))
	stills := 0
	for _, f := range frames {
		var still bytes.Buffer
		require.NoError(t, encodeWebP(&still, f.Image, imageopto.EncodeOptions{Lossless: true}))
		stills += still.Len()
	}
	t.Logf("6 frames: %d bytes; the same frames as whole stills: %d", anim.Len(), stills)
	assert.Less(t, anim.Len(), stills/2, "the changed rectangles cost less than half the whole frames")
}

// TestEncodeWebPFramesCancel: a done context stops between frames.
func TestEncodeWebPFramesCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := encodeWebPFrames(ctx, &bytes.Buffer{}, animFrames(64, 64, 3, false, false), 0, imageopto.EncodeOptions{Quality: 80})
	require.ErrorIs(t, err, context.Canceled)
}

// TestWebPStoredLoop: the Codec loop count (image/gif's) and WebP's ANIM
// loop count.
func TestWebPStoredLoop(t *testing.T) {
	t.Parallel()
	for loop, want := range map[int]int{-1: 1, 0: 0, 1: 2, 4: 5, 65534: 65535, 65535: 65535} {
		assert.Equal(t, want, webpStoredLoop(loop), "loop %d", loop)
	}
}

// animatedGIF makes an n-frame GIF from animFrames (opaque), with delays
// of 3, 4, 5… hundredths.
func animatedGIF(t testing.TB, w, h, n int) []byte {
	t.Helper()
	g := &gif.GIF{LoopCount: 0}
	for i, f := range animFrames(w, h, n, false, false) {
		p := image.NewPaletted(f.Image.Rect, palette.Plan9)
		for y := range h {
			for x := range w {
				p.Set(x, y, f.Image.At(x, y))
			}
		}
		g.Image = append(g.Image, p)
		g.Delay = append(g.Delay, 3+i)
	}
	var buf bytes.Buffer
	require.NoError(t, gif.EncodeAll(&buf, g))
	return buf.Bytes()
}

// chromium is Chromium's Accept header for images.
const chromium = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"

// TestAnimatedWebPTransform: animations survive format=webp, format=auto
// and auto=webp, from GIF and from animated WebP, with frame count and
// timing kept (webpmux -info); frame=1 gives a still image; the frame and
// total-pixel limits refuse a source from its header.
func TestAnimatedWebPTransform(t *testing.T) {
	t.Parallel()
	gifData := animatedGIF(t, 120, 80, 4)
	var webpBuf bytes.Buffer
	require.NoError(t, encodeWebPFrames(context.Background(), &webpBuf, animFrames(120, 80, 4, true, false), 0, imageopto.EncodeOptions{Quality: 85}))
	webpData := webpBuf.Bytes()
	gifDelays := []int{30, 40, 50, 60}
	webpDelays := []int{30, 40, 50, 60}
	for _, tc := range []struct {
		name, query, accept string
		src                 []byte
		format              imageopto.ImageFormat
		frames              int
		delays              []int
		w, h                int
	}{
		{"GIF, format=webp", "format=webp", "", gifData, imageopto.WebP, 4, gifDelays, 120, 80},
		{"GIF, format=webp, resized", "format=webp&width=60", "", gifData, imageopto.WebP, 4, gifDelays, 60, 40},
		{"GIF, format=auto, Chromium", "format=auto&width=60", chromium, gifData, imageopto.WebP, 4, gifDelays, 60, 40},
		{"GIF, format=auto, WebP only", "format=auto", "image/webp", gifData, imageopto.WebP, 4, gifDelays, 120, 80},
		{"GIF, auto=webp", "auto=webp", "image/webp,*/*", gifData, imageopto.WebP, 4, gifDelays, 120, 80},
		{"GIF, auto=avif keeps GIF", "auto=avif", chromium, gifData, imageopto.GIF, 4, nil, 120, 80},
		{"GIF, format=auto, no modern format", "format=auto", "*/*", gifData, imageopto.GIF, 4, nil, 120, 80},
		{"GIF, frame=1", "format=webp&frame=1", "", gifData, imageopto.WebP, 1, nil, 120, 80},
		{"WebP, as it is", "", "", webpData, imageopto.WebP, 4, webpDelays, 120, 80},
		{"WebP, cropped", "crop=1:1&width=50", "", webpData, imageopto.WebP, 4, webpDelays, 50, 50},
		{"WebP, format=auto, Chromium", "format=auto", chromium, webpData, imageopto.WebP, 4, webpDelays, 120, 80},
		{"WebP to GIF", "format=gif", "", webpData, imageopto.GIF, 4, nil, 120, 80},
		{"WebP, frame=1", "frame=1", "", webpData, imageopto.WebP, 1, nil, 120, 80},
		{"WebP to PNG", "format=png", "", webpData, imageopto.PNG, 1, nil, 120, 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := imageopto.ParseParams(tc.query)
			require.NoError(t, err)
			opts := transformOpts()
			opts.Accept = tc.accept
			res, err := imageopto.TransformBytes(context.Background(), tc.src, p, opts)
			require.NoError(t, err)
			assert.Equal(t, tc.format.ContentType(), res.ContentType)
			assert.Equal(t, tc.frames > 1, res.Plan.Animated)
			assert.Equal(t, [2]int{tc.w, tc.h}, [2]int{res.Output.Width, res.Output.Height})
			switch tc.format {
			case imageopto.GIF:
				g, err := gif.DecodeAll(bytes.NewReader(res.Data))
				require.NoError(t, err)
				assert.Len(t, g.Image, tc.frames)
			case imageopto.WebP:
				h, err := codecpkg.ReadHeader(res.Data)
				require.NoError(t, err)
				assert.Equal(t, tc.frames > 1, h.Animated)
				assert.Equal(t, [2]int{tc.w, tc.h}, [2]int{h.Width, h.Height})
				if tc.frames > 1 {
					n, durations, loop := webpmuxInfo(t, res.Data)
					assert.Equal(t, tc.frames, n)
					assert.Equal(t, tc.delays, durations)
					assert.Equal(t, 0, loop)
					frames, _ := decodeOurs(t, res.Data)
					assert.NotEqual(t, frames[0].Image.Pix, frames[len(frames)-1].Image.Pix, "the frames differ")
				}
			}
		})
	}
	// The limits refuse from the header, before anything is decoded.
	for _, l := range []imageopto.Limits{{MaxFrames: 3}, {MaxTotalPixels: 4*120*80 - 1}} {
		opts := transformOpts()
		opts.Limits = l
		_, err := imageopto.TransformBytes(context.Background(), webpData, imageopto.Params{Format: imageopto.FormatGIF}, opts)
		require.ErrorIs(t, err, imageopto.ErrSourceTooLarge, "%+v", l)
	}
}

// TestEncodeFramesMemoryModel holds the animation encoder's model above
// the peak heap of an encode of noise frames (each frame all new, the
// worst case), lossless and lossy with alpha. Not parallel: it measures the
// process's heap.
func TestEncodeFramesMemoryModel(t *testing.T) {
	if testing.Short() {
		t.Skip("measures codec calls")
	}
	require.NoError(t, Warm())
	const w, h, n = 300, 200, 6
	var frames []imageopto.Frame
	for i := range n {
		img := noiseImage(w, h, true)
		img.Pix[0] = byte(i) // every frame differs from the last
		for k := range img.Pix {
			img.Pix[k] ^= byte(i * 37)
		}
		frames = append(frames, imageopto.Frame{Image: img, Delay: 50 * time.Millisecond})
	}
	for _, o := range []imageopto.EncodeOptions{{Lossless: true, Alpha: true}, {Quality: 100, Alpha: true}} {
		var size int
		s, err := measureCall(func() error {
			var buf bytes.Buffer
			err := encodeWebPFrames(context.Background(), &buf, frames, 0, o)
			size = buf.Len()
			return err
		})
		require.NoError(t, err)
		model := webpEncodeFramesMemory(w, h, n, o)
		t.Logf("%+v: %d bytes out, heap peak %.1f MiB, RSS peak %.1f MiB, model %.1f MiB", o, size,
			float64(s.heap)/mib, float64(s.rss)/mib, float64(model)/mib)
		assert.Less(t, s.heap, uint64(model))
		assert.Less(t, int64(size), 2*int64(n)*webpFrameBytes(w, h)/2+1, "the output is within the modelled size")
	}
}
