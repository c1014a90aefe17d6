// Package metadata carries the copyright fields of a JPEG from the source
// image to the re-encoded output, for metadata=copyright.
//
// Every other piece of metadata is stripped by the pipeline; this package
// reads only the fields listed in [Copyright] and writes them back into a
// freshly encoded JPEG in the three places readers look for them:
//
//   - an EXIF APP1 segment (IFD0 Artist 0x013B and Copyright 0x8298, ASCII);
//   - an XMP APP1 packet (dc:rights, dc:creator, photoshop:Credit,
//     xmpRights:WebStatement, plus:Licensor/plus:LicensorName);
//   - an APP13 "Photoshop 3.0" image resource block with an IPTC-IIM
//     resource (0x0404: 1:90 coded character set, 2:80 By-line, 2:110
//     Credit, 2:116 Copyright Notice) and its MD5 digest (0x0425).
//
// Reading prefers XMP, then IPTC, then EXIF, field by field, as the Metadata
// Working Group guidelines recommend.
//
// # Normalisation and limits
//
// Values are normalised both when read and when written, so that
// ExtractJPEG(InsertJPEG(jpeg, c)) equals c for any c that is already
// normal, and extracting, inserting and extracting again is stable:
//
//   - text is valid UTF-8 (invalid bytes become U+FFFD); characters XML 1.0
//     cannot carry, C0 controls other than tab and line feed, and C1
//     controls are removed; CR LF and lone CR become LF; leading and trailing
//     white space is trimmed;
//   - a value is at most [MaxValueBytes] bytes (cut at a character boundary);
//   - a list keeps at most [MaxListItems] non-empty items;
//   - the XMP packet must fit one APP1 segment: if the escaped values do not
//     fit, the longest value is halved until they do (never needed for
//     realistic metadata).
//
// IPTC datasets are additionally cut to the IIM maximum lengths (By-line and
// Credit 32 bytes, Copyright Notice 128 bytes), as ExifTool and Photoshop do;
// the full values stay in XMP and EXIF, which readers prefer.
//
// Parsing is bounded and never panics: only IFD0 of the EXIF block is read
// (IFD chains are not followed, so loops cannot spin), every offset and
// length is checked, and encoding/xml does not expand entities declared in a
// DTD, so entity-expansion attacks on the XMP packet have no effect.
package metadata

import (
	"encoding/binary"
	"errors"
	"slices"
)

// Limits applied to extracted and inserted values.
const (
	// MaxValueBytes is the largest value, in bytes of UTF-8, that is kept.
	MaxValueBytes = 2048
	// MaxListItems is the largest number of creators, or of licensors,
	// that is kept.
	MaxListItems = 32
)

const (
	// maxSegmentPayload is the largest payload of a JPEG marker segment:
	// the 16-bit length counts itself.
	maxSegmentPayload = 0xFFFF - 2
	// maxIRBBytes bounds the concatenated APP13 Photoshop payloads read.
	maxIRBBytes = 1 << 20
)

// Copyright holds the copyright fields that metadata=copyright keeps: the
// IPTC Photo Metadata "rights" fields.
type Copyright struct {
	Notice       string   // IPTC 2:116 Copyright Notice; XMP dc:rights; EXIF 0x8298 Copyright
	Creators     []string // IPTC 2:80 By-line; XMP dc:creator; EXIF 0x013B Artist
	Credit       string   // IPTC 2:110 Credit; XMP photoshop:Credit
	WebStatement string   // XMP xmpRights:WebStatement
	Licensors    []string // XMP plus:Licensor/plus:LicensorName (IPTC Extension)
}

// IsZero reports whether c is nil or carries no value.
func (c *Copyright) IsZero() bool {
	if c == nil {
		return true
	}
	return c.Notice == "" && c.Credit == "" && c.WebStatement == "" &&
		!slices.ContainsFunc(c.Creators, nonEmpty) &&
		!slices.ContainsFunc(c.Licensors, nonEmpty)
}

func nonEmpty(s string) bool { return s != "" }

// ErrNotJPEG is returned by InsertJPEG when its input does not start with a
// JPEG SOI marker.
var ErrNotJPEG = errors.New("metadata: not a JPEG stream")

// jpegSegments is what ExtractJPEG collects from the header of a JPEG.
type jpegSegments struct {
	exif []byte // TIFF structure after "Exif\0\0"; first segment only
	xmp  []byte // standard XMP packet; first segment only
	irb  []byte // concatenated APP13 Photoshop 3.0 payloads, header removed

	irbFull bool // maxIRBBytes reached: later APP13 segments are ignored
}

const (
	exifHeader = "Exif\x00"
	xmpHeader  = "http://ns.adobe.com/xap/1.0/\x00"
	psHeader   = "Photoshop 3.0\x00"
)

