package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/imageopto/imageopto/internal/format"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzMaxPixels skips inputs whose header declares more pixels, as Go's
// own image fuzzers do.
const fuzzMaxPixels = 1e6

// addSeeds adds every testdata file whose name ends in one of exts, plus
// generated inputs for the format.
func addSeeds(f *testing.F, exts ...string) {
	f.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		for _, ext := range exts {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ext) {
				b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
}

// fuzzDecode is the body shared by the per-decoder fuzz targets.
func fuzzDecode(t *testing.T, data []byte, want Format) {
	h, err := ReadHeader(data)
	if err != nil {
		checkSentinel(t, err)
		return
	}
	if h.Format != want {
		return // another target covers it
	}
	checkHeader(t, h)
	if int64(h.Width)*int64(h.Height) > fuzzMaxPixels {
		return
	}
	img, err := Decode(bgCtx, data, h)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode error %v does not wrap ErrCorrupt", err)
		}
		return
	}
	if img.Rect != image.Rect(0, 0, h.Width, h.Height) {
		t.Fatalf("decoded bounds %v, header %dx%d", img.Rect, h.Width, h.Height)
	}
	if len(img.Pix) < 4*h.Width*h.Height || img.Stride < 4*h.Width {
		t.Fatalf("short pixel buffer: %d bytes, stride %d", len(img.Pix), img.Stride)
	}
}

// checkSentinel fails unless err wraps exactly one of the sentinels.
func checkSentinel(t *testing.T, err error) {
	n := 0
	for _, s := range []error{ErrUnknownFormat, ErrUnsupportedFormat, ErrCorrupt} {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %v wraps %d sentinels", err, n)
	}
}

// checkHeader fails on header invariants.
func checkHeader(t *testing.T, h Header) {
	switch {
	case h.Width <= 0 || h.Height <= 0:
		t.Fatalf("non-positive size %dx%d", h.Width, h.Height)
	case h.Orientation < 1 || h.Orientation > 8:
		t.Fatalf("orientation %d", h.Orientation)
	case h.Frames < 1:
		t.Fatalf("frames %d", h.Frames)
	case h.BytesPerPixel < 1:
		t.Fatalf("bytes per pixel %d", h.BytesPerPixel)
	case len(h.ICC) > maxICCSize:
		t.Fatalf("ICC of %d bytes", len(h.ICC))
	case EstimateBytes(h) <= 0:
		t.Fatalf("EstimateBytes %d", EstimateBytes(h))
	}
}

func FuzzReadHeader(f *testing.F) {
	addSeeds(f, ".jpeg", ".png", ".gif", ".webp")
	for _, b := range floodInputs(f) {
		f.Add(b)
	}
	f.Add(manyScansJPEG(50))
	f.Add(withSegments(smallJPEG(f, 8, 8), exifAPP1(exifTIFF(binary.LittleEndian, 6)), iccAPP2(1, 2, []byte("ab")), iccAPP2(2, 2, []byte("cd"))))
	f.Add(threeFrameGIF(f))
	f.Add([]byte("II*\x00"))
	f.Add([]byte("<svg>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		h, err := ReadHeader(data)
		// Linear time: even a 1 MB input parses in well under a second. The
		// bound is ten times that, so that a loaded machine running the
		// seed corpus cannot miss it; a quadratic walk of a large input
		// still would. (ReadHeader allocates nothing to measure instead.)
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("ReadHeader took %v on %d bytes", d, len(data))
		}
		if err != nil {
			checkSentinel(t, err)
			if h.Format != Sniff(data) {
				t.Fatalf("error header format %q, Sniff %q", h.Format, Sniff(data))
			}
			return
		}
		if h.Format != Sniff(data) {
			t.Fatalf("header format %q, Sniff %q", h.Format, Sniff(data))
		}
		checkHeader(t, h)
	})
}

func FuzzDecodeJPEG(f *testing.F) {
	addSeeds(f, ".jpeg")
	f.Add(manyScansJPEG(3))
	f.Add(withSegments(smallJPEG(f, 8, 8), exifAPP1(exifTIFF(binary.BigEndian, 3))))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data, format.JPEG) })
}

func FuzzDecodePNG(f *testing.F) {
	addSeeds(f, ".png")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data, format.PNG) })
}

func FuzzDecodeGIF(f *testing.F) {
	addSeeds(f, ".gif")
	f.Add(threeFrameGIF(f))
	f.Add(bombGIF(3, 5, 4))
	f.Add(newGIF(4, 3, letterTable).loop("NETSCAPE2.0", 2).
		gce(1, 10, 3).frame(0, 0, 4, 3, nil, false, letters("rrrr", "rrrr", "rrrr")).
		gce(3, 0, 3).frame(2, 1, 4, 2, nil, true, letters("gg.g", "bgbg")).
		gce(2, 5, 9).frame(1, 1, 1, 1, []byte{1, 2, 3, 4, 5, 6}, false, []byte{1}).
		end())
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, data, format.GIF)
		fuzzDecodeFrames(t, data)
	})
}

