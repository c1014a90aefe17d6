//go:build !race

package wasmcodec

// raceEnabled reports whether the race detector is on: it adds its own
// shadow memory to the resident set.
const raceEnabled = false
