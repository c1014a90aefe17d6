package imageopto

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const allHints = "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width"

// hintHandler serves a 200×100 PNG with client hints on and an output limit
// of 1000 px, so that the cap is reached cheaply. Queries add
// enable=upscale so that the output size shows the width asked for.
func hintHandler(t *testing.T, hints bool, opts *Options) (*Handler, *fakeOrigin) {
	t.Helper()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	if opts == nil {
		opts = &Options{}
	}
	opts.ClientHints = hints
	opts.Transform.Limits.MaxOutputSide = 1000
	return newTestHandler(t, o, opts), o
}

// odim is the output size from the info header.
func odim(w *httptest.ResponseRecorder) string {
	for _, f := range strings.Fields(w.Header().Get("Imageopto-Info")) {
		if v, ok := strings.CutPrefix(f, "odim="); ok {
			return v
		}
	}
	return ""
}

func TestClientHintsApplied(t *testing.T) {
	t.Parallel()
	h, _ := hintHandler(t, true, nil)
	for _, c := range []struct {
		name, query string
		hdr         []string
		odim, vary  string
	}{
		{"no hints sent", "", nil, "200x100", allHints},
		{"dpr from the hint", "width=100", []string{"Sec-CH-DPR", "2"}, "200x100", "Sec-CH-DPR"},
		{"dpr rounded up to 0.5", "width=100", []string{"Sec-CH-DPR", "1.3"}, "150x75", "Sec-CH-DPR"},
		{"dpr capped at 3", "width=100", []string{"Sec-CH-DPR", "7"}, "300x150", "Sec-CH-DPR"},
		{"dpr below 1 is 1", "width=100", []string{"Sec-CH-DPR", "0.5"}, "100x50", "Sec-CH-DPR"},
		{"dpr with no width scales the image", "", []string{"Sec-CH-DPR", "2"}, "400x200", allHints},
		{"dpr multiplies a query height", "height=50", []string{"Sec-CH-DPR", "2", "Sec-CH-Width", "800"}, "200x100", "Sec-CH-DPR"},
		{"query dpr wins", "width=100&dpr=1", []string{"Sec-CH-DPR", "2"}, "100x50", ""},
		{"query dpr wins, not 1", "width=100&dpr=1.5", []string{"Sec-CH-DPR", "3"}, "150x75", ""},
		{"query width wins", "width=120", []string{"Sec-CH-Width", "800", "Sec-CH-Viewport-Width", "700"}, "120x60", "Sec-CH-DPR"},
		{"Sec-CH-Width rounded up to 50", "", []string{"Sec-CH-Width", "333"}, "350x175", "Sec-CH-Width"},
		{"Sec-CH-Width already has the DPR", "", []string{"Sec-CH-Width", "333", "Sec-CH-DPR", "2"}, "350x175", "Sec-CH-Width"},
		{"Sec-CH-Width over a query dpr", "dpr=2", []string{"Sec-CH-Width", "400"}, "400x200", "Sec-CH-Width"},
		{"Sec-CH-Width beats the viewport", "", []string{"Sec-CH-Width", "333", "Sec-CH-Viewport-Width", "900"}, "350x175", "Sec-CH-Width"},
		{"Sec-CH-Width capped by the output limit", "", []string{"Sec-CH-Width", "5000"}, "1000x500", "Sec-CH-Width"},
		{"viewport width times dpr", "", []string{"Sec-CH-Viewport-Width", "301", "Sec-CH-DPR", "1.3"}, "525x263", allHints},
		{"viewport width times query dpr", "dpr=2", []string{"Sec-CH-Viewport-Width", "240"}, "500x250", "Sec-CH-Width, Sec-CH-Viewport-Width"},
		{"viewport width kept within the limit", "", []string{"Sec-CH-Viewport-Width", "5000", "Sec-CH-DPR", "2"}, "1000x500", allHints},
		{"malformed Sec-CH-Width falls back", "", []string{"Sec-CH-Width", "12px", "Sec-CH-Viewport-Width", "90"}, "100x50", allHints},
		{"malformed dpr", "width=100", []string{"Sec-CH-DPR", "2x"}, "100x50", "Sec-CH-DPR"},
		{"dpr with a bare dot", "width=100", []string{"Sec-CH-DPR", "2."}, "100x50", "Sec-CH-DPR"},
		{"negative dpr", "width=100", []string{"Sec-CH-DPR", "-2"}, "100x50", "Sec-CH-DPR"},
		{"exponent dpr", "width=100", []string{"Sec-CH-DPR", "2e0"}, "100x50", "Sec-CH-DPR"},
		{"zero width", "", []string{"Sec-CH-Width", "0"}, "200x100", allHints},
		{"negative width", "", []string{"Sec-CH-Width", "-300"}, "200x100", allHints},
		{"fractional width", "", []string{"Sec-CH-Width", "300.5"}, "200x100", allHints},
		{"huge width", "", []string{"Sec-CH-Width", "99999999999999999999"}, "200x100", allHints},
		{"last of joined values", "width=100", []string{"Sec-CH-DPR", "3, 2"}, "200x100", "Sec-CH-DPR"},
	} {
		w := get(h, "/cat.png?enable=upscale&format=jpg&"+c.query, c.hdr...)
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", c.name, w.Body.String())
		assert.Equal(t, c.odim, odim(w), c.name)
		assert.Equal(t, c.vary, w.Header().Get("Vary"), c.name)
		assert.Equal(t, allHints, w.Header().Get("Accept-CH"), c.name)
		assert.Empty(t, w.Header().Get("Imageopto-Warning"), c.name)
	}

	// Repeated header lines: the last counts.
	r := httptest.NewRequest(http.MethodGet, "/cat.png?enable=upscale&format=jpg&width=100", nil)
	r.Header.Add("Sec-CH-DPR", "3")
	r.Header.Add("Sec-CH-DPR", "1.5")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, "150x75", odim(w))
}

