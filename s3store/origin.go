package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/imageopto/imageopto"
)

// OriginOptions configure an Origin. A nil pointer or a zero field takes
// the default shown.
type OriginOptions struct {
	// MaxBytes is the largest original fetched; larger objects are refused
	// with imageopto.ErrSourceTooLarge before their body is read (when the
	// store sends Content-Length) or as soon as the limit is passed.
	// Default: imageopto.DefaultLimits().MaxSourceBytes (50 MiB).
	MaxBytes int64
	// Timeout bounds one fetch, the body and the SDK's retries included.
	// Default: 10 seconds.
	Timeout time.Duration
}

// Origin fetches originals from an S3 bucket: the original for the origin
// path "photos/cat.jpg" is the object prefix + "/photos/cat.jpg". It
// implements imageopto.Origin and is safe for concurrent use.
//
// Errors: a missing object (NoSuchKey, 404) is imageopto.ErrNotFound. A
// refused request (403, AccessDenied) is imageopto.ErrOriginFailed, not
// imageopto.ErrForbidden: that error tells the client it may not have the
// image, while a 403 from the store means our credentials or the bucket
// policy are wrong. Note that S3 answers 403 instead of 404 for a missing
// key when the credentials lack s3:ListBucket on the bucket; grant it so
// that missing images are 404s. A missing bucket, 5xx answers and network
// errors are imageopto.ErrOriginFailed; a fetch that outlives Timeout wraps
// both imageopto.ErrOriginFailed and context.DeadlineExceeded. The query
// string (FetchRequest.RawQuery) is ignored: objects have none.
type Origin struct {
	client   *s3.Client
	bucket   string
	prefix   string
	maxBytes int64
	timeout  time.Duration
}

// NewOrigin returns an origin reading objects below prefix in bucket with
// client (see NewClient). The prefix may be empty; slashes around it are
// ignored.
func NewOrigin(client *s3.Client, bucket, prefix string, opts *OriginOptions) (*Origin, error) {
	if client == nil {
		return nil, errors.New("s3store: NewOrigin: nil client")
	}
	if err := checkBucket(bucket); err != nil {
		return nil, fmt.Errorf("s3store: NewOrigin: %w", err)
	}
	prefix, err := cleanPrefix(prefix)
	if err != nil {
		return nil, fmt.Errorf("s3store: NewOrigin: %w", err)
	}
	var o OriginOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBytes < 0 || o.Timeout < 0 {
		return nil, errors.New("s3store: NewOrigin: negative MaxBytes or Timeout")
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = imageopto.DefaultLimits().MaxSourceBytes
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	return &Origin{client: client, bucket: bucket, prefix: prefix, maxBytes: o.MaxBytes, timeout: o.Timeout}, nil
}

// Fetch gets the object for req.Path. When req carries a validator the
// request is conditional (If-None-Match, else If-Modified-Since) and an
// unchanged object gives a Source with NotModified set and no Data. The
// same comparison is made on the object's own ETag and Last-Modified, so a
// store that ignores conditional headers still answers NotModified, without
// the body being read. Source.Expires and NoStore come from the object's
// Cache-Control and Expires metadata.
func (o *Origin) Fetch(ctx context.Context, req imageopto.FetchRequest) (*imageopto.Source, error) {
	p, err := imageopto.CleanPath(req.Path)
	if err != nil {
		return nil, err
	}
	key := joinKey(o.prefix, p)
	if len(key) > maxKeyBytes {
		return nil, fmt.Errorf("%w: %s (key longer than %d bytes)", imageopto.ErrNotFound, p, maxKeyBytes)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	in := &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)}
	conditional := req.IfNoneMatch != "" || !req.IfModifiedSince.IsZero()
	if req.IfNoneMatch != "" {
		in.IfNoneMatch = aws.String(req.IfNoneMatch) // takes precedence (RFC 9110 §13.2.2)
	} else if !req.IfModifiedSince.IsZero() {
		in.IfModifiedSince = aws.Time(req.IfModifiedSince)
	}
	out, err := o.client.GetObject(ctx, in)
	if err != nil {
		if httpStatus(err) == http.StatusNotModified && conditional {
			return notModifiedSource(err, req), nil
		}
		return nil, o.fetchError(parent, ctx, p, key, err)
	}
	defer out.Body.Close()
	src := &imageopto.Source{ETag: aws.ToString(out.ETag)}
	if out.LastModified != nil {
		src.LastModified = out.LastModified.UTC()
	}
	src.Expires, src.NoStore = freshness(aws.ToString(out.CacheControl), aws.ToString(out.ExpiresString), time.Now())
	if req.NotModified(src.ETag, src.LastModified) {
		src.NotModified = true // the store ignored the condition; the body stays unread
		return src, nil
	}
	if ce := aws.ToString(out.ContentEncoding); ce != "" && !strings.EqualFold(ce, "identity") && !strings.EqualFold(ce, "aws-chunked") {
		// A compressed original could pass the byte cap and then expand.
		return nil, fmt.Errorf("%w: s3://%s/%s has Content-Encoding %q", imageopto.ErrOriginFailed, o.bucket, key, ce)
	}
	if n := aws.ToInt64(out.ContentLength); n > o.maxBytes {
		return nil, fmt.Errorf("%w: original of %d bytes, limit %d", imageopto.ErrSourceTooLarge, n, o.maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, o.maxBytes+1))
	if err != nil {
		return nil, o.fetchError(parent, ctx, p, key, err)
	}
	if int64(len(data)) > o.maxBytes {
		return nil, fmt.Errorf("%w: original over %d bytes", imageopto.ErrSourceTooLarge, o.maxBytes)
	}
	src.Data = data
	return src, nil
}

