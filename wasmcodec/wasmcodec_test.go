package wasmcodec

// Fixtures in testdata, made with Debian 12's tools from tiny.png (131×101:
// a blue–yellow gradient, a red block at the top left, a white disc) and
// tiny-alpha.png (the same with a vertical alpha ramp):
//
//	convert -size 131x101 gradient:blue-yellow -fill red -draw "rectangle 0,0 23,15" \
//	  -fill white -draw "circle 85,55 97,65" PNG24:tiny.png
//	convert tiny.png \( -size 131x101 gradient:white-black \) -alpha off \
//	  -compose CopyOpacity -composite PNG32:tiny-alpha.png
//	heif-enc -q 60 -o tiny.heic tiny.png                 # libheif 1.15.1 + x265: a 1-tile grid
//	heif-enc -q 60 -o tiny-alpha.heic tiny-alpha.png
//	avifenc -s 8 tiny.png tiny.avif                      # libavif 0.11.1 + libaom
//	avifenc -s 8 --irot 1 tiny.png tiny-irot.avif
//	avifenc -s 8 --irot 1 --imir 0 tiny.png tiny-rot.avif
//	convert tiny.png -flop tiny-flop.png
//	avifenc -s 8 --fps 2 tiny.png tiny-flop.png tiny-anim.avif  # an image sequence (avis)

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	xwebp "golang.org/x/image/webp"

	"github.com/imageopto/imageopto"
)

// testImage is a synthetic w×h image: smooth gradients, a few hard edges
// and, with alpha, a horizontal alpha ramp from transparent to opaque.
func testImage(w, h int, alpha bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(255 * x / max(w-1, 1)), uint8(255 * y / max(h-1, 1)), uint8(128 + 100*((x/16+y/16)%2)), 255}
			if (x-w/2)*(x-w/2)+(y-h/2)*(y-h/2) < (h/4)*(h/4) {
				c = color.NRGBA{240, 30, 30, 255}
			}
			if alpha {
				c.A = uint8(255 * x / max(w-1, 1))
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func codec(t testing.TB, f imageopto.ImageFormat) imageopto.Codec {
	t.Helper()
	for _, c := range Codecs() {
		if c.Format == f {
			return c
		}
	}
	t.Fatalf("no codec for %s", f)
	return imageopto.Codec{}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func readPNG(t testing.TB, name string) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(readFile(t, name)))
	require.NoError(t, err)
	return img
}

// alphaDiff is the mean absolute difference of the alpha channels.
func alphaDiff(a, b image.Image) float64 {
	na, nb := toNRGBA(a), toNRGBA(b)
	var s float64
	for i := 3; i < len(na.Pix); i += 4 {
		d := float64(na.Pix[i]) - float64(nb.Pix[i])
		s += max(d, -d)
	}
	return s / float64(len(na.Pix)/4)
}

// externalDecode runs a reference decoder (args with IN and OUT
// placeholders) on data and returns the PNG it wrote, skipping when the tool
// is not installed.
func externalDecode(t *testing.T, tool string, data []byte, ext string, args ...string) image.Image {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed", tool)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in."+ext), filepath.Join(dir, "out.png")
	require.NoError(t, os.WriteFile(in, data, 0o644))
	for i, a := range args {
		args[i] = strings.NewReplacer("IN", in, "OUT", out).Replace(a)
	}
	b, err := exec.Command(path, args...).CombinedOutput()
	require.NoError(t, err, "%s failed on our output:\n%s", tool, b)
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	return img
}

func TestEncodeWebP(t *testing.T) {
	t.Parallel()
	enc := codec(t, imageopto.WebP).Encode
	for _, alpha := range []bool{false, true} {
		for _, lossless := range []bool{false, true} {
			t.Run(fmt.Sprintf("alpha=%v/lossless=%v", alpha, lossless), func(t *testing.T) {
				t.Parallel()
				src := testImage(203, 117, alpha)
				var buf bytes.Buffer
				require.NoError(t, enc(context.Background(), &buf, src, imageopto.EncodeOptions{Quality: 85, Lossless: lossless}))
				data := buf.Bytes()
				require.Greater(t, len(data), 30)
				assert.Equal(t, "RIFF", string(data[:4]))
				assert.Equal(t, "WEBP", string(data[8:12]))
				assert.Equal(t, lossless, webpIsLossless(data), "chunk layout %q", string(data[12:16]))

				got, err := xwebp.Decode(bytes.NewReader(data))
				require.NoError(t, err)
				require.Equal(t, src.Bounds().Size(), got.Bounds().Size())
				if lossless {
					assertSameVisible(t, src, toNRGBA(got))
				} else {
					assert.GreaterOrEqual(t, ssimLuma(src, got), 0.9)
					if alpha {
						assert.Less(t, alphaDiff(src, got), 2.0, "alpha is kept")
					}
				}
				t.Run("dwebp", func(t *testing.T) {
					ref := externalDecode(t, "dwebp", data, "webp", "IN", "-o", "OUT")
					assert.Equal(t, src.Bounds().Size(), ref.Bounds().Size())
					assert.GreaterOrEqual(t, ssimLuma(src, ref), 0.9)
				})
			})
		}
	}
}

