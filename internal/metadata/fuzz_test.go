package metadata

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// FuzzExtractJPEG checks that ExtractJPEG never panics, returns nil or a
// normalised value, and that whatever it extracts survives InsertJPEG and a
// second extraction unchanged.
func FuzzExtractJPEG(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "copyright.jpg")); err == nil {
		f.Add(b)
	}
	base := baseJPEG()
	for _, c := range roundTripCases {
		if out, err := InsertJPEG(base, c); err == nil {
			f.Add(out)
		}
	}
	f.Add(jpegWith(base, exifSegment(tiffIFD0(binary.LittleEndian, 8,
		asciiEntry(0x013B, "A; B"), rawEntry(0x8298, []byte("\xA9 x\x00ed\x00"))))))
	f.Add(jpegWith(base, xmpSegment(billionLaughs()+xmpDoc(`<rdf:Description photoshop:Credit="c">
  <dc:rights><rdf:Alt><rdf:li xml:lang='x-default'>&lol9; &amp;</rdf:li></rdf:Alt></dc:rights>
  <plus:Licensor><rdf:Bag><rdf:li plus:LicensorName='l'/></rdf:Bag></plus:Licensor></rdf:Description>`))))
	f.Add(jpegWith(base, iptcSegment(ds(1, 90, "\x1B%G"), ds(2, 80, "by"),
		dataset{rec: 2, num: 116, value: []byte("n"), extLen: 4}, ds(2, 110, "\xFF\xFE"))))
	f.Add(jpegWith(base, app13Segment(irbBlock(resource{id: 0x0404, name: "x",
		data: iimStream(ds(2, 116, "n")), size: u32(0x7FFFFFFF)}))))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x02})

	f.Fuzz(func(t *testing.T, data []byte) {
		c := ExtractJPEG(data)
		if c == nil {
			return
		}
		if n := normalize(c); !equalCopyright(n, c) {
			t.Fatalf("not normalised:\n%#v\n%#v", c, n)
		}
		if xmpSize(c) > maxXMPPacket {
			t.Fatalf("XMP packet of %d bytes", xmpSize(c))
		}
		out, err := InsertJPEG(base, c)
		if err != nil {
			t.Fatal(err)
		}
		if c2 := ExtractJPEG(out); !equalCopyright(c, c2) {
			t.Fatalf("round trip:\n%#v\n%#v", c, c2)
		}
	})
}

func equalCopyright(a, b *Copyright) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Notice == b.Notice && a.Credit == b.Credit && a.WebStatement == b.WebStatement &&
		equalStrings(a.Creators, b.Creators) && equalStrings(a.Licensors, b.Licensors)
}

func equalStrings(a, b []string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
