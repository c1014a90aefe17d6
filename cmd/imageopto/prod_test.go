package main

import (
	"net/http"
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