// fetchError classifies a failed fetch; p is the origin path (safe to show
// a client), key the object key (for the log only, in 5xx errors).
func (o *Origin) fetchError(parent, ctx context.Context, p, key string, err error) error {
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("s3store: fetch s3://%s/%s: %w", o.bucket, key, parent.Err())
	case timedOut(parent, ctx):
		return fmt.Errorf("%w: s3://%s/%s: no complete answer within %v: %w",
			imageopto.ErrOriginFailed, o.bucket, key, o.timeout, context.DeadlineExceeded)
	case isNoSuchKey(err):
		return fmt.Errorf("%w: %s", imageopto.ErrNotFound, p)
	case httpStatus(err) == http.StatusForbidden:
		return fmt.Errorf("%w: s3://%s/%s: access denied (check the credentials and the bucket policy; without s3:ListBucket a missing key is a 403): %v",
			imageopto.ErrOriginFailed, o.bucket, key, err)
	}
	return fmt.Errorf("%w: s3://%s/%s: %v", imageopto.ErrOriginFailed, o.bucket, key, err)
}

// notModifiedSource is the Source for a 304, with the validators and
// freshness the answer carried.
func notModifiedSource(err error, req imageopto.FetchRequest) *imageopto.Source {
	src := &imageopto.Source{NotModified: true}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
		h := re.Response.Header
		src.ETag = h.Get("ETag")
		if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
			src.LastModified = t.UTC()
		}
		src.Expires, src.NoStore = freshness(h.Get("Cache-Control"), h.Get("Expires"), time.Now())
	}
	if src.ETag == "" {
		src.ETag = req.IfNoneMatch
	}
	return src
}

// freshness reads an object's Cache-Control and Expires metadata the way
// the HTTP origin reads the same response headers.
func freshness(cacheControl, expires string, now time.Time) (time.Time, bool) {
	h := http.Header{}
	if cacheControl != "" {
		h.Set("Cache-Control", cacheControl)
	}
	if expires != "" {
		h.Set("Expires", expires)
	}
	return imageopto.Freshness(h, now)
}
