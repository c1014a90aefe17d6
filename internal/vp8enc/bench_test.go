package vp8enc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkEncode800 encodes a corpus photo resized to 800 px wide at
// quality 85 (VP8CALIB names the corpus; else a synthetic image).
func BenchmarkEncode800(b *testing.B) {
	var p *Planes
	if dir := os.Getenv("VP8CALIB"); dir != "" {
		t := &testing.T{}
		p, _ = FromImage(context.Background(), load800(t, filepath.Join(dir, "path.jpg")))
	} else {
		p = testPlanes(800, 533, 20, 1)
	}
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
	var p *Planes
	if dir := os.Getenv("VP8CALIB"); dir != "" {
		t := &testing.T{}
		p, _ = FromImage(context.Background(), load800(t, filepath.Join(dir, "path.jpg")))
	} else {
		p = testPlanes(800, 533, 20, 1)
	}
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
