package imageopto

import (
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Helpers that keep the expected Params in the tables short.

func sizeAbs(w, h Length) Size     { return Size{Kind: SizeAbsolute, Width: w, Height: h} }
func sizeRatio(w, h float64) Size  { return Size{Kind: SizeRatio, RatioW: w, RatioH: h} }
func axisAt(l Length) Axis         { return Axis{Kind: AxisAbsolute, Pos: l} }
func axisOffset(o float64) Axis    { return Axis{Kind: AxisOffset, Offset: o} }
func colorRGB(r, g, b uint8) Color { return Color{R: r, G: g, B: b, A: 1, Set: true} }
func colorRGBA(r, g, b uint8, a float64) Color {
	return Color{R: r, G: g, B: b, A: a, Set: true}
}
func sidesOf(t, r, b, l Length) Sides { return Sides{Top: t, Right: r, Bottom: b, Left: l} }
func sidesAll(l Length) Sides         { return sidesOf(l, l, l, l) }

// paramValidCase is a query that ParseParams accepts, the Params it must give and
// the canonical string that Encode must produce for them.
type paramValidCase struct {
	query string
	want  Params
	enc   string
}

var paramValidCases = []paramValidCase{
	// Nothing, unknown names, empty pieces (D5, D7, D30).
	{"", Params{}, ""},
	{"&&&", Params{}, ""},
	{"Width=400", Params{}, ""},
	{"WIDTH=400&Fit=crop", Params{}, ""},
	{"region=us_east", Params{}, ""},
	{"region=us_east&width=50p", Params{Width: Pct(50)}, "width=50p"},
	{"a&&b=1&width=400&&", Params{Width: Px(400)}, "width=400"},
	{"foo=%zz&width=400", Params{Width: Px(400)}, "width=400"},
	{"%zz=1&width=400", Params{Width: Px(400)}, "width=400"},
	{"wi%64th=400", Params{Width: Px(400)}, "width=400"},
	{"width+=400", Params{}, ""},

	// width / height (D8).
	{"width=400", Params{Width: Px(400)}, "width=400"},
	{"width=1", Params{Width: Px(1)}, "width=1"},
	{"width=8192", Params{Width: Px(8192)}, "width=8192"},
	{"width=8192.4", Params{Width: Px(8192)}, "width=8192"},
	{"width=1.5", Params{Width: Px(2)}, "width=2"},
	{"width=1.4", Params{Width: Px(1)}, "width=1"},
	{"width=1.4999999999999999999", Params{Width: Px(1)}, "width=1"},
	{"width=8192.4999999999999999", Params{Width: Px(8192)}, "width=8192"},
	{"width=333.5", Params{Width: Px(334)}, "width=334"},
	{"width=400.000", Params{Width: Px(400)}, "width=400"},
	{"width=0400", Params{Width: Px(400)}, "width=400"},
	{"width=0.5", Params{Width: Pct(50)}, "width=50p"},
	{"width=.5", Params{Width: Pct(50)}, "width=50p"},
	{"width=00.50", Params{Width: Pct(50)}, "width=50p"},
	{"width=0.07", Params{Width: Pct(7)}, "width=7p"},
	{"width=0.123", Params{Width: Pct(12.3)}, "width=12.3p"},
	{"width=0.99", Params{Width: Pct(99)}, "width=99p"},
	{"width=0.0001", Params{Width: Pct(0.01)}, "width=0.01p"},
	{"width=50p", Params{Width: Pct(50)}, "width=50p"},
	{"width=250p", Params{Width: Pct(250)}, "width=250p"},
	{"width=0.5p", Params{Width: Pct(0.5)}, "width=0.5p"},
	{"width=1000p", Params{Width: Pct(1000)}, "width=1000p"},
	{"width=33.333p", Params{Width: Pct(33.333)}, "width=33.333p"},
	{"height=300", Params{Height: Px(300)}, "height=300"},
	{"height=0.25", Params{Height: Pct(25)}, "height=25p"},
	{"height=150p", Params{Height: Pct(150)}, "height=150p"},

	// dpr.
	{"dpr=2", Params{DPR: 2}, "dpr=2"},
	{"dpr=1.5", Params{DPR: 1.5}, "dpr=1.5"},
	{"dpr=1.6667", Params{DPR: 1.6667}, "dpr=1.6667"},
	{"dpr=10", Params{DPR: 10}, "dpr=10"},
	{"dpr=1", Params{}, ""},
	{"dpr=1.000", Params{}, ""},

	// blur.
	{"blur=50", Params{Blur: Px(50)}, "blur=50"},
	{"blur=0.5", Params{Blur: Px(0.5)}, "blur=0.5"},
	{"blur=2.75", Params{Blur: Px(2.75)}, "blur=2.75"},
	{"blur=1000", Params{Blur: Px(1000)}, "blur=1000"},
	{"blur=0.5p", Params{Blur: Pct(0.5)}, "blur=0.5p"},
	{"blur=100p", Params{Blur: Pct(100)}, "blur=100p"},

	// brightness, contrast, saturation.
	{"brightness=50", Params{Brightness: 50}, "brightness=50"},
	{"brightness=-100", Params{Brightness: -100}, "brightness=-100"},
	{"brightness=100", Params{Brightness: 100}, "brightness=100"},
	{"brightness=0.5", Params{Brightness: 0.5}, "brightness=0.5"},
	{"brightness=-.5", Params{Brightness: -0.5}, "brightness=-0.5"},
	{"brightness=0", Params{}, ""},
	{"brightness=-0.0", Params{}, ""},
	{"contrast=-25.5", Params{Contrast: -25.5}, "contrast=-25.5"},
	{"contrast=100", Params{Contrast: 100}, "contrast=100"},
	{"saturation=-100", Params{Saturation: -100}, "saturation=-100"},
	{"saturation=25", Params{Saturation: 25}, "saturation=25"},

	// bw.
	{"bw=threshold", Params{BW: BW{Mode: BWThreshold, Luminance: DefaultBWLuminance}}, "bw=threshold"},
	{"bw=threshold,49", Params{BW: BW{Mode: BWThreshold, Luminance: 49}}, "bw=threshold"},
	{"bw=threshold,75", Params{BW: BW{Mode: BWThreshold, Luminance: 75}}, "bw=threshold,75"},
	{"bw=threshold,0", Params{BW: BW{Mode: BWThreshold, Luminance: 0}}, "bw=threshold,0"},
	{"bw=threshold,12.5", Params{BW: BW{Mode: BWThreshold, Luminance: 12.5}}, "bw=threshold,12.5"},
	{"bw=threshold%2C100", Params{BW: BW{Mode: BWThreshold, Luminance: 100}}, "bw=threshold,100"},
	{"bw=atkinson", Params{BW: BW{Mode: BWAtkinson}}, "bw=atkinson"},

	// Keywords.
	{"auto=webp", Params{Auto: AutoWebP}, "auto=webp"},
	{"auto=avif", Params{Auto: AutoAVIF}, "auto=avif"},
	{"fit=bounds", Params{Fit: FitBounds}, "fit=bounds"},
	{"fit=cover", Params{Fit: FitCover}, "fit=cover"},
	{"fit=crop", Params{Fit: FitCrop}, "fit=crop"},
	{"optimize=low", Params{Optimize: OptimizeLow}, "optimize=low"},
	{"optimize=medium", Params{Optimize: OptimizeMedium}, "optimize=medium"},
	{"optimize=high", Params{Optimize: OptimizeHigh}, "optimize=high"},
	{"profile=baseline", Params{Profile: ProfileBaseline}, "profile=baseline"},
	{"profile=main", Params{Profile: ProfileMain}, "profile=main"},
	{"profile=high", Params{Profile: ProfileHigh}, "profile=high"},
	{"frame=1", Params{Frame: 1}, "frame=1"},
	{"viewbox=1", Params{Viewbox: 1}, "viewbox=1"},
	{"enable=upscale", Params{Upscale: UpscaleEnable}, "enable=upscale"},
	{"disable=upscale", Params{Upscale: UpscaleDisable}, "disable=upscale"},

	// format, with aliases; values this build may not produce are still
	// valid API values (D24).
	{"format=auto", Params{Format: FormatAuto}, "format=auto"},
	{"format=avif", Params{Format: FormatAVIF}, "format=avif"},
	{"format=bjpg", Params{Format: FormatBJPG}, "format=bjpg"},
	{"format=bjpeg", Params{Format: FormatBJPG}, "format=bjpg"},
	{"format=gif", Params{Format: FormatGIF}, "format=gif"},
	{"format=jpg", Params{Format: FormatJPG}, "format=jpg"},
	{"format=jpeg", Params{Format: FormatJPG}, "format=jpg"},
	{"format=jxl", Params{Format: FormatJXL}, "format=jxl"},
	{"format=jpegxl", Params{Format: FormatJXL}, "format=jxl"},
	{"format=mp4", Params{Format: FormatMP4}, "format=mp4"},
	{"format=pjpg", Params{Format: FormatPJPG}, "format=pjpg"},
	{"format=pjpeg", Params{Format: FormatPJPG}, "format=pjpg"},
	{"format=pjxl", Params{Format: FormatPJXL}, "format=pjxl"},
	{"format=pjpegxl", Params{Format: FormatPJXL}, "format=pjxl"},
	{"format=png", Params{Format: FormatPNG}, "format=png"},
	{"format=png8", Params{Format: FormatPNG8}, "format=png8"},
	{"format=svg", Params{Format: FormatSVG}, "format=svg"},
	{"format=webp", Params{Format: FormatWebP}, "format=webp"},
	{"format=webpll", Params{Format: FormatWebPLL}, "format=webpll"},
	{"format=webply", Params{Format: FormatWebPLY}, "format=webply"},

	// resize-filter, with aliases.
	{"resize-filter=nearest", Params{ResizeFilter: FilterNearest}, "resize-filter=nearest"},
	{"resize-filter=bilinear", Params{ResizeFilter: FilterBilinear}, "resize-filter=bilinear"},
	{"resize-filter=linear", Params{ResizeFilter: FilterBilinear}, "resize-filter=bilinear"},
	{"resize-filter=bicubic", Params{ResizeFilter: FilterBicubic}, "resize-filter=bicubic"},
	{"resize-filter=cubic", Params{ResizeFilter: FilterBicubic}, "resize-filter=bicubic"},
	{"resize-filter=lanczos2", Params{ResizeFilter: FilterLanczos2}, "resize-filter=lanczos2"},
	{"resize-filter=lanczos3", Params{ResizeFilter: FilterLanczos3}, "resize-filter=lanczos3"},
	{"resize-filter=lanczos", Params{ResizeFilter: FilterLanczos3}, "resize-filter=lanczos3"},

	// level.
	{"level=1.0", Params{Level: "1.0"}, "level=1.0"},
	{"level=3.0", Params{Level: "3.0"}, "level=3.0"},
	{"level=4.2", Params{Level: "4.2"}, "level=4.2"},
	{"level=6.2", Params{Level: "6.2"}, "level=6.2"},

	// metadata.
	{"metadata=copyright", Params{Metadata: Metadata{Copyright: true}}, "metadata=copyright"},
	{"metadata=c2pa", Params{Metadata: Metadata{C2PA: true}}, "metadata=c2pa"},
	{"metadata=copyright,c2pa", Params{Metadata: Metadata{Copyright: true, C2PA: true}}, "metadata=copyright,c2pa"},
	{"metadata=c2pa,copyright", Params{Metadata: Metadata{Copyright: true, C2PA: true}}, "metadata=copyright,c2pa"},
	{"metadata=copyright%2Cc2pa", Params{Metadata: Metadata{Copyright: true, C2PA: true}}, "metadata=copyright,c2pa"},

	// orient: letters become numbers, 1 is no change.
	{"orient=1", Params{}, ""},
	{"orient=2", Params{Orient: 2}, "orient=2"},
	{"orient=3", Params{Orient: 3}, "orient=3"},
	{"orient=4", Params{Orient: 4}, "orient=4"},
	{"orient=5", Params{Orient: 5}, "orient=5"},
	{"orient=6", Params{Orient: 6}, "orient=6"},
	{"orient=7", Params{Orient: 7}, "orient=7"},
	{"orient=8", Params{Orient: 8}, "orient=8"},
	{"orient=r", Params{Orient: 6}, "orient=6"},
	{"orient=l", Params{Orient: 8}, "orient=8"},
	{"orient=h", Params{Orient: 2}, "orient=2"},
	{"orient=v", Params{Orient: 4}, "orient=4"},
	{"orient=hv", Params{Orient: 3}, "orient=3"},
	{"orient=vh", Params{Orient: 3}, "orient=3"},
	{"orient=rv", Params{Orient: 5}, "orient=5"},
	{"orient=vr", Params{Orient: 5}, "orient=5"},
	{"orient=lv", Params{Orient: 7}, "orient=7"},
	{"orient=vl", Params{Orient: 7}, "orient=7"},

	// quality.
	{"quality=85", Params{Quality: 85}, "quality=85"},
	{"quality=1", Params{Quality: 1}, "quality=1"},
	{"quality=100", Params{Quality: 100}, "quality=100"},
	{"quality=085", Params{Quality: 85}, "quality=85"},
	{"quality=85,75", Params{Quality: 85, WebPQuality: 75}, "quality=85,75"},
	{"quality=85%2C75", Params{Quality: 85, WebPQuality: 75}, "quality=85,75"},

	// sharpen (D20).
	{"sharpen=a5,r2,t1", Params{Sharpen: Sharpen{Amount: 5, Radius: 2, Threshold: 1}}, "sharpen=a5,r2,t1"},
	{"sharpen=a0,r0.5,t0", Params{Sharpen: Sharpen{Amount: 0, Radius: 0.5}}, "sharpen=a0,r0.5,t0"},
	{"sharpen=a10,r1000,t255", Params{Sharpen: Sharpen{Amount: 10, Radius: 1000, Threshold: 255}}, "sharpen=a10,r1000,t255"},
	{"sharpen=a2.5,r1.25,t10", Params{Sharpen: Sharpen{Amount: 2.5, Radius: 1.25, Threshold: 10}}, "sharpen=a2.5,r1.25,t10"},
	{"sharpen=a0.100000,r1.000000,t007", Params{Sharpen: Sharpen{Amount: 0.1, Radius: 1, Threshold: 7}}, "sharpen=a0.1,r1,t7"},

	// bg-color.
	{"bg-color=c5c5c5", Params{BgColor: colorRGB(197, 197, 197)}, "bg-color=197,197,197"},
	{"bg-color=CF23A5", Params{BgColor: colorRGB(0xcf, 0x23, 0xa5)}, "bg-color=207,35,165"},
	{"bg-color=000", Params{BgColor: colorRGB(0, 0, 0)}, "bg-color=0,0,0"},
	{"bg-color=FFF", Params{BgColor: colorRGB(255, 255, 255)}, "bg-color=255,255,255"},
	{"bg-color=fFf", Params{BgColor: colorRGB(255, 255, 255)}, "bg-color=255,255,255"},
	{"bg-color=a22", Params{BgColor: colorRGB(0xaa, 0x22, 0x22)}, "bg-color=170,34,34"},
	{"bg-color=0,255,0", Params{BgColor: colorRGB(0, 255, 0)}, "bg-color=0,255,0"},
	{"bg-color=0%2C255%2C0", Params{BgColor: colorRGB(0, 255, 0)}, "bg-color=0,255,0"},
	{"bg-color=0,255,0,0.5", Params{BgColor: colorRGBA(0, 255, 0, 0.5)}, "bg-color=0,255,0,0.5"},
	{"bg-color=0,255,0,1", Params{BgColor: colorRGB(0, 255, 0)}, "bg-color=0,255,0"},
	{"bg-color=0,255,0,1.000000", Params{BgColor: colorRGB(0, 255, 0)}, "bg-color=0,255,0"},
	{"bg-color=0,0,0,0", Params{BgColor: colorRGBA(0, 0, 0, 0)}, "bg-color=0,0,0,0"},
	{"bg-color=255,0,128,0.500000", Params{BgColor: colorRGBA(255, 0, 128, 0.5)}, "bg-color=255,0,128,0.5"},
	{"bg-color=007,08,9", Params{BgColor: colorRGB(7, 8, 9)}, "bg-color=7,8,9"},

	// trim-color (D21).
	{"trim-color=auto", Params{TrimColor: TrimColor{Auto: true}}, "trim-color=auto"},
	{"trim-color=auto,t0.3", Params{TrimColor: TrimColor{Auto: true, Threshold: 0.3}}, "trim-color=auto,t0.3"},
	{"trim-color=0,0,0", Params{TrimColor: TrimColor{Color: colorRGB(0, 0, 0)}}, "trim-color=0,0,0"},
	{"trim-color=255,255,255,0.5", Params{TrimColor: TrimColor{Color: colorRGBA(255, 255, 255, 0.5)}}, "trim-color=255,255,255,0.5"},
	{"trim-color=FFFFFF,t0.3", Params{TrimColor: TrimColor{Color: colorRGB(255, 255, 255), Threshold: 0.3}}, "trim-color=255,255,255,t0.3"},
	{"trim-color=ffffff,t0", Params{TrimColor: TrimColor{Color: colorRGB(255, 255, 255)}}, "trim-color=255,255,255"},
	{"trim-color=255,0,0,1,t0.5", Params{TrimColor: TrimColor{Color: colorRGB(255, 0, 0), Threshold: 0.5}}, "trim-color=255,0,0,t0.5"},
	{"trim-color=000,t1", Params{TrimColor: TrimColor{Color: colorRGB(0, 0, 0), Threshold: 1}}, "trim-color=0,0,0,t1"},

	// pad and trim: CSS shorthand, zero allowed.
	{"pad=10", Params{Pad: sidesAll(Px(10))}, "pad=10,10,10,10"},
	{"pad=10,20", Params{Pad: sidesOf(Px(10), Px(20), Px(10), Px(20))}, "pad=10,20,10,20"},
	{"pad=10,20,30", Params{Pad: sidesOf(Px(10), Px(20), Px(30), Px(20))}, "pad=10,20,30,20"},
	{"pad=25,50,75,100", Params{Pad: sidesOf(Px(25), Px(50), Px(75), Px(100))}, "pad=25,50,75,100"},
	{"pad=0.25", Params{Pad: sidesAll(Pct(25))}, "pad=25p,25p,25p,25p"},
	{"pad=0", Params{Pad: sidesAll(Px(0))}, "pad=0,0,0,0"},
	{"pad=0p", Params{Pad: sidesAll(Px(0))}, "pad=0,0,0,0"},
	{"pad=0.0", Params{Pad: sidesAll(Px(0))}, "pad=0,0,0,0"},
	{"pad=10p,0,5.4,0.5", Params{Pad: sidesOf(Pct(10), Px(0), Px(5), Pct(50))}, "pad=10p,0,5,50p"},
	{"trim=25,50,75,100", Params{Trim: sidesOf(Px(25), Px(50), Px(75), Px(100))}, "trim=25,50,75,100"},
	{"trim=25,50,75", Params{Trim: sidesOf(Px(25), Px(50), Px(75), Px(50))}, "trim=25,50,75,50"},
	{"trim=25,50", Params{Trim: sidesOf(Px(25), Px(50), Px(25), Px(50))}, "trim=25,50,25,50"},
	{"trim=0.25", Params{Trim: sidesAll(Pct(25))}, "trim=25p,25p,25p,25p"},
	{
		"trim=20.556p,33.333p,20.555p,33.333p",
		Params{Trim: sidesOf(Pct(20.556), Pct(33.333), Pct(20.555), Pct(33.333))},
		"trim=20.556p,33.333p,20.555p,33.333p",
	},

	// crop and precrop (D12).
	{"crop=1000,500", Params{Crop: Region{Size: sizeAbs(Px(1000), Px(500))}}, "crop=1000,500"},
	{"crop=4:3", Params{Crop: Region{Size: sizeRatio(4, 3)}}, "crop=4:3"},
	{"crop=4%3A3", Params{Crop: Region{Size: sizeRatio(4, 3)}}, "crop=4:3"},
	{"crop=4.000000:3.000000", Params{Crop: Region{Size: sizeRatio(4, 3)}}, "crop=4:3"},
	{"crop=1.5:.5", Params{Crop: Region{Size: sizeRatio(1.5, 0.5)}}, "crop=1.5:0.5"},
	{"crop=16:9", Params{Crop: Region{Size: sizeRatio(16, 9)}}, "crop=16:9"},
	{"crop=0.5,0.5", Params{Crop: Region{Size: sizeAbs(Pct(50), Pct(50))}}, "crop=50p,50p"},
	{"crop=50p,50p", Params{Crop: Region{Size: sizeAbs(Pct(50), Pct(50))}}, "crop=50p,50p"},
	{"crop=0.8,0.4", Params{Crop: Region{Size: sizeAbs(Pct(80), Pct(40))}}, "crop=80p,40p"},
	{"crop=640.4,479.5", Params{Crop: Region{Size: sizeAbs(Px(640), Px(480))}}, "crop=640,480"},
	{
		"crop=1000,500,offset-x10,offset-y50",
		Params{Crop: Region{Size: sizeAbs(Px(1000), Px(500)), Position: Position{X: axisOffset(10)}}},
		"crop=1000,500,offset-x10",
	},
	{
		"crop=1000,500,x100,y100",
		Params{Crop: Region{Size: sizeAbs(Px(1000), Px(500)), Position: Position{X: axisAt(Px(100)), Y: axisAt(Px(100))}}},
		"crop=1000,500,x100,y100",
	},
	{"crop=1:1,smart", Params{Crop: Region{Size: sizeRatio(1, 1), Smart: true}}, "crop=1:1,smart"},
	{"crop=1:1,safe,smart", Params{Crop: Region{Size: sizeRatio(1, 1), Smart: true, Safe: true}}, "crop=1:1,smart,safe"},
	{
		"crop=1:1,x30p,y20p,safe",
		Params{Crop: Region{Size: sizeRatio(1, 1), Position: Position{X: axisAt(Pct(30)), Y: axisAt(Pct(20))}, Safe: true}},
		"crop=1:1,x30p,y20p,safe",
	},
	{
		"crop=1:1,offset-x30,offset-y15,safe",
		Params{Crop: Region{Size: sizeRatio(1, 1), Position: Position{X: axisOffset(30), Y: axisOffset(15)}, Safe: true}},
		"crop=1:1,offset-x30,offset-y15,safe",
	},
	{
		"crop=4.000000%3A3.000000%2Coffset-x10.000000%2Cy10.000000p%2Csafe",
		Params{Crop: Region{Size: sizeRatio(4, 3), Position: Position{X: axisOffset(10), Y: axisAt(Pct(10))}, Safe: true}},
		"crop=4:3,offset-x10,y10p,safe",
	},
	{
		"crop=1500,800,x800,y300,safe",
		Params{Crop: Region{Size: sizeAbs(Px(1500), Px(800)), Position: Position{X: axisAt(Px(800)), Y: axisAt(Px(300))}, Safe: true}},
		"crop=1500,800,x800,y300,safe",
	},
	{
		"crop=4:3,safe,y10,smart,x0",
		Params{Crop: Region{Size: sizeRatio(4, 3), Position: Position{X: axisAt(Px(0)), Y: axisAt(Px(10))}, Smart: true, Safe: true}},
		"crop=4:3,x0,y10,smart,safe",
	},
	{
		"crop=4:3,x10,offset-y50",
		Params{Crop: Region{Size: sizeRatio(4, 3), Position: Position{X: axisAt(Px(10))}}},
		"crop=4:3,x10",
	},
	{
		"crop=1:1,offset-x0,offset-y100",
		Params{Crop: Region{Size: sizeRatio(1, 1), Position: Position{X: axisOffset(0), Y: axisOffset(100)}}},
		"crop=1:1,offset-x0,offset-y100",
	},
	{"crop=1:1,offset-x50", Params{Crop: Region{Size: sizeRatio(1, 1)}}, "crop=1:1"},
	{"crop=1:1,x0.5", Params{Crop: Region{Size: sizeRatio(1, 1), Position: Position{X: axisAt(Pct(50))}}}, "crop=1:1,x50p"},
	{"crop=1:1,x0p", Params{Crop: Region{Size: sizeRatio(1, 1), Position: Position{X: axisAt(Px(0))}}}, "crop=1:1,x0"},
	{"crop=100,100,y10.6", Params{Crop: Region{Size: sizeAbs(Px(100), Px(100)), Position: Position{Y: axisAt(Px(11))}}}, "crop=100,100,y11"},
	{"precrop=1000,1000", Params{Precrop: Region{Size: sizeAbs(Px(1000), Px(1000))}}, "precrop=1000,1000"},
	{"precrop=16:9,smart", Params{Precrop: Region{Size: sizeRatio(16, 9), Smart: true}}, "precrop=16:9,smart"},

	// canvas.
	{"canvas=600,400", Params{Canvas: Canvas{Size: sizeAbs(Px(600), Px(400))}}, "canvas=600,400"},
	{
		"canvas=600,400,x0,y0",
		Params{Canvas: Canvas{Size: sizeAbs(Px(600), Px(400)), Position: Position{X: axisAt(Px(0)), Y: axisAt(Px(0))}}},
		"canvas=600,400,x0,y0",
	},
	{
		"canvas=600,400,offset-x25,offset-y75",
		Params{Canvas: Canvas{Size: sizeAbs(Px(600), Px(400)), Position: Position{X: axisOffset(25), Y: axisOffset(75)}}},
		"canvas=600,400,offset-x25,offset-y75",
	},
	{"canvas=16:9", Params{Canvas: Canvas{Size: sizeRatio(16, 9)}}, "canvas=16:9"},
	{"canvas=150p,150p", Params{Canvas: Canvas{Size: sizeAbs(Pct(150), Pct(150))}}, "canvas=150p,150p"},
	{"canvas=200,200,x10", Params{Canvas: Canvas{Size: sizeAbs(Px(200), Px(200)), Position: Position{X: axisAt(Px(10))}}}, "canvas=200,200,x10"},
	{"canvas=200,200,offset-y20", Params{Canvas: Canvas{Size: sizeAbs(Px(200), Px(200)), Position: Position{Y: axisOffset(20)}}}, "canvas=200,200,offset-y20"},
	{
		"canvas=16:9,offset-y20,offset-x30",
		Params{Canvas: Canvas{Size: sizeRatio(16, 9), Position: Position{X: axisOffset(30), Y: axisOffset(20)}}},
		"canvas=16:9,offset-x30,offset-y20",
	},

	// Several parameters at once.
	{
		"width=400&crop=4%3A3,offset-x10&bg-color=FFF",
		Params{Width: Px(400), Crop: Region{Size: sizeRatio(4, 3), Position: Position{X: axisOffset(10)}}, BgColor: colorRGB(255, 255, 255)},
		"bg-color=255,255,255&crop=4:3,offset-x10&width=400",
	},
	{
		"format=pjpg&auto=webp&quality=85,75",
		Params{Format: FormatPJPG, Auto: AutoWebP, Quality: 85, WebPQuality: 75},
		"auto=webp&format=pjpg&quality=85,75",
	},
	{
		"format=mp4&profile=main&level=5.2",
		Params{Format: FormatMP4, Profile: ProfileMain, Level: "5.2"},
		"format=mp4&level=5.2&profile=main",
	},
	{
		"crop=1:1&orient=h&width=500&pad=10&bg-color=000&format=pjpg&quality=70",
		Params{
			Crop: Region{Size: sizeRatio(1, 1)}, Orient: 2, Width: Px(500), Pad: sidesAll(Px(10)),
			BgColor: colorRGB(0, 0, 0), Format: FormatPJPG, Quality: 70,
		},
		"bg-color=0,0,0&crop=1:1&format=pjpg&orient=2&pad=10,10,10,10&quality=70&width=500",
	},
	{
		"width=300&height=300&fit=crop&disable=upscale&dpr=2&resize-filter=cubic",
		Params{Width: Px(300), Height: Px(300), Fit: FitCrop, Upscale: UpscaleDisable, DPR: 2, ResizeFilter: FilterBicubic},
		"disable=upscale&dpr=2&fit=crop&height=300&resize-filter=bicubic&width=300",
	},
	{
		"format=svg&width=1000&viewbox=1",
		Params{Format: FormatSVG, Width: Px(1000), Viewbox: 1},
		"format=svg&viewbox=1&width=1000",
	},
	{
		"width=0.5&Width=7&foo=bar&region=asia&dpr=1&orient=1",
		Params{Width: Pct(50)},
		"width=50p",
	},
	{
		"width=200&dpr=2&enable=upscale&frame=1&metadata=copyright",
		Params{Width: Px(200), DPR: 2, Upscale: UpscaleEnable, Frame: 1, Metadata: Metadata{Copyright: true}},
		"dpr=2&enable=upscale&frame=1&metadata=copyright&width=200",
	},
}

// paramsFullQuery sets every parameter; paramsFullEncoded is its canonical form.
const (
	paramsFullQuery = "width=0.5&height=300&dpr=1.5&fit=cover&format=jpeg&auto=avif&quality=80,70&" +
		"optimize=medium&resize-filter=lanczos&enable=upscale&crop=16:9,smart,safe,x10,y0.25&" +
		"precrop=50p,0.5,offset-x0,offset-y100&canvas=1200,900,x5p,offset-y10&pad=1,2,3&" +
		"trim=0.1,5&trim-color=auto,t0.25&bg-color=0,0,255,0.75&brightness=-10&contrast=20.5&" +
		"saturation=-0.5&sharpen=a1,r0.5,t3&blur=3p&bw=threshold,60&orient=vl&frame=1&" +
		"viewbox=1&metadata=c2pa,copyright&profile=high&level=4.1"
	paramsFullEncoded = "auto=avif&bg-color=0,0,255,0.75&blur=3p&brightness=-10&bw=threshold,60&" +
		"canvas=1200,900,x5p,offset-y10&contrast=20.5&crop=16:9,x10,y25p,smart,safe&dpr=1.5&" +
		"enable=upscale&fit=cover&format=jpg&frame=1&height=300&level=4.1&metadata=copyright,c2pa&" +
		"optimize=medium&orient=7&pad=1,2,3,2&precrop=50p,50p,offset-x0,offset-y100&profile=high&" +
		"quality=80,70&resize-filter=lanczos3&saturation=-0.5&sharpen=a1,r0.5,t3&trim=10p,5,10p,5&" +
		"trim-color=auto,t0.25&viewbox=1&width=50p"
)

// paramInvalidCase is a query with exactly one bad parameter.
type paramInvalidCase struct {
	query string
	param string
}

var paramInvalidCases = []paramInvalidCase{
	// Numbers (reliability classes 21/23/24, D8).
	{"width=0", "width"},
	{"width=-1", "width"},
	{"width=1e9", "width"},
	{"width=1E3", "width"},
	{"width=99999999999999999999", "width"},
	{"width=" + strings.Repeat("9", 400), "width"},
	{"width=NaN", "width"},
	{"width=nan", "width"},
	{"width=Inf", "width"},
	{"width=inf", "width"},
	{"width=Infinity", "width"},
	{"width=1e-9", "width"},
	{"width=10abc", "width"},
	{"width=abc", "width"},
	{"width=0x64", "width"},
	{"width=+100", "width"},
	{"width=%2B100", "width"},
	{"width=%20100", "width"},
	{"width=100%20", "width"},
	{"width=100%00", "width"},
	{"width=%EF%BC%93%EF%BC%90%EF%BC%90", "width"}, // fullwidth ３００
	{"width=３００", "width"},
	{"width=٣٠٠", "width"}, // Arabic-Indic digits
	{"width=1_000", "width"},
	{"width=1,000", "width"},
	{"width=", "width"},
	{"width", "width"},
	{"width=8193", "width"},
	{"width=8192.5", "width"},
	{"width=0p", "width"},
	{"width=0.0", "width"},
	{"width=.0", "width"},
	{"width=0.000p", "width"},
	{"width=1001p", "width"},
	{"width=-50p", "width"},
	{"width=50P", "width"},
	{"width=50pp", "width"},
	{"width=p", "width"},
	{"width=50%25", "width"},
	{"width=1.", "width"},
	{"width=.", "width"},
	{"width=1..2", "width"},
	{"width=1.2.3", "width"},
	{"width=0." + strings.Repeat("0", 400) + "1", "width"},
	{"width=%zz", "width"},
	{"width=%4", "width"},
	{"height=0", "height"},
	{"height=abc", "height"},
	{"height=-0.5", "height"},

	{"dpr=0", "dpr"},
	{"dpr=0.5", "dpr"},
	{"dpr=0.99", "dpr"},
	{"dpr=11", "dpr"},
	{"dpr=10.5", "dpr"},
	{"dpr=-2", "dpr"},
	{"dpr=2x", "dpr"},
	{"dpr=", "dpr"},

	{"blur=0", "blur"},
	{"blur=0.4", "blur"},
	{"blur=1e6", "blur"},
	{"blur=1001", "blur"},
	{"blur=0p", "blur"},
	{"blur=101p", "blur"},
	{"blur=-5", "blur"},
	{"blur=5px", "blur"},

	{"brightness=101", "brightness"},
	{"brightness=-101", "brightness"},
	{"brightness=-100.5", "brightness"},
	{"brightness=+5", "brightness"},
	{"brightness=--5", "brightness"},
	{"brightness=-", "brightness"},
	{"brightness=5-", "brightness"},
	{"brightness=1e2", "brightness"},
	{"contrast=abc", "contrast"},
	{"contrast=200", "contrast"},
	{"saturation=-1000", "saturation"},
	{"saturation=NaN", "saturation"},

	{"bw=threshold,101", "bw"},
	{"bw=threshold,-1", "bw"},
	{"bw=threshold,", "bw"},
	{"bw=threshold,50,1", "bw"},
	{"bw=atkinson,50", "bw"},
	{"bw=Threshold", "bw"},
	{"bw=dither", "bw"},
	{"bw=threshold,+5", "bw"},

	{"auto=jpeg", "auto"},
	{"auto=WEBP", "auto"},
	{"auto=webp,avif", "auto"},
	{"fit=stretch", "fit"},
	{"fit=Bounds", "fit"},
	{"format=tiff", "format"},
	{"format=JPG", "format"},
	{"format=png24", "format"},
	{"format=jpg%20", "format"},
	{"frame=2", "frame"},
	{"frame=0", "frame"},
	{"frame=01", "frame"},
	{"frame=1.0", "frame"},
	{"viewbox=0", "viewbox"},
	{"viewbox=true", "viewbox"},
	{"level=3", "level"},
	{"level=7.0", "level"},
	{"level=3.00", "level"},
	{"metadata=exif", "metadata"},
	{"metadata=copyright,copyright", "metadata"},
	{"metadata=copyright,c2pa,copyright", "metadata"},
	{"metadata=copyright,", "metadata"},
	{"metadata=,c2pa", "metadata"},
	{"optimize=max", "optimize"},
	{"orient=9", "orient"},
	{"orient=0", "orient"},
	{"orient=R", "orient"},
	{"orient=rl", "orient"},
	{"orient=hh", "orient"},
	{"profile=extended", "profile"},
	{"resize-filter=lanczos4", "resize-filter"},
	{"resize-filter=Nearest", "resize-filter"},
	{"enable=downscale", "enable"},
	{"enable=", "enable"},
	{"disable=true", "disable"},

	{"quality=0", "quality"},
	{"quality=101", "quality"},
	{"quality=85.5", "quality"},
	{"quality=85,0", "quality"},
	{"quality=85,101", "quality"},
	{"quality=85,75,60", "quality"},
	{"quality=85,", "quality"},
	{"quality=,75", "quality"},
	{"quality=-5", "quality"},
	{"quality=+5", "quality"},
	{"quality=99999999999999999999", "quality"},

	{"sharpen=a5", "sharpen"},
	{"sharpen=a5,r2", "sharpen"},
	{"sharpen=r2,a5,t1", "sharpen"},
	{"sharpen=a11,r2,t1", "sharpen"},
	{"sharpen=a5,r0.4,t1", "sharpen"},
	{"sharpen=a5,r1001,t1", "sharpen"},
	{"sharpen=a5,r2,t256", "sharpen"},
	{"sharpen=a5,r2,t1.5", "sharpen"},
	{"sharpen=a5,r2,t1,x", "sharpen"},
	{"sharpen=a5,r2,t", "sharpen"},
	{"sharpen=5,2,1", "sharpen"},
	{"sharpen=a-1,r2,t1", "sharpen"},

	{"bg-color=ggg", "bg-color"},
	{"bg-color=#fff", "bg-color"},
	{"bg-color=%23fff", "bg-color"},
	{"bg-color=ffff", "bg-color"},
	{"bg-color=fffffff", "bg-color"},
	{"bg-color=ff", "bg-color"},
	{"bg-color=red", "bg-color"},
	{"bg-color=256,0,0", "bg-color"},
	{"bg-color=0,0", "bg-color"},
	{"bg-color=0,0,0,1.5", "bg-color"},
	{"bg-color=0,0,0,0,0", "bg-color"},
	{"bg-color=0,0,-1", "bg-color"},
	{"bg-color=0,0,0.5", "bg-color"},
	{"bg-color=ff,00,00", "bg-color"},
	{"bg-color=0,0,0,", "bg-color"},
	{"bg-color=ffffff,t0.5", "bg-color"},
	{"bg-color=auto", "bg-color"},
	{"bg-color=", "bg-color"},

	{"trim-color=auto,t2", "trim-color"},
	{"trim-color=auto,t", "trim-color"},
	{"trim-color=auto,t-0.1", "trim-color"},
	{"trim-color=t0.5", "trim-color"},
	{"trim-color=fff,t0.5,t0.5", "trim-color"},
	{"trim-color=fff,0.5", "trim-color"},
	{"trim-color=Auto", "trim-color"},
	{"trim-color=300,0,0", "trim-color"},

	{"pad=-10", "pad"},
	{"pad=1,2,3,4,5", "pad"},
	{"pad=10,", "pad"},
	{"pad=,10", "pad"},
	{"pad=10px", "pad"},
	{"pad=100001", "pad"},
	{"pad=1001p", "pad"},
	{"pad=a", "pad"},
	{"trim=-1", "trim"},
	{"trim=1,2,3,4,5", "trim"},

	{"crop=0:0", "crop"},
	{"crop=1:0", "crop"},
	{"crop=0:1", "crop"},
	{"crop=4:", "crop"},
	{"crop=:3", "crop"},
	{"crop=4:3:2", "crop"},
	{"crop=-4:3", "crop"},
	{"crop=4p:3", "crop"},
	{"crop=1e3:1", "crop"},
	{"crop=400", "crop"},
	{"crop=0,100", "crop"},
	{"crop=100,0", "crop"},
	{"crop=100,-5", "crop"},
	{"crop=", "crop"},
	{"crop=4:3,offset-x101", "crop"},
	{"crop=4:3,offset-y150", "crop"},
	{"crop=4:3,x10,offset-x20", "crop"},
	{"crop=4:3,offset-x20,x10", "crop"},
	{"crop=4:3,x10,x20", "crop"},
	{"crop=4:3,offset-y10,y5", "crop"},
	{"crop=4:3,offset-x50,offset-x50", "crop"},
	{"crop=4:3,smart,smart", "crop"},
	{"crop=4:3,safe,safe", "crop"},
	{"crop=4:3,foo", "crop"},
	{"crop=4:3,", "crop"},
	{"crop=4:3,,smart", "crop"},
	{"crop=smart,4:3", "crop"},
	{"crop=x10,4:3", "crop"},
	{"crop=4:3,xabc", "crop"},
	{"crop=4:3,x-5", "crop"},
	{"crop=4:3,x", "crop"},
	{"crop=4:3,offset-x", "crop"},
	{"crop=4:3,offset-x-5", "crop"},
	{"crop=4:3,Smart", "crop"},
	{"crop=4:3,offset-z5", "crop"},
	{"crop=4:3,x1001p", "crop"},
	{"precrop=0:0", "precrop"},
	{"precrop=4:3,x10,offset-x20", "precrop"},
	{"canvas=600,400,smart", "canvas"},
	{"canvas=600,400,safe", "canvas"},
	{"canvas=600,400,x10,offset-x20", "canvas"},
	{"canvas=0,400", "canvas"},
	{"canvas=16:0", "canvas"},
	{"canvas=600,400,offset-y101", "canvas"},

	// Duplicates (D6) and contradictions (D23).
	{"width=1&width=2", "width"},
	{"width=1&width=1", "width"},
	{"width=1&wi%64th=1", "width"},
	{"crop=4:3&crop=4:3", "crop"},
	{"enable=upscale&enable=upscale", "enable"},
	{"enable=upscale&disable=upscale", "enable"},
	{"disable=upscale&enable=upscale", "enable"},
	{"height=300&enable=upscale&width=200&disable=upscale", "enable"},
}

func TestParseParamsValid(t *testing.T) {
	t.Parallel()
	for _, tc := range paramValidCases {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			got, err := ParseParams(tc.query)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.True(t, tc.want == got, "Params must compare equal with ==")
		})
	}
}

