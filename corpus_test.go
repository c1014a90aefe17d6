package imageopto

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto/internal/quality"
)

// corpusDir returns the photo corpus built by scripts/corpus.sh
// (IMAGEOPTO_CORPUS), or skips the test.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("IMAGEOPTO_CORPUS")
	if dir == "" {
		t.Skip("IMAGEOPTO_CORPUS not set (build it with scripts/corpus.sh DIR)")
	}
	if _, err := os.Stat(filepath.Join(dir, "ladybird.jpg")); err != nil {
		t.Skipf("corpus incomplete: %v", err)
	}
	return dir
}

// TestCorpusEXIFOrientation: the corpus holds one photo stored eight ways
// with EXIF orientations 1–8; all must come out upright and alike.
func TestCorpusEXIFOrientation(t *testing.T) {
	dir := corpusDir(t)
	thumb := func(name string) *image.NRGBA {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		_, img := run(t, data, "width=96&height=60&fit=crop&format=png", nil)
		return img
	}
	ref := thumb("ladybird-exif1.jpg")
	for o := 2; o <= 8; o++ {
		name := "ladybird-exif" + string(rune('0'+o)) + ".jpg"
		s := quality.SSIM(ref, thumb(name))
		t.Logf("%s: SSIM %.4f against orientation 1", name, s)
		assert.Greater(t, s, 0.95, name)
	}
	// The test can fail: a mirrored copy is clearly different.
	data, err := os.ReadFile(filepath.Join(dir, "ladybird-exif1.jpg"))
	require.NoError(t, err)
	_, mirrored := run(t, data, "width=96&height=60&fit=crop&format=png&orient=h", nil)
	s := quality.SSIM(ref, mirrored)
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
