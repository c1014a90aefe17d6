package h264

// Intra prediction (8.3.3 and 8.3.4) from the reconstructed neighbours of
// a macroblock. Pictures are coded as one slice, so a neighbour is
// available exactly when it is inside the picture.

// Intra 16×16 luma prediction modes.
const (
	i16Vertical = iota
	i16Horizontal
	i16DC
	i16Plane
)

// Chroma intra prediction modes.
const (
	chromaDC = iota
	chromaHorizontal
	chromaVertical
	chromaPlane
)

func clip1(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// predLuma16 writes the Intra_16x16 prediction of mode for the macroblock
// at (mbx, mby) of p into out. The mode must be usable there
// (lumaModeOK).
func predLuma16(p *picture, mbx, mby, mode int, out *[256]uint8) {
	s := p.ys
	x0, y0 := mbx*16, mby*16
	top := func(x int) int32 { return int32(p.y[(y0-1)*s+x0+x]) }  // x = −1 is the corner
	left := func(y int) int32 { return int32(p.y[(y0+y)*s+x0-1]) } // y = −1 is the corner
	switch mode {
	case i16Vertical:
		row := p.y[(y0-1)*s+x0 : (y0-1)*s+x0+16]
		for y := range 16 {
			copy(out[16*y:16*y+16], row)
		}
	case i16Horizontal:
		for y := range 16 {
			v := p.y[(y0+y)*s+x0-1]
			for x := range 16 {
				out[16*y+x] = v
			}
		}
	case i16DC:
		var sum, n int32
		if mby > 0 {
			for x := range 16 {
				sum += top(x)
			}
			n += 16
		}
		if mbx > 0 {
			for y := range 16 {
				sum += left(y)
			}
			n += 16
		}
		v := uint8(128)
		switch n {
		case 32:
			v = uint8((sum + 16) >> 5)
		case 16:
			v = uint8((sum + 8) >> 4)
		}
		for i := range out {
			out[i] = v
		}
	case i16Plane:
		var h, vv int32
		for i := range int32(8) {
			h += (i + 1) * (top(int(8+i)) - top(int(6-i)))
			vv += (i + 1) * (left(int(8+i)) - left(int(6-i)))
		}
		a := 16 * (left(15) + top(15))
		b := (5*h + 32) >> 6
		c := (5*vv + 32) >> 6
		for y := range int32(16) {
			for x := range int32(16) {
				out[16*y+x] = clip1((a + b*(x-7) + c*(y-7) + 16) >> 5)
			}
		}
	}
}

// lumaModeOK reports whether an Intra_16x16 mode may be used at (mbx, mby).
func lumaModeOK(mbx, mby, mode int) bool {
	switch mode {
	case i16Vertical:
		return mby > 0
	case i16Horizontal:
		return mbx > 0
	case i16Plane:
		return mbx > 0 && mby > 0
	}
	return true
}

// chromaModeOK reports whether a chroma mode may be used at (mbx, mby).
func chromaModeOK(mbx, mby, mode int) bool {
	switch mode {
	case chromaVertical:
		return mby > 0
	case chromaHorizontal:
		return mbx > 0
	case chromaPlane:
		return mbx > 0 && mby > 0
	}
	return true
}

// predChroma writes the 8×8 prediction of a chroma plane (stride s) for
// the macroblock at (mbx, mby).
func predChroma(pl []uint8, s, mbx, mby, mode int, out *[64]uint8) {
	x0, y0 := mbx*8, mby*8
	top := func(x int) int32 { return int32(pl[(y0-1)*s+x0+x]) }
	left := func(y int) int32 { return int32(pl[(y0+y)*s+x0-1]) }
	switch mode {
	case chromaDC:
		haveTop, haveLeft := mby > 0, mbx > 0
		for blk := range 4 {
			xo, yo := 4*(blk&1), 4*(blk>>1)
			var st, sl int32
			if haveTop {
				for i := range 4 {
					st += top(xo + i)
				}
			}
			if haveLeft {
				for i := range 4 {
					sl += left(yo + i)
				}
			}
			v := int32(128)
			switch {
			case xo == yo: // blocks 0 and 3: both sides when available
				switch {
				case haveTop && haveLeft:
					v = (st + sl + 4) >> 3
				case haveLeft:
					v = (sl + 2) >> 2
				case haveTop:
					v = (st + 2) >> 2
				}
			case yo == 0: // block 1: the top first
				switch {
				case haveTop:
					v = (st + 2) >> 2
				case haveLeft:
					v = (sl + 2) >> 2
				}
			default: // block 2: the left first
				switch {
				case haveLeft:
					v = (sl + 2) >> 2
				case haveTop:
					v = (st + 2) >> 2
				}
			}
			for y := range 4 {
				for x := range 4 {
					out[8*(yo+y)+xo+x] = uint8(v)
				}
			}
		}
	case chromaHorizontal:
		for y := range 8 {
			v := pl[(y0+y)*s+x0-1]
			for x := range 8 {
				out[8*y+x] = v
			}
		}
	case chromaVertical:
		row := pl[(y0-1)*s+x0 : (y0-1)*s+x0+8]
		for y := range 8 {
			copy(out[8*y:8*y+8], row)
		}
	case chromaPlane:
		var h, vv int32
		for i := range int32(4) {
			h += (i + 1) * (top(int(4+i)) - top(int(2-i)))
			vv += (i + 1) * (left(int(4+i)) - left(int(2-i)))
		}
		a := 16 * (left(7) + top(7))
		b := (34*h + 32) >> 6
		c := (34*vv + 32) >> 6
		for y := range int32(8) {
			for x := range int32(8) {
				out[8*y+x] = clip1((a + b*(x-3) + c*(y-3) + 16) >> 5)
			}
		}
	}
}
