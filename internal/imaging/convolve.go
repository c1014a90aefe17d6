package imaging

import (
	"context"
	"image"
	"math"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// cvExactMaxSigma is the standard deviation below which Blur convolves with
// an exact, truncated Gaussian kernel; from it on, three extended box
// filters of matching variance are used instead (constant cost per pixel).
const cvExactMaxSigma = 2.5

// cvMaxSigma caps the standard deviation Blur works with (a radius of 4000
// px, four times the URL API's largest pixel radius). It bounds the edge
// padding, and with it time and memory, for absurd percentages.
const cvMaxSigma = 2000

// cvStripPixels is the width, in pixels, of the column strips the vertical
// pass works on: wide enough for long contiguous reads, small enough for the
// strip to stay cache friendly.
const cvStripPixels = 64

// Blur returns a copy of img smoothed by a Gaussian of standard deviation
// sigma pixels (the URL's blur radius is passed as sigma = radius/2). The
// filter is separable: below sigma 2.5 it is an exact Gaussian kernel
// truncated at 3σ and normalised; from 2.5 on it is three successive box
// filters whose combined variance equals σ² exactly (the outermost tap of
// each box carries a fractional weight), so the cost per pixel does not grow
// with sigma. Colours are blurred premultiplied by alpha, so the colour of
// transparent pixels never bleeds into visible ones, and pixels beyond the
// edges repeat the nearest edge pixel. sigma ≤ 0 (or NaN) returns an
// unchanged copy, and sigma is capped at 2000. The result has its origin at
// (0,0).
//
// ctx is polled every few rows of each pass (see ctxpoll): once it is done,
// Blur stops and returns ctx.Err().
func Blur(ctx context.Context, img *image.NRGBA, sigma float64) (*image.NRGBA, error) {
	if !(sigma > 0) {
		return cvClone(ctx, img)
	}
	sigma = min(sigma, cvMaxSigma)
	if sigma < cvExactMaxSigma {
		return cvBlurExact(ctx, img, sigma)
	}
	return cvBlurBoxes(ctx, img, sigma)
}

// Sharpen returns a copy of img with an unsharp mask applied. The mask is
// Blur(img, radius/2), i.e. the URL's radius is read as two standard
// deviations. For each colour channel the difference d = orig − blurred is
// computed; where |d| ≥ threshold (0–255, clamped) the channel becomes
// orig + amount·d, rounded and clamped to 0–255, elsewhere it is unchanged.
// Alpha is copied unchanged, and so are fully transparent pixels. amount ≤ 0
// or radius ≤ 0 returns an unchanged copy; amounts above 255 act like 255
// (every difference then saturates). ctx is polled as in Blur.
func Sharpen(ctx context.Context, img *image.NRGBA, amount, radius float64, threshold int) (*image.NRGBA, error) {
	if !(amount > 0) || !(radius > 0) {
		return cvClone(ctx, img)
	}
	amount = min(amount, 255)
	threshold = min(max(threshold, 0), 255)
	out, err := Blur(ctx, img, radius/2)
	if err != nil {
		return nil, err
	}
	w, h := out.Rect.Dx(), out.Rect.Dy()
	// delta[d+255] = round(amount·d) limited to ±255 (enough to saturate), or 0
	// where |d| is below the threshold.
	var delta [511]int16
	for d := -255; d <= 255; d++ {
		if d == 0 || (d < 0 && -d < threshold) || (d > 0 && d < threshold) {
			continue
		}
		v := math.Round(amount * float64(d))
		delta[d+255] = int16(min(max(v, -255), 255))
	}
	pl := ctxpoll.New(ctx)
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return nil, err
		}
		so := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		src := img.Pix[so : so+4*w : so+4*w]
		dst := out.Pix[y*out.Stride : y*out.Stride+4*w : y*out.Stride+4*w]
		for i := 0; i+3 < len(src) && i+3 < len(dst); i += 4 {
			a := src[i+3]
			dst[i+3] = a
			if a == 0 {
				dst[i], dst[i+1], dst[i+2] = src[i], src[i+1], src[i+2]
				continue
			}
			for c := range 3 {
				o := int(src[i+c])
				v := o + int(delta[o-int(dst[i+c])+255])
				dst[i+c] = uint8(min(max(v, 0), 255))
			}
		}
	}
	return out, nil
}

