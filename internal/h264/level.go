package h264

import (
	"fmt"
	"math"
	"time"
)

// Level is an H.264 level: the limits a decoder of that level supports
// (Table A-1).
type Level struct {
	Name    string // as the URL API spells it: "3.1"
	IDC     int    // level_idc: 31
	MaxMBPS int    // macroblocks per second
	MaxFS   int    // macroblocks per frame
	MaxDpb  int    // macroblocks in the decoded picture buffer
	MaxBR   int    // kbit/s (Baseline and Main)
}

// Levels are the levels of Table A-1 (except 1b), lowest first.
var Levels = []Level{
	{"1.0", 10, 1485, 99, 396, 64},
	{"1.1", 11, 3000, 396, 900, 192},
	{"1.2", 12, 6000, 396, 2376, 384},
	{"1.3", 13, 11880, 396, 2376, 768},
	{"2.0", 20, 11880, 396, 2376, 2000},
	{"2.1", 21, 19800, 792, 4752, 4000},
	{"2.2", 22, 20250, 1620, 8100, 4000},
	{"3.0", 30, 40500, 1620, 8100, 10000},
	{"3.1", 31, 108000, 3600, 18000, 14000},
	{"3.2", 32, 216000, 5120, 20480, 20000},
	{"4.0", 40, 245760, 8192, 32768, 20000},
	{"4.1", 41, 245760, 8192, 32768, 50000},
	{"4.2", 42, 522240, 8704, 34816, 50000},
	{"5.0", 50, 589824, 22080, 110400, 135000},
	{"5.1", 51, 983040, 36864, 184320, 240000},
	{"5.2", 52, 2073600, 36864, 184320, 240000},
	{"6.0", 60, 4177920, 139264, 696320, 240000},
	{"6.1", 61, 8355840, 139264, 696320, 480000},
	{"6.2", 62, 16711680, 139264, 696320, 800000},
}

// LevelByName returns the level spelled name ("3.0"), or false.
func LevelByName(name string) (Level, bool) {
	for _, l := range Levels {
		if l.Name == name {
			return l, true
		}
	}
	return Level{}, false
}

// macroblocks returns the size in macroblocks of a w×h picture as this
// encoder codes it (even sizes, rounded up to whole macroblocks).
func macroblocks(w, h int) (mbw, mbh int) {
	w, h = w+w&1, h+h&1
	return (w + 15) / 16, (h + 15) / 16
}

// CheckSize reports whether a w×h picture fits the level: its frame size
// (MaxFS), each side (at most √(8·MaxFS) macroblocks) and the decoded
// picture buffer for the one reference frame this encoder uses.
func (l Level) CheckSize(w, h int) error {
	mbw, mbh := macroblocks(w, h)
	fs := mbw * mbh
	side := int(math.Sqrt(float64(8 * l.MaxFS)))
	switch {
	case fs > l.MaxFS:
		return fmt.Errorf("a %dx%d frame is %d macroblocks, level %s allows %d", w, h, fs, l.Name, l.MaxFS)
	case mbw > side || mbh > side:
		return fmt.Errorf("a %dx%d frame has a side of %d macroblocks, level %s allows %d", w, h, max(mbw, mbh), l.Name, side)
	case fs > l.MaxDpb:
		return fmt.Errorf("a %dx%d frame does not fit the decoded picture buffer of level %s", w, h, l.Name)
	}
	return nil
}

// CheckRate reports whether frames of w×h shown at least shortest each fit
// the level's macroblock rate (MaxMBPS).
func (l Level) CheckRate(w, h int, shortest time.Duration) error {
	mbw, mbh := macroblocks(w, h)
	if shortest <= 0 {
		return fmt.Errorf("frame duration %v", shortest)
	}
	rate := float64(mbw*mbh) / shortest.Seconds()
	if rate > float64(l.MaxMBPS) {
		return fmt.Errorf("%dx%d frames every %v are %.0f macroblocks per second, level %s allows %d",
			w, h, shortest, rate, l.Name, l.MaxMBPS)
	}
	return nil
}

// LowestLevel returns the lowest level that fits w×h frames shown at least
// shortest each, or false when none does.
func LowestLevel(w, h int, shortest time.Duration) (Level, bool) {
	for _, l := range Levels {
		if l.CheckSize(w, h) == nil && l.CheckRate(w, h, shortest) == nil {
			return l, true
		}
	}
	return Level{}, false
}
