package imageopto_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"

	"github.com/imageopto/imageopto"
)

// A transformation without HTTP: parse a query, transform an image in memory.
func ExampleTransform() {
	var src bytes.Buffer
	_ = png.Encode(&src, image.NewGray(image.Rect(0, 0, 1200, 800)))

	p, err := imageopto.ParseParams("width=300&height=300&fit=crop&format=jpg")
	if err != nil {
		panic(err)
	}
	res, err := imageopto.Transform(context.Background(), &src, p, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.ContentType, res.Input.Width, res.Input.Height, "→", res.Output.Width, res.Output.Height)
	// Output: image/jpeg 1200 800 → 300 300
}

// Planning needs only the header: the §3 example of the spec, a 4000×3000
// JPEG stored with EXIF orientation 6.
func ExampleNewPlan() {
	p, _ := imageopto.ParseParams("crop=1:1&orient=h&width=500&pad=10&bg-color=000&quality=70")
	src := imageopto.SourceInfo{Format: imageopto.JPEG, Width: 4000, Height: 3000, Orientation: 6, Frames: 1}
	plan, err := imageopto.NewPlan(p, src, "", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(plan)
	// Output: exif-orientation(6) > crop(3000x3000+0+500) > orient(2) > resize(500x500 lanczos3) > pad(10,10,10,10: 520x520, image at 10,10) > bg-color(0,0,0,255) → jpeg q70 520x520
}

// Every bad parameter is reported at once, each naming the parameter.
func ExampleStatusCode() {
	_, err := imageopto.ParseParams("width=0&fit=stretch&quality=85")
	fmt.Println(imageopto.StatusCode(err))
	// Output: 400
}