// webpIsLossless reports whether the first image chunk is VP8L.
func webpIsLossless(data []byte) bool {
	for off := 12; off+8 <= len(data); {
		switch string(data[off : off+4]) {
		case "VP8L":
			return true
		case "VP8 ":
			return false
		}
		n := int(binary.LittleEndian.Uint32(data[off+4:]))
		off += 8 + n + n&1
	}
	return false
}

// assertSameVisible checks that two images agree exactly in alpha and, where
// alpha is not zero, in colour.
func assertSameVisible(t *testing.T, want, got *image.NRGBA) {
	t.Helper()
	require.Equal(t, want.Bounds(), got.Bounds())
	bad := 0
	for i := 0; i < len(want.Pix); i += 4 {
		w, g := want.Pix[i:i+4], got.Pix[i:i+4]
		if w[3] != g[3] || (w[3] != 0 && (w[0] != g[0] || w[1] != g[1] || w[2] != g[2])) {
			bad++
		}
	}
	assert.Zero(t, bad, "pixels that differ")
}

func TestEncodeAVIF(t *testing.T) {
	t.Parallel()
	c := codec(t, imageopto.AVIF)
	for _, alpha := range []bool{false, true} {
		t.Run(fmt.Sprintf("alpha=%v", alpha), func(t *testing.T) {
			t.Parallel()
			src := testImage(203, 117, alpha)
			var buf bytes.Buffer
			require.NoError(t, c.Encode(context.Background(), &buf, src, imageopto.EncodeOptions{Quality: 60}))
			data := buf.Bytes()
			assert.Equal(t, "ftypavif", string(data[4:12]))

			info, err := c.DecodeHeader(data)
			require.NoError(t, err)
			assert.Equal(t, 203, info.Width)
			assert.Equal(t, 117, info.Height)
			assert.Equal(t, alpha, info.HasAlpha)
			assert.Zero(t, info.Orientation)

			got, err := c.Decode(context.Background(), data)
			require.NoError(t, err)
			require.Equal(t, image.Rect(0, 0, 203, 117), got.Bounds())
			assert.GreaterOrEqual(t, ssimLuma(src, got), 0.9)
			if alpha {
				assert.Less(t, alphaDiff(src, got), 2.0, "alpha is kept")
			}
			t.Run("avifdec", func(t *testing.T) {
				ref := externalDecode(t, "avifdec", data, "avif", "IN", "OUT")
				assert.Equal(t, src.Bounds().Size(), ref.Bounds().Size())
				assert.GreaterOrEqual(t, ssimLuma(src, ref), 0.9)
			})
			t.Run("heif-convert", func(t *testing.T) {
				ref := externalDecode(t, "heif-convert", data, "avif", "IN", "OUT")
				assert.Equal(t, src.Bounds().Size(), ref.Bounds().Size())
			})
		})
	}
}

func TestEncodeRefuses(t *testing.T) {
	t.Parallel()
	webpEnc, avifEnc := codec(t, imageopto.WebP).Encode, codec(t, imageopto.AVIF).Encode
	assert.Error(t, webpEnc(context.Background(), io.Discard, image.NewNRGBA(image.Rect(0, 0, 0, 5)), imageopto.EncodeOptions{Quality: 80}))
	assert.Error(t, webpEnc(context.Background(), io.Discard, image.NewNRGBA(image.Rect(0, 0, 16384, 1)), imageopto.EncodeOptions{Quality: 80}))
	assert.Error(t, avifEnc(context.Background(), io.Discard, image.NewNRGBA(image.Rect(0, 0, 5, 0)), imageopto.EncodeOptions{Quality: 60}))
}

func TestEncodeSubImage(t *testing.T) {
	t.Parallel()
	// A sub-image has a stride wider than its width and Rect.Min ≠ (0,0).
	full := testImage(300, 200, false)
	sub := full.SubImage(image.Rect(50, 40, 150, 140)).(*image.NRGBA)
	var buf bytes.Buffer
	require.NoError(t, codec(t, imageopto.WebP).Encode(context.Background(), &buf, sub, imageopto.EncodeOptions{Lossless: true}))
	got, err := xwebp.Decode(&buf)
	require.NoError(t, err)
	assertSameVisible(t, toNRGBA(sub), toNRGBA(got))
}

