package imageopto

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// solid returns a w×h image of one colour.
func solid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// withOverlay transforms src with query and the overlay value spec over
// the watermark wm, and returns the decoded PNG or JPEG output.
func withOverlay(t *testing.T, src []byte, query, spec string, wm []byte) (*Result, *image.NRGBA) {
	t.Helper()
	o, err := ParseOverlay(spec)
	require.NoError(t, err)
	return run(t, src, query, &TransformOptions{Overlay: &o, OverlayImage: wm})
}

// tiles describes where an overlay's copies are expected: the first at
// (x, y), tw×th each, every sx (sy) pixels when repeated on that axis.
type tiles struct {
	x, y, tw, th int
	sx, sy       int // 0: not repeated on that axis
}

func (c tiles) covers(x, y int) bool {
	in := func(p, at, n, step int) bool {
		if step == 0 {
			return p >= at && p < at+n
		}
		d := ((p-at)%step + step) % step
		return d < n
	}
	return in(x, c.x, c.tw, c.sx) && in(y, c.y, c.th, c.sy)
}

// checkTiles compares every pixel of img with the expected placement: the
// overlay colour where a copy is, the background elsewhere.
func checkTiles(t *testing.T, img *image.NRGBA, want tiles, fg, bg color.NRGBA) {
	t.Helper()
	bad := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			exp := bg
			if want.covers(x, y) {
				exp = fg
			}
			if got := img.NRGBAAt(x, y); got != exp {
				if bad < 5 {
					t.Errorf("pixel %d,%d is %v, want %v", x, y, got, exp)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d pixels wrong of %dx%d", bad, b.Dx(), b.Dy())
	}
}

// TestOverlayAlign places a small opaque watermark at each of the nine
// alignments and checks every pixel of the output.
func TestOverlayAlign(t *testing.T) {
	t.Parallel()
	src := encodePNG(t, solid(100, 60, blue))
	wm := encodePNG(t, solid(10, 8, red))
	xs := map[string]int{"left": 0, "center": 45, "right": 90}
	ys := map[string]int{"top": 0, "middle": 26, "bottom": 52}
	for _, y := range []string{"top", "middle", "bottom"} {
		for _, x := range []string{"left", "center", "right"} {
			align := y + "," + x
			t.Run(align, func(t *testing.T) {
				t.Parallel()
				_, img := withOverlay(t, src, "format=png", "overlay=/wm.png&overlay-align="+align, wm)
				checkTiles(t, img, tiles{x: xs[x], y: ys[y], tw: 10, th: 8}, red, blue)
			})
		}
	}
	// Without overlay-align, centred; a single keyword centres the other axis.
	_, img := withOverlay(t, src, "format=png", "overlay=/wm.png", wm)
	checkTiles(t, img, tiles{x: 45, y: 26, tw: 10, th: 8}, red, blue)
	_, img = withOverlay(t, src, "format=png", "overlay=/wm.png&overlay-align=right", wm)
	checkTiles(t, img, tiles{x: 90, y: 26, tw: 10, th: 8}, red, blue)
}

// TestOverlayPlacement: pad, repeat and sizes, relative to the output
// (after resize and pad of the main image).
func TestOverlayPlacement(t *testing.T) {
	t.Parallel()
	src := encodePNG(t, solid(100, 60, blue))
	wm := encodePNG(t, solid(10, 5, red)) // 2:1
	tests := []struct {
		query, spec string
		want        tiles
	}{
		// pad moves the overlay away from the edge it is aligned to.
		{"", "overlay-align=top,left&overlay-pad=4", tiles{x: 4, y: 4, tw: 10, th: 5}},
		{"", "overlay-align=bottom,right&overlay-pad=3,6", tiles{x: 100 - 6 - 10, y: 60 - 3 - 5, tw: 10, th: 5}},
		{"", "overlay-align=bottom,left&overlay-pad=1,2,3,4", tiles{x: 4, y: 60 - 3 - 5, tw: 10, th: 5}},
		// Percentages of overlay-pad are of the overlay (as pad's are of the image).
		{"", "overlay-align=top,left&overlay-pad=50p", tiles{x: 5, y: 3, tw: 10, th: 5}},
		// Sizes: pixels or percentages of the output; one side keeps the ratio.
		{"", "overlay-align=top,left&overlay-width=20p", tiles{x: 0, y: 0, tw: 20, th: 10}},
		{"", "overlay-align=top,left&overlay-height=0.5", tiles{x: 0, y: 0, tw: 60, th: 30}},
		{"", "overlay-width=50p&overlay-height=7", tiles{x: 25, y: 27, tw: 50, th: 7}}, // stretched; 26.5 rounds up
		{"", "overlay-width=30", tiles{x: 35, y: 23, tw: 30, th: 15}},
		// Percentages of the output, not the source: 50×30 after width=50.
		{"width=50", "overlay-align=top,right&overlay-width=40p", tiles{x: 30, y: 0, tw: 20, th: 10}},
		// ... and after the main image's pad: 120×80.
		{"pad=10", "overlay-align=bottom,right&overlay-width=25p", tiles{x: 90, y: 65, tw: 30, th: 15}},
		// repeat: one row, one column, or the whole image; pad spaces the copies.
		{"", "overlay-align=top,left&overlay-repeat=x", tiles{x: 0, y: 0, tw: 10, th: 5, sx: 10}},
		{"", "overlay-align=top,left&overlay-repeat=x&overlay-pad=5", tiles{x: 5, y: 5, tw: 10, th: 5, sx: 20}},
		{"", "overlay-align=bottom,right&overlay-repeat=y&overlay-pad=2", tiles{x: 88, y: 60 - 2 - 5, tw: 10, th: 5, sy: 9}},
		{"", "overlay-repeat=y&overlay-pad=0,5", tiles{x: 45, y: 28, tw: 10, th: 5, sy: 5}}, // centred column
		{"", "overlay-repeat=both&overlay-pad=5", tiles{x: 45, y: 28, tw: 10, th: 5, sx: 20, sy: 15}},
		// Copies cut by the edges: 30 px wide, centred at 35, repeated.
		{"", "overlay-align=top,center&overlay-width=30&overlay-repeat=x", tiles{x: 35, y: 0, tw: 30, th: 15, sx: 30}},
		// An overlay larger than the output is clipped.
		{"", "overlay-width=200p", tiles{x: -50, y: -20, tw: 200, th: 100}},
	}
	for _, tc := range tests {
		t.Run(tc.query+" "+tc.spec, func(t *testing.T) {
			t.Parallel()
			q := "format=png"
			if tc.query != "" {
				q += "&" + tc.query
			}
			res, img := withOverlay(t, src, q, "overlay=/wm.png&"+tc.spec, wm)
			bg := blue
			if strings.Contains(tc.query, "pad") {
				// The main image's pad is white; only the overlay's place matters here.
				for y := range img.Rect.Dy() {
					for x := range img.Rect.Dx() {
						if !tc.want.covers(x, y) && img.NRGBAAt(x, y) == white {
							img.SetNRGBA(x, y, blue)
						}
					}
				}
			}
			checkTiles(t, img, tc.want, red, bg)
			assert.Contains(t, res.Plan.String(), "overlay(/wm.png: ")
		})
	}
}

// TestOverlayAlpha: compositing is source-over in premultiplied alpha.
func TestOverlayAlpha(t *testing.T) {
	t.Parallel()
	half := color.NRGBA{255, 0, 0, 128}
	wm := encodePNG(t, solid(4, 4, half))
	tests := []struct {
		name string
		bg   color.NRGBA
		want color.NRGBA
	}{
		{"over opaque blue", blue, color.NRGBA{128, 0, 127, 255}},
		{"over transparent", color.NRGBA{}, half},
		{"over half blue", color.NRGBA{0, 0, 255, 128}, color.NRGBA{170, 0, 85, 192}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := encodePNG(t, solid(8, 8, tc.bg))
			_, img := withOverlay(t, src, "format=png", "overlay=/wm.png&overlay-align=top,left", wm)
			assert.Equal(t, tc.want, img.NRGBAAt(0, 0))
			assert.Equal(t, tc.want, img.NRGBAAt(3, 3))
			assert.Equal(t, tc.bg, img.NRGBAAt(4, 4), "outside the overlay")
		})
	}
	// A transparent overlay changes nothing; to JPEG, the result is
	// flattened after compositing.
	src := encodePNG(t, solid(8, 8, blue))
	_, img := withOverlay(t, src, "format=png", "overlay=/wm.png", encodePNG(t, solid(4, 4, color.NRGBA{})))
	checkTiles(t, img, tiles{}, red, blue)
}

