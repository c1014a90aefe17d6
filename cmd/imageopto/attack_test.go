package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The attacks of issue 11, each a request of a few bytes against a server
// process started with the command's defaults, checked for: the status it
// must get, the server's peak resident memory (VmHWM) within the memory
// budget plus a stated margin, and a cheap uncached request still served
// while the attack runs. They run without the race detector (.ci/run runs
// them so): its memory overhead would void every memory bound.

const (
	defaultBudget = 1 << 30   // the server's default memory budget
	defaultCaches = 256 << 20 // the server's default -cache-size
	// rssMargin is what a server process holds beyond the budget and the
	// caches: code, the compiled WebAssembly codecs (about 100 MiB), the
	// garbage collector's slack under the soft memory limit the command
	// sets, and the HTTP buffers of the clients.
	rssMargin = 512 << 20
)

// procStatus reads a field (VmRSS, VmHWM) of /proc/PID/status in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// skipUnlessAttackable skips where whole-process memory bounds cannot hold.
func skipUnlessAttackable(t *testing.T) {
	t.Helper()
	needFeature(t, "wasmcodec") // AVIF and WebP attacks
	if testing.Short() {
		t.Skip("server attack tests skipped in -short mode")
	}
	if raceEnabled {
		t.Skip("server attack tests run without -race (.ci/run runs them so): the race detector multiplies memory")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the server's resident memory")
	}
}

// attackDir writes the originals the attacks use.
func attackDir(t *testing.T) string {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	write("small.jpg", jpegOf(t, noise(64, 64)))
	for i := range 8 {
		write(fmt.Sprintf("cheap%d.jpg", i), jpegOf(t, noise(400, 300)))
	}
	// A 49 MP photo-sized source (grey and flat, so small on disk).
	big := image.NewGray(image.Rect(0, 0, 7000, 7000))
	for i := range big.Pix {
		big.Pix[i] = uint8(i / 7000)
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, big, &jpeg.Options{Quality: 50}))
	write("big.jpg", buf.Bytes())
	// A 10 GiB sparse file, and an empty one.
	f, err := os.Create(filepath.Join(dir, "sparse.jpg"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(10<<30))
	require.NoError(t, f.Close())
	write("empty.jpg", nil)
	// A 2 KB AVIF around a flat 13000×13000 AV1 frame, honest and with its
	// container (ispe) saying 64×64.
	huge, err := os.ReadFile("../../wasmcodec/testdata/huge-frame.avif")
	require.NoError(t, err)
	write("huge.avif", huge)
	write("liar.avif", withISPE(t, huge, 64, 64))
	return dir
}

// withISPE returns an AVIF whose ispe boxes say w×h.
func withISPE(t *testing.T, data []byte, w, h uint32) []byte {
	out := bytes.Clone(data)
	n := 0
	for i := 0; i+16 <= len(out); i++ {
		if string(out[i:i+4]) == "ispe" {
			binary.BigEndian.PutUint32(out[i+8:], w) // after version and flags
			binary.BigEndian.PutUint32(out[i+12:], h)
			n++
		}
	}
	require.Positive(t, n, "no ispe box")
	return out
}

func noise(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(7)
	for i := range img.Pix {
		seed = seed*1664525 + 1013904223
		img.Pix[i] = uint8(seed >> 24)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

func jpegOf(t *testing.T, img image.Image) []byte {
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}))
	return buf.Bytes()
}

// attackServer starts the command on dir (or with other flags) and returns
// its base URL and process.
func attackServer(t *testing.T, args ...string) (string, *exec.Cmd) {
	addr := freePort(t)
	cmd := startServer(t, addr, args...)
	return "http://" + addr, cmd
}

var attackClient = &http.Client{Timeout: 120 * time.Second}

// status requests url and returns the status and body (the body read and
// dropped for images).
func status(t *testing.T, url string) (int, string) {
	resp, err := attackClient.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, string(b)
}

