//go:build !(cluster || full)

package main

import (
	"crypto/tls"
	"log/slog"

	"github.com/imageopto/imageopto"
)

const hasCluster = false

// noPeerStats is what /_imageopto/stats reports for the peer tier: this
// build has none.
func noPeerStats() any { return struct{}{} }

// openCluster fails: this build has no peer tier (validate refuses -peers
// before it is called).
func (b *backendFlags) openCluster(*config, *tls.Config, dialFunc, *slog.Logger) (peerTier, imageopto.Tier, func(), error) {
	return nil, nil, nil, notBuilt("-peers", "cluster")
}
