package vp8dec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// golden are the SHA-256 of the Y, U and V planes dwebp -yuv (libwebp
// 1.2.4) writes for the test files.
var golden = []struct{ file, sha string }{
	{"1x1.webp", "e6713e729737aa4e66de128af90ace3dd3c7ea854558a4cc3e86064fe0b83f21"},
	{"noise.webp", "2a17b28ec89b894e013111c6ecde303e90bbdf9559401b88345ea4596d00beed"},
	{"q0.webp", "70d5cb5b9dc0bba3d4b123a4ba3d90aa6fcb6b3a3d40a2392ca5f212eaa04dfb"},
	{"q100.webp", "0b1fa2f8f15264184bd048415c1599047437f5ac5f2a26734939759c46f348a8"},
	{"q50.webp", "d51a6fc7a1e0fdd476a90688b5633c86569bf3cc88f6d798a556d046c80c043e"},
	{"seg1.webp", "c9d0c856ee72acece1d803a7c07bea0ef3c71837d4d84b2a9b04ac99794cff38"},
	{"seg2-odd.webp", "ae93a0f74a6cee1655a737f74b2a33aa08d79868e6d4f6b7a3eed45a74b22870"},
	{"sharp7.webp", "57d53cd65d290833ac19798dc4e0fdfc90e28145f2873ffe62ac470ff3f04462"},
	{"simple.webp", "104a75b0e08637b74dd2f2033835e4b9b915bf5487da20b1293a12084ab8a9e3"},
	{"sns0-f0.webp", "19c60dfa7e241efb6fafc110b65459bbf4d6a5a3f58a149fdce27da9856a271e"},
	{"vpx-8parts.webp", "9f3ef41403f76de3d22c0714e64309ae46bd5146c4d081a08af537cf109efe2c"},
}

func readChunk(t testing.TB, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	chunk, err := vp8Chunk(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return chunk
}

// planesHash hashes the visible samples of m as dwebp -yuv lays them out.
func planesHash(m *image.YCbCr) string {
	h := sha256.New()
	w, ht := m.Rect.Dx(), m.Rect.Dy()
	for y := 0; y < ht; y++ {
		h.Write(m.Y[y*m.YStride : y*m.YStride+w])
	}
	cw, ch := (w+1)/2, (ht+1)/2
	for _, p := range [][]byte{m.Cb, m.Cr} {
		for y := 0; y < ch; y++ {
			h.Write(p[y*m.CStride : y*m.CStride+cw])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDecodeGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(g.file, func(t *testing.T) {
			chunk := readChunk(t, filepath.Join("testdata", g.file))
			for _, opt := range []Options{{}, {Concurrent: true}} {
				m, err := Decode(context.Background(), chunk, opt)
				if err != nil {
					t.Fatalf("%+v: %v", opt, err)
				}
				if got := planesHash(m); got != g.sha {
					t.Errorf("%+v: planes hash %s, want %s (dwebp -yuv)", opt, got, g.sha)
				}
			}
		})
	}
}

// TestSkipLoopFilter: without the filter the planes differ from the
// reference (the filtered files have a filter level), with it they match.
func TestSkipLoopFilter(t *testing.T) {
	for _, file := range []string{"q50.webp", "simple.webp", "sharp7.webp"} {
		chunk := readChunk(t, filepath.Join("testdata", file))
		m, err := Decode(context.Background(), chunk, Options{SkipLoopFilter: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range golden {
			if g.file == file && planesHash(m) == g.sha {
				t.Errorf("%s: the planes without loop filter match the filtered reference", file)
			}
		}
	}
}

// TestDwebp compares the planes with dwebp -yuv output on the test files
// and on the files listed in VP8_FILES (comma-separated), when dwebp is
// installed.
func TestDwebp(t *testing.T) {
	if _, err := exec.LookPath("dwebp"); err != nil {
		t.Skip("no dwebp")
	}
	files, _ := filepath.Glob("testdata/*.webp")
	if env := os.Getenv("VP8_FILES"); env != "" {
		files = append(files, strings.Split(env, ",")...)
	}
	for _, f := range files {
		compareDwebp(t, f, Options{Concurrent: true})
	}
}

func TestCorrupt(t *testing.T) {
	good := readChunk(t, "testdata/q50.webp")
	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated frame header"},
		{"short", good[:9], "truncated frame header"},
		{"inter frame", mod(func(b []byte) []byte { b[0] |= 1; return b }), "not a key frame"},
		{"version 5", mod(func(b []byte) []byte { b[0] = b[0]&^0x0e | 5<<1; return b }), "unknown version"},
		{"hidden", mod(func(b []byte) []byte { b[0] &^= 0x10; return b }), "not shown"},
		{"start code", mod(func(b []byte) []byte { b[4] = 0; return b }), "bad start code"},
		{"zero width", mod(func(b []byte) []byte { b[6], b[7] = 0, 0; return b }), "frame is 0x"},
		{"first partition too long", mod(func(b []byte) []byte { b[0], b[1], b[2] = b[0]|0xe0, 0xff, 0xff; return b }), "first partition of"},
		{"no token data", good[:len(good)-len(good)/2], "truncated"},
		{"no partitions", mod(func(b []byte) []byte {
			n := int(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16) >> 5
			return b[:10+n]
		}), "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(context.Background(), tc.data, Options{})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrCorrupt with %q", err, tc.want)
			}
		})
	}
}

func TestMaxPixels(t *testing.T) {
	chunk := readChunk(t, "testdata/q50.webp") // 96×80
	if _, err := Decode(context.Background(), chunk, Options{MaxPixels: 96*80 - 1}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("MaxPixels below the frame: %v, want ErrCorrupt", err)
	}
	if _, err := Decode(context.Background(), chunk, Options{MaxPixels: 96 * 80}); err != nil {
		t.Errorf("MaxPixels = the frame: %v", err)
	}
}

func TestCancel(t *testing.T) {
	chunk := readChunk(t, "testdata/q50.webp")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, opt := range []Options{{}, {Concurrent: true}} {
		if _, err := Decode(ctx, chunk, opt); !errors.Is(err, context.Canceled) || errors.Is(err, ErrCorrupt) {
			t.Errorf("%+v: %v, want context.Canceled", opt, err)
		}
	}
}

// FuzzDecodeVP8 decodes arbitrary frames: no panic, no unbounded work,
// and the concurrent filter gives the serial result.
func FuzzDecodeVP8(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.webp")
	for _, file := range files {
		f.Add(readChunk(f, file))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, err := DecodeConfig(data)
		if err != nil || w*h > 1<<16 {
			return
		}
		m, err := Decode(context.Background(), data, Options{MaxPixels: 1 << 16})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if m.Rect != image.Rect(0, 0, w, h) {
			t.Fatalf("decoded %v, header says %dx%d", m.Rect, w, h)
		}
		c, err := Decode(context.Background(), data, Options{MaxPixels: 1 << 16, Concurrent: true})
		if err != nil || planesHash(c) != planesHash(m) {
			t.Fatalf("concurrent decode differs (%v)", err)
		}
	})
}
