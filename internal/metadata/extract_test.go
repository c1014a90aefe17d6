package metadata

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtractEXIF(t *testing.T) {
	for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			tiff := tiffIFD0(bo, 0,
				ifdEntry{tag: 0x010F, typ: 2, count: 6, value: []byte("Canon\x00")}, // Make: ignored
				asciiEntry(0x013B, "Jane Doe; John Roe"),
				ifdEntry{tag: 0x0132, typ: 2, count: 20, value: []byte("2024:01:02 03:04:05\x00")},
				rawEntry(0x8298, []byte("\xC2\xA9 2024 Jane Doe\x00Ed Itor\x00")),
			)
			c := ExtractJPEG(jpegWith(baseJPEG(), exifSegment(tiff)))
			assert.Equal(t, &Copyright{
				Notice:   "© 2024 Jane Doe",
				Creators: []string{"Jane Doe", "John Roe"},
			}, c)
		})
	}

	tests := []struct {
		name    string
		entries []ifdEntry
		want    *Copyright
	}{
		{"inline value", []ifdEntry{asciiEntry(0x013B, "Bob")}, &Copyright{Creators: []string{"Bob"}}},
		{"latin-1 bytes", []ifdEntry{rawEntry(0x8298, []byte("\xA9 2020 J\xFCrgen M\xFCller\x00"))},
			&Copyright{Notice: "© 2020 Jürgen Müller"}},
		{"windows-1252 bytes", []ifdEntry{rawEntry(0x8298, []byte("\x93Quoted\x94 \x80\x00"))},
			&Copyright{Notice: "“Quoted” €"}},
		{"editor part only", []ifdEntry{rawEntry(0x8298, []byte(" \x00Ed Itor\x00"))},
			&Copyright{Notice: "Ed Itor"}},
		{"no NUL terminator", []ifdEntry{rawEntry(0x8298, []byte("Plain"))}, &Copyright{Notice: "Plain"}},
		{"EXIF 3.0 UTF-8 type", []ifdEntry{{tag: 0x013B, typ: 129, count: 4, value: []byte("山\x00")}},
			&Copyright{Creators: []string{"山"}}},
		{"UNDEFINED type", []ifdEntry{{tag: 0x8298, typ: 7, count: 5, value: []byte("abcd\x00")}},
			&Copyright{Notice: "abcd"}},
		{"SHORT type ignored", []ifdEntry{{tag: 0x8298, typ: 3, count: 1, value: []byte{0, 1}}}, nil},
		{"blank values", []ifdEntry{asciiEntry(0x013B, " ; ;"), asciiEntry(0x8298, "   ")}, nil},
		{"first Artist wins", []ifdEntry{asciiEntry(0x013B, "One"), asciiEntry(0x013B, "Two")},
			&Copyright{Creators: []string{"One"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ExtractJPEG(jpegWith(baseJPEG(), exifSegment(tiffIFD0(binary.BigEndian, 0, tc.entries...))))
			assert.Equal(t, tc.want, c)
		})
	}
}

