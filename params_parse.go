package imageopto

import (
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Ranges that the API documents, and caps that this package chooses where
// the API documents none (they only keep absurd numbers out; the planner
// applies the configured image limits later).
const (
	maxSidePixels   = 8192   // width and height in pixels (documented)
	maxPixels       = 100000 // crop, precrop and canvas sizes, x/y positions, pad and trim (our cap)
	maxPercent      = 1000   // any length given as a percentage (our cap)
	maxRatio        = 100000 // each term of a w:h ratio (our cap)
	minDPR          = 1
	maxDPR          = 10
	minBlurPixels   = 0.5
	maxBlurPixels   = 1000
	maxBlurPercent  = 100
	maxAdjust       = 100 // brightness, contrast and saturation: −100…100
	maxQuality      = 100
	maxSharpenAmt   = 10
	minSharpenRad   = 0.5
	maxSharpenRad   = 1000
	maxSharpenThr   = 255
	maxBWLuminance  = 100
	maxOffset       = 100 // offset-x / offset-y
	centreOffset    = 50  // offset that equals the default, centred position
	maxTrimColorThr = 1
)

// Reasons shared by several parameters.
const (
	reasonPixOrPct = "must be a whole number of pixels between 1 and 8192, " +
		"a fraction between 0 and 1, or a percentage like 50p (at most 1000p)"
	reasonAdjust = "must be a number between -100 and 100"
	reasonColor  = "must be a hex colour of 3 or 6 digits, or r,g,b or r,g,b,a " +
		"with r, g and b whole numbers between 0 and 255 and a between 0 and 1"
	reasonSides = "must be 1 to 4 comma-separated values, each a number of pixels " +
		"between 0 and 100000, a fraction between 0 and 1, or a percentage like 50p (at most 1000p)"
	reasonRegionSize = "must start with a size: width,height (each a whole number of pixels " +
		"between 1 and 100000, a fraction between 0 and 1, or a percentage like 50p, at most 1000p) " +
		"or a ratio like 4:3 (each term a number above 0 and at most 100000)"
	reasonCropToken = "after the size only x, y, offset-x, offset-y, smart and safe are allowed"
	reasonCanvasTok = "after the size only x, y, offset-x and offset-y are allowed"
	reasonPosition  = "x and y positions must be a number of pixels between 0 and 100000, " +
		"a fraction between 0 and 1, or a percentage like 50p (at most 1000p)"
	reasonOffset    = "offset-x and offset-y must be a number between 0 and 100"
	reasonOneX      = "at most one x or offset-x position is allowed"
	reasonOneY      = "at most one y or offset-y position is allowed"
	reasonTwiceMode = "smart and safe may each be given only once"
	reasonDuplicate = "given more than once"
	reasonOverride  = "given more than once; a later value is used"
	reasonEscape    = "is not validly percent-encoded"
	reasonUpscale   = "cannot be combined with disable=upscale"
)

// ParseParams parses a raw URL query string (without the leading '?'), such
// as "width=400&crop=4%3A3,offset-x10&bg-color=FFF", in strict mode.
//
// Parameter names are case-sensitive; unknown names and empty pieces are
// ignored. Keys and values are unescaped with url.QueryUnescape, so '+'
// becomes a space, which no value accepts. Every unparseable or out-of-range
// value, every repeated parameter and the contradiction
// enable=upscale&disable=upscale (reported once, under "enable", where the
// second of the two appears) is a *ParamError wrapping ErrInvalidParam; all
// of them are returned at once, in query order, joined with errors.Join, and
// the Params are then the zero value.
//
// Where the API documents no upper bound this package sets one: percentages
// at most 1000p, and pixel values other than width and height (crop, precrop
// and canvas sizes, x and y positions, pad, trim) at most 100000.
//
// Equivalent queries give equal Params: parameter order does not matter and
// values are stored in a canonical form (fractions as percentages, pixels
// rounded, colours as RGBA, aliases and no-op values normalised), so that
// ParseParams(p.Encode()) returns p again.
//
// Values that are valid in the API but not implemented by this build (such as
// format=mp4) are accepted here; they are refused later, when the request is
// planned.
func ParseParams(query string) (Params, error) {
	p, errs := parseQuery(query, false)
	if len(errs) > 0 {
		return Params{}, errors.Join(errs...)
	}
	return p, nil
}

// ParseParamsLenient parses a query string like ParseParams, but in lenient
// mode: a bad parameter is dropped and the others are kept, and of a repeated
// parameter the last valid value wins. Of enable=upscale and disable=upscale
// the later one wins. The returned Params are always usable; the error, when
// not nil, joins one *ParamError per dropped value and is meant to be
// reported as a warning.
func ParseParamsLenient(query string) (Params, error) {
	p, errs := parseQuery(query, true)
	return p, errors.Join(errs...)
}

// The two parameters that contradict each other.
var (
	paramEnable  = paramIndex("enable")
	paramDisable = paramIndex("disable")
)

// parseQuery parses query into Params and returns the problems found in
// query order. In strict mode a repeated parameter is an error; in lenient
// mode the last valid value wins and each overridden value is reported.
func parseQuery(query string, lenient bool) (Params, []error) {
	scratch := paramScratchPool.Get().(*paramScratch)
	defer paramScratchPool.Put(scratch)
	p := &scratch.p
	*p = Params{}
	var (
		errs  []error
		seen  [numParams]bool   // parameters given so far, valid or not
		valid [numParams]bool   // parameters whose value is currently held in p
		given [numParams]string // lenient mode: the value held in p, for warnings
	)
	for piece := range strings.SplitSeq(query, "&") {
		if piece == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(piece, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			continue // a malformed name cannot be a known one
		}
		idx := paramIndex(key)
		if idx < 0 {
			continue
		}
		if !lenient && seen[idx] {
			errs = append(errs, &ParamError{Param: key, Value: unescapeForError(rawValue), Reason: reasonDuplicate})
			continue
		}
		seen[idx] = true
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			errs = append(errs, &ParamError{Param: key, Value: rawValue, Reason: reasonEscape})
			continue
		}
		if reason := paramTable[idx].set(p, value); reason != "" {
			errs = append(errs, &ParamError{Param: key, Value: value, Reason: reason})
			continue
		}
		if lenient && valid[idx] {
			errs = append(errs, &ParamError{Param: key, Value: given[idx], Reason: reasonOverride})
		}
		valid[idx] = true
		given[idx] = value

		// enable=upscale and disable=upscale contradict each other.
		if idx == paramEnable || idx == paramDisable {
			other := paramEnable + paramDisable - idx
			if !valid[other] {
				continue
			}
			if lenient {
				errs = append(errs, &ParamError{
					Param:  paramTable[other].name,
					Value:  given[other],
					Reason: "overridden by a later " + key + "=upscale",
				})
				valid[other] = false
				continue
			}
			errs = append(errs, &ParamError{Param: paramTable[paramEnable].name, Value: value, Reason: reasonUpscale})
		}
	}
	return *p, errs
}

