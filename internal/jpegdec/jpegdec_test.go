package jpegdec

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"
)

// stdlibCheck decodes data at full size and compares the result, sample by
// sample, with image/jpeg: same image type, bounds and subsampling, and no
// sample more than 1 apart. For YCCK, whose conversion to CMYK multiplies
// a difference of 1 in Cb or Cr by up to 1.772, the C, M and Y channels
// may differ by 3. When image/jpeg cannot decode the file, the luma is
// compared with djpeg instead (if installed), also within 1. It returns
// the largest difference.
func stdlibCheck(t *testing.T, data []byte) int {
	t.Helper()
	got, err := Decode(bgCtx, data, nil)
	want, werr := jpeg.Decode(bytes.NewReader(data))
	if werr != nil {
		if err != nil {
			t.Logf("both fail: image/jpeg: %v; we: %v", werr, err)
			return 0
		}
		t.Logf("image/jpeg fails (%v), we do not: checking the luma against djpeg", werr)
		if !haveDjpeg() {
			return 0
		}
		ref, w, h := djpeg(t, data, 1, "-grayscale")
		luma := planes(got)[0]
		if luma.w != w || luma.h != h {
			t.Fatalf("djpeg gives %d×%d, we %d×%d", w, h, luma.w, luma.h)
		}
		maxd := 0
		for i, v := range luma.pix {
			maxd = max(maxd, abs(int(v)-int(ref[3*i])))
		}
		if maxd > 1 {
			t.Errorf("luma: max diff %d from djpeg > 1", maxd)
		}
		return maxd
	}
	if err != nil {
		t.Fatal(err)
	}
	maxd, n, err := imageDiff(got, want)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%T %v: max diff %d, %d samples differ", got, got.Bounds(), maxd, n)
	limit := 1
	if isYCCK(data) {
		limit = 3
		pg, pw := planes(got), planes(want)
		kd, _ := planeDiff(pg[3].pix, pg[3].w, pw[3].pix, pw[3].w, pg[3].w, pg[3].h)
		if kd > 1 {
			t.Errorf("K: max diff %d > 1", kd)
		}
	}
	if maxd > limit {
		t.Errorf("max diff %d > %d", maxd, limit)
	}
	return maxd
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// isYCCK reports whether data is a 4-component JPEG with an Adobe
// transform other than 0.
func isYCCK(data []byte) bool {
	d := decoder{data: data}
	return d.parse(true) == nil && d.ncomp == 4 && d.adobe && d.adobeTransform != 0
}

// TestMatchesStdlib runs stdlibCheck on every test file.
func TestMatchesStdlib(t *testing.T) {
	for _, name := range testFiles(t) {
		t.Run(baseName(name), func(t *testing.T) {
			stdlibCheck(t, readFile(t, name))
		})
	}
}

// TestDecodeConfig checks the header dimensions against image/jpeg.
func TestDecodeConfig(t *testing.T) {
	for _, name := range testFiles(t) {
		data := readFile(t, name)
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		w, h, err := DecodeConfig(data)
		if err != nil || w != cfg.Width || h != cfg.Height {
			t.Errorf("%s: DecodeConfig = %d×%d, %v; want %d×%d", name, w, h, err, cfg.Width, cfg.Height)
		}
	}
}

// TestScaledSize checks the rounding of ScaledSize.
func TestScaledSize(t *testing.T) {
	for _, c := range []struct{ w, h, s, ww, wh int }{
		{150, 103, 1, 150, 103}, {150, 103, 2, 75, 52}, {150, 103, 4, 38, 26},
		{150, 103, 8, 19, 13}, {1, 1, 8, 1, 1}, {9, 17, 8, 2, 3}, {5, 5, 0, 5, 5},
	} {
		if w, h := ScaledSize(c.w, c.h, c.s); w != c.ww || h != c.wh {
			t.Errorf("ScaledSize(%d, %d, %d) = %d, %d; want %d, %d", c.w, c.h, c.s, w, h, c.ww, c.wh)
		}
	}
}

// TestScaledDimensions decodes every test file at every scale and checks
// the bounds and the image type.
func TestScaledDimensions(t *testing.T) {
	for _, name := range testFiles(t) {
		data := readFile(t, name)
		full, err := Decode(bgCtx, data, nil)
		if err != nil {
			continue
		}
		w, h, _ := DecodeConfig(data)
		for _, s := range []int{1, 2, 4, 8} {
			m, err := Decode(bgCtx, data, &Options{Scale: s})
			if err != nil {
				t.Errorf("%s at 1/%d: %v", name, s, err)
				continue
			}
			sw, sh := ScaledSize(w, h, s)
			if m.Bounds() != image.Rect(0, 0, sw, sh) {
				t.Errorf("%s at 1/%d: bounds %v, want %d×%d", name, s, m.Bounds(), sw, sh)
			}
			if f, ok := full.(*image.YCbCr); ok {
				if g, ok := m.(*image.YCbCr); !ok || g.SubsampleRatio != f.SubsampleRatio {
					t.Errorf("%s at 1/%d: %T, want %T with ratio %v", name, s, m, full, f.SubsampleRatio)
				}
			} else if strings.TrimPrefix(typeName(m), "") != typeName(full) {
				t.Errorf("%s at 1/%d: %T, want %T", name, s, m, full)
			}
		}
	}
}

func typeName(m image.Image) string {
	switch m.(type) {
	case *image.YCbCr:
		return "ycbcr"
	case *image.Gray:
		return "gray"
	case *image.CMYK:
		return "cmyk"
	case *image.RGBA:
		return "rgba"
	}
	return "?"
}

// TestBadScale checks that unsupported scales are refused.
func TestBadScale(t *testing.T) {
	data := readFile(t, "testdata/video-001.jpeg")
	for _, s := range []int{-1, 3, 16} {
		if _, err := Decode(bgCtx, data, &Options{Scale: s}); !errors.Is(err, ErrScale) {
			t.Errorf("scale %d: %v, want ErrScale", s, err)
		}
	}
}
