package codec

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// rawPNG describes a PNG to build byte by byte: every colour type, bit
// depth and filter, which image/png's encoder does not all write.
type rawPNG struct {
	w, h       int
	ct, depth  byte
	plte, trns []byte
	rows       [][]byte // unfiltered, (w*bits+7)/8 bytes each
	filter     func(y int) byte
	idatSplit  int // IDAT chunk size; 0: one chunk
}

// pngChunk appends one chunk.
func appendPNGChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// channelsOf is the number of samples a pixel of colour type ct has.
func channelsOf(ct byte) int {
	return map[byte]int{pngGray: 1, pngTrueColor: 3, pngPaletted: 1, pngGrayAlpha: 2, pngRGBA: 4}[ct]
}

// encode writes the file: each row filtered with r.filter(y).
func (r rawPNG) encode(tb testing.TB) []byte {
	tb.Helper()
	bits := channelsOf(r.ct) * int(r.depth)
	bpp := max(bits/8, 1)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	prev := make([]byte, (r.w*bits+7)/8)
	for y, cur := range r.rows {
		ft := byte(0)
		if r.filter != nil {
			ft = r.filter(y)
		}
		out := make([]byte, len(cur)+1)
		out[0] = ft
		for i, c := range cur {
			var a, b, cc byte
			if i >= bpp {
				a, cc = cur[i-bpp], prev[i-bpp]
			}
			b = prev[i]
			switch ft {
			case ftSub:
				c -= a
			case ftUp:
				c -= b
			case ftAverage:
				c -= byte((int(a) + int(b)) / 2)
			case ftPaeth:
				c -= paethPredict(a, b, cc)
			}
			out[i+1] = c
		}
		zw.Write(out)
		prev = cur
	}
	zw.Close()
	b := []byte("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[:], uint32(r.w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(r.h))
	ihdr[8], ihdr[9] = r.depth, r.ct
	b = appendPNGChunk(b, "IHDR", ihdr[:])
	if r.plte != nil {
		b = appendPNGChunk(b, "PLTE", r.plte)
	}
	if r.trns != nil {
		b = appendPNGChunk(b, "tRNS", r.trns)
	}
	data := z.Bytes()
	for len(data) > 0 {
		n := len(data)
		if r.idatSplit > 0 {
			n = min(n, r.idatSplit)
		}
		b = appendPNGChunk(b, "IDAT", data[:n])
		data = data[n:]
	}
	return appendPNGChunk(b, "IEND", nil)
}

// randomPNG makes a w×h image of colour type ct and depth with random
// samples (smooth in places, so that every filter has work), a palette of
// np entries, and tRNS when trns is set.
func randomPNG(rng *rand.Rand, w, h int, ct, depth byte, np int, trns bool) rawPNG {
	r := rawPNG{w: w, h: h, ct: ct, depth: depth, idatSplit: 1 + rng.IntN(200)}
	bits := channelsOf(ct) * int(depth)
	rowLen := (w*bits + 7) / 8
	for y := range h {
		row := make([]byte, rowLen)
		for i := range row {
			if y%3 == 0 {
				row[i] = byte(rng.IntN(256))
			} else {
				row[i] = byte(i*7 + y*3)
			}
		}
		if pad := rowLen*8 - w*bits; pad > 0 {
			row[rowLen-1] &^= byte(1)<<pad - 1 // unused bits are zero
		}
		r.rows = append(r.rows, row)
	}
	if ct == pngPaletted {
		r.plte = make([]byte, 3*np)
		for i := range r.plte {
			r.plte[i] = byte(rng.IntN(256))
		}
		if trns {
			r.trns = make([]byte, 1+rng.IntN(np+1)) // may be longer than the palette
			for i := range r.trns {
				r.trns[i] = byte(rng.IntN(256))
			}
		}
	} else if trns {
		// A key that occurs: the first pixel's samples.
		n := map[byte]int{pngGray: 1, pngTrueColor: 3}[ct]
		r.trns = make([]byte, 2*n)
		first := r.rows[0]
		for c := range n {
			switch depth {
			case 16:
				copy(r.trns[2*c:], first[2*c:2*c+2])
			case 8:
				r.trns[2*c+1] = first[c]
			default:
				r.trns[2*c+1] = first[0] >> (8 - depth)
			}
		}
	}
	r.filter = func(y int) byte { return byte(y % 5) }
	return r
}

// referenceDecode is Decode's result by way of image/png.
func referenceDecode(tb testing.TB, data []byte) (*image.NRGBA, error) {
	tb.Helper()
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return toNRGBA(new(ctxpoll.Poller), m, false)
}

// pngKinds are the colour types and depths a PNG may have, with and
// without tRNS.
func pngKinds() []struct {
	ct, depth byte
	trns      bool
} {
	var kinds []struct {
		ct, depth byte
		trns      bool
	}
	for _, ct := range []byte{pngGray, pngTrueColor, pngPaletted, pngGrayAlpha, pngRGBA} {
		for _, d := range []byte{1, 2, 4, 8, 16} {
			if !pngValidDepth(ct, d) {
				continue
			}
			kinds = append(kinds, struct {
				ct, depth byte
				trns      bool
			}{ct, d, false})
			if ct != pngGrayAlpha && ct != pngRGBA {
				kinds = append(kinds, struct {
					ct, depth byte
					trns      bool
				}{ct, d, true})
			}
		}
	}
	return kinds
}

// TestPNGRowsMatchImagePNG: at full size the row decoder gives exactly
// image/png's pixels (after Decode's conversion), for every colour type,
// bit depth, filter and tRNS, and for the PNG fixtures.
func TestPNGRowsMatchImagePNG(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type tc struct {
		name string
		data []byte
	}
	var cases []tc
	for _, k := range pngKinds() {
		for _, size := range [][2]int{{1, 1}, {7, 5}, {33, 9}} {
			np := 1 << min(k.depth, 8)
			if k.ct == pngPaletted {
				np = max(1, np-rng.IntN(np)) // indices past the palette are black
			}
			r := randomPNG(rng, size[0], size[1], k.ct, k.depth, np, k.trns)
			cases = append(cases, tc{fmt.Sprintf("ct%d-d%d-trns%v-%dx%d", k.ct, k.depth, k.trns, size[0], size[1]), r.encode(t)})
		}
	}
	fixtures, _ := filepath.Glob("testdata/*.png")
	for _, f := range fixtures {
		if strings.Contains(f, "invalid") || strings.Contains(f, "interlaced") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tc{filepath.Base(f), b})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := referenceDecode(t, c.data)
			if err != nil {
				t.Fatalf("image/png: %v", err)
			}
			h := mustHeader(t, c.data)
			got, err := DecodePNGScaled(bgCtx, c.data, h, 1)
			if err != nil {
				t.Fatalf("DecodePNGScaled: %v", err)
			}
			samePixels(t, got, want)
			samePixels(t, mustDecode(t, c.data), want)
		})
	}
}

