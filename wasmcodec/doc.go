// Package wasmcodec adds the formats that need a heavyweight codec to
// imageopto: WebP output (lossy and lossless), AVIF input and output, and
// HEIC input. The codecs are the reference C libraries — libwebp 1.4.0,
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
// format=webp, webpll, webply and avif are refused as unsupported (400),
// AVIF and HEIC sources are refused (415), and auto=webp, auto=avif and
// format=auto never pick WebP or AVIF. (The gen2brain packages' own init
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
// Images up to 16383 px per side. The root package decodes WebP itself, so
// there is no WebP decoder here.
//
// AVIF output: 8-bit 4:2:0 at EncodeOptions.Quality (libavif's 0–100
// scale, where 100 codes the 4:2:0 planes losslessly: large, and still not
// pixel-exact) with libaom at speed 8, and a lossless alpha plane when the
// image has transparency.
//
// AVIF input: the first frame of the primary item (or of the first track
// of an image sequence), grids included, 10- and 12-bit reduced to 8 bits.
// DecodeHeader reads the size from the ispe box without decoding; irot and
// imir become the equivalent EXIF orientation, which the pipeline applies
// (libavif does not). A clean aperture (clap) is ignored.
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
// # Costs
//
// Binary size: about 5.3 MiB more (4.1 MiB stripped) for a program that
// already uses imageopto; 1.5 MiB of it is the compressed WebAssembly.
//
// First use: each of the four modules (WebP, AVIF decoder, AVIF encoder,
// HEIC) is compiled to machine code on its first use, once per process:
// 0.2–1 s of CPU each (the AVIF encoder is the largest), adding 34–76 MiB
// of resident memory each. Compilation is lazy, happens once behind a
// sync.Once, never in init, and is safe to race; Warm compiles all four
// ahead of time.
//
// Speed: WebAssembly runs libwebp at about a fifth of the native cwebp's
// speed. At 2560×1600 on one core: lossy WebP 0.55 s, AVIF 2.3 s, lossless
// WebP about 3 s, AVIF decode 0.55 s, HEIC decode 0.45 s. Memory: a call's
// linear memory lives on the Go heap; at its peak an encode holds about 25
// (lossy WebP), 110 (AVIF) or 110–180 (lossless WebP) bytes per output
// pixel and a decode about 70–80 (AVIF) or 30–40 (HEIC) bytes per source
// pixel. README.md has the measurements and the command that reproduces
// them.
//
// # Concurrency
//
// Codecs and all the functions it returns are safe for concurrent use.
// Every call instantiates its own module from the shared compiled code, with
// its own linear memory, so calls are not serialised: two AVIF encodes on
// two idle cores took 3 % longer than one, and needed 1.5× the memory. The memory
// is ordinary Go heap and is released to the garbage collector when the
// call returns (decoded pixels are copied out). A call cannot be cancelled:
// the libraries run it with context.Background, so a request that times out
// leaves its codec call running to completion.
package wasmcodec