func TestDecodeHEIC(t *testing.T) {
	t.Parallel()
	c := codec(t, imageopto.HEIC)
	assert.Nil(t, c.Encode, "no HEIC encoder")
	data := readFile(t, "tiny.heic")
	info, err := c.DecodeHeader(data)
	require.NoError(t, err)
	assert.Equal(t, imageopto.HEIC, info.Format)
	assert.Equal(t, 131, info.Width)
	assert.Equal(t, 101, info.Height)
	assert.False(t, info.HasAlpha)

	got, err := c.Decode(context.Background(), data)
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 131, 101), got.Bounds())
	assert.GreaterOrEqual(t, ssimLuma(readPNG(t, "tiny.png"), got), 0.9)
	t.Run("heif-convert", func(t *testing.T) {
		ref := externalDecode(t, "heif-convert", data, "heic", "IN", "OUT")
		require.Equal(t, got.Bounds().Size(), ref.Bounds().Size())
		assert.GreaterOrEqual(t, ssimLuma(ref, got), 0.95, "same pixels as libheif's own tool")
	})
}

// TestHEICRefused covers what gen2brain/heic cannot decode correctly: alpha
// (dropped) and images narrower than 97 px (scrambled planes).
func TestHEICRefused(t *testing.T) {
	t.Parallel()
	c := codec(t, imageopto.HEIC)
	for name, data := range map[string][]byte{
		"alpha":  readFile(t, "tiny-alpha.heic"),
		"narrow": readFile(t, "tiny-narrow.heic"),
	} {
		_, err := c.DecodeHeader(data)
		assert.ErrorIs(t, err, imageopto.ErrUnsupportedFormat, name)
		_, err = c.Decode(context.Background(), data)
		assert.ErrorIs(t, err, imageopto.ErrUnsupportedFormat, name)
	}
}

func TestDecodeAVIFFixture(t *testing.T) {
	t.Parallel()
	c := codec(t, imageopto.AVIF)
	data := readFile(t, "tiny.avif")
	info, err := c.DecodeHeader(data)
	require.NoError(t, err)
	assert.Equal(t, 131, info.Width)
	assert.Equal(t, 101, info.Height)
	assert.False(t, info.HasAlpha)
	got, err := c.Decode(context.Background(), data)
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 131, 101), got.Bounds())
	assert.GreaterOrEqual(t, ssimLuma(readPNG(t, "tiny.png"), got), 0.9)
}

func TestDecodeAVIFSequence(t *testing.T) {
	t.Parallel()
	c := codec(t, imageopto.AVIF)
	data := readFile(t, "tiny-anim.avif")
	info, err := c.DecodeHeader(data)
	require.NoError(t, err)
	assert.Equal(t, 131, info.Width)
	assert.Equal(t, 101, info.Height)
	got, err := c.Decode(context.Background(), data)
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 131, 101), got.Bounds())
	assert.GreaterOrEqual(t, ssimLuma(readPNG(t, "tiny.png"), got), 0.9, "the first frame")
}

// TestOrientationTable derives the irot+imir → EXIF table by moving pixels.
func TestOrientationTable(t *testing.T) {
	t.Parallel()
	type grid [][]int // [y][x]
	src := grid{{1, 2, 3}, {4, 5, 6}}
	rotCCW := func(g grid) grid { // 90° anticlockwise
		h, w := len(g), len(g[0])
		out := make(grid, w)
		for y := range out {
			out[y] = make([]int, h)
			for x := range out[y] {
				out[y][x] = g[x][w-1-y]
			}
		}
		return out
	}
	flipLR := func(g grid) grid {
		out := make(grid, len(g))
		for y := range g {
			for x := range g[y] {
				out[y] = append(out[y], g[y][len(g[y])-1-x])
			}
		}
		return out
	}
	flipTB := func(g grid) grid {
		out := make(grid, len(g))
		for y := range g {
			out[y] = g[len(g)-1-y]
		}
		return out
	}
	transpose := func(g grid) grid {
		out := make(grid, len(g[0]))
		for y := range out {
			for x := range g {
				out[y] = append(out[y], g[x][y])
			}
		}
		return out
	}
	// What a viewer does to the stored pixels for each EXIF orientation.
	exif := map[imageopto.Orientation]func(grid) grid{
		1: func(g grid) grid { return g },
		2: flipLR,
		3: func(g grid) grid { return rotCCW(rotCCW(g)) },
		4: flipTB,
		5: transpose,
		6: func(g grid) grid { return rotCCW(rotCCW(rotCCW(g))) }, // 90° clockwise
		7: func(g grid) grid { return rotCCW(rotCCW(transpose(g))) },
		8: rotCCW,
	}
	for rot := range 4 {
		for mir := range 3 {
			g := src
			for range rot {
				g = rotCCW(g)
			}
			switch mir {
			case 1:
				g = flipLR(g)
			case 2:
				g = flipTB(g)
			}
			want := orientation[rot][mir]
			assert.Equal(t, g, exif[want](src), "irot %d imir %d → EXIF %d", rot, mir, want)
		}
	}
}