func TestParseParamsFull(t *testing.T) {
	t.Parallel()
	p, err := ParseParams(paramsFullQuery)
	require.NoError(t, err)
	want := Params{
		Auto:       AutoAVIF,
		BgColor:    colorRGBA(0, 0, 255, 0.75),
		Blur:       Pct(3),
		Brightness: -10,
		BW:         BW{Mode: BWThreshold, Luminance: 60},
		Canvas: Canvas{
			Size:     sizeAbs(Px(1200), Px(900)),
			Position: Position{X: axisAt(Pct(5)), Y: axisOffset(10)},
		},
		Contrast: 20.5,
		Crop: Region{
			Size:     sizeRatio(16, 9),
			Position: Position{X: axisAt(Px(10)), Y: axisAt(Pct(25))},
			Smart:    true,
			Safe:     true,
		},
		DPR:    1.5,
		Fit:    FitCover,
		Format: FormatJPG,
		Frame:  1,
		Height: Px(300),
		Level:  "4.1",
		Metadata: Metadata{
			Copyright: true,
			C2PA:      true,
		},
		Optimize: OptimizeMedium,
		Orient:   7,
		Pad:      sidesOf(Px(1), Px(2), Px(3), Px(2)),
		Precrop: Region{
			Size:     sizeAbs(Pct(50), Pct(50)),
			Position: Position{X: axisOffset(0), Y: axisOffset(100)},
		},
		Profile:      ProfileHigh,
		Quality:      80,
		WebPQuality:  70,
		ResizeFilter: FilterLanczos3,
		Saturation:   -0.5,
		Sharpen:      Sharpen{Amount: 1, Radius: 0.5, Threshold: 3},
		Trim:         sidesOf(Pct(10), Px(5), Pct(10), Px(5)),
		TrimColor:    TrimColor{Auto: true, Threshold: 0.25},
		Upscale:      UpscaleEnable,
		Viewbox:      1,
		Width:        Pct(50),
	}
	assert.Equal(t, want, p)
	assert.Equal(t, paramsFullEncoded, p.Encode())
}

