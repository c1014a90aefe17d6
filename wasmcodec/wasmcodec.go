package wasmcodec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"sync"

	"github.com/gen2brain/avif"
	"github.com/gen2brain/heic"
	"github.com/gen2brain/webp"

	"github.com/imageopto/imageopto"
)

// Encoder settings, chosen by the measurements in README.md.
const (
	// webpMethod is libwebp's effort for lossy WebP (0 fastest – 6
	// slowest): 2 takes 2.5× less CPU than libwebp's default 4 for 1.6–2.8 %
	// more bytes at the same SSIM.
	webpMethod = 2
	// webpLosslessMethod and webpLosslessEffort are libwebp's method and
	// "quality" (compression effort) for lossless WebP: cwebp's preset -z 3,
	// which makes files as small as the default -z 6 for 56–81 % of its CPU.
	webpLosslessMethod = 3
	webpLosslessEffort = 30
	// avifSpeed is libaom's speed for AVIF (0 slowest – 10 fastest): 8
	// takes about twice the CPU of 10 and saves 6 % of the bytes on average,
	// up to 45 % on smooth images, at the same SSIM; 6 takes 3.2–3.5× the
	// CPU of 8 for no smaller files.
	avifSpeed = 8
	// avifAlphaQuality is the AVIF quality of the alpha plane; 100 keeps
	// it lossless, as avifenc does by default.
	avifAlphaQuality = 100
	// webpMaxSide is the largest width or height WebP can store.
	webpMaxSide = 16383
	// avifMaxSide is libavif's default dimension limit.
	avifMaxSide = 32768
)

// Codecs returns the WebP encoder (still and animated), the AVIF decoder
// and encoder and the HEIC decoder, for PlanOptions.Codecs. Each call returns a new slice; the codecs
// share the process-wide compiled WebAssembly modules, which are compiled on
// first use. Safe for concurrent use.
func Codecs() []imageopto.Codec {
	// The encoders' peak memory comes from the models in memory.go.
	// A WebAssembly call cannot be interrupted: the context is not read.
	return []imageopto.Codec{
		{Format: imageopto.WebP, Encode: ignoreContext(encodeWebP), EncodeMemory: webpEncodeMemory,
			EncodeFrames: encodeWebPFrames, EncodeFramesMemory: webpEncodeFramesMemory},
		{Format: imageopto.AVIF, DecodeHeader: avifHeader, Decode: decodeOnly(decodeAVIF),
			Encode: ignoreContext(encodeAVIF), EncodeMemory: avifEncodeMemory},
		{Format: imageopto.HEIC, DecodeHeader: heicHeader, Decode: decodeOnly(decodeHEIC)},
	}
}

func ignoreContext(enc func(io.Writer, *image.NRGBA, imageopto.EncodeOptions) error) func(context.Context, io.Writer, *image.NRGBA, imageopto.EncodeOptions) error {
	return func(_ context.Context, w io.Writer, img *image.NRGBA, o imageopto.EncodeOptions) error {
		return enc(w, img, o)
	}
}

func decodeOnly(dec func([]byte) (*image.NRGBA, error)) func(context.Context, []byte) (*image.NRGBA, error) {
	return func(_ context.Context, data []byte) (*image.NRGBA, error) { return dec(data) }
}

// Warm compiles every WebAssembly module now, instead of on first use, so
// that no request pays the compilation. It is optional and blocks until
// done; a server calls it in a goroutine at start-up:
//
//	go func() {
//		if err := wasmcodec.Warm(); err != nil {
//			log.Print(err)
//		}
//	}()
//
// It compiles the four modules one after the other, on one core: about
// 2.3 s of CPU in all (README.md), leaving about 30 MiB of machine code
// resident; the compiler's garbage (about 70 MiB) is given back to the
// operating system a second later. Each module compiles once per process
// behind its own sync.Once, so requests that need a module Warm is still
// compiling wait for that compilation instead of starting another, and
// calls after the first return at once. (The AVIF decoder and encoder
// compile under a lock that AVIF calls also take, so AVIF calls wait
// while either compiles.) Warm is safe to call concurrently and more than
// once. It returns the errors of the modules that failed, joined.
func Warm() error {
	return errors.Join(webpInit(), avifDecoderInit(), avifEncoderInit(), heicInit())
}