func TestExtractXMP(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    *Copyright
	}{
		{
			name: "exiftool layout",
			content: `<rdf:Description rdf:about=''>
  <dc:creator><rdf:Seq><rdf:li>José Müller</rdf:li><rdf:li>山田太郎</rdf:li></rdf:Seq></dc:creator>
  <dc:rights><rdf:Alt><rdf:li xml:lang='x-default'>© 2024 José</rdf:li></rdf:Alt></dc:rights>
 </rdf:Description>
 <rdf:Description rdf:about=''><photoshop:Credit>Agency</photoshop:Credit></rdf:Description>
 <rdf:Description rdf:about=''>
  <plus:Licensor><rdf:Seq>
   <rdf:li rdf:parseType='Resource'><plus:LicensorName>Lic &amp; Co</plus:LicensorName><plus:LicensorURL>https://l.example</plus:LicensorURL></rdf:li>
  </rdf:Seq></plus:Licensor>
 </rdf:Description>
 <rdf:Description rdf:about=''><xmpRights:WebStatement>https://e.example/?a=1&amp;b=2</xmpRights:WebStatement></rdf:Description>`,
			want: &Copyright{
				Notice:       "© 2024 José",
				Creators:     []string{"José Müller", "山田太郎"},
				Credit:       "Agency",
				WebStatement: "https://e.example/?a=1&b=2",
				Licensors:    []string{"Lic & Co"},
			},
		},
		{
			name:    "attribute form",
			content: `<rdf:Description rdf:about='' photoshop:Credit='Attr &quot;Credit&quot;' xmpRights:WebStatement='https://w.example/'/>`,
			want:    &Copyright{Credit: `Attr "Credit"`, WebStatement: "https://w.example/"},
		},
		{
			name: "x-default preferred over first language",
			content: `<rdf:Description><dc:rights><rdf:Alt>
   <rdf:li xml:lang='de'>Alle Rechte</rdf:li><rdf:li xml:lang='X-Default'>All rights</rdf:li>
  </rdf:Alt></dc:rights></rdf:Description>`,
			want: &Copyright{Notice: "All rights"},
		},
		{
			name: "first non-empty language without x-default",
			content: `<rdf:Description><dc:rights><rdf:Alt>
   <rdf:li xml:lang='fr'> </rdf:li><rdf:li xml:lang='de'>Alle Rechte</rdf:li>
  </rdf:Alt></dc:rights></rdf:Description>`,
			want: &Copyright{Notice: "Alle Rechte"},
		},
		{
			name:    "plain text where an array belongs",
			content: `<rdf:Description><dc:rights>Plain</dc:rights><dc:creator>Solo</dc:creator></rdf:Description>`,
			want:    &Copyright{Notice: "Plain", Creators: []string{"Solo"}},
		},
		{
			name:    "URI form of WebStatement",
			content: `<rdf:Description><xmpRights:WebStatement rdf:resource='https://r.example/terms'/></rdf:Description>`,
			want:    &Copyright{WebStatement: "https://r.example/terms"},
		},
		{
			name: "licensor structure forms",
			content: `<rdf:Description><plus:Licensor><rdf:Bag>
   <rdf:li><rdf:Description plus:LicensorName='Nested Attr'/></rdf:li>
   <rdf:li><rdf:Description><plus:LicensorName>Nested Element</plus:LicensorName></rdf:Description></rdf:li>
   <rdf:li plus:LicensorName='Li Attr'/>
   <rdf:li rdf:parseType='Resource'><plus:LicensorURL>https://no-name.example</plus:LicensorURL></rdf:li>
  </rdf:Bag></plus:Licensor></rdf:Description>`,
			want: &Copyright{Licensors: []string{"Nested Attr", "Nested Element", "Li Attr"}},
		},
		{
			name:    "lone licensor structure",
			content: `<rdf:Description><plus:Licensor rdf:parseType='Resource'><plus:LicensorName>Lone</plus:LicensorName></plus:Licensor></rdf:Description>`,
			want:    &Copyright{Licensors: []string{"Lone"}},
		},
		{
			name: "nested resources are not the image's",
			content: `<rdf:Description>
  <xmpMM:Pantry><rdf:Bag><rdf:li><rdf:Description>
   <dc:rights><rdf:Alt><rdf:li xml:lang='x-default'>Placed document</rdf:li></rdf:Alt></dc:rights>
  </rdf:Description></rdf:li></rdf:Bag></xmpMM:Pantry>
  <dc:creator><rdf:Seq><rdf:li>Real Creator</rdf:li></rdf:Seq></dc:creator>
 </rdf:Description>`,
			want: &Copyright{Creators: []string{"Real Creator"}},
		},
		{
			name:    "empty first property falls through to a later description",
			content: `<rdf:Description><photoshop:Credit> </photoshop:Credit></rdf:Description><rdf:Description photoshop:Credit='Later'/>`,
			want:    &Copyright{Credit: "Later"},
		},
		{
			name:    "entities, character references and CDATA",
			content: `<rdf:Description><photoshop:Credit>A &lt;b&gt; &#169; &#x4E2D; <![CDATA[<raw> & ]]>end</photoshop:Credit></rdf:Description>`,
			want:    &Copyright{Credit: "A <b> © 中 <raw> & end"},
		},
		{
			name:    "whitespace and control characters cleaned",
			content: "<rdf:Description><photoshop:Credit>\n  Line one\r\nLine two&#x9;tab  \n</photoshop:Credit></rdf:Description>",
			want:    &Copyright{Credit: "Line one\nLine two\ttab"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ExtractJPEG(jpegWith(baseJPEG(), xmpSegment(xmpDoc(tc.content))))
			assert.Equal(t, tc.want, c)
		})
	}
}

