package icc

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Corpus tests: the photos of the corpus that embed colour profiles,
// built with `scripts/corpus.sh DIR` and named by the
// IMAGEOPTO_CORPUS environment variable. They need ImageMagick and colord-data
// for the reference conversions and skip without them.

// corpusDir returns the corpus folder or skips the test.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("IMAGEOPTO_CORPUS")
	if dir == "" {
		t.Skip("IMAGEOPTO_CORPUS not set (build it with scripts/corpus.sh)")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus: %v", err)
	}
	return dir
}

// fastLab converts 8-bit sRGB to L*a*b* with a cached linearisation table.
var srgbLinTable = sync.OnceValue(func() *[256]float64 {
	var t [256]float64
	for i := range t {
		v := float64(i) / 255
		if v <= 0.04045 {
			t[i] = v / 12.92
		} else {
			t[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return &t
})

func fastLab(r, g, b uint8) [3]float64 {
	lt := srgbLinTable()
	lr, lg, lb := lt[r], lt[g], lt[b]
	x := (0.4124564*lr + 0.3575761*lg + 0.1804375*lb) / 0.95047
	y := 0.2126729*lr + 0.7151522*lg + 0.0721750*lb
	z := (0.0193339*lr + 0.1191920*lg + 0.9503041*lb) / 1.08883
	f := func(t float64) float64 {
		const d = 6.0 / 29
		if t > d*d*d {
			return math.Cbrt(t)
		}
		return t/(3*d*d) + 4.0/29
	}
	fx, fy, fz := f(x), f(y), f(z)
	return [3]float64{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

// imageDeltaE compares two images of the same size pixel by pixel, skipping
// fully transparent pixels of a.
func imageDeltaE(t testing.TB, a, b *image.NRGBA) *deStats {
	t.Helper()
	if a.Rect.Size() != b.Rect.Size() {
		t.Fatalf("sizes differ: %v vs %v", a.Rect, b.Rect)
	}
	s := &deStats{}
	for i := 0; i+3 < len(a.Pix); i += 4 {
		if a.Pix[i+3] == 0 {
			continue
		}
		de := deltaE76(fastLab(a.Pix[i], a.Pix[i+1], a.Pix[i+2]), fastLab(b.Pix[i], b.Pix[i+1], b.Pix[i+2]))
		s.add(i/4, de, func() string {
			return fmt.Sprintf("pixel %d: %v vs %v", i/4, a.Pix[i:i+3], b.Pix[i:i+3])
		})
	}
	return s
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	if !haveImageMagick() {
		t.Skip("ImageMagick not installed (apt-get install imagemagick)")
	}
	srgb := colordProfile(t, "sRGB.icc")
	cases := []string{"eveningglow-prophoto.jpg", "eveningglow-adobergb.jpg", "ladybird-swapped-rg.jpg", "gulp-widegamut.png"}
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Skip(err)
			}
			var prof []byte
			if strings.HasSuffix(name, ".png") {
				prof = pngICC(data)
			} else {
				prof = jpegICC(data)
			}
			if prof == nil {
				t.Fatal("no embedded ICC profile found")
			}
			p, tr := mustTransform(t, prof)
			if p.IsSRGB() {
				t.Fatalf("%s reports IsSRGB", p)
			}
			profPath := filepath.Join(t.TempDir(), "embedded.icc")
			if err := os.WriteFile(profPath, prof, 0o644); err != nil {
				t.Fatal(err)
			}
			img, _, err := image.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			src := toNRGBA(img)
			ours := toNRGBA(src)
			tr.ApplyNRGBA(bgCtx, ours)

			// The colour conversion alone: ImageMagick converts the same
			// decoded pixels, with 16-bit output so that its rounding
			// does not dominate the comparison.
			ref16 := magickConvert16(t, src, profPath, srgb)
			s := imageDeltaE16(t, ours, ref16)
			t.Logf("%s (%s), vs ImageMagick (16-bit output) on the same pixels: %s", name, p, s)
			if s.mean() >= refMeanDE || s.max >= refMaxDE {
				t.Errorf("conversion differs from ImageMagick's: %s", s)
			}
			ref := magickConvert(t, src, profPath, srgb)
			t.Logf("%s, vs ImageMagick (8-bit output) on the same pixels: %s", name, imageDeltaE(t, ours, ref))
			// End to end: ImageMagick decodes and converts the file itself.
			e2e := decodeMagick(t, path, srgb)
			s2 := imageDeltaE(t, ours, e2e)
			t.Logf("%s, vs ImageMagick end to end (its own decoder): %s", name, s2)
			if s2.mean() >= refMeanDE {
				t.Errorf("end-to-end result differs from ImageMagick's: %s", s2)
			}
			// Without conversion, the photo would be visibly off.
			s3 := imageDeltaE(t, src, ref)
			t.Logf("%s, unconverted pixels vs ImageMagick: %s", name, s3)

			if name == "ladybird-swapped-rg.jpg" {
				orig := decodeFileNRGBA(t, filepath.Join(dir, "ladybird.jpg"))
				s4 := imageDeltaE(t, ours, orig)
				t.Logf("%s, converted vs the original ladybird.jpg: %s", name, s4)
				if s4.mean() >= refMeanDE {
					t.Errorf("swapped ladybird does not come back to its true colours: %s", s4)
				}
				if s5 := imageDeltaE(t, src, orig); s5.mean() < 10 {
					t.Errorf("unconverted swapped ladybird is unexpectedly close to the original: %s", s5)
				}
			}
		})
	}
}

// magickConvert16 is magickConvert with 16-bit output.
func magickConvert16(t testing.TB, img *image.NRGBA, src, dst string) *image.NRGBA64 {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.png"), filepath.Join(dir, "out.png")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("convert", in, "-intent", "Relative", "-profile", src, "-profile", dst, "-depth", "16", "PNG64:"+out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("convert: %v: %s", err, msg)
	}
	f, err = os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := dec.Bounds()
	res := image.NewNRGBA64(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(res, res.Rect, dec, b.Min, draw.Src)
	return res
}

// imageDeltaE16 compares an 8-bit image with a 16-bit reference, skipping
// fully transparent pixels of a.
func imageDeltaE16(t testing.TB, a *image.NRGBA, b *image.NRGBA64) *deStats {
	t.Helper()
	if a.Rect.Size() != b.Rect.Size() {
		t.Fatalf("sizes differ: %v vs %v", a.Rect, b.Rect)
	}
	s := &deStats{}
	for i, j := 0, 0; i+3 < len(a.Pix); i, j = i+4, j+8 {
		if a.Pix[i+3] == 0 {
			continue
		}
		var ref [3]float64
		for c := range ref {
			ref[c] = float64(uint16(b.Pix[j+2*c])<<8|uint16(b.Pix[j+2*c+1])) / 257
		}
		de := deltaE76(fastLab(a.Pix[i], a.Pix[i+1], a.Pix[i+2]), srgbFloatToLab(ref))
		s.add(i/4, de, func() string {
			return fmt.Sprintf("pixel %d: %v vs %.2f", i/4, a.Pix[i:i+3], ref)
		})
	}
	return s
}

// decodeMagick has ImageMagick decode the file and convert it from its
// embedded profile to dst.
func decodeMagick(t testing.TB, path, dst string) *image.NRGBA {
	t.Helper()
	out := filepath.Join(t.TempDir(), "e2e.png")
	cmd := exec.Command("convert", path, "-intent", "Relative", "-profile", dst, "-depth", "8", "PNG32:"+out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("convert: %v: %s", err, msg)
	}
	return decodeFileNRGBA(t, out)
}
