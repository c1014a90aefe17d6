package metadata

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertCanonical checks that an extraction result is nil or normalised.
func assertCanonical(t *testing.T, c *Copyright) {
	t.Helper()
	if c != nil {
		assert.Equal(t, normalize(c), c)
	}
}

// allocated returns the bytes f allocates on the heap. The hostile inputs
// below are measured by the work they cost in bytes, not in wall-clock
// time, which a loaded machine stretches; the tests that call it are not
// parallel, so that the figure is f's own.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// xmlBytesPerByte bounds what parsing an XMP packet allocates per byte of
// packet: encoding/xml's tokens cost up to about 36 (deep nesting). Work
// per element that grew with the depth, the number of siblings or the
// length of an earlier value would cost far more.
const xmlBytesPerByte = 64

func TestHostileTruncation(t *testing.T) {
	full, err := InsertJPEG(jpegWith(baseJPEG(), jfifAPP0()), roundTripCases["non-ASCII"])
	require.NoError(t, err)
	full = jpegWith(full, exifSegment(tiffIFD0(binary.LittleEndian, 0, asciiEntry(0x8298, "other"))))
	for n := range len(full) + 1 {
		assertCanonical(t, ExtractJPEG(full[:n]))
	}
	// Cutting the stream inside the XMP packet keeps the EXIF fields.
	segs := listSegments(t, full)
	xmpEnd := segs[3].offset + 4 + len(segs[3].payload)
	c := ExtractJPEG(full[:xmpEnd-100])
	require.NotNil(t, c)
	assert.Equal(t, "© 2024 José Müller — tous droits réservés", c.Notice)
}

func TestHostileSegmentLengths(t *testing.T) {
	base := baseJPEG()
	for name, data := range map[string][]byte{
		"length 0":            jpegWith(base, []byte{0xFF, 0xE1, 0x00, 0x00}),
		"length 1":            jpegWith(base, []byte{0xFF, 0xED, 0x00, 0x01}),
		"length past the end": {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x', 'i', 'f', 0, 0},
		"marker cut":          {0xFF, 0xD8, 0xFF},
		"length cut":          {0xFF, 0xD8, 0xFF, 0xE1, 0x00},
		"garbage after SOI":   {0xFF, 0xD8, 0x00, 0x01, 0x02},
		"only fill bytes":     append([]byte{0xFF, 0xD8}, bytes.Repeat([]byte{0xFF}, 1000)...),
		"Exif header cut":     jpegWith(base, seg(0xE1, []byte("Exif"))),
		"XMP header cut":      jpegWith(base, seg(0xE1, []byte("http://ns.adobe.com/xap/1.0/"))),
		"Photoshop header":    jpegWith(base, seg(0xED, []byte("Photoshop 3.0"))),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Nil(t, ExtractJPEG(data))
		})
	}
}

func TestHostileManySegments(t *testing.T) {
	// 20 MB of APP13 segments: the concatenated Photoshop data is capped
	// and the walk stays linear.
	one := app13Segment(irbBlock(resource{id: 0x03ED, data: make([]byte, 65000)}))
	data := []byte{0xFF, 0xD8}
	for range 320 {
		data = append(data, one...)
	}
	data = append(data, iptcSegment(ds(2, 116, "Too late"))...)
	data = append(data, baseJPEG()[2:]...)
	var c *Copyright
	n := allocated(func() { c = ExtractJPEG(data) })
	t.Logf("%d bytes of APP13 segments: %d bytes allocated", len(data), n)
	// About 4.7 MB (the concatenation capped at maxIRBBytes, and what it
	// is parsed into); one copy of all the data would be 20 MB, a copy per
	// segment gigabytes.
	assert.Less(t, n, uint64(len(data)/2), "the concatenation is capped and built once")
	assert.Nil(t, c, "the IPTC resource lies beyond the cap")
	assert.LessOrEqual(t, len(scanJPEG(data).irb), maxIRBBytes)
}

