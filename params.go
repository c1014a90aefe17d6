package imageopto

// Params is the parsed, validated form of a Fastly IO query string. It is a
// plain comparable value: two requests that mean the same transformation have
// equal Params (and equal Encode output), so Params can be compared with ==
// and used as a map key. The zero value of every field means "not requested".
//
// Fields are listed in the canonical key order used by Encode.
type Params struct {
	Auto         Auto         // auto=webp|avif
	BgColor      Color        // bg-color=
	Blur         Length       // blur=N (pixels, may be fractional) or Np (percent of the longer side)
	Brightness   float64      // brightness=-100..100
	BW           BW           // bw=threshold[,L]|atkinson
	Canvas       Canvas       // canvas=
	Contrast     float64      // contrast=-100..100
	Crop         Region       // crop=
	DPR          float64      // dpr=1..10 (0: not set; 1 is normalised to 0)
	Fit          Fit          // fit=bounds|cover|crop
	Format       Format       // format= (aliases normalised)
	Frame        int          // frame=1
	Height       Length       // height=
	Level        Level        // level= (H.264 level of mp4 output; ignored for other formats)
	Metadata     Metadata     // metadata=copyright,c2pa
	Optimize     Optimize     // optimize=low|medium|high
	Orient       Orientation  // orient= (letters normalised to 1–8; 1 is normalised to 0)
	Pad          Sides        // pad=
	Precrop      Region       // precrop=
	Profile      Profile      // profile=baseline|main|high
	Quality      int          // quality=Q (1–100)
	WebPQuality  int          // second value of quality=Q,W (1–100), used when WebP was negotiated
	ResizeFilter ResizeFilter // resize-filter= (aliases normalised)
	Saturation   float64      // saturation=-100..100
	Sharpen      Sharpen      // sharpen=aA,rR,tT
	Trim         Sides        // trim=
	TrimColor    TrimColor    // trim-color=
	Upscale      Upscale      // enable=upscale / disable=upscale
	Viewbox      int          // viewbox=1
	Width        Length       // width=
}

// Unit says how a Length is measured.
type Unit uint8

// Units of a Length.
const (
	UnitNone    Unit = iota // not set
	UnitPixels              // whole pixels (fractional only for blur and sharpen)
	UnitPercent             // percent of a reference length; fractions such as 0.5 are stored as 50 %
)

// Length is a pixel count or a percentage of a reference length (the "pixels
// or percentage" grammar of the API). Fractions (0 < n < 1) are stored as
// percentages, so width=0.5 and width=50p are the same Length.
type Length struct {
	Value float64
	Unit  Unit
}

// Px returns a Length of n pixels.
func Px(n float64) Length { return Length{Value: n, Unit: UnitPixels} }

// Pct returns a Length of n percent.
func Pct(n float64) Length { return Length{Value: n, Unit: UnitPercent} }

// IsSet reports whether the length was given.
func (l Length) IsSet() bool { return l.Unit != UnitNone }

// Of resolves the length against a reference length in pixels, without
// rounding: pixels are returned as they are, percentages as ref*Value/100.
func (l Length) Of(ref int) float64 {
	switch l.Unit {
	case UnitPixels:
		return l.Value
	case UnitPercent:
		return float64(ref) * l.Value / 100
	}
	return 0
}

// SizeKind says how a Size is given.
type SizeKind uint8

// Kinds of Size.
const (
	SizeNone     SizeKind = iota // not set
	SizeAbsolute                 // width,height (each pixels or percent)
	SizeRatio                    // w:h aspect ratio
)

// Size is the SIZE part of crop, precrop and canvas.
type Size struct {
	Kind          SizeKind
	Width, Height Length  // SizeAbsolute
	RatioW        float64 // SizeRatio
	RatioH        float64 // SizeRatio
}

// AxisKind says how the position on one axis is given.
type AxisKind uint8

// Kinds of axis position.
const (
	AxisCenter   AxisKind = iota // default: centred (offset 50)
	AxisAbsolute                 // x{N} / y{N}: pixels or percent, top-left of the region or image
	AxisOffset                   // offset-x{N} / offset-y{N}: percent (0–100) of the free space
)

// Axis is the position on one axis.
type Axis struct {
	Kind   AxisKind
	Pos    Length  // AxisAbsolute
	Offset float64 // AxisOffset, 0–100 (50 is normalised to AxisCenter)
}

// Position places a region (crop) or an image (canvas) on both axes.
type Position struct {
	X, Y Axis
}

// Region is the value of crop and precrop.
type Region struct {
	Size     Size
	Position Position
	Smart    bool // content-aware placement (ratio sizes only; ignored with a warning otherwise)
	Safe     bool // clip to the image instead of failing when out of bounds
}

// IsSet reports whether the region was given.
func (r Region) IsSet() bool { return r.Size.Kind != SizeNone }

// Canvas is the value of canvas.
type Canvas struct {
	Size     Size
	Position Position
}

