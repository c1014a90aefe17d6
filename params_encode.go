package imageopto

import (
	"net/url"
	"strconv"
)

// Encode returns the canonical query string of p (without a leading '?'):
// only the parameters that are set, with keys in alphabetical order, numbers
// in plain decimal notation without exponents, percentages as Np, colours as
// r,g,b or r,g,b,a, sides as four values (top,right,bottom,left), and
// crop, precrop and canvas as size, x position, y position, smart, safe.
//
// For Params returned by ParseParams or ParseParamsLenient,
// ParseParams(p.Encode()) returns p again, and two equal Params always give
// the same string, so Encode is suitable for cache keys.
func (p Params) Encode() string {
	b := make([]byte, 0, 128)
	if p.Auto != "" {
		b = appendWord(appendKey(b, paramAuto), string(p.Auto))
	}
	if p.BgColor.Set {
		b = appendColor(appendKey(b, paramBgColor), p.BgColor)
	}
	if p.Blur.IsSet() {
		b = appendLength(appendKey(b, paramBlur), p.Blur)
	}
	if p.Brightness != 0 {
		b = appendNum(appendKey(b, paramBrightness), p.Brightness)
	}
	if p.BW.Mode != "" {
		b = appendWord(appendKey(b, paramBW), string(p.BW.Mode))
		if p.BW.Mode == BWThreshold && p.BW.Luminance != DefaultBWLuminance {
			b = appendNum(append(b, ','), p.BW.Luminance)
		}
	}
	if p.Canvas.IsSet() {
		b = appendRegion(appendKey(b, paramCanvas), Region{Size: p.Canvas.Size, Position: p.Canvas.Position})
	}
	if p.Contrast != 0 {
		b = appendNum(appendKey(b, paramContrast), p.Contrast)
	}
	if p.Crop.IsSet() {
		b = appendRegion(appendKey(b, paramCrop), p.Crop)
	}
	if p.Upscale == UpscaleDisable {
		b = append(appendKey(b, paramDisable), "upscale"...)
	}
	if p.DPR != 0 {
		b = appendNum(appendKey(b, paramDPR), p.DPR)
	}
	if p.Upscale == UpscaleEnable {
		b = append(appendKey(b, paramEnable), "upscale"...)
	}
	if p.Fit != "" {
		b = appendWord(appendKey(b, paramFit), string(p.Fit))
	}
	if p.Format != "" {
		b = appendWord(appendKey(b, paramFormat), string(p.Format))
	}
	if p.Frame != 0 {
		b = strconv.AppendInt(appendKey(b, paramFrame), int64(p.Frame), 10)
	}
	if p.Height.IsSet() {
		b = appendLength(appendKey(b, paramHeight), p.Height)
	}
	if p.Level != "" {
		b = appendWord(appendKey(b, paramLevel), string(p.Level))
	}
	if p.Metadata.Copyright || p.Metadata.C2PA {
		b = appendKey(b, paramMetadata)
		switch {
		case p.Metadata.Copyright && p.Metadata.C2PA:
			b = append(b, "copyright,c2pa"...)
		case p.Metadata.Copyright:
			b = append(b, "copyright"...)
		default:
			b = append(b, "c2pa"...)
		}
	}
	if p.Optimize != "" {
		b = appendWord(appendKey(b, paramOptimize), string(p.Optimize))
	}
	if p.Orient != 0 {
		b = strconv.AppendUint(appendKey(b, paramOrient), uint64(p.Orient), 10)
	}
	if p.Pad.IsSet() {
		b = appendSides(appendKey(b, paramPad), p.Pad)
	}
	if p.Precrop.IsSet() {
		b = appendRegion(appendKey(b, paramPrecrop), p.Precrop)
	}
	if p.Profile != "" {
		b = appendWord(appendKey(b, paramProfile), string(p.Profile))
	}
	if p.Quality != 0 {
		b = strconv.AppendInt(appendKey(b, paramQuality), int64(p.Quality), 10)
		if p.WebPQuality != 0 {
			b = strconv.AppendInt(append(b, ','), int64(p.WebPQuality), 10)
		}
	}
	if p.ResizeFilter != "" {
		b = appendWord(appendKey(b, paramResizeFilter), string(p.ResizeFilter))
	}
	if p.Saturation != 0 {
		b = appendNum(appendKey(b, paramSaturation), p.Saturation)
	}
	if p.Sharpen.IsSet() {
		b = append(appendKey(b, paramSharpen), 'a')
		b = append(appendNum(b, p.Sharpen.Amount), ",r"...)
		b = append(appendNum(b, p.Sharpen.Radius), ",t"...)
		b = strconv.AppendInt(b, int64(p.Sharpen.Threshold), 10)
	}
	if p.Trim.IsSet() {
		b = appendSides(appendKey(b, paramTrim), p.Trim)
	}
	if p.TrimColor.IsSet() {
		b = appendKey(b, paramTrimColor)
		if p.TrimColor.Auto {
			b = append(b, "auto"...)
		} else {
			b = appendColor(b, p.TrimColor.Color)
		}
		if p.TrimColor.Threshold != 0 {
			b = appendNum(append(b, ",t"...), p.TrimColor.Threshold)
		}
	}
	if p.Viewbox != 0 {
		b = strconv.AppendInt(appendKey(b, paramViewbox), int64(p.Viewbox), 10)
	}
	if p.Width.IsSet() {
		b = appendLength(appendKey(b, paramWidth), p.Width)
	}
	return string(b)
}

