package jpegdec

import (
	"fmt"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Marker codes (T.81 Table B.1), the byte that follows 0xFF.
const (
	mSOF0 = 0xC0 // baseline sequential DCT, Huffman
	mSOF1 = 0xC1 // extended sequential DCT, Huffman
	mSOF2 = 0xC2 // progressive DCT, Huffman
	mDHT  = 0xC4 // define Huffman tables
	mDAC  = 0xCC // define arithmetic coding conditioning
	mRST0 = 0xD0 // restart markers RST0…RST7
	mRST7 = 0xD7
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mDQT  = 0xDB
	mDNL  = 0xDC
	mDRI  = 0xDD
	mDHP  = 0xDE // define hierarchical progression
	mEXP  = 0xDF // expand reference components
	mAPP0 = 0xE0
	mAP14 = 0xEE
	mAP15 = 0xEF
	mCOM  = 0xFE
	mTEM  = 0x01
)

// maxComp is the largest number of frame components decoded.
const maxComp = 4

// component is one image component (T.81 B.2.2) with its decoding state.
type component struct {
	id   byte
	h, v int // sampling factors
	tq   int // quantisation table selector

	// bw×bh is the component's block grid padded to whole MCUs; nbx×nby
	// are the blocks that carry data in a non-interleaved scan
	// (T.81 A.2.2: ceil(ceil(X·h/hmax)/8) per row).
	bw, bh   int
	nbx, nby int

	// The component's reduction: 1, 2, 4 or 8, normally the decode scale
	// (DecodePlanes may reduce chroma further), and bs = 8/scale, the
	// output block size. keep maps a zig-zag position to the index of the
	// coefficient in the reduced natural-order grid kept at this scale, or
	// 64; keepLast is the last zig-zag position kept and keepN the number
	// of kept coefficients (64, 16, 4 or 1).
	scale, bs int
	keep      [64]uint8
	keepLast  int
	keepN     int

	// pix is the component's output plane, bw·bs wide and bh·bs high.
	pix    []byte
	stride int

	// quantLatched is set once the component's quantisation table has been
	// copied to qz and qr at the start of its first scan (T.81 B.2.4.1: a
	// table may be redefined only for later components).
	quantLatched bool
	qz           [64]int32 // dequantisation factors, zig-zag order
	qr           [64]int32 // the same for the kept coefficients, reduced natural order

	// Progressive state: K coefficients per block (keepN),
	// natural order of the reduced grid, and when the file has AC
	// refinement scans a bitmap per block of the zig-zag positions whose
	// coefficient is nonzero (bit k for position k).
	coef []int16
	nz   []uint64

	pred int32 // DC predictor (T.81 F.2.1.3.1)
}

// decoder holds the state of one Decode or DecodeConfig call.
type decoder struct {
	data     []byte
	scale    int // 1, 2, 4 or 8
	bs       int // output block size, 8/scale
	maxScans int
	// planes is set by DecodePlanes; chromaStep is its bound on the
	// distance between chroma samples (Options.ChromaStepX, Y).
	planes     bool
	chromaStep [2]int

	width, height int
	ncomp         int
	comps         [maxComp]component
	hmax, vmax    int
	mcusX, mcusY  int
	sof           byte // frame marker, 0 before the SOF
	progressive   bool

	jfif           bool
	adobe          bool
	adobeTransform byte
	rgb            bool // a 3-component frame holds RGB (decided at the first scan)

	quant    [4][64]uint16 // zig-zag order, as in DQT
	quantSet [4]bool
	huff     [2][4]huffTable // [0]: DC, [1]: AC

	ri        int // restart interval in MCUs, 0: none
	eobrun    int // remaining blocks of the current EOB run (T.81 G.1.2.2)
	br        bitReader
	allocated bool // planes (and the coefficient store) exist
	hasRefine bool // the file has AC refinement scans (progressive)
	scans     int  // SOS markers seen

	// blk holds the dequantised coefficients of the block being decoded,
	// reduced natural order; index 64 absorbs the dropped ones, and the
	// size lets a uint8 index it without bounds checks.
	blk [256]int32

	// poll polls the caller's context every few MCU rows.
	poll ctxpoll.Poller
	// threads is Options.Threads; pipe, while a sequential scan runs with
	// a second goroutine, takes its decoded blocks.
	threads int
	pipe    *idctPipe
}

// be16 reads a big-endian 16-bit value.
func be16(b []byte) int { return int(b[0])<<8 | int(b[1]) }

// nextMarker finds the next marker at or after pos, skipping bytes that are
// not markers (libjpeg and image/jpeg also ignore extraneous data between
// segments) and fill bytes. It returns the marker code and the position
// after it, or ok false when the data ends first.
func nextMarker(data []byte, pos int) (marker byte, next int, ok bool) {
	for pos < len(data) {
		if data[pos] != 0xFF {
			pos++
			continue
		}
		for pos < len(data) && data[pos] == 0xFF {
			pos++
		}
		if pos >= len(data) {
			break
		}
		m := data[pos]
		pos++
		if m != 0 {
			return m, pos, true
		}
	}
	return 0, len(data), false
}

// scanEnd returns the position of the first marker other than RSTn at or
// after pos, skipping entropy-coded data (where 0xFF is followed by a
// stuffed zero); the position is that of the 0xFF. It returns len(data)
// when the data ends first.
func scanEnd(data []byte, pos int) int {
	for {
		p := findFF(data, pos)
		if p < 0 {
			return len(data)
		}
		q := p + 1
		for q < len(data) && data[q] == 0xFF {
			q++
		}
		if q >= len(data) {
			return len(data)
		}
		m := data[q]
		if m == 0 || (m >= mRST0 && m <= mRST7) {
			pos = q + 1
			continue
		}
		return q - 1
	}
}

// parse walks the marker segments. With configOnly it stops after the frame
// header; otherwise it decodes every scan and stops at EOI.
func (d *decoder) parse(configOnly bool) error {
	data := d.data
	if len(data) < 2 || data[0] != 0xFF || data[1] != mSOI {
		return corrupt("missing SOI marker")
	}
	pos := 2
	for {
		m, p, ok := nextMarker(data, pos)
		if !ok {
			if d.sof == 0 {
				return corrupt("missing SOF marker")
			}
			return errTruncated
		}
		pos = p
		switch {
		case m == mEOI:
			if configOnly || d.sof == 0 {
				return corrupt("missing SOF marker")
			}
			if d.scans == 0 {
				return corrupt("missing SOS marker")
			}
			if d.progressive {
				return d.reconstruct()
			}
			return nil
		case m >= mRST0 && m <= mRST7, m == mTEM, m == mSOI:
			// Stray restart markers after a scan are harmless; TEM and
			// SOI carry no segment.
			continue
		}
		if pos+2 > len(data) {
			return errTruncated
		}
		n := be16(data[pos:])
		if n < 2 {
			return corrupt("short segment length")
		}
		if pos+n > len(data) {
			return errTruncated
		}
		seg := data[pos+2 : pos+n]
		pos += n
		var err error
		switch m {
		case mSOF0, mSOF1, mSOF2:
			err = d.parseSOF(m, seg)
			if err == nil && configOnly {
				return nil
			}
		case 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			err = unsupported(sofName(m))
		case mDAC:
			err = unsupported("arithmetic coding")
		case mDHP, mEXP:
			err = unsupported("hierarchical mode")
		case mDHT:
			if !configOnly {
				err = d.parseDHT(seg)
			}
		case mDQT:
			if !configOnly {
				err = d.parseDQT(seg)
			}
		case mDRI:
			if len(seg) != 2 {
				err = corrupt("DRI has wrong length")
			} else {
				d.ri = be16(seg)
			}
		case mAPP0:
			if len(seg) >= 5 && string(seg[:5]) == "JFIF\x00" {
				d.jfif = true
			}
		case mAP14:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe = true
				d.adobeTransform = seg[11]
			}
		case mSOS:
			if configOnly {
				return corrupt("missing SOF marker")
			}
			pos, err = d.parseSOS(seg, pos)
		case mDNL:
			// Only meaningful with a zero height, which parseSOF refuses.
		default:
			if m < 0xC0 {
				err = corrupt(fmt.Sprintf("unknown marker 0x%02X", m))
			}
			// APPn, COM and the reserved JPGn markers are skipped.
		}
		if err != nil {
			return err
		}
	}
}