// IsSet reports whether the canvas was given.
func (c Canvas) IsSet() bool { return c.Size.Kind != SizeNone }

// Sides is a CSS-style list of four lengths (pad, trim). Shorthand forms with
// one to three values are expanded when parsed.
type Sides struct {
	Top, Right, Bottom, Left Length
}

// IsSet reports whether any side was given.
func (s Sides) IsSet() bool {
	return s.Top.IsSet() || s.Right.IsSet() || s.Bottom.IsSet() || s.Left.IsSet()
}

// Color is an RGBA colour as given in bg-color and trim-color. A is the
// opacity from 0 (transparent) to 1 (opaque).
type Color struct {
	R, G, B uint8
	A       float64
	Set     bool
}

// TrimColor is the value of trim-color.
type TrimColor struct {
	Auto      bool    // use the colour of the top-left pixel
	Color     Color   // when not Auto
	Threshold float64 // 0 (exact) – 1 (anything)
}

// IsSet reports whether trim-color was given.
func (t TrimColor) IsSet() bool { return t.Auto || t.Color.Set }

// Sharpen is the value of sharpen (an unsharp mask).
type Sharpen struct {
	Amount    float64 // 0–10
	Radius    float64 // 0.5–1000
	Threshold int     // 0–255
}

// IsSet reports whether sharpen was given.
func (s Sharpen) IsSet() bool { return s.Radius != 0 }

// BWMode is the algorithm of bw.
type BWMode string

// Values of bw.
const (
	BWThreshold BWMode = "threshold"
	BWAtkinson  BWMode = "atkinson"
)

// DefaultBWLuminance is the luminance cutoff of bw=threshold without a value.
const DefaultBWLuminance = 49

// BW is the value of bw.
type BW struct {
	Mode      BWMode
	Luminance float64 // threshold mode only, 0–100; parsing fills in DefaultBWLuminance
}

// Auto is the value of auto.
type Auto string

// Values of auto.
const (
	AutoWebP Auto = "webp"
	AutoAVIF Auto = "avif"
)

// Fit is the value of fit.
type Fit string

// Values of fit.
const (
	FitBounds Fit = "bounds"
	FitCover  Fit = "cover"
	FitCrop   Fit = "crop"
)

// Format is the value of the format parameter. Aliases are normalised when
// parsing (jpeg → jpg, bjpeg → bjpg, pjpeg → pjpg, jpegxl → jxl,
// pjpegxl → pjxl).
type Format string

// Values of format.
const (
	FormatAuto   Format = "auto"
	FormatAVIF   Format = "avif"
	FormatBJPG   Format = "bjpg"
	FormatGIF    Format = "gif"
	FormatJPG    Format = "jpg"
	FormatJXL    Format = "jxl"
	FormatMP4    Format = "mp4"
	FormatPJPG   Format = "pjpg"
	FormatPJXL   Format = "pjxl"
	FormatPNG    Format = "png"
	FormatPNG8   Format = "png8"
	FormatSVG    Format = "svg"
	FormatWebP   Format = "webp"
	FormatWebPLL Format = "webpll"
	FormatWebPLY Format = "webply"
)

// Level is the value of level (an H.264 level such as "3.0").
type Level string

// Profile is the value of profile (an H.264 profile).
type Profile string

// Values of profile.
const (
	ProfileBaseline Profile = "baseline"
	ProfileMain     Profile = "main"
	ProfileHigh     Profile = "high"
)

// Metadata is the value of metadata.
type Metadata struct {
	Copyright bool
	C2PA      bool
}

// Optimize is the value of optimize.
type Optimize string

// Values of optimize.
const (
	OptimizeLow    Optimize = "low"
	OptimizeMedium Optimize = "medium"
	OptimizeHigh   Optimize = "high"
)

// Orientation is an EXIF-style orientation, 1–8 (0: not set).
//
//	1 none            5 transpose (mirror horizontally, rotate left)
//	2 mirror horiz.   6 rotate right (90° clockwise)
//	3 rotate 180°     7 transverse (mirror horizontally, rotate right)
//	4 mirror vert.    8 rotate left (90° counter-clockwise)
type Orientation uint8

// Swaps reports whether the orientation swaps width and height.
func (o Orientation) Swaps() bool { return o >= 5 && o <= 8 }

// ResizeFilter is the value of resize-filter. Aliases are normalised when
// parsing (linear → bilinear, cubic → bicubic, lanczos → lanczos3).
type ResizeFilter string

// Values of resize-filter.
const (
	FilterNearest  ResizeFilter = "nearest"
	FilterBilinear ResizeFilter = "bilinear"
	FilterBicubic  ResizeFilter = "bicubic"
	FilterLanczos2 ResizeFilter = "lanczos2"
	FilterLanczos3 ResizeFilter = "lanczos3"
)

// Upscale is the combined value of enable=upscale and disable=upscale.
type Upscale string

// Values of Upscale.
const (
	UpscaleEnable  Upscale = "enable"
	UpscaleDisable Upscale = "disable"
)
