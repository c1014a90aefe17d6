// Package codec reads image headers, decodes and encodes images for
// imageopto.
//
// Every codec is called directly by value: the package never consults the
// global image.Decode registry, so formats the host program registered (TIFF,
// BMP, ...) cannot sneak in. The flow is:
//
//  1. Sniff decides the format from magic bytes only.
//  2. ReadHeader parses the header without allocating anything proportional to
//     the declared dimensions, so callers can refuse a pixel flood, a
//     progressive-JPEG scan bomb or an animation bomb before any pixel exists.
//  3. Decode decodes the first frame into the project's working pixel type,
//     *image.NRGBA (8-bit straight alpha, Rect.Min == (0, 0)); DecodeFrames
//     decodes every frame of an animated GIF, and DecodeWebPFrames every
//     frame of an animated WebP, composed as browsers show them, within
//     frame-count and summed-area limits.
//  4. EncodePNG, EncodePNG8 (palette PNG with alpha), EncodeGIF and
//     EncodeGIFFrames (animated GIF) write the result; JPEG output is
//     internal/jpegenc's.
//
// Decoding and encoding functions take a context: the decoders of the
// standard library read through a reader that fails once it is done, and
// every loop of this package (conversions, the GIF frame decoder, colour
// analysis, quantisers, the PNG writer, the GIF frame writer) polls it
// about once per millisecond of work (see internal/ctxpoll). A stopped call
// returns ctx.Err() as it is, never wrapped in ErrCorrupt.
//
// All functions are safe for concurrent use; the package has no mutable
// state.
package codec

import (
	"errors"
	"fmt"
	"github.com/imageopto/imageopto/internal/format"
	"math"
	"math/bits"
)

// Format is the module's one format type; Sniff reports with it.
type Format = format.Format

// Decodable reports whether Decode supports f.
func Decodable(f Format) bool {
	switch f {
	case format.JPEG, format.PNG, format.GIF, format.WebP:
		return true
	}
	return false
}

// Sentinel errors. Every error from ReadHeader, Decode and DecodeFrames
// wraps exactly one of them (ErrTooManyFrames wraps ErrCorrupt), except the
// context's error when a call is stopped; check with errors.Is. (Encoder
// errors report invalid arguments, the writer's failure or the context's
// error, and wrap none.)
var (
	// ErrUnknownFormat means the bytes do not start with any magic number
	// that Sniff knows.
	ErrUnknownFormat = errors.New("codec: unknown image format")
	// ErrUnsupportedFormat means the format is recognised but this package
	// does not decode it (AVIF, HEIC, JPEG XL, TIFF, BMP, SVG, PDF, ...).
	ErrUnsupportedFormat = errors.New("codec: unsupported image format")
	// ErrCorrupt means the data is malformed, truncated, or uses a variant of
	// a decodable format that the decoders cannot handle (12-bit or
	// arithmetic-coded JPEG, ...).
	ErrCorrupt = errors.New("codec: corrupt image")
)

// maxICCSize caps the size of an embedded ICC profile that ReadHeader
// extracts; larger profiles are ignored.
const maxICCSize = 4 << 20

