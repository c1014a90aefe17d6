package imaging

import (
	"context"
	"encoding/binary"
	"image"
	"image/color"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Crop returns a copy of the region r of src, with its origin at (0, 0).
// r is given in src's coordinate space and is clipped to src's bounds; an
// empty intersection gives an empty image. ctx is polled every few rows
// (see ctxpoll): once it is done, Crop stops and returns ctx.Err().
func Crop(ctx context.Context, src *image.NRGBA, r image.Rectangle) (*image.NRGBA, error) {
	r = r.Intersect(src.Rect)
	dst := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	if r.Empty() {
		return dst, nil
	}
	n := r.Dx() * 4
	off := src.PixOffset(r.Min.X, r.Min.Y)
	pl := ctxpoll.New(ctx)
	// Rows are copied in batches of about Interval bytes: one copy when the
	// rows are contiguous in both images.
	batch := 1
	if src.Stride == n {
		batch = max(ctxpoll.Interval/n, 1)
	}
	for y := 0; y < r.Dy(); y += batch {
		rows := min(batch, r.Dy()-y)
		if err := pl.Work(rows * n); err != nil {
			return nil, err
		}
		if rows > 1 {
			copy(dst.Pix[y*n:(y+rows)*n], src.Pix[off:off+rows*n])
		} else {
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+n], src.Pix[off:off+n])
		}
		off += rows * src.Stride
	}
	return dst, nil
}

// Orient returns src transformed from the stored orientation described by
// the EXIF Orientation value o into the upright image: 1 leaves it as is
// (src itself is returned), 2 mirrors horizontally, 3 rotates by 180°,
// 4 mirrors vertically, 5 transposes (swaps x and y), 6 rotates 90°
// clockwise, 7 transverses (mirrors horizontally, then rotates 90°
// clockwise) and 8 rotates 90° counter-clockwise. These are also the values
// of Fastly's orient parameter (orient=r is 6, orient=l is 8). Values 5 to 8
// swap width and height. Any other value returns src unchanged. ctx is
// polled every few rows (see ctxpoll): once it is done, Orient stops and
// returns ctx.Err().
func Orient(ctx context.Context, src *image.NRGBA, o int) (*image.NRGBA, error) {
	if o < 2 || o > 8 {
		return src, nil
	}
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := sw, sh
	if o >= 5 {
		dw, dh = sh, sw
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	if dw == 0 || dh == 0 {
		return dst, nil
	}
	base := src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y)
	// Destination pixel (x, y) reads source pixel (x0 + x*dx + y*dy): the
	// source offset of (0, 0) and the source steps for one destination step
	// along x and along y.
	ps := src.Stride
	var x0, dx, dy int
	switch o {
	case 2: // (x, y) <- (sw-1-x, y)
		x0, dx, dy = (sw-1)*4, -4, ps
	case 3: // (x, y) <- (sw-1-x, sh-1-y)
		x0, dx, dy = (sh-1)*ps+(sw-1)*4, -4, -ps
	case 4: // (x, y) <- (x, sh-1-y)
		x0, dx, dy = (sh-1)*ps, 4, -ps
	case 5: // (x, y) <- (y, x)
		x0, dx, dy = 0, ps, 4
	case 6: // (x, y) <- (y, sh-1-x)
		x0, dx, dy = (sh-1)*ps, -ps, 4
	case 7: // (x, y) <- (sw-1-y, sh-1-x)
		x0, dx, dy = (sh-1)*ps+(sw-1)*4, -ps, -4
	case 8: // (x, y) <- (sw-1-y, x)
		x0, dx, dy = (sw-1)*4, ps, -4
	}
	in := src.Pix[base:]
	pl := ctxpoll.New(ctx)
	work := dw * 4
	if o >= 5 {
		work *= 4 // reading down columns misses the cache
	}
	for y := range dh {
		if err := pl.Work(work); err != nil {
			return nil, err
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+dw*4]
		i := x0 + y*dy
		for x := 0; x < len(out); x += 4 {
			p := in[i : i+4 : i+4]
			q := out[x : x+4 : x+4]
			q[0], q[1], q[2], q[3] = p[0], p[1], p[2], p[3]
			i += dx
		}
	}
	return dst, nil
}