// cvClone returns a copy of img with its origin at (0,0).
func cvClone(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	if img == nil {
		return image.NewNRGBA(image.Rectangle{}), nil
	}
	return Crop(ctx, img, img.Rect)
}

// cvFilter is a separable 1-D smoothing filter: either a normalised kernel
// (exact Gaussian) or a cascade of three extended boxes.
type cvFilter struct {
	kernel []float32 // 2R+1 taps centred on the middle one; nil for boxes
	boxes  [3]cvBox
}

// cvBox is an extended box filter: weight 1 on offsets −r…r, weight alpha
// (0 ≤ alpha < 1) on ±(r+1), normalised by inv = 1/(2r+1+2·alpha).
type cvBox struct {
	r     int
	alpha float64
	inv   float64
}

// cvGaussKernel returns the Gaussian of standard deviation sigma sampled at
// the integer offsets −R…R, R = ⌈3σ⌉, normalised to sum 1.
func cvGaussKernel(sigma float64) []float32 {
	r := max(int(math.Ceil(3*sigma)), 1)
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	out := make([]float32, len(k))
	for i, v := range k {
		out[i] = float32(v / sum)
	}
	return out
}

// cvBoxes splits the variance σ² evenly over three extended boxes. A box of
// half-width r with end weight α has variance
// (r(r+1)(2r+1)/3 + 2α(r+1)²)/(2r+1+2α); r is the largest half-width whose
// plain box does not exceed σ²/3 and α is solved to make up the rest.
func cvBoxes(sigma float64) [3]cvBox {
	v := sigma * sigma / 3
	// Plain box of half-width r has variance r(r+1)/3.
	r := int(math.Floor((math.Sqrt(1+12*v) - 1) / 2))
	for r > 0 && float64(r*(r+1))/3 > v {
		r--
	}
	for float64((r+1)*(r+2))/3 <= v {
		r++
	}
	rf := float64(r)
	alpha := (2*rf + 1) * (v - rf*(rf+1)/3) / (2 * ((rf+1)*(rf+1) - v))
	alpha = min(max(alpha, 0), 1)
	b := cvBox{r: r, alpha: alpha, inv: 1 / (2*rf + 1 + 2*alpha)}
	return [3]cvBox{b, b, b}
}

// cvBlurExact blurs with the exact truncated Gaussian kernel.
func cvBlurExact(ctx context.Context, img *image.NRGBA, sigma float64) (*image.NRGBA, error) {
	return cvBlurSeparable(ctx, img, cvFilter{kernel: cvGaussKernel(sigma)})
}

// cvBlurBoxes blurs with three extended boxes of the same total variance.
func cvBlurBoxes(ctx context.Context, img *image.NRGBA, sigma float64) (*image.NRGBA, error) {
	return cvBlurSeparable(ctx, img, cvFilter{boxes: cvBoxes(sigma)})
}

// pad returns how many samples the filter reads beyond each end of its
// input: the kernel radius, or the summed reach of the three boxes (each box
// of half-width r reads r+1 samples to either side).
func (f *cvFilter) pad() int {
	if f.kernel != nil {
		return len(f.kernel) / 2
	}
	p := 0
	for _, b := range f.boxes {
		p += b.r + 1
	}
	return p
}

