package imageopto

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// src returns a header-only source of the given size.
func src(f ImageFormat, w, h int) SourceInfo {
	return SourceInfo{Format: f, Width: w, Height: h, Frames: 1, Bytes: 1000}
}

// TestPlanWorkedExamples pins every worked example of spec §2 and §3 that
// concerns geometry: input size and query → output size.
func TestPlanWorkedExamples(t *testing.T) {
	t.Parallel()
	upscale := &PlanOptions{Upscale: true}
	cases := []struct {
		spec   string // section of the spec
		in     SourceInfo
		query  string
		opts   *PlanOptions
		w, h   int
		format ImageFormat
	}{
		// §2.30 width (src 1200×800)
		{"2.30", src(JPEG, 1200, 800), "width=300", nil, 300, 200, JPEG},
		{"2.30", src(JPEG, 1200, 800), "width=0.5", nil, 600, 400, JPEG},
		{"2.30", src(JPEG, 1200, 800), "width=50p", nil, 600, 400, JPEG},
		{"2.30", src(JPEG, 1200, 800), "width=333", nil, 333, 222, JPEG},
		{"2.30", src(JPEG, 1200, 800), "width=250p", nil, 1200, 800, JPEG},
		{"2.30", src(JPEG, 1200, 800), "width=250p", upscale, 3000, 2000, JPEG},
		{"2.30", src(JPEG, 1200, 800), "width=200&dpr=2", nil, 400, 267, JPEG},
		// §2.15 height
		{"2.15", src(JPEG, 1200, 800), "height=200", nil, 300, 200, JPEG},
		{"2.15", src(JPEG, 1200, 800), "height=0.5", nil, 600, 400, JPEG},
		{"2.15", src(JPEG, 1200, 800), "height=150p", nil, 1200, 800, JPEG},
		{"2.15", src(JPEG, 1200, 800), "height=150p", upscale, 1800, 1200, JPEG},
		// §2.12 fit (src 1200×800, width=300&height=300)
		{"2.12", src(JPEG, 1200, 800), "width=300&height=300&fit=bounds", nil, 300, 200, JPEG},
		{"2.12", src(JPEG, 1200, 800), "width=300&height=300&fit=cover", nil, 450, 300, JPEG},
		{"2.12", src(JPEG, 1200, 800), "width=300&height=300&fit=crop", nil, 300, 300, JPEG},
		{"2.12 D1", src(JPEG, 1200, 800), "width=300&height=300", nil, 300, 300, JPEG},
		{"2.12", src(JPEG, 1200, 800), "width=300&fit=crop", nil, 300, 200, JPEG},
		// §2.9 disable, §2.11 enable, §2.10 dpr
		{"2.9", src(JPEG, 1200, 800), "width=2560&disable=upscale", nil, 1200, 800, JPEG},
		{"2.9", src(JPEG, 1200, 800), "width=2560&disable=upscale", upscale, 1200, 800, JPEG},
		{"2.11", src(JPEG, 1200, 800), "width=2560&enable=upscale", nil, 2560, 1707, JPEG},
		{"2.10", src(JPEG, 1200, 800), "dpr=2", upscale, 2400, 1600, JPEG},
		{"2.10", src(JPEG, 1200, 800), "dpr=2", nil, 1200, 800, JPEG},
		// §2.6 canvas (src 400×300)
		{"2.6", src(PNG, 400, 300), "canvas=600,400", nil, 600, 400, PNG},
		{"2.6", src(PNG, 400, 300), "canvas=600,400,x0,y0", nil, 600, 400, PNG},
		{"2.6", src(PNG, 400, 300), "canvas=600,400,offset-x25,offset-y75", nil, 600, 400, PNG},
		{"2.6 D11", src(PNG, 400, 300), "canvas=16:9", nil, 533, 300, PNG},
		{"2.6", src(PNG, 400, 300), "canvas=150p,150p", nil, 600, 450, PNG},
		// §2.8 crop (src 2000×1000)
		{"2.8", src(JPEG, 2000, 1000), "crop=1000,500", nil, 1000, 500, JPEG},
		{"2.8", src(JPEG, 2000, 1000), "crop=1000,500,offset-x10,offset-y50", nil, 1000, 500, JPEG},
		{"2.8", src(JPEG, 2000, 1000), "crop=1000,500,x100,y100", nil, 1000, 500, JPEG},
		{"2.8", src(JPEG, 2000, 1000), "crop=0.5,0.5", nil, 1000, 500, JPEG},
		{"2.8", src(JPEG, 2000, 1000), "crop=50p,50p", nil, 1000, 500, JPEG},
		{"2.8", src(JPEG, 2000, 1000), "crop=16:9", nil, 1778, 1000, JPEG},
		{"2.8", src(JPEG, 2000, 1000), "crop=1:1", nil, 1000, 1000, JPEG},
		{"2.8", src(JPEG, 2000, 1000), "crop=4:3&width=400", nil, 400, 300, JPEG},
		{"2.8", src(JPEG, 2000, 1000), "crop=1500,800,x800,y300,safe", nil, 1200, 700, JPEG},
		{"2.8 D12", src(JPEG, 2000, 1000), "crop=16:9,smart", nil, 1778, 1000, JPEG},
		{"2.8 D12", src(JPEG, 2000, 1000), "crop=1:1,smart,safe", nil, 1000, 1000, JPEG},
		// §2.21 precrop
		{"2.21", src(JPEG, 2000, 1000), "precrop=1000,1000&crop=50p,50p", nil, 500, 500, JPEG},
		// §2.19 orient (src 400×300)
		{"2.19", src(JPEG, 400, 300), "orient=1", nil, 400, 300, JPEG},
		{"2.19", src(JPEG, 400, 300), "orient=h", nil, 400, 300, JPEG},
		{"2.19", src(JPEG, 400, 300), "orient=3", nil, 400, 300, JPEG},
		{"2.19", src(JPEG, 400, 300), "orient=v", nil, 400, 300, JPEG},
		{"2.19", src(JPEG, 400, 300), "orient=5", nil, 300, 400, JPEG},
		{"2.19", src(JPEG, 400, 300), "orient=r", nil, 300, 400, JPEG},
		{"2.19", src(JPEG, 400, 300), "orient=vl", nil, 300, 400, JPEG},
		{"2.19", src(JPEG, 400, 300), "orient=l", nil, 300, 400, JPEG},
		{"2.19", src(JPEG, 400, 300), "orient=r&width=150", nil, 150, 200, JPEG},
		// §2.20 pad (src 400×300)
		{"2.20", src(JPEG, 400, 300), "pad=10", nil, 420, 320, JPEG},
		{"2.20", src(JPEG, 400, 300), "pad=10,20", nil, 440, 320, JPEG},
		{"2.20", src(JPEG, 400, 300), "pad=10,20,30", nil, 440, 340, JPEG},
		{"2.20", src(JPEG, 400, 300), "pad=25,50,75,100", nil, 550, 400, JPEG},
		{"2.20", src(JPEG, 400, 300), "pad=0.25", nil, 600, 450, JPEG},
		{"2.20", src(JPEG, 400, 300), "pad=10&canvas=800,600", nil, 800, 600, JPEG},
		// §2.27 trim (src 1000×800)
		{"2.27", src(JPEG, 1000, 800), "trim=25,50,75,100", nil, 850, 700, JPEG},
		{"2.27", src(JPEG, 1000, 800), "trim=25,50,75", nil, 900, 700, JPEG},
		{"2.27", src(JPEG, 1000, 800), "trim=25,50", nil, 900, 750, JPEG},
		{"2.27", src(JPEG, 1000, 800), "trim=0.25", nil, 500, 400, JPEG},
		// §3 worked pipeline example.
		{"3", SourceInfo{Format: JPEG, Width: 4000, Height: 3000, Orientation: 6, Frames: 1},
			"crop=1:1&orient=h&width=500&pad=10&bg-color=000&format=pjpg&quality=70", nil, 520, 520, JPEG},
		// D2: upscale off clamps the fit=crop box to the image.
		{"D2", src(JPEG, 200, 100), "width=300&height=300&fit=crop", nil, 200, 100, JPEG},
		{"D2", src(JPEG, 200, 100), "width=300&height=300&fit=cover", nil, 200, 100, JPEG},
		{"D2", src(JPEG, 200, 100), "width=300&height=300&fit=crop", upscale, 300, 300, JPEG},
		{"D2", src(JPEG, 1200, 800), "width=2000&height=300", nil, 1200, 300, JPEG},
		// D3: outputs over 8192 px are scaled down proportionally.
		{"D3", src(JPEG, 12000, 4000), "", nil, 8192, 2731, JPEG},
		{"D3", src(JPEG, 4000, 2000), "width=4000&dpr=3", upscale, 8192, 4096, JPEG},
		{"D3", src(JPEG, 1000, 1000), "width=4000&height=4000&fit=crop&dpr=3", upscale, 8192, 8192, JPEG},
		{"D3", src(JPEG, 1000, 500), "width=8192&height=10&fit=crop", upscale, 8192, 10, JPEG},
		// D22: every side of every intermediate image is at least 1 px.
		{"D22", src(JPEG, 12000, 1), "width=300", nil, 300, 1, JPEG},
		{"D22", src(JPEG, 1, 12000), "height=10", nil, 1, 10, JPEG},
		{"D22", src(JPEG, 1, 1), "width=1&height=1&fit=crop", nil, 1, 1, JPEG},
		{"D22", src(JPEG, 1, 12000), "", nil, 1, 8192, JPEG},
		// EXIF orientation swaps width and height before everything else.
		{"1.5", SourceInfo{Format: JPEG, Width: 400, Height: 300, Orientation: 6, Frames: 1}, "width=150", nil, 150, 200, JPEG},
		{"1.5", SourceInfo{Format: JPEG, Width: 400, Height: 300, Orientation: 3, Frames: 1}, "width=200", nil, 200, 150, JPEG},
		// D14/D15 formats.
		{"D15", src(GIF, 10, 10), "", nil, 10, 10, GIF},
		{"D15", SourceInfo{Format: WebP, Width: 10, Height: 10, Frames: 1, HasAlpha: true}, "", nil, 10, 10, WebP}, // the built-in lossy WebP encoder
		{"D15", src(WebP, 10, 10), "", nil, 10, 10, WebP},
		{"D15", SourceInfo{Format: WebP, Width: 10, Height: 10, Frames: 1, HasAlpha: true, Lossless: true}, "", nil, 10, 10, PNG}, // no lossless WebP encoder
		{"D14", src(PNG, 10, 10), "format=auto", nil, 10, 10, PNG},                                                                // issue 14: a lossless source stays lossless
		{"D14", src(JPEG, 10, 10), "format=auto", nil, 10, 10, JPEG},
		{"D14", SourceInfo{Format: PNG, Width: 10, Height: 10, Frames: 1, HasAlpha: true}, "format=auto", nil, 10, 10, PNG},
		{"D14", SourceInfo{Format: GIF, Width: 10, Height: 10, Frames: 5}, "format=auto", nil, 10, 10, GIF},
		{"2.5", src(JPEG, 10, 10), "bw=atkinson&format=auto", nil, 10, 10, PNG},
		{"2.13", src(PNG, 10, 10), "format=jpeg", nil, 10, 10, JPEG},
		{"2.13", src(JPEG, 10, 10), "format=bjpg", nil, 10, 10, JPEG},
		{"2.13", src(JPEG, 10, 10), "format=gif", nil, 10, 10, GIF},
		{"2.13", src(JPEG, 1200, 800), "format=svg&width=1000&viewbox=1", nil, 1000, 667, SVG},
	}
	for _, c := range cases {
		t.Run(c.spec+" "+c.query, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(c.query)
			require.NoError(t, err)
			pl, err := NewPlan(p, c.in, "", c.opts)
			require.NoError(t, err)
			assert.Equal(t, [2]int{c.w, c.h}, [2]int{pl.Width, pl.Height}, "plan %s", pl)
			assert.Equal(t, c.format, pl.Format)
			assert.True(t, pl.Exact)
		})
	}
}