// TestClientHintsOffByDefault: without Options.ClientHints the hints are
// neither asked for nor read, and nothing varies on them.
func TestClientHintsOffByDefault(t *testing.T) {
	t.Parallel()
	h, _ := hintHandler(t, false, nil)
	w := get(h, "/cat.png?enable=upscale&format=jpg", "Sec-CH-Width", "400", "Sec-CH-DPR", "2", "Sec-CH-Viewport-Width", "300")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "200x100", odim(w))
	assert.Empty(t, w.Header().Get("Accept-CH"))
	assert.Empty(t, w.Header().Get("Vary"))

	// On, errors carry neither Accept-CH nor Vary.
	h, _ = hintHandler(t, true, nil)
	w = get(h, "/nope.png", "Sec-CH-Width", "400")
	require.Equal(t, http.StatusNotFound, w.Code)
	assert.Empty(t, w.Header().Get("Accept-CH"))
	assert.Empty(t, w.Header().Get("Vary"))
}

// TestClientHintsWithNegotiation: Vary keeps Accept first, then the hints.
func TestClientHintsWithNegotiation(t *testing.T) {
	t.Parallel()
	var seen atomic.Value
	h, _ := hintHandler(t, true, &Options{Transform: TransformOptions{PlanOptions: PlanOptions{Codecs: []Codec{fakeWebP(&seen)}}}})
	w := get(h, "/cat.png?auto=webp&width=50", "Accept", "image/webp", "Sec-CH-DPR", "2")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "image/webp", w.Header().Get("Content-Type"))
	assert.Equal(t, "Accept, Sec-CH-DPR", w.Header().Get("Vary"))
	assert.Equal(t, []string{"Accept, Sec-CH-DPR"}, w.Header().Values("Vary"), "one Vary line")
}

