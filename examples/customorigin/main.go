// Command customorigin serves images that the program makes itself,
// through an Origin written as a plain function (imageopto.OriginFunc).
// Here the originals are drawn into a map at start-up; a database, an
// object store or a renderer fits the same shape.
//
//	go run ./examples/customorigin
//	curl -s 'http://localhost:8080/rings.png?width=300&format=jpg' -o rings.jpg
//	curl -s 'http://localhost:8080/checker.png?width=200&blur=2' -o checker.png
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"net/http"
	"time"

	"github.com/imageopto/imageopto"
)

// original is one stored image with its validators.
type original struct {
	data     []byte
	etag     string
	modified time.Time
}

func main() {
	addr := flag.String("addr", "localhost:8080", "listen address")
	flag.Parse()

	// Written once here and only read afterwards, so the origin below is
	// safe for concurrent use without a lock.
	store := map[string]original{
		"rings.png":   encode(rings(600, 400)),
		"checker.png": encode(checker(512, 512, 32)),
	}

	origin := imageopto.OriginFunc(func(ctx context.Context, req imageopto.FetchRequest) (*imageopto.Source, error) {
		// req.Path is already clean: relative, without "." or ".." elements.
		o, ok := store[req.Path]
		if !ok {
			return nil, fmt.Errorf("%w: %s", imageopto.ErrNotFound, req.Path) // 404
		}
		src := &imageopto.Source{
			ETag:         o.etag,
			LastModified: o.modified,
			Expires:      time.Now().Add(10 * time.Minute), // fresh this long, then revalidated
		}
		if req.IfNoneMatch == o.etag {
			// The handler's cached copy is current: no bytes needed, and
			// its transformed images are kept without transforming again.
			src.NotModified = true
			return src, nil
		}
		src.Data = o.data
		return src, nil
	})

	h, err := imageopto.New(origin, nil)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("try http://%s/rings.png?width=300 and http://%s/checker.png?width=200", *addr, *addr)
	log.Fatal(srv.ListenAndServe())
}

// encode stores img as a PNG original with a content-based ETag.
func encode(img image.Image) original {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // an in-memory image always encodes
	}
	sum := sha256.Sum256(buf.Bytes())
	return original{data: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, modified: time.Now()}
}

// rings draws concentric coloured rings.
func rings(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			d := math.Hypot(float64(x-w/2), float64(y-h/2))
			t := 0.5 + 0.5*math.Sin(d/9)
			img.SetNRGBA(x, y, color.NRGBA{uint8(40 + 200*t), uint8(90 + 60*t), uint8(220 - 150*t), 255})
		}
	}
	return img
}

// checker draws a black and white checkerboard of size×size squares.
func checker(w, h, size int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if (x/size+y/size)%2 == 0 {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	return img
}
