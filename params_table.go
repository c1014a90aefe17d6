package imageopto

import "sync"

// paramSpec is everything this package knows about one query parameter. The
// parser, the canonical encoder, the error messages, the duplicate check
// and IsParam all read paramTable; adding a parameter is adding one entry.
type paramSpec struct {
	// name is the parameter's name in the query string (case-sensitive).
	name string
	// about says in a few words what the parameter does.
	about string
	// usage says what a valid value looks like, including its range. It is
	// the reason given for a value that does not match, after "name=value: ".
	usage string
	// example is a valid value that sets the parameter (tests use it).
	example string
	// parse parses a non-empty, unescaped value into p. It returns "" when
	// the value is accepted, reasonUsage when it does not match the grammar
	// (the error then gives usage), or a more precise reason. It changes p
	// only when it accepts the value.
	parse func(p *Params, v string) string
	// isSet reports whether p holds a value of this parameter.
	isSet func(p *Params) bool
	// encode appends the canonical form of the value held in p. Encode
	// calls it only when isSet.
	encode func(b []byte, p *Params) []byte
}

// reasonUsage is what a parser returns for a value that does not match the
// parameter's grammar; the error then gives the parameter's usage text.
const reasonUsage = "\x00usage"

// paramTable lists every parameter of the Fastly IO URL API. It is sorted by
// name, which is the canonical order of Params.Encode (part of cache keys and
// signatures): a new entry goes in its alphabetical place.
var paramTable = [...]paramSpec{
	{
		name:    "auto",
		about:   "negotiate a modern output format with the client's Accept header",
		usage:   "must be webp or avif",
		example: "webp",
		parse: func(p *Params, v string) string {
			a, ok := oneOf(v, AutoWebP, AutoAVIF)
			return store(&p.Auto, a, ok)
		},
		isSet:  func(p *Params) bool { return p.Auto != "" },
		encode: func(b []byte, p *Params) []byte { return appendWord(b, string(p.Auto)) },
	},
	{
		name:    "bg-color",
		about:   "background colour for pad, canvas and transparent pixels",
		usage:   reasonColor,
		example: "fff",
		parse: func(p *Params, v string) string {
			c, ok := parseColor(v)
			return store(&p.BgColor, c, ok)
		},
		isSet:  func(p *Params) bool { return p.BgColor.Set },
		encode: func(b []byte, p *Params) []byte { return appendColor(b, p.BgColor) },
	},
	{
		name:    "blur",
		about:   "Gaussian blur",
		usage:   "must be a number of pixels between 0.5 and 1000, or a percentage like 2p (above 0, at most 100p)",
		example: "2",
		parse: func(p *Params, v string) string {
			l, ok := parseBlur(v)
			return store(&p.Blur, l, ok)
		},
		isSet:  func(p *Params) bool { return p.Blur.IsSet() },
		encode: func(b []byte, p *Params) []byte { return appendLength(b, p.Blur) },
	},
	{
		name:    "brightness",
		about:   "brightness adjustment",
		usage:   reasonAdjust,
		example: "10",
		parse:   func(p *Params, v string) string { return setAdjust(&p.Brightness, v) },
		isSet:   func(p *Params) bool { return p.Brightness != 0 },
		encode:  func(b []byte, p *Params) []byte { return appendNum(b, p.Brightness) },
	},
	{
		name:    "bw",
		about:   "convert to black and white",
		usage:   "must be threshold, threshold,L with a luminance L between 0 and 100, or atkinson",
		example: "threshold",
		parse: func(p *Params, v string) string {
			bw, ok := parseBW(v)
			return store(&p.BW, bw, ok)
		},
		isSet: func(p *Params) bool { return p.BW.Mode != "" },
		encode: func(b []byte, p *Params) []byte {
			b = appendWord(b, string(p.BW.Mode))
			if p.BW.Mode == BWThreshold && p.BW.Luminance != DefaultBWLuminance {
				b = appendNum(append(b, ','), p.BW.Luminance)
			}
			return b
		},
	},
	{
		name:    "canvas",
		about:   "place the image on a canvas of another size",
		usage:   reasonRegionSize,
		example: "600,400",
		parse: func(p *Params, v string) string {
			r, reason := parseRegion(v, false)
			if reason == "" {
				p.Canvas = Canvas{Size: r.Size, Position: r.Position}
			}
			return reason
		},
		isSet: func(p *Params) bool { return p.Canvas.IsSet() },
		encode: func(b []byte, p *Params) []byte {
			return appendRegion(b, Region{Size: p.Canvas.Size, Position: p.Canvas.Position})
		},
	},
	{
		name:    "contrast",
		about:   "contrast adjustment",
		usage:   reasonAdjust,
		example: "10",
		parse:   func(p *Params, v string) string { return setAdjust(&p.Contrast, v) },
		isSet:   func(p *Params) bool { return p.Contrast != 0 },
		encode:  func(b []byte, p *Params) []byte { return appendNum(b, p.Contrast) },
	},
	{
		name:    "crop",
		about:   "cut out a region, after precrop and trim",
		usage:   reasonRegionSize,
		example: "4:3",
		parse: func(p *Params, v string) string {
			r, reason := parseRegion(v, true)
			if reason == "" {
				p.Crop = r
			}
			return reason
		},
		isSet:  func(p *Params) bool { return p.Crop.IsSet() },
		encode: func(b []byte, p *Params) []byte { return appendRegion(b, p.Crop) },
	},
	{
		name:    "disable",
		about:   "disable=upscale: never enlarge the image",
		usage:   "must be upscale",
		example: "upscale",
		parse: func(p *Params, v string) string {
			return store(&p.Upscale, UpscaleDisable, v == "upscale")
		},
		isSet:  func(p *Params) bool { return p.Upscale == UpscaleDisable },
		encode: func(b []byte, _ *Params) []byte { return append(b, "upscale"...) },
	},
	{
		name:    "dpr",
		about:   "device pixel ratio that multiplies width and height",
		usage:   "must be a number between 1 and 10",
		example: "2",
		parse: func(p *Params, v string) string {
			f, ok := parseUnsigned(v)
			ok = ok && f >= minDPR && f <= maxDPR
			if f == 1 {
				f = 0 // dpr=1 is the default: not set
			}
			return store(&p.DPR, f, ok)
		},
		isSet:  func(p *Params) bool { return p.DPR != 0 },
		encode: func(b []byte, p *Params) []byte { return appendNum(b, p.DPR) },
	},
	{
		name:    "enable",
		about:   "enable=upscale: allow enlarging the image",
		usage:   "must be upscale",
		example: "upscale",
		parse: func(p *Params, v string) string {
			return store(&p.Upscale, UpscaleEnable, v == "upscale")
		},
		isSet:  func(p *Params) bool { return p.Upscale == UpscaleEnable },
		encode: func(b []byte, _ *Params) []byte { return append(b, "upscale"...) },
	},
	{
		name:    "fit",
		about:   "how width and height bound the image",
		usage:   "must be bounds, cover or crop",
		example: "cover",
		parse: func(p *Params, v string) string {
			f, ok := oneOf(v, FitBounds, FitCover, FitCrop)
			return store(&p.Fit, f, ok)
		},
		isSet:  func(p *Params) bool { return p.Fit != "" },
		encode: func(b []byte, p *Params) []byte { return appendWord(b, string(p.Fit)) },
	},
	{
		name:  "format",
		about: "output format",
		usage: "must be one of auto, avif, bjpg, gif, jpg, jxl, mp4, pjpg, pjxl, png, png8, svg, webp, webpll, webply " +
			"(or the aliases bjpeg, jpeg, jpegxl, pjpeg, pjpegxl)",
		example: "png",
		parse: func(p *Params, v string) string {
			f, ok := parseFormat(v)
			return store(&p.Format, f, ok)
		},
		isSet:  func(p *Params) bool { return p.Format != "" },
		encode: func(b []byte, p *Params) []byte { return appendWord(b, string(p.Format)) },
	},
	{
		name:    "frame",
		about:   "frame=1: the first frame of an animation",
		usage:   "must be 1",
		example: "1",
		parse:   func(p *Params, v string) string { return store(&p.Frame, 1, v == "1") },
		isSet:   func(p *Params) bool { return p.Frame != 0 },
		encode:  func(b []byte, p *Params) []byte { return appendInt(b, p.Frame) },
	},
	{
		name:    "height",
		about:   "output height",
		usage:   reasonPixOrPct,
		example: "300",
		parse: func(p *Params, v string) string {
			l, ok := parseLength(v, false, maxSidePixels)
			return store(&p.Height, l, ok)
		},
		isSet:  func(p *Params) bool { return p.Height.IsSet() },
		encode: func(b []byte, p *Params) []byte { return appendLength(b, p.Height) },
	},
	{
		name:    "level",
		about:   "H.264 level (mp4 output only)",
		usage:   "must be an H.264 level: 1.0 to 1.3, 2.0 to 2.2, 3.0 to 3.2, 4.0 to 4.2, 5.0 to 5.2 or 6.0 to 6.2",
		example: "3.0",
		parse:   func(p *Params, v string) string { return store(&p.Level, Level(v), isLevel(v)) },
		isSet:   func(p *Params) bool { return p.Level != "" },
		encode:  func(b []byte, p *Params) []byte { return appendWord(b, string(p.Level)) },
	},
	{
		name:    "metadata",
		about:   "metadata to keep in the output",
		usage:   "must be copyright, c2pa, or both separated by a comma",
		example: "copyright",
		parse: func(p *Params, v string) string {
			m, ok := parseMetadata(v)
			return store(&p.Metadata, m, ok)
		},
		isSet: func(p *Params) bool { return p.Metadata.Copyright || p.Metadata.C2PA },
		encode: func(b []byte, p *Params) []byte {
			switch {
			case p.Metadata.Copyright && p.Metadata.C2PA:
				return append(b, "copyright,c2pa"...)
			case p.Metadata.Copyright:
				return append(b, "copyright"...)
			}
			return append(b, "c2pa"...)
		},
	},
	{
		name:    "optimize",
		about:   "let the encoder choose the quality",
		usage:   "must be low, medium or high",
		example: "medium",
		parse: func(p *Params, v string) string {
			o, ok := oneOf(v, OptimizeLow, OptimizeMedium, OptimizeHigh)
			return store(&p.Optimize, o, ok)
		},
		isSet:  func(p *Params) bool { return p.Optimize != "" },
		encode: func(b []byte, p *Params) []byte { return appendWord(b, string(p.Optimize)) },
	},
	{
		name:    "orient",
		about:   "rotate or mirror the image",
		usage:   "must be 1 to 8, r, l, h, v, hv, vh, rv, vr, lv or vl",
		example: "r",
		parse: func(p *Params, v string) string {
			o, ok := parseOrient(v)
			return store(&p.Orient, o, ok)
		},
		isSet:  func(p *Params) bool { return p.Orient != 0 },
		encode: func(b []byte, p *Params) []byte { return appendInt(b, int(p.Orient)) },
	},
	{
		name:    "pad",
		about:   "add space around the image",
		usage:   reasonSides,
		example: "10",
		parse: func(p *Params, v string) string {
			s, ok := parseSides(v)
			return store(&p.Pad, s, ok)
		},
		isSet:  func(p *Params) bool { return p.Pad.IsSet() },
		encode: func(b []byte, p *Params) []byte { return appendSides(b, p.Pad) },
	},
	{
		name:    "precrop",
		about:   "cut out a region before any other step",
		usage:   reasonRegionSize,
		example: "1000,1000",
		parse: func(p *Params, v string) string {
			r, reason := parseRegion(v, true)
			if reason == "" {
				p.Precrop = r
			}
			return reason
		},
		isSet:  func(p *Params) bool { return p.Precrop.IsSet() },
		encode: func(b []byte, p *Params) []byte { return appendRegion(b, p.Precrop) },
	},
	{
		name:    "profile",
		about:   "H.264 profile (mp4 output only)",
		usage:   "must be baseline, main or high",
		example: "main",
		parse: func(p *Params, v string) string {
			pr, ok := oneOf(v, ProfileBaseline, ProfileMain, ProfileHigh)
			return store(&p.Profile, pr, ok)
		},
		isSet:  func(p *Params) bool { return p.Profile != "" },
		encode: func(b []byte, p *Params) []byte { return appendWord(b, string(p.Profile)) },
	},
	{
		name:    "quality",
		about:   "output quality, and optionally a second one for WebP",
		usage:   "must be one or two comma-separated whole numbers between 1 and 100",
		example: "85",
		parse: func(p *Params, v string) string {
			q, w, ok := parseQuality(v)
			if !ok {
				return reasonUsage
			}
			p.Quality, p.WebPQuality = q, w
			return ""
		},
		isSet: func(p *Params) bool { return p.Quality != 0 },
		encode: func(b []byte, p *Params) []byte {
			b = appendInt(b, p.Quality)
			if p.WebPQuality != 0 {
				b = appendInt(append(b, ','), p.WebPQuality)
			}
			return b
		},
	},
	{
		name:    "resize-filter",
		about:   "resampling filter",
		usage:   "must be nearest, bilinear, bicubic, lanczos2 or lanczos3 (or the aliases linear, cubic, lanczos)",
		example: "lanczos3",
		parse: func(p *Params, v string) string {
			f, ok := parseResizeFilter(v)
			return store(&p.ResizeFilter, f, ok)
		},
		isSet:  func(p *Params) bool { return p.ResizeFilter != "" },
		encode: func(b []byte, p *Params) []byte { return appendWord(b, string(p.ResizeFilter)) },
	},
	{
		name:    "saturation",
		about:   "saturation adjustment",
		usage:   reasonAdjust,
		example: "-20",
		parse:   func(p *Params, v string) string { return setAdjust(&p.Saturation, v) },
		isSet:   func(p *Params) bool { return p.Saturation != 0 },
		encode:  func(b []byte, p *Params) []byte { return appendNum(b, p.Saturation) },
	},
	{
		name:  "sharpen",
		about: "unsharp mask",
		usage: "must be aA,rR,tT with an amount A between 0 and 10, a radius R between 0.5 and 1000 " +
			"and a whole threshold T between 0 and 255",
		example: "a5,r2,t1",
		parse: func(p *Params, v string) string {
			s, ok := parseSharpen(v)
			return store(&p.Sharpen, s, ok)
		},
		isSet: func(p *Params) bool { return p.Sharpen.IsSet() },
		encode: func(b []byte, p *Params) []byte {
			b = append(b, 'a')
			b = append(appendNum(b, p.Sharpen.Amount), ",r"...)
			b = append(appendNum(b, p.Sharpen.Radius), ",t"...)
			return appendInt(b, p.Sharpen.Threshold)
		},
	},
	{
		name:    "trim",
		about:   "cut off the edges of the image",
		usage:   reasonSides,
		example: "10",
		parse: func(p *Params, v string) string {
			s, ok := parseSides(v)
			return store(&p.Trim, s, ok)
		},
		isSet:  func(p *Params) bool { return p.Trim.IsSet() },
		encode: func(b []byte, p *Params) []byte { return appendSides(b, p.Trim) },
	},
	{
		name:    "trim-color",
		about:   "cut off borders of one colour",
		usage:   reasonColor + ", or auto; optionally followed by ,tN with a threshold N between 0 and 1",
		example: "auto",
		parse: func(p *Params, v string) string {
			t, ok := parseTrimColor(v)
			return store(&p.TrimColor, t, ok)
		},
		isSet: func(p *Params) bool { return p.TrimColor.IsSet() },
		encode: func(b []byte, p *Params) []byte {
			if p.TrimColor.Auto {
				b = append(b, "auto"...)
			} else {
				b = appendColor(b, p.TrimColor.Color)
			}
			if p.TrimColor.Threshold != 0 {
				b = appendNum(append(b, ",t"...), p.TrimColor.Threshold)
			}
			return b
		},
	},
	{
		name:    "viewbox",
		about:   "viewbox=1: SVG output without explicit width and height",
		usage:   "must be 1",
		example: "1",
		parse:   func(p *Params, v string) string { return store(&p.Viewbox, 1, v == "1") },
		isSet:   func(p *Params) bool { return p.Viewbox != 0 },
		encode:  func(b []byte, p *Params) []byte { return appendInt(b, p.Viewbox) },
	},
	{
		name:    "width",
		about:   "output width",
		usage:   reasonPixOrPct,
		example: "400",
		parse: func(p *Params, v string) string {
			l, ok := parseLength(v, false, maxSidePixels)
			return store(&p.Width, l, ok)
		},
		isSet:  func(p *Params) bool { return p.Width.IsSet() },
		encode: func(b []byte, p *Params) []byte { return appendLength(b, p.Width) },
	},
}

