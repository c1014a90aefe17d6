package wasmcodec

import (
	"errors"
	"fmt"
)

// This file reads the size of the picture an AV1 bitstream codes, from its
// sequence header OBU and the uncompressed header of its intra frames (AV1
// Bitstream & Decoding Process Specification, §5.3–5.5 and §5.9), without
// decoding anything. libavif sizes its output from the container (ispe, or
// tkhd for an image sequence) but the AV1 decoder allocates for the frame
// the bitstream codes: a container that lies costs the decoder's memory and
// CPU for the real size (or garbles the picture), so DecodeHeader checks the
// one against the other. The work is linear in the data walked and every
// header read is bounded.

// AV1 OBU types (§6.2.2).
const (
	obuSequenceHeader = 1
	obuFrameHeader    = 3
	obuFrame          = 6
)

// AV1 frame types (§6.8.2).
const (
	av1KeyFrame       = 0
	av1IntraOnlyFrame = 2
	av1SwitchFrame    = 3
)

// av1Sequence is what this package needs from a sequence header OBU: the
// maximum frame size, and the fields that the uncompressed frame header's
// layout depends on up to frame_size().
type av1Sequence struct {
	profile          uint32
	stillPicture     bool
	reducedStill     bool
	widthBits        int // frame_width_bits_minus_1 + 1
	heightBits       int
	maxWidth         int // max_frame_width_minus_1 + 1
	maxHeight        int
	widthAt          int  // bit offset of max_frame_width_minus_1 in the payload
	frameIDs         bool // frame_id_numbers_present_flag
	frameIDLen       int  // additional_frame_id_length_minus_1 + delta_frame_id_length_minus_2 + 3
	forceScreen      uint32
	forceIntegerMV   uint32
	orderHintBits    int
	decoderModel     bool // decoder_model_info_present_flag
	equalInterval    bool // equal_picture_interval
	presentationBits int  // frame_presentation_time_length_minus_1 + 1
	removalBits      int  // buffer_removal_time_length_minus_1 + 1
	opPoints         []av1OperatingPoint
	superres         bool // enable_superres
}

// av1OperatingPoint is one entry of the sequence header's operating point
// loop, as far as the frame header needs it.
type av1OperatingPoint struct {
	idc          uint32
	decoderModel bool // decoder_model_present_for_this_op
}

// selectScreenContentTools and selectIntegerMV are the "decided per frame"
// values of seq_force_screen_content_tools and seq_force_integer_mv.
const (
	selectScreenContentTools = 2
	selectIntegerMV          = 2
)

// parseAV1Sequence reads a sequence header OBU's payload (§5.5.1).
func parseAV1Sequence(payload []byte) (av1Sequence, error) {
	r := &bitReader{b: payload}
	var s av1Sequence
	s.profile = r.f(3)
	s.stillPicture = r.flag()
	s.reducedStill = r.flag()
	if s.profile > 2 {
		return s, fmt.Errorf("AV1 seq_profile %d", s.profile)
	}
	if s.reducedStill {
		if !s.stillPicture {
			return s, errors.New("AV1 reduced_still_picture_header without still_picture")
		}
		r.f(5) // seq_level_idx[0]
		s.opPoints = []av1OperatingPoint{{}}
	} else {
		var bufferDelayBits int
		if r.flag() { // timing_info_present_flag
			r.f(32) // num_units_in_display_tick
			r.f(32) // time_scale
			if s.equalInterval = r.flag(); s.equalInterval {
				r.uvlc() // num_ticks_per_picture_minus_1
			}
			if s.decoderModel = r.flag(); s.decoderModel {
				bufferDelayBits = int(r.f(5)) + 1
				r.f(32) // num_units_in_decoding_tick
				s.removalBits = int(r.f(5)) + 1
				s.presentationBits = int(r.f(5)) + 1
			}
		}
		initialDelay := r.flag()
		count := int(r.f(5)) + 1
		s.opPoints = make([]av1OperatingPoint, count)
		for i := range s.opPoints {
			op := &s.opPoints[i]
			op.idc = r.f(12)
			if r.f(5) > 7 { // seq_level_idx
				r.f(1) // seq_tier
			}
			if s.decoderModel {
				if op.decoderModel = r.flag(); op.decoderModel {
					r.f(bufferDelayBits) // decoder_buffer_delay
					r.f(bufferDelayBits) // encoder_buffer_delay
					r.f(1)               // low_delay_mode_flag
				}
			}
			if initialDelay && r.flag() {
				r.f(4) // initial_display_delay_minus_1
			}
		}
	}
	s.widthBits = int(r.f(4)) + 1
	s.heightBits = int(r.f(4)) + 1
	s.widthAt = r.pos
	s.maxWidth = int(r.f(s.widthBits)) + 1
	s.maxHeight = int(r.f(s.heightBits)) + 1
	if !s.reducedStill {
		s.frameIDs = r.flag()
	}
	if s.frameIDs {
		delta := int(r.f(4)) + 2
		additional := int(r.f(3)) + 1
		s.frameIDLen = delta + additional
	}
	r.f(3) // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
	s.forceScreen, s.forceIntegerMV = selectScreenContentTools, selectIntegerMV
	if !s.reducedStill {
		r.f(4) // enable_interintra_compound, masked_compound, warped_motion, dual_filter
		orderHint := r.flag()
		if orderHint {
			r.f(2) // enable_jnt_comp, enable_ref_frame_mvs
		}
		if !r.flag() { // seq_choose_screen_content_tools
			s.forceScreen = r.f(1)
		}
		if s.forceScreen > 0 {
			if !r.flag() { // seq_choose_integer_mv
				s.forceIntegerMV = r.f(1)
			}
		}
		if orderHint {
			s.orderHintBits = int(r.f(3)) + 1
		}
	}
	s.superres = r.flag()
	if r.bad {
		return s, errShortBits
	}
	return s, nil
}