// TestPlanErrors pins the geometric and unsupported-value errors of NewPlan.
func TestPlanErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		in          SourceInfo
		query       string
		param       string
		unsupported bool
	}{
		{"2.8 out of bounds", src(JPEG, 2000, 1000), "crop=1500,800,x800,y300", "crop", false},
		{"2.8 too big", src(JPEG, 2000, 1000), "crop=3000,500", "crop", false},
		{"2.8 offset beyond", src(JPEG, 2000, 1000), "crop=1000,500,x1500", "crop", false},
		{"2.21 precrop", src(JPEG, 2000, 1000), "precrop=1500,800,x800,y300", "precrop", false},
		{"2.27 trim all", src(JPEG, 1000, 800), "trim=500,0,300,0", "trim", false},
		{"2.27 trim everything", src(JPEG, 1000, 800), "trim=50p", "trim", false},
		{"D10 canvas smaller", src(JPEG, 400, 300), "canvas=300,400", "canvas", false},
		{"D10 canvas position", src(JPEG, 400, 300), "canvas=500,400,x200", "canvas", false},
		{"canvas over output limit", src(JPEG, 400, 300), "canvas=9000,400", "canvas", false},
		{"pad over output limit", src(JPEG, 8000, 300), "pad=200", "pad", false},
		{"2.28 trim-color gif", src(GIF, 40, 30), "trim-color=auto", "trim-color", false},
		{"mp4 level", src(GIF, 640, 400), "format=mp4&level=1.0", "level", false},
		{"D24 jxl", src(JPEG, 40, 30), "format=jxl", "format", true},
		{"no lossless webp encoder", src(JPEG, 40, 30), "format=webpll", "format", true},
		{"not yet avif", src(JPEG, 40, 30), "format=avif", "format", true},
		{"c2pa", src(JPEG, 40, 30), "metadata=copyright,c2pa", "metadata", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(c.query)
			require.NoError(t, err)
			_, err = NewPlan(p, c.in, "", nil)
			require.Error(t, err)
			var pe *ParamError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Equal(t, c.param, pe.Param)
			assert.Equal(t, c.unsupported, errors.Is(err, ErrUnsupportedParam))
			assert.Equal(t, 400, StatusCode(err))
			assert.Contains(t, err.Error(), c.param+"=")
		})
	}
}

