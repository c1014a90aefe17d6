package imageopto

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func codecTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("internal", "codec", "testdata", name))
	require.NoError(t, err)
	return b
}

// pngChunk builds one PNG chunk with its CRC.
func pngChunk(typ string, body []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	tb := append([]byte(typ), body...)
	c = append(c, tb...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(tb))
}

// pngHeaderOnly is a PNG signature, an IHDR of w×h 8-bit RGBA, a tiny IDAT
// and IEND: small, valid up to the pixel data.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, pngChunk("IEND", nil)...)
}

// jpegHeaderOnly is SOI, a baseline SOF0 of w×h, and EOI.
func jpegHeaderOnly(w, h uint16, sof byte, precision byte) []byte {
	return []byte{0xFF, 0xD8, 0xFF, sof, 0x00, 0x0B, precision, byte(h >> 8), byte(h), byte(w >> 8), byte(w),
		0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9}
}

// gifFrames is a GIF with a w×h screen and n one-pixel frames of tiny LZW
// data each.
func gifFrames(w, h uint16, n int) []byte {
	out := []byte("GIF89a")
	out = binary.LittleEndian.AppendUint16(out, w)
	out = binary.LittleEndian.AppendUint16(out, h)
	out = append(out, 0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF) // 2-colour global table
	for range n {
		out = append(out, 0x2C, 0, 0, 0, 0)
		out = binary.LittleEndian.AppendUint16(out, w)
		out = binary.LittleEndian.AppendUint16(out, h)
		out = append(out, 0x00, 0x02, 0x02, 0x4C, 0x01, 0x00)
	}
	return append(out, 0x3B)
}

