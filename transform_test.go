package imageopto

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto/internal/metadata"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/golden")

var (
	red    = color.NRGBA{255, 0, 0, 255}
	green  = color.NRGBA{0, 255, 0, 255}
	blue   = color.NRGBA{0, 0, 255, 255}
	yellow = color.NRGBA{255, 255, 0, 255}
	white  = color.NRGBA{255, 255, 255, 255}
	black  = color.NRGBA{0, 0, 0, 255}
	clear  = color.NRGBA{}
)

// quadrants returns a w×h image: red top-left, green top-right, blue
// bottom-left, yellow bottom-right, so every crop, flip and placement shows.
func quadrants(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = yellow
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// encodeJPEG encodes img and, when orientation > 0, inserts an Exif APP1
// segment carrying that orientation (big-endian TIFF) after SOI.
func encodeJPEG(t testing.TB, img image.Image, q, orientation int) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: q}))
	data := b.Bytes()
	if orientation == 0 {
		return data
	}
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	binary.Write(&tiff, binary.BigEndian, uint32(8))      // IFD0 offset
	binary.Write(&tiff, binary.BigEndian, uint16(1))      // one entry
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112)) // Orientation
	binary.Write(&tiff, binary.BigEndian, uint16(3))      // SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))      // count
	binary.Write(&tiff, binary.BigEndian, uint16(orientation))
	binary.Write(&tiff, binary.BigEndian, uint16(0))
	binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, data[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, data[2:]...)
}

func run(t testing.TB, data []byte, query string, opts *TransformOptions) (*Result, *image.NRGBA) {
	t.Helper()
	p, err := ParseParams(query)
	require.NoError(t, err)
	res, err := TransformBytes(context.Background(), data, p, opts)
	require.NoError(t, err, "query %q", query)
	var img image.Image
	switch res.Output.Format {
	case PNG:
		img, err = png.Decode(bytes.NewReader(res.Data))
	case JPEG:
		img, err = jpeg.Decode(bytes.NewReader(res.Data))
	case WebP:
		img, err = builtinDecode(context.Background(), res.Data)
	default:
		t.Fatalf("unexpected output %s", res.Output.Format)
	}
	require.NoError(t, err)
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Bounds(), img, img.Bounds().Min, draw.Src)
	assert.Equal(t, res.Output.Width, n.Bounds().Dx())
	assert.Equal(t, res.Output.Height, n.Bounds().Dy())
	return res, n
}

// near reports whether two colours differ by at most tol per channel.
func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return math.Abs(float64(x)-float64(y)) <= float64(tol) }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

type probe struct {
	x, y int
	c    color.NRGBA
}

