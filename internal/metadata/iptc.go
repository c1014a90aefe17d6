package metadata

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"strings"
)

// Photoshop image resource IDs.
const (
	irbIPTC       = 0x0404 // IPTC-NAA record
	irbIPTCDigest = 0x0425 // MD5 of the IPTC-NAA record
)

// IPTC-IIM datasets (record:dataset) and their maximum lengths.
const (
	iimTag = 0x1C

	iimEnvelope           = 1
	iimApplication        = 2
	dsRecordVersion       = 0  // 1:00 and 2:00
	dsCodedCharacterSet   = 90 // 1:90
	dsByline              = 80 // 2:80, repeatable
	dsCredit              = 110
	dsCopyrightNotice     = 116
	maxBylineBytes        = 32
	maxCreditBytes        = 32
	maxCopyrightNoticeLen = 128
)

// utf8Designation is the ISO 2022 escape sequence for UTF-8 (ESC % G).
var utf8Designation = []byte{0x1B, '%', 'G'}

// findIPTC returns the data of the first IPTC-NAA resource of a Photoshop
// image resource block, or nil. Resources are "8BIM" (or one of the older
// signatures), a 16-bit ID, a Pascal-string name padded to an even length,
// a 32-bit size and the data padded to an even length. A size that runs
// past the end of the block is cut to what is there for the IPTC resource
// and ends the walk.
func findIPTC(irb []byte) []byte {
	p := 0
	for p+4+2+2+4 <= len(irb) {
		switch string(irb[p : p+4]) {
		case "8BIM", "PHUT", "AgHg", "DCSR", "MeSa":
		default:
			return nil
		}
		id := binary.BigEndian.Uint16(irb[p+4:])
		p += 6
		name := 1 + int(irb[p])
		name += name & 1
		if p+name+4 > len(irb) {
			return nil
		}
		p += name
		size := uint64(binary.BigEndian.Uint32(irb[p:]))
		p += 4
		rest := uint64(len(irb) - p)
		if id == irbIPTC {
			return irb[p : p+int(min(size, rest))]
		}
		if size >= rest {
			return nil
		}
		p += int(size + size&1)
	}
	return nil
}

// iptcFields are the values found in an IPTC-IIM stream (creators already
// cleaned, at most MaxListItems of them).
type iptcFields struct {
	notice, credit string
	creators       []string
}

// parseIPTC reads datasets 2:80, 2:110 and 2:116 of an IPTC-IIM stream.
// Values are UTF-8 when dataset 1:90 designates UTF-8, else Latin-1. The
// walk stops at the first byte that is not a tag marker and at a length
// that runs past the end of the data, keeping what was read before.
func parseIPTC(b []byte) iptcFields {
	var (
		f                            iptcFields
		notice, credit               []byte
		bylines                      [][]byte
		utf8, haveNotice, haveCredit bool
	)
	p := 0
	for p+5 <= len(b) && b[p] == iimTag {
		rec, ds := b[p+1], b[p+2]
		n := uint64(binary.BigEndian.Uint16(b[p+3:]))
		p += 5
		if n&0x8000 != 0 { // extended dataset: n&0x7FFF bytes of length follow
			k := int(n & 0x7FFF)
			if k == 0 || k > 8 || p+k > len(b) {
				break
			}
			n = 0
			for _, c := range b[p : p+k] {
				n = n<<8 | uint64(c)
			}
			p += k
		}
		if n > uint64(len(b)-p) {
			break
		}
		v := b[p : p+int(n)]
		p += int(n)
		switch {
		case rec == iimEnvelope && ds == dsCodedCharacterSet:
			utf8 = bytes.Contains(v, utf8Designation)
		case rec == iimApplication && ds == dsByline:
			bylines = append(bylines, v)
		case rec == iimApplication && ds == dsCredit && !haveCredit:
			credit, haveCredit = v, true
		case rec == iimApplication && ds == dsCopyrightNotice && !haveNotice:
			notice, haveNotice = v, true
		}
	}
	dec := decodeLatin1
	if utf8 {
		dec = func(v []byte) string { return string(v) }
	}
	f.notice = dec(capBytes(notice))
	f.credit = dec(capBytes(credit))
	for _, v := range bylines {
		if c := cleanText(dec(capBytes(v))); c != "" {
			f.creators = append(f.creators, c)
			if len(f.creators) == MaxListItems {
				break
			}
		}
	}
	return f
}

// iimText truncates a normalised value to an IIM maximum length without
// splitting a character.
func iimText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return strings.TrimSpace(truncateUTF8(s, max))
}

// appendDataset appends one standard (short-length) IIM dataset.
func appendDataset(b []byte, rec, ds byte, v []byte) []byte {
	b = append(b, iimTag, rec, ds)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// buildIPTC returns the IPTC-IIM stream for a normalised c, or nil when c
// has no IIM field. It declares UTF-8 (1:90) and record version 4, and
// writes the datasets in ascending order as the IIM requires.
func buildIPTC(c *Copyright) []byte {
	if len(c.Creators) == 0 && c.Credit == "" && c.Notice == "" {
		return nil
	}
	version := []byte{0, 4}
	var b []byte
	b = appendDataset(b, iimEnvelope, dsRecordVersion, version)
	b = appendDataset(b, iimEnvelope, dsCodedCharacterSet, utf8Designation)
	b = appendDataset(b, iimApplication, dsRecordVersion, version)
	for _, v := range c.Creators {
		if v = iimText(v, maxBylineBytes); v != "" {
			b = appendDataset(b, iimApplication, dsByline, []byte(v))
		}
	}
	if v := iimText(c.Credit, maxCreditBytes); v != "" {
		b = appendDataset(b, iimApplication, dsCredit, []byte(v))
	}
	if v := iimText(c.Notice, maxCopyrightNoticeLen); v != "" {
		b = appendDataset(b, iimApplication, dsCopyrightNotice, []byte(v))
	}
	return b
}

// appendResource appends one 8BIM image resource with an empty name.
func appendResource(b []byte, id uint16, data []byte) []byte {
	b = append(b, "8BIM"...)
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, 0, 0) // empty Pascal string, padded to even length
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	if len(data)&1 == 1 {
		b = append(b, 0)
	}
	return b
}

// buildIRB returns the APP13 payload: "Photoshop 3.0", the IPTC-NAA
// resource and its MD5 digest (which tells Photoshop and ExifTool that
// the XMP and the IPTC agree). It returns nil when c has no IIM field.
func buildIRB(c *Copyright) []byte {
	iim := buildIPTC(c)
	if iim == nil {
		return nil
	}
	sum := md5.Sum(iim)
	b := []byte(psHeader)
	b = appendResource(b, irbIPTC, iim)
	return appendResource(b, irbIPTCDigest, sum[:])
}