// paramErrors flattens an error returned by ParseParams into its
// *ParamErrors, failing the test on anything else.
func paramErrors(t *testing.T, err error) []*ParamError {
	t.Helper()
	var out []*ParamError
	var walk func(error)
	walk = func(e error) {
		if u, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
			return
		}
		var pe *ParamError
		require.ErrorAs(t, e, &pe)
		out = append(out, pe)
	}
	if err != nil {
		walk(err)
	}
	return out
}

func TestParseParamsInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range paramInvalidCases {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(tc.query)
			require.Error(t, err)
			assert.Equal(t, Params{}, p, "strict mode returns the zero Params on error")
			assert.ErrorIs(t, err, ErrInvalidParam)
			assert.NotErrorIs(t, err, ErrUnsupportedParam)
			assert.Equal(t, 400, StatusCode(err))

			var pe *ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.param, pe.Param)
			assert.NotEmpty(t, pe.Reason)
			assert.Equal(t, strings.ToLower(pe.Reason[:1]), pe.Reason[:1], "reason starts in lower case")
			assert.True(t, strings.HasPrefix(pe.Error(), tc.param+"="), "message %q names the parameter", pe.Error())

			errs := paramErrors(t, err)
			assert.Len(t, errs, 1, "one bad parameter gives one error: %v", err)
		})
	}
}

