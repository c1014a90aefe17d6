package imageopto

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHandlerRange: a single byte range is answered with 206 and exactly
// those bytes (Safari plays no video served otherwise); a range past the
// end or malformed with 416; another unit, or an If-Range that does not
// match (by ETag or by date), with the whole result.
func TestHandlerRange(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"anim.gif": graphicsGIF(t, 96, 64, 3, 10)})
	h := newTestHandler(t, o, nil)
	whole := get(h, "/anim.gif?format=mp4")
	require.Equal(t, http.StatusOK, whole.Code, whole.Body.String())
	assert.Equal(t, "video/mp4", whole.Header().Get("Content-Type"))
	assert.Equal(t, "bytes", whole.Header().Get("Accept-Ranges"))
	body, etag, lastMod := whole.Body.Bytes(), whole.Header().Get("ETag"), whole.Header().Get("Last-Modified")
	require.NotEmpty(t, lastMod)
	n := len(body)
	size := strconv.Itoa(n)
	cases := []struct {
		rng, ifRange string
		status       int
		from, to     int // the bytes expected, to exclusive
		contentRange string
	}{
		{"bytes=0-1", "", 206, 0, 2, "bytes 0-1/" + size},
		{"bytes=10-", "", 206, 10, n, "bytes 10-" + strconv.Itoa(n-1) + "/" + size},
		{"bytes=-5", "", 206, n - 5, n, "bytes " + strconv.Itoa(n-5) + "-" + strconv.Itoa(n-1) + "/" + size},
		{"bytes=5-100000000", "", 206, 5, n, "bytes 5-" + strconv.Itoa(n-1) + "/" + size},
		{"bytes=0-1", etag, 206, 0, 2, "bytes 0-1/" + size},
		{"bytes=0-1", lastMod, 206, 0, 2, "bytes 0-1/" + size},
		{"bytes=" + size + "-", "", 416, 0, 0, "bytes */" + size},
		{"bytes=0-1", `"other"`, 200, 0, n, ""},
		{"bytes=0-1", "W/" + etag, 200, 0, n, ""}, // If-Range compares strongly
		{"bytes=0-1", "Thu, 01 Jan 2026 00:00:00 GMT", 200, 0, n, ""},
		{"bytes=5-2", "", 416, 0, 0, ""},
		{"bytes=x-2", "", 416, 0, 0, ""},
		{"lines=0-1", "", 200, 0, n, ""},                                          // another unit: ignored (RFC 9110 §14.2)
		{"bytes=" + strings.Repeat("0-0,", maxRanges) + "1-1", "", 200, 0, n, ""}, // too many parts: ignored
	}
	for _, c := range cases {
		hdr := []string{"Range", c.rng}
		if c.ifRange != "" {
			hdr = append(hdr, "If-Range", c.ifRange)
		}
		w := get(h, "/anim.gif?format=mp4", hdr...)
		require.Equal(t, c.status, w.Code, "%s %s", c.rng, c.ifRange)
		assert.Equal(t, c.contentRange, w.Header().Get("Content-Range"), c.rng)
		if c.status != 416 {
			assert.Equal(t, body[c.from:c.to], w.Body.Bytes(), c.rng)
			assert.Equal(t, strconv.Itoa(c.to-c.from), w.Header().Get("Content-Length"), c.rng)
		}
	}
	// Conditional requests still come first.
	w := get(h, "/anim.gif?format=mp4", "Range", "bytes=0-1", "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, w.Code)
	w = get(h, "/anim.gif?format=mp4", "If-Match", `"other"`)
	assert.Equal(t, http.StatusPreconditionFailed, w.Code)

	// Two ranges: one multipart answer holding both.
	w = get(h, "/anim.gif?format=mp4", "Range", "bytes=0-1,4-6")
	require.Equal(t, http.StatusPartialContent, w.Code)
	mt, params, err := mime.ParseMediaType(w.Header().Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/byteranges", mt)
	mr := multipart.NewReader(w.Body, params["boundary"])
	for _, want := range [][2]int{{0, 2}, {4, 7}} {
		part, err := mr.NextPart()
		require.NoError(t, err)
		assert.Equal(t, "video/mp4", part.Header.Get("Content-Type"))
		got, err := io.ReadAll(part)
		require.NoError(t, err)
		assert.Equal(t, body[want[0]:want[1]], got)
	}
	_, err = mr.NextPart()
	assert.Equal(t, io.EOF, err)
}
