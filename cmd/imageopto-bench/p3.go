package main

import (
	"encoding/binary"
	"math"
)

// displayP3 returns a Display P3 ICC profile (v2, matrix/TRC: the P3
// primaries, D65 white adapted to D50 with Bradford, the sRGB curve), for
// making an iPhone-like test photo (see BENCHMARKS.md):
//
//	go run ./cmd/imageopto-bench -write-display-p3 DisplayP3.icc
func displayP3() []byte {
	xy := func(x, y float64) [3]float64 { return [3]float64{x / y, 1, (1 - x - y) / y} }
	r, g, b, w := xy(0.680, 0.320), xy(0.265, 0.690), xy(0.150, 0.060), xy(0.3127, 0.3290)
	prim := m3{{r[0], g[0], b[0]}, {r[1], g[1], b[1]}, {r[2], g[2], b[2]}}
	s := prim.inv().ap(w)
	toXYZ := prim.mul(m3{{s[0], 0, 0}, {0, s[1], 0}, {0, 0, s[2]}})
	br := m3{{0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}}
	d50 := [3]float64{0.9642, 1, 0.8249}
	src, dst := br.ap(w), br.ap(d50)
	ad := br.inv().mul(m3{{dst[0] / src[0], 0, 0}, {0, dst[1] / src[1], 0}, {0, 0, dst[2] / src[2]}}).mul(br)
	m := ad.mul(toXYZ)
	col := func(c int) [3]float64 { return [3]float64{m[0][c], m[1][c], m[2][c]} }
	curv := binary.BigEndian.AppendUint32(elem("curv"), 1024)
	for i := 0; i < 1024; i++ {
		x := float64(i) / 1023
		var y float64
		if x <= 0.04045 {
			y = x / 12.92
		} else {
			y = math.Pow((x+0.055)/1.055, 2.4)
		}
		curv = binary.BigEndian.AppendUint16(curv, uint16(math.Round(y*65535)))
	}
	desc := func(s string) []byte {
		b := binary.BigEndian.AppendUint32(elem("desc"), uint32(len(s)+1))
		b = append(append(b, s...), 0)
		return append(b, make([]byte, 4+4+2+1+67)...)
	}
	text := append(append(elem("text"), "Public domain"...), 0)
	tags := []struct {
		s string
		d []byte
	}{{"desc", desc("Display P3")}, {"cprt", text}, {"wtpt", xyz(d50)}, {"rXYZ", xyz(col(0))}, {"gXYZ", xyz(col(1))}, {"bXYZ", xyz(col(2))}, {"rTRC", curv}, {"gTRC", curv}, {"bTRC", curv}}
	off := 128 + 4 + 12*len(tags)
	var body []byte
	table := binary.BigEndian.AppendUint32(nil, uint32(len(tags)))
	for _, t := range tags {
		for (off+len(body))%4 != 0 {
			body = append(body, 0)
		}
		table = append(table, sig(t.s)...)
		table = binary.BigEndian.AppendUint32(table, uint32(off+len(body)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(t.d)))
		body = append(body, t.d...)
	}
	h := make([]byte, 128)
	binary.BigEndian.PutUint32(h[0:], uint32(128+len(table)+len(body)))
	binary.BigEndian.PutUint32(h[8:], 0x02100000)
	copy(h[12:], "mntr")
	copy(h[16:], "RGB ")
	copy(h[20:], "XYZ ")
	copy(h[36:], "acsp")
	copy(h[68:], s15(0.9642))
	copy(h[72:], s15(1))
	copy(h[76:], s15(0.8249))
	return append(append(h, table...), body...)
}

type m3 [3][3]float64

func (a m3) mul(b m3) (c m3) {
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				c[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return
}
func (a m3) ap(v [3]float64) (r [3]float64) {
	for i := 0; i < 3; i++ {
		r[i] = a[i][0]*v[0] + a[i][1]*v[1] + a[i][2]*v[2]
	}
	return
}
func (m m3) inv() m3 {
	d := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	var r m3
	r[0][0] = (m[1][1]*m[2][2] - m[1][2]*m[2][1]) / d
	r[0][1] = (m[0][2]*m[2][1] - m[0][1]*m[2][2]) / d
	r[0][2] = (m[0][1]*m[1][2] - m[0][2]*m[1][1]) / d
	r[1][0] = (m[1][2]*m[2][0] - m[1][0]*m[2][2]) / d
	r[1][1] = (m[0][0]*m[2][2] - m[0][2]*m[2][0]) / d
	r[1][2] = (m[0][2]*m[1][0] - m[0][0]*m[1][2]) / d
	r[2][0] = (m[1][0]*m[2][1] - m[1][1]*m[2][0]) / d
	r[2][1] = (m[0][1]*m[2][0] - m[0][0]*m[2][1]) / d
	r[2][2] = (m[0][0]*m[1][1] - m[0][1]*m[1][0]) / d
	return r
}
func s15(v float64) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(int32(math.Round(v*65536))))
}
func sig(s string) []byte  { return []byte((s + "    ")[:4]) }
func elem(t string) []byte { return append(sig(t), 0, 0, 0, 0) }
func xyz(v [3]float64) []byte {
	b := elem("XYZ ")
	for _, x := range v {
		b = append(b, s15(x)...)
	}
	return b
}
