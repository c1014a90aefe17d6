package icc

import (
	"encoding/binary"
	"math"
)

// A minimal ICC profile writer for tests: a header, a tag table and the few
// element types the tests need (XYZ, curv, para, text, lut16, lutAtoB). It
// writes what ICC.1 describes, so the profiles it makes can also be fed to
// Little CMS (transicc) as a reference.

// testTag is one tag of a profile under construction.
type testTag struct {
	sig  string // four characters
	data []byte // the element, starting with its type signature
}

// profileSpec is the header of a profile under construction.
type profileSpec struct {
	version uint32 // e.g. 0x02100000 or 0x04300000
	class   string // "mntr", "scnr", ...
	space   string // "RGB ", "GRAY", ...
	pcs     string // "XYZ " or "Lab "
}

// buildProfile lays out a profile: header, tag table, then each tag's data
// aligned to four bytes.
func buildProfile(s profileSpec, tags []testTag) []byte {
	off := headerSize + 4 + 12*len(tags)
	var body []byte
	table := make([]byte, 4, 4+12*len(tags))
	binary.BigEndian.PutUint32(table, uint32(len(tags)))
	for _, t := range tags {
		for (off+len(body))%4 != 0 {
			body = append(body, 0)
		}
		table = append(table, sig4(t.sig)...)
		table = binary.BigEndian.AppendUint32(table, uint32(off+len(body)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(t.data)))
		body = append(body, t.data...)
	}
	for (off+len(body))%4 != 0 {
		body = append(body, 0)
	}
	h := make([]byte, headerSize)
	binary.BigEndian.PutUint32(h[0:], uint32(headerSize+len(table)+len(body)))
	binary.BigEndian.PutUint32(h[8:], s.version)
	copy(h[12:], s.class)
	copy(h[16:], s.space)
	copy(h[20:], s.pcs)
	copy(h[36:], "acsp")
	copy(h[68:], s15(0.9642))
	copy(h[72:], s15(1))
	copy(h[76:], s15(0.8249))
	out := append(h, table...)
	return append(out, body...)
}

func sig4(s string) []byte { return []byte((s + "    ")[:4]) }

func s15(v float64) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(int32(math.Round(v*65536))))
}

// elem starts an element of the given type (signature and reserved word).
func elem(typ string) []byte { return append(sig4(typ), 0, 0, 0, 0) }

func xyzElem(x, y, z float64) []byte {
	b := elem("XYZ ")
	b = append(b, s15(x)...)
	b = append(b, s15(y)...)
	return append(b, s15(z)...)
}

// curvGamma is a 'curv' element with a single gamma value.
func curvGamma(g float64) []byte {
	b := binary.BigEndian.AppendUint32(elem("curv"), 1)
	return binary.BigEndian.AppendUint16(b, uint16(math.Round(g*256)))
}

// curvTable is a 'curv' element sampling f at n points.
func curvTable(n int, f func(float64) float64) []byte {
	b := binary.BigEndian.AppendUint32(elem("curv"), uint32(n))
	for i := 0; i < n; i++ {
		b = binary.BigEndian.AppendUint16(b, u16(f(float64(i)/float64(n-1))))
	}
	return b
}

// paraElem is a 'para' element of function type fn.
func paraElem(fn uint16, params ...float64) []byte {
	b := binary.BigEndian.AppendUint16(elem("para"), fn)
	b = append(b, 0, 0)
	for _, p := range params {
		b = append(b, s15(p)...)
	}
	return b
}

// textElem is a v2 'text' element.
func textElem(s string) []byte { return append(append(elem("text"), s...), 0) }

// descElem is a v2 'desc' (textDescriptionType) element.
func descElem(s string) []byte {
	b := binary.BigEndian.AppendUint32(elem("desc"), uint32(len(s)+1))
	b = append(append(b, s...), 0)
	b = append(b, make([]byte, 4+4+2+1+67)...) // no Unicode, no ScriptCode
	return b
}

func u16(v float64) uint16 { return uint16(math.Round(math.Max(0, math.Min(1, v)) * 65535)) }

// mft2Elem is a lut16 element with 3 inputs and 3 outputs: input tables of n
// entries sampling in, a grid of g points per dimension sampling clut (the
// first input varying slowest) and output tables of n entries sampling out.
func mft2Elem(g, n int, in func(c int, x float64) float64, clut func(v [3]float64) [3]float64, out func(c int, x float64) float64) []byte {
	b := elem("mft2")
	b = append(b, 3, 3, byte(g), 0)
	for i := 0; i < 9; i++ { // identity matrix
		if i%4 == 0 {
			b = append(b, s15(1)...)
		} else {
			b = append(b, s15(0)...)
		}
	}
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	for c := 0; c < 3; c++ {
		for i := 0; i < n; i++ {
			b = binary.BigEndian.AppendUint16(b, u16(in(c, float64(i)/float64(n-1))))
		}
	}
	b = appendGrid(b, g, 2, clut)
	for c := 0; c < 3; c++ {
		for i := 0; i < n; i++ {
			b = binary.BigEndian.AppendUint16(b, u16(out(c, float64(i)/float64(n-1))))
		}
	}
	return b
}

