package imaging

import (
	"context"
	"image"
	"math"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Threshold turns img into pure black and white in place. Each pixel's
// Rec. 709 luma Y is computed on its sRGB values (0–255) and compared with the
// cutoff luminance/100·255: pixels with Y above the cutoff become white, all
// others black. A higher luminance (0–100, clamped) therefore gives a darker
// image: 0 leaves only pure black pixels black, 100 makes everything black.
// Alpha is unchanged. ctx is polled every few rows (see ctxpoll): once it is
// done, Threshold stops, leaving the rows below unchanged, and returns
// ctx.Err().
func Threshold(ctx context.Context, img *image.NRGBA, luminance float64) error {
	if img == nil {
		return nil
	}
	if luminance != luminance {
		luminance = 0
	}
	luminance = min(max(luminance, 0), 100)
	// Y·65536 > cutoff·65536  ⇔  Y·65536 > ⌊cutoff·65536⌋ for integer Y·65536.
	cut := int64(math.Floor(luminance / 100 * 255 * 65536))
	w, h := max(img.Rect.Dx(), 0), max(img.Rect.Dy(), 0)
	pl := ctxpoll.New(ctx)
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return err
		}
		off := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		row := img.Pix[off : off+4*w : off+4*w]
		for i := 0; i+3 < len(row); i += 4 {
			lum := lumaR709*int64(row[i]) + lumaG709*int64(row[i+1]) + lumaB709*int64(row[i+2])
			var v uint8
			if lum > cut {
				v = 255
			}
			row[i], row[i+1], row[i+2] = v, v, v
		}
	}
	return nil
}

// Atkinson turns img into pure black and white in place with Atkinson
// error-diffusion dithering. It works on the Rec. 709 luma of the sRGB values
// (no linearisation), thresholds at mid grey and spreads 1/8 of the
// quantisation error to each of (x+1,y), (x+2,y), (x−1,y+1), (x,y+1),
// (x+1,y+1) and (x,y+2); the remaining quarter is dropped, as in Atkinson's
// original algorithm. Rows are scanned left to right, top to bottom. Alpha is
// unchanged. ctx is polled every few rows (see ctxpoll): once it is done,
// Atkinson stops, leaving the rows below unchanged, and returns ctx.Err().
func Atkinson(ctx context.Context, img *image.NRGBA) error {
	if img == nil {
		return nil
	}
	w, h := max(img.Rect.Dx(), 0), max(img.Rect.Dy(), 0)
	if w == 0 || h == 0 {
		return nil
	}
	pl := ctxpoll.New(ctx)
	// Three rolling error rows (current, next, the one after), padded by one
	// cell on the left and two on the right so that no neighbour needs a
	// bounds test. Index x+1 holds column x.
	stride := w + 3
	buf := make([]float32, 3*stride)
	cur, next, after := buf[:stride], buf[stride:2*stride], buf[2*stride:]
	const scale = 1.0 / 65536
	for y := range h {
		if err := pl.Work(16 * w); err != nil {
			return err
		}
		off := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		row := img.Pix[off : off+4*w : off+4*w]
		for x := range w {
			i := 4 * x
			lum := float32(lumaR709*int32(row[i])+lumaG709*int32(row[i+1])+lumaB709*int32(row[i+2])) * scale
			val := lum + cur[x+1]
			var out uint8
			e := val
			if val >= 127.5 {
				out = 255
				e = val - 255
			}
			e *= 1.0 / 8
			cur[x+2] += e
			cur[x+3] += e
			next[x] += e
			next[x+1] += e
			next[x+2] += e
			after[x+1] += e
			row[i], row[i+1], row[i+2] = out, out, out
		}
		clear(cur)
		cur, next, after = next, after, cur
	}
	return nil
}
