package imageopto

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withICCP inserts an iCCP chunk carrying profile after a PNG's IHDR.
func withICCP(t testing.TB, pngData, profile []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, err := zw.Write(profile)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	body := append([]byte("test profile\x00\x00"), z.Bytes()...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	typed := append([]byte("iCCP"), body...)
	chunk = append(chunk, typed...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(typed))
	const ihdrEnd = 8 + 8 + 13 + 4
	out := append([]byte{}, pngData[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, pngData[ihdrEnd:]...)
}

// TestColorProfiles: embedded profiles are applied before everything else;
// broken ones are ignored with a warning (reliability §5.2 #19).
func TestColorProfiles(t *testing.T) {
	t.Parallel()
	swap, err := os.ReadFile(filepath.Join("internal", "icc", "testdata", "swap-rg.icc"))
	require.NoError(t, err)
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = []byte{230, 20, 20, 255}[i%4] // red
	}
	plain := encodePNG(t, img)

	res, out := run(t, withICCP(t, plain, swap), "width=4", nil)
	assert.Contains(t, res.Plan.String(), "to-srgb(")
	c := out.NRGBAAt(1, 1)
	assert.Greater(t, int(c.G), 150, "a red-green swapping profile shows red pixels as green: %v", c)
	assert.Less(t, int(c.R), 100, "%v", c)

	// Untagged: treated as sRGB, no conversion step.
	res, out = run(t, plain, "width=4", nil)
	assert.NotContains(t, res.Plan.String(), "to-srgb(")
	assert.Equal(t, color.NRGBA{230, 20, 20, 255}, out.NRGBAAt(1, 1))

	// A broken profile is ignored with a warning, never an error.
	res, out = run(t, withICCP(t, plain, append([]byte{}, swap[:60]...)), "width=4", nil)
	assert.NotContains(t, res.Plan.String(), "to-srgb(")
	assert.Contains(t, strings.Join(res.Warnings, ";"), "colour profile ignored")
	assert.Equal(t, color.NRGBA{230, 20, 20, 255}, out.NRGBAAt(1, 1))
}

// TestCorpusColorProfiles: the corpus photos with wide-gamut profiles come
// out close to the sRGB original; the red/green-swapping one with its true
// colours.
func TestCorpusColorProfiles(t *testing.T) {
	dir := corpusDir(t)
	cases := []struct{ tagged, original string }{
		{"eveningglow-prophoto.jpg", "eveningglow.jpg"},
		{"eveningglow-adobergb.jpg", "eveningglow.jpg"},
		{"ladybird-swapped-rg.jpg", "ladybird.jpg"},
		{"gulp-widegamut.png", "gulp.png"},
	}
	load := func(name string) *image.NRGBA {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		_, img := run(t, data, "width=320&format=png", nil)
		return img
	}
	for _, c := range cases {
		a, b := load(c.tagged), load(c.original)
		require.Equal(t, a.Bounds(), b.Bounds())
		var sum float64
		n := 0
		for i := 0; i < len(a.Pix); i += 4 {
			if a.Pix[i+3] < 128 {
				continue
			}
			for k := range 3 {
				d := float64(a.Pix[i+k]) - float64(b.Pix[i+k])
				sum += d * d
			}
			n += 3
		}
		rms := 0.0
		if n > 0 {
			rms = math.Sqrt(sum / float64(n))
		}
		t.Logf("%s vs %s: RMS difference %.2f levels", c.tagged, c.original, rms)
		assert.Less(t, rms, 6.0, c.tagged)
	}
}
