// Package icc reads ICC colour profiles (ICC.1, versions 2 and 4) and
// converts 8-bit pixels from the colour space a profile describes to sRGB.
//
// It is the colour-management step of imageopto: images that embed a profile
// (JPEG APP2, PNG iCCP, WebP ICCP) are converted to sRGB before any other
// processing, so that the rest of the pipeline and the output work in sRGB.
//
// Supported input profiles:
//
//   - RGB matrix/TRC profiles (rXYZ/gXYZ/bXYZ colourants with rTRC/gTRC/bTRC
//     curves), which covers Display P3, Adobe RGB (1998), ProPhoto RGB, Wide
//     Gamut RGB, Rec. 709 and the other usual working spaces. Curves may be
//     'curv' (identity, gamma or sampled table) or 'para' (all five
//     parametric function types).
//   - Grey TRC profiles (kTRC), with an XYZ or a Lab connection space.
//   - LUT-based RGB and grey profiles whose A2B1 or A2B0 tag is a 'mft1'
//     (lut8), 'mft2' (lut16) or 'mAB ' (lutAtoB) element, with an XYZ or a
//     Lab connection space. When a profile has both a LUT and a matrix/TRC
//     model the LUT is used, as ICC.1 prescribes; A2B1 (the colorimetric
//     table) is preferred to A2B0 because the conversion is relative
//     colorimetric.
//
// Everything else (CMYK and other input colour spaces, device links,
// abstract and named-colour profiles, iccMAX) is refused with ErrUnsupported;
// malformed data is refused with ErrInvalid. Parse is bounded: it never
// panics, never reads outside the data and allocates at most a small
// multiple of the profile's size.
//
// The conversion uses the relative colorimetric intent without black point
// compensation: device values go through the profile to the D50 profile
// connection space (where the media white is already D50), then through the
// Bradford-adapted sRGB matrix (D50 → D65) to linear sRGB, which is clipped
// to [0, 1] per channel and companded with the sRGB transfer function. This
// is what Little CMS, ImageMagick and the browsers do for the relative
// colorimetric intent.
package icc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

var (
	// ErrUnsupported means the profile is well formed as far as it was read
	// but describes a conversion this package does not implement: an input
	// colour space other than RGB or grey, a connection space other than
	// XYZ or Lab, a device link, abstract or named-colour profile, or a
	// profile version above 4.
	ErrUnsupported = errors.New("icc: unsupported profile")
	// ErrInvalid means the data is not a usable ICC profile: truncated,
	// with tags outside the data, implausible sizes or counts, missing
	// required tags, or values (such as a negative gamma) that make no
	// sense.
	ErrInvalid = errors.New("icc: invalid profile")
)

// Limits that keep parsing bounded. Real profiles are far below them.
const (
	// MaxSize is the largest profile Parse accepts, in bytes.
	MaxSize = 16 << 20
	// maxTags is the largest tag count Parse accepts.
	maxTags = 1024
	// headerSize is the size of the fixed profile header.
	headerSize = 128
	// maxCurveEntries bounds sampled 'curv' tables (lut16 tables are
	// limited to 4096 entries by ICC.1); real tables rarely exceed 4096.
	maxCurveEntries = 1 << 16
)

// Four-character signatures used by the parser.
const (
	sigAcsp = 0x61637370 // 'acsp'

	classInput   = 0x73636e72 // 'scnr'
	classDisplay = 0x6d6e7472 // 'mntr'
	classOutput  = 0x70727472 // 'prtr'
	classSpace   = 0x73706163 // 'spac'
	classLink    = 0x6c696e6b // 'link'
	classAbst    = 0x61627374 // 'abst'
	classNamed   = 0x6e6d636c // 'nmcl'

	spaceRGB  = 0x52474220 // 'RGB '
	spaceGray = 0x47524159 // 'GRAY'
	spaceXYZ  = 0x58595a20 // 'XYZ '
	spaceLab  = 0x4c616220 // 'Lab '

	tagRXYZ = 0x7258595a // 'rXYZ'
	tagGXYZ = 0x6758595a // 'gXYZ'
	tagBXYZ = 0x6258595a // 'bXYZ'
	tagRTRC = 0x72545243 // 'rTRC'
	tagGTRC = 0x67545243 // 'gTRC'
	tagBTRC = 0x62545243 // 'bTRC'
	tagKTRC = 0x6b545243 // 'kTRC'
	tagA2B0 = 0x41324230 // 'A2B0'
	tagA2B1 = 0x41324231 // 'A2B1'

	typeXYZ  = 0x58595a20 // 'XYZ '
	typeCurv = 0x63757276 // 'curv'
	typePara = 0x70617261 // 'para'
	typeMft1 = 0x6d667431 // 'mft1'
	typeMft2 = 0x6d667432 // 'mft2'
	typeMAB  = 0x6d414220 // 'mAB '
)

// model is the way a profile maps device values to the connection space.
type model uint8

const (
	modelMatrixTRC model = iota + 1 // RGB colourants and three curves
	modelGrayTRC                    // one grey curve
	modelLUT                        // an A2Bx LUT element
)

