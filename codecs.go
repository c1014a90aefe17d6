package imageopto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"time"

	"github.com/imageopto/imageopto/internal/codec"
	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/imaging"
	"github.com/imageopto/imageopto/internal/jpegdec"
	"github.com/imageopto/imageopto/internal/jpegenc"
)

// This file owns the codec table: the built-in codecs (JPEG, PNG and GIF
// both ways, WebP decoding and lossy writing, SVG and MP4 writing) are
// Codec values like those a user configures, and every decode, encode and
// encoder-memory question goes through one lookup, findCodec (findEncoder
// for encoding). Adding a format is one Codec value: the wasmcodec package
// adds lossless, animated and transparent WebP, AVIF output and AVIF and
// HEIC input that way.

// EncodeOptions tell an encoder how to write an image.
type EncodeOptions struct {
	// Quality is 1–100 for lossy formats, 0 for lossless ones.
	Quality int
	// Lossless asks for the lossless variant of a format that has both (WebP).
	Lossless bool
	// Progressive asks for progressive JPEG.
	Progressive bool
	// Palette asks for a quantised palette (PNG8); Quality then steers the
	// colours and the dithering.
	Palette bool
	// Alpha is false when the plan knows the image to encode is opaque
	// (an opaque source and no transparent fill). Memory models use it
	// (Codec.EncodeMemory); an encoder must look at the pixels instead.
	Alpha bool
	// ViewBox asks SVG output for a viewBox without width and height
	// (viewbox=1), so that the document scales to its container.
	ViewBox bool
	// Level is the H.264 level asked for MP4 output (level=); "" lets the
	// encoder choose the lowest that fits.
	Level Level
	// threads is TransformOptions.Threads, for the built-in encoders.
	threads int
}

// Codec decodes, encodes, or both, one image format. The built-in formats
// are Codec values in the same table; configured codecs (PlanOptions.Codecs,
// such as those of the wasmcodec subpackage) join it, and nothing is
// registered globally. For each ability the built-in codecs come first: a
// configured codec adds what they lack for its format (AVIF decoding, WebP
// encoding: lossless and animated WebP), it does not replace them (save
// that a configured WebP encoder writes images that may be transparent:
// findEncoder). A nil function means "cannot".
//
// The source format is always decided by magic bytes; a format the module
// does not recognise cannot be added by a codec.
type Codec struct {
	// Format is the format this codec handles.
	Format ImageFormat
	// DecodeHeader reads the size and properties of a source without
	// decoding its pixels. It must be cheap and bounded on hostile input:
	// the limits are checked on what it returns, before Decode runs.
	DecodeHeader func(data []byte) (SourceInfo, error)
	// Decode decodes the first frame. The decoded bounds must equal the
	// header's. It should return soon after ctx is done (the built-in
	// decoders do; a WebAssembly decoder cannot).
	Decode func(ctx context.Context, data []byte) (*image.NRGBA, error)
	// Encode writes img (straight alpha; already flattened when the format
	// has no alpha) to w. It should return soon after ctx is done.
	Encode func(ctx context.Context, w io.Writer, img *image.NRGBA, o EncodeOptions) error
	// EncodeMemory is the encoder's peak memory in bytes for a w×h image
	// written with o (measured, with a margin), for admission control
	// (EstimateMemory). Nil means 3 bytes per pixel.
	EncodeMemory func(w, h int, o EncodeOptions) int64
	// DecodeFrames decodes every frame of an animation, each composed onto
	// the whole canvas (the header's size), and returns the loop count as
	// image/gif.GIF.LoopCount counts it (−1: play once, 0: forever, n:
	// n+1 times), which EncodeFrames receives. It must refuse more than
	// l.MaxFrames frames or l.MaxTotalPixels pixels summed over frames
	// with an error wrapping ErrSourceTooLarge or ErrCorrupt, before
	// decoding them.
	DecodeFrames func(ctx context.Context, data []byte, l Limits) (frames []Frame, loop int, err error)
	// EncodeFrames writes an animation. Outputs keep an animated source's
	// frames only when the output format's codec has EncodeFrames.
	EncodeFrames func(ctx context.Context, w io.Writer, frames []Frame, loop int, o EncodeOptions) error
	// EncodeFramesMemory is EncodeFrames' peak memory in bytes for n
	// frames of w×h written with o, beyond the frames themselves (which
	// the plan's estimate counts), for admission control. Nil means
	// EncodeMemory of one frame.
	EncodeFramesMemory func(w, h, n int, o EncodeOptions) int64

	// The built-in JPEG decoder's shrink-on-load.
	decodeScaled func(ctx context.Context, data []byte, info SourceInfo, scale int) (*image.NRGBA, error)
	// lossyOnly marks a built-in encoder of the lossy variant of its
	// format only (WebP): see findEncoder.
	lossyOnly bool
	// encodePlanes, when set, writes 4:2:0 Y′CbCr planes as they come from
	// the planar painter (limited: VP8's range, else JFIF's), without an
	// RGB image: see encodeFromPlanes.
	encodePlanes func(ctx context.Context, w io.Writer, m *image.YCbCr, limited bool, o EncodeOptions) error
}