func TestExtractXMPLenient(t *testing.T) {
	tests := []struct {
		name   string
		packet string
		want   *Copyright
	}{
		{
			name:   "undeclared prefixes",
			packet: `<x:xmpmeta><rdf:RDF><rdf:Description><dc:rights><rdf:Alt><rdf:li xml:lang="x-default">Undeclared</rdf:li></rdf:Alt></dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>`,
			want:   &Copyright{Notice: "Undeclared"},
		},
		{
			name: "other prefixes for the right namespaces",
			packet: `<RDF xmlns="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:d="http://purl.org/dc/elements/1.1/">
<Description><d:creator><Bag><li>Default NS</li></Bag></d:creator></Description></RDF>`,
			want: &Copyright{Creators: []string{"Default NS"}},
		},
		{
			name:   "wrong namespace behind a familiar prefix",
			packet: `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dc="urn:not-dublin-core"><rdf:Description><dc:rights>No</dc:rights></rdf:Description></rdf:RDF>`,
			want:   nil,
		},
		{
			name:   "byte order mark and XML declaration",
			packet: "\uFEFF<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + xmpDoc(`<rdf:Description photoshop:Credit="BOM"/>`),
			want:   &Copyright{Credit: "BOM"},
		},
		{
			name:   "Latin-1 declared",
			packet: "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + xmpDoc("<rdf:Description photoshop:Credit=\"M\xFCller\"/>"),
			want:   &Copyright{Credit: "Müller"},
		},
		{
			name:   "unclosed elements keep what was read",
			packet: strings.Split(xmpDoc(`<rdf:Description photoshop:Credit="Kept"><dc:rights><rdf:Alt><rdf:li>Cut`), "Cut")[0],
			want:   &Copyright{Credit: "Kept"},
		},
		{
			name:   "mismatched end tags",
			packet: xmpDoc(`<rdf:Description><photoshop:Credit>Mismatch</dc:rights></rdf:Description>`),
			want:   &Copyright{Credit: "Mismatch"},
		},
		{
			name:   "no rdf:RDF",
			packet: `<x:xmpmeta xmlns:x="adobe:ns:meta/"><photoshop:Credit>Nowhere</photoshop:Credit></x:xmpmeta>`,
			want:   nil,
		},
		{
			name:   "not XML at all",
			packet: "\x00\x01garbage<<<>>>&&&",
			want:   nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ExtractJPEG(jpegWith(baseJPEG(), xmpSegment(tc.packet)))
			assert.Equal(t, tc.want, c)
		})
	}
}

