package wasmcodec_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/wasmcodec"
)

// Transform a JPEG into WebP and AVIF by passing the codecs in the
// options; with Accept, format=auto negotiates AVIF. (A lossless source,
// such as a PNG, stays lossless under format=auto: lossless WebP, or PNG
// where AVIF is negotiated.)
func Example() {
	src := image.NewNRGBA(image.Rect(0, 0, 320, 200))
	for y := range 200 {
		for x := range 320 {
			src.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}

	opts := &imageopto.TransformOptions{
		PlanOptions: imageopto.PlanOptions{Codecs: wasmcodec.Codecs()},
		Accept:      "image/avif,image/webp,*/*",
	}
	for _, query := range []string{"format=webp&width=160", "format=auto&width=160"} {
		p, err := imageopto.ParseParams(query)
		if err != nil {
			panic(err)
		}
		res, err := imageopto.TransformBytes(context.Background(), buf.Bytes(), p, opts)
		if err != nil {
			panic(err)
		}
		fmt.Println(query, "→", res.ContentType, res.Output.Width, "×", res.Output.Height)
	}
	// Output:
	// format=webp&width=160 → image/webp 160 × 100
	// format=auto&width=160 → image/avif 160 × 100
}
