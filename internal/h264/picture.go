package h264

import "image"

// picture is a frame in Y′CbCr 4:2:0 planes of whole macroblocks.
type picture struct {
	y, cb, cr []uint8
	ys, cs    int // strides: luma and chroma widths
	lh, ch    int // luma and chroma heights
}

func newPicture(mbw, mbh int) *picture {
	p := &picture{ys: 16 * mbw, cs: 8 * mbw, lh: 16 * mbh, ch: 8 * mbh}
	p.y = make([]uint8, p.ys*p.lh)
	p.cb = make([]uint8, p.cs*p.ch)
	p.cr = make([]uint8, p.cs*p.ch)
	return p
}

// BT.709 limited-range conversion factors, scaled by 2¹⁶.
const (
	yR, yG, yB    = 11966, 40254, 4064
	cbR, cbG, cbB = -6596, -22189, 28784
	crR, crG, crB = 28784, -26145, -2639
)

// load converts img (its alpha is ignored: the caller flattens) into p,
// repeating the last column and row into the padding.
func (p *picture) load(img *image.NRGBA) {
	b := img.Rect
	w, h := b.Dx(), b.Dy()
	pix := func(x, y int) []uint8 {
		x, y = min(x, w-1), min(y, h-1)
		i := (y)*img.Stride + 4*x + img.PixOffset(b.Min.X, b.Min.Y)
		return img.Pix[i : i+3 : i+3]
	}
	for cy := range p.ch {
		for cx := range p.cs {
			var sb, sr int32
			for dy := range 2 {
				y := 2*cy + dy
				for dx := range 2 {
					x := 2*cx + dx
					c := pix(x, y)
					r, g, bl := int32(c[0]), int32(c[1]), int32(c[2])
					p.y[y*p.ys+x] = uint8(16 + (yR*r+yG*g+yB*bl+1<<15)>>16)
					sb += cbR*r + cbG*g + cbB*bl
					sr += crR*r + crG*g + crB*bl
				}
			}
			p.cb[cy*p.cs+cx] = uint8(128 + (sb+1<<17)>>18)
			p.cr[cy*p.cs+cx] = uint8(128 + (sr+1<<17)>>18)
		}
	}
}
