package imageopto

// This file holds the overlay grammar: the value of the
// X-Fastly-Imageopto-Overlay header (Fastly IO's overlays), parsed into an
// Overlay, and its canonical encoding for cache keys. Where overlays come
// from and how they are fetched is overlay_handler.go; how they are placed
// and painted is overlay.go.

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// OverlayHeader is the request header that carries an overlay, as on
// Fastly: a query-string-encoded list such as
// "overlay=/img/wm.png&overlay-align=bottom,right". The Handler reads it
// only when Options.TrustOverlayHeader is set.
const OverlayHeader = "X-Fastly-Imageopto-Overlay"

// maxOverlayBytes bounds the overlay header's value.
const maxOverlayBytes = 4096

// Overlay is one image composited over the output (Fastly IO's
// X-Fastly-Imageopto-Overlay), parsed by ParseOverlay. It is a plain
// comparable value: two overlay values that mean the same overlay parse to
// equal Overlays, with equal Encode output.
type Overlay struct {
	// Path is the root-relative URL path of the overlay image on the
	// origin, e.g. "/img/wm.png" (from overlay= or overlay-base64=). Its
	// percent-escapes are decoded like a request path's. Transform does not
	// read it (TransformOptions.OverlayImage holds the image).
	Path string
	// Width and Height are the overlay's size: pixels, or percentages of
	// the output image. With one of them the other keeps the overlay's
	// aspect ratio; with both it is stretched to exactly that size; with
	// neither it keeps its own size.
	Width, Height Length
	// AlignY and AlignX place the overlay (with its padding) on the output:
	// AlignTop or AlignBottom, AlignLeft or AlignRight; "" centres it on
	// that axis (overlay-align's middle and center).
	AlignY, AlignX OverlayAlign
	// Pad is space around the overlay, as pad= on the main image (CSS
	// shorthand; percentages are of the overlay's own width for left and
	// right and height for top and bottom). It moves the overlay away from
	// the edge it is aligned to, and spaces the tiles of a repeat.
	Pad Sides
	// Repeat tiles the overlay across the output: RepeatX (one row),
	// RepeatY (one column) or RepeatBoth; "" places it once.
	Repeat OverlayRepeat
}

// OverlayAlign is one axis of overlay-align.
type OverlayAlign string

// Values of OverlayAlign ("" is centred: middle for AlignY, center for
// AlignX).
const (
	AlignTop    OverlayAlign = "top"
	AlignBottom OverlayAlign = "bottom"
	AlignLeft   OverlayAlign = "left"
	AlignRight  OverlayAlign = "right"
)

// OverlayRepeat is the value of overlay-repeat.
type OverlayRepeat string

// Values of overlay-repeat ("" places the overlay once).
const (
	RepeatX    OverlayRepeat = "x"
	RepeatY    OverlayRepeat = "y"
	RepeatBoth OverlayRepeat = "both"
)

// The keys of the overlay grammar, in canonical order.
const (
	keyOverlay       = "overlay"
	keyOverlayAlign  = "overlay-align"
	keyOverlayB64    = "overlay-base64"
	keyOverlayHeight = "overlay-height"
	keyOverlayPad    = "overlay-pad"
	keyOverlayRepeat = "overlay-repeat"
	keyOverlayWidth  = "overlay-width"
)

// Reasons of overlay errors.
const (
	reasonOverlayPath = "must be a root-relative path such as /img/overlay.png: one leading slash, " +
		"no query or fragment, no empty, . or .. elements, no backslash or control characters"
	reasonOverlayB64 = "must be the base64 (standard or URL-safe alphabet, padding optional) " +
		"of a root-relative path such as /img/overlay.png"
	reasonOverlayAlign = "must be top, middle or bottom, left, center or right, " +
		"or {y},{x} such as bottom,right"
	reasonOverlayRepeat  = "must be x, y or both"
	reasonOverlayUnknown = "unknown overlay parameter: the overlay header takes overlay, overlay-base64, " +
		"overlay-width, overlay-height, overlay-align, overlay-pad and overlay-repeat"
	reasonOverlayMissing = "missing: an overlay needs overlay= or overlay-base64= (the overlay image's path)"
)

// ParseOverlay parses the value of an overlay header,
// "overlay=/img/wm.png&overlay-width=20p&overlay-align=bottom,right", in
// strict mode: keys and values are unescaped like a query string's, and
// every unknown key, repeated key, empty or bad value is a *ParamError
// naming the key and the reason (wrapping ErrInvalidParam), all returned
// together with errors.Join. Exactly one of overlay and overlay-base64 is
// required.
//
//	overlay         root-relative path of the overlay image, e.g. /img/wm.png
//	overlay-base64  the same, base64-encoded (standard or URL-safe alphabet)
//	overlay-width   pixels (1–8192), a fraction (0.2) or a percentage (20p)
//	overlay-height  … of the output image's width or height
//	overlay-align   top, middle, bottom, left, center, right, or {y},{x}
//	                such as bottom,right (default middle,center)
//	overlay-pad     CSS shorthand like pad= (1 to 4 lengths)
//	overlay-repeat  x, y or both
//
// ParseOverlay(o.Encode()) returns o again (when the encoding, whose
// escapes may make it longer than the value parsed, is within the limit of
// 4096 bytes).
func ParseOverlay(value string) (Overlay, error) {
	return parseOverlay(value, true)
}