func TestParseParamsErrorDetails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query  string
		param  string
		value  string
		reason string // substring
	}{
		{"width=0", "width", "0", "between 1 and 8192"},
		{"width=%2B100", "width", "+100", "whole number of pixels"},
		{"width=+100", "width", " 100", "whole number of pixels"},
		{"width=%zz", "width", "%zz", "percent-encoded"},
		{"width=", "width", "", "empty"},
		{"width=1&width=2", "width", "2", "more than once"},
		{"quality=101", "quality", "101", "between 1 and 100"},
		{"crop=4:3,x10,offset-x20", "crop", "4:3,x10,offset-x20", "at most one x or offset-x"},
		{"crop=4:3,offset-y101", "crop", "4:3,offset-y101", "between 0 and 100"},
		{"crop=4:3,foo", "crop", "4:3,foo", "only x, y, offset-x, offset-y, smart and safe"},
		{"crop=4:3,smart,smart", "crop", "4:3,smart,smart", "only once"},
		{"crop=0:0", "crop", "0:0", "ratio"},
		{"canvas=600,400,smart", "canvas", "600,400,smart", "only x, y, offset-x and offset-y"},
		{"enable=upscale&disable=upscale", "enable", "upscale", "cannot be combined with disable=upscale"},
		{"disable=upscale&enable=upscale", "enable", "upscale", "cannot be combined with disable=upscale"},
		{"sharpen=a5", "sharpen", "a5", "radius"},
		{"pad=1,2,3,4,5", "pad", "1,2,3,4,5", "1 to 4"},
		{"blur=1e6", "blur", "1e6", "between 0.5 and 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			_, err := ParseParams(tc.query)
			errs := paramErrors(t, err)
			require.Len(t, errs, 1)
			assert.Equal(t, tc.param, errs[0].Param)
			assert.Equal(t, tc.value, errs[0].Value)
			assert.Contains(t, errs[0].Reason, tc.reason)
			assert.False(t, errs[0].Unsupported)
		})
	}
}

