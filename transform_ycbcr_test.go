package imageopto

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/imageopto/imageopto/internal/imaging"
	"github.com/imageopto/imageopto/internal/jpegenc"
	"github.com/imageopto/imageopto/internal/quality"
)

// forceRGB is a custom step that does nothing; any custom step keeps a job
// off the Y′CbCr fast path, so the same plan runs on RGB pixels.
var forceRGB = &TransformOptions{Steps: []Step{StepFunc{Name: "nop",
	Func: func(_ context.Context, m *image.NRGBA) (*image.NRGBA, error) { return m, nil }}}}

// texturedPhoto is smoothPhoto with fine, low-contrast texture and a few
// sharp-edged coloured shapes: a stand-in for a photograph, where chroma
// placement and luma filtering both show.
func texturedPhoto(w, h int) *image.NRGBA {
	img := smoothPhoto(w, h)
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			n := int(rng.IntN(9)) - 4
			for c := range 3 {
				img.Pix[i+c] = uint8(min(max(int(img.Pix[i+c])+n, 0), 255))
			}
			// A red disc and a dark blue bar with hard edges.
			dx, dy := float64(x)-0.3*float64(w), float64(y)-0.6*float64(h)
			if dx*dx+dy*dy < float64(w*w)/64 {
				img.Pix[i], img.Pix[i+1], img.Pix[i+2] = 200, 30, 40
			}
			if x > 2*w/3 && x < 2*w/3+w/15 {
				img.Pix[i], img.Pix[i+1], img.Pix[i+2] = 20, 30, 120
			}
		}
	}
	return img
}

// jpegenc420, jpegenc444 and jpegencGray encode with our own encoder, which
// writes 4:4:4 and greyscale as well as 4:2:0.
func encodeOwnJPEG(t testing.TB, img image.Image, sub jpegenc.Subsampling, progressive bool) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpegenc.Encode(context.Background(), &b, img, &jpegenc.Options{Quality: 92, Subsampling: sub, Progressive: progressive}))
	return b.Bytes()
}

func toGray(m *image.NRGBA) *image.Gray {
	g := image.NewGray(m.Rect)
	for y := range m.Rect.Dy() {
		for x := range m.Rect.Dx() {
			g.Set(x, y, m.At(x, y))
		}
	}
	return g
}

// withOrientation inserts an Exif APP1 segment carrying orientation o after
// the SOI of any JPEG.
func withOrientation(data []byte, o int) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	binary.Write(&tiff, binary.BigEndian, uint32(8))
	binary.Write(&tiff, binary.BigEndian, uint16(1))
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112))
	binary.Write(&tiff, binary.BigEndian, uint16(3))
	binary.Write(&tiff, binary.BigEndian, uint32(1))
	binary.Write(&tiff, binary.BigEndian, uint16(o))
	binary.Write(&tiff, binary.BigEndian, uint16(0))
	binary.Write(&tiff, binary.BigEndian, uint32(0))
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	out := append([]byte{}, data[:2]...)
	out = append(out, 0xFF, 0xE1, byte((len(payload)+2)>>8), byte(len(payload)+2))
	out = append(out, payload...)
	return append(out, data[2:]...)
}

// withJPEGICC inserts an APP2 ICC_PROFILE segment after the SOI.
func withJPEGICC(data, profile []byte) []byte {
	payload := append([]byte("ICC_PROFILE\x00\x01\x01"), profile...)
	out := append([]byte{}, data[:2]...)
	out = append(out, 0xFF, 0xE2, byte((len(payload)+2)>>8), byte(len(payload)+2))
	out = append(out, payload...)
	return append(out, data[2:]...)
}