// appendGrid appends a g³ grid of 3-output nodes with prec bytes per value.
func appendGrid(b []byte, g, prec int, f func(v [3]float64) [3]float64) []byte {
	for i := 0; i < g; i++ {
		for j := 0; j < g; j++ {
			for k := 0; k < g; k++ {
				o := f([3]float64{float64(i) / float64(g-1), float64(j) / float64(g-1), float64(k) / float64(g-1)})
				for _, v := range o {
					if prec == 1 {
						b = append(b, byte(math.Round(math.Max(0, math.Min(1, v))*255)))
					} else {
						b = binary.BigEndian.AppendUint16(b, u16(v))
					}
				}
			}
		}
	}
	return b
}

// mABSpec describes a lutAtoB element; nil parts are left out.
type mABSpec struct {
	a, m, bCurves [][]byte // curve elements
	matrix        []float64
	grid          int // grid points per dimension (0: no CLUT)
	prec          int
	clut          func(v [3]float64) [3]float64
}

// mABElem lays out a lutAtoB element with 3 inputs and 3 outputs.
func mABElem(s mABSpec) []byte {
	b := elem("mAB ")
	b = append(b, 3, 3, 0, 0)
	b = append(b, make([]byte, 20)...) // five offsets, patched below
	pad := func() {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	setOff := func(slot int) { binary.BigEndian.PutUint32(b[12+4*slot:], uint32(len(b))) }
	curves := func(cs [][]byte) {
		for _, c := range cs {
			b = append(b, c...)
			pad()
		}
	}
	setOff(0)
	curves(s.bCurves)
	if s.matrix != nil {
		setOff(1)
		for _, v := range s.matrix {
			b = append(b, s15(v)...)
		}
	}
	if s.m != nil {
		setOff(2)
		curves(s.m)
	}
	if s.grid > 0 {
		setOff(3)
		dims := make([]byte, 16)
		dims[0], dims[1], dims[2] = byte(s.grid), byte(s.grid), byte(s.grid)
		b = append(b, dims...)
		b = append(b, byte(s.prec), 0, 0, 0)
		b = appendGrid(b, s.grid, s.prec, s.clut)
		pad()
	}
	if s.a != nil {
		setOff(4)
		curves(s.a)
	}
	return b
}

// matrixTRCProfile builds a v2 display profile from colourants (D50 XYZ of
// red, green and blue) and one TRC element per channel.
func matrixTRCProfile(version uint32, colorants [3][3]float64, trc [3][]byte) []byte {
	return buildProfile(profileSpec{version: version, class: "mntr", space: "RGB ", pcs: "XYZ "}, []testTag{
		{"desc", descElem("imageopto test profile")},
		{"cprt", textElem("No copyright, use freely")},
		{"wtpt", xyzElem(0.9642, 1, 0.8249)},
		{"rXYZ", xyzElem(colorants[0][0], colorants[0][1], colorants[0][2])},
		{"gXYZ", xyzElem(colorants[1][0], colorants[1][1], colorants[1][2])},
		{"bXYZ", xyzElem(colorants[2][0], colorants[2][1], colorants[2][2])},
		{"rTRC", trc[0]},
		{"gTRC", trc[1]},
		{"bTRC", trc[2]},
	})
}

// sRGB's colourants adapted to D50, as the usual sRGB profiles carry them.
var srgbColorants = [3][3]float64{
	{0.4360747, 0.2225045, 0.0139322},
	{0.3850649, 0.7168786, 0.0971045},
	{0.1430804, 0.0606169, 0.7141733},
}

// Adobe RGB (1998) colourants adapted to D50.
var adobeColorants = [3][3]float64{
	{0.6097559, 0.3111242, 0.0194811},
	{0.2052401, 0.6256560, 0.0608902},
	{0.1492240, 0.0632197, 0.7448387},
}

// srgbPara is sRGB's transfer function as a type 3 'para' element.
func srgbPara() []byte { return paraElem(3, 2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045) }

// Synthetic profiles committed under testdata (see TestSyntheticTestdata).
var syntheticProfiles = map[string]func() []byte{
	// sRGB's primaries with red and green swapped, gamma 2.2 curves.
	"swap-rg.icc": func() []byte {
		c := srgbColorants
		c[0], c[1] = c[1], c[0]
		return matrixTRCProfile(0x02100000, c, [3][]byte{curvGamma(2.2), curvGamma(2.2), curvGamma(2.2)})
	},
	// sRGB's primaries with linear (gamma 1.0) curves.
	"linear-srgb.icc": func() []byte {
		return matrixTRCProfile(0x02100000, srgbColorants, [3][]byte{curvGamma(1), curvGamma(1), curvGamma(1)})
	},
	// sRGB's primaries with gamma 2.2 curves.
	"gamma22-srgb.icc": func() []byte {
		return matrixTRCProfile(0x02100000, srgbColorants, [3][]byte{curvGamma(2.2), curvGamma(2.2), curvGamma(2.2)})
	},
}
