package imageopto

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"github.com/imageopto/imageopto/internal/icc"
	"github.com/imageopto/imageopto/internal/imaging"
)

// ImageFormat names an encoded image format, with the tokens of the info
// header's ifmt/ofmt fields.
type ImageFormat string

// Image formats. Only JPEG, PNG, GIF and WebP sources are decoded, and only
// JPEG, PNG and GIF are written by this build; the others are recognised by
// their magic bytes so that they can be refused precisely.
const (
	JPEG ImageFormat = "jpeg"
	PNG  ImageFormat = "png"
	GIF  ImageFormat = "gif"
	WebP ImageFormat = "webp"
	AVIF ImageFormat = "avif"
	HEIC ImageFormat = "heic"
	JXL  ImageFormat = "jxl"
)

// ContentType returns the media type of the format.
func (f ImageFormat) ContentType() string {
	switch f {
	case JPEG, PNG, GIF, WebP, AVIF, HEIC, JXL:
		return "image/" + string(f)
	}
	return "application/octet-stream"
}

// HasAlpha reports whether the format can store transparency.
func (f ImageFormat) HasAlpha() bool { return f != JPEG && f != "" }

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
	// planes: a Y′CbCr or grey JPEG (set by Inspect), whose jobs may stay
	// in planes (transform_ycbcr.go) and are estimated as such.
	planes bool
}

// Upright returns the source size after EXIF orientation.
func (s SourceInfo) Upright() (w, h int) {
	if s.Orientation.Swaps() {
		return s.Height, s.Width
	}
	return s.Width, s.Height
}

// Limits bound what a transformation may read and produce (D29). A zero field
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
}

// DefaultLimits returns the limits of D29.
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

// Step is one stage of a pipeline. Apply returns the transformed image (it
// may modify img in place and return it). Steps must not keep img after
// returning. String names the step and its resolved arguments.
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

// Plan is the work a transformation will do, decided from the parameters and
// the source header alone.
type Plan struct {
	// Steps run in order on the decoded (first) frame.
	Steps []Step
	// Format is the output format, and Quality its encoder quality (0 when
	// the format has none).
	Format  ImageFormat
	Quality int
	// Lossless, Progressive and Palette select the variant of formats that
	// have several (lossless WebP, progressive JPEG, palette PNG).
	Lossless, Progressive, Palette bool
	// Animated is true when every frame of an animated source is
	// transformed and written (GIF to GIF); otherwise the first frame is.
	Animated bool
	// OptimizeTarget, when not 0, is the SSIM that optimize= asks the
	// encoder quality to reach; Quality is then found per image.
	OptimizeTarget float64
	// Negotiated is true when the format was chosen by content negotiation
	// (auto=, format=auto) from the client's Accept header.
	Negotiated bool
	// Width and Height are the output size. Exact is false when a
	// content-dependent step (trim-color) may change it.
	Width, Height int
	Exact         bool
	// EncodeMemory is the output encoder's peak memory in bytes.
	EncodeMemory int64
	// Alpha is false when the output is known to be opaque: an opaque
	// source and no transparent fill (or an output format without alpha).
	Alpha bool
	// DecodeScale is 1, or 2, 4 or 8 when a JPEG source is decoded at that
	// reduction straight from its DCT coefficients (shrink-on-load).
	DecodeScale int
	// Background is the colour transparent pixels are flattened onto when
	// the output format has no alpha channel.
	Background color.NRGBA
	// Warnings are notes for the warning header (D3, D12).
	Warnings []string
}

// String lists the steps, e.g. "orient(6) > crop(3000x3000+0+500) > resize(500x500 lanczos3) → jpeg q70 500x500".
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

