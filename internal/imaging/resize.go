package imaging

import (
	"context"
	"image"
	"math"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Filter selects the reconstruction kernel used by Resize.
type Filter int

// The resampling filters understood by Resize.
const (
	// Nearest replicates or drops whole pixels; no new colours are made.
	Nearest Filter = iota
	// Bilinear is the triangle (tent) kernel with a radius of one pixel.
	Bilinear
	// Bicubic is the Catmull-Rom cubic convolution kernel (a = -0.5).
	Bicubic
	// Lanczos2 is the Lanczos windowed sinc with two lobes.
	Lanczos2
	// Lanczos3 is the Lanczos windowed sinc with three lobes.
	Lanczos3
)

// String returns the lower-case name of the filter, as used in the Fastly
// resize-filter parameter.
func (f Filter) String() string {
	switch f {
	case Nearest:
		return "nearest"
	case Bilinear:
		return "bilinear"
	case Bicubic:
		return "bicubic"
	case Lanczos2:
		return "lanczos2"
	case Lanczos3:
		return "lanczos3"
	}
	return "unknown"
}

// rsWeightBits is the number of fractional bits of the fixed-point filter
// weights: the weights of every output sample sum to exactly 1<<rsWeightBits.
//
// Value ranges: premultiplied samples are c*a <= 65025 and the positive
// weights of any kernel here sum to well below 1.5, so a horizontal-pass
// accumulator stays below 65025*1.5*2^14 < 2^31 (int is enough even on 32-bit
// platforms). The intermediate values it produces are at most about
// 1.5*65025, so the vertical pass could exceed 2^31 in theory and
// accumulates in int64.
const (
	rsWeightBits = 14
	rsWeightOne  = 1 << rsWeightBits
)

// rsCoeffs holds the precomputed weights of one axis: output sample i reads
// count[i] consecutive source samples starting at start[i], weighted by
// w[i*taps : i*taps+count[i]].
type rsCoeffs struct {
	start    []int
	count    []int
	w        []int32
	taps     int
	identity bool // output sample i is source sample i
}

// rsSupport returns the radius of the kernel in source pixels at scale 1.
func rsSupport(f Filter) float64 {
	switch f {
	case Bilinear:
		return 1
	case Bicubic, Lanczos2:
		return 2
	default:
		return 3
	}
}

// rsSinc is the normalised sinc function sin(πx)/(πx).
func rsSinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// rsKernel evaluates the filter's kernel at distance x (in kernel units).
func rsKernel(f Filter, x float64) float64 {
	x = math.Abs(x)
	switch f {
	case Bilinear:
		if x < 1 {
			return 1 - x
		}
		return 0
	case Bicubic:
		// Keys cubic convolution with a = -0.5 (Catmull-Rom).
		const a = -0.5
		switch {
		case x < 1:
			return ((a+2)*x-(a+3))*x*x + 1
		case x < 2:
			return ((a*x-5*a)*x+8*a)*x - 4*a
		}
		return 0
	case Lanczos2:
		if x < 2 {
			return rsSinc(x) * rsSinc(x/2)
		}
		return 0
	default: // Lanczos3
		if x < 3 {
			return rsSinc(x) * rsSinc(x/3)
		}
		return 0
	}
}

// rsIdentityCoeffs maps every sample onto itself with a single full weight.
func rsIdentityCoeffs(n int) *rsCoeffs {
	c := &rsCoeffs{start: make([]int, 2*n), w: make([]int32, n), taps: 1, identity: true}
	c.start, c.count = c.start[:n], c.start[n:]
	for i := range n {
		c.start[i] = i
		c.count[i] = 1
		c.w[i] = rsWeightOne
	}
	return c
}

// rsMakeCoeffs computes the fixed-point weights that resample srcLen samples
// to dstLen samples with filter f. Sample centres sit at half-integer
// positions; when reducing, the kernel is stretched by the reduction factor
// so that it also acts as the anti-aliasing low-pass filter. Taps that fall
// outside the source are folded onto the nearest edge sample (edge
// extension). The quantised weights of each output sample are corrected so
// that they sum to exactly rsWeightOne.
func rsMakeCoeffs(srcLen, dstLen int, f Filter) *rsCoeffs {
	return rsMakeWindowCoeffs(srcLen, 0, float64(srcLen), dstLen, f)
}

// rsMakeWindowCoeffs is rsMakeCoeffs for the window [off, off+extent) of
// the srcLen samples, which may start and end inside a sample: output
// sample i is centred at off + (i+0.5)·extent/dstLen.
func rsMakeWindowCoeffs(srcLen int, off, extent float64, dstLen int, f Filter) *rsCoeffs {
	if srcLen == dstLen && off == 0 && extent == float64(srcLen) {
		return rsIdentityCoeffs(dstLen)
	}
	scale := extent / float64(dstLen)
	fscale := max(scale, 1)
	support := rsSupport(f) * fscale
	taps := min(int(math.Ceil(2*support))+2, srcLen)

	c := &rsCoeffs{start: make([]int, 2*dstLen), w: make([]int32, dstLen*taps), taps: taps}
	c.start, c.count = c.start[:dstLen], c.start[dstLen:]
	fw := make([]float64, taps)
	for i := range dstLen {
		centre := off + (float64(i)+0.5)*scale
		lo := int(math.Floor(centre - support))
		hi := int(math.Ceil(centre + support))
		first := max(lo, 0)
		last := min(hi, srcLen-1)
		n := last - first + 1
		clear(fw[:n])
		sum := 0.0
		for j := lo; j <= hi; j++ {
			v := rsKernel(f, (float64(j)+0.5-centre)/fscale)
			if v == 0 {
				continue
			}
			jj := min(max(j, 0), srcLen-1)
			fw[jj-first] += v
			sum += v
		}
		row := c.w[i*taps : i*taps+n]
		total, big := int32(0), 0
		for k := range row {
			q := int32(math.Round(fw[k] / sum * rsWeightOne))
			row[k] = q
			total += q
			if q > row[big] {
				big = k
			}
		}
		row[big] += rsWeightOne - total
		// Drop taps whose weight quantised to zero at either end.
		skip := 0
		for skip < n-1 && row[skip] == 0 {
			skip++
		}
		for n > skip+1 && row[n-1] == 0 {
			n--
		}
		copy(row, row[skip:n])
		c.start[i] = first + skip
		c.count[i] = n - skip
	}
	return c
}

// Resize returns a new w×h image resampled from src with filter f.
//
// Resampling is separable (a horizontal then a vertical pass) with weights
// precomputed per output column and row. When reducing, the kernel is widened
// by the reduction factor so that the result is anti-aliased. Colours are
// filtered premultiplied by alpha, with more than 8 bits of intermediate
// precision, and un-premultiplied with rounding at the end, so fully
// transparent pixels never leak their colour into visible ones. Nearest
// copies whole source pixels: integer reduction and enlargement factors give
// exact pixel decimation and replication. An axis whose size does not change
// is not resampled. Taps beyond the edges of src repeat its edge pixels. An
// unknown filter value is treated as Lanczos3. If w or h is not positive the
// result is empty; if src is empty the result is fully transparent.
//
// ctx is polled every few output rows (see ctxpoll): once it is done,
// Resize stops and returns ctx.Err().
func Resize(ctx context.Context, src *image.NRGBA, w, h int, f Filter) (*image.NRGBA, error) {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	return resizeWindow(ctx, src, w, h, f, [4]float64{0, 0, float64(sw), float64(sh)})
}

// ResizeWindow is Resize of the window [x0, x1) × [y0, y1) of src, in
// pixels from src.Rect.Min, whose edges may lie inside pixels: output
// pixel (i, j) is centred at x0 + (i+0.5)·(x1−x0)/w, y0 + (j+0.5)·(y1−y0)/h.
// A source decoded at a reduction whose last row and column of pixels
// stand for less than a whole step (a 2560 px side in boxes of 3 gives 854
// pixels, the last one a third as wide) is resampled from the window it
// really covers, 853⅓ px, instead of being stretched by a third of a
// pixel. The window must lie within src; Nearest ignores its fractional
// part.
func ResizeWindow(ctx context.Context, src *image.NRGBA, w, h int, f Filter, x0, y0, x1, y1 float64) (*image.NRGBA, error) {
	sw, sh := float64(src.Rect.Dx()), float64(src.Rect.Dy())
	if !(x0 >= 0 && y0 >= 0 && x1 > x0 && y1 > y0 && x1 <= sw && y1 <= sh) {
		return image.NewNRGBA(image.Rect(0, 0, max(w, 0), max(h, 0))), nil
	}
	if f == Nearest {
		r := image.Rect(int(x0), int(y0), int(math.Ceil(x1)), int(math.Ceil(y1))).Add(src.Rect.Min)
		c, err := Crop(ctx, src, r)
		if err != nil {
			return nil, err
		}
		return rsNearest(ctx, c, w, h)
	}
	return resizeWindow(ctx, src, w, h, f, [4]float64{x0, y0, x1 - x0, y1 - y0})
}

// resizeWindow is Resize of the window win (x, y, width, height) of src.
func resizeWindow(ctx context.Context, src *image.NRGBA, w, h int, f Filter, win [4]float64) (*image.NRGBA, error) {
	if w <= 0 || h <= 0 {
		return image.NewNRGBA(image.Rect(0, 0, max(w, 0), max(h, 0))), nil
	}
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if sw <= 0 || sh <= 0 {
		return image.NewNRGBA(image.Rect(0, 0, w, h)), nil
	}
	whole := win == [4]float64{0, 0, float64(sw), float64(sh)}
	if sw == w && sh == h && whole {
		return Crop(ctx, src, src.Rect)
	}
	if f == Nearest {
		return rsNearest(ctx, src, w, h)
	}
	if f < Nearest || f > Lanczos3 {
		f = Lanczos3
	}
	hc := rsMakeWindowCoeffs(sw, win[0], win[2], w, f)
	vc := rsMakeWindowCoeffs(sh, win[1], win[3], h, f)
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))

	opaque := IsOpaque(src)
	ch := 4
	if opaque {
		ch = 3
	}
	rowLen := w * ch
	slots := vc.taps
	ring := make([]int32, slots*rowLen)
	tags := make([]int, slots)
	for i := range tags {
		tags[i] = -1
	}
	offs := make([]int, slots)
	acc := make([]int64, rowLen)
	base := src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y)
	// Work of a vertical pass per tap, and of the horizontal pass of one
	// source row, in ctxpoll units.
	vWork, hWork := rowLen, w*ch*hc.taps
	pl := ctxpoll.New(ctx)
	pending := 0 // work of the rows since the last Work call

	for y := range h {
		s, n := vc.start[y], vc.count[y]
		work := n * vWork
		for k := range n {
			r := s + k
			slot := r % slots
			offs[k] = slot * rowLen
			if tags[slot] == r {
				continue
			}
			tags[slot] = r
			work += hWork
			in := src.Pix[base+r*src.Stride : base+r*src.Stride+sw*4]
			tmp := ring[slot*rowLen : (slot+1)*rowLen]
			if opaque {
				rsHRowOpaque(tmp, in, hc)
			} else {
				rsHRowAlpha(tmp, in, hc)
			}
		}
		out := dst.Pix[y*dst.Stride : y*dst.Stride+w*4]
		rsVAccumulate(acc, ring, offs[:n], vc.w[y*vc.taps:y*vc.taps+n])
		if opaque {
			rsVRowOpaque(out, acc)
		} else {
			rsVRowAlpha(out, acc)
		}
		// Counted every 8 rows, or as soon as the rows are heavy (a large
		// reduction): a Work call per row, even one that does not poll,
		// measurably slows this loop down (2 % on a 640×480 to 2560×1920
		// enlargement, whatever the code layout; unexplained).
		if pending += work; y&7 == 7 || pending >= 16*ctxpoll.Interval {
			if err := pl.Work(pending); err != nil {
				return nil, err
			}
			pending = 0
		}
	}
	return dst, nil
}