func TestAVIFOrientation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		want imageopto.Orientation
		red  image.Point // where the red block, stored at the top left, ends up
	}{
		{"tiny-irot.avif", 8, image.Pt(3, 127)}, // 90° anticlockwise: bottom left
		{"tiny-rot.avif", 5, image.Pt(3, 3)},    // then imir axis 0, top and bottom exchanged: top left
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			data := readFile(t, tc.file)
			info, err := avifHeader(data)
			require.NoError(t, err)
			assert.Equal(t, 131, info.Width, "stored size")
			assert.Equal(t, 101, info.Height)
			assert.Equal(t, tc.want, info.Orientation)

			p, err := imageopto.ParseParams("format=png")
			require.NoError(t, err)
			res, err := imageopto.TransformBytes(context.Background(), data, p, transformOpts())
			require.NoError(t, err)
			got, err := png.Decode(bytes.NewReader(res.Data))
			require.NoError(t, err)
			require.Equal(t, image.Pt(101, 131), got.Bounds().Size())
			px := toNRGBA(got).NRGBAAt(tc.red.X, tc.red.Y)
			assert.True(t, px.R > 0xC0 && px.G < 0x40 && px.B < 0x40, "red at %v, got %v", tc.red, px)

			t.Run("heif-convert", func(t *testing.T) {
				// libheif applies irot and imir itself.
				ref := externalDecode(t, "heif-convert", data, "avif", "IN", "OUT")
				require.Equal(t, got.Bounds().Size(), ref.Bounds().Size())
				assert.GreaterOrEqual(t, ssimLuma(ref, got), 0.95)
			})
		})
	}
}

// rotatedHEIC turns the pixi property of tiny.heic's primary item (a grid)
// into an irot property of the same length: 90° anticlockwise.
func rotatedHEIC(t testing.TB) []byte {
	data := bytes.Clone(readFile(t, "tiny.heic"))
	i := bytes.Index(data, []byte("pixi"))
	require.Positive(t, i)
	size := binary.BigEndian.Uint32(data[i-4:])
	copy(data[i:], "irot")
	data[i+4] = 1
	for k := i + 5; k < i-4+int(size); k++ {
		data[k] = 0
	}
	return data
}

func TestHEICRotated(t *testing.T) {
	t.Parallel()
	data := rotatedHEIC(t)
	c := codec(t, imageopto.HEIC)
	info, err := c.DecodeHeader(data)
	require.NoError(t, err)
	assert.Equal(t, 101, info.Width, "libheif rotates, so the header reports the rotated size")
	assert.Equal(t, 131, info.Height)
	assert.Zero(t, info.Orientation)
	got, err := c.Decode(context.Background(), data)
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 101, 131), got.Bounds())
	// The red block, stored at the top left, is now at the bottom left.
	px := got.NRGBAAt(3, 127)
	assert.True(t, px.R > 0xC0 && px.G < 0x40 && px.B < 0x40, "bottom left is red, got %v", px)
}

