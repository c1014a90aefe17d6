package main

import (
	"bytes"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRunW6 runs the server mode briefly on a small generated JPEG, with a
// peer (a test server on loopback) loaded through a URL template, and
// checks the report and the widths the peer was sent.
func TestRunW6(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, gradient(640, 360), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "small.jpg"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	widths := map[int]int{}
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/img/"))
		if err != nil {
			http.Error(w, "bad width", http.StatusBadRequest)
			return
		}
		mu.Lock()
		widths[n]++
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer peer.Close()

	var stdout, stderr bytes.Buffer
	err := run([]string{"-corpus", dir, "-runs", "1", "-workloads", "W6", "-images", "small.jpg", "-no-ref",
		"-w6-duration", "300ms", "-peer", peer.URL + "/img/{w}", "-peer-width", "500"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	wants := []string{
		"| imageopto 20 MP → 300 px JPEG: `/small.jpg?width={w}` | distinct | 1 |",
		"| imageopto 20 MP → 300 px JPEG: `/small.jpg?width={w}` | distinct | 8 |",
		"| imageopto 20 MP → 300 px JPEG: `/small.jpg?width={w}` | same | 8 |",
		"| peer `" + peer.URL + "/img/{w}` | distinct | 8 |",
	}
	wants = append(wants, "| imageopto JPEG → 800 px WebP: `/small.jpg?width={w}&format=webp` | distinct | 8 |")
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Split(line, " | "); strings.HasPrefix(line, "| imageopto ") || strings.HasPrefix(line, "| peer ") {
			if len(f) < 9 || f[4] != "0" {
				t.Errorf("errors or a short row: %q", line)
			}
			if strings.HasPrefix(line, "| imageopto ") && !strings.HasSuffix(line, " MiB |") {
				t.Errorf("no server RSS: %q", line)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(widths) < 2 {
		t.Errorf("peer saw widths %v, want several distinct ones", widths)
	}
	total := 0
	for _, n := range widths {
		total += n
	}
	// The widths cycle: each at most once per widthSpan requests, plus
	// the warm-ups (two per line, which the next line's first requests
	// may repeat).
	limit := (total+widthSpan-1)/widthSpan + 2
	for w, n := range widths {
		if w < 500-widthSpan/2 || w >= 500+widthSpan/2 {
			t.Errorf("peer saw width %d, outside 500±%d", w, widthSpan/2)
		}
		if n > limit {
			t.Errorf("peer saw width %d %d times in %d requests", w, n, total)
		}
	}
}

// TestLoadFixedCount: with -w6-requests N each line sends exactly N
// requests (distinct widths), whatever the concurrency, and the report
// says so.
func TestLoadFixedCount(t *testing.T) {
	var mu sync.Mutex
	widths := map[int]int{}
	total := 0
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/img/"))
		mu.Lock()
		widths[n]++
		total++
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer peer.Close()
	for _, n := range []int{1, 7, 50} {
		mu.Lock()
		widths, total = map[int]int{}, 0
		mu.Unlock()
		res, err := loadAll(peer.URL+"/img/{w}", 500, w6Bound{d: time.Hour, n: n}, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 {
			t.Fatalf("%d lines, want 2", len(res))
		}
		for _, r := range res {
			if r.Requests != n || r.Errors != 0 {
				t.Errorf("n=%d, concurrency %d: %d requests, %d errors", n, r.Concurrency, r.Requests, r.Errors)
			}
		}
		mu.Lock()
		if want := 2 * (n + 2); total != want { // each line: two warm-ups and n
			t.Errorf("n=%d: the peer saw %d requests, want %d", n, total, want)
		}
		mu.Unlock()
	}
	if got := (w6Bound{d: time.Second, n: 40}).String(); got != "40 requests" {
		t.Errorf("bound %q", got)
	}
	if got := (w6Bound{d: time.Second}).String(); got != "1s" {
		t.Errorf("bound %q", got)
	}
}

func TestCheckPeer(t *testing.T) {
	for _, tc := range []struct {
		template string
		ok       bool
	}{
		{"http://127.0.0.1:8080/unsafe/{w}x0/kleiber.jpg", true},
		{"http://localhost:8080/i/kleiber.jpg?w={w}", true},
		{"https://[::1]:8443/rs:fit:{w}:0/plain/local:///a.jpg", true},
		{"http://127.0.0.2/{w}", true},
		{"http://example.com/{w}", false},
		{"http://10.0.0.1:8080/{w}", false},
		{"http://0.0.0.0:8080/{w}", false},
		{"http://127.0.0.1.example.com/{w}", false},
		{"http://127.0.0.1:8080/kleiber.jpg?width=300", false}, // no {w}
		{"ftp://127.0.0.1/{w}", false},
	} {
		err := checkPeer(tc.template)
		if (err == nil) != tc.ok {
			t.Errorf("checkPeer(%q) = %v, want ok %v", tc.template, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "-peer") {
			t.Errorf("checkPeer(%q) error %q does not name -peer", tc.template, err)
		}
	}
	if got, want := expand("http://127.0.0.1/{w}/a.jpg?w={w}", 321), "http://127.0.0.1/321/a.jpg?w=321"; got != want {
		t.Errorf("expand = %q, want %q", got, want)
	}
	if _, err := parseFlags([]string{"-corpus", ".", "-peer", "http://192.0.2.1/{w}"}, &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "not a loopback") {
		t.Errorf("parseFlags with a remote -peer: %v, want a loopback error", err)
	}
}
