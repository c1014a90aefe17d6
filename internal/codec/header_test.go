package codec

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"github.com/imageopto/imageopto/internal/format"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadHeaderFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want Header // ICC and Scans (when > 1) are checked separately
	}{
		{"video-001.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 3, ColorComponents: 3}},
		{"video-001.q50.411.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 3, ColorComponents: 3}},
		{"video-001.q50.420.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 3, ColorComponents: 3}},
		{"video-001.q50.422.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 3, ColorComponents: 3}},
		{"video-001.q50.444.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 3, ColorComponents: 3}},
		{"video-001.restart2.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 3, ColorComponents: 3}},
		// 4:2:0 progressive: 3 bytes of planes + 4 × 1.5 of coefficients.
		{"video-001.q50.420.progressive.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Progressive: true, BytesPerPixel: 9, ColorComponents: 3}},
		{"video-001.cmyk.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 8, ColorComponents: 4}},
		{"video-001.rgb.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 7, ColorComponents: 3}},
		{"video-005.gray.q50.jpeg", Header{Format: format.JPEG, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 1, ColorComponents: 1}},
		{"gray-gradient.png", Header{Format: format.PNG, Width: 1, Height: 16, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 1}},
		{"gray-gradient.interlaced.png", Header{Format: format.PNG, Width: 1, Height: 16, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 2}},
		{"basn6a16.png", Header{Format: format.PNG, Width: 32, Height: 32, Orientation: 1, HasAlpha: true, Frames: 1, Scans: 1, BytesPerPixel: 8}},
		{"basn0g16.png", Header{Format: format.PNG, Width: 32, Height: 32, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 2}},
		{"basn3p08.png", Header{Format: format.PNG, Width: 32, Height: 32, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 1}},
		{"basn3p08-trns.png", Header{Format: format.PNG, Width: 32, Height: 32, Orientation: 1, HasAlpha: true, Frames: 1, Scans: 1, BytesPerPixel: 1}},
		{"ftbrn2c08.png", Header{Format: format.PNG, Width: 32, Height: 32, Orientation: 1, HasAlpha: true, Frames: 1, Scans: 1, BytesPerPixel: 4}},
		{"basn4a08.png", Header{Format: format.PNG, Width: 32, Height: 32, Orientation: 1, HasAlpha: true, Frames: 1, Scans: 1, BytesPerPixel: 4}},
		{"basn2c08.png", Header{Format: format.PNG, Width: 32, Height: 32, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 4}},
		{"video-001.gif", Header{Format: format.GIF, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 1}},
		{"video-001.interlaced.gif", Header{Format: format.GIF, Width: 150, Height: 103, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 1}},
		{"blue-purple-pink.lossy.webp", Header{Format: format.WebP, Width: 150, Height: 100, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 3}},
		{"blocks.lossy.webp", Header{Format: format.WebP, Width: 64, Height: 64, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 3}},
		{"blocks.lossy-alpha.webp", Header{Format: format.WebP, Width: 64, Height: 64, Orientation: 1, HasAlpha: true, Frames: 1, Scans: 1, BytesPerPixel: 4}},
		{"yellow_rose.lossy-with-alpha.webp", Header{Format: format.WebP, Width: 400, Height: 301, Orientation: 1, HasAlpha: true, Frames: 1, Scans: 1, BytesPerPixel: 4}},
		{"gopher-doc.8bpp.lossless.webp", Header{Format: format.WebP, Width: 75, Height: 100, Orientation: 1, Frames: 1, Scans: 1, BytesPerPixel: 4}},
		{"gopher-doc.with-alpha.lossless.webp", Header{Format: format.WebP, Width: 75, Height: 100, Orientation: 1, HasAlpha: true, Frames: 1, Scans: 1, BytesPerPixel: 4}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			data := readFixture(t, tc.file)
			got := mustHeader(t, data)
			if got.Progressive {
				if got.Scans < 2 {
					t.Errorf("progressive JPEG has Scans = %d", got.Scans)
				}
				got.Scans = 0
			}
			got.ICC = nil
			if !headerEqual(got, tc.want) {
				t.Errorf("ReadHeader =\n %+v\nwant\n %+v", got, tc.want)
			}
			if EstimateBytes(got) != int64(got.Width*got.Height*got.BytesPerPixel) {
				t.Errorf("EstimateBytes = %d", EstimateBytes(got))
			}
		})
	}
}

func TestEstimateBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		h    Header
		want int64
	}{
		{Header{Width: 4000, Height: 3000, BytesPerPixel: 3}, 36_000_000},
		{Header{Width: 65535, Height: 65535, BytesPerPixel: 8}, 65535 * 65535 * 8},
		{Header{Width: 1<<31 - 1, Height: 1<<31 - 1, BytesPerPixel: 16}, math.MaxInt64},
		{Header{Width: 1<<31 - 1, Height: 1<<31 - 1, BytesPerPixel: 1}, (1<<31 - 1) * (1<<31 - 1)},
		{Header{Width: 0, Height: 10, BytesPerPixel: 4}, 0},
		{Header{Width: 10, Height: 10}, 0},
		{Header{Width: -1, Height: -1, BytesPerPixel: 4}, 0},
	} {
		if got := EstimateBytes(tc.h); got != tc.want {
			t.Errorf("EstimateBytes(%dx%d×%d) = %d, want %d", tc.h.Width, tc.h.Height, tc.h.BytesPerPixel, got, tc.want)
		}
	}
}

func headerEqual(a, b Header) bool {
	return a.Format == b.Format && a.Width == b.Width && a.Height == b.Height &&
		a.Orientation == b.Orientation && a.HasAlpha == b.HasAlpha && a.Frames == b.Frames &&
		a.Progressive == b.Progressive && a.Scans == b.Scans && a.BytesPerPixel == b.BytesPerPixel &&
		a.ColorComponents == b.ColorComponents && bytes.Equal(a.ICC, b.ICC)
}

func TestReadHeaderProgressiveScans(t *testing.T) {
	t.Parallel()
	h := mustHeader(t, readFixture(t, "video-001.progressive.jpeg"))
	if !h.Progressive || h.Scans != 10 {
		t.Errorf("Progressive = %v, Scans = %d; want true, 10", h.Progressive, h.Scans)
	}
}

func TestReadHeaderUnsupportedAndUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		data   string
		format Format
		want   error
	}{
		{"empty", "", "", ErrUnknownFormat},
		{"one byte", "\xff", "", ErrUnknownFormat},
		{"html", "<!DOCTYPE html><html>Not Found</html>", "", ErrUnknownFormat},
		{"junk", "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", "", ErrUnknownFormat},
		{"tiff", "II*\x00\x08\x00\x00\x00\xff\xff\xff\xff", format.TIFF, ErrUnsupportedFormat},
		{"bmp", "BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00", format.BMP, ErrUnsupportedFormat},
		{"svg", "<svg xmlns='http://www.w3.org/2000/svg'></svg>", format.SVG, ErrUnsupportedFormat},
		{"pdf", "%PDF-1.4\n", format.PDF, ErrUnsupportedFormat},
		{"heic", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", format.HEIC, ErrUnsupportedFormat},
		{"avif", "\x00\x00\x00\x14ftypavif\x00\x00\x00\x00mif1", format.AVIF, ErrUnsupportedFormat},
		{"jxl", "\xff\x0a\xff\x07", format.JXL, ErrUnsupportedFormat},
		{"ico", "\x00\x00\x01\x00\x01\x00", format.ICO, ErrUnsupportedFormat},
		{"psd", "8BPS\x00\x01\x00\x00", format.PSD, ErrUnsupportedFormat},
		{"mp4", "\x00\x00\x00\x14ftypisom\x00\x00\x00\x00mp41", format.MP4, ErrUnsupportedFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := ReadHeader([]byte(tc.data))
			requireIs(t, err, tc.want)
			if h.Format != tc.format {
				t.Errorf("Format = %q, want %q", h.Format, tc.format)
			}
			if _, err := Decode(bgCtx, []byte(tc.data), Header{Format: tc.format, Width: 1, Height: 1}); err == nil {
				t.Error("Decode succeeded")
			} else {
				requireIs(t, err, tc.want)
			}
		})
	}
}

// floodInputs returns tiny files declaring 65,535×65,535 pixels (16,383 for
// the 14-bit VP8 and 16,384 for VP8L).
func floodInputs(t testing.TB) map[string][]byte {
	t.Helper()
	jpg := []byte{0xFF, 0xD8}
	jpg = append(jpg, jpegSegment(jpegSOF0, []byte{8, 0xFF, 0xFF, 0xFF, 0xFF, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1})...)
	jpg = append(jpg, jpegSegment(jpegSOS, []byte{3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0})...)
	jpg = append(jpg, 0x12, 0x34, 0xFF, 0xD9)

	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 65535)
	binary.BigEndian.PutUint32(ihdr[4:], 65535)
	ihdr[8], ihdr[9] = 8, pngRGBA
	pngData := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	pngData = append(pngData, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	pngData = append(pngData, pngChunk("IEND", nil)...)

	gifData := []byte("GIF89a\xff\xff\xff\xff\x80\x00\x00\x00\x00\x00\xff\xff\xff" +
		",\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02\x44\x01\x00;")

	vp8 := []byte{0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0xFF, 0x3F, 0xFF, 0x3F, 0, 0, 0, 0}
	vp8lBits := uint32(16383) | uint32(16383)<<14
	vp8l := []byte{0x2F, byte(vp8lBits), byte(vp8lBits >> 8), byte(vp8lBits >> 16), byte(vp8lBits >> 24), 0, 0}
	return map[string][]byte{
		"jpeg":       jpg,
		"png":        pngData,
		"gif":        gifData,
		"webp vp8x":  riffWebP(vp8xChunk(0, 65535, 65535)),
		"webp vp8":   riffWebP(riffChunk("VP8 ", vp8)),
		"webp vp8l":  riffWebP(riffChunk("VP8L", vp8l)),
		"webp alpha": riffWebP(vp8xChunk(webpFlagAlpha, 65535, 65535), riffChunk("ALPH", []byte{0, 0, 0})),
	}
}

// pngChunk returns a PNG chunk with a correct CRC.
func pngChunk(typ string, body []byte) []byte {
	c := make([]byte, 8, 12+len(body))
	binary.BigEndian.PutUint32(c, uint32(len(body)))
	copy(c[4:], typ)
	c = append(c, body...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// TestReadHeaderPixelFlood is not parallel: it measures the heap.
func TestReadHeaderPixelFlood(t *testing.T) {
	wantSide := map[string]int{"webp vp8": 16383, "webp vp8l": 16384}
	for name, data := range floodInputs(t) {
		if len(data) > 100 {
			t.Errorf("%s: input is %d bytes, want ≤ 100", name, len(data))
		}
		var h Header
		var err error
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		h, err = ReadHeader(data)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: ReadHeader: %v", name, err)
		}
		side := 65535
		if s, ok := wantSide[name]; ok {
			side = s
		}
		if h.Width != side || h.Height != side {
			t.Errorf("%s: %dx%d, want %dx%d", name, h.Width, h.Height, side, side)
		}
		if delta := after.TotalAlloc - before.TotalAlloc; delta >= 1<<20 {
			t.Errorf("%s: ReadHeader allocated %d bytes", name, delta)
		}
		allocs := testing.AllocsPerRun(10, func() { _, _ = ReadHeader(data) })
		if allocs > 2 {
			t.Errorf("%s: %v allocations per ReadHeader", name, allocs)
		}
		if EstimateBytes(h) < int64(side)*int64(side) {
			t.Errorf("%s: EstimateBytes = %d", name, EstimateBytes(h))
		}
	}
}

func TestReadHeaderTruncated(t *testing.T) {
	t.Parallel()
	files := []string{
		"video-001.jpeg", "video-001.progressive.jpeg", "video-001.cmyk.jpeg",
		"basn6a16.png", "basn3p08-trns.png", "gray-gradient.interlaced.png",
		"video-001.gif", "video-001.interlaced.gif",
		"blue-purple-pink.lossy.webp", "yellow_rose.lossy-with-alpha.webp", "gopher-doc.8bpp.lossless.webp",
	}
	for _, file := range files {
		for _, pct := range []int{10, 50, 99} {
			t.Run(file+"/"+string(rune('0'+pct/10))+string(rune('0'+pct%10)), func(t *testing.T) {
				t.Parallel()
				full := readFixture(t, file)
				data := full[:len(full)*pct/100]
				h, err := ReadHeader(data)
				if err != nil {
					requireIs(t, err, ErrCorrupt)
					return
				}
				img, err := Decode(bgCtx, data, h)
				switch {
				case err != nil:
					requireIs(t, err, ErrCorrupt)
				case img.Rect != image.Rect(0, 0, h.Width, h.Height):
					t.Errorf("decoded %v for a %dx%d header", img.Rect, h.Width, h.Height)
				}
			})
		}
	}
}

// manyScansJPEG returns a progressive JPEG structure with n SOS markers,
// each followed by a little entropy-coded data with stuffed bytes and a
// restart marker.
func manyScansJPEG(n int) []byte {
	b := []byte{0xFF, 0xD8}
	b = append(b, jpegSegment(jpegSOF2, []byte{8, 0, 16, 0, 16, 1, 1, 0x11, 0})...)
	for range n {
		b = append(b, jpegSegment(jpegSOS, []byte{1, 1, 0x00, 0, 0, 0})...)
		b = append(b, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56)
	}
	return append(b, 0xFF, 0xD9)
}

func TestReadHeaderManyScans(t *testing.T) {
	t.Parallel()
	data := manyScansJPEG(5000)
	start := time.Now()
	h, err := ReadHeader(data)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if h.Scans != 5000 || !h.Progressive {
		t.Errorf("Scans = %d, Progressive = %v", h.Scans, h.Progressive)
	}
	// A linear walk takes well under a millisecond. ReadHeader allocates
	// nothing, so only time can tell a walk gone wrong; the bound is wide,
	// for a walk that hangs, so that a loaded machine cannot miss it.
	t.Logf("ReadHeader counted 5000 scans in %v", elapsed)
	if elapsed > 5*time.Second {
		t.Errorf("ReadHeader took %v", elapsed)
	}
}

func TestReadHeaderJPEGBad(t *testing.T) {
	t.Parallel()
	sof := func(marker byte, precision byte, nComp int) []byte {
		p := []byte{precision, 0, 8, 0, 8, byte(nComp)}
		for i := range nComp {
			p = append(p, byte(i+1), 0x11, 0)
		}
		return jpegSegment(marker, p)
	}
	base := smallJPEG(t, 16, 16)
	tests := []struct {
		name string
		data []byte
	}{
		{"two SOF", withSegments(base, sof(jpegSOF0, 8, 3))},
		{"SOF3 lossless", withSegments(base[:2], sof(0xC3, 8, 3))},
		{"SOF9 arithmetic", withSegments(base[:2], sof(0xC9, 8, 3))},
		{"SOF2 then SOF10", withSegments(base[:2], sof(jpegSOF2, 8, 3), sof(0xCA, 8, 3))},
		{"12-bit", withSegments(base[:2], sof(jpegSOF1, 12, 3))},
		{"two components", withSegments(base[:2], sof(jpegSOF0, 8, 2))},
		{"CMYK without Adobe APP14", withSegments(base[:2], sof(jpegSOF0, 8, 4))},
		{"SOF wrong length", withSegments(base[:2], jpegSegment(jpegSOF0, []byte{8, 0, 8, 0, 8, 3, 1, 0x11}))},
		{"zero height (DNL)", withSegments(base[:2], sof(jpegSOF0, 8, 1)[:5], []byte{0, 0, 0, 8, 1, 1, 0x11, 0})},
		{"bad sampling", withSegments(base[:2], jpegSegment(jpegSOF0, []byte{8, 0, 8, 0, 8, 1, 1, 0x50, 0}))},
		{"SOS before SOF", withSegments(base[:2], jpegSegment(jpegSOS, []byte{1, 1, 0, 0, 63, 0}))},
		{"short segment length", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0x00}},
		{"no SOF", []byte{0xFF, 0xD8, 0xFF, 0xD9}},
		{"only SOI", []byte{0xFF, 0xD8, 0xFF}},
		{"truncated SOF", base[:30]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadHeader(tc.data)
			requireIs(t, err, ErrCorrupt)
		})
	}
}

func TestReadHeaderJPEGTrailingGarbage(t *testing.T) {
	t.Parallel()
	data := append(smallJPEG(t, 24, 16), "garbage after EOI \xff\xc0\x00\x11"...)
	h := mustHeader(t, data)
	if h.Width != 24 || h.Height != 16 || h.Scans != 1 {
		t.Fatalf("header %+v", h)
	}
	if _, err := Decode(bgCtx, data, h); err != nil {
		t.Fatal(err)
	}
}

func TestEXIFOrientation(t *testing.T) {
	t.Parallel()
	base := smallJPEG(t, 24, 16)
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := uint16(1); o <= 8; o++ {
			t.Run(bo.String()+"/"+string(rune('0'+o)), func(t *testing.T) {
				t.Parallel()
				data := withSegments(base, exifAPP1(exifTIFF(bo, o)))
				h := mustHeader(t, data)
				if h.Orientation != int(o) {
					t.Errorf("Orientation = %d, want %d", h.Orientation, o)
				}
				if h.Width != 24 || h.Height != 16 {
					t.Errorf("size %dx%d, want stored 24x16", h.Width, h.Height)
				}
				img, err := Decode(bgCtx, data, h)
				if err != nil {
					t.Fatal(err)
				}
				if img.Rect.Dx() != 24 {
					t.Errorf("Decode applied the orientation: %v", img.Rect)
				}
			})
		}
	}
}

func TestEXIFHostile(t *testing.T) {
	t.Parallel()
	le := binary.LittleEndian
	mod := func(f func(b []byte)) []byte {
		b := exifTIFF(le, 6)
		f(b)
		return b
	}
	tests := []struct {
		name string
		tiff []byte
		want int
	}{
		{"valid", exifTIFF(le, 6), 6},
		{"IFD0 offset out of range", mod(func(b []byte) { le.PutUint32(b[4:], 0xFFFFFFF0) }), 1},
		{"IFD0 offset into header", mod(func(b []byte) { le.PutUint32(b[4:], 2) }), 1},
		{"entry count beyond data", mod(func(b []byte) { le.PutUint16(b[8:], 0xFFFF) }), 6},
		{"looping next IFD", mod(func(b []byte) { le.PutUint32(b[len(b)-4:], 8) }), 6},
		{"IFD0 at its own end", mod(func(b []byte) { le.PutUint32(b[4:], uint32(len(b)-1)) }), 1},
		{"orientation 0", exifTIFF(le, 0), 1},
		{"orientation 9", exifTIFF(le, 9), 1},
		{"orientation 0xFFFF", exifTIFF(le, 0xFFFF), 1},
		{"wrong type", mod(func(b []byte) { le.PutUint16(b[10+12+2:], 7) }), 1},
		{"count zero", mod(func(b []byte) { le.PutUint32(b[10+12+4:], 0) }), 1},
		{"bad byte order", mod(func(b []byte) { copy(b, "IM") }), 1},
		{"bad magic", mod(func(b []byte) { le.PutUint16(b[2:], 43) }), 1},
		{"empty", nil, 1},
		{"header only", []byte("II*\x00"), 1},
	}
	base := smallJPEG(t, 8, 8)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := exifOrientation(tc.tiff); got != tc.want {
				t.Errorf("exifOrientation = %d, want %d", got, tc.want)
			}
			h, err := ReadHeader(withSegments(base, exifAPP1(tc.tiff)))
			if err != nil {
				t.Fatal(err)
			}
			if h.Orientation != tc.want {
				t.Errorf("Orientation = %d, want %d", h.Orientation, tc.want)
			}
		})
	}
	// A second Exif APP1 does not override the first.
	h := mustHeader(t, withSegments(base, exifAPP1(exifTIFF(le, 3)), exifAPP1(exifTIFF(le, 8))))
	if h.Orientation != 3 {
		t.Errorf("Orientation = %d, want the first segment's 3", h.Orientation)
	}
}

