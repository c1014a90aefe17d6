package imageopto

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
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
		{1, "empty", nil, "", 502}, // an origin answering nothing is an origin failure
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
				assert.Less(t, elapsed, raceSlowdown*100*time.Millisecond)
			}
		})
	}
}

func itoaPad(i int) string {
	const digits = "0123456789"
	return string([]byte{digits[i/10%10], digits[i%10]})
}