// webpVP8X is a RIFF/WEBP file with only a VP8X chunk declaring w×h.
func webpVP8X(w, h uint32) []byte {
	body := []byte{0, 0, 0, 0}
	body = append(body, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	chunk := append([]byte("VP8X"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	chunk = append(chunk, body...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(chunk)))...)
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}

// manyScans is a progressive JPEG header followed by n scan headers.
func manyScans(n int) []byte {
	out := []byte{0xFF, 0xD8, 0xFF, 0xC2, 0x00, 0x0B, 8, 0, 8, 0, 8, 0x01, 0x01, 0x11, 0x00}
	for range n {
		out = append(out, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00)
	}
	return append(out, 0xFF, 0xD9)
}

// TestBadInputs runs the bad-input classes of reliability.md §5.2 that are
// about sources through the handler: each gets its expected status, none a
// 500, and the header gate answers before any pixel buffer exists. (Classes
// 19–28 — profiles, EXIF, parameters, paths, origin URLs, signatures — have
// their own tests: TestColorProfiles, TestTransformEXIFOrientation, the
// params tests, TestHandlerErrors, TestURLOriginSSRF, TestSignerRefuses.)
//
// Not parallel: it measures allocations.
func TestBadInputs(t *testing.T) {
	good := encodeJPEG(t, photoLike(64, 48), 85, 0)
	prog := codecTestdata(t, "video-001.progressive.jpeg")
	base := codecTestdata(t, "video-001.jpeg")
	sof := bytes.Index(base, []byte{0xFF, 0xC0})
	require.Positive(t, sof)
	sofLen := int(binary.BigEndian.Uint16(base[sof+2:])) + 2
	twoSOF := append(append(append([]byte{}, base[:sof+sofLen]...), base[sof:sof+sofLen]...), base[sof+sofLen:]...)
	twelveBit := append([]byte{}, base...)
	twelveBit[sof+1], twelveBit[sof+4] = 0xC1, 12
	arithmetic := append([]byte{}, base...)
	arithmetic[sof+1] = 0xC9
	lossless := append([]byte{}, base...)
	lossless[sof+1] = 0xC3
	webp := codecTestdata(t, "video-001.lossy.webp")
	zeroWidth := append([]byte{}, webp...)
	zeroWidth[26], zeroWidth[27] = 0, 0
	gifOK := codecTestdata(t, "video-001.gif")
	noTable := append([]byte{}, gifFrames(4, 4, 1)...)
	noTable[10] = 0 // no global colour table, and the frame has none

	cases := []struct {
		class  int
		name   string
		data   []byte
		query  string
		status int
	}{
		{1, "empty", nil, "", 422}, // an empty original is a bad source, not an origin failure
		{1, "one byte", []byte{0xFF}, "", 415},
		{1, "HTML error page", []byte("<!doctype html><title>404</title>"), "", 415},
		{2, "baseline cut at 10%", good[:len(good)/10], "", 422},
		{2, "baseline cut at 50%", good[:len(good)/2], "", 422},
		{2, "baseline cut at 99%", good[:len(good)*99/100], "", 422},
		{2, "progressive cut at 50%", prog[:len(prog)/2], "", 422},
		{3, "trailing garbage", append(append([]byte{}, good...), "garbage after EOI"...), "width=10", 200},
		{4, "two SOF markers", twoSOF, "", 422},
		{5, "5000 scans", manyScans(5000), "", 422},
		{6, "CMYK with APP14", codecTestdata(t, "video-001.cmyk.jpeg"), "width=40", 200},
		{7, "12-bit", twelveBit, "", 422},
		{7, "arithmetic coded", arithmetic, "", 422},
		{7, "lossless JPEG", lossless, "", 422},
		{8, "JPEG 65535x65535", jpegHeaderOnly(65535, 65535, 0xC0, 8), "", 422},
		{8, "PNG 65535x65535", pngHeaderOnly(65535, 65535), "", 422},
		{8, "GIF 65535x65535", gifFrames(65535, 65535, 1), "", 422},
		{8, "WebP 65535x65535", webpVP8X(65535, 65535), "", 422},
		{9, "PNG 30000x30000", pngHeaderOnly(30000, 30000), "", 422},
		{10, "bad CRC", codecTestdata(t, "invalid-crc32.png"), "", 422},
		{10, "truncated", codecTestdata(t, "invalid-trunc.png"), "", 422},
		{10, "bad zlib", codecTestdata(t, "invalid-zlib.png"), "", 422},
		{10, "no IEND", codecTestdata(t, "invalid-noend.png"), "", 422},
		{10, "palette index out of range", codecTestdata(t, "invalid-palette.png"), "width=10", 200}, // tolerated: transparent
		{11, "16-bit RGBA", codecTestdata(t, "basn6a16.png"), "width=16", 200},
		{12, "interlaced PNG", codecTestdata(t, "gray-gradient.interlaced.png"), "", 200},
		{12, "interlaced GIF", codecTestdata(t, "video-001.interlaced.gif"), "", 200},
		{13, "1x1", encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1))), "width=300&height=300&fit=crop", 200},
		{13, "1x12000", encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 12000))), "width=10", 200},
		{13, "12000x1", encodePNG(t, image.NewGray(image.Rect(0, 0, 12000, 1))), "height=10&blur=3", 200},
		{14, "10000 frames of 1000x1000", gifFrames(1000, 1000, 10000), "", 422},
		{15, "GIF without colour table", noTable, "", 422},
		{16, "zero-width VP8", zeroWidth, "", 422},
		{16, "truncated RIFF", webp[:len(webp)/2], "", 422},
		{17, "TIFF", []byte("II*\x00\x08\x00\x00\x00\x00\x00\x00\x00"), "", 415},
		{17, "BMP", append([]byte("BM"), make([]byte, 64)...), "", 415},
		{17, "SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`), "", 415},
		{17, "PDF", []byte("%PDF-1.7\n%âãÏÓ\n"), "", 415},
		{17, "HEIC", append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 16)...), "", 415},
		{18, "GIF+JS polyglot", append(append([]byte{}, gifOK...), "*/=1;alert(1)//"...), "width=20", 200},
		{18, "PNG+HTML polyglot", append(encodePNG(t, quadrants(8, 8)), "<script>alert(1)</script>"...), "", 200},
	}
	files := map[string][]byte{}
	for i, c := range cases {
		files["x"+itoaPad(i)] = c.data
	}
	o := newFakeOrigin(files)
	h := newTestHandler(t, o, nil)
	for i, c := range cases {
		t.Run(itoaPad(c.class)+" "+c.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			w := get(h, "/x"+itoaPad(i)+"?"+c.query)
			elapsed := time.Since(start)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			assert.NotEqual(t, http.StatusInternalServerError, w.Code, "never a 500: %s", w.Body.String())
			assert.Equal(t, c.status, w.Code, "%s", w.Body.String())
			if c.status == 200 {
				ct := w.Header().Get("Content-Type")
				assert.True(t, strings.HasPrefix(ct, "image/"), ct)
				assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
			}
			if c.class == 5 || c.class == 8 || c.class == 9 || c.class == 14 {
				grew := int64(after.TotalAlloc) - int64(before.TotalAlloc)
				t.Logf("class %d answered %d in %v, allocating %d bytes", c.class, w.Code, elapsed, grew)
				assert.Less(t, grew, int64(1<<20), "the header gate allocates no pixel buffer")
			}
		})
	}
}