func TestExtractIPTC(t *testing.T) {
	utf8CS := ds(1, 90, "\x1B%G")
	tests := []struct {
		name string
		seg  []byte
		want *Copyright
	}{
		{
			name: "UTF-8 declared",
			seg: iptcSegment(ds(1, 0, "\x00\x04"), utf8CS, ds(2, 0, "\x00\x04"),
				ds(2, 80, "José Müller"), ds(2, 80, "山田太郎"), ds(2, 105, "Headline"),
				ds(2, 110, "Crédit"), ds(2, 116, "© 2024 José")),
			want: &Copyright{Notice: "© 2024 José", Creators: []string{"José Müller", "山田太郎"}, Credit: "Crédit"},
		},
		{
			name: "no 1:90 means Latin-1",
			seg:  iptcSegment(ds(2, 80, "J\xFCrgen"), ds(2, 116, "\xA9 Caf\xE9")),
			want: &Copyright{Notice: "© Café", Creators: []string{"Jürgen"}},
		},
		{
			name: "no 1:90 and UTF-8 bytes are read as Latin-1",
			seg:  iptcSegment(ds(2, 110, "Ã©")),
			want: &Copyright{Credit: "ÃƒÂ©"}, // C3 83 C2 A9 in Windows-1252
		},
		{
			name: "other character set means Latin-1",
			seg:  iptcSegment(ds(1, 90, "\x1B-A"), ds(2, 110, "Cr\xE9dit")),
			want: &Copyright{Credit: "Crédit"},
		},
		{
			name: "extended length dataset",
			seg: iptcSegment(utf8CS,
				dataset{rec: 2, num: 116, value: []byte("Extended ©"), extLen: 4},
				ds(2, 110, "After")),
			want: &Copyright{Notice: "Extended ©", Credit: "After"},
		},
		{
			name: "first Credit wins",
			seg:  iptcSegment(ds(2, 110, "First"), ds(2, 110, "Second")),
			want: &Copyright{Credit: "First"},
		},
		{
			name: "other resources before, with names and odd sizes",
			seg: app13Segment(irbBlock(
				resource{id: 0x03ED, name: "res", data: []byte{1, 2, 3}},
				resource{sig: "PHUT", id: 0x0400, name: "ab", data: []byte{9}},
				resource{id: 0x0404, name: "IPTC", data: iimStream(ds(2, 80, "After others"))},
			)),
			want: &Copyright{Creators: []string{"After others"}},
		},
		{
			name: "trailing padding after the datasets",
			seg: app13Segment(irbBlock(resource{id: 0x0404,
				data: append(iimStream(ds(2, 116, "Padded")), 0, 0, 0)})),
			want: &Copyright{Notice: "Padded"},
		},
		{
			name: "IPTC in another resource ID is ignored",
			seg:  app13Segment(irbBlock(resource{id: 0x0405, data: iimStream(ds(2, 116, "No"))})),
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ExtractJPEG(jpegWith(baseJPEG(), tc.seg)))
		})
	}
}

func TestExtractIPTCSplitAcrossAPP13(t *testing.T) {
	// Photoshop continues a resource block that does not fit one segment
	// in the next APP13 segment.
	block := irbBlock(
		resource{id: 0x03ED, data: make([]byte, 100)},
		resource{id: 0x0404, data: iimStream(ds(2, 80, "Split Creator"), ds(2, 116, "Split Notice"))},
	)
	cut := len(block) - 10
	c := ExtractJPEG(jpegWith(baseJPEG(),
		app13Segment(block[:cut]),
		comSegment("between"),
		seg(0xED, append([]byte("Photoshop 3.0\x00"), block[cut:]...)),
	))
	assert.Equal(t, &Copyright{Notice: "Split Notice", Creators: []string{"Split Creator"}}, c)
}

