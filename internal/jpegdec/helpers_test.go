package jpegdec

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bgCtx is the context of calls that are not about cancellation.
var bgCtx = context.Background()

// Test helpers shared by the test files of the package.

// readFile reads a test file or fails the test.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testFiles lists testdata/*.jpeg.
func testFiles(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob("testdata/*.jpeg")
	if err != nil || len(names) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	return names
}

// planeDiff compares two planes over a w×h area and returns the largest
// absolute difference and the number of samples that differ.
func planeDiff(a []byte, as int, b []byte, bs, w, h int) (maxd, n int) {
	for y := range h {
		ra, rb := a[y*as:y*as+w], b[y*bs:y*bs+w]
		for x := range w {
			d := int(ra[x]) - int(rb[x])
			if d < 0 {
				d = -d
			}
			if d > 0 {
				n++
			}
			maxd = max(maxd, d)
		}
	}
	return maxd, n
}

// chromaSize is the size of the chroma planes of m.
func chromaSize(m *image.YCbCr) (int, int) {
	r := m.Rect
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		return (r.Max.X+1)/2 - r.Min.X/2, r.Dy()
	case image.YCbCrSubsampleRatio420:
		return (r.Max.X+1)/2 - r.Min.X/2, (r.Max.Y+1)/2 - r.Min.Y/2
	case image.YCbCrSubsampleRatio440:
		return r.Dx(), (r.Max.Y+1)/2 - r.Min.Y/2
	case image.YCbCrSubsampleRatio411:
		return (r.Max.X+3)/4 - r.Min.X/4, r.Dy()
	case image.YCbCrSubsampleRatio410:
		return (r.Max.X+3)/4 - r.Min.X/4, (r.Max.Y+1)/2 - r.Min.Y/2
	}
	return r.Dx(), r.Dy()
}

// imageDiff compares two images of the same type, sample by sample, and
// returns the largest absolute difference and the number of differing
// samples.
func imageDiff(a, b image.Image) (maxd, n int, err error) {
	if a.Bounds() != b.Bounds() {
		return 0, 0, fmt.Errorf("bounds %v, want %v", a.Bounds(), b.Bounds())
	}
	r := a.Bounds()
	switch a := a.(type) {
	case *image.YCbCr:
		b, ok := b.(*image.YCbCr)
		if !ok {
			return 0, 0, fmt.Errorf("type %T, want %T", a, b)
		}
		if a.SubsampleRatio != b.SubsampleRatio {
			return 0, 0, fmt.Errorf("ratio %v, want %v", a.SubsampleRatio, b.SubsampleRatio)
		}
		m1, n1 := planeDiff(a.Y[a.YOffset(r.Min.X, r.Min.Y):], a.YStride, b.Y[b.YOffset(r.Min.X, r.Min.Y):], b.YStride, r.Dx(), r.Dy())
		cw, ch := chromaSize(a)
		ca, cb := a.COffset(r.Min.X, r.Min.Y), b.COffset(r.Min.X, r.Min.Y)
		m2, n2 := planeDiff(a.Cb[ca:], a.CStride, b.Cb[cb:], b.CStride, cw, ch)
		m3, n3 := planeDiff(a.Cr[ca:], a.CStride, b.Cr[cb:], b.CStride, cw, ch)
		return max(m1, m2, m3), n1 + n2 + n3, nil
	case *image.Gray:
		b, ok := b.(*image.Gray)
		if !ok {
			return 0, 0, fmt.Errorf("type %T, want %T", a, b)
		}
		m, n := planeDiff(a.Pix[a.PixOffset(r.Min.X, r.Min.Y):], a.Stride, b.Pix[b.PixOffset(r.Min.X, r.Min.Y):], b.Stride, r.Dx(), r.Dy())
		return m, n, nil
	case *image.CMYK:
		b, ok := b.(*image.CMYK)
		if !ok {
			return 0, 0, fmt.Errorf("type %T, want %T", a, b)
		}
		m, n := planeDiff(a.Pix[a.PixOffset(r.Min.X, r.Min.Y):], a.Stride, b.Pix[b.PixOffset(r.Min.X, r.Min.Y):], b.Stride, 4*r.Dx(), r.Dy())
		return m, n, nil
	case *image.RGBA:
		b, ok := b.(*image.RGBA)
		if !ok {
			return 0, 0, fmt.Errorf("type %T, want %T", a, b)
		}
		m, n := planeDiff(a.Pix[a.PixOffset(r.Min.X, r.Min.Y):], a.Stride, b.Pix[b.PixOffset(r.Min.X, r.Min.Y):], b.Stride, 4*r.Dx(), r.Dy())
		return m, n, nil
	}
	return 0, 0, fmt.Errorf("unexpected type %T", a)
}