func TestJPEGICC(t *testing.T) {
	t.Parallel()
	profile := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160,000 bytes: 3 segments
	chunks := [][]byte{profile[:65000], profile[65000:130000], profile[130000:]}
	base := smallJPEG(t, 8, 8)
	many := make([][]byte, 0, 255)
	for i := 1; i <= 255; i++ {
		many = append(many, iccAPP2(byte(i), 255, []byte{byte(i)}))
	}
	tests := []struct {
		name string
		segs [][]byte
		want []byte
	}{
		{"in order", [][]byte{iccAPP2(1, 3, chunks[0]), iccAPP2(2, 3, chunks[1]), iccAPP2(3, 3, chunks[2])}, profile},
		{"out of order", [][]byte{iccAPP2(3, 3, chunks[2]), iccAPP2(1, 3, chunks[0]), iccAPP2(2, 3, chunks[1])}, profile},
		{"single", [][]byte{iccAPP2(1, 1, []byte("tiny profile"))}, []byte("tiny profile")},
		{"255 segments", many, func() []byte {
			b := make([]byte, 255)
			for i := range b {
				b[i] = byte(i + 1)
			}
			return b
		}()},
		{"missing part", [][]byte{iccAPP2(1, 3, chunks[0]), iccAPP2(3, 3, chunks[2])}, nil},
		{"count 255, two present", [][]byte{iccAPP2(1, 255, chunks[0]), iccAPP2(2, 255, chunks[1])}, nil},
		{"duplicate", [][]byte{iccAPP2(1, 2, chunks[0]), iccAPP2(1, 2, chunks[0]), iccAPP2(2, 2, chunks[1])}, nil},
		{"seq zero", [][]byte{iccAPP2(0, 1, chunks[0])}, nil},
		{"seq beyond count", [][]byte{iccAPP2(2, 1, chunks[0])}, nil},
		{"inconsistent count", [][]byte{iccAPP2(1, 2, chunks[0]), iccAPP2(2, 3, chunks[1])}, nil},
		{"empty payload", [][]byte{iccAPP2(1, 1, nil)}, nil},
		{"header too short", [][]byte{jpegSegment(jpegAPP2, []byte("ICC_PROFILE\x00\x01"))}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := withSegments(base, tc.segs...)
			h := mustHeader(t, data)
			if !bytes.Equal(h.ICC, tc.want) {
				t.Errorf("ICC has %d bytes, want %d", len(h.ICC), len(tc.want))
			}
			if _, err := Decode(bgCtx, data, h); err != nil {
				t.Errorf("Decode: %v", err)
			}
		})
	}
	t.Run("over the cap", func(t *testing.T) {
		t.Parallel()
		chunk := make([]byte, 65519)
		var segs [][]byte
		for i := 1; i <= 70; i++ { // 70 × 65,519 > 4 MiB
			segs = append(segs, iccAPP2(byte(i), 70, chunk))
		}
		h := mustHeader(t, withSegments(base, segs...))
		if h.ICC != nil {
			t.Errorf("ICC has %d bytes, want nil", len(h.ICC))
		}
	})
	t.Run("bogus segment length", func(t *testing.T) {
		t.Parallel()
		data := append(slices.Clone(base[:2]), iccAPP2(1, 255, []byte("x"))...)
		data = append(data, 0xFF, jpegAPP2, 0xFF, 0xFF, 'I', 'C', 'C')
		if _, err := ReadHeader(data); err == nil {
			t.Error("no error for a JPEG ending inside a segment before SOF")
		} else {
			requireIs(t, err, ErrCorrupt)
		}
	})
}

