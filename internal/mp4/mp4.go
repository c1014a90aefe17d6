// Package mp4 writes and reads back the MP4 files (ISO/IEC 14496-12 and
// -15) of one H.264 video track: an ftyp box, the moov box before the media
// data (so that a browser can start playing while it downloads), and one
// mdat box holding every sample in a single chunk.
package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Track is one H.264 video track.
type Track struct {
	// Width and Height are the display size.
	Width, Height int
	// Timescale is the number of time units in a second.
	Timescale uint32
	// SPS and PPS are the parameter sets (NAL units without start codes).
	SPS, PPS []byte
	// Samples are the frames in decoding (and display) order.
	Samples []Sample
}

// Sample is one frame.
type Sample struct {
	// NALs are the frame's NAL units (without start codes); they are
	// stored with 4-byte length prefixes.
	NALs [][]byte
	// Duration is how long the frame is shown, in Timescale units.
	Duration uint32
	// Sync marks an IDR picture, where playback may start.
	Sync bool
}

func (s *Sample) size() int {
	n := 0
	for _, nal := range s.NALs {
		n += 4 + len(nal)
	}
	return n
}

// box is a box under construction.
type box struct{ b []byte }

func (x *box) u8(v uint8)     { x.b = append(x.b, v) }
func (x *box) u16(v uint16)   { x.b = binary.BigEndian.AppendUint16(x.b, v) }
func (x *box) u32(v uint32)   { x.b = binary.BigEndian.AppendUint32(x.b, v) }
func (x *box) str(s string)   { x.b = append(x.b, s...) }
func (x *box) zeros(n int)    { x.b = append(x.b, make([]byte, n)...) }
func (x *box) bytes(p []byte) { x.b = append(x.b, p...) }

// open starts a box of type typ; close fills in its size.
func (x *box) open(typ string) int {
	at := len(x.b)
	x.u32(0)
	x.str(typ)
	return at
}

func (x *box) close(at int) {
	binary.BigEndian.PutUint32(x.b[at:], uint32(len(x.b)-at))
}

// full starts a full box (version and flags).
func (x *box) full(typ string, version uint8, flags uint32) int {
	at := x.open(typ)
	x.u32(uint32(version)<<24 | flags)
	return at
}

// matrix writes the identity transformation matrix.
func (x *box) matrix() {
	for _, v := range []uint32{0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000} {
		x.u32(v)
	}
}