// parseOverlay is ParseOverlay; limit bounds the length of the value (off
// for canonical forms, whose escapes may make them longer than the header
// they were read from).
func parseOverlay(value string, limit bool) (Overlay, error) {
	var o Overlay
	if limit && len(value) > maxOverlayBytes {
		return Overlay{}, errors.Join(&ParamError{Param: OverlayHeader, Value: value, Reason: "longer than 4096 bytes"})
	}
	var errs []error
	seen := map[string]bool{}
	var b64 string
	for piece := range strings.SplitSeq(value, "&") {
		if piece == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(piece, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			errs = append(errs, &ParamError{Param: rawKey, Value: rawValue, Reason: reasonEscape})
			continue
		}
		usage, known := overlayUsage[key]
		switch {
		case key == "":
			errs = append(errs, &ParamError{Param: OverlayHeader, Value: piece, Reason: "a piece has no key before its ="})
			continue
		case !known:
			errs = append(errs, &ParamError{Param: key, Value: unescapeForError(rawValue), Reason: reasonOverlayUnknown})
			continue
		case seen[key]:
			errs = append(errs, &ParamError{Param: key, Value: unescapeForError(rawValue), Reason: reasonDuplicate})
			continue
		}
		seen[key] = true
		v, err := url.QueryUnescape(rawValue)
		if err != nil {
			errs = append(errs, &ParamError{Param: key, Value: rawValue, Reason: reasonEscape})
			continue
		}
		if v == "" {
			errs = append(errs, &ParamError{Param: key, Value: v, Reason: "empty value; " + usage})
			continue
		}
		if reason := o.set(key, v, &b64); reason != "" {
			if reason == reasonUsage {
				reason = usage
			}
			errs = append(errs, &ParamError{Param: key, Value: v, Reason: reason})
		}
	}
	switch {
	case seen[keyOverlay] && seen[keyOverlayB64]:
		errs = append(errs, &ParamError{Param: keyOverlayB64, Value: b64, Reason: "cannot be combined with overlay (give the path once)"})
	case !seen[keyOverlay] && !seen[keyOverlayB64]:
		errs = append(errs, &ParamError{Param: keyOverlay, Reason: reasonOverlayMissing})
	}
	if len(errs) > 0 {
		return Overlay{}, errors.Join(errs...)
	}
	return o, nil
}

// overlayUsage is each key's usage text.
var overlayUsage = map[string]string{
	keyOverlay:       reasonOverlayPath,
	keyOverlayB64:    reasonOverlayB64,
	keyOverlayWidth:  reasonPixOrPct + "; percentages are of the output image",
	keyOverlayHeight: reasonPixOrPct + "; percentages are of the output image",
	keyOverlayAlign:  reasonOverlayAlign,
	keyOverlayPad:    reasonSides,
	keyOverlayRepeat: reasonOverlayRepeat,
}

// set parses the value v of key into o. It returns "" on success, else the
// reason (reasonUsage for the key's usage text). b64 keeps overlay-base64's
// value for errors.
func (o *Overlay) set(key, v string, b64 *string) string {
	switch key {
	case keyOverlay:
		if reason := checkOverlayPath(v); reason != "" {
			return reason
		}
		o.Path = v
	case keyOverlayB64:
		*b64 = v
		p, reason := decodeOverlayBase64(v)
		if reason != "" {
			return reason
		}
		if reason := checkOverlayPath(p); reason != "" {
			return "decodes to " + truncate(p, maxValueInError) + ", which " + reason
		}
		o.Path = p
	case keyOverlayWidth, keyOverlayHeight:
		l, ok := parseLength(v, false, maxSidePixels)
		if !ok {
			return reasonUsage
		}
		if key == keyOverlayWidth {
			o.Width = l
		} else {
			o.Height = l
		}
	case keyOverlayAlign:
		y, x, ok := parseOverlayAlign(v)
		if !ok {
			return reasonUsage
		}
		o.AlignY, o.AlignX = y, x
	case keyOverlayPad:
		s, ok := parseSides(v)
		if !ok {
			return reasonUsage
		}
		if !s.IsSet() || s == (Sides{Px(0), Px(0), Px(0), Px(0)}) {
			s = Sides{} // no padding: not set, like pad=0
		}
		o.Pad = s
	case keyOverlayRepeat:
		switch r := OverlayRepeat(v); r {
		case RepeatX, RepeatY, RepeatBoth:
			o.Repeat = r
		default:
			return reasonUsage
		}
	}
	return ""
}