// TestTransformPixels checks crops, orientations and placements with the
// quadrant image (lossless PNG in and out).
func TestTransformPixels(t *testing.T) {
	t.Parallel()
	q := encodePNG(t, quadrants(400, 300))
	cases := []struct {
		query  string
		w, h   int
		probes []probe
	}{
		{"crop=50p,50p,x0,y0", 200, 150, []probe{{0, 0, red}, {199, 149, red}}},
		{"crop=50p,50p,offset-x100,offset-y100", 200, 150, []probe{{0, 0, yellow}, {199, 149, yellow}}},
		{"crop=100,100,x150,y100", 100, 100, []probe{{0, 0, red}, {99, 0, green}, {0, 99, blue}, {99, 99, yellow}}},
		{"crop=300,300,x300,y100,safe", 100, 200, []probe{{0, 0, green}, {99, 199, yellow}}},
		{"orient=1", 400, 300, []probe{{0, 0, red}, {399, 0, green}, {0, 299, blue}, {399, 299, yellow}}},
		{"orient=h", 400, 300, []probe{{0, 0, green}, {399, 0, red}, {0, 299, yellow}, {399, 299, blue}}},
		{"orient=3", 400, 300, []probe{{0, 0, yellow}, {399, 0, blue}, {0, 299, green}, {399, 299, red}}},
		{"orient=v", 400, 300, []probe{{0, 0, blue}, {399, 0, yellow}, {0, 299, red}, {399, 299, green}}},
		{"orient=5", 300, 400, []probe{{0, 0, red}, {299, 0, blue}, {0, 399, green}, {299, 399, yellow}}},
		{"orient=r", 300, 400, []probe{{0, 0, blue}, {299, 0, red}, {0, 399, yellow}, {299, 399, green}}},
		{"orient=7", 300, 400, []probe{{0, 0, yellow}, {299, 0, green}, {0, 399, blue}, {299, 399, red}}},
		{"orient=l", 300, 400, []probe{{0, 0, green}, {299, 0, yellow}, {0, 399, red}, {299, 399, blue}}},
		// canvas: transparent fill for PNG output, image placed per D9.
		{"canvas=600,400", 600, 400, []probe{{99, 49, clear}, {100, 50, red}, {499, 349, yellow}, {500, 350, clear}}},
		{"canvas=600,400,x0,y0", 600, 400, []probe{{0, 0, red}, {399, 299, yellow}, {400, 300, clear}}},
		{"canvas=600,400,offset-x25,offset-y75", 600, 400, []probe{{49, 74, clear}, {50, 75, red}}},
		{"canvas=600,400,x50p,y0", 600, 400, []probe{{199, 0, clear}, {200, 0, red}}},
		{"canvas=600,400&bg-color=0,0,255", 600, 400, []probe{{0, 0, blue}, {100, 50, red}}},
		// pad: white around an opaque source even for PNG output.
		{"pad=10", 420, 320, []probe{{9, 9, white}, {10, 10, red}, {409, 309, yellow}, {410, 310, white}}},
		{"pad=10,20,30,40&bg-color=000", 460, 340, []probe{{39, 10, black}, {40, 10, red}, {40, 9, black}, {439, 309, yellow}, {440, 309, black}}},
		// resize with nearest keeps hard edges on exact factors.
		{"width=100&resize-filter=nearest", 100, 75, []probe{{0, 0, red}, {49, 0, red}, {50, 0, green}, {99, 74, yellow}}},
		{"width=40&height=40&fit=crop", 40, 40, []probe{{0, 0, red}, {39, 0, green}, {0, 39, blue}, {39, 39, yellow}}},
		// colour steps.
		{"brightness=100", 400, 300, []probe{{0, 0, white}, {399, 299, white}}},
		{"brightness=-100", 400, 300, []probe{{0, 0, black}}},
		{"contrast=-100", 400, 300, []probe{{0, 0, color.NRGBA{128, 128, 128, 255}}}},
		{"bw=threshold", 400, 300, []probe{{399, 299, white}, {0, 299, black}}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			t.Parallel()
			res, img := run(t, q, c.query, nil)
			require.Equal(t, [2]int{c.w, c.h}, [2]int{img.Bounds().Dx(), img.Bounds().Dy()})
			assert.Equal(t, [2]int{res.Plan.Width, res.Plan.Height}, [2]int{c.w, c.h}, "plan and pixels agree")
			for _, p := range c.probes {
				got := img.NRGBAAt(p.x, p.y)
				assert.True(t, near(got, p.c, 2), "at %d,%d: got %v want %v", p.x, p.y, got, p.c)
			}
		})
	}
}

// TestTransformEXIFOrientation: a JPEG stored sideways with EXIF orientation
// comes out upright, for all eight values.
func TestTransformEXIFOrientation(t *testing.T) {
	t.Parallel()
	upright := quadrants(64, 48)
	// stored[o] is what a camera writes for orientation o: the inverse of
	// the transform that orientation asks for.
	inverse := map[int]string{1: "orient=1", 2: "orient=2", 3: "orient=3", 4: "orient=4",
		5: "orient=5", 6: "orient=8", 7: "orient=7", 8: "orient=6"}
	for o := 1; o <= 8; o++ {
		t.Run(inverse[o], func(t *testing.T) {
			t.Parallel()
			_, stored := run(t, encodePNG(t, upright), inverse[o], nil)
			data := encodeJPEG(t, stored, 95, o)
			info, err := Inspect(data)
			require.NoError(t, err)
			assert.Equal(t, Orientation(max(o, 1)), max(info.Orientation, 1))
			res, img := run(t, data, "", nil)
			assert.Equal(t, [2]int{64, 48}, [2]int{img.Bounds().Dx(), img.Bounds().Dy()})
			assert.Equal(t, [2]int{stored.Bounds().Dx(), stored.Bounds().Dy()}, [2]int{res.Input.Width, res.Input.Height}, "idim is as stored")
			for _, p := range []probe{{8, 8, red}, {56, 8, green}, {8, 40, blue}, {56, 40, yellow}} {
				got := img.NRGBAAt(p.x, p.y)
				assert.True(t, near(got, p.c, 40), "orientation %d at %d,%d: got %v want %v", o, p.x, p.y, got, p.c)
			}
		})
	}
}

