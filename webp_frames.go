package imageopto

import (
	"context"
	"time"

	"github.com/imageopto/imageopto/internal/codec"
)

// Animated WebP input: the built-in WebP codec's DecodeFrames. (Animated
// WebP output needs a WebP encoder: wasmcodec's WebP codec has
// EncodeFrames.)

// decodeWebPFrames decodes and composes every frame of an animated WebP
// (a still WebP gives one frame), within l's frame and total-pixel limits,
// checked before any frame is decoded.
func decodeWebPFrames(ctx context.Context, data []byte, l Limits) ([]Frame, int, error) {
	h, err := codec.ReadHeader(data)
	if err != nil {
		return nil, 0, codecError(err)
	}
	l = l.withDefaults()
	frames, loop, err := codec.DecodeWebPFrames(ctx, data, h, l.MaxFrames, l.MaxTotalPixels)
	if err != nil {
		return nil, 0, codecError(err)
	}
	out := make([]Frame, len(frames))
	for i, f := range frames {
		out[i] = Frame{Image: f.Image, Delay: time.Duration(f.Duration) * time.Millisecond}
	}
	return out, webpLoopCount(loop), nil
}

// webpLoopCount converts the loop count of a WebP ANIM chunk (0: forever,
// n: play n times) to the one Codec.DecodeFrames returns,
// image/gif.GIF.LoopCount's (−1: play once, 0: forever, n: n+1 times).
func webpLoopCount(stored int) int {
	switch {
	case stored <= 0:
		return 0
	case stored == 1:
		return -1
	}
	return stored - 1
}

// framesEncodeMemory is the animation encoder's peak memory for n frames
// of the plan's output (Codec.EncodeFramesMemory), else its EncodeMemory.
func framesEncodeMemory(pl *Plan, n int, configured []Codec) int64 {
	c := findCodec(configured, pl.Format, canAnimateWith)
	if c == nil || c.EncodeFramesMemory == nil {
		return encodeMemory(pl, configured)
	}
	return c.EncodeFramesMemory(pl.Width, pl.Height, n, encodeOptions(pl, pl.Quality))
}