// rsHRowOpaque filters one opaque source row horizontally into tmp, three
// channels per pixel, scaled by 256 (8 extra fractional bits).
func rsHRowOpaque(tmp []int32, in []uint8, c *rsCoeffs) {
	const sh = rsWeightBits - 8
	taps := c.taps
	count := c.count[:len(c.start)]
	tmp = tmp[:len(c.start)*3]
	if c.identity {
		in = in[:len(c.start)*4]
		for x := range len(c.start) {
			p := in[x*4 : x*4+3 : x*4+3]
			t := tmp[x*3 : x*3+3 : x*3+3]
			t[0], t[1], t[2] = int32(p[0])<<8, int32(p[1])<<8, int32(p[2])<<8
		}
		return
	}
	for x, s := range c.start {
		n := count[x]
		r, g, b := rsDot3(in[s*4:(s+n)*4], c.w[x*taps:x*taps+n])
		t := tmp[x*3 : x*3+3 : x*3+3]
		t[0] = int32((r + 1<<(sh-1)) >> sh)
		t[1] = int32((g + 1<<(sh-1)) >> sh)
		t[2] = int32((b + 1<<(sh-1)) >> sh)
	}
}

// rsDot3 returns the weighted sums of the first three channels of the
// len(ws) pixels of p. It is not inlined so that its loop gets all the
// registers (inlined into its caller, the accumulators get spilled).
//
//go:noinline
func rsDot3(p []uint8, ws []int32) (r, g, b int) {
	// Two taps per iteration: fewer loop and slice-advance overheads.
	for len(ws) >= 2 && len(p) >= 8 {
		w0, w1 := int(ws[0]), int(ws[1])
		r += w0*int(p[0]) + w1*int(p[4])
		g += w0*int(p[1]) + w1*int(p[5])
		b += w0*int(p[2]) + w1*int(p[6])
		p, ws = p[8:], ws[2:]
	}
	if len(ws) == 1 {
		_ = p[3]
		w := int(ws[0])
		r += w * int(p[0])
		g += w * int(p[1])
		b += w * int(p[2])
	}
	return r, g, b
}

