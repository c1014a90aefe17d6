package imaging

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"testing"

	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
)

// TestCancel checks that every long-running function stops soon after its
// context is cancelled (see polltest.Check): each polls all through its
// work, and returns an error wrapping context.Canceled right after the
// poll that sees it.
func TestCancel(t *testing.T) {
	t.Parallel()
	const w, h = 1024, 768
	src := noisy(w, h, 11, false)
	opaque := noisy(w, h, 12, true)
	plane := randomPlane(w, h, 13)
	ycc := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	copy(ycc.Y, plane.Pix)
	plWeights := func(n, from int) *PlaneWeights {
		return NewPlaneWeights(PlaneAxis{N: n, Step: float64(from) / float64(n), Hi: from}, Lanczos3)
	}
	// Each job works on its own copy when it changes its input.
	clone := func(m *image.NRGBA) *image.NRGBA { return must(Crop(bgCtx, m, m.Rect)) }
	for _, tc := range []struct {
		name string
		job  func(ctx context.Context) error
	}{
		{"Resize up lanczos3", func(ctx context.Context) error { _, err := Resize(ctx, src, 1500, 1100, Lanczos3); return err }},
		{"Resize down bicubic", func(ctx context.Context) error { _, err := Resize(ctx, opaque, 300, 200, Bicubic); return err }},
		{"Resize nearest", func(ctx context.Context) error { _, err := Resize(ctx, src, 2000, 1500, Nearest); return err }},
		{"Resize same size", func(ctx context.Context) error { _, err := Resize(ctx, src, w, h, Lanczos3); return err }},
		{"ResamplePlane", func(ctx context.Context) error {
			return ResamplePlane(ctx, newPlane(1600, 1200), plane, plWeights(1600, w), plWeights(1200, h))
		}},
		{"ResamplePlane copy", func(ctx context.Context) error {
			return ResamplePlane(ctx, newPlane(w, h), plane, plWeights(w, w), plWeights(h, h))
		}},
		{"TransposePlane", func(ctx context.Context) error { return TransposePlane(ctx, newPlane(h, w), plane) }},
		{"Blur exact", func(ctx context.Context) error { _, err := Blur(ctx, src, 1.5); return err }},
		{"Blur boxes", func(ctx context.Context) error { _, err := Blur(ctx, opaque, 40); return err }},
		{"Sharpen", func(ctx context.Context) error { _, err := Sharpen(ctx, src, 2, 3, 5); return err }},
		{"Adjust", func(ctx context.Context) error { return Adjust(ctx, clone(src), 20, 30, -40) }},
		{"Threshold", func(ctx context.Context) error { return Threshold(ctx, clone(src), 50) }},
		{"Atkinson", func(ctx context.Context) error { return Atkinson(ctx, clone(src)) }},
		{"Flatten", func(ctx context.Context) error { return Flatten(ctx, clone(src), color.NRGBA{9, 9, 9, 255}) }},
		{"Orient 6", func(ctx context.Context) error { _, err := Orient(ctx, src, 6); return err }},
		{"Orient 3", func(ctx context.Context) error { _, err := Orient(ctx, src, 3); return err }},
		{"Crop", func(ctx context.Context) error { _, err := Crop(ctx, src, image.Rect(10, 10, 1000, 700)); return err }},
		{"Crop whole rows", func(ctx context.Context) error { _, err := Crop(ctx, src, image.Rect(0, 5, w, 760)); return err }},
		{"OverGrid", func(ctx context.Context) error {
			return OverGrid(ctx, clone(opaque), src, image.Point{}, image.Pt(w, h), 1, 1)
		}},
		{"Place", func(ctx context.Context) error {
			_, err := Place(ctx, 1500, 1000, color.NRGBA{1, 2, 3, 4}, src, 100, 50)
			return err
		}},
		{"ToNRGBA YCbCr", func(ctx context.Context) error { _, err := ToNRGBA(ctx, ycc); return err }},
		{"ToNRGBA Gray", func(ctx context.Context) error {
			_, err := ToNRGBA(ctx, &image.Gray{Pix: plane.Pix, Stride: plane.Stride, Rect: image.Rect(0, 0, w, h)})
			return err
		}},
		{"SmartCrop", func(ctx context.Context) error { _, err := SmartCrop(ctx, src, 500, 500); return err }},
		{"TrimBounds rows", func(ctx context.Context) error {
			_, err := TrimBounds(ctx, solid(w, h, qRed), qRed, 0)
			return err
		}},
		{"TrimBounds columns", func(ctx context.Context) error {
			m := solid(w, h, qRed)
			m.SetNRGBA(w/2, 0, qBlue)
			m.SetNRGBA(w/2, h-1, qBlue)
			_, err := TrimBounds(ctx, m, qRed, 0)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := polltest.Check(t, tc.job, 8)
			t.Logf("%d polls", n)
		})
	}
}

// TestCancelInPlaceRows measures the work done by the in-place filters
// once cancelled: cancelled at the k-th poll of n, they leave all but
// about k/n of the rows untouched.
func TestCancelInPlaceRows(t *testing.T) {
	t.Parallel()
	const w, h = 300, 2000
	src := noisy(w, h, 21, false)
	for _, tc := range []struct {
		name string
		job  func(ctx context.Context, m *image.NRGBA) error
	}{
		{"Adjust", func(ctx context.Context, m *image.NRGBA) error { return Adjust(ctx, m, 30, 0, 50) }},
		{"Threshold", func(ctx context.Context, m *image.NRGBA) error { return Threshold(ctx, m, 50) }},
		{"Atkinson", func(ctx context.Context, m *image.NRGBA) error { return Atkinson(ctx, m) }},
		{"Flatten", func(ctx context.Context, m *image.NRGBA) error { return Flatten(ctx, m, color.NRGBA{0, 0, 0, 255}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			full := polltest.Never()
			if err := tc.job(full, must(Crop(bgCtx, src, src.Rect))); err != nil {
				t.Fatal(err)
			}
			n := full.Polls()
			for _, k := range []int{0, 1, n / 3, n - 1} {
				m := must(Crop(bgCtx, src, src.Rect))
				err := tc.job(polltest.CancelAfter(k), m)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled at poll %d of %d: %v", k+1, n, err)
				}
				changed := 0
				for y := range h {
					if !bytes.Equal(m.Pix[y*m.Stride:(y+1)*m.Stride], src.Pix[y*src.Stride:(y+1)*src.Stride]) {
						changed++
					}
				}
				// Polls are evenly spread over the rows: k polls passed
				// cover about k·h/n rows.
				if lo, hi := (k-1)*h/n, (k+1)*h/n+1; changed < lo || changed > hi {
					t.Errorf("cancelled at poll %d of %d: %d of %d rows changed, want %d…%d", k+1, n, changed, h, lo, hi)
				}
			}
		})
	}
}

// TestCancelRealContext uses a context that is already cancelled.
func TestCancelRealContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Resize(ctx, noisy(64, 64, 1, true), 640, 640, Lanczos3); !errors.Is(err, context.Canceled) {
		t.Errorf("Resize: %v", err)
	}
	if _, err := Blur(ctx, noisy(64, 64, 1, true), 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Blur: %v", err)
	}
}
