// Package imageopto resizes, crops, adjusts and re-encodes images with the URL
// API of Fastly's Image Optimizer (IO), for people who run their own servers.
//
// # Quick start
//
// Mount a Handler in your server. It fetches originals from an Origin,
// transforms them by the request's query and caches the results:
//
//	origin, err := imageopto.NewDirOrigin("/srv/photos", 0)
//	if err != nil { ... }
//	h, err := imageopto.New(origin, nil) // nil: the defaults documented on Options
//	if err != nil { ... }
//	mux.Handle("/img/", http.StripPrefix("/img", h))
//	// GET /img/cat.jpg?width=400&height=400&fit=crop
//
// The engine also works without HTTP: parse a Fastly IO query, then
// transform an image with it.
//
//	p, err := imageopto.ParseParams("width=400&height=400&fit=crop&bg-color=fff")
//	if err != nil {
//		// err lists every bad parameter; imageopto.StatusCode(err) == 400
//	}
//	res, err := imageopto.Transform(ctx, file, p, nil)
//	// res.Data is the encoded image, res.ContentType its media type,
//	// res.Info() the "ifsz=… idim=… ofmt=…" summary.
//
// The work is split in two halves. NewPlan is a pure function of the
// parameters, the source's header (SourceInfo, from Inspect), the format
// content negotiation chose (Negotiate) and the service options: it decides
// the output format and every operation with concrete numbers (a crop
// rectangle in pixels, a resize to W×H from an exact source window, a
// canvas and the image's place on it), and reports every parameter and
// limit error before a single pixel is decoded. The resulting Plan is read,
// never changed, by whatever runs it: Plan.Run on a decoded RGB image, the
// fast path that resamples a JPEG's or lossy WebP's Y′CbCr planes (and
// converts to RGB only at the output size, if at all), and EstimateMemory. Custom
// steps (any Step) can be appended to a plan or passed in
// TransformOptions.Steps.
//
// # Parameters
//
// ParseParams accepts every parameter of the Fastly IO URL API. Parameter
// names and keywords are lower case; unknown parameters are ignored (they
// may be meant for the origin, see Options.PassQuery); a repeated parameter
// is an error, since its meaning would be ambiguous. Every bad value is a *ParamError that
// names the parameter, the value and the reason, and all of a query's errors
// are returned together (errors.Join). ParseParamsLenient drops bad
// parameters instead and returns them as warnings. Params.Encode gives the
// canonical query: equivalent queries (reordered, 0.5 vs 50p, FFF vs
// 255,255,255, orient=r vs orient=6, format=jpeg vs jpg) encode identically.
//
// Status of each parameter in this build:
//
//	parameter      status
//	auto           supported with a configured WebP or AVIF encoder
//	               (wasmcodec): the output format follows the Accept
//	               header; without one, accepted and nothing negotiated;
//	               lossless where it belongs (see Formats)
//	bg-color       supported (pad/canvas fill, alpha flattening)
//	blur           supported (Gaussian; radius = 2σ; Np = percent of the longer side)
//	brightness     supported
//	bw             supported (threshold with luminance, atkinson); the
//	               result is encoded losslessly when the format is
//	               negotiated or format=webp (see Formats)
//	canvas         supported (sizes, ratios, x/y/offset positions)
//	contrast       supported
//	crop           supported (sizes, ratios, positions, safe, smart = content-aware)
//	disable        supported (upscale)
//	dpr            supported
//	enable         supported (upscale)
//	fit            supported (bounds, cover, crop)
//	format         jpg, bjpg, pjpg, png, gif, auto supported; webp, webpll,
//	               webply, avif with a configured codec (wasmcodec), else 400
//	               (animations stay animated in gif and mp4, and in webp
//	               with wasmcodec);
//	               png8 supported (quantised palette with alpha; quality
//	               steers colours and dithering); svg supported (the
//	               raster in an SVG document, see Formats); mp4 supported
//	               (H.264 video of every frame, see Formats; quality sets
//	               the quantiser); jxl, pjxl: unsupported (400)
//	frame          supported (frame=1: the first frame of an animation)
//	height         supported
//	level          supported for mp4 (written in the stream; a frame size
//	               or frame rate over the level is a 400); ignored otherwise
//	metadata       copyright supported (JPEG to JPEG: IPTC, XMP and EXIF
//	               copyright notice, creator, credit, licensor, web
//	               statement); c2pa unsupported (400)
//	optimize       supported: per-image quality from an SSIM target
//	               (see Optimize.Target); quality overrides it; ignored
//	               with a warning for outputs that cannot be decoded back
//	               to measure them (svg, mp4)
//	orient         supported (1–8, r, l, h, v, hv, vh, rv, vr, lv, vl)
//	pad            supported (CSS shorthand, pixels and percentages)
//	precrop        supported (as crop)
//	profile        mp4 is always Constrained Baseline, signalled as such:
//	               baseline exact; main and high get that stream (their
//	               decoders play it) with a warning; ignored otherwise
//	quality        supported for every lossy output (JPEG, WebP, AVIF,
//	               MP4 — default 80 —, PNG8's palette, SVG's embedded JPEG);
//	               the second value of quality=85,75 is used when WebP was
//	               chosen by negotiation
//	resize-filter  supported (nearest, bilinear/linear, bicubic/cubic,
//	               lanczos2, lanczos3/lanczos)
//	saturation     supported
//	sharpen        supported (unsharp mask: amount, radius = 2σ, threshold)
//	trim           supported (CSS shorthand, pixels and percentages)
//	trim-color     supported (colour or auto, threshold; not for GIF input)
//	viewbox        supported with format=svg (a viewBox, no width and
//	               height); ignored with a warning otherwise
//	width          supported
//
// Overlays are not URL parameters: Fastly takes them from the
// X-Fastly-Imageopto-Overlay request header, and so does this package
// (see Overlays):
//
//	overlay        supported: root-relative path of the overlay image
//	overlay-base64 supported: the same, base64 (standard or URL-safe)
//	overlay-width  supported (pixels or percentages of the output)
//	overlay-height supported (pixels or percentages of the output)
//	overlay-align  supported (top, middle, bottom × left, center, right)
//	overlay-pad    supported (CSS shorthand, as pad)
//	overlay-repeat supported (x, y, both)
//
// Operations run in this fixed order, whatever the order of the query:
// decode → ICC profile to sRGB → EXIF orientation →
// trim-color → precrop → trim → crop → orient → resize (width, height, dpr,
// fit, resize-filter, upscale rules) → pad or canvas → bg-color → brightness,
// contrast, saturation → sharpen → blur → bw → overlay → encode. The
// conversion to sRGB works on each pixel alone, so when no step before the
// resize looks at colours (trim-color, smart crop) and the image gets
// smaller, it runs after the resize instead, on the output's pixels (as
// libvips does; the plan shows where it went).
//
// # Overlays
//
// An overlay (a watermark) is an image composited over the output after
// every other operation and before encoding, in the grammar of Fastly's
// X-Fastly-Imageopto-Overlay header, a query-string-like list:
//
//	overlay=/img/wm.png&overlay-width=20p&overlay-align=bottom,right&overlay-pad=10
//
// ParseOverlay reads it strictly, like ParseParams: every unknown, repeated,
// empty or bad key is a *ParamError naming the key and the reason. Exactly
// one of overlay (a root-relative path: one leading slash, no query or
// fragment, no . or .. elements) and overlay-base64 (the same path in
// base64) names the image. overlay-width and overlay-height size it, in
// pixels or in percentages of the output image (after resize, pad and
// canvas); with one of them the other keeps the overlay's aspect ratio,
// with both it is stretched, with neither it keeps its own size (at most
// Limits.MaxOutputSide per side). overlay-align places it, with its
// padding, at the top, middle or bottom and left, center or right of the
// output (default middle,center; one keyword centres the other axis);
// overlay-pad is space around it, in pad's CSS shorthand, with percentages
// of the overlay's own size; overlay-repeat=x, y or both tiles it from
// there across a row, a column or the whole image, the padding spacing the
// copies. Copies are clipped at the edges. Compositing is source-over in
// premultiplied alpha (50 %-opaque red over blue gives (128, 0, 127)); the
// overlay's EXIF orientation and colour profile are applied, its first
// frame used, and it is resized with the request's resize-filter. An
// animation gets the overlay on every frame.
//
// Overlays come from the operator, never from the public. A Handler takes
// them from Request.Overlay, which a Hook sets (a watermark on every image,
// or per path), and from the header only when Options.TrustOverlayHeader
// is set — for a deployment behind a CDN or proxy that sets the header (as
// Fastly's VCL does) and removes any copy a client sends; responses then
// carry Vary on it. Otherwise the header is ignored, not even parsed. The
// overlay image is an original like any other: fetched from the Handler's
// origin through the source cache and its request collapsing (N requests
// with one watermark cost one origin fetch per freshness period), held to
// the same Limits (its header is checked before it is decoded, and its
// decoded and resized pixels are part of EstimateMemory), revalidated when
// stale, and used stale while the origin fails (for Options.StaleTTL). A
// missing overlay image fails the request with 502: an image is never
// served without its overlay. The result's cache key holds the
// overlay's canonical form (Overlay.Encode) and the hash of its image's
// bytes, so a changed watermark makes new results once the overlay's own
// copy is revalidated, and old ones are never served for it.
//
// Without a Handler, TransformOptions.Overlay and OverlayImage (the
// overlay's encoded bytes) composite an overlay in Transform.
//
// # Formats
//
// The source format is decided by magic bytes, never by names or headers.
// Decoded: JPEG (baseline, progressive, grey, YCbCr, CMYK/YCCK with an Adobe
// marker; EXIF orientation applied), PNG (all bit depths, palette,
// interlaced), GIF (all frames), WebP (lossy with the correct limited-range
// colour conversion, lossless, alpha; animated: every frame, composed with
// its blending and disposal methods). Recognised and refused with
// ErrUnsupportedFormat (415) unless a codec for them is configured: AVIF,
// HEIC, JPEG XL, TIFF, BMP, SVG, PDF, ICO, PSD. Written: JPEG (our own
// encoder: baseline or progressive, optimised Huffman tables, 4:2:0), PNG
// (truecolour, grey or exact palette; fully transparent pixels are cleared,
// and when nearly transparent ones, alpha under 16, make up a quarter of the
// image their colour is kept only to the precision that shows), PNG8
// (quantised palette with alpha), GIF (exact palette, or median cut with
// dithering; animated), SVG, MP4 (format=mp4; see below). Without a
// format parameter the output keeps the source format: a lossy WebP stays
// WebP (the built-in encoder), while a lossless WebP becomes PNG and an
// animated one GIF unless a codec that writes those is configured (AVIF
// sources likewise become JPEG, or PNG with alpha).
//
// SVG output (format=svg) wraps the transformed raster in an SVG document:
// an <svg> element with width, height and viewBox equal to the output size
// (viewbox=1: the viewBox alone, so the image scales to its container)
// holding one <image> whose href is a data: URI of the embedded PNG or
// JPEG, whichever is smaller for the content (JPEG, at the JPEG quality,
// only for an opaque image). The document is made from numbers and base64
// alone: no script, no event attribute, no external reference; its
// Content-Type is image/svg+xml. SVG sources are not rasterised: they are
// refused with ErrUnsupportedFormat. Animations become their first frame.
//
// Lossless where it belongs: a bilevel result (bw) is never encoded lossy
// when the output format is negotiated (format=auto, auto=webp, auto=avif)
// or is format=webp, and format=auto never makes a lossless source (PNG,
// GIF, lossless WebP) lossy. WebP is then lossless WebP. No configured
// codec writes AVIF losslessly (wasmcodec's AVIF is Y′CbCr 4:2:0 even at
// quality 100), so where AVIF was negotiated such a result is PNG, with an
// exact palette when it has at most 256 colours; without a modern format
// format=auto gives PNG for them too. auto=avif on a lossless source that
// is not bilevel gives lossy AVIF, as Fastly documents, and a lossy format
// asked by name (jpg, pjpg, bjpg, png8, webply, avif) is kept whenever it
// is the format written: a bilevel result is made lossless only in a
// format that negotiation chose in place of the one named.
// The built-in formats are Codec values in one table that configured
// codecs join (PlanOptions.Codecs); the wasmcodec subpackage adds WebP
// (still and animated) and AVIF output and AVIF and HEIC input.
// Animations (animated GIF and WebP) stay animated when the output format's
// codec writes animations — GIF and MP4 always, WebP with wasmcodec — every
// frame composed and transformed alike (the smart-crop position is found
// once), with each frame's delay and the loop count kept (WebP keeps
// milliseconds, GIF hundredths; MP4 has no loop count); other outputs, and
// frame=1, use the first frame. Content negotiation never turns an
// animation into a still image: format=auto and auto=webp give an animated
// WebP when WebP can be written as one (format=auto picks WebP over AVIF for
// an animation, since AVIF output cannot be animated and every client that
// accepts AVIF accepts WebP), else the animation stays GIF. Without a format
// parameter an animated WebP stays WebP, or becomes an animated GIF when
// WebP cannot be written as an animation. The frame and total-pixel limits
// are checked from the header, before any frame is decoded; the output size
// limit bounds the sum of the frames' areas, the encoder limits
// (Limits.MaxLosslessWebPPixels) apply to each frame, and an animated WebP
// is encoded frame by frame, stopping between frames once the request is
// over.
//
// MP4 output is H.264 video written by our own encoder (pure Go, no cgo):
// Constrained Baseline profile, so that every browser's <video> plays it,
// 4:2:0 BT.709, the moov box first so that playback starts while the file
// downloads. Each frame keeps its delay (in milliseconds; delays of 10 ms
// or less become 100 ms, as browsers show such GIF frames); a still source
// becomes one frame of one second. MP4 has no loop count: use
// <video autoplay loop muted playsinline>. Sides are even: an odd width or
// height gains one pixel, a copy of the last column or row (the info
// header's odim reports the frames before that). Transparent pixels are
// composed onto bg-color, or white. level= is written in the stream and
// checked: a frame size (macroblocks per frame, per side) or a frame rate
// (macroblocks per second, from the shortest frame) over it is a 400 naming
// level; without it the lowest level that fits is written. Bit rates are
// not constrained. profile=main and profile=high are answered with the
// Constrained Baseline stream, signalled as such. optimize= does not apply.
// The encoder predicts macroblocks within the frame (16×16 or 4×4
// blocks), or skips them, or compensates motion from the previous frame
// (whole-sample vectors), choosing by rate and distortion, with an IDR
// frame every 120 frames; the deblocking filter is off.
//
// Colour: an embedded ICC profile (JPEG APP2, PNG iCCP, WebP ICCP) is
// applied, converting the pixels to sRGB (first, or after the resize as
// described above: a mean CIEDE2000 difference of 0.2–0.95 on photos,
// largest for ProPhoto's out-of-gamut colours) — matrix/TRC, grey and
// LUT-based (mft1, mft2, mAB) RGB profiles, relative colorimetric. Profiles
// that are sRGB already cost nothing; untagged images are treated as sRGB; a
// broken or unsupported profile is ignored with a warning. Outputs are sRGB
// and untagged; all metadata is stripped except what metadata=copyright
// keeps.
//
// # Limits
//
// Sources are refused from their header, before any pixel buffer exists,
// when they are over DefaultLimits: 50 MiB, 12,000 px per side, 50 MP
// per frame, 1,000 frames, 100 MP over all frames, 100 progressive JPEG
// scans. Outputs larger than 8,192 px per side are scaled down to fit,
// keeping their proportions, with a warning; pad or canvas that would exceed it are a 400.
// MP4 output is refused (422) over 25 MP summed over its frames
// (Limits.MaxVideoPixels, 640×400 × 97 frames): at most about 10
// CPU-seconds for frames of noise, a few for typical animations.
//
// # Errors
//
// Errors are checked with errors.Is and errors.As, never by their text.
// StatusCode maps them to HTTP: *ParamError 400, ErrUnsupportedFormat 415,
// ErrCorrupt and ErrSourceTooLarge 422, ErrOverloaded 503, timeouts 504,
// ErrInternal (a recovered panic) 500.
//
// # Origins
//
// An Origin has one method, Fetch, and OriginFunc adapts a function. Built
// in: NewDirOrigin (a directory, confined with os.Root: no "..", no absolute
// paths, no symbolic links out), NewFSOrigin (any fs.FS, such as an
// embed.FS) and NewHTTPOrigin (a fixed base URL, with its own client:
// connect, header and total timeouts, no proxy from the environment, at most
// three redirects, no transparent gzip, a byte cap, conditional requests).
// The local origins refuse a file over the byte cap from its size, before
// reading it.
// Client headers such as cookies and credentials are never forwarded; query
// parameters that are not Fastly IO parameters reach the origin only with
// Options.PassQuery.
//
// # Caching
//
// The handler keeps two caches: results, keyed by a hash of
// PipelineVersion, the origin path, the canonical parameters (Params.Encode)
// and the negotiated output format — never the raw Accept header — and,
// with an overlay, its canonical form and the hash of its image; and
// originals, so that N sizes of one image cost one origin fetch. Both are
// MemoryCaches bounded by bytes unless Options supply other Cache
// implementations; a failing cache is logged and treated as a miss.
// Freshness comes from the origin's Cache-Control or Expires, bounded by
// Options.MinTTL and MaxTTL (DefaultTTL when the origin says nothing). A
// stale entry is revalidated with a conditional request: a 304 refreshes it
// without transforming again, and when the origin fails the stale copy is
// served with a warning. Origin 404 and 410 answers are remembered for
// Options.NotFoundTTL.
//
// Responses carry Content-Type from our encoder, Content-Length, a strong
// ETag, Last-Modified when the origin gave one, Cache-Control, Vary: Accept
// exactly when content negotiation took part, X-Content-Type-Options:
// nosniff, and the info header (Imageopto-Info by default,
// Fastly-IO-Info with HeaderPrefix "Fastly-IO"). If-None-Match gives 304
// when it matches; without it, If-Modified-Since gives 304 when the image
// was not modified after the date (a malformed date is ignored). A single
// byte range (Range: bytes=…, with If-Range equal to the ETag when sent)
// is answered with 206 Partial Content, or 416 past the end, as video
// players ask (Safari plays no MP4 served whole); other Range requests get
// the whole result, and every response says Accept-Ranges: bytes.
//
// For a CDN in front: Cache-Control carries, besides max-age,
// stale-while-revalidate and stale-if-error (Options.StaleWhileRevalidate
// and StaleTTL) when the handler caches, so the CDN serves stale copies as
// the handler does; and a Surrogate-Key header (Options.SurrogateKeyHeader)
// names the original (SurrogateKey), so that purging that key at the CDN
// removes every size and format made from it.
//
// Client hints are opt-in (Options.ClientHints): the handler then asks
// browsers for Sec-CH-DPR, Sec-CH-Width and Sec-CH-Viewport-Width and uses
// them where the query has no dpr, or no width nor height (the query always
// wins), rounded
// up to a short ladder of values before the cache key is made, so that
// the number of variants stays bounded; responses name the hints they
// depended on in Vary.
//
// Caches compose: NewLayeredCache puts a MemoryCache in front of slower,
// shared or durable ones, such as those of the subpackages diskcache (a
// directory, surviving restarts), rediscache (Redis) and s3store (a bucket;
// s3store also has an Origin for originals kept in S3). An origin that
// changes an original's bytes without changing its ETag is caught by the
// content hash and counted (Handler.Stats).
//
// # Observing
//
// Options.Observer learns of every request (status, cache outcome: hit,
// miss, collapsed, stale, revalidated; bytes; output format; duration),
// transformation, origin fetch, cache lookup and peer-tier request, and
// Handler.Gauges gives the levels (transformations and fetches in flight,
// queue length, memory in use). A nil Observer costs nothing. Package
// promobs exports them to Prometheus; the server command also writes its
// access log from them.
//
// # Several machines
//
// Options.Tier makes several machines share their work (package cluster
// implements a Tier on groupcache). Every key then has one owner machine,
// the shield for that key: a request that misses everywhere reaches the
// origin once and is transformed once, cluster-wide. The original's record
// (its validators and the hash of its bytes) is the only mutable value; it
// is re-read from its owner every Options.TierRecheck, and results are
// keyed by the hash of the original's bytes, so they never change (and two
// URLs naming the same bytes share them). When a machine dies the others
// make its keys themselves. Results with an overlay are made by the machine
// that received the request (the tier's keys have no overlay); their
// originals still come through its source cache.
//
// # Purging
//
// Handler.Purge(ctx, paths...) invalidates originals and every result made
// from them, whatever the parameters, format or origin query; SoftPurge
// marks them stale instead (revalidated before use, still served while the
// origin fails). Nothing is deleted: each original has a purge generation
// that the purge raises, every cache entry carries the generation it was
// made under, and an older one is treated as absent (hard) or expired
// (soft) in every layer — memory, disk, Redis, S3. The generation is part
// of the key of the record a Tier shares, so no member can find a record
// made before the purge; a Tier that implements TierPurger (package
// cluster) sends the purge to every member, and members that missed it
// catch up from the others (PurgeLog's digest). Options.PurgeStore keeps
// purge records across restarts, for caches that outlive the process.
//
// # Concurrency
//
// Everything in this package is safe for concurrent use and keeps no global
// state: codecs are an explicit table, never the image.Decode registry, so
// formats registered by the host program are not reachable, and two Handlers
// with different options coexist. Transform runs on the calling goroutine
// (unless TransformOptions.Threads lets it use more).
// The Handler runs one flight per cache key: N concurrent identical misses
// make one origin fetch and one transformation; each waiter leaves on its own
// context, and the flight runs detached with its own deadline
// (Options.FlightTimeout), recovering panics into errors. At most
// Options.MaxConcurrent transformations run at once (a job of the planar
// paths that starts while slots are idle and nobody waits borrows one for
// a second goroutine: TransformOptions.Threads); up to Options.MaxQueue
// wait at most Options.QueueTimeout, and the rest get 503 with Retry-After.
// Deadlines are honoured inside the work, not only between steps: the
// built-in decoders, steps and encoders check the context about every
// millisecond, so Transform returns soon after its context ends and a
// flight past FlightTimeout stops, frees its slot and answers 504.
//
// # Security considerations
//
// Sources are sniffed by magic bytes and gated on their header before any
// pixel buffer is allocated (Limits), and every transformation is admitted
// against a memory budget estimated from that header and the plan,
// including the output encoder's own measured peak (Options.MemoryBudget,
// EstimateMemory). One request never takes more than its share:
//
//   - a job estimated above Options.MaxJobMemory (half the budget) is
//     refused with 422 (ErrJobTooLarge) before any work, and so is an
//     output over the limits of the costliest encoders
//     (Limits.MaxAVIFPixels, Limits.MaxLosslessWebPPixels,
//     Limits.MaxVideoPixels);
//   - heavy jobs (over a quarter of that ceiling) use at most half the
//     transformation slots, so cheap requests are served while they run;
//   - originals count against the budget while they are fetched (at most
//     Options.MaxFetches at once, each reserving Limits.MaxSourceBytes),
//     while they wait for their transformation and while it runs; a local
//     file is refused from its size before it is read, and an original's
//     refusal (too large, empty, an origin failure) is remembered;
//   - the flight deadline (Options.FlightTimeout) is checked inside the
//     work — resamplers, filters, the quantiser, the JPEG and PNG encoders
//     and the decoders poll it every few milliseconds — so a job past it
//     stops, gives back its slot and answers 504. Configured codecs
//     (package wasmcodec) cannot be interrupted: their request still gets
//     504 on time, while their slot and memory are held until they end;
//     their output limits bound how long that is.
//
// Paths are checked by CleanPath. A panic anywhere in decoding, the steps
// or encoding fails that request only.
//
// For a public deployment:
//
//   - Sign URLs (Options.Signer; the server command's -sign-key and
//     "imageopto sign"), so that nobody can make the server render
//     arbitrary sizes or variants. Signatures cover the origin path, the
//     canonical parameters and an optional expiry; several keys allow
//     rotation.
//   - Fetch from fixed origins (NewDirOrigin, NewFSOrigin, NewHTTPOrigin).
//     HTTPOrigin follows a redirect only to the origin's own scheme and
//     host (host and port), or to a host in HTTPOriginOptions.RedirectHosts,
//     and checks every hop. Connections to any host but the configured
//     origin's own are checked at dial time, after DNS resolution, and
//     refused for loopback, private, link-local, CGNAT, multicast, reserved
//     and mapped addresses unless HTTPOriginOptions.AllowedNetworks lists
//     them; the origin's own host is not checked, so an origin on localhost
//     or a private network works. A refused redirect is a 502, not retried
//     and not counted by the circuit breaker. (A custom Transport keeps the
//     redirect rule but not the dial-time check.)
//   - To proxy many sites use URLOrigin with AllowedHosts: every connection,
//     redirects included, is checked after DNS resolution and refused for
//     the same special addresses, unless URLOriginOptions.AllowedNetworks
//     lists them, and redirects may only reach allowed hosts.
//   - Keep the Limits, MaxConcurrent, MaxQueue and MemoryBudget, and the
//     origin timeouts, retry budget and circuit breaker of
//     HTTPOriginOptions. The breaker opens on consecutive connection
//     failures and timeouts; HTTP error answers (5xx, 429) count only when
//     spread over several distinct paths (BreakerFailures of them), so that
//     requests for one failing original cannot cut every other original off.
//   - Set Options.TrustOverlayHeader only behind a proxy that sets the
//     overlay header and strips clients' copies: whoever can send it can
//     paint any original over any image.
//   - Give the host http.Server timeouts — ReadHeaderTimeout at least —
//     since the handler does not own the connection; the server command
//     uses 5 s read-header, 15 s read, 60 s write, 120 s idle and 64 KiB of
//     headers.
//
// Parameter errors repeat at most 64 bytes of a value; 5xx bodies never
// carry details, which go to Options.Logger instead.
//
// # Extending imageopto
//
// Each kind of extension is one entry in one place.
//
// A codec (a new output or input format) is one Codec value: a format, and
// any of DecodeHeader with Decode, Encode, and EncodeMemory for admission
// control; DecodeFrames, EncodeFrames and EncodeFramesMemory for
// animations. Pass it in PlanOptions.Codecs (Options.Transform.PlanOptions for
// a Handler); the lookup that serves the built-in codecs finds it for every
// decode, encode, negotiation and memory estimate. The wasmcodec package is
// the worked example:
//
//	opts := &imageopto.Options{}
//	opts.Transform.Codecs = wasmcodec.Codecs() // WebP, AVIF out; AVIF, HEIC in
//
// Inside this module, a new image operation is one type in ops.go (a Step,
// plus the optional methods that tell the Y′CbCr fast path and the memory
// estimate about it) and one line where layout.resolve (layout.go) decides
// the operations in order. A new URL parameter is one entry in the table of
// params_table.go: its name, its parser, its canonical encoding and its
// usage text; parsing, repeat detection, Params.Encode and the list of
// parameters all read that table.
//
// Outside the module, custom pixel work is a Step (StepFunc adapts a
// function) passed in TransformOptions.Steps: it runs on the decoded RGBA
// image after the built-in operations and before encoding.
package imageopto
