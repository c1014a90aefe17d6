package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
)

// TestAccessLogLevels: the access record's level follows the status (info,
// warn for 4xx, error for 5xx), the error's first line is logged only with
// it, -log-level drops records below it, and other events log nothing.
func TestAccessLogLevels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status    int
		err       error
		minLevel  slog.Level
		wantLevel string // "" for no record
		wantErr   string
	}{
		{200, nil, slog.LevelInfo, "INFO", ""},
		{304, nil, slog.LevelInfo, "INFO", ""},
		{404, imageopto.ErrNotFound, slog.LevelInfo, "WARN", imageopto.ErrNotFound.Error()},
		{503, errors.New("overloaded\nsecond line"), slog.LevelInfo, "ERROR", "overloaded"},
		{502, errors.New("origin down"), slog.LevelError, "ERROR", "origin down"},
		{404, imageopto.ErrNotFound, slog.LevelError, "", ""},
		{200, nil, slog.LevelWarn, "", ""},
	} {
		var out bytes.Buffer
		log := accessLog{newLogger(&out, "json", tc.minLevel)}
		req := httptest.NewRequest("GET", "/cat.jpg?width=10", nil)
		log.Observe(imageopto.Event{Kind: imageopto.EventTransform, Format: imageopto.JPEG, Duration: time.Second})
		log.Observe(imageopto.Event{Kind: imageopto.EventRequest, Status: tc.status, Err: tc.err, Request: req,
			Cache: imageopto.CacheMiss, Duration: time.Millisecond})
		if tc.wantLevel == "" {
			assert.Empty(t, out.String(), "status %d at %v", tc.status, tc.minLevel)
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal(out.Bytes(), &rec), "one record: %s", &out)
		assert.Equal(t, tc.wantLevel, rec["level"], "status %d", tc.status)
		assert.Equal(t, "request", rec["msg"])
		assert.Equal(t, float64(tc.status), rec["status"])
		assert.Equal(t, "width=10", rec["query"])
		if tc.wantErr == "" {
			assert.NotContains(t, rec, "err")
		} else {
			assert.Equal(t, tc.wantErr, rec["err"], "status %d", tc.status)
		}
	}
}
