package diskcache_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/diskcache"
)

// TestHandlerRestart serves a transformed image through the real handler,
// then serves it again from a new handler and a new Cache opened on the
// same directory, without asking the origin.
func TestHandlerRestart(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.NRGBA{uint8(4 * x), uint8(5 * y), 128, 255})
		}
	}
	var src bytes.Buffer
	require.NoError(t, png.Encode(&src, img))
	var fetches atomic.Int64
	origin := imageopto.OriginFunc(func(_ context.Context, r imageopto.FetchRequest) (*imageopto.Source, error) {
		fetches.Add(1)
		if r.Path != "cat.png" {
			return nil, imageopto.ErrNotFound
		}
		return &imageopto.Source{Data: src.Bytes(), ETag: `"v1"`}, nil
	})
	dir := t.TempDir()
	serve := func() (*httptest.ResponseRecorder, int64) {
		disk, err := diskcache.Open(dir, 64<<20, nil)
		require.NoError(t, err)
		defer func() { require.NoError(t, disk.Close()) }()
		h, err := imageopto.New(origin, &imageopto.Options{Cache: disk})
		require.NoError(t, err)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/cat.png?width=16&format=png", nil))
		return w, h.Transforms()
	}

	first, transforms := serve()
	require.Equal(t, http.StatusOK, first.Code, first.Body.String())
	assert.Equal(t, "image/png", first.Header().Get("Content-Type"))
	assert.Equal(t, int64(1), fetches.Load())
	assert.Equal(t, int64(1), transforms)
	out, err := png.Decode(bytes.NewReader(first.Body.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 16, 12), out.Bounds())

	second, transforms := serve()
	require.Equal(t, http.StatusOK, second.Code, second.Body.String())
	assert.Equal(t, int64(1), fetches.Load(), "served from disk, not the origin")
	assert.Zero(t, transforms)
	assert.Equal(t, first.Header().Get("ETag"), second.Header().Get("ETag"))
	assert.Equal(t, first.Body.Bytes(), second.Body.Bytes())
}
