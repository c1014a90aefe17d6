package imageopto

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pathCounter counts an origin's fetches per path.
type pathCounter struct {
	Origin
	mu sync.Mutex
	n  map[string]int
}

func countPaths(o Origin) *pathCounter { return &pathCounter{Origin: o, n: map[string]int{}} }

func (c *pathCounter) Fetch(ctx context.Context, req FetchRequest) (*Source, error) {
	c.mu.Lock()
	c.n[req.Path]++
	c.mu.Unlock()
	return c.Origin.Fetch(ctx, req)
}

func (c *pathCounter) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

// decodeBody decodes a PNG response.
func decodeBody(t *testing.T, body []byte) *image.NRGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(body))
	require.NoError(t, err)
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Bounds(), img, img.Bounds().Min, draw.Src)
	return n
}

// overlayFiles are a blue 100×60 photo and a red 10×10 watermark.
func overlayFiles(t *testing.T) map[string][]byte {
	return map[string][]byte{
		"photo.png":  encodePNG(t, solid(100, 60, blue)),
		"img/wm.png": encodePNG(t, solid(10, 10, red)),
	}
}

// TestOverlayTrustRule: the overlay header is ignored unless
// Options.TrustOverlayHeader is set; a hook sets overlays either way.
func TestOverlayTrustRule(t *testing.T) {
	t.Parallel()
	const hdr = "overlay=/img/wm.png&overlay-align=top,left"
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprint("trust=", trust), func(t *testing.T) {
			t.Parallel()
			o := countPaths(newFakeOrigin(overlayFiles(t)))
			h := newTestHandler(t, o, &Options{TrustOverlayHeader: trust})
			w := get(h, "/photo.png?format=png", OverlayHeader, hdr)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			img := decodeBody(t, w.Body.Bytes())
			if trust {
				assert.Equal(t, red, img.NRGBAAt(0, 0))
				assert.Equal(t, 1, o.count("img/wm.png"))
				assert.Contains(t, w.Header().Get("Vary"), OverlayHeader)
			} else {
				assert.Equal(t, blue, img.NRGBAAt(0, 0), "an untrusted header is ignored")
				assert.Equal(t, 0, o.count("img/wm.png"), "and its image never fetched")
				assert.NotContains(t, w.Header().Get("Vary"), OverlayHeader)
			}
			// A bad header is refused only when it is read.
			w = get(h, "/photo.png?format=png", OverlayHeader, "overlay=/img/wm.png&overlay-align=diagonal")
			if trust {
				assert.Equal(t, http.StatusBadRequest, w.Code)
				assert.Contains(t, w.Body.String(), "overlay-align=diagonal: must be")
			} else {
				assert.Equal(t, http.StatusOK, w.Code)
			}
		})
	}
}

// TestOverlayHook: a hook sets, replaces or removes the overlay; what it
// sets is checked like the header.
func TestOverlayHook(t *testing.T) {
	t.Parallel()
	wm, err := ParseOverlay("overlay=/img/wm.png&overlay-align=bottom,right")
	require.NoError(t, err)
	h := newTestHandler(t, newFakeOrigin(overlayFiles(t)), &Options{
		TrustOverlayHeader: true,
		Hook: func(_ context.Context, r *Request) error {
			switch r.Header.Get("X-Test") {
			case "watermark":
				r.Overlay = &wm
			case "none":
				r.Overlay = nil
			case "bad":
				r.Overlay = &Overlay{Path: "img/wm.png"}
			case "missing":
				r.Overlay = &Overlay{Path: "/img/nothing.png"}
			}
			return nil
		},
	})
	w := get(h, "/photo.png?format=png", "X-Test", "watermark")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	img := decodeBody(t, w.Body.Bytes())
	assert.Equal(t, red, img.NRGBAAt(99, 59))
	assert.Equal(t, blue, img.NRGBAAt(89, 49))

	w = get(h, "/photo.png?format=png", "X-Test", "none", OverlayHeader, "overlay=/img/wm.png")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, blue, decodeBody(t, w.Body.Bytes()).NRGBAAt(50, 30), "the hook removed the header's overlay")

	w = get(h, "/photo.png?format=png", "X-Test", "bad")
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "overlay=img/wm.png: must start with exactly one slash")

	// A missing overlay is the operator's error: 502, never the image
	// without its overlay, never a 404 for the image.
	w = get(h, "/photo.png?format=png", "X-Test", "missing")
	assert.Equal(t, http.StatusBadGateway, w.Code)
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
}

