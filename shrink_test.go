package imageopto

import (
	"context"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto/internal/quality"
)

// TestShrinkOnLoadPlan: the plan picks the largest JPEG decode reduction
// that still leaves the output resolution, and none when a step before the
// resize needs full-resolution coordinates.
func TestShrinkOnLoadPlan(t *testing.T) {
	t.Parallel()
	jpeg4000 := SourceInfo{Format: JPEG, Width: 4000, Height: 3000, Frames: 1}
	pngRows := SourceInfo{Format: PNG, Width: 4000, Height: 3000, Frames: 1, pngRows: true}
	cases := []struct {
		in    SourceInfo
		query string
		scale int
	}{
		{jpeg4000, "width=240", 8},
		{jpeg4000, "width=260", 4},
		{jpeg4000, "width=500", 4},
		{jpeg4000, "width=501", 2},
		{jpeg4000, "width=1000", 2},
		{jpeg4000, "width=1001", 1},
		{jpeg4000, "width=300&height=300&fit=crop", 4}, // 3000 px kept high: 375 at 1/8 is < 2×300
		{jpeg4000, "width=150&orient=r", 8},            // 3000 wide after rotating
		{SourceInfo{Format: JPEG, Width: 4000, Height: 3000, Frames: 1, Orientation: 6}, "width=150", 8},
		{jpeg4000, "crop=1:1&width=300", 1},
		{jpeg4000, "trim=10&width=300", 1},
		{jpeg4000, "", 1},
		{SourceInfo{Format: PNG, Width: 4000, Height: 3000, Frames: 1}, "width=300", 1},
		// PNG decoded row by row: boxes of any size, opaque images only.
		{pngRows, "width=300", 6},
		{pngRows, "width=350", 5}, // 4000/700 = 5.7
		{pngRows, "width=1000", 2},
		{pngRows, "width=1001", 1},
		{pngRows, "width=300&resize-filter=nearest", 1},
		{pngRows, "crop=1:1&width=300", 1},
		{SourceInfo{Format: PNG, Width: 4000, Height: 3000, Frames: 1, HasAlpha: true, pngRows: true}, "width=300", 1},
	}
	for _, c := range cases {
		p, err := ParseParams(c.query)
		require.NoError(t, err)
		pl, err := NewPlan(p, c.in, "", nil)
		require.NoError(t, err)
		assert.Equal(t, c.scale, pl.DecodeScale, c.query)
	}
}

// smoothPhoto is a w×h image with smooth structure at several scales, a
// stand-in for a photograph without sensor noise.
func smoothPhoto(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 128 + 100*math.Sin(9*fx+3*fy)
			g := 128 + 90*math.Cos(13*fy-5*fx*fx)
			b := 128 + 80*math.Sin(21*fx*fy+2)
			img.SetNRGBA(x, y, color.NRGBA{uint8(r), uint8(g), uint8(b), 255})
		}
	}
	return img
}

// TestShrinkOnLoadQuality: decoding at a reduced scale does not cost
// quality — the output matches a full-resolution decode and resize (SSIM ≥
// 0.98), on a synthetic photo and on the corpus when it is there (not
// under the race detector: large photos take minutes there).
func TestShrinkOnLoadQuality(t *testing.T) {
	t.Parallel()
	sources := map[string][]byte{"synthetic": encodeJPEG(t, smoothPhoto(2400, 1600), 90, 0)}
	if dir := os.Getenv("IMAGEOPTO_CORPUS"); dir != "" && raceSlowdown == 1 && !testing.Short() {
		for _, n := range []string{"kleiber.jpg", "volna.jpg", "path.jpg"} {
			if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
				sources[n] = b
			}
		}
	}
	for name, data := range sources {
		for _, q := range []string{"width=300&format=png", "width=800&format=png", "width=400&height=400&fit=crop&format=png"} {
			_, fast := run(t, data, q, nil)
			p, _ := ParseParams(q)
			info, err := Inspect(data)
			require.NoError(t, err)
			pl, err := NewPlan(p, info, "", nil)
			require.NoError(t, err)
			// Reference: the same steps on a full-resolution decode.
			full := &TransformOptions{Steps: nil}
			res, err := TransformBytes(context.Background(), data, Params{Format: FormatPNG}, full)
			require.NoError(t, err)
			fullImg := fullResolution(t, res.Data, q) // not shrunk on load
			s := quality.SSIM(fast, fullImg)
			t.Logf("%s %s: decode scale 1/%d, SSIM %.4f against a full decode", name, q, pl.DecodeScale, s)
			assert.GreaterOrEqual(t, s, 0.98, "%s %s", name, q)
		}
	}
}
