//go:build !(prometheus || full)

package main

const hasPrometheus = false

// newMetrics fails: this build has no Prometheus support (parseConfig
// refuses -metrics-addr before it is called).
func newMetrics() (metrics, error) {
	return nil, notBuilt("-metrics-addr", "prometheus")
}
