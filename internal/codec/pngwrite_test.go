package codec

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"
)

// TestWritePNGMatchesImagePNG checks that the PNG writer, which exists to
// poll its context between rows, writes exactly the bytes image/png
// writes at its default compression (when choosePNGLevel keeps it): every colour type and bit depth, with
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
		if err := writePNGLevel(nopoll(), &ours, c.layout, zlib.DefaultCompression); err != nil {
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

// TestPNGLevelChoice: Huffman coding alone is chosen for a noisy
// photograph, where it is smaller than level 6, and level 6 is kept for
// images where string matching pays: flat areas outside the sampled rows,
// repeats, a photograph beside a flat band; the file is then exactly the
// level-6 file. Every file decodes to its image.
func TestPNGLevelChoice(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 7))
	photo := photoLike(400, 250)
	noise := make([]int, 401*251*3)
	for i := range noise {
		noise[i] = rng.IntN(25) - 12
	}
	for y := range 250 { // sensor noise, blurred a little as by a resize
		for x := range 400 {
			for c := range 3 {
				n := (noise[(y*401+x)*3+c] + noise[(y*401+x+1)*3+c] + noise[((y+1)*401+x)*3+c]) / 3
				i := photo.PixOffset(x, y) + c
				photo.Pix[i] = uint8(min(max(int(photo.Pix[i])+n, 0), 255))
			}
		}
	}
	// The noisy photograph with flat grey bands where choosePNGLevel
	// does not sample (bands 1 to 5 of every 8 bands of 8 rows): only
	// level 1 sees them.
	flatBand := image.NewNRGBA(photo.Rect)
	copy(flatBand.Pix, photo.Pix)
	for y := range 250 {
		if b := y / 8 % 8; b >= 1 && b <= 5 {
			for x := range 400 {
				copy(flatBand.Pix[flatBand.PixOffset(x, y):], []uint8{128, 128, 128, 255})
			}
		}
	}
	// Tiles: a 16×16 noise tile repeated.
	tiles := image.NewNRGBA(photo.Rect)
	for y := range 250 {
		for x := range 400 {
			copy(tiles.Pix[tiles.PixOffset(x, y):], photo.Pix[photo.PixOffset(x%16, y%16):photo.PixOffset(x%16, y%16)+4])
		}
	}
	for _, c := range []struct {
		name string
		img  *image.NRGBA
		want int
	}{
		{"noisy photograph", photo, zlib.HuffmanOnly},
		{"photograph and flat band", flatBand, zlib.DefaultCompression},
		{"repeated tile", tiles, zlib.DefaultCompression},
		{"small", photo.SubImage(image.Rect(0, 0, 100, 100)).(*image.NRGBA), zlib.DefaultCompression},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := nrgbaLayout(c.img, true)
			level, err := choosePNGLevel(nopoll(), l)
			if err != nil {
				t.Fatal(err)
			}
			if level != c.want {
				t.Errorf("level %d, want %d", level, c.want)
			}
			var chosen, six bytes.Buffer
			if err := writePNG(nopoll(), &chosen, l); err != nil {
				t.Fatal(err)
			}
			if err := writePNGLevel(nopoll(), &six, l, zlib.DefaultCompression); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d bytes, level 6 %d", chosen.Len(), six.Len())
			if c.want == zlib.DefaultCompression && !bytes.Equal(chosen.Bytes(), six.Bytes()) {
				t.Error("not the level-6 file")
			}
			if chosen.Len() > six.Len() {
				t.Errorf("%d bytes, more than level 6's %d", chosen.Len(), six.Len())
			}
			m, err := png.Decode(&chosen)
			if err != nil {
				t.Fatal(err)
			}
			b := c.img.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y += 7 {
				for x := b.Min.X; x < b.Max.X; x += 5 {
					if r, g, bl, _ := m.At(x-b.Min.X, y-b.Min.Y).RGBA(); uint8(r>>8) != c.img.Pix[c.img.PixOffset(x, y)] || uint8(g>>8) != c.img.Pix[c.img.PixOffset(x, y)+1] || uint8(bl>>8) != c.img.Pix[c.img.PixOffset(x, y)+2] {
						t.Fatalf("pixel %d,%d differs", x, y)
					}
				}
			}
		})
	}
}

// TestFilterRowsSelected: a row filtered in a pass over some rows is
// filtered as in the pass over all of them (the row above it is read).
func TestFilterRowsSelected(t *testing.T) {
	t.Parallel()
	img := photoLike(50, 40)
	l := nrgbaLayout(img, true)
	collect := func(rows func(int) bool) map[int][]byte {
		got := map[int][]byte{}
		err := filterRows(nopoll(), l, rows, func(y int, p []byte) error {
			got[y] = append(got[y], p...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	all := collect(nil)
	some := collect(func(y int) bool { return y%7 == 3 || y == 0 || y == 39 })
	if len(all) != 40 || len(some) != 8 {
		t.Fatalf("%d and %d rows", len(all), len(some))
	}
	for y, p := range some {
		if !bytes.Equal(p, all[y]) {
			t.Errorf("row %d filtered differently", y)
		}
	}
}