func TestParseParamsAllErrorsInQueryOrder(t *testing.T) {
	t.Parallel()
	_, err := ParseParams("width=0&height=300&fit=stretch&foo=bar&Width=x&quality=101")
	errs := paramErrors(t, err)
	require.Len(t, errs, 3)
	assert.Equal(t, "width", errs[0].Param)
	assert.Equal(t, "fit", errs[1].Param)
	assert.Equal(t, "quality", errs[2].Param)
	for _, e := range errs {
		assert.ErrorIs(t, e, ErrInvalidParam)
	}
	assert.ErrorIs(t, err, ErrInvalidParam)

	// Every occurrence of a duplicate after the first is reported.
	_, err = ParseParams("width=1&crop=9&width=2&width=3")
	errs = paramErrors(t, err)
	require.Len(t, errs, 3)
	assert.Equal(t, []string{"crop", "width", "width"}, []string{errs[0].Param, errs[1].Param, errs[2].Param})
	assert.Equal(t, []string{"9", "2", "3"}, []string{errs[0].Value, errs[1].Value, errs[2].Value})
}

func TestParseParamsLenient(t *testing.T) {
	t.Parallel()
	type warning struct{ param, value string }
	tests := []struct {
		query    string
		want     Params
		warnings []warning
	}{
		{"width=400&fit=crop", Params{Width: Px(400), Fit: FitCrop}, nil},
		{"", Params{}, nil},
		{
			"width=0&height=300&fit=stretch",
			Params{Height: Px(300)},
			[]warning{{"width", "0"}, {"fit", "stretch"}},
		},
		{"width=100&width=200", Params{Width: Px(200)}, []warning{{"width", "100"}}},
		{"width=100&width=abc", Params{Width: Px(100)}, []warning{{"width", "abc"}}},
		{"width=abc&width=100", Params{Width: Px(100)}, []warning{{"width", "abc"}}},
		{"width=1&width=2&width=3", Params{Width: Px(3)}, []warning{{"width", "1"}, {"width", "2"}}},
		{"enable=upscale&disable=upscale", Params{Upscale: UpscaleDisable}, []warning{{"enable", "upscale"}}},
		{"disable=upscale&enable=upscale", Params{Upscale: UpscaleEnable}, []warning{{"disable", "upscale"}}},
		{
			"enable=upscale&disable=upscale&enable=upscale",
			Params{Upscale: UpscaleEnable},
			[]warning{{"enable", "upscale"}, {"disable", "upscale"}},
		},
		{"disable=upscale&enable=nope", Params{Upscale: UpscaleDisable}, []warning{{"enable", "nope"}}},
		{
			"crop=4:3,x10,offset-x20&quality=85&bg-color=%zz",
			Params{Quality: 85},
			[]warning{{"crop", "4:3,x10,offset-x20"}, {"bg-color", "%zz"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParamsLenient(tc.query)
			assert.Equal(t, tc.want, p)
			errs := paramErrors(t, err)
			got := make([]warning, len(errs))
			for i, e := range errs {
				got[i] = warning{e.Param, e.Value}
				assert.ErrorIs(t, e, ErrInvalidParam)
			}
			if len(tc.warnings) == 0 {
				assert.NoError(t, err)
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tc.warnings, got)
			}
			// The lenient result is always a valid, canonical Params.
			back, err := ParseParams(p.Encode())
			require.NoError(t, err)
			assert.Equal(t, p, back)
		})
	}
}

