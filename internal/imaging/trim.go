package imaging

import (
	"context"
	"image"
	"image/color"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// TrimBounds returns the part of img that remains after removing a uniform
// border of colour c from all four edges. A row or column
// belongs to the border when every pixel in it lies within threshold of c,
// where the distance between two colours is the Euclidean distance of their
// straight-alpha RGBA values with each channel scaled to 0–1, divided by 2:
//
//	d = √(ΔR² + ΔG² + ΔB² + ΔA²) / 2,  each Δ in 0…1
//
// so d runs from 0 (identical) to 1 (opaque black against transparent
// white). A threshold of 0 therefore trims only exact matches and 1 trims
// everything. Rows are scanned from the top, then from the bottom, and
// columns from the left, then from the right, within the remaining rows. The
// result is in img's coordinates; it is the empty rectangle when everything
// is trimmed. ctx is polled every few rows or columns (see ctxpoll): once it
// is done, TrimBounds stops and returns ctx.Err().
func TrimBounds(ctx context.Context, img *image.NRGBA, c color.NRGBA, threshold float64) (image.Rectangle, error) {
	if img == nil || img.Rect.Empty() {
		return image.Rectangle{}, nil
	}
	if threshold != threshold || threshold < 0 {
		threshold = 0
	}
	// d ≤ t  ⇔  Σ(Δ·255)² ≤ (2·255·t)².
	lim := 2 * 255 * threshold
	limSq := lim * lim
	ref := [4]int32{int32(c.R), int32(c.G), int32(c.B), int32(c.A)}
	match := func(p []uint8) bool {
		dr := int32(p[0]) - ref[0]
		dg := int32(p[1]) - ref[1]
		db := int32(p[2]) - ref[2]
		da := int32(p[3]) - ref[3]
		return float64(dr*dr+dg*dg+db*db+da*da) <= limSq
	}
	r := img.Rect
	pl := ctxpoll.New(ctx)
	var err error // set, and every row and column then mismatches, once ctx is done
	rowIs := func(y, x0, x1 int) bool {
		if err != nil {
			return false
		}
		if err = pl.Work(4 * (x1 - x0)); err != nil {
			return false
		}
		off := img.PixOffset(x0, y)
		for x := x0; x < x1; x++ {
			if !match(img.Pix[off : off+4 : off+4]) {
				return false
			}
			off += 4
		}
		return true
	}
	colIs := func(x, y0, y1 int) bool {
		// Reading down a column misses the cache at every pixel.
		if err != nil {
			return false
		}
		if err = pl.Work(16 * (y1 - y0)); err != nil {
			return false
		}
		off := img.PixOffset(x, y0)
		for y := y0; y < y1; y++ {
			if !match(img.Pix[off : off+4 : off+4]) {
				return false
			}
			off += img.Stride
		}
		return true
	}
	top, bottom := r.Min.Y, r.Max.Y
	for top < bottom && rowIs(top, r.Min.X, r.Max.X) {
		top++
	}
	if err != nil {
		return image.Rectangle{}, err
	}
	if top == bottom {
		return image.Rectangle{}, nil
	}
	for bottom > top && rowIs(bottom-1, r.Min.X, r.Max.X) {
		bottom--
	}
	left, right := r.Min.X, r.Max.X
	for left < right && colIs(left, top, bottom) {
		left++
	}
	for right > left && colIs(right-1, top, bottom) {
		right--
	}
	if err != nil {
		return image.Rectangle{}, err
	}
	if left == right {
		// Cannot happen (a row with a non-matching pixel remains), but be safe.
		return image.Rectangle{}, nil
	}
	return image.Rect(left, top, right, bottom), nil
}
