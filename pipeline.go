package imageopto

import (
	"context"
	"fmt"
	"github.com/imageopto/imageopto/internal/format"
	"image"
	"image/color"
	"math"
	"strings"
)

// ImageFormat names an encoded image format, with the tokens of the info
// header's ifmt and ofmt fields ("jpeg", "png", …). It is the one format
// type of the module (defined in an internal package so that the codecs
// share it). Its methods: ContentType returns the media type
// ("image/jpeg"), HasAlpha whether the format can store transparency.
type ImageFormat = format.Format

// Image formats that this module decodes or writes, with the built-in
// codecs or a configured one (see Codec). SVG is written (a raster in an
// SVG document), never read. Other formats (TIFF, BMP, PDF, ICO, PSD), and
// SVG sources, are recognised by their magic bytes so that they can be
// refused precisely.
const (
	JPEG = format.JPEG
	PNG  = format.PNG
	GIF  = format.GIF
	WebP = format.WebP
	AVIF = format.AVIF
	HEIC = format.HEIC
	JXL  = format.JXL
	SVG  = format.SVG
	MP4  = format.MP4
)

// SourceInfo is what is known about a source from its header alone, before
// any pixel is decoded.
type SourceInfo struct {
	Format        ImageFormat
	Width, Height int         // as stored, before EXIF orientation
	Orientation   Orientation // EXIF orientation, applied automatically (1 or 0: none)
	HasAlpha      bool
	Lossless      bool  // losslessly coded (PNG, GIF, lossless WebP)
	Frames        int   // number of frames (1 for still images)
	Progressive   bool  // progressive JPEG
	Scans         int   // JPEG scans (SOS markers)
	Bytes         int64 // encoded size
	BytesPerPixel int   // of the decoder's own buffer, for memory estimates
	// ICC is the embedded colour profile (nil: untagged, treated as sRGB).
	ICC []byte
	// planes: a Y′CbCr or grey JPEG, or a lossy WebP without alpha (set
	// by Inspect), whose jobs may run on planes (transform_planes.go) and
	// are estimated as such.
	planes bool
	// pngRows: a PNG that is not interlaced, decoded row by row, also at
	// a reduction (shrink-on-load in boxes; codec.DecodePNGScaled).
	pngRows bool
}

// Upright returns the source size after EXIF orientation.
func (s SourceInfo) Upright() (w, h int) {
	if s.Orientation.Swaps() {
		return s.Height, s.Width
	}
	return s.Width, s.Height
}

// Limits bound what a transformation may read and produce . A zero field
// takes the default shown.
type Limits struct {
	MaxSourceBytes  int64 // 50 MiB
	MaxSourceSide   int   // 12,000 px per side
	MaxSourcePixels int64 // 50 MP per frame
	MaxFrames       int   // 1,000 frames
	MaxTotalPixels  int64 // 100 MP summed over frames
	MaxScans        int   // 100 progressive JPEG scans
	MaxOutputSide   int   // 8,192 px per side
	// Encoders far costlier than the rest have output limits of their own:
	// one request may not make them run for long (neither can be stopped
	// half-way; see the package documentation).
	// The defaults keep one encode near 5 CPU-seconds at worst (AVIF at
	// speed 8: 0.5 s per MP for an opaque photo, up to 3.5 for noise with
	// noisy alpha; lossless WebP about 1 s per MP).
	MaxAVIFPixels         int64 // AVIF output: 2.1 MP (1920×1080 fits)
	MaxLosslessWebPPixels int64 // lossless WebP output: 4 MP
	// MP4 output is bounded by the pixels encoded, summed over frames:
	// frames of noise, the worst case, take about 0.4 CPU-seconds per MP
	// from GIF to MP4, typical animations a fraction of that; the encoder
	// also stops at the context's deadline.
	MaxVideoPixels int64 // MP4 output: 25 MP summed over frames
}

