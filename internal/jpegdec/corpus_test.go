package jpegdec

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCorpus runs the full-size comparison with image/jpeg (±1) and the
// reduced-size checks (box downscale ≥ 30 dB, djpeg ≥ 35 dB) on every JPEG
// of the photo corpus in $IMAGEOPTO_CORPUS (built by
// scripts/corpus.sh); it skips when the variable is not set.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("IMAGEOPTO_CORPUS")
	if dir == "" {
		t.Skip("IMAGEOPTO_CORPUS not set")
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.jp*g"))
	if len(names) == 0 {
		t.Fatalf("no JPEG files in %s", dir)
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data := readFile(t, name)
			maxd := stdlibCheck(t, data)
			st := scaledCheck(t, data, 35)
			t.Logf("full size: max diff %d from image/jpeg; %v", maxd, st)
		})
	}
}

// TestScaledPhoto checks the reduced-size decodes of a generated photo
// with djpeg at the photo threshold (35 dB), in every subsampling layout
// cjpeg writes, baseline and progressive, plus image/jpeg's own encoding.
func TestScaledPhoto(t *testing.T) {
	src := photoLike(413, 297, 3)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	t.Run("image-jpeg-420", func(t *testing.T) {
		stdlibCheck(t, buf.Bytes())
		t.Log(scaledCheck(t, buf.Bytes(), 35))
	})
	cjpeg, err := exec.LookPath("cjpeg")
	if err != nil {
		t.Skip("cjpeg not installed")
	}
	ppm := toPPM(src)
	for _, sample := range []string{"1x1", "2x1", "2x2", "1x2", "4x1", "4x2", "gray"} {
		for _, prog := range []bool{false, true} {
			args := []string{"-quality", "90"}
			if sample == "gray" {
				args = append(args, "-grayscale")
			} else {
				args = append(args, "-sample", sample)
			}
			name := sample
			if prog {
				args = append(args, "-progressive")
				name += "-progressive"
			}
			t.Run(name, func(t *testing.T) {
				cmd := exec.Command(cjpeg, args...)
				cmd.Stdin = bytes.NewReader(ppm)
				data, err := cmd.Output()
				if err != nil {
					t.Fatalf("cjpeg: %v", err)
				}
				stdlibCheck(t, data)
				t.Log(scaledCheck(t, data, 35))
			})
		}
	}
}

// toPPM encodes an image as binary PPM.
func toPPM(m image.Image) []byte {
	r := m.Bounds()
	var buf bytes.Buffer
	buf.WriteString("P6\n")
	buf.WriteString(itoa(r.Dx()) + " " + itoa(r.Dy()) + "\n255\n")
	buf.Write(toRGB(m))
	return buf.Bytes()
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}