// TestPlanOptimizeWithQuality: an explicit quality overrides optimize (§2.18).
func TestPlanOptimizeWithQuality(t *testing.T) {
	t.Parallel()
	p, err := ParseParams("optimize=high&quality=60&profile=main&level=4.1")
	require.NoError(t, err)
	pl, err := NewPlan(p, src(JPEG, 100, 100), "", nil)
	require.NoError(t, err)
	assert.Equal(t, 60, pl.Quality)
}

// TestPlanLimits pins the source limits of D29, all checked from the header.
func TestPlanLimits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   SourceInfo
		lim  Limits
		ok   bool
	}{
		{"12000 side ok", src(JPEG, 12000, 4000), Limits{}, true},
		{"side over", src(JPEG, 12001, 10), Limits{}, false},
		{"50 MP over", src(JPEG, 10000, 5001), Limits{}, false},
		{"frames over", SourceInfo{Format: GIF, Width: 10, Height: 10, Frames: 1001}, Limits{}, false},
		{"summed area over", SourceInfo{Format: GIF, Width: 1000, Height: 1000, Frames: 101}, Limits{}, false},
		{"summed area ok", SourceInfo{Format: GIF, Width: 1000, Height: 1000, Frames: 100}, Limits{}, true},
		{"scans over", SourceInfo{Format: JPEG, Width: 10, Height: 10, Frames: 1, Scans: 101}, Limits{}, false},
		{"bytes over", SourceInfo{Format: JPEG, Width: 10, Height: 10, Frames: 1, Bytes: 51 << 20}, Limits{}, false},
		{"custom side", src(JPEG, 600, 10), Limits{MaxSourceSide: 500}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewPlan(Params{}, c.in, "", &PlanOptions{Limits: c.lim})
			if c.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrSourceTooLarge)
			assert.Equal(t, 422, StatusCode(err))
		})
	}
}

