package imageopto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// Sentinel errors. Check them with errors.Is; StatusCode maps them to HTTP.
var (
	// ErrInvalidParam is wrapped by every *ParamError that reports a bad value.
	ErrInvalidParam = errors.New("imageopto: invalid parameter")
	// ErrUnsupportedParam is wrapped by a *ParamError whose value is valid in
	// the API but not implemented by this build.
	ErrUnsupportedParam = errors.New("imageopto: unsupported parameter value")
	// ErrUnsupportedFormat means the source's format (decided by magic
	// bytes) is unknown or not allowed.
	ErrUnsupportedFormat = errors.New("imageopto: not a supported image format")
	// ErrCorrupt means the source could not be parsed or decoded.
	ErrCorrupt = errors.New("imageopto: image could not be parsed")
	// ErrSourceTooLarge means the source is over a byte, pixel, side, frame
	// or scan limit.
	ErrSourceTooLarge = errors.New("imageopto: image exceeds maximum dimensions")
	// ErrJobTooLarge means a transformation would cost more than one job
	// may take: its memory estimate is over the per-job ceiling
	// (Options.MaxJobMemory), or its output is over an encoder's own pixel
	// limit (Limits.MaxAVIFPixels, Limits.MaxLosslessWebPPixels). It is
	// refused before any pixel is decoded (422).
	ErrJobTooLarge = errors.New("imageopto: transformation exceeds limits")
	// ErrNotFound means the origin has no such image.
	ErrNotFound = errors.New("imageopto: not found")
	// ErrOverloaded means the server is too busy to take the request now.
	ErrOverloaded = errors.New("imageopto: overloaded")
	// ErrInternal wraps a recovered panic or another bug; the detail is logged, never sent.
	ErrInternal = errors.New("imageopto: internal error")
)

// maxValueInError is how much of a bad value an error message repeats.
const maxValueInError = 64

// ParamError reports one bad query parameter: its name, the value given and
// why it was refused. ParseParams returns all of a query's ParamErrors
// joined with errors.Join.
type ParamError struct {
	Param       string // parameter name, e.g. "width"
	Value       string // the value as given (unescaped)
	Reason      string // why it was refused, e.g. "must be between 1 and 8192"
	Unsupported bool   // valid API value that this build does not implement
}

// Error returns "<param>=<value>: <reason>" with the value truncated to 64
// bytes, safe to show to a client.
func (e *ParamError) Error() string {
	return fmt.Sprintf("%s=%s: %s", e.Param, truncate(e.Value, maxValueInError), e.Reason)
}

// Unwrap returns ErrUnsupportedParam or ErrInvalidParam.
func (e *ParamError) Unwrap() error {
	if e.Unsupported {
		return ErrUnsupportedParam
	}
	return ErrInvalidParam
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence and
// quotes anything that is not printable.
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

// StatusCode maps an error returned by this package to the HTTP status the
// handler uses for it, so that users' own error handling can agree with
// ours: 400 for parameter errors and bad paths, 404 not found, 410 gone, 502
// when the origin failed, 403 for ErrForbidden, 415 unsupported source
// format, 422 corrupt or over-limit sources, 503 overload, 504 timeouts, 499
// when the client went away and 500 for anything else. A nil error maps to 200.
func StatusCode(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrInvalidParam), errors.Is(err, ErrUnsupportedParam):
		return http.StatusBadRequest
	case errors.Is(err, ErrBadPath):
		return http.StatusBadRequest
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrGone):
		return http.StatusGone
	case errors.Is(err, ErrOriginFailed):
		return http.StatusBadGateway
	case errors.Is(err, ErrUnsupportedFormat):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrSourceTooLarge), errors.Is(err, ErrJobTooLarge):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrOverloaded):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return 499 // client closed request (nginx convention); never reaches a client
	}
	return http.StatusInternalServerError
}
