package icc

// pcsEncoding tells how the [0, 1] outputs of a LUT element encode PCS
// values.
type pcsEncoding uint8

const (
	pcsXYZ   pcsEncoding = iota // 16-bit XYZ: 1.0 is 0x8000
	pcsLab                      // v4 Lab (and 8-bit Lab): L 0–100, a/b −128–127
	pcsLabV2                    // legacy 16-bit Lab used by lut16 (0xFF00 is L = 100)
)

// lutPipeline is a parsed A2Bx element: optional A curves, CLUT, M curves
// and matrix, then B curves, applied in that order (ICC.1 lutAtoBType; the
// lut8 and lut16 types map onto it as A curves = input tables, CLUT, B
// curves = output tables).
type lutPipeline struct {
	nin     int     // input channels: 3 (RGB) or 1 (grey)
	aCurves []curve // nin curves, or nil
	clut    *clut   // or nil (then nin == 3)
	mCurves []curve // 3 curves, or nil
	matrix  *[12]float64
	bCurves []curve // 3 curves, or nil
	enc     pcsEncoding
}

// clut is a multidimensional colour lookup table with three outputs.
type clut struct {
	nin  int
	grid [3]int    // grid points per input dimension (first varies slowest)
	data []float32 // nodes × 3 outputs, in [0, 1]
}

// parseLUT parses an A2Bx tag body for a profile with nin device channels
// and connection space pcs.
func parseLUT(b []byte, nin int, pcs uint32) (*lutPipeline, error) {
	if len(b) < 12 {
		return nil, invalidf("LUT element of %d bytes is truncated", len(b))
	}
	var (
		l   *lutPipeline
		err error
	)
	switch typ := be32(b, 0); typ {
	case typeMft1:
		l, err = parseLutN(b, nin, 1)
	case typeMft2:
		l, err = parseLutN(b, nin, 2)
	case typeMAB:
		l, err = parseMAB(b, nin)
	default:
		return nil, unsupportedf("LUT element of type %q", sigString(typ))
	}
	if err != nil {
		return nil, err
	}
	switch {
	case pcs == spaceXYZ:
		l.enc = pcsXYZ
	case be32(b, 0) == typeMft2:
		l.enc = pcsLabV2
	default:
		l.enc = pcsLab
	}
	return l, nil
}

// parseLutN parses a lut8Type ('mft1', prec 1) or lut16Type ('mft2', prec
// 2) element.
func parseLutN(b []byte, nin, prec int) (*lutPipeline, error) {
	const hdr = 48
	if len(b) < hdr+4 {
		return nil, invalidf("lut element of %d bytes is truncated", len(b))
	}
	in, out, g := int(b[8]), int(b[9]), int(b[10])
	if in != nin || out != 3 {
		return nil, invalidf("lut element maps %d→%d channels, want %d→3", in, out, nin)
	}
	if g < 2 {
		return nil, invalidf("lut element has %d grid points", g)
	}
	// The 3×3 matrix at offset 12 applies only to XYZ input data, never
	// to RGB or grey device values, so it is ignored.
	n, m, off := 256, 256, hdr
	if prec == 2 {
		n, m = int(be16(b, hdr)), int(be16(b, hdr+2))
		off += 4
		if n < 2 || n > 4096 || m < 2 || m > 4096 {
			return nil, invalidf("lut16 table sizes %d and %d are out of range 2–4096", n, m)
		}
	}
	nodes := 1
	for i := 0; i < in; i++ {
		nodes *= g
	}
	need := uint64(off) + uint64(prec)*(uint64(in*n)+uint64(nodes*out)+uint64(out*m))
	if need > uint64(len(b)) {
		return nil, invalidf("lut element needs %d bytes, tag has %d", need, len(b))
	}
	read := func(pos, count int) []float32 {
		t := make([]float32, count)
		if prec == 1 {
			for i := range t {
				t[i] = float32(b[pos+i]) / 255
			}
		} else {
			for i := range t {
				t[i] = float32(be16(b, pos+2*i)) / 65535
			}
		}
		return t
	}
	l := &lutPipeline{nin: nin}
	for i := 0; i < in; i++ {
		l.aCurves = append(l.aCurves, curve{kind: curveTable, table: read(off, n)})
		off += prec * n
	}
	l.clut = &clut{nin: in, data: read(off, nodes*out)}
	for i := 0; i < in; i++ {
		l.clut.grid[i] = g
	}
	off += prec * nodes * out
	for i := 0; i < out; i++ {
		l.bCurves = append(l.bCurves, curve{kind: curveTable, table: read(off, m)})
		off += prec * m
	}
	return l, nil
}

