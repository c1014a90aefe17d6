package wasmcodec

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spsOpts are the fields of an HEVC SPS to write.
type spsOpts struct {
	subLayers      int // sps_max_sub_layers_minus1
	profilePresent []bool
	levelPresent   []bool
	chroma         int
	separate       bool
	w, h           int
	crop           [4]int // left, right, top, bottom offsets (in chroma units)
}

// writeSPS writes an SPS NAL unit (H.265 §7.3.2.2), with its NAL header and
// emulation prevention, independently of parseHEVCSPS.
func writeSPS(o spsOpts) []byte {
	w := &bitWriter{}
	w.put(0, 4) // sps_video_parameter_set_id
	w.put(uint64(o.subLayers), 3)
	w.put(1, 1)
	// profile_tier_level(1, subLayers): mostly zero bits, which need
	// emulation prevention.
	w.put(1, 8) // profile_space 0, tier 0, profile_idc 1
	w.put(0x60000000, 32)
	w.put(0, 48)
	w.put(93, 8) // general_level_idc
	for i := range o.subLayers {
		w.flag(o.profilePresent[i])
		w.flag(o.levelPresent[i])
	}
	if o.subLayers > 0 {
		w.put(0, 2*(8-o.subLayers))
	}
	for i := range o.subLayers {
		if o.profilePresent[i] {
			w.put(0, 88)
		}
		if o.levelPresent[i] {
			w.put(0, 8)
		}
	}
	w.ue(0) // sps_seq_parameter_set_id
	w.ue(uint32(o.chroma))
	if o.chroma == 3 {
		w.flag(o.separate)
	}
	w.ue(uint32(o.w))
	w.ue(uint32(o.h))
	w.flag(o.crop != [4]int{})
	if o.crop != [4]int{} {
		for _, c := range o.crop {
			w.ue(uint32(c))
		}
	}
	w.ue(0) // bit_depth_luma_minus8
	w.ue(0) // bit_depth_chroma_minus8
	rbspBytes := w.trailing()
	out := []byte{hevcSPS << 1, 1}
	zeros := 0
	for _, c := range rbspBytes {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

func TestHEVCSPS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		o    spsOpts
		w, h int
	}{
		{spsOpts{chroma: 1, w: 136, h: 104, crop: [4]int{0, 2, 0, 1}}, 132, 102},
		{spsOpts{chroma: 1, w: 512, h: 512}, 512, 512},
		{spsOpts{chroma: 0, w: 8, h: 16, crop: [4]int{1, 2, 3, 4}}, 5, 9},
		{spsOpts{chroma: 2, w: 64, h: 64, crop: [4]int{1, 1, 1, 1}}, 60, 62},
		{spsOpts{chroma: 3, w: 64, h: 64, crop: [4]int{1, 1, 1, 1}}, 62, 62},
		{spsOpts{chroma: 3, separate: true, w: 64, h: 64, crop: [4]int{1, 1, 1, 1}}, 62, 62},
		{spsOpts{chroma: 1, w: 13000, h: 13000}, 13000, 13000},
		{spsOpts{subLayers: 3, profilePresent: []bool{true, false, true}, levelPresent: []bool{true, true, false}, chroma: 1, w: 4032, h: 3024}, 4032, 3024},
		{spsOpts{subLayers: 6, profilePresent: []bool{true, true, true, true, true, true}, levelPresent: []bool{true, true, true, true, true, true}, chroma: 1, w: 640, h: 480}, 640, 480},
	} {
		t.Run(fmt.Sprintf("%+v", tc.o), func(t *testing.T) {
			nal := writeSPS(tc.o)
			s, err := parseHEVCSPS(nal)
			require.NoError(t, err)
			assert.Equal(t, [2]int{tc.o.w, tc.o.h}, [2]int{s.codedW, s.codedH})
			assert.Equal(t, [2]int{tc.w, tc.h}, [2]int{s.w, s.h})
		})
	}
	assert.Contains(t, string(writeSPS(spsOpts{chroma: 1, w: 64, h: 64})), "\x00\x00\x03", "the test exercises emulation prevention")
}

