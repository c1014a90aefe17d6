package mp4

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func track(durations ...uint32) *Track {
	t := &Track{Width: 320, Height: 240, Timescale: 1000,
		SPS: []byte{0x67, 66, 0xC0, 30, 1, 2}, PPS: []byte{0x68, 0xCE}}
	for i, d := range durations {
		nal := bytes.Repeat([]byte{byte(i + 1)}, 10+i)
		t.Samples = append(t.Samples, Sample{NALs: [][]byte{{0x65}, nal}, Duration: d, Sync: i%3 == 0})
	}
	return t
}

// TestRoundTrip: what Write writes, Read reads back: sizes, timing, sync
// samples, parameter sets and every sample's bytes.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, durations := range [][]uint32{{1000}, {40, 40, 40, 100, 100, 40, 70}} {
		tr := track(durations...)
		var b bytes.Buffer
		require.NoError(t, Write(&b, tr))
		info, err := Read(b.Bytes())
		require.NoError(t, err)
		assert.Equal(t, []string{"ftyp", "moov", "mdat"}, info.Boxes)
		assert.Equal(t, "isom", info.Brand)
		assert.Equal(t, [2]int{320, 240}, [2]int{info.Width, info.Height})
		assert.Equal(t, uint32(1000), info.Timescale)
		assert.Equal(t, durations, info.Durations)
		var total uint32
		for _, d := range durations {
			total += d
		}
		assert.Equal(t, total, info.Duration)
		var sync []int
		for i := range durations {
			if i%3 == 0 {
				sync = append(sync, i+1)
			}
		}
		assert.Equal(t, sync, info.Sync)
		assert.Equal(t, tr.SPS, info.SPS)
		assert.Equal(t, tr.PPS, info.PPS)
		assert.Equal(t, uint8(66), info.Profile)
		assert.Equal(t, uint8(30), info.Level)
		require.Len(t, info.Samples, len(durations))
		for i, s := range info.Samples {
			var want []byte
			for _, nal := range tr.Samples[i].NALs {
				want = binary.BigEndian.AppendUint32(want, uint32(len(nal)))
				want = append(want, nal...)
			}
			assert.Equal(t, want, s, "sample %d", i)
		}
	}
}

// TestSttsRuns: equal consecutive durations share one stts entry.
func TestSttsRuns(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, Write(&b, track(40, 40, 40, 100, 100, 40)))
	i := bytes.Index(b.Bytes(), []byte("stts"))
	require.Positive(t, i)
	body := b.Bytes()[i+4:]
	assert.Equal(t, uint32(3), binary.BigEndian.Uint32(body[4:]), "entries")
	assert.Equal(t, []uint32{3, 40, 2, 100, 1, 40}, []uint32{
		binary.BigEndian.Uint32(body[8:]), binary.BigEndian.Uint32(body[12:]),
		binary.BigEndian.Uint32(body[16:]), binary.BigEndian.Uint32(body[20:]),
		binary.BigEndian.Uint32(body[24:]), binary.BigEndian.Uint32(body[28:])})
}

func TestWriteRefuses(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(*Track){
		"no samples":       func(t *Track) { t.Samples = nil },
		"first not sync":   func(t *Track) { t.Samples[0].Sync = false },
		"no timescale":     func(t *Track) { t.Timescale = 0 },
		"no size":          func(t *Track) { t.Width = 0 },
		"short SPS":        func(t *Track) { t.SPS = t.SPS[:2] },
		"size over 16 bit": func(t *Track) { t.Height = 70000 },
	} {
		tr := track(40, 40)
		mutate(tr)
		assert.Error(t, Write(&bytes.Buffer{}, tr), name)
	}
}

// TestReadRefuses: Read checks the structure (the test can fail).
func TestReadRefuses(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, Write(&b, track(40, 40, 40)))
	good := b.Bytes()
	_, err := Read(good)
	require.NoError(t, err)
	for name, bad := range map[string][]byte{
		"truncated":      good[:len(good)-3],
		"box too large":  func() []byte { c := bytes.Clone(good); binary.BigEndian.PutUint32(c[0:], 1<<30); return c }(),
		"no moov":        good[:32],
		"short header":   good[:5],
		"stsz count off": func() []byte { c := bytes.Clone(good); i := bytes.Index(c, []byte("stsz")); c[i+15]++; return c }(),
	} {
		_, err := Read(bad)
		assert.Error(t, err, name)
	}
}