// pngWithChunks builds a 2×2 RGBA PNG with extra chunks before IDAT.
func pngWithChunks(t testing.TB, extra ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	img.Pix[3] = 0x80
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	const afterIHDR = 8 + 25
	out := slices.Clone(b[:afterIHDR])
	for _, c := range extra {
		out = append(out, c...)
	}
	return append(out, b[afterIHDR:]...)
}

func zlibBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// iccp is a PNG iCCP chunk: profile name, compression method, zlib data.
func iccp(name string, method byte, z []byte) []byte {
	body := append([]byte(name), 0, method)
	return pngChunk("iCCP", append(body, z...))
}

func TestPNGICC(t *testing.T) {
	t.Parallel()
	profile := []byte(strings.Repeat("an ICC profile, honestly. ", 100))
	good := iccp("sRGB", 0, zlibBytes(t, profile))
	badCRC := slices.Clone(good)
	badCRC[len(badCRC)-1] ^= 0xFF
	tests := []struct {
		name  string
		chunk []byte
		want  []byte
	}{
		{"valid", good, profile},
		{"bad CRC", badCRC, nil},
		{"bomb over 4 MiB", iccp("big", 0, zlibBytes(t, make([]byte, 5<<20))), nil},
		{"exactly 4 MiB", iccp("big", 0, zlibBytes(t, make([]byte, 4<<20))), make([]byte, 4<<20)},
		{"bad method", iccp("sRGB", 1, zlibBytes(t, profile)), nil},
		{"no name", iccp("", 0, zlibBytes(t, profile)), nil},
		{"invalid zlib", iccp("sRGB", 0, []byte("not zlib at all")), nil},
		{"truncated zlib", iccp("sRGB", 0, zlibBytes(t, profile)[:20]), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := pngWithChunks(t, tc.chunk)
			h := mustHeader(t, data)
			if !bytes.Equal(h.ICC, tc.want) {
				t.Errorf("ICC has %d bytes, want %d", len(h.ICC), len(tc.want))
			}
		})
	}
	t.Run("only the first iCCP counts", func(t *testing.T) {
		t.Parallel()
		h := mustHeader(t, pngWithChunks(t, badCRC, good))
		if h.ICC != nil {
			t.Errorf("ICC has %d bytes, want nil", len(h.ICC))
		}
	})
}

