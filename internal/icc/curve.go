package icc

import "math"

// curveKind tells how a curve maps [0, 1] to [0, 1].
type curveKind uint8

const (
	curveIdentity curveKind = iota // y = x ('curv' with no entries)
	curveGamma                     // y = x^g ('curv' with one entry)
	curveTable                     // sampled, linearly interpolated
	curvePara                      // 'para' function types 0–4
)

// curve is a one-dimensional transfer function on [0, 1]: a TRC, or one of
// the per-channel curves of a LUT element.
type curve struct {
	kind  curveKind
	fn    uint16     // parametric function type (curvePara)
	p     [7]float64 // g, a, b, c, d, e, f (curvePara); p[0] is the gamma of curveGamma
	table []float32  // samples in [0, 1] (curveTable)
}

// paraParams is the parameter count of each parametric function type.
var paraParams = [...]int{1, 3, 4, 5, 7}

// parseCurve parses a 'curv' or 'para' element at the start of b and returns
// it with the number of bytes it occupies (before any padding).
func parseCurve(b []byte) (curve, int, error) {
	if len(b) < 12 {
		return curve{}, 0, invalidf("curve element of %d bytes is truncated", len(b))
	}
	switch typ := be32(b, 0); typ {
	case typeCurv:
		n := uint64(be32(b, 8))
		if n > maxCurveEntries {
			return curve{}, 0, invalidf("curve with %d entries exceeds %d", n, maxCurveEntries)
		}
		size := 12 + 2*int(n)
		if size > len(b) {
			return curve{}, 0, invalidf("curve of %d entries runs past its %d-byte tag", n, len(b))
		}
		switch n {
		case 0:
			return curve{kind: curveIdentity}, size, nil
		case 1:
			g := float64(be16(b, 12)) / 256
			if g == 0 {
				return curve{}, 0, invalidf("curve gamma is zero")
			}
			c := curve{kind: curveGamma}
			c.p[0] = g
			return c, size, nil
		}
		t := make([]float32, n)
		for i := range t {
			t[i] = float32(be16(b, 12+2*i)) / 65535
		}
		return curve{kind: curveTable, table: t}, size, nil
	case typePara:
		fn := be16(b, 8)
		if int(fn) >= len(paraParams) {
			return curve{}, 0, invalidf("parametric curve function type %d", fn)
		}
		np := paraParams[fn]
		size := 12 + 4*np
		if size > len(b) {
			return curve{}, 0, invalidf("parametric curve of type %d runs past its %d-byte tag", fn, len(b))
		}
		c := curve{kind: curvePara, fn: fn}
		for i := 0; i < np; i++ {
			c.p[i] = s15f16(b, 12+4*i)
		}
		g, a := c.p[0], c.p[1]
		if !(g > 0) || g > 100 {
			return curve{}, 0, invalidf("parametric curve gamma %g is out of range", g)
		}
		if (fn == 1 || fn == 2) && a == 0 {
			return curve{}, 0, invalidf("parametric curve of type %d has a = 0", fn)
		}
		if fn == 0 && g == 1 {
			return curve{kind: curveIdentity}, size, nil
		}
		return c, size, nil
	default:
		return curve{}, 0, invalidf("curve element of type %q", sigString(typ))
	}
}

// eval maps x (clamped to [0, 1]) through the curve; the result is clamped to
// [0, 1] and is never NaN.
func (c *curve) eval(x float64) float64 {
	x = clamp01(x)
	var y float64
	switch c.kind {
	case curveIdentity:
		y = x
	case curveGamma:
		y = math.Pow(x, c.p[0])
	case curveTable:
		y = interp1(c.table, x)
	case curvePara:
		y = c.evalPara(x)
	}
	return clamp01(y)
}

