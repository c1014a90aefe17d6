//go:build s3 || full

package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/s3store"
)

const hasS3 = true

// s3Client makes the S3 client for -s3 and -s3-cache.
func (b *backendFlags) s3Client() (*s3.Client, error) {
	return s3store.NewClient(&s3store.ClientOptions{Endpoint: b.s3Endpoint, PathStyle: b.s3Endpoint != ""})
}

// openS3Origin opens -s3.
func (b *backendFlags) openS3Origin() (*source, error) {
	loc, err := s3store.ParseLocation(b.s3)
	if err != nil {
		return nil, err
	}
	c, err := b.s3Client()
	if err != nil {
		return nil, err
	}
	o, err := s3store.NewOrigin(c, loc.Bucket, loc.Prefix, nil)
	if err != nil {
		return nil, err
	}
	return &source{
		origin:   o,
		describe: "originals from " + loc.String(),
		examples: []example{{Path: "/KEY?width=300", What: "object KEY at 300 px wide"}},
		close:    func() {},
	}, nil
}

// openS3Cache opens -s3-cache; closeAll waits up to 10 s for the writes
// in the background.
func (b *backendFlags) openS3Cache(logger *slog.Logger) (_ imageopto.Cache, closeAll func(), _ error) {
	loc, err := s3store.ParseLocation(b.s3Cache)
	if err != nil {
		return nil, nil, err
	}
	c, err := b.s3Client()
	if err != nil {
		return nil, nil, err
	}
	sc, err := s3store.NewCache(c, loc.Bucket, loc.Prefix, &s3store.CacheOptions{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	return sc, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sc.Close(ctx)
	}, nil
}