// TestTransformAlpha checks the transparency rules of pad, canvas, bg-color
// and JPEG output.
func TestTransformAlpha(t *testing.T) {
	t.Parallel()
	img := quadrants(40, 40)
	for y := range 20 { // top half semi-transparent, left quarter fully transparent
		for x := range 40 {
			c := img.NRGBAAt(x, y)
			c.A = 128
			if x < 10 {
				c.A = 0
			}
			img.SetNRGBA(x, y, c)
		}
	}
	data := encodePNG(t, img)
	cases := []struct {
		query  string
		probes []probe
	}{
		{"pad=5", []probe{{0, 0, clear}, {5, 5, clear}, {25, 5, color.NRGBA{0, 255, 0, 128}}}},
		{"pad=5&bg-color=f00", []probe{{0, 0, red}, {5, 5, red}, {25, 5, color.NRGBA{128, 127, 0, 255}}}},
		{"format=jpg", []probe{{0, 0, white}, {25, 0, color.NRGBA{127, 255, 127, 255}}, {5, 35, blue}}},
		{"format=jpg&bg-color=000", []probe{{0, 0, black}, {25, 0, color.NRGBA{0, 128, 0, 255}}}},
		{"bg-color=0,0,255,0.5", []probe{{0, 0, color.NRGBA{0, 0, 255, 128}}, {5, 35, blue}}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			t.Parallel()
			_, out := run(t, data, c.query, nil)
			for _, p := range c.probes {
				got := out.NRGBAAt(p.x, p.y)
				assert.True(t, near(got, p.c, 6), "at %d,%d: got %v want %v", p.x, p.y, got, p.c)
			}
		})
	}
}

// TestTransformTrimColor removes a uniform border found by colour.
func TestTransformTrimColor(t *testing.T) {
	t.Parallel()
	framed := image.NewNRGBA(image.Rect(0, 0, 60, 50))
	draw.Draw(framed, framed.Bounds(), image.NewUniform(color.NRGBA{250, 250, 250, 255}), image.Point{}, draw.Src)
	draw.Draw(framed, image.Rect(10, 5, 50, 45), quadrants(40, 40), image.Point{}, draw.Src)
	data := encodePNG(t, framed)
	cases := []struct {
		query string
		w, h  int
	}{
		{"trim-color=auto", 40, 40},
		{"trim-color=fafafa", 40, 40},
		{"trim-color=FFF", 60, 50},           // exact match only: nothing trimmed
		{"trim-color=FFF,t0.05", 40, 40},     // near enough
		{"trim-color=auto&width=20", 20, 20}, // later steps see the trimmed size
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			t.Parallel()
			_, out := run(t, data, c.query, nil)
			assert.Equal(t, [2]int{c.w, c.h}, [2]int{out.Bounds().Dx(), out.Bounds().Dy()})
		})
	}
	p, err := ParseParams("trim-color=auto")
	require.NoError(t, err)
	_, err = TransformBytes(context.Background(), encodePNG(t, quadrants(8, 8)), Params{TrimColor: TrimColor{Color: Color{R: 1, A: 1, Set: true}, Threshold: 1}}, nil)
	var pe *ParamError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, "trim-color", pe.Param)
	_ = p
}

