package codec

import "bytes"

// JPEG marker codes (ITU T.81 table B.1).
const (
	jpegSOF0  = 0xC0 // baseline DCT
	jpegSOF1  = 0xC1 // extended sequential DCT
	jpegSOF2  = 0xC2 // progressive DCT
	jpegDHT   = 0xC4
	jpegDAC   = 0xCC
	jpegRST0  = 0xD0
	jpegRST7  = 0xD7
	jpegSOI   = 0xD8
	jpegEOI   = 0xD9
	jpegSOS   = 0xDA
	jpegAPP0  = 0xE0
	jpegAPP1  = 0xE1
	jpegAPP2  = 0xE2
	jpegAPP14 = 0xEE
	jpegTEM   = 0x01
)

// Adobe APP14 transform values.
const adobeTransformUnknown = 0

// jpegComponent is one frame component from the SOF segment.
type jpegComponent struct {
	id   byte
	h, v int
}

// jpegHeaderState accumulates what the marker walk finds.
type jpegHeaderState struct {
	h              Header
	sofSeen        bool
	nComp          int
	comp           [4]jpegComponent
	jfif           bool
	adobeValid     bool
	adobeTransform byte
	exifSeen       bool
	icc            iccChain
}

// readJPEGHeader walks the JPEG marker segments from SOI to EOI (or the end
// of data), skipping entropy-coded data byte-wise. It reads the first SOF,
// counts SOS markers, and extracts the EXIF orientation, the ICC profile and
// the JFIF/Adobe markers that decide the decoder's colour model.
func readJPEGHeader(data []byte) (Header, error) {
	s := jpegHeaderState{h: Header{Orientation: 1, Frames: 1}}
	p := 2 // after SOI
walk:
	for p < len(data) {
		if data[p] != 0xFF {
			// Extraneous bytes between segments: libjpeg and Go skip them.
			i := bytes.IndexByte(data[p:], 0xFF)
			if i < 0 {
				break
			}
			p += i
		}
		for p < len(data) && data[p] == 0xFF { // fill bytes (B.1.1.2)
			p++
		}
		if p >= len(data) {
			break
		}
		m := data[p]
		p++
		switch {
		case m == 0x00: // stuffed byte outside a scan: extraneous data
			continue
		case m == jpegEOI:
			break walk
		case m >= jpegRST0 && m <= jpegRST7, m == jpegTEM, m == jpegSOI:
			continue // markers without a length
		}
		if p+2 > len(data) {
			break // truncated inside the length
		}
		n := int(data[p])<<8 | int(data[p+1])
		if n < 2 {
			return Header{}, corruptf("jpeg: marker %#02x has a short segment length %d", m, n)
		}
		end := p + n
		if end > len(data) {
			break // truncated segment
		}
		seg := data[p+2 : end]
		p = end
		if err := s.segment(m, seg); err != nil {
			return Header{}, err
		}
		if m == jpegSOS {
			p = skipEntropyCoded(data, p)
		}
	}
	if !s.sofSeen {
		return Header{}, corruptf("jpeg: no SOF marker before the end of the data")
	}
	if s.nComp == 4 && !s.adobeValid {
		// image/jpeg cannot tell CMYK from YCCK without it.
		return Header{}, corruptf("jpeg: 4-component image without an Adobe APP14 marker")
	}
	return s.finish(), nil
}

// segment handles one marker segment whose payload (after the length) is
// seg.
func (s *jpegHeaderState) segment(m byte, seg []byte) error {
	switch m {
	case jpegSOF0, jpegSOF1, jpegSOF2:
		if s.sofSeen {
			return corruptf("jpeg: multiple SOF markers")
		}
		s.sofSeen = true
		s.h.Progressive = m == jpegSOF2
		return s.sof(seg)
	case 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
		if s.sofSeen {
			return corruptf("jpeg: multiple SOF markers")
		}
		return corruptf("jpeg: unsupported coding process SOF%d (lossless, hierarchical or arithmetic)", m-jpegSOF0)
	case jpegDAC:
		return corruptf("jpeg: arithmetic coding is not supported")
	case jpegSOS:
		if !s.sofSeen {
			return corruptf("jpeg: SOS marker before SOF")
		}
		s.h.Scans++
	case jpegAPP0:
		if bytes.HasPrefix(seg, []byte("JFIF\x00")) {
			s.jfif = true
		}
	case jpegAPP1:
		if !s.exifSeen && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			s.exifSeen = true
			s.h.Orientation = exifOrientation(seg[6:])
		}
	case jpegAPP2:
		if len(seg) >= 14 && bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00")) {
			s.icc.add(int(seg[12]), int(seg[13]), seg[14:])
		}
	case jpegAPP14:
		if len(seg) >= 12 && bytes.HasPrefix(seg, []byte("Adobe")) {
			s.adobeValid = true
			s.adobeTransform = seg[11]
		}
	}
	return nil
}