func itoaPad(i int) string {
	const digits = "0123456789"
	return string([]byte{digits[i/10%10], digits[i%10]})
}

// png16RGBA is a w×h 16-bit RGBA PNG (colour type 6, like basn6a16): the
// first row is a gradient with varying alpha, every later row repeats it
// (an "Up" filter byte and zeros). Its zlib stream is assembled from
// self-contained deflate blocks — a row compressed by a fresh compressor
// and flushed to a byte boundary can be repeated as is — and its Adler-32
// is computed in closed form, so even 7,000×7,000 (392 MB of samples) takes
// milliseconds to make, with or without the race detector.
func png16RGBA(t testing.TB, w, h int) []byte {
	t.Helper()
	block := func(data []byte, final bool) []byte {
		var buf bytes.Buffer
		fw, err := flate.NewWriter(&buf, flate.BestCompression)
		require.NoError(t, err)
		_, err = fw.Write(data)
		require.NoError(t, err)
		if final {
			require.NoError(t, fw.Close())
		} else {
			require.NoError(t, fw.Flush()) // ends on a byte boundary, not final
		}
		return buf.Bytes()
	}
	first := make([]byte, 1+8*w) // filter byte 0 (None), then R G B A, 16 bits each
	for x := range w {
		v := uint16(x * 65535 / max(w-1, 1))
		binary.BigEndian.PutUint16(first[1+8*x:], v)
		binary.BigEndian.PutUint16(first[3+8*x:], 0x8000)
		binary.BigEndian.PutUint16(first[5+8*x:], 65535-v)
		binary.BigEndian.PutUint16(first[7+8*x:], 65535-uint16(x%256)*128)
	}
	up := make([]byte, 1+8*w)
	up[0] = 2 // Up: every sample equals the one above
	upBlock := block(up, false)

	const mod = 65521
	sum := adler32.Checksum(first)
	a, b := uint64(sum&0xffff), uint64(sum>>16)
	for range h - 1 { // Adler-32 over [2, 0, 0, …]: a grows by 2 once, b by a per byte
		a = (a + 2) % mod
		b = (b + a + uint64(8*w)%mod*a) % mod
	}
	z := []byte{0x78, 0xDA} // zlib header: deflate, 32 KiB window, best compression
	z = append(z, block(first, false)...)
	for range h - 1 {
		z = append(z, upBlock...)
	}
	z = append(z, block(nil, true)...)
	z = binary.BigEndian.AppendUint32(z, uint32(b<<16|a))

	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 16, 6, 0, 0, 0) // 16-bit, RGBA, deflate, adaptive filters, not interlaced
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z)...)
	return append(out, pngChunk("IEND", nil)...)
}