// TestOverlayPipeline: the overlay comes after blur and bw, takes a JPEG
// off the Y′CbCr path, follows trim-color's box, and is on every frame of
// an animation.
func TestOverlayPipeline(t *testing.T) {
	t.Parallel()
	wm := encodePNG(t, solid(10, 10, red))
	ov, err := ParseOverlay("overlay=/wm.png&overlay-align=top,left")
	require.NoError(t, err)
	opts := &TransformOptions{Overlay: &ov, OverlayImage: wm}

	t.Run("after blur and bw", func(t *testing.T) {
		src := encodePNG(t, quadrants(40, 40))
		res, img := run(t, src, "format=png&blur=5&bw=threshold", opts)
		s := res.Plan.String()
		assert.Less(t, strings.Index(s, "blur("), strings.Index(s, "overlay("))
		assert.Less(t, strings.Index(s, "bw("), strings.Index(s, "overlay("))
		// Neither blurred nor made black and white: the overlay's edge is sharp.
		assert.Equal(t, red, img.NRGBAAt(9, 9))
		assert.NotEqual(t, red, img.NRGBAAt(10, 10))
	})
	t.Run("JPEG takes the RGB path", func(t *testing.T) {
		src := encodeJPEG(t, solid(64, 64, blue), 95, 0)
		res, err := TransformBytes(context.Background(), src, Params{Width: Px(32)}, nil)
		require.NoError(t, err)
		assert.True(t, res.planar, "without an overlay, planar")
		res, img := run(t, src, "width=32", opts)
		assert.False(t, res.planar, "with an overlay, RGB")
		assert.True(t, near(img.NRGBAAt(4, 4), red, 40), "%v", img.NRGBAAt(4, 4))
		assert.True(t, near(img.NRGBAAt(20, 20), blue, 40), "%v", img.NRGBAAt(20, 20))
	})
	t.Run("quality alone keeps the overlay", func(t *testing.T) {
		src := encodeJPEG(t, solid(64, 64, blue), 50, 0)
		res, img := run(t, src, "quality=100", opts)
		assert.False(t, res.Original, "the original would lose the overlay")
		assert.True(t, near(img.NRGBAAt(4, 4), red, 40), "%v", img.NRGBAAt(4, 4))
	})
	t.Run("after trim-color", func(t *testing.T) {
		img := solid(60, 40, white)
		for y := 10; y < 30; y++ {
			for x := 20; x < 50; x++ {
				img.SetNRGBA(x, y, blue)
			}
		}
		res, out := run(t, encodePNG(t, img), "format=png&trim-color=fff", opts)
		assert.Equal(t, [2]int{30, 20}, [2]int{res.Output.Width, res.Output.Height})
		checkTiles(t, out, tiles{tw: 10, th: 10}, red, blue)
	})
	t.Run("every frame", func(t *testing.T) {
		data := animatedGIF(t, 80, 40, 3)
		p, err := ParseParams("width=40")
		require.NoError(t, err)
		res, err := TransformBytes(context.Background(), data, p, opts)
		require.NoError(t, err)
		g, err := gif.DecodeAll(bytes.NewReader(res.Data))
		require.NoError(t, err)
		require.Len(t, g.Image, 3)
		for i := range 3 {
			f := composite(g, i)
			r, gg, b, _ := f.At(5, 5).RGBA()
			assert.Equal(t, [3]uint32{0xffff, 0, 0}, [3]uint32{r, gg, b}, "frame %d", i)
		}
		assert.Nil(t, res.Plan.layout.overlay.tile, "the overlay's pixels are released after the job")
	})
}

