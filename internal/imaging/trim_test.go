package imaging

import (
	"image"
	"image/color"
	"testing"
)

// fxBordered returns a w×h image of colour border with the rectangle inner
// filled with a pattern that never comes close to border.
func fxBordered(w, h int, border color.NRGBA, inner image.Rectangle) *image.NRGBA {
	img := fxSolid(w, h, border)
	for y := inner.Min.Y; y < inner.Max.Y; y++ {
		for x := inner.Min.X; x < inner.Max.X; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x*7), 0, uint8(y*3), 255
		}
	}
	return img
}

func TestTrimBounds(t *testing.T) {
	t.Parallel()
	white := color.NRGBA{255, 255, 255, 255}
	inner := image.Rect(3, 5, 91, 73)
	bordered := fxBordered(100, 80, white, inner)
	// A border of (250,250,250): its distance from white is
	// √(3·(5/255)²)/2 ≈ 0.01698.
	near := fxBordered(100, 80, color.NRGBA{250, 250, 250, 255}, inner)
	// A pixel of another colour in the left border column stops the left
	// scan at column 0; one in a top border row stops the top scan there
	// (and, being in column 0 of a kept row, the left scan too).
	spotIn := fxClone(bordered)
	spotIn.Pix[spotIn.PixOffset(0, 40)] = 0
	spotOut := fxClone(bordered)
	spotOut.Pix[spotOut.PixOffset(0, 2)] = 0 // in a top border row
	transparent := fxBordered(20, 20, color.NRGBA{10, 20, 30, 0}, image.Rect(4, 4, 16, 16))

	tests := []struct {
		name      string
		img       *image.NRGBA
		c         color.NRGBA
		threshold float64
		want      image.Rectangle
	}{
		{"exact colour", bordered, white, 0, inner},
		{"near colour under threshold", near, white, 0.02, inner},
		{"near colour over threshold", near, white, 0.01, near.Rect},
		{"near colour exact only", near, white, 0, near.Rect},
		{"other colour", bordered, color.NRGBA{0, 0, 0, 255}, 0, bordered.Rect},
		{"all border", fxSolid(30, 20, white), white, 0, image.Rectangle{}},
		{"threshold 1 trims everything", bordered, white, 1, image.Rectangle{}},
		{"spot inside kept rows", spotIn, white, 0, image.Rect(0, 5, 91, 73)},
		{"spot in a top border row stops the top scan", spotOut, white, 0, image.Rect(0, 2, 91, 73)},
		{"transparent border", transparent, color.NRGBA{10, 20, 30, 0}, 0, image.Rect(4, 4, 16, 16)},
		{"alpha counts in the distance", transparent, color.NRGBA{10, 20, 30, 255}, 0.49, transparent.Rect},
		{"single pixel image", fxSolid(1, 1, white), white, 0, image.Rectangle{}},
		{"no border", fxBordered(10, 10, white, image.Rect(0, 0, 10, 10)), white, 0, image.Rect(0, 0, 10, 10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := must(TrimBounds(bgCtx, tc.img, tc.c, tc.threshold)); got != tc.want {
				t.Fatalf("TrimBounds = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTrimBoundsSubImage(t *testing.T) {
	t.Parallel()
	white := color.NRGBA{255, 255, 255, 255}
	img := fxBordered(50, 50, white, image.Rect(10, 12, 30, 40))
	sub := img.SubImage(image.Rect(5, 5, 45, 45)).(*image.NRGBA)
	if got, want := must(TrimBounds(bgCtx, sub, white, 0)), image.Rect(10, 12, 30, 40); got != want {
		t.Fatalf("TrimBounds = %v, want %v (in the image's coordinates)", got, want)
	}
}