// decodeNRGBA decodes a JPEG or PNG result into NRGBA.
func decodeNRGBA(t testing.TB, data []byte) *image.NRGBA {
	t.Helper()
	m, _, err := image.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	n := image.NewNRGBA(m.Bounds())
	for y := m.Bounds().Min.Y; y < m.Bounds().Max.Y; y++ {
		for x := m.Bounds().Min.X; x < m.Bounds().Max.X; x++ {
			n.Set(x-m.Bounds().Min.X, y-m.Bounds().Min.Y, m.At(x, y))
		}
	}
	return n
}

// chromaDiff returns the mean absolute difference of the Cb and Cr of a
// and b (computed from their RGB pixels).
func chromaDiff(a, b *image.NRGBA) float64 {
	sum := 0.0
	for i := 0; i < len(a.Pix); i += 4 {
		_, cb1, cr1 := color.RGBToYCbCr(a.Pix[i], a.Pix[i+1], a.Pix[i+2])
		_, cb2, cr2 := color.RGBToYCbCr(b.Pix[i], b.Pix[i+1], b.Pix[i+2])
		sum += math.Abs(float64(cb1)-float64(cb2)) + math.Abs(float64(cr1)-float64(cr2))
	}
	return sum / float64(len(a.Pix)/4) / 2
}

// comparePaths runs query on data through the fast path and through the RGB
// path and checks that both give the same size and nearly the same pixels:
// luma SSIM ≥ minSSIM and a mean chroma difference under 4 levels (the
// paths subsample chroma differently: the RGB path averages 2×2 output
// pixels, the fast path filters the source's chroma plane straight to the
// output's; both are as far from an exact resize of the original).
func comparePaths(t *testing.T, data []byte, query string, minSSIM float64) {
	t.Helper()
	p, err := ParseParams(query)
	require.NoError(t, err)
	if p.Quality == 0 {
		// Compare the pixel pipelines, not the encoder's noise at q85.
		p.Quality = 100
	}
	fast, err := TransformBytes(context.Background(), data, p, nil)
	slow, err2 := TransformBytes(context.Background(), data, p, forceRGB)
	if err != nil || err2 != nil {
		// A geometry error (a crop out of a small image) must be the same.
		require.Error(t, err, query)
		require.Error(t, err2, query)
		assert.Equal(t, err2.Error(), err.Error())
		return
	}
	require.True(t, fast.planar, "%s: fast path not taken (plan %s)", query, fast.Plan)
	require.False(t, slow.planar)
	assert.Equal(t, slow.Output, ImageInfo{Format: fast.Output.Format, Width: fast.Output.Width,
		Height: fast.Output.Height, Bytes: slow.Output.Bytes}, query)
	assert.Equal(t, slow.ContentType, fast.ContentType)
	info, err := Inspect(data)
	require.NoError(t, err)
	for _, r := range []*Result{fast, slow} {
		if onlyQuality(p) && info.Orientation <= 1 && !r.Original { // D18
			assert.LessOrEqual(t, len(r.Data), len(data))
		}
	}
	if fast.Original != slow.Original {
		// D18 on sizes that differ: a greyscale source gives a
		// one-component JPEG on the fast path, three on the RGB path.
		_, gray := jpegDecodeForTest(t, data).(*image.Gray)
		assert.True(t, gray, "%s: original served on one path only", query)
	}
	a, b := decodeNRGBA(t, fast.Data), decodeNRGBA(t, slow.Data)
	require.Equal(t, b.Rect, a.Rect, query)
	assert.Equal(t, image.Rect(0, 0, fast.Output.Width, fast.Output.Height), a.Rect)
	s, c := quality.SSIM(a, b), chromaDiff(a, b)
	assert.GreaterOrEqual(t, s, minSSIM, "%s: SSIM between the paths", query)
	if min(a.Rect.Dx(), a.Rect.Dy()) >= 8 { // a mean over a few samples says little
		assert.Less(t, c, 4.0, "%s: chroma difference between the paths", query)
	}
	if s < minSSIM || c >= 4 || testing.Verbose() {
		t.Logf("%s: %dx%d, SSIM %.4f, chroma difference %.2f", query, a.Rect.Dx(), a.Rect.Dy(), s, c)
	}
}