// Profile is a parsed and validated ICC profile whose conversion to sRGB this
// package can compute. A Profile is immutable and safe for concurrent use.
type Profile struct {
	version    uint32 // header version field (major in the top byte)
	class      uint32 // device class signature
	colorSpace uint32 // spaceRGB or spaceGray
	pcs        uint32 // spaceXYZ or spaceLab
	model      model

	// Matrix/TRC and grey TRC models. colorants[i] is the D50 PCS XYZ of the
	// device primary i (red, green, blue); trc holds one curve per channel
	// (only trc[0] for grey).
	colorants [3][3]float64
	trc       [3]curve

	// LUT model.
	lut *lutPipeline

	srgb bool // computed by Parse: see IsSRGB
}

// Parse parses and validates an ICC profile. It returns ErrInvalid (wrapped,
// with a reason) for malformed data and ErrUnsupported for profiles whose
// conversion is not implemented; see the package documentation. Parse never
// panics and does not keep a reference to data.
func Parse(data []byte) (*Profile, error) {
	if len(data) < headerSize+4 {
		return nil, invalidf("%d bytes is too short for a profile", len(data))
	}
	size := uint64(be32(data, 0))
	if size < headerSize+4 {
		return nil, invalidf("declared size %d is too small", size)
	}
	// Like other colour engines, accept a declared size larger than the data
	// (the tag bounds checks below catch real truncation) and ignore bytes
	// past the declared size.
	if size < uint64(len(data)) {
		data = data[:size]
	}
	if len(data) > MaxSize {
		return nil, invalidf("%d bytes is larger than the %d-byte limit", len(data), MaxSize)
	}
	if be32(data, 36) != sigAcsp {
		return nil, invalidf("missing 'acsp' signature")
	}
	p := &Profile{
		version:    be32(data, 8),
		class:      be32(data, 12),
		colorSpace: be32(data, 16),
		pcs:        be32(data, 20),
	}
	if major := p.version >> 24; major > 4 {
		return nil, unsupportedf("profile version %d", major)
	}
	switch p.class {
	case classInput, classDisplay, classOutput, classSpace:
	case classLink, classAbst, classNamed:
		return nil, unsupportedf("device class %q", sigString(p.class))
	default:
		return nil, unsupportedf("unknown device class %q", sigString(p.class))
	}
	if p.colorSpace != spaceRGB && p.colorSpace != spaceGray {
		return nil, unsupportedf("colour space %q", sigString(p.colorSpace))
	}
	if p.pcs != spaceXYZ && p.pcs != spaceLab {
		return nil, unsupportedf("connection space %q", sigString(p.pcs))
	}

	tags, err := readTagTable(data)
	if err != nil {
		return nil, err
	}

	// The LUT-based model takes precedence over the matrix/TRC one (ICC.1
	// and Little CMS agree); A2B1 is the relative colorimetric table, A2B0
	// the fallback. A LUT that cannot be used (unsupported element type or
	// malformed) falls back to the matrix/TRC model when there is one.
	var lutErr error
	for _, sig := range [...]uint32{tagA2B1, tagA2B0} {
		body, ok := tags.find(sig)
		if !ok {
			continue
		}
		nin := 3
		if p.colorSpace == spaceGray {
			nin = 1
		}
		lut, err := parseLUT(body, nin, p.pcs)
		if err == nil {
			p.model = modelLUT
			p.lut = lut
			return p, nil
		}
		if lutErr == nil {
			lutErr = inTag(sig, err)
		}
	}

	if p.colorSpace == spaceGray {
		err = p.parseGray(tags)
	} else {
		err = p.parseMatrixTRC(tags)
	}
	if err != nil {
		if lutErr != nil {
			return nil, lutErr
		}
		return nil, err
	}
	p.srgb = p.computeIsSRGB()
	return p, nil
}

// parseMatrixTRC reads the colourant and TRC tags of an RGB profile.
func (p *Profile) parseMatrixTRC(tags tagTable) error {
	for i, sig := range [...]uint32{tagRXYZ, tagGXYZ, tagBXYZ} {
		body, ok := tags.find(sig)
		if !ok {
			return invalidf("no %s tag (and no usable A2B0)", sigString(sig))
		}
		xyz, err := parseXYZ(body)
		if err != nil {
			return inTag(sig, err)
		}
		p.colorants[i] = xyz
	}
	// Colourant matrix: columns are the primaries.
	m := mat3{
		{p.colorants[0][0], p.colorants[1][0], p.colorants[2][0]},
		{p.colorants[0][1], p.colorants[1][1], p.colorants[2][1]},
		{p.colorants[0][2], p.colorants[1][2], p.colorants[2][2]},
	}
	if d := m.det(); !(math.Abs(d) > 1e-6) {
		return invalidf("colourant matrix is singular (determinant %g)", d)
	}
	for i, sig := range [...]uint32{tagRTRC, tagGTRC, tagBTRC} {
		body, ok := tags.find(sig)
		if !ok {
			return invalidf("no %s tag", sigString(sig))
		}
		c, _, err := parseCurve(body)
		if err != nil {
			return inTag(sig, err)
		}
		p.trc[i] = c
	}
	p.model = modelMatrixTRC
	return nil
}