// apply runs the whole 1-D filter along n samples of interleaved lanes. a
// holds n+2·pad() rows of lanes values each: the signal in rows pad…pad+n−1
// and copies of its first and last row in the pads on either side, which is
// what repeating the edges means. The result is written to rows pad…pad+n−1
// of b (same size as a); a is used as scratch space and left undefined.
// Because every pass only reads rows that the previous pass computed exactly
// (the pads are wide enough), the cascade of boxes treats the edges exactly
// like a single filter applied to the edge-extended signal. The passes over
// strips (lanes other than 3 and 4) poll pl every few rows, and return its
// error; a single line of pixels is polled by the caller.
func (f *cvFilter) apply(a, b []float32, n, lanes int, sums []float32, pl *ctxpoll.Poller) error {
	p := f.pad()
	if f.kernel != nil {
		switch lanes {
		case 4:
			cvConv4(b, a, p, p+n, f.kernel)
		case 3:
			cvConv3(b, a, p, p+n, f.kernel)
		default:
			return cvConvLanes(b, a, p, p+n, lanes, f.kernel, pl)
		}
		return nil
	}
	p1 := f.boxes[1].r + 1 + f.boxes[2].r + 1
	p2 := f.boxes[2].r + 1
	pass := cvBoxPass
	switch lanes {
	case 4:
		pass = cvBoxPass4
	case 3:
		pass = cvBoxPass3
	}
	if err := pass(b, a, p-p1, p+n+p1, lanes, f.boxes[0], sums, pl); err != nil {
		return err
	}
	if err := pass(a, b, p-p2, p+n+p2, lanes, f.boxes[1], sums, pl); err != nil {
		return err
	}
	return pass(b, a, p, p+n, lanes, f.boxes[2], sums, pl)
}

// cost returns the work of the filter per sample, in ctxpoll units.
func (f *cvFilter) cost() int {
	if f.kernel != nil {
		return len(f.kernel)/2 + 1
	}
	return 6
}

// cvOpaque reports whether every pixel of img has alpha 255.
func cvOpaque(img *image.NRGBA) bool {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := range h {
		off := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		row := img.Pix[off : off+4*w]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				return false
			}
		}
	}
	return true
}

// cvBlurSeparable filters every row of img (keeping the result in 16-bit
// premultiplied form), then filters the columns in strips of cvStripPixels
// and converts back to 8-bit straight alpha. Premultiplied values are c·a
// for colours and a·255 for alpha, so all channels share the 0…65025 scale;
// opaque images skip the alpha channel (nc = 3 channels instead of 4).
// ctx is polled as in Blur.
func cvBlurSeparable(ctx context.Context, img *image.NRGBA, f cvFilter) (*image.NRGBA, error) {
	if img == nil {
		return image.NewNRGBA(image.Rectangle{}), nil
	}
	w, h := max(img.Rect.Dx(), 0), max(img.Rect.Dy(), 0)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w == 0 || h == 0 {
		return out, nil
	}
	pl := ctxpoll.New(ctx)
	lineWork := (w + 2*f.pad()) * f.cost()
	nc := 4
	if cvOpaque(img) {
		nc = 3
	}
	p := f.pad()
	mid := make([]uint16, w*h*nc)
	maxLanes := max(nc, min(w, cvStripPixels)*nc)
	sums := make([]float32, maxLanes)
	lineA := make([]float32, (w+2*p)*nc)
	lineB := make([]float32, (w+2*p)*nc)
	for y := range h {
		if err := pl.Work(lineWork * nc); err != nil {
			return nil, err
		}
		so := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		src := img.Pix[so : so+4*w : so+4*w]
		line := lineA[nc*p : nc*(p+w)]
		if nc == 4 {
			for i := 0; i+3 < len(src) && i+3 < len(line); i += 4 {
				a := uint32(src[i+3])
				line[i] = float32(uint32(src[i]) * a)
				line[i+1] = float32(uint32(src[i+1]) * a)
				line[i+2] = float32(uint32(src[i+2]) * a)
				line[i+3] = float32(a * 255)
			}
		} else {
			for i, j := 0, 0; i+3 < len(src) && j+2 < len(line); i, j = i+4, j+3 {
				line[j] = float32(uint32(src[i]) * 255)
				line[j+1] = float32(uint32(src[i+1]) * 255)
				line[j+2] = float32(uint32(src[i+2]) * 255)
			}
		}
		cvFillPads(lineA, p, w, nc)
		f.apply(lineA, lineB, w, nc, sums, &pl)
		// mid is stored strip by strip (see below) so that the vertical pass
		// reads it sequentially. A row writes to every strip: polled per
		// strip, since the first rows fault in fresh pages of mid all over.
		res := lineB[nc*p : nc*(p+w)]
		for x0 := 0; x0 < w; x0 += cvStripPixels {
			n := min(cvStripPixels, w-x0) * nc
			if err := pl.Work(n); err != nil {
				return nil, err
			}
			seg := mid[x0*h*nc+y*n : x0*h*nc+(y+1)*n]
			for i, v := range res[x0*nc : x0*nc+n] {
				seg[i] = cvToU16(v)
			}
		}
	}
	stripA := make([]float32, (h+2*p)*maxLanes)
	stripB := make([]float32, (h+2*p)*maxLanes)
	for x0 := 0; x0 < w; x0 += cvStripPixels {
		px := min(cvStripPixels, w-x0)
		lanes := px * nc
		a, b := stripA[:(h+2*p)*lanes], stripB[:(h+2*p)*lanes]
		dst := a[p*lanes : (p+h)*lanes]
		for i, v := range mid[x0*h*nc : x0*h*nc+h*lanes] {
			dst[i] = float32(v)
		}
		cvFillPads(a, p, h, lanes)
		if err := f.apply(a, b, h, lanes, sums, &pl); err != nil {
			return nil, err
		}
		for y := range h {
			if err := pl.Work(lanes); err != nil {
				return nil, err
			}
			src := b[(p+y)*lanes : (p+y+1)*lanes]
			o := y*out.Stride + x0*4
			if nc == 4 {
				cvUnpremultiply(out.Pix[o:o+4*px:o+4*px], src)
			} else {
				cvUnscaleOpaque(out.Pix[o:o+4*px:o+4*px], src)
			}
		}
	}
	return out, nil
}

