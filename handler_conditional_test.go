package imageopto

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConditionalRequests: If-Modified-Since gives 304 when the image was
// not modified after the date, If-None-Match wins when both are sent, and a
// date that does not parse is ignored.
func TestConditionalRequests(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	h := newTestHandler(t, o, nil)
	const target = "/cat.png?width=50&format=png"
	first := get(h, target)
	require.Equal(t, http.StatusOK, first.Code)
	lm := first.Header().Get("Last-Modified")
	etag := first.Header().Get("ETag")
	require.Equal(t, "Fri, 02 Jan 2026 03:04:05 GMT", lm)
	for _, tc := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"If-Modified-Since the exact Last-Modified", []string{"If-Modified-Since", lm}, http.StatusNotModified},
		{"If-Modified-Since later", []string{"If-Modified-Since", "Sat, 03 Jan 2026 00:00:00 GMT"}, http.StatusNotModified},
		{"If-Modified-Since earlier", []string{"If-Modified-Since", "Fri, 02 Jan 2026 03:04:04 GMT"}, http.StatusOK},
		{"If-Modified-Since in RFC 850 form", []string{"If-Modified-Since", "Friday, 02-Jan-26 03:04:05 GMT"}, http.StatusNotModified},
		{"If-Modified-Since malformed", []string{"If-Modified-Since", "2026-01-02T03:04:05Z"}, http.StatusOK},
		{"If-Modified-Since garbage", []string{"If-Modified-Since", "yesterday"}, http.StatusOK},
		{"If-None-Match matching wins over an old date", []string{"If-None-Match", etag, "If-Modified-Since", "Thu, 01 Jan 2026 00:00:00 GMT"}, http.StatusNotModified},
		{"If-None-Match not matching wins over a matching date", []string{"If-None-Match", `"other"`, "If-Modified-Since", lm}, http.StatusOK},
		{"If-None-Match alone", []string{"If-None-Match", etag}, http.StatusNotModified},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := get(h, target, tc.hdr...)
			assert.Equal(t, tc.want, w.Code)
			if tc.want == http.StatusNotModified {
				assert.Zero(t, w.Body.Len())
				assert.Equal(t, etag, w.Header().Get("ETag"))
			} else {
				assert.Equal(t, first.Body.Len(), w.Body.Len())
			}
		})
	}
}

// TestCDNHeaders: Cache-Control tells a CDN the stale policy, and the
// surrogate key names the original under a configurable header.
func TestCDNHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		opts      Options
		wantCC    []string
		noCC      []string
		keyHeader string // "" when none is expected
	}{
		{"defaults", Options{},
			[]string{"public, max-age=", "stale-while-revalidate=60", "stale-if-error=86400"}, nil, "Surrogate-Key"},
		{"configured", Options{StaleWhileRevalidate: 30e9, StaleTTL: 3600e9, SurrogateKeyHeader: "Cache-Tag"},
			[]string{"stale-while-revalidate=30", "stale-if-error=3600"}, nil, "Cache-Tag"},
		{"no cache, no stale serving", Options{DisableCache: true, SurrogateKeyHeader: "-"},
			[]string{"public, max-age="}, []string{"stale-"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newFakeOrigin(map[string][]byte{"dir/cat.png": samplePNG(t)})
			opts := tc.opts
			h := newTestHandler(t, o, &opts)
			for _, q := range []string{"?width=40&format=png", "?width=60&format=jpg"} {
				w := get(h, "/dir/cat.png"+q)
				require.Equal(t, http.StatusOK, w.Code)
				cc := w.Header().Get("Cache-Control")
				for _, s := range tc.wantCC {
					assert.Contains(t, cc, s)
				}
				for _, s := range tc.noCC {
					assert.NotContains(t, cc, s)
				}
				if tc.keyHeader == "" {
					assert.Empty(t, w.Header().Get("Surrogate-Key"))
					assert.Empty(t, w.Header().Get("Cache-Tag"))
				} else {
					key := w.Header().Get(tc.keyHeader)
					assert.Equal(t, SurrogateKey("dir/cat.png"), key, "every derivative carries the original's key")
					assert.True(t, strings.HasPrefix(key, "io-") && len(key) == 23, key)
				}
			}
		})
	}
	assert.NotEqual(t, SurrogateKey("a.png"), SurrogateKey("b.png"))
}

// TestSurrogateKeyHeaderValidated: a header name with a colon is refused.
func TestSurrogateKeyHeaderValidated(t *testing.T) {
	t.Parallel()
	_, err := New(newFakeOrigin(nil), &Options{SurrogateKeyHeader: "Bad: name"})
	require.Error(t, err)
}