// parseMAB parses a lutAtoBType ('mAB ') element.
func parseMAB(b []byte, nin int) (*lutPipeline, error) {
	if len(b) < 32 {
		return nil, invalidf("mAB element of %d bytes is truncated", len(b))
	}
	in, out := int(b[8]), int(b[9])
	if in != nin || out != 3 {
		return nil, invalidf("mAB element maps %d→%d channels, want %d→3", in, out, nin)
	}
	offB, offMat, offM, offCLUT, offA := be32(b, 12), be32(b, 16), be32(b, 20), be32(b, 24), be32(b, 28)
	for _, o := range [...]uint32{offB, offMat, offM, offCLUT, offA} {
		if uint64(o) >= uint64(len(b)) {
			return nil, invalidf("mAB element offset %d lies outside its %d-byte tag", o, len(b))
		}
	}
	if offB == 0 {
		return nil, invalidf("mAB element has no B curves")
	}
	l := &lutPipeline{nin: nin}
	var err error
	if l.bCurves, err = parseCurveSeq(b, offB, out); err != nil {
		return nil, err
	}
	if offM != 0 {
		if l.mCurves, err = parseCurveSeq(b, offM, out); err != nil {
			return nil, err
		}
	}
	if offMat != 0 {
		if uint64(offMat)+48 > uint64(len(b)) {
			return nil, invalidf("mAB matrix runs past its tag")
		}
		var mat [12]float64
		for i := range mat {
			mat[i] = s15f16(b, int(offMat)+4*i)
		}
		l.matrix = &mat
	}
	if offA != 0 {
		if l.aCurves, err = parseCurveSeq(b, offA, in); err != nil {
			return nil, err
		}
	}
	if offCLUT != 0 {
		if l.clut, err = parseCLUT(b[offCLUT:], in, out); err != nil {
			return nil, err
		}
	} else if in != out {
		return nil, invalidf("mAB element without CLUT maps %d→%d channels", in, out)
	}
	return l, nil
}

// parseCurveSeq parses count curves stored one after the other from off,
// each padded to a multiple of four bytes.
func parseCurveSeq(b []byte, off uint32, count int) ([]curve, error) {
	pos := int(off)
	cs := make([]curve, count)
	for i := range cs {
		if pos >= len(b) {
			return nil, invalidf("curve %d of %d lies outside its tag", i+1, count)
		}
		c, size, err := parseCurve(b[pos:])
		if err != nil {
			return nil, err
		}
		cs[i] = c
		pos += (size + 3) &^ 3
	}
	return cs, nil
}

// parseCLUT parses the CLUT of a lutAtoBType element.
func parseCLUT(b []byte, in, out int) (*clut, error) {
	if len(b) < 20 {
		return nil, invalidf("CLUT of %d bytes is truncated", len(b))
	}
	c := &clut{nin: in}
	nodes := 1
	for i := 0; i < in; i++ {
		g := int(b[i])
		if g < 2 {
			return nil, invalidf("CLUT dimension %d has %d grid points", i, g)
		}
		c.grid[i] = g
		nodes *= g
	}
	prec := int(b[16])
	if prec != 1 && prec != 2 {
		return nil, invalidf("CLUT precision %d", prec)
	}
	if need := 20 + uint64(prec)*uint64(nodes*out); need > uint64(len(b)) {
		return nil, invalidf("CLUT needs %d bytes, %d remain in its tag", need, len(b))
	}
	c.data = make([]float32, nodes*out)
	for i := range c.data {
		if prec == 1 {
			c.data[i] = float32(b[20+i]) / 255
		} else {
			c.data[i] = float32(be16(b, 20+2*i)) / 65535
		}
	}
	return c, nil
}

