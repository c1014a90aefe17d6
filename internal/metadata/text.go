package metadata

import (
	"strings"
	"unicode/utf8"
)

// maxRawBytes bounds the input looked at by cleanText, so that hostile
// values cost no more than a few times MaxValueBytes.
const maxRawBytes = 4 * MaxValueBytes

// cleanText returns s normalised as described in the package documentation:
// valid UTF-8, XML-safe characters only, LF line ends, trimmed, at most
// MaxValueBytes bytes. It is idempotent.
func cleanText(s string) string {
	if len(s) > maxRawBytes {
		s = s[:maxRawBytes]
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue // CR LF: the LF follows
			}
			r = '\n'
		case !keepRune(r):
			continue
		}
		b.WriteRune(r) // an invalid byte decodes as U+FFFD and is kept as such
	}
	out := strings.TrimSpace(b.String())
	if len(out) > MaxValueBytes {
		out = strings.TrimSpace(truncateUTF8(out, MaxValueBytes))
	}
	return out
}

// keepRune reports whether r is kept by cleanText: characters allowed in XML
// 1.0 other than C0 controls (except tab and line feed), DEL and C1
// controls.
func keepRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return true
	case r < 0x20, r >= 0x7F && r <= 0x9F:
		return false
	case r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= utf8.MaxRune:
		return true
	}
	return false
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cleanList cleans every item, drops empty ones and keeps at most
// MaxListItems. It returns nil rather than an empty slice.
func cleanList(l []string) []string {
	var out []string
	for _, v := range l {
		if len(out) == MaxListItems {
			break
		}
		if v = cleanText(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// cp1252High maps bytes 0x80–0x9F of Windows-1252. The five bytes it leaves
// undefined map to the C1 control of the same value, which cleanText drops.
var cp1252High = [32]rune{
	0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
	0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
}

// decodeLatin1 decodes b as ISO 8859-1, with the printable Windows-1252
// characters in 0x80–0x9F (which is what "Latin" means to ExifTool and
// Photoshop).
func decodeLatin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		switch {
		case c < 0x80:
			sb.WriteByte(c)
		case c < 0xA0:
			sb.WriteRune(cp1252High[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// decodeLegacy decodes a string of unknown character set: UTF-8 when it is
// valid UTF-8, else Latin-1 as decodeLatin1 does.
func decodeLegacy(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return decodeLatin1(b)
}

// capBytes returns b cut to maxRawBytes, so that decoding a hostile value
// allocates a bounded amount.
// The cut backs up over at most three continuation bytes, so that a long
// UTF-8 value stays valid UTF-8.
func capBytes(b []byte) []byte {
	if len(b) <= maxRawBytes {
		return b
	}
	n := maxRawBytes
	for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(b[n]); i++ {
		n--
	}
	return b[:n]
}

// normalize returns a cleaned copy of c whose XMP packet fits one segment,
// or nil when nothing is left. It is idempotent.
func normalize(c *Copyright) *Copyright {
	if c == nil {
		return nil
	}
	n := &Copyright{
		Notice:       cleanText(c.Notice),
		Creators:     cleanList(c.Creators),
		Credit:       cleanText(c.Credit),
		WebStatement: cleanText(c.WebStatement),
		Licensors:    cleanList(c.Licensors),
	}
	fitXMP(n)
	if n.IsZero() {
		return nil
	}
	return n
}
