package wasmcodec

import (
	"bytes"
	"context"
	"image"
	"io"
	"time"

	"github.com/gen2brain/webp"

	"github.com/imageopto/imageopto"
	codecpkg "github.com/imageopto/imageopto/internal/codec"
)

// Animated WebP output. The WebAssembly build of libwebp exports its
// single-image encoder only (malloc, free, decode, encode: no
// WebPAnimEncoder), so the animation container is written in Go
// (internal/codec.EncodeWebPAnimation) around the image chunks of still WebP files
// that the module encodes, one per frame: the whole canvas for the first
// frame, then the rectangle of the pixels that changed.

// webpFrameBytes models the encoded size of one frame of w×h pixels: the
// chunk headers, then 5 bytes per pixel (measured on noise from 16×16 to
// 512×512: at most 4.0 bytes per pixel lossless, 3.68 lossy with alpha,
// 4.96 with the headers of a 16×16 frame; raised by modelMargin). Opaque
// content is not modelled apart: a frame that codes a changed rectangle
// may have alpha whatever the source.
func webpFrameBytes(w, h int) int64 {
	return 128 + 5*int64(w)*int64(h)
}

// webpEncodeFramesMemory is the animated WebP encoder's peak for n frames
// of w×h (Codec.EncodeFramesMemory): one frame's encoder call at the
// canvas's size with alpha (every frame codes at most the canvas, and a
// changed rectangle may have alpha), the rectangle it codes and a compact
// copy of it (4 bytes per pixel each), and the encoded frames twice over
// (they are kept until the end, when the RIFF header can be written, then
// copied into the output buffer, grown once to the total). The frames
// themselves are the plan's (imageopto.EstimateMemory counts them).
func webpEncodeFramesMemory(w, h, n int, o imageopto.EncodeOptions) int64 {
	o.Alpha = true
	return webpEncodeMemory(w, h, o) + 8*int64(w)*int64(h) + 2*int64(max(n, 1))*webpFrameBytes(w, h)
}

// encodeWebPFrames writes an animated WebP: lossy at o.Quality, or lossless
// with o.Lossless, every frame with the settings encodeWebP uses. Delays
// are kept to the millisecond (WebP's unit; at most about 4.6 hours); the
// loop count follows imageopto.Codec's convention (image/gif's: −1 plays
// once, 0 loops forever, n plays n+1 times, at most 65535 times in WebP).
// ctx is read between frames: a stopped request costs at most the frame
// being encoded.
func encodeWebPFrames(ctx context.Context, w io.Writer, frames []imageopto.Frame, loop int, o imageopto.EncodeOptions) error {
	if len(frames) > 0 {
		if err := checkEncodable(frames[0].Image, "WebP", webpMaxSide); err != nil {
			return err
		}
	}
	if err := webpInit(); err != nil {
		return err
	}
	opts := webp.Options{Quality: clampQuality(o.Quality, imageopto.DefaultWebPQuality), Method: webpMethod}
	if o.Lossless {
		opts = webp.Options{Lossless: true, Quality: webpLosslessEffort, Method: webpLosslessMethod}
	}
	wf := make([]codecpkg.WebPFrame, len(frames))
	for i, f := range frames {
		wf[i] = codecpkg.WebPFrame{Image: f.Image, Duration: int((f.Delay + time.Millisecond/2) / time.Millisecond)}
	}
	if len(frames) > 0 {
		b := frames[0].Image.Bounds()
		defer memory.after(webpEncodeFramesMemory(b.Dx(), b.Dy(), len(frames), o))
	}
	still := func(img *image.NRGBA) ([]byte, error) {
		img = compact(img)
		var buf bytes.Buffer
		err := call("webp: encode", func() error { return webp.Encode(&buf, img, opts) })
		return buf.Bytes(), err
	}
	return codecpkg.EncodeWebPAnimation(ctx, w, wf, webpStoredLoop(loop), still)
}

// webpStoredLoop is the ANIM chunk's loop count (0: forever, n: play n
// times) for an imageopto.Codec loop count (image/gif's convention).
func webpStoredLoop(loop int) int {
	switch {
	case loop < 0:
		return 1
	case loop == 0:
		return 0
	}
	return min(loop+1, 0xFFFF)
}
