//go:build !unix

package main

import "os"

// maxRSSKB is 0 where getrusage is not available.
func maxRSSKB(*os.ProcessState) int64 { return 0 }