// TestClientHintsCacheKey: the result cache is keyed on the rounded values
// the hints gave, so hints that round alike share one transformation,
// others get their own, and an explicit query of the same values shares
// it too. ETags and 304s follow the rounded values.
func TestClientHintsCacheKey(t *testing.T) {
	t.Parallel()
	h, o := hintHandler(t, true, nil)
	const target = "/cat.png?enable=upscale&format=jpg"
	steps := []struct {
		hdr        []string
		odim       string
		transforms int64
	}{
		{[]string{"Sec-CH-Width", "301"}, "350x175", 1},
		{[]string{"Sec-CH-Width", "340"}, "350x175", 1},
		{[]string{"Sec-CH-Width", "350", "Sec-CH-DPR", "3"}, "350x175", 1},
		{[]string{"Sec-CH-Width", "351"}, "400x200", 2},
		{[]string{"Sec-CH-Viewport-Width", "170", "Sec-CH-DPR", "1.9"}, "400x200", 3}, // width=200&dpr=2: another key, same size
		{[]string{"Sec-CH-Viewport-Width", "151", "Sec-CH-DPR", "1.6"}, "400x200", 3},
		{nil, "200x100", 4},
	}
	for i, s := range steps {
		w := get(h, target, s.hdr...)
		require.Equal(t, http.StatusOK, w.Code, "step %d", i)
		assert.Equal(t, s.odim, odim(w), "step %d", i)
		assert.Equal(t, s.transforms, h.Transforms(), "step %d", i)
	}
	// The same values in the query share the entry made from hints.
	w := get(h, target+"&width=350")
	assert.Equal(t, "350x175", odim(w))
	assert.Equal(t, int64(4), h.Transforms(), "width=350 is the entry Sec-CH-Width: 301 made")
	assert.Equal(t, int64(1), o.fetches.Load(), "one original for every variant")

	// Conditional requests: 304 for hints of the same rung, 200 with
	// another ETag for hints of another.
	first := get(h, target, "Sec-CH-Width", "320")
	etag := first.Header().Get("ETag")
	require.NotEmpty(t, etag)
	w = get(h, target, "Sec-CH-Width", "330", "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, w.Code)
	assert.Equal(t, "Sec-CH-Width", w.Header().Get("Vary"), "304 carries Vary")
	assert.Equal(t, allHints, w.Header().Get("Accept-CH"))
	w = get(h, target, "Sec-CH-Width", "390", "If-None-Match", etag)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "400x200", odim(w))
	assert.NotEqual(t, etag, w.Header().Get("ETag"))
	assert.Equal(t, int64(4), h.Transforms())
}

// TestClientHintsSigned: a signed URL verifies against the query as sent;
// the hints are applied after the check, and the query still wins.
func TestClientHintsSigned(t *testing.T) {
	t.Parallel()
	s, err := NewSigner(signKey1)
	require.NoError(t, err)
	h, _ := hintHandler(t, true, &Options{Signer: s})
	p, err := ParseParams("enable=upscale&format=jpg")
	require.NoError(t, err)
	q, err := s.Query("cat.png", p, time.Time{})
	require.NoError(t, err)

	w := get(h, "/cat.png?"+q, "Sec-CH-Width", "333")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "350x175", odim(w))
	assert.Equal(t, "Sec-CH-Width", w.Header().Get("Vary"))

	w = get(h, "/cat.png?"+q+"&width=100", "Sec-CH-Width", "333")
	assert.Equal(t, http.StatusForbidden, w.Code, "a width added to the query breaks the signature")

	p.Width = Px(100)
	q, err = s.Query("cat.png", p, time.Time{})
	require.NoError(t, err)
	w = get(h, "/cat.png?"+q, "Sec-CH-Width", "333")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "100x50", odim(w), "the signed width wins over the hint")

	// Under a Signer without ClientHints, hints are not read: opt-in.
	off, _ := hintHandler(t, false, &Options{Signer: s})
	p.Width = Length{}
	q, err = s.Query("cat.png", p, time.Time{})
	require.NoError(t, err)
	w = get(off, "/cat.png?"+q, "Sec-CH-Width", "333", "Sec-CH-DPR", "2")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, get(off, "/cat.png?"+q).Header().Get("Imageopto-Info"), w.Header().Get("Imageopto-Info"))
	assert.NotEqual(t, "350x175", odim(w))
	assert.Empty(t, w.Header().Get("Accept-CH"))
	assert.Empty(t, w.Header().Get("Vary"))
}