// toRGB converts any image to packed 8-bit RGB (3 bytes per pixel, no
// stride padding). Y'CbCr uses color.YCbCrToRGB with the nearest chroma
// sample, as image.YCbCr.At does.
func toRGB(m image.Image) []byte {
	r := m.Bounds()
	out := make([]byte, 0, 3*r.Dx()*r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			switch m := m.(type) {
			case *image.YCbCr:
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				R, G, B := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				out = append(out, R, G, B)
			case *image.Gray:
				v := m.Pix[m.PixOffset(x, y)]
				out = append(out, v, v, v)
			default:
				c := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
				out = append(out, c.R, c.G, c.B)
			}
		}
	}
	return out
}

// psnr is the peak signal-to-noise ratio between two sample arrays of
// equal length, in dB (+Inf when equal).
func psnr(a, b []byte) float64 {
	var se float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(len(a))/se)
}

// boxDown averages s×s squares of an image of w×h pixels with ch
// interleaved channels (the last row and column of squares may be
// partial), giving ceil(w/s)×ceil(h/s) pixels.
func boxDown(pix []byte, ch, w, h, s int) []byte {
	ow, oh := ScaledSize(w, h, s)
	out := make([]byte, ch*ow*oh)
	for oy := range oh {
		for ox := range ow {
			for c := range ch {
				sum, n := 0, 0
				for y := oy * s; y < min(oy*s+s, h); y++ {
					for x := ox * s; x < min(ox*s+s, w); x++ {
						sum += int(pix[ch*(y*w+x)+c])
						n++
					}
				}
				out[ch*(oy*ow+ox)+c] = byte((sum + n/2) / n)
			}
		}
	}
	return out
}

// plane is one channel of an image, packed without padding.
type plane struct {
	name string
	pix  []byte
	w, h int
}

// planes returns the channels of a decoded image as stored: Y, Cb and Cr
// (chroma at its subsampled size), grey, or the channels of RGBA (without
// alpha) and CMYK.
func planes(m image.Image) []plane {
	r := m.Bounds()
	pack := func(pix []byte, off, stride, w, h, step, c int) []byte {
		out := make([]byte, 0, w*h)
		for y := range h {
			for x := range w {
				out = append(out, pix[off+y*stride+x*step+c])
			}
		}
		return out
	}
	switch m := m.(type) {
	case *image.YCbCr:
		cw, ch := chromaSize(m)
		yo, co := m.YOffset(r.Min.X, r.Min.Y), m.COffset(r.Min.X, r.Min.Y)
		return []plane{
			{"Y", pack(m.Y, yo, m.YStride, r.Dx(), r.Dy(), 1, 0), r.Dx(), r.Dy()},
			{"Cb", pack(m.Cb, co, m.CStride, cw, ch, 1, 0), cw, ch},
			{"Cr", pack(m.Cr, co, m.CStride, cw, ch, 1, 0), cw, ch},
		}
	case *image.Gray:
		return []plane{{"gray", pack(m.Pix, m.PixOffset(r.Min.X, r.Min.Y), m.Stride, r.Dx(), r.Dy(), 1, 0), r.Dx(), r.Dy()}}
	case *image.RGBA:
		var ps []plane
		for c, n := range []string{"R", "G", "B"} {
			ps = append(ps, plane{n, pack(m.Pix, m.PixOffset(r.Min.X, r.Min.Y), m.Stride, r.Dx(), r.Dy(), 4, c), r.Dx(), r.Dy()})
		}
		return ps
	case *image.CMYK:
		var ps []plane
		for c, n := range []string{"C", "M", "Y", "K"} {
			ps = append(ps, plane{n, pack(m.Pix, m.PixOffset(r.Min.X, r.Min.Y), m.Stride, r.Dx(), r.Dy(), 4, c), r.Dx(), r.Dy()})
		}
		return ps
	}
	return nil
}