// evalPara evaluates an ICC parametric curve (ICC.1 table 65).
func (c *curve) evalPara(x float64) float64 {
	g, a, b, cc, d, e, f := c.p[0], c.p[1], c.p[2], c.p[3], c.p[4], c.p[5], c.p[6]
	pow := func(base float64) float64 {
		if base <= 0 {
			return 0
		}
		return math.Pow(base, g)
	}
	switch c.fn {
	case 0:
		return pow(x)
	case 1:
		if x >= -b/a {
			return pow(a*x + b)
		}
		return 0
	case 2:
		if x >= -b/a {
			return pow(a*x+b) + cc
		}
		return cc
	case 3:
		if x >= d {
			return pow(a*x + b)
		}
		return cc * x
	default: // 4
		if x >= d {
			return pow(a*x+b) + e
		}
		return cc*x + f
	}
}

// equal reports whether two curves are the same function (tables compare
// by identity, not by content).
func (c *curve) equal(d *curve) bool {
	if c.kind != d.kind || c.fn != d.fn || c.p != d.p || len(c.table) != len(d.table) {
		return false
	}
	return len(c.table) == 0 || &c.table[0] == &d.table[0]
}

// interp1 linearly interpolates the samples t (spread evenly over [0, 1]) at
// x in [0, 1]; t has at least two entries.
func interp1(t []float32, x float64) float64 {
	pos := x * float64(len(t)-1)
	i := int(pos)
	if i >= len(t)-1 {
		return float64(t[len(t)-1])
	}
	if i < 0 {
		return float64(t[0])
	}
	f := pos - float64(i)
	return float64(t[i]) + f*(float64(t[i+1])-float64(t[i]))
}

// clamp01 clamps x to [0, 1], mapping NaN to 0.
func clamp01(x float64) float64 {
	if x > 0 {
		if x > 1 {
			return 1
		}
		return x
	}
	return 0
}

// mat3 is a row-major 3×3 matrix.
type mat3 [3][3]float64

func (m mat3) mul(n mat3) mat3 {
	var r mat3
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			r[i][j] = m[i][0]*n[0][j] + m[i][1]*n[1][j] + m[i][2]*n[2][j]
		}
	}
	return r
}

func (m mat3) apply(v [3]float64) [3]float64 {
	return [3]float64{
		m[0][0]*v[0] + m[0][1]*v[1] + m[0][2]*v[2],
		m[1][0]*v[0] + m[1][1]*v[1] + m[1][2]*v[2],
		m[2][0]*v[0] + m[2][1]*v[1] + m[2][2]*v[2],
	}
}

func (m mat3) det() float64 {
	return m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
		m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
}

// inv returns the inverse of m; m must not be singular.
func (m mat3) inv() mat3 {
	d := m.det()
	return mat3{
		{(m[1][1]*m[2][2] - m[1][2]*m[2][1]) / d, (m[0][2]*m[2][1] - m[0][1]*m[2][2]) / d, (m[0][1]*m[1][2] - m[0][2]*m[1][1]) / d},
		{(m[1][2]*m[2][0] - m[1][0]*m[2][2]) / d, (m[0][0]*m[2][2] - m[0][2]*m[2][0]) / d, (m[0][2]*m[1][0] - m[0][0]*m[1][2]) / d},
		{(m[1][0]*m[2][1] - m[1][1]*m[2][0]) / d, (m[0][1]*m[2][0] - m[0][0]*m[2][1]) / d, (m[0][0]*m[1][1] - m[0][1]*m[1][0]) / d},
	}
}

func diag(a, b, c float64) mat3 { return mat3{{a, 0, 0}, {0, b, 0}, {0, 0, c}} }

// maxColorant bounds the magnitude of colourant XYZ components. Real
// colourants lie within about [-0.5, 2]; larger values only come from
// corrupt or hostile data.
const maxColorant = 16

// parseXYZ parses an 'XYZ ' element holding (at least) one XYZ number.
func parseXYZ(b []byte) ([3]float64, error) {
	if len(b) < 20 {
		return [3]float64{}, invalidf("XYZ element of %d bytes is truncated", len(b))
	}
	if typ := be32(b, 0); typ != typeXYZ {
		return [3]float64{}, invalidf("element of type %q where 'XYZ ' is required", sigString(typ))
	}
	var v [3]float64
	for i := range v {
		v[i] = s15f16(b, 8+4*i)
		if math.Abs(v[i]) > maxColorant {
			return [3]float64{}, invalidf("XYZ component %g is out of range", v[i])
		}
	}
	return v, nil
}
