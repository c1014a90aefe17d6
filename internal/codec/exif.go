package codec

import (
	"bytes"
	"encoding/binary"
)

// exifOrientationTag is the TIFF tag of the EXIF orientation.
const exifOrientationTag = 0x0112

// exifOrientation returns the orientation stored in IFD0 of a TIFF-structured
// EXIF block (the bytes after "Exif\x00\x00"), or 1 when it is absent,
// invalid or unreachable. Only IFD0 is read, so looping IFD chains cannot
// make it spin, and every offset is checked against len(tiff).
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch {
	case tiff[0] == 'I' && tiff[1] == 'I':
		bo = binary.LittleEndian
	case tiff[0] == 'M' && tiff[1] == 'M':
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return 1
	}
	ifd := uint64(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > uint64(len(tiff)) {
		return 1
	}
	n := uint64(bo.Uint16(tiff[ifd:]))
	entries := tiff[ifd+2:]
	n = min(n, uint64(len(entries)/12))
	for i := range n {
		e := entries[i*12 : i*12+12]
		if bo.Uint16(e[0:]) != exifOrientationTag {
			continue
		}
		typ, count := bo.Uint16(e[2:]), bo.Uint32(e[4:])
		if count < 1 {
			return 1
		}
		var v uint32
		switch typ {
		case 3: // SHORT, stored left-justified in the value field
			v = uint32(bo.Uint16(e[8:]))
		case 4: // LONG
			v = bo.Uint32(e[8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}

// exifPayload strips the optional "Exif\x00\x00" prefix that some writers
// put in front of the TIFF header (always present in JPEG APP1, sometimes in
// a WebP EXIF chunk).
func exifPayload(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte("Exif\x00\x00"))
}