// TestOverlayLimitsAndMemory: the overlay image is held to the source
// limits, its size to the output limit, and its memory is estimated.
func TestOverlayLimitsAndMemory(t *testing.T) {
	t.Parallel()
	src := encodePNG(t, solid(100, 100, blue))
	wm := encodePNG(t, solid(200, 100, red))
	ov, err := ParseOverlay("overlay=/wm.png&overlay-width=50")
	require.NoError(t, err)
	p := Params{Width: Px(100)}

	base, err := prepare(src, p, "", TransformOptions{})
	require.NoError(t, err)
	with, err := prepare(src, p, "", TransformOptions{Overlay: &ov, OverlayImage: wm})
	require.NoError(t, err)
	extra := EstimateMemory(with.info, with.plan) - EstimateMemory(base.info, base.plan)
	assert.GreaterOrEqual(t, extra, int64(200*100*8+50*25*4), "decoded overlay and its resized copy are estimated")

	small := TransformOptions{Overlay: &ov, OverlayImage: wm, PlanOptions: PlanOptions{Limits: Limits{MaxSourcePixels: 10000}}}
	_, err = prepare(src, p, "", small)
	assert.ErrorIs(t, err, ErrSourceTooLarge)
	assert.Contains(t, err.Error(), "overlay image")

	_, err = prepare(src, p, "", TransformOptions{Overlay: &ov, OverlayImage: []byte("not an image")})
	assert.ErrorIs(t, err, ErrUnsupportedFormat)
	_, err = prepare(src, p, "", TransformOptions{Overlay: &ov})
	assert.ErrorIs(t, err, errOverlayImage)

	// An overlay larger than the output limit names the key that made it.
	for spec, key := range map[string]string{
		"overlay=/wm.png&overlay-width=1000p":                                   "overlay-width",
		"overlay=/wm.png&overlay-height=1000p":                                  "overlay-height",
		"overlay=/wm.png&overlay-width=10&overlay-height=1000p":                 "overlay-height",
		"overlay=/wm.png&overlay-width=1000p&overlay-height=10":                 "overlay-width",
		"overlay=/wm.png&overlay-width=1000p&overlay-repeat=both":               "overlay-width",
		"overlay=/wm.png&overlay-align=top&overlay-height=8192&overlay-width=1": "overlay-height",
	} {
		o, err := ParseOverlay(spec)
		require.NoError(t, err)
		big := TransformOptions{Overlay: &o, OverlayImage: wm, PlanOptions: PlanOptions{Limits: Limits{MaxOutputSide: 800}}}
		_, err = prepare(src, p, "", big)
		var pe *ParamError
		require.ErrorAs(t, err, &pe, spec)
		assert.Equal(t, key, pe.Param, spec)
		assert.Contains(t, pe.Reason, "800 px limit")
	}
	// A plain NewPlan has no overlay.
	pl, err := NewPlan(p, SourceInfo{Format: PNG, Width: 100, Height: 100}, "", nil)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprint(pl), "overlay")
}

// TestOverlayCopiesBounded: a 1-pixel tile repeated over a large output
// is refused, naming overlay-repeat; a watermark tiled over it is not.
func TestOverlayCopiesBounded(t *testing.T) {
	t.Parallel()
	tiny, err := ParseOverlay("overlay=/wm.png&overlay-width=1&overlay-repeat=both")
	require.NoError(t, err)
	_, err = overlayLayout(8192, 8192, tiny, 64, 64, 8192)
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "overlay-repeat", pe.Param)
	wm, err := ParseOverlay("overlay=/wm.png&overlay-repeat=both")
	require.NoError(t, err)
	g, err := overlayLayout(8192, 8192, wm, 64, 64, 8192)
	require.NoError(t, err)
	assert.Equal(t, 129*129, g.nx*g.ny, "centred: the copies at both edges are cut")
}
