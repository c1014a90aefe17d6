package imaging

import (
	"context"
	"image"
	"math"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// scGridSide is the longer side, in cells, of the downscaled copy SmartCrop
// analyses (at most; the box factor is an integer so it may be smaller).
const scGridSide = 256

// Saliency weights and shaping constants of SmartCrop.
const (
	scWeightDetail = 1.0  // edge and texture energy of luma
	scWeightChroma = 0.6  // colourfulness (max−min of R, G, B)
	scWeightSkin   = 1.2  // skin-tone membership
	scBorderFloor  = 0.75 // weight of cells on the very edge of the image
	scBorderBand   = 0.06 // width of the penalised band, as a fraction of the side
)

// SmartCrop returns the top-left corner (in img's coordinates) of the cw×ch
// window of img that holds the most salient content; it implements
// crop=…,smart. cw and ch are clamped to 1…W and 1…H, and the window always
// stays inside the image.
//
// The image is box-averaged by an integer factor down to at most 256 cells
// on its longer side, and each cell gets a saliency score
//
//	(detail + 0.6·chroma + 1.2·skin) · coverage · border
//
// where detail = min(1, |∇Y|/2 + 2·σY) combines the Sobel gradient magnitude
// of the cells' Rec. 709 luma (0–1) with the standard deviation of luma
// inside the cell (fine texture that the averaging removes); chroma is
// max(R,G,B)−min(R,G,B); skin is a smooth membership of the cell's BT.601
// (Cb, Cr) in the usual skin-tone range (Cb 77–127, Cr 133–173, very dark
// and very bright cells excluded); coverage is the mean alpha; and border
// falls from 1 to 0.75 within the outer 6 % of each side. Every window
// position on the grid is scored with a summed-area table; among the best
// (equal within a relative 10⁻⁶) the one closest to the centre wins, and an
// image without any salient content gives the exactly centred window. The
// grid position is scaled back to full resolution and clamped.
//
// ctx is polled every few rows of img (see ctxpoll): once it is done,
// SmartCrop stops and returns ctx.Err().
func SmartCrop(ctx context.Context, img *image.NRGBA, cw, ch int) (image.Point, error) {
	if img == nil {
		return image.Point{}, nil
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 {
		return image.Point{}, nil
	}
	cw = min(max(cw, 1), w)
	ch = min(max(ch, 1), h)
	if cw == w && ch == h {
		return img.Rect.Min, nil
	}
	centre := image.Point{X: (w - cw) / 2, Y: (h - ch) / 2}

	f := max(1, (max(w, h)+scGridSide-1)/scGridSide)
	gw, gh := (w+f-1)/f, (h+f-1)/f
	sal, err := scSaliency(ctx, img, f, gw, gh)
	if err != nil {
		return image.Point{}, err
	}

	// Summed-area table: sat[(y)*(gw+1)+x] = Σ sal over [0,x)×[0,y).
	sw := gw + 1
	sat := make([]float64, sw*(gh+1))
	for y := range gh {
		run := 0.0
		for x := range gw {
			run += float64(sal[y*gw+x])
			sat[(y+1)*sw+x+1] = sat[y*sw+x+1] + run
		}
	}

	ww := min(max(int(math.Round(float64(cw)/float64(f))), 1), gw)
	wh := min(max(int(math.Round(float64(ch)/float64(f))), 1), gh)
	if cw == w {
		ww = gw
	}
	if ch == h {
		wh = gh
	}
	nx, ny := gw-ww+1, gh-wh+1
	scores := make([]float64, nx*ny)
	best := math.Inf(-1)
	for y := range ny {
		for x := range nx {
			s := sat[(y+wh)*sw+x+ww] - sat[y*sw+x+ww] - sat[(y+wh)*sw+x] + sat[y*sw+x]
			scores[y*nx+x] = s
			best = max(best, s)
		}
	}
	total := sat[gh*sw+gw]
	if !(best > 1e-9*float64(ww*wh)) || !(total > 0) {
		return img.Rect.Min.Add(centre), nil
	}
	tol := best * 1e-6
	midX, midY := float64(gw-ww)/2, float64(gh-wh)/2
	bx, by, bestD := 0, 0, math.Inf(1)
	for y := range ny {
		for x := range nx {
			if scores[y*nx+x] < best-tol {
				continue
			}
			dx, dy := float64(x)-midX, float64(y)-midY
			if d := dx*dx + dy*dy; d < bestD {
				bx, by, bestD = x, y, d
			}
		}
	}
	// Map the grid window's centre back to full resolution.
	px := int(math.Round((float64(bx)+float64(ww)/2)*float64(f) - float64(cw)/2))
	py := int(math.Round((float64(by)+float64(wh)/2)*float64(f) - float64(ch)/2))
	// A window in the middle of the grid means the exact centre: the grid's
	// rounding must not move a centred crop by a pixel.
	if math.Abs(float64(bx)-midX) <= 0.5 {
		px = centre.X
	}
	if math.Abs(float64(by)-midY) <= 0.5 {
		py = centre.Y
	}
	return img.Rect.Min.Add(image.Point{X: min(max(px, 0), w-cw), Y: min(max(py, 0), h-ch)}), nil
}

// scSaliency box-averages img by the integer factor f onto a gw×gh grid and
// returns the saliency of every cell (row-major), polling ctx.
func scSaliency(ctx context.Context, img *image.NRGBA, f, gw, gh int) ([]float32, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	// Per cell: mean straight R, G, B (0–1), mean alpha (0–1) and standard
	// deviation of luma (0–1).
	const nf = 5
	cells := make([]float32, gw*gh*nf)
	// Per cell of the current grid row: Σr·a, Σg·a, Σb·a, Σa, ΣY, ΣY².
	const na = 6
	acc := make([]uint64, gw*na)
	pl := ctxpoll.New(ctx)
	for cy := range gh {
		clear(acc)
		y0, y1 := cy*f, min((cy+1)*f, h)
		for y := y0; y < y1; y++ {
			if err := pl.Work(8 * w); err != nil {
				return nil, err
			}
			off := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
			row := img.Pix[off : off+4*w : off+4*w]
			for cx := range gw {
				x0, x1 := cx*f, min((cx+1)*f, w)
				var sr, sg, sb, sa, sy, syy uint32
				seg := row[4*x0 : 4*x1]
				for i := 0; i+3 < len(seg); i += 4 {
					r, g, b, a := uint32(seg[i]), uint32(seg[i+1]), uint32(seg[i+2]), uint32(seg[i+3])
					sr += r * a
					sg += g * a
					sb += b * a
					sa += a
					l := (lumaR709*r + lumaG709*g + lumaB709*b + 1<<15) >> 16
					sy += l
					syy += l * l
				}
				c := acc[cx*na : cx*na+na : cx*na+na]
				c[0] += uint64(sr)
				c[1] += uint64(sg)
				c[2] += uint64(sb)
				c[3] += uint64(sa)
				c[4] += uint64(sy)
				c[5] += uint64(syy)
			}
		}
		for cx := range gw {
			x0, x1 := cx*f, min((cx+1)*f, w)
			n := float64((x1 - x0) * (y1 - y0))
			c := acc[cx*na : cx*na+na]
			o := cells[(cy*gw+cx)*nf : (cy*gw+cx)*nf+nf]
			if c[3] > 0 {
				inv := 1 / (float64(c[3]) * 255)
				o[0] = float32(float64(c[0]) * inv)
				o[1] = float32(float64(c[1]) * inv)
				o[2] = float32(float64(c[2]) * inv)
			}
			o[3] = float32(float64(c[3]) / (255 * n))
			mean := float64(c[4]) / n
			v := max(float64(c[5])/n-mean*mean, 0)
			o[4] = float32(math.Sqrt(v) / 255)
		}
	}

	// Luma of the averaged colour, for the cell-scale gradient.
	lum := make([]float32, gw*gh)
	for i := range lum {
		c := cells[i*nf : i*nf+nf]
		lum[i] = 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
	}
	at := func(x, y int) float32 {
		return lum[min(max(y, 0), gh-1)*gw+min(max(x, 0), gw-1)]
	}
	bandX := max(scBorderBand*float64(gw), 1)
	bandY := max(scBorderBand*float64(gh), 1)
	sal := make([]float32, gw*gh)
	for y := range gh {
		for x := range gw {
			c := cells[(y*gw+x)*nf : (y*gw+x)*nf+nf]
			gx := (at(x+1, y-1) + 2*at(x+1, y) + at(x+1, y+1)) - (at(x-1, y-1) + 2*at(x-1, y) + at(x-1, y+1))
			gy := (at(x-1, y+1) + 2*at(x, y+1) + at(x+1, y+1)) - (at(x-1, y-1) + 2*at(x, y-1) + at(x+1, y-1))
			grad := float32(math.Sqrt(float64(gx*gx + gy*gy)))
			detail := min(grad/2+2*c[4], 1)
			r, g, b := c[0], c[1], c[2]
			chroma := max(r, g, b) - min(r, g, b)
			s := scWeightDetail*detail + scWeightChroma*chroma + scWeightSkin*scSkin(r, g, b)
			// Border penalty.
			ex := min((float64(min(x, gw-1-x))+0.5)/bandX, 1)
			ey := min((float64(min(y, gh-1-y))+0.5)/bandY, 1)
			border := scBorderFloor + (1-scBorderFloor)*min(ex, ey)
			sal[y*gw+x] = s * c[3] * float32(border)
		}
	}
	return sal, nil
}

// scSkin returns how strongly the colour (r, g, b in 0–1) looks like skin,
// from 0 to 1. Its BT.601 chroma must fall in the usual skin range Cb 77–127,
// Cr 133–173: membership is full in the inner 60 % of each range and falls
// linearly to 0 at its edges, and it fades out for very dark or very bright
// colours.
func scSkin(r, g, b float32) float32 {
	y := 0.299*r + 0.587*g + 0.114*b
	if y < 0.12 || y > 0.97 {
		return 0
	}
	cb := 128 + (-0.168736*r-0.331264*g+0.5*b)*255
	cr := 128 + (0.5*r-0.418688*g-0.081312*b)*255
	m := scRamp((cb-102)/25) * scRamp((cr-153)/20)
	// Fade in from y 0.12 to 0.25 and out from 0.9 to 0.97.
	return m * min((y-0.12)/0.13, 1, (0.97-y)/0.07)
}

// scRamp is 1 for |d| ≤ 0.6, 0 for |d| ≥ 1 and linear in between.
func scRamp(d float32) float32 {
	if d < 0 {
		d = -d
	}
	return min(max((1-d)/0.4, 0), 1)
}
