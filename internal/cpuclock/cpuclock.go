// Package cpuclock reads the CPU time the process has used, for benchmarks
// and measurements that report it beside wall time: on a machine shared
// with other work, wall time grows with the load and CPU time much less.
package cpuclock

import (
	"testing"
	"time"
)

// Report adds the CPU time per operation since start (a Now reading) to
// b's results as the metric cpu-ms/op: user and system time of every
// goroutine, the garbage collector's included. Nothing is reported where
// Now cannot measure.
func Report(b *testing.B, start time.Duration) {
	if d := Now() - start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}