func jpegDecodeForTest(t *testing.T, data []byte) image.Image {
	m, err := jpeg.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	return m
}

// TestPlanarMatchesRGB: the Y′CbCr fast path gives the RGB path's output
// size and nearly its pixels (SSIM ≥ 0.99 on luma and on each of R, G, B)
// for every subsampling, odd sizes, crops, orientations and filters.
func TestPlanarMatchesRGB(t *testing.T) {
	t.Parallel()
	sources := map[string][]byte{
		"420-640x480":      encodeJPEG(t, texturedPhoto(640, 480), 92, 0),
		"420-odd-333x251":  encodeJPEG(t, texturedPhoto(333, 251), 92, 0),
		"444-301x199":      encodeOwnJPEG(t, texturedPhoto(301, 199), jpegenc.S444, false),
		"444-prog-400x300": encodeOwnJPEG(t, texturedPhoto(400, 300), jpegenc.S444, true),
		"gray-321x203":     encodeOwnJPEG(t, toGray(texturedPhoto(321, 203)), jpegenc.S420, false),
		"420-1x1":          encodeJPEG(t, texturedPhoto(1, 1), 92, 0),
		"420-3x2":          encodeJPEG(t, texturedPhoto(3, 2), 92, 0),
		"444-17x1":         encodeOwnJPEG(t, texturedPhoto(17, 1), jpegenc.S444, false),
	}
	for _, n := range []string{"video-001.q50.422.jpeg", "video-001.q50.440.jpeg", "video-001.q50.411.jpeg",
		"video-001.q50.410.progressive.jpeg", "video-005.gray.q50.2x2.jpeg", "odd-420.progressive.jpeg"} {
		b, err := os.ReadFile(filepath.Join("internal", "jpegdec", "testdata", n))
		require.NoError(t, err)
		sources[n] = b
	}
	queries := []string{
		"",           // re-encode only
		"quality=60", // D18 may return the original
		"width=0.5",
		"width=200",
		"width=97&height=61", // stretch, odd
		"width=120&height=120&fit=crop",
		"width=150&height=90&fit=cover",
		"height=77&resize-filter=bicubic",
		"width=111&resize-filter=nearest",
		"width=64&resize-filter=bilinear",
		"width=150&resize-filter=lanczos2",
		"crop=101,67,x13,y9",
		"crop=4:3,offset-x20,offset-y70&width=90",
		"precrop=90p,80p&crop=1:1&width=50",
		"trim=5,7,9,11&width=140",
		"orient=r&width=130",
		"orient=l&crop=60,40,x3,y5",
		"orient=h&width=101",
		"orient=v&height=55",
		"orient=5&width=71&height=71&fit=crop",
		"orient=7",
		"dpr=2&width=60",
	}
	for name, data := range sources {
		for _, q := range queries {
			t.Run(name+"/"+q, func(t *testing.T) {
				t.Parallel()
				minSSIM := 0.99
				if strings.HasPrefix(name, "video-001") || strings.HasPrefix(name, "odd-") {
					// Sharp, saturated q50 frames: the RGB path clamps
					// colours outside the RGB cube, which moves luma; the
					// fast path keeps the decoded luma.
					minSSIM = 0.98
				}
				if strings.Contains(q, "fit=crop") {
					// The fast path centres fit=crop's window to the
					// sub-pixel, the RGB path to whole source pixels: up to
					// half a pixel apart, a few hundredths of SSIM on 150-px
					// detailed frames (TestFitCropCentred checks the centre).
					minSSIM -= 0.05
				}
				comparePaths(t, data, q, minSSIM)
			})
		}
	}
}