// cvFillPads copies the first and last of the n signal rows of buf (which
// start at row p) into the p pad rows before and after them.
func cvFillPads(buf []float32, p, n, lanes int) {
	first := buf[p*lanes : (p+1)*lanes]
	last := buf[(p+n-1)*lanes : (p+n)*lanes]
	for k := range p {
		copy(buf[k*lanes:(k+1)*lanes], first)
		copy(buf[(p+n+k)*lanes:(p+n+k+1)*lanes], last)
	}
}

// cvToU16 rounds v to the nearest integer in 0…65535.
func cvToU16(v float32) uint16 {
	if !(v > 0) {
		return 0
	}
	if v >= 65535 {
		return 65535
	}
	return uint16(v + 0.5)
}

// cvUnpremultiply converts premultiplied pixels (see cvBlurSeparable) back to
// 8-bit straight alpha. Fully transparent results become transparent black.
func cvUnpremultiply(dst []uint8, src []float32) {
	for i := 0; i+3 < len(src) && i+3 < len(dst); i += 4 {
		a := src[i+3]
		if !(a >= 127.5) { // rounds to alpha 0
			dst[i], dst[i+1], dst[i+2], dst[i+3] = 0, 0, 0, 0
			continue
		}
		s := 255 / a
		dst[i] = cvRound8(src[i] * s)
		dst[i+1] = cvRound8(src[i+1] * s)
		dst[i+2] = cvRound8(src[i+2] * s)
		dst[i+3] = cvRound8(a * (1.0 / 255))
	}
}

// cvUnscaleOpaque converts 3-channel values on the 0…65025 scale back to
// opaque 8-bit pixels.
func cvUnscaleOpaque(dst []uint8, src []float32) {
	for i, j := 0, 0; i+3 < len(dst) && j+2 < len(src); i, j = i+4, j+3 {
		dst[i] = cvRound8(src[j] * (1.0 / 255))
		dst[i+1] = cvRound8(src[j+1] * (1.0 / 255))
		dst[i+2] = cvRound8(src[j+2] * (1.0 / 255))
		dst[i+3] = 255
	}
}