// checkOverlayPath returns why p is not a root-relative path naming an
// original ("" when it is one).
func checkOverlayPath(p string) string {
	switch {
	case !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//"):
		// "//host/x" is a network-path reference, not a root-relative one.
		return "must start with exactly one slash (a root-relative path such as /img/overlay.png)"
	case strings.ContainsAny(p, "?#"):
		return "must not have a query or a fragment (a root-relative path such as /img/overlay.png)"
	}
	if _, err := overlayOriginPath(p); err != nil {
		return reasonOverlayPath
	}
	return ""
}

// overlayOriginPath turns an overlay path into the origin path it names:
// percent-escapes decoded as in a request path, then CleanPath.
func overlayOriginPath(p string) (string, error) {
	u, err := url.PathUnescape(p)
	if err != nil {
		return "", err
	}
	return CleanPath(u)
}

// decodeOverlayBase64 decodes overlay-base64: standard or URL-safe
// alphabet, with or without padding.
func decodeOverlayBase64(v string) (string, string) {
	if strings.ContainsRune(v, ' ') {
		return "", "contains a space: a + of the standard alphabet must be written %2B in a query string, or use the URL-safe alphabet (- and _)"
	}
	urlSafe, padded := strings.ContainsAny(v, "-_"), strings.HasSuffix(v, "=")
	enc := base64.RawStdEncoding
	switch {
	case urlSafe && padded:
		enc = base64.URLEncoding
	case urlSafe:
		enc = base64.RawURLEncoding
	case padded:
		enc = base64.StdEncoding
	}
	b, err := enc.Strict().DecodeString(v)
	if err != nil {
		return "", reasonUsage
	}
	return string(b), ""
}

// parseOverlayAlign parses overlay-align: one keyword of either axis (the
// other is centred), or {y},{x}.
func parseOverlayAlign(v string) (y, x OverlayAlign, ok bool) {
	first, second, two := strings.Cut(v, ",")
	if !two {
		switch first {
		case "middle", "center":
			return "", "", true
		case "top", "bottom":
			return OverlayAlign(first), "", true
		case "left", "right":
			return "", OverlayAlign(first), true
		}
		return "", "", false
	}
	switch first {
	case "top", "bottom":
		y = OverlayAlign(first)
	case "middle":
	default:
		return "", "", false
	}
	switch second {
	case "left", "right":
		x = OverlayAlign(second)
	case "center":
	default:
		return "", "", false
	}
	return y, x, true
}

// Encode returns the canonical form of o, with keys in alphabetical order:
// overlay (the path, never overlay-base64), then overlay-align when not
// centred, overlay-height, overlay-pad (four values), overlay-repeat and
// overlay-width when set. It is part of the Handler's cache keys.
func (o Overlay) Encode() string {
	b := make([]byte, 0, 64+len(o.Path))
	b = append(b, keyOverlay+"="...)
	b = append(b, strings.ReplaceAll(url.QueryEscape(o.Path), "%2F", "/")...)
	if o.AlignX != "" || o.AlignY != "" {
		y, x := o.AlignY, o.AlignX
		if y == "" {
			y = "middle"
		}
		if x == "" {
			x = "center"
		}
		b = append(b, "&"+keyOverlayAlign+"="...)
		b = appendWord(append(appendWord(b, string(y)), ','), string(x))
	}
	if o.Height.IsSet() {
		b = appendLength(append(b, "&"+keyOverlayHeight+"="...), o.Height)
	}
	if o.Pad.IsSet() {
		b = appendSides(append(b, "&"+keyOverlayPad+"="...), o.Pad)
	}
	if o.Repeat != "" {
		b = appendWord(append(b, "&"+keyOverlayRepeat+"="...), string(o.Repeat))
	}
	if o.Width.IsSet() {
		b = appendLength(append(b, "&"+keyOverlayWidth+"="...), o.Width)
	}
	return string(b)
}

// canonical checks an Overlay that may have been built by hand (by a
// Hook, or for TransformOptions) and returns it in canonical form: the
// errors are those ParseOverlay gives for its encoding.
func (o Overlay) canonical() (Overlay, error) {
	return parseOverlay(o.Encode(), false)
}

// overlayFromHeader reads the overlay header of a request: nil when it is
// absent or empty, an error when it is given twice or does not parse.
func overlayFromHeader(h http.Header) (*Overlay, error) {
	vals := h.Values(OverlayHeader)
	switch {
	case len(vals) == 0:
		return nil, nil
	case len(vals) > 1:
		return nil, &ParamError{Param: OverlayHeader, Value: vals[1], Reason: "header given more than once"}
	case strings.TrimSpace(vals[0]) == "":
		return nil, nil
	}
	o, err := ParseOverlay(strings.TrimSpace(vals[0]))
	if err != nil {
		return nil, err
	}
	return &o, nil
}