// hvcCBox builds an hvcC body holding the given NAL units.
func hvcCBox(lengthSize int, nals ...[]byte) []byte {
	b := make([]byte, 23)
	b[0] = 1
	b[21] = 0xFC | byte(lengthSize-1)
	b[22] = byte(len(nals))
	for _, n := range nals {
		b = append(b, 0x80|n[0]>>1&0x3F)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint16(b, uint16(len(n)))
		b = append(b, n...)
	}
	return b
}

// nalData writes NAL units behind 4-byte lengths, as in an item's data.
func nalData(nals ...[]byte) []byte {
	var b []byte
	for _, n := range nals {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	return b
}

func TestHEVCCodedSize(t *testing.T) {
	t.Parallel()
	small := writeSPS(spsOpts{chroma: 1, w: 64, h: 64})
	big := writeSPS(spsOpts{chroma: 1, w: 13000, h: 13000})
	vps := []byte{32 << 1, 1, 0x0C, 0x01}
	slice := []byte{19 << 1, 1, 0xAF, 0x00, 0x12}
	w, h, err := hevcCodedSize(nalData(slice), hvcCBox(4, vps, small))
	require.NoError(t, err)
	assert.Equal(t, [2]int{64, 64}, [2]int{w, h})
	w, h, err = hevcCodedSize(nalData(small, slice), hvcCBox(4, vps))
	require.NoError(t, err, "the SPS in the data only")
	assert.Equal(t, [2]int{64, 64}, [2]int{w, h})
	two := binary.BigEndian.AppendUint16(nil, uint16(len(slice)))
	_, _, err = hevcCodedSize(append(two, slice...), hvcCBox(2, small))
	assert.NoError(t, err, "2-byte lengths")

	for name, tc := range map[string]struct {
		data, hvcC []byte
		want       string
	}{
		"a second SPS in the data": {nalData(big, slice), hvcCBox(4, small), "two HEVC SPS"},
		"no SPS":                   {nalData(slice), hvcCBox(4, vps), "no HEVC sequence parameter set"},
		"no data":                  {nil, hvcCBox(4, small), "no HEVC NAL unit"},
		"NAL past the end":         {nalData(slice)[:6], hvcCBox(4, small), "left"},
		"truncated length":         {[]byte{0, 0}, hvcCBox(4, small), "truncated"},
		"truncated hvcC":           {nalData(slice), hvcCBox(4, small)[:30], "truncated hvcC"},
		"length size 3":            {nalData(slice), hvcCBox(3, small), "length size 3"},
		"empty NAL":                {nalData([]byte{}), hvcCBox(4, small), "truncated"},
		"wide conformance window":  {nalData(slice), hvcCBox(4, writeSPS(spsOpts{chroma: 1, w: 13000, h: 13000, crop: [4]int{0, 6468, 0, 6468}})), "conformance window"},
		"window crops everything":  {nalData(slice), hvcCBox(4, writeSPS(spsOpts{chroma: 1, w: 64, h: 64, crop: [4]int{0, 32, 0, 0}})), "crops all"},
		"zero width":               {nalData(slice), hvcCBox(4, writeSPS(spsOpts{chroma: 1, w: 0, h: 64})), "zero size"},
		"chroma 4":                 {nalData(slice), hvcCBox(4, writeSPS(spsOpts{chroma: 4, w: 64, h: 64})), "chroma_format_idc"},
		"7 sub-layers":             {nalData(slice), hvcCBox(4, []byte{hevcSPS << 1, 1, 0x0F, 0, 0, 0}), "sub-layers"},
		"truncated SPS":            {nalData(slice), hvcCBox(4, small[:10]), "truncated"},
	} {
		_, _, err := hevcCodedSize(tc.data, tc.hvcC)
		if assert.Error(t, err, name) {
			assert.ErrorContains(t, err, tc.want, name)
		}
	}
}