// TestOverlayCacheKey: two overlays make two results; the same overlay,
// however written, one; a changed watermark makes a new result.
func TestOverlayCacheKey(t *testing.T) {
	t.Parallel()
	files := overlayFiles(t)
	fo := newFakeOrigin(files)
	o := countPaths(fo)
	h := newTestHandler(t, o, &Options{TrustOverlayHeader: true})
	clock := time.Now()
	var mu sync.Mutex
	h.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	req := func(spec string) (*image.NRGBA, string) {
		t.Helper()
		w := get(h, "/photo.png?format=png", OverlayHeader, spec)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		return decodeBody(t, w.Body.Bytes()), w.Header().Get("ETag")
	}
	plain := get(h, "/photo.png?format=png")
	require.Equal(t, http.StatusOK, plain.Code)
	tl, tlTag := req("overlay=/img/wm.png&overlay-align=top,left")
	br, brTag := req("overlay=/img/wm.png&overlay-align=bottom,right")
	assert.Equal(t, int64(3), h.Transforms(), "no overlay and two overlays: three results")
	assert.NotEqual(t, tlTag, brTag)
	assert.NotEqual(t, plain.Header().Get("ETag"), tlTag)
	assert.Equal(t, red, tl.NRGBAAt(0, 0))
	assert.Equal(t, blue, tl.NRGBAAt(99, 59))
	assert.Equal(t, blue, br.NRGBAAt(0, 0))
	assert.Equal(t, red, br.NRGBAAt(99, 59))

	// The same overlay in another spelling is the same result.
	_, again := req("overlay-align=top,left&overlay-base64=L2ltZy93bS5wbmc")
	assert.Equal(t, tlTag, again)
	assert.Equal(t, int64(3), h.Transforms(), "a cache hit")
	assert.Equal(t, 1, o.count("img/wm.png"))

	// The watermark changes at the origin: once its copy is stale (the
	// default TTL is an hour) and revalidated, results are made anew.
	fo.set("img/wm.png", encodePNG(t, solid(10, 10, green)))
	_, still := req("overlay=/img/wm.png&overlay-align=top,left")
	assert.Equal(t, tlTag, still, "fresh: the old watermark's result")
	mu.Lock()
	clock = clock.Add(2 * time.Hour)
	mu.Unlock()
	now, nowTag := req("overlay=/img/wm.png&overlay-align=top,left")
	assert.NotEqual(t, tlTag, nowTag)
	assert.Equal(t, green, now.NRGBAAt(0, 0), "the new watermark")
	assert.Equal(t, 2, o.count("img/wm.png"))
}

// TestOverlayOneFetch: many concurrent requests of many sizes with one
// watermark make one origin fetch of it (and one of the photo).
func TestOverlayOneFetch(t *testing.T) {
	verifyNoLeaks(t)
	fo := newFakeOrigin(overlayFiles(t))
	fo.delay = 50 * time.Millisecond
	o := countPaths(fo)
	h := newTestHandler(t, o, &Options{TrustOverlayHeader: true})
	const n = 40
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := get(h, fmt.Sprintf("/photo.png?format=png&width=%d", 20+i), OverlayHeader,
				"overlay=/img/wm.png&overlay-width=20p&overlay-align=bottom,right")
			codes[i] = w.Code
			if w.Code == http.StatusOK {
				img := decodeBody(t, w.Body.Bytes())
				b := img.Bounds()
				if img.NRGBAAt(b.Dx()-1, b.Dy()-1) != red {
					t.Errorf("width %d: no watermark at the bottom right", 20+i)
				}
			}
		})
	}
	wg.Wait()
	for i, c := range codes {
		assert.Equal(t, http.StatusOK, c, "request %d", i)
	}
	assert.Equal(t, 1, o.count("img/wm.png"), "one fetch of the watermark")
	assert.Equal(t, 1, o.count("photo.png"), "one fetch of the photo")
	assert.Equal(t, int64(n), h.Transforms())
}

