package codec

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// updateFixtures regenerates the cwebp-made fixtures (needs Debian's webp
// package); a normal test run never writes files.
var updateFixtures = flag.Bool("update-fixtures", false, "regenerate testdata/blocks*.webp with cwebp and dwebp")

// blockColors is the 4×4 grid of 16×16 blocks in testdata/blocks.*.webp.
var blockColors = [4][4]color.NRGBA{
	{{0, 0, 0, 255}, {255, 255, 255, 255}, {128, 128, 128, 255}, {64, 64, 64, 255}},
	{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {192, 192, 192, 255}},
	{{255, 255, 0, 255}, {0, 255, 255, 255}, {255, 0, 255, 255}, {200, 120, 40, 255}},
	{{30, 60, 90, 255}, {240, 240, 240, 255}, {16, 16, 16, 255}, {128, 0, 128, 255}},
}

// blocksImage renders blockColors; withAlpha makes the last row's blocks
// fully transparent, half transparent, opaque and fully transparent.
func blocksImage(withAlpha bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			c := blockColors[y/16][x/16]
			if withAlpha && y >= 48 {
				c.A = [4]uint8{0, 128, 255, 0}[x/16]
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func TestGenerateWebPFixtures(t *testing.T) {
	if !*updateFixtures {
		t.Skip("run with -update-fixtures to regenerate")
	}
	cwebp, err := exec.LookPath("cwebp")
	if err != nil {
		t.Skip("cwebp not installed (apt-get install webp)")
	}
	dwebp, err := exec.LookPath("dwebp")
	if err != nil {
		t.Skip("dwebp not installed (apt-get install webp)")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		alpha bool
		args  []string
	}{
		{"blocks.lossy.webp", false, []string{"-q", "90"}},
		{"blocks.lossy-alpha.webp", true, []string{"-q", "90", "-alpha_q", "100", "-exact"}},
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, blocksImage(tc.alpha)); err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(dir, "in.png")
		if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"-quiet"}, tc.args...)
		args = append(args, in, "-o", filepath.Join("testdata", tc.name))
		if out, err := exec.Command(cwebp, args...).CombinedOutput(); err != nil {
			t.Fatalf("cwebp: %v\n%s", err, out)
		}
		// libwebp's own decoding, with the same nearest-neighbour chroma
		// upsampling as golang.org/x/image/webp, is the reference.
		ref := filepath.Join("testdata", tc.name+".dwebp.png")
		if out, err := exec.Command(dwebp, "-quiet", "-nofancy", filepath.Join("testdata", tc.name), "-o", ref).CombinedOutput(); err != nil {
			t.Fatalf("dwebp: %v\n%s", err, out)
		}
	}
}
