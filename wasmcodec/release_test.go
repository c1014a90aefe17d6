package wasmcodec

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imageopto/imageopto/internal/cpuclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitFor polls cond every few milliseconds until it holds or limit
// passes, reporting whether it held. The limit only bounds a failing
// test: nothing is asserted about how long it took.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// armed reports whether r has a release scheduled.
func (r *releaser) armed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.timer != nil
}

func TestReleaserSmallCalls(t *testing.T) {
	t.Parallel()
	var freed atomic.Int64
	r := &releaser{quiet: time.Millisecond, maxDelay: time.Millisecond, free: func() { freed.Add(1) }}
	for range 1000 {
		r.after(releaseThreshold - 1)
	}
	assert.False(t, r.armed(), "small calls schedule nothing")
	assert.Equal(t, int64(1000), r.calls.Load())
	assert.Zero(t, r.releases.Load())
}

func TestReleaserAfterLargeCalls(t *testing.T) {
	t.Parallel()
	var freed atomic.Int64
	r := &releaser{quiet: 20 * time.Millisecond, maxDelay: time.Hour, free: func() { freed.Add(1) }}
	start := time.Now()
	for range 50 {
		r.after(releaseThreshold)
	}
	assert.True(t, r.armed())
	require.True(t, waitFor(time.Minute, func() bool { return r.releases.Load() >= 1 }), "released after the burst")
	require.True(t, waitFor(time.Minute, func() bool { return !r.armed() }))
	// One release per quiet period at most: a burst is one release, unless
	// the machine stalled the burst itself for longer than the period.
	elapsed := time.Since(start)
	assert.LessOrEqual(t, r.releases.Load(), 1+int64(elapsed/r.quiet), "releases in %v", elapsed)
	assert.Equal(t, r.releases.Load(), freed.Load())

	r.after(releaseThreshold)
	require.True(t, waitFor(time.Minute, func() bool { return freed.Load() >= 2 }), "a later large call releases again")
}

// TestReleaserMaxDelay: large calls that never stop still get a release,
// once maxDelay has passed since the first.
func TestReleaserMaxDelay(t *testing.T) {
	t.Parallel()
	var during atomic.Bool
	var running atomic.Bool
	running.Store(true)
	r := &releaser{quiet: time.Hour, maxDelay: 20 * time.Millisecond, free: func() {
		if running.Load() {
			during.Store(true)
		}
	}}
	waitFor(time.Minute, func() bool {
		r.after(releaseThreshold)
		return during.Load()
	})
	running.Store(false)
	assert.True(t, during.Load(), "released while the large calls went on")
}

// TestReleaseRSS: after a large decode, the process's resident set returns
// near where it was before, instead of keeping the WebAssembly module's
// memory for minutes. Not parallel: it measures the process.
func TestReleaseRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes a 4 MP image")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory counts in the resident set")
	}
	require.NoError(t, Warm())
	var buf bytes.Buffer
	require.NoError(t, avifAt(60, 10)(&buf, photoLike(2000, 2000, true, 3)))
	data := buf.Bytes()
	require.GreaterOrEqual(t, avifDecodeModel.bytes(2000, 2000), int64(releaseThreshold), "a large call")

	debug.FreeOSMemory()
	resetPeakRSS()
	base := procStatus("VmRSS")
	releases := memory.releases.Load()
	img, err := decodeAVIF(data)
	require.NoError(t, err)
	require.Equal(t, 2000, img.Bounds().Dx())
	img = nil
	peak := procStatus("VmHWM")
	require.True(t, waitFor(time.Minute, func() bool { return memory.releases.Load() > releases }), "memory released")
	after := procStatus("VmRSS")
	t.Logf("VmRSS %d MiB before the decode, VmHWM %d MiB during it, VmRSS %d MiB after the release",
		base>>20, peak>>20, after>>20)
	if base == 0 {
		t.Skip("no /proc/self/status")
	}
	require.Greater(t, peak, base+100<<20, "the decode grew the process by over 100 MiB")
	assert.Less(t, after, base+(peak-base)/4, "three quarters of the growth is given back")
}

// TestWarmCost runs Warm in a fresh process (TestWarmChild), where nothing
// is compiled yet, and checks that the compiler's garbage is given back:
// the resident set after Warm and the release is well below its peak.
func TestWarmCost(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("compiles every module in a child process (ten times slower under the race detector)")
	}
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^TestWarmChild$", "-test.v")
	cmd.Env = append(os.Environ(), "WASMCODEC_WARM_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	var cpu time.Duration
	var peak, after uint64
	for line := range strings.SplitSeq(string(out), "\n") {
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "WARM cpu=%d peak=%d after=%d", &cpu, &peak, &after); err == nil {
			break
		}
	}
	require.NotZero(t, cpu, "%s", out)
	t.Logf("Warm: %v of CPU, VmHWM %d MiB, VmRSS %d MiB after the release", cpu.Round(time.Millisecond), peak>>20, after>>20)
	if peak > 0 {
		assert.Less(t, after, peak-(peak>>2), "a quarter of the peak or more is given back")
	}
}

// TestWarmChild is TestWarmCost's child process.
func TestWarmChild(t *testing.T) {
	if os.Getenv("WASMCODEC_WARM_CHILD") == "" {
		t.Skip("run by TestWarmCost")
	}
	c0 := cpuclock.Now()
	require.NoError(t, Warm())
	cpu := cpuclock.Now() - c0
	// The last compilation scheduled a release (earlier ones may have
	// happened while Warm went on): wait for it.
	n := memory.releases.Load()
	require.True(t, memory.armed())
	require.True(t, waitFor(time.Minute, func() bool { return memory.releases.Load() > n }))
	fmt.Printf("WARM cpu=%d peak=%d after=%d\n", cpu, procStatus("VmHWM"), procStatus("VmRSS"))
}