// cheapLoop requests new cheap URLs one after another until stop is
// closed, and returns their statuses. It makes at least one request even
// when stop comes first (an attack refused in a millisecond can end before
// the loop's goroutine has run at all on a loaded machine).
func cheapLoop(t *testing.T, base string, stop <-chan struct{}) <-chan map[int]int {
	out := make(chan map[int]int, 1)
	go func() {
		got := map[int]int{}
		for i := 0; ; i++ {
			code, body := status(t, fmt.Sprintf("%s/cheap%d.jpg?width=%d", base, i%8, 50+i))
			if code != http.StatusOK {
				t.Logf("cheap request: %d %s", code, body)
			}
			got[code]++
			select {
			case <-stop:
				out <- got
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return out
}

// TestAttacks: each expensive request of issue 11 against a server with the
// command's defaults gets its stated status while cheap requests keep being
// served, and the server's peak resident memory stays within the budget,
// the caches and the margin.
func TestAttacks(t *testing.T) {
	skipUnlessAttackable(t)
	base, cmd := attackServer(t, "-dir", attackDir(t))
	pid := cmd.Process.Pid
	cases := []struct {
		name, path string
		status     []int // allowed
		reason     string
	}{
		{"canvas to AVIF", "/small.jpg?canvas=8192,8192&format=avif", []int{422}, "AVIF limit"},
		{"canvas to lossless WebP", "/small.jpg?canvas=8192,8192&format=webpll", []int{422}, "lossless WebP limit"},
		{"canvas to PNG", "/small.jpg?canvas=8192,8192&format=png", []int{422}, "per-job limit"},
		{"pad to PNG", "/small.jpg?pad=4000&format=png", []int{422}, "per-job limit"},
		{"upscale crop to PNG", "/small.jpg?width=8192&height=8192&fit=crop&enable=upscale&format=png", []int{422}, "per-job limit"},
		// Within the ceiling on the planar JPEG path: it runs, inside its estimate.
		{"upscale to JPEG", "/small.jpg?width=8191&enable=upscale", []int{200}, ""},
		{"49 MP to WebP", "/big.jpg?format=webp", []int{422}, "per-job limit"},
		{"49 MP to lossless WebP", "/big.jpg?format=webpll", []int{422}, "limit"},
		{"AVIF of a 13000² frame", "/huge.avif?width=100", []int{422}, "exceeds maximum"},
		{"AVIF whose container lies", "/liar.avif?width=100", []int{422}, "sequence header says 13000x13000"},
		{"10 GiB sparse file", "/sparse.jpg?width=100", []int{422}, "exceeds maximum"},
		{"empty original", "/empty.jpg?width=100", []int{422}, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stop := make(chan struct{})
			cheap := cheapLoop(t, base, stop)
			start := time.Now()
			code, body := status(t, base+c.path)
			took := time.Since(start)
			close(stop)
			cheapStatuses := <-cheap
			t.Logf("%s: %d in %v (%s); cheap requests meanwhile %v; server VmHWM %d MiB",
				c.path, code, took.Round(time.Millisecond), strings.TrimSpace(body), cheapStatuses, procStatus(t, pid, "VmHWM")>>20)
			assert.Contains(t, c.status, code, body)
			if c.reason != "" {
				assert.Contains(t, body, c.reason)
			}
			total := 0
			for _, k := range cheapStatuses {
				total += k
			}
			assert.Equal(t, total, cheapStatuses[http.StatusOK], "cheap requests all served: %v", cheapStatuses)
			assert.Positive(t, cheapStatuses[http.StatusOK], "a cheap request was served meanwhile")
		})
	}
	hwm := procStatus(t, pid, "VmHWM")
	t.Logf("server peak resident memory %d MiB (bound: budget %d + caches %d + margin %d MiB)", hwm>>20, defaultBudget>>20, defaultCaches>>20, rssMargin>>20)
	assert.LessOrEqual(t, hwm, int64(defaultBudget+defaultCaches+rssMargin))
}

// TestAttackFlood fires the expensive requests concurrently from several
// clients for a bounded time: no 5xx but 503 and 504, peak resident memory
// within the bound, cheap requests still served, and full service after.
func TestAttackFlood(t *testing.T) {
	skipUnlessAttackable(t)
	base, cmd := attackServer(t, "-dir", attackDir(t))
	pid := cmd.Process.Pid
	paths := []string{
		"/small.jpg?canvas=8192,8192&format=avif",
		"/small.jpg?canvas=8192,8192&format=webpll",
		"/small.jpg?pad=4000&format=png",
		"/small.jpg?width=%d&enable=upscale",
		"/small.jpg?width=%d&height=8000&fit=crop&enable=upscale&format=png",
		"/big.jpg?format=webp&width=%d",
		"/big.jpg?width=%d&format=png",
	}
	const clients = 6
	duration := 10 * time.Second
	var mu sync.Mutex
	statuses := map[int]int{}
	var n atomic.Int64
	deadline := time.Now().Add(duration)
	stop := make(chan struct{})
	cheap := cheapLoop(t, base, stop)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				p := paths[(c+i)%len(paths)]
				if strings.Contains(p, "%d") {
					p = fmt.Sprintf(p, 7000+int(n.Add(1))%1000) // a new key every time
				}
				code, body := status(t, base+p)
				if code >= 500 && code != 503 && code != 504 {
					t.Errorf("%s: %d %s", p, code, body)
				}
				mu.Lock()
				statuses[code]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	cheapStatuses := <-cheap
	hwm := procStatus(t, pid, "VmHWM")
	t.Logf("flood: %d clients × %v: %v; cheap requests %v; peak resident %d MiB", clients, duration, statuses, cheapStatuses, hwm>>20)
	assert.LessOrEqual(t, hwm, int64(defaultBudget+defaultCaches+rssMargin), "peak resident memory")
	assert.Positive(t, cheapStatuses[http.StatusOK], "cheap requests served during the flood")
	// Full recovery: every slot and every byte of budget given back.
	for i := range 10 {
		code, body := status(t, fmt.Sprintf("%s/cheap%d.jpg?width=%d", base, i%8, 900+i))
		assert.Equal(t, http.StatusOK, code, body)
	}
	code, body := status(t, base+"/small.jpg?width=8191&height=4000&fit=crop&enable=upscale")
	assert.Equal(t, http.StatusOK, code, "a heavy job runs again after the flood: %s", body)
	t.Logf("after the flood: resident %d MiB", procStatus(t, pid, "VmRSS")>>20)
}

// TestAttackOrigins: the origin cannot be turned inward or shut for
// everybody, and originals in flight stay within the budget.
func TestAttackOrigins(t *testing.T) {
	skipUnlessAttackable(t)
	var secretHits atomic.Int64
	secret := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secretHits.Add(1)
		_, _ = w.Write(jpegOf(t, noise(32, 32)))
	}))
	t.Cleanup(secret.Close)
	small := jpegOf(t, noise(200, 150))
	// A real JPEG followed by 45 MB of trailing bytes (allowed after EOI).
	huge := append(bytes.Clone(small), bytes.Repeat([]byte{0}, 45<<20)...)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/redirect.jpg":
			http.Redirect(w, r, secret.URL+"/secret.jpg", http.StatusFound)
		case r.URL.Path == "/bad.jpg":
			w.WriteHeader(http.StatusInternalServerError)
		case strings.HasPrefix(r.URL.Path, "/huge"):
			w.Header().Set("Content-Length", strconv.Itoa(len(huge)))
			_, _ = w.Write(huge)
		default:
			_, _ = w.Write(small)
		}
	}))
	t.Cleanup(origin.Close)
	base, cmd := attackServer(t, "-origin", origin.URL)
	pid := cmd.Process.Pid

	t.Run("redirect inward", func(t *testing.T) {
		code, body := status(t, base+"/redirect.jpg?width=10")
		assert.Equal(t, http.StatusBadGateway, code, body)
		assert.Zero(t, secretHits.Load(), "the internal server was never asked")
	})
	t.Run("one failing path does not shut the origin", func(t *testing.T) {
		for range 12 {
			code, _ := status(t, base+"/bad.jpg?width=10")
			assert.Equal(t, http.StatusBadGateway, code)
		}
		for i := range 5 {
			code, body := status(t, fmt.Sprintf("%s/good%d.jpg?width=20", base, i))
			assert.Equal(t, http.StatusOK, code, "other paths still served: %s", body)
		}
	})
	t.Run("originals in flight within the budget", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[int]int{}
		for i := range 60 {
			wg.Go(func() {
				code, _ := status(t, fmt.Sprintf("%s/huge%d.jpg?width=50", base, i))
				mu.Lock()
				got[code]++
				mu.Unlock()
			})
		}
		wg.Wait()
		hwm := procStatus(t, pid, "VmHWM")
		t.Logf("60 concurrent 45 MB originals: %v; peak resident %d MiB", got, hwm>>20)
		for code := range got {
			assert.Contains(t, []int{200, 503}, code)
		}
		assert.Positive(t, got[http.StatusOK])
		assert.LessOrEqual(t, hwm, int64(defaultBudget+defaultCaches+rssMargin), "peak resident memory")
	})
}

// TestAttackDeadline: with a budget large enough to admit it, an expensive
// job in the pixel loops is stopped at the flight deadline: 504, and its
// CPU slot — the only one — is free again at once (the job would take
// about a minute), so the next requests are served.
func TestAttackDeadline(t *testing.T) {
	skipUnlessAttackable(t)
	base, _ := attackServer(t, "-dir", attackDir(t), "-memory-budget", "4GiB", "-flight-timeout", "2s", "-max-concurrent", "1")
	start := time.Now()
	code, body := status(t, base+"/small.jpg?width=8192&height=8192&fit=crop&enable=upscale&format=png")
	t.Logf("answered %d after %v: %s", code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(body))
	assert.Equal(t, http.StatusGatewayTimeout, code)
	for i := range 4 {
		code, body := status(t, fmt.Sprintf("%s/cheap%d.jpg?width=%d", base, i, 60+i))
		assert.Equal(t, http.StatusOK, code, body)
	}
}