// TestPNGICCBombsCheap: a file of 200 iCCP bombs (5 MiB each once
// inflated) costs at most one bounded inflation. The cost is measured as
// bytes allocated, not time (CI machines are loaded); not parallel, so that
// no other test allocates meanwhile.
func TestPNGICCBombsCheap(t *testing.T) {
	bomb := iccp("big", 0, zlibBytes(t, make([]byte, 5<<20)))
	chunks := make([][]byte, 200)
	for i := range chunks {
		chunks[i] = bomb
	}
	data := pngWithChunks(t, chunks...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h := mustHeader(t, data)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes of iCCP bombs: %d KiB allocated", len(data), alloc>>10)
	if h.ICC != nil {
		t.Errorf("ICC has %d bytes, want nil", len(h.ICC))
	}
	// One inflation stops at 4 MiB + 1: 16 MiB allocated in all (32 under
	// the race detector); 200 would be over 1 GiB.
	if alloc > 128<<20 {
		t.Errorf("reading the header allocated %d MiB: more than one bounded inflation", alloc>>20)
	}
}

func TestPNGHeaderBad(t *testing.T) {
	t.Parallel()
	ihdr := func(w, h uint32, depth, ct, interlace byte) []byte {
		b := make([]byte, 13)
		binary.BigEndian.PutUint32(b[0:], w)
		binary.BigEndian.PutUint32(b[4:], h)
		b[8], b[9], b[12] = depth, ct, interlace
		return append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", b)...)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"signature only", []byte("\x89PNG\r\n\x1a\n")},
		{"zero width", ihdr(0, 1, 8, pngRGBA, 0)},
		{"huge width", ihdr(1<<31, 1, 8, pngRGBA, 0)},
		{"depth 3", ihdr(1, 1, 3, pngGray, 0)},
		{"16-bit palette", ihdr(1, 1, 16, pngPaletted, 0)},
		{"colour type 5", ihdr(1, 1, 8, 5, 0)},
		{"interlace 2", ihdr(1, 1, 8, pngRGBA, 2)},
		{"first chunk not IHDR", append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("tEXt", make([]byte, 13))...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadHeader(tc.data)
			requireIs(t, err, ErrCorrupt)
		})
	}
}

