package imageopto

import (
	"context"
	"image"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlanLossless pins where a plan chooses lossless encoding (issue 14,
// spec §2.5 and §4.3): a bilevel result on negotiated output, and a
// lossless source under format=auto, are lossless in the negotiated format
// — lossless WebP, or PNG where AVIF (which no codec here writes
// losslessly) was negotiated — while photos stay lossy.
func TestPlanLossless(t *testing.T) {
	t.Parallel()
	codecs := []Codec{
		{Format: WebP, Encode: func(context.Context, io.Writer, *image.NRGBA, EncodeOptions) error { return nil }},
		{Format: AVIF, Encode: func(context.Context, io.Writer, *image.NRGBA, EncodeOptions) error { return nil }},
	}
	alphaPNG := SourceInfo{Format: PNG, Width: 10, Height: 10, Frames: 1, HasAlpha: true, Lossless: true}
	cases := []struct {
		name       string
		in         SourceInfo
		query      string
		negotiated ImageFormat
		format     ImageFormat
		lossless   bool
	}{
		{"the issue's case", src(JPEG, 10, 10), "bw=threshold&format=auto", AVIF, PNG, false},
		{"bw, WebP negotiated", src(JPEG, 10, 10), "bw=threshold&format=auto", WebP, WebP, true},
		{"bw, nothing negotiated", src(JPEG, 10, 10), "bw=atkinson&format=auto", "", PNG, false},
		{"bw, auto=avif", src(JPEG, 10, 10), "bw=atkinson&auto=avif", AVIF, PNG, false},
		{"bw over a lossy base format", src(JPEG, 10, 10), "bw=threshold&format=pjpg&auto=webp", WebP, WebP, true},
		{"bw, webply named and negotiated", src(JPEG, 10, 10), "bw=threshold&format=webply&auto=webp", WebP, WebP, false},
		{"bw, avif named and negotiated", src(JPEG, 10, 10), "bw=threshold&format=avif&auto=avif", AVIF, AVIF, false},
		{"bw, format=webp", src(JPEG, 10, 10), "bw=threshold&format=webp", "", WebP, true},
		{"bw, format=webply asked", src(JPEG, 10, 10), "bw=threshold&format=webply", "", WebP, false},
		{"bw, format=avif asked", src(JPEG, 10, 10), "bw=threshold&format=avif", "", AVIF, false},
		{"photo, AVIF", src(JPEG, 10, 10), "format=auto", AVIF, AVIF, false},
		{"photo, WebP", src(JPEG, 10, 10), "format=auto", WebP, WebP, false},
		{"photo, nothing negotiated", src(JPEG, 10, 10), "format=auto", "", JPEG, false},
		{"lossless source, AVIF", src(PNG, 10, 10), "format=auto", AVIF, PNG, false},
		{"lossless source with alpha, AVIF", alphaPNG, "format=auto&width=5", AVIF, PNG, false},
		{"lossless source, WebP", src(PNG, 10, 10), "format=auto", WebP, WebP, true},
		{"lossless source, auto=webp", src(GIF, 10, 10), "auto=webp", WebP, WebP, true},
		{"lossless source, auto=avif (Fastly: lossy)", src(PNG, 10, 10), "auto=avif", AVIF, AVIF, false},
		{"lossless source, lossy base format", src(PNG, 10, 10), "format=pjpg&auto=webp", WebP, WebP, false},
		{"lossless source, format=webp&auto=webp", src(PNG, 10, 10), "format=webp&auto=webp", WebP, WebP, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(c.query)
			require.NoError(t, err)
			pl, err := NewPlan(p, c.in, c.negotiated, &PlanOptions{Codecs: codecs})
			require.NoError(t, err)
			assert.Equal(t, c.format, pl.Format, "%s", pl)
			assert.Equal(t, c.lossless, pl.Lossless)
			if c.format == PNG {
				assert.False(t, pl.Palette, "exact colours, never quantised")
			}
		})
	}
}
