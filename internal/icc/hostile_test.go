package icc

import (
	"encoding/binary"
	"errors"
	"image"
	"runtime"
	"testing"
)

// put32 returns a copy of b with a big-endian uint32 written at off.
func put32(b []byte, off int, v uint32) []byte {
	c := append([]byte(nil), b...)
	binary.BigEndian.PutUint32(c[off:], v)
	return c
}

// tagOffset returns the position of the tag-table entry for sig in a
// profile built by buildProfile.
func tagEntryPos(b []byte, sig string) int {
	n := int(binary.BigEndian.Uint32(b[headerSize:]))
	for i := 0; i < n; i++ {
		o := headerSize + 4 + 12*i
		if string(b[o:o+4]) == sig {
			return o
		}
	}
	panic("no tag " + sig)
}

func tagData(b []byte, sig string) int {
	return int(binary.BigEndian.Uint32(b[tagEntryPos(b, sig)+4:]))
}

// hostileProfiles is a table of malformed profiles and the error each must
// give.
func hostileProfiles() []struct {
	name string
	data []byte
	want error
} {
	good := adobeMatrixProfile()
	lut := lutProfiles()["mft2 XYZ"]
	mab := lutProfiles()["mAB XYZ A-CLUT-B"]
	rtrc := tagData(good, "rTRC")
	onlyRGB := func(extra ...testTag) []byte {
		tags := []testTag{
			{"rXYZ", xyzElem(0.6, 0.3, 0.02)}, {"gXYZ", xyzElem(0.2, 0.6, 0.06)}, {"bXYZ", xyzElem(0.15, 0.06, 0.75)},
			{"gTRC", curvGamma(2.2)}, {"bTRC", curvGamma(2.2)},
		}
		return buildProfile(profileSpec{0x02100000, "mntr", "RGB ", "XYZ "}, append(tags, extra...))
	}
	var hugeTable []byte
	{
		// A profile claiming a million tags.
		hugeTable = put32(good, headerSize, 1_000_000)
	}
	withLUT := func(a2b []byte) []byte {
		return buildProfile(profileSpec{0x02100000, "scnr", "RGB ", "XYZ "}, []testTag{{"A2B0", a2b}})
	}
	mft2 := lut[tagData(lut, "A2B0"):]
	mabBody := mab[tagData(mab, "A2B0"):]
	return []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrInvalid},
		{"short", good[:100], ErrInvalid},
		{"header only", good[:headerSize+4], ErrInvalid},
		{"truncated in tags", good[:len(good)-40], ErrInvalid},
		{"truncated in table", good[:headerSize+20], ErrInvalid},
		{"declared size tiny", put32(good, 0, 10), ErrInvalid},
		{"no acsp", put32(good, 36, 0), ErrInvalid},
		{"a million tags", hugeTable, ErrInvalid},
		{"tag count 2^32-1", put32(good, headerSize, 0xFFFFFFFF), ErrInvalid},
		{"tag offset past end", put32(good, tagEntryPos(good, "rTRC")+4, uint32(len(good))), ErrInvalid},
		{"tag offset wraps", put32(put32(good, tagEntryPos(good, "rTRC")+4, 0xFFFFFFF0), tagEntryPos(good, "rTRC")+8, 0x20), ErrInvalid},
		{"tag size huge", put32(good, tagEntryPos(good, "rTRC")+8, 0x7FFFFFFF), ErrInvalid},
		{"tag in header", put32(good, tagEntryPos(good, "rTRC")+4, 16), ErrInvalid},
		{"huge curv count", put32(good, rtrc+8, 0xFFFFFFFF), ErrInvalid},
		{"curv count past tag", put32(good, rtrc+8, 1000), ErrInvalid},
		{"curv gamma zero", onlyRGB(testTag{"rTRC", curvGamma(0)}), ErrInvalid},
		{"para negative gamma", onlyRGB(testTag{"rTRC", paraElem(0, -2.2)}), ErrInvalid},
		{"para gamma 0x80000000", onlyRGB(testTag{"rTRC", put32(paraElem(0, 1), 12, 0x80000000)}), ErrInvalid},
		{"para huge gamma", onlyRGB(testTag{"rTRC", put32(paraElem(0, 1), 12, 0x7FFFFFFF)}), ErrInvalid},
		{"para type 5", onlyRGB(testTag{"rTRC", paraElem(5, 1, 1, 1, 1, 1, 1, 1)}), ErrInvalid},
		{"para type 1 a=0", onlyRGB(testTag{"rTRC", paraElem(1, 2, 0, 0.5)}), ErrInvalid},
		{"para truncated", onlyRGB(testTag{"rTRC", paraElem(4, 2.2)}), ErrInvalid},
		{"missing rTRC", onlyRGB(), ErrInvalid},
		{"rTRC is XYZ", onlyRGB(testTag{"rTRC", xyzElem(1, 1, 1)}), ErrInvalid},
		{"rXYZ is curv", put32(good, tagData(good, "rXYZ"), typeCurv), ErrInvalid},
		{"colourant -32768", put32(good, tagData(good, "rXYZ")+8, 0x80000000), ErrInvalid},
		{"singular colourants", matrixTRCProfile(0x02100000, [3][3]float64{{0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}, {0.1, 0.1, 0.1}},
			[3][]byte{curvGamma(1), curvGamma(1), curvGamma(1)}), ErrInvalid},
		{"gray without kTRC", buildProfile(profileSpec{0x02100000, "mntr", "GRAY", "XYZ "}, nil), ErrInvalid},
		{"mft2 grid 255 in a small tag", withLUT(append(append([]byte(nil), mft2[:10]...), append([]byte{255}, mft2[11:]...)...)), ErrInvalid},
		{"mft2 grid 1", withLUT(append(append([]byte(nil), mft2[:10]...), append([]byte{1}, mft2[11:]...)...)), ErrInvalid},
		{"mft2 table 65535 entries", withLUT(put32(mft2, 48, 0xFFFFFFFF)), ErrInvalid},
		{"mft2 4 inputs", withLUT(append(append([]byte(nil), mft2[:8]...), append([]byte{4}, mft2[9:]...)...)), ErrInvalid},
		{"mft2 truncated", withLUT(mft2[:60]), ErrInvalid},
		{"mAB offset past end", withLUT(put32(mabBody, 24, 0xFFFFFF00)), ErrInvalid},
		{"mAB no B curves", withLUT(put32(mabBody, 12, 0)), ErrInvalid},
		{"mAB CLUT precision 3", withLUT(func() []byte {
			b := append([]byte(nil), mabBody...)
			b[int(binary.BigEndian.Uint32(b[24:]))+16] = 3
			return b
		}()), ErrInvalid},
		{"mAB CLUT grid 255", withLUT(func() []byte {
			b := append([]byte(nil), mabBody...)
			o := int(binary.BigEndian.Uint32(b[24:]))
			b[o], b[o+1], b[o+2] = 255, 255, 255
			return b
		}()), ErrInvalid},
		{"mAB curve past end", withLUT(put32(mabBody, 12, uint32(len(mabBody)-4))), ErrInvalid},
		{"unknown LUT type", withLUT(append(elem("mBA "), make([]byte, 40)...)), ErrUnsupported},
		{"CMYK", buildProfile(profileSpec{0x02100000, "prtr", "CMYK", "Lab "}, nil), ErrUnsupported},
		{"version 5", put32(good, 8, 0x05000000), ErrUnsupported},
	}
}

