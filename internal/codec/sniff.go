package codec

import (
	"bytes"

	"github.com/imageopto/imageopto/internal/format"
)

// sniffSVGWindow is how far into a text file Sniff looks for "<svg".
const sniffSVGWindow = 1024

// Sniff returns the format whose magic bytes start data, or "" when none
// matches. It looks at the bytes only, never at names or content types.
func Sniff(data []byte) Format {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return format.JPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return format.PNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return format.GIF
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return format.WebP
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		return sniffFtyp(data)
	case bytes.HasPrefix(data, []byte{0xFF, 0x0A}),
		bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")):
		return format.JXL
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")),
		bytes.HasPrefix(data, []byte("II+\x00")), bytes.HasPrefix(data, []byte("MM\x00+")):
		return format.TIFF
	case bytes.HasPrefix(data, []byte("BM")):
		return format.BMP
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return format.PDF
	case bytes.HasPrefix(data, []byte{0x00, 0x00, 0x01, 0x00}):
		return format.ICO
	case bytes.HasPrefix(data, []byte("8BPS")):
		return format.PSD
	case sniffSVG(data):
		return format.SVG
	}
	return ""
}

// sniffFtyp classifies an ISO base media file by the brands of its leading
// ftyp box: AVIF wins over HEIF when both are listed, as an AVIF file is
// also a HEIF file.
func sniffFtyp(data []byte) Format {
	size := int(uint32(data[0])<<24 | uint32(data[1])<<16 | uint32(data[2])<<8 | uint32(data[3]))
	if size < 16 || size > len(data) {
		size = min(len(data), 16+4*64)
	}
	box := data[8:size]
	major := string(box[:4])
	var heif bool
	// The major brand, then (after the minor version) the compatible brands.
	for i := 0; i+4 <= len(box); i += 4 {
		if i == 4 {
			continue // minor version
		}
		switch string(box[i : i+4]) {
		case "avif", "avis":
			return format.AVIF
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "mif2":
			heif = true
		}
	}
	if heif {
		return format.HEIC
	}
	switch major {
	case "jxl ":
		return format.JXL
	case "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V ", "M4A ",
		"M4P ", "f4v ", "dash", "3gp4", "3gp5", "3gp6", "3g2a", "qt  ", "mmp4", "MSNV":
		return format.MP4
	}
	return ""
}

// sniffSVG reports whether data looks like an SVG document: after an
// optional byte-order mark and white space it starts with an XML
// declaration, a comment, a doctype or the svg element, and "<svg" occurs
// within the first KiB.
func sniffSVG(data []byte) bool {
	window := data[:min(len(data), sniffSVGWindow)]
	text := bytes.TrimPrefix(window, []byte("\xef\xbb\xbf"))
	text = bytes.TrimLeft(text, " \t\r\n")
	switch {
	case bytes.HasPrefix(text, []byte("<svg")),
		bytes.HasPrefix(text, []byte("<?xml")),
		bytes.HasPrefix(text, []byte("<!--")),
		bytes.HasPrefix(text, []byte("<!DOCTYPE svg")):
		return bytes.Contains(window, []byte("<svg"))
	}
	return false
}