func TestExtractPreference(t *testing.T) {
	exif := exifSegment(tiffIFD0(binary.LittleEndian, 0,
		asciiEntry(0x013B, "EXIF Artist"), asciiEntry(0x8298, "EXIF Copyright")))
	iptc := iptcSegment(ds(2, 80, "IPTC By-line"), ds(2, 110, "IPTC Credit"), ds(2, 116, "IPTC Notice"))
	xmp := xmpSegment(xmpDoc(`<rdf:Description>
  <dc:rights><rdf:Alt><rdf:li xml:lang='x-default'>XMP Rights</rdf:li></rdf:Alt></dc:rights>
  <xmpRights:WebStatement>https://xmp.example/</xmpRights:WebStatement>
 </rdf:Description>`))

	t.Run("all three", func(t *testing.T) {
		c := ExtractJPEG(jpegWith(baseJPEG(), exif, iptc, xmp))
		assert.Equal(t, &Copyright{
			Notice:       "XMP Rights",             // XMP
			Creators:     []string{"IPTC By-line"}, // IPTC, as XMP has none
			Credit:       "IPTC Credit",
			WebStatement: "https://xmp.example/",
		}, c)
	})
	t.Run("EXIF fills what the others lack", func(t *testing.T) {
		c := ExtractJPEG(jpegWith(baseJPEG(), exif, iptcSegment(ds(2, 110, "Only Credit"))))
		assert.Equal(t, &Copyright{
			Notice:   "EXIF Copyright",
			Creators: []string{"EXIF Artist"},
			Credit:   "Only Credit",
		}, c)
	})
	t.Run("an empty XMP value does not hide IPTC", func(t *testing.T) {
		x := xmpSegment(xmpDoc(`<rdf:Description photoshop:Credit=" "><dc:creator><rdf:Seq><rdf:li/></rdf:Seq></dc:creator></rdf:Description>`))
		c := ExtractJPEG(jpegWith(baseJPEG(), x, iptc))
		assert.Equal(t, &Copyright{
			Notice: "IPTC Notice", Creators: []string{"IPTC By-line"}, Credit: "IPTC Credit",
		}, c)
	})
	t.Run("first segment of each kind", func(t *testing.T) {
		second := exifSegment(tiffIFD0(binary.BigEndian, 0, asciiEntry(0x8298, "Second EXIF")))
		c := ExtractJPEG(jpegWith(baseJPEG(), exif, second))
		assert.Equal(t, "EXIF Copyright", c.Notice)
	})
}

func TestExtractNothing(t *testing.T) {
	gps := exifSegment(tiffIFD0(binary.BigEndian, 0,
		ifdEntry{tag: 0x010F, typ: 2, count: 6, value: []byte("Canon\x00")},
		ifdEntry{tag: 0x8825, typ: 4, count: 1, value: []byte{0, 0, 0, 0}}))
	for name, data := range map[string][]byte{
		"nil":            nil,
		"PNG":            []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"),
		"bare JPEG":      baseJPEG(),
		"JFIF only":      jpegWith(baseJPEG(), jfifAPP0()),
		"other metadata": jpegWith(baseJPEG(), jfifAPP0(), gps, comSegment("a comment"), xmpSegment(xmpDoc(`<rdf:Description><dc:description>d</dc:description></rdf:Description>`))),
		"SOI only":       {0xFF, 0xD8},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Nil(t, ExtractJPEG(data))
		})
	}
}

func TestExtractStopsAtSOS(t *testing.T) {
	base := baseJPEG()
	segs := listSegments(t, base)
	sos := segs[len(segs)-1]
	require.Equal(t, byte(0xDA), sos.marker)
	// Put a copyright segment right after the SOS header, inside the scan.
	after := sos.offset + 4 + len(sos.payload)
	data := append(append(append([]byte{}, base[:after]...), iptcSegment(ds(2, 116, "In scan"))...), base[after:]...)
	assert.Nil(t, ExtractJPEG(data))
}

func TestExtractFillBytesAndStandaloneMarkers(t *testing.T) {
	base := baseJPEG()
	data := append([]byte{0xFF, 0xD8, 0xFF, 0xFF, 0xFF, 0x01}, iptcSegment(ds(2, 116, "After fill"))...)
	data = append(data, base[2:]...)
	assert.Equal(t, &Copyright{Notice: "After fill"}, ExtractJPEG(data))
}