// sofName describes an unsupported frame type.
func sofName(m byte) string {
	switch m {
	case 0xC3:
		return "lossless (SOF3)"
	case 0xC5, 0xC6, 0xC7:
		return fmt.Sprintf("hierarchical (SOF%d)", m-0xC0)
	case 0xCB, 0xCF:
		return fmt.Sprintf("lossless arithmetic coding (SOF%d)", m-0xC0)
	default:
		return fmt.Sprintf("arithmetic coding (SOF%d)", m-0xC0)
	}
}

// parseSOF reads a frame header (T.81 B.2.2).
func (d *decoder) parseSOF(m byte, seg []byte) error {
	if d.sof != 0 {
		return corrupt("multiple SOF markers")
	}
	if len(seg) < 6 {
		return corrupt("SOF has wrong length")
	}
	if seg[0] != 8 {
		return unsupported(fmt.Sprintf("%d-bit samples", seg[0]))
	}
	d.height = be16(seg[1:])
	d.width = be16(seg[3:])
	nc := int(seg[5])
	if len(seg) != 6+3*nc {
		return corrupt("SOF has wrong length")
	}
	switch nc {
	case 1, 3, 4:
	default:
		return unsupported(fmt.Sprintf("%d components", nc))
	}
	if d.width == 0 {
		return corrupt("zero width")
	}
	if d.height == 0 {
		return unsupported("height defined by a DNL marker")
	}
	d.ncomp = nc
	d.hmax, d.vmax = 1, 1
	for i := range nc {
		c := &d.comps[i]
		b := seg[6+3*i:]
		c.id = b[0]
		for j := range i {
			if d.comps[j].id == c.id {
				return corrupt("repeated component identifier")
			}
		}
		c.h, c.v = int(b[1]>>4), int(b[1]&15)
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return corrupt("bad sampling factors")
		}
		if c.h == 3 || c.v == 3 {
			return unsupported("sampling factor 3")
		}
		if nc == 1 {
			// A single component is always non-interleaved and its MCU is
			// one block whatever the nominal factors (T.81 A.2).
			c.h, c.v = 1, 1
		}
		c.tq = int(b[2])
		if c.tq > 3 {
			return corrupt("bad quantisation table selector")
		}
		d.hmax = max(d.hmax, c.h)
		d.vmax = max(d.vmax, c.v)
	}
	d.sof = m
	d.progressive = m == mSOF2
	d.mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	for i := range nc {
		c := &d.comps[i]
		c.bw, c.bh = d.mcusX*c.h, d.mcusY*c.v
		cw := (d.width*c.h + d.hmax - 1) / d.hmax
		ch := (d.height*c.v + d.vmax - 1) / d.vmax
		c.nbx, c.nby = (cw+7)/8, (ch+7)/8
	}
	return nil
}

