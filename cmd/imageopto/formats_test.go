package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/webp"

	"github.com/imageopto/imageopto/internal/mp4"
	"github.com/imageopto/imageopto/wasmcodec"
	"github.com/stretchr/testify/require"
)

// TestFormatsEndToEnd: every output format of spec §2.13 that this build
// writes comes back from the server with its Content-Type and decodes with
// an independent decoder; the rest are 400.
func TestFormatsEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, io.Discard, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	// The server compiles the WebAssembly codecs in the background; wait
	// for them here, as a first request would: under the race detector the
	// compilation alone can outlast the 30 s flight deadline (504).
	if hasWasmcodec {
		require.NoError(t, wasmcodec.Warm())
	}
	decodeAVIF := func(b []byte) (image.Image, error) {
		for _, c := range wasmcodec.Codecs() {
			if c.Format == "avif" {
				return c.Decode(context.Background(), b)
			}
		}
		t.Fatal("no AVIF codec")
		return nil, nil
	}
	jpegDec := func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	pngDec := func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	svgDec := func(b []byte) (image.Image, error) { // the embedded PNG or JPEG
		_, data, _ := bytes.Cut(b, []byte(";base64,"))
		data, _, _ = bytes.Cut(data, []byte(`"`))
		raw, err := base64.StdEncoding.DecodeString(string(data))
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(raw, []byte("\x89PNG")) {
			return pngDec(raw)
		}
		return jpegDec(raw)
	}
	cases := []struct {
		query, accept, ctype string
		decode               func([]byte) (image.Image, error)
	}{
		{"format=jpg", "", "image/jpeg", jpegDec},
		{"format=jpeg", "", "image/jpeg", jpegDec},
		{"format=bjpg", "", "image/jpeg", jpegDec},
		{"format=pjpg", "", "image/jpeg", jpegDec},
		{"format=png", "", "image/png", pngDec},
		{"format=png8", "", "image/png", pngDec},
		{"format=gif", "", "image/gif", func(b []byte) (image.Image, error) { return gif.Decode(bytes.NewReader(b)) }},
		{"format=webp", "", "image/webp", func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }},
		{"format=webpll", "", "image/webp", func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }},
		{"format=webply", "", "image/webp", func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }},
		{"format=avif", "", "image/avif", decodeAVIF},
		{"format=svg", "", "image/svg+xml", svgDec},
		{"auto=webp", "image/webp,*/*", "image/webp", func(b []byte) (image.Image, error) { return webp.Decode(bytes.NewReader(b)) }},
		{"format=auto", "image/avif,image/webp", "image/avif", decodeAVIF},
		{"format=auto", "*/*", "image/jpeg", jpegDec},
		{"format=mp4", "", "video/mp4", func(b []byte) (image.Image, error) { // the file's structure and size
			info, err := mp4.Read(b)
			if err != nil {
				return nil, err
			}
			return image.NewGray(image.Rect(0, 0, info.Width, info.Height)), nil
		}},
	}
	for _, c := range cases {
		// Lossy WebP is built in; lossless WebP and AVIF need wasmcodec.
		wasm := c.ctype == "image/avif" || c.query == "format=webpll"
		if wasm && !hasWasmcodec && c.accept != "" {
			continue // negotiated: without the codecs, another format
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/landscape.jpg?width=160&"+c.query, nil)
		req.Header.Set("Accept", c.accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if wasm && !hasWasmcodec {
			// Asked for by name in a build without the WebAssembly
			// codecs: a 400 that names what is missing.
			if resp.StatusCode != 400 || !strings.Contains(string(body), "needs a codec") || !strings.Contains(string(body), "-tags wasmcodec") {
				t.Errorf("%s without wasmcodec: %d %q, want 400 naming the missing codec", c.query, resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("%s: %d %s, want 200 %s", c.query, resp.StatusCode, resp.Header.Get("Content-Type"), c.ctype)
			continue
		}
		img, err := c.decode(body)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		if img.Bounds().Dx() != 160 {
			t.Errorf("%s: width %d", c.query, img.Bounds().Dx())
		}
	}
	for _, q := range []string{"format=jxl", "format=pjxl"} {
		resp, err := http.Get("http://" + addr + "/landscape.jpg?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", q, resp.StatusCode)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
