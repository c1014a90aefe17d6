package metadata

// Test helpers that build JPEG metadata segments independently of the
// package's own writers (little- or big-endian EXIF with any layout, XMP in
// any form, IPTC-IIM with extended lengths, Photoshop resource blocks with
// names and odd sizes), so that the readers are exercised on input the
// writers never produce.

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
	"testing"
)

// tinyJPEG returns a w×h gradient encoded by image/jpeg: SOI, DQT, SOF0,
// DHT, SOS, EOI, no metadata.
func tinyJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	b, err := encodeTiny(w, h)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func encodeTiny(w, h int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / max(1, w-1)), uint8(y * 255 / max(1, h-1)), 128, 255})
		}
	}
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75})
	return buf.Bytes(), err
}

// baseJPEG is an 8×8 image/jpeg stream shared by tests and the fuzz target.
var baseJPEG = sync.OnceValue(func() []byte {
	b, err := encodeTiny(8, 8)
	if err != nil {
		panic(err)
	}
	return b
})

// seg returns a marker segment. The length is computed from the payload
// unless length is given.
func seg(marker byte, payload []byte, length ...int) []byte {
	n := len(payload) + 2
	if len(length) > 0 {
		n = length[0]
	}
	b := []byte{0xFF, marker, byte(n >> 8), byte(n)}
	return append(b, payload...)
}

