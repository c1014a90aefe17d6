package icc

import (
	"context"
	"image"
	"math"
	"sync"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Resolution of the linear → sRGB-encoded output table: linear values in
// [0, 1] are quantised to outSteps steps before the table lookup. 2^14 steps
// keep the worst-case error below 0.11 of an 8-bit code value even where the
// sRGB curve is steepest (slope 12.92 near black).
const (
	outBits  = 14
	outSteps = 1 << outBits
)

// gridN is the number of grid points per dimension of the 3D table a LUT
// based profile is sampled to.
const gridN = 33

// The fixed part of every conversion: D50 PCS XYZ → linear sRGB (Bradford
// adapted from D65), and the sRGB transfer function.
var (
	xyzD50ToSRGB = computeXYZD50ToSRGB()
	encodeTable  = sync.OnceValue(buildEncodeTable)
)

// computeXYZD50ToSRGB derives the matrix from the sRGB primaries and D65
// white (IEC 61966-2-1) and the Bradford chromatic adaptation D65 → D50.
func computeXYZD50ToSRGB() mat3 {
	xyz := func(x, y float64) [3]float64 { return [3]float64{x / y, 1, (1 - x - y) / y} }
	r, g, b, w := xyz(0.64, 0.33), xyz(0.30, 0.60), xyz(0.15, 0.06), xyz(0.3127, 0.3290)
	prim := mat3{{r[0], g[0], b[0]}, {r[1], g[1], b[1]}, {r[2], g[2], b[2]}}
	s := prim.inv().apply(w)
	rgbToXYZD65 := prim.mul(diag(s[0], s[1], s[2]))

	bradford := mat3{
		{0.8951, 0.2664, -0.1614},
		{-0.7502, 1.7135, 0.0367},
		{0.0389, -0.0685, 1.0296},
	}
	src, dst := bradford.apply(w), bradford.apply(d50)
	adapt := bradford.inv().mul(diag(dst[0]/src[0], dst[1]/src[1], dst[2]/src[2])).mul(bradford)
	return adapt.mul(rgbToXYZD65).inv()
}

// srgbEncode is the sRGB transfer function (linear → encoded), on [0, 1].
func srgbEncode(x float64) float64 {
	x = clamp01(x)
	if x <= 0.0031308 {
		return 12.92 * x
	}
	return 1.055*math.Pow(x, 1/2.4) - 0.055
}

// to8 rounds an encoded value in [0, 1] to an 8-bit code value.
func to8(x float64) uint8 { return uint8(clamp01(x)*255 + 0.5) }

func buildEncodeTable() *[outSteps + 1]uint8 {
	var t [outSteps + 1]uint8
	for i := range t {
		t[i] = to8(srgbEncode(float64(i) / outSteps))
	}
	return &t
}

// linear returns the PCS luminance-like linear value of channel c at device
// value x for TRC-based profiles: the TRC output for XYZ connection spaces,
// and for grey profiles with a Lab connection space the Y that the L* the
// curve gives corresponds to.
func (p *Profile) linear(c int, x float64) float64 {
	y := p.trc[c].eval(x)
	if p.model == modelGrayTRC && p.pcs == spaceLab {
		return labToXYZ(100*y, 0, 0)[1]
	}
	return y
}

// matrix returns the device-linear → linear sRGB matrix of a matrix/TRC
// profile (identity for grey profiles, whose neutral maps to sRGB's).
func (p *Profile) matrix() mat3 {
	if p.model == modelGrayTRC {
		return diag(1, 1, 1)
	}
	c := p.colorants
	return xyzD50ToSRGB.mul(mat3{
		{c[0][0], c[1][0], c[2][0]},
		{c[0][1], c[1][1], c[2][1]},
		{c[0][2], c[1][2], c[2][2]},
	})
}

// computeIsSRGB decides IsSRGB for TRC-based profiles. Channel c of the
// conversion is enc(Σ_j M_cj·l_j), where M is the device-linear → linear sRGB
// matrix, l_j ∈ [0, 1] the linearised device values and enc the sRGB
// encoding. For a code value v of channel c, the other channels contribute
// δ = Σ_{j≠c} M_cj·l_j ∈ [−e⁻, e⁺] (e± summing the positive and the negative
// off-diagonal entries), and enc is monotonic, so the worst output over all
// colours with that v is enc(M_cc·l_c(v) ± e±). The profile counts as sRGB
// when that worst output differs from v by less than isSRGBTol = 1.5/255 for
// every v and channel: the 8-bit result of a real conversion is then never
// more than one code value away from the input.
func (p *Profile) computeIsSRGB() bool {
	if p.model != modelMatrixTRC && p.model != modelGrayTRC {
		return false
	}
	m := p.matrix()
	bounds := srgbBounds()
	var lin [256]float64
	for c := 0; c < 3; c++ {
		var ePos, eNeg float64
		for j := 0; j < 3; j++ {
			if j == c {
				continue
			}
			if m[c][j] > 0 {
				ePos += m[c][j]
			} else {
				eNeg -= m[c][j]
			}
		}
		if ePos+eNeg > isSRGBTol {
			return false // cheap reject: far from sRGB's colourants
		}
		if c == 0 || !p.trc[c].equal(&p.trc[c-1]) {
			for v := range lin {
				lin[v] = p.linear(c, float64(v)/255)
			}
		}
		// enc is monotonic, so |enc(y) − v/255| < tol is
		// lo[v] < y < hi[v] with the bounds decoded once.
		for v := range lin {
			l := m[c][c] * lin[v]
			if !(bounds.lo[v] < l-eNeg && l+ePos < bounds.hi[v]) {
				return false
			}
		}
	}
	return true
}

// isSRGBTol is the largest deviation from the identity, on a [0, 1] scale,
// that IsSRGB accepts.
const isSRGBTol = 1.5 / 255

// srgbBounds holds, for each code value v, the linear values whose sRGB
// encoding lies within isSRGBTol of v/255 (exclusive bounds, infinite where
// the interval extends past [0, 1]).
var srgbBounds = sync.OnceValue(func() *struct{ lo, hi [256]float64 } {
	b := new(struct{ lo, hi [256]float64 })
	for v := range 256 {
		x := float64(v) / 255
		b.lo[v], b.hi[v] = math.Inf(-1), math.Inf(1)
		if x-isSRGBTol > 0 {
			b.lo[v] = srgbDecode(x - isSRGBTol)
		}
		if x+isSRGBTol < 1 {
			b.hi[v] = srgbDecode(x + isSRGBTol)
		}
	}
	return b
})

// srgbDecode is the inverse of srgbEncode on [0, 1].
func srgbDecode(x float64) float64 {
	if x <= 0.04045 {
		return x / 12.92
	}
	return math.Pow((x+0.055)/1.055, 2.4)
}

// transformKind selects the apply loop.
type transformKind uint8

const (
	kindMatrix transformKind = iota + 1 // per-channel curves, 3×3 matrix, encode
	kindCurves                          // one table per channel (grey profiles)
	kindGrid                            // 3D table, tetrahedral interpolation
)

// Transform converts 8-bit pixels from a profile's colour space to sRGB. It
// is precomputed by Profile.ToSRGB, immutable, and safe for concurrent use.
type Transform struct {
	kind transformKind

	// kindMatrix: lin maps code values to linear device values, m maps
	// those to linear sRGB scaled by outSteps, enc encodes.
	lin [3][256]float32
	m   [9]float32
	enc *[outSteps + 1]uint8

	// kindCurves: the output code value of each channel.
	tab [3][256]uint8

	// kindGrid: gridN³ nodes × 3 sRGB-encoded outputs scaled by 256
	// (0–65280), first input varying slowest; gx, gy and gz give the offset
	// in grid of the cell of each code value along each axis, gf its
	// position in the cell scaled by 2^15.
	grid       []uint16
	gx, gy, gz [256]int32
	gf         [256]int32
}

// ToSRGB precomputes the conversion from the profile's colour space to sRGB
// (relative colorimetric, see the package documentation). Matrix/TRC and
// grey profiles take about 0.1 ms. LUT-based RGB profiles are sampled on a
// 33×33×33 grid, which takes about 10 ms, so callers that convert many images
// with the same profile may want to cache the Transform. The error is non-nil
// only for a Profile that Parse did not produce.
func (p *Profile) ToSRGB() (*Transform, error) {
	switch p.model {
	case modelMatrixTRC:
		t := &Transform{kind: kindMatrix, enc: encodeTable()}
		for c := 0; c < 3; c++ {
			for v := 0; v < 256; v++ {
				t.lin[c][v] = float32(p.linear(c, float64(v)/255))
			}
		}
		m := p.matrix()
		for i := 0; i < 9; i++ {
			t.m[i] = float32(m[i/3][i%3] * outSteps)
		}
		return t, nil
	case modelGrayTRC:
		t := &Transform{kind: kindCurves}
		for v := 0; v < 256; v++ {
			y := p.linear(0, float64(v)/255)
			rgb := xyzD50ToSRGB.apply([3]float64{y * d50[0], y * d50[1], y * d50[2]})
			for c := 0; c < 3; c++ {
				t.tab[c][v] = to8(srgbEncode(rgb[c]))
			}
		}
		return t, nil
	case modelLUT:
		if p.lut.nin == 1 {
			t := &Transform{kind: kindCurves}
			for v := 0; v < 256; v++ {
				rgb := xyzD50ToSRGB.apply(p.lut.eval([3]float64{float64(v) / 255}))
				for c := 0; c < 3; c++ {
					t.tab[c][v] = to8(srgbEncode(rgb[c]))
				}
			}
			return t, nil
		}
		t := &Transform{kind: kindGrid, grid: make([]uint16, gridN*gridN*gridN*3)}
		k := 0
		for i := 0; i < gridN; i++ {
			for j := 0; j < gridN; j++ {
				for l := 0; l < gridN; l++ {
					in := [3]float64{float64(i) / (gridN - 1), float64(j) / (gridN - 1), float64(l) / (gridN - 1)}
					rgb := xyzD50ToSRGB.apply(p.lut.eval(in))
					for c := 0; c < 3; c++ {
						t.grid[k] = uint16(math.Round(255 * 256 * srgbEncode(rgb[c])))
						k++
					}
				}
			}
		}
		for v := 0; v < 256; v++ {
			pos := float64(v) * (gridN - 1) / 255
			i := int(pos)
			if i > gridN-2 {
				i = gridN - 2
			}
			t.gx[v], t.gy[v], t.gz[v] = int32(i*3*gridN*gridN), int32(i*3*gridN), int32(i*3)
			t.gf[v] = int32(math.Round((pos - float64(i)) * (1 << 15)))
		}
		return t, nil
	}
	return nil, invalidf("profile was not produced by Parse")
}

// ApplyNRGBA converts the colour channels of img to sRGB in place; alpha is
// left untouched (the conversion applies to the straight, unpremultiplied
// colour values). For grey profiles each channel is converted on its own.
// ctx is polled every few rows (see ctxpoll): once it is done, ApplyNRGBA
// stops, leaving the rows below unconverted, and returns ctx.Err().
func (t *Transform) ApplyNRGBA(ctx context.Context, img *image.NRGBA) error {
	if t == nil || img == nil {
		return nil
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 || img.Stride < 4*w || len(img.Pix) < (h-1)*img.Stride+4*w {
		return nil // empty, or a malformed image whose rows do not fit in Pix
	}
	// The work of a row in ctxpoll units: a table lookup per channel, or
	// a grid interpolation per pixel.
	work := 4 * w
	if t.kind == kindGrid {
		work = 32 * w
	}
	pl := ctxpoll.New(ctx)
	for y := 0; y < h; y++ {
		if err := pl.Work(work); err != nil {
			return err
		}
		off := y * img.Stride
		row := img.Pix[off : off+4*w : off+4*w]
		switch t.kind {
		case kindMatrix:
			t.applyMatrix(row)
		case kindCurves:
			t.applyCurves(row)
		case kindGrid:
			t.applyGrid(row)
		}
	}
	return nil
}

func (t *Transform) applyMatrix(row []uint8) {
	enc := t.enc
	lr, lg, lb := &t.lin[0], &t.lin[1], &t.lin[2]
	m0, m1, m2, m3, m4, m5, m6, m7, m8 := t.m[0], t.m[1], t.m[2], t.m[3], t.m[4], t.m[5], t.m[6], t.m[7], t.m[8]
	for i := 0; i+3 < len(row); i += 4 {
		p := row[i : i+3 : i+3]
		r, g, b := lr[p[0]], lg[p[1]], lb[p[2]]
		p[0] = enc[outIndex(m0*r+m1*g+m2*b)]
		p[1] = enc[outIndex(m3*r+m4*g+m5*b)]
		p[2] = enc[outIndex(m6*r+m7*g+m8*b)]
	}
}

// outIndex rounds a linear value scaled by outSteps to an index of the
// encode table, clipping to [0, outSteps] (branch-free: out-of-gamut values
// are common in wide-gamut photos and would defeat branch prediction).
func outIndex(x float32) int {
	i := int(x + 0.5)
	i &^= i >> 63 // negative → 0
	d := outSteps - i
	i += d & (d >> 63) // above outSteps → outSteps
	return i & (outSteps<<1 - 1)
}

func (t *Transform) applyCurves(row []uint8) {
	tr, tg, tb := &t.tab[0], &t.tab[1], &t.tab[2]
	for i := 0; i+3 < len(row); i += 4 {
		p := row[i : i+3 : i+3]
		p[0], p[1], p[2] = tr[p[0]], tg[p[1]], tb[p[2]]
	}
}

// tetraCase describes one of the six tetrahedra of a grid cell: the path
// from corner 000 to corner 111 steps along the axes in decreasing order of
// the fractional positions, a (largest), b, c (smallest) being indexes into
// (x, y, z); o1 and o2 are the offsets of the path's second and third
// corners.
type tetraCase struct {
	o1, o2  int32
	a, b, c uint8
}

// tetraCases is indexed by (fx≥fy)<<2 | (fy≥fz)<<1 | (fx≥fz); keys 1 and
// 6 cannot occur and get harmless entries.
var tetraCases = func() (tc [8]tetraCase) {
	strides := [3]int32{3 * gridN * gridN, 3 * gridN, 3}
	orders := [8][3]uint8{
		0: {2, 1, 0}, // z > y > x
		1: {2, 1, 0}, // impossible
		2: {1, 2, 0}, // y ≥ z > x
		3: {1, 0, 2}, // y > x ≥ z
		4: {2, 0, 1}, // z > x ≥ y
		5: {0, 2, 1}, // x ≥ z > y
		6: {0, 1, 2}, // impossible
		7: {0, 1, 2}, // x ≥ y ≥ z
	}
	for k, o := range orders {
		tc[k] = tetraCase{
			o1: strides[o[0]], o2: strides[o[0]] + strides[o[1]],
			a: o[0], b: o[1], c: o[2],
		}
	}
	return tc
}()

// applyGrid interpolates the 3D table tetrahedrally, in fixed point. The
// tetrahedron is picked by table lookup rather than by branches, which photos
// with noise would make unpredictable.
func (t *Transform) applyGrid(row []uint8) {
	const corner111 = 3*gridN*gridN + 3*gridN + 3
	g := t.grid
	for i := 0; i+3 < len(row); i += 4 {
		p := row[i : i+3 : i+3]
		base := int(t.gx[p[0]] + t.gy[p[1]] + t.gz[p[2]])
		f := [3]int32{t.gf[p[0]], t.gf[p[1]], t.gf[p[2]]}
		k := 0
		if f[0] >= f[1] {
			k |= 4
		}
		if f[1] >= f[2] {
			k |= 2
		}
		if f[0] >= f[2] {
			k |= 1
		}
		tc := &tetraCases[k]
		fa, fb, fc := f[tc.a%3], f[tc.b%3], f[tc.c%3]
		// Non-negative weights summing to 2^15.
		w0, w1, w2, w3 := 1<<15-fa, fa-fb, fb-fc, fc
		c0 := g[base : base+3 : base+3]
		o1, o2 := base+int(tc.o1), base+int(tc.o2)
		c1 := g[o1 : o1+3 : o1+3]
		c2 := g[o2 : o2+3 : o2+3]
		c3 := g[base+corner111 : base+corner111+3 : base+corner111+3]
		// Nodes are at most 65280 = 255·256, so the sum stays below 2^31
		// and the result within [0, 255].
		for c := 0; c < 3; c++ {
			v := w0*int32(c0[c]) + w1*int32(c1[c]) + w2*int32(c2[c]) + w3*int32(c3[c])
			p[c] = uint8((v + 1<<22) >> 23)
		}
	}
}
