//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// maxRSSKB is a finished process's peak resident set size in KiB, from
// getrusage's ru_maxrss (what /usr/bin/time -v reports).
func maxRSSKB(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) / 1024 // bytes there
	}
	return int64(ru.Maxrss)
}
