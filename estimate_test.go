package imageopto

import (
	"context"
	"image"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/imageopto/imageopto/internal/jpegenc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEstimateCoversPlanarJobs: for jobs that stay in Y′CbCr planes, the
// admission estimate covers everything the job allocates (an upper bound of
// its peak, with the pools emptied first so that reused buffers count) and
// is far below the RGB path's estimate (issue 6 item 4: the estimate follows
// the decoded-at-scale size of the path that really runs).
func TestEstimateCoversPlanarJobs(t *testing.T) {
	img := texturedPhoto(3000, 2000)
	baseline := encodeOwnJPEG(t, img, jpegenc.S420, false)
	progressive := encodeOwnJPEG(t, img, jpegenc.S444, true)
	for _, tc := range []struct {
		name  string
		data  []byte
		query string
	}{
		{"baseline 4:2:0 to 1600", baseline, "width=1600"},
		{"progressive 4:4:4 to 1600", progressive, "width=1600"},
		{"progressive 4:4:4 to 300 (decoded at 1/4)", progressive, "width=300"},
		{"baseline crop", baseline, "width=400&height=400&fit=crop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseParams(tc.query)
			require.NoError(t, err)
			prep, err := prepare(tc.data, p, "", TransformOptions{})
			require.NoError(t, err)
			require.True(t, planarEligible(prep.info, prep.plan))
			est := EstimateMemory(prep.info, prep.plan)
			rgb := estimateRGBForTest(prep.info, prep.plan)

			runtime.GC()
			runtime.GC() // twice: sync.Pools drop their victims
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := prep.run(context.Background())
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			require.True(t, res.planar, "the planar path ran")
			allocated := int64(after.TotalAlloc - before.TotalAlloc)
			t.Logf("%s: allocated %.1f MiB, planar estimate %.1f MiB, RGB-path estimate %.1f MiB",
				tc.name, float64(allocated)/(1<<20), float64(est)/(1<<20), float64(rgb)/(1<<20))
			assert.LessOrEqual(t, allocated, est, "the estimate covers the job")
			assert.Less(t, est, rgb, "below the RGB path's estimate")
		})
	}
}

// estimateRGBForTest is EstimateMemory as if the job took the RGB path.
func estimateRGBForTest(info SourceInfo, plan *Plan) int64 {
	info.planes = false
	return EstimateMemory(info, plan)
}

// TestEstimateCoversRGBJobs: for jobs on the RGB path, with each built-in
// encoder, the admission estimate covers everything the job allocates
// (TotalAlloc over the job: an upper bound of its peak), so that the
// per-job ceiling refuses what would overrun it. Not parallel: it reads the
// process's allocation counter.
func TestEstimateCoversRGBJobs(t *testing.T) {
	photo := encodePNG(t, texturedPhoto(1600, 1200))
	jpeg := encodeOwnJPEG(t, texturedPhoto(1600, 1200), jpegenc.S420, false)
	noisy := image.NewNRGBA(image.Rect(0, 0, 1600, 1200)) // noise with alpha: PNG's worst case
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range noisy.Pix {
		noisy.Pix[i] = uint8(rng.Uint32())
	}
	alphaNoise := encodePNG(t, noisy)
	for i := 3; i < len(noisy.Pix); i += 4 {
		noisy.Pix[i] = 255
	}
	opaqueNoise := encodePNG(t, noisy)
	for _, tc := range []struct {
		name  string
		data  []byte
		query string
	}{
		{"PNG to PNG, full size", photo, "format=png"},
		{"PNG to PNG8", photo, "format=png8"},
		{"PNG to GIF", photo, "format=gif"},
		{"PNG to JPEG", photo, "format=jpeg"},
		{"PNG to progressive JPEG", photo, "format=pjpg"},
		{"PNG upscaled to PNG", photo, "width=2400&enable=upscale&format=png"},
		{"PNG blurred", photo, "blur=20&format=png"},
		{"PNG on a canvas", photo, "canvas=3000,2000&format=png"},
		{"JPEG sharpened to PNG", jpeg, "sharpen=a2,r2,t1&format=png"},
		{"JPEG padded", jpeg, "pad=300"},
		{"PNG to SVG", photo, "format=svg"},
		{"JPEG to SVG", jpeg, "format=svg&viewbox=1"},
		{"noise with alpha to SVG", alphaNoise, "format=svg"},
		{"PNG to MP4 (one frame)", photo, "format=mp4"},
		{"noise GIF to MP4 (I_PCM everywhere)", noiseGIF(t, 320, 240, 20), "format=mp4&quality=100"},
		{"GIF to MP4", graphicsGIF(t, 480, 360, 20, 4), "format=mp4"},
		{"PNG to lossy WebP (built-in)", photo, "format=webply"},
		{"noise to lossy WebP at quality 100", opaqueNoise, "format=webply&quality=100"},
		{"noise with alpha to lossy WebP", alphaNoise, "format=webply&quality=100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseParams(tc.query)
			require.NoError(t, err)
			prep, err := prepare(tc.data, p, "", TransformOptions{})
			require.NoError(t, err)
			est := EstimateMemory(prep.info, prep.plan)
			runtime.GC()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := prep.run(context.Background())
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			allocated := int64(after.TotalAlloc - before.TotalAlloc)
			t.Logf("%s → %dx%d %s: allocated %.1f MiB, estimate %.1f MiB (encoder %.1f MiB)", tc.name,
				res.Output.Width, res.Output.Height, res.Output.Format,
				float64(allocated)/(1<<20), float64(est)/(1<<20), float64(prep.plan.EncodeMemory)/(1<<20))
			assert.LessOrEqual(t, allocated, est, "the estimate covers the job")
		})
	}
}
