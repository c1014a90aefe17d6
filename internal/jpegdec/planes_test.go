package jpegdec

import (
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodePlanes: DecodePlanes gives Decode's planes, sample for sample,
// at every scale; with a chroma step it gives the chroma of the larger
// reduction; it refuses CMYK and RGB-coded files with ErrNotPlanar.
func TestDecodePlanes(t *testing.T) {
	t.Parallel()
	for _, name := range testFiles(t) {
		data := readFile(t, name)
		base := filepath.Base(name)
		if strings.Contains(base, "truncated") {
			continue
		}
		for _, s := range []int{1, 2, 4, 8} {
			t.Run(fmt.Sprintf("%s/1:%d", base, s), func(t *testing.T) {
				t.Parallel()
				m, err := Decode(bgCtx, data, &Options{Scale: s})
				if err != nil {
					t.Fatal(err)
				}
				p, err := DecodePlanes(bgCtx, data, &Options{Scale: s})
				switch m.(type) {
				case *image.YCbCr, *image.Gray:
				default:
					if !errors.Is(err, ErrNotPlanar) {
						t.Fatalf("%T: err %v, want ErrNotPlanar", m, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if b := m.Bounds(); p.Width != b.Dx() || p.Height != b.Dy() {
					t.Fatalf("planes %dx%d, image %v", p.Width, p.Height, b)
				}
				for i, want := range imagePlanes(m) {
					got := p.Comp[i]
					if got.W != want.W || got.H != want.H || got.HS != want.HS || got.VS != want.VS {
						t.Fatalf("plane %d: %dx%d /%dx%d, want %dx%d /%dx%d", i, got.W, got.H, got.HS, got.VS, want.W, want.H, want.HS, want.VS)
					}
					if d, n := planeDiff(got.Pix, got.Stride, want.Pix, want.Stride, got.W, got.H); d != 0 {
						t.Fatalf("plane %d: %d samples differ, by up to %d", i, n, d)
					}
				}
				// Chroma reduced once more (when the scale allows): the chroma
				// planes are those of the next scale's decode.
				if s == 8 || len(p.Comp) != 3 {
					return
				}
				big := p.Comp[1]
				step := big.HS * 2 * s
				p2, err := DecodePlanes(bgCtx, data, &Options{Scale: s, ChromaStepX: step, ChromaStepY: big.VS * 2 * s})
				if err != nil {
					t.Fatal(err)
				}
				m2, err := Decode(bgCtx, data, &Options{Scale: 2 * s})
				if err != nil {
					t.Fatal(err)
				}
				if d, _ := planeDiff(p2.Comp[0].Pix, p2.Comp[0].Stride, p.Comp[0].Pix, p.Comp[0].Stride, p.Width, p.Height); d != 0 {
					t.Fatal("luma changed with a chroma step")
				}
				for i, want := range imagePlanes(m2)[1:] {
					got := p2.Comp[i+1]
					if got.HS != 2*big.HS || got.VS != 2*big.VS {
						t.Fatalf("chroma covers %dx%d pixels, want %dx%d", got.HS, got.VS, 2*big.HS, 2*big.VS)
					}
					if got.W < want.W || got.H < want.H {
						t.Fatalf("chroma %dx%d, want at least %dx%d", got.W, got.H, want.W, want.H)
					}
					if d, n := planeDiff(got.Pix, got.Stride, want.Pix, want.Stride, want.W, want.H); d != 0 {
						t.Fatalf("chroma %d: %d samples differ from the 1/%d decode, by up to %d", i, n, 2*s, d)
					}
				}
			})
		}
	}
}

// imagePlanes returns the planes of a decoded *image.YCbCr or *image.Gray
// as Plane values (HS, VS: pixels per sample).
func imagePlanes(m image.Image) []Plane {
	switch m := m.(type) {
	case *image.Gray:
		b := m.Bounds()
		return []Plane{{Pix: m.Pix, Stride: m.Stride, W: b.Dx(), H: b.Dy(), HS: 1, VS: 1}}
	case *image.YCbCr:
		b := m.Bounds()
		cw, ch := chromaSize(m)
		hs, vs := 1, 1
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio422:
			hs = 2
		case image.YCbCrSubsampleRatio420:
			hs, vs = 2, 2
		case image.YCbCrSubsampleRatio440:
			vs = 2
		case image.YCbCrSubsampleRatio411:
			hs = 4
		case image.YCbCrSubsampleRatio410:
			hs, vs = 4, 2
		}
		return []Plane{
			{Pix: m.Y, Stride: m.YStride, W: b.Dx(), H: b.Dy(), HS: 1, VS: 1},
			{Pix: m.Cb, Stride: m.CStride, W: cw, H: ch, HS: hs, VS: vs},
			{Pix: m.Cr, Stride: m.CStride, W: cw, H: ch, HS: hs, VS: vs},
		}
	}
	return nil
}

// TestDecodePlanesChromaStep: the further chroma reduction stays within the
// step asked for on both axes and never goes below 1/8 in all.
func TestDecodePlanesChromaStep(t *testing.T) {
	t.Parallel()
	data := readFile(t, filepath.Join("testdata", "video-001.q50.422.jpeg")) // chroma 2×1
	cases := []struct {
		scale, sx, sy int
		hs, vs        int // chroma sample size in decoded pixels
	}{
		{1, 0, 0, 2, 1},
		{1, 3, 3, 2, 1},      // reducing once would put samples 4 pixels apart
		{1, 4, 2, 4, 2},      // reduced once: 4×2
		{1, 8, 4, 8, 4},      // twice
		{1, 100, 100, 16, 8}, // three times: 1/8 in all
		{2, 8, 4, 4, 2},      // at 1/2: chroma at 1/4 covers 8×4 source pixels
		{8, 100, 100, 2, 1},  // nothing beyond 1/8
	}
	for _, c := range cases {
		p, err := DecodePlanes(bgCtx, data, &Options{Scale: c.scale, ChromaStepX: c.sx, ChromaStepY: c.sy})
		if err != nil {
			t.Fatal(err)
		}
		if g := p.Comp[1]; g.HS != c.hs || g.VS != c.vs {
			t.Errorf("scale %d step %dx%d: chroma sample %dx%d, want %dx%d", c.scale, c.sx, c.sy, g.HS, g.VS, c.hs, c.vs)
		}
	}
}

// TestSizeClass: every request fits its class, classes waste at most a
// quarter, and a buffer of a class's size maps back to that class.
func TestSizeClass(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 4096, 4097, 5000, 8192, 8193, 1 << 20, 1<<20 + 1, 14_745_600, 29_491_200} {
		c, size := sizeClass(n)
		if size < n || n > 4096 && float64(size) > 1.25*float64(n)+1 {
			t.Errorf("%d: class size %d", n, size)
		}
		if c2, s2 := sizeClass(size); c2 != c || s2 != size {
			t.Errorf("%d: class %d (%d) maps back to %d (%d)", n, c, size, c2, s2)
		}
	}
	// A buffer from the pool (the one just put, unless a collection
	// emptied the pool) comes back cleared.
	var p sizedPool[byte]
	a := p.get(100_000)
	a[5] = 9
	p.put(a)
	if b := p.get(100_000); len(b) != 100_000 || b[5] != 0 {
		t.Fatal("pooled buffer not cleared")
	}
}