// Frame is one frame of an animation: the whole canvas, and how long it is
// shown.
type Frame struct {
	Image *image.NRGBA
	Delay time.Duration
}

// builtinCodecs are the formats this module reads and writes without any
// configured codec.
var builtinCodecs = [...]Codec{
	{Format: JPEG, DecodeHeader: builtinHeader, Decode: builtinDecode, Encode: writeJPEG,
		EncodeMemory: func(w, h int, _ EncodeOptions) int64 {
			return 1<<20 + 4*int64(w)*int64(h) // planes, coefficients of a progressive file, output
		},
		decodeScaled: decodeJPEGScaled},
	{Format: PNG, DecodeHeader: builtinHeader, Decode: builtinDecode, Encode: writePNG,
		EncodeMemory: func(w, h int, o EncodeOptions) int64 {
			// Buffers and the encoded bytes (a bytes.Buffer may hold twice
			// what it was written: PNG of noise takes about 4 bytes a
			// pixel, so up to 8 with the buffer's slack); PNG8 adds the
			// error rows and the palette image. 2 MiB: the compressors
			// of choosePNGLevel's trial (level 6, level 1, two Huffman).
			if o.Palette {
				return 2<<20 + 14*int64(w)*int64(h)
			}
			return 2<<20 + 9*int64(w)*int64(h)
		},
		decodeScaled: decodePNGScaled},
	{Format: GIF, DecodeHeader: builtinHeader, Decode: builtinDecode, Encode: writeGIF,
		EncodeMemory: func(w, h int, _ EncodeOptions) int64 { return 1<<20 + 3*int64(w)*int64(h) },
		DecodeFrames: decodeGIFFrames, EncodeFrames: writeGIFFrames},
	{Format: WebP, DecodeHeader: builtinHeader, Decode: builtinDecode, DecodeFrames: decodeWebPFrames,
		Encode: writeWebP, encodePlanes: writeWebPPlanes, EncodeMemory: webpEncodeMemory, lossyOnly: true}, // codec_webp.go
	{Format: SVG, Encode: writeSVG, EncodeMemory: svgEncodeMemory},                               // codec_svg.go
	{Format: MP4, Encode: writeMP4, EncodeMemory: mp4EncodeMemory, EncodeFrames: writeMP4Frames}, // codec_mp4.go
}

// findCodec returns the first codec for f, built-in then configured, that
// has the ability able; nil when none has.
func findCodec(configured []Codec, f ImageFormat, able func(*Codec) bool) *Codec {
	for i := range builtinCodecs {
		if c := &builtinCodecs[i]; c.Format == f && able(c) {
			return c
		}
	}
	for i := range configured {
		if c := &configured[i]; c.Format == f && able(c) {
			return c
		}
	}
	return nil
}

// findEncoder returns the codec that writes f with o. It is findCodec's
// choice (built-in first), except for a lossyOnly built-in: it cannot
// write lossless output, and it gives way to a configured encoder of the
// format for an image that may have alpha (o.Alpha).
func findEncoder(configured []Codec, f ImageFormat, o EncodeOptions) *Codec {
	able := func(c *Codec) bool { return canEncodeWith(c) && !(c.lossyOnly && o.Lossless) }
	if o.Alpha {
		if c := findCodec(configured, f, func(c *Codec) bool { return able(c) && !c.lossyOnly }); c != nil {
			return c
		}
	}
	return findCodec(configured, f, able)
}

// canEncodeAs reports whether f can be written, in its lossless variant
// when lossless is set.
func canEncodeAs(configured []Codec, f ImageFormat, lossless bool) bool {
	return findEncoder(configured, f, EncodeOptions{Lossless: lossless}) != nil
}

