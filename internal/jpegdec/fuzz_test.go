package jpegdec

import (
	"errors"
	"image"
	"testing"
)

// FuzzDecode decodes arbitrary data at every scale: the decoder must not
// panic, must return an error wrapping one of its sentinel errors when it
// fails, and an image with the bounds ScaledSize(DecodeConfig) predicts
// when it succeeds; DecodePlanes must agree. Like image/jpeg's fuzz test, it skips headers of more
// than 4 megapixels, which callers refuse before decoding.
//
//	go test -fuzz FuzzDecode -fuzztime 60s ./internal/jpegdec
func FuzzDecode(f *testing.F) {
	for _, name := range testFiles(f) {
		f.Add(readFile(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, cerr := DecodeConfig(data)
		if cerr == nil && w*h > 4<<20 {
			return
		}
		for _, s := range []int{1, 2, 4, 8} {
			m, err := Decode(bgCtx, data, &Options{Scale: s, MaxScans: 30})
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooManyScans) {
					t.Fatalf("1/%d: error %v wraps no sentinel", s, err)
				}
				continue
			}
			if cerr != nil {
				t.Fatalf("1/%d: Decode succeeds, DecodeConfig fails: %v", s, cerr)
			}
			sw, sh := ScaledSize(w, h, s)
			if m.Bounds() != image.Rect(0, 0, sw, sh) {
				t.Fatalf("1/%d: bounds %v, want %d×%d", s, m.Bounds(), sw, sh)
			}
			// DecodePlanes, with chroma reduced as far as it goes, decodes
			// what Decode decodes, or refuses it as not planar.
			p, err := DecodePlanes(bgCtx, data, &Options{Scale: s, MaxScans: 30, ChromaStepX: 64, ChromaStepY: 64})
			switch m.(type) {
			case *image.YCbCr, *image.Gray:
				if err != nil {
					t.Fatalf("1/%d: Decode succeeds, DecodePlanes fails: %v", s, err)
				}
				if p.Width != sw || p.Height != sh {
					t.Fatalf("1/%d: planes %d×%d, want %d×%d", s, p.Width, p.Height, sw, sh)
				}
				for i, c := range p.Comp {
					if c.W < 1 || c.H < 1 || (c.H-1)*c.Stride+c.W > len(c.Pix) {
						t.Fatalf("1/%d: plane %d of %d×%d (stride %d) in %d bytes", s, i, c.W, c.H, c.Stride, len(c.Pix))
					}
				}
				p.Release()
			default:
				if !errors.Is(err, ErrNotPlanar) {
					t.Fatalf("1/%d: %T: DecodePlanes error %v, want ErrNotPlanar", s, m, err)
				}
			}
		}
	})
}
