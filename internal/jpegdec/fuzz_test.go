package jpegdec

import (
	"errors"
	"image"
	"testing"
)

// FuzzDecode decodes arbitrary data at every scale: the decoder must not
// panic, must return an error wrapping one of its sentinel errors when it
// fails, and an image with the bounds ScaledSize(DecodeConfig) predicts
// when it succeeds. Like image/jpeg's fuzz test, it skips headers of more
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
			m, err := Decode(data, &Options{Scale: s, MaxScans: 30})
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
		}
	})
}