func TestHostileEXIF(t *testing.T) {
	be := binary.BigEndian
	good := asciiEntry(0x8298, "Good notice")
	loopIFD := tiffIFD0(be, 8, good) // next IFD is IFD0 again
	selfIFD0 := append([]byte("MM\x00\x2a\x00\x00\x00\x08"), 0xFF, 0xFF)
	tests := []struct {
		name string
		tiff []byte
		want *Copyright
	}{
		{"IFD chain loops onto itself", loopIFD, &Copyright{Notice: "Good notice"}},
		{"entry count beyond the data", selfIFD0, nil},
		{"IFD0 offset out of range", []byte("MM\x00\x2a\xFF\xFF\xFF\xF0"), nil},
		{"IFD0 offset inside the header", []byte("II\x2a\x00\x04\x00\x00\x00\x00\x00"), nil},
		{"bad byte order", []byte("XX\x00\x2a\x00\x00\x00\x08\x00\x00"), nil},
		{"bad magic", []byte("MM\x00\x2b\x00\x00\x00\x08\x00\x00"), nil},
		{"too short", []byte("MM\x00"), nil},
		{"value offset out of range", tiffIFD0(be, 0,
			ifdEntry{tag: 0x8298, typ: 2, count: 10, offset: u32(0xFFFFFFF0)}, asciiEntry(0x013B, "Artist ok")),
			&Copyright{Creators: []string{"Artist ok"}}},
		{"offset plus count overflows", tiffIFD0(be, 0,
			ifdEntry{tag: 0x8298, typ: 2, count: 0xFFFFFFFF, offset: u32(16)}), nil},
		{"huge count", tiffIFD0(be, 0,
			ifdEntry{tag: 0x013B, typ: 2, count: 0x7FFFFFFF, offset: u32(8)}), nil},
		{"zero count", tiffIFD0(be, 0, ifdEntry{tag: 0x8298, typ: 2, count: 0}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ExtractJPEG(jpegWith(baseJPEG(), exifSegment(tc.tiff)))
			assert.Equal(t, tc.want, c)
		})
	}
	t.Run("long value is bounded", func(t *testing.T) {
		c := ExtractJPEG(jpegWith(baseJPEG(), exifSegment(tiffIFD0(be, 0,
			asciiEntry(0x8298, strings.Repeat("z", 60000))))))
		require.NotNil(t, c)
		assert.Len(t, c.Notice, MaxValueBytes)
	})
}

// billionLaughs declares nested entities that would expand to 10⁹ copies
// of "lol" in a parser that expands internal DTD entities.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n")
	for i := 1; i <= 9; i++ {
		prev := "lol"
		if i > 1 {
			prev = "lol" + string(rune('0'+i-1))
		}
		b.WriteString(" <!ENTITY lol" + string(rune('0'+i)) + " \"" + strings.Repeat("&"+prev+";", 10) + "\">\n")
	}
	b.WriteString(" <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n")
	return b.String()
}

func TestHostileXMPEntities(t *testing.T) {
	packet := billionLaughs() + xmpDoc(`<rdf:Description>
  <dc:rights><rdf:Alt><rdf:li xml:lang='x-default'>&lol9;</rdf:li></rdf:Alt></dc:rights>
  <photoshop:Credit>&xxe;</photoshop:Credit>
  <xmpRights:WebStatement>https://ok.example/</xmpRights:WebStatement>
 </rdf:Description>`)
	in := jpegWith(baseJPEG(), xmpSegment(packet))
	var c *Copyright
	n := allocated(func() { c = ExtractJPEG(in) })
	t.Logf("billion laughs (%d bytes): %d bytes allocated", len(packet), n)
	// An expansion would allocate 3 GB.
	assert.Less(t, n, uint64(xmlBytesPerByte*len(packet)), "no entity expansion")
	// Non-strict encoding/xml leaves unknown entities as literal text: no
	// expansion, no external entity read.
	assert.Equal(t, &Copyright{
		Notice:       "&lol9;",
		Credit:       "&xxe;",
		WebStatement: "https://ok.example/",
	}, c)

	// Confirm the behaviour of encoding/xml itself: in strict mode the
	// entity reference is an error, never an expansion.
	d := xml.NewDecoder(strings.NewReader(billionLaughs() + "<a>&lol9;</a>"))
	var err error
	for err == nil {
		var tok xml.Token
		tok, err = d.Token()
		if cd, ok := tok.(xml.CharData); ok {
			assert.NotContains(t, string(cd), "lol")
		}
	}
	assert.NotErrorIs(t, err, io.EOF)
	assert.ErrorContains(t, err, "invalid character entity &lol9;")
}

