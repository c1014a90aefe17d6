package imageopto

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto/internal/quality"
)

// writeRawPNG writes a w×h PNG of colour type ct and bit depth 8 or 16,
// unfiltered, Adam7-interlaced when asked; px returns the samples of a
// pixel (one per channel, 16-bit ones big-endian).
func writeRawPNG(t testing.TB, w, h int, ct, depth byte, interlaced bool, px func(x, y int) []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	type pass struct{ x0, y0, dx, dy int }
	passes := []pass{{0, 0, 1, 1}}
	if interlaced {
		passes = []pass{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	for _, p := range passes {
		for y := p.y0; y < h; y += p.dy {
			if p.x0 >= w {
				break
			}
			row := []byte{0} // filter None
			for x := p.x0; x < w; x += p.dx {
				row = append(row, px(x, y)...)
			}
			zw.Write(row)
		}
	}
	require.NoError(t, zw.Close())
	chunk := func(b []byte, typ string, data []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, ct
	if interlaced {
		ihdr[12] = 1
	}
	b := chunk([]byte("\x89PNG\r\n\x1a\n"), "IHDR", ihdr[:])
	b = chunk(b, "IDAT", z.Bytes())
	return chunk(b, "IEND", nil)
}

// fullResolution is what the engine makes of data for query without
// shrink-on-load: the plan's steps on the full-size decode, not encoded.
func fullResolution(t testing.TB, data []byte, query string) *image.NRGBA {
	t.Helper()
	p, err := ParseParams(query)
	require.NoError(t, err)
	info, dec, err := inspect(data, nil)
	require.NoError(t, err)
	info.pngRows = false
	pl, err := NewPlan(p, info, "", nil)
	require.NoError(t, err)
	require.Equal(t, 1, pl.DecodeScale)
	img, err := dec.first(context.Background())
	require.NoError(t, err)
	out, err := pl.Run(context.Background(), img)
	require.NoError(t, err)
	return out
}

// TestPNGKinds: every kind of PNG — palette, grey, grey with alpha,
// 16-bit, interlaced — comes out of a reduction as it does from a
// full-size decode (SSIM ≥ 0.995), and only opaque, non-interlaced ones
// are averaged in boxes while decoding (the plan says at which scale).
func TestPNGKinds(t *testing.T) {
	t.Parallel()
	const w, h = 1500, 1000 // width=240: boxes of 3, 1000 rows end in a box of 1
	photo := smoothPhoto(w, h)
	at := func(x, y int) color.NRGBA { return photo.NRGBAAt(x, y) }
	alpha := func(x, y int) uint8 { return uint8(55 + 200*x/w) }
	luma := func(x, y int) uint8 {
		c := at(x, y)
		return uint8((299*int(c.R) + 587*int(c.G) + 114*int(c.B)) / 1000)
	}
	pal := image.NewPaletted(photo.Rect, nil)
	for r := range 8 { // 8×8×4 colours
		for g := range 8 {
			for b := range 4 {
				pal.Palette = append(pal.Palette, color.RGBA{uint8(r*36 + 18), uint8(g*36 + 18), uint8(b*64 + 32), 255})
			}
		}
	}
	for y := range h {
		for x := range w {
			c := at(x, y)
			pal.SetColorIndex(x, y, uint8(int(c.R)/32*32+int(c.G)/32*4+int(c.B)/64))
		}
	}
	gray16 := image.NewGray16(photo.Rect)
	rgb16 := image.NewRGBA64(photo.Rect)
	for y := range h {
		for x := range w {
			c := at(x, y)
			gray16.SetGray16(x, y, color.Gray16{uint16(luma(x, y))<<8 | uint16(x)})
			rgb16.SetRGBA64(x, y, color.RGBA64{uint16(c.R)<<8 | 0x80, uint16(c.G) << 8, uint16(c.B)<<8 | uint16(y), 0xFFFF})
		}
	}
	png4 := &image.Paletted{Pix: pal.Pix, Stride: pal.Stride, Rect: pal.Rect, Palette: pal.Palette[:16]}
	cases := []struct {
		name  string
		data  []byte
		scale int // width=240; the crop's 1000 px kept then leave boxes of 2
	}{
		{"palette 8-bit", encodePNG(t, pal), 3},
		{"palette 4-bit", encodePNG(t, png4), 3}, // indices past 16 are black
		{"grey 8-bit", writeRawPNG(t, w, h, 0, 8, false, func(x, y int) []byte { return []byte{luma(x, y)} }), 3},
		{"grey 16-bit", encodePNG(t, gray16), 3},
		{"RGB 16-bit", encodePNG(t, rgb16), 3},
		{"RGB 8-bit", writeRawPNG(t, w, h, 2, 8, false, func(x, y int) []byte { c := at(x, y); return []byte{c.R, c.G, c.B} }), 3},
		{"RGB interlaced", writeRawPNG(t, w, h, 2, 8, true, func(x, y int) []byte { c := at(x, y); return []byte{c.R, c.G, c.B} }), 1},
		{"grey+alpha", writeRawPNG(t, w, h, 4, 8, false, func(x, y int) []byte { return []byte{luma(x, y), alpha(x, y)} }), 1},
		{"RGBA 16-bit", writeRawPNG(t, w, h, 6, 16, false, func(x, y int) []byte {
			c := at(x, y)
			return []byte{c.R, 0, c.G, 0, c.B, 0, alpha(x, y), 0x7F}
		}), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for i, q := range []string{"width=240&format=png", "width=200&height=200&fit=crop&format=png"} {
				res, got := run(t, c.data, q, nil)
				assert.Equal(t, max(c.scale-i, 1), res.Plan.DecodeScale, q)
				want := fullResolution(t, c.data, q)
				s := quality.SSIM(got, want)
				t.Logf("%s: %s, SSIM %.4f against a full-size decode", q, res.Plan, s)
				assert.GreaterOrEqual(t, s, 0.995, q)
			}
			// At full size the row decoder gives image/png's pixels.
			_, got := run(t, c.data, "format=png", nil)
			m, err := png.Decode(bytes.NewReader(c.data))
			require.NoError(t, err)
			for _, p := range []image.Point{{0, 0}, {w - 1, h - 1}, {w / 3, h / 2}, {777, 333}} {
				want := color.NRGBAModel.Convert(m.At(p.X, p.Y)).(color.NRGBA)
				assert.True(t, near(got.NRGBAAt(p.X, p.Y), want, 1), "%v: %v, want %v", p, got.NRGBAAt(p.X, p.Y), want)
			}
		})
	}
}