// TestOverlayOptions: a Handler refuses Options.Transform.Overlay (it would
// not be in the cache key), and a job with an overlay is served through a
// tier too.
func TestOverlayOptions(t *testing.T) {
	t.Parallel()
	wm, err := ParseOverlay("overlay=/img/wm.png")
	require.NoError(t, err)
	_, err = New(newFakeOrigin(nil), &Options{Transform: TransformOptions{Overlay: &wm}, Logger: quietLogger()})
	assert.ErrorContains(t, err, "Options.Transform.Overlay")

	c := newFakeCluster(2)
	o := countPaths(newFakeOrigin(overlayFiles(t)))
	hs := []*Handler{
		newTestHandler(t, o, &Options{Tier: c.nodes[0], TrustOverlayHeader: true}),
		newTestHandler(t, o, &Options{Tier: c.nodes[1], TrustOverlayHeader: true}),
	}
	plain := get(hs[0], "/photo.png?format=png")
	require.Equal(t, http.StatusOK, plain.Code)
	for _, h := range hs {
		w := get(h, "/photo.png?format=png", OverlayHeader, "overlay=/img/wm.png&overlay-align=top,left")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, red, decodeBody(t, w.Body.Bytes()).NRGBAAt(0, 0))
	}
}

// TestOverlayStaleIfError: while the origin fails, a stale copy of the
// overlay keeps its results servable (stale), as for results without one;
// with no copy at all the request fails rather than lose its overlay.
func TestOverlayStaleIfError(t *testing.T) {
	t.Parallel()
	fo := newFakeOrigin(overlayFiles(t))
	h := newTestHandler(t, fo, &Options{TrustOverlayHeader: true})
	clock := time.Now()
	var mu sync.Mutex
	h.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	const spec = "overlay=/img/wm.png&overlay-align=top,left"
	w := get(h, "/photo.png?format=png", OverlayHeader, spec)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	etag := w.Header().Get("ETag")

	fo.mu.Lock()
	fo.err = fmt.Errorf("%w: down", ErrOriginFailed)
	fo.mu.Unlock()
	mu.Lock()
	clock = clock.Add(2 * time.Hour)
	mu.Unlock()
	w = get(h, "/photo.png?format=png", OverlayHeader, spec)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, etag, w.Header().Get("ETag"))
	assert.Contains(t, w.Header().Get("Imageopto-Warning"), "stale")
	assert.Equal(t, red, decodeBody(t, w.Body.Bytes()).NRGBAAt(0, 0))

	w = get(h, "/photo.png?format=png", OverlayHeader, "overlay=/img/other.png")
	assert.Equal(t, http.StatusBadGateway, w.Code)
}

// sourceReads counts a handler's reads of its source cache, per request.
type sourceReads struct {
	mu sync.Mutex
	n  int
}

