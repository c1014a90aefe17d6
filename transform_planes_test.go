package imageopto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
	"github.com/imageopto/imageopto/internal/jpegenc"
	"github.com/imageopto/imageopto/internal/quality"
)

func readTestdata(t testing.TB, path ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(path...))
	require.NoError(t, err)
	return data
}

// TestPlanesToRGBTaken: which jobs resample on planes and convert to RGB
// at the output size (planes without pure), which stay in planes to the
// encoder (pure), and which take the RGB path.
func TestPlanesToRGBTaken(t *testing.T) {
	t.Parallel()
	jpg := encodeOwnJPEG(t, texturedPhoto(400, 300), jpegenc.S420, false)
	swap := readTestdata(t, "internal", "icc", "testdata", "swap-rg.icc")
	tagged := withJPEGICC(jpg, swap)
	webp := readTestdata(t, "internal", "codec", "testdata", "video-001.lossy.webp")
	webpAlpha := readTestdata(t, "internal", "codec", "testdata", "yellow_rose.lossy-with-alpha.webp")
	webpLossless := readTestdata(t, "internal", "codec", "testdata", "gopher-doc.8bpp.lossless.webp")
	cases := []struct {
		name, query  string
		data         []byte
		opts         *TransformOptions
		planes, pure bool
	}{
		{"plain JPEG", "width=100", jpg, nil, true, true},
		{"tagged JPEG", "width=100", tagged, nil, true, false},
		{"tagged JPEG, rotated and cropped", "crop=200,300,x10,y10&orient=r&width=80", withOrientation(tagged, 6), nil, true, false},
		{"tagged JPEG upscaled", "width=800&enable=upscale", tagged, nil, false, false},
		{"tagged JPEG, trim-color", "trim-color=auto&width=100", tagged, nil, false, false},
		{"tagged JPEG, smart crop", "crop=1:1,smart&width=100", tagged, nil, false, false},
		{"tagged JPEG, saturation", "width=100&saturation=20", tagged, nil, false, false},
		{"tagged JPEG, custom step", "width=100", tagged, forceRGB, false, false},
		{"JPEG to PNG", "width=100&format=png", jpg, nil, true, false},
		{"JPEG to PNG, same size", "format=png", jpg, nil, false, false},
		{"JPEG optimize", "width=100&optimize=medium", jpg, nil, true, false},
		{"lossy WebP to JPEG", "width=60&format=jpg", webp, nil, true, false},
		{"lossy WebP to PNG", "width=60&format=png", webp, nil, true, false},
		{"lossy WebP with alpha", "width=60&format=png", webpAlpha, nil, false, false},
		{"JPEG to WebP (built-in encoder, from the planes)", "width=100&format=webp", jpg, nil, true, false},
		{"lossy WebP to WebP", "width=60&format=webp", webp, nil, true, false},
		{"lossless WebP", "width=60&format=png", webpLossless, nil, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, got := run(t, c.data, c.query, c.opts)
			assert.Equal(t, c.planes, res.planes, "planes; plan %s", res.Plan)
			assert.Equal(t, c.pure, res.planar, "pure planar; plan %s", res.Plan)
			if !c.planes || c.opts != nil {
				return
			}
			// Nearly the RGB path's pixels.
			_, want := run(t, c.data, c.query, forceRGB)
			require.Equal(t, want.Bounds(), got.Bounds())
			s := quality.SSIM(got, want)
			assert.GreaterOrEqual(t, s, 0.97, "SSIM against the RGB path")
			assert.Less(t, chromaDiff(got, want), 4.0)
		})
	}
}