// TestTransformSmartCrop: crop=1:1,smart moves the window to the detailed,
// colourful part of an otherwise flat image; a centre crop would miss it.
func TestTransformSmartCrop(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 400, 100))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.NRGBA{120, 120, 120, 255}), image.Point{}, draw.Src)
	for y := 20; y < 80; y++ { // a striped, colourful object near the right edge
		for x := 320; x < 390; x++ {
			if (x/4+y/4)%2 == 0 {
				img.SetNRGBA(x, y, color.NRGBA{230, 40, 30, 255})
			} else {
				img.SetNRGBA(x, y, color.NRGBA{20, 60, 220, 255})
			}
		}
	}
	data := encodePNG(t, img)
	res, out := run(t, data, "crop=1:1,smart", nil)
	assert.Equal(t, [2]int{100, 100}, [2]int{res.Output.Width, res.Output.Height})
	colourful := 0
	for y := range 100 {
		for x := range 100 {
			if c := out.NRGBAAt(x, y); c.R != c.G {
				colourful++
			}
		}
	}
	assert.Greater(t, colourful, 60*60, "the window covers the object")
	_, centre := run(t, data, "crop=1:1", nil)
	assert.Equal(t, color.NRGBA{120, 120, 120, 255}, centre.NRGBAAt(50, 50))
}

// TestTransformOriginalIsSmaller pins D18.
func TestTransformOriginalIsSmaller(t *testing.T) {
	t.Parallel()
	data := encodeJPEG(t, photoLike(64, 64), 20, 0)
	res, err := TransformBytes(context.Background(), data, Params{Quality: 100}, nil)
	require.NoError(t, err)
	assert.True(t, res.Original)
	assert.Equal(t, data, res.Data)
	assert.Equal(t, int64(len(data)), res.Output.Bytes)

	res, err = TransformBytes(context.Background(), data, Params{Quality: 100, Width: Px(32)}, nil)
	require.NoError(t, err)
	assert.False(t, res.Original, "geometry was asked for")
}

// TestTransformSourceErrors: bad sources get precise errors and statuses (D25).
func TestTransformSourceErrors(t *testing.T) {
	t.Parallel()
	good := encodeJPEG(t, quadrants(64, 64), 80, 0)
	hugePNG := encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(hugePNG[16:], 65535) // IHDR width/height, CRC now wrong
	binary.BigEndian.PutUint32(hugePNG[20:], 65535)
	cases := []struct {
		name   string
		data   []byte
		err    error
		status int
	}{
		{"empty", nil, ErrUnsupportedFormat, 415},
		{"one byte", []byte{0xFF}, ErrUnsupportedFormat, 415},
		{"html", []byte("<html><body>Not found</body></html>"), ErrUnsupportedFormat, 415},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00junkjunk"), ErrUnsupportedFormat, 415},
		{"bmp", append([]byte("BM"), make([]byte, 60)...), ErrUnsupportedFormat, 415},
		{"truncated jpeg", good[:len(good)/2], ErrCorrupt, 422},
		{"huge png header", hugePNG, nil, 422},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := TransformBytes(context.Background(), c.data, Params{}, nil)
			require.Error(t, err)
			if c.err != nil {
				assert.ErrorIs(t, err, c.err)
			}
			assert.Equal(t, c.status, StatusCode(err), "%v", err)
		})
	}
}

// TestTransformReaderLimit: Transform stops reading past the byte limit.
func TestTransformReaderLimit(t *testing.T) {
	t.Parallel()
	data := encodePNG(t, quadrants(64, 64))
	opts := &TransformOptions{PlanOptions: PlanOptions{Limits: Limits{MaxSourceBytes: int64(len(data) - 1)}}}
	_, err := Transform(context.Background(), bytes.NewReader(data), Params{}, opts)
	assert.ErrorIs(t, err, ErrSourceTooLarge)
	res, err := Transform(context.Background(), bytes.NewReader(data), Params{Width: Px(10)}, nil)
	require.NoError(t, err)
	assert.Equal(t, "ifsz="+strconv.Itoa(len(data))+" idim=64x64 ifmt=png ofsz="+strconv.Itoa(len(res.Data))+" odim=10x10 ofmt=png", res.Info())
}

