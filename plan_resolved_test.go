package imageopto

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlanResolved pins the concrete numbers NewPlan resolves: every
// operation carries its rectangle, size or amount, so that no painter has
// to work them out again.
func TestPlanResolved(t *testing.T) {
	t.Parallel()
	cases := []struct {
		query string
		in    SourceInfo
		want  string
	}{
		{"width=300", src(JPEG, 1200, 800),
			"resize(300x200 lanczos3 decoded at 1/2) → jpeg q85 300x200"},
		{"width=300&height=300&fit=crop", src(PNG, 1200, 800),
			"resize(300x300 of 800x800+200+0 lanczos3) → png 300x300"},
		{"crop=50p,50p,offset-x0,offset-y100&width=100", src(JPEG, 400, 200),
			"crop(200x100+0+100) > resize(100x50 lanczos3) → jpeg q85 100x50"},
		{"trim=10,20,30,40&canvas=400,300&bg-color=f00", src(PNG, 200, 100),
			"trim(140x60+40+10) > canvas(400,300: 400x300, image at 130,120) > bg-color(255,0,0,255) → png 400x300"},
		{"pad=5p&blur=1p", src(GIF, 100, 100),
			"pad(5p,5p,5p,5p: 110x110, image at 5,5) > blur(1p: σ=0.55) → gif 110x110"},
		{"precrop=1:1,smart&orient=r", src(JPEG, 300, 200),
			"precrop(200x200,smart) > orient(6) → jpeg q85 200x200"},
	}
	for _, c := range cases {
		p, err := ParseParams(c.query)
		require.NoError(t, err, c.query)
		pl, err := NewPlan(p, c.in, "", nil)
		require.NoError(t, err, c.query)
		assert.Equal(t, c.want, pl.String(), c.query)
	}
}

// TestPlanNotChangedByRun: one prepared plan runs on two goroutines at once
// (the race detector watches), with content-dependent operations and
// optimize=, and is the same afterwards; each result reports what it did.
func TestPlanNotChangedByRun(t *testing.T) {
	t.Parallel()
	// A photo-like middle on a white border, so that trim-color trims.
	img := image.NewNRGBA(image.Rect(0, 0, 240, 160))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	inner := photoLike(200, 100)
	for y := range 100 {
		copy(img.Pix[(y+30)*img.Stride+20*4:], inner.Pix[y*inner.Stride:(y+1)*inner.Stride])
	}
	data := encodePNG(t, img)
	p, err := ParseParams("trim-color=fff&crop=1:1,smart&width=50&format=jpg&optimize=medium")
	require.NoError(t, err)
	job, err := prepare(data, p, "", TransformOptions{})
	require.NoError(t, err)
	before := job.plan.String()
	assert.False(t, job.plan.Exact)
	assert.Equal(t, [2]int{50, 50}, [2]int{job.plan.Width, job.plan.Height}, "provisional: the untrimmed 160x160 square, then 50 wide")

	var wg sync.WaitGroup
	results := make([]*Result, 2)
	for i := range results {
		wg.Go(func() {
			res, err := job.run(context.Background())
			assert.NoError(t, err)
			results[i] = res
		})
	}
	wg.Wait()
	assert.Equal(t, before, job.plan.String(), "the plan is not changed by running it")
	assert.Equal(t, DefaultJPEGQuality, job.plan.Quality)
	for _, res := range results {
		require.NotNil(t, res)
		assert.Equal(t, [2]int{50, 50}, [2]int{res.Output.Width, res.Output.Height})
		assert.NotSame(t, job.plan, res.Plan, "optimize= reports its quality on a copy")
		assert.GreaterOrEqual(t, res.Plan.Quality, optimizeMinQuality)
	}
	assert.Equal(t, results[0].Data, results[1].Data)
}

// TestPlanContentResolvedAgain: trim-color's box is found in the pixels,
// and the operations after it are resolved again for the trimmed size.
func TestPlanContentResolvedAgain(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y := 50; y < 150; y++ { // a 100x100 black square at 100,50
		for x := 100; x < 200; x++ {
			img.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 255})
		}
	}
	cases := []struct {
		query string
		w, h  int
	}{
		{"trim-color=fff", 100, 100},
		{"trim-color=fff&pad=10", 120, 120},
		{"trim-color=fff&crop=50p,50p", 50, 50},
		{"trim-color=fff&width=50p", 50, 50},
	}
	for _, c := range cases {
		p, err := ParseParams(c.query)
		require.NoError(t, err)
		res, err := TransformBytes(context.Background(), encodePNG(t, img), p, nil)
		require.NoError(t, err, c.query)
		assert.Equal(t, [2]int{c.w, c.h}, [2]int{res.Output.Width, res.Output.Height}, c.query)
	}
	// Too large for the trimmed image: an error at run time, named.
	p, err := ParseParams("trim-color=fff&crop=150,150")
	require.NoError(t, err)
	_, err = TransformBytes(context.Background(), encodePNG(t, img), p, nil)
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "crop", pe.Param)
}