// fuzzDecodeFrames checks DecodeFrames on a GIF: sentinel errors, at most
// the header's frame count, full-screen canvases, and a first frame equal
// to Decode's whenever both succeed.
func fuzzDecodeFrames(t *testing.T, data []byte) {
	h, err := ReadHeader(data)
	if err != nil || h.Format != format.GIF {
		return
	}
	const maxFrames = 64
	frames, _, err := DecodeFrames(bgCtx, data, h, maxFrames, fuzzMaxPixels)
	if err != nil {
		checkSentinel(t, err)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeFrames error %v does not wrap ErrCorrupt", err)
		}
		if errors.Is(err, ErrTooManyFrames) != (h.Frames > maxFrames || int64(h.Frames)*int64(h.Width)*int64(h.Height) > fuzzMaxPixels) {
			t.Fatalf("ErrTooManyFrames mismatch: %v for %d frames of %dx%d", err, h.Frames, h.Width, h.Height)
		}
		return
	}
	if len(frames) == 0 || len(frames) > h.Frames {
		t.Fatalf("%d frames, header %d", len(frames), h.Frames)
	}
	screen := image.Rect(0, 0, h.Width, h.Height)
	for i, f := range frames {
		if f.Image == nil || f.Image.Rect != screen || len(f.Image.Pix) != 4*h.Width*h.Height || f.Delay < 0 || f.Delay > 0xFFFF {
			t.Fatalf("frame %d: %+v", i, f)
		}
	}
	if first, err := Decode(bgCtx, data, h); err == nil {
		for i := range first.Pix {
			if first.Pix[i] != frames[0].Image.Pix[i] {
				t.Fatalf("first frame differs from Decode at byte %d", i)
			}
		}
	}
}

// FuzzGIFFramesRoundTrip builds animations of at most 255 colours per
// frame from the input and checks that they come back exactly.
func FuzzGIFFramesRoundTrip(f *testing.F) {
	f.Add([]byte{3, 2, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add([]byte{7, 7, 5, 0xFF, 0, 0xFF, 0, 1, 1, 1, 2, 2, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		w, h, n := 1+int(data[0]%16), 1+int(data[1]%16), 1+int(data[2]%6)
		data = data[3:]
		colors := []color.NRGBA{{}, {5, 6, 7, 0}, {200, 0, 0, 127}, {200, 0, 0, 128}, {0, 200, 0, 255}, {0, 0, 200, 255}, {255, 255, 255, 255}, {1, 2, 3, 255}}
		var frames []Frame
		k := 0
		for i := range n {
			m := image.NewNRGBA(image.Rect(0, 0, w, h))
			for p := 0; p < len(m.Pix); p += 4 {
				c := colors[0]
				if len(data) > 0 {
					c = colors[int(data[k%len(data)])%len(colors)]
					k++
				}
				m.Pix[p], m.Pix[p+1], m.Pix[p+2], m.Pix[p+3] = c.R, c.G, c.B, c.A
			}
			frames = append(frames, Frame{Image: m, Delay: i})
		}
		got, _, _ := roundTripFrames(t, frames, 0)
		checkExact(t, got, frames)
	})
}

// FuzzEncodePNG8 checks EncodePNG8 on small images built from the input:
// a valid palette PNG, fully transparent pixels stay (0, 0, 0, 0), opaque
// ones stay opaque, and images of at most 256 colours come back exactly.
func FuzzEncodePNG8(f *testing.F) {
	f.Add([]byte{4, 4, 85, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(append([]byte{31, 31, 1}, softAlpha(32, 32).Pix...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 {
			return
		}
		w, h, q := 1+int(data[0]%32), 1+int(data[1]%32), 1+int(data[2]%100)
		data = data[3:]
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := range m.Pix {
			m.Pix[i] = data[i%len(data)]
		}
		var buf bytes.Buffer
		if err := EncodePNG8(bgCtx, &buf, m, q); err != nil {
			t.Fatal(err)
		}
		if ct, _ := pngColorType(buf.Bytes()); ct != 3 {
			t.Fatalf("colour type %d", ct)
		}
		got := mustDecode(t, buf.Bytes())
		if must(distinctColors(nopoll(), m, false)) != nil {
			samePixels(t, got, m)
			return
		}
		for y := range h {
			for x := range w {
				s, g := m.NRGBAAt(x, y), got.NRGBAAt(x, y)
				if s.A == 0 && g != (color.NRGBA{}) || s.A == 0xFF && g.A != 0xFF {
					t.Fatalf("pixel (%d,%d): %v became %v", x, y, s, g)
				}
			}
		}
	})
}

func FuzzDecodeWebP(f *testing.F) {
	addSeeds(f, ".webp")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data, format.WebP) })
}
