package imageopto

// This file is the opt-in use of responsive-image client hints
// (Options.ClientHints): Sec-CH-DPR, Sec-CH-Width and Sec-CH-Viewport-Width
// fill in dpr and width when the query leaves them out, rounded to a short
// ladder of values so that the number of cached variants stays bounded.

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The client hints read, and the Accept-CH value that asks for them.
const (
	hintDPR           = "Sec-CH-DPR"
	hintWidth         = "Sec-CH-Width"
	hintViewportWidth = "Sec-CH-Viewport-Width"
	acceptCH          = hintDPR + ", " + hintWidth + ", " + hintViewportWidth
)

// maxHintDPR caps a DPR taken from Sec-CH-DPR: beyond 3 device pixels per
// CSS pixel the eye gains nothing and the bytes grow with its square.
// (dpr= in the query may still go up to 10.)
const maxHintDPR = 3

// hintUse records which client hints a request's parameters depend on:
// every hint header that was read, present or not, because its value (or
// its absence) chose the response. Those are the names sent in Vary.
type hintUse struct {
	enabled               bool
	dpr, width, viewportW bool
}

// clientHints fills in p from the request's client hints when
// Options.ClientHints is on, and reports which hints were consulted. The
// rules:
//
//   - Hints never override the query: dpr is taken from Sec-CH-DPR only
//     when the query names no dpr (not even dpr=1), width only when the
//     query names neither width nor height (a hinted width next to a
//     query height would change the fit).
//   - Sec-CH-Width is in device pixels (the layout width already
//     multiplied by the DPR), so it becomes the output width as it is:
//     Sec-CH-DPR is then not read, and a dpr in the query divides it
//     (width = ⌈W / dpr⌉) so that it is not counted twice.
//   - Otherwise Sec-CH-DPR (rounded up to a multiple of 0.5, at most 3;
//     1 or less means none) sets dpr, and Sec-CH-Viewport-Width, in CSS
//     pixels, sets width, which dpr then multiplies.
//   - Widths are rounded up (hintLadder) and capped by the output limit,
//     so a hinted response is never smaller than asked for.
//   - A hint that is missing, malformed or not positive is ignored: the
//     request is served as if it had not been sent. The last of repeated
//     values counts.
func (h *Handler) clientHints(r *http.Request, p *Params) hintUse {
	if !h.opts.ClientHints {
		return hintUse{}
	}
	u := hintUse{enabled: true}
	dprSlot := p.DPR == 0 && !queryNames(r.URL.RawQuery, "dpr")
	widthSlot := !p.Width.IsSet() && !p.Height.IsSet() &&
		!queryNames(r.URL.RawQuery, "width") && !queryNames(r.URL.RawQuery, "height")
	limit := h.opts.Transform.Limits.MaxOutputSide
	if limit <= 0 || limit > maxSidePixels {
		limit = maxSidePixels
	}
	if widthSlot {
		u.width = true
		if w, ok := hintInt(r.Header, hintWidth); ok {
			dpr := max(p.DPR, 1)
			p.Width = Px(float64(max(min(hintCeilDiv(hintLadder(w, limit), dpr), int(float64(limit)/dpr)), 1)))
			return u
		}
	}
	if dprSlot {
		u.dpr = true
		if d, ok := hintDecimal(r.Header, hintDPR); ok {
			p.DPR = roundHintDPR(d)
		}
	}
	if widthSlot {
		u.viewportW = true
		if w, ok := hintInt(r.Header, hintViewportWidth); ok {
			dpr := max(p.DPR, 1)
			p.Width = Px(float64(max(min(hintLadder(w, limit), int(float64(limit)/dpr)), 1)))
		}
	}
	return u
}

// setHeaders adds Accept-CH and the Vary names of the hints that were
// consulted to an image response.
func (u hintUse) setHeaders(hdr http.Header) {
	if !u.enabled {
		return
	}
	hdr.Set("Accept-CH", acceptCH)
	var names []string
	for _, n := range []struct {
		used bool
		name string
	}{{u.dpr, hintDPR}, {u.width, hintWidth}, {u.viewportW, hintViewportWidth}} {
		if n.used {
			names = append(names, n.name)
		}
	}
	if len(names) > 0 {
		hdr.Set("Vary", joinVary(hdr.Get("Vary"), strings.Join(names, ", ")))
	}
}

// joinVary joins two Vary values, either of which may be empty.
func joinVary(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ", " + b
}

// hintLadder rounds a width in pixels up to the next rung, and caps it at
// limit: multiples of 50 up to 1000, of 100 up to 2000, of 200 up to 4000
// and of 400 above (at most about 50 rungs up to 8192, each at most 50 px
// or 10 % above the width asked for).
func hintLadder(w, limit int) int {
	step := 400
	switch {
	case w <= 1000:
		step = 50
	case w <= 2000:
		step = 100
	case w <= 4000:
		step = 200
	}
	return min((w+step-1)/step*step, limit)
}

// roundHintDPR rounds a DPR up to a multiple of 0.5 within 1–maxHintDPR;
// 1 is returned as 0 (not set), like dpr=1 in a query.
func roundHintDPR(d float64) float64 {
	d = min(math.Ceil(d*2)/2, maxHintDPR)
	if d <= 1 {
		return 0
	}
	return d
}

// hintCeilDiv is ⌈n / d⌉ for a positive d.
func hintCeilDiv(n int, d float64) int {
	q := float64(n) / d
	if r := math.Round(q); math.Abs(q-r) < 1e-9 {
		return int(r)
	}
	return int(math.Ceil(q))
}

// hintValue is the last value of a header that may have been repeated or
// joined with commas, with the spaces around it removed.
func hintValue(hdr http.Header, name string) string {
	vs := hdr.Values(name)
	if len(vs) == 0 {
		return ""
	}
	v := vs[len(vs)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// hintInt parses a positive integer hint (an sf-integer: digits only).
func hintInt(hdr http.Header, name string) (int, bool) {
	v := hintValue(hdr, name)
	if v == "" || len(v) > 9 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n > 0
}

// hintDecimal parses a positive decimal hint (an sf-decimal or
// sf-integer: digits with at most one dot inside).
func hintDecimal(hdr http.Header, name string) (float64, bool) {
	v := hintValue(hdr, name)
	whole, frac, dot := strings.Cut(v, ".")
	if whole == "" || len(v) > 16 || (dot && frac == "") ||
		strings.TrimLeft(whole, "0123456789") != "" || strings.TrimLeft(frac, "0123456789") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil && f > 0
}

// queryNames reports whether a raw query has a parameter called name,
// whatever its value (dpr=1, which parses to no dpr, counts).
func queryNames(raw, name string) bool {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		k, _, _ := strings.Cut(part, "=")
		if k == name {
			return true
		}
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil && u == name {
				return true
			}
		}
	}
	return false
}