// TestPlanarEXIFOrientation: EXIF orientations 1–8 are applied on the fast
// path as on the RGB path, alone and with a crop and a resize.
func TestPlanarEXIFOrientation(t *testing.T) {
	t.Parallel()
	base := map[string][]byte{
		"420": encodeJPEG(t, texturedPhoto(243, 171), 92, 0),
		"444": encodeOwnJPEG(t, texturedPhoto(243, 171), jpegenc.S444, false),
		// Large enough for shrink-on-load: width=100 decodes at 1/4,
		// with the chroma of 4:4:4 at 1/8.
		"444-shrink": encodeOwnJPEG(t, texturedPhoto(1203, 797), jpegenc.S444, true),
	}
	for name, data := range base {
		for o := 1; o <= 8; o++ {
			src := withOrientation(data, o)
			for _, q := range []string{"", "width=100", "crop=100,60,x7,y11&width=81", "width=90&height=90&fit=crop", "orient=r&width=77"} {
				if name == "444-shrink" && (q == "" || strings.HasPrefix(q, "crop")) {
					continue
				}
				t.Run(fmt.Sprintf("%s/exif%d/%s", name, o, q), func(t *testing.T) {
					t.Parallel()
					minSSIM := 0.99
					if strings.Contains(q, "fit=crop") {
						// The RGB path rounds the window to whole pixels,
						// and again to whole pixels of the reduced decode.
						minSSIM = 0.98
					}
					comparePaths(t, src, q, minSSIM)
				})
			}
		}
	}
}

// TestPlanarOrientationPixels: the fast path puts the quadrants where the
// orientation says (probed pixels, not only similarity to the RGB path).
func TestPlanarOrientationPixels(t *testing.T) {
	t.Parallel()
	src := encodeJPEG(t, quadrants(64, 48), 95, 6) // stored sideways: upright is 48×64
	res, img := run(t, src, "width=24", nil)
	require.True(t, res.planar)
	require.Equal(t, image.Rect(0, 0, 24, 32), img.Rect)
	// Orientation 6 rotates the stored image 90° clockwise: stored
	// top-left (red) goes to the top-right.
	for _, c := range []struct {
		x, y int
		want color.NRGBA
	}{{20, 3, red}, {20, 28, green}, {3, 3, blue}, {3, 28, yellow}} {
		got := img.NRGBAAt(c.x, c.y)
		assert.True(t, near(got, c.want, 40), "(%d,%d) = %v, want %v", c.x, c.y, got, c.want)
	}
}

// TestPlanarTaken: which jobs take the Y′CbCr fast path.
func TestPlanarTaken(t *testing.T) {
	t.Parallel()
	photo := texturedPhoto(200, 150)
	jpg := encodeJPEG(t, photo, 90, 0)
	swap, err := os.ReadFile(filepath.Join("internal", "icc", "testdata", "swap-rg.icc"))
	require.NoError(t, err)
	cmyk, err := os.ReadFile(filepath.Join("internal", "jpegdec", "testdata", "video-001.cmyk.jpeg"))
	require.NoError(t, err)
	rgbCoded, err := os.ReadFile(filepath.Join("internal", "jpegdec", "testdata", "video-001.rgb.jpeg"))
	require.NoError(t, err)
	cases := []struct {
		name, query string
		data        []byte
		opts        *TransformOptions
		planar      bool
	}{
		{"resize", "width=100", jpg, nil, true},
		{"crop+orient+resize", "crop=100,80,x5,y5&orient=r&width=50", jpg, nil, true},
		{"fit=crop", "width=50&height=50&fit=crop", jpg, nil, true},
		{"format=jpg", "width=100&format=jpg", jpg, nil, true},
		{"progressive output", "width=100&format=pjpg", jpg, nil, true},
		{"metadata", "width=100&metadata=copyright", jpg, nil, true},
		{"png output", "width=100&format=png", jpg, nil, false},
		{"colour step", "width=100&saturation=20", jpg, nil, false},
		{"sharpen", "width=100&sharpen=a1,r1,t0", jpg, nil, false},
		{"blur", "width=100&blur=2", jpg, nil, false},
		{"bw", "width=100&bw=atkinson&format=jpg", jpg, nil, false},
		{"pad", "width=100&pad=5", jpg, nil, false},
		{"canvas", "canvas=300,200", jpg, nil, false},
		{"trim-color", "trim-color=auto", jpg, nil, false},
		{"smart crop", "crop=1:1,smart", jpg, nil, false},
		{"optimize", "width=100&optimize=high", jpg, nil, false},
		{"custom step", "width=100", jpg, forceRGB, false},
		{"icc profile", "width=100", withJPEGICC(jpg, swap), nil, false},
		{"cmyk", "width=100", cmyk, nil, false},
		{"rgb-coded", "width=100", rgbCoded, nil, false},
		{"png source", "width=100&format=jpg", encodePNG(t, photo), nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(c.query)
			require.NoError(t, err)
			res, err := TransformBytes(context.Background(), c.data, p, c.opts)
			require.NoError(t, err)
			assert.Equal(t, c.planar, res.planar, "plan %s", res.Plan)
			_, _, err = image.Decode(bytes.NewReader(res.Data))
			assert.NoError(t, err)
		})
	}
}

