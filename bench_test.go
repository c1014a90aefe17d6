package imageopto

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
	"testing"
)

// photoLike returns a w×h opaque image with smooth gradients and fine
// detail, a stand-in for a photograph in benchmarks.
func photoLike(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := uint8((x*7 + y*13 + (x*y)%251) & 0x1f)
			img.SetNRGBA(x, y, color.NRGBA{uint8(x*255/w) ^ n, uint8(y*255/h) + n, uint8((x + y) * 255 / (w + h)), 255})
		}
	}
	return img
}

var bench12MP = sync.OnceValues(func() ([]byte, error) {
	return encodeJPEGBytes(photoLike(4000, 3000), 90)
})

func BenchmarkNewPlan(b *testing.B) {
	p, err := ParseParams("crop=4:3,offset-x30&orient=r&width=800&height=600&fit=crop&pad=10&bg-color=fff&sharpen=a1,r1,t0&format=jpg")
	if err != nil {
		b.Fatal(err)
	}
	src := SourceInfo{Format: JPEG, Width: 4000, Height: 3000, Orientation: 6, Frames: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPlan(p, src, "", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransform12MP runs whole transformations of a 12-megapixel JPEG.
func BenchmarkTransform12MP(b *testing.B) {
	data, err := bench12MP()
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		"width=300",
		"width=1600",
		"width=400&height=400&fit=crop",
		"width=800&blur=4&saturation=20",
	} {
		p, err := ParseParams(q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := TransformBytes(context.Background(), data, p, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTransformYCbCr compares the Y′CbCr fast path (transform_ycbcr.go)
// with the RGB path, forced by a custom step that does nothing, on
// JPEG → resize → JPEG jobs of a 12-megapixel JPEG.
func BenchmarkTransformYCbCr(b *testing.B) {
	data, err := bench12MP()
	if err != nil {
		b.Fatal(err)
	}
	nop := StepFunc{Name: "nop", Func: func(_ context.Context, m *image.NRGBA) (*image.NRGBA, error) { return m, nil }}
	for _, q := range []string{"width=1600", "width=300", "width=400&height=400&fit=crop"} {
		p, err := ParseParams(q)
		if err != nil {
			b.Fatal(err)
		}
		for _, path := range []struct {
			name string
			opts *TransformOptions
		}{{"ycbcr", nil}, {"rgb", &TransformOptions{Steps: []Step{nop}}}} {
			b.Run(q+"/"+path.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					res, err := TransformBytes(context.Background(), data, p, path.opts)
					if err != nil {
						b.Fatal(err)
					}
					if res.planar != (path.opts == nil) {
						b.Fatal("wrong path taken")
					}
				}
			})
		}
	}
}

func encodeJPEGBytes(img image.Image, q int) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q})
	return b.Bytes(), err
}
