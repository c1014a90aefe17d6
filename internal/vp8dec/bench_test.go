package vp8dec

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/imageopto/imageopto/internal/cpuclock"
	"golang.org/x/image/vp8"
)

// benchChunk is the VP8 frame of VP8_BENCH_FILE, or else of the speed
// corpus's 24 MP lossy WebP, kleiber24.webp in IMAGEOPTO_CORPUS (made as
// BENCHMARKS.md describes).
func benchChunk(b *testing.B) []byte {
	f := os.Getenv("VP8_BENCH_FILE")
	if f == "" {
		dir := os.Getenv("IMAGEOPTO_CORPUS")
		if dir == "" {
			b.Skip("set VP8_BENCH_FILE to a lossy WebP, or IMAGEOPTO_CORPUS to a folder with kleiber24.webp")
		}
		f = filepath.Join(dir, "kleiber24.webp")
	}
	data, err := os.ReadFile(f)
	if err != nil {
		b.Skip(err)
	}
	chunk, err := vp8Chunk(data)
	if err != nil {
		b.Skip(err)
	}
	return chunk
}

// BenchmarkDecode compares this decoder (serial, with the filter on a
// second goroutine, without the filter) with golang.org/x/image/vp8 on the
// same frame.
func BenchmarkDecode(b *testing.B) {
	chunk := benchChunk(b)
	for _, bc := range []struct {
		name string
		opt  Options
	}{
		{"ours", Options{}},
		{"ours-concurrent", Options{Concurrent: true}},
		{"ours-nofilter", Options{SkipLoopFilter: true}},
		{"ours-concurrent-nofilter", Options{Concurrent: true, SkipLoopFilter: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(chunk)))
			defer cpuclock.Report(b, cpuclock.Now())
			for b.Loop() {
				if _, err := Decode(context.Background(), chunk, bc.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ximage", func(b *testing.B) {
		b.SetBytes(int64(len(chunk)))
		defer cpuclock.Report(b, cpuclock.Now())
		for b.Loop() {
			d := vp8.NewDecoder()
			d.Init(bytes.NewReader(chunk), len(chunk))
			if _, err := d.DecodeFrameHeader(); err != nil {
				b.Fatal(err)
			}
			if _, err := d.DecodeFrame(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
