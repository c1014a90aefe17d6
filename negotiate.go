package imageopto

import (
	"strconv"
	"strings"
)

// acceptSet is the modern image formats a client accepts.
type acceptSet struct{ webp, avif, jxl bool }

// parseAccept reads the formats an Accept header lists explicitly with a
// non-zero q. Wildcards (*/* and image/*) never count as support for a
// modern format: browsers without WebP send them too.
func parseAccept(h string) acceptSet {
	var s acceptSet
	for _, part := range strings.Split(h, ",") {
		media, params, _ := strings.Cut(part, ";")
		media = strings.ToLower(strings.TrimSpace(media))
		if qZero(params) {
			continue
		}
		switch media {
		case "image/webp":
			s.webp = true
		case "image/avif":
			s.avif = true
		case "image/jxl":
			s.jxl = true
		}
	}
	return s
}

// qZero reports whether media-type parameters carry q=0.
func qZero(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q <= 0
		}
	}
	return false
}

func (s acceptSet) has(f ImageFormat) bool {
	switch f {
	case WebP:
		return s.webp
	case AVIF:
		return s.avif
	case JXL:
		return s.jxl
	}
	return false
}

// Negotiate decides the output format that content negotiation picks for
// parameters p and a client's Accept header, given the configured codecs.
// It is the one place where negotiation happens: the Handler calls it once
// per request and plans for its answer (NewPlan's negotiated argument), and
// so does Transform with TransformOptions.Accept. It returns "" when
// negotiation picks nothing (the normal output rules apply), and varies =
// true when the answer depends on Accept at all — exactly when a response
// must carry Vary: Accept. It needs no source, so a handler can key its
// cache on the result.
//
// format=auto prefers AVIF, then WebP; auto=avif and auto=webp offer one
// format each; format=auto takes precedence over auto=. Only formats with a
// configured encoder take part.
func Negotiate(p Params, accept string, codecs []Codec) (f ImageFormat, varies bool) {
	var candidates []ImageFormat
	switch {
	case p.Format == FormatAuto:
		candidates = []ImageFormat{AVIF, WebP}
	case p.Auto == AutoAVIF:
		candidates = []ImageFormat{AVIF}
	case p.Auto == AutoWebP:
		candidates = []ImageFormat{WebP}
	}
	a := parseAccept(accept)
	for _, c := range candidates {
		if !canEncode(codecs, c) {
			continue
		}
		varies = true
		if f == "" && a.has(c) {
			f = c
		}
	}
	return f, varies
}
