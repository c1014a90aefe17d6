package main

import (
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf16"
)

// ICC profile layout (ICC.1): a 128-byte header, then the tag count and
// 12-byte tag entries (signature, offset, size from the profile's start).
const (
	iccHeaderSize = 128
	iccMaxTags    = 1024
	iccMaxDesc    = 256 // runes kept of a description
)

// iccDescription returns the profile description tag ('desc') of an ICC
// profile, or "" when there is none or it is malformed. Version 2 profiles
// store it as textDescriptionType (ASCII), version 4 as
// multiLocalizedUnicodeType (UTF-16, one string per language: English is
// preferred). Control characters are dropped.
func iccDescription(profile []byte) string {
	if len(profile) < iccHeaderSize+4 {
		return ""
	}
	n := int(min(binary.BigEndian.Uint32(profile[iccHeaderSize:]), iccMaxTags))
	for i := range n {
		at := iccHeaderSize + 4 + 12*i
		if at+12 > len(profile) {
			return ""
		}
		entry := profile[at : at+12]
		if string(entry[:4]) != "desc" {
			continue
		}
		off, size := uint64(binary.BigEndian.Uint32(entry[4:])), uint64(binary.BigEndian.Uint32(entry[8:]))
		if off+size > uint64(len(profile)) {
			return ""
		}
		return cleanText(iccText(profile[off : off+size]))
	}
	return ""
}

// iccText decodes a text element of type 'desc', 'mluc' or 'text'.
func iccText(el []byte) string {
	if len(el) < 8 {
		return ""
	}
	body := el[8:] // after the type signature and 4 reserved bytes
	switch string(el[:4]) {
	case "desc": // ASCII length (with its NUL), then the ASCII bytes
		if len(body) < 4 {
			return ""
		}
		n := uint64(binary.BigEndian.Uint32(body))
		ascii := body[4:]
		if n < uint64(len(ascii)) {
			ascii = ascii[:n]
		}
		return asciiUntilNUL(ascii)
	case "text":
		return asciiUntilNUL(body)
	case "mluc":
		return mlucText(el)
	}
	return ""
}

// mlucText picks one string of a multiLocalizedUnicodeType element: en-US,
// else any English, else the first.
func mlucText(el []byte) string {
	if len(el) < 16 {
		return ""
	}
	count := uint64(binary.BigEndian.Uint32(el[8:]))
	recSize := uint64(binary.BigEndian.Uint32(el[12:]))
	if recSize < 12 {
		return ""
	}
	best, bestRank := "", 0
	for i := uint64(0); i < count && i < iccMaxTags; i++ {
		at := 16 + i*recSize
		if at+12 > uint64(len(el)) {
			break
		}
		rec := el[at : at+12]
		lang, country := string(rec[:2]), string(rec[2:4])
		length, off := uint64(binary.BigEndian.Uint32(rec[4:])), uint64(binary.BigEndian.Uint32(rec[8:]))
		if off+length > uint64(len(el)) {
			continue
		}
		rank := 1
		switch {
		case lang == "en" && country == "US":
			rank = 3
		case lang == "en":
			rank = 2
		}
		if rank > bestRank {
			best, bestRank = utf16BE(el[off:off+length]), rank
		}
	}
	return best
}

// utf16BE decodes big-endian UTF-16 (an odd last byte is ignored).
func utf16BE(b []byte) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(units))
}

// asciiUntilNUL is b up to its first NUL, bytes above 0x7F replaced.
func asciiUntilNUL(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		if c > 0x7f {
			sb.WriteRune(unicode.ReplacementChar)
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// cleanText drops control characters and surrounding spaces and keeps at
// most iccMaxDesc runes.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > iccMaxDesc {
		s = string(r[:iccMaxDesc])
	}
	return strings.TrimSpace(s)
}
