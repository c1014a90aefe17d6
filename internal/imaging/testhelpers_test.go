package imaging

import (
	"context"
	"image"
	"image/color"
	"math"
)

// Test helpers shared by every test file of the package.

// bgCtx is the context of calls that are not about cancellation.
var bgCtx = context.Background()

// must returns v, panicking on err (which only a done context causes).
func must[T any](v T, err error) T {
	noErr(err)
	return v
}

// noErr panics on err.
func noErr(err error) {
	if err != nil {
		panic(err)
	}
}

// The colours of the quadrants image.
var (
	qRed    = color.NRGBA{255, 0, 0, 255}
	qGreen  = color.NRGBA{0, 255, 0, 255}
	qBlue   = color.NRGBA{0, 0, 255, 255}
	qYellow = color.NRGBA{255, 255, 0, 255}
)

// quadrants returns a w×h opaque image split into four quadrants: red
// top-left, green top-right, blue bottom-left and yellow bottom-right. The
// left half is x < w/2 and the top half y < h/2.
func quadrants(w, h int) *image.NRGBA {
	return fromFunc(w, h, func(x, y int) color.NRGBA {
		switch {
		case x < w/2 && y < h/2:
			return qRed
		case y < h/2:
			return qGreen
		case x < w/2:
			return qBlue
		default:
			return qYellow
		}
	})
}

// solid returns a w×h image filled with c.
func solid(w, h int, c color.NRGBA) *image.NRGBA {
	return fromFunc(w, h, func(int, int) color.NRGBA { return c })
}

// fromFunc returns a w×h image whose pixel (x, y) is f(x, y).
func fromFunc(w, h int, f func(x, y int) color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := f(x, y)
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
		}
	}
	return m
}

// nrgbaAt returns pixel (x, y) of m, counted from m's top-left corner.
func nrgbaAt(m *image.NRGBA, x, y int) color.NRGBA {
	return m.NRGBAAt(m.Rect.Min.X+x, m.Rect.Min.Y+y)
}

// maxDiff returns the largest absolute difference between corresponding
// channel values of a and b, pixels being matched from each image's top-left
// corner. Images of different sizes give math.MaxInt.
func maxDiff(a, b *image.NRGBA) int {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	if w != b.Rect.Dx() || h != b.Rect.Dy() {
		return math.MaxInt
	}
	d := 0
	for y := range h {
		pa := a.Pix[a.PixOffset(a.Rect.Min.X, a.Rect.Min.Y+y):][:w*4]
		pb := b.Pix[b.PixOffset(b.Rect.Min.X, b.Rect.Min.Y+y):][:w*4]
		for i := range pa {
			d = max(d, absInt(int(pa[i])-int(pb[i])))
		}
	}
	return d
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
