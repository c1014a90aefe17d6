package imageopto

import (
	"bytes"
	"context"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto/internal/jpegenc"
)

// srgbToLab converts an 8-bit sRGB colour to CIELAB (D65 white).
func srgbToLab(r, g, b uint8) (L, A, B float64) {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	rl, gl, bl := lin(r), lin(g), lin(b)
	x := (0.4124564*rl + 0.3575761*gl + 0.1804375*bl) / 0.95047
	y := 0.2126729*rl + 0.7151522*gl + 0.0721750*bl
	z := (0.0193339*rl + 0.1191920*gl + 0.9503041*bl) / 1.08883
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	fx, fy, fz := f(x), f(y), f(z)
	return 116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)
}

// ciede2000 is the CIEDE2000 colour difference (kL = kC = kH = 1).
func ciede2000(l1, a1, b1, l2, a2, b2 float64) float64 {
	rad := math.Pi / 180
	c1, c2 := math.Hypot(a1, b1), math.Hypot(a2, b2)
	cm := (c1 + c2) / 2
	c7 := math.Pow(cm, 7)
	g := 0.5 * (1 - math.Sqrt(c7/(c7+math.Pow(25, 7))))
	a1p, a2p := (1+g)*a1, (1+g)*a2
	c1p, c2p := math.Hypot(a1p, b1), math.Hypot(a2p, b2)
	hue := func(b, a float64) float64 {
		if a == 0 && b == 0 {
			return 0
		}
		h := math.Atan2(b, a) / rad
		if h < 0 {
			h += 360
		}
		return h
	}
	h1p, h2p := hue(b1, a1p), hue(b2, a2p)
	dL, dC := l2-l1, c2p-c1p
	var dh float64
	switch {
	case c1p*c2p == 0:
		dh = 0
	case math.Abs(h2p-h1p) <= 180:
		dh = h2p - h1p
	case h2p-h1p > 180:
		dh = h2p - h1p - 360
	default:
		dh = h2p - h1p + 360
	}
	dH := 2 * math.Sqrt(c1p*c2p) * math.Sin(dh/2*rad)
	lm, cmp := (l1+l2)/2, (c1p+c2p)/2
	var hm float64
	switch {
	case c1p*c2p == 0:
		hm = h1p + h2p
	case math.Abs(h1p-h2p) <= 180:
		hm = (h1p + h2p) / 2
	case h1p+h2p < 360:
		hm = (h1p + h2p + 360) / 2
	default:
		hm = (h1p + h2p - 360) / 2
	}
	t := 1 - 0.17*math.Cos((hm-30)*rad) + 0.24*math.Cos(2*hm*rad) + 0.32*math.Cos((3*hm+6)*rad) - 0.20*math.Cos((4*hm-63)*rad)
	dTheta := 30 * math.Exp(-math.Pow((hm-275)/25, 2))
	cm7 := math.Pow(cmp, 7)
	rc := 2 * math.Sqrt(cm7/(cm7+math.Pow(25, 7)))
	sl := 1 + 0.015*math.Pow(lm-50, 2)/math.Sqrt(20+math.Pow(lm-50, 2))
	sc := 1 + 0.045*cmp
	sh := 1 + 0.015*cmp*t
	rt := -math.Sin(2*dTheta*rad) * rc
	return math.Sqrt(math.Pow(dL/sl, 2) + math.Pow(dC/sc, 2) + math.Pow(dH/sh, 2) + rt*(dC/sc)*(dH/sh))
}

// TestCIEDE2000 checks the formula on pairs from Sharma, Wu and Dalal's
// test data for CIEDE2000.
func TestCIEDE2000(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ l1, a1, b1, l2, a2, b2, want float64 }{
		{50, 2.6772, -79.7751, 50, 0, -82.7485, 2.0425},
		{50, 3.1571, -77.2803, 50, 0, -82.7485, 2.8615},
		{50, -1.3802, -84.2814, 50, 0, -82.7485, 1.0000},
		{50, 2.5, 0, 73, 25, -18, 27.1492},
		{60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644},
		{22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373},
	} {
		got := ciede2000(c.l1, c.a1, c.b1, c.l2, c.a2, c.b2)
		assert.InDelta(t, c.want, got, 1e-4, "%+v", c)
	}
}

// deltaEStats compares two opaque images of the same size: the mean, the
// 99th percentile and the largest CIEDE2000 difference.
func deltaEStats(a, b *image.NRGBA) (mean, p99, worst float64) {
	var ds []float64
	for i := 0; i+3 < len(a.Pix); i += 4 {
		l1, a1, b1 := srgbToLab(a.Pix[i], a.Pix[i+1], a.Pix[i+2])
		l2, a2, b2 := srgbToLab(b.Pix[i], b.Pix[i+1], b.Pix[i+2])
		d := ciede2000(l1, a1, b1, l2, a2, b2)
		ds = append(ds, d)
		mean += d
	}
	slices.Sort(ds)
	return mean / float64(len(ds)), ds[len(ds)*99/100], ds[len(ds)-1]
}

