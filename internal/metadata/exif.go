package metadata

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// EXIF (TIFF) tags and field types used here.
const (
	tagArtist    = 0x013B
	tagCopyright = 0x8298

	tiffByte      = 1
	tiffASCII     = 2
	tiffUndefined = 7
	tiffUTF8      = 129 // EXIF 3.0
)

// exifFields are the raw values found in IFD0.
type exifFields struct {
	artist, copyright string
}

// parseEXIF reads Artist and Copyright from IFD0 of a TIFF structure (the
// bytes after "Exif\0\0"). Only IFD0 is read, so a looping IFD chain cannot
// make it spin; entries whose value lies outside tiff are ignored. The
// strings are UTF-8 when valid UTF-8, else Latin-1.
func parseEXIF(tiff []byte) exifFields {
	var f exifFields
	if len(tiff) < 8 {
		return f
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return f
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return f
	}
	ifd := uint64(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > uint64(len(tiff)) {
		return f
	}
	entries := tiff[ifd+2:]
	n := min(uint64(bo.Uint16(tiff[ifd:])), uint64(len(entries)/12))
	for i := range n {
		e := entries[i*12 : i*12+12]
		tag := bo.Uint16(e[0:])
		if tag != tagArtist && tag != tagCopyright {
			continue
		}
		switch bo.Uint16(e[2:]) {
		case tiffASCII, tiffUTF8, tiffByte, tiffUndefined: // one byte per unit
		default:
			continue
		}
		count := uint64(bo.Uint32(e[4:]))
		var v []byte
		if count <= 4 {
			v = e[8 : 8+count]
		} else {
			off := uint64(bo.Uint32(e[8:]))
			if off > uint64(len(tiff)) || count > uint64(len(tiff))-off {
				continue
			}
			v = tiff[off : off+count]
		}
		if tag == tagArtist {
			if f.artist == "" {
				f.artist = exifString(v, false)
			}
		} else if f.copyright == "" {
			f.copyright = exifString(v, true)
		}
	}
	return f
}

// exifString decodes an ASCII field value: up to the first NUL. Copyright
// may hold "photographer NUL editor"; the photographer part is used, or the
// editor part when the photographer part is blank.
func exifString(v []byte, copyright bool) string {
	v = capBytes(v)
	first, rest, _ := bytes.Cut(v, []byte{0})
	if copyright && len(bytes.TrimSpace(first)) == 0 {
		first, _, _ = bytes.Cut(rest, []byte{0})
	}
	return decodeLegacy(first)
}

// splitArtist splits an EXIF Artist value into creators: the Metadata
// Working Group maps several dc:creator values to one Artist string joined
// by "; ".
func splitArtist(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// buildEXIF returns the APP1 payload of a minimal big-endian EXIF block
// whose IFD0 holds Artist (the creators joined by "; ") and Copyright, as
// ASCII fields in UTF-8 (as ExifTool writes them). It returns nil when c
// has neither value.
func buildEXIF(c *Copyright) []byte {
	type field struct {
		tag uint16
		val string
	}
	var fields []field
	if len(c.Creators) > 0 {
		fields = append(fields, field{tagArtist, strings.Join(c.Creators, "; ")})
	}
	if c.Notice != "" {
		fields = append(fields, field{tagCopyright, c.Notice})
	}
	if len(fields) == 0 {
		return nil
	}
	// Header, IFD0 (count, entries, next-IFD offset), then the values,
	// each starting on a word boundary.
	ifdEnd := 8 + 2 + 12*len(fields) + 4
	size := len(exifHeader) + 1 + ifdEnd
	for _, f := range fields {
		size += (len(f.val) + 2) &^ 1
	}
	if size > maxSegmentPayload {
		// Unreachable for normalised values: the XMP packet, which holds
		// every byte of these values and more, fits the same limit. Keep
		// the segment valid anyway.
		budget := (maxSegmentPayload - len(exifHeader) - 1 - ifdEnd) / len(fields)
		for i := range fields {
			fields[i].val = truncateUTF8(fields[i].val, budget-2)
		}
	}
	b := make([]byte, 0, size)
	b = append(b, exifHeader...)
	b = append(b, 0)
	b = append(b, 'M', 'M', 0, 42, 0, 0, 0, 8)
	b = binary.BigEndian.AppendUint16(b, uint16(len(fields)))
	off := ifdEnd
	for _, f := range fields {
		count := len(f.val) + 1 // NUL-terminated
		b = binary.BigEndian.AppendUint16(b, f.tag)
		b = binary.BigEndian.AppendUint16(b, tiffASCII)
		b = binary.BigEndian.AppendUint32(b, uint32(count))
		if count <= 4 {
			var inline [4]byte
			copy(inline[:], f.val)
			b = append(b, inline[:]...)
		} else {
			b = binary.BigEndian.AppendUint32(b, uint32(off))
			off += (count + 1) &^ 1
		}
	}
	b = append(b, 0, 0, 0, 0) // no IFD1
	for _, f := range fields {
		if count := len(f.val) + 1; count > 4 {
			b = append(b, f.val...)
			b = append(b, 0)
			if count&1 == 1 {
				b = append(b, 0)
			}
		}
	}
	return b
}
