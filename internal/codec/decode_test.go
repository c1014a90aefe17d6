package codec

import (
	"bytes"
	"github.com/imageopto/imageopto/internal/format"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/image/webp"

	"github.com/imageopto/imageopto/internal/quality"
)

// referenceNRGBA converts a decoded image to NRGBA pixel by pixel with the
// standard library's colour conversions: color.YCbCrToRGB for Y'CbCr and
// color.NRGBAModel for everything else.
func referenceNRGBA(m image.Image) *image.NRGBA {
	b := m.Bounds()
	dst := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var c color.NRGBA
			switch m := m.(type) {
			case *image.YCbCr:
				yc := m.YCbCrAt(x, y)
				c.R, c.G, c.B = color.YCbCrToRGB(yc.Y, yc.Cb, yc.Cr)
				c.A = 0xFF
			case *image.CMYK:
				k := m.CMYKAt(x, y)
				c.R, c.G, c.B = color.CMYKToRGB(k.C, k.M, k.Y, k.K)
				c.A = 0xFF
			default:
				c = color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
			}
			dst.SetNRGBA(x, y, c)
		}
	}
	return dst
}

func TestDecodeMatchesStdlib(t *testing.T) {
	t.Parallel()
	files := []string{
		"video-001.jpeg", "video-001.progressive.jpeg", "video-001.q50.411.jpeg",
		"video-001.q50.420.jpeg", "video-001.q50.422.jpeg", "video-001.q50.444.jpeg",
		"video-001.q50.420.progressive.jpeg", "video-001.restart2.jpeg", "video-001.rgb.jpeg",
		"video-001.cmyk.jpeg", "video-005.gray.q50.jpeg",
		"gray-gradient.png", "gray-gradient.interlaced.png", "basn0g01.png",
		"basn2c08.png", "basn3p08.png", "basn3p08-trns.png", "basn4a08.png", "basn6a08.png",
		"ftbrn2c08.png",
		"gopher-doc.8bpp.lossless.webp", "gopher-doc.with-alpha.lossless.webp",
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			data := readFixture(t, file)
			got := mustDecode(t, data)
			var ref image.Image
			var err error
			switch Sniff(data) {
			case format.JPEG:
				ref, err = jpeg.Decode(bytes.NewReader(data))
			case format.PNG:
				ref, err = png.Decode(bytes.NewReader(data))
			case format.WebP:
				ref, err = webp.Decode(bytes.NewReader(data))
			}
			if err != nil {
				t.Fatal(err)
			}
			samePixels(t, got, referenceNRGBA(ref))
		})
	}
}

func TestYCbCrFullIsColorYCbCrToRGB(t *testing.T) {
	t.Parallel()
	for y := range 256 {
		for cb := range 256 {
			for cr := range 256 {
				r, g, b := ycbcrFull(uint8(y), uint8(cb), uint8(cr))
				wr, wg, wb := color.YCbCrToRGB(uint8(y), uint8(cb), uint8(cr))
				if r != wr || g != wg || b != wb {
					t.Fatalf("ycbcrFull(%d,%d,%d) = %d,%d,%d; want %d,%d,%d", y, cb, cr, r, g, b, wr, wg, wb)
				}
			}
		}
	}
}

func TestYCbCrLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		y, cb, cr uint8
		r, g, b   uint8
	}{
		{16, 128, 128, 0, 0, 0},
		{235, 128, 128, 255, 255, 255},
		{0, 128, 128, 0, 0, 0},
		{255, 128, 128, 255, 255, 255},
		{126, 128, 128, 128, 128, 128}, // 16 + 219·128/255 ≈ 125.9
		{81, 90, 240, 255, 0, 0},       // BT.601 studio-swing red
		{145, 54, 34, 0, 255, 0},       // green
		{41, 240, 110, 0, 0, 255},      // blue
	}
	for _, tc := range tests {
		r, g, b := ycbcrLimited(tc.y, tc.cb, tc.cr)
		if absDiff(r, tc.r) > 1 || absDiff(g, tc.g) > 1 || absDiff(b, tc.b) > 1 {
			t.Errorf("ycbcrLimited(%d,%d,%d) = %d,%d,%d; want ≈ %d,%d,%d", tc.y, tc.cb, tc.cr, r, g, b, tc.r, tc.g, tc.b)
		}
	}
	// Against the floating-point formula everywhere.
	for y := 0; y < 256; y += 3 {
		for cb := 0; cb < 256; cb += 5 {
			for cr := 0; cr < 256; cr += 7 {
				r, g, b := ycbcrLimited(uint8(y), uint8(cb), uint8(cr))
				fy, fb, fr := 255.0/219*float64(y-16), float64(cb-128), float64(cr-128)
				wr := fy + 1.596027*fr
				wg := fy - 0.391762*fb - 0.812968*fr
				wb := fy + 2.017232*fb
				for _, p := range [][2]float64{{float64(r), wr}, {float64(g), wg}, {float64(b), wb}} {
					if want := math.Max(0, math.Min(255, math.Round(p[1]))); math.Abs(p[0]-want) > 1 {
						t.Fatalf("ycbcrLimited(%d,%d,%d) = %d,%d,%d; want ≈ %.1f,%.1f,%.1f", y, cb, cr, r, g, b, wr, wg, wb)
					}
				}
			}
		}
	}
}

func absDiff(a, b uint8) int {
	return int(math.Abs(float64(a) - float64(b)))
}

func TestTo8(t *testing.T) {
	t.Parallel()
	for v := range 1 << 16 {
		if got, want := to8(uint16(v)), uint8(math.Round(float64(v)/257)); got != want {
			t.Fatalf("to8(%d) = %d, want %d", v, got, want)
		}
	}
}

func TestDecode16BitPNG(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"basn6a16.png", "basn0g16.png"} {
		data := readFixture(t, file)
		got := mustDecode(t, data)
		m, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		b := m.Bounds()
		want := image.NewNRGBA(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBA64Model.Convert(m.At(x, y)).(color.NRGBA64)
				round := func(v uint16) uint8 { return uint8(math.Round(float64(v) / 257)) }
				want.SetNRGBA(x, y, color.NRGBA{round(c.R), round(c.G), round(c.B), round(c.A)})
			}
		}
		samePixels(t, got, want)
	}
}

func TestDecodeInterlacedEqualsNonInterlaced(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]string{
		{"gray-gradient.png", "gray-gradient.interlaced.png"},
		{"video-001.gif", "video-001.interlaced.gif"},
	} {
		t.Run(pair[0], func(t *testing.T) {
			t.Parallel()
			a := mustDecode(t, readFixture(t, pair[0]))
			b := mustDecode(t, readFixture(t, pair[1]))
			samePixels(t, b, a)
		})
	}
}

func TestDecodeCMYK(t *testing.T) {
	t.Parallel()
	cmyk := mustDecode(t, readFixture(t, "video-001.cmyk.jpeg"))
	rgb := mustDecode(t, readFixture(t, "video-001.jpeg"))
	// The CMYK file was separated with a colour-managed profile (heavy
	// black generation, no embedded ICC), so the naive, uncalibrated
	// color.CMYKToRGB conversion that libjpeg-based tools and image/jpeg
	// users get is much darker than the RGB original: PSNR ≈ 15 dB, SSIM
	// ≈ 0.67. Exact agreement with color.CMYKToRGB is asserted in
	// TestDecodeMatchesStdlib; here we check that geometry and tonal order
	// survive (no channel swap, no inversion): luma correlation is high.
	p, s, corr := psnr(cmyk, rgb), quality.SSIM(cmyk, rgb), lumaCorrelation(cmyk, rgb)
	t.Logf("CMYK vs YCbCr original: PSNR %.2f dB, SSIM %.4f, luma correlation %.4f", p, s, corr)
	if corr < 0.95 {
		t.Errorf("CMYK decode does not follow the original: luma correlation %.4f", corr)
	}
	// A channel or inversion bug would look like this.
	inverted := image.NewNRGBA(cmyk.Rect)
	for i := range cmyk.Pix {
		inverted.Pix[i] = 255 - cmyk.Pix[i]
		if i%4 == 3 {
			inverted.Pix[i] = 255
		}
	}
	if c := lumaCorrelation(inverted, rgb); c > 0 {
		t.Errorf("inverted control correlates: %.4f", c)
	}
}