// Lazy, once-only initialisation. The libraries compile their module on
// first use behind their own sync.Once; we call their Init functions
// ourselves so that a failure becomes an error rather than a panic on every
// call, and so that the AVIF package's two initialisers never run alongside
// each other or alongside an AVIF call: both write the same package-level
// module configuration, which would be a data race. avifMu is held for
// writing while the AVIF decoder or encoder initialises and for reading
// during every AVIF call, so AVIF calls still run in parallel.
var (
	avifMu sync.RWMutex

	webpInit        = sync.OnceValue(func() error { return compile("webp: init", webp.Init) })
	heicInit        = sync.OnceValue(func() error { return compile("heic: init", heic.Init) })
	avifDecoderInit = sync.OnceValue(func() error {
		avifMu.Lock()
		defer avifMu.Unlock()
		return compile("avif: init decoder", avif.InitDecoder)
	})
	avifEncoderInit = sync.OnceValue(func() error {
		avifMu.Lock()
		defer avifMu.Unlock()
		return compile("avif: init encoder", avif.InitEncoder)
	})
)

// compile runs a library's initialiser, which compiles its module, and
// schedules the return of the compiler's garbage to the operating system.
func compile(what string, f func()) error {
	defer memory.schedule()
	return protect(what, f)
}

// protect runs f, turning a panic into an error wrapping ErrInternal.
func protect(what string, f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: wasmcodec: %s: panic: %v", imageopto.ErrInternal, what, v)
		}
	}()
	f()
	return nil
}

// call runs a library call, turning a panic into an error wrapping
// ErrInternal.
func call(what string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: wasmcodec: %s: panic: %v", imageopto.ErrInternal, what, v)
		}
	}()
	return f()
}

// corrupt wraps a decoder's error in ErrCorrupt.
func corrupt(format string, err error) error {
	return fmt.Errorf("%w: %s: %v", imageopto.ErrCorrupt, format, err)
}

// checkEncodable refuses images a format cannot store.
func checkEncodable(img *image.NRGBA, format string, maxSide int) error {
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 || b.Dx() > maxSide || b.Dy() > maxSide {
		return fmt.Errorf("wasmcodec: %s cannot store a %dx%d image (1–%d px per side)", format, b.Dx(), b.Dy(), maxSide)
	}
	return nil
}

// clampQuality keeps a quality within 1–100, 0 meaning def.
func clampQuality(q, def int) int {
	if q <= 0 {
		return def
	}
	return min(q, 100)
}

// encodeWebP writes lossy WebP at o.Quality, or lossless WebP when
// o.Lossless is set. Alpha is kept; the colour of fully transparent pixels
// is not (libwebp's default, which saves bytes).
func encodeWebP(w io.Writer, img *image.NRGBA, o imageopto.EncodeOptions) error {
	if err := checkEncodable(img, "WebP", webpMaxSide); err != nil {
		return err
	}
	if err := webpInit(); err != nil {
		return err
	}
	opts := webp.Options{Quality: clampQuality(o.Quality, imageopto.DefaultWebPQuality), Method: webpMethod}
	if o.Lossless {
		opts = webp.Options{Lossless: true, Quality: webpLosslessEffort, Method: webpLosslessMethod}
	}
	img = compact(img)
	b := img.Bounds()
	defer memory.after(webpEncodeMemory(b.Dx(), b.Dy(), o))
	return call("webp: encode", func() error { return webp.Encode(w, img, opts) })
}