func TestParseParamsLenientAgreesWithStrict(t *testing.T) {
	t.Parallel()
	for _, tc := range paramValidCases {
		p, err := ParseParamsLenient(tc.query)
		require.NoError(t, err, tc.query)
		assert.Equal(t, tc.want, p, tc.query)
	}
	for _, tc := range paramInvalidCases {
		_, err := ParseParamsLenient(tc.query)
		require.Error(t, err, tc.query)
	}
}

func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range paramValidCases {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.enc, tc.want.Encode())
		})
	}
}

func TestEncodeHandBuilt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Params
		want string
	}{
		{Params{}, ""},
		{Params{Width: Px(1e6)}, "width=1000000"},                          // never an exponent
		{Params{Blur: Px(0.000001)}, "blur=0.000001"},                      // never an exponent
		{Params{Width: Pct(1.0 / 3)}, "width=0.3333333333333333p"},         // shortest exact form
		{Params{Format: "a&b=c"}, "format=a%26b%3Dc"},                      // cannot break the query
		{Params{Quality: 50, WebPQuality: 40}, "quality=50,40"},            // both values
		{Params{BgColor: colorRGBA(1, 2, 3, 0.25)}, "bg-color=1,2,3,0.25"}, // alpha when not opaque
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.p.Encode())
	}
}