func TestHostileXMPShape(t *testing.T) {
	deep := strings.Repeat("<a>", 8000) + strings.Repeat("</a>", 8000)
	manyAttrs := "<rdf:Description"
	for i := range 3000 {
		manyAttrs += " a" + strings.Repeat("x", i%7) + "=\"v\""
	}
	manyAttrs += " photoshop:Credit=\"Attr after many\"/>"
	manyItems := "<rdf:Description><dc:creator><rdf:Seq>" +
		strings.Repeat("<rdf:li>c</rdf:li>", 3000) + "</rdf:Seq></dc:creator></rdf:Description>"
	tests := []struct {
		name    string
		content string
		check   func(t *testing.T, c *Copyright)
	}{
		{"deep nesting", deep + `<rdf:Description photoshop:Credit="After deep"/>`, func(t *testing.T, c *Copyright) {
			assert.Equal(t, &Copyright{Credit: "After deep"}, c)
		}},
		{"deep nesting inside a property", `<rdf:Description><photoshop:Credit>` + deep + `x</photoshop:Credit></rdf:Description>`,
			func(t *testing.T, c *Copyright) { assert.Equal(t, &Copyright{Credit: "x"}, c) }},
		{"many attributes", manyAttrs, func(t *testing.T, c *Copyright) {
			assert.Equal(t, &Copyright{Credit: "Attr after many"}, c)
		}},
		{"many items", manyItems, func(t *testing.T, c *Copyright) {
			require.NotNil(t, c)
			assert.Len(t, c.Creators, MaxListItems)
		}},
		{"long text", `<rdf:Description><photoshop:Credit>` + strings.Repeat("&amp;", 12000) + `</photoshop:Credit></rdf:Description>`,
			func(t *testing.T, c *Copyright) {
				require.NotNil(t, c)
				assert.Equal(t, strings.Repeat("&", MaxValueBytes), c.Credit)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			packet := xmpDoc(tc.content)
			require.Less(t, len(packet), 65000)
			in := jpegWith(baseJPEG(), xmpSegment(packet))
			var c *Copyright
			n := allocated(func() { c = ExtractJPEG(in) })
			t.Logf("%d bytes of packet: %d bytes allocated (%.1f per byte)", len(packet), n, float64(n)/float64(len(packet)))
			assert.Less(t, n, uint64(xmlBytesPerByte*len(packet)), "work in proportion to the packet")
			tc.check(t, c)
			assertCanonical(t, c)
		})
	}
}