// sof parses a SOF0/1/2 payload with the same rules as image/jpeg.
func (s *jpegHeaderState) sof(seg []byte) error {
	if len(seg) < 6 {
		return corruptf("jpeg: SOF segment too short")
	}
	nComp := int(seg[5])
	switch nComp {
	case 1, 3, 4:
	default:
		return corruptf("jpeg: unsupported number of components %d", nComp)
	}
	if len(seg) != 6+3*nComp {
		return corruptf("jpeg: SOF has wrong length")
	}
	if seg[0] != 8 {
		return corruptf("jpeg: unsupported sample precision %d", seg[0])
	}
	s.h.Height = int(seg[1])<<8 | int(seg[2])
	s.h.Width = int(seg[3])<<8 | int(seg[4])
	s.nComp = nComp
	for i := range nComp {
		c := seg[6+3*i:]
		h, v := int(c[1]>>4), int(c[1]&0x0F)
		if h < 1 || h > 4 || v < 1 || v > 4 {
			return corruptf("jpeg: bad sampling factors %dx%d", h, v)
		}
		if nComp == 1 {
			h, v = 1, 1 // a single component is never interleaved (A.2)
		}
		s.comp[i] = jpegComponent{id: c[0], h: h, v: v}
	}
	return nil
}

// finish derives the colour-model dependent fields.
func (s *jpegHeaderState) finish() Header {
	h := s.h
	h.ColorComponents = s.nComp
	switch s.nComp {
	case 1:
		h.BytesPerPixel = 1 // *image.Gray
		h.Planar = true
	case 3:
		h.BytesPerPixel = 3 // *image.YCbCr planes (at most 4:4:4)
		h.Planar = !s.isRGB()
		if s.isRGB() {
			h.BytesPerPixel += 4 // converted to *image.RGBA
		}
	case 4:
		// Four planes, then an *image.CMYK (or an RGBA for YCbCrK).
		h.BytesPerPixel = 4 + 4
	}
	if h.Progressive {
		// image/jpeg keeps a [64]int32 block per 8×8 data unit of every
		// component until the last scan: 4 bytes per sample.
		hMax, vMax, samples := 1, 1, 0
		for _, c := range s.comp[:s.nComp] {
			hMax, vMax = max(hMax, c.h), max(vMax, c.v)
		}
		for _, c := range s.comp[:s.nComp] {
			samples += c.h * c.v
		}
		h.BytesPerPixel += (4*samples + hMax*vMax - 1) / (hMax * vMax)
	}
	h.ICC = s.icc.assemble()
	return h
}

// isRGB mirrors image/jpeg's rule for 3-component images stored as RGB.
func (s *jpegHeaderState) isRGB() bool {
	if s.jfif {
		return false
	}
	if s.adobeValid && s.adobeTransform == adobeTransformUnknown {
		return true
	}
	return s.comp[0].id == 'R' && s.comp[1].id == 'G' && s.comp[2].id == 'B'
}

// skipEntropyCoded returns the offset of the first marker after the
// entropy-coded data that starts at p: the first 0xFF followed by a byte
// that is neither a stuffed zero, a restart marker nor another fill byte.
func skipEntropyCoded(data []byte, p int) int {
	for {
		i := bytes.IndexByte(data[p:], 0xFF)
		if i < 0 {
			return len(data)
		}
		p += i
		if p+1 >= len(data) {
			return len(data)
		}
		switch next := data[p+1]; {
		case next == 0x00, next >= jpegRST0 && next <= jpegRST7:
			p += 2
		case next == 0xFF:
			p++
		default:
			return p
		}
	}
}

// iccChain reassembles an ICC profile split over APP2 "ICC_PROFILE"
// segments (ICC.1 annex B.4). Any inconsistency voids the whole profile.
type iccChain struct {
	count int
	size  int
	bad   bool
	parts [256][]byte
}

// add records chunk seq (1-based) of count; payload aliases the input.
func (c *iccChain) add(seq, count int, payload []byte) {
	switch {
	case c.bad:
		return
	case count == 0 || seq == 0 || seq > count,
		c.count != 0 && c.count != count,
		c.parts[seq] != nil,
		c.size+len(payload) > maxICCSize:
		c.bad = true
		return
	}
	c.count = count
	c.size += len(payload)
	c.parts[seq] = payload
}

// assemble returns the concatenated profile, or nil when the chain is
// absent, incomplete or inconsistent.
func (c *iccChain) assemble() []byte {
	if c.bad || c.count == 0 || c.size == 0 {
		return nil
	}
	for i := 1; i <= c.count; i++ {
		if c.parts[i] == nil {
			return nil
		}
	}
	out := make([]byte, 0, c.size)
	for i := 1; i <= c.count; i++ {
		out = append(out, c.parts[i]...)
	}
	return out
}