// TestPlanesToRGBColour: the colour conversion runs on the small image:
// a red-green swapping profile shows its red as green on the planar path
// too, and the plan says where the conversion went.
func TestPlanesToRGBColour(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = []byte{220, 30, 30, 255}[i%4]
	}
	swap := readTestdata(t, "internal", "icc", "testdata", "swap-rg.icc")
	data := withJPEGICC(encodeOwnJPEG(t, img, jpegenc.S420, false), swap)
	for _, q := range []string{"width=16", "width=16&format=png", "width=64&format=png"} {
		res, out := run(t, data, q, nil)
		c := out.NRGBAAt(5, 5)
		assert.Greater(t, int(c.G), 150, "%s: %v (plan %s)", q, c, res.Plan)
		assert.Less(t, int(c.R), 90, "%s: %v", q, c)
	}
	res, _ := run(t, data, "width=16", nil)
	assert.Regexp(t, `^resize\(16x12 lanczos3 decoded at 1/2\) > to-srgb\(.*\) → jpeg q85 16x12$`, res.Plan.String())
	res, _ = run(t, data, "width=128&enable=upscale", nil)
	assert.Regexp(t, `^to-srgb\(.*\) > resize\(128x96`, res.Plan.String(), "upscaled: converted before")
}

// TestEstimateCoversPlanesToRGB: the planar estimate covers the jobs that
// convert to RGB at the output size (TestEstimateCoversPlanarJobs's
// pattern).
func TestEstimateCoversPlanesToRGB(t *testing.T) {
	swap := readTestdata(t, "internal", "icc", "testdata", "swap-rg.icc")
	jpg := encodeOwnJPEG(t, texturedPhoto(2400, 1600), jpegenc.S420, false)
	webp := readTestdata(t, "internal", "codec", "testdata", "blue-purple-pink.lossy.webp")
	for _, tc := range []struct {
		name  string
		data  []byte
		query string
	}{
		{"tagged JPEG to 1600", withJPEGICC(jpg, swap), "width=1600"},
		{"tagged JPEG to 300", withJPEGICC(jpg, swap), "width=300"},
		{"JPEG to PNG 1000", jpg, "width=1000&format=png"},
		{"lossy WebP to JPEG", webp, "width=100&format=jpg"},
		{"JPEG to WebP 1000", jpg, "width=1000&format=webp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseParams(tc.query)
			require.NoError(t, err)
			prep, err := prepare(tc.data, p, "", TransformOptions{})
			require.NoError(t, err)
			require.Equal(t, planarToRGB, planarKindOf(prep.info, prep.plan), "plan %s", prep.plan)
			est := EstimateMemory(prep.info, prep.plan)
			runtime.GC()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := prep.run(context.Background())
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			require.True(t, res.planes)
			allocated := int64(after.TotalAlloc - before.TotalAlloc)
			t.Logf("%s: allocated %.1f MiB, estimate %.1f MiB, RGB-path estimate %.1f MiB", tc.name,
				float64(allocated)/(1<<20), float64(est)/(1<<20), float64(estimateRGBForTest(prep.info, prep.plan))/(1<<20))
			assert.LessOrEqual(t, allocated, est, "the estimate covers the job")
		})
	}
}