// boxReference averages img in scale×scale boxes in floating point,
// alpha-weighted.
func boxReference(img *image.NRGBA, scale int) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	ow, oh := PNGScaledSize(w, h, scale)
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	for oy := range oh {
		for ox := range ow {
			var s [3]float64
			var a, n float64
			for y := oy * scale; y < min(oy*scale+scale, h); y++ {
				for x := ox * scale; x < min(ox*scale+scale, w); x++ {
					p := img.Pix[img.PixOffset(x, y):]
					for c := range 3 {
						s[c] += float64(p[c]) * float64(p[3])
					}
					a += float64(p[3])
					n++
				}
			}
			q := out.Pix[out.PixOffset(ox, oy):]
			if a > 0 {
				for c := range 3 {
					q[c] = uint8(math.Round(s[c] / a))
				}
			}
			q[3] = uint8(math.Round(a / n))
		}
	}
	return out
}

// TestPNGRowsScaled: at a reduction each pixel is its box's mean
// (alpha-weighted), within one level, for every kind of PNG and sizes that
// leave partial boxes.
func TestPNGRowsScaled(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range pngKinds() {
		for _, scale := range []int{2, 3, 5, 64} {
			name := fmt.Sprintf("ct%d-d%d-trns%v-1/%d", k.ct, k.depth, k.trns, scale)
			t.Run(name, func(t *testing.T) {
				r := randomPNG(rng, 71, 23, k.ct, k.depth, 1<<min(k.depth, 8), k.trns)
				data := r.encode(t)
				full, err := referenceDecode(t, data)
				if err != nil {
					t.Fatal(err)
				}
				got, err := DecodePNGScaled(bgCtx, data, mustHeader(t, data), scale)
				if err != nil {
					t.Fatal(err)
				}
				want := boxReference(full, scale)
				if got.Rect != want.Rect {
					t.Fatalf("bounds %v, want %v", got.Rect, want.Rect)
				}
				for i := range want.Pix {
					if d := int(got.Pix[i]) - int(want.Pix[i]); d < -1 || d > 1 {
						t.Fatalf("byte %d (pixel %d, %d) = %d, want %d ± 1", i, i/4%want.Rect.Dx(), i/4/want.Rect.Dx(), got.Pix[i], want.Pix[i])
					}
				}
			})
		}
	}
}