// DefaultLimits returns the default limits (see the package documentation).
func DefaultLimits() Limits {
	return Limits{
		MaxSourceBytes:  50 << 20,
		MaxSourceSide:   12000,
		MaxSourcePixels: 50_000_000,
		MaxFrames:       1000,
		MaxTotalPixels:  100_000_000,
		MaxScans:        100,
		MaxOutputSide:   8192,

		MaxAVIFPixels:         2_100_000,
		MaxLosslessWebPPixels: 4_000_000,
		MaxVideoPixels:        25_000_000,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxSourceBytes <= 0 {
		l.MaxSourceBytes = d.MaxSourceBytes
	}
	if l.MaxSourceSide <= 0 {
		l.MaxSourceSide = d.MaxSourceSide
	}
	if l.MaxSourcePixels <= 0 {
		l.MaxSourcePixels = d.MaxSourcePixels
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = d.MaxFrames
	}
	if l.MaxTotalPixels <= 0 {
		l.MaxTotalPixels = d.MaxTotalPixels
	}
	if l.MaxScans <= 0 {
		l.MaxScans = d.MaxScans
	}
	if l.MaxOutputSide <= 0 {
		l.MaxOutputSide = d.MaxOutputSide
	}
	if l.MaxAVIFPixels <= 0 {
		l.MaxAVIFPixels = d.MaxAVIFPixels
	}
	if l.MaxLosslessWebPPixels <= 0 {
		l.MaxLosslessWebPPixels = d.MaxLosslessWebPPixels
	}
	if l.MaxVideoPixels <= 0 {
		l.MaxVideoPixels = d.MaxVideoPixels
	}
	return l
}

// Check refuses a source over the limits, from its header alone.
func (l Limits) Check(s SourceInfo) error {
	l = l.withDefaults()
	frames := int64(max(s.Frames, 1))
	px := int64(s.Width) * int64(s.Height)
	switch {
	case s.Bytes > l.MaxSourceBytes:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrSourceTooLarge, s.Bytes, l.MaxSourceBytes)
	case s.Width > l.MaxSourceSide || s.Height > l.MaxSourceSide:
		return fmt.Errorf("%w: %dx%d, limit %d px per side", ErrSourceTooLarge, s.Width, s.Height, l.MaxSourceSide)
	case px > l.MaxSourcePixels:
		return fmt.Errorf("%w: %d pixels, limit %d", ErrSourceTooLarge, px, l.MaxSourcePixels)
	case frames > int64(l.MaxFrames):
		return fmt.Errorf("%w: %d frames, limit %d", ErrSourceTooLarge, frames, l.MaxFrames)
	case px*frames > l.MaxTotalPixels:
		return fmt.Errorf("%w: %d pixels over all frames, limit %d", ErrSourceTooLarge, px*frames, l.MaxTotalPixels)
	case s.Scans > l.MaxScans:
		return fmt.Errorf("%w: %d JPEG scans, limit %d", ErrSourceTooLarge, s.Scans, l.MaxScans)
	}
	return nil
}

// Step is one operation of a plan on the RGB path. Apply returns the
// transformed image (it may modify img in place and return it) and must
// not keep img after returning; String names the step and its arguments.
//
// Step is the extension point for custom image work: a Step appended to
// Plan.Steps, or given in TransformOptions.Steps, runs after the built-in
// operations and before encoding. (A plan with a custom step always takes
// the RGB path, never the JPEG fast path.) The built-in operations are
// Steps too, resolved with concrete numbers by NewPlan.
type Step interface {
	Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error)
	String() string
}

// StepFunc adapts a function to a Step.
type StepFunc struct {
	Name string
	Func func(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error)
}

// Apply calls f.Func.
func (f StepFunc) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	return f.Func(ctx, img)
}

// String returns f.Name.
func (f StepFunc) String() string { return f.Name }

