package vp8dec

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/imageopto/imageopto/internal/cpuclock"
	"golang.org/x/image/vp8"
)

// benchFile is the 24 MP lossy WebP of the speed corpus (override with
// VP8_BENCH_FILE).
func benchChunk(b *testing.B) []byte {
	f := os.Getenv("VP8_BENCH_FILE")
	if f == "" {
		f = "/tmp/corpus-speed/kleiber24.webp"
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
