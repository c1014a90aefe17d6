package imaging

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// TestOverRow compares source-over on every pair of alphas (in steps) with
// the exact formula in floating point: within half a level, plus one for
// the colour of nearly transparent results, whose 8-bit alpha cannot carry
// more precision.
func TestOverRow(t *testing.T) {
	t.Parallel()
	for sa := 0; sa <= 255; sa += 5 {
		for da := 0; da <= 255; da += 5 {
			for _, sc := range []uint8{0, 77, 255} {
				for _, dc := range []uint8{0, 200, 255} {
					s := []uint8{sc, 255 - sc, sc / 2, uint8(sa)}
					d := []uint8{dc, dc / 3, 255 - dc, uint8(da)}
					want := overFloat(s, d)
					got := append([]uint8(nil), d...)
					overRow(got, s)
					for c := range 4 {
						tol := 0.5 + 1e-9
						if c < 3 && want[3] < 64 {
							tol = 1.5
						}
						if math.Abs(float64(got[c])-want[c]) > tol && want[3] > 0.5 {
							t.Fatalf("%v over %v: got %v, want %.2f", s, d, got, want)
						}
					}
				}
			}
		}
	}
	// The documented example.
	got := []uint8{0, 0, 255, 255}
	overRow(got, []uint8{255, 0, 0, 128})
	if want := []uint8{128, 0, 127, 255}; string(got) != string(want) {
		t.Errorf("50%% red over blue: %v, want %v", got, want)
	}
}

func overFloat(s, d []uint8) [4]float64 {
	sa, da := float64(s[3])/255, float64(d[3])/255
	a := sa + da*(1-sa)
	var out [4]float64
	out[3] = a * 255
	if a == 0 {
		return out
	}
	for c := range 3 {
		out[c] = (float64(s[c])*sa + float64(d[c])*da*(1-sa)) / a
	}
	return out
}

// TestOverGrid: copies are placed at the grid's points, clipped at every
// edge, relative to dst's origin, and never composited twice.
func TestOverGrid(t *testing.T) {
	t.Parallel()
	half := color.NRGBA{255, 0, 0, 128}
	src := fromFunc(3, 2, func(x, y int) color.NRGBA { return half })
	dst := fromFunc(10, 7, func(x, y int) color.NRGBA { return qBlue })
	dst = dst.SubImage(image.Rect(0, 0, 10, 7)).(*image.NRGBA)
	if err := OverGrid(bgCtx, dst, src, image.Pt(-1, -1), image.Pt(4, 3), 3, 3); err != nil {
		t.Fatal(err)
	}
	mixed := color.NRGBA{128, 0, 127, 255}
	for y := range 7 {
		for x := range 10 {
			want := qBlue
			if (x+1)%4 < 3 && (y+1)%3 < 2 && x+1 < 12 && y+1 < 9 {
				want = mixed
			}
			if got := dst.NRGBAAt(x, y); got != want {
				t.Errorf("%d,%d: %v, want %v", x, y, got, want)
			}
		}
	}
	// Nothing to do: no copies, or an empty source.
	before := append([]uint8(nil), dst.Pix...)
	noErr(OverGrid(bgCtx, dst, src, image.Point{}, image.Point{}, 0, 5))
	noErr(OverGrid(bgCtx, dst, image.NewNRGBA(image.Rect(0, 0, 0, 0)), image.Point{}, image.Point{}, 1, 1))
	noErr(OverGrid(bgCtx, dst, src, image.Pt(50, 50), image.Point{}, 1, 1))
	if string(before) != string(dst.Pix) {
		t.Error("dst changed")
	}
}
