package s3store

import (
	"context"
	"errors"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrClosed is returned by Cache.Set and Cache.Delete after Close.
var ErrClosed = errors.New("s3store: cache closed")

// httpStatus returns the HTTP status of an S3 error response, or 0 when
// the error is not an answer from the store (a network error, a timeout).
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// apiCode returns the S3 error code ("NoSuchKey", "AccessDenied", …), or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNoSuchKey reports whether err says that the object does not exist. A
// missing bucket is not that: it is a configuration error.
func isNoSuchKey(err error) bool {
	switch apiCode(err) {
	case "NoSuchBucket":
		return false
	case "NoSuchKey", "NotFound":
		return true
	}
	return httpStatus(err) == 404
}

// timedOut reports whether an operation under ctx failed because ctx's own
// deadline passed while the parent's had not: the store was too slow.
func timedOut(parent, ctx context.Context) bool {
	return parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
}