// parseDQT reads quantisation tables (T.81 B.2.4.1).
func (d *decoder) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, int(seg[0]&15)
		seg = seg[1:]
		if tq > 3 {
			return corrupt("bad quantisation table destination")
		}
		q := &d.quant[tq]
		switch pq {
		case 0:
			if len(seg) < 64 {
				return corrupt("DQT has wrong length")
			}
			for k := range q {
				q[k] = uint16(seg[k])
			}
			seg = seg[64:]
		case 1:
			if len(seg) < 128 {
				return corrupt("DQT has wrong length")
			}
			for k := range q {
				q[k] = uint16(be16(seg[2*k:]))
			}
			seg = seg[128:]
		default:
			return corrupt("bad quantisation table precision")
		}
		d.quantSet[tq] = true
	}
	return nil
}

// parseDHT reads Huffman tables (T.81 B.2.4.2).
func (d *decoder) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return corrupt("DHT has wrong length")
		}
		tc, th := seg[0]>>4, seg[0]&15
		if tc > 1 || th > 3 {
			return corrupt("bad Huffman table class or destination")
		}
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(seg[l])
			total += counts[l]
		}
		seg = seg[17:]
		if total == 0 || total > 256 || len(seg) < total {
			return corrupt("bad Huffman table length")
		}
		if err := d.huff[tc][th].build(&counts, seg[:total], tc == 1); err != nil {
			return err
		}
		seg = seg[total:]
	}
	return nil
}
