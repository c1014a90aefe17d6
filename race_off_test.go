//go:build !race

package imageopto

// raceSlowdown is how many times slower the race detector makes code: tests
// skip the work that would take too long with it. (Tests assert no latency
// bounds: a loaded machine stretches any of them.)
const raceSlowdown = 1
