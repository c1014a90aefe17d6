package vp8dec

import (
	"errors"
	"fmt"

	"github.com/imageopto/imageopto/internal/vp8"
)

// ErrCorrupt is wrapped by every error about malformed or unsupported
// data.
var ErrCorrupt = errors.New("corrupt VP8 data")

func corruptf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, a...)...)
}

// MaxDimension is the largest width or height a VP8 frame can declare
// (14 bits).
const MaxDimension = 1<<14 - 1

// DecodeConfig returns the dimensions a VP8 key frame declares: data is
// the payload of a WebP "VP8 " chunk.
func DecodeConfig(data []byte) (width, height int, err error) {
	if len(data) < 10 {
		return 0, 0, corruptf("vp8: truncated frame header (%d bytes)", len(data))
	}
	tag := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16
	if tag&1 != 0 {
		return 0, 0, corruptf("vp8: not a key frame")
	}
	if v := tag >> 1 & 7; v > 3 {
		return 0, 0, corruptf("vp8: unknown version %d", v)
	}
	if tag>>4&1 == 0 {
		return 0, 0, corruptf("vp8: frame is not shown")
	}
	if data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a {
		return 0, 0, corruptf("vp8: bad start code")
	}
	width = int(uint16(data[6])|uint16(data[7])<<8) & 0x3fff
	height = int(uint16(data[8])|uint16(data[9])<<8) & 0x3fff
	if width == 0 || height == 0 {
		return 0, 0, corruptf("vp8: frame is %dx%d", width, height)
	}
	return width, height, nil
}

// parseHeader reads the frame header: the uncompressed part, then the
// start of the first partition, and sets up the token partitions.
func (d *decoder) parseHeader(data []byte) error {
	w, h, err := DecodeConfig(data)
	if err != nil {
		return err
	}
	d.w, d.h = w, h
	d.mbw, d.mbh = (w+15)>>4, (h+15)>>4
	tag := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16
	firstSize := int(tag >> 5)
	rest := data[10:]
	if firstSize > len(rest) {
		return corruptf("vp8: first partition of %d bytes in %d", firstSize, len(rest))
	}
	br := &d.first
	br.init(rest[:firstSize])
	rest = rest[firstSize:]

	br.literal(2) // colour space and clamping type: neither changes decoding
	d.segEnabled = br.bit(128)
	if d.segEnabled {
		d.segUpdateMap = br.bit(128)
		if br.bit(128) { // update segment feature data
			d.segAbsolute = br.bit(128)
			for i := range d.segQ {
				d.segQ[i] = br.flagged(7)
			}
			for i := range d.segLF {
				d.segLF[i] = br.flagged(6)
			}
		}
		if d.segUpdateMap {
			for i := range d.segProbs {
				d.segProbs[i] = 255
				if br.bit(128) {
					d.segProbs[i] = uint8(br.literal(8))
				}
			}
		}
	}
	d.simpleFilter = br.bit(128)
	d.filterLevel = int32(br.literal(6))
	d.sharpness = int32(br.literal(3))
	d.lfDeltas = br.bit(128)
	if d.lfDeltas && br.bit(128) {
		for i := range d.refDelta {
			d.refDelta[i] = br.flagged(6)
		}
		for i := range d.modeDelta {
			d.modeDelta[i] = br.flagged(6)
		}
	}
	d.nparts = 1 << br.literal(2)

	// Token partitions: nparts-1 three-byte sizes, then the data.
	nsizes := 3 * (d.nparts - 1)
	if len(rest) < nsizes {
		return corruptf("vp8: truncated partition sizes")
	}
	sizes, rest := rest[:nsizes], rest[nsizes:]
	for i := 0; i < d.nparts; i++ {
		n := len(rest)
		if i < d.nparts-1 {
			n = int(sizes[3*i]) | int(sizes[3*i+1])<<8 | int(sizes[3*i+2])<<16
			if n > len(rest) {
				return corruptf("vp8: partition %d of %d bytes in %d", i, n, len(rest))
			}
		}
		d.parts[i].init(rest[:n])
		rest = rest[n:]
	}

	// Quantisers.
	base := int32(br.literal(7))
	dy1dc := br.flagged(4)
	dy2dc := br.flagged(4)
	dy2ac := br.flagged(4)
	duvdc := br.flagged(4)
	duvac := br.flagged(4)
	for s := range d.quant {
		q := base
		if d.segEnabled {
			q = d.segQ[s]
			if !d.segAbsolute {
				q += base
			}
		}
		q = clampQ(q)
		m := &d.quant[s]
		m.y1[0] = vp8.DCQ[clampQ(q+dy1dc)]
		m.y1[1] = vp8.ACQ[q]
		m.y2[0] = vp8.DCQ[clampQ(q+dy2dc)] * 2
		m.y2[1] = vp8.ACQ[clampQ(q+dy2ac)] * 155 / 100
		if m.y2[1] < 8 {
			m.y2[1] = 8
		}
		m.uv[0] = min(vp8.DCQ[clampQ(q+duvdc)], 132)
		m.uv[1] = vp8.ACQ[clampQ(q+duvac)]
	}

	br.bit(128) // refresh_entropy_probs: irrelevant to a single frame

	for t := range vp8.CoefProbs {
		for b := range vp8.CoefProbs[t] {
			for c := range vp8.CoefProbs[t][b] {
				for k, v := range vp8.CoefProbs[t][b][c] {
					if br.bit(vp8.CoefUpdateProbs[t][b][c][k]) {
						v = uint8(br.literal(8))
					}
					d.coef[t*8+b][c][k] = v
				}
			}
		}
	}
	for t := 0; t < 4; t++ {
		for n := 0; n <= 16; n++ {
			d.probs[t][n] = &d.coef[t*8+int(vp8.Bands[n])]
		}
	}
	d.skipEnabled = br.bit(128)
	if d.skipEnabled {
		d.skipProb = uint8(br.literal(8))
	}
	if br.eof {
		return corruptf("vp8: truncated frame header")
	}
	d.setupFilter()
	return nil
}

func clampQ(q int32) int32 { return max(0, min(q, 127)) }

// setupFilter computes the loop filter parameters of each segment, for
// macroblocks with and without sub-block prediction (RFC 6386 section 9.6
// and 15).
func (d *decoder) setupFilter() {
	for s := 0; s < 4; s++ {
		level := d.filterLevel
		if d.segEnabled {
			level = d.segLF[s]
			if !d.segAbsolute {
				level += d.filterLevel
			}
			level = max(0, min(level, 63))
		}
		for i4 := 0; i4 < 2; i4++ {
			l := level
			if d.lfDeltas {
				l += d.refDelta[0] // intra frame
				if i4 == 1 {
					l += d.modeDelta[0] // B_PRED
				}
				l = max(0, min(l, 63))
			}
			f := &d.fparams[s][i4]
			*f = filterParams{}
			if l == 0 {
				continue
			}
			il := l
			if d.sharpness > 0 {
				if d.sharpness > 4 {
					il >>= 2
				} else {
					il >>= 1
				}
				il = min(il, 9-d.sharpness)
			}
			il = max(il, 1)
			f.interior = uint8(il)
			f.limit = uint8(2*l + il)
			switch {
			case l >= 40:
				f.hev = 2
			case l >= 15:
				f.hev = 1
			}
		}
	}
}