// encodeAVIF writes 8-bit 4:2:0 AVIF at o.Quality (libavif's 0–100 scale),
// with a lossless alpha plane when the image has transparency.
func encodeAVIF(w io.Writer, img *image.NRGBA, o imageopto.EncodeOptions) error {
	if err := checkEncodable(img, "AVIF", avifMaxSide); err != nil {
		return err
	}
	if err := avifEncoderInit(); err != nil {
		return err
	}
	opts := avif.Options{
		Quality:           clampQuality(o.Quality, imageopto.DefaultAVIFQuality),
		QualityAlpha:      avifAlphaQuality,
		Speed:             avifSpeed,
		ChromaSubsampling: image.YCbCrSubsampleRatio420,
	}
	b := img.Bounds()
	defer memory.after(avifEncodeMemory(b.Dx(), b.Dy(), o))
	avifMu.RLock()
	defer avifMu.RUnlock()
	return call("avif: encode", func() error { return avif.Encode(w, img, opts) })
}

// avifHeader reads an AVIF header from its boxes. Width and Height are the
// primary item's ispe, as stored; irot and imir become the equivalent EXIF
// orientation, which the pipeline applies (libavif does not). An image
// sequence (major brand avis, or tracks without an avif major brand), which
// libavif decodes from its first track, is measured by libavif's parser
// instead; that parse reads no pixels either.
func avifHeader(data []byte) (imageopto.SourceInfo, error) {
	info, _, err := avifInfo(data)
	return info, err
}

// avifInfo is avifHeader that also tells whether the presence of alpha is
// known (it is not for an image sequence).
func avifInfo(data []byte) (info imageopto.SourceInfo, alphaKnown bool, err error) {
	h, err := parseHEIF(data)
	if err != nil {
		return imageopto.SourceInfo{}, false, corrupt("avif", err)
	}
	info = imageopto.SourceInfo{Format: imageopto.AVIF, Frames: 1, Bytes: int64(len(data))}
	if h.major == "avis" || !h.hasMeta || (h.hasMoov && h.major != "avif") {
		cfg, err := avifConfig(data)
		if err != nil {
			return imageopto.SourceInfo{}, false, err
		}
		info.Width, info.Height = cfg.Width, cfg.Height
		if err := validSize(info, "avif"); err != nil {
			return imageopto.SourceInfo{}, false, err
		}
		if err := checkSequence(&h, cfg.Width, cfg.Height); err != nil {
			return imageopto.SourceInfo{}, false, codedError("avif", err)
		}
		info.BytesPerPixel = perPixel(avifDecodeModel.bytes(info.Width, info.Height), info.Width, info.Height)
		return info, false, nil
	}
	switch h.itemType {
	case "av01", "grid":
	default:
		return imageopto.SourceInfo{}, false, fmt.Errorf("%w: avif: primary item of type %q", imageopto.ErrUnsupportedFormat, h.itemType)
	}
	if !h.hasISPE {
		return imageopto.SourceInfo{}, false, corrupt("avif", errors.New("primary item has no size (ispe)"))
	}
	info.Width, info.Height = h.width, h.height
	info.Orientation = h.exifOrientation()
	info.HasAlpha = h.hasAlpha
	if err := validSize(info, "avif"); err != nil {
		return imageopto.SourceInfo{}, false, err
	}
	if err := checkCodedSize(&h, "av01"); err != nil {
		return imageopto.SourceInfo{}, false, codedError("avif", err)
	}
	info.BytesPerPixel = perPixel(avifDecodeModel.bytes(info.Width, info.Height), info.Width, info.Height)
	return info, true, nil
}

// codedError wraps an error of the coded size checks: in
// ErrUnsupportedFormat when it is one already, else in ErrCorrupt.
func codedError(format string, err error) error {
	if errors.Is(err, imageopto.ErrUnsupportedFormat) {
		return fmt.Errorf("%s: %w", format, err)
	}
	return corrupt(format, err)
}