// TestPlanarErrors: geometry errors are the RGB path's.
func TestPlanarErrors(t *testing.T) {
	t.Parallel()
	jpg := encodeJPEG(t, texturedPhoto(100, 80), 90, 0)
	for _, q := range []string{"crop=50,50,x60,y10", "trim=50p,0,50p,0"} {
		p, err := ParseParams(q)
		require.NoError(t, err)
		_, err1 := TransformBytes(context.Background(), jpg, p, nil)
		_, err2 := TransformBytes(context.Background(), jpg, p, forceRGB)
		require.Error(t, err1, q)
		require.Error(t, err2, q)
		assert.Equal(t, StatusCode(err2), StatusCode(err1), q)
	}
	// A cancelled context stops the job.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := ParseParams("width=50")
	require.NoError(t, err)
	job, err := prepare(jpg, p, "", TransformOptions{})
	require.NoError(t, err)
	_, err = job.run(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestPlanarMetadataAndOriginal: metadata=copyright and the D18 rule work
// on the fast path as on the RGB path.
func TestPlanarMetadataAndOriginal(t *testing.T) {
	t.Parallel()
	// A small, already well-compressed JPEG: quality=95 alone would grow it.
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, texturedPhoto(120, 90), &jpeg.Options{Quality: 40}))
	small := b.Bytes()
	res, _ := run(t, small, "quality=95", nil)
	assert.True(t, res.Original, "quality alone never makes the image larger (D18)")
	assert.Equal(t, small, res.Data)

	res, _ = run(t, withOrientation(small, 6), "quality=95", nil)
	assert.False(t, res.Original, "a rotated source is never served as is")
	assert.Equal(t, 90, res.Output.Width)
	assert.True(t, res.planar)
}