// parseGray reads the kTRC tag of a grey profile.
func (p *Profile) parseGray(tags tagTable) error {
	body, ok := tags.find(tagKTRC)
	if !ok {
		return invalidf("no kTRC tag (and no usable A2B0)")
	}
	c, _, err := parseCurve(body)
	if err != nil {
		return inTag(tagKTRC, err)
	}
	p.trc = [3]curve{c, c, c}
	p.model = modelGrayTRC
	return nil
}

// IsSRGB reports whether converting with this profile is an identity to
// within the 8-bit precision of the pixels, so that the conversion can be
// skipped: for every 8-bit colour, each channel of the converted value
// differs from the input by less than 1.5/255, so that the rounded result is
// at most one code value away. It is computed once by Parse, from the
// colourants and curves of matrix/TRC and grey profiles (an exact worst case
// over all colours, see computeIsSRGB); LUT-based profiles always report
// false.
func (p *Profile) IsSRGB() bool { return p.srgb }

// IsGray reports whether the profile describes a one-channel (grey) colour
// space. Transform.ApplyNRGBA then maps each channel of a pixel through its
// own curve, so that a grey pixel (R = G = B, as decoders expand grey images)
// gets the colour the profile gives its grey level.
func (p *Profile) IsGray() bool { return p.colorSpace == spaceGray }

// String describes the profile briefly, for logs and errors.
func (p *Profile) String() string {
	kind := map[model]string{modelMatrixTRC: "matrix/TRC", modelGrayTRC: "grey TRC", modelLUT: "LUT"}[p.model]
	sig := func(s uint32) string { return strings.TrimSpace(sigString(s)) }
	return fmt.Sprintf("ICC v%d.%d %s %s→%s (%s)", p.version>>24, (p.version>>20)&0xf,
		sig(p.class), sig(p.colorSpace), sig(p.pcs), kind)
}

// tagTable is the validated tag directory of a profile.
type tagTable struct {
	data    []byte
	entries []tagEntry
}

type tagEntry struct {
	sig       uint32
	off, size uint32
}

// readTagTable validates the tag count and every entry's bounds.
func readTagTable(data []byte) (tagTable, error) {
	n := uint64(be32(data, headerSize))
	if n > maxTags {
		return tagTable{}, invalidf("tag count %d exceeds %d", n, maxTags)
	}
	if headerSize+4+12*n > uint64(len(data)) {
		return tagTable{}, invalidf("tag table of %d entries runs past the end of the data", n)
	}
	t := tagTable{data: data, entries: make([]tagEntry, 0, n)}
	for i := uint64(0); i < n; i++ {
		o := headerSize + 4 + 12*int(i)
		e := tagEntry{sig: be32(data, o), off: be32(data, o+4), size: be32(data, o+8)}
		if uint64(e.off)+uint64(e.size) > uint64(len(data)) {
			return tagTable{}, invalidf("tag %q (offset %d, size %d) lies outside the %d-byte profile",
				sigString(e.sig), e.off, e.size, len(data))
		}
		if e.off < headerSize {
			return tagTable{}, invalidf("tag %q overlaps the header", sigString(e.sig))
		}
		t.entries = append(t.entries, e)
	}
	return t, nil
}

// find returns the body of the first tag with the given signature.
func (t tagTable) find(sig uint32) ([]byte, bool) {
	for _, e := range t.entries {
		if e.sig == sig {
			return t.data[e.off : e.off+e.size], true
		}
	}
	return nil, false
}

// be32 reads a big-endian uint32; the caller guarantees the bounds.
func be32(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }

// be16 reads a big-endian uint16; the caller guarantees the bounds.
func be16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }

// s15f16 decodes an s15Fixed16Number.
func s15f16(b []byte, off int) float64 { return float64(int32(be32(b, off))) / 65536 }

// sigString renders a signature as its four characters, escaping
// non-printable bytes.
func sigString(sig uint32) string {
	b := []byte{byte(sig >> 24), byte(sig >> 16), byte(sig >> 8), byte(sig)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("0x%08x", sig)
		}
	}
	return string(b)
}

// profileError is an error of a kind (ErrInvalid or ErrUnsupported) with a
// reason.
type profileError struct {
	kind error
	msg  string
}

func (e *profileError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *profileError) Unwrap() error { return e.kind }

func invalidf(format string, args ...any) error {
	return &profileError{ErrInvalid, fmt.Sprintf(format, args...)}
}

func unsupportedf(format string, args ...any) error {
	return &profileError{ErrUnsupported, fmt.Sprintf(format, args...)}
}

// inTag prefixes the reason of err with the tag it was found in.
func inTag(sig uint32, err error) error {
	if e, ok := err.(*profileError); ok {
		return &profileError{e.kind, sigString(sig) + ": " + e.msg}
	}
	return err
}