// djpeg decodes data with libjpeg-turbo's djpeg at 1/scale with simple
// chroma replication (-nosmooth) and extra arguments, and returns packed
// RGB, or skips the test when djpeg is not installed.
func djpeg(t testing.TB, data []byte, scale int, args ...string) (rgb []byte, w, h int) {
	t.Helper()
	path, err := exec.LookPath("djpeg")
	if err != nil {
		t.Skip("djpeg not installed")
	}
	args = append([]string{"-scale", fmt.Sprintf("1/%d", scale), "-nosmooth", "-dct", "int", "-pnm"}, args...)
	cmd := exec.Command(path, args...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("djpeg: %v", err)
	}
	return parsePNM(t, out)
}

// parsePNM parses a binary PPM (P6) or PGM (P5) with maxval 255 into
// packed RGB.
func parsePNM(t testing.TB, b []byte) ([]byte, int, int) {
	t.Helper()
	var magic string
	var w, h, maxv int
	r := bytes.NewReader(b)
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil || maxv != 255 {
		t.Fatalf("bad PNM header: %v", err)
	}
	r.ReadByte() // the single whitespace after maxval
	pix := b[len(b)-r.Len():]
	switch magic {
	case "P6":
		return pix[:3*w*h], w, h
	case "P5":
		rgb := make([]byte, 3*w*h)
		for i, v := range pix[:w*h] {
			rgb[3*i], rgb[3*i+1], rgb[3*i+2] = v, v, v
		}
		return rgb, w, h
	}
	t.Fatalf("unexpected PNM type %q", magic)
	return nil, 0, 0
}

// photoLike returns a deterministic w×h image with smooth gradients, hard
// and soft edges, texture and noise, for generated test and benchmark
// inputs.
func photoLike(w, h int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 42))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	type disc struct{ cx, cy, rad float64 }
	discs := make([]disc, 5)
	for i := range discs {
		discs[i] = disc{r.Float64() * float64(w), r.Float64() * float64(h), (0.05 + r.Float64()*0.2) * float64(min(w, h))}
	}
	fx, fy := 3/float64(w), 2/float64(h)
	for y := range h {
		for x := range w {
			v := [3]float64{
				128 + 60*math.Sin(2*math.Pi*fx*float64(x)),
				128 + 60*math.Cos(2*math.Pi*fy*float64(y)),
				128 + 50*math.Sin(2*math.Pi*(fx*float64(x)+fy*float64(y))),
			}
			for i, d := range discs {
				if math.Hypot(float64(x)-d.cx, float64(y)-d.cy) < d.rad {
					v[i%3] = 255 - v[i%3]
				}
			}
			if x > w/2 && y > h/2 {
				t := 30 * math.Sin(float64(x)*0.9) * math.Cos(float64(y)*1.1)
				v[0], v[1], v[2] = v[0]+t, v[1]+t, v[2]+t
			}
			o := m.PixOffset(x, y)
			for c := range 3 {
				m.Pix[o+c] = byte(max(0, min(255, v[c]+r.NormFloat64()*4)))
			}
			m.Pix[o+3] = 255
		}
	}
	return m
}

// baseName is the file name without directories.
func baseName(p string) string { return strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) }