// lumaCorrelation returns Pearson's correlation of the luma of a and b.
func lumaCorrelation(a, b *image.NRGBA) float64 {
	var sa, sb, saa, sbb, sab, n float64
	for i := 0; i < len(a.Pix); i += 4 {
		p := 0.299*float64(a.Pix[i]) + 0.587*float64(a.Pix[i+1]) + 0.114*float64(a.Pix[i+2])
		q := 0.299*float64(b.Pix[i]) + 0.587*float64(b.Pix[i+1]) + 0.114*float64(b.Pix[i+2])
		sa, sb, saa, sbb, sab, n = sa+p, sb+q, saa+p*p, sbb+q*q, sab+p*q, n+1
	}
	cov := sab/n - sa/n*sb/n
	return cov / math.Sqrt((saa/n-sa/n*sa/n)*(sbb/n-sb/n*sb/n))
}

func TestDecodeGIFTransparency(t *testing.T) {
	t.Parallel()
	data := threeFrameGIF(t)
	img := mustDecode(t, data)
	// The first frame has no transparency; its pixels alternate.
	if c := img.NRGBAAt(0, 0); c != (color.NRGBA{0, 0, 0, 255}) {
		t.Errorf("(0,0) = %v", c)
	}
	if c := img.NRGBAAt(1, 0); c != (color.NRGBA{255, 0, 0, 255}) {
		t.Errorf("(1,0) = %v", c)
	}
	tri := mustDecode(t, readFixture(t, "triangle-001.gif"))
	h := mustHeader(t, readFixture(t, "triangle-001.gif"))
	if tri.Rect != image.Rect(0, 0, h.Width, h.Height) {
		t.Errorf("bounds %v", tri.Rect)
	}
}

// blockCentre returns the pixel at the centre of block (bx, by).
func blockCentre(img *image.NRGBA, bx, by int) color.NRGBA {
	return img.NRGBAAt(bx*16+8, by*16+8)
}

func TestDecodeWebPLimitedRange(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"blocks.lossy.webp", "blocks.lossy-alpha.webp"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			img := mustDecode(t, readFixture(t, file))
			black, white := blockCentre(img, 0, 0), blockCentre(img, 1, 0)
			if black.R > 4 || black.G > 4 || black.B > 4 {
				t.Errorf("black decoded as %v (blacks lifted?)", black)
			}
			if white.R < 250 || white.G < 250 || white.B < 250 {
				t.Errorf("white decoded as %v (whites dimmed?)", white)
			}
			for by := range 3 { // the last row of the alpha fixture is transparent
				for bx := range 4 {
					got, want := blockCentre(img, bx, by), blockColors[by][bx]
					if absDiff(got.R, want.R) > 8 || absDiff(got.G, want.G) > 8 || absDiff(got.B, want.B) > 8 || got.A != 255 {
						t.Errorf("block (%d,%d) = %v, want ≈ %v", bx, by, got, want)
					}
				}
			}
			if file == "blocks.lossy-alpha.webp" {
				for bx, a := range [4]uint8{0, 128, 255, 0} {
					if got := blockCentre(img, bx, 3).A; absDiff(got, a) > 2 {
						t.Errorf("block (%d,3) alpha = %d, want %d", bx, got, a)
					}
				}
			}
			// libwebp's decoding (dwebp -nofancy), committed beside the file.
			refData := readFixture(t, file+".dwebp.png")
			ref, err := png.Decode(bytes.NewReader(refData))
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, img, referenceNRGBA(ref), 2)
		})
	}
}