// jpegWith returns base with the given segments inserted after SOI.
func jpegWith(base []byte, segs ...[]byte) []byte {
	out := append([]byte{}, base[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, base[2:]...)
}

// jfifAPP0 is a JFIF 1.01 APP0 segment.
func jfifAPP0() []byte {
	return seg(0xE0, []byte{'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0})
}

// comSegment is a COM segment.
func comSegment(s string) []byte { return seg(0xFE, []byte(s)) }

// ifdEntry is one IFD0 entry for exifPayload. The value goes inline when
// it has at most 4 bytes, else in the data area, unless offset is set, in
// which case offset is written as is and value is not stored.
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte
	offset   *uint32
}

func asciiEntry(tag uint16, s string) ifdEntry {
	return ifdEntry{tag: tag, typ: 2, count: uint32(len(s) + 1), value: append([]byte(s), 0)}
}

func rawEntry(tag uint16, v []byte) ifdEntry {
	return ifdEntry{tag: tag, typ: 2, count: uint32(len(v)), value: v}
}

func u32(v uint32) *uint32 { return &v }

// tiffIFD0 returns a TIFF structure with IFD0 at offset 8 holding entries,
// the next-IFD offset next, and the out-of-line values after the IFD.
func tiffIFD0(bo binary.AppendByteOrder, next uint32, entries ...ifdEntry) []byte {
	var b []byte
	if bo == binary.LittleEndian {
		b = append(b, 'I', 'I')
	} else {
		b = append(b, 'M', 'M')
	}
	b = bo.AppendUint16(b, 42)
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, uint16(len(entries)))
	data := 8 + 2 + 12*len(entries) + 4
	var area []byte
	for _, e := range entries {
		b = bo.AppendUint16(b, e.tag)
		b = bo.AppendUint16(b, e.typ)
		b = bo.AppendUint32(b, e.count)
		switch {
		case e.offset != nil:
			b = bo.AppendUint32(b, *e.offset)
		case len(e.value) <= 4:
			var v [4]byte
			copy(v[:], e.value)
			b = append(b, v[:]...)
		default:
			b = bo.AppendUint32(b, uint32(data+len(area)))
			area = append(area, e.value...)
			if len(area)&1 == 1 {
				area = append(area, 0)
			}
		}
	}
	b = bo.AppendUint32(b, next)
	return append(b, area...)
}

// exifSegment returns an APP1 Exif segment around a TIFF structure.
func exifSegment(tiff []byte) []byte {
	return seg(0xE1, append([]byte("Exif\x00\x00"), tiff...))
}

// xmpSegment returns an APP1 XMP segment holding packet.
func xmpSegment(packet string) []byte {
	return seg(0xE1, append([]byte("http://ns.adobe.com/xap/1.0/\x00"), packet...))
}

// xmpDoc wraps rdf:RDF content in an x:xmpmeta packet that declares the
// usual namespaces on rdf:RDF.
func xmpDoc(content string) string {
	return `<?xpacket begin='` + "\uFEFF" + `' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'
 xmlns:dc='http://purl.org/dc/elements/1.1/'
 xmlns:photoshop='http://ns.adobe.com/photoshop/1.0/'
 xmlns:xmpRights='http://ns.adobe.com/xap/1.0/rights/'
 xmlns:plus='http://ns.useplus.org/ldf/xmp/1.0/'
 xmlns:xmpMM='http://ns.adobe.com/xap/1.0/mm/'>
` + content + `
</rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>`
}

// dataset is one IPTC-IIM dataset. When extLen > 0 the length is written in
// extended form with extLen bytes; length, when set, overrides the length
// written.
type dataset struct {
	rec, num byte
	value    []byte
	extLen   int
	length   *uint64
}

func ds(rec, num byte, v string) dataset { return dataset{rec: rec, num: num, value: []byte(v)} }

func iimStream(sets ...dataset) []byte {
	var b []byte
	for _, d := range sets {
		b = append(b, 0x1C, d.rec, d.num)
		n := uint64(len(d.value))
		if d.length != nil {
			n = *d.length
		}
		if d.extLen > 0 {
			b = binary.BigEndian.AppendUint16(b, 0x8000|uint16(d.extLen))
			for i := d.extLen - 1; i >= 0; i-- {
				b = append(b, byte(n>>(8*i)))
			}
		} else {
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		}
		b = append(b, d.value...)
	}
	return b
}

// resource is one Photoshop image resource; size, when set, overrides the
// size written.
type resource struct {
	sig  string
	id   uint16
	name string
	data []byte
	size *uint32
}

func irbBlock(res ...resource) []byte {
	var b []byte
	for _, r := range res {
		sig := r.sig
		if sig == "" {
			sig = "8BIM"
		}
		b = append(b, sig...)
		b = binary.BigEndian.AppendUint16(b, r.id)
		b = append(b, byte(len(r.name)))
		b = append(b, r.name...)
		if (1+len(r.name))&1 == 1 {
			b = append(b, 0)
		}
		size := uint32(len(r.data))
		if r.size != nil {
			size = *r.size
		}
		b = binary.BigEndian.AppendUint32(b, size)
		b = append(b, r.data...)
		if len(r.data)&1 == 1 {
			b = append(b, 0)
		}
	}
	return b
}

// app13Segment returns an APP13 Photoshop 3.0 segment around a resource
// block.
func app13Segment(irb []byte) []byte {
	return seg(0xED, append([]byte("Photoshop 3.0\x00"), irb...))
}

// iptcSegment returns an APP13 segment holding one IPTC-NAA resource.
func iptcSegment(sets ...dataset) []byte {
	return app13Segment(irbBlock(resource{id: 0x0404, data: iimStream(sets...)}))
}

// segments lists the marker segments of a JPEG header up to SOS.
type segInfo struct {
	marker  byte
	offset  int // of the marker
	payload []byte
}

func listSegments(tb testing.TB, data []byte) []segInfo {
	tb.Helper()
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		tb.Fatalf("no SOI")
	}
	var out []segInfo
	for p := 2; p+4 <= len(data); {
		if data[p] != 0xFF {
			tb.Fatalf("no marker at %d", p)
		}
		m := data[p+1]
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if p+2+n > len(data) {
			tb.Fatalf("segment %#x at %d runs past the end", m, p)
		}
		out = append(out, segInfo{m, p, data[p+4 : p+2+n]})
		if m == 0xDA {
			break
		}
		p += 2 + n
	}
	return out
}
