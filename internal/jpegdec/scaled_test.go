package jpegdec

import (
	"fmt"
	"image"
	"os/exec"
	"testing"
)

// haveDjpeg reports whether libjpeg-turbo's djpeg is installed.
func haveDjpeg() bool {
	_, err := exec.LookPath("djpeg")
	return err == nil
}

// scaledStats are the worst PSNRs (dB) of the reduced decodes of a file.
type scaledStats struct {
	box   float64 // any plane against a box downscale of our full decode
	luma  float64 // luma (or grey) against djpeg -grayscale
	rgb   float64 // RGB against djpeg, for files without chroma subsampling
	djpeg bool    // the djpeg comparisons ran
}

// String formats the statistics for the test log.
func (st scaledStats) String() string {
	f := func(v float64) string {
		if v >= 1000 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f dB", v)
	}
	return fmt.Sprintf("worst PSNR: %s vs box downscale; vs djpeg: luma %s, RGB %s", f(st.box), f(st.luma), f(st.rgb))
}

// scaledCheck decodes data at 1/2, 1/4 and 1/8 and checks the bounds, the
// image type and the pixels:
//
//   - every plane (Y, Cb, Cr at their subsampled sizes; grey; RGB; CMYK)
//     against a box downscale of the same plane of our full-size decode:
//     PSNR ≥ 30 dB;
//   - with djpeg installed, the luma against djpeg -scale 1/s -grayscale,
//     and for files without chroma subsampling the RGB against
//     djpeg -scale 1/s: PSNR ≥ minDjpeg. (With subsampled chroma, djpeg
//     decodes the chroma at a larger IDCT size and returns full-resolution
//     chroma, while Decode keeps the file's subsampling, so only the luma
//     is comparable.)
func scaledCheck(t *testing.T, data []byte, minDjpeg float64) scaledStats {
	t.Helper()
	st := scaledStats{box: 1000, luma: 1000, rgb: 1000, djpeg: haveDjpeg()}
	full, err := Decode(bgCtx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, h := full.Bounds().Dx(), full.Bounds().Dy()
	fp := planes(full)
	for _, s := range []int{2, 4, 8} {
		m, err := Decode(bgCtx, data, &Options{Scale: s})
		if err != nil {
			t.Fatalf("1/%d: %v", s, err)
		}
		sw, sh := ScaledSize(w, h, s)
		if m.Bounds() != image.Rect(0, 0, sw, sh) {
			t.Fatalf("1/%d: bounds %v, want %d×%d", s, m.Bounds(), sw, sh)
		}
		if typeName(m) != typeName(full) {
			t.Fatalf("1/%d: %T, want %T", s, m, full)
		}
		mp := planes(m)
		for i, p := range fp {
			if rw, rh := ScaledSize(p.w, p.h, s); rw != mp[i].w || rh != mp[i].h {
				t.Fatalf("1/%d: plane %s is %d×%d, want %d×%d", s, p.name, mp[i].w, mp[i].h, rw, rh)
			}
			// Interleaved outputs (RGBA, CMYK) replicate subsampled
			// components, which a reduced decode holds at a coarser
			// resolution: compare those at their own resolution.
			r := 1
			if typeName(m) == "rgba" || typeName(m) == "cmyk" {
				r = subsampling(data, i)
				if i < 3 && isYCCK(data) { // C, M, Y come from Y, Cb, Cr
					r = max(subsampling(data, 0), subsampling(data, 1), subsampling(data, 2))
				}
			}
			ref := boxDown(p.pix, 1, p.w, p.h, s*r)
			got := mp[i].pix
			if r > 1 {
				got = boxDown(got, 1, mp[i].w, mp[i].h, r)
			}
			v := psnr(got, ref)
			st.box = min(st.box, v)
			if v < 30 {
				t.Errorf("1/%d: plane %s: PSNR against box downscale %.2f dB < 30", s, p.name, v)
			}
		}
		if !st.djpeg || (typeName(m) != "ycbcr" && typeName(m) != "gray") {
			continue
		}
		ref, rw, rh := djpeg(t, data, s, "-grayscale")
		if rw != sw || rh != sh {
			t.Fatalf("1/%d: djpeg gives %d×%d, we %d×%d", s, rw, rh, sw, sh)
		}
		luma := boxDown(ref, 3, rw, rh, 1)[0:]
		y := make([]byte, 0, sw*sh)
		for i := 0; i < len(luma); i += 3 {
			y = append(y, luma[i])
		}
		v := psnr(mp[0].pix, y)
		st.luma = min(st.luma, v)
		if v < minDjpeg {
			t.Errorf("1/%d: luma PSNR against djpeg %.2f dB < %.0f", s, v, minDjpeg)
		}
		if yc, ok := m.(*image.YCbCr); !ok || yc.SubsampleRatio == image.YCbCrSubsampleRatio444 {
			ref, _, _ := djpeg(t, data, s)
			v := psnr(toRGB(m), ref)
			st.rgb = min(st.rgb, v)
			if v < minDjpeg {
				t.Errorf("1/%d: RGB PSNR against djpeg %.2f dB < %.0f", s, v, minDjpeg)
			}
		}
	}
	return st
}

// subsampling returns the subsampling factor of component i of a JPEG
// file: the largest of hmax/h and vmax/v.
func subsampling(data []byte, i int) int {
	d := decoder{data: data}
	if d.parse(true) != nil {
		return 1
	}
	c := &d.comps[i]
	return max(d.hmax/c.h, d.vmax/c.v)
}

// TestScaledQuality runs scaledCheck on the test files. They are small
// (150×103) and sharp, so the coefficients that the 1/2 and 1/4 transforms
// drop and that djpeg's folds in (see idct.go) weigh more than in photos:
// the djpeg comparison uses 33 dB here and 35 dB on photos
// (TestScaledPhoto, TestCorpus).
func TestScaledQuality(t *testing.T) {
	for _, name := range testFiles(t) {
		t.Run(baseName(name), func(t *testing.T) {
			st := scaledCheck(t, readFile(t, name), 33)
			t.Log(st)
		})
	}
}