// checkParamsRoundTrip asserts that p survives Encode and ParseParams unchanged
// and that Encode is stable.
func checkParamsRoundTrip(t testing.TB, p Params) {
	t.Helper()
	enc := p.Encode()
	back, err := ParseParams(enc)
	if err != nil {
		t.Fatalf("ParseParams(%q) of an encoded Params failed: %v", enc, err)
	}
	if back != p {
		t.Fatalf("round trip through %q changed the Params:\n got %+v\nwant %+v", enc, back, p)
	}
	if again := back.Encode(); again != enc {
		t.Fatalf("Encode is not stable: %q then %q", enc, again)
	}
}

func TestParamsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range paramValidCases {
		p, err := ParseParams(tc.query)
		require.NoError(t, err, tc.query)
		checkParamsRoundTrip(t, p)
	}
	p, err := ParseParams(paramsFullQuery)
	require.NoError(t, err)
	checkParamsRoundTrip(t, p)
}

func TestParseParamsCanonical(t *testing.T) {
	t.Parallel()
	// Each group holds queries that mean the same thing.
	groups := [][]string{
		{"width=0.5", "width=50p", "width=.5", "width=0.50", "width=50.0p", "width=0.5&Width=3"},
		{"width=2", "width=1.5", "width=2.4999", "width=002"},
		{"bg-color=fff", "bg-color=FFF", "bg-color=ffffff", "bg-color=FfFfFf", "bg-color=255,255,255", "bg-color=255,255,255,1"},
		{"orient=r", "orient=6"},
		{"orient=vh", "orient=hv", "orient=3"},
		{"format=jpeg", "format=jpg"},
		{"resize-filter=lanczos", "resize-filter=lanczos3"},
		{"", "dpr=1", "orient=1", "brightness=0", "contrast=-0", "saturation=0.0"},
		{"crop=4:3", "crop=4:3,offset-x50", "crop=4:3,offset-y50,offset-x50", "crop=4.0:3.00"},
		{"crop=4:3,x10,y20,smart,safe", "crop=4:3,safe,smart,y20,x10", "crop=4:3,y20,safe,x10,smart"},
		{"bw=threshold", "bw=threshold,49", "bw=threshold,49.0"},
		{"trim-color=fff", "trim-color=fff,t0", "trim-color=255,255,255,1,t0.0"},
		{"pad=10", "pad=10,10", "pad=10,10,10", "pad=10,10,10,10", "pad=10.4,9.5"},
		{"pad=0", "pad=0p", "pad=0.0,0p"},
		{"metadata=copyright,c2pa", "metadata=c2pa,copyright"},
		{"quality=85", "quality=085"},
		{
			"width=400&height=300&fit=crop&format=auto&quality=80",
			"quality=80&format=auto&fit=crop&height=300&width=400",
			"fit=crop&width=400&quality=80&height=300&format=auto",
		},
	}
	for _, g := range groups {
		first, err := ParseParams(g[0])
		require.NoError(t, err, g[0])
		for _, q := range g[1:] {
			p, err := ParseParams(q)
			require.NoError(t, err, q)
			assert.True(t, first == p, "%q and %q must give equal Params: %+v vs %+v", g[0], q, first, p)
			assert.Equal(t, first.Encode(), p.Encode())
		}
	}
}

func TestParamsComparable(t *testing.T) {
	t.Parallel()
	a, err := ParseParams("width=0.5&crop=4:3&bg-color=fff")
	require.NoError(t, err)
	b, err := ParseParams("bg-color=255,255,255&crop=4:3&width=50p")
	require.NoError(t, err)
	m := map[Params]int{a: 1}
	assert.Equal(t, 1, m[b])
}

func BenchmarkParseParams(b *testing.B) {
	const q = "width=400&height=300&fit=crop&crop=4%3A3%2Coffset-x30%2Csmart&format=auto&" +
		"quality=85,75&bg-color=fff&dpr=2&sharpen=a2,r1,t0&foo=bar"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseParams(q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	p, err := ParseParams("width=400&height=300&fit=crop&crop=4%3A3%2Coffset-x30%2Csmart&format=auto&" +
		"quality=85,75&bg-color=fff&dpr=2&sharpen=a2,r1,t0")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Encode()
	}
}