func (c *sourceReads) Observe(e Event) {
	if e.Kind == EventCacheLookup && e.Layer == "source" {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
}

func (c *sourceReads) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

// TestOverlayMemo: while the overlay image is fresh, its hash is
// remembered: a cached result is served without reading the image (nor
// the source cache); a new size reads it in its fill; a purge of the image
// forgets it.
func TestOverlayMemo(t *testing.T) {
	t.Parallel()
	reads := &sourceReads{}
	o := countPaths(newFakeOrigin(overlayFiles(t)))
	h := newTestHandler(t, o, &Options{TrustOverlayHeader: true, Observer: reads})
	const spec = "overlay=/img/wm.png&overlay-align=bottom,right"
	steps := []struct {
		name      string
		url       string
		purge     string
		transform int64 // transformations so far
		reads     int   // source-cache reads of this request
	}{
		{"first: overlay and photo fetched", "/photo.png?format=png", "", 1, 2},
		{"cached result: nothing read", "/photo.png?format=png", "", 1, 0},
		{"new size: photo and overlay read in the fill", "/photo.png?format=png&width=50", "", 2, 2},
		{"cached again", "/photo.png?format=png&width=50", "", 2, 0},
		{"overlay purged: read again, same bytes, same result", "/photo.png?format=png", "img/wm.png", 2, 1},
		{"remembered again", "/photo.png?format=png", "", 2, 0},
	}
	for _, st := range steps {
		if st.purge != "" {
			require.NoError(t, h.Purge(context.Background(), st.purge))
		}
		reads.take()
		w := get(h, st.url, OverlayHeader, spec)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		img := decodeBody(t, w.Body.Bytes())
		b := img.Bounds()
		assert.Equal(t, red, img.NRGBAAt(b.Dx()-1, b.Dy()-1), st.name)
		assert.Equal(t, st.transform, h.Transforms(), st.name)
		assert.Equal(t, st.reads, reads.take(), st.name)
	}
	assert.Equal(t, 2, o.count("img/wm.png"), "fetched first and after the purge")
}

// TestOverlayMemoBounded: the memo never holds more than maxOverlayMemo
// images; expired ones go first.
func TestOverlayMemoBounded(t *testing.T) {
	t.Parallel()
	var m overlayMemo
	now := time.Now()
	m.put("old", overlayMemoEntry{hash: "h", expires: now.Add(-time.Second)}, now)
	for i := range 3 * maxOverlayMemo {
		m.put(fmt.Sprint("p", i), overlayMemoEntry{hash: "h", expires: now.Add(time.Hour)}, now)
		require.LessOrEqual(t, len(m.m), maxOverlayMemo)
	}
	_, ok := m.get("old", now, purgeState{})
	assert.False(t, ok)
	hash, ok := m.get(fmt.Sprint("p", 3*maxOverlayMemo-1), now, purgeState{})
	assert.True(t, ok)
	assert.Equal(t, "h", hash)
	_, ok = m.get(fmt.Sprint("p", 3*maxOverlayMemo-1), now, purgeState{hard: 1})
	assert.False(t, ok, "purged since")
}

// TestOverlayThroughTier: results with an overlay are shared through the
// tier like any other: made once cluster-wide, whichever member is asked,
// and the overlay's image is fetched by its owner.
func TestOverlayThroughTier(t *testing.T) {
	t.Parallel()
	c := newFakeCluster(3)
	o := countPaths(newFakeOrigin(overlayFiles(t)))
	var hs []*Handler
	for _, node := range c.nodes {
		hs = append(hs, newTestHandler(t, o, &Options{Tier: node, TrustOverlayHeader: true}))
	}
	transforms := func() (n int64) {
		for _, h := range hs {
			n += h.Transforms()
		}
		return n
	}
	tests := []struct {
		spec string
		want int64 // transformations cluster-wide after every member asked
	}{
		{"overlay=/img/wm.png&overlay-align=top,left", 1},
		{"overlay-align=top,left&overlay-base64=L2ltZy93bS5wbmc", 1}, // the same overlay, spelt otherwise
		{"overlay=/img/wm.png&overlay-align=bottom,right", 2},
	}
	var etag string
	for i, tc := range tests {
		for _, h := range hs {
			w := get(h, "/photo.png?format=png", OverlayHeader, tc.spec)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			if i < 2 {
				if etag == "" {
					etag = w.Header().Get("ETag")
				}
				assert.Equal(t, etag, w.Header().Get("ETag"))
				assert.Equal(t, red, decodeBody(t, w.Body.Bytes()).NRGBAAt(0, 0))
			}
		}
		assert.Equal(t, tc.want, transforms(), tc.spec)
	}
	assert.Equal(t, 1, o.count("photo.png"), "the photo fetched once cluster-wide")
}
