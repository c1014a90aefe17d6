package codec

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"runtime"

	"github.com/imageopto/imageopto/internal/vp8dec"
)

// stillLossyVP8 returns the payload of the "VP8 " chunk of a still WebP
// whose image is lossy and has no alpha — the files internal/vp8dec
// decodes on its own — and nil for any other file (lossless, alpha,
// animation, malformed: those go to golang.org/x/image/webp, whose errors
// the callers already report).
func stillLossyVP8(data []byte) []byte {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil
	}
	end := len(data)
	if riff := uint64(binary.LittleEndian.Uint32(data[4:])) + 8; riff < uint64(end) {
		end = int(riff)
	}
	for p := 12; p+8 <= end; {
		fourcc := string(data[p : p+4])
		n := uint64(binary.LittleEndian.Uint32(data[p+4:]))
		if uint64(p)+8+n > uint64(end) {
			return nil
		}
		body := data[p+8 : p+8+int(n)]
		switch fourcc {
		case "VP8 ":
			return body
		case "VP8X":
			if n < 1 || body[0]&(webpFlagAlpha|webpFlagAnimation) != 0 {
				return nil
			}
		case "ALPH", "VP8L", "ANIM", "ANMF":
			return nil
		}
		p += 8 + int(n) + int(n&1)
	}
	return nil
}

// concurrentVP8Pixels is the frame size from which a parallel decode (the
// caller allows a second goroutine) is worth it: the stages then run as a
// pipeline on two goroutines (when there is a second processor).
const concurrentVP8Pixels = 1 << 20

// SkipFilterShrink is the reduction from which DecodeWebPPlanes leaves out
// VP8's loop filter: when every output pixel spans at least this many
// source pixels across and down, the resampler averages the filter's
// smoothing of block edges away. Measured (SSIM of the PNG output of
// width=W against the filtered source resized with CatmullRom, six lossy
// files of 4-24 MP, cwebp q15-q90): the filter's absence costs at most
// 0.0017 at a shrink of 4, 0.00043 at 6, 0.00020 at 8 and 0.00006 at 20.
const SkipFilterShrink = 8

// decodeVP8 decodes a VP8 key frame with internal/vp8dec, checking the
// dimensions it declares against want before allocating anything.
func decodeVP8(ctx context.Context, bits []byte, want image.Point, skipFilter, parallel bool) (*image.YCbCr, error) {
	w, h, err := vp8dec.DecodeConfig(bits)
	if err != nil {
		return nil, fmt.Errorf("%w: webp: %w", ErrCorrupt, err)
	}
	if w != want.X || h != want.Y {
		return nil, corruptf("webp: VP8 frame is %dx%d but the header says %dx%d", w, h, want.X, want.Y)
	}
	opt := vp8dec.Options{
		MaxPixels:      want.X * want.Y,
		SkipLoopFilter: skipFilter,
		Concurrent:     parallel && w*h >= concurrentVP8Pixels && runtime.GOMAXPROCS(0) > 1,
	}
	m, err := vp8dec.Decode(ctx, bits, opt)
	if err != nil {
		if errors.Is(err, vp8dec.ErrCorrupt) {
			return nil, fmt.Errorf("%w: webp: %w", ErrCorrupt, err)
		}
		return nil, err // stopped: ctx.Err()
	}
	return m, nil
}
