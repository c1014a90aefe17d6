//go:build redis || full

package main

import (
	"fmt"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/rediscache"
)

const hasRedis = true

// openRedis opens -redis: a result layer, a source layer and the purge
// store, all closed by closeAll.
func openRedis(url string) (results, sources imageopto.Cache, purges imageopto.PurgeStore, closeAll func(), err error) {
	r, err := rediscache.Open(url, &rediscache.Options{Prefix: "imageopto:r:"})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("-redis: %w", err)
	}
	s, err := rediscache.Open(url, &rediscache.Options{Prefix: "imageopto:s:"})
	if err != nil {
		_ = r.Close()
		return nil, nil, nil, nil, fmt.Errorf("-redis: %w", err)
	}
	return r, s, r.PurgeStore(), func() { _ = s.Close(); _ = r.Close() }, nil
}