// TestParamTableWellFormed checks every entry of paramTable: a name that
// needs no escaping, in alphabetical order (the canonical order of Encode,
// part of cache keys and signatures), found again by paramIndex and IsParam;
// a description, a usage text and an example; and all three functions.
func TestParamTableWellFormed(t *testing.T) {
	t.Parallel()
	require.Len(t, paramTable, numParams)
	names := make(map[string]bool, numParams)
	for i, e := range paramTable {
		require.NotEmpty(t, e.name, "entry %d has no name", i)
		assert.False(t, names[e.name], "%s is in the table twice", e.name)
		names[e.name] = true
		if i > 0 {
			assert.Less(t, paramTable[i-1].name, e.name, "the table must be sorted by name")
		}
		assert.Equal(t, strings.ToLower(e.name), e.name, "names are lower case")
		assert.Equal(t, url.QueryEscape(e.name), e.name, "%s must need no escaping", e.name)
		assert.Equal(t, i, paramIndex(e.name), e.name)
		assert.True(t, IsParam(e.name), e.name)
		assert.False(t, IsParam(strings.ToUpper(e.name)), "names are case-sensitive")

		assert.NotEmpty(t, e.about, "%s has no description", e.name)
		assert.NotEmpty(t, e.usage, "%s has no usage text", e.name)
		assert.NotEqual(t, reasonUsage, e.usage, e.name)
		assert.Equal(t, strings.ToLower(e.usage[:1]), e.usage[:1], "%s: a usage text is a reason and starts in lower case", e.name)
		assert.NotEmpty(t, e.example, "%s has no example", e.name)
		assert.NotNil(t, e.parse, "%s has no parser", e.name)
		assert.NotNil(t, e.isSet, "%s has no isSet", e.name)
		assert.NotNil(t, e.encode, "%s has no encoder", e.name)
	}
	assert.Equal(t, -1, paramIndex("nope"))
	assert.Equal(t, -1, paramIndex(""))
}

// TestParamTableExamples parses each entry's example alone: it must be
// accepted, set exactly this parameter, and encode under the entry's name.
func TestParamTableExamples(t *testing.T) {
	t.Parallel()
	for i, e := range paramTable {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(e.name + "=" + url.QueryEscape(e.example))
			require.NoError(t, err)
			for j, other := range paramTable {
				assert.Equal(t, i == j, other.isSet(&p), "isSet of %s after %s=%s", other.name, e.name, e.example)
			}
			enc := p.Encode()
			assert.True(t, strings.HasPrefix(enc, e.name+"="), "%q", enc)
			assert.NotContains(t, enc, "&")
			checkParamsRoundTrip(t, p)

			// A bad value is refused with the entry's usage text (or a more
			// precise reason) and leaves nothing set.
			_, err = ParseParams(e.name + "=%00")
			errs := paramErrors(t, err)
			require.Len(t, errs, 1)
			assert.Equal(t, e.name, errs[0].Param)
			assert.NotEqual(t, reasonUsage, errs[0].Reason)
			lp, _ := ParseParamsLenient(e.name + "=%00")
			assert.Equal(t, Params{}, lp)
			_, err = ParseParams(e.name + "=")
			errs = paramErrors(t, err)
			require.Len(t, errs, 1)
			assert.Equal(t, "empty value; "+e.usage, errs[0].Reason)
		})
	}
}

// TestParamTableDuplicates proves that a repeat is detected for every
// parameter of the table, whatever its index: name=v&name=v is an error in
// strict mode and an override warning in lenient mode.
func TestParamTableDuplicates(t *testing.T) {
	t.Parallel()
	for _, e := range paramTable {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			one := e.name + "=" + url.QueryEscape(e.example)
			want, err := ParseParams(one)
			require.NoError(t, err)

			p, err := ParseParams(one + "&" + one)
			assert.Equal(t, Params{}, p)
			errs := paramErrors(t, err)
			require.Len(t, errs, 1, "%v", err)
			assert.Equal(t, e.name, errs[0].Param)
			assert.Equal(t, e.example, errs[0].Value)
			assert.Equal(t, reasonDuplicate, errs[0].Reason)

			lp, lerr := ParseParamsLenient(one + "&" + one)
			assert.Equal(t, want, lp)
			errs = paramErrors(t, lerr)
			require.Len(t, errs, 1, "%v", lerr)
			assert.Equal(t, e.name, errs[0].Param)
			assert.Equal(t, reasonOverride, errs[0].Reason)
		})
	}

	// All parameters at once, then all again: every one of the second round
	// is a duplicate, and the first round holds only the contradiction of
	// disable and enable (which come in that order in the table).
	var all []string
	for _, e := range paramTable {
		all = append(all, e.name+"="+url.QueryEscape(e.example))
	}
	q := strings.Join(all, "&")
	_, err := ParseParams(q + "&" + q)
	errs := paramErrors(t, err)
	require.Len(t, errs, 1+numParams)
	assert.Equal(t, "enable", errs[0].Param)
	assert.Equal(t, reasonUpscale, errs[0].Reason)
	for i, e := range paramTable {
		assert.Equal(t, e.name, errs[1+i].Param)
		assert.Equal(t, reasonDuplicate, errs[1+i].Reason)
	}
}

// TestParamTableEncodeOrder sets every parameter but disable (which shares
// its field with enable) and checks that Encode writes them in table order.
func TestParamTableEncodeOrder(t *testing.T) {
	t.Parallel()
	var all, want []string
	for _, e := range paramTable {
		if e.name == "disable" {
			continue
		}
		all = append(all, e.name+"="+url.QueryEscape(e.example))
		want = append(want, e.name)
	}
	// Reverse the query: the order given must not matter.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	p, err := ParseParams(strings.Join(all, "&"))
	require.NoError(t, err)
	var got []string
	for piece := range strings.SplitSeq(p.Encode(), "&") {
		name, _, _ := strings.Cut(piece, "=")
		got = append(got, name)
	}
	assert.Equal(t, want, got)
	checkParamsRoundTrip(t, p)
}

// TestParamsDocumented checks the parameter table of the package comment in
// imageopto.go against paramTable: every parameter is documented, and every
// documented parameter exists.
func TestParamsDocumented(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("imageopto.go")
	require.NoError(t, err)
	comment, _, ok := strings.Cut(string(src), "\npackage imageopto")
	require.True(t, ok, "imageopto.go has no package clause")

	// The table starts after its header row and ends at the first line that
	// is not an indented comment line; continuation rows start with spaces.
	var documented []string
	inTable := false
	for line := range strings.SplitSeq(comment, "\n") {
		row, indented := strings.CutPrefix(line, "//\t")
		switch {
		case !inTable:
			inTable = indented && strings.Fields(row)[0] == "parameter"
		case !indented:
			inTable = false
		case !strings.HasPrefix(row, " "):
			documented = append(documented, strings.Fields(row)[0])
		}
	}
	require.NotEmpty(t, documented, "no parameter table found in the package comment of imageopto.go")

	var names []string
	for _, e := range paramTable {
		names = append(names, e.name)
	}
	assert.ElementsMatch(t, names, documented, "parameters in paramTable vs the table in imageopto.go")
}

// TestAppendNum checks that the whole-number shortcut of appendNum writes
// exactly what strconv.AppendFloat(b, f, 'f', -1, 64) writes.
func TestAppendNum(t *testing.T) {
	t.Parallel()
	values := []float64{
		0, math.Copysign(0, -1), 1, -1, 2, 49, 100, -100, 400, 8192, 100000, 1e15, -1e15,
		1<<53 - 1, -(1<<53 - 1), 1 << 53, -(1 << 53), 1<<53 + 2, 1e16, 1e20, 1e300, -1e300,
		0.5, -0.5, 1.5, 2.75, 0.1, 1.0 / 3, 12.3, 33.333, 8192.4999999999999999, 1e-9,
		math.SmallestNonzeroFloat64, math.MaxFloat64, -math.MaxFloat64,
		math.Inf(1), math.Inf(-1), math.NaN(), math.Nextafter(1, 2), math.Nextafter(1<<53, 0),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values,
			float64(r.Int64N(1<<54)-1<<53),      // whole numbers around ±2⁵³
			float64(r.IntN(200001)-100000)/1000, // three decimals
			math.Float64frombits(r.Uint64()),    // anything
		)
	}
	for _, f := range values {
		want := string(strconv.AppendFloat([]byte("x="), f, 'f', -1, 64))
		if got := string(appendNum([]byte("x="), f)); got != want {
			t.Fatalf("appendNum(%v) = %q, want %q", f, got, want)
		}
	}
}