// assertClose fails when any channel of any visible pixel differs by more
// than tol (colour is ignored where both alphas are 0).
func assertClose(t *testing.T, got, want *image.NRGBA, tol int) {
	t.Helper()
	if got.Rect != want.Rect {
		t.Fatalf("bounds %v, want %v", got.Rect, want.Rect)
	}
	worst := 0
	for y := range want.Rect.Dy() {
		for x := range want.Rect.Dx() {
			g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y)
			d := absDiff(g.A, w.A)
			if g.A != 0 || w.A != 0 {
				d = max(d, absDiff(g.R, w.R), absDiff(g.G, w.G), absDiff(g.B, w.B))
			}
			if d > worst {
				worst = d
			}
			if d > tol {
				t.Fatalf("pixel (%d,%d) = %v, want %v (±%d)", x, y, g, w, tol)
			}
		}
	}
	t.Logf("largest channel difference: %d", worst)
}

// TestDecodeWebPMatchesLibwebp compares every lossy WebP fixture with
// dwebp's output when the webp tools are installed.
func TestDecodeWebPMatchesLibwebp(t *testing.T) {
	t.Parallel()
	dwebp, err := exec.LookPath("dwebp")
	if err != nil {
		t.Skip("dwebp not installed (apt-get install webp)")
	}
	for _, file := range []string{"video-001.lossy.webp", "blue-purple-pink.lossy.webp", "yellow_rose.lossy-with-alpha.webp"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "ref.png")
			if msg, err := exec.Command(dwebp, "-quiet", "-nofancy", filepath.Join("testdata", file), "-o", out).CombinedOutput(); err != nil {
				t.Fatalf("dwebp: %v\n%s", err, msg)
			}
			refData, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := png.Decode(bytes.NewReader(refData))
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, mustDecode(t, readFixture(t, file)), referenceNRGBA(ref), 2)
		})
	}
}

func TestDecodeWebPLimitedBeatsFullRange(t *testing.T) {
	t.Parallel()
	// video-001.lossy.webp and video-001.jpeg encode the same frame; the
	// right matrix brings the WebP much closer to the JPEG.
	data := readFixture(t, "video-001.lossy.webp")
	limited := mustDecode(t, data)
	m, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	full := referenceNRGBA(m) // JFIF full range, the naive conversion
	ref := mustDecode(t, readFixture(t, "video-001.jpeg"))
	pl, pf := psnr(limited, ref), psnr(full, ref)
	t.Logf("PSNR vs JPEG: limited range %.2f dB, full range %.2f dB", pl, pf)
	if pl <= pf+1 {
		t.Errorf("limited-range PSNR %.2f dB is not clearly above full-range %.2f dB", pl, pf)
	}
}

func TestDecodeWebPAlpha(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"yellow_rose.lossy-with-alpha.webp", "gopher-doc.with-alpha.lossless.webp"} {
		img := mustDecode(t, readFixture(t, file))
		var transparent, opaque int
		for i := 3; i < len(img.Pix); i += 4 {
			switch img.Pix[i] {
			case 0:
				transparent++
			case 255:
				opaque++
			}
		}
		if transparent == 0 || opaque == 0 {
			t.Errorf("%s: %d transparent and %d opaque pixels", file, transparent, opaque)
		}
	}
}