// set parses the value v of parameter e into p. It returns "" on success and
// the reason otherwise, in which case p is left unchanged.
func (e *paramSpec) set(p *Params, v string) string {
	if v == "" {
		return "empty value; " + e.usage
	}
	switch reason := e.parse(p, v); reason {
	case "":
		return ""
	case reasonUsage:
		return e.usage
	default:
		return reason
	}
}

// unescapeForError returns the unescaped value for an error message, or the
// raw value when it is not validly escaped.
func unescapeForError(raw string) string {
	if v, err := url.QueryUnescape(raw); err == nil {
		return v
	}
	return raw
}

// setAdjust parses a brightness, contrast or saturation value into *dst.
func setAdjust(dst *float64, v string) string {
	neg := false
	if rest, ok := strings.CutPrefix(v, "-"); ok {
		neg, v = true, rest
	}
	f, ok := parseUnsigned(v)
	if !ok || f > maxAdjust {
		return reasonUsage
	}
	if neg {
		f = -f
	}
	if f == 0 {
		f = 0 // turn -0 into 0: no change, not set
	}
	*dst = f
	return ""
}

// splitDecimal checks that s is an unsigned ASCII decimal number,
// digits[.digits] or .digits, and returns its integer and fraction digits.
func splitDecimal(s string) (intPart, fracPart string, ok bool) {
	intPart, fracPart, dot := strings.Cut(s, ".")
	if (dot && fracPart == "") || (!dot && intPart == "") {
		return "", "", false
	}
	return intPart, fracPart, allDigits(intPart) && allDigits(fracPart)
}

