package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logValue waits for a log line with msg and returns the value of key in
// it (text format).
func logValue(t *testing.T, s *server, msg, key string) string {
	t.Helper()
	re := regexp.MustCompile(`msg="?` + regexp.QuoteMeta(msg) + `"?.*\b` + regexp.QuoteMeta(key) + `=(\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(s.out.String()); m != nil {
			return strings.Trim(m[1], `"`)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no log line %q with %s in:\n%s", msg, key, s.out)
	return ""
}

// TestMetricsListener: -metrics-addr serves /metrics on its own listener,
// counting what the public one answered; -pprof adds net/http/pprof there.
func TestMetricsListener(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		args      []string
		wantPprof int
	}{
		{"metrics", []string{"-metrics-addr", "127.0.0.1:0"}, http.StatusNotFound},
		{"metrics and pprof", []string{"-metrics-addr", "127.0.0.1:0", "-pprof"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, tc.args...)
			maddr := "http://" + logValue(t, s, "metrics listening", "addr")
			resp, _ := get(t, s.base+"/landscape.jpg?width=100")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			resp, _ = get(t, s.base+"/landscape.jpg?width=100")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			resp, _ = get(t, s.base+"/metrics")
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, "not on the public listener")

			resp, body := get(t, maddr+"/metrics")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			text := string(body)
			assert.Contains(t, text, `imageopto_requests_total{cache="miss",code="200"} 1`)
			assert.Contains(t, text, `imageopto_requests_total{cache="hit",code="200"} 1`)
			assert.Contains(t, text, `imageopto_transform_duration_seconds_count{format="jpeg"} 1`)
			assert.Contains(t, text, "imageopto_inflight_transforms ")
			assert.Contains(t, text, "go_goroutines ")

			resp, _ = get(t, maddr+"/debug/pprof/")
			assert.Equal(t, tc.wantPprof, resp.StatusCode)
		})
	}
}

// TestPprofNeedsMetricsAddr: -pprof alone is a usage error.
func TestPprofNeedsMetricsAddr(t *testing.T) {
	t.Parallel()
	_, err := parseFlags([]string{"-pprof"}, &syncBuffer{})
	require.ErrorContains(t, err, "-pprof needs -metrics-addr")
}

// TestHealth: /healthz and /readyz answer "ok"; with a query they reach
// the image handler (an original named healthz); a cluster member without
// quorum is alive but not ready.
func TestHealth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "healthz"), encodeTestPNG(t), 0o600))
	for _, tc := range []struct {
		name        string
		args        []string
		path        string
		wantStatus  int
		wantBody    string
		contentType string
	}{
		{"alive", nil, "/healthz", http.StatusOK, "ok\n", "text/plain; charset=utf-8"},
		{"ready", nil, "/readyz", http.StatusOK, "ok\n", "text/plain; charset=utf-8"},
		{"an original named healthz", []string{"-dir", dir}, "/healthz?format=png", http.StatusOK, "", "image/png"},
		{"an original named healthz, as it is", []string{"-dir", dir}, "/healthz?", http.StatusOK, "", "image/png"},
		{"no original named readyz", []string{"-dir", dir}, "/readyz?format=png", http.StatusNotFound, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, tc.args...)
			resp, body := get(t, s.base+tc.path)
			assert.Equal(t, tc.wantStatus, resp.StatusCode, string(body))
			if tc.wantBody != "" {
				assert.Equal(t, tc.wantBody, string(body))
			}
			if tc.contentType != "" {
				assert.Equal(t, tc.contentType, resp.Header.Get("Content-Type"))
			}
		})
	}
}

