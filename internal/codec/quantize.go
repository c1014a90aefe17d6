package codec

import (
	"image"
	"image/color"
	"slices"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Quantiser parameters: the histogram has 5 bits per channel; the
// nearest-colour cache used while dithering has 6.
const (
	histBits  = 5
	cacheBits = 6
)

// histBin is one non-empty histogram cell: its coordinates (5-bit per
// channel), pixel count and the sums of the exact 8-bit values that fell
// into it.
type histBin struct {
	c     [3]uint8
	count uint64
	sum   [3]uint64
}

// cutBox is a range of bins in the median-cut work list.
type cutBox struct {
	lo, hi int     // bins[lo:hi]
	sse    float64 // count-weighted squared error around the mean (split priority)
	axis   int     // channel with the largest variance
}

// quantize reduces img to at most 256 colours (255 plus a transparent entry
// when some pixel has alpha < 128, or always when reserveTransparent is
// set) by median cut over a 5-bit-per-channel histogram, then maps it with
// serpentine Floyd–Steinberg dithering. It polls pl every few rows and
// splits.
func quantize(pl *ctxpoll.Poller, img *image.NRGBA, reserveTransparent bool) (*image.Paletted, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	const cells = 1 << (3 * histBits)
	counts := make([]uint64, cells)
	sums := make([][3]uint64, cells)
	transparent := reserveTransparent
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return nil, err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for i := 0; i < len(row); i += 4 {
			p := row[i : i+4 : i+4]
			if p[3] < 0x80 {
				transparent = true
				continue
			}
			k := int(p[0]>>(8-histBits))<<(2*histBits) | int(p[1]>>(8-histBits))<<histBits | int(p[2]>>(8-histBits))
			counts[k]++
			sums[k][0] += uint64(p[0])
			sums[k][1] += uint64(p[1])
			sums[k][2] += uint64(p[2])
		}
	}
	var bins []histBin
	for k, n := range counts {
		if n == 0 {
			continue
		}
		bins = append(bins, histBin{
			c:     [3]uint8{uint8(k >> (2 * histBits)), uint8(k >> histBits & (1<<histBits - 1)), uint8(k & (1<<histBits - 1))},
			count: n,
			sum:   sums[k],
		})
	}
	maxColors := 256
	if transparent {
		maxColors = 255
	}
	pal, err := medianCut(pl, bins, maxColors)
	if err != nil {
		return nil, err
	}
	transparentIndex := -1
	if transparent {
		transparentIndex = len(pal)
		pal = append(pal, color.RGBA{})
	}
	if len(pal) == 0 { // only transparent pixels cannot get here, but stay safe
		pal = append(pal, color.RGBA{A: 0xFF})
	}
	return ditherFS(pl, img, pal, transparentIndex)
}

// medianCut splits the histogram into at most n boxes, always splitting
// the box with the largest squared error at the weighted median of its
// widest-variance channel, and returns each box's mean colour. It polls pl
// once per split.
func medianCut(pl *ctxpoll.Poller, bins []histBin, n int) (color.Palette, error) {
	if len(bins) == 0 {
		return nil, nil
	}
	boxes := []cutBox{newCutBox(bins, 0, len(bins))}
	for len(boxes) < n {
		best := -1
		for i, b := range boxes {
			if b.hi-b.lo > 1 && (best < 0 || b.sse > boxes[best].sse) {
				best = i
			}
		}
		if best < 0 || boxes[best].sse == 0 {
			break
		}
		b := boxes[best]
		part := bins[b.lo:b.hi]
		// Sorting a box costs some 50 ns per bin.
		if err := pl.Work(16 * len(part)); err != nil {
			return nil, err
		}
		axis := b.axis
		slices.SortFunc(part, func(x, y histBin) int { return int(x.c[axis]) - int(y.c[axis]) })
		var total uint64
		for _, bin := range part {
			total += bin.count
		}
		// First index whose cumulative count reaches half, kept inside
		// (0, len(part)) so that both halves are non-empty.
		split, acc := 1, uint64(0)
		for i, bin := range part[:len(part)-1] {
			acc += bin.count
			if 2*acc >= total {
				split = i + 1
				break
			}
			split = i + 1
		}
		boxes[best] = newCutBox(bins, b.lo, b.lo+split)
		boxes = append(boxes, newCutBox(bins, b.lo+split, b.hi))
	}
	pal := make(color.Palette, 0, len(boxes))
	for _, b := range boxes {
		var n uint64
		var s [3]uint64
		for _, bin := range bins[b.lo:b.hi] {
			n += bin.count
			s[0] += bin.sum[0]
			s[1] += bin.sum[1]
			s[2] += bin.sum[2]
		}
		pal = append(pal, color.RGBA{
			R: uint8((s[0] + n/2) / n),
			G: uint8((s[1] + n/2) / n),
			B: uint8((s[2] + n/2) / n),
			A: 0xFF,
		})
	}
	return pal, nil
}