// TestCodecTable: a format the built-ins do not decode is one Codec value
// away (here a toy BMP-like reader); a configured codec for a built-in
// format adds what the built-ins lack and does not replace them.
func TestCodecTable(t *testing.T) {
	t.Parallel()
	// "BM", width, height (uint16 LE), then grey samples.
	toy := []byte{'B', 'M', 4, 0, 2, 0, 10, 20, 30, 40, 50, 60, 70, 80}
	var decoded atomic.Int32
	bmp := Codec{
		Format: ImageFormat("bmp"),
		DecodeHeader: func(data []byte) (SourceInfo, error) {
			if len(data) < 6 {
				return SourceInfo{}, fmt.Errorf("%w: short", ErrCorrupt)
			}
			return SourceInfo{Width: int(binary.LittleEndian.Uint16(data[2:])), Height: int(binary.LittleEndian.Uint16(data[4:]))}, nil
		},
		Decode: func(ctx context.Context, data []byte) (*image.NRGBA, error) {
			decoded.Add(1)
			w, h := int(binary.LittleEndian.Uint16(data[2:])), int(binary.LittleEndian.Uint16(data[4:]))
			img := image.NewNRGBA(image.Rect(0, 0, w, h))
			for i, v := range data[6:] {
				img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = v, v, v, 255
			}
			return img, nil
		},
	}
	var jpegCalls atomic.Int32
	jpeg := Codec{Format: JPEG, Encode: func(context.Context, io.Writer, *image.NRGBA, EncodeOptions) error {
		jpegCalls.Add(1)
		return nil
	}}
	opts := &TransformOptions{PlanOptions: PlanOptions{Codecs: []Codec{jpeg, bmp}}}

	_, err := TransformBytes(context.Background(), toy, Params{}, nil)
	require.ErrorIs(t, err, ErrUnsupportedFormat, "without the codec")
	assert.True(t, strings.Contains(err.Error(), "bmp"), err.Error())

	res, err := TransformBytes(context.Background(), toy, Params{Width: Px(2)}, opts)
	require.NoError(t, err)
	assert.Equal(t, ImageFormat("bmp"), res.Input.Format)
	assert.Equal(t, "image/jpeg", res.ContentType, "an opaque source without a writer of its own becomes JPEG")
	assert.Equal(t, [2]int{2, 1}, [2]int{res.Output.Width, res.Output.Height})
	assert.Equal(t, int32(1), decoded.Load())
	assert.Zero(t, jpegCalls.Load(), "the built-in JPEG encoder comes first")
	m, err := Inspect(res.Data)
	require.NoError(t, err)
	assert.Equal(t, JPEG, m.Format)
}

// TestPlanFramesShareFacts: the frames of an animation share what the
// first frame's content-dependent steps found — a smart crop stays where
// the first frame put it, though the next frame's detail is elsewhere.
func TestPlanFramesShareFacts(t *testing.T) {
	t.Parallel()
	frame := func(detailX int) *image.NRGBA {
		m := image.NewNRGBA(image.Rect(0, 0, 200, 100))
		for i := range m.Pix {
			m.Pix[i] = 128
		}
		detail := photoLike(60, 60)
		for y := range 60 {
			copy(m.Pix[(y+20)*m.Stride+detailX*4:], detail.Pix[y*detail.Stride:(y+1)*detail.Stride])
		}
		return m
	}
	p, err := ParseParams("crop=1:1,smart")
	require.NoError(t, err)
	pl, err := NewPlan(p, SourceInfo{Format: GIF, Width: 200, Height: 100, Frames: 2}, "", nil)
	require.NoError(t, err)
	var f facts
	_, err = pl.run(context.Background(), frame(10), &f)
	require.NoError(t, err)
	require.NotNil(t, f.smart[1])
	require.NotNil(t, f.smart[1].at)
	first := *f.smart[1].at
	assert.Less(t, first.X, 50, "the first frame's detail is on the left")
	second, err := pl.run(context.Background(), frame(130), &f)
	require.NoError(t, err)
	assert.Equal(t, first, *f.smart[1].at, "the second frame keeps the first frame's crop")
	want := frame(130).SubImage(image.Rect(first.X, 0, first.X+100, 100)).(*image.NRGBA)
	assert.Equal(t, 100, second.Bounds().Dx())
	for y := range 100 {
		assert.Equal(t, want.Pix[y*want.Stride:y*want.Stride+400], second.Pix[y*second.Stride:y*second.Stride+400], "row %d", y)
	}
}