// scanJPEG walks the marker segments before the first SOS and collects the
// metadata payloads. A segment that runs past the end of data is passed on
// truncated and ends the walk.
func scanJPEG(data []byte) jpegSegments {
	var s jpegSegments
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return s
	}
	pos := 2
	for pos+2 <= len(data) {
		if data[pos] != 0xFF {
			break // not a marker: corrupt header, stop
		}
		m := data[pos+1]
		switch {
		case m == 0xFF: // fill byte
			pos++
			continue
		case m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7): // no length
			pos += 2
			continue
		case m == 0xD9 || m == 0xDA: // EOI, SOS: metadata is over
			return s
		}
		if pos+4 > len(data) {
			break
		}
		n := int(binary.BigEndian.Uint16(data[pos+2:]))
		if n < 2 {
			break
		}
		end := pos + 2 + n
		truncated := end > len(data)
		if truncated {
			end = len(data)
		}
		p := data[pos+4 : end]
		switch m {
		case 0xE1:
			switch {
			case s.exif == nil && len(p) >= 6 && string(p[:5]) == exifHeader:
				s.exif = p[6:]
			case s.xmp == nil && len(p) >= len(xmpHeader) && string(p[:len(xmpHeader)]) == xmpHeader:
				s.xmp = p[len(xmpHeader):]
			}
		case 0xED:
			if !s.irbFull && len(p) >= len(psHeader) && string(p[:len(psHeader)]) == psHeader {
				rest := p[len(psHeader):]
				if len(s.irb)+len(rest) > maxIRBBytes {
					// Later segments would continue a cut stream.
					s.irbFull = true
				} else {
					s.irb = append(s.irb, rest...)
				}
			}
		}
		if truncated {
			break
		}
		pos = end
	}
	return s
}

// ExtractJPEG returns the copyright fields of the JPEG in data, or nil when
// it has none (or is not a JPEG). Each field is taken from XMP when present
// there, else from IPTC-IIM, else from EXIF. Malformed, truncated or hostile
// metadata yields a partial result or nil; ExtractJPEG never panics and its
// work is linear in len(data).
func ExtractJPEG(data []byte) *Copyright {
	s := scanJPEG(data)
	var x xmpFields
	if s.xmp != nil {
		x = parseXMP(s.xmp)
	}
	var ip iptcFields
	if iim := findIPTC(s.irb); iim != nil {
		ip = parseIPTC(iim)
	}
	var ex exifFields
	if s.exif != nil {
		ex = parseEXIF(s.exif)
	}
	c := &Copyright{
		Notice:       firstText(x.notice, ip.notice, ex.copyright),
		Credit:       firstText(x.credit, ip.credit),
		WebStatement: firstText(x.webStatement),
		Creators:     firstList(x.creators, ip.creators, splitArtist(ex.artist)),
		Licensors:    firstList(x.licensors),
	}
	return normalize(c)
}

// firstText returns the first value that is not empty once cleaned.
func firstText(vals ...string) string {
	for _, v := range vals {
		if v = cleanText(v); v != "" {
			return v
		}
	}
	return ""
}

// firstList returns the first list that is not empty once cleaned.
func firstList(lists ...[]string) []string {
	for _, l := range lists {
		if l = cleanList(l); l != nil {
			return l
		}
	}
	return nil
}

// InsertJPEG returns a copy of jpeg with the copyright fields of c written
// as EXIF, XMP and IPTC segments right after SOI, or after the JFIF APP0
// segment when the stream starts with one. c is normalised first (see the
// package documentation); when nothing is left, jpeg is returned as is.
// jpeg is expected to carry no metadata of its own (fresh encoder output):
// existing segments are kept untouched.
func InsertJPEG(jpeg []byte, c *Copyright) ([]byte, error) {
	if len(jpeg) < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 || jpeg[2] != 0xFF {
		return nil, ErrNotJPEG
	}
	at := 2
	if jpeg[3] == 0xE0 {
		if len(jpeg) < 6 {
			return nil, errors.New("metadata: truncated APP0 segment")
		}
		n := int(binary.BigEndian.Uint16(jpeg[4:]))
		if n < 2 || 4+n > len(jpeg) {
			return nil, errors.New("metadata: malformed APP0 segment")
		}
		if n >= 7 && string(jpeg[6:11]) == "JFIF\x00" {
			at = 4 + n
		}
	}
	n := normalize(c)
	if n == nil {
		return jpeg, nil
	}
	type segment struct {
		marker  byte
		payload []byte
	}
	segs := []segment{{0xE1, buildEXIF(n)}, {0xE1, buildXMP(n)}, {0xED, buildIRB(n)}}
	size := len(jpeg)
	for _, s := range segs {
		if len(s.payload) > maxSegmentPayload {
			return nil, errors.New("metadata: internal error: segment too large")
		}
		size += 4 + len(s.payload)
	}
	out := make([]byte, 0, size)
	out = append(out, jpeg[:at]...)
	for _, s := range segs {
		if s.payload != nil {
			out = appendSegment(out, s.marker, s.payload)
		}
	}
	return append(out, jpeg[at:]...), nil
}

// appendSegment appends marker m with payload p (len(p) <= maxSegmentPayload).
func appendSegment(dst []byte, m byte, p []byte) []byte {
	dst = append(dst, 0xFF, m)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(p)+2))
	return append(dst, p...)
}
