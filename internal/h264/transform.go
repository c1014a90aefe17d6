package h264

// The 4×4 integer transform, the Hadamard transforms of the DC
// coefficients, quantisation, and the decoder's scaling and inverse
// transform (8.5.12), which the encoder must reproduce exactly.

// forward4x4 transforms a 4×4 residual block (raster order) in place with
// the core transform Cf·X·Cfᵀ.
func forward4x4(b *[16]int32) {
	for i := 0; i < 16; i += 4 { // rows
		s03, d03 := b[i]+b[i+3], b[i]-b[i+3]
		s12, d12 := b[i+1]+b[i+2], b[i+1]-b[i+2]
		b[i], b[i+2] = s03+s12, s03-s12
		b[i+1], b[i+3] = 2*d03+d12, d03-2*d12
	}
	for i := range 4 { // columns
		s03, d03 := b[i]+b[i+12], b[i]-b[i+12]
		s12, d12 := b[i+4]+b[i+8], b[i+4]-b[i+8]
		b[i], b[i+8] = s03+s12, s03-s12
		b[i+4], b[i+12] = 2*d03+d12, d03-2*d12
	}
}

// inverse4x4 is the decoder's inverse transform of scaled coefficients d
// (raster order), rows first then columns, giving the residual
// (x + 32) >> 6 in place.
func inverse4x4(d *[16]int32) {
	for i := 0; i < 16; i += 4 {
		e0, e1 := d[i]+d[i+2], d[i]-d[i+2]
		e2, e3 := d[i+1]>>1-d[i+3], d[i+1]+d[i+3]>>1
		d[i], d[i+1], d[i+2], d[i+3] = e0+e3, e1+e2, e1-e2, e0-e3
	}
	for i := range 4 {
		e0, e1 := d[i]+d[i+8], d[i]-d[i+8]
		e2, e3 := d[i+4]>>1-d[i+12], d[i+4]+d[i+12]>>1
		d[i], d[i+4], d[i+8], d[i+12] = (e0+e3+32)>>6, (e1+e2+32)>>6, (e1-e2+32)>>6, (e0-e3+32)>>6
	}
}

// hadamard4x4 computes H·X·H for the 4×4 Hadamard matrix H (symmetric), in
// place.
func hadamard4x4(b *[16]int32) {
	for i := 0; i < 16; i += 4 {
		s01, d01 := b[i]+b[i+1], b[i]-b[i+1]
		s23, d23 := b[i+2]+b[i+3], b[i+2]-b[i+3]
		b[i], b[i+1], b[i+2], b[i+3] = s01+s23, s01-s23, d01-d23, d01+d23
	}
	for i := range 4 {
		s01, d01 := b[i]+b[i+4], b[i]-b[i+4]
		s23, d23 := b[i+8]+b[i+12], b[i+8]-b[i+12]
		b[i], b[i+4], b[i+8], b[i+12] = s01+s23, s01-s23, d01-d23, d01+d23
	}
}

// maxLevel bounds coded levels so that every one fits a level_prefix of at
// most 15, as the Baseline profile requires.
const maxLevel = 2047

// quantizer holds the quantisation settings of one QP.
type quantizer struct {
	qp     int
	qbits  uint
	mf     [16]int32 // by raster position
	v      [16]int32 // dequantisation factors by raster position
	fIntra int32     // rounding offsets
	fInter int32
}

func newQuantizer(qp int) quantizer {
	q := quantizer{qp: qp, qbits: uint(15 + qp/6)}
	for i := range 16 {
		q.mf[i] = quantMF[qp%6][posClass[i]]
		q.v[i] = dequantV[qp%6][posClass[i]] << uint(qp/6)
	}
	q.fIntra = int32(1<<q.qbits) / 3
	q.fInter = int32(1<<q.qbits) / 6
	return q
}

func clampLevel(v int32) int32 {
	return min(max(v, -maxLevel), maxLevel)
}

// quant quantises one transform coefficient at raster position pos.
func (q *quantizer) quant(c int32, pos int, f int32) int32 {
	if c < 0 {
		return -clampLevel((-c*q.mf[pos] + f) >> q.qbits)
	}
	return clampLevel((c*q.mf[pos] + f) >> q.qbits)
}

// quantDC quantises a DC coefficient after its Hadamard transform.
func (q *quantizer) quantDC(c int32, f int32) int32 {
	if c < 0 {
		return -clampLevel((-c*q.mf[0] + 2*f) >> (q.qbits + 1))
	}
	return clampLevel((c*q.mf[0] + 2*f) >> (q.qbits + 1))
}

// dequant scales a level at raster position pos as the decoder does
// (flat scaling matrices).
func (q *quantizer) dequant(l int32, pos int) int32 { return l * q.v[pos] }

// dequantLumaDC turns the inverse Hadamard transform f of the Intra16x16
// DC levels into the blocks' DC coefficients (8.5.10).
func (q *quantizer) dequantLumaDC(f int32) int32 {
	ls := 16 * dequantV[q.qp%6][0]
	if q.qp >= 36 {
		return (f * ls) << uint(q.qp/6-6)
	}
	s := uint(6 - q.qp/6)
	return (f*ls + 1<<(s-1)) >> s
}

// dequantChromaDC does the same for the 2×2 chroma DC (8.5.11.2, 4:2:0):
// q is the chroma quantizer.
func (q *quantizer) dequantChromaDC(f int32) int32 {
	ls := 16 * dequantV[q.qp%6][0]
	return ((f * ls) << uint(q.qp/6)) >> 5
}
