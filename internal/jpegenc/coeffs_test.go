package jpegenc

import (
	"image"
	"math"
	"testing"
)

// A minimal baseline decoder that recovers the quantised coefficients of a
// greyscale JPEG, to measure DCT accuracy at the coefficient level.

// coeffReader reads the entropy-coded bits of a scan, removing stuffed
// zero bytes.
type coeffReader struct {
	data []byte
	pos  int
	acc  uint32
	n    uint
}

func (r *coeffReader) bit() int {
	if r.n == 0 {
		b := r.data[r.pos]
		r.pos++
		if b == 0xff {
			r.pos++ // stuffed zero
		}
		r.acc, r.n = uint32(b), 8
	}
	r.n--
	return int(r.acc>>r.n) & 1
}

func (r *coeffReader) bits(n uint) int32 {
	v := int32(0)
	for range n {
		v = v<<1 | int32(r.bit())
	}
	return v
}

// extend turns n extra bits into a signed value (T.81 F.2.2.1).
func extend(v int32, n uint) int32 {
	if n > 0 && v < 1<<(n-1) {
		return v - (1<<n - 1)
	}
	return v
}

// huffDecoder maps (length, code) to a symbol.
type huffDecoder map[[2]int]byte

func newHuffDecoder(counts []byte, values []byte) huffDecoder {
	d := huffDecoder{}
	code, k := 0, 0
	for l := 1; l <= 16; l++ {
		for range counts[l-1] {
			d[[2]int{l, code}] = values[k]
			code++
			k++
		}
		code <<= 1
	}
	return d
}

func (d huffDecoder) decode(t *testing.T, r *coeffReader) byte {
	code := 0
	for l := 1; l <= 16; l++ {
		code = code<<1 | r.bit()
		if s, ok := d[[2]int{l, code}]; ok {
			return s
		}
	}
	t.Fatal("bad Huffman code")
	return 0
}

// greyCoeffs decodes a baseline greyscale JPEG to its quantised
// coefficients (zig-zag order, one [64]int32 per block, row by row) and its
// quantisation table (natural order).
func greyCoeffs(t *testing.T, f []byte) (blocks [][64]int32, bw int, quant [64]int) {
	t.Helper()
	dc, ac := map[int]huffDecoder{}, map[int]huffDecoder{}
	var w, h int
	sosEnd := 0
	for _, s := range segments(t, f) {
		switch s.marker {
		case 0xdb:
			for z := range 64 {
				quant[zigzag[z]] = int(s.data[1+z])
			}
		case 0xc0:
			h, w = int(s.data[1])<<8|int(s.data[2]), int(s.data[3])<<8|int(s.data[4])
			if s.data[5] != 1 {
				t.Fatal("not greyscale")
			}
		case 0xc4:
			for d := s.data; len(d) > 0; {
				n := 0
				for _, c := range d[1:17] {
					n += int(c)
				}
				hd := newHuffDecoder(d[1:17], d[17:17+n])
				if d[0]>>4 == 0 {
					dc[int(d[0]&15)] = hd
				} else {
					ac[int(d[0]&15)] = hd
				}
				d = d[17+n:]
			}
		case 0xda:
			sosEnd = s.end // the scan data follows the header
		}
	}
	td, ta := 0, 0
	r := &coeffReader{data: f[sosEnd:]}
	bw, bh := (w+7)/8, (h+7)/8
	blocks = make([][64]int32, bw*bh)
	pred := int32(0)
	for i := range blocks {
		b := &blocks[i]
		s := uint(dc[td].decode(t, r))
		pred += extend(r.bits(s), s)
		b[0] = pred
		for k := 1; k < 64; k++ {
			rs := ac[ta].decode(t, r)
			run, size := int(rs>>4), uint(rs&15)
			if size == 0 {
				if run != 15 {
					break
				}
				k += 15
				continue
			}
			k += run
			b[k] = extend(r.bits(size), size)
		}
	}
	return blocks, bw, quant
}

