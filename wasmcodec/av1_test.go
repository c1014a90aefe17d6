package wasmcodec

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bitWriter writes big-endian bit fields, to build AV1 and HEVC headers
// field by field from the specifications.
type bitWriter struct {
	b    []byte
	nbit int
}

func (w *bitWriter) put(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.nbit%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>i&1 == 1 {
			w.b[len(w.b)-1] |= 0x80 >> (w.nbit % 8)
		}
		w.nbit++
	}
}

func (w *bitWriter) flag(b bool) {
	if b {
		w.put(1, 1)
	} else {
		w.put(0, 1)
	}
}

// uvlc writes AV1's uvlc() code for v.
func (w *bitWriter) uvlc(v uint32) {
	x := uint64(v) + 1
	n := 0
	for x>>(n+1) != 0 {
		n++
	}
	w.put(0, n)
	w.put(1, 1)
	w.put(x-(1<<n), n)
}

// ue writes HEVC's ue(v) code for v (the same code as uvlc).
func (w *bitWriter) ue(v uint32) { w.uvlc(v) }

// trailing writes trailing bits: a one, then zeros to the byte boundary.
func (w *bitWriter) trailing() []byte {
	w.put(1, 1)
	for w.nbit%8 != 0 {
		w.put(0, 1)
	}
	return w.b
}

// seqOpts are the fields of an AV1 sequence header to write.
type seqOpts struct {
	profile       int
	reduced       bool
	still         bool
	timing        bool
	equalInterval bool
	decoderModel  bool
	initialDelay  bool
	ops           []int // seq_level_idx per operating point
	w, h          int
	frameIDs      bool
	orderHint     int // OrderHintBits, 0 for none
	chooseScreen  bool
	superres      bool
}

// writeSeq writes a sequence header OBU payload (AV1 §5.5.1) independently
// of parseAV1Sequence.
func writeSeq(o seqOpts) []byte {
	w := &bitWriter{}
	w.put(uint64(o.profile), 3)
	w.flag(o.still)
	w.flag(o.reduced)
	if o.reduced {
		w.put(31, 5)
	} else {
		w.flag(o.timing)
		if o.timing {
			w.put(1001, 32)
			w.put(30000, 32)
			w.flag(o.equalInterval)
			if o.equalInterval {
				w.uvlc(700)
			}
			w.flag(o.decoderModel)
			if o.decoderModel {
				w.put(23, 5) // buffer_delay_length_minus_1: 24-bit delays
				w.put(90000, 32)
				w.put(9, 5) // buffer_removal_time_length_minus_1
				w.put(4, 5) // frame_presentation_time_length_minus_1
			}
		}
		w.flag(o.initialDelay)
		ops := o.ops
		if len(ops) == 0 {
			ops = []int{8}
		}
		w.put(uint64(len(ops)-1), 5)
		for i, lvl := range ops {
			w.put(uint64(0x101<<i&0xFFF), 12)
			w.put(uint64(lvl), 5)
			if lvl > 7 {
				w.put(1, 1)
			}
			if o.decoderModel {
				w.flag(i%2 == 0)
				if i%2 == 0 {
					w.put(0xABCDE, 24)
					w.put(0x12345, 24)
					w.put(0, 1)
				}
			}
			if o.initialDelay {
				w.put(1, 1)
				w.put(9, 4)
			}
		}
	}
	wb, hb := bitLen(o.w-1), bitLen(o.h-1)
	w.put(uint64(wb-1), 4)
	w.put(uint64(hb-1), 4)
	w.put(uint64(o.w-1), wb)
	w.put(uint64(o.h-1), hb)
	if !o.reduced {
		w.flag(o.frameIDs)
		if o.frameIDs {
			w.put(5, 4) // delta_frame_id_length_minus_2
			w.put(2, 3) // additional_frame_id_length_minus_1
		}
	}
	w.put(0b011, 3)
	if !o.reduced {
		w.put(0, 4)
		w.flag(o.orderHint > 0)
		if o.orderHint > 0 {
			w.put(0, 2)
		}
		w.flag(o.chooseScreen)
		if !o.chooseScreen {
			w.put(1, 1) // seq_force_screen_content_tools
		}
		w.put(1, 1) // seq_choose_integer_mv
		if o.orderHint > 0 {
			w.put(uint64(o.orderHint-1), 3)
		}
	}
	w.flag(o.superres)
	w.put(0b11, 2) // cdef, restoration
	w.put(0, 1)    // color_config: high_bitdepth
	w.put(0, 1)    // mono_chrome (profile 0)
	w.put(0, 1)    // color_description_present_flag
	w.put(0, 1)    // color_range
	w.put(0, 2)    // chroma_sample_position
	w.put(0, 1)    // separate_uv_delta_q
	w.put(0, 1)    // film_grain_params_present
	return w.trailing()
}