func canDecodeWith(c *Codec) bool  { return c.DecodeHeader != nil && c.Decode != nil }
func canEncodeWith(c *Codec) bool  { return c.Encode != nil }
func canAnimateWith(c *Codec) bool { return c.EncodeFrames != nil }

// canAnimate reports whether f can be written as an animation.
func canAnimate(configured []Codec, f ImageFormat) bool {
	return findCodec(configured, f, canAnimateWith) != nil
}

// canEncode reports whether f can be written.
func canEncode(configured []Codec, f ImageFormat) bool {
	return findCodec(configured, f, canEncodeWith) != nil
}

// decoder decodes a source whose header was read. The built-in decoders
// stop soon after ctx is done and return ctx.Err().
type decoder struct {
	first  func(ctx context.Context) (*image.NRGBA, error)
	scaled func(ctx context.Context, scale int) (*image.NRGBA, error) // nil: full size only
	frames func(ctx context.Context, l Limits) ([]Frame, int, error)  // nil: still images only
}

// decode decodes the first frame at 1/scale of its size where the format
// allows, else at full size (the resize step then does all the work).
func (d decoder) decode(ctx context.Context, scale int) (*image.NRGBA, error) {
	if d.scaled != nil {
		img, err := d.scaled(ctx, scale)
		if err == nil {
			return img, nil
		}
		if ctxpoll.Stopped(err) {
			return nil, err // stopped: neither corrupt nor worth a fallback
		}
		if scale > 1 {
			// The memory was admitted for the reduced decode: a full-size
			// fallback could overrun the budget.
			return nil, fmt.Errorf("%w: cannot decode at 1/%d: %v", ErrCorrupt, scale, err)
		}
		// Our JPEG decoder refuses a few files image/jpeg tolerates: fall
		// back to it at full size.
	}
	return d.first(ctx)
}

// inspect sniffs the format from the magic bytes, reads the header with
// the first codec that decodes it, and returns the matching decoder.
func inspect(data []byte, configured []Codec) (SourceInfo, decoder, error) {
	f := codec.Sniff(data)
	if f == "" {
		return SourceInfo{}, decoder{}, fmt.Errorf("%w (%v)", ErrUnsupportedFormat, codec.ErrUnknownFormat)
	}
	c := findCodec(configured, f, canDecodeWith)
	if c == nil {
		return SourceInfo{}, decoder{}, fmt.Errorf("%w (%v: %s)", ErrUnsupportedFormat, codec.ErrUnsupportedFormat, f)
	}
	info, err := c.DecodeHeader(data)
	if err != nil {
		return SourceInfo{}, decoder{}, err
	}
	info.Format, info.Bytes, info.Frames = c.Format, int64(len(data)), max(info.Frames, 1)
	d := decoder{first: func(ctx context.Context) (*image.NRGBA, error) {
		img, err := c.Decode(ctx, data)
		if err != nil {
			return nil, err
		}
		if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height || b.Min != (image.Point{}) {
			return nil, fmt.Errorf("%w: decoded %v, header said %dx%d", ErrCorrupt, b, info.Width, info.Height)
		}
		return img, nil
	}}
	if c.decodeScaled != nil {
		d.scaled = func(ctx context.Context, scale int) (*image.NRGBA, error) {
			return c.decodeScaled(ctx, data, info, scale)
		}
	}
	if fc := findCodec(configured, f, func(c *Codec) bool { return c.DecodeFrames != nil }); fc != nil {
		d.frames = func(ctx context.Context, l Limits) ([]Frame, int, error) {
			return fc.DecodeFrames(ctx, data, l)
		}
	}
	return info, d, nil
}

// builtinHeader reads a header with the codec package.
func builtinHeader(data []byte) (SourceInfo, error) {
	h, err := codec.ReadHeader(data)
	if err != nil {
		return SourceInfo{}, codecError(err)
	}
	s := SourceInfo{
		Format:        h.Format,
		Width:         h.Width,
		Height:        h.Height,
		HasAlpha:      h.HasAlpha,
		Frames:        max(h.Frames, 1),
		Progressive:   h.Progressive,
		Scans:         h.Scans,
		Bytes:         int64(len(data)),
		BytesPerPixel: h.BytesPerPixel,
		ICC:           h.ICC,
		planes:        h.Planar,
		pngRows:       h.Format == PNG && !h.Interlaced,
	}
	if h.Orientation > 1 && h.Orientation <= 8 {
		s.Orientation = Orientation(h.Orientation)
	}
	s.Lossless = h.Format == PNG || h.Format == GIF || (h.Format == WebP && webpLossless(data))
	return s, nil
}