// Run applies the steps to img in order, checking ctx between steps.
func (p *Plan) Run(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	for _, s := range p.Steps {
		if err := ctx.Err(); err != nil {
			return nil, err
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
// steps reach, the blur and sharpen buffers when present, and the output
// encoder's buffers and output (Plan.EncodeMemory). Admission control uses
// it to keep floods of large images within a memory budget, and to refuse
// a job larger than one job may be (Options.MaxJobMemory).
func EstimateMemory(info SourceInfo, plan *Plan) int64 {
	if info.planes && planarEligible(info, plan) {
		return estimatePlanar(info, plan)
	}
	scale := int64(max(plan.DecodeScale, 1))
	src := int64(info.Width) * int64(info.Height) / (scale * scale)
	out := int64(plan.Width) * int64(plan.Height)
	largest := max(src, out)
	bpp := int64(max(info.BytesPerPixel, 4))
	est := src*bpp + 4*src + 2*4*largest + max(plan.EncodeMemory, 3*out)
	for _, s := range plan.Steps {
		switch s.(type) {
		case *blurStep, *sharpenStep:
			est += 12 * largest
		}
	}
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
// encoder's tables and buffers. No RGB image is ever made.
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
	return est
}

// Default qualities (D17).
const (
	DefaultJPEGQuality = 85
	DefaultWebPQuality = 85
	DefaultAVIFQuality = 60
	DefaultPNG8Quality = 85
)

// PlanOptions are the service-level defaults and capabilities planning uses.
// The zero value is valid: upscaling off, lanczos3, quality 85, D29 limits.
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
	// Codecs add formats beyond the built-in JPEG, PNG and GIF encoders and
	// JPEG, PNG, GIF and WebP decoders (see Codec).
	Codecs []Codec
	// Accept is the client's Accept header, used only by content
	// negotiation (auto=, format=auto; see Negotiate).
	Accept string
}

// NewPlan turns parameters and a source header into a Plan (spec §3, D13).
// It needs no pixels: every geometric error (crop out of bounds, trim or
// canvas that does not fit) and every unsupported value is reported here,
// except those that depend on content (trim-color). Errors are *ParamError
// values joined with errors.Join, or ErrSourceTooLarge.
func NewPlan(p Params, src SourceInfo, opts *PlanOptions) (*Plan, error) {
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
	pl := &Plan{Exact: true, DecodeScale: 1}
	warn := func(s string) { pl.Warnings = append(pl.Warnings, s) }

	target, _ := Negotiate(p, o.Accept, o.Codecs)
	format, err := outputFormat(p, src, target, o.Codecs)
	if err != nil {
		return nil, err
	}
	if err := unsupported(p); err != nil {
		return nil, err
	}
	pl.Format, pl.Lossless, pl.Palette = format.ImageFormat, format.lossless, format.palette
	pl.Progressive, pl.Negotiated = format.progressive, target != "" && format.ImageFormat == target
	pl.Animated = src.Frames > 1 && p.Frame != 1 && format.ImageFormat == GIF
	switch {
	case format.palette:
		pl.Quality = cmp0(p.Quality, DefaultPNG8Quality)
	case format.ImageFormat == JPEG:
		pl.Quality = cmp0(p.Quality, o.JPEGQuality, DefaultJPEGQuality)
	case format.ImageFormat == WebP && !format.lossless:
		if pl.Negotiated {
			pl.Quality = cmp0(p.WebPQuality, p.Quality, o.WebPQuality, DefaultWebPQuality)
		} else {
			pl.Quality = cmp0(p.Quality, o.WebPQuality, DefaultWebPQuality)
		}
	case format.ImageFormat == AVIF:
		pl.Quality = cmp0(p.Quality, o.AVIFQuality, DefaultAVIFQuality)
	}
	if pl.Quality > 0 && p.Quality == 0 && p.Optimize != "" {
		pl.OptimizeTarget = p.Optimize.Target()
	}

	w, h := src.Width, src.Height
	add := func(s Step) { pl.Steps = append(pl.Steps, s) }

	// 1. Colour profile to sRGB, then EXIF orientation.
	if len(src.ICC) > 0 {
		if step, err := newColorStep(src.ICC); err != nil {
			warn("colour profile ignored, treated as sRGB: " + err.Error())
		} else if step != nil {
			add(step)
		}
	}
	if o := src.Orientation; o > 1 && o <= 8 {
		add(&orientStep{o: o, exif: true})
		if o.Swaps() {
			w, h = h, w
		}
	}
	// 2. trim-color (size depends on content).
	if p.TrimColor.IsSet() {
		if src.Format == GIF {
			return nil, &ParamError{Param: "trim-color", Value: trimColorString(p.TrimColor), Reason: "not supported for GIF input"}
		}
		add(&trimColorStep{t: p.TrimColor})
		pl.Exact = false
	}
	// 3–5. precrop, trim, crop.
	for _, c := range []struct {
		param string
		r     Region
	}{{"precrop", p.Precrop}, {"trim", Region{}}, {"crop", p.Crop}} {
		if c.param == "trim" {
			if !p.Trim.IsSet() {
				continue
			}
			rect, err := trimRect(w, h, p.Trim)
			if err != nil && pl.Exact {
				return nil, err
			}
			add(&trimStep{s: p.Trim})
			w, h = rect.Dx(), rect.Dy()
			continue
		}
		if !c.r.IsSet() {
			continue
		}
		if c.r.Smart && !smartApplies(c.r) {
			warn(c.param + ": smart needs a ratio size (w:h); ignored")
		}
		rect, err := regionRect(w, h, c.r, c.param, nil)
		if err != nil && pl.Exact {
			return nil, err
		}
		add(&cropStep{param: c.param, r: c.r})
		w, h = rect.Dx(), rect.Dy()
	}
	// 6. orient.
	if p.Orient > 1 {
		add(&orientStep{o: p.Orient})
		if p.Orient.Swaps() {
			w, h = h, w
		}
	}
	// 7. resize (always considered: the output limit applies without parameters too).
	rp := resizeParams{Width: p.Width, Height: p.Height, DPR: p.DPR, Fit: p.Fit,
		Upscale: o.Upscale, MaxSide: o.Limits.MaxOutputSide}
	if pl.Animated { // the output limit bounds the sum of all frames' areas
		rp.MaxPixels = int64(o.Limits.MaxOutputSide) * int64(o.Limits.MaxOutputSide) / int64(src.Frames)
	}
	switch p.Upscale {
	case UpscaleEnable:
		rp.Upscale = true
	case UpscaleDisable:
		rp.Upscale = false
	}
	if g := resolveResize(w, h, rp, warn); !g.noResize(w, h) {
		filter := p.ResizeFilter
		if filter == "" {
			filter = cmpFilter(o.ResizeFilter)
		}
		rs := &resizeStep{p: rp, filter: filter}
		if shrinkOnLoad(src, pl) {
			// Decode at the largest reduction that still leaves twice the
			// output resolution in the region that is kept, so the resampler
			// that finishes the exact size still has detail to filter (at
			// exactly 1× the DCT reduction shows on fine textures: SSIM 0.976
			// instead of ≥ 0.98 on the corpus's forest photo).
			for _, sc := range []int{8, 4, 2} {
				if g.Src.Dx()/sc >= 2*g.W && g.Src.Dy()/sc >= 2*g.H {
					pl.DecodeScale = sc
					rs.logicalW, rs.logicalH, rs.scale = w, h, sc
					break
				}
			}
		}
		add(rs)
		w, h = g.W, g.H
	}
	// 8. pad or canvas (pad is ignored when canvas is given).
	bg := fillColor(p, src, format.ImageFormat)
	switch {
	case p.Canvas.IsSet():
		cw, ch, _, _, err := canvasLayout(w, h, p.Canvas)
		if err != nil && pl.Exact {
			return nil, err
		}
		add(&canvasStep{c: p.Canvas, bg: bg})
		w, h = cw, ch
	case p.Pad.IsSet():
		cw, ch, _, _ := padLayout(w, h, p.Pad)
		add(&padStep{s: p.Pad, bg: bg})
		w, h = cw, ch
	}
	if max(w, h) > o.Limits.MaxOutputSide {
		param := "pad"
		if p.Canvas.IsSet() {
			param = "canvas"
		}
		return nil, &ParamError{Param: param, Value: fmt.Sprintf("%dx%d", w, h),
			Reason: fmt.Sprintf("output would exceed the %d px limit", o.Limits.MaxOutputSide)}
	}
	// 9. bg-color flattens transparency.
	if p.BgColor.Set {
		add(&flattenStep{bg: toNRGBA(p.BgColor)})
	}
	// 10–13. colour, sharpen, blur, bw.
	if p.Brightness != 0 || p.Contrast != 0 || p.Saturation != 0 {
		add(&adjustStep{b: p.Brightness, c: p.Contrast, s: p.Saturation})
	}
	if p.Sharpen.IsSet() && p.Sharpen.Amount > 0 {
		add(&sharpenStep{s: p.Sharpen})
	}
	if p.Blur.IsSet() {
		add(&blurStep{l: p.Blur})
	}
	if p.BW.Mode != "" {
		add(&bwStep{bw: p.BW})
	}
	// Output without alpha: flatten onto bg-color, or white.
	pl.Background = color.NRGBA{255, 255, 255, 255}
	if p.BgColor.Set {
		c := toNRGBA(p.BgColor)
		c.A = 255 // the output has no alpha: the background itself must be opaque
		pl.Background = c
	}
	pl.Width, pl.Height = w, h
	pl.Alpha = format.ImageFormat.HasAlpha() && (src.HasAlpha || transparentFill(p, bg))
	pl.EncodeMemory = encodeMemory(pl, o.Codecs)
	if err := encoderLimit(pl, o.Limits); err != nil {
		return nil, err
	}
	return pl, nil
}

// transparentFill reports whether pad or canvas add transparent pixels.
func transparentFill(p Params, bg color.NRGBA) bool {
	return (p.Canvas.IsSet() || p.Pad.IsSet()) && bg.A < 255
}

// encodeMemory is the output encoder's peak memory for the plan: for the
// built-in encoders, their buffers and the encoded bytes (a bytes.Buffer
// may hold twice what it was written: PNG of noise takes about 4 bytes a
// pixel, so up to 8 with the buffer's slack); for configured codecs, what
// the codec says (Codec.EncodeMemory, else Codec.EncodeBytesPerPixel).
func encodeMemory(pl *Plan, codecs []Codec) int64 {
	w, h := pl.Width, pl.Height
	px := int64(w) * int64(h)
	switch pl.Format {
	case JPEG:
		return 1<<20 + 4*px // planes, coefficients of a progressive file, output
	case PNG:
		if pl.Palette {
			return 1<<20 + 14*px // error rows, the palette image, output
		}
		return 1<<20 + 9*px
	case GIF:
		return 1<<20 + 3*px
	}
	c := codecFor(codecs, pl.Format)
	switch {
	case c == nil:
		return 3 * px
	case c.EncodeMemory != nil:
		return c.EncodeMemory(w, h, EncodeOptions{Quality: pl.Quality, Lossless: pl.Lossless, Progressive: pl.Progressive, Alpha: pl.Alpha})
	case c.EncodeBytesPerPixel > 0:
		return int64(c.EncodeBytesPerPixel) * px
	}
	return 3 * px
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

// outputFormat decides the output format (§2.1, §2.13, D14, D15, D24):
// target is what negotiation picked ("" for nothing).
func outputFormat(p Params, src SourceInfo, target ImageFormat, codecs []Codec) (outputChoice, error) {
	fail := func(reason string) (outputChoice, error) {
		return outputChoice{}, &ParamError{Param: "format", Value: string(p.Format), Reason: reason, Unsupported: true}
	}
	animated := src.Format == GIF && src.Frames > 1 && p.Frame != 1
	srcLossless := src.Lossless || src.Format == PNG || src.Format == GIF
	// Negotiation never turns an animation into a still image.
	if target != "" && !(animated && (p.Format == "" || p.Format == FormatAuto || p.Format == FormatGIF)) {
		// Lossy or lossless follows the format asked for, else the source.
		lossless := srcLossless || p.BW.Mode != ""
		switch p.Format {
		case FormatPNG, FormatGIF, FormatWebPLL:
			lossless = true
		case FormatJPG, FormatBJPG, FormatPJPG, FormatPNG8, FormatWebPLY, FormatAVIF, FormatWebP:
			lossless = false
		}
		if target == AVIF {
			lossless = false
		}
		return outputChoice{ImageFormat: target, lossless: lossless}, nil
	}
	need := func(f ImageFormat, lossless bool, what string) (outputChoice, error) {
		if !canEncode(codecs, f) {
			return fail(what + " output needs a codec that is not configured (see the wasmcodec package)")
		}
		return outputChoice{ImageFormat: f, lossless: lossless}, nil
	}
	switch p.Format {
	case "": // D15: keep the source format where it can be written
		switch src.Format {
		case JPEG:
			return outputChoice{ImageFormat: JPEG, progressive: src.Progressive}, nil
		case PNG, GIF:
			return outputChoice{ImageFormat: src.Format}, nil
		case WebP, AVIF:
			if canEncode(codecs, src.Format) {
				return outputChoice{ImageFormat: src.Format, lossless: srcLossless && src.Format == WebP}, nil
			}
		}
		if src.HasAlpha {
			return outputChoice{ImageFormat: PNG}, nil
		}
		return outputChoice{ImageFormat: JPEG}, nil
	case FormatAuto: // D14, when negotiation found no modern format
		switch {
		case animated:
			return outputChoice{ImageFormat: GIF}, nil
		case src.HasAlpha || p.BW.Mode != "":
			return outputChoice{ImageFormat: PNG}, nil // transparency and 1-bit content want a lossless format
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
		return need(WebP, srcLossless, "WebP")
	case FormatWebPLL:
		return need(WebP, true, "WebP")
	case FormatWebPLY:
		return need(WebP, false, "WebP")
	case FormatAVIF:
		return need(AVIF, false, "AVIF")
	case FormatJXL, FormatPJXL:
		return fail("JPEG XL output is not supported")
	case FormatMP4:
		return fail("MP4 output is not supported")
	case FormatSVG:
		return fail("SVG output is not supported")
	}
	return fail("unknown format")
}

// unsupported reports parameters whose values are valid but not implemented
// by this build (D24).
func unsupported(p Params) error {
	switch {
	case p.Viewbox != 0:
		return &ParamError{Param: "viewbox", Value: "1", Reason: "SVG output is not supported", Unsupported: true}
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

// fillColor is the colour of areas added by pad and canvas (spec §2.2,
// §2.6, §2.20): bg-color when given; else transparent when the output keeps
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

// colorStep converts pixels from an embedded ICC profile to sRGB.
type colorStep struct {
	t    *icc.Transform
	desc string
}

// newColorStep prepares the conversion of a profile to sRGB; it returns nil
// when the profile is sRGB already (nothing to do).
func newColorStep(profile []byte) (*colorStep, error) {
	p, err := icc.Parse(profile)
	if err != nil {
		return nil, err
	}
	if p.IsSRGB() {
		return nil, nil
	}
	t, err := p.ToSRGB()
	if err != nil {
		return nil, err
	}
	return &colorStep{t: t, desc: p.String()}, nil
}

func (s *colorStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	if err := s.t.ApplyNRGBA(ctx, img); err != nil {
		return nil, err
	}
	return img, nil
}

func (s *colorStep) String() string { return "to-srgb(" + s.desc + ")" }

// The built-in steps. Each resolves its geometry from the image it is given
// with the same functions NewPlan used, and passes ctx down to the pixel
// loops, which stop soon after it is done and return ctx.Err().

type orientStep struct {
	o    Orientation
	exif bool
}

func (s *orientStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	return imaging.Orient(ctx, img, int(s.o))
}

func (s *orientStep) String() string {
	if s.exif {
		return fmt.Sprintf("exif-orientation(%d)", s.o)
	}
	return fmt.Sprintf("orient(%d)", s.o)
}

type trimColorStep struct{ t TrimColor }

func (s *trimColorStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	c := toNRGBA(s.t.Color)
	if s.t.Auto {
		c = img.NRGBAAt(0, 0)
	}
	r, err := imaging.TrimBounds(ctx, img, c, s.t.Threshold)
	if err != nil {
		return nil, err
	}
	if r.Empty() {
		return nil, &ParamError{Param: "trim-color", Value: trimColorString(s.t), Reason: "trims away the whole image (result 0x0)"}
	}
	if r == img.Bounds() {
		return img, nil
	}
	return imaging.Crop(ctx, img, r)
}

func (s *trimColorStep) String() string {
	return fmt.Sprintf("trim-color(%s,t%g)", trimColorString(s.t), s.t.Threshold)
}

type trimStep struct{ s Sides }

func (s *trimStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	b := img.Bounds()
	r, err := trimRect(b.Dx(), b.Dy(), s.s)
	if err != nil {
		return nil, err
	}
	return imaging.Crop(ctx, img, r)
}

func (s *trimStep) String() string { return "trim(" + sidesString(s.s) + ")" }

type cropStep struct {
	param string
	r     Region
	// at is the content-aware position, found on the first frame and kept
	// for the others so that an animation's crop does not jitter.
	at *image.Point
}

func (s *cropStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	b := img.Bounds()
	if smartApplies(s.r) && s.at == nil {
		cw, ch := regionSize(b.Dx(), b.Dy(), s.r.Size)
		if cw <= b.Dx() && ch <= b.Dy() {
			pt, err := imaging.SmartCrop(ctx, img, cw, ch)
			if err != nil {
				return nil, err
			}
			s.at = &pt
		}
	}
	r, err := regionRect(b.Dx(), b.Dy(), s.r, s.param, s.at)
	if err != nil {
		return nil, err
	}
	if r == b {
		return img, nil
	}
	return imaging.Crop(ctx, img, r)
}

func (s *cropStep) String() string {
	mode := ""
	if smartApplies(s.r) {
		mode += ",smart"
	}
	if s.r.Safe {
		mode += ",safe"
	}
	return fmt.Sprintf("%s(%s%s)", s.param, sizeString(s.r.Size), mode)
}

func sizeString(s Size) string {
	if s.Kind == SizeRatio {
		return fmt.Sprintf("%g:%g", s.RatioW, s.RatioH)
	}
	return lengthString(s.Width) + "," + lengthString(s.Height)
}

type resizeStep struct {
	p      resizeParams
	filter ResizeFilter
	// With shrink-on-load the image arrives scale times smaller than the
	// logical size the geometry refers to.
	logicalW, logicalH, scale int
}

func (s *resizeStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	b := img.Bounds()
	var err error
	if s.scale > 1 && b.Dx() < s.logicalW {
		g := resolveResize(s.logicalW, s.logicalH, s.p, func(string) {})
		r := image.Rect(g.Src.Min.X/s.scale, g.Src.Min.Y/s.scale,
			ceilDiv(g.Src.Max.X, s.scale), ceilDiv(g.Src.Max.Y, s.scale)).Intersect(b)
		if r != b {
			if img, err = imaging.Crop(ctx, img, r); err != nil {
				return nil, err
			}
		}
		return imaging.Resize(ctx, img, g.W, g.H, imagingFilter(s.filter))
	}
	g := resolveResize(b.Dx(), b.Dy(), s.p, func(string) {})
	if g.noResize(b.Dx(), b.Dy()) {
		return img, nil
	}
	if g.Src != b {
		if img, err = imaging.Crop(ctx, img, g.Src); err != nil {
			return nil, err
		}
	}
	return imaging.Resize(ctx, img, g.W, g.H, imagingFilter(s.filter))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// shrinkOnLoad reports whether the plan so far allows decoding a reduced
// image: a still JPEG whose steps before the resize do not depend on pixel
// coordinates or on content (colour conversion and orientation only).
func shrinkOnLoad(src SourceInfo, pl *Plan) bool {
	if src.Format != JPEG || pl.Animated {
		return false
	}
	for _, st := range pl.Steps {
		switch st.(type) {
		case *colorStep, *orientStep:
		default:
			return false
		}
	}
	return true
}

func (s *resizeStep) String() string {
	var parts []string
	if s.p.Width.IsSet() {
		parts = append(parts, "w="+lengthString(s.p.Width))
	}
	if s.p.Height.IsSet() {
		parts = append(parts, "h="+lengthString(s.p.Height))
	}
	if s.p.DPR != 0 {
		parts = append(parts, fmt.Sprintf("dpr=%g", s.p.DPR))
	}
	if s.p.Fit != "" {
		parts = append(parts, "fit="+string(s.p.Fit))
	}
	parts = append(parts, string(s.filter))
	return "resize(" + strings.Join(parts, " ") + ")"
}

func imagingFilter(f ResizeFilter) imaging.Filter {
	switch f {
	case FilterNearest:
		return imaging.Nearest
	case FilterBilinear:
		return imaging.Bilinear
	case FilterBicubic:
		return imaging.Bicubic
	case FilterLanczos2:
		return imaging.Lanczos2
	}
	return imaging.Lanczos3
}

type canvasStep struct {
	c  Canvas
	bg color.NRGBA
}

func (s *canvasStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	b := img.Bounds()
	cw, ch, x, y, err := canvasLayout(b.Dx(), b.Dy(), s.c)
	if err != nil {
		return nil, err
	}
	return imaging.Place(ctx, cw, ch, s.bg, img, x, y)
}

func (s *canvasStep) String() string { return "canvas(" + sizeString(s.c.Size) + ")" }

type padStep struct {
	s  Sides
	bg color.NRGBA
}

func (s *padStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	b := img.Bounds()
	cw, ch, x, y := padLayout(b.Dx(), b.Dy(), s.s)
	return imaging.Place(ctx, cw, ch, s.bg, img, x, y)
}

func (s *padStep) String() string { return "pad(" + sidesString(s.s) + ")" }

type flattenStep struct{ bg color.NRGBA }

func (s *flattenStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	if err := imaging.Flatten(ctx, img, s.bg); err != nil {
		return nil, err
	}
	return img, nil
}

func (s *flattenStep) String() string {
	return fmt.Sprintf("bg-color(%d,%d,%d,%d)", s.bg.R, s.bg.G, s.bg.B, s.bg.A)
}

type adjustStep struct{ b, c, s float64 }

func (s *adjustStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	if err := imaging.Adjust(ctx, img, s.b, s.c, s.s); err != nil {
		return nil, err
	}
	return img, nil
}

func (s *adjustStep) String() string {
	return fmt.Sprintf("adjust(brightness=%g contrast=%g saturation=%g)", s.b, s.c, s.s)
}

type sharpenStep struct{ s Sharpen }

func (s *sharpenStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	return imaging.Sharpen(ctx, img, s.s.Amount, s.s.Radius, s.s.Threshold)
}

func (s *sharpenStep) String() string {
	return fmt.Sprintf("sharpen(a%g,r%g,t%d)", s.s.Amount, s.s.Radius, s.s.Threshold)
}

type blurStep struct{ l Length }

func (s *blurStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	b := img.Bounds()
	return imaging.Blur(ctx, img, blurSigma(b.Dx(), b.Dy(), s.l))
}

func (s *blurStep) String() string { return "blur(" + lengthString(s.l) + ")" }

type bwStep struct{ bw BW }

func (s *bwStep) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	var err error
	if s.bw.Mode == BWAtkinson {
		err = imaging.Atkinson(ctx, img)
	} else {
		err = imaging.Threshold(ctx, img, s.bw.Luminance)
	}
	if err != nil {
		return nil, err
	}
	return img, nil
}

func (s *bwStep) String() string {
	if s.bw.Mode == BWAtkinson {
		return "bw(atkinson)"
	}
	return fmt.Sprintf("bw(threshold,%g)", s.bw.Luminance)
}
