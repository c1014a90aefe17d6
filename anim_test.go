package imageopto

import (
	"bytes"
	"context"
	"image"
	"image/color/palette"
	"image/gif"
	"image/png"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// animatedGIF makes an n-frame animation whose frame i is the quadrant image
// shifted i×10 px to the right.
func animatedGIF(t testing.TB, w, h, n int) []byte {
	t.Helper()
	anim := &gif.GIF{LoopCount: 0}
	q := quadrants(w, h)
	for i := range n {
		f := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for y := range h {
			for x := range w {
				f.Set(x, y, q.At((x+w-i*10%w)%w, y))
			}
		}
		anim.Image = append(anim.Image, f)
		anim.Delay = append(anim.Delay, 5+i)
	}
	var b bytes.Buffer
	require.NoError(t, gif.EncodeAll(&b, anim))
	return b.Bytes()
}

// TestAnimation: every frame of an animated GIF goes through the steps;
// frame=1 keeps the first only; negotiation never makes an animation still.
func TestAnimation(t *testing.T) {
	t.Parallel()
	data := animatedGIF(t, 80, 40, 4)
	cases := []struct {
		query  string
		accept string
		frames int
		w, h   int
	}{
		{"width=40", "", 4, 40, 20},
		{"width=40&height=40&fit=crop&bg-color=fff&blur=1", "", 4, 40, 40},
		{"crop=1:1,smart&width=20", "", 4, 20, 20},
		{"frame=1&width=40", "", 1, 40, 20},
		{"format=auto&width=40", "image/webp", 4, 40, 20},
		{"orient=r", "", 4, 40, 80},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(c.query)
			require.NoError(t, err)
			var seen atomic.Value
			opts := &TransformOptions{Accept: c.accept, PlanOptions: PlanOptions{Codecs: []Codec{fakeWebP(&seen)}}}
			res, err := TransformBytes(context.Background(), data, p, opts)
			require.NoError(t, err)
			assert.Equal(t, "image/gif", res.ContentType)
			g, err := gif.DecodeAll(bytes.NewReader(res.Data))
			require.NoError(t, err)
			assert.Len(t, g.Image, c.frames)
			assert.Equal(t, [2]int{c.w, c.h}, [2]int{g.Config.Width, g.Config.Height})
			assert.Equal(t, [2]int{c.w, c.h}, [2]int{res.Output.Width, res.Output.Height})
			if c.frames == 4 {
				assert.Equal(t, []int{5, 6, 7, 8}, g.Delay, "delays kept")
				assert.Equal(t, c.frames > 1, res.Plan.Animated)
			}
		})
	}
	// Frames really differ after the transformation (the animation is kept,
	// not the first frame repeated).
	res, err := TransformBytes(context.Background(), data, Params{Width: Px(40)}, nil)
	require.NoError(t, err)
	g, err := gif.DecodeAll(bytes.NewReader(res.Data))
	require.NoError(t, err)
	first, last := composite(g, 0), composite(g, 3)
	assert.NotEqual(t, first.At(2, 2), last.At(2, 2))
}

// composite draws frames 0..n of g onto one canvas (disposal "none", which
// is what our encoder writes for difference frames).
func composite(g *gif.GIF, n int) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, g.Config.Width, g.Config.Height))
	for i := 0; i <= n; i++ {
		f := g.Image[i]
		for y := f.Rect.Min.Y; y < f.Rect.Max.Y; y++ {
			for x := f.Rect.Min.X; x < f.Rect.Max.X; x++ {
				if _, _, _, a := f.At(x, y).RGBA(); a > 0 {
					out.Set(x, y, f.At(x, y))
				}
			}
		}
	}
	return out
}

// TestAnimationOutputArea: the output limit bounds the sum of all frames'
// areas (spec §2.30).
func TestAnimationOutputArea(t *testing.T) {
	t.Parallel()
	src := SourceInfo{Format: GIF, Width: 1000, Height: 1000, Frames: 100}
	p, _ := ParseParams("width=1000")
	pl, err := NewPlan(p, src, "", nil)
	require.NoError(t, err)
	assert.True(t, pl.Animated)
	assert.LessOrEqual(t, int64(pl.Width)*int64(pl.Height)*100, int64(8192*8192))
	assert.Greater(t, pl.Width, 800)
	assert.NotEmpty(t, pl.Warnings)
	pl, err = NewPlan(Params{Frame: 1}, src, "", nil)
	require.NoError(t, err)
	assert.False(t, pl.Animated)
	assert.Equal(t, 1000, pl.Width)
}

// TestPNG8: format=png8 writes a palette PNG of at most 256 colours, with
// alpha, and quality steers the size.
func TestPNG8(t *testing.T) {
	t.Parallel()
	data := encodePNG(t, goldenSource())
	sizes := map[int]int{}
	for _, q := range []int{20, 85} {
		p := Params{Format: FormatPNG8, Quality: q}
		res, err := TransformBytes(context.Background(), data, p, nil)
		require.NoError(t, err)
		assert.Equal(t, "image/png", res.ContentType)
		img, err := png.Decode(bytes.NewReader(res.Data))
		require.NoError(t, err)
		pal, ok := img.(*image.Paletted)
		require.True(t, ok, "palette PNG, got %T", img)
		assert.LessOrEqual(t, len(pal.Palette), 256)
		_, _, _, a := pal.At(24, 32).RGBA() // the disc's transparent centre
		assert.Zero(t, a)
		sizes[q] = len(res.Data)
	}
	assert.Less(t, sizes[20], sizes[85])
}