// bitLen is the number of bits needed for v (at least 1).
func bitLen(v int) int {
	n := 1
	for v>>n != 0 {
		n++
	}
	return n
}

// writeKeyFrame writes the start of a shown key frame's uncompressed header
// (§5.9.2) for sequence o, with a frame size override when w, h > 0.
func writeKeyFrame(o seqOpts, w, h int) []byte {
	b := &bitWriter{}
	if !o.reduced {
		b.put(0, 1) // show_existing_frame
		b.put(0, 2) // KEY_FRAME
		b.put(1, 1) // show_frame
		if o.decoderModel && !o.equalInterval {
			b.put(3, 5) // frame_presentation_time
		}
	}
	b.put(0, 1) // disable_cdf_update
	screen := !o.reduced && !o.chooseScreen
	if o.reduced || o.chooseScreen {
		b.put(1, 1) // allow_screen_content_tools
		screen = true
	}
	if screen {
		b.put(0, 1) // force_integer_mv (seq_choose_integer_mv was 1)
	}
	if o.frameIDs {
		b.put(77, 5+2+3) // current_frame_id: idLen = 5 + 2 + 3
	}
	if !o.reduced {
		b.flag(w > 0)
	}
	b.put(0, o.orderHint)
	if o.decoderModel {
		b.put(1, 1) // buffer_removal_time_present_flag
		for i := range max(len(o.ops), 1) {
			if i%2 == 0 { // decoder_model_present_for_this_op
				idc := 0x101 << i & 0xFFF
				if idc == 0 || (idc&1 == 1 && idc>>8&1 == 1) {
					b.put(0x3FF, 10)
				}
			}
		}
	}
	if w > 0 {
		b.put(uint64(w-1), bitLen(o.w-1))
		b.put(uint64(h-1), bitLen(o.h-1))
	}
	b.put(0, 1) // use_superres / render_and_frame_size_different …
	return b.trailing()
}

// obuBytes wraps a payload in an OBU with a size field (and an extension
// header when ext).
func obuBytes(typ int, payload []byte, ext bool) []byte {
	h := byte(typ<<3) | 2
	out := []byte{h}
	if ext {
		out[0] |= 4
		out = append(out, 0)
	}
	n := len(payload)
	for {
		c := byte(n & 0x7F)
		n >>= 7
		if n > 0 {
			out = append(out, c|0x80)
			continue
		}
		out = append(out, c)
		break
	}
	return append(out, payload...)
}

func TestAV1SequenceHeader(t *testing.T) {
	t.Parallel()
	for _, o := range []seqOpts{
		{profile: 0, reduced: true, still: true, w: 131, h: 101},
		{profile: 1, reduced: true, still: true, w: 13000, h: 13000},
		{profile: 0, still: true, w: 64, h: 64},
		{profile: 2, w: 65536, h: 1},
		{profile: 0, timing: true, w: 1920, h: 1080},
		{profile: 0, timing: true, equalInterval: true, w: 1920, h: 1080, orderHint: 7},
		{profile: 0, timing: true, decoderModel: true, ops: []int{8, 3, 12}, w: 4000, h: 3000, orderHint: 5},
		{profile: 0, timing: true, equalInterval: true, decoderModel: true, initialDelay: true, ops: []int{8, 3, 12, 1}, w: 333, h: 7777},
		{profile: 0, initialDelay: true, ops: make([]int, 32), w: 100, h: 200, frameIDs: true},
		{profile: 0, w: 100, h: 200, chooseScreen: true, superres: true},
	} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			s, err := parseAV1Sequence(writeSeq(o))
			require.NoError(t, err)
			assert.Equal(t, o.w, s.maxWidth)
			assert.Equal(t, o.h, s.maxHeight)
			assert.Equal(t, o.reduced, s.reducedStill)
			assert.Equal(t, o.orderHint, s.orderHintBits)
			assert.Equal(t, o.superres, s.superres)
			assert.Len(t, s.opPoints, max(len(o.ops), 1))

			// The key frame's size, with and without an override.
			for _, fs := range [][2]int{{0, 0}, {o.w, o.h}, {max(o.w/2, 1), max(o.h/3, 1)}} {
				if o.reduced && fs[0] > 0 {
					continue // no override in a reduced still picture header
				}
				data := append(obuBytes(obuSequenceHeader, writeSeq(o), false), obuBytes(obuFrame, writeKeyFrame(o, fs[0], fs[1]), true)...)
				st, err := scanAV1(data)
				require.NoError(t, err)
				want := [2]int{o.w, o.h}
				if fs[0] > 0 {
					want = fs
				}
				require.Len(t, st.frames, 1)
				assert.Equal(t, want, st.frames[0], "frame size with override %v", fs)
				w, h, err := av1CodedSize(data, nil, false)
				if want == [2]int{o.w, o.h} {
					require.NoError(t, err)
					assert.Equal(t, [2]int{o.w, o.h}, [2]int{w, h})
				} else {
					assert.ErrorContains(t, err, "frame header says")
				}
			}
		})
	}
}

