package codec

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"
)

// TestWritePNGMatchesImagePNG checks that the PNG writer, which exists to
// poll its context between rows, writes exactly the bytes image/png
// writes at its default compression: every colour type and bit depth, with
// and without tRNS, and sizes down to one pixel.
func TestWritePNGMatchesImagePNG(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(8, 9))
	smooth := photoLike(301, 203)
	// Noise does not compress: several IDAT chunks.
	noisyAlpha := image.NewNRGBA(image.Rect(0, 0, 297, 161))
	for i := range noisyAlpha.Pix {
		noisyAlpha.Pix[i] = uint8(rng.UintN(256))
	}
	gray := image.NewNRGBA(smooth.Rect)
	for i := 0; i < len(gray.Pix); i += 4 {
		v := smooth.Pix[i+1]
		gray.Pix[i], gray.Pix[i+1], gray.Pix[i+2], gray.Pix[i+3] = v, v, v, 255
	}
	paletted := func(w, h, n int, alpha bool) *image.Paletted {
		pal := make(color.Palette, n)
		for i := range pal {
			a := uint8(255)
			if alpha && i%3 == 0 {
				a = uint8(i * 7)
			}
			pal[i] = color.NRGBA{uint8(i * 37), uint8(i * 11), uint8(255 - i), a}
		}
		pm := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for i := range pm.Pix {
			pm.Pix[i] = uint8(rng.UintN(uint(n)))
		}
		return pm
	}
	type tc struct {
		name   string
		layout pngLayout
		std    image.Image // the same image, as image/png gets it
	}
	var cases []tc
	// Rows wider than pngSlice are compressed in several writes.
	wide := photoLike(5000, 9)
	for _, m := range []*image.NRGBA{smooth, noisyAlpha, wide, image.NewNRGBA(image.Rect(0, 0, 1, 1)), smooth.SubImage(image.Rect(7, 9, 8, 150)).(*image.NRGBA)} {
		opaque := true
		for i := 3; i < len(m.Pix); i += 4 {
			opaque = opaque && m.Pix[i] == 255
		}
		cases = append(cases, tc{fmt.Sprintf("NRGBA %v opaque %v", m.Rect, opaque), nrgbaLayout(m, opaque), m})
	}
	g := image.NewGray(gray.Rect)
	for i := range g.Pix {
		g.Pix[i] = gray.Pix[4*i]
	}
	cases = append(cases, tc{"grey", grayLayout(gray), g})
	for _, p := range []struct {
		w, h, n int
		alpha   bool
	}{{33, 9, 2, false}, {31, 7, 4, true}, {17, 5, 16, false}, {129, 40, 200, true}, {1, 1, 3, false}} {
		pm := paletted(p.w, p.h, p.n, p.alpha)
		cases = append(cases, tc{fmt.Sprintf("paletted %dx%d, %d colours, alpha %v", p.w, p.h, p.n, p.alpha), palettedLayout(pm), pm})
	}
	for _, c := range cases {
		var ours, std bytes.Buffer
		if err := writePNG(nopoll(), &ours, c.layout); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := png.Encode(&std, c.std); err != nil {
			t.Fatalf("%s: image/png: %v", c.name, err)
		}
		if !bytes.Equal(ours.Bytes(), std.Bytes()) {
			t.Errorf("%s: %d bytes, image/png %d bytes, not the same", c.name, ours.Len(), std.Len())
		}
	}
}
