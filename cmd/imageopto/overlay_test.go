package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
)

// TestOverlayFlags: -overlay is parsed at start (a bad one is a usage
// error naming the key) and applied by a hook unless a trusted header gave
// one; -trust-overlay-header is off by default.
func TestOverlayFlags(t *testing.T) {
	t.Parallel()
	noEnv := func(string) (string, bool) { return "", false }
	c, err := parseConfig(nil, &syncBuffer{}, noEnv)
	require.NoError(t, err)
	assert.False(t, c.trustOverlay)
	assert.Nil(t, c.overlay.hook())

	_, err = parseConfig([]string{"-overlay", "overlay=/wm.png&overlay-repeat=sometimes"}, &syncBuffer{}, noEnv)
	var ue *usageError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "overlay-repeat=sometimes: must be x, y or both")

	c, err = parseConfig([]string{"-trust-overlay-header", "-overlay", "overlay=/wm.png&overlay-align=bottom,right"}, &syncBuffer{}, noEnv)
	require.NoError(t, err)
	assert.True(t, c.trustOverlay)
	hook := c.overlay.hook()
	r := &imageopto.Request{}
	require.NoError(t, hook(context.Background(), r))
	assert.Equal(t, &imageopto.Overlay{Path: "/wm.png", AlignY: imageopto.AlignBottom, AlignX: imageopto.AlignRight}, r.Overlay)
	header := &imageopto.Overlay{Path: "/other.png"}
	r = &imageopto.Request{Overlay: header}
	require.NoError(t, hook(context.Background(), r))
	assert.Same(t, header, r.Overlay, "a trusted header's overlay wins")
}

// TestOverlayServer: a server started with -overlay watermarks every image.
func TestOverlayServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	red := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for i := 0; i < len(red.Pix); i += 4 {
		red.Pix[i], red.Pix[i+3] = 255, 255
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, red))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wm.png"), b.Bytes(), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pic.png"), encodeTestPNG(t), 0o600))
	s := start(t, "-dir", dir, "-overlay", "overlay=/wm.png&overlay-align=top,left")
	defer s.stop()
	resp, err := client.Get(s.base + "/pic.png?format=png")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	img, err := png.Decode(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, color.NRGBAModel.Convert(img.At(0, 0)), color.NRGBA{255, 0, 0, 255})
	assert.Equal(t, color.NRGBAModel.Convert(img.At(7, 7)), color.NRGBA{255, 0, 0, 255})
	assert.NotEqual(t, color.NRGBAModel.Convert(img.At(8, 8)), color.NRGBA{255, 0, 0, 255})
}
