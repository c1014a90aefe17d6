package wasmcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// This file reads the size of the picture an HEVC image item codes, from
// its sequence parameter sets (H.265 §7.3.2.2): the ones in the item's hvcC
// property and any in the item's data, all of which libheif hands to
// libde265. The work is linear in the data walked and every parameter set
// read is bounded.

// hevcSPS is the NAL unit type of a sequence parameter set.
const hevcSPS = 33

// maxCrop is the widest conformance window accepted, per axis: padding to
// the largest coding tree block (64 px) leaves at most 63.
const maxCrop = 63

// maxRBSP bounds the bytes of a parameter set converted to RBSP: the
// fields read here end within the first ~110 bytes even with seven
// sub-layers.
const maxRBSP = 256

// rbsp removes the emulation prevention bytes (0x000003 → 0x0000) of a
// NAL unit's payload, keeping at most maxRBSP bytes.
func rbsp(b []byte) []byte {
	out := make([]byte, 0, min(len(b), maxRBSP))
	zeros := 0
	for _, c := range b {
		if len(out) == maxRBSP {
			break
		}
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// hevcSize is the size an SPS codes: the decoded picture and, after its
// conformance window, the output.
type hevcSize struct {
	codedW, codedH int // pic_width/height_in_luma_samples
	w, h           int // after the conformance window
}

// parseHEVCSPS reads the picture size from an SPS NAL unit (with its
// two-byte NAL header).
func parseHEVCSPS(nal []byte) (hevcSize, error) {
	if len(nal) < 3 {
		return hevcSize{}, errors.New("truncated HEVC SPS")
	}
	r := &bitReader{b: rbsp(nal[2:])}
	r.f(4) // sps_video_parameter_set_id
	subLayers := int(r.f(3))
	if subLayers > 6 {
		return hevcSize{}, fmt.Errorf("HEVC SPS with %d sub-layers", subLayers+1)
	}
	r.f(1) // sps_temporal_id_nesting_flag
	skipProfileTierLevel(r, subLayers)
	if id := r.ue(); id > 15 {
		return hevcSize{}, fmt.Errorf("HEVC SPS id %d", id)
	}
	chroma := r.ue()
	if chroma > 3 {
		return hevcSize{}, fmt.Errorf("HEVC chroma_format_idc %d", chroma)
	}
	separate := chroma == 3 && r.flag()
	var s hevcSize
	s.codedW, s.codedH = int(r.ue()), int(r.ue())
	s.w, s.h = s.codedW, s.codedH
	if r.flag() { // conformance_window_flag
		left, right, top, bottom := uint64(r.ue()), uint64(r.ue()), uint64(r.ue()), uint64(r.ue())
		subW, subH := uint64(1), uint64(1)
		if !separate {
			switch chroma {
			case 1:
				subW, subH = 2, 2
			case 2:
				subW = 2
			}
		}
		cropW, cropH := subW*(left+right), subH*(top+bottom)
		if cropW >= uint64(s.codedW) || cropH >= uint64(s.codedH) {
			return hevcSize{}, fmt.Errorf("HEVC conformance window crops all of %dx%d", s.codedW, s.codedH)
		}
		// A conformance window trims the padding to a whole number of
		// coding blocks (at most 63 px); a wider one would make the decoder
		// pay for pixels the container does not count.
		if cropW > maxCrop || cropH > maxCrop {
			return hevcSize{}, fmt.Errorf("HEVC conformance window trims %dx%d px of the coded %dx%d (at most %d per axis)", cropW, cropH, s.codedW, s.codedH, maxCrop)
		}
		s.w, s.h = s.codedW-int(cropW), s.codedH-int(cropH)
	}
	if r.bad {
		return hevcSize{}, errShortBits
	}
	if s.codedW == 0 || s.codedH == 0 {
		return hevcSize{}, errors.New("HEVC SPS of zero size")
	}
	return s, nil
}

// skipProfileTierLevel reads past profile_tier_level(1, subLayers)
// (H.265 §7.3.3).
func skipProfileTierLevel(r *bitReader, subLayers int) {
	// general_profile_space … general_level_idc: 2+1+5+32+4+43+1+8 bits.
	r.f(32)
	r.f(32)
	r.f(32)
	var profile, level [6]bool
	for i := range subLayers {
		profile[i], level[i] = r.flag(), r.flag()
	}
	if subLayers > 0 {
		for range 8 - subLayers {
			r.f(2) // reserved_zero_2bits
		}
	}
	for i := range subLayers {
		if profile[i] {
			// sub_layer_profile_space … sub_layer_inbld_flag/reserved: 88 bits.
			r.f(32)
			r.f(32)
			r.f(24)
		}
		if level[i] {
			r.f(8)
		}
	}
}

// hvcC is what this package needs from an hvcC box: the NAL units of its
// parameter set arrays and the size of the NAL length fields in the data.
type hvcC struct {
	lengthSize int
	nals       [][]byte
}

// parseHVCC reads an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15
// §8.3.3.1).
func parseHVCC(b []byte) (hvcC, error) {
	if len(b) < 23 {
		return hvcC{}, errors.New("truncated hvcC")
	}
	c := hvcC{lengthSize: int(b[21]&3) + 1}
	if c.lengthSize == 3 {
		return hvcC{}, errors.New("hvcC NAL length size 3")
	}
	arrays := int(b[22])
	r := &reader{b: b[23:]}
	for range arrays {
		r.u8() // array_completeness, NAL_unit_type
		n := r.u16()
		for range n {
			size := int(r.u16())
			nal := r.take(size)
			if r.bad {
				return hvcC{}, errors.New("truncated hvcC")
			}
			c.nals = append(c.nals, nal)
		}
	}
	if r.bad {
		return hvcC{}, errors.New("truncated hvcC")
	}
	return c, nil
}

// hevcCodedSize is the size of the picture an HEVC image item decodes to:
// its SPS's size after the conformance window. Every SPS in the hvcC
// property and in the item's data (NAL units behind lengthSize-byte
// lengths) must agree, and there must be at least one.
func hevcCodedSize(data, hvcCBox []byte) (w, h int, err error) {
	cfg, err := parseHVCC(hvcCBox)
	if err != nil {
		return 0, 0, err
	}
	var first hevcSize
	found, nals := false, 0
	check := func(nal []byte) error {
		if len(nal) < 2 {
			return errors.New("truncated HEVC NAL unit")
		}
		if nal[0]>>1&0x3F != hevcSPS {
			return nil
		}
		s, err := parseHEVCSPS(nal)
		if err != nil {
			return err
		}
		if !found {
			first, found = s, true
		} else if s.w != first.w || s.h != first.h {
			return fmt.Errorf("two HEVC SPS: %dx%d and %dx%d", first.w, first.h, s.w, s.h)
		}
		return nil
	}
	for _, nal := range cfg.nals {
		if err := check(nal); err != nil {
			return 0, 0, err
		}
	}
	for len(data) > 0 {
		if len(data) < cfg.lengthSize {
			return 0, 0, errors.New("truncated HEVC NAL length")
		}
		var n uint64
		switch cfg.lengthSize {
		case 1:
			n = uint64(data[0])
		case 2:
			n = uint64(binary.BigEndian.Uint16(data))
		case 4:
			n = uint64(binary.BigEndian.Uint32(data))
		}
		data = data[cfg.lengthSize:]
		if n > uint64(len(data)) {
			return 0, 0, fmt.Errorf("HEVC NAL unit of %d bytes, %d left", n, len(data))
		}
		if err := check(data[:n]); err != nil {
			return 0, 0, err
		}
		data = data[n:]
		nals++
	}
	if !found {
		return 0, 0, errors.New("no HEVC sequence parameter set")
	}
	if nals == 0 {
		return 0, 0, errors.New("no HEVC NAL unit in the image data")
	}
	return first.w, first.h, nil
}
