package codec

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"io"
	"testing"
)

func BenchmarkReadHeaderJPEGWithEXIF(b *testing.B) {
	data := withSegments(readFixture(b, "video-001.jpeg"),
		exifAPP1(exifTIFF(binary.BigEndian, 6)), iccAPP2(1, 1, make([]byte, 3000)))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadHeader(data); err != nil {
			b.Fatal(err)
		}
	}
}

// largePhoto returns a 4000×3000 photo-like image and its JPEG at q85.
func largePhoto(b *testing.B) (*image.NRGBA, []byte) {
	b.Helper()
	img := photoLike(4000, 3000)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	return img, buf.Bytes()
}

func BenchmarkReadHeaderLargeJPEG(b *testing.B) {
	_, data := largePhoto(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadHeader(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeLargeJPEG(b *testing.B) {
	_, data := largePhoto(b)
	h, err := ReadHeader(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bgCtx, data, h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(h.Width*h.Height)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MP/s")
}

// BenchmarkStdlibJPEGDecode is the baseline for BenchmarkDecodeLargeJPEG:
// image/jpeg alone, without the NRGBA conversion.
func BenchmarkStdlibJPEGDecode(b *testing.B) {
	_, data := largePhoto(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePNG(b *testing.B) {
	img, _ := largePhoto(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodePNG(bgCtx, io.Discard, img); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGIFQuantized(b *testing.B) {
	img := photoLike(1000, 750)
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeGIF(bgCtx, io.Discard, img); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkYCbCrToNRGBA(b *testing.B) {
	for _, limited := range []bool{false, true} {
		name := map[bool]string{false: "jfif", true: "vp8"}[limited]
		b.Run(name, func(b *testing.B) {
			m := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
			for i := range m.Y {
				m.Y[i] = uint8(i)
			}
			for i := range m.Cb {
				m.Cb[i], m.Cr[i] = uint8(i*3), uint8(i*7)
			}
			dst := image.NewNRGBA(m.Rect)
			b.SetBytes(int64(len(dst.Pix)))
			b.ReportAllocs()
			for b.Loop() {
				ycbcrToNRGBA(nopoll(), dst, m, nil, 0, limited)
			}
		})
	}
}