// Plan is the work a transformation will do, decided once from the
// parameters, the source header and the service options, before any pixel
// is decoded. Every painter reads it and none changes it, so one plan may
// run on many images at once.
type Plan struct {
	// Steps are the operations, in order, resolved with concrete numbers
	// for the source: a crop rectangle in pixels, a resize to W×H from a
	// source window, a canvas and the image's place on it. Append custom
	// steps after them; do not remove or reorder the built-in ones.
	Steps []Step
	// Format is the output format, and Quality its encoder quality (0 when
	// the format has none).
	Format  ImageFormat
	Quality int
	// Lossless, Progressive and Palette select the variant of formats that
	// have several (lossless WebP, progressive JPEG, palette PNG).
	Lossless, Progressive, Palette bool
	// ViewBox is viewbox=1 for SVG output: a viewBox without width and
	// height, so that the document scales to its container.
	ViewBox bool
	// Animated is true when every frame of an animated source is
	// transformed and written: the output format's codec writes
	// animations (Codec.EncodeFrames; built in: GIF, MP4; wasmcodec:
	// WebP) and frame=1 was not asked. Otherwise the first frame is.
	Animated bool
	// OptimizeTarget, when not 0, is the SSIM that optimize= asks the
	// encoder quality to reach; the quality used is then found per image
	// (Result.Plan.Quality reports it).
	OptimizeTarget float64
	// Level is the H.264 level asked for MP4 output (level=); "" lets the
	// encoder choose the lowest that fits.
	Level Level
	// Negotiated is true when the format was chosen by content negotiation
	// (auto=, format=auto) from the client's Accept header.
	Negotiated bool
	// Width and Height are the output size. Exact is false when a
	// content-dependent step (trim-color) may change it; the steps after
	// trim-color are then resolved again once its box is known.
	Width, Height int
	Exact         bool
	// EncodeMemory is the output encoder's peak memory in bytes.
	EncodeMemory int64
	// Alpha is false when the output is known to be opaque: an opaque
	// source and no transparent fill (or an output format without alpha).
	Alpha bool
	// DecodeScale is 1, or 2, 4 or 8 when a JPEG source is decoded at that
	// reduction straight from its DCT coefficients (shrink-on-load), or
	// 2 to 64 when an opaque, non-interlaced PNG is averaged in boxes of
	// that size while it is decoded.
	DecodeScale int
	// Background is the colour transparent pixels are flattened onto when
	// the output format has no alpha channel.
	Background color.NRGBA
	// Warnings are notes for the warning header: parameters that were
	// ignored or adjusted.
	Warnings []string

	// layout resolves the operations again once content-dependent ones
	// have looked at the pixels; builtin is how many of Steps it made.
	layout  *layout
	builtin int
}

// String lists the steps, e.g.
// "exif-orientation(6) > crop(3000x3000+0+500) > resize(500x500 lanczos3) → jpeg q85 500x500".
func (p *Plan) String() string {
	var b strings.Builder
	for i, s := range p.Steps {
		if i > 0 {
			b.WriteString(" > ")
		}
		b.WriteString(s.String())
	}
	if len(p.Steps) > 0 {
		b.WriteString(" ")
	}
	fmt.Fprintf(&b, "→ %s", p.Format)
	if p.Quality > 0 {
		fmt.Fprintf(&b, " q%d", p.Quality)
	}
	fmt.Fprintf(&b, " %dx%d", p.Width, p.Height)
	return b.String()
}

// Run applies the steps to img in order, checking ctx between steps. img
// must be the decoded source: at full size, or at 1/DecodeScale of it.
func (p *Plan) Run(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	var f facts
	return p.run(ctx, img, &f)
}

