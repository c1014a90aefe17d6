//go:build race

package main

// raceEnabled is true when the race detector is on: it makes code several
// times slower and its memory several times larger, so memory bounds of
// whole processes do not hold under it.
const raceEnabled = true