// TestReadyzWithoutQuorum: a cluster member whose two peers do not answer
// is alive but not ready (a child process: one cluster per process).
func TestReadyzWithoutQuorum(t *testing.T) {
	t.Parallel()
	addr, dead1, dead2 := freePort(t), freePort(t), freePort(t)
	startServer(t, addr, "-self", "http://"+addr, "-peers", "http://"+addr+",http://"+dead1+",http://"+dead2,
		"-peer-secret", "0123456789abcdef0123")
	for _, tc := range []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/healthz", http.StatusOK, "ok\n"},
		{"/readyz", http.StatusServiceUnavailable, "peer tier has no quorum: 1 of 3 members answer\n"},
	} {
		resp, body := get(t, "http://"+addr+tc.path)
		assert.Equal(t, tc.wantStatus, resp.StatusCode, tc.path)
		assert.Equal(t, tc.wantBody, string(body), tc.path)
	}
}

// TestReadyzDuringShutdown: on the signal, /readyz answers 503 while the
// server still serves images (and /healthz) for -drain-delay.
func TestReadyzDuringShutdown(t *testing.T) {
	t.Parallel()
	s := start(t, "-drain-delay", "3s")
	resp, _ := get(t, s.base+"/readyz")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	stopped := make(chan struct{})
	go func() { s.stop(); close(stopped) }()
	logValue(t, s, "draining: not ready, still serving", "delay")
	resp, body := get(t, s.base+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "shutting down\n", string(body))
	resp, _ = get(t, s.base+"/healthz")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "still alive")
	resp, _ = get(t, s.base+"/landscape.jpg?width=64")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "still serving")
	<-stopped
}

// encodeTestPNG is a small PNG.
func encodeTestPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, testImage(64, 48)))
	return b.Bytes()
}

// accessRecords returns the access log's JSON records in out.
func accessRecords(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m["msg"] == "request" {
			recs = append(recs, m)
		}
	}
	return recs
}

// TestAccessLog: one JSON record per image request with every field, at
// warn level with the error for a 4xx; -log-level warn drops the 200s.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		level string
		want  []map[string]any // fields of each record, in request order
	}{
		{"info", "info", []map[string]any{
			{"level": "INFO", "method": "GET", "path": "/landscape.jpg", "query": "width=100", "status": 200.0, "cache": "miss", "format": "jpeg"},
			{"level": "WARN", "method": "GET", "path": "/missing.jpg", "query": "width=100", "status": 404.0, "cache": "miss", "format": "", "size": 0.0},
			{"level": "WARN", "method": "GET", "path": "/landscape.jpg", "query": "width=abc", "status": 400.0, "cache": "none", "format": "", "size": 0.0},
		}},
		{"warn", "warn", []map[string]any{
			{"level": "WARN", "status": 404.0},
			{"level": "WARN", "status": 400.0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, "-log-format", "json", "-log-level", tc.level)
			resp, body := get(t, s.base+"/landscape.jpg?width=100")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			resp, _ = get(t, s.base+"/missing.jpg?width=100")
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
			resp, _ = get(t, s.base+"/landscape.jpg?width=abc")
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)

			recs := accessRecords(t, s.out.String())
			require.Len(t, recs, len(tc.want), s.out.String())
			for i, want := range tc.want {
				for k, v := range want {
					assert.Equal(t, v, recs[i][k], "record %d field %s", i, k)
				}
				for _, k := range []string{"time", "method", "path", "query", "status", "bytes", "duration", "cache", "format", "size", "remote"} {
					assert.Contains(t, recs[i], k, "record %d", i)
				}
				assert.Contains(t, recs[i]["remote"], "127.0.0.1:")
				if recs[i]["status"].(float64) >= 400 {
					assert.NotEmpty(t, recs[i]["err"], "record %d: the error", i)
				} else {
					assert.NotContains(t, recs[i], "err")
					assert.Equal(t, float64(len(body)), recs[i]["bytes"])
					assert.Equal(t, float64(len(body)), recs[i]["size"])
					t.Logf("logged duration %v ns", recs[i]["duration"])
				}
			}
		})
	}
}

// TestLogFlagsRefused: unknown formats and levels are usage errors.
func TestLogFlagsRefused(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-log-format", "xml"}, {"-log-level", "loud"}} {
		_, err := parseFlags(args, &syncBuffer{})
		var ue *usageError
		assert.ErrorAs(t, err, &ue, "%q", args)
	}
}
