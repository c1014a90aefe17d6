//go:build unix

package cpuclock

import "testing"

// TestNowAdvances: work on this goroutine shows in Now.
func TestNowAdvances(t *testing.T) {
	start := Now()
	if start <= 0 {
		t.Fatalf("Now() = %v before any work, want > 0", start)
	}
	x := uint64(1)
	for Now() == start {
		for range 1 << 20 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	if x == 0 {
		t.Log(x) // keeps the loop
	}
}
