// Package wasmcodec adds the formats that need a heavyweight codec to
// imageopto: WebP output (lossless, animated, and transparent images; the
// root package writes lossy opaque WebP itself, and transparent WebP too
// when no codec is configured), AVIF input and output, and HEIC input. The codecs are the reference C libraries — libwebp 1.4.0,
// libavif 1.1.1 with libaom 3.10.0, libheif 1.18.2 with libde265 1.0.15 —
// compiled to WebAssembly by github.com/gen2brain/webp, /avif and /heic and
// run by wazero, a WebAssembly runtime written in Go. There is no cgo and no
// system library, and the C code runs inside the runtime's memory sandbox.
//
// The root package stays light (it never imports this one); a program opts
// in by importing wasmcodec, as the imageopto server command is meant to.
//
// # Enabling
//
// wasmcodec registers nothing and has no init function. Pass the codecs in
// the options:
//
//	opts := &imageopto.Options{ /* … */ }
//	opts.Transform.Codecs = wasmcodec.Codecs()
//	h, err := imageopto.New(origin, opts)
//
// or, without HTTP, in TransformOptions.PlanOptions.Codecs. Without them,
// format=webpll and avif (and format=webp of a lossless source) are
// refused as unsupported (400), AVIF and HEIC sources are refused (415),
// auto=avif never picks AVIF, and negotiation writes PNG where it would
// have written lossless WebP. (The gen2brain packages' own init
// functions do register "webp", "avif" and "heic" with the standard
// library's image.Decode registry; imageopto never uses that registry.)
//
// Build with -tags nodynamic. The three gen2brain packages first try, in
// an init function, to dlopen the system's libwebp.so, libavif.so (1.1 or
// later) and libheif.so through github.com/ebitengine/purego and use them
// instead of WebAssembly when found. That path runs native C on untrusted
// images outside the sandbox, behaves differently from the tested one, and
// makes even a CGO_ENABLED=0 binary dynamically linked (purego imports
// libdl), so it no longer runs in a scratch container. The nodynamic tag
// removes purego and the dlopen entirely:
//
//	CGO_ENABLED=0 go build -tags nodynamic ./cmd/imageopto
//
// # Formats
//
// WebP output: lossy at EncodeOptions.Quality with libwebp's method 2, or,
// with EncodeOptions.Lossless (format=webpll, or webp from a lossless
// source), lossless with cwebp's preset -z 3. Alpha is kept (losslessly,
// also in lossy files); the colour of fully transparent pixels is not.
// Images up to 16383 px per side. The root package decodes WebP itself
// (animated WebP too), so there is no WebP decoder here.
//
// Animated WebP output (Codec.EncodeFrames): the WebAssembly build of
// libwebp exports the single-image encoder only, not WebPAnimEncoder, so
// the animation container (VP8X, ANIM, one ANMF chunk per frame) is
// written in Go around the image chunks of still WebP files the module
// encodes, one call per frame, lossy or lossless as for a still image.
// The first frame covers the canvas; each later one codes only the
// rectangle of the pixels that changed since the previous frame, blended
// with the unchanged pixels made transparent when every changed pixel is
// opaque, replacing the rectangle otherwise, and never disposed, so a
// player's canvas always equals the frame; a frame identical to the last
// becomes one transparent pixel, so frame count and timing are kept.
// Delays are kept to the millisecond; the loop count as given. The context
// is read between frames.
//
// AVIF output: 8-bit 4:2:0 at EncodeOptions.Quality (libavif's 0–100
// scale, where 100 codes the 4:2:0 planes losslessly: large, and still not
// pixel-exact) with libaom at speed 8, and a lossless alpha plane when the
// image has transparency.
//
// AVIF input: the first frame of the primary item (or of the first track
// of an image sequence), grids included, 10- and 12-bit reduced to 8 bits.
// DecodeHeader reads the size from the ispe box and checks it against the
// AV1 bitstream without decoding (see Sizes); irot and imir become the
// equivalent EXIF orientation, which the pipeline applies (libavif does
// not). A clean aperture (clap) is ignored.
//
// HEIC input: the primary image, grids included (as written by phones).
// libheif applies the clean aperture, rotation and mirroring itself, so the
// header reports the size after them and no orientation. Two limits of
// gen2brain/heic v0.4.5 are refused with ErrUnsupportedFormat rather than
// served wrong: images with an alpha channel (the decoder drops alpha) and
// images narrower than 97 px (their planes come out scrambled). There is no
// HEIC encoder.
//
// DecodeHeader never runs a codec for still images: it walks the
// container's boxes itself, bounded by the input's size, and checks that
// the primary item's data lies inside the file (libavif would report
// success with an empty picture for a truncated file). Errors wrap
// imageopto.ErrCorrupt or imageopto.ErrUnsupportedFormat.
//
// # Sizes: the bitstream, not the container
//
// libavif and libheif size their output from the container (the ispe
// property, or an image sequence's track header), but the AV1 and HEVC
// decoders allocate and work for the size the coded data says: a small
// file whose ispe claims 64×64 around a 13000×13000 frame would pass every
// limit and then cost the decoder its real size, and one whose ispe is
// larger than the frame decodes to a garbled picture. DecodeHeader
// therefore reads the coded size and refuses any disagreement with
// ErrCorrupt before anything is decoded ("container says 64x64, AV1
// sequence header says 13000x13000"):
//
//   - AVIF: the sequence header OBU in the item's own data (the size
//     libavif's decoder uses; av1C's copy, when there is one, must agree)
//     and the frame size of every intra frame's header;
//   - HEIC: every sequence parameter set in hvcC and in the item's data,
//     after the conformance window (which may trim at most 63 px);
//   - grids: rows × columns tiles of one coded size that cover the output
//     with less than a tile to spare and code at most twice its pixels;
//     the output must equal ispe. Alpha planes must have the image's size;
//   - image sequences: the first sample of the colour track and of its
//     alpha track, against libavif's size and the track header.
//
// The checks read headers only: their work is linear in the file.
//
// # Costs
//
// Binary size: about 5.3 MiB more (4.1 MiB stripped) for a program that
// already uses imageopto; 1.5 MiB of it is the compressed WebAssembly.
//
// First use: each of the four modules (WebP, AVIF decoder, AVIF encoder,
// HEIC) is compiled to machine code on its first use, once per process:
// 0.2–1 s of CPU each, about 2.4 s for all four (the AVIF encoder is the
// largest). The compiler's garbage (the process peaks about 110 MiB above
// its start while compiling all four) is handed back to the operating
// system a second later, leaving about 30 MiB of machine code resident.
// Compilation is lazy, happens once behind a sync.Once, never in init, and
// is safe to race; Warm compiles all four ahead of time.
//
// Speed, on one core of the machine in README.md: a lossy WebP encode
// takes 0.17–0.6 s of CPU per megapixel (more with alpha and noise), a
// lossless one about 1 s, an AVIF encode 0.6 s for an opaque photo and 2–6 s
// with alpha or noise; decodes take 0.2–0.8 s (AVIF) and 0.2–0.4 s (HEIC).
// Limits.MaxAVIFPixels and Limits.MaxLosslessWebPPixels bound what one
// encode may cost.
//
// Memory: a call's linear memory lives on the Go heap. Each codec's peak
// is modelled as a + b·pixels from measurements over sizes and contents,
// worst case plus 25 % (memory.go, README.md); the encoders report it
// through imageopto.Codec.EncodeMemory, the decoders through
// SourceInfo.BytesPerPixel, for the handler's admission control. The worst
// cases per pixel: lossy WebP 168 B (25 for an opaque photo), lossless
// WebP 196, AVIF encode 126, AVIF decode 162, HEIC decode 39. An animated
// WebP (Codec.EncodeFramesMemory) needs one frame's encode at the canvas's
// size, 8 bytes per canvas pixel for the changed rectangle and its copy,
// and twice the encoded frames, which are held until the RIFF header can
// be written: modelled at 128 bytes plus 5 bytes per pixel per frame
// (noise, the worst case, measured at most 4.0), whatever the content.
//
// After a call whose model is 256 MiB or more, and after compiling a
// module, the package hands the freed memory back to the operating system
// (debug.FreeOSMemory) once such calls have stopped for a second, at most
// once a second and at the latest ten seconds after the first: the Go
// runtime would otherwise keep it resident for minutes. This runs on a
// timer's goroutine, never on a request's path, and never for small
// images.
//
// # Concurrency
//
// Codecs and all the functions it returns are safe for concurrent use.
// Every call instantiates its own module from the shared compiled code, with
// its own linear memory, so calls are not serialised: two AVIF encodes on
// two idle cores took 3 % longer than one, and needed 1.5× the memory. The memory
// is ordinary Go heap and is released to the garbage collector when the
// call returns (decoded pixels are copied out).
//
// # Cancellation
//
// A call cannot be cancelled (an animated WebP is encoded one call per
// frame, and stops between frames). wazero can stop a running module when a
// context ends, but only for a runtime built with
// RuntimeConfig.WithCloseOnContextDone and for calls made with that
// context; gen2brain's packages build their runtimes and make their calls
// in unexported code, with the default configuration and
// context.Background, and their exported API (Decode, DecodeConfig,
// Encode, Init*) takes no context or configuration. Their input is read in
// full before the WebAssembly call starts and their output written after it
// ends, so no reader or writer can interrupt it either. A request that
// times out therefore abandons its wait while the codec call runs to
// completion; what bounds that work is DecodeHeader's checks and the
// source limits for the decoders, and Limits.MaxAVIFPixels and
// Limits.MaxLosslessWebPPixels for the costliest encoders.
package wasmcodec
