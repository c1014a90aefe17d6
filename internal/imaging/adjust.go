package imaging

import (
	"context"
	"image"
	"math"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Rec. 709 luma weights scaled by 65536 (they sum to exactly 65536). They are
// applied to the sRGB-encoded 8-bit values (no linearisation), like every
// luma computation in this package.
const (
	lumaR709 = 13933
	lumaG709 = 46871
	lumaB709 = 4732
)

// Adjust changes the brightness, contrast and saturation of img in place.
// Each amount runs from −100 to 100 (values outside are clamped) and 0 means
// no change; the alpha channel is never touched. The steps run in the order
// brightness, contrast, saturation, the first two folded into one 256-entry
// lookup table:
//
//   - brightness b > 0 moves each channel towards white, v' = v + (255−v)·b/100,
//     and b < 0 towards black, v' = v·(1+b/100), so 100 gives a white image and
//     −100 a black one.
//   - contrast c scales the distance from mid grey 128: v' = 128 + (v−128)·k with
//     k = (100+c)/100 for c ≤ 0 (so −100 gives a uniform grey of 128) and
//     k = 100/(100−c) for c > 0, which grows without bound; c = 100 is therefore
//     a hard threshold at 128 (values below 128 become 0, the others 255).
//   - saturation s scales each channel's distance from the pixel's Rec. 709
//     luma Y (computed on the sRGB values): v' = Y + (v−Y)·(1+s/100), clamped
//     to 0–255. −100 gives greyscale (R = G = B = Y) and 100 doubles the chroma.
//
// ctx is polled every few rows (see ctxpoll): once it is done, Adjust stops,
// leaving the rows below unchanged, and returns ctx.Err().
func Adjust(ctx context.Context, img *image.NRGBA, brightness, contrast, saturation float64) error {
	brightness = adjClampAmount(brightness)
	contrast = adjClampAmount(contrast)
	saturation = adjClampAmount(saturation)
	if img == nil || (brightness == 0 && contrast == 0 && saturation == 0) {
		return nil
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 {
		return nil
	}
	pl := ctxpoll.New(ctx)
	var lut *[256]uint8
	if brightness != 0 || contrast != 0 {
		lut = adjToneLUT(brightness, contrast)
	}
	// Saturation factor in 16.16 fixed point.
	satK := int64(math.Round((1 + saturation/100) * 65536))
	for y := range h {
		if err := pl.Work(8 * w); err != nil {
			return err
		}
		off := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		row := img.Pix[off : off+4*w : off+4*w]
		if lut != nil {
			for i := 0; i+3 < len(row); i += 4 {
				row[i] = lut[row[i]]
				row[i+1] = lut[row[i+1]]
				row[i+2] = lut[row[i+2]]
			}
		}
		if saturation != 0 {
			adjSaturateRow(row, satK)
		}
	}
	return nil
}

// adjClampAmount maps v into −100…100; NaN becomes 0 (no change).
func adjClampAmount(v float64) float64 {
	switch {
	case v != v:
		return 0
	case v < -100:
		return -100
	case v > 100:
		return 100
	}
	return v
}

// adjToneLUT builds the combined brightness-then-contrast table.
func adjToneLUT(brightness, contrast float64) *[256]uint8 {
	var lut [256]uint8
	b := brightness / 100
	for i := range lut {
		v := float64(i)
		if b > 0 {
			v += (255 - v) * b
		} else if b < 0 {
			v *= 1 + b
		}
		switch {
		case contrast >= 100:
			// Hard threshold at 128 (the limit of the curve below).
			if v < 128 {
				v = 0
			} else {
				v = 255
			}
		case contrast > 0:
			v = 128 + (v-128)*100/(100-contrast)
		case contrast < 0:
			v = 128 + (v-128)*(100+contrast)/100
		}
		lut[i] = adjRound8(v)
	}
	return &lut
}

// adjRound8 rounds v to the nearest integer and clamps it to 0–255.
func adjRound8(v float64) uint8 {
	if v <= 0 || v != v {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}

// adjSaturateRow scales the chroma of each RGBA pixel in row by k/65536.
func adjSaturateRow(row []uint8, k int64) {
	for i := 0; i+3 < len(row); i += 4 {
		r, g, b := int64(row[i]), int64(row[i+1]), int64(row[i+2])
		y := lumaR709*r + lumaG709*g + lumaB709*b // luma · 65536
		row[i] = adjSatChannel(r, y, k)
		row[i+1] = adjSatChannel(g, y, k)
		row[i+2] = adjSatChannel(b, y, k)
	}
}

// adjSatChannel returns clamp(Y + (v−Y)·k) where y = Y·65536 and k is 16.16
// fixed point.
func adjSatChannel(v, y, k int64) uint8 {
	t := y<<16 + k*(v<<16-y) // value · 2^32
	if t <= 0 {
		return 0
	}
	t = (t + 1<<31) >> 32
	if t >= 255 {
		return 255
	}
	return uint8(t)
}
