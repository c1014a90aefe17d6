package wasmcodec

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/internal/cpuclock"
	"github.com/imageopto/imageopto/internal/vp8enc"
)

// TestVP8EncVsLibwebp measures the CPU time of one lossy WebP encode by
// the pure-Go encoder (internal/vp8enc, RGB conversion included) and by
// libwebp here (method 2, module already compiled), alternating, on
// corpus photos resized to 800 px wide, and logs the medians and bytes:
//
//	IMAGEOPTO_CORPUS=/tmp/corpus IMAGEOPTO_RUNS=9 go test -count=1 -run TestVP8EncVsLibwebp -v ./wasmcodec
func TestVP8EncVsLibwebp(t *testing.T) {
	dir := corpus(t)
	for _, name := range []string{"path.jpg", "volna.jpg"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		src, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		b := src.Bounds()
		img := image.NewNRGBA(image.Rect(0, 0, 800, b.Dy()*800/b.Dx()))
		xdraw.CatmullRom.Scale(img, img.Rect, src, b, xdraw.Src, nil)
		for _, q := range []int{75, 85} {
			var goT, libT []time.Duration
			var goN, libN int
			for i := range runs() + 1 {
				var gb, lb bytes.Buffer
				c0 := cpuclock.Now()
				if err := vp8enc.EncodeImage(context.Background(), &gb, img, &vp8enc.Options{Quality: q}); err != nil {
					t.Fatal(err)
				}
				c1 := cpuclock.Now()
				if err := encodeWebP(&lb, img, imageopto.EncodeOptions{Quality: q}); err != nil {
					t.Fatal(err)
				}
				c2 := cpuclock.Now()
				if i > 0 { // the first run warms both up (libwebp's module compiles)
					goT, libT = append(goT, c1-c0), append(libT, c2-c1)
				}
				goN, libN = gb.Len(), lb.Len()
			}
			slices.Sort(goT)
			slices.Sort(libT)
			g, l := goT[len(goT)/2], libT[len(libT)/2]
			t.Logf("%s 800px q%d: vp8enc %v %d B, libwebp(wasm) %v %d B; CPU ratio %.2f", name, q, g, goN, l, libN, float64(g)/float64(l))
		}
	}
}