func TestHostileProfiles(t *testing.T) {
	for _, c := range hostileProfiles() {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.data)
			if !errors.Is(err, c.want) {
				t.Fatalf("Parse: err = %v, want %v (profile %v)", err, c.want, p)
			}
			t.Log(err)
		})
	}
}

// TestParseAllocationBounded checks that parsing hostile data allocates
// little: at most a small multiple of the input plus a constant.
func TestParseAllocationBounded(t *testing.T) {
	inputs := [][]byte{adobeMatrixProfile(), lutProfiles()["mft2 XYZ"], lutProfiles()["mAB Lab A-CLUT-B"]}
	for _, c := range hostileProfiles() {
		inputs = append(inputs, c.data)
	}
	for i, in := range inputs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for k := 0; k < 10; k++ {
			_, _ = Parse(in)
		}
		runtime.ReadMemStats(&after)
		per := (after.TotalAlloc - before.TotalAlloc) / 10
		if limit := uint64(4*len(in) + 16<<10); per > limit {
			t.Errorf("input %d (%d bytes): Parse allocated %d bytes, limit %d", i, len(in), per, limit)
		}
	}
}

// FuzzParse: Parse never panics, and whatever it accepts converts without
// panicking.
func FuzzParse(f *testing.F) {
	for _, gen := range syntheticProfiles {
		f.Add(gen())
	}
	for _, p := range lutProfiles() {
		f.Add(p)
	}
	f.Add(adobeMatrixProfile())
	f.Add(buildProfile(profileSpec{0x04300000, "mntr", "GRAY", "Lab "}, []testTag{{"kTRC", paraElem(4, 2.6, 0.9, 0.02, 0.5, 0.1, 0.05, 0.01)}}))
	for _, c := range hostileProfiles() {
		f.Add(c.data)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if p != nil {
				t.Fatal("non-nil profile with an error")
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v is neither ErrInvalid nor ErrUnsupported", err)
			}
			return
		}
		_ = p.IsSRGB()
		_ = p.String()
		tr, err := p.ToSRGB()
		if err != nil {
			t.Fatal(err)
		}
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 37)
		}
		tr.ApplyNRGBA(bgCtx, img)
	})
}
