// Command transform applies a Fastly IO query to an image file with the
// imageopto engine, without any HTTP server:
//
//	go run ./examples/transform -q 'width=400&height=300&fit=crop' in.jpg out.jpg
//
// With no input file it renders a generated test card, so it runs anywhere:
//
//	go run ./examples/transform -q 'width=200&bw=atkinson&format=png' - card.png
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"os"

	"github.com/imageopto/imageopto"
)

func main() {
	query := flag.String("q", "width=300", "Fastly IO query string")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: transform [-q query] [in|-] [out]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	in, out := "-", "out"
	if flag.NArg() > 0 {
		in = flag.Arg(0)
	}
	if flag.NArg() > 1 {
		out = flag.Arg(1)
	}
	if err := run(*query, in, out); err != nil {
		log.Fatal(err)
	}
}

func run(query, in, out string) error {
	p, err := imageopto.ParseParams(query)
	if err != nil {
		return fmt.Errorf("bad query (HTTP %d): %w", imageopto.StatusCode(err), err)
	}
	var src io.Reader
	if in == "-" {
		src = bytes.NewReader(testCard())
	} else {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	res, err := imageopto.Transform(context.Background(), src, p, nil)
	if err != nil {
		return fmt.Errorf("transform (HTTP %d): %w", imageopto.StatusCode(err), err)
	}
	if err := os.WriteFile(out, res.Data, 0o644); err != nil {
		return err
	}
	fmt.Printf("%s\nplan: %s\nwrote %s (%s)\n", res.Info(), res.Plan, out, res.ContentType)
	return nil
}

// testCard draws a 640×400 PNG with colour bars and a grey ramp.
func testCard() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 640, 400))
	bars := []color.NRGBA{{255, 255, 255, 255}, {255, 255, 0, 255}, {0, 255, 255, 255}, {0, 255, 0, 255},
		{255, 0, 255, 255}, {255, 0, 0, 255}, {0, 0, 255, 255}, {0, 0, 0, 255}}
	for y := range 400 {
		for x := range 640 {
			c := bars[x*len(bars)/640]
			if y >= 300 {
				v := uint8(x * 255 / 639)
				c = color.NRGBA{v, v, v, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}