// eval maps device values in [0, 1] (v[0] only for grey) to PCS XYZ (D50).
func (l *lutPipeline) eval(v [3]float64) [3]float64 {
	for i, c := range l.aCurves {
		v[i] = c.eval(v[i])
	}
	if l.clut != nil {
		v = l.clut.eval(v)
	}
	for i := range l.mCurves {
		v[i] = l.mCurves[i].eval(v[i])
	}
	if m := l.matrix; m != nil {
		v = [3]float64{
			m[0]*v[0] + m[1]*v[1] + m[2]*v[2] + m[9],
			m[3]*v[0] + m[4]*v[1] + m[5]*v[2] + m[10],
			m[6]*v[0] + m[7]*v[1] + m[8]*v[2] + m[11],
		}
	}
	for i := range l.bCurves {
		v[i] = l.bCurves[i].eval(v[i])
	}
	for i := range v {
		v[i] = clamp01(v[i])
	}
	switch l.enc {
	case pcsXYZ:
		const k = 65535.0 / 32768
		return [3]float64{v[0] * k, v[1] * k, v[2] * k}
	case pcsLabV2:
		const k = 65535.0 / 65280
		return labToXYZ(v[0]*k*100, v[1]*k*255-128, v[2]*k*255-128)
	default:
		return labToXYZ(v[0]*100, v[1]*255-128, v[2]*255-128)
	}
}

// eval interpolates the table at v (inputs in [0, 1]): tetrahedral for
// three inputs, linear for one.
func (c *clut) eval(v [3]float64) [3]float64 {
	if c.nin == 1 {
		g := c.grid[0]
		pos := clamp01(v[0]) * float64(g-1)
		i := int(pos)
		if i >= g-1 {
			i = g - 2
		}
		f := pos - float64(i)
		var r [3]float64
		for o := 0; o < 3; o++ {
			a, b := float64(c.data[3*i+o]), float64(c.data[3*(i+1)+o])
			r[o] = a + f*(b-a)
		}
		return r
	}
	var idx [3]int
	var fr [3]float64
	for d := 0; d < 3; d++ {
		g := c.grid[d]
		pos := clamp01(v[d]) * float64(g-1)
		i := int(pos)
		if i >= g-1 {
			i = g - 2
		}
		idx[d], fr[d] = i, pos-float64(i)
	}
	s2 := 3
	s1 := s2 * c.grid[2]
	s0 := s1 * c.grid[1]
	base := idx[0]*s0 + idx[1]*s1 + idx[2]*s2
	var r [3]float64
	for o := 0; o < 3; o++ {
		r[o] = tetra(c.data, base+o, s0, s1, s2, fr[0], fr[1], fr[2])
	}
	return r
}

// tetra is tetrahedral interpolation in the cell whose first corner is at
// d[b]; s0, s1, s2 are the strides of the three dimensions and fx, fy, fz
// the fractional positions in the cell.
func tetra(d []float32, b, s0, s1, s2 int, fx, fy, fz float64) float64 {
	c000 := float64(d[b])
	c111 := float64(d[b+s0+s1+s2])
	switch {
	case fx >= fy && fy >= fz:
		c100, c110 := float64(d[b+s0]), float64(d[b+s0+s1])
		return c000 + fx*(c100-c000) + fy*(c110-c100) + fz*(c111-c110)
	case fx >= fz && fz >= fy:
		c100, c101 := float64(d[b+s0]), float64(d[b+s0+s2])
		return c000 + fx*(c100-c000) + fz*(c101-c100) + fy*(c111-c101)
	case fz >= fx && fx >= fy:
		c001, c101 := float64(d[b+s2]), float64(d[b+s0+s2])
		return c000 + fz*(c001-c000) + fx*(c101-c001) + fy*(c111-c101)
	case fy >= fx && fx >= fz:
		c010, c110 := float64(d[b+s1]), float64(d[b+s0+s1])
		return c000 + fy*(c010-c000) + fx*(c110-c010) + fz*(c111-c110)
	case fy >= fz && fz >= fx:
		c010, c011 := float64(d[b+s1]), float64(d[b+s1+s2])
		return c000 + fy*(c010-c000) + fz*(c011-c010) + fx*(c111-c011)
	default: // fz >= fy >= fx
		c001, c011 := float64(d[b+s2]), float64(d[b+s1+s2])
		return c000 + fz*(c001-c000) + fy*(c011-c001) + fx*(c111-c011)
	}
}

// D50 is the ICC profile connection space illuminant.
var d50 = [3]float64{0.9642, 1.0, 0.8249}

// labToXYZ converts CIE L*a*b* (D50) to XYZ.
func labToXYZ(L, a, b float64) [3]float64 {
	fy := (L + 16) / 116
	fx := fy + a/500
	fz := fy - b/200
	finv := func(t float64) float64 {
		const d = 6.0 / 29
		if t > d {
			return t * t * t
		}
		return 3 * d * d * (t - 4.0/29)
	}
	return [3]float64{d50[0] * finv(fx), d50[1] * finv(fy), d50[2] * finv(fz)}
}