// allDigits reports whether s consists of ASCII digits only (true for "").
func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// nonZero reports whether a string of ASCII digits has a digit other than 0.
func nonZero(digits string) bool {
	return strings.TrimLeft(digits, "0") != ""
}

// parseUnsigned parses an unsigned decimal number (see splitDecimal). Numbers
// too large for a float64 are refused.
func parseUnsigned(s string) (float64, bool) {
	if _, _, ok := splitDecimal(s); !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// parseInt parses a whole number of ASCII digits that fits in an int.
func parseInt(s string) (int, bool) {
	if s == "" || !allDigits(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// parseLength parses the "pixels or percentage" grammar: a number ≥ 1 is
// pixels, rounded to a whole number and at most maxPx; a number strictly
// between 0 and 1 is a fraction, stored as a percentage; Np is N percent
// (at most maxPercent). Zero is refused unless zeroOK, and is then stored as
// Px(0) however it was written.
func parseLength(s string, zeroOK bool, maxPx float64) (Length, bool) {
	if num, ok := strings.CutSuffix(s, "p"); ok {
		f, ok := parseUnsigned(num)
		switch {
		case !ok || f > maxPercent:
			return Length{}, false
		case f == 0:
			return Px(0), zeroOK && !nonZero(strings.ReplaceAll(num, ".", ""))
		}
		return Pct(f), true
	}
	intPart, fracPart, ok := splitDecimal(s)
	switch {
	case !ok:
		return Length{}, false
	case nonZero(intPart): // ≥ 1: pixels, rounded half away from zero
		// Round on the text, so that 8192.4999999999999999 (which is
		// 8192.5 as a float64) still rounds down.
		f, err := strconv.ParseFloat(intPart, 64)
		if err != nil || f > maxPx {
			return Length{}, false
		}
		if fracPart != "" && fracPart[0] >= '5' {
			f++
		}
		return Px(f), f <= maxPx
	case nonZero(fracPart): // 0 < n < 1: a fraction, stored as a percentage
		f, ok := fractionToPercent(fracPart)
		return Pct(f), ok
	}
	return Px(0), zeroOK
}

// fractionToPercent converts the digits after "0." to a percentage by moving
// the decimal point two places in the text, so that 0.07 gives exactly the
// float64 that 7p gives (7.000000000000001 when computed as 0.07*100).
func fractionToPercent(fracPart string) (float64, bool) {
	for len(fracPart) < 2 {
		fracPart += "0"
	}
	s := fracPart[:2]
	if len(fracPart) > 2 {
		s += "." + fracPart[2:]
	}
	f, err := strconv.ParseFloat(s, 64)
	// A long run of zeros can underflow to 0, which is not a valid percentage.
	return f, (err == nil || errors.Is(err, strconv.ErrRange)) && f > 0
}

// parseBlur parses blur: a number of pixels (not rounded) or Np.
func parseBlur(s string) (Length, bool) {
	if num, ok := strings.CutSuffix(s, "p"); ok {
		f, ok := parseUnsigned(num)
		return Pct(f), ok && f > 0 && f <= maxBlurPercent
	}
	f, ok := parseUnsigned(s)
	return Px(f), ok && f >= minBlurPixels && f <= maxBlurPixels
}

// parseByte parses a colour component, a whole number from 0 to 255.
func parseByte(s string) (uint8, bool) {
	n, ok := parseInt(s)
	if !ok || n > math.MaxUint8 {
		return 0, false
	}
	return uint8(n), true
}

// parseColor parses hex3, hex6, r,g,b or r,g,b,a. An absent alpha is 1.
func parseColor(s string) (Color, bool) {
	if !strings.Contains(s, ",") {
		return parseHexColor(s)
	}
	var parts [4]string
	n := 0
	for tok := range strings.SplitSeq(s, ",") {
		if n == len(parts) {
			return Color{}, false
		}
		parts[n] = tok
		n++
	}
	if n < 3 {
		return Color{}, false
	}
	r, okR := parseByte(parts[0])
	g, okG := parseByte(parts[1])
	b, okB := parseByte(parts[2])
	if !okR || !okG || !okB {
		return Color{}, false
	}
	a := 1.0
	if n == 4 {
		var ok bool
		if a, ok = parseUnsigned(parts[3]); !ok || a > 1 {
			return Color{}, false
		}
	}
	return Color{R: r, G: g, B: b, A: a, Set: true}, true
}

// parseHexColor parses 3 or 6 hex digits of either case.
func parseHexColor(s string) (Color, bool) {
	var d [6]uint8
	switch len(s) {
	case 3:
		for i := range 3 {
			v, ok := hexDigit(s[i])
			if !ok {
				return Color{}, false
			}
			d[2*i], d[2*i+1] = v, v
		}
	case 6:
		for i := range 6 {
			v, ok := hexDigit(s[i])
			if !ok {
				return Color{}, false
			}
			d[i] = v
		}
	default:
		return Color{}, false
	}
	return Color{R: d[0]<<4 | d[1], G: d[2]<<4 | d[3], B: d[4]<<4 | d[5], A: 1, Set: true}, true
}

// hexDigit returns the value of one ASCII hex digit.
func hexDigit(c byte) (uint8, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseTrimColor parses a colour or auto, optionally followed by ,tN.
func parseTrimColor(s string) (TrimColor, bool) {
	var t TrimColor
	if i := strings.LastIndexByte(s, ','); i >= 0 && strings.HasPrefix(s[i+1:], "t") {
		f, ok := parseUnsigned(s[i+2:])
		if !ok || f > maxTrimColorThr {
			return TrimColor{}, false
		}
		t.Threshold, s = f, s[:i]
	}
	if s == "auto" {
		t.Auto = true
		return t, true
	}
	c, ok := parseColor(s)
	if !ok {
		return TrimColor{}, false
	}
	t.Color = c
	return t, true
}

// parseBW parses threshold, threshold,L or atkinson.
func parseBW(s string) (BW, bool) {
	switch s {
	case string(BWAtkinson):
		return BW{Mode: BWAtkinson}, true
	case string(BWThreshold):
		return BW{Mode: BWThreshold, Luminance: DefaultBWLuminance}, true
	}
	num, ok := strings.CutPrefix(s, string(BWThreshold)+",")
	if !ok {
		return BW{}, false
	}
	l, ok := parseUnsigned(num)
	return BW{Mode: BWThreshold, Luminance: l}, ok && l <= maxBWLuminance
}

// parseFormat parses a format keyword and normalises its aliases.
func parseFormat(s string) (Format, bool) {
	switch f := Format(s); f {
	case FormatAuto, FormatAVIF, FormatBJPG, FormatGIF, FormatJPG, FormatJXL, FormatMP4, FormatPJPG,
		FormatPJXL, FormatPNG, FormatPNG8, FormatSVG, FormatWebP, FormatWebPLL, FormatWebPLY:
		return f, true
	case "jpeg":
		return FormatJPG, true
	case "bjpeg":
		return FormatBJPG, true
	case "pjpeg":
		return FormatPJPG, true
	case "jpegxl":
		return FormatJXL, true
	case "pjpegxl":
		return FormatPJXL, true
	}
	return "", false
}

// parseResizeFilter parses a resize-filter keyword and normalises its aliases.
func parseResizeFilter(s string) (ResizeFilter, bool) {
	switch f := ResizeFilter(s); f {
	case FilterNearest, FilterBilinear, FilterBicubic, FilterLanczos2, FilterLanczos3:
		return f, true
	case "linear":
		return FilterBilinear, true
	case "cubic":
		return FilterBicubic, true
	case "lanczos":
		return FilterLanczos3, true
	}
	return "", false
}

// isLevel reports whether s is one of the 19 H.264 levels of the API.
func isLevel(s string) bool {
	switch s {
	case "1.0", "1.1", "1.2", "1.3", "2.0", "2.1", "2.2", "3.0", "3.1", "3.2",
		"4.0", "4.1", "4.2", "5.0", "5.1", "5.2", "6.0", "6.1", "6.2":
		return true
	}
	return false
}

// parseMetadata parses copyright, c2pa or both, comma separated, in any
// order and without repeats.
func parseMetadata(s string) (Metadata, bool) {
	var m Metadata
	for tok := range strings.SplitSeq(s, ",") {
		switch {
		case tok == "copyright" && !m.Copyright:
			m.Copyright = true
		case tok == "c2pa" && !m.C2PA:
			m.C2PA = true
		default:
			return Metadata{}, false
		}
	}
	return m, true
}

// parseOrient parses an orientation number or letter code. orient=1 (no
// change) is stored as 0, not set.
func parseOrient(s string) (Orientation, bool) {
	switch s {
	case "1":
		return 0, true
	case "2", "h":
		return 2, true
	case "3", "hv", "vh":
		return 3, true
	case "4", "v":
		return 4, true
	case "5", "rv", "vr":
		return 5, true
	case "6", "r":
		return 6, true
	case "7", "lv", "vl":
		return 7, true
	case "8", "l":
		return 8, true
	}
	return 0, false
}

// parseSides parses 1 to 4 lengths (zero allowed) and expands the CSS
// shorthand to top, right, bottom and left.
func parseSides(s string) (Sides, bool) {
	var v [4]Length
	n := 0
	for tok := range strings.SplitSeq(s, ",") {
		if n == len(v) {
			return Sides{}, false
		}
		l, ok := parseLength(tok, true, maxPixels)
		if !ok {
			return Sides{}, false
		}
		v[n] = l
		n++
	}
	switch n {
	case 1:
		return Sides{Top: v[0], Right: v[0], Bottom: v[0], Left: v[0]}, true
	case 2:
		return Sides{Top: v[0], Right: v[1], Bottom: v[0], Left: v[1]}, true
	case 3:
		return Sides{Top: v[0], Right: v[1], Bottom: v[2], Left: v[1]}, true
	}
	return Sides{Top: v[0], Right: v[1], Bottom: v[2], Left: v[3]}, true
}

// parseQuality parses Q or Q,W, each a whole number from 1 to 100.
func parseQuality(s string) (q, w int, ok bool) {
	qs, ws, two := strings.Cut(s, ",")
	if q, ok = parseInt(qs); !ok || q < 1 || q > maxQuality {
		return 0, 0, false
	}
	if !two {
		return q, 0, true
	}
	if w, ok = parseInt(ws); !ok || w < 1 || w > maxQuality {
		return 0, 0, false
	}
	return q, w, true
}

// parseSharpen parses aA,rR,tT; all three are required, in that order.
func parseSharpen(s string) (Sharpen, bool) {
	a, rest, ok1 := strings.Cut(s, ",")
	r, t, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return Sharpen{}, false
	}
	a, okA := strings.CutPrefix(a, "a")
	r, okR := strings.CutPrefix(r, "r")
	t, okT := strings.CutPrefix(t, "t")
	if !okA || !okR || !okT {
		return Sharpen{}, false
	}
	amount, okA := parseUnsigned(a)
	radius, okR := parseUnsigned(r)
	threshold, okT := parseInt(t)
	if !okA || amount > maxSharpenAmt ||
		!okR || radius < minSharpenRad || radius > maxSharpenRad ||
		!okT || threshold > maxSharpenThr {
		return Sharpen{}, false
	}
	return Sharpen{Amount: amount, Radius: radius, Threshold: threshold}, true
}

// parseRegion parses the value of crop and precrop (modes true: smart and
// safe allowed) or canvas (modes false): a size first, then position and
// mode tokens in any order, each at most once.
func parseRegion(s string, modes bool) (Region, string) {
	var r Region
	tok, rest, more := strings.Cut(s, ",")
	if w, h, ok := strings.Cut(tok, ":"); ok {
		rw, okW := parseUnsigned(w)
		rh, okH := parseUnsigned(h)
		if !okW || !okH || rw <= 0 || rh <= 0 || rw > maxRatio || rh > maxRatio {
			return Region{}, reasonRegionSize
		}
		r.Size = Size{Kind: SizeRatio, RatioW: rw, RatioH: rh}
	} else {
		if !more {
			return Region{}, reasonRegionSize
		}
		var hs string
		hs, rest, more = strings.Cut(rest, ",")
		w, okW := parseLength(tok, false, maxPixels)
		h, okH := parseLength(hs, false, maxPixels)
		if !okW || !okH {
			return Region{}, reasonRegionSize
		}
		r.Size = Size{Kind: SizeAbsolute, Width: w, Height: h}
	}

	var haveX, haveY bool
	for more {
		tok, rest, more = strings.Cut(rest, ",")
		var reason string
		switch {
		case modes && tok == "smart":
			if r.Smart {
				return Region{}, reasonTwiceMode
			}
			r.Smart = true
		case modes && tok == "safe":
			if r.Safe {
				return Region{}, reasonTwiceMode
			}
			r.Safe = true
		case strings.HasPrefix(tok, "offset-x"):
			reason = setAxis(&r.Position.X, &haveX, tok[len("offset-x"):], true, reasonOneX)
		case strings.HasPrefix(tok, "offset-y"):
			reason = setAxis(&r.Position.Y, &haveY, tok[len("offset-y"):], true, reasonOneY)
		case strings.HasPrefix(tok, "x"):
			reason = setAxis(&r.Position.X, &haveX, tok[1:], false, reasonOneX)
		case strings.HasPrefix(tok, "y"):
			reason = setAxis(&r.Position.Y, &haveY, tok[1:], false, reasonOneY)
		case modes:
			reason = reasonCropToken
		default:
			reason = reasonCanvasTok
		}
		if reason != "" {
			return Region{}, reason
		}
	}
	return r, ""
}

// setAxis parses one position token (the text after x, y, offset-x or
// offset-y) into *a. *have records that the axis was already positioned.
func setAxis(a *Axis, have *bool, num string, offset bool, reasonTwice string) string {
	if *have {
		return reasonTwice
	}
	*have = true
	if offset {
		f, ok := parseUnsigned(num)
		if !ok || f > maxOffset {
			return reasonOffset
		}
		if f == centreOffset {
			*a = Axis{} // the default, centred position
		} else {
			*a = Axis{Kind: AxisOffset, Offset: f}
		}
		return ""
	}
	l, ok := parseLength(num, true, maxPixels)
	if !ok {
		return reasonPosition
	}
	*a = Axis{Kind: AxisAbsolute, Pos: l}
	return ""
}
