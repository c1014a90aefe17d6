package imageopto

import (
	"bytes"
	"net/http"
	"strings"
)

// maxRanges bounds the byte ranges of one request: a Range of more parts is
// ignored (RFC 9110 §14.2 allows it) and the whole entry is sent, so that
// a request of many tiny ranges cannot make a multipart answer many times
// the entry's size.
const maxRanges = 16

// sendBody writes an entry's body after the handler's own headers and its
// If-None-Match / If-Modified-Since (notModified, which come first) with
// http.ServeContent, which adds what RFC 9110 asks of ranges: one byte
// range (206; Safari asks for ranges of a video, format=mp4, and plays none
// served whole) or several (206 multipart/byteranges), 416 for a range
// past the end or malformed, If-Range by ETag (strong comparison) or by
// date, and If-Match / If-Unmodified-Since (412). A Range in another unit
// than bytes, or of more than maxRanges parts, is ignored (RFC 9110 asks
// the first: Go's ServeContent would refuse it with 416).
func sendBody(w http.ResponseWriter, r *http.Request, st *reqState, e *entry) {
	if rng := r.Header.Get("Range"); rng != "" &&
		(!strings.HasPrefix(rng, "bytes=") || strings.Count(rng, ",") >= maxRanges) {
		r = r.Clone(r.Context())
		r.Header.Del("Range")
	}
	sw := &statusWriter{ResponseWriter: w}
	http.ServeContent(sw, r, "", e.LastModified, bytes.NewReader(e.Body))
	st.status, st.bytes = sw.status, sw.bytes
}

// statusWriter notes the status and the body bytes written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}
