package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
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
	needFeature(t, "prometheus")
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
	needFeature(t, "cluster")
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

// TestEnvironment: every flag reads IMAGEOPTO_<FLAG> when the command line
// does not set it; repeatable flags take a comma-separated list; a bad
// value is a usage error naming the variable.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, c *config)
		wantErr string
	}{
		{"values from the environment", map[string]string{
			"IMAGEOPTO_CACHE_SIZE": "64MB", "IMAGEOPTO_LENIENT": "true", "IMAGEOPTO_MAX_QUEUE": "9",
			"IMAGEOPTO_QUEUE_TIMEOUT": "750ms", "IMAGEOPTO_MAX_OUTPUT_SIDE": "2000", "IMAGEOPTO_MAX_SOURCE_BYTES": "10MiB",
			"IMAGEOPTO_ALLOW_HOST": "a.example.com, *.b.example.com", "IMAGEOPTO_NOT_FOUND_TTL": "5s",
		}, nil, func(t *testing.T, c *config) {
			assert.EqualValues(t, 64_000_000, c.cacheSize)
			assert.True(t, c.lenient)
			assert.Equal(t, 9, c.maxQueue)
			assert.Equal(t, 750*time.Millisecond, c.queueTime)
			assert.Equal(t, 2000, c.limits.MaxOutputSide)
			assert.EqualValues(t, 10<<20, c.limits.MaxSourceBytes)
			assert.Equal(t, stringList{"a.example.com", "*.b.example.com"}, c.allowHosts)
			assert.Equal(t, 5*time.Second, c.ttl.notFound)
		}, ""},
		{"flags win", map[string]string{"IMAGEOPTO_MAX_QUEUE": "9", "IMAGEOPTO_ALLOW_HOST": "env.example.com", "IMAGEOPTO_LENIENT": "true"},
			[]string{"-max-queue", "3", "-allow-host", "flag.example.com", "-lenient=false"}, func(t *testing.T, c *config) {
				assert.Equal(t, 3, c.maxQueue)
				assert.Equal(t, stringList{"flag.example.com"}, c.allowHosts)
				assert.False(t, c.lenient)
			}, ""},
		{"bad value", map[string]string{"IMAGEOPTO_MAX_QUEUE": "many"}, nil, nil, "$IMAGEOPTO_MAX_QUEUE"},
		{"validated like flags", map[string]string{"IMAGEOPTO_PPROF": "true"}, nil, nil, "-pprof needs -metrics-addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseConfig(tc.args, &syncBuffer{}, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

// TestHelpListsVariables: -h names the variable of every flag.
func TestHelpListsVariables(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	_, err := parseFlags([]string{"-h"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	for _, name := range []string{"IMAGEOPTO_ADDR", "IMAGEOPTO_CACHE_SIZE", "IMAGEOPTO_LENIENT", "IMAGEOPTO_METRICS_ADDR",
		"IMAGEOPTO_MAX_CONCURRENT", "IMAGEOPTO_ALLOW_HOST", "IMAGEOPTO_PEERS", "IMAGEOPTO_PEER_SECRET", "IMAGEOPTO_LOG_FORMAT"} {
		assert.Contains(t, out.String(), "[$"+name+"]")
	}
}

// TestServerFromEnvironmentOnly starts the server in a child process with
// no arguments at all, configured by environment variables, and checks
// that each took effect.
func TestServerFromEnvironmentOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pic.png"), encodeTestPNG(t), 0o600))
	addr, maddr := freePort(t), freePort(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "IMAGEOPTO_SERVER_ARGS=[]",
		"IMAGEOPTO_ADDR="+addr, "IMAGEOPTO_DIR="+dir, "IMAGEOPTO_LENIENT=true",
		"IMAGEOPTO_HEADER_PREFIX=Fastly-IO", "IMAGEOPTO_SURROGATE_KEY_HEADER=Cache-Tag",
		"IMAGEOPTO_STALE_WHILE_REVALIDATE=7s", "IMAGEOPTO_DEFAULT_TTL=90s")
	if hasPrometheus {
		cmd.Env = append(cmd.Env, "IMAGEOPTO_METRICS_ADDR="+maddr)
	}
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 20*time.Second, 20*time.Millisecond)

	resp, body := get(t, "http://"+addr+"/pic.png?width=32&height=abc&format=png")
	require.Equal(t, http.StatusOK, resp.StatusCode, "IMAGEOPTO_DIR and IMAGEOPTO_LENIENT: %s", body)
	assert.NotEmpty(t, resp.Header.Get("Fastly-IO-Warning"), "IMAGEOPTO_HEADER_PREFIX")
	assert.Contains(t, resp.Header.Get("Fastly-IO-Info"), "odim=32x24")
	assert.NotEmpty(t, resp.Header.Get("Cache-Tag"), "IMAGEOPTO_SURROGATE_KEY_HEADER")
	cc := resp.Header.Get("Cache-Control")
	assert.Contains(t, cc, "stale-while-revalidate=7", "IMAGEOPTO_STALE_WHILE_REVALIDATE")
	var age int
	_, err := fmt.Sscanf(cc, "public, max-age=%d", &age)
	require.NoError(t, err, cc)
	assert.True(t, age > 60 && age <= 90, "IMAGEOPTO_DEFAULT_TTL: %s", cc)
	if hasPrometheus {
		resp, _ = get(t, "http://"+maddr+"/metrics")
		assert.Equal(t, http.StatusOK, resp.StatusCode, "IMAGEOPTO_METRICS_ADDR")
	}
}

// TestAllowHost: -allow-host fetches through URLOrigin, which refuses
// hosts that are not on the list (no network is used: the refusal comes
// before any lookup).
func TestAllowHost(t *testing.T) {
	t.Parallel()
	s := start(t, "-allow-host", "images.example.com")
	for _, path := range []string{"/other.example.com/cat.png?width=10", "/https:/other.example.com/cat.png?width=10"} {
		resp, body := get(t, s.base+path)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s: %s", path, body)
	}
	_, err := parseFlags([]string{"-allow-host", "a.example.com", "-dir", "."}, &syncBuffer{})
	require.ErrorContains(t, err, "mutually exclusive")
}
