package vp8enc

import (
	"encoding/binary"
	"errors"
)

// FrameQIndex reads the quantiser index of the first VP8 frame in a WebP
// file (RFC 6386 section 9.6: y_ac_qi, after the colour space, clamping,
// segmentation, filter and partition fields, which it expects this
// encoder's way: no filter deltas; with segments, their quantisers are
// deltas from this one). Tests use it to check which quality reached the
// encoder.
func FrameQIndex(webp []byte) (int, error) {
	bad := errors.New("vp8enc: not a WebP file with a VP8 frame this encoder wrote")
	if len(webp) < 12 || string(webp[:4]) != "RIFF" || string(webp[8:12]) != "WEBP" {
		return 0, bad
	}
	for off := 12; off+8 <= len(webp); {
		n := int(binary.LittleEndian.Uint32(webp[off+4:]))
		if n < 0 || off+8+n > len(webp) {
			return 0, bad
		}
		if string(webp[off:off+4]) != "VP8 " {
			off += 8 + n + n&1
			continue
		}
		f := webp[off+8 : off+8+n]
		if len(f) < 12 || f[0]&1 != 0 {
			return 0, bad
		}
		d := boolDecoder{data: f[10:], rng: 255}
		d.value = uint32(d.data[0])<<8 | uint32(d.data[1])
		d.pos = 2
		d.literal(2) // colour space, clamping
		if d.literal(1) != 0 {
			// Segmentation: map and feature update flags, then the
			// features (mode, 4 flagged quantisers and filter levels
			// with signs) and the map's 3 flagged probabilities.
			updMap, updData := d.literal(1), d.literal(1)
			if updData != 0 {
				d.literal(1) // mode
				for i := range 8 {
					if d.literal(1) != 0 {
						d.literal(7 - i/4 + 1) // quantiser (7) or filter (6) value, sign
					}
				}
			}
			if updMap != 0 {
				for range 3 {
					if d.literal(1) != 0 {
						d.literal(8)
					}
				}
			}
		}
		d.literal(1 + 6 + 3) // filter type, level, sharpness
		if d.literal(1) != 0 {
			return 0, bad // loop filter deltas
		}
		d.literal(2) // partitions
		return int(d.literal(7)), nil
	}
	return 0, bad
}

// boolDecoder is the decoder of RFC 6386 section 7.3, enough to read the
// first fields of a frame header.
type boolDecoder struct {
	data       []byte
	pos        int
	value, rng uint32
	bits       int
}

func (d *boolDecoder) read(prob uint32) bool {
	split := 1 + ((d.rng-1)*prob)>>8
	big := split << 8
	bit := d.value >= big
	if bit {
		d.rng -= split
		d.value -= big
	} else {
		d.rng = split
	}
	for d.rng < 128 {
		d.value <<= 1
		d.rng <<= 1
		if d.bits++; d.bits == 8 {
			d.bits = 0
			if d.pos < len(d.data) {
				d.value |= uint32(d.data[d.pos])
				d.pos++
			}
		}
	}
	return bit
}

func (d *boolDecoder) literal(n int) uint32 {
	var v uint32
	for range n {
		v <<= 1
		if d.read(128) {
			v |= 1
		}
	}
	return v
}
