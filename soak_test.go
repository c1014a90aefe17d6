package imageopto

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSoakL5 is reliability.md's L5: a long run at half of the measured L1
// capacity, checking that heap, goroutines and open files stay flat. It is
// nightly, not per commit: it runs only when IMAGEOPTO_SOAK names a
// duration (the profile asks for 10m):
//
//	IMAGEOPTO_SOAK=10m go test -run SoakL5 -v -timeout 30m .
func TestSoakL5(t *testing.T) {
	spec := os.Getenv("IMAGEOPTO_SOAK")
	if spec == "" {
		t.Skip("L5 soak runs only when IMAGEOPTO_SOAK is set (e.g. IMAGEOPTO_SOAK=10m)")
	}
	duration, err := time.ParseDuration(spec)
	require.NoError(t, err, "IMAGEOPTO_SOAK")
	verifyNoLeaks(t)

	files := map[string][]byte{}
	for i := range 40 {
		files[fmt.Sprintf("p%02d.jpg", i)] = encodeJPEG(t, photoLike(400+i, 300), 85, 0)
	}
	origin := newFakeOrigin(files)
	// Small caches, so that eviction runs all the time.
	h := newTestHandler(t, origin, &Options{Cache: NewMemoryCache(8 << 20), SourceCache: NewMemoryCache(4 << 20)})
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	defer client.CloseIdleConnections()
	// 80 % from a hot set, 20 % new sizes.
	target := func(rng *rand.Rand) string {
		if rng.IntN(5) == 0 {
			return fmt.Sprintf("/p%02d.jpg?width=%d", rng.IntN(40), 50+rng.IntN(300))
		}
		return fmt.Sprintf("/p%02d.jpg?width=100", rng.IntN(10))
	}
	fetch := func(rng *rand.Rand) int {
		resp, err := client.Get(srv.URL + target(rng))
		if err != nil {
			return -1
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	// Capacity: 16 workers flat out for 5 s.
	var done atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(5 * time.Second)
	for w := range 16 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for time.Now().Before(deadline) {
				fetch(rng)
				done.Add(1)
			}
		})
	}
	wg.Wait()
	rate := float64(done.Load()) / 5 / 2 // half of capacity, per second
	t.Logf("L5: capacity %.0f req/s; soaking at %.0f req/s for %v", 2*rate, rate, duration)

	type sample struct {
		at              time.Duration
		heap            uint64
		goroutines, fds int
	}
	var samples []sample
	statuses := map[int]int{}
	var mu sync.Mutex
	start := time.Now()
	// 16 paced workers, each at a sixteenth of the rate (one ticker cannot
	// keep up with thousands of ticks a second: it drops them).
	const pacers = 16
	for w := range pacers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			tick := time.NewTicker(time.Duration(float64(time.Second) * pacers / rate))
			defer tick.Stop()
			for time.Since(start) < duration {
				<-tick.C
				code := fetch(rng)
				mu.Lock()
				statuses[code]++
				mu.Unlock()
			}
		})
	}
	sampleTick := time.NewTicker(time.Second)
	for time.Since(start) < duration {
		<-sampleTick.C
		runtime.GC()
		samples = append(samples, sample{time.Since(start), heapObjects(), runtime.NumGoroutine(), openFDs()})
	}
	sampleTick.Stop()
	wg.Wait()
	mu.Lock()
	total := 0
	for _, n := range statuses {
		total += n
	}
	t.Logf("L5: statuses %v (%.0f req/s achieved)", statuses, float64(total)/time.Since(start).Seconds())
	mu.Unlock()
	for code := range statuses {
		assert.Equal(t, http.StatusOK, code, "only 200 at half capacity")
	}

	// After a warm-up fifth: the heap's least-squares slope, and the spread
	// of goroutines and descriptors.
	warm := samples[len(samples)/5:]
	require.GreaterOrEqual(t, len(warm), 3, "soak too short to measure")
	var sx, sy, sxx, sxy float64
	gMin, gMax, fMin, fMax := warm[0].goroutines, warm[0].goroutines, warm[0].fds, warm[0].fds
	for _, s := range warm {
		x, y := s.at.Minutes(), float64(s.heap)/(1<<20)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
		gMin, gMax = min(gMin, s.goroutines), max(gMax, s.goroutines)
		fMin, fMax = min(fMin, s.fds), max(fMax, s.fds)
	}
	n := float64(len(warm))
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	t.Logf("L5: heap slope %.3f MiB/min after warm-up (%d samples, last %d MiB); goroutines %d–%d; fds %d–%d",
		slope, len(warm), warm[len(warm)-1].heap>>20, gMin, gMax, fMin, fMax)
	assert.Less(t, slope, 1.0, "heap slope (MiB/min)")
	assert.LessOrEqual(t, gMax-gMin, 20, "goroutines flat (±10)")
	assert.LessOrEqual(t, fMax-fMin, 20, "open files flat (±10)")
}

// openFDs counts this process's open file descriptors (Linux), or -1.
func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}