// Place returns a new w×h image filled with bg, with src copied onto it so
// that src's top-left pixel lands at (x, y). The pixels of src replace the
// background, alpha included (nothing is composited); the parts of src that
// fall outside the canvas are clipped. ctx is polled every few rows (see
// ctxpoll): once it is done, Place stops and returns ctx.Err().
func Place(ctx context.Context, w, h int, bg color.NRGBA, src *image.NRGBA, x, y int) (*image.NRGBA, error) {
	w, h = max(w, 0), max(h, 0)
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w == 0 || h == 0 {
		return dst, nil
	}
	// The part of the canvas covered by src, in canvas coordinates.
	r := image.Rect(x, y, x+src.Rect.Dx(), y+src.Rect.Dy()).Intersect(dst.Rect)
	pl := ctxpoll.New(ctx)
	n := r.Dx() * 4
	so := 0
	if !r.Empty() {
		so = src.PixOffset(src.Rect.Min.X+r.Min.X-x, src.Rect.Min.Y+r.Min.Y-y)
	}
	for row := range h {
		if err := pl.Work(dst.Stride); err != nil {
			return nil, err
		}
		line := dst.Pix[row*dst.Stride : (row+1)*dst.Stride]
		geoFill(line, bg)
		if row >= r.Min.Y && row < r.Max.Y {
			copy(line[r.Min.X*4:r.Min.X*4+n], src.Pix[so:so+n])
			so += src.Stride
		}
	}
	return dst, nil
}

// geoFill fills pix, a whole number of NRGBA pixels, with c.
func geoFill(pix []uint8, c color.NRGBA) {
	if len(pix) < 4 {
		return
	}
	pix[0], pix[1], pix[2], pix[3] = c.R, c.G, c.B, c.A
	for n := 4; n < len(pix); n *= 2 {
		copy(pix[n:], pix[:n])
	}
}

// Flatten composites img in place over the background colour bg using the
// Porter-Duff "over" operator, with straight alpha on input and output and
// results rounded to nearest. With an opaque bg the result is opaque. ctx
// is polled every few rows (see ctxpoll): once it is done, Flatten stops,
// leaving the rows below unchanged, and returns ctx.Err().
func Flatten(ctx context.Context, img *image.NRGBA, bg color.NRGBA) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 {
		return nil
	}
	pl := ctxpoll.New(ctx)
	ba := int(bg.A)
	br, bgg, bb := int(bg.R), int(bg.G), int(bg.B)
	base := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y)
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return err
		}
		row := img.Pix[base+y*img.Stride : base+y*img.Stride+w*4]
		for x := 0; x < len(row); x += 4 {
			p := row[x : x+4 : x+4]
			sa := int(p[3])
			switch {
			case sa == 255:
				continue
			case sa == 0:
				p[0], p[1], p[2], p[3] = bg.R, bg.G, bg.B, bg.A
				continue
			}
			if ba == 255 {
				// out = (c*a + bg*(255-a)) / 255, rounded.
				ia := 255 - sa
				p[0] = uint8((int(p[0])*sa + br*ia + 127) / 255)
				p[1] = uint8((int(p[1])*sa + bgg*ia + 127) / 255)
				p[2] = uint8((int(p[2])*sa + bb*ia + 127) / 255)
				p[3] = 255
				continue
			}
			// General case, all in units of 1/255²: the output alpha is
			// ao = a*255 + ba*(255-a) and the premultiplied colour
			// c*a*255 + bgc*ba*(255-a); the straight colour is their ratio.
			fb := ba * (255 - sa)
			ao := sa*255 + fb
			half := ao / 2
			p[0] = uint8((int(p[0])*sa*255 + br*fb + half) / ao)
			p[1] = uint8((int(p[1])*sa*255 + bgg*fb + half) / ao)
			p[2] = uint8((int(p[2])*sa*255 + bb*fb + half) / ao)
			p[3] = uint8((ao + 127) / 255)
		}
	}
	return nil
}

// IsOpaque reports whether every pixel of img has an alpha of 255.
func IsOpaque(img *image.NRGBA) bool {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 {
		return true
	}
	// Little-endian 64-bit words hold two pixels, alphas in bytes 3 and 7.
	const alphas = 0xff000000_ff000000
	base := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y)
	for y := range h {
		row := img.Pix[base+y*img.Stride : base+y*img.Stride+w*4]
		acc := uint64(alphas)
		for len(row) >= 32 {
			acc &= binary.LittleEndian.Uint64(row[0:8]) & binary.LittleEndian.Uint64(row[8:16]) &
				binary.LittleEndian.Uint64(row[16:24]) & binary.LittleEndian.Uint64(row[24:32])
			row = row[32:]
		}
		a := uint8(0xff)
		for i := 3; i < len(row); i += 4 {
			a &= row[i]
		}
		if acc&alphas != alphas || a != 0xff {
			return false
		}
	}
	return true
}

