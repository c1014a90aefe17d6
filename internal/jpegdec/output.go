package jpegdec

import (
	"image"
	"image/color"
	"math/bits"
)

// image wraps the decoded planes in the image type of the colour model.
// The planes are padded to whole MCUs; the result is the sub-image of the
// visible (scaled) size, as image/jpeg does.
func (d *decoder) image() (image.Image, error) {
	w, h := ScaledSize(d.width, d.height, d.scale)
	vis := image.Rect(0, 0, w, h)
	bs := d.bs
	full := image.Rect(0, 0, d.mcusX*d.hmax*bs, d.mcusY*d.vmax*bs)
	c := &d.comps
	switch d.ncomp {
	case 1:
		g := &image.Gray{Pix: c[0].pix, Stride: c[0].stride, Rect: full}
		return g.SubImage(vis), nil
	case 3:
		if d.rgb {
			return d.toRGBA(vis)
		}
		var ratio image.YCbCrSubsampleRatio
		switch (c[0].h/c[1].h)<<4 | c[0].v/c[1].v {
		case 0x11:
			ratio = image.YCbCrSubsampleRatio444
		case 0x12:
			ratio = image.YCbCrSubsampleRatio440
		case 0x21:
			ratio = image.YCbCrSubsampleRatio422
		case 0x22:
			ratio = image.YCbCrSubsampleRatio420
		case 0x41:
			ratio = image.YCbCrSubsampleRatio411
		default: // 0x42, checked by setup
			ratio = image.YCbCrSubsampleRatio410
		}
		m := &image.YCbCr{
			Y: c[0].pix, Cb: c[1].pix, Cr: c[2].pix,
			YStride: c[0].stride, CStride: c[1].stride,
			SubsampleRatio: ratio,
			Rect:           full,
		}
		return m.SubImage(vis), nil
	default:
		return d.toCMYK(vis)
	}
}

// planesOut returns the decoded planes of a Y′CbCr or greyscale frame.
func (d *decoder) planesOut() *Planes {
	w, h := ScaledSize(d.width, d.height, d.scale)
	p := &Planes{Width: w, Height: h, Comp: make([]Plane, d.ncomp)}
	for i := range d.ncomp {
		c := &d.comps[i]
		// Pixels of the decoded image per sample: the subsampling times
		// the component's own further reduction.
		hs, vs := d.hmax/c.h*c.scale/d.scale, d.vmax/c.v*c.scale/d.scale
		p.Comp[i] = Plane{Pix: c.pix, Stride: c.stride, W: (w + hs - 1) / hs, H: (h + vs - 1) / vs,
			HS: hs, VS: vs}
	}
	return p
}

// samplers returns, for each component, its plane and the shifts that map
// output coordinates to plane coordinates (sampling factors are powers of
// two, so the ratios to the maxima are too).
func (d *decoder) samplers() (pix [maxComp][]byte, stride [maxComp]int, hs, vs [maxComp]uint) {
	for i := range d.ncomp {
		c := &d.comps[i]
		pix[i], stride[i] = c.pix, c.stride
		hs[i] = uint(bits.TrailingZeros(uint(d.hmax / c.h)))
		vs[i] = uint(bits.TrailingZeros(uint(d.vmax / c.v)))
	}
	return
}

// toRGBA interleaves the planes of an RGB-coded frame, replicating
// subsampled components, polling d.poll.
func (d *decoder) toRGBA(vis image.Rectangle) (*image.RGBA, error) {
	m := image.NewRGBA(vis)
	pix, stride, hs, vs := d.samplers()
	for y := range vis.Dy() {
		if err := d.poll.Work(4 * vis.Dx()); err != nil {
			return nil, err
		}
		row := m.Pix[y*m.Stride : y*m.Stride+4*vis.Dx()]
		r0 := pix[0][(y>>vs[0])*stride[0]:]
		r1 := pix[1][(y>>vs[1])*stride[1]:]
		r2 := pix[2][(y>>vs[2])*stride[2]:]
		for x := range vis.Dx() {
			p := row[4*x : 4*x+4 : 4*x+4]
			p[0] = r0[x>>hs[0]]
			p[1] = r1[x>>hs[1]]
			p[2] = r2[x>>hs[2]]
			p[3] = 255
		}
	}
	return m, nil
}

// toCMYK converts the planes of a 4-component frame the way image/jpeg
// does. Adobe stores inverted CMYK (255: no ink). With transform 0 the
// planes are that CMYK, so every channel is inverted back. Otherwise the
// frame is YCCK: Y'CbCr converted to RGB is the inverted CMY, which is the
// CMY of image.CMYK, and only K is inverted. It polls d.poll.
func (d *decoder) toCMYK(vis image.Rectangle) (*image.CMYK, error) {
	m := image.NewCMYK(vis)
	pix, stride, hs, vs := d.samplers()
	ycck := d.adobeTransform != 0
	for y := range vis.Dy() {
		if err := d.poll.Work(8 * vis.Dx()); err != nil {
			return nil, err
		}
		row := m.Pix[y*m.Stride : y*m.Stride+4*vis.Dx()]
		r0 := pix[0][(y>>vs[0])*stride[0]:]
		r1 := pix[1][(y>>vs[1])*stride[1]:]
		r2 := pix[2][(y>>vs[2])*stride[2]:]
		r3 := pix[3][(y>>vs[3])*stride[3]:]
		for x := range vis.Dx() {
			p := row[4*x : 4*x+4 : 4*x+4]
			a, b, c := r0[x>>hs[0]], r1[x>>hs[1]], r2[x>>hs[2]]
			if ycck {
				a, b, c = color.YCbCrToRGB(a, b, c)
			} else {
				a, b, c = 255-a, 255-b, 255-c
			}
			p[0], p[1], p[2], p[3] = a, b, c, 255-r3[x>>hs[3]]
		}
	}
	return m, nil
}