// TestTransformCanceled: a cancelled context stops the work.
func TestTransformCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := TransformBytes(ctx, encodePNG(t, quadrants(8, 8)), Params{}, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestTransformCustomStep: custom steps run after the built-in ones, and a
// panic in a step becomes ErrInternal instead of crashing the process.
func TestTransformCustomStep(t *testing.T) {
	t.Parallel()
	data := encodePNG(t, quadrants(8, 8))
	invert := StepFunc{Name: "invert", Func: func(_ context.Context, img *image.NRGBA) (*image.NRGBA, error) {
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = 255-img.Pix[i], 255-img.Pix[i+1], 255-img.Pix[i+2]
		}
		return img, nil
	}}
	_, out := run(t, data, "", &TransformOptions{Steps: []Step{invert}})
	assert.Equal(t, color.NRGBA{0, 255, 255, 255}, out.NRGBAAt(0, 0))

	boom := StepFunc{Name: "boom", Func: func(context.Context, *image.NRGBA) (*image.NRGBA, error) { panic("boom") }}
	_, err := TransformBytes(context.Background(), data, Params{}, &TransformOptions{Steps: []Step{boom}})
	assert.ErrorIs(t, err, ErrInternal)
	assert.Equal(t, 500, StatusCode(err))
}

// goldenSource is a synthetic 96×64 image with gradients, hard edges and a
// soft alpha disc, so filters, placements and alpha rules all show.
func goldenSource() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 96, 64))
	for y := range 64 {
		for x := range 96 {
			c := color.NRGBA{uint8(x * 255 / 95), uint8(y * 255 / 63), uint8((x + y) % 32 * 8), 255}
			if (x/8+y/8)%2 == 0 && x > 48 {
				c = color.NRGBA{20, 20, 20, 255}
			}
			d := math.Hypot(float64(x)-24, float64(y)-32)
			if d < 20 {
				c.A = uint8(max(0, min(255, (d-10)*25.5)))
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// TestGolden compares the outputs of a set of queries with committed golden
// PNGs, with a per-channel tolerance of 2. Regenerate with -update.
func TestGolden(t *testing.T) {
	t.Parallel()
	data := encodePNG(t, goldenSource())
	queries := map[string]string{
		"resize-lanczos3": "width=48",
		"resize-bicubic":  "width=150&enable=upscale&resize-filter=bicubic",
		"resize-bilinear": "width=40&height=40&resize-filter=linear",
		"fit-crop":        "width=40&height=40&fit=crop",
		"crop-pad":        "crop=60,40,x10,y10&pad=4,8&bg-color=336699",
		"canvas-ratio":    "canvas=1:1,offset-y0",
		"adjust":          "brightness=10&contrast=30&saturation=-50",
		"sharpen":         "sharpen=a3,r2,t5",
		"blur":            "blur=3",
		"blur-percent":    "blur=5p",
		"bw-threshold":    "bw=threshold,60&bg-color=fff",
		"bw-atkinson":     "bw=atkinson&bg-color=fff",
		"trim-orient":     "trim=5,10&orient=r",
		"bg-flatten":      "bg-color=ffcc00&width=50",
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, got := run(t, data, q, nil)
			path := filepath.Join("testdata", "golden", name+".png")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, encodePNG(t, got), 0o644))
				return
			}
			f, err := os.ReadFile(path)
			require.NoError(t, err, "missing golden; run go test -run TestGolden -update")
			wantImg, err := png.Decode(bytes.NewReader(f))
			require.NoError(t, err)
			want := image.NewNRGBA(wantImg.Bounds())
			draw.Draw(want, want.Bounds(), wantImg, image.Point{}, draw.Src)
			require.Equal(t, want.Bounds(), got.Bounds())
			worst := 0
			for i := range want.Pix {
				worst = max(worst, int(math.Abs(float64(want.Pix[i])-float64(got.Pix[i]))))
			}
			assert.LessOrEqual(t, worst, 2, "max channel difference from the golden")
		})
	}
}

