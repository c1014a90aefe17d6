package imageopto

import (
	"image"
	"io"
)

// EncodeOptions tell an encoder how to write an image.
type EncodeOptions struct {
	// Quality is 1–100 for lossy formats, 0 for lossless ones.
	Quality int
	// Lossless asks for the lossless variant of a format that has both (WebP).
	Lossless bool
	// Progressive asks for progressive JPEG.
	Progressive bool
	// Alpha is false when the plan knows the image to encode is opaque
	// (an opaque source and no transparent fill). Memory models use it
	// (Codec.EncodeMemory); an encoder must look at the pixels instead.
	Alpha bool
}

// Codec adds a format that the root package does not build in, such as WebP
// output, AVIF or HEIC (see the wasmcodec subpackage). Codecs are passed
// explicitly in PlanOptions.Codecs: nothing is registered globally. A codec
// may decode, encode or both; a nil function means "cannot".
type Codec struct {
	// Format is the format this codec handles.
	Format ImageFormat
	// DecodeHeader reads the size and properties of a source without
	// decoding its pixels. It must be cheap and bounded on hostile input.
	DecodeHeader func(data []byte) (SourceInfo, error)
	// Decode decodes the first frame. The decoded bounds must equal the
	// header's.
	Decode func(data []byte) (*image.NRGBA, error)
	// Encode writes img (straight alpha; opaque when the format has no
	// alpha) to w.
	Encode func(w io.Writer, img *image.NRGBA, o EncodeOptions) error
	// EncodeBytesPerPixel is the encoder's peak memory per output pixel,
	// for admission control (EstimateMemory); 0 means 3. EncodeMemory,
	// when set, takes its place.
	EncodeBytesPerPixel int
	// EncodeMemory, when set, is the encoder's peak memory in bytes for a
	// w×h image written with o (measured, with a margin), for admission
	// control (EstimateMemory).
	EncodeMemory func(w, h int, o EncodeOptions) int64
}

// codecFor returns the configured codec for f, if any.
func codecFor(codecs []Codec, f ImageFormat) *Codec {
	for i := range codecs {
		if codecs[i].Format == f {
			return &codecs[i]
		}
	}
	return nil
}

// canEncode reports whether f can be written with the built-in encoders or
// the configured codecs.
func canEncode(codecs []Codec, f ImageFormat) bool {
	switch f {
	case JPEG, PNG, GIF:
		return true
	}
	c := codecFor(codecs, f)
	return c != nil && c.Encode != nil
}