// withProperty inserts a property box into the ipco of a file written by
// heif-enc and associates it (as essential) with the primary item, fixing
// the box sizes and the iloc offsets of the data after the meta box. It
// relies on heif-enc's layout: ftyp, meta, mdat; iloc version 1 with 4-byte
// fields; ipma version 0 with 1-byte associations.
func withProperty(t testing.TB, data, prop []byte) []byte {
	t.Helper()
	ftyp, rest, err := nextBox(data)
	require.NoError(t, err)
	require.Equal(t, "ftyp", ftyp.typ)
	meta, rest, err := nextBox(rest)
	require.NoError(t, err)
	require.Equal(t, "meta", meta.typ)
	delta := uint32(len(prop) + 1)
	wrap := func(typ string, body []byte) []byte {
		out := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
		return append(append(out, typ...), body...)
	}
	var primary uint32
	require.NoError(t, children(meta.body[4:], func(b box) error {
		if b.typ == "pitm" {
			primary = uint32(binary.BigEndian.Uint16(b.body[4:]))
		}
		return nil
	}))
	body := bytes.Clone(meta.body[:4])
	require.NoError(t, children(meta.body[4:], func(b box) error {
		switch b.typ {
		case "iloc":
			il := bytes.Clone(b.body)
			require.Equal(t, byte(1), il[0], "iloc version")
			require.Equal(t, []byte{0x44, 0x40}, il[4:6], "iloc field sizes")
			n := int(binary.BigEndian.Uint16(il[6:]))
			off := 8
			for range n {
				method := binary.BigEndian.Uint16(il[off+2:]) & 0xF
				if method == 0 {
					binary.BigEndian.PutUint32(il[off+6:], binary.BigEndian.Uint32(il[off+6:])+delta)
				}
				extents := int(binary.BigEndian.Uint16(il[off+10:]))
				off += 12 + 8*extents
			}
			body = append(body, wrap("iloc", il)...)
		case "iprp":
			var iprp []byte
			nprops := 0
			require.NoError(t, children(b.body, func(p box) error {
				switch p.typ {
				case "ipco":
					require.NoError(t, children(p.body, func(box) error { nprops++; return nil }))
					iprp = append(iprp, wrap("ipco", append(bytes.Clone(p.body), prop...))...)
				case "ipma":
					pm := bytes.Clone(p.body)
					require.Equal(t, []byte{0, 0, 0, 0}, pm[:4], "ipma version and flags")
					n := int(binary.BigEndian.Uint32(pm[4:]))
					off := 8
					for range n {
						id, k := uint32(binary.BigEndian.Uint16(pm[off:])), int(pm[off+2])
						if id == primary {
							pm[off+2]++
							at := off + 3 + k
							pm = append(pm[:at], append([]byte{0x80 | byte(nprops+1)}, pm[at:]...)...)
							k++
						}
						off += 3 + k
					}
					iprp = append(iprp, wrap("ipma", pm)...)
				default:
					iprp = append(iprp, wrap(p.typ, p.body)...)
				}
				return nil
			}))
			body = append(body, wrap("iprp", iprp)...)
		default:
			body = append(body, wrap(b.typ, b.body)...)
		}
		return nil
	}))
	out := append(wrap("ftyp", ftyp.body), wrap("meta", body)...)
	require.Equal(t, len(data)+int(delta), len(out)+len(rest))
	return append(out, rest...)
}

// clapBox is a clean aperture of w×h (fractions n/d), centred.
func clapBox(wn, wd, hn, hd uint32) []byte {
	b := []byte{0, 0, 0, 40, 'c', 'l', 'a', 'p'}
	for _, v := range []uint32{wn, wd, hn, hd, 0, 1, 0, 1} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func TestHEICCleanAperture(t *testing.T) {
	t.Parallel()
	c := codec(t, imageopto.HEIC)
	for _, tc := range []struct {
		name           string
		wn, wd, hn, hd uint32
	}{
		{"odd", 121, 1, 91, 1},
		{"even", 120, 1, 90, 1},
		{"fractional", 241, 2, 181, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := withProperty(t, readFile(t, "tiny.heic"), clapBox(tc.wn, tc.wd, tc.hn, tc.hd))
			info, err := c.DecodeHeader(data)
			require.NoError(t, err)
			img, err := c.Decode(context.Background(), data)
			require.NoError(t, err, "the decoded size agrees with the header")
			assert.Equal(t, image.Rect(0, 0, info.Width, info.Height), img.Bounds())
			assert.InDelta(t, float64(tc.wn)/float64(tc.wd), info.Width, 1)
			assert.InDelta(t, float64(tc.hn)/float64(tc.hd), info.Height, 1)
			t.Run("heif-convert", func(t *testing.T) {
				ref := externalDecode(t, "heif-convert", data, "heic", "IN", "OUT")
				assert.Equal(t, img.Bounds().Size(), ref.Bounds().Size(), "libheif 1.15 agrees")
			})
		})
	}
}

func transformOpts() *imageopto.TransformOptions {
	return &imageopto.TransformOptions{PlanOptions: imageopto.PlanOptions{Codecs: Codecs()}}
}