// rsHRowAlpha filters one source row horizontally into tmp, four channels
// per pixel: the colours premultiplied by alpha (c*a, 0..65025) and the alpha
// scaled by 256.
func rsHRowAlpha(tmp []int32, in []uint8, c *rsCoeffs) {
	const sh = rsWeightBits - 8
	taps := c.taps
	count := c.count[:len(c.start)]
	tmp = tmp[:len(c.start)*4]
	if c.identity {
		in = in[:len(c.start)*4]
		for x := range len(c.start) {
			p := in[x*4 : x*4+4 : x*4+4]
			t := tmp[x*4 : x*4+4 : x*4+4]
			a := int32(p[3])
			t[0], t[1], t[2], t[3] = int32(p[0])*a, int32(p[1])*a, int32(p[2])*a, a<<8
		}
		return
	}
	for x, s := range c.start {
		n := count[x]
		r, g, b, a := rsDot4Premul(in[s*4:(s+n)*4], c.w[x*taps:x*taps+n])
		t := tmp[x*4 : x*4+4 : x*4+4]
		t[0] = int32((r + 1<<(rsWeightBits-1)) >> rsWeightBits)
		t[1] = int32((g + 1<<(rsWeightBits-1)) >> rsWeightBits)
		t[2] = int32((b + 1<<(rsWeightBits-1)) >> rsWeightBits)
		t[3] = int32((a + 1<<(sh-1)) >> sh)
	}
}