// avifConfig asks libavif for the size of an image sequence.
func avifConfig(data []byte) (image.Config, error) {
	if err := avifDecoderInit(); err != nil {
		return image.Config{}, err
	}
	avifMu.RLock()
	defer avifMu.RUnlock()
	defer memory.after(0)
	var cfg image.Config
	err := call("avif: decode config", func() (err error) {
		cfg, err = avif.DecodeConfig(bytes.NewReader(data))
		return err
	})
	if err != nil && !errors.Is(err, imageopto.ErrInternal) {
		err = corrupt("avif", err)
	}
	return cfg, err
}

// validSize refuses empty images.
func validSize(info imageopto.SourceInfo, format string) error {
	if info.Width <= 0 || info.Height <= 0 {
		return corrupt(format, fmt.Errorf("image size %dx%d", info.Width, info.Height))
	}
	return nil
}

// decodeAVIF decodes the first frame of an AVIF file at its stored size.
func decodeAVIF(data []byte) (*image.NRGBA, error) {
	info, alphaKnown, err := avifInfo(data)
	if err != nil {
		return nil, err
	}
	if err := avifDecoderInit(); err != nil {
		return nil, err
	}
	defer memory.after(avifDecodeModel.bytes(info.Width, info.Height))
	var img image.Image
	err = func() error {
		avifMu.RLock()
		defer avifMu.RUnlock()
		return call("avif: decode", func() (err error) {
			img, err = avif.Decode(bytes.NewReader(data))
			return err
		})
	}()
	if err != nil {
		if errors.Is(err, imageopto.ErrInternal) {
			return nil, err
		}
		return nil, corrupt("avif", err)
	}
	out, err := checkSize(toNRGBA(img), info, "avif")
	if err != nil {
		return nil, err
	}
	// gen2brain/avif reports success with an untouched buffer when libavif
	// fails to decode the frame (its C loop exits without an error). An
	// image without alpha comes out of libavif fully opaque, so any other
	// alpha — or an all-zero image — means the decode failed.
	if failedDecode(out, info.HasAlpha || !alphaKnown) {
		return nil, corrupt("avif", errors.New("the AV1 frame could not be decoded"))
	}
	return out, nil
}

// failedDecode reports whether img is what a failed libavif decode leaves:
// not fully opaque although the file has no alpha, or all zero.
func failedDecode(img *image.NRGBA, hasAlpha bool) bool {
	if !hasAlpha {
		for i := 3; i < len(img.Pix); i += 4 {
			if img.Pix[i] != 0xFF {
				return true
			}
		}
		return false
	}
	for _, v := range img.Pix {
		if v != 0 {
			return false
		}
	}
	return true
}

// checkSize refuses a decoded image whose size is not the header's: the
// coded image and the container disagree.
func checkSize(img *image.NRGBA, info imageopto.SourceInfo, format string) (*image.NRGBA, error) {
	if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
		return nil, corrupt(format, fmt.Errorf("decoded %dx%d, header says %dx%d", b.Dx(), b.Dy(), info.Width, info.Height))
	}
	return img, nil
}