// ToNRGBA converts m to an NRGBA image whose bounds start at (0, 0). An
// *image.NRGBA that already starts at (0, 0) is returned as is; other images
// are copied. *image.RGBA, *image.YCbCr (every subsampling ratio, JFIF
// full-range conversion exactly as color.YCbCrToRGB), *image.NYCbCrA,
// *image.Gray, *image.Paletted, *image.NRGBA64, *image.RGBA64 (16-bit values
// rounded to 8 bits) and *image.CMYK (as color.CMYKToRGB) are converted
// directly; any other type goes through At and color.NRGBAModel. ctx is
// polled every few rows (see ctxpoll): once it is done, ToNRGBA stops and
// returns ctx.Err().
func ToNRGBA(ctx context.Context, m image.Image) (*image.NRGBA, error) {
	if n, ok := m.(*image.NRGBA); ok {
		if n.Rect.Min == (image.Point{}) {
			return n, nil
		}
		return Crop(ctx, n, n.Rect)
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	if w <= 0 || h <= 0 {
		return dst, nil
	}
	pl := ctxpoll.New(ctx)
	var err error
	switch s := m.(type) {
	case *image.RGBA:
		err = geoFromRGBA(&pl, dst, s)
	case *image.YCbCr:
		err = geoFromYCbCr(&pl, dst, s, nil, 0)
	case *image.NYCbCrA:
		err = geoFromYCbCr(&pl, dst, &s.YCbCr, s.A, s.AStride)
	default:
		err = toNRGBARows(&pl, dst, m)
	}
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// toNRGBARows converts m, an image of a type without a whole-image
// conversion in ToNRGBA, into dst row by row, polling pl.
func toNRGBARows(pl *ctxpoll.Poller, dst *image.NRGBA, m image.Image) error {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	// The other types, row by row; the work of a row in ctxpoll units.
	var pal *[256]color.NRGBA
	work := 8 * w
	if p, ok := m.(*image.Paletted); ok {
		pal = new([256]color.NRGBA)
		for i, c := range p.Palette {
			if i == len(pal) {
				break
			}
			if c != nil {
				pal[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
			}
		}
		work = 4 * w
	}
	for y := range h {
		if err := pl.Work(work); err != nil {
			return err
		}
		toNRGBARow(dst.Pix[y*dst.Stride:y*dst.Stride+w*4], m, b.Min.Y+y, pal)
	}
	return nil
}

// toNRGBARow converts row y of m, an image of a type that ToNRGBA does not
// convert whole, into out; pal holds the converted palette of an
// *image.Paletted.
func toNRGBARow(out []uint8, m image.Image, y int, pal *[256]color.NRGBA) {
	b := m.Bounds()
	w := b.Dx()
	switch s := m.(type) {
	case *image.Gray:
		in := s.Pix[s.PixOffset(b.Min.X, y):][:w]
		for x, v := range in {
			q := out[x*4 : x*4+4 : x*4+4]
			q[0], q[1], q[2], q[3] = v, v, v, 255
		}
	case *image.Paletted:
		in := s.Pix[s.PixOffset(b.Min.X, y):][:w]
		for x, v := range in {
			c := pal[v]
			q := out[x*4 : x*4+4 : x*4+4]
			q[0], q[1], q[2], q[3] = c.R, c.G, c.B, c.A
		}
	case *image.NRGBA64:
		in := s.Pix[s.PixOffset(b.Min.X, y):][:w*8]
		for x := range w {
			p := in[x*8 : x*8+8 : x*8+8]
			q := out[x*4 : x*4+4 : x*4+4]
			q[0] = geo16to8(p[0], p[1])
			q[1] = geo16to8(p[2], p[3])
			q[2] = geo16to8(p[4], p[5])
			q[3] = geo16to8(p[6], p[7])
		}
	case *image.RGBA64:
		in := s.Pix[s.PixOffset(b.Min.X, y):][:w*8]
		for x := range w {
			p := in[x*8 : x*8+8 : x*8+8]
			q := out[x*4 : x*4+4 : x*4+4]
			a := int(p[6])<<8 | int(p[7])
			switch a {
			case 0:
				q[0], q[1], q[2], q[3] = 0, 0, 0, 0
			case 0xffff:
				q[0] = geo16to8(p[0], p[1])
				q[1] = geo16to8(p[2], p[3])
				q[2] = geo16to8(p[4], p[5])
				q[3] = 255
			default:
				// Straight colour c/a scaled to 0..255, rounded.
				q[0] = geoUnpremul16(int(p[0])<<8|int(p[1]), a)
				q[1] = geoUnpremul16(int(p[2])<<8|int(p[3]), a)
				q[2] = geoUnpremul16(int(p[4])<<8|int(p[5]), a)
				q[3] = geo16to8(p[6], p[7])
			}
		}
	case *image.CMYK:
		in := s.Pix[s.PixOffset(b.Min.X, y):][:w*4]
		for x := 0; x < len(in); x += 4 {
			p := in[x : x+4 : x+4]
			q := out[x : x+4 : x+4]
			q[0], q[1], q[2] = color.CMYKToRGB(p[0], p[1], p[2], p[3])
			q[3] = 255
		}
	default:
		for x := range w {
			c := color.NRGBAModel.Convert(m.At(b.Min.X+x, y)).(color.NRGBA)
			q := out[x*4 : x*4+4 : x*4+4]
			q[0], q[1], q[2], q[3] = c.R, c.G, c.B, c.A
		}
	}
}

// geo16to8 rounds the big-endian 16-bit value hi:lo to 8 bits.
func geo16to8(hi, lo uint8) uint8 {
	return uint8(((int(hi)<<8 | int(lo)) + 128) / 257)
}

// geoUnpremul16 returns the straight 8-bit value of the 16-bit premultiplied
// value c at 16-bit alpha a (0 < a < 0xffff), rounded and clamped.
func geoUnpremul16(c, a int) uint8 {
	v := (c*510 + a) / (2 * a)
	return uint8(min(v, 255))
}

// geoFromRGBA un-premultiplies s into dst exactly as color.NRGBAModel does,
// polling pl.
func geoFromRGBA(pl *ctxpoll.Poller, dst *image.NRGBA, s *image.RGBA) error {
	b := s.Rect
	w := b.Dx()
	for y := range b.Dy() {
		if err := pl.Work(4 * w); err != nil {
			return err
		}
		in := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:w*4]
		out := dst.Pix[y*dst.Stride : y*dst.Stride+w*4]
		for x := 0; x < len(in); x += 4 {
			p := in[x : x+4 : x+4]
			q := out[x : x+4 : x+4]
			switch a := uint32(p[3]); a {
			case 255:
				q[0], q[1], q[2], q[3] = p[0], p[1], p[2], 255
			case 0:
				q[0], q[1], q[2], q[3] = 0, 0, 0, 0
			default:
				// Same arithmetic as color.NRGBAModel on the 16-bit
				// expansion (v*0x101), where the 0x101 factors cancel.
				q[0] = uint8((uint32(p[0]) * 0xffff / a) >> 8)
				q[1] = uint8((uint32(p[1]) * 0xffff / a) >> 8)
				q[2] = uint8((uint32(p[2]) * 0xffff / a) >> 8)
				q[3] = uint8(a)
			}
		}
	}
	return nil
}

// geoFromYCbCr converts s into dst with color.YCbCrToRGB, taking alpha from
// the plane a (stride astride) when it is not nil and 255 otherwise,
// polling pl.
func geoFromYCbCr(pl *ctxpoll.Poller, dst *image.NRGBA, s *image.YCbCr, a []uint8, astride int) error {
	b := s.Rect
	w := b.Dx()
	// Horizontal and vertical chroma subsampling factors.
	hx, vy := 1, 1
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hx = 2
	case image.YCbCrSubsampleRatio420:
		hx, vy = 2, 2
	case image.YCbCrSubsampleRatio440:
		vy = 2
	case image.YCbCrSubsampleRatio411:
		hx = 4
	case image.YCbCrSubsampleRatio410:
		hx, vy = 4, 2
	}
	// Chroma column of every image column, as in image.YCbCr.COffset.
	cx := make([]int, w)
	for x := range cx {
		cx[x] = (b.Min.X+x)/hx - b.Min.X/hx
	}
	for y := range b.Dy() {
		if err := pl.Work(8 * w); err != nil {
			return err
		}
		sy := b.Min.Y + y
		yrow := s.Y[(sy-b.Min.Y)*s.YStride:][:w]
		crow := (sy/vy - b.Min.Y/vy) * s.CStride
		cb := s.Cb[crow:]
		cr := s.Cr[crow:]
		out := dst.Pix[y*dst.Stride : y*dst.Stride+w*4]
		var arow []uint8
		if a != nil {
			arow = a[y*astride:][:w]
		}
		for x, yy := range yrow {
			c := cx[x]
			q := out[x*4 : x*4+4 : x*4+4]
			q[0], q[1], q[2] = color.YCbCrToRGB(yy, cb[c], cr[c])
			if arow != nil {
				q[3] = arow[x]
			} else {
				q[3] = 255
			}
		}
	}
	return nil
}