// sameSize reports whether two sequence headers allow the same frame size.
func (s av1Sequence) sameSize(o av1Sequence) bool {
	return s.maxWidth == o.maxWidth && s.maxHeight == o.maxHeight
}

// av1FrameSize reads the size an intra frame's uncompressed header
// (§5.9.2) codes, given the sequence header in force and the OBU's
// temporal and spatial layer. ok is false for a frame whose size this
// reader does not work out: shown existing frames and inter frames, which
// take their size from reference frames.
func av1FrameSize(s *av1Sequence, payload []byte, temporalID, spatialID uint32) (w, h int, ok bool, err error) {
	r := &bitReader{b: payload}
	frameType, showFrame := uint32(av1KeyFrame), true
	errorResilient := true
	if !s.reducedStill {
		if r.flag() { // show_existing_frame
			return 0, 0, false, nil
		}
		frameType = r.f(2)
		showFrame = r.flag()
		if showFrame && s.decoderModel && !s.equalInterval {
			r.f(s.presentationBits) // frame_presentation_time
		}
		if !showFrame {
			r.f(1) // showable_frame
		}
		if frameType == av1SwitchFrame || (frameType == av1KeyFrame && showFrame) {
			errorResilient = true
		} else {
			errorResilient = r.flag()
		}
	}
	intra := frameType == av1KeyFrame || frameType == av1IntraOnlyFrame
	if !intra {
		return 0, 0, false, nil
	}
	r.f(1) // disable_cdf_update
	screen := s.forceScreen
	if screen == selectScreenContentTools {
		screen = r.f(1)
	}
	if screen > 0 && s.forceIntegerMV == selectIntegerMV {
		r.f(1) // force_integer_mv
	}
	if s.frameIDs {
		r.f(s.frameIDLen) // current_frame_id
	}
	override := false
	switch {
	case frameType == av1SwitchFrame:
		override = true
	case s.reducedStill:
	default:
		override = r.flag()
	}
	r.f(s.orderHintBits) // order_hint
	// An intra frame has primary_ref_frame = PRIMARY_REF_NONE: nothing read.
	if s.decoderModel && r.flag() { // buffer_removal_time_present_flag
		for _, op := range s.opPoints {
			if !op.decoderModel {
				continue
			}
			inTemporal := op.idc>>temporalID&1 == 1
			inSpatial := op.idc>>(spatialID+8)&1 == 1
			if op.idc == 0 || (inTemporal && inSpatial) {
				r.f(s.removalBits)
			}
		}
	}
	allFrames := uint32(0xFF)
	refresh := allFrames
	if !(frameType == av1KeyFrame && showFrame) {
		refresh = r.f(8) // refresh_frame_flags
	}
	if refresh != allFrames && errorResilient && s.orderHintBits > 0 {
		for range 8 {
			r.f(s.orderHintBits) // ref_order_hint
		}
	}
	w, h = s.maxWidth, s.maxHeight
	if override {
		w = int(r.f(s.widthBits)) + 1
		h = int(r.f(s.heightBits)) + 1
	}
	// superres_params() scales the coded width down; the decoder upscales
	// back to this size (UpscaledWidth), which is what it outputs.
	if r.bad {
		return 0, 0, false, errShortBits
	}
	if w > s.maxWidth || h > s.maxHeight {
		return 0, 0, false, fmt.Errorf("AV1 frame of %dx%d is larger than its sequence header's %dx%d", w, h, s.maxWidth, s.maxHeight)
	}
	return w, h, true, nil
}

// obu is one OBU: its type, layer and payload.
type obu struct {
	typ                   int
	temporalID, spatialID uint32
	payload               []byte
}