// Write writes t as an MP4 file to w.
func Write(w io.Writer, t *Track) error {
	switch {
	case len(t.Samples) == 0:
		return errors.New("mp4: no samples")
	case t.Width <= 0 || t.Height <= 0 || t.Width > 0xFFFF || t.Height > 0xFFFF:
		return fmt.Errorf("mp4: size %dx%d", t.Width, t.Height)
	case t.Timescale == 0:
		return errors.New("mp4: no timescale")
	case len(t.SPS) < 4 || len(t.PPS) < 1 || len(t.SPS) > 0xFFFF || len(t.PPS) > 0xFFFF:
		return errors.New("mp4: parameter sets")
	case !t.Samples[0].Sync:
		return errors.New("mp4: the first sample is not a sync sample")
	}
	var data, duration uint64
	for i := range t.Samples {
		data += uint64(t.Samples[i].size())
		duration += uint64(t.Samples[i].Duration)
	}
	if duration > 0xFFFFFFFF {
		return errors.New("mp4: too long")
	}
	var head box
	ftyp := head.open("ftyp")
	head.str("isom")
	head.u32(0x200)
	head.str("isomiso2avc1mp41")
	head.close(ftyp)
	moovAt := len(head.b)
	writeMoov(&head, t, uint32(duration), 0)
	// The chunk offset depends on the size of moov, which does not depend
	// on the offset's value: write moov once more with it.
	offset := uint64(len(head.b)) + 8
	if offset+data > 0xFFFFFFFF {
		return errors.New("mp4: over 4 GiB")
	}
	head.b = head.b[:moovAt]
	writeMoov(&head, t, uint32(duration), uint32(offset))
	head.u32(uint32(8 + data))
	head.str("mdat")
	if _, err := w.Write(head.b); err != nil {
		return err
	}
	var prefix [4]byte
	for i := range t.Samples {
		for _, nal := range t.Samples[i].NALs {
			binary.BigEndian.PutUint32(prefix[:], uint32(len(nal)))
			if _, err := w.Write(prefix[:]); err != nil {
				return err
			}
			if _, err := w.Write(nal); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeMoov(x *box, t *Track, duration, chunkOffset uint32) {
	moov := x.open("moov")

	mvhd := x.full("mvhd", 0, 0)
	x.u32(0) // creation_time
	x.u32(0) // modification_time
	x.u32(t.Timescale)
	x.u32(duration)
	x.u32(0x10000) // rate 1.0
	x.u16(0x100)   // volume 1.0
	x.zeros(10)
	x.matrix()
	x.zeros(24) // pre_defined
	x.u32(2)    // next_track_ID
	x.close(mvhd)

	trak := x.open("trak")
	tkhd := x.full("tkhd", 0, 3) // enabled, in movie
	x.u32(0)
	x.u32(0)
	x.u32(1) // track_ID
	x.u32(0)
	x.u32(duration)
	x.zeros(8)
	x.u16(0) // layer
	x.u16(0) // alternate_group
	x.u16(0) // volume: video
	x.u16(0)
	x.matrix()
	x.u32(uint32(t.Width) << 16)
	x.u32(uint32(t.Height) << 16)
	x.close(tkhd)

	mdia := x.open("mdia")
	mdhd := x.full("mdhd", 0, 0)
	x.u32(0)
	x.u32(0)
	x.u32(t.Timescale)
	x.u32(duration)
	x.u16(0x55C4) // language "und"
	x.u16(0)
	x.close(mdhd)
	hdlr := x.full("hdlr", 0, 0)
	x.u32(0)
	x.str("vide")
	x.zeros(12)
	x.str("VideoHandler\x00")
	x.close(hdlr)

	minf := x.open("minf")
	vmhd := x.full("vmhd", 0, 1)
	x.zeros(8) // graphicsmode, opcolor
	x.close(vmhd)
	dinf := x.open("dinf")
	dref := x.full("dref", 0, 0)
	x.u32(1)
	url := x.full("url ", 0, 1) // the data is in this file
	x.close(url)
	x.close(dref)
	x.close(dinf)

	stbl := x.open("stbl")
	stsd := x.full("stsd", 0, 0)
	x.u32(1)
	avc1 := x.open("avc1")
	x.zeros(6)
	x.u16(1) // data_reference_index
	x.zeros(16)
	x.u16(uint16(t.Width))
	x.u16(uint16(t.Height))
	x.u32(0x480000) // 72 dpi
	x.u32(0x480000)
	x.u32(0)
	x.u16(1) // frame_count
	x.zeros(32)
	x.u16(0x18)   // depth
	x.u16(0xFFFF) // pre_defined −1
	avcC := x.open("avcC")
	x.u8(1)        // configurationVersion
	x.u8(t.SPS[1]) // profile
	x.u8(t.SPS[2]) // constraint flags
	x.u8(t.SPS[3]) // level
	x.u8(0xFF)     // lengthSizeMinusOne = 3
	x.u8(0xE1)     // one SPS
	x.u16(uint16(len(t.SPS)))
	x.bytes(t.SPS)
	x.u8(1) // one PPS
	x.u16(uint16(len(t.PPS)))
	x.bytes(t.PPS)
	x.close(avcC)
	colr := x.open("colr")
	x.str("nclx")
	x.u16(1) // BT.709 primaries
	x.u16(1) // BT.709 transfer
	x.u16(1) // BT.709 matrix
	x.u8(0)  // limited range
	x.close(colr)
	pasp := x.open("pasp")
	x.u32(1)
	x.u32(1)
	x.close(pasp)
	x.close(avc1)
	x.close(stsd)

	stts := x.full("stts", 0, 0)
	n := x.len()
	x.u32(0)
	entries := uint32(0)
	for i := 0; i < len(t.Samples); {
		j := i
		for j < len(t.Samples) && t.Samples[j].Duration == t.Samples[i].Duration {
			j++
		}
		x.u32(uint32(j - i))
		x.u32(t.Samples[i].Duration)
		entries++
		i = j
	}
	binary.BigEndian.PutUint32(x.b[n:], entries)
	x.close(stts)

	stss := x.full("stss", 0, 0)
	n = x.len()
	x.u32(0)
	entries = 0
	for i := range t.Samples {
		if t.Samples[i].Sync {
			x.u32(uint32(i + 1))
			entries++
		}
	}
	binary.BigEndian.PutUint32(x.b[n:], entries)
	x.close(stss)

	stsc := x.full("stsc", 0, 0)
	x.u32(1)
	x.u32(1) // first_chunk
	x.u32(uint32(len(t.Samples)))
	x.u32(1) // sample_description_index
	x.close(stsc)

	stsz := x.full("stsz", 0, 0)
	x.u32(0) // sizes differ
	x.u32(uint32(len(t.Samples)))
	for i := range t.Samples {
		x.u32(uint32(t.Samples[i].size()))
	}
	x.close(stsz)

	stco := x.full("stco", 0, 0)
	x.u32(1)
	x.u32(chunkOffset)
	x.close(stco)

	x.close(stbl)
	x.close(minf)
	x.close(mdia)
	x.close(trak)
	x.close(moov)
}

func (x *box) len() int { return len(x.b) }
