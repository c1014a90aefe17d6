//go:build !(s3 || full)

package main

import (
	"log/slog"

	"github.com/imageopto/imageopto"
)

const hasS3 = false

// openS3Origin fails: this build has no S3 support (validate refuses -s3
// before it is called).
func (b *backendFlags) openS3Origin() (*source, error) {
	return nil, notBuilt("-s3", "s3")
}

// openS3Cache fails likewise for -s3-cache.
func (b *backendFlags) openS3Cache(*slog.Logger) (imageopto.Cache, func(), error) {
	return nil, nil, notBuilt("-s3-cache", "s3")
}
