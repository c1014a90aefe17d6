package jpegenc_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log"

	"github.com/imageopto/imageopto/internal/jpegenc"
)

func ExampleEncode() {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.NRGBA{uint8(4 * x), uint8(5 * y), 128, 255})
		}
	}
	var buf bytes.Buffer
	err := jpegenc.Encode(context.Background(), &buf, img, &jpegenc.Options{Quality: 85, Progressive: true})
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Width, cfg.Height)
	// Output: 64 48
}