// run is Run with the facts content-dependent steps found so far (an
// animation's frames share those of the first). When it reaches such a
// step it looks at the image, then resolves the plan's operations again
// with what it found; the Plan itself is left as it is.
func (p *Plan) run(ctx context.Context, img *image.NRGBA, f *facts) (*image.NRGBA, error) {
	steps := p.Steps
	if *f != (facts{}) && p.layout != nil {
		// Facts found on an earlier frame hold for this one: resolve with
		// them once, so that every frame gets the same crop and size.
		r, err := p.layout.resolve(*f)
		if err != nil {
			return nil, err
		}
		steps = append(r.ops, p.Steps[p.builtin:]...)
	}
	for i := 0; i < len(steps); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := steps[i]
		if c, ok := s.(contentOp); ok && p.layout != nil && i < p.builtin {
			if err := c.analyze(ctx, img, f); err != nil {
				return nil, err
			}
			r, err := p.layout.resolve(*f)
			if err != nil {
				return nil, err
			}
			if len(r.ops) <= i {
				return nil, fmt.Errorf("%w: plan resolved again has %d steps, at step %d", ErrInternal, len(r.ops), i)
			}
			steps = append(r.ops, p.Steps[p.builtin:]...)
			s = steps[i]
		}
		var err error
		if img, err = s.Apply(ctx, img); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// Target is the SSIM (8×8 windows on luma) that optimize=low, medium and
// high keep between the image before encoding and after: 0.99, 0.98 and
// 0.96. The lowest quality from 30 to 95 that reaches the target is used,
// found by bisection on a sample of at most 512×512 pixels (four tiles of a
// larger image). low is close to visually lossless; high allows minor
// artefacts. An explicit quality overrides optimize. Target is 0 for other
// values.
func (o Optimize) Target() float64 {
	switch o {
	case OptimizeLow:
		return 0.99
	case OptimizeMedium:
		return 0.98
	case OptimizeHigh:
		return 0.96
	}
	return 0
}

// EstimateMemory is how many bytes a transformation needs at its peak,
// from the header and the plan alone: the decoder's own buffer, the working
// copy (4 bytes per pixel), two working images of the largest size the
// steps reach, the scratch buffers of steps that need them (blur, sharpen,
// an overlay's decoded and resized pixels), and the output encoder's
// buffers and output (Plan.EncodeMemory). A plan
// that stays in Y′CbCr planes (JPEG to JPEG, geometry only) is estimated
// from its planes instead. Admission control uses it to keep floods of
// large images within a memory budget, and to refuse a job larger than one
// job may be (Options.MaxJobMemory).
func EstimateMemory(info SourceInfo, plan *Plan) int64 {
	if info.planes && planarEligible(info, plan) {
		return estimatePlanar(info, plan)
	}
	scale := int64(max(plan.DecodeScale, 1))
	src := int64(info.Width) * int64(info.Height) / (scale * scale)
	out := int64(plan.Width) * int64(plan.Height)
	largest := max(src, out)
	var scratch, fixed int64
	for _, s := range plan.Steps {
		if o, ok := s.(interface{ outSize() (int, int) }); ok {
			w, h := o.outSize()
			largest = max(largest, int64(w)*int64(h))
		}
		if o, ok := s.(scratchOp); ok {
			scratch += o.scratchPerPixel()
		}
		if o, ok := s.(scratchBytesOp); ok {
			fixed += o.scratchBytes()
		}
	}
	bpp := int64(max(info.BytesPerPixel, 4))
	est := src*bpp + 4*src + 2*4*largest + scratch*largest + fixed + max(plan.EncodeMemory, 3*out)
	if plan.Animated { // every composed frame, in and out
		est += int64(info.Frames) * 4 * (src + out)
	}
	return est
}

// estimatePlanar is EstimateMemory for a job that stays in Y′CbCr planes
// (transform_ycbcr.go): the planes at the decode scale (at most 3 bytes per
// pixel, 4:4:4), a progressive file's kept coefficients (2 bytes per
// coefficient, at most 6 per pixel at the decode scale), the resampler's
// 16-bit rows (output height × decoded width, then the output), and the
// output planes with the encoder, plus 1 MiB for the decoder's and the
// encoder's tables and buffers. No RGB image is made, except at the output
// size when operations or the encoder need one (planarToRGB).
func estimatePlanar(info SourceInfo, plan *Plan) int64 {
	scale := int64(max(plan.DecodeScale, 1))
	w, h := int64(info.Width)/scale+1, int64(info.Height)/scale+1
	src := w * h
	side, outSide := max(w, h), int64(max(plan.Width, plan.Height))
	out := int64(plan.Width) * int64(plan.Height)
	est := 1<<20 + 3*src + 2*side*outSide + 2*out + max(plan.EncodeMemory, 3*out)
	if info.Progressive {
		est += 6 * src
	}
	if planarKindOf(info, plan) == planarToRGB {
		// Chroma at the output size (3 bytes a pixel in all), the RGB
		// image there, and the scratch of the operations after the
		// geometry.
		est += out + 4*out
		for _, s := range plan.Steps {
			if o, ok := s.(scratchOp); ok {
				est += o.scratchPerPixel() * out
			}
		}
	}
	return est
}

// Default encoder qualities, used when neither the request nor
// PlanOptions give one.
const (
	DefaultJPEGQuality = 85
	DefaultWebPQuality = 85
	DefaultAVIFQuality = 60
	DefaultPNG8Quality = 85
)

// PlanOptions are the service-level settings planning uses: the same for
// every request. The zero value is valid: upscaling off, lanczos3, the
// default qualities and DefaultLimits.
type PlanOptions struct {
	// Limits bound sources and outputs; zero fields take DefaultLimits.
	Limits Limits
	// Upscale allows outputs larger than the source unless a request says
	// disable=upscale (default false, like Fastly's service setting).
	Upscale bool
	// ResizeFilter is the default resampling filter (default lanczos3).
	ResizeFilter ResizeFilter
	// JPEGQuality is the default JPEG quality, 1–100 (default 85).
	JPEGQuality int
	// WebPQuality is the default quality of lossy WebP, 1–100 (default 85).
	WebPQuality int
	// AVIFQuality is the default AVIF quality, 1–100 (default 60).
	AVIFQuality int
	// Codecs add formats beyond the built-in ones (see Codec).
	Codecs []Codec
}

// NewPlan turns parameters and a source header into a Plan. negotiated is
// the output format content negotiation chose for this request (Negotiate;
// "" when it chose none). NewPlan needs no pixels: every geometric error
// (crop out of bounds, trim or canvas that does not fit) and every
// unsupported value is reported here, except those that depend on content
// (trim-color). Errors are *ParamError values joined with errors.Join,
// ErrSourceTooLarge or ErrJobTooLarge.
func NewPlan(p Params, src SourceInfo, negotiated ImageFormat, opts *PlanOptions) (*Plan, error) {
	return newPlan(p, src, negotiated, opts, nil)
}

// newPlan is NewPlan with an overlay (nil: none), whose image header has
// been read (prepare).
func newPlan(p Params, src SourceInfo, negotiated ImageFormat, opts *PlanOptions, overlay *overlaySource) (*Plan, error) {
	var o PlanOptions
	if opts != nil {
		o = *opts
	}
	o.Limits = o.Limits.withDefaults()
	if err := o.Limits.Check(src); err != nil {
		return nil, err
	}
	if src.Width <= 0 || src.Height <= 0 {
		return nil, fmt.Errorf("%w: image has no pixels", ErrCorrupt)
	}
	pl := &Plan{DecodeScale: 1}

	out, err := outputFormat(p, src, negotiated, o.Codecs)
	if err != nil {
		return nil, err
	}
	if err := unsupported(p); err != nil {
		return nil, err
	}
	pl.Format, pl.Lossless, pl.Palette = out.ImageFormat, out.lossless, out.palette
	pl.ViewBox = p.Viewbox == 1 && out.ImageFormat == SVG
	if p.Viewbox != 0 && out.ImageFormat != SVG {
		pl.Warnings = append(pl.Warnings, "viewbox ignored: it applies to format=svg only")
	}
	pl.Progressive, pl.Negotiated = out.progressive, negotiated != "" && out.ImageFormat == negotiated
	if negotiated == AVIF && out.ImageFormat == WebP && p.Format == FormatAuto {
		pl.Negotiated = true // an animation, which AVIF cannot hold here (outputFormat)
	}
	pl.Animated = src.Frames > 1 && p.Frame != 1 && canAnimate(o.Codecs, out.ImageFormat)
	switch {
	case out.palette:
		pl.Quality = cmp0(p.Quality, DefaultPNG8Quality)
	case out.ImageFormat == JPEG, out.ImageFormat == SVG: // SVG may embed a JPEG
		pl.Quality = cmp0(p.Quality, o.JPEGQuality, DefaultJPEGQuality)
	case out.ImageFormat == WebP && !out.lossless:
		if pl.Negotiated {
			pl.Quality = cmp0(p.WebPQuality, p.Quality, o.WebPQuality, DefaultWebPQuality)
		} else {
			pl.Quality = cmp0(p.Quality, o.WebPQuality, DefaultWebPQuality)
		}
	case out.ImageFormat == AVIF:
		pl.Quality = cmp0(p.Quality, o.AVIFQuality, DefaultAVIFQuality)
	}
	if pl.Quality > 0 && p.Quality == 0 && p.Optimize != "" {
		// The search decodes what it encodes: the output format needs a decoder.
		if findCodec(o.Codecs, out.ImageFormat, canDecodeWith) != nil {
			pl.OptimizeTarget = p.Optimize.Target()
		} else {
			pl.Warnings = append(pl.Warnings, "optimize ignored: "+string(out.ImageFormat)+" output cannot be measured; the default quality is used")
		}
	}

	// Fold the parameters and options into a layout, then resolve it.
	l := &layout{
		w: src.Width, h: src.Height,
		exif:      src.Orientation,
		trimColor: p.TrimColor,
		precrop:   p.Precrop, trim: p.Trim, crop: p.Crop,
		orient: p.Orient,
		resize: resizeParams{Width: p.Width, Height: p.Height, DPR: p.DPR, Fit: p.Fit,
			Upscale: o.Upscale, MaxSide: o.Limits.MaxOutputSide},
		filter:  p.ResizeFilter,
		shrink:  src.Format == JPEG && !pl.Animated,
		boxes:   src.pngRows && !src.HasAlpha,
		canvas:  p.Canvas,
		pad:     p.Pad,
		fill:    fillColor(p, src, out.ImageFormat),
		maxSide: o.Limits.MaxOutputSide,
		bright:  p.Brightness, contrast: p.Contrast, saturate: p.Saturation,
		sharpen: p.Sharpen,
		blur:    p.Blur,
		bw:      p.BW,
		overlay: overlay,
	}
	if len(src.ICC) > 0 {
		if op, err := newColorOp(src.ICC); err != nil {
			pl.Warnings = append(pl.Warnings, "colour profile ignored, treated as sRGB: "+err.Error())
		} else if op != nil {
			l.color = op
		}
	}
	if p.TrimColor.IsSet() && src.Format == GIF {
		return nil, &ParamError{Param: "trim-color", Value: trimColorString(p.TrimColor), Reason: "not supported for GIF input"}
	}
	if pl.Animated { // the output limit bounds the sum of all frames' areas
		l.resize.MaxPixels = int64(o.Limits.MaxOutputSide) * int64(o.Limits.MaxOutputSide) / int64(src.Frames)
	}
	switch p.Upscale {
	case UpscaleEnable:
		l.resize.Upscale = true
	case UpscaleDisable:
		l.resize.Upscale = false
	}
	if l.filter == "" {
		l.filter = cmpFilter(o.ResizeFilter)
	}
	if p.BgColor.Set {
		c := toNRGBA(p.BgColor)
		l.flatten = &c
	}
	r, err := l.resolve(facts{})
	if err != nil {
		return nil, err
	}
	pl.Steps, pl.builtin, pl.layout = r.ops, len(r.ops), l
	pl.Width, pl.Height, pl.Exact, pl.DecodeScale = r.w, r.h, r.exact, r.scale
	pl.Warnings = append(pl.Warnings, r.warnings...)

	// Output without alpha: flatten onto bg-color, or white.
	pl.Background = color.NRGBA{255, 255, 255, 255}
	if p.BgColor.Set {
		c := toNRGBA(p.BgColor)
		c.A = 255 // the output has no alpha: the background itself must be opaque
		pl.Background = c
	}
	pl.Alpha = out.ImageFormat.HasAlpha() && (src.HasAlpha || transparentFill(p, l.fill))
	pl.EncodeMemory = encodeMemory(pl, o.Codecs)
	if pl.Animated {
		pl.EncodeMemory = framesEncodeMemory(pl, src.Frames, o.Codecs)
	}
	if err := encoderLimit(pl, o.Limits); err != nil {
		return nil, err
	}
	if err := planMP4(pl, p, src, o.Limits); err != nil {
		return nil, err
	}
	return pl, nil
}

// transparentFill reports whether pad or canvas add transparent pixels.
func transparentFill(p Params, bg color.NRGBA) bool {
	return (p.Canvas.IsSet() || p.Pad.IsSet()) && bg.A < 255
}

// encoderLimit refuses outputs over the limits of the costliest encoders
// (Limits.MaxAVIFPixels, Limits.MaxLosslessWebPPixels).
func encoderLimit(pl *Plan, l Limits) error {
	px := int64(pl.Width) * int64(pl.Height)
	var limit int64
	var what string
	switch {
	case pl.Format == AVIF:
		limit, what = l.MaxAVIFPixels, "AVIF"
	case pl.Format == WebP && pl.Lossless:
		limit, what = l.MaxLosslessWebPPixels, "lossless WebP"
	default:
		return nil
	}
	if px > limit {
		return fmt.Errorf("%w: %s output of %dx%d (%d pixels) is over the %s limit of %d pixels", ErrJobTooLarge, what, pl.Width, pl.Height, px, what, limit)
	}
	return nil
}

func cmp0(vals ...int) int {
	for _, v := range vals {
		if v > 0 {
			return v
		}
	}
	return 0
}

func cmpFilter(f ResizeFilter) ResizeFilter {
	if f == "" {
		return FilterLanczos3
	}
	return f
}

// outputChoice is an output format with its variant.
type outputChoice struct {
	ImageFormat
	lossless, progressive, palette bool
}

// outputFormat decides the output format, the one place where it is
// chosen:
// target is what negotiation picked ("" for nothing).
//
// Lossless where it belongs: a bilevel result (bw) is never written lossy
// when the format was negotiated, and format=auto never makes a lossless
// source (PNG, GIF, lossless WebP) lossy. In WebP that is lossless WebP.
// No codec here writes AVIF losslessly (wasmcodec's AVIF is YUV 4:2:0 even
// at quality 100), so where AVIF was negotiated such a result is PNG
// instead (an exact palette when it has at most 256 colours). auto=avif on
// a lossless source that is not bilevel gives lossy AVIF, as Fastly
// documents; a lossy format named in the query stays lossy when it is the
// format output (format=webply with WebP negotiated, format=avif with AVIF).
func outputFormat(p Params, src SourceInfo, target ImageFormat, codecs []Codec) (outputChoice, error) {
	fail := func(reason string) (outputChoice, error) {
		return outputChoice{}, &ParamError{Param: "format", Value: string(p.Format), Reason: reason, Unsupported: true}
	}
	animated := src.Frames > 1 && p.Frame != 1
	srcLossless := src.Lossless || src.Format == PNG || src.Format == GIF
	bilevel := p.BW.Mode != ""
	if animated && target == AVIF && p.Format == FormatAuto && !canAnimate(codecs, AVIF) && canAnimate(codecs, WebP) {
		target = WebP // format=auto: every client that accepts AVIF accepts WebP
	}
	// Negotiation never turns an animation into a still image.
	if target != "" && !(animated && !canAnimate(codecs, target) && (p.Format == "" || p.Format == FormatAuto || p.Format == FormatGIF || p.Format == FormatMP4)) {
		// Lossy or lossless follows the format asked for, else the source;
		// a bilevel result is lossless whatever was asked.
		lossless := srcLossless
		switch p.Format {
		case FormatPNG, FormatGIF, FormatWebPLL:
			lossless = true
		case FormatJPG, FormatBJPG, FormatPJPG, FormatPNG8, FormatWebPLY, FormatAVIF:
			lossless = false
		}
		// A bilevel result is lossless, unless the query named the very
		// lossy format that negotiation chose (webply for WebP, avif for
		// AVIF): that stays as asked.
		namedLossy := (p.Format == FormatWebPLY && target == WebP) || (p.Format == FormatAVIF && target == AVIF)
		bilevelLossless := bilevel && !namedLossy
		if target == AVIF {
			if bilevelLossless || (p.Format == FormatAuto && srcLossless) {
				return outputChoice{ImageFormat: PNG}, nil
			}
			return outputChoice{ImageFormat: AVIF}, nil
		}
		if target == WebP && (lossless || bilevelLossless) && !canEncodeAs(codecs, WebP, true) {
			return outputChoice{ImageFormat: PNG}, nil // the built-in WebP encoder is lossy only
		}
		return outputChoice{ImageFormat: target, lossless: lossless || bilevelLossless}, nil
	}
	need := func(f ImageFormat, lossless bool, what string) (outputChoice, error) {
		if !canEncodeAs(codecs, f, lossless) {
			return fail(what + " output needs a codec that is not configured: add one to PlanOptions.Codecs (wasmcodec.Codecs has it); the imageopto command has it when built with -tags wasmcodec")
		}
		return outputChoice{ImageFormat: f, lossless: lossless}, nil
	}
	switch p.Format {
	case "": // keep the source format where it can be written
		switch src.Format {
		case JPEG:
			return outputChoice{ImageFormat: JPEG, progressive: src.Progressive}, nil
		case PNG, GIF:
			return outputChoice{ImageFormat: src.Format}, nil
		case WebP, AVIF:
			if canEncodeAs(codecs, src.Format, srcLossless && src.Format == WebP) && (!animated || canAnimate(codecs, src.Format)) {
				return outputChoice{ImageFormat: src.Format, lossless: srcLossless && src.Format == WebP}, nil
			}
		}
		if animated {
			return outputChoice{ImageFormat: GIF}, nil
		}
		if src.HasAlpha {
			return outputChoice{ImageFormat: PNG}, nil
		}
		return outputChoice{ImageFormat: JPEG}, nil
	case FormatAuto: // when negotiation found no modern format
		switch {
		case animated:
			return outputChoice{ImageFormat: GIF}, nil
		case src.HasAlpha || bilevel || srcLossless:
			return outputChoice{ImageFormat: PNG}, nil // transparency, 1-bit content and lossless sources stay lossless
		}
		return outputChoice{ImageFormat: JPEG}, nil
	case FormatJPG:
		return outputChoice{ImageFormat: JPEG, progressive: src.Format == JPEG && src.Progressive}, nil
	case FormatBJPG:
		return outputChoice{ImageFormat: JPEG}, nil
	case FormatPNG:
		return outputChoice{ImageFormat: PNG}, nil
	case FormatGIF:
		return outputChoice{ImageFormat: GIF}, nil
	case FormatPJPG:
		return outputChoice{ImageFormat: JPEG, progressive: true}, nil
	case FormatPNG8:
		return outputChoice{ImageFormat: PNG, palette: true}, nil
	case FormatWebP:
		return need(WebP, srcLossless || bilevel, "WebP")
	case FormatWebPLL:
		return need(WebP, true, "WebP")
	case FormatWebPLY:
		return need(WebP, false, "WebP")
	case FormatAVIF:
		return need(AVIF, false, "AVIF")
	case FormatJXL, FormatPJXL:
		return fail("JPEG XL output is not supported")
	case FormatMP4:
		return need(MP4, false, "MP4")
	case FormatSVG:
		return outputChoice{ImageFormat: SVG}, nil
	}
	return fail("unknown format")
}

// unsupported reports parameters whose values are valid but not implemented
// by this build.
func unsupported(p Params) error {
	switch {
	case p.Metadata.C2PA:
		return &ParamError{Param: "metadata", Value: metadataString(p.Metadata), Reason: "C2PA manifests are not supported", Unsupported: true}
	}
	return nil
}

func metadataString(m Metadata) string {
	switch {
	case m.Copyright && m.C2PA:
		return "copyright,c2pa"
	case m.C2PA:
		return "c2pa"
	}
	return "copyright"
}

func trimColorString(t TrimColor) string {
	if t.Auto {
		return "auto"
	}
	return fmt.Sprintf("%d,%d,%d", t.Color.R, t.Color.G, t.Color.B)
}

// toNRGBA converts a parameter colour.
func toNRGBA(c Color) color.NRGBA {
	return color.NRGBA{c.R, c.G, c.B, uint8(math.Round(c.A * 255))}
}

// fillColor is the colour of areas added by pad and canvas (pad, canvas):
// bg-color when given; else transparent when the output keeps
// alpha (for pad: only when the source has alpha too); else white.
func fillColor(p Params, src SourceInfo, out ImageFormat) color.NRGBA {
	if p.BgColor.Set {
		return toNRGBA(p.BgColor)
	}
	transparent := out.HasAlpha()
	if !p.Canvas.IsSet() {
		transparent = transparent && src.HasAlpha
	}
	if transparent {
		return color.NRGBA{}
	}
	return color.NRGBA{255, 255, 255, 255}
}

func sizeString(s Size) string {
	if s.Kind == SizeRatio {
		return fmt.Sprintf("%g:%g", s.RatioW, s.RatioH)
	}
	return lengthString(s.Width) + "," + lengthString(s.Height)
}