// TestFitCropCentred: fit=crop's window is centred in the source to the
// sub-pixel on the fast path: a symmetric source gives a symmetric output.
func TestFitCropCentred(t *testing.T) {
	t.Parallel()
	// 1000×300, symmetric about x = 500: a dark band at 470–530 and
	// gradients mirrored on either side.
	img := image.NewNRGBA(image.Rect(0, 0, 1000, 300))
	for y := range 300 {
		for x := range 1000 {
			d := math.Abs(float64(x) + 0.5 - 500)
			v := uint8(60 + d/500*190)
			if d < 30 {
				v = 20
			}
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	data := encodeOwnJPEG(t, img, jpegenc.S444, false)
	// 300 px high → 77: scale 77/300, the 77-px-wide box is 300 source
	// pixels wide at x = 350…650; placing the box at a whole pixel of the
	// 257-px-wide resized image first would shift it by 0.5 output pixel.
	res, out := run(t, data, "width=77&height=77&fit=crop&quality=100", nil)
	require.True(t, res.planar)
	require.Equal(t, 77, out.Rect.Dx())
	worst := 0
	for y := range 77 {
		for x := range 38 {
			a, b := out.NRGBAAt(x, y).R, out.NRGBAAt(76-x, y).R
			worst = max(worst, int(math.Abs(float64(a)-float64(b))))
		}
	}
	assert.LessOrEqual(t, worst, 2, "mirror-image columns differ by %d", worst)
}

// TestFitCropExact: on the fast path fit=crop's output matches an exact
// resampling of the centred window (x/image/draw with the window mapped to
// the sub-pixel), also after an orientation, and is at least as close to it
// as the RGB path's, which rounds the window to whole source pixels.
func TestFitCropExact(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("internal", "jpegdec", "testdata", "video-001.q50.420.jpeg"))
	require.NoError(t, err)
	src, err := imaging.ToNRGBA(context.Background(), jpegDecodeForTest(t, data)) // 150×103
	require.NoError(t, err)
	for _, c := range []struct {
		orient string
		o      int
		w, h   int
	}{{"", 1, 50, 50}, {"", 1, 71, 40}, {"&orient=5", 5, 71, 71}, {"&orient=r", 6, 40, 60}} {
		q := fmt.Sprintf("width=%d&height=%d&fit=crop&quality=100%s", c.w, c.h, c.orient)
		t.Run(q, func(t *testing.T) {
			t.Parallel()
			up, err := imaging.Orient(context.Background(), src, c.o)
			require.NoError(t, err)
			sw, sh := float64(up.Rect.Dx()), float64(up.Rect.Dy())
			s := math.Max(float64(c.w)/sw, float64(c.h)/sh)
			x0, y0 := (sw-float64(c.w)/s)/2, (sh-float64(c.h)/s)/2
			ref := image.NewNRGBA(image.Rect(0, 0, c.w, c.h))
			draw.CatmullRom.Transform(ref, f64.Aff3{s, 0, -s * x0, 0, s, -s * y0}, up, up.Bounds(), draw.Src, nil)
			res, fast := run(t, data, q, nil)
			require.True(t, res.planar)
			_, slow := run(t, data, q, forceRGB)
			sf, ss := quality.SSIM(fast, ref), quality.SSIM(slow, ref)
			t.Logf("SSIM against the exact crop: fast path %.4f, RGB path %.4f", sf, ss)
			assert.GreaterOrEqual(t, sf, 0.99)
			assert.GreaterOrEqual(t, sf, ss-0.002)
		})
	}
}

// TestCorpusPlanar: on the corpus photos (IMAGEOPTO_CORPUS), the fast path
// agrees with the RGB path (SSIM ≥ 0.99, same size) for the bench's
// workloads and a crop with an orientation, and is not taken for the
// photos with a wide-gamut profile.
func TestCorpusPlanar(t *testing.T) {
	dir := corpusDir(t)
	if raceSlowdown > 1 || testing.Short() {
		t.Skip("large photos: not under the race detector or -short")
	}
	for _, name := range []string{"kleiber.jpg", "volna.jpg", "path.jpg", "colorfulcups.jpg", "eveningglow.jpg", "ladybird-exif6.jpg", "ladybird-exif7.jpg"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		for _, q := range []string{"width=300", "width=1600", "width=400&height=400&fit=crop", "crop=3:2,offset-x30&orient=l&width=500"} {
			t.Run(name+"/"+q, func(t *testing.T) {
				comparePaths(t, data, q, 0.99)
			})
		}
	}
	for _, name := range []string{"eveningglow-adobergb.jpg", "eveningglow-prophoto.jpg"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		res, _ := run(t, data, "width=300", nil)
		assert.False(t, res.planar, "%s: a colour profile to convert needs RGB", name)
	}
}