func TestHostileIPTC(t *testing.T) {
	huge := uint64(0xFFFFFFFF)
	bigger := uint64(1 << 40)
	tests := []struct {
		name string
		seg  []byte
		want *Copyright
	}{
		{"standard length past the end",
			iptcSegment(ds(2, 80, "Kept"), dataset{rec: 2, num: 116, value: []byte("short"), length: u64(0x7FFF)}),
			&Copyright{Creators: []string{"Kept"}}},
		{"extended length 0xFFFFFFFF",
			iptcSegment(ds(2, 110, "Kept"), dataset{rec: 2, num: 116, value: []byte("x"), extLen: 4, length: &huge}),
			&Copyright{Credit: "Kept"}},
		{"extended length of 8 bytes",
			iptcSegment(ds(2, 110, "Kept"), dataset{rec: 2, num: 116, value: []byte("x"), extLen: 8, length: &bigger}),
			&Copyright{Credit: "Kept"}},
		{"extended length field too long",
			iptcSegment(ds(2, 110, "Kept"), dataset{rec: 2, num: 116, value: []byte("x"), extLen: 0x7FFF}),
			&Copyright{Credit: "Kept"}},
		{"extended length with zero bytes",
			app13Segment(irbBlock(resource{id: 0x0404,
				data: append(iimStream(ds(2, 110, "Kept")), 0x1C, 0x02, 0x50, 0x80, 0x00, 'x')})),
			&Copyright{Credit: "Kept"}},
		{"header cut",
			app13Segment(irbBlock(resource{id: 0x0404, data: append(iimStream(ds(2, 110, "Kept")), 0x1C, 0x02, 0x74, 0x00)})),
			&Copyright{Credit: "Kept"}},
		{"IPTC resource size past the end is cut to the data",
			app13Segment(irbBlock(resource{id: 0x0404, data: iimStream(ds(2, 116, "Partial")), size: u32(0xFFFFFFFF)})),
			&Copyright{Notice: "Partial"}},
		{"other resource size past the end",
			app13Segment(irbBlock(resource{id: 0x03ED, data: []byte{1, 2}, size: u32(0xFFFFFFF0)},
				resource{id: 0x0404, data: iimStream(ds(2, 116, "Unreachable"))})),
			nil},
		{"name length past the end",
			app13Segment([]byte("8BIM\x04\x04\xFF\x00\x00")), nil},
		{"bad signature",
			app13Segment(append([]byte("XXXX"), irbBlock(resource{id: 0x0404, data: iimStream(ds(2, 116, "No"))})...)),
			nil},
		{"huge number of By-lines",
			iptcSegment(repeatDataset(ds(2, 80, "b"), 10000)...),
			&Copyright{Creators: repeatString("b", MaxListItems)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ExtractJPEG(jpegWith(baseJPEG(), tc.seg)))
		})
	}
}

func u64(v uint64) *uint64 { return &v }

func repeatDataset(d dataset, n int) []dataset {
	out := make([]dataset, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func repeatString(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestHostileRandom(t *testing.T) {
	// Random bytes behind each metadata header: no panic, canonical result.
	seed := uint64(1)
	next := func() byte {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return byte(seed)
	}
	headers := []string{"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08", "Exif\x00\x00II\x2a\x00\x08\x00\x00\x00",
		"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><rdf:RDF><rdf:Description>", "Photoshop 3.0\x008BIM\x04\x04\x00\x00"}
	for i := range 2000 {
		h := headers[i%len(headers)]
		p := []byte(h)
		for range 1 + i%300 {
			p = append(p, next())
		}
		marker := byte(0xE1)
		if strings.HasPrefix(h, "Photoshop") {
			marker = 0xED
		}
		assertCanonical(t, ExtractJPEG(jpegWith(baseJPEG(), seg(marker, p))))
	}
}

func TestHostileXMPRepeatedProperties(t *testing.T) {
	// A long first value followed by thousands of repeats of the property
	// (or of array items) must not be re-examined for each repeat.
	long := strings.Repeat("r", 8000)
	for name, content := range map[string]string{
		"repeated property": "<rdf:Description><dc:rights>" + long + "</dc:rights>" +
			strings.Repeat("<dc:rights/>", 4500) + "</rdf:Description>",
		"repeated items": "<rdf:Description><dc:rights><rdf:Alt><rdf:li>" + long + "</rdf:li>" +
			strings.Repeat("<rdf:li/>", 5500) + "</rdf:Alt></dc:rights></rdf:Description>",
	} {
		t.Run(name, func(t *testing.T) {
			packet := xmpDoc(content)
			require.Less(t, len(packet), 65000)
			in := jpegWith(baseJPEG(), xmpSegment(packet))
			var c *Copyright
			n := allocated(func() { c = ExtractJPEG(in) })
			t.Logf("%d bytes of packet: %d bytes allocated (%.1f per byte)", len(packet), n, float64(n)/float64(len(packet)))
			// Cleaning the first value again for each of the thousands of
			// repeats would allocate at least 2 KB per repeat: about 10 MB,
			// 170 bytes per byte of packet.
			assert.Less(t, n, uint64(xmlBytesPerByte*len(packet)), "the first value is not re-examined for each repeat")
			require.NotNil(t, c)
			assert.Len(t, c.Notice, MaxValueBytes)
		})
	}
}