// Header is what ReadHeader learns about an image without decoding pixels.
type Header struct {
	// Format is the sniffed format.
	Format Format
	// Width and Height are the stored dimensions in pixels, before any
	// EXIF orientation is applied. For GIF they are the logical screen.
	Width, Height int
	// Orientation is the EXIF orientation, 1 to 8. It is 1 when there is no
	// EXIF data or the value is invalid. Decode does not apply it.
	Orientation int
	// HasAlpha reports whether the image may contain transparency: a PNG
	// with an alpha channel or a tRNS chunk, a GIF with a transparent index
	// or whose first frame does not cover the logical screen, a WebP with
	// an alpha flag, ALPH chunk or VP8L alpha hint.
	HasAlpha bool
	// Frames is the number of GIF image descriptors, or of complete ANMF
	// frames of an animated WebP; 1 for other formats.
	Frames int
	// Animated reports a WebP with the VP8X animation flag: its frames are
	// ANMF chunks (DecodeWebPFrames), and Decode composes the first one.
	Animated bool
	// Interlaced reports an Adam7-interlaced PNG (DecodePNGScaled does
	// not take it).
	Interlaced bool
	// Progressive reports a progressive JPEG (SOF2).
	Progressive bool
	// Scans is the number of JPEG SOS markers (0 when the data ends before
	// the first scan); 1 for other formats.
	Scans int
	// BytesPerPixel is the peak size per pixel of the buffers the decoder
	// allocates for this image, for memory estimates; it excludes the 4
	// bytes per pixel of the NRGBA that Decode returns (which reuses the
	// decoder's buffer for NRGBA, RGBA and CMYK results). JPEG: grey 1,
	// Y'CbCr 3, RGB 7 (planes, then RGBA), CMYK/YCCK 8 (planes, then CMYK),
	// plus 4 bytes per sample of coefficients when progressive (9 for
	// 4:2:0). PNG: the image/png result type (paletted and grey 1, grey16 2,
	// RGBA/NRGBA 4, 16-bit 8), doubled when Adam7-interlaced. GIF 1 (the
	// paletted frame). WebP: lossy 3 (4 with alpha), lossless 4, animated 4
	// (one frame's decoder buffers; the composed canvases are the caller's).
	BytesPerPixel int
	// ColorComponents is the number of JPEG colour components (1, 3 or 4);
	// 0 for other formats.
	ColorComponents int
	// Planar reports a JPEG coded as Y'CbCr or grey (not RGB, CMYK or
	// YCCK), or a lossy WebP without alpha (VP8: 4:2:0 Y'CbCr in BT.601's
	// limited range): one whose planes can be worked on as they are.
	Planar bool
	// ICC is the embedded ICC profile (JPEG APP2 chain, PNG iCCP or WebP
	// ICCP, at most 4 MiB), or nil when absent or malformed. Nothing in
	// this package acts on it.
	ICC []byte
}

// EstimateBytes returns the memory the decoder needs for the image's pixel
// buffers: Width × Height × BytesPerPixel, computed in 64 bits and
// saturating at math.MaxInt64 (a PNG may declare 2³¹−1 × 2³¹−1 pixels).
func EstimateBytes(h Header) int64 {
	if h.Width <= 0 || h.Height <= 0 || h.BytesPerPixel <= 0 {
		return 0
	}
	w, ht, bpp := uint64(h.Width), uint64(h.Height), uint64(h.BytesPerPixel)
	hi, px := bits.Mul64(w, ht)
	if hi != 0 || px > math.MaxInt64/bpp {
		return math.MaxInt64
	}
	return int64(px * bpp)
}

// ReadHeader sniffs data and parses the header of a decodable format. It
// returns an error wrapping ErrUnknownFormat for unrecognised bytes,
// ErrUnsupportedFormat for recognised formats this package does not decode,
// and ErrCorrupt for malformed headers. On error the Header carries only the
// Format, when it was recognised.
//
// ReadHeader never allocates in proportion to the declared dimensions, runs
// in time linear in len(data), and never panics.
func ReadHeader(data []byte) (h Header, err error) {
	f := Sniff(data)
	defer func() {
		if r := recover(); r != nil {
			h, err = Header{Format: f}, fmt.Errorf("%w: %s header parser panicked: %v", ErrCorrupt, f, r)
		}
	}()
	switch f {
	case "":
		return Header{}, ErrUnknownFormat
	case format.JPEG:
		h, err = readJPEGHeader(data)
	case format.PNG:
		h, err = readPNGHeader(data)
	case format.GIF:
		h, err = readGIFHeader(data)
	case format.WebP:
		h, err = readWebPHeader(data)
	default:
		return Header{Format: f}, fmt.Errorf("%w: %s", ErrUnsupportedFormat, f)
	}
	if err != nil {
		return Header{Format: f}, err
	}
	h.Format = f
	if h.Width <= 0 || h.Height <= 0 {
		return Header{Format: f}, corruptf("%s: zero image dimension %dx%d", f, h.Width, h.Height)
	}
	if h.Orientation < 1 || h.Orientation > 8 {
		h.Orientation = 1
	}
	return h, nil
}

// corruptf returns an error wrapping ErrCorrupt with a formatted detail.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