// heicHeader reads a HEIC header from its boxes. libheif applies the clean
// aperture, rotation and mirroring of the primary item when it decodes, so
// Width and Height are the size after those and Orientation is 0 (an EXIF
// orientation in a HEIC file is ignored, as the HEIF standard requires).
// With a clean aperture, whose rounding is libheif's own, the size comes from
// libheif's parser (no pixels are read).
func heicHeader(data []byte) (imageopto.SourceInfo, error) {
	h, err := parseHEIF(data)
	if err != nil {
		return imageopto.SourceInfo{}, corrupt("heic", err)
	}
	if !h.hasMeta {
		return imageopto.SourceInfo{}, fmt.Errorf("%w: heic: image sequences are not supported", imageopto.ErrUnsupportedFormat)
	}
	switch h.itemType {
	case "hvc1", "grid", "iden", "iovl":
	default:
		return imageopto.SourceInfo{}, fmt.Errorf("%w: heic: primary item of type %q", imageopto.ErrUnsupportedFormat, h.itemType)
	}
	if !h.hasISPE {
		return imageopto.SourceInfo{}, corrupt("heic", errors.New("primary item has no size (ispe)"))
	}
	if h.hasAlpha {
		// gen2brain/heic v0.4.5 decodes to Y'CbCr planes and drops the alpha
		// plane; serving the hidden colours as if opaque would be wrong.
		return imageopto.SourceInfo{}, fmt.Errorf("%w: heic: images with an alpha channel are not supported by the WebAssembly decoder", imageopto.ErrUnsupportedFormat)
	}
	if err := validSize(imageopto.SourceInfo{Width: h.width, Height: h.height}, "heic"); err != nil {
		return imageopto.SourceInfo{}, err
	}
	if err := checkCodedSize(&h, "hvc1"); err != nil {
		return imageopto.SourceInfo{}, codedError("heic", err)
	}
	info := imageopto.SourceInfo{Format: imageopto.HEIC, Frames: 1, Bytes: int64(len(data))}
	info.Width, info.Height = h.displaySize()

	if h.hasClap {
		if err := validSize(info, "heic"); err != nil {
			return imageopto.SourceInfo{}, err
		}
		if h.clapW > h.width || h.clapH > h.height {
			return imageopto.SourceInfo{}, corrupt("heic", errors.New("clean aperture larger than the image"))
		}
		if cfg, err := heicConfig(data); err == nil {
			info.Width, info.Height = cfg.Width, cfg.Height
		}
	}
	if err := validSize(info, "heic"); err != nil {
		return imageopto.SourceInfo{}, err
	}
	// libheif decodes the stored size; a clean aperture crops it after.
	info.BytesPerPixel = perPixel(heicDecodeModel.bytes(h.width, h.height), info.Width, info.Height)
	if info.Width < heicMinWidth {
		// gen2brain/heic v0.4.5 lays out the planes with a 16-byte aligned
		// stride, libheif 1.18 with at least 64 bytes per row: narrower
		// images come out scrambled (see README.md).
		return imageopto.SourceInfo{}, fmt.Errorf("%w: heic: images narrower than %d px are not supported by the WebAssembly decoder", imageopto.ErrUnsupportedFormat, heicMinWidth)
	}
	return info, nil
}

// heicMinWidth is the narrowest HEIC image gen2brain/heic decodes
// correctly: its 4:2:0 chroma rows must be over 48 bytes, so that 16-byte
// alignment gives libheif's minimum stride of 64.
const heicMinWidth = 97

// heicConfig asks libheif for the size of the primary image. gen2brain/heic
// hands libheif only the first 32 KiB, so it gets the ftyp and meta boxes
// alone: all libheif needs to apply the transformations, wherever the meta
// box is in the file.
func heicConfig(data []byte) (image.Config, error) {
	if err := heicInit(); err != nil {
		return image.Config{}, err
	}
	header := headerBoxes(data)
	defer memory.after(0)
	var cfg image.Config
	err := call("heic: decode config", func() (err error) {
		cfg, err = heic.DecodeConfig(bytes.NewReader(header))
		return err
	})
	return cfg, err
}

// decodeHEIC decodes the primary image of a HEIC file.
func decodeHEIC(data []byte) (*image.NRGBA, error) {
	info, err := heicHeader(data)
	if err != nil {
		return nil, err
	}
	if err := heicInit(); err != nil {
		return nil, err
	}
	defer memory.after(int64(info.BytesPerPixel) * int64(info.Width) * int64(info.Height))
	var img image.Image
	err = call("heic: decode", func() (err error) {
		img, err = heic.Decode(bytes.NewReader(data))
		return err
	})
	if err != nil {
		if errors.Is(err, imageopto.ErrInternal) {
			return nil, err
		}
		return nil, corrupt("heic", err)
	}
	return checkSize(toNRGBA(img), info, "heic")
}
