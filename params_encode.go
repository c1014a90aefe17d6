package imageopto

import (
	"math"
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
	scratch := paramScratchPool.Get().(*paramScratch)
	defer paramScratchPool.Put(scratch)
	scratch.p = p
	b := scratch.b[:0]
	for i := range paramTable {
		e := &paramTable[i]
		if !e.isSet(&scratch.p) {
			continue
		}
		if len(b) > 0 {
			b = append(b, '&')
		}
		b = append(append(b, e.name...), '=')
		b = e.encode(b, &scratch.p)
	}
	if cap(b) <= 1024 { // keep the buffer unless a hand-built value made it huge
		scratch.b = b
	}
	return string(b)
}

// appendWord appends a keyword value. Keywords produced by parsing need no
// escaping; the escaping only keeps hand-built values from breaking the
// query's structure.
func appendWord(b []byte, s string) []byte {
	return append(b, url.QueryEscape(s)...)
}

// appendInt appends n in decimal.
func appendInt(b []byte, n int) []byte {
	return strconv.AppendInt(b, int64(n), 10)
}

// appendNum appends f in plain decimal notation, with the fewest digits that
// parse back to the same float64 and never with an exponent.
func appendNum(b []byte, f float64) []byte {
	// Whole numbers, the common case, are written as integers: the same
	// digits, without the search for the shortest representation. Below
	// 2⁵³ every whole float64 is exact; -0 keeps its sign through AppendFloat.
	if f > -1<<53 && f < 1<<53 && f == math.Trunc(f) && (f != 0 || !math.Signbit(f)) {
		return strconv.AppendInt(b, int64(f), 10)
	}
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
