package wasmcodec_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/wasmcodec"
)

// Transform a PNG into WebP and AVIF by passing the codecs in the options;
// with Accept, format=auto negotiates AVIF.
func Example() {
	src := image.NewNRGBA(image.Rect(0, 0, 320, 200))
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	src.SetNRGBA(0, 0, color.NRGBA{A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
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
