package codec

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// bgCtx is the context of calls that are not about cancellation.
var bgCtx = context.Background()

// nopoll returns a Poller that never reports cancellation.
func nopoll() *ctxpoll.Poller { return new(ctxpoll.Poller) }

// must returns v, panicking on err (which only a done context causes).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// readFixture returns testdata/name.
func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// mustHeader returns ReadHeader(data) or fails.
func mustHeader(tb testing.TB, data []byte) Header {
	tb.Helper()
	h, err := ReadHeader(data)
	if err != nil {
		tb.Fatalf("ReadHeader: %v", err)
	}
	return h
}

// mustDecode returns the decoded image or fails.
func mustDecode(tb testing.TB, data []byte) *image.NRGBA {
	tb.Helper()
	h := mustHeader(tb, data)
	img, err := Decode(bgCtx, data, h)
	if err != nil {
		tb.Fatalf("Decode: %v", err)
	}
	return img
}

// requireIs fails unless errors.Is(err, target).
func requireIs(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("error = %v, want one wrapping %v", err, target)
	}
}

// samePixels reports the first differing pixel of two NRGBA images, or ""
// when they are identical.
func samePixels(tb testing.TB, got, want *image.NRGBA) {
	tb.Helper()
	if got.Rect != want.Rect {
		tb.Fatalf("bounds %v, want %v", got.Rect, want.Rect)
	}
	for y := want.Rect.Min.Y; y < want.Rect.Max.Y; y++ {
		for x := want.Rect.Min.X; x < want.Rect.Max.X; x++ {
			if g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y); g != w {
				tb.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

// psnr returns the peak signal-to-noise ratio over the RGB channels, in dB.
func psnr(a, b *image.NRGBA) float64 {
	var sum float64
	var n int
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			p, q := a.NRGBAAt(x, y), b.NRGBAAt(x, y)
			for _, d := range []float64{float64(p.R) - float64(q.R), float64(p.G) - float64(q.G), float64(p.B) - float64(q.B)} {
				sum += d * d
				n++
			}
		}
	}
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(sum/float64(n)))
}

// photoLike returns a deterministic w×h opaque image with smooth gradients,
// edges and a little noise, so that codecs see photo-like statistics.
func photoLike(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(12345)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			noise := int(seed>>29) - 4
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 128 + 100*math.Sin(6*fx+2*fy) + float64(noise)
			g := 128 + 90*math.Cos(4*fy-3*fx) + float64(noise)
			b := 100 + 80*math.Sin(10*fx*fy)
			if (x/97+y/61)%5 == 0 {
				r, g, b = r/3, g/3, 255-b/2
			}
			img.SetNRGBA(x, y, color.NRGBA{clampF(r), clampF(g), clampF(b), 0xFF})
		}
	}
	return img
}

func clampF(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}

// jpegSegment returns a marker segment with the given payload.
func jpegSegment(marker byte, payload []byte) []byte {
	seg := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// withSegments inserts segments right after the SOI marker of a JPEG.
func withSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// smallJPEG returns an encoded w×h opaque JPEG.
func smallJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photoLike(w, h), &jpeg.Options{Quality: 80}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// exifTIFF builds a TIFF-structured EXIF block whose IFD0 holds the
// orientation tag (type SHORT) plus a neighbouring tag, in the given byte
// order.
func exifTIFF(bo binary.ByteOrder, orientation uint16) []byte {
	b := make([]byte, 8+2+2*12+4)
	if bo == binary.LittleEndian {
		copy(b, "II")
	} else {
		copy(b, "MM")
	}
	bo.PutUint16(b[2:], 42)
	bo.PutUint32(b[4:], 8)
	bo.PutUint16(b[8:], 2)
	e := b[10:]
	bo.PutUint16(e[0:], 0x010F) // Make, ASCII, pointing nowhere useful
	bo.PutUint16(e[2:], 2)
	bo.PutUint32(e[4:], 4)
	copy(e[8:], "Go!\x00")
	e = e[12:]
	bo.PutUint16(e[0:], exifOrientationTag)
	bo.PutUint16(e[2:], 3)
	bo.PutUint32(e[4:], 1)
	bo.PutUint16(e[8:], orientation)
	return b // next-IFD offset 0
}

// exifAPP1 wraps a TIFF block into a JPEG APP1 Exif segment.
func exifAPP1(tiff []byte) []byte {
	return jpegSegment(jpegAPP1, append([]byte("Exif\x00\x00"), tiff...))
}

// iccAPP2 returns an APP2 ICC_PROFILE segment.
func iccAPP2(seq, count byte, chunk []byte) []byte {
	p := append([]byte("ICC_PROFILE\x00"), seq, count)
	return jpegSegment(jpegAPP2, append(p, chunk...))
}

// riffChunk returns a RIFF chunk with padding.
func riffChunk(fourcc string, body []byte) []byte {
	c := append([]byte(fourcc), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(c[4:], uint32(len(body)))
	c = append(c, body...)
	if len(body)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// riffWebP wraps chunks into a RIFF WEBP form.
func riffWebP(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	out := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[4:], uint32(4+len(body)))
	out = append(out, "WEBP"...)
	return append(out, body...)
}

// vp8xChunk returns a VP8X chunk for a canvas of w×h with flags.
func vp8xChunk(flags byte, w, h int) []byte {
	b := make([]byte, 10)
	b[0] = flags
	w, h = w-1, h-1
	b[4], b[5], b[6] = byte(w), byte(w>>8), byte(w>>16)
	b[7], b[8], b[9] = byte(h), byte(h>>8), byte(h>>16)
	return riffChunk("VP8X", b)
}

// splitWebP returns the chunks after the 12-byte RIFF header of a simple
// WebP file.
func splitWebP(tb testing.TB, data []byte) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	for p := 12; p+8 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[p+4:]))
		end := min(p+8+n+n%2, len(data))
		out[string(data[p:p+4])] = data[p:end]
		p = end
	}
	return out
}