// TestOptimize: optimize= picks a quality per image; a higher setting gives
// a smaller file, an explicit quality overrides it, and lossless outputs
// ignore it.
func TestOptimize(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 640, 400))
	for y := range 400 {
		for x := range 640 {
			fx, fy := float64(x), float64(y)
			v := 128 + 60*math.Sin(fx/23)*math.Cos(fy/17) + 40*math.Sin((fx+fy)/9)
			img.SetNRGBA(x, y, color.NRGBA{uint8(v), uint8(fy * 255 / 400), uint8(255 - v), 255})
		}
	}
	data := encodePNG(t, img)
	sizes := map[Optimize]int{}
	for _, o := range []Optimize{OptimizeLow, OptimizeMedium, OptimizeHigh} {
		res, err := TransformBytes(context.Background(), data, Params{Optimize: o, Format: FormatJPG}, nil)
		require.NoError(t, err)
		assert.Equal(t, o.Target(), res.Plan.OptimizeTarget)
		assert.GreaterOrEqual(t, res.Plan.Quality, optimizeMinQuality)
		assert.LessOrEqual(t, res.Plan.Quality, optimizeMaxQuality)
		sizes[o] = len(res.Data)
		t.Logf("optimize=%s: q%d, %d bytes", o, res.Plan.Quality, len(res.Data))
	}
	assert.Greater(t, sizes[OptimizeLow], sizes[OptimizeMedium])
	assert.Greater(t, sizes[OptimizeMedium], sizes[OptimizeHigh])

	res, err := TransformBytes(context.Background(), data, Params{Optimize: OptimizeHigh, Quality: 77, Format: FormatJPG}, nil)
	require.NoError(t, err)
	assert.Equal(t, 77, res.Plan.Quality)
	assert.Zero(t, res.Plan.OptimizeTarget)

	res, err = TransformBytes(context.Background(), data, Params{Optimize: OptimizeHigh}, nil)
	require.NoError(t, err)
	assert.Equal(t, PNG, res.Output.Format)
	assert.Zero(t, res.Plan.OptimizeTarget, "lossless output: nothing to optimise")
}

// TestJPEGModes: pjpg writes progressive JPEG, bjpg baseline, and jpg (or no
// format) keeps the source's mode (D15).
func TestJPEGModes(t *testing.T) {
	t.Parallel()
	baseline := encodeJPEG(t, photoLike(64, 48), 90, 0)
	progressiveSrc, err := TransformBytes(context.Background(), baseline, Params{Format: FormatPJPG}, nil)
	require.NoError(t, err)
	sof := func(data []byte) byte { // the SOFn marker's n
		for i := 2; i+4 < len(data); {
			if data[i] != 0xFF {
				return 0
			}
			m := data[i+1]
			if m >= 0xC0 && m <= 0xC2 {
				return m
			}
			i += 2 + int(data[i+2])<<8 | int(data[i+3])
		}
		return 0
	}
	require.Equal(t, byte(0xC2), sof(progressiveSrc.Data), "pjpg")
	cases := []struct {
		src   []byte
		query string
		want  byte
	}{
		{baseline, "width=32", 0xC0},
		{baseline, "format=jpg&width=32", 0xC0},
		{baseline, "format=pjpeg&width=32", 0xC2},
		{progressiveSrc.Data, "width=32", 0xC2},
		{progressiveSrc.Data, "format=jpeg&width=32", 0xC2},
		{progressiveSrc.Data, "format=bjpg&width=32", 0xC0},
		{encodePNG(t, photoLike(64, 48)), "format=jpg", 0xC0},
	}
	for _, c := range cases {
		res, _ := run(t, c.src, c.query, nil)
		assert.Equal(t, c.want, sof(res.Data), c.query)
	}
}

// TestMetadataCopyright: metadata=copyright keeps the copyright fields JPEG
// to JPEG; without it, and for other outputs, everything is stripped.
func TestMetadataCopyright(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("internal", "metadata", "testdata", "copyright.jpg"))
	require.NoError(t, err)
	want := metadata.ExtractJPEG(src)
	require.NotNil(t, want, "the fixture carries copyright fields")
	cases := []struct {
		query string
		kept  bool
	}{
		{"metadata=copyright&width=8", true},
		{"metadata=copyright&format=pjpg", true},
		{"width=8", false},
		{"metadata=copyright&format=png", false},
	}
	for _, c := range cases {
		p, err := ParseParams(c.query)
		require.NoError(t, err)
		res, err := TransformBytes(context.Background(), src, p, nil)
		require.NoError(t, err, c.query)
		got := metadata.ExtractJPEG(res.Data)
		if c.kept {
			assert.Equal(t, want, got, c.query)
		} else {
			assert.Nil(t, got, c.query)
		}
	}
}
