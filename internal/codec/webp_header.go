package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
)

// VP8X feature flags (WebP container spec).
const (
	webpFlagAnimation = 1 << 1
	webpFlagAlpha     = 1 << 4
)

// readWebPHeader walks the RIFF chunks of a WebP file. With a VP8X chunk
// the canvas size is authoritative and the image chunk, when present, must
// match it (golang.org/x/image/webp checks the same before allocating).
func readWebPHeader(data []byte) (Header, error) {
	h, _, err := readWebPHeaderFrames(data, nil)
	return h, err
}

// readWebPHeaderFrames is readWebPHeader that also returns an animation's
// loop count and, when frames is not nil, appends its parsed frames to it.
//
// An animation (the VP8X animation flag) must have an ANIM chunk before its
// ANMF chunks and no image chunk outside them; every complete ANMF chunk is
// parsed (parseANMF: inside the canvas, a bitstream of the frame's size) and
// counted in Frames, and one cut off by the end of the data ends the
// animation (a truncated download keeps the frames before it). HasAlpha is
// set when the VP8X alpha flag is, when a frame has alpha, or when a frame
// leaves part of the canvas uncovered (the canvas starts transparent).
func readWebPHeaderFrames(data []byte, frames *[]anmf) (Header, int, error) {
	end := len(data)
	if riff := uint64(binary.LittleEndian.Uint32(data[4:])) + 8; riff < uint64(end) {
		end = int(riff) // bytes after the RIFF form are not part of the image
	}
	h := Header{Orientation: 1, Frames: 1, Scans: 1}
	var (
		vp8x      bool
		haveImage bool
		exifSeen  bool
		haveANIM  bool
		loopCount int
		nFrames   int
	)
	for p := 12; p+8 <= end; {
		fourcc := string(data[p : p+4])
		n := uint64(binary.LittleEndian.Uint32(data[p+4:]))
		bodyEnd := min(uint64(p)+8+n, uint64(end))
		body := data[p+8 : bodyEnd]
		complete := uint64(len(body)) == n
		switch fourcc {
		case "VP8X":
			if p != 12 {
				return Header{}, 0, corruptf("webp: VP8X is not the first chunk")
			}
			if n != 10 || !complete {
				return Header{}, 0, corruptf("webp: VP8X chunk has length %d, want 10", n)
			}
			vp8x = true
			flags := body[0]
			h.Animated = flags&webpFlagAnimation != 0
			h.HasAlpha = flags&webpFlagAlpha != 0
			h.Width = 1 + (int(body[4]) | int(body[5])<<8 | int(body[6])<<16)
			h.Height = 1 + (int(body[7]) | int(body[8])<<8 | int(body[9])<<16)
		case "ANIM":
			if !h.Animated {
				return Header{}, 0, corruptf("webp: ANIM chunk without the VP8X animation flag")
			}
			if n != 6 || !complete {
				return Header{}, 0, corruptf("webp: ANIM chunk has length %d, want 6", n)
			}
			if !haveANIM {
				haveANIM = true
				loopCount = int(binary.LittleEndian.Uint16(body[4:]))
			}
		case "ANMF":
			if !h.Animated {
				return Header{}, 0, corruptf("webp: ANMF chunk without the VP8X animation flag")
			}
			if !complete {
				break // a truncated download: the frames before it
			}
			if !haveANIM {
				return Header{}, 0, corruptf("webp: ANMF chunk before the ANIM chunk")
			}
			f, err := parseANMF(body, h.Width, h.Height)
			if err != nil {
				return Header{}, 0, fmt.Errorf("%w (frame %d)", err, nFrames)
			}
			nFrames++
			h.HasAlpha = h.HasAlpha || f.alpha || f.rect != image.Rect(0, 0, h.Width, h.Height)
			if frames != nil {
				*frames = append(*frames, f)
			}
		case "ALPH":
			if h.Animated {
				return Header{}, 0, corruptf("webp: ALPH chunk outside the frames of an animation")
			}
			h.HasAlpha = true
		case "ICCP":
			if vp8x && h.ICC == nil && complete && n > 0 && n <= maxICCSize {
				h.ICC = bytes.Clone(body)
			}
		case "EXIF":
			if !exifSeen && complete {
				exifSeen = true
				h.Orientation = exifOrientation(exifPayload(body))
			}
		case "VP8 ", "VP8L":
			if h.Animated {
				return Header{}, 0, corruptf("webp: %q chunk outside the frames of an animation", fourcc)
			}
			if haveImage {
				break // a second image chunk is ignored by the decoder
			}
			w, hgt, alpha, err := webpImageSize(fourcc, body)
			if err != nil {
				return Header{}, 0, err
			}
			haveImage = true
			if vp8x {
				if w != h.Width || hgt != h.Height {
					return Header{}, 0, corruptf("webp: image chunk is %dx%d but the canvas is %dx%d", w, hgt, h.Width, h.Height)
				}
			} else {
				h.Width, h.Height = w, hgt
				h.HasAlpha = h.HasAlpha || alpha
			}
			if fourcc == "VP8L" {
				h.BytesPerPixel = 4 // *image.NRGBA
			}
		}
		if !complete {
			break
		}
		p += 8 + int(n) + int(n&1) // chunks are padded to an even size
	}
	if h.Animated {
		if nFrames == 0 {
			return Header{}, 0, corruptf("webp: animation without a complete frame")
		}
		// One frame is decoded at a time, into buffers of at most the
		// canvas's size: lossless frames decode to NRGBA.
		h.Frames, h.BytesPerPixel = nFrames, 4
		return h, loopCount, nil
	}
	if !vp8x && !haveImage {
		return Header{}, 0, corruptf("webp: no VP8, VP8L or VP8X chunk")
	}
	if h.BytesPerPixel == 0 {
		h.BytesPerPixel = 3 // *image.YCbCr (4:2:0 planes, counted like JPEG)
		h.Planar = !h.HasAlpha
		if h.HasAlpha {
			h.BytesPerPixel = 4 // *image.NYCbCrA
		}
	}
	return h, 0, nil
}

// webpImageSize reads the dimensions from the start of a VP8 key frame or a
// VP8L bitstream; alpha is the VP8L alpha_is_used hint.
func webpImageSize(fourcc string, body []byte) (w, h int, alpha bool, err error) {
	if fourcc == "VP8 " {
		if len(body) < 10 {
			return 0, 0, false, corruptf("webp: truncated VP8 frame header")
		}
		if body[0]&1 != 0 {
			return 0, 0, false, corruptf("webp: VP8 frame is not a key frame")
		}
		if body[3] != 0x9D || body[4] != 0x01 || body[5] != 0x2A {
			return 0, 0, false, corruptf("webp: bad VP8 start code")
		}
		w = int(binary.LittleEndian.Uint16(body[6:]) & 0x3FFF)
		h = int(binary.LittleEndian.Uint16(body[8:]) & 0x3FFF)
		return w, h, false, nil
	}
	if len(body) < 5 {
		return 0, 0, false, corruptf("webp: truncated VP8L header")
	}
	if body[0] != 0x2F {
		return 0, 0, false, corruptf("webp: bad VP8L signature")
	}
	bits := binary.LittleEndian.Uint32(body[1:])
	if bits>>29 != 0 {
		return 0, 0, false, corruptf("webp: unsupported VP8L version %d", bits>>29)
	}
	w = 1 + int(bits&0x3FFF)
	h = 1 + int(bits>>14&0x3FFF)
	return w, h, bits>>28&1 != 0, nil
}