// TestThreadsSameBytes: with a second goroutine (TransformOptions.Threads
// 2) the bytes are those of the one-goroutine run. Sources: a large lossy
// WebP decoded as a pipeline, with and without the loop filter (shrink
// under and over codec.SkipFilterShrink); JPEG (4:2:0, 4:4:4, grey, with
// each EXIF orientation, tagged with a colour profile, restart intervals)
// through the planar paths (JPEG output straight from the planes; RGB at
// the output size with the profile's conversion in bands, and the JPEG
// encoder's second goroutine) and the RGB path; and the photos of
// $IMAGEOPTO_CORPUS when set.
func TestThreadsSameBytes(t *testing.T) {
	t.Parallel()
	photo := texturedPhoto(1600, 1000)
	src := encodeJPEG(t, photo, 90, 0)
	p, err := ParseParams("format=webp&quality=90")
	require.NoError(t, err)
	res, err := TransformBytes(context.Background(), src, p, nil)
	require.NoError(t, err)
	require.Equal(t, WebP, res.Output.Format)
	swap := readTestdata(t, "internal", "icc", "testdata", "swap-rg.icc")
	j420 := encodeOwnJPEG(t, photo, jpegenc.S420, false)
	j444 := encodeOwnJPEG(t, photo, jpegenc.S444, false)
	grey := encodeOwnJPEG(t, toGray(photo), jpegenc.S420, false)
	type tc struct {
		name string
		src  []byte
		q    string
	}
	cases := []tc{
		{"webp", res.Data, "width=800"}, {"webp", res.Data, "width=150"}, {"webp", res.Data, "width=800&format=png"},
		{"jpeg", src, "width=700"}, {"jpeg", src, "width=700&format=png"}, {"jpeg", src, "width=500&orient=6&format=webp"},
		{"jpeg 4:4:4 tagged", withJPEGICC(j444, swap), "width=900"},
		{"grey tagged", withJPEGICC(grey, swap), "width=900"},
		{"grey", grey, "width=610"},
		{"jpeg 4:2:0, RGB path", j420, "width=800&saturation=20"},
		{"jpeg 4:2:0, progressive output", withJPEGICC(j420, swap), "width=777&format=pjpg"},
	}
	for o := 1; o <= 8; o++ {
		cases = append(cases,
			tc{fmt.Sprintf("4:2:0 exif %d", o), withOrientation(j420, o), "width=1001"},
			tc{fmt.Sprintf("4:2:0 tagged exif %d", o), withOrientation(withJPEGICC(j420, swap), o), "width=999"})
	}
	for _, f := range []string{"restart-1b-420.jpeg", "restart-1b-gray.jpeg", "restart-3b-411-odd.jpeg", "restart-row-422.jpeg"} {
		data := readTestdata(t, "internal", "jpegdec", "testdata", f)
		cases = append(cases, tc{f, data, "width=97"}, tc{f + " tagged", withJPEGICC(data, swap), "width=64&format=png"})
	}
	if dir := os.Getenv("IMAGEOPTO_CORPUS"); dir != "" {
		for _, name := range []string{"iphone-p3-exif6.jpg", "prophoto24.jpg", "eveningglow-adobergb.jpg", "ladybird-exif5.jpg", "kleiber.jpg"} {
			if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				cases = append(cases, tc{name, data, "width=1600"}, tc{name, data, "width=640&format=png"})
			}
		}
	}
	for _, c := range cases {
		p, err := ParseParams(c.q)
		require.NoError(t, err)
		one, err := TransformBytes(context.Background(), c.src, p, nil)
		require.NoError(t, err, "%s %s", c.name, c.q)
		two, err := TransformBytes(context.Background(), c.src, p, &TransformOptions{Threads: 2})
		require.NoError(t, err, "%s %s", c.name, c.q)
		assert.True(t, bytes.Equal(one.Data, two.Data), "%s %s: Threads 2 wrote other bytes (plan %s)", c.name, c.q, one.Plan)
	}
}

// TestThreadsCancel: a job with a second goroutine (TransformOptions.Threads
// 2), cancelled at any of a spread of its polls, returns an error that
// wraps context.Canceled (neither ErrCorrupt nor ErrInternal), and no
// goroutine outlives it. Not parallel: it counts goroutines.
func TestThreadsCancel(t *testing.T) {
	photo := texturedPhoto(1200, 800)
	swap := readTestdata(t, "internal", "icc", "testdata", "swap-rg.icc")
	jpg := encodeOwnJPEG(t, photo, jpegenc.S420, false)
	before := runtime.NumGoroutine()
	for _, tc := range []struct {
		name, query string
		data        []byte
	}{
		{"planar JPEG", "width=700", jpg},
		{"tagged, RGB at the output size", "width=700", withJPEGICC(jpg, swap)},
		{"to PNG", "width=500&format=png", withJPEGICC(jpg, swap)},
		{"RGB path", "width=700&saturation=10", jpg},
	} {
		p, err := ParseParams(tc.query)
		require.NoError(t, err)
		opts := &TransformOptions{Threads: 2}
		polls := polltest.Never()
		_, err = TransformBytes(polls, tc.data, p, opts)
		require.NoError(t, err, tc.name)
		n := polls.Polls()
		for k := 0; k < n; k += max(n/16, 1) {
			_, err := TransformBytes(polltest.CancelAfter(k), tc.data, p, opts)
			if !errors.Is(err, context.Canceled) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrInternal) {
				t.Errorf("%s: cancelled at poll %d of %d: %v", tc.name, k+1, n, err)
			}
		}
	}
	// Every goroutine is joined before TransformBytes returns; allow the
	// runtime a moment for goroutines of other origins.
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines after, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