// newCutBox computes the split statistics of bins[lo:hi].
func newCutBox(bins []histBin, lo, hi int) cutBox {
	var n float64
	var s, s2 [3]float64
	for _, b := range bins[lo:hi] {
		c := float64(b.count)
		n += c
		for i := range 3 {
			v := float64(b.c[i])
			s[i] += c * v
			s2[i] += c * v * v
		}
	}
	box := cutBox{lo: lo, hi: hi}
	best := -1.0
	for i := range 3 {
		sse := s2[i] - s[i]*s[i]/n // n·variance
		box.sse += sse
		if sse > best {
			best, box.axis = sse, i
		}
	}
	return box
}

// ditherFS maps img onto pal with serpentine Floyd–Steinberg error
// diffusion. Pixels with alpha < 128 get transparentIndex and neither
// receive nor spread error. It polls pl once per row.
func ditherFS(pl *ctxpoll.Poller, img *image.NRGBA, pal color.Palette, transparentIndex int) (*image.Paletted, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	pm := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	rgb := make([][3]int32, len(pal))
	for i, c := range pal {
		r, g, b, _ := c.RGBA()
		rgb[i] = [3]int32{int32(r >> 8), int32(g >> 8), int32(b >> 8)}
	}
	// cache maps a 6-bit-per-channel colour to its nearest opaque entry+1.
	cache := make([]uint16, 1<<(3*cacheBits))
	nearest := func(r, g, b int32) int {
		k := int(r>>(8-cacheBits))<<(2*cacheBits) | int(g>>(8-cacheBits))<<cacheBits | int(b>>(8-cacheBits))
		if v := cache[k]; v != 0 {
			return int(v) - 1
		}
		const half = 1 << (8 - cacheBits - 1)
		cr := int32(r>>(8-cacheBits))<<(8-cacheBits) + half
		cg := int32(g>>(8-cacheBits))<<(8-cacheBits) + half
		cb := int32(b>>(8-cacheBits))<<(8-cacheBits) + half
		best, bestD := 0, int32(-1)
		for i, c := range rgb {
			if i == transparentIndex {
				continue
			}
			dr, dg, db := c[0]-cr, c[1]-cg, c[2]-cb
			if d := dr*dr + dg*dg + db*db; bestD < 0 || d < bestD {
				best, bestD = i, d
			}
		}
		cache[k] = uint16(best + 1)
		return best
	}
	// Error rows in 1/16 units, with one guard cell on each side.
	cur := make([][3]int32, w+2)
	next := make([][3]int32, w+2)
	for y := range h {
		if err := pl.Work(8 * w); err != nil {
			return nil, err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		out := pm.Pix[y*pm.Stride : y*pm.Stride+w]
		clear(next)
		x0, x1, dx := 0, w, 1
		if y%2 == 1 {
			x0, x1, dx = w-1, -1, -1
		}
		for x := x0; x != x1; x += dx {
			p := row[4*x : 4*x+4 : 4*x+4]
			if p[3] < 0x80 {
				out[x] = uint8(transparentIndex)
				continue
			}
			e := cur[x+1]
			r := clamp255(int32(p[0]) + (e[0]+8)>>4)
			g := clamp255(int32(p[1]) + (e[1]+8)>>4)
			b := clamp255(int32(p[2]) + (e[2]+8)>>4)
			i := nearest(r, g, b)
			out[x] = uint8(i)
			er, eg, eb := r-rgb[i][0], g-rgb[i][1], b-rgb[i][2]
			// 7/16 ahead, 3/16 behind-below, 5/16 below, 1/16 ahead-below.
			ahead, behind := x+1+dx, x+1-dx
			cur[ahead][0] += 7 * er
			cur[ahead][1] += 7 * eg
			cur[ahead][2] += 7 * eb
			next[behind][0] += 3 * er
			next[behind][1] += 3 * eg
			next[behind][2] += 3 * eb
			next[x+1][0] += 5 * er
			next[x+1][1] += 5 * eg
			next[x+1][2] += 5 * eb
			next[ahead][0] += er
			next[ahead][1] += eg
			next[ahead][2] += eb
		}
		cur, next = next, cur
	}
	return pm, nil
}

// clamp255 clamps v to [0, 255].
func clamp255(v int32) int32 {
	return min(max(v, 0), 255)
}
