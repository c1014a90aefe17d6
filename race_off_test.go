//go:build !race

package imageopto

// raceSlowdown scales latency bounds in tests: the race detector makes code
// several times slower.
const raceSlowdown = 1