// TestCoefficientAccuracy decodes the coefficients of our greyscale output
// and image/jpeg's and compares them with the exact ones: the float64 DCT
// of T.81 A.3.3 divided by the quantiser and rounded half away from zero.
// It reports the share of coefficients each encoder gets wrong by one step
// and the RMS distance of the coded values from the unrounded exact ones.
func TestCoefficientAccuracy(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *image.Gray
	}{
		{"photo", toGray(photoLike(256, 256, 21))},
		{"noise", toGray(noiseImage(256, 256, 22))},
	} {
		// The exact DCT of every block.
		bw := (c.m.Rect.Dx() + 7) / 8
		exact := make([][64]float64, bw*((c.m.Rect.Dy()+7)/8))
		for i := range exact {
			bx, by := i%bw, i/bw
			var in [64]float64
			for y := range 8 {
				for x := range 8 {
					in[y*8+x] = float64(c.m.GrayAt(bx*8+x, by*8+y).Y) - 128
				}
			}
			exact[i] = refDCT(&in)
		}
		for _, q := range []int{50, 90, 100} {
			ours := encode(t, c.m, &Options{Quality: q, OptimizeHuffman: q == 90})
			std := encodeStd(t, c.m, q)
			ob, _, quant := greyCoeffs(t, ours)
			sb, _, _ := greyCoeffs(t, std)
			var oWrong, sWrong, total int
			var oErr, sErr float64
			for i := range ob {
				for z := range 64 {
					n := zigzag[z]
					e := exact[i][n] / float64(quant[n])
					// A coded value is wrong when it is not a nearest
					// integer (exact ties count as right either way).
					if math.Abs(float64(ob[i][z])-e) > 0.5+1e-9 {
						oWrong++
					}
					if math.Abs(float64(sb[i][z])-e) > 0.5+1e-9 {
						sWrong++
					}
					oErr += (float64(ob[i][z]) - e) * (float64(ob[i][z]) - e)
					sErr += (float64(sb[i][z]) - e) * (float64(sb[i][z]) - e)
					total++
				}
			}
			t.Logf("%s q%d: coefficients not rounded to nearest: ours %d of %d (%.4f%%), image/jpeg %d (%.4f%%); RMS error ours %.4f, image/jpeg %.4f",
				c.name, q, oWrong, total, 100*float64(oWrong)/float64(total), sWrong, 100*float64(sWrong)/float64(total),
				math.Sqrt(oErr/float64(total)), math.Sqrt(sErr/float64(total)))
			if oWrong*1000 > total || oWrong > sWrong {
				t.Errorf("%s q%d: %d wrong coefficients (image/jpeg: %d)", c.name, q, oWrong, sWrong)
			}
		}
	}
}

// TestQuantiseTies checks that exact halves round away from zero: a single
// sample d above a flat block at 128 gives F(0,0), F(0,4), F(4,0) and
// F(4,4) all equal to d/8, which is ±0.5 at quantiser 1 for d = ±4, and
// ±0.5·q at quantiser q for d = ±4q.
func TestQuantiseTies(t *testing.T) {
	for _, qv := range []uint8{1, 2, 3, 7, 16, 25} {
		var q [64]uint8
		for i := range q {
			q[i] = qv
		}
		r := quantRecip(&q)
		for _, sign := range []int{1, -1} {
			d := sign * 4 * int(qv)
			if 128+d < 0 || 128+d > 255 {
				continue
			}
			src := make([]byte, 64)
			for i := range src {
				src[i] = 128
			}
			src[0] = byte(128 + d)
			var dst [64]int16
			fdctQuant(src, 8, &q, &r, &dst)
			for _, n := range []int{0, 4, 32, 36} {
				if got := dst[unzigzag[n]]; got != int16(sign) {
					t.Errorf("q=%d d=%d: coefficient %d quantised to %d, want %d", qv, d, n, got, sign)
				}
			}
		}
	}
}