// numParams is the number of parameters.
const numParams = len(paramTable)

// paramIndex returns the index in paramTable of a parameter name, or -1 for
// a name this package does not know. Names are case-sensitive.
func paramIndex(name string) int {
	if name == "" {
		return -1
	}
	for h := paramHash(name); paramSlots[h] != 0; h = (h + 1) % paramSlotCount {
		if i := int(paramSlots[h]) - 1; paramTable[i].name == name {
			return i
		}
	}
	return -1
}

// paramSlots is an open-addressing hash table of the names in paramTable:
// each slot holds an entry's index plus one, or 0 when empty. With four
// slots per name a lookup rarely probes twice; it takes about half the time
// of a map lookup.
var paramSlots = func() (slots [paramSlotCount]uint8) {
	for i, e := range paramTable {
		h := paramHash(e.name)
		for slots[h] != 0 {
			h = (h + 1) % paramSlotCount
		}
		slots[h] = uint8(i + 1)
	}
	return slots
}()

const (
	paramSlotCount = 4 * numParams
	_              = uint8(numParams + 1) // an index plus one must fit in a slot
)

// paramHash returns the first slot to try for a non-empty name.
func paramHash(name string) int {
	return (len(name)*31 + int(name[0])*7 + int(name[len(name)-1])) % paramSlotCount
}

// paramScratch is working space for parseQuery and Encode. The functions in
// paramTable take a *Params, and a pointer given to a function value always
// escapes to the heap: the pool spares each call the allocation of a Params
// (and Encode that of its buffer).
type paramScratch struct {
	p Params
	b []byte
}

var paramScratchPool = sync.Pool{New: func() any { return &paramScratch{b: make([]byte, 0, 128)} }}

// store sets *dst to v and returns "" when ok, and returns reasonUsage
// (leaving *dst unchanged) otherwise.
func store[T any](dst *T, v T, ok bool) string {
	if !ok {
		return reasonUsage
	}
	*dst = v
	return ""
}

// oneOf returns v as a T when it is one of the keywords.
func oneOf[T ~string](v string, keywords ...T) (T, bool) {
	for _, k := range keywords {
		if string(k) == v {
			return k, true
		}
	}
	return "", false
}