// TestClientHintsAfterHook: the hook sees the query's own parameters, and
// a width it sets wins over the hints like a query width.
func TestClientHintsAfterHook(t *testing.T) {
	t.Parallel()
	var hooked atomic.Value
	h, _ := hintHandler(t, true, &Options{Hook: func(_ context.Context, r *Request) error {
		hooked.Store(r.Params)
		if r.Path == "preset/cat.png" {
			r.Path, r.Params.Width = "cat.png", Px(60)
		}
		return nil
	}})
	w := get(h, "/cat.png?enable=upscale&format=jpg", "Sec-CH-Width", "333")
	assert.Equal(t, "350x175", odim(w))
	assert.False(t, hooked.Load().(Params).Width.IsSet(), "the hook runs before the hints")
	w = get(h, "/preset/cat.png?enable=upscale&format=jpg", "Sec-CH-Width", "333")
	assert.Equal(t, "60x30", odim(w))
	assert.Equal(t, "Sec-CH-DPR", w.Header().Get("Vary"))
}

func TestClientHintLadder(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, limit, want int }{
		{1, 8192, 50}, {50, 8192, 50}, {51, 8192, 100}, {999, 8192, 1000}, {1000, 8192, 1000},
		{1001, 8192, 1100}, {2000, 8192, 2000}, {2001, 8192, 2200}, {4001, 8192, 4400},
		{8000, 8192, 8000}, {8100, 8192, 8192}, {700, 640, 640},
	} {
		assert.Equal(t, c.want, hintLadder(c.in, c.limit), "%d", c.in)
	}
	rungs := map[int]bool{}
	for w := 1; w <= 20000; w++ {
		rungs[hintLadder(w, 8192)] = true
	}
	assert.LessOrEqual(t, len(rungs), 52, "a bounded number of widths")
	dprs := map[float64]bool{}
	for d := 0.01; d < 20; d += 0.01 {
		dprs[roundHintDPR(d)] = true
	}
	assert.Equal(t, map[float64]bool{0: true, 1.5: true, 2: true, 2.5: true, 3: true}, dprs)
}

// TestClientHintParamsRoundTrip: parameters filled in from hints encode to
// a query that parses back to them (the peer tier sends Params.Encode to
// the key's owner, which parses it strictly).
func TestClientHintParamsRoundTrip(t *testing.T) {
	t.Parallel()
	h, _ := hintHandler(t, true, nil)
	for _, q := range []string{"", "dpr=1.6667", "dpr=3", "dpr=10", "height=10", "fit=crop&crop=4:3"} {
		for _, hdr := range [][]string{
			{"Sec-CH-Width", "1"}, {"Sec-CH-Width", "333"}, {"Sec-CH-Width", "999999"},
			{"Sec-CH-Viewport-Width", "777", "Sec-CH-DPR", "2.625"}, {"Sec-CH-Viewport-Width", "5000", "Sec-CH-DPR", "3"},
			{"Sec-CH-DPR", "1.75"},
		} {
			r := httptest.NewRequest(http.MethodGet, "/cat.png?"+q, nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				r.Header.Set(hdr[i], hdr[i+1])
			}
			p, err := ParseParams(q)
			require.NoError(t, err)
			h.clientHints(r, &p)
			back, err := ParseParams(p.Encode())
			require.NoError(t, err, "%s %q: %s", q, hdr, p.Encode())
			assert.Equal(t, p, back, "%s %q", q, hdr)
			if p.Width.IsSet() {
				assert.LessOrEqual(t, p.Width.Value*max(p.DPR, 1), 1000.5, "%s %q: within the output limit", q, hdr)
			}
		}
	}
}