// TestBadInputLarge16BitPNG is §5.2 #11 at full size: a 7,000×7,000 16-bit
// RGBA PNG (49 MP, under the 50 MP limit) is accepted, admitted with an
// estimate of 8 bytes per pixel for the decoder's buffer, and comes out as
// an 8-bit PNG. Not parallel: it measures the heap. The full-size decode
// (392 MB of samples, about 2 s) is skipped with -short and under the race
// detector, which makes it take over 40 s.
func TestBadInputLarge16BitPNG(t *testing.T) {
	t.Run("generator", func(t *testing.T) {
		img, err := png.Decode(bytes.NewReader(png16RGBA(t, 300, 7)))
		require.NoError(t, err, "the assembled zlib stream and checksum are valid")
		n, ok := img.(*image.NRGBA64)
		require.True(t, ok, "decoded as %T", img)
		assert.Equal(t, image.Rect(0, 0, 300, 7), n.Bounds())
		for _, y := range []int{0, 6} {
			assert.Equal(t, color.NRGBA64{R: 65535, G: 0x8000, B: 0, A: 65535 - 299%256*128}, n.NRGBA64At(299, y))
			assert.Equal(t, color.NRGBA64{R: 0, G: 0x8000, B: 65535, A: 65535}, n.NRGBA64At(0, y))
		}
	})
	const side = 7000
	start := time.Now()
	data := png16RGBA(t, side, side)
	t.Logf("generated a %d×%d 16-bit RGBA PNG of %d KiB in %v", side, side, len(data)>>10, time.Since(start))
	const pixels = int64(side) * side

	t.Run("estimate", func(t *testing.T) {
		info, err := Inspect(data)
		require.NoError(t, err)
		assert.Equal(t, 8, info.BytesPerPixel, "16-bit RGBA decodes into 8 bytes per pixel")
		plan, err := NewPlan(Params{Width: Px(700)}, info, "", nil)
		require.NoError(t, err)
		scale := int64(max(plan.DecodeScale, 1))
		assert.Equal(t, int64(1), scale, "PNG decodes at full size")
		est := EstimateMemory(info, plan)
		as8bit := info
		as8bit.BytesPerPixel = 4
		decoderPart := est - EstimateMemory(as8bit, plan) + 4*pixels/(scale*scale)
		t.Logf("estimate %d MiB (%.1f B/px of source), of which the decoder's buffer %d MiB (%.1f B/px)",
			est>>20, float64(est)/float64(pixels), decoderPart>>20, float64(decoderPart)/float64(pixels))
		assert.Equal(t, 8*pixels/(scale*scale), decoderPart, "8 B/px × pixels at the planned decode")
		assert.LessOrEqual(t, est, int64(1<<30), "fits a 1 GiB per-job ceiling (a 2 GiB budget): admitted, not refused")
	})

	t.Run("accepted", func(t *testing.T) {
		if testing.Short() {
			t.Skip("decoding a 7,000×7,000 16-bit PNG skipped in -short mode")
		}
		if raceSlowdown > 1 {
			// Measured: about 2 s without the race detector, over 40 s with
			// it on 2 shared cores — past the 30 s FlightTimeout (504).
			t.Skip("the full-size decode is skipped under -race: about 20× slower, past the flight timeout")
		}
		// The default budget (1 GiB) takes jobs up to 512 MiB: this one is
		// refused by default (see TestJobCeiling) and needs a larger one.
		// The flight deadline is set far away so that a loaded machine,
		// slow as it may be, cannot turn the answer into a 504.
		h := newTestHandler(t, newFakeOrigin(map[string][]byte{"big16.png": data}), &Options{MemoryBudget: 2 << 30, FlightTimeout: 10 * time.Minute})
		stopSampling := sampleHeap()
		start := time.Now()
		w := get(h, "/big16.png?width=700")
		took := time.Since(start)
		base, peakHeap := stopSampling()
		grew := peakHeap - min(base, peakHeap)
		t.Logf("7,000×7,000 16-bit PNG → width=700: %d in %v, heap peak +%d MiB (%.1f B/px of source)",
			w.Code, took, grew>>20, float64(grew)/float64(pixels))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "image/png", w.Header().Get("Content-Type"))
		assert.Contains(t, w.Header().Get("Imageopto-Info"), "idim=7000x7000")
		out := w.Body.Bytes()
		require.Greater(t, len(out), 26)
		assert.Equal(t, byte(8), out[24], "IHDR bit depth: the output is 8-bit")
		cfg, err := png.DecodeConfig(bytes.NewReader(out))
		require.NoError(t, err)
		assert.Equal(t, 700, cfg.Width)
		assert.Equal(t, 700, cfg.Height)
		img, err := png.Decode(bytes.NewReader(out))
		require.NoError(t, err)
		switch img.(type) {
		case *image.NRGBA, *image.RGBA, *image.Paletted, *image.Gray:
		default:
			t.Errorf("output decodes as %T, not an 8-bit image", img)
		}
		px := color.NRGBA64Model.Convert(img.At(699, 350)).(color.NRGBA64)
		t.Logf("output pixel (699, 350): %v", px)
		assert.InDelta(t, 65535, px.R, 3*257, "the gradient survives the 16→8-bit conversion")
		assert.InDelta(t, 0x8000, px.G, 2*257)
		assert.InDelta(t, 0, px.B, 3*257)
		assert.InDelta(t, 65535-(6995%256)*128, px.A, 6*257, "and so does the alpha")
	})
}
