package jpegenc

// Marker segments (T.81 Annex B and the JFIF specification).

// writeHeaders writes SOI, the JFIF APP0 segment, the quantisation tables
// and the frame header.
func (e *encoder) writeHeaders() {
	o := &e.out
	o.bytes(0xff, 0xd8) // SOI
	// APP0 "JFIF\0", version 1.01, no density units, 1:1 aspect, no thumbnail.
	o.bytes(0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0)

	nq := 1
	if e.ncomp == 3 {
		nq = 2
	}
	o.bytes(0xff, 0xdb) // DQT
	o.u16(2 + 65*nq)
	for t := range nq {
		o.bytes(byte(t)) // 8-bit precision, table t
		for z := range 64 {
			o.bytes(e.quant[t][zigzag[z]])
		}
	}

	sof := byte(0xc0)
	if e.progressive {
		sof = 0xc2
	}
	o.bytes(0xff, sof)
	o.u16(8 + 3*e.ncomp)
	o.bytes(8) // sample precision
	o.u16(e.height)
	o.u16(e.width)
	o.bytes(byte(e.ncomp))
	for i := range e.ncomp {
		c := &e.comps[i]
		o.bytes(c.id, byte(c.h<<4|c.v), byte(c.tq))
	}
}

// dhtTable names one Huffman table of a DHT segment.
type dhtTable struct {
	class int // 0 DC, 1 AC
	id    int
	spec  *huffSpec
}

// writeDHT writes one DHT segment with the given tables.
func (e *encoder) writeDHT(ts []dhtTable) {
	o := &e.out
	n := 2
	for _, t := range ts {
		n += 17 + len(t.spec.values)
	}
	o.bytes(0xff, 0xc4)
	o.u16(n)
	for _, t := range ts {
		o.bytes(byte(t.class<<4 | t.id))
		o.bytes(t.spec.counts[:]...)
		o.bytes(t.spec.values...)
	}
}

// writeSOS writes a scan header for the components with the given indices,
// spectral selection ss..se and successive approximation ah, al. A
// component uses DC and AC tables numbered by its tq; the single component
// of an AC scan uses AC table 0.
func (e *encoder) writeSOS(comps []int, ss, se, ah, al int) {
	o := &e.out
	o.bytes(0xff, 0xda)
	o.u16(6 + 2*len(comps))
	o.bytes(byte(len(comps)))
	for _, ci := range comps {
		c := &e.comps[ci]
		td, ta := c.tq, c.tq
		if e.progressive {
			if ss == 0 {
				ta = 0
			} else {
				td, ta = 0, 0
			}
		}
		o.bytes(c.id, byte(td<<4|ta))
	}
	o.bytes(byte(ss), byte(se), byte(ah<<4|al))
}