// TestPlanWarnings pins D3 and D12 warnings.
func TestPlanWarnings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    SourceInfo
		query string
		want  string
	}{
		{src(JPEG, 12000, 4000), "", "exceeds the 8192 px limit"},
		{src(JPEG, 2000, 1000), "crop=100,100,smart", "smart needs a ratio"},
		{src(JPEG, 20, 10), "viewbox=1", "viewbox ignored"},
		{src(JPEG, 20, 10), "format=png&viewbox=1", "viewbox ignored"},
		{src(JPEG, 20, 10), "format=svg&optimize=low", "optimize ignored"},
	}
	for _, c := range cases {
		p, err := ParseParams(c.query)
		require.NoError(t, err)
		pl, err := NewPlan(p, c.in, "", nil)
		require.NoError(t, err)
		assert.Contains(t, strings.Join(pl.Warnings, "; "), c.want)
	}
}

// TestPlanSteps pins the order of D13 and that no-op parameters add no step.
func TestPlanSteps(t *testing.T) {
	t.Parallel()
	p, err := ParseParams("blur=2&sharpen=a1,r1,t0&saturation=10&bg-color=fff&pad=1&width=5&orient=r" +
		"&crop=10,10&trim=1&precrop=90,90&trim-color=auto&bw=threshold")
	require.NoError(t, err)
	pl, err := NewPlan(p, SourceInfo{Format: JPEG, Width: 100, Height: 100, Frames: 1, Orientation: 8}, "", nil)
	require.NoError(t, err)
	var names []string
	for _, s := range pl.Steps {
		names = append(names, s.String()[:strings.IndexByte(s.String(), '(')])
	}
	assert.Equal(t, []string{"exif-orientation", "trim-color", "precrop", "trim", "crop", "orient",
		"resize", "pad", "bg-color", "adjust", "sharpen", "blur", "bw"}, names)
	assert.False(t, pl.Exact, "trim-color makes the size content-dependent")

	p, err = ParseParams("quality=50&dpr=1&orient=1&brightness=0&fit=crop&width=100")
	require.NoError(t, err)
	pl, err = NewPlan(p, src(JPEG, 100, 100), "", nil)
	require.NoError(t, err)
	assert.Empty(t, pl.Steps, "%s", pl)
}