// builtinDecode decodes the first frame with the codec package.
func builtinDecode(ctx context.Context, data []byte) (*image.NRGBA, error) {
	h, err := codec.ReadHeader(data)
	if err == nil {
		var img *image.NRGBA
		if img, err = codec.Decode(ctx, data, h); err == nil {
			return img, nil
		}
	}
	return nil, codecError(err)
}

// decodeGIFFrames decodes and composes every frame of an animation.
func decodeGIFFrames(ctx context.Context, data []byte, l Limits) ([]Frame, int, error) {
	h, err := codec.ReadHeader(data)
	if err != nil {
		return nil, 0, codecError(err)
	}
	l = l.withDefaults()
	frames, loop, err := codec.DecodeFrames(ctx, data, h, l.MaxFrames, l.MaxTotalPixels)
	if err != nil {
		return nil, 0, codecError(err)
	}
	out := make([]Frame, len(frames))
	for i, f := range frames {
		out[i] = Frame{Image: f.Image, Delay: time.Duration(f.Delay) * 10 * time.Millisecond}
	}
	return out, loop, nil
}

// writeGIFFrames writes an animated GIF. Delays are kept in hundredths of
// a second, GIF's unit (rounded to the nearest).
func writeGIFFrames(ctx context.Context, w io.Writer, frames []Frame, loop int, _ EncodeOptions) error {
	gf := make([]codec.Frame, len(frames))
	for i, f := range frames {
		gf[i] = codec.Frame{Image: f.Image, Delay: int((f.Delay + 5*time.Millisecond) / (10 * time.Millisecond))}
	}
	return codec.EncodeGIFFrames(ctx, w, gf, loop)
}

// decodeJPEGScaled decodes JPEG with our own decoder, which can decode at
// 1/2, 1/4 or 1/8 of the size straight from the DCT coefficients.
func decodeJPEGScaled(ctx context.Context, data []byte, info SourceInfo, scale int) (*image.NRGBA, error) {
	m, err := jpegdec.Decode(ctx, data, &jpegdec.Options{Scale: max(scale, 1), MaxScans: max(info.Scans, 1)})
	if err != nil {
		return nil, err
	}
	w, ht := jpegdec.ScaledSize(info.Width, info.Height, max(scale, 1))
	if b := m.Bounds(); b.Dx() != w || b.Dy() != ht {
		return nil, fmt.Errorf("%w: decoded %v, want %dx%d", ErrCorrupt, b, w, ht)
	}
	return imaging.ToNRGBA(ctx, m)
}

// decodePNGScaled decodes a PNG row by row, at 1/scale of its size in
// boxes of scale×scale pixels (codec.DecodePNGScaled). At full size a file
// it refuses goes to image/png (codec.Decode); at a reduction there is no
// fallback (see decoder.decode).
func decodePNGScaled(ctx context.Context, data []byte, info SourceInfo, scale int) (*image.NRGBA, error) {
	h, err := codec.ReadHeader(data)
	if err != nil {
		return nil, codecError(err)
	}
	var img *image.NRGBA
	if scale <= 1 {
		img, err = codec.Decode(ctx, data, h)
	} else {
		img, err = codec.DecodePNGScaled(ctx, data, h, scale)
	}
	if err != nil {
		if ctxpoll.Stopped(err) {
			return nil, err
		}
		return nil, codecError(err)
	}
	w, ht := codec.PNGScaledSize(info.Width, info.Height, max(scale, 1))
	if b := img.Bounds(); b.Dx() != w || b.Dy() != ht {
		return nil, fmt.Errorf("%w: decoded %v, want %dx%d", ErrCorrupt, b, w, ht)
	}
	return img, nil
}

// codecError maps the codec package's sentinels onto ours.
func codecError(err error) error {
	switch {
	case errors.Is(err, codec.ErrUnknownFormat), errors.Is(err, codec.ErrUnsupportedFormat):
		return fmt.Errorf("%w (%v)", ErrUnsupportedFormat, err)
	case errors.Is(err, codec.ErrCorrupt):
		return fmt.Errorf("%w (%v)", ErrCorrupt, err)
	}
	return err
}

// writeJPEG writes baseline or progressive JPEG, 4:2:0, with optimised
// Huffman tables.
func writeJPEG(ctx context.Context, w io.Writer, img *image.NRGBA, o EncodeOptions) error {
	return jpegenc.Encode(ctx, w, img, jpegOptions(o))
}