func TestAV1Refusals(t *testing.T) {
	t.Parallel()
	small := seqOpts{reduced: true, still: true, w: 64, h: 64}
	big := seqOpts{reduced: true, still: true, w: 13000, h: 13000}
	seq := func(o seqOpts) []byte { return obuBytes(obuSequenceHeader, writeSeq(o), false) }
	frame := func(o seqOpts) []byte { return obuBytes(obuFrame, writeKeyFrame(o, 0, 0), false) }
	good := append(seq(small), frame(small)...)
	w, h, err := av1CodedSize(good, nil, false)
	require.NoError(t, err)
	assert.Equal(t, [2]int{64, 64}, [2]int{w, h})

	av1C := func(o seqOpts) []byte { return append([]byte{0x81, 0, 0, 0}, seq(o)...) }
	_, _, err = av1CodedSize(good, av1C(small), false)
	assert.NoError(t, err, "av1C agrees")
	_, _, err = av1CodedSize(good, []byte{0x81, 0, 0, 0}, false)
	assert.NoError(t, err, "av1C without configOBUs")

	temporalDelimiter := obuBytes(2, nil, false)
	_, _, err = av1CodedSize(append(temporalDelimiter, good...), nil, false)
	assert.NoError(t, err, "a temporal delimiter first")

	noSize := append(seq(small), frame(small)...)
	last := len(seq(small))
	noSize[last] &^= 2                                   // the frame OBU without a size field…
	noSize = append(noSize[:last+1], noSize[last+2:]...) // …and without its one-byte leb128
	_, _, err = av1CodedSize(noSize, nil, false)
	assert.NoError(t, err, "the last OBU may lack a size field")

	for name, tc := range map[string]struct {
		data, av1C []byte
		want       string
	}{
		"av1C disagrees":         {good, av1C(big), "av1C sequence header says 13000x13000"},
		"two sequence headers":   {append(append(seq(small), seq(big)...), frame(small)...), nil, "two AV1 sequence headers"},
		"no sequence header":     {frame(small), nil, "no AV1 sequence header"},
		"only in av1C":           {frame(small), av1C(small), "no AV1 sequence header"},
		"no frame":               {seq(small), nil, "no AV1 frame"},
		"frame before header":    {append(append(frame(small), seq(small)...), frame(small)...), nil, "frame before"},
		"forbidden bit":          {append([]byte{0x80 | 0x0A, 0}, good...), nil, "forbidden"},
		"OBU past the end":       {good[:len(good)-1], nil, "left"},
		"leb128 too long":        {[]byte{0x0A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, nil, "longer than 8"},
		"leb128 over 32 bits":    {[]byte{0x0A, 0x80, 0x80, 0x80, 0x80, 0x10}, nil, "over 32 bits"},
		"truncated leb128":       {[]byte{0x0A, 0x80}, nil, "truncated"},
		"truncated header":       {obuBytes(obuSequenceHeader, writeSeq(big)[:3], false), nil, "truncated"},
		"profile 7":              {obuBytes(obuSequenceHeader, []byte{0xF0, 0, 0, 0}, false), nil, "seq_profile"},
		"reduced but not still":  {obuBytes(obuSequenceHeader, []byte{0x08, 0, 0, 0}, false), nil, "without still_picture"},
		"ext header cut":         {[]byte{0x0A | 4}, nil, "truncated"},
		"frame header truncated": {append(seq(seqOpts{w: 64, h: 64}), obuBytes(obuFrame, nil, false)...), nil, "truncated"},
	} {
		_, _, err := av1CodedSize(tc.data, tc.av1C, false)
		if assert.Error(t, err, name) && tc.want != "" {
			assert.ErrorContains(t, err, tc.want, name)
		}
	}
}

// TestAV1Layered: a layered image's lower layers may be smaller than its
// sequence header's size; a plain one's may not.
func TestAV1Layered(t *testing.T) {
	t.Parallel()
	o := seqOpts{still: true, w: 256, h: 128}
	data := bytes.Join([][]byte{
		obuBytes(obuSequenceHeader, writeSeq(o), false),
		obuBytes(obuFrame, writeKeyFrame(o, 64, 32), false),
		obuBytes(obuFrame, writeKeyFrame(o, 0, 0), false),
	}, nil)
	w, h, err := av1CodedSize(data, nil, true)
	require.NoError(t, err)
	assert.Equal(t, [2]int{256, 128}, [2]int{w, h})
	_, _, err = av1CodedSize(data, nil, false)
	assert.Error(t, err)
}

// TestBitReader checks the variable-length codes against the writer.
func TestBitReader(t *testing.T) {
	t.Parallel()
	vals := []uint32{0, 1, 2, 3, 7, 8, 255, 1 << 20, 1<<31 - 1, 1<<32 - 2}
	w := &bitWriter{}
	for _, v := range vals {
		w.uvlc(v)
		w.put(uint64(v&0x1FFFF), 17)
	}
	r := &bitReader{b: w.b}
	for _, v := range vals {
		assert.Equal(t, v, r.uvlc())
		assert.Equal(t, v&0x1FFFF, r.f(17))
	}
	assert.False(t, r.bad)

	r = &bitReader{b: w.b}
	for _, v := range vals {
		assert.Equal(t, v, r.ue())
		r.f(17)
	}
	assert.False(t, r.bad)

	// 32 leading zeros: uvlc's escape value; ue refuses.
	r = &bitReader{b: []byte{0, 0, 0, 0, 0x80}}
	assert.Equal(t, uint32(1<<32-1), r.uvlc())
	r = &bitReader{b: []byte{0, 0, 0, 0, 0x80}}
	r.ue()
	assert.True(t, r.bad)
	// Reads past the end.
	r = &bitReader{b: []byte{0xFF}}
	r.f(9)
	assert.True(t, r.bad)
	r = &bitReader{b: []byte{0}}
	r.uvlc()
	assert.True(t, r.bad)
}

// FuzzCodedSize feeds the AV1 and HEVC header readers directly: they never
// panic, and any size they accept is one the formats can code.
func FuzzCodedSize(f *testing.F) {
	o := seqOpts{timing: true, decoderModel: true, ops: []int{8, 3}, w: 640, h: 480, orderHint: 7, frameIDs: true}
	f.Add(append(obuBytes(obuSequenceHeader, writeSeq(o), false), obuBytes(obuFrame, writeKeyFrame(o, 320, 240), true)...))
	r := seqOpts{reduced: true, still: true, w: 13000, h: 13000}
	f.Add(append(obuBytes(obuSequenceHeader, writeSeq(r), false), obuBytes(obuFrame, writeKeyFrame(r, 0, 0), false)...))
	sps := writeSPS(spsOpts{subLayers: 2, profilePresent: []bool{true, false}, levelPresent: []bool{true, true}, chroma: 1, w: 136, h: 104, crop: [4]int{0, 2, 0, 1}})
	f.Add(append(hvcCBox(4, sps), nalData(sps, []byte{19 << 1, 1, 0xAF})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, layered := range []bool{false, true} {
			if w, h, err := av1CodedSize(data, nil, layered); err == nil && (w < 1 || h < 1 || w > 1<<16 || h > 1<<16) {
				t.Fatalf("AV1 size %dx%d", w, h)
			}
		}
		half := len(data) / 2
		if w, h, err := hevcCodedSize(data[half:], data[:half]); err == nil && (w < 1 || h < 1) {
			t.Fatalf("HEVC size %dx%d", w, h)
		}
	})
}