// cvRound8 rounds v to the nearest integer and clamps it to 0–255.
func cvRound8(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}

// The box passes below keep running window sums in float32. The values are
// at most 65025 and the error of a running sum grows only with the number of
// updates (at most a few thousand per line), which stays far below one
// 8-bit level in the output.

// cvBoxPass applies one extended box along rows of lanes values each,
// writing rows from…to−1 of dst from src. It reads src rows from−r−1 up to
// to+r, which must exist. It polls pl every few rows and returns its error.
func cvBoxPass(dst, src []float32, from, to, lanes int, b cvBox, sums []float32, pl *ctxpoll.Poller) error {
	sums = sums[:lanes]
	r := b.r
	clear(sums)
	for k := from - r; k <= from+r; k++ {
		row := src[k*lanes : (k+1)*lanes]
		for i, v := range row {
			sums[i] += v
		}
	}
	alpha, inv := float32(b.alpha), float32(b.inv)
	for y := from; y < to; y++ {
		if err := pl.Work(2 * lanes); err != nil {
			return err
		}
		rowLo := src[(y-r-1)*lanes : (y-r)*lanes]
		rowSub := src[(y-r)*lanes : (y-r+1)*lanes]
		rowHi := src[(y+r+1)*lanes : (y+r+2)*lanes]
		out := dst[y*lanes : (y+1)*lanes]
		rowLo, rowSub, rowHi, sums := rowLo[:len(out)], rowSub[:len(out)], rowHi[:len(out)], sums[:len(out)]
		for i := range out {
			hv := rowHi[i]
			s := sums[i]
			out[i] = (s + alpha*(rowLo[i]+hv)) * inv
			sums[i] = s + hv - rowSub[i]
		}
	}
	return nil
}

// cvBoxPass4 is cvBoxPass for lanes == 4 (one line of RGBA pixels).
func cvBoxPass4(dst, src []float32, from, to, _ int, b cvBox, _ []float32, _ *ctxpoll.Poller) error {
	r := b.r
	var s0, s1, s2, s3 float32
	for k := from - r; k <= from+r; k++ {
		p := src[4*k : 4*k+4 : 4*k+4]
		s0 += p[0]
		s1 += p[1]
		s2 += p[2]
		s3 += p[3]
	}
	alpha, inv := float32(b.alpha), float32(b.inv)
	lo := src[4*(from-r-1) : 4*(to-r-1)]
	sub := src[4*(from-r) : 4*(to-r)]
	hi := src[4*(from+r+1) : 4*(to+r+1)]
	out := dst[4*from : 4*to]
	for i := 0; i+3 < len(out) && i+3 < len(lo) && i+3 < len(sub) && i+3 < len(hi); i += 4 {
		l, m, u, o := lo[i:i+4:i+4], sub[i:i+4:i+4], hi[i:i+4:i+4], out[i:i+4:i+4]
		o[0] = (s0 + alpha*(l[0]+u[0])) * inv
		o[1] = (s1 + alpha*(l[1]+u[1])) * inv
		o[2] = (s2 + alpha*(l[2]+u[2])) * inv
		o[3] = (s3 + alpha*(l[3]+u[3])) * inv
		s0 += u[0] - m[0]
		s1 += u[1] - m[1]
		s2 += u[2] - m[2]
		s3 += u[3] - m[3]
	}
	return nil
}