// jpegOptions are the JPEG encoder's settings for o, on either path.
func jpegOptions(o EncodeOptions) *jpegenc.Options {
	return &jpegenc.Options{Quality: o.Quality, Progressive: o.Progressive,
		Subsampling: jpegenc.S420, OptimizeHuffman: true, Threads: o.threads}
}

// writePNG writes truecolour, grey or exact-palette PNG, or PNG8.
func writePNG(ctx context.Context, w io.Writer, img *image.NRGBA, o EncodeOptions) error {
	if o.Palette {
		return codec.EncodePNG8(ctx, w, img, o.Quality)
	}
	if err := clearTransparent(ctx, img); err != nil {
		return err
	}
	if err := faintPNG(ctx, img); err != nil {
		return err
	}
	return codec.EncodePNG(ctx, w, img)
}

// writeGIF writes a still GIF.
func writeGIF(ctx context.Context, w io.Writer, img *image.NRGBA, _ EncodeOptions) error {
	return codec.EncodeGIF(ctx, w, img)
}

// encodeOptions are the plan's encoder settings at quality q.
func encodeOptions(plan *Plan, q int) EncodeOptions {
	return EncodeOptions{Quality: q, Lossless: plan.Lossless, Alpha: plan.Alpha, Progressive: plan.Progressive,
		Palette: plan.Palette, ViewBox: plan.ViewBox, Level: plan.Level}
}

// encodeAt writes img in the plan's output format at quality q. The
// built-in encoders stop soon after ctx is done and return ctx.Err().
func encodeAt(ctx context.Context, img *image.NRGBA, plan *Plan, configured []Codec, q, threads int) ([]byte, error) {
	o := encodeOptions(plan, q)
	o.threads = threads
	c := findEncoder(configured, plan.Format, o)
	if c == nil {
		return nil, &ParamError{Param: "format", Value: string(plan.Format), Reason: "no encoder for this format", Unsupported: true}
	}
	var buf bytes.Buffer
	if err := encodeError(c.Encode(ctx, &buf, img, o), plan.Format); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeError is an encoder's error as Transform returns it: the
// context's error as it is, any other as ErrInternal.
func encodeError(err error, f ImageFormat) error {
	if err == nil || ctxpoll.Stopped(err) {
		return err
	}
	return fmt.Errorf("%w: encoding %s: %v", ErrInternal, f, err)
}

// encodeMemory is the output encoder's peak memory for the plan, as its
// codec says (Codec.EncodeMemory), else 3 bytes per pixel.
func encodeMemory(pl *Plan, configured []Codec) int64 {
	o := encodeOptions(pl, pl.Quality)
	c := findEncoder(configured, pl.Format, o)
	if c == nil || c.EncodeMemory == nil {
		return 3 * int64(pl.Width) * int64(pl.Height)
	}
	return c.EncodeMemory(pl.Width, pl.Height, o)
}

// clearTransparent sets the colour of fully transparent pixels to zero: it
// cannot be seen, and constant runs compress far better (a mostly
// transparent PNG shrinks about 3×). It polls ctx every few rows, and
// returns its error.
func clearTransparent(ctx context.Context, img *image.NRGBA) error {
	pl := ctxpoll.New(ctx)
	for y := range img.Rect.Dy() {
		if err := pl.Work(4 * img.Rect.Dx()); err != nil {
			return err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*img.Rect.Dx()]
		for i := 0; i < len(row); i += 4 {
			if row[i+3] == 0 {
				row[i], row[i+1], row[i+2] = 0, 0, 0
			}
		}
	}
	return nil
}

// webpLossless reports whether a WebP file's image is VP8L (lossless): its
// first image chunk, after any VP8X/ICCP/ANIM/ALPH chunks and inside the
// first frame of an animation, is "VP8L".
func webpLossless(data []byte) bool {
	for off := 12; off+8 <= len(data); {
		id := string(data[off : off+4])
		switch id {
		case "VP8L":
			return true
		case "VP8 ":
			return false
		case "ANMF": // the frame's chunks follow its 16-byte header
			off += 8 + 16
			continue
		}
		n := int(uint32(data[off+4]) | uint32(data[off+5])<<8 | uint32(data[off+6])<<16 | uint32(data[off+7])<<24)
		if n < 0 || n > len(data) {
			return false
		}
		off += 8 + n + n&1
	}
	return false
}