// threeFrameGIF encodes a 3-frame animation with a transparent colour in
// the last frame.
func threeFrameGIF(t testing.TB) []byte {
	t.Helper()
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{}}
	var g gif.GIF
	for i := range 3 {
		m := image.NewPaletted(image.Rect(0, 0, 10, 8), pal)
		for j := range m.Pix {
			m.Pix[j] = uint8((j + i) % 2)
		}
		if i == 2 {
			m.Pix[0] = 2
		}
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGIFHeader(t *testing.T) {
	t.Parallel()
	h := mustHeader(t, threeFrameGIF(t))
	if h.Frames != 3 || h.Width != 10 || h.Height != 8 || !h.HasAlpha {
		t.Errorf("header %+v, want 3 frames of 10x8 with alpha", h)
	}

	// A small frame on a larger screen.
	pal := color.Palette{color.RGBA{0, 0, 255, 255}, color.RGBA{255, 255, 0, 255}}
	frame := image.NewPaletted(image.Rect(2, 3, 6, 5), pal)
	for i := range frame.Pix {
		frame.Pix[i] = uint8(i % 2)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{
		Image:  []*image.Paletted{frame},
		Delay:  []int{0},
		Config: image.Config{ColorModel: pal, Width: 8, Height: 6},
	}); err != nil {
		t.Fatal(err)
	}
	h = mustHeader(t, buf.Bytes())
	if h.Frames != 1 || h.Width != 8 || h.Height != 6 || !h.HasAlpha {
		t.Errorf("header %+v, want 1 frame on an 8x6 screen with alpha", h)
	}
	img, err := Decode(bgCtx, buf.Bytes(), h)
	if err != nil {
		t.Fatal(err)
	}
	if img.Rect != image.Rect(0, 0, 8, 6) {
		t.Fatalf("bounds %v", img.Rect)
	}
	if c := img.NRGBAAt(0, 0); c.A != 0 {
		t.Errorf("outside the frame: %v, want transparent", c)
	}
	if c := img.NRGBAAt(2, 3); c != (color.NRGBA{0, 0, 255, 255}) {
		t.Errorf("frame origin: %v, want blue", c)
	}
	if c := img.NRGBAAt(3, 3); c != (color.NRGBA{255, 255, 0, 255}) {
		t.Errorf("frame (1,0): %v, want yellow", c)
	}
}

func TestGIFBad(t *testing.T) {
	t.Parallel()
	screen := "GIF89a\x04\x00\x04\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
	tests := []struct {
		name string
		data string
	}{
		{"frame outside screen", screen + ",\x02\x00\x02\x00\x04\x00\x04\x00\x00\x02\x02\x44\x01\x00;"},
		{"frame offset beyond screen", screen + ",\x10\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;"},
		{"no frames", screen + ";"},
		{"unknown block", screen + "\x99"},
		{"truncated screen", "GIF89a\x04\x00"},
		{"truncated colour table", "GIF89a\x04\x00\x04\x00\x87\x00\x00\x00\x00"},
		{"zero screen", "GIF89a\x00\x00\x00\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x02\x44\x01\x00;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadHeader([]byte(tc.data))
			requireIs(t, err, ErrCorrupt)
			// Decode given a forged header must fail cleanly too.
			_, err = Decode(bgCtx, []byte(tc.data), Header{Format: format.GIF, Width: 4, Height: 4})
			requireIs(t, err, ErrCorrupt)
		})
	}
}