func TestTransformEndToEnd(t *testing.T) {
	t.Parallel()
	var pngBuf bytes.Buffer
	require.NoError(t, png.Encode(&pngBuf, testImage(320, 200, false)))
	pngBytes := pngBuf.Bytes()
	var jpegBuf bytes.Buffer
	require.NoError(t, jpeg.Encode(&jpegBuf, testImage(320, 200, false), &jpeg.Options{Quality: 90}))
	jpegBytes := jpegBuf.Bytes()
	for _, tc := range []struct {
		name, query, accept string
		src                 []byte
		want                imageopto.ImageFormat
		magic               string
		w, h                int
		err                 error
	}{
		{"format=webp", "format=webp&width=160", "", pngBytes, imageopto.WebP, "RIFF", 160, 100, nil},
		{"format=webpll", "format=webpll&width=160", "", pngBytes, imageopto.WebP, "RIFF", 160, 100, nil},
		{"format=webply", "format=webply", "", pngBytes, imageopto.WebP, "RIFF", 320, 200, nil},
		{"auto=webp", "auto=webp&width=100", "image/webp,*/*", pngBytes, imageopto.WebP, "RIFF", 100, 63, nil},
		{"auto=webp without Accept", "auto=webp&width=100", "*/*", pngBytes, imageopto.PNG, "\x89PNG", 100, 63, nil},
		{"format=avif", "format=avif&width=160", "", pngBytes, imageopto.AVIF, "ftypavif", 160, 100, nil},
		// format=auto keeps a lossless source lossless: PNG where AVIF, which
		// is never lossless here, was negotiated; auto=avif is lossy AVIF.
		{"format=auto with AVIF", "format=auto&width=160", "image/avif,image/webp,*/*", pngBytes, imageopto.PNG, "\x89PNG", 160, 100, nil},
		{"auto=avif", "auto=avif&width=160", "image/avif,image/webp,*/*", pngBytes, imageopto.AVIF, "ftypavif", 160, 100, nil},
		{"format=auto with AVIF, JPEG source", "format=auto&width=160", "image/avif,image/webp,*/*", jpegBytes, imageopto.AVIF, "ftypavif", 160, 100, nil},
		{"format=auto with WebP", "format=auto&width=160", "image/webp,*/*", pngBytes, imageopto.WebP, "RIFF", 160, 100, nil},
		{"AVIF to JPEG", "format=jpg&width=30", "", readFile(t, "tiny.avif"), imageopto.JPEG, "\xff\xd8\xff", 30, 23, nil},
		{"HEIC to JPEG", "format=jpg", "", readFile(t, "tiny.heic"), imageopto.JPEG, "\xff\xd8\xff", 131, 101, nil},
		{"HEIC to default", "", "", readFile(t, "tiny.heic"), imageopto.JPEG, "\xff\xd8\xff", 131, 101, nil},
		{"HEIC with alpha", "format=png", "", readFile(t, "tiny-alpha.heic"), "", "", 0, 0, imageopto.ErrUnsupportedFormat},
		{"AVIF to AVIF", "width=40", "", readFile(t, "tiny.avif"), imageopto.AVIF, "ftypavif", 40, 31, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := imageopto.ParseParams(tc.query)
			require.NoError(t, err)
			opts := transformOpts()
			opts.Accept = tc.accept
			res, err := imageopto.TransformBytes(context.Background(), tc.src, p, opts)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				assert.Equal(t, 415, imageopto.StatusCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Output.Format)
			assert.Equal(t, tc.want.ContentType(), res.ContentType)
			assert.Contains(t, string(res.Data[:12]), tc.magic)
			assert.Equal(t, tc.w, res.Output.Width)
			assert.Equal(t, tc.h, res.Output.Height)
			var img image.Image
			switch tc.want {
			case imageopto.WebP:
				img, err = xwebp.Decode(bytes.NewReader(res.Data))
			case imageopto.AVIF:
				img, err = decodeAVIF(res.Data)
			case imageopto.JPEG:
				img, err = jpeg.Decode(bytes.NewReader(res.Data))
			case imageopto.PNG:
				img, err = png.Decode(bytes.NewReader(res.Data))
			}
			require.NoError(t, err)
			assert.Equal(t, image.Pt(tc.w, tc.h), img.Bounds().Size())
		})
	}
}

// setISPE rewrites every ispe box of an AVIF or HEIC file.
func setISPE(data []byte, w, h uint32) []byte {
	data = bytes.Clone(data)
	for i := 0; ; {
		k := bytes.Index(data[i:], []byte("ispe"))
		if k < 0 {
			return data
		}
		i += k
		binary.BigEndian.PutUint32(data[i+8:], w)
		binary.BigEndian.PutUint32(data[i+12:], h)
		i += 4
	}
}

