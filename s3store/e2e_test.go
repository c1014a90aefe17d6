package s3store

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
)

// testPNG is a w×h gradient.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 4), 128, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// TestHandlerEndToEnd serves an original from the S3 origin through the
// handler with the S3 cache, then from a second handler that has only the
// S3 cache in common with the first.
func TestHandlerEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t, nil)
	f.put(t, "originals", "site/photos/cat.png", testPNG(t, 64, 48))

	s3origin, err := NewOrigin(f.client, "originals", "site", nil)
	require.NoError(t, err)
	var fetches atomic.Int64
	counting := imageopto.OriginFunc(func(ctx context.Context, req imageopto.FetchRequest) (*imageopto.Source, error) {
		fetches.Add(1)
		return s3origin.Fetch(ctx, req)
	})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	get := func(h http.Handler, target string) (*http.Response, []byte) {
		t.Helper()
		srv := httptest.NewServer(h)
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL + target)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		srv.Client().CloseIdleConnections()
		return resp, body
	}

	cache1 := newTestCache(t, f, nil)
	h1, err := imageopto.New(counting, &imageopto.Options{Cache: cache1, Logger: quiet})
	require.NoError(t, err)

	resp, first := get(h1, "/photos/cat.png?width=32")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(first))
	assert.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	cfg, err := png.DecodeConfig(bytes.NewReader(first))
	require.NoError(t, err)
	assert.Equal(t, [2]int{32, 24}, [2]int{cfg.Width, cfg.Height})
	assert.Equal(t, int64(1), fetches.Load())

	resp, second := get(h1, "/photos/cat.png?width=32")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, first, second)
	assert.Equal(t, int64(1), fetches.Load(), "second request served from the cache")
	assert.GreaterOrEqual(t, cache1.Counters().Hits, int64(1))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, cache1.Flush(ctx))
	assert.Equal(t, int64(1), cache1.Counters().Sets)

	// A fresh handler with fresh memory, sharing only the bucket.
	cache2 := newTestCache(t, f, nil)
	h2, err := imageopto.New(counting, &imageopto.Options{Cache: cache2, Logger: quiet})
	require.NoError(t, err)
	resp, third := get(h2, "/photos/cat.png?width=32")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, first, third)
	assert.Equal(t, int64(1), fetches.Load(), "the derived image came from the S3 cache")
	st := cache2.Counters()
	assert.Equal(t, int64(1), st.Hits)
	assert.Zero(t, st.Misses)

	// A missing original is a 404, remembered in the cache (negative entry).
	resp, _ = get(h2, "/photos/dog.png?width=32")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	// A different size is a miss: fetched and transformed again.
	resp, _ = get(h2, "/photos/cat.png?width=16")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, int64(3), fetches.Load())
}
