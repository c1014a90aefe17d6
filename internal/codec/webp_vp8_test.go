package codec

import (
	"bytes"
	"context"
	"errors"
	"image"
	"testing"

	"golang.org/x/image/webp"
)

// TestDecodeWebPPlanesVP8: lossy files without alpha decode with
// internal/vp8dec to the planes golang.org/x/image/webp gives (both are
// exact VP8 decoders); from SkipFilterShrink on the loop filter is left
// out, so a filtered file's planes differ; files with alpha or lossless
// keep the x/image path.
func TestDecodeWebPPlanesVP8(t *testing.T) {
	for _, tc := range []struct {
		file     string
		own      bool // decoded by internal/vp8dec
		filtered bool // has a loop filter that skipping it changes
	}{
		{"blocks.lossy.webp", true, true},
		{"blue-purple-pink.lossy.webp", true, true},
		{"video-001.lossy.webp", true, true},
		{"blocks.lossy-alpha.webp", false, false},
		{"gopher-doc.8bpp.lossless.webp", false, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := readFixture(t, tc.file)
			if got := stillLossyVP8(data) != nil; got != tc.own {
				t.Fatalf("stillLossyVP8 found a VP8 chunk: %v, want %v", got, tc.own)
			}
			if !tc.own {
				return
			}
			h, err := ReadHeader(data)
			if err != nil {
				t.Fatal(err)
			}
			ycc, rgb, err := DecodeWebPPlanes(context.Background(), data, h, 1, false)
			if err != nil || rgb != nil {
				t.Fatalf("planes: %v (rgb %v)", err, rgb != nil)
			}
			m, err := webp.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			want := m.(*image.YCbCr)
			if !samePlanes(ycc, want) {
				t.Errorf("planes differ from x/image/webp's")
			}
			skipped, _, err := DecodeWebPPlanes(context.Background(), data, h, SkipFilterShrink, true)
			if err != nil {
				t.Fatal(err)
			}
			if differ := !samePlanes(skipped, want); differ != tc.filtered {
				t.Errorf("at shrink %d the planes differ from the filtered ones: %v, want %v", SkipFilterShrink, differ, tc.filtered)
			}
		})
	}
}

func samePlanes(a, b *image.YCbCr) bool {
	if a.Rect != b.Rect {
		return false
	}
	w, h := a.Rect.Dx(), a.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	for y := 0; y < h; y++ {
		if !bytes.Equal(a.Y[y*a.YStride:][:w], b.Y[y*b.YStride:][:w]) {
			return false
		}
	}
	for y := 0; y < ch; y++ {
		if !bytes.Equal(a.Cb[y*a.CStride:][:cw], b.Cb[y*b.CStride:][:cw]) ||
			!bytes.Equal(a.Cr[y*a.CStride:][:cw], b.Cr[y*b.CStride:][:cw]) {
			return false
		}
	}
	return true
}

// TestDecodeVP8Errors: a truncated VP8 frame is ErrCorrupt from every path
// that uses internal/vp8dec; a frame whose size differs from the header's
// is refused before decoding.
func TestDecodeVP8Errors(t *testing.T) {
	data := readFixture(t, "blocks.lossy.webp")
	h, err := ReadHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	cut := append([]byte(nil), data[:len(data)*2/3]...)
	if _, _, err := DecodeWebPPlanes(context.Background(), cut, h, 1, true); !errors.Is(err, ErrCorrupt) {
		t.Errorf("planes of a truncated file: %v, want ErrCorrupt", err)
	}
	if _, err := Decode(context.Background(), cut, h); !errors.Is(err, ErrCorrupt) {
		t.Errorf("decode of a truncated file: %v, want ErrCorrupt", err)
	}
	bits := stillLossyVP8(data)
	if _, err := decodeVP8(context.Background(), bits, image.Pt(h.Width+1, h.Height), false, false); !errors.Is(err, ErrCorrupt) {
		t.Errorf("frame size differing from the header: %v, want ErrCorrupt", err)
	}
}