func TestHostile(t *testing.T) {
	t.Parallel()
	avifData, heicData := readFile(t, "tiny.avif"), readFile(t, "tiny.heic")
	for _, tc := range []struct {
		name string
		f    imageopto.ImageFormat
		data []byte
	}{
		{"avif/garbage after ftyp", imageopto.AVIF, append(bytes.Clone(avifData[:32]), bytes.Repeat([]byte{0xA5}, 500)...)},
		{"heic/garbage after ftyp", imageopto.HEIC, append(bytes.Clone(heicData[:24]), bytes.Repeat([]byte{0xA5}, 500)...)},
		{"avif/ftyp only", imageopto.AVIF, avifData[:32]},
		{"heic/ftyp only", imageopto.HEIC, heicData[:24]},
		{"avif/huge box size", imageopto.AVIF, append(bytes.Clone(avifData[:32]), 0xFF, 0xFF, 0xFF, 0xF0, 'm', 'e', 't', 'a', 0, 0, 0, 0)},
		{"heic/64-bit box size", imageopto.HEIC, append(bytes.Clone(heicData[:24]), 0, 0, 0, 1, 'm', 'e', 't', 'a', 0xFF, 0, 0, 0, 0, 0, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := codec(t, tc.f)
			_, err := c.DecodeHeader(tc.data)
			require.Error(t, err)
			assert.True(t, errors.Is(err, imageopto.ErrCorrupt) || errors.Is(err, imageopto.ErrUnsupportedFormat), "%v", err)
			_, err = c.Decode(context.Background(), tc.data)
			assert.Error(t, err)
			_, err = imageopto.TransformBytes(context.Background(), tc.data, imageopto.Params{}, transformOpts())
			require.Error(t, err)
			assert.Less(t, imageopto.StatusCode(err), 500, "%v", err)
		})
	}
	for _, tc := range []struct {
		name string
		f    imageopto.ImageFormat
		data []byte
	}{{"avif", imageopto.AVIF, avifData}, {"heic", imageopto.HEIC, heicData}} {
		t.Run(tc.name+"/truncated", func(t *testing.T) {
			t.Parallel()
			c := codec(t, tc.f)
			for n := 0; n < len(tc.data); n += 7 {
				cut := tc.data[:n]
				if _, err := c.DecodeHeader(cut); err == nil {
					_, err = c.Decode(context.Background(), cut)
					assert.Error(t, err, "decoding the first %d bytes", n)
				}
				_, err := imageopto.TransformBytes(context.Background(), cut, imageopto.Params{}, transformOpts())
				assert.Error(t, err, "%d bytes", n)
			}
		})
		t.Run(tc.name+"/huge ispe", func(t *testing.T) {
			t.Parallel()
			data := setISPE(tc.data, 0xFFFFFFF0, 0xFFFFFFF0)
			_, err := codec(t, tc.f).DecodeHeader(data)
			assert.ErrorIs(t, err, imageopto.ErrCorrupt, "the coded image is not that size")
			_, err = imageopto.TransformBytes(context.Background(), data, imageopto.Params{}, transformOpts())
			assert.ErrorIs(t, err, imageopto.ErrCorrupt)
		})
		t.Run(tc.name+"/zero ispe", func(t *testing.T) {
			t.Parallel()
			_, err := codec(t, tc.f).DecodeHeader(setISPE(tc.data, 0, 101))
			assert.ErrorIs(t, err, imageopto.ErrCorrupt)
		})
		t.Run(tc.name+"/corrupt coded data", func(t *testing.T) {
			t.Parallel()
			data := bytes.Clone(tc.data)
			i := bytes.LastIndex(data, []byte("mdat")) + 4
			for k := i + 8; k < len(data); k++ {
				data[k] ^= 0x5A
			}
			_, err := codec(t, tc.f).Decode(context.Background(), data)
			assert.Error(t, err)
		})
		t.Run(tc.name+"/ispe smaller than the coded image", func(t *testing.T) {
			t.Parallel()
			data := setISPE(tc.data, 20, 10)
			_, err := codec(t, tc.f).DecodeHeader(data)
			assert.ErrorIs(t, err, imageopto.ErrCorrupt)
			_, err = imageopto.TransformBytes(context.Background(), data, imageopto.Params{}, transformOpts())
			assert.ErrorIs(t, err, imageopto.ErrCorrupt)
			assert.Equal(t, 422, imageopto.StatusCode(err))
		})
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	img := testImage(96, 64, true)
	avifData, heicData := readFile(t, "tiny.avif"), readFile(t, "tiny.heic")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Go(func() {
			var err error
			switch i % 4 {
			case 0:
				err = encodeWebP(io.Discard, img, imageopto.EncodeOptions{Quality: 80, Lossless: i%8 == 0})
			case 1:
				err = encodeAVIF(io.Discard, img, imageopto.EncodeOptions{Quality: 50})
			case 2:
				var m *image.NRGBA
				if m, err = decodeAVIF(avifData); err == nil && m.Bounds().Dx() != 131 {
					err = fmt.Errorf("avif decoded %v", m.Bounds())
				}
			case 3:
				var m *image.NRGBA
				if m, err = decodeHEIC(heicData); err == nil && m.Bounds().Dx() != 131 {
					err = fmt.Errorf("heic decoded %v", m.Bounds())
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func TestWarm(t *testing.T) {
	t.Parallel()
	require.NoError(t, Warm())
	require.NoError(t, Warm(), "twice")
}

func TestToNRGBA(t *testing.T) {
	t.Parallel()
	want := color.NRGBA{200, 100, 50, 128}
	r, g, b, a := want.RGBA()
	rgba := image.NewRGBA(image.Rect(5, 5, 8, 7))
	rgba.SetRGBA(6, 6, color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)})
	rgba64 := image.NewRGBA64(image.Rect(0, 0, 3, 2))
	rgba64.SetRGBA64(1, 1, color.RGBA64{uint16(r), uint16(g), uint16(b), uint16(a)})
	for name, img := range map[string]image.Image{"RGBA": rgba, "RGBA64": rgba64} {
		n := toNRGBA(img)
		assert.Equal(t, image.Rect(0, 0, 3, 2), n.Bounds(), name)
		got := n.NRGBAAt(1, 1)
		for i, d := range []int{int(got.R) - int(want.R), int(got.G) - int(want.G), int(got.B) - int(want.B), int(got.A) - int(want.A)} {
			assert.LessOrEqual(t, max(d, -d), 1, "%s channel %d: %v", name, i, got)
		}
		assert.Equal(t, color.NRGBA{}, n.NRGBAAt(0, 0), name)
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 5, 3), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i * 10)
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(100+i*20), uint8(200-i*20)
	}
	n := toNRGBA(ycc)
	for y := range 3 {
		for x := range 5 {
			assert.Equal(t, color.NRGBAModel.Convert(ycc.At(x, y)), n.NRGBAAt(x, y))
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix[1] = 77
	assert.Equal(t, color.NRGBA{77, 77, 77, 255}, toNRGBA(gray).NRGBAAt(1, 0))
}

// TestNoCgo checks the dependency graph: built with -tags nodynamic the
// package links no purego (the libraries' dlopen path), so the WebAssembly
// path is the only one, and with CGO_ENABLED=0 it needs no cgo at all.
func TestNoCgo(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	deps := func(cgo string, args ...string) string {
		cmd := exec.Command(goTool, append([]string{"list", "-deps"}, append(args, ".")...)...)
		cmd.Env = append(os.Environ(), cgo)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	out := deps("CGO_ENABLED=0", "-tags", "nodynamic")
	assert.NotContains(t, out, "runtime/cgo")
	assert.NotContains(t, out, "purego")
	assert.Contains(t, out, "github.com/tetratelabs/wazero")
	assert.NotContains(t, deps("CGO_ENABLED=1", "-tags", "nodynamic"), "purego")
	if strings.Contains(deps("CGO_ENABLED=0"), "purego") {
		t.Log("without -tags nodynamic the libraries link purego and try dlopen(libwebp.so, libavif.so, libheif.so) at start-up")
	}
}

func FuzzDecodeHeader(f *testing.F) {
	for _, name := range []string{"tiny.avif", "tiny-rot.avif", "tiny-anim.avif", "tiny-grid-alpha.avif", "huge-frame.avif",
		"tiny.heic", "tiny-alpha.heic", "tiny-narrow.heic"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
		// Liars: the coded size checks refuse them.
		f.Add(setISPE(data, 64, 64))
	}
	f.Add([]byte("\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif\x00\x00\x00\x08meta"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range Codecs() {
			if c.DecodeHeader == nil {
				continue
			}
			info, err := c.DecodeHeader(data)
			if err != nil {
				if !errors.Is(err, imageopto.ErrCorrupt) && !errors.Is(err, imageopto.ErrUnsupportedFormat) {
					t.Fatalf("%s: error %v wraps neither ErrCorrupt nor ErrUnsupportedFormat", c.Format, err)
				}
				continue
			}
			if info.Width <= 0 || info.Height <= 0 {
				t.Fatalf("%s: header without error but size %dx%d", c.Format, info.Width, info.Height)
			}
			if int64(info.Width)*int64(info.Height) > 256*256 {
				continue // decoding is the limits' business
			}
			img, err := c.Decode(context.Background(), data)
			if err != nil {
				continue
			}
			if img.Bounds() != image.Rect(0, 0, info.Width, info.Height) {
				t.Fatalf("%s: decoded %v, header said %dx%d", c.Format, img.Bounds(), info.Width, info.Height)
			}
		}
	})
}
