package vp8enc

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imageopto/imageopto/internal/quality"
	"golang.org/x/image/draw"
)

// TestCalibrate compares this encoder with libwebp (cwebp -m 2, the
// method wasmcodec uses) on corpus photos resized to 800 px: bytes and
// luma SSIM at each quality, and bytes at equal SSIM. It runs only when
// VP8CALIB names the corpus directory:
//
//	VP8CALIB=/tmp/corpus go test -run TestCalibrate -v ./internal/vp8enc
func TestCalibrate(t *testing.T) {
	dir := os.Getenv("VP8CALIB")
	if dir == "" {
		t.Skip("VP8CALIB not set")
	}
	files := strings.Fields(os.Getenv("VP8CALIB_FILES"))
	if len(files) == 0 {
		files = []string{"path.jpg", "volna.jpg", "kleiber.jpg", "colorfulcups.jpg", "eveningglow.jpg"}
	}
	qs := []int{30, 50, 65, 75, 80, 85, 90, 95}
	var ratios []float64
	for _, f := range files {
		img := load800(t, filepath.Join(dir, f))
		ref, err := FromImage(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		pngPath := filepath.Join(tmp, "in.png")
		var pb bytes.Buffer
		if err := png.Encode(&pb, img); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(pngPath, pb.Bytes(), 0o644)
		type pt struct{ bytes, ssim float64 }
		var ours, lib []pt
		var tOurs time.Duration
		for _, q := range qs {
			var buf bytes.Buffer
			start := time.Now()
			if err := Encode(context.Background(), &buf, ref, &Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			tOurs += time.Since(start)
			so := lumaSSIM(t, buf.Bytes(), ref)
			out := filepath.Join(tmp, "o.webp")
			if b, err := exec.Command("cwebp", "-quiet", "-m", "2", "-q", strconv.Itoa(q), pngPath, "-o", out).CombinedOutput(); err != nil {
				t.Fatalf("cwebp: %v %s", err, b)
			}
			lb, _ := os.ReadFile(out)
			sl := lumaSSIM(t, lb, ref)
			ours = append(ours, pt{float64(buf.Len()), so})
			lib = append(lib, pt{float64(len(lb)), sl})
			t.Logf("%s q%d: ours %6d B ssim %.4f chroma %.4f | libwebp %6d B ssim %.4f chroma %.4f", f, q, buf.Len(), so, chromaSSIM(t, buf.Bytes(), ref), len(lb), sl, chromaSSIM(t, lb, ref))
		}
		// Bytes at equal SSIM: libwebp's bytes interpolated (log-linear)
		// at each of our SSIMs inside its range.
		for _, o := range ours {
			for i := 0; i+1 < len(lib); i++ {
				a, b := lib[i], lib[i+1]
				if (o.ssim-a.ssim)*(o.ssim-b.ssim) <= 0 && a.ssim != b.ssim {
					f := (o.ssim - a.ssim) / (b.ssim - a.ssim)
					lb := math.Exp(math.Log(a.bytes) + f*(math.Log(b.bytes)-math.Log(a.bytes)))
					ratios = append(ratios, o.bytes/lb)
					break
				}
			}
		}
		t.Logf("%s: our encode time over %d qualities %v", f, len(qs), tOurs)
	}
	var s float64
	for _, r := range ratios {
		s += math.Log(r)
	}
	t.Logf("bytes at equal SSIM, ours/libwebp: geometric mean %.3f over %d points", math.Exp(s/float64(len(ratios))), len(ratios))
}

func load800(t testing.TB, path string) *image.NRGBA {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := src.Bounds()
	w := 800
	h := b.Dy() * w / b.Dx()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Rect, src, b, draw.Src, nil)
	return dst
}

func lumaSSIM(t *testing.T, data []byte, ref *Planes) float64 {
	m := decodeGo(t, data)
	a := make([]float64, ref.W*ref.H)
	b := make([]float64, ref.W*ref.H)
	for y := range ref.H {
		for x := range ref.W {
			a[y*ref.W+x] = float64(ref.Y[y*ref.YStride+x])
			b[y*ref.W+x] = float64(m.Y[y*m.YStride+x])
		}
	}
	return quality.LumaSSIM(a, b, ref.W, ref.H)
}

// TestCalibrateSweep prints, for qualities 0..100, the quantiser index at
// which this encoder matches libwebp's luma SSIM on each corpus photo
// (the data behind QIndexForQuality's table).
//
//	VP8CALIB=/tmp/corpus go test -run TestCalibrateSweep -v ./internal/vp8enc
func TestCalibrateSweep(t *testing.T) {
	dir := os.Getenv("VP8CALIB")
	if dir == "" {
		t.Skip("VP8CALIB not set")
	}
	files := []string{"path.jpg", "volna.jpg", "kleiber.jpg", "colorfulcups.jpg", "eveningglow.jpg"}
	var rows [21][]int
	for _, f := range files {
		img := load800(t, filepath.Join(dir, f))
		ref, _ := FromImage(context.Background(), img)
		var ssim [128]float64
		for qi := 0; qi < 128; qi += 3 {
			var buf bytes.Buffer
			Encode(context.Background(), &buf, ref, &Options{QIndex: max(qi, 1)})
			ssim[qi] = lumaSSIM(t, buf.Bytes(), ref)
		}
		tmp := t.TempDir()
		pngPath := filepath.Join(tmp, "in.png")
		var pb bytes.Buffer
		png.Encode(&pb, img)
		os.WriteFile(pngPath, pb.Bytes(), 0o644)
		for i := range rows {
			q := 5 * i
			out := filepath.Join(tmp, "o.webp")
			exec.Command("cwebp", "-quiet", "-m", "2", "-q", strconv.Itoa(q), pngPath, "-o", out).Run()
			lb, _ := os.ReadFile(out)
			target := lumaSSIM(t, lb, ref)
			best := 0
			for qi := 0; qi < 128; qi += 3 {
				if ssim[qi] >= target {
					best = qi
				}
			}
			rows[i] = append(rows[i], best)
		}
	}
	for i, r := range rows {
		t.Logf("quality %3d: qindex %v", 5*i, r)
	}
}

// chromaSSIM is the mean SSIM of the Cb and Cr planes.
func chromaSSIM(t *testing.T, data []byte, ref *Planes) float64 {
	m := decodeGo(t, data)
	cw, ch := (ref.W+1)/2, (ref.H+1)/2
	var sum float64
	for i, pl := range [2][]uint8{ref.Cb, ref.Cr} {
		got := [2][]uint8{m.Cb, m.Cr}[i]
		a := make([]float64, cw*ch)
		b := make([]float64, cw*ch)
		for y := range ch {
			for x := range cw {
				a[y*cw+x] = float64(pl[y*ref.CStride+x])
				b[y*cw+x] = float64(got[y*m.CStride+x])
			}
		}
		sum += quality.LumaSSIM(a, b, cw, ch)
	}
	return sum / 2
}

// TestCalibrateVips compares this encoder with libvips's webpsave (libwebp
// at its defaults: method 4, spatial noise shaping 50, segments) on the
// calibration photos at 800 px: bytes and luma SSIM at each quality.
//
//	VP8CALIB=/tmp/corpus go test -run TestCalibrateVips -v ./internal/vp8enc
func TestCalibrateVips(t *testing.T) {
	dir := os.Getenv("VP8CALIB")
	if dir == "" {
		t.Skip("VP8CALIB not set")
	}
	if _, err := exec.LookPath("vips"); err != nil {
		t.Skip("no vips")
	}
	files := strings.Fields(os.Getenv("VP8CALIB_FILES"))
	if len(files) == 0 {
		files = []string{"path.jpg", "volna.jpg", "kleiber.jpg", "colorfulcups.jpg", "eveningglow.jpg"}
	}
	qs := []int{50, 75, 85, 95}
	if s := os.Getenv("VP8CALIB_QS"); s != "" {
		qs = nil
		for _, f := range strings.Fields(s) {
			q, _ := strconv.Atoi(f)
			qs = append(qs, q)
		}
	}
	tuneFromEnv(t)
	var logRatio float64
	var n int
	worst := 1.0
	for _, f := range files {
		img := load800(t, filepath.Join(dir, f))
		ref, err := FromImage(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		pngPath := filepath.Join(tmp, "in.png")
		var pb bytes.Buffer
		if err := png.Encode(&pb, img); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(pngPath, pb.Bytes(), 0o644)
		for _, q := range qs {
			var buf bytes.Buffer
			if err := Encode(context.Background(), &buf, ref, &Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			so := lumaSSIM(t, buf.Bytes(), ref)
			out := filepath.Join(tmp, "o.webp")
			if b, err := exec.Command("vips", "copy", pngPath, out+"[Q="+strconv.Itoa(q)+"]").CombinedOutput(); err != nil {
				t.Fatalf("vips: %v %s", err, b)
			}
			lb, _ := os.ReadFile(out)
			sl := lumaSSIM(t, lb, ref)
			r := float64(buf.Len()) / float64(len(lb))
			logRatio += math.Log(r)
			n++
			worst = min(worst, so-sl+1)
			t.Logf("%-16s q%d: ours %6d B ssim %.4f | vips %6d B ssim %.4f | bytes %.3f ssim %+.4f chroma %+.4f", f, q, buf.Len(), so, len(lb), sl, r, so-sl, chromaSSIM(t, buf.Bytes(), ref)-chromaSSIM(t, lb, ref))
		}
	}
	t.Logf("bytes ours/vips: geometric mean %.3f over %d; worst SSIM difference %+.4f", math.Exp(logRatio/float64(n)), n, worst-1)
}

// TestCalibrateVipsSweep prints, for qualities 0..100, the highest
// quantiser index at which this encoder's luma SSIM stays within
// VP8CALIB_MARGIN (default 0.0015) of libvips's (webpsave at its
// defaults) on each calibration photo, the table row that results (the
// lowest of them: qualityIndex), and at that index each photo's bytes
// against vips's.
//
//	VP8CALIB=/tmp/corpus go test -run TestCalibrateVipsSweep -v ./internal/vp8enc
func TestCalibrateVipsSweep(t *testing.T) {
	dir := os.Getenv("VP8CALIB")
	if dir == "" {
		t.Skip("VP8CALIB not set")
	}
	if _, err := exec.LookPath("vips"); err != nil {
		t.Skip("no vips")
	}
	margin := 0.0015
	if s := os.Getenv("VP8CALIB_MARGIN"); s != "" {
		margin, _ = strconv.ParseFloat(s, 64)
	}
	step := 1
	if s := os.Getenv("VP8CALIB_STEP"); s != "" {
		step, _ = strconv.Atoi(s)
	}
	tuneFromEnv(t)
	files := []string{"path.jpg", "volna.jpg", "kleiber.jpg", "colorfulcups.jpg", "eveningglow.jpg"}
	type pt struct {
		bytes int
		ssim  float64
	}
	var ours [][128]pt
	var lib [][21]pt
	for _, f := range files {
		img := load800(t, filepath.Join(dir, f))
		ref, _ := FromImage(context.Background(), img)
		var o [128]pt
		for qi := 0; qi < 128; qi++ {
			if qi%step != 0 && qi != 127 {
				o[qi] = pt{-1, 0}
				continue
			}
			var buf bytes.Buffer
			Encode(context.Background(), &buf, ref, &Options{QIndex: max(qi, 1)})
			o[qi] = pt{buf.Len(), lumaSSIM(t, buf.Bytes(), ref)}
		}
		ours = append(ours, o)
		tmp := t.TempDir()
		pngPath := filepath.Join(tmp, "in.png")
		var pb bytes.Buffer
		png.Encode(&pb, img)
		os.WriteFile(pngPath, pb.Bytes(), 0o644)
		var l [21]pt
		for i := range l {
			out := filepath.Join(tmp, "o.webp")
			if b, err := exec.Command("vips", "copy", pngPath, out+"[Q="+strconv.Itoa(5*i)+"]").CombinedOutput(); err != nil {
				t.Fatalf("vips: %v %s", err, b)
			}
			lb, _ := os.ReadFile(out)
			l[i] = pt{len(lb), lumaSSIM(t, lb, ref)}
		}
		lib = append(lib, l)
	}
	var row [21]int
	var sum, ownSum float64
	var n int
	for i := range row {
		best := make([]int, len(files))
		row[i] = 127
		for k := range files {
			for qi := 0; qi < 128; qi++ {
				if ours[k][qi].bytes >= 0 && ours[k][qi].ssim >= lib[k][i].ssim-margin {
					best[k] = qi
				}
			}
			row[i] = min(row[i], best[k])
		}
		qi := row[i]
		for ours[0][qi].bytes < 0 {
			qi--
		}
		line := fmt.Sprintf("quality %3d: qindex %v -> %3d:", 5*i, best, row[i])
		for k := range files {
			r := float64(ours[k][qi].bytes) / float64(lib[k][i].bytes)
			line += fmt.Sprintf(" %.3f(%+.4f)", r, ours[k][qi].ssim-lib[k][i].ssim)
			if 5*i >= 50 && 5*i <= 95 {
				sum += math.Log(r)
				n++
			}
		}
		line += " own:"
		for k := range files {
			r := float64(ours[k][best[k]].bytes) / float64(lib[k][i].bytes)
			line += fmt.Sprintf(" %.3f", r)
			if 5*i >= 50 && 5*i <= 95 {
				ownSum += math.Log(r)
			}
		}
		t.Log(line)
	}
	t.Logf("qualityIndex = %v", row)
	t.Logf("bytes ours/vips at qualities 50..95: geometric mean %.4f (at each photo's own index %.4f)", math.Exp(sum/float64(n)), math.Exp(ownSum/float64(n)))
}

// tuneFromEnv sets the segmentation's tuning from VP8_SNS (snsStrength),
// VP8_MASKSIGMA (maskRef's standard deviation), VP8_MINSTEP and
// VP8_MAXSTEP, restoring them when the test ends.
func tuneFromEnv(t *testing.T) {
	old := [5]float64{snsStrength, maskRef, minStep, maxStep, frameGamma}
	t.Cleanup(func() { snsStrength, maskRef, minStep, maxStep, frameGamma = old[0], old[1], old[2], old[3], old[4] })
	for _, v := range []struct {
		env string
		set func(float64)
	}{
		{"VP8_SNS", func(f float64) { snsStrength = f }},
		{"VP8_MASKSIGMA", func(f float64) {
			maskRef = 2*f*f + c2
			if f < 0 {
				maskRef = 0
			}
		}},
		{"VP8_MINSTEP", func(f float64) { minStep = f }},
		{"VP8_MAXSTEP", func(f float64) { maxStep = f }},
		{"VP8_GAMMA", func(f float64) { frameGamma = f }},
		{"VP8_ACBIAS", func(f float64) { acBias = f }},
		{"VP8_UVDELTA", func(f float64) { uvDelta = int(f) }},
	} {
		if s := os.Getenv(v.env); s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %v", v.env, err)
			}
			v.set(f)
		}
	}
	t.Logf("snsStrength %.2f maskRef %.0f steps %.2f..%.2f frameGamma %.2f", snsStrength, maskRef, minStep, maxStep, frameGamma)
}
