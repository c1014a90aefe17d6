// Package jpegdec decodes baseline and progressive Huffman-coded JPEG
// images (ITU-T T.81) at full size or, straight from the DCT coefficients,
// at 1/2, 1/4 or 1/8 of their size ("shrink-on-load").
//
// A reduced-size decode runs a smaller inverse DCT on the top-left
// coefficients of every 8×8 block: 4×4 coefficients give a 4×4 block of
// pixels at 1/2, 2×2 give 2×2 pixels at 1/4 and the DC coefficient alone gives
// one pixel at 1/8. Each reduced pixel is the mean of the pixels it replaces
// in the band-limited reconstruction, less the (small) aliased contribution
// of the dropped coefficients. Huffman decoding is the same at every scale,
// but the inverse DCT, the output planes and, for progressive files, the
// coefficient store shrink with the scale: a progressive 1/8 decode keeps one
// coefficient per block instead of 64.
//
// The decoder keeps the file's own layout: three-component Y'CbCr files
// decode to an *image.YCbCr with the file's chroma subsampling, greyscale to
// an *image.Gray, Adobe CMYK and YCCK to an *image.CMYK (converted and
// inverted the way image/jpeg does) and RGB-coded files to an *image.RGBA.
// Full-size output matches image/jpeg within ±1 per sample (for YCCK, in the
// decoded planes: the conversion to CMY can turn a difference of 1 in Cb or Cr
// into 3).
//
// DecodePlanes returns the planes of a Y′CbCr or greyscale file as they
// are, for callers that resample planes rather than pixels; it can decode
// the chroma planes at a further reduction (Options.ChromaStepX and Y),
// since a caller that writes 4:2:0 at a fraction of the size needs no more
// chroma detail than that. Coefficients that a reduced scale drops are
// decoded only as far as needed to skip them.
//
// Supported: SOF0, SOF1 and SOF2 frames with 8-bit samples, 1, 3 or 4
// components with sampling factors 1, 2 or 4, restart intervals, any number
// of Huffman and quantisation table redefinitions. Refused with
// ErrUnsupported: 12-bit samples, arithmetic coding, lossless and
// hierarchical frames, frames whose height is set by a DNL marker, and
// subsampling layouts image.YCbCr cannot hold. Damaged input returns an
// error wrapping ErrCorrupt (truncated data also wraps
// io.ErrUnexpectedEOF); no input makes the decoder panic.
//
// The decoder works on a complete file in memory and uses no goroutines
// unless Options.Threads allows a second one; Decode and DecodePlanes are
// safe for concurrent use. They allocate the
// output planes, padded to whole MCUs, at the output scale and, for
// progressive files, a coefficient store of 2·n² bytes per 8×8 block at an
// n×n output block size (128 at full size, 2 at 1/8), plus 8 bytes per
// block when the file has AC refinement scans (which need to know which
// dropped coefficients are nonzero), and reads the entropy-coded data of
// their scans through a 64 KiB window. Nothing else grows with the image;
// nothing is allocated per block. The coefficient store, and the planes of
// DecodePlanes once released, are pooled for later decodes. Planes and
// store are sized from the header, so callers must gate Decode on the
// dimensions DecodeConfig reports (a 65535×65535 header is valid). Decode
// refuses, before allocating, data too short to hold the first scan: at
// least two bits per block for sequential files, one for progressive ones,
// whose first scan must code DC coefficients as T.81 requires.
//
// Decode and DecodePlanes poll their context every few MCU rows of every
// scan, of the reconstruction of a progressive frame and of the colour
// conversion (see ctxpoll): a decode whose context is done stops within
// about a millisecond of work and returns ctx.Err() as it is.
package jpegdec

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Options controls Decode. The zero value and nil decode at full size with
// the default scan limit.
type Options struct {
	// Scale is the reduction factor: 1 (or 0) for full size, 2, 4 or 8. The
	// output is ceil(W/Scale)×ceil(H/Scale) pixels, see ScaledSize.
	Scale int
	// MaxScans is the largest number of scans (SOS markers) a progressive
	// file may have; more are refused with ErrTooManyScans before any
	// decoding. 0 means DefaultMaxScans.
	MaxScans int
	// ChromaStepX and ChromaStepY, used by DecodePlanes only, let the
	// chroma planes of a Y′CbCr frame be decoded at a further reduction
	// (up to 1/8 in all) as long as their samples stay at most that many
	// pixels of the full-size image apart, across and down: a caller that
	// resamples chroma to a known size needs no more. 0 means no further
	// reduction.
	ChromaStepX, ChromaStepY int
	// Threads is how many goroutines a decode may keep busy. From 2 on,
	// the inverse DCTs of a large sequential scan run on a second
	// goroutine while the calling one decodes the Huffman codes; it has
	// ended when Decode or DecodePlanes returns. The blocks in flight take
	// 1.2 MB more (pooled). The output does not depend on it.
	Threads int
}

// DefaultMaxScans is the scan limit used when Options.MaxScans is 0. Common
// encoders write at most a dozen scans; progressive "CPU bombs" use
// thousands.
const DefaultMaxScans = 100