// cvBoxPass3 is cvBoxPass for lanes == 3 (one line of opaque RGB pixels).
func cvBoxPass3(dst, src []float32, from, to, _ int, b cvBox, _ []float32, _ *ctxpoll.Poller) error {
	r := b.r
	var s0, s1, s2 float32
	for k := from - r; k <= from+r; k++ {
		p := src[3*k : 3*k+3 : 3*k+3]
		s0 += p[0]
		s1 += p[1]
		s2 += p[2]
	}
	alpha, inv := float32(b.alpha), float32(b.inv)
	lo := src[3*(from-r-1) : 3*(to-r-1)]
	sub := src[3*(from-r) : 3*(to-r)]
	hi := src[3*(from+r+1) : 3*(to+r+1)]
	out := dst[3*from : 3*to]
	for i := 0; i+2 < len(out) && i+2 < len(lo) && i+2 < len(sub) && i+2 < len(hi); i += 3 {
		l, m, u, o := lo[i:i+3:i+3], sub[i:i+3:i+3], hi[i:i+3:i+3], out[i:i+3:i+3]
		o[0] = (s0 + alpha*(l[0]+u[0])) * inv
		o[1] = (s1 + alpha*(l[1]+u[1])) * inv
		o[2] = (s2 + alpha*(l[2]+u[2])) * inv
		s0 += u[0] - m[0]
		s1 += u[1] - m[1]
		s2 += u[2] - m[2]
	}
	return nil
}

// cvConvLanes convolves rows of lanes values with the symmetric kernel,
// writing rows from…to−1 of dst from src; src must hold the kernel radius of
// rows beyond either end. It polls pl every few rows and returns its error.
func cvConvLanes(dst, src []float32, from, to, lanes int, kernel []float32, pl *ctxpoll.Poller) error {
	r := len(kernel) / 2
	for y := from; y < to; y++ {
		if err := pl.Work((r + 1) * lanes); err != nil {
			return err
		}
		out := dst[y*lanes : (y+1)*lanes]
		centre := src[y*lanes : (y+1)*lanes]
		centre = centre[:len(out)]
		k0 := kernel[r]
		for i := range out {
			out[i] = k0 * centre[i]
		}
		for j := 1; j <= r; j++ {
			wt := kernel[r+j]
			up := src[(y-j)*lanes : (y-j+1)*lanes]
			down := src[(y+j)*lanes : (y+j+1)*lanes]
			up, down = up[:len(out)], down[:len(out)]
			for i := range out {
				out[i] += wt * (up[i] + down[i])
			}
		}
	}
	return nil
}

// cvConv4 is cvConvLanes for a single line of RGBA pixels.
func cvConv4(dst, src []float32, from, to int, kernel []float32) {
	r := len(kernel) / 2
	half := kernel[r:]
	for x := from; x < to; x++ {
		c := src[x*4 : x*4+4 : x*4+4]
		k0 := half[0]
		s0, s1, s2, s3 := k0*c[0], k0*c[1], k0*c[2], k0*c[3]
		for j := 1; j < len(half); j++ {
			wt := half[j]
			u := src[(x-j)*4 : (x-j)*4+4 : (x-j)*4+4]
			d := src[(x+j)*4 : (x+j)*4+4 : (x+j)*4+4]
			s0 += wt * (u[0] + d[0])
			s1 += wt * (u[1] + d[1])
			s2 += wt * (u[2] + d[2])
			s3 += wt * (u[3] + d[3])
		}
		o := dst[x*4 : x*4+4 : x*4+4]
		o[0], o[1], o[2], o[3] = s0, s1, s2, s3
	}
}

// cvConv3 is cvConvLanes for a single line of opaque RGB pixels.
func cvConv3(dst, src []float32, from, to int, kernel []float32) {
	r := len(kernel) / 2
	half := kernel[r:]
	for x := from; x < to; x++ {
		c := src[x*3 : x*3+3 : x*3+3]
		k0 := half[0]
		s0, s1, s2 := k0*c[0], k0*c[1], k0*c[2]
		for j := 1; j < len(half); j++ {
			wt := half[j]
			u := src[(x-j)*3 : (x-j)*3+3 : (x-j)*3+3]
			d := src[(x+j)*3 : (x+j)*3+3 : (x+j)*3+3]
			s0 += wt * (u[0] + d[0])
			s1 += wt * (u[1] + d[1])
			s2 += wt * (u[2] + d[2])
		}
		o := dst[x*3 : x*3+3 : x*3+3]
		o[0], o[1], o[2] = s0, s1, s2
	}
}
