package icc

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// bgCtx is the context of calls that are not about cancellation.
var bgCtx = context.Background()

// colordDir is where Debian's colord-data installs its ICC profiles.
const colordDir = "/usr/share/color/icc/colord"

// colordProfile returns the path of a colord-data profile, skipping the test
// when the package is not installed.
func colordProfile(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(colordDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not found (apt-get install colord-data)", p)
	}
	return p
}

// srgb8ToLab converts an 8-bit sRGB colour to CIE L*a*b* (D65 white).
func srgb8ToLab(c [3]uint8) [3]float64 {
	return srgbFloatToLab([3]float64{float64(c[0]), float64(c[1]), float64(c[2])})
}

// srgbFloatToLab converts an sRGB colour with channels on a 0–255 scale to
// CIE L*a*b* (D65 white).
func srgbFloatToLab(c [3]float64) [3]float64 {
	var lin [3]float64
	for i, v := range c {
		v = math.Max(0, math.Min(255, v)) / 255
		if v <= 0.04045 {
			lin[i] = v / 12.92
		} else {
			lin[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	x := 0.4124564*lin[0] + 0.3575761*lin[1] + 0.1804375*lin[2]
	y := 0.2126729*lin[0] + 0.7151522*lin[1] + 0.0721750*lin[2]
	z := 0.0193339*lin[0] + 0.1191920*lin[1] + 0.9503041*lin[2]
	f := func(t float64) float64 {
		const d = 6.0 / 29
		if t > d*d*d {
			return math.Cbrt(t)
		}
		return t/(3*d*d) + 4.0/29
	}
	fx, fy, fz := f(x/0.95047), f(y), f(z/1.08883)
	return [3]float64{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

// deltaE76 is the Euclidean distance in L*a*b*.
func deltaE76(a, b [3]float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

// deStats accumulates colour differences.
type deStats struct {
	n         int
	sum, max  float64
	worstAt   int
	worstPair string

	// Largest difference between a reference output channel and the input
	// (for IsSRGB checks), and the input colour it happened at.
	identityDev   float64
	identityWorst string
}

func (s *deStats) add(i int, de float64, desc func() string) {
	s.n++
	s.sum += de
	if de > s.max {
		s.max, s.worstAt = de, i
		if desc != nil {
			s.worstPair = desc()
		}
	}
}

func (s *deStats) mean() float64 {
	if s.n == 0 {
		return 0
	}
	return s.sum / float64(s.n)
}

func (s *deStats) String() string {
	return fmt.Sprintf("mean ΔE76 %.3f, max %.3f over %d samples (worst: %s)", s.mean(), s.max, s.n, s.worstPair)
}

// grid9 returns the 9×9×9 grid of RGB test colours (steps of 255/8).
func grid9() [][3]uint8 {
	var out [][3]uint8
	for r := 0; r < 9; r++ {
		for g := 0; g < 9; g++ {
			for b := 0; b < 9; b++ {
				v := func(i int) uint8 { return uint8(math.Round(float64(i) * 255 / 8)) }
				out = append(out, [3]uint8{v(r), v(g), v(b)})
			}
		}
	}
	return out
}

// convertColors runs colours through tr.
func convertColors(tr *Transform, in [][3]uint8) [][3]uint8 {
	img := image.NewNRGBA(image.Rect(0, 0, len(in), 1))
	for i, c := range in {
		copy(img.Pix[4*i:], []uint8{c[0], c[1], c[2], 255})
	}
	tr.ApplyNRGBA(bgCtx, img)
	out := make([][3]uint8, len(in))
	for i := range out {
		copy(out[i][:], img.Pix[4*i:4*i+3])
	}
	return out
}

// haveTransicc reports whether Little CMS's transicc is installed.
func haveTransicc() bool {
	_, err := exec.LookPath("transicc")
	return err == nil
}

// haveImageMagick reports whether a real ImageMagick convert is installed
// (some machines have a stand-in named convert that only displays files).
func haveImageMagick() bool {
	out, err := exec.Command("convert", "-version").Output()
	return err == nil && bytes.Contains(out, []byte("ImageMagick"))
}

// transiccRGB converts colours from the RGB profile src to sRGB with Little
// CMS (relative colorimetric, no black point compensation, clipped), and
// returns the results on a 0–255 scale, unrounded.
func transiccRGB(src string, in [][3]uint8) ([][3]float64, error) {
	var stdin bytes.Buffer
	for _, c := range in {
		fmt.Fprintf(&stdin, "%d %d %d\n", c[0], c[1], c[2])
	}
	cmd := exec.Command("transicc", "-t1", "-s", "-n", "-i"+src, "-o*sRGB")
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("transicc: %v: %s", err, stderr.String())
	}
	var out [][3]float64
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		var c [3]float64
		for i := range c {
			if c[i], err = strconv.ParseFloat(f[i], 64); err != nil {
				return nil, fmt.Errorf("transicc output %q: %v", sc.Text(), err)
			}
		}
		out = append(out, c)
	}
	if len(out) != len(in) {
		return nil, fmt.Errorf("transicc gave %d colours for %d: %s %s", len(out), len(in), raw, stderr.String())
	}
	return out, nil
}

// magickConvert converts img (assumed to be in the colour space of the
// profile src) to the sRGB profile dst with ImageMagick, relative
// colorimetric, and returns the 8-bit result.
func magickConvert(t testing.TB, img *image.NRGBA, src, dst string) *image.NRGBA {
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
	// Black point compensation is off unless asked for.
	cmd := exec.Command("convert", in, "-intent", "Relative", "-profile", src, "-profile", dst, "-depth", "8", "PNG32:"+out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("convert: %v: %s", err, msg)
	}
	return decodeFileNRGBA(t, out)
}

// decodeFileNRGBA decodes an image file with the standard library.
func decodeFileNRGBA(t testing.TB, path string) *image.NRGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return toNRGBA(img)
}

// toNRGBA converts any image to *image.NRGBA with its origin at (0, 0).
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, img, b.Min, draw.Src)
	return out
}

// jpegICC extracts the ICC profile from the APP2 ICC_PROFILE segments of a
// JPEG file (ICC.1 Annex B.4), or returns nil.
func jpegICC(data []byte) []byte {
	const marker = "ICC_PROFILE\x00"
	chunks := map[int][]byte{}
	count := 0
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return nil
		}
		m := data[i+1]
		if m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			i += 2
			continue
		}
		if m == 0xDA || m == 0xD9 { // start of scan: no more headers
			break
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+n]
		if m == 0xE2 && len(seg) > len(marker)+2 && string(seg[:len(marker)]) == marker {
			seq, cnt := int(seg[len(marker)]), int(seg[len(marker)+1])
			count = cnt
			chunks[seq] = seg[len(marker)+2:]
		}
		i += 2 + n
	}
	if count == 0 || len(chunks) != count {
		return nil
	}
	var out []byte
	for s := 1; s <= count; s++ {
		c, ok := chunks[s]
		if !ok {
			return nil
		}
		out = append(out, c...)
	}
	return out
}

// pngICC extracts the ICC profile from the iCCP chunk of a PNG file, or
// returns nil.
func pngICC(data []byte) []byte {
	if len(data) < 8 || string(data[:8]) != "\x89PNG\r\n\x1a\n" {
		return nil
	}
	for i := 8; i+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		if n < 0 || i+12+n > len(data) {
			return nil
		}
		body := data[i+8 : i+8+n]
		if typ == "iCCP" {
			nul := bytes.IndexByte(body, 0)
			if nul < 0 || nul+2 > len(body) || body[nul+1] != 0 {
				return nil
			}
			zr, err := zlib.NewReader(bytes.NewReader(body[nul+2:]))
			if err != nil {
				return nil
			}
			p, err := io.ReadAll(io.LimitReader(zr, MaxSize+1))
			if err != nil {
				return nil
			}
			return p
		}
		if typ == "IDAT" {
			return nil
		}
		i += 12 + n
	}
	return nil
}