// nextOBU splits the OBU at the front of b (§5.3): its header, its size
// (leb128) when present, else the rest of b.
func nextOBU(b []byte) (o obu, rest []byte, err error) {
	if len(b) < 1 {
		return obu{}, nil, errors.New("empty OBU")
	}
	h := b[0]
	if h&0x80 != 0 {
		return obu{}, nil, errors.New("AV1 OBU forbidden bit set")
	}
	o.typ = int(h >> 3 & 0xF)
	ext, hasSize := h&4 != 0, h&2 != 0
	n := 1
	if ext {
		if len(b) < 2 {
			return obu{}, nil, errors.New("truncated AV1 OBU header")
		}
		o.temporalID, o.spatialID = uint32(b[1]>>5), uint32(b[1]>>3&3)
		n = 2
	}
	size := uint64(len(b) - n)
	if hasSize {
		v, k, err := leb128(b[n:])
		if err != nil {
			return obu{}, nil, err
		}
		n += k
		size = v
	}
	if size > uint64(len(b)-n) {
		return obu{}, nil, fmt.Errorf("AV1 OBU of %d bytes, %d left", size, len(b)-n)
	}
	end := n + int(size)
	o.payload = b[n:end]
	return o, b[end:], nil
}

// leb128 reads an unsigned LEB128 value of at most 8 bytes and 32 bits
// (§4.10.5), returning it and the bytes read.
func leb128(b []byte) (v uint64, n int, err error) {
	for i := range 8 {
		if i >= len(b) {
			return 0, 0, errors.New("truncated AV1 leb128")
		}
		v |= uint64(b[i]&0x7F) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, 0, errors.New("AV1 leb128 value over 32 bits")
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("AV1 leb128 longer than 8 bytes")
}

// av1Stream is what the OBUs of one AV1 sample or item say about sizes.
type av1Stream struct {
	seq         av1Sequence // the first sequence header
	hasSeq      bool
	frames      [][2]int // sizes of the intra frames, in order
	frameCount  int      // frame headers seen, of any kind
	frameBefore bool     // a frame header came before any sequence header
}

// scanAV1 walks every OBU of data, which holds OBUs with size fields (the
// last may lack one), reading every sequence header and the size of every
// intra frame. All sequence headers must allow the same size. The work is
// linear in len(data).
func scanAV1(data []byte) (av1Stream, error) {
	var st av1Stream
	for len(data) > 0 {
		o, rest, err := nextOBU(data)
		if err != nil {
			return st, err
		}
		data = rest
		switch o.typ {
		case obuSequenceHeader:
			s, err := parseAV1Sequence(o.payload)
			if err != nil {
				return st, err
			}
			if !st.hasSeq {
				st.seq, st.hasSeq = s, true
			} else if !st.seq.sameSize(s) {
				return st, fmt.Errorf("two AV1 sequence headers: %dx%d and %dx%d", st.seq.maxWidth, st.seq.maxHeight, s.maxWidth, s.maxHeight)
			}
		case obuFrameHeader, obuFrame:
			st.frameCount++
			if !st.hasSeq {
				st.frameBefore = true
				continue
			}
			w, h, ok, err := av1FrameSize(&st.seq, o.payload, o.temporalID, o.spatialID)
			if err != nil {
				return st, err
			}
			if ok {
				st.frames = append(st.frames, [2]int{w, h})
			}
		}
	}
	return st, nil
}

// av1ConfigSequence returns the sequence header among the configOBUs of an
// av1C box body, if there is one.
func av1ConfigSequence(av1C []byte) (s av1Sequence, ok bool, err error) {
	if len(av1C) < 4 {
		return s, false, errors.New("truncated av1C")
	}
	st, err := scanAV1(av1C[4:])
	if err != nil {
		return s, false, fmt.Errorf("av1C: %w", err)
	}
	return st.seq, st.hasSeq, nil
}

// av1CodedSize is the size of the picture that the AV1 data of one item or
// sample decodes to: its sequence header's maximum frame size, which every
// intra frame must code too (in a layered image, marked by an a1lx
// property, the lower layers may be smaller). av1C, when not nil, is the item's av1C property; a
// sequence header among its configOBUs must agree.
func av1CodedSize(data, av1C []byte, layered bool) (w, h int, err error) {
	st, err := scanAV1(data)
	if err != nil {
		return 0, 0, err
	}
	if !st.hasSeq {
		return 0, 0, errors.New("no AV1 sequence header in the image data")
	}
	if st.frameBefore {
		return 0, 0, errors.New("an AV1 frame before the sequence header")
	}
	if st.frameCount == 0 {
		return 0, 0, errors.New("no AV1 frame in the image data")
	}
	w, h = st.seq.maxWidth, st.seq.maxHeight
	for _, f := range st.frames {
		if f != [2]int{w, h} && !layered {
			return 0, 0, fmt.Errorf("AV1 sequence header says %dx%d, frame header says %dx%d", w, h, f[0], f[1])
		}
	}
	if av1C != nil {
		cs, ok, err := av1ConfigSequence(av1C)
		if err != nil {
			return 0, 0, err
		}
		if ok && !cs.sameSize(st.seq) {
			return 0, 0, fmt.Errorf("av1C sequence header says %dx%d, the image data's says %dx%d", cs.maxWidth, cs.maxHeight, w, h)
		}
	}
	return w, h, nil
}
