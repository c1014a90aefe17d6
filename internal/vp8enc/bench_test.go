package vp8enc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchPlanes is path.jpg of the VP8CALIB corpus resized to 800 px wide,
// or else a synthetic 800×533 image.
func benchPlanes(b *testing.B) *Planes {
	dir := os.Getenv("VP8CALIB")
	if dir == "" {
		return testPlanes(800, 533, 20, 1)
	}
	p, err := FromImage(context.Background(), load800(b, filepath.Join(dir, "path.jpg")))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkEncode800 encodes a corpus photo resized to 800 px wide at
// quality 85 (VP8CALIB names the corpus; else a synthetic image).
func BenchmarkEncode800(b *testing.B) {
	p := benchPlanes(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := Encode(context.Background(), &buf, p, &Options{Quality: 85}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}

// BenchmarkEncode800QIndex is BenchmarkEncode800 at a fixed quantiser
// index (the encoder's speed apart from what a quality maps to).
func BenchmarkEncode800QIndex(b *testing.B) {
	p := benchPlanes(b)
	for _, qi := range []int{10, 30} {
		b.Run(fmt.Sprint(qi), func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := Encode(context.Background(), &buf, p, &Options{QIndex: qi}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}