// TestPNGRowsRefuses: damaged files are corrupt, an interlaced one is not
// for this decoder (Decode takes it through image/png), a file whose size
// differs from the header it came with is refused before any work.
func TestPNGRowsRefuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	good := randomPNG(rng, 20, 10, pngRGBA, 8, 0, false)
	data := good.encode(t)
	h := mustHeader(t, data)
	idat := bytes.Index(data, []byte("IDAT"))
	flip := func(i int) []byte { b := bytes.Clone(data); b[i] ^= 0x40; return b }
	badFilter := good
	badFilter.filter = func(y int) byte { return byte(5 * (y / 9)) }
	noPalette := randomPNG(rng, 4, 4, pngPaletted, 8, 4, false)
	noPalette.plte = nil
	longZ := good
	longZ.rows = append(longZ.rows, make([]byte, 80))
	for _, c := range []struct {
		name string
		data []byte
		h    Header
		want error
	}{
		{"truncated", data[:len(data)-30], h, ErrCorrupt},
		{"no IEND", data[:len(data)-12], h, ErrCorrupt},
		{"bad CRC", flip(idat + 10), h, ErrCorrupt},
		{"bad filter", badFilter.encode(t), h, ErrCorrupt},
		{"no PLTE", noPalette.encode(t), mustHeader(t, noPalette.encode(t)), ErrCorrupt},
		{"too much data", longZ.encode(t), h, ErrCorrupt},
		{"size differs", data, Header{Format: h.Format, Width: 21, Height: 10}, ErrCorrupt},
		{"interlaced", readFixture(t, "gray-gradient.interlaced.png"), mustHeader(t, readFixture(t, "gray-gradient.interlaced.png")), ErrUnsupportedFormat},
		{"fixture crc", readFixture(t, "invalid-crc32.png"), mustHeader(t, readFixture(t, "invalid-crc32.png")), ErrCorrupt},
		{"fixture trunc", readFixture(t, "invalid-trunc.png"), mustHeader(t, readFixture(t, "invalid-trunc.png")), ErrCorrupt},
		{"fixture zlib", readFixture(t, "invalid-zlib.png"), mustHeader(t, readFixture(t, "invalid-zlib.png")), ErrCorrupt},
		{"fixture noend", readFixture(t, "invalid-noend.png"), mustHeader(t, readFixture(t, "invalid-noend.png")), ErrCorrupt},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, scale := range []int{1, 3} {
				_, err := DecodePNGScaled(bgCtx, c.data, c.h, scale)
				requireIs(t, err, c.want)
			}
		})
	}
	// A header that lies: 20000×20000 declared over the 20×10 image's few
	// hundred bytes of data is refused before the 1.6 GB image exists.
	liar := bytes.Clone(data)
	binary.BigEndian.PutUint32(liar[16:], 20000)
	binary.BigEndian.PutUint32(liar[20:], 20000)
	binary.BigEndian.PutUint32(liar[29:], crc32.ChecksumIEEE(liar[12:29]))
	_, err := DecodePNGScaled(bgCtx, liar, Header{Format: h.Format, Width: 20000, Height: 20000}, 1)
	requireIs(t, err, ErrCorrupt)
	if err == nil || !strings.Contains(err.Error(), "cannot hold 20000x20000") {
		t.Errorf("lying header: %v", err)
	}
	if _, err := DecodePNGScaled(bgCtx, data, h, 65); err == nil {
		t.Error("scale 65 accepted")
	}
}

// TestPNGRowsStops: a done context stops the decoder with ctx.Err().
func TestPNGRowsStops(t *testing.T) {
	r := randomPNG(rand.New(rand.NewPCG(7, 8)), 600, 600, pngTrueColor, 8, 0, false)
	data := r.encode(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, scale := range []int{1, 4} {
		if _, err := DecodePNGScaled(ctx, data, mustHeader(t, data), scale); !errors.Is(err, context.Canceled) {
			t.Errorf("scale %d: error %v, want context.Canceled", scale, err)
		}
	}
}

// FuzzDecodePNGScaled: the row decoder never panics nor reads past its
// input; errors wrap a sentinel; at full size it agrees with image/png
// whenever both decode; reductions have the promised size.
func FuzzDecodePNGScaled(f *testing.F) {
	addSeeds(f, ".png")
	rng := rand.New(rand.NewPCG(9, 10))
	for _, k := range pngKinds() {
		f.Add(randomPNG(rng, 9, 4, k.ct, k.depth, 1<<min(k.depth, 8), k.trns).encode(f))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(data)
		if err != nil || h.Format != "png" || int64(h.Width)*int64(h.Height) > fuzzMaxPixels {
			return
		}
		got, err := DecodePNGScaled(bgCtx, data, h, 1)
		if err != nil {
			checkSentinel(t, err)
		}
		want, werr := referenceDecode(t, data)
		if err == nil && werr == nil && want.Rect == got.Rect {
			samePixels(t, got, want)
		}
		for _, scale := range []int{2, 3} {
			m, err := DecodePNGScaled(bgCtx, data, h, scale)
			if err != nil {
				checkSentinel(t, err)
				continue
			}
			w, ht := PNGScaledSize(h.Width, h.Height, scale)
			if m.Rect != image.Rect(0, 0, w, ht) {
				t.Fatalf("1/%d: bounds %v, want %dx%d", scale, m.Rect, w, ht)
			}
		}
	})
}
