package imageopto

import (
	"context"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaintPNG: a cut-out whose background is nearly transparent noise
// compresses more than twice better, and looks the same composed onto black
// and onto white (at most one level apart); an image with only a thin faint
// edge keeps its colours exactly.
func TestFaintPNG(t *testing.T) {
	t.Parallel()
	noisy := func(faintRows int) *image.NRGBA {
		rng := rand.New(rand.NewPCG(1, uint64(faintRows))) // one per subtest: they run in parallel
		m := image.NewNRGBA(image.Rect(0, 0, 200, 200))
		for y := range 200 {
			for x := range 200 {
				c := color.NRGBA{uint8(x), uint8(y), 90, 255}
				if y < faintRows {
					c = color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(1 + rng.IntN(4))}
				}
				m.SetNRGBA(x, y, c)
			}
		}
		return m
	}
	compose := func(m *image.NRGBA, bg int) []int {
		out := make([]int, 0, len(m.Pix))
		for i := 0; i < len(m.Pix); i += 4 {
			a := int(m.Pix[i+3])
			for k := range 3 {
				out = append(out, (int(m.Pix[i+k])*a+bg*(255-a)+127)/255)
			}
		}
		return out
	}
	colours := func(m *image.NRGBA) int {
		seen := map[[4]uint8]bool{}
		for i := 0; i < len(m.Pix); i += 4 {
			seen[[4]uint8(m.Pix[i:i+4])] = true
		}
		return len(seen)
	}
	for _, tc := range []struct {
		name      string
		faintRows int
		changed   bool
	}{
		{"mostly faint", 150, true},
		{"faint edge", 20, false},
		{"opaque", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := noisy(tc.faintRows)
			m := image.NewNRGBA(src.Rect)
			copy(m.Pix, src.Pix)
			require.NoError(t, faintPNG(context.Background(), m))
			if !tc.changed {
				assert.Equal(t, src.Pix, m.Pix)
				return
			}
			for _, bg := range []int{0, 255} {
				a, b := compose(src, bg), compose(m, bg)
				worst := 0
				for i := range a {
					worst = max(worst, abs(a[i]-b[i]))
				}
				assert.LessOrEqual(t, worst, 1, "composed onto %d", bg)
			}
			before, after := encodePNG(t, src), encodePNG(t, m)
			t.Logf("%d → %d colours, PNG %d → %d bytes", colours(src), colours(m), len(before), len(after))
			assert.Less(t, colours(m), colours(src)/3)
			assert.Less(t, 2*len(after), len(before))
		})
	}
}
