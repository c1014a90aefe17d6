//go:build race

package jpegdec

// raceEnabled is true when the race detector, which slows the tests down
// about tenfold, is on; some tests then use fewer samples.
const raceEnabled = true
