package wasmcodec

import (
	"github.com/imageopto/imageopto"
)

// The memory models: each codec call's peak memory (the Go heap it adds,
// which holds the module's linear memory, the copies wazero makes of it as
// it grows, and our own copies of the pixels) as a + b·pixels, fitted to
// the measurements in README.md (TestMemoryTable) and raised by
// modelMargin. TestMemoryModel holds them above what the calls use.

// modelMargin is the margin of the models over the measured peaks.
const modelMargin = 1.25

// memModel is peak bytes = base + perPixel·pixels.
type memModel struct {
	base     int64 // bytes
	perPixel int64 // bytes per pixel
}

// bytes is the model's peak for a w×h image.
func (m memModel) bytes(w, h int) int64 {
	return m.base + m.perPixel*int64(w)*int64(h)
}

// The fitted models, margin included: the least-squares line through the
// worst peak (heap or resident set) measured at each size over four
// contents — a photo-like image, the same with an alpha ramp, noise, and
// noise with noisy alpha — raised by modelMargin, and its base raised until
// the model is modelMargin above every measured peak. Alpha and noise cost
// the most (a lossy WebP of a photo needs 25 B/px, of noise with noisy
// alpha 130). A lossy WebP known to be opaque (EncodeOptions.Alpha false)
// has its own model, fitted the same way to the opaque contents (opaque
// noise peaks at 53 B/px at 16 MP).
var (
	webpLossyModel       = memModel{base: 17 << 20, perPixel: 168}
	webpLossyOpaqueModel = memModel{base: 17 << 20, perPixel: 70}
	webpLosslessModel    = memModel{base: 64 << 20, perPixel: 196}
	avifEncodeModel      = memModel{base: 30 << 20, perPixel: 126}
	avifDecodeModel      = memModel{base: 34 << 20, perPixel: avifDecodeBytesPerPixel}
	heicDecodeModel      = memModel{base: 53 << 20, perPixel: heicDecodeBytesPerPixel}
)

// Peak heap per source pixel of a decode (the slope of its model), for the
// handler's memory estimate (SourceInfo.BytesPerPixel, to which perPixel
// adds the model's base spread over the image): the module's linear memory
// (the source, the codec's frame buffers, the RGBA output, and the copies
// wazero makes as the memory grows) plus our NRGBA copy.
const (
	avifDecodeBytesPerPixel = 162
	heicDecodeBytesPerPixel = 39
)

// perPixel expresses a decode's modelled peak for a w×h source as bytes
// per pixel, as SourceInfo.BytesPerPixel carries it (the model's base
// spread over the pixels), rounded up.
func perPixel(peak int64, w, h int) int {
	px := max(int64(w)*int64(h), 1)
	return int((peak + px - 1) / px)
}

// webpEncodeMemory is the WebP encoder's peak for a w×h image (Codec.EncodeMemory).
func webpEncodeMemory(w, h int, o imageopto.EncodeOptions) int64 {
	switch {
	case o.Lossless:
		return webpLosslessModel.bytes(w, h)
	case !o.Alpha:
		return webpLossyOpaqueModel.bytes(w, h)
	}
	return webpLossyModel.bytes(w, h)
}

// avifEncodeMemory is the AVIF encoder's peak for a w×h image (Codec.EncodeMemory).
func avifEncodeMemory(w, h int, _ imageopto.EncodeOptions) int64 {
	return avifEncodeModel.bytes(w, h)
}
