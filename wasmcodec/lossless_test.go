package wasmcodec

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	xwebp "golang.org/x/image/webp"

	"github.com/imageopto/imageopto"
)

// chromiumAccept is Chromium's Accept header for images.
const chromiumAccept = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"

// colours counts the distinct colours (with alpha) of img.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}

// TestHandlerLossless is issue 14's case through the Handler with these
// codecs: bw=threshold&format=auto with Chromium's Accept header is a
// lossless image with exactly two colours (PNG: AVIF here is never
// lossless); with a WebP-only Accept it is lossless WebP. A photo stays
// lossy (AVIF, lossy WebP).
func TestHandlerLossless(t *testing.T) {
	t.Parallel()
	var photo bytes.Buffer
	require.NoError(t, jpeg.Encode(&photo, testImage(320, 200, false), &jpeg.Options{Quality: 90}))
	// Compile the modules first: under the race detector that alone can
	// outlast a flight deadline. The deadline is a generous correctness
	// bound for a loaded machine.
	require.NoError(t, Warm())
	origin := imageopto.NewFSOrigin(fstest.MapFS{"photo.jpg": {Data: photo.Bytes()}}, 0)
	h, err := imageopto.New(origin, &imageopto.Options{
		Transform:     imageopto.TransformOptions{PlanOptions: imageopto.PlanOptions{Codecs: Codecs()}},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		FlightTimeout: 5 * time.Minute,
	})
	require.NoError(t, err)
	for _, c := range []struct {
		name, query, accept string
		ctype               string
		lossless            bool
		colours             int // 0: more than 2
	}{
		{"bw, Chromium", "bw=threshold&format=auto", chromiumAccept, "image/png", true, 2},
		{"bw, WebP only", "bw=threshold&format=auto", "image/webp,*/*", "image/webp", true, 2},
		{"photo, Chromium", "format=auto", chromiumAccept, "image/avif", false, 0},
		{"photo, WebP only", "format=auto", "image/webp,*/*", "image/webp", false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/photo.jpg?"+c.query, nil)
			r.Header.Set("Accept", c.accept)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, c.ctype, w.Header().Get("Content-Type"))
			assert.Equal(t, "Accept", w.Header().Get("Vary"))
			body := w.Body.Bytes()
			var img image.Image
			var err error
			switch c.ctype {
			case "image/png":
				img, err = png.Decode(bytes.NewReader(body))
			case "image/webp":
				// The first chunk says which: VP8L lossless, "VP8 " lossy.
				require.Greater(t, len(body), 16)
				assert.Equal(t, c.lossless, string(body[12:16]) == "VP8L", "chunk %q", body[12:16])
				img, err = xwebp.Decode(bytes.NewReader(body))
			case "image/avif":
				img, err = decodeAVIF(body)
			}
			require.NoError(t, err)
			assert.Equal(t, image.Pt(320, 200), img.Bounds().Size())
			n := colours(img)
			t.Logf("%s: %s, %d bytes, %d colours", c.query, c.ctype, len(body), n)
			if c.colours > 0 {
				assert.Equal(t, c.colours, n, "exactly black and white")
			} else {
				assert.Greater(t, n, 2)
			}
		})
	}
}