// earlyColorRun runs the job the way plans ran before the colour profile
// moved after the resize: the conversion first, at the decoded resolution,
// on the RGB path. It returns the image before encoding.
func earlyColorRun(t testing.TB, data []byte, query string) *image.NRGBA {
	t.Helper()
	p, err := ParseParams(query)
	require.NoError(t, err)
	prep, err := prepare(data, p, "", TransformOptions{})
	require.NoError(t, err)
	plan := *prep.plan
	var color Step
	var rest []Step
	for _, s := range plan.Steps {
		if _, ok := s.(*colorOp); ok {
			color = s
		} else {
			rest = append(rest, s)
		}
	}
	require.NotNil(t, color, "plan %s has a colour step", prep.plan)
	plan.Steps, plan.layout = append([]Step{color}, rest...), nil
	img, err := prep.dec.decode(context.Background(), plan.DecodeScale)
	require.NoError(t, err)
	img, err = plan.Run(context.Background(), img)
	require.NoError(t, err)
	return img
}

// TestLateColorDeltaE: converting the colour profile after the resize
// instead of before changes the result by a fraction of a just-noticeable
// difference (CIEDE2000 ≈ 1) on average. Measured on a synthetic photo with a linear
// (gamma 1.0) profile, the worst case for resampling in the source's
// encoding, and on the corpus's tagged photos when IMAGEOPTO_CORPUS is set.
// "late" is what runs now (the planar path for JPEG); "late, RGB path" isolates the
// effect of the order from that of the path.
func TestLateColorDeltaE(t *testing.T) {
	linear, err := os.ReadFile(filepath.Join("internal", "icc", "testdata", "linear-srgb.icc"))
	require.NoError(t, err)
	gamma22, err := os.ReadFile(filepath.Join("internal", "icc", "testdata", "gamma22-srgb.icc"))
	require.NoError(t, err)
	pw, ph := 1200, 800
	if raceSlowdown > 1 {
		pw, ph = 600, 400
	}
	photo := encodeOwnJPEG(t, texturedPhoto(pw, ph), jpegenc.S420, false)
	type source struct {
		name    string
		data    []byte
		queries []string
	}
	photoQueries := []string{"width=300&format=png", "width=800&format=png", "width=800&quality=100"}
	small := []string{"width=300&format=png", "width=500&quality=100"}
	sources := []source{
		{"synthetic, linear profile", withJPEGICC(photo, linear), small},
		{"synthetic, gamma 2.2 profile", withJPEGICC(photo, gamma22), small},
	}
	if dir := os.Getenv("IMAGEOPTO_CORPUS"); dir != "" {
		for _, name := range []string{"eveningglow-prophoto.jpg", "eveningglow-adobergb.jpg", "ladybird-swapped-rg.jpg", "iphone-p3-exif6.jpg", "prophoto24.jpg", "gulp-widegamut.png"} {
			if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				sources = append(sources, source{name, data, photoQueries})
			}
		}
	}
	for _, src := range sources {
		for _, query := range src.queries {
			res, late := run(t, src.data, query, nil)
			require.Contains(t, res.Plan.String(), "to-srgb(")
			require.True(t, strings.HasSuffix(res.Plan.Steps[len(res.Plan.Steps)-1].String(), ")") &&
				strings.HasPrefix(res.Plan.Steps[len(res.Plan.Steps)-1].String(), "to-srgb("),
				"the conversion is the last step: %s", res.Plan)
			_, lateRGB := run(t, src.data, query, forceRGB)
			early := earlyColorRun(t, src.data, query)
			if res.Output.Format == JPEG { // the same encoder's loss on both sides
				var b bytes.Buffer
				require.NoError(t, writeJPEG(context.Background(), &b, early, EncodeOptions{Quality: 100}))
				early = decodeNRGBA(t, b.Bytes())
			}
			require.Equal(t, early.Bounds(), late.Bounds())
			opaque := !strings.HasSuffix(src.name, ".png")
			if !opaque { // compare colours where they show
				for _, m := range []*image.NRGBA{late, lateRGB, early} {
					flattenForTest(m)
				}
			}
			mean, p99, worst := deltaEStats(early, late)
			rmean, rp99, rworst := deltaEStats(early, lateRGB)
			t.Logf("%-30s %-22s planes=%-5v ΔE00 late vs early: mean %.3f p99 %.2f max %.2f; late on the RGB path: mean %.3f p99 %.2f max %.2f",
				src.name, query, res.planes, mean, p99, worst, rmean, rp99, rworst)
			// Wide-gamut photos differ most where colours are clipped to
			// sRGB's gamut (clipping before or after filtering); ProPhoto
			// is the widest: a mean of 0.95, a p99 of 3.4 (2026-12-05).
			// JPEG outputs are compared with the early image encoded
			// alike (q100, 4:2:0).
			assert.Less(t, rmean, 1.0, "%s %s: the order alone", src.name, query)
			assert.Less(t, mean, 1.2, "%s %s", src.name, query)
			assert.Less(t, p99, 4.0, "%s %s", src.name, query)
			if opaque && strings.HasSuffix(src.name, ".jpg") {
				assert.True(t, res.planes, "%s: a tagged JPEG runs on planes", src.name)
			}
		}
	}
}

// flattenForTest composes m onto white in place.
func flattenForTest(m *image.NRGBA) {
	for i := 0; i+3 < len(m.Pix); i += 4 {
		a := int(m.Pix[i+3])
		for k := range 3 {
			m.Pix[i+k] = uint8((int(m.Pix[i+k])*a + 255*(255-a) + 127) / 255)
		}
		m.Pix[i+3] = 255
	}
}
