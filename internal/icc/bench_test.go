package icc

import (
	"image"
	"testing"

	"github.com/imageopto/imageopto/internal/cpuclock"
)

// benchImage returns a 12-megapixel (4000×3000) opaque test image: photo-like
// (smooth gradients with a little noise) or, for the worst case of the
// table lookups and branches, uniformly random.
func benchImage(random bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 4000, 3000))
	x := uint32(12345)
	rnd := func() uint8 {
		x = x*1664525 + 1013904223
		return uint8(x >> 24)
	}
	for y := 0; y < 3000; y++ {
		for i := 0; i < 4000; i++ {
			p := img.Pix[y*img.Stride+4*i:]
			if random {
				p[0], p[1], p[2] = rnd(), rnd(), rnd()
			} else {
				n := int(rnd()%9) - 4
				p[0] = uint8(min(max(i*255/3999+n, 0), 255))
				p[1] = uint8(min(max(y*255/2999+n, 0), 255))
				p[2] = uint8(min(max((i+y)*255/6998-n, 0), 255))
			}
			p[3] = 255
		}
	}
	return img
}

func benchApply(b *testing.B, data []byte) {
	_, tr := mustTransform(b, data)
	for _, random := range []bool{false, true} {
		name := "photo"
		if random {
			name = "random"
		}
		b.Run(name, func(b *testing.B) {
			img := benchImage(random)
			b.SetBytes(int64(len(img.Pix)))
			b.ReportAllocs()
			start, n := cpuclock.Now(), 0
			for b.Loop() {
				tr.ApplyNRGBA(bgCtx, img)
				n++
			}
			if cpu := cpuclock.Now() - start; cpu > 0 && n > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkApplyNRGBA converts a 12 MP image with a matrix/TRC profile
// (Adobe RGB-like: gamma 2.2 curves and Adobe's colourants).
func BenchmarkApplyNRGBA(b *testing.B) { benchApply(b, adobeMatrixProfile()) }

// BenchmarkApplyNRGBALUT converts a 12 MP image with a LUT-based profile
// (sampled to a 33³ grid, tetrahedral interpolation).
func BenchmarkApplyNRGBALUT(b *testing.B) { benchApply(b, lutProfiles()["mAB XYZ A-CLUT-B"]) }

// BenchmarkApplyNRGBAGray converts a 12 MP image with a grey profile.
func BenchmarkApplyNRGBAGray(b *testing.B) {
	benchApply(b, buildProfile(profileSpec{0x02100000, "mntr", "GRAY", "XYZ "}, []testTag{{"kTRC", curvGamma(2.2)}}))
}

// BenchmarkToSRGB measures building the transforms.
func BenchmarkToSRGB(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{{"matrix", adobeMatrixProfile()}, {"LUT", lutProfiles()["mAB XYZ A-CLUT-B"]}} {
		b.Run(c.name, func(b *testing.B) {
			p, err := Parse(c.data)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.ToSRGB(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse measures parsing with the IsSRGB analysis, which rejects
// most profiles at once but evaluates every code value for sRGB-like ones.
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"adobe", adobeMatrixProfile()},
		{"srgb", matrixTRCProfile(0x04300000, srgbColorants, [3][]byte{srgbPara(), srgbPara(), srgbPara()})},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(c.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