func TestWebPHeader(t *testing.T) {
	t.Parallel()
	lossy := readFixture(t, "blocks.lossy.webp")
	chunks := splitWebP(t, lossy)
	vp8 := chunks["VP8 "]
	if vp8 == nil {
		t.Fatal("fixture has no VP8 chunk")
	}
	exif := func(o uint16, prefix string) []byte {
		return riffChunk("EXIF", append([]byte(prefix), exifTIFF(binary.BigEndian, o)...))
	}
	tests := []struct {
		name   string
		data   []byte
		orient int
		alpha  bool
		err    error
	}{
		{"simple", lossy, 1, false, nil},
		{"vp8x exif", riffWebP(vp8xChunk(0x08, 64, 64), vp8, exif(6, "")), 6, false, nil},
		{"vp8x exif with prefix", riffWebP(vp8xChunk(0x08, 64, 64), vp8, exif(8, "Exif\x00\x00")), 8, false, nil},
		{"vp8x icc", riffWebP(vp8xChunk(0x20, 64, 64), riffChunk("ICCP", []byte("profile")), vp8), 1, false, nil},
		{"canvas mismatch", riffWebP(vp8xChunk(0, 65, 64), vp8), 0, false, ErrCorrupt},
		{"animated", riffWebP(vp8xChunk(webpFlagAnimation, 64, 64), riffChunk("ANIM", make([]byte, 6))), 0, false, ErrCorrupt},
		{"ANMF without flag", riffWebP(vp8xChunk(0, 64, 64), riffChunk("ANMF", make([]byte, 16))), 0, false, ErrCorrupt},
		{"VP8X not first", riffWebP(vp8, vp8xChunk(0, 64, 64)), 0, false, ErrCorrupt},
		{"VP8X bad length", riffWebP(riffChunk("VP8X", make([]byte, 9))), 0, false, ErrCorrupt},
		{"zero-width VP8", riffWebP(riffChunk("VP8 ", []byte{0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0, 0, 0x10, 0})), 0, false, ErrCorrupt},
		{"VP8 inter frame", riffWebP(riffChunk("VP8 ", []byte{0x51, 0x02, 0x00, 0x9D, 0x01, 0x2A, 8, 0, 8, 0})), 0, false, ErrCorrupt},
		{"VP8 bad start code", riffWebP(riffChunk("VP8 ", []byte{0x50, 0x02, 0x00, 0x9D, 0x01, 0x2B, 8, 0, 8, 0})), 0, false, ErrCorrupt},
		{"VP8L bad signature", riffWebP(riffChunk("VP8L", []byte{0x2E, 0, 0, 0, 0})), 0, false, ErrCorrupt},
		{"VP8L version 1", riffWebP(riffChunk("VP8L", []byte{0x2F, 0, 0, 0, 0x20})), 0, false, ErrCorrupt},
		{"no image chunk", riffWebP(riffChunk("EXIF", nil)), 0, false, ErrCorrupt},
		{"truncated RIFF", lossy[:20], 0, false, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := ReadHeader(tc.data)
			if tc.err != nil {
				requireIs(t, err, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Orientation != tc.orient || h.HasAlpha != tc.alpha {
				t.Errorf("header %+v", h)
			}
			if _, err := Decode(bgCtx, tc.data, h); err != nil {
				t.Errorf("Decode: %v", err)
			}
		})
	}
}