// appendKey appends the separator (unless b is empty), the name of
// parameter idx and '='.
func appendKey(b []byte, idx int) []byte {
	if len(b) > 0 {
		b = append(b, '&')
	}
	b = append(b, paramNames[idx]...)
	return append(b, '=')
}

// appendWord appends a keyword value. Keywords produced by parsing need no
// escaping; the escaping only keeps hand-built values from breaking the
// query's structure.
func appendWord(b []byte, s string) []byte {
	return append(b, url.QueryEscape(s)...)
}

// appendNum appends f in plain decimal notation, with the fewest digits that
// parse back to the same float64 and never with an exponent.
func appendNum(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendLength appends a length: N for pixels, Np for percent.
func appendLength(b []byte, l Length) []byte {
	b = appendNum(b, l.Value)
	if l.Unit == UnitPercent {
		b = append(b, 'p')
	}
	return b
}

// appendColor appends r,g,b, followed by ,a when the colour is not opaque.
func appendColor(b []byte, c Color) []byte {
	b = strconv.AppendUint(b, uint64(c.R), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(c.G), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(c.B), 10)
	if c.A != 1 {
		b = appendNum(append(b, ','), c.A)
	}
	return b
}

// appendSides appends the four sides as top,right,bottom,left.
func appendSides(b []byte, s Sides) []byte {
	b = append(appendLength(b, s.Top), ',')
	b = append(appendLength(b, s.Right), ',')
	b = append(appendLength(b, s.Bottom), ',')
	return appendLength(b, s.Left)
}

// appendRegion appends the size, the x and y positions (when not centred),
// then smart and safe.
func appendRegion(b []byte, r Region) []byte {
	switch r.Size.Kind {
	case SizeRatio:
		b = append(appendNum(b, r.Size.RatioW), ':')
		b = appendNum(b, r.Size.RatioH)
	default:
		b = append(appendLength(b, r.Size.Width), ',')
		b = appendLength(b, r.Size.Height)
	}
	b = appendAxis(b, r.Position.X, "x", "offset-x")
	b = appendAxis(b, r.Position.Y, "y", "offset-y")
	if r.Smart {
		b = append(b, ",smart"...)
	}
	if r.Safe {
		b = append(b, ",safe"...)
	}
	return b
}

// appendAxis appends ",<abs>N" or ",<off>N" for a positioned axis and
// nothing for a centred one.
func appendAxis(b []byte, a Axis, abs, off string) []byte {
	switch a.Kind {
	case AxisAbsolute:
		b = append(append(b, ','), abs...)
		b = appendLength(b, a.Pos)
	case AxisOffset:
		b = append(append(b, ','), off...)
		b = appendNum(b, a.Offset)
	}
	return b
}
