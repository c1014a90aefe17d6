package jpegdec

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imageopto/imageopto/internal/cpuclock"
)

// The benchmarks decode a large photo at each scale and, for comparison,
// with image/jpeg: kleiber.jpg (6028×3391 baseline 4:2:2) and volna.jpg
// (5120×2880 progressive 4:4:4) from the corpus when IMAGEOPTO_CORPUS is
// set, otherwise a generated 6000×4000 photo encoded by image/jpeg
// (baseline 4:2:0) and, when cjpeg is installed, its progressive
// transcoding by jpegtran/cjpeg.

var generated = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photoLike(6000, 4000, 7), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

var generatedProgressive = sync.OnceValue(func() []byte {
	path, err := exec.LookPath("jpegtran")
	if err != nil {
		return nil
	}
	cmd := exec.Command(path, "-progressive")
	cmd.Stdin = bytes.NewReader(generated())
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	return out
})

// benchInput returns the corpus file name, or the generated image.
func benchInput(b *testing.B, name string, progressive bool) []byte {
	if dir := os.Getenv("IMAGEOPTO_CORPUS"); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return data
		}
	}
	if progressive {
		data := generatedProgressive()
		if data == nil {
			b.Skip("no progressive input: set IMAGEOPTO_CORPUS or install jpegtran")
		}
		return data
	}
	return generated()
}

func benchDecode(b *testing.B, name string, progressive bool) {
	data := benchInput(b, name, progressive)
	w, h, err := DecodeConfig(data)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("scale=1/%d", s), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(w * h))
			o := &Options{Scale: s}
			cpu0 := cpuclock.Now()
			for b.Loop() {
				if _, err := Decode(bgCtx, data, o); err != nil {
					b.Fatal(err)
				}
			}
			cpuclock.Report(b, cpu0)
		})
	}
	// With a second goroutine for the inverse DCTs (sequential files).
	for _, s := range []int{1, 2} {
		b.Run(fmt.Sprintf("scale=1/%d/threads=2", s), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(w * h))
			o := &Options{Scale: s, Threads: 2}
			cpu0 := cpuclock.Now()
			for b.Loop() {
				if _, err := Decode(bgCtx, data, o); err != nil {
					b.Fatal(err)
				}
			}
			cpuclock.Report(b, cpu0)
		})
	}
	// DecodePlanes with chroma reduced once more where the scale allows
	// (the Y′CbCr fast path of a 4:2:0 output at a third of the size),
	// planes released to the pool after each decode.
	for _, s := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("planes/scale=1/%d", s), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(w * h))
			o := &Options{Scale: s, ChromaStepX: 3 * s, ChromaStepY: 3 * s}
			cpu0 := cpuclock.Now()
			for b.Loop() {
				p, err := DecodePlanes(bgCtx, data, o)
				if err != nil {
					b.Fatal(err)
				}
				p.Release()
			}
			cpuclock.Report(b, cpu0)
		})
	}
	b.Run("stdlib", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(w * h))
		cpu0 := cpuclock.Now()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
		cpuclock.Report(b, cpu0)
	})
}

// BenchmarkBaseline decodes a large baseline JPEG; MB/s counts megapixels
// of the full-size image.
func BenchmarkBaseline(b *testing.B) { benchDecode(b, "kleiber.jpg", false) }

// BenchmarkProgressive decodes a large progressive JPEG.
func BenchmarkProgressive(b *testing.B) { benchDecode(b, "volna.jpg", true) }
