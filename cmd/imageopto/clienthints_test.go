package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientHintsFlag: -client-hints is off by default and set by the flag
// or by $IMAGEOPTO_CLIENT_HINTS (the flag wins).
func TestClientHintsFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"off by default", nil, nil, false},
		{"flag", []string{"-client-hints"}, nil, true},
		{"environment", nil, map[string]string{"IMAGEOPTO_CLIENT_HINTS": "true"}, true},
		{"flag wins", []string{"-client-hints=false"}, map[string]string{"IMAGEOPTO_CLIENT_HINTS": "true"}, false},
	} {
		c, err := parseConfig(tc.args, &syncBuffer{}, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, c.clientHints, tc.name)
	}
	var out syncBuffer
	_, err := parseConfig([]string{"-h"}, &out, func(string) (string, bool) { return "", false })
	require.Error(t, err)
	assert.Contains(t, out.String(), "[$IMAGEOPTO_CLIENT_HINTS]")
}

// TestClientHintsServer: a server started with -client-hints asks for the
// hints and sizes images by them.
func TestClientHintsServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pic.png"), encodeTestPNG(t), 0o600))
	s := start(t, "-dir", dir, "-client-hints")
	defer s.stop()
	req, err := http.NewRequest(http.MethodGet, s.base+"/pic.png?enable=upscale", nil)
	require.NoError(t, err)
	req.Header.Set("Sec-CH-Width", "90")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width", resp.Header.Get("Accept-CH"))
	assert.Equal(t, "Sec-CH-Width", resp.Header.Get("Vary"))
	assert.Contains(t, resp.Header.Get("Imageopto-Info"), "odim=100x75")
}