var (
	// ErrUnsupported reports a valid JPEG that uses a feature this decoder
	// does not implement.
	ErrUnsupported = errors.New("jpegdec: unsupported JPEG feature")
	// ErrCorrupt reports malformed or truncated JPEG data.
	ErrCorrupt = errors.New("jpegdec: corrupt JPEG")
	// ErrTooManyScans reports a progressive file with more scans than
	// Options.MaxScans allows.
	ErrTooManyScans = errors.New("jpegdec: too many progressive scans")
	// ErrScale reports an Options.Scale other than 0, 1, 2, 4 or 8.
	ErrScale = errors.New("jpegdec: scale must be 1, 2, 4 or 8")
)

// corrupt returns an error wrapping ErrCorrupt with a detail message.
func corrupt(detail string) error { return fmt.Errorf("%w: %s", ErrCorrupt, detail) }

// unsupported returns an error wrapping ErrUnsupported with a detail message.
func unsupported(detail string) error { return fmt.Errorf("%w: %s", ErrUnsupported, detail) }

// errTruncated is returned when the data ends before the image does.
var errTruncated = fmt.Errorf("%w: truncated data: %w", ErrCorrupt, io.ErrUnexpectedEOF)

// ScaledSize returns the size of a w×h image decoded at the given scale:
// ceil(w/scale)×ceil(h/scale). A scale below 1 counts as 1.
func ScaledSize(w, h, scale int) (int, int) {
	if scale < 1 {
		scale = 1
	}
	return (w + scale - 1) / scale, (h + scale - 1) / scale
}

// DecodeConfig returns the dimensions of a JPEG image from its frame header,
// without decoding the image. It returns an error wrapping ErrUnsupported for
// the frame types, sample precisions and component counts Decode refuses.
func DecodeConfig(data []byte) (width, height int, err error) {
	d := decoder{data: data}
	if err := d.parse(true); err != nil {
		return 0, 0, err
	}
	return d.width, d.height, nil
}

// Decode decodes a complete JPEG file held in data at the scale o asks
// for (nil o: full size). The result's bounds are
// (0, 0)–ScaledSize(width, height, scale); it is an *image.YCbCr for Y'CbCr
// files, *image.Gray for greyscale, *image.CMYK for CMYK and YCCK and
// *image.RGBA for RGB-coded files. Once ctx is done, Decode stops and
// returns ctx.Err().
func Decode(ctx context.Context, data []byte, o *Options) (image.Image, error) {
	d, err := newDecoder(ctx, data, o)
	if err != nil {
		return nil, err
	}
	if err := d.parse(false); err != nil {
		return nil, err
	}
	return d.image()
}

func newDecoder(ctx context.Context, data []byte, o *Options) (*decoder, error) {
	d := &decoder{data: data, scale: 1, maxScans: DefaultMaxScans, poll: ctxpoll.New(ctx)}
	if o != nil {
		switch o.Scale {
		case 0, 1:
		case 2, 4, 8:
			d.scale = o.Scale
		default:
			return nil, ErrScale
		}
		if o.MaxScans > 0 {
			d.maxScans = o.MaxScans
		}
		d.chromaStep = [2]int{o.ChromaStepX, o.ChromaStepY}
		d.threads = o.Threads
	}
	d.bs = 8 / d.scale
	return d, nil
}

// ErrNotPlanar is returned by DecodePlanes for frames that are neither
// Y′CbCr nor greyscale (CMYK, YCCK, RGB-coded); Decode decodes them.
var ErrNotPlanar = errors.New("jpegdec: not a Y′CbCr or greyscale JPEG")

// Plane is one decoded component: W×H samples, row y at
// Pix[y*Stride : y*Stride+W], each sample covering HS×VS pixels of the
// decoded image (1×1 for luma; 2×2 for the chroma of a 4:2:0 file, or more
// when DecodePlanes reduced chroma further). The plane is padded: rows and
// columns up to the next whole block beyond W×H may be read.
type Plane struct {
	Pix    []byte
	Stride int
	W, H   int
	HS, VS int
}

// Planes is a Y′CbCr or greyscale frame as decoded, plane by plane.
type Planes struct {
	// Width and Height are the decoded image's size,
	// ScaledSize(width, height, Options.Scale).
	Width, Height int
	// Comp holds Y′ alone for greyscale, or Y′, Cb and Cr.
	Comp []Plane
}

// DecodePlanes decodes a Y′CbCr or greyscale JPEG into its planes, without
// converting or upsampling anything: Options.Scale reduces every plane,
// ChromaStepX and ChromaStepY may reduce chroma further. Frames of other
// colour models return ErrNotPlanar, detected from the headers before any
// pixel memory is allocated. Limits and errors are Decode's; once ctx is
// done, DecodePlanes stops and returns ctx.Err().
func DecodePlanes(ctx context.Context, data []byte, o *Options) (*Planes, error) {
	d, err := newDecoder(ctx, data, o)
	if err != nil {
		return nil, err
	}
	d.planes = true
	if err := d.parse(false); err != nil {
		return nil, err
	}
	return d.planesOut(), nil
}