// rsDot4Premul returns the weighted sums of the colours premultiplied by
// alpha and of the alpha of the len(ws) pixels of p.
//
//go:noinline
func rsDot4Premul(p []uint8, ws []int32) (r, g, b, a int) {
	for len(ws) >= 2 && len(p) >= 8 {
		w0, w1 := int(ws[0])*int(p[3]), int(ws[1])*int(p[7])
		r += w0*int(p[0]) + w1*int(p[4])
		g += w0*int(p[1]) + w1*int(p[5])
		b += w0*int(p[2]) + w1*int(p[6])
		a += w0 + w1
		p, ws = p[8:], ws[2:]
	}
	if len(ws) == 1 {
		_ = p[3]
		w := int(ws[0]) * int(p[3])
		r += w * int(p[0])
		g += w * int(p[1])
		b += w * int(p[2])
		a += w
	}
	return r, g, b, a
}

// rsClamp8 clamps v to 0..255.
func rsClamp8(v int) uint8 {
	if uint(v) <= 255 {
		return uint8(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// rsVAccumulate sets acc to the sum of the buffered rows at offs of ring,
// each len(acc) values long, weighted by ws. Working a whole row per tap
// keeps the inner loop sequential in memory and free of bounds checks.
func rsVAccumulate(acc []int64, ring []int32, offs []int, ws []int32) {
	ws = ws[:len(offs)]
	n := len(acc)
	clear(acc)
	k := 0
	if len(offs)%2 == 1 {
		r0 := ring[offs[0] : offs[0]+n]
		rsAxpy2(acc, r0, r0, int64(ws[0]), 0)
		k = 1
	}
	for ; k+1 < len(offs); k += 2 {
		rsAxpy2(acc, ring[offs[k]:offs[k]+n], ring[offs[k+1]:offs[k+1]+n], int64(ws[k]), int64(ws[k+1]))
	}
}

// rsAxpy2 adds w0*r0 + w1*r1 to acc, element by element. It is not inlined
// so that its loop keeps everything in registers.
//
//go:noinline
func rsAxpy2(acc []int64, r0, r1 []int32, w0, w1 int64) {
	r0 = r0[:len(acc)]
	r1 = r1[:len(acc)]
	for i := range acc {
		acc[i] += w0*int64(r0[i]) + w1*int64(r1[i])
	}
}

// rsVRowOpaque turns the vertical sums acc (three channels per pixel, in
// units of 2^22) into one opaque output row.
func rsVRowOpaque(out []uint8, acc []int64) {
	const sh = rsWeightBits + 8
	acc = acc[:len(out)/4*3]
	for x := 0; x*3 < len(acc); x++ {
		t := acc[x*3 : x*3+3 : x*3+3]
		q := out[x*4 : x*4+4 : x*4+4]
		q[0] = rsClamp8(int((t[0] + 1<<(sh-1)) >> sh))
		q[1] = rsClamp8(int((t[1] + 1<<(sh-1)) >> sh))
		q[2] = rsClamp8(int((t[2] + 1<<(sh-1)) >> sh))
		q[3] = 255
	}
}

// rsVRowAlpha un-premultiplies the vertical sums acc into one output row.
// The colour sums are in units of c*a*2^14 and the alpha sum in units of
// a*2^22, so c = 256*R/A and a = A/2^22.
func rsVRowAlpha(out []uint8, acc []int64) {
	const sh = rsWeightBits + 8
	acc = acc[:len(out)]
	for x := 0; x < len(acc); x += 4 {
		t := acc[x : x+4 : x+4]
		q := out[x : x+4 : x+4]
		a8 := rsClamp8(int((t[3] + 1<<(sh-1)) >> sh))
		if a8 == 0 {
			q[0], q[1], q[2], q[3] = 0, 0, 0, 0
			continue
		}
		inv := 256 / float64(t[3])
		q[0] = rsClamp8(int(float64(t[0])*inv + 0.5))
		q[1] = rsClamp8(int(float64(t[1])*inv + 0.5))
		q[2] = rsClamp8(int(float64(t[2])*inv + 0.5))
		q[3] = a8
	}
}

// rsNearest resizes src to w×h by pixel replication/decimation: output pixel
// i takes the source pixel whose centre is nearest to its own centre mapped
// into the source, floor((i+0.5)*src/dst). ctx is polled as in Resize.
func rsNearest(ctx context.Context, src *image.NRGBA, w, h int) (*image.NRGBA, error) {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	xs := make([]int, w)
	for x := range xs {
		xs[x] = (2*x + 1) * sw / (2 * w) * 4
	}
	base := src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y)
	prev := -1
	pl := ctxpoll.New(ctx)
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return nil, err
		}
		sy := (2*y + 1) * sh / (2 * h)
		out := dst.Pix[y*dst.Stride : y*dst.Stride+w*4]
		if sy == prev {
			copy(out, dst.Pix[(y-1)*dst.Stride:(y-1)*dst.Stride+w*4])
			continue
		}
		prev = sy
		in := src.Pix[base+sy*src.Stride : base+sy*src.Stride+sw*4]
		if w == sw {
			copy(out, in)
			continue
		}
		for x, sx := range xs {
			p := in[sx : sx+4 : sx+4]
			q := out[x*4 : x*4+4 : x*4+4]
			q[0], q[1], q[2], q[3] = p[0], p[1], p[2], p[3]
		}
	}
	return dst, nil
}
