package imageopto

import (
	"net/http"
	"strconv"
	"strings"
)

// sendRange answers a request for one byte range of an entry with 206
// Partial Content (RFC 9110 §14), or 416 when the range starts past the
// end. Safari asks for ranges of a video (format=mp4) and plays none
// served whole. It returns false when the request is to be answered with
// the whole entry: no Range, one that is not a single byte range, or an
// If-Range that does not match the entry's ETag.
func sendRange(w http.ResponseWriter, r *http.Request, st *reqState, e *entry) bool {
	spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return false
	}
	if ir := r.Header.Get("If-Range"); ir != "" && ir != e.ETag {
		return false
	}
	size := int64(len(e.Body))
	first, last, ok := parseByteRange(strings.TrimSpace(spec), size)
	if !ok {
		return false
	}
	hdr := w.Header()
	if first >= size {
		hdr.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		st.status = http.StatusRequestedRangeNotSatisfiable
		w.WriteHeader(st.status)
		return true
	}
	hdr.Set("Content-Range", "bytes "+strconv.FormatInt(first, 10)+"-"+strconv.FormatInt(last, 10)+"/"+strconv.FormatInt(size, 10))
	hdr.Set("Content-Length", strconv.FormatInt(last-first+1, 10))
	st.status = http.StatusPartialContent
	w.WriteHeader(st.status)
	if r.Method != http.MethodHead {
		n, _ := w.Write(e.Body[first : last+1])
		st.bytes = int64(n)
	}
	return true
}

// parseByteRange reads "first-last", "first-" or "-suffix" for a body of
// size bytes, clamping last to the end. A range starting past the end
// gives first ≥ size; ok is false for anything malformed.
func parseByteRange(spec string, size int64) (first, last int64, ok bool) {
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	num := func(s string) (int64, bool) {
		if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	if a == "" { // the last b bytes
		n, ok := num(b)
		if !ok || n == 0 {
			return 0, 0, false
		}
		return max(size-n, 0), size - 1, size > 0
	}
	first, ok = num(a)
	if !ok {
		return 0, 0, false
	}
	last = size - 1
	if b != "" {
		if last, ok = num(b); !ok || last < first {
			return 0, 0, false
		}
		last = min(last, size-1)
	}
	return first, last, true
}
