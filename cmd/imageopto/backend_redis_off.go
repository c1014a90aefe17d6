//go:build !(redis || full)

package main

import "github.com/imageopto/imageopto"

const hasRedis = false

// openRedis fails: this build has no Redis support (validate refuses
// -redis before it is called).
func openRedis(string) (_, _ imageopto.Cache, _ imageopto.PurgeStore, _ func(), _ error) {
	return nil, nil, nil, nil, notBuilt("-redis", "redis")
}