func TestDecodeBadInputs(t *testing.T) {
	t.Parallel()
	jpg := smallJPEG(t, 16, 16)
	tests := []struct {
		name string
		data []byte
		h    *Header // nil: use ReadHeader
	}{
		{"png bad crc", readFixture(t, "invalid-crc32.png"), nil},
		{"png no IEND", readFixture(t, "invalid-noend.png"), nil},
		{"png truncated", readFixture(t, "invalid-trunc.png"), nil},
		{"png bad zlib", readFixture(t, "invalid-zlib.png"), nil},
		{"header larger than data", jpg, &Header{Format: format.JPEG, Width: 32, Height: 16}},
		{"header smaller than data", jpg, &Header{Format: format.JPEG, Width: 1, Height: 1}},
		{"wrong format", jpg, &Header{Format: format.PNG, Width: 16, Height: 16}},
		{"zero header", jpg, &Header{Format: format.JPEG}},
		{"negative header", jpg, &Header{Format: format.JPEG, Width: -16, Height: -16}},
		{"jpeg without tables", manyScansJPEG(3), nil},
		{"two SOF with forged header", withSegments(jpg, jpegSegment(jpegSOF0, []byte{8, 0, 16, 0, 16, 1, 1, 0x11, 0})), &Header{Format: format.JPEG, Width: 16, Height: 16}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h Header
			if tc.h != nil {
				h = *tc.h
			} else {
				var err error
				if h, err = ReadHeader(tc.data); err != nil {
					requireIs(t, err, ErrCorrupt)
					return
				}
			}
			img, err := Decode(bgCtx, tc.data, h)
			if err == nil {
				t.Fatalf("Decode succeeded with %v", img.Rect)
			}
			requireIs(t, err, ErrCorrupt)
		})
	}
}

func TestDecodeInvalidPalette(t *testing.T) {
	t.Parallel()
	// image/png accepts out-of-range palette indices; they must not panic
	// later and must decode as something well-defined.
	data := readFixture(t, "invalid-palette.png")
	h, err := ReadHeader(data)
	if err != nil {
		requireIs(t, err, ErrCorrupt)
		return
	}
	img, err := Decode(bgCtx, data, h)
	if err != nil {
		requireIs(t, err, ErrCorrupt)
		return
	}
	if img.Rect != image.Rect(0, 0, h.Width, h.Height) {
		t.Errorf("bounds %v", img.Rect)
	}
}

func TestCompositePalettedOutOfRange(t *testing.T) {
	t.Parallel()
	p := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{1, 2, 3, 255}})
	p.Pix[1] = 200 // beyond the palette
	img := must(compositePaletted(nopoll(), p, p.Rect))
	if c := img.NRGBAAt(0, 0); c != (color.NRGBA{1, 2, 3, 255}) {
		t.Errorf("(0,0) = %v", c)
	}
	if c := img.NRGBAAt(1, 0); c != (color.NRGBA{0, 0, 0, 255}) {
		t.Errorf("(1,0) = %v, want opaque black", c)
	}
}

func TestToNRGBAConversions(t *testing.T) {
	t.Parallel()
	r := image.Rect(0, 0, 3, 2)
	rgba := image.NewRGBA(r)
	rgba.SetRGBA(0, 0, color.RGBA{100, 50, 0, 200})
	rgba.SetRGBA(1, 0, color.RGBA{10, 20, 30, 255})
	rgba64 := image.NewRGBA64(r)
	rgba64.SetRGBA64(0, 0, color.RGBA64{0x8000, 0x4000, 0, 0xC000})
	gray16 := image.NewGray16(r)
	gray16.SetGray16(1, 1, color.Gray16{0x8080})
	nrgba64 := image.NewNRGBA64(r)
	nrgba64.SetNRGBA64(2, 1, color.NRGBA64{0xFFFF, 0x0101, 0x7F7F, 0x8080})
	alpha := image.NewAlpha(r) // generic path
	alpha.SetAlpha(1, 0, color.Alpha{77})
	for _, m := range []image.Image{rgba, rgba64, gray16, nrgba64, alpha} {
		want := referenceNRGBA(m)
		got := must(toNRGBA(nopoll(), cloneImage(m), false))
		for y := range 2 {
			for x := range 3 {
				g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y)
				if absDiff(g.R, w.R) > 1 || absDiff(g.G, w.G) > 1 || absDiff(g.B, w.B) > 1 || absDiff(g.A, w.A) > 1 {
					t.Errorf("%T (%d,%d) = %v, want %v", m, x, y, g, w)
				}
			}
		}
	}
}

// cloneImage copies m so that in-place conversions do not touch it.
func cloneImage(m image.Image) image.Image {
	switch m := m.(type) {
	case *image.RGBA:
		c := *m
		c.Pix = bytes.Clone(m.Pix)
		return &c
	}
	return m
}
