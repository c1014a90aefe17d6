package codec

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// PNG colour types (PNG spec 11.2.2).
const (
	pngGray      = 0
	pngTrueColor = 2
	pngPaletted  = 3
	pngGrayAlpha = 4
	pngRGBA      = 6
)

// readPNGHeader parses IHDR and walks the chunks before the first IDAT for
// tRNS and iCCP.
func readPNGHeader(data []byte) (Header, error) {
	const sigLen = 8
	p := sigLen
	if len(data) < p+8+13+4 {
		return Header{}, corruptf("png: truncated IHDR")
	}
	if binary.BigEndian.Uint32(data[p:]) != 13 || string(data[p+4:p+8]) != "IHDR" {
		return Header{}, corruptf("png: first chunk is not a 13-byte IHDR")
	}
	ihdr := data[p+8 : p+8+13]
	w, hgt := binary.BigEndian.Uint32(ihdr[0:]), binary.BigEndian.Uint32(ihdr[4:])
	if w == 0 || hgt == 0 || w > 1<<31-1 || hgt > 1<<31-1 {
		return Header{}, corruptf("png: invalid dimensions %dx%d", w, hgt)
	}
	depth, ct := ihdr[8], ihdr[9]
	if ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1 {
		return Header{}, corruptf("png: unsupported compression, filter or interlace method")
	}
	if !pngValidDepth(ct, depth) {
		return Header{}, corruptf("png: invalid bit depth %d for colour type %d", depth, ct)
	}
	h := Header{
		Width:       int(w),
		Height:      int(hgt),
		Orientation: 1,
		Frames:      1,
		Scans:       1,
		HasAlpha:    ct == pngGrayAlpha || ct == pngRGBA,
	}
	interlaced := ihdr[12] == 1
	h.Interlaced = interlaced
	trns, iccTried := false, false
	p += 8 + 13 + 4
	// Ancillary chunks that matter here must precede IDAT.
	for p+8 <= len(data) {
		n := binary.BigEndian.Uint32(data[p:])
		typ := string(data[p+4 : p+8])
		if n > 1<<31-1 || uint64(p)+12+uint64(n) > uint64(len(data)) {
			break // truncated or bogus; Decode reports it
		}
		typeAndBody := data[p+4 : p+8+int(n)]
		crc := binary.BigEndian.Uint32(data[p+8+int(n):])
		p += 12 + int(n)
		if typ == "IDAT" || typ == "IEND" {
			break
		}
		switch typ {
		case "tRNS":
			trns = true
		case "iCCP":
			// Only the first: a file full of iCCP bombs must not cost one
			// 4 MiB inflation each.
			if !iccTried && crc32.ChecksumIEEE(typeAndBody) == crc {
				h.ICC = inflateICCP(typeAndBody[4:])
			}
			iccTried = true
		}
	}
	if trns {
		h.HasAlpha = true
	}
	h.BytesPerPixel = pngBytesPerPixel(ct, depth, trns)
	if interlaced {
		// image/png decodes each Adam7 pass into its own image before
		// merging, which about doubles the peak.
		h.BytesPerPixel *= 2
	}
	return h, nil
}

// pngValidDepth reports whether depth is allowed for colour type ct.
func pngValidDepth(ct, depth byte) bool {
	switch ct {
	case pngGray:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16
	case pngPaletted:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8
	case pngTrueColor, pngGrayAlpha, pngRGBA:
		return depth == 8 || depth == 16
	}
	return false
}

// pngBytesPerPixel is the pixel size of the image type image/png returns.
func pngBytesPerPixel(ct, depth byte, trns bool) int {
	wide := depth == 16
	switch ct {
	case pngPaletted:
		return 1 // *image.Paletted
	case pngGray:
		switch {
		case trns && wide:
			return 8 // *image.NRGBA64
		case trns:
			return 4 // *image.NRGBA
		case wide:
			return 2 // *image.Gray16
		}
		return 1 // *image.Gray
	}
	if wide {
		return 8 // *image.RGBA64 or *image.NRGBA64
	}
	return 4 // *image.RGBA or *image.NRGBA
}

// inflateICCP returns the profile in an iCCP chunk body (name, NUL,
// compression method 0, zlib stream), or nil when it is malformed or
// inflates to more than maxICCSize bytes.
func inflateICCP(body []byte) []byte {
	nul := bytes.IndexByte(body, 0)
	if nul < 1 || nul > 79 || nul+2 > len(body) || body[nul+1] != 0 {
		return nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(body[nul+2:]))
	if err != nil {
		return nil
	}
	defer zr.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(zr, maxICCSize+1))
	if err != nil || n == 0 || n > maxICCSize {
		return nil
	}
	return bytes.Clone(buf.Bytes())
}
