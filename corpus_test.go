package imageopto

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corpusDir returns the photo corpus built by ../shared/corpus/build.sh
// (IMAGEOPTO_CORPUS), or skips the test.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("IMAGEOPTO_CORPUS")
	if dir == "" {
		t.Skip("IMAGEOPTO_CORPUS not set (build it with ../shared/corpus/build.sh DIR)")
	}
	if _, err := os.Stat(filepath.Join(dir, "ladybird.jpg")); err != nil {
		t.Skipf("corpus incomplete: %v", err)
	}
	return dir
}

// lumaSSIM is a global (single-window) SSIM on luma, enough to tell "the same
// picture" from "rotated or mirrored".
func lumaSSIM(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	n := float64(len(a))
	ma, mb = ma/n, mb/n
	var va, vb, cov float64
	for i := range a {
		va += (a[i] - ma) * (a[i] - ma)
		vb += (b[i] - mb) * (b[i] - mb)
		cov += (a[i] - ma) * (b[i] - mb)
	}
	va, vb, cov = va/n, vb/n, cov/n
	const c1, c2 = 6.5025, 58.5225
	return ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
}

// TestCorpusEXIFOrientation: the corpus holds one photo stored eight ways
// with EXIF orientations 1–8; all must come out upright and alike.
func TestCorpusEXIFOrientation(t *testing.T) {
	dir := corpusDir(t)
	thumb := func(name string) []float64 {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		_, img := run(t, data, "width=96&height=60&fit=crop&format=png", nil)
		out := make([]float64, 0, 96*60)
		for i := 0; i < len(img.Pix); i += 4 {
			out = append(out, 0.299*float64(img.Pix[i])+0.587*float64(img.Pix[i+1])+0.114*float64(img.Pix[i+2]))
		}
		return out
	}
	ref := thumb("ladybird-exif1.jpg")
	for o := 2; o <= 8; o++ {
		name := "ladybird-exif" + string(rune('0'+o)) + ".jpg"
		got := thumb(name)
		s := lumaSSIM(ref, got)
		t.Logf("%s: SSIM %.4f against orientation 1", name, s)
		assert.Greater(t, s, 0.95, name)
	}
	// The test can fail: a mirrored copy is clearly different.
	data, err := os.ReadFile(filepath.Join(dir, "ladybird-exif1.jpg"))
	require.NoError(t, err)
	_, m := run(t, data, "width=96&height=60&fit=crop&format=png&orient=h", nil)
	mirrored := make([]float64, 0, 96*60)
	for i := 0; i < len(m.Pix); i += 4 {
		mirrored = append(mirrored, 0.299*float64(m.Pix[i])+0.587*float64(m.Pix[i+1])+0.114*float64(m.Pix[i+2]))
	}
	s := lumaSSIM(ref, mirrored)
	t.Logf("mirrored: SSIM %.4f", s)
	assert.Less(t, s, 0.95, "mirrored")
}

// TestCorpusTransforms runs every corpus image through a few typical
// queries: no errors, the planned size, sane output.
func TestCorpusTransforms(t *testing.T) {
	dir := corpusDir(t)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		for _, q := range []string{"width=300", "width=400&height=400&fit=crop", "crop=16:9,smart&width=320&sharpen=a1,r1,t0"} {
			p, err := ParseParams(q)
			require.NoError(t, err)
			res, err := TransformBytes(context.Background(), data, p, nil)
			require.NoError(t, err, "%s?%s", e.Name(), q)
			assert.Equal(t, [2]int{res.Plan.Width, res.Plan.Height}, [2]int{res.Output.Width, res.Output.Height}, "%s?%s", e.Name(), q)
			assert.LessOrEqual(t, res.Output.Width, 400)
			assert.Positive(t, res.Output.Bytes)
		}
	}
}
