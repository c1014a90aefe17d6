package codec

import (
	"encoding/binary"
	"errors"
	"image"
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
	img, err := Decode(data, h)
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
		// Linear time: even a 1 MB input parses in well under a second.
		if d := time.Since(start); d > time.Second {
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
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data, JPEG) })
}

func FuzzDecodePNG(f *testing.F) {
	addSeeds(f, ".png")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data, PNG) })
}

func FuzzDecodeGIF(f *testing.F) {
	addSeeds(f, ".gif")
	f.Add(threeFrameGIF(f))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data, GIF) })
}

func FuzzDecodeWebP(f *testing.F) {
	addSeeds(f, ".webp")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data, WebP) })
}
