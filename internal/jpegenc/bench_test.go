package jpegenc

import (
	"bytes"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imageopto/imageopto/internal/cpuclock"
)

// The benchmarks encode a 4000×3000 photo-like image at quality 85 and
// report throughput in megabytes of RGB input per second (width × height ×
// 3 bytes).

var benchImage = sync.OnceValue(func() *image.NRGBA { return photoLike(4000, 3000, 42) })

func benchEncode(b *testing.B, m image.Image, enc func(io.Writer, image.Image) error) {
	bb := m.Bounds()
	b.SetBytes(int64(bb.Dx() * bb.Dy() * 3))
	b.ReportAllocs()
	var n int64
	cpu0 := cpuclock.Now()
	for b.Loop() {
		var c countWriter
		if err := enc(&c, m); err != nil {
			b.Fatal(err)
		}
		n = int64(c)
	}
	cpuclock.Report(b, cpu0)
	b.ReportMetric(float64(n), "bytes/op-output")
}

// countWriter discards its input and counts the bytes.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// stdlibInput is the image as image/jpeg sees it on its fast path: an opaque
// NRGBA has the bytes of an RGBA, so wrapping it costs nothing (the codec
// package does the same).
func stdlibInput(m *image.NRGBA) *image.RGBA {
	return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
}

func BenchmarkEncode4000x3000(b *testing.B) {
	m := benchImage()
	b.Run("stdlib", func(b *testing.B) {
		rgba := stdlibInput(m)
		benchEncode(b, rgba, func(w io.Writer, m image.Image) error {
			return jpeg.Encode(w, m, &jpeg.Options{Quality: 85})
		})
	})
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"baseline", Options{Quality: 85}},
		{"baseline-optimized", Options{Quality: 85, OptimizeHuffman: true}},
		{"progressive", Options{Quality: 85, Progressive: true}},
		{"progressive-444", Options{Quality: 85, Progressive: true, Subsampling: S444}},
		{"baseline-optimized/threads=2", Options{Quality: 85, OptimizeHuffman: true, Threads: 2}},
		{"progressive/threads=2", Options{Quality: 85, Progressive: true, Threads: 2}},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchEncode(b, m, func(w io.Writer, m image.Image) error { return Encode(bgCtx, w, m, &c.o) })
		})
	}
	b.Run("baseline-from-YCbCr420", func(b *testing.B) {
		y := toYCbCr(m, image.YCbCrSubsampleRatio420)
		benchEncode(b, y, func(w io.Writer, m image.Image) error { return Encode(bgCtx, w, m, &Options{Quality: 85}) })
	})
}

// BenchmarkCorpus encodes the real photos of the corpus (see TestCorpus;
// skipped unless IMAGEOPTO_CORPUS is set) at quality 85; one operation
// encodes all of them.
func BenchmarkCorpus(b *testing.B) {
	dir := os.Getenv("IMAGEOPTO_CORPUS")
	if dir == "" {
		b.Skip("IMAGEOPTO_CORPUS is not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if len(files) == 0 {
		b.Skip("no JPEG files in corpus")
	}
	var imgs []image.Image
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		imgs = append(imgs, m)
	}
	run := func(b *testing.B, enc func(io.Writer, image.Image) error) {
		var px int64
		for _, m := range imgs {
			px += int64(m.Bounds().Dx() * m.Bounds().Dy() * 3)
		}
		b.SetBytes(px)
		b.ReportAllocs()
		var n int64
		cpu0 := cpuclock.Now()
		for b.Loop() {
			var c countWriter
			for _, m := range imgs {
				if err := enc(&c, m); err != nil {
					b.Fatal(err)
				}
			}
			n = int64(c)
		}
		cpuclock.Report(b, cpu0)
		b.ReportMetric(float64(n), "bytes/op-output")
	}
	b.Run("stdlib", func(b *testing.B) {
		run(b, func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, &jpeg.Options{Quality: 85}) })
	})
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"baseline", Options{Quality: 85}},
		{"baseline-optimized", Options{Quality: 85, OptimizeHuffman: true}},
		{"progressive", Options{Quality: 85, Progressive: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			run(b, func(w io.Writer, m image.Image) error { return Encode(bgCtx, w, m, &c.o) })
		})
	}
}
