package icc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the synthetic profiles under testdata")

// TestSyntheticTestdata checks that the committed synthetic profiles are
// what the test writer produces (go test -run TestSyntheticTestdata -update
// rewrites them).
func TestSyntheticTestdata(t *testing.T) {
	names := make([]string, 0, len(syntheticProfiles))
	for n := range syntheticProfiles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		want := syntheticProfiles[name]()
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestSyntheticTestdata -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the test writer makes; rerun with -update", path)
		}
		if _, err := Parse(got); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// mustTransform parses a profile and builds its transform.
func mustTransform(t testing.TB, data []byte) (*Profile, *Transform) {
	t.Helper()
	p, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tr, err := p.ToSRGB()
	if err != nil {
		t.Fatalf("ToSRGB: %v", err)
	}
	return p, tr
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func near(a, b uint8, tol int) bool { d := int(a) - int(b); return d >= -tol && d <= tol }

func TestSwapRedGreen(t *testing.T) {
	p, tr := mustTransform(t, readTestdata(t, "swap-rg.icc"))
	if p.IsSRGB() {
		t.Error("swap-rg profile reports IsSRGB")
	}
	img := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	copy(img.Pix, []uint8{255, 0, 0, 77, 0, 255, 0, 200, 0, 0, 255, 0})
	tr.ApplyNRGBA(bgCtx, img)
	want := []uint8{0, 255, 0, 77, 255, 0, 0, 200, 0, 0, 255, 0}
	for i := range want {
		if !near(img.Pix[i], want[i], 1) {
			t.Fatalf("swap-rg: got %v, want %v (±1)", img.Pix, want)
		}
	}
}

func TestGammaCurves(t *testing.T) {
	_, lin := mustTransform(t, readTestdata(t, "linear-srgb.icc"))
	_, g22 := mustTransform(t, readTestdata(t, "gamma22-srgb.icc"))
	for _, v := range []uint8{0, 10, 64, 128, 200, 255} {
		x := float64(v) / 255
		got := convertColors(lin, [][3]uint8{{v, v, v}})[0]
		want := to8(srgbEncode(x))
		for c := 0; c < 3; c++ {
			if !near(got[c], want, 1) {
				t.Errorf("gamma 1.0: %d → %v, want %d", v, got, want)
			}
		}
		got = convertColors(g22, [][3]uint8{{v, v, v}})[0]
		want = to8(srgbEncode(math.Pow(x, 2.2)))
		for c := 0; c < 3; c++ {
			if !near(got[c], want, 1) {
				t.Errorf("gamma 2.2: %d → %v, want %d", v, got, want)
			}
		}
	}
	// Linear data is much brighter once encoded.
	if g := convertColors(lin, [][3]uint8{{64, 64, 64}})[0][1]; g < 130 {
		t.Errorf("gamma 1.0 mid-dark grey 64 became %d, want ≈137", g)
	}
}

func TestIsSRGB(t *testing.T) {
	table := func(n int) []byte {
		return curvTable(n, func(x float64) float64 {
			if x <= 0.04045 {
				return x / 12.92
			}
			return math.Pow((x+0.055)/1.055, 2.4)
		})
	}
	cases := []struct {
		name string
		data []byte
		want bool
	}{
		{"para sRGB", matrixTRCProfile(0x04300000, srgbColorants, [3][]byte{srgbPara(), srgbPara(), srgbPara()}), true},
		{"1024-entry table sRGB", matrixTRCProfile(0x02100000, srgbColorants, [3][]byte{table(1024), table(1024), table(1024)}), true},
		{"type 4 para sRGB", matrixTRCProfile(0x04300000, srgbColorants, [3][]byte{
			paraElem(4, 2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045, 0, 0),
			paraElem(4, 2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045, 0, 0),
			paraElem(4, 2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045, 0, 0)}), true},
		{"gamma 2.2", readTestdata(t, "gamma22-srgb.icc"), false},
		{"linear", readTestdata(t, "linear-srgb.icc"), false},
		{"swapped", readTestdata(t, "swap-rg.icc"), false},
		{"Adobe primaries, sRGB curves", matrixTRCProfile(0x04300000, adobeColorants, [3][]byte{srgbPara(), srgbPara(), srgbPara()}), false},
		{"sRGB primaries off by 0.002", matrixTRCProfile(0x04300000, [3][3]float64{
			{0.4380747, 0.2225045, 0.0139322}, srgbColorants[1], srgbColorants[2]}, [3][]byte{srgbPara(), srgbPara(), srgbPara()}), false},
		{"grey sRGB", buildProfile(profileSpec{0x04300000, "mntr", "GRAY", "XYZ "}, []testTag{{"kTRC", srgbPara()}}), true},
		{"grey gamma 1.8", buildProfile(profileSpec{0x02100000, "mntr", "GRAY", "XYZ "}, []testTag{{"kTRC", curvGamma(1.8)}}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, tr := mustTransform(t, c.data)
			if got := p.IsSRGB(); got != c.want {
				t.Fatalf("IsSRGB = %v, want %v", got, c.want)
			}
			if !c.want {
				return
			}
			// The promise: an identity within one code value.
			var in [][3]uint8
			for r := 0; r < 256; r += 5 {
				for g := 0; g < 256; g += 15 {
					for b := 0; b < 256; b += 17 {
						in = append(in, [3]uint8{uint8(r), uint8(g), uint8(b)})
					}
				}
			}
			for v := 0; v < 256; v++ {
				in = append(in, [3]uint8{uint8(v), 0, 0}, [3]uint8{0, uint8(v), 255}, [3]uint8{uint8(v), uint8(v), uint8(v)})
			}
			if p.IsGray() {
				for i := range in {
					in[i][1], in[i][2] = in[i][0], in[i][0]
				}
			}
			out := convertColors(tr, in)
			for i := range in {
				for c := 0; c < 3; c++ {
					if !near(out[i][c], in[i][c], 1) {
						t.Fatalf("%v → %v: not an identity within 1", in[i], out[i])
					}
				}
			}
		})
	}
}

// TestParametricCurves checks every 'para' function type against its
// formula (ICC.1 table 65).
func TestParametricCurves(t *testing.T) {
	cases := []struct {
		fn     uint16
		params []float64
		f      func(x float64) float64
	}{
		{0, []float64{2.2}, func(x float64) float64 { return math.Pow(x, 2.2) }},
		{1, []float64{2.0, 1.5, -0.5}, func(x float64) float64 {
			if x >= 1.0/3 {
				return math.Pow(1.5*x-0.5, 2)
			}
			return 0
		}},
		{2, []float64{1.8, 0.9, 0.05, 0.1}, func(x float64) float64 {
			if x >= -0.05/0.9 {
				return math.Pow(0.9*x+0.05, 1.8) + 0.1
			}
			return 0.1
		}},
		{3, []float64{2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045}, func(x float64) float64 {
			if x >= 0.04045 {
				return math.Pow((x+0.055)/1.055, 2.4)
			}
			return x / 12.92
		}},
		{4, []float64{2.6, 0.9, 0.02, 0.5, 0.105, 0.05, 0.01}, func(x float64) float64 {
			if x >= 0.105 {
				return math.Pow(0.9*x+0.02, 2.6) + 0.05
			}
			return 0.5*x + 0.01
		}},
	}
	for _, c := range cases {
		cv, size, err := parseCurve(paraElem(c.fn, c.params...))
		if err != nil {
			t.Fatalf("type %d: %v", c.fn, err)
		}
		if size != 12+4*len(c.params) {
			t.Errorf("type %d: size %d", c.fn, size)
		}
		for i := 0; i <= 100; i++ {
			x := float64(i) / 100
			want := math.Max(0, math.Min(1, c.f(x)))
			if got := cv.eval(x); math.Abs(got-want) > 2e-4 {
				t.Errorf("type %d at %g: got %g, want %g", c.fn, x, got, want)
			}
		}
	}
	// curv forms.
	id, _, _ := parseCurve(binaryCurv(0))
	g, _, _ := parseCurve(curvGamma(1.8))
	tab, _, _ := parseCurve(curvTable(3, func(x float64) float64 { return x * x }))
	for _, x := range []float64{0, 0.25, 0.5, 0.75, 1} {
		if id.eval(x) != x {
			t.Errorf("identity(%g) = %g", x, id.eval(x))
		}
		if got := g.eval(x); math.Abs(got-math.Pow(x, 461.0/256)) > 1e-9 { // u8Fixed8 1.8
			t.Errorf("gamma 1.8(%g) = %g", x, got)
		}
	}
	// The 3-entry table 0, 0.25, 1 interpolates linearly.
	if got := tab.eval(0.75); math.Abs(got-0.625) > 1e-4 {
		t.Errorf("table(0.75) = %g, want 0.625", got)
	}
}

func binaryCurv(n uint32) []byte {
	b := elem("curv")
	return append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func TestGrayProfiles(t *testing.T) {
	xyzGamma1 := buildProfile(profileSpec{0x02100000, "mntr", "GRAY", "XYZ "}, []testTag{{"kTRC", curvGamma(1)}})
	labLinear := buildProfile(profileSpec{0x02100000, "mntr", "GRAY", "Lab "}, []testTag{{"kTRC", binaryCurv(0)}})
	_, a := mustTransform(t, xyzGamma1)
	_, b := mustTransform(t, labLinear)
	for _, v := range []uint8{0, 20, 128, 255} {
		x := float64(v) / 255
		got := convertColors(a, [][3]uint8{{v, v, v}})[0]
		if want := to8(srgbEncode(x)); got != [3]uint8{want, want, want} {
			t.Errorf("grey gamma 1 %d → %v, want %d", v, got, want)
		}
		// L* = 100·x.
		got = convertColors(b, [][3]uint8{{v, v, v}})[0]
		want := to8(srgbEncode(labToXYZ(100*x, 0, 0)[1]))
		for c := 0; c < 3; c++ {
			if !near(got[c], want, 1) {
				t.Errorf("grey L* %d → %v, want %d", v, got, want)
			}
		}
	}
}

// adobeMatrixProfile is a matrix/TRC profile with Adobe RGB's colourants and
// gamma 2.2 curves; the LUT tests build LUT profiles equivalent to it.
func adobeMatrixProfile() []byte {
	return matrixTRCProfile(0x02100000, adobeColorants, [3][]byte{curvGamma(2.2), curvGamma(2.2), curvGamma(2.2)})
}

// adobeXYZ is the PCS XYZ of an Adobe-like RGB value (gamma 2.2).
func adobeXYZ(v [3]float64) [3]float64 {
	var xyz [3]float64
	for c := 0; c < 3; c++ {
		l := math.Pow(v[c], 2.2)
		for k := 0; k < 3; k++ {
			xyz[k] += adobeColorants[c][k] * l
		}
	}
	return xyz
}

// xyzToLab converts D50 XYZ to L*a*b*.
func xyzToLab(xyz [3]float64) [3]float64 {
	f := func(t float64) float64 {
		const d = 6.0 / 29
		if t > d*d*d {
			return math.Cbrt(t)
		}
		return t/(3*d*d) + 4.0/29
	}
	fx, fy, fz := f(xyz[0]/d50[0]), f(xyz[1]/d50[1]), f(xyz[2]/d50[2])
	return [3]float64{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

// lutProfiles returns LUT-based profiles equivalent to adobeMatrixProfile.
func lutProfiles() map[string][]byte {
	ident := func(c int, x float64) float64 { return x }
	gamma := func(c int, x float64) float64 { return math.Pow(x, 2.2) }
	const xyzScale = 32768.0 / 65535 // PCS XYZ encoding: 1.0 is 0x8000
	// lut16, Lab PCS (legacy encoding); the input tables map to u =
	// linear^(1/3), roughly perceptual, and the CLUT maps u to L*a*b*.
	cbrtIn := func(c int, x float64) float64 { return math.Pow(x, 2.2/3) }
	labV2 := func(v [3]float64) [3]float64 {
		var xyz [3]float64
		for c := 0; c < 3; c++ {
			for k := 0; k < 3; k++ {
				xyz[k] += adobeColorants[c][k] * v[c] * v[c] * v[c]
			}
		}
		lab := xyzToLab(xyz)
		const k = 65280.0 / 65535
		return [3]float64{lab[0] / 100 * k, (lab[1] + 128) / 255 * k, (lab[2] + 128) / 255 * k}
	}
	// With gamma in the input tables the CLUT is nearly linear in XYZ but
	// L* is not; sample in gamma space instead: identity input tables, the
	// CLUT does everything.
	labDirect := func(v [3]float64) [3]float64 {
		lab := xyzToLab(adobeXYZ(v))
		const k = 65280.0 / 65535
		return [3]float64{lab[0] / 100 * k, (lab[1] + 128) / 255 * k, (lab[2] + 128) / 255 * k}
	}
	xyzLinear := func(v [3]float64) [3]float64 {
		var xyz [3]float64
		for c := 0; c < 3; c++ {
			for k := 0; k < 3; k++ {
				xyz[k] += adobeColorants[c][k] * v[c] * xyzScale
			}
		}
		return xyz
	}
	var mat []float64
	for k := 0; k < 3; k++ {
		for c := 0; c < 3; c++ {
			mat = append(mat, adobeColorants[c][k]*xyzScale)
		}
	}
	mat = append(mat, 0, 0, 0)
	g22 := func() [][]byte { return [][]byte{curvGamma(2.2), curvGamma(2.2), curvGamma(2.2)} }
	idc := func() [][]byte { return [][]byte{binaryCurv(0), binaryCurv(0), binaryCurv(0)} }
	para1 := func() [][]byte {
		p := paraElem(0, 1)
		return [][]byte{p, p, p}
	}
	v2 := func(pcs string, a2b []byte) []byte {
		return buildProfile(profileSpec{0x02100000, "scnr", "RGB ", pcs}, []testTag{
			{"desc", descElem("imageopto LUT test profile")},
			{"cprt", textElem("No copyright, use freely")},
			{"wtpt", xyzElem(0.9642, 1, 0.8249)},
			{"A2B0", a2b},
		})
	}
	v4 := func(pcs string, a2b []byte) []byte {
		return buildProfile(profileSpec{0x04300000, "scnr", "RGB ", pcs}, []testTag{
			{"wtpt", xyzElem(0.9642, 1, 0.8249)},
			{"A2B0", a2b},
		})
	}
	return map[string][]byte{
		"mft2 Lab, CLUT in cube root": v2("Lab ", mft2Elem(33, 4096, cbrtIn, labV2, ident)),
		"mft2 Lab, CLUT direct":       v2("Lab ", mft2Elem(33, 256, ident, labDirect, ident)),
		"mft2 XYZ":                    v2("XYZ ", mft2Elem(9, 1024, gamma, xyzLinear, ident)),
		"mAB XYZ A-CLUT-B":            v4("XYZ ", mABElem(mABSpec{a: g22(), grid: 5, prec: 2, clut: xyzLinear, bCurves: idc()})),
		"mAB XYZ M-matrix-B":          v4("XYZ ", mABElem(mABSpec{m: g22(), matrix: mat, bCurves: para1()})),
		"mAB XYZ A-CLUT(8)-M-matrix-B": v4("XYZ ", mABElem(mABSpec{a: idc(), grid: 17, prec: 1,
			clut: func(v [3]float64) [3]float64 { return v }, m: g22(), matrix: mat, bCurves: idc()})),
		"mAB Lab A-CLUT-B": v4("Lab ", mABElem(mABSpec{a: idc(), grid: 33, prec: 2, bCurves: idc(),
			clut: func(v [3]float64) [3]float64 {
				lab := xyzToLab(adobeXYZ(v))
				return [3]float64{lab[0] / 100, (lab[1] + 128) / 255, (lab[2] + 128) / 255}
			}})),
	}
}

// TestLUTProfiles checks LUT-based profiles against the equivalent
// matrix/TRC profile.
func TestLUTProfiles(t *testing.T) {
	_, ref := mustTransform(t, adobeMatrixProfile())
	colors := grid9()
	want := convertColors(ref, colors)
	for name, data := range lutProfiles() {
		t.Run(name, func(t *testing.T) {
			p, tr := mustTransform(t, data)
			if p.model != modelLUT {
				t.Fatalf("model %v, want LUT", p.model)
			}
			if p.IsSRGB() {
				t.Error("LUT profile reports IsSRGB")
			}
			got := convertColors(tr, colors)
			var s deStats
			for i := range colors {
				s.add(i, deltaE76(srgb8ToLab(got[i]), srgb8ToLab(want[i])), nil)
			}
			t.Logf("vs matrix/TRC: %s", &s)
			if s.mean() > 0.5 || s.max > 3 {
				t.Errorf("LUT conversion differs from the matrix/TRC one: %s", &s)
			}
		})
	}
}

// TestLUTPreferred: with both a LUT and a matrix/TRC model, the LUT wins,
// and A2B1 wins over A2B0.
func TestLUTPreferred(t *testing.T) {
	swapped := srgbColorants
	swapped[0], swapped[1] = swapped[1], swapped[0]
	white := func(v [3]float64) [3]float64 {
		return [3]float64{0.9642 * 32768 / 65535, 32768.0 / 65535, 0.8249 * 32768 / 65535}
	}
	black := func(v [3]float64) [3]float64 { return [3]float64{} }
	id := func(c int, x float64) float64 { return x }
	tags := []testTag{
		{"rXYZ", xyzElem(swapped[0][0], swapped[0][1], swapped[0][2])},
		{"gXYZ", xyzElem(swapped[1][0], swapped[1][1], swapped[1][2])},
		{"bXYZ", xyzElem(swapped[2][0], swapped[2][1], swapped[2][2])},
		{"rTRC", curvGamma(1)}, {"gTRC", curvGamma(1)}, {"bTRC", curvGamma(1)},
		{"A2B0", mft2Elem(2, 2, id, black, id)},
	}
	spec := profileSpec{0x02100000, "mntr", "RGB ", "XYZ "}
	_, tr := mustTransform(t, buildProfile(spec, tags))
	if got := convertColors(tr, [][3]uint8{{255, 0, 0}})[0]; got != [3]uint8{0, 0, 0} {
		t.Errorf("A2B0 (all black) not used: %v", got)
	}
	_, tr = mustTransform(t, buildProfile(spec, append(tags, testTag{"A2B1", mft2Elem(2, 2, id, white, id)})))
	if got := convertColors(tr, [][3]uint8{{255, 0, 0}})[0]; got != [3]uint8{255, 255, 255} {
		t.Errorf("A2B1 (all white) not used: %v", got)
	}
	// An unsupported LUT falls back to the matrix/TRC model.
	bad := append([]testTag(nil), tags[:6]...)
	bad = append(bad, testTag{"A2B0", append(elem("mBA "), make([]byte, 40)...)})
	_, tr = mustTransform(t, buildProfile(spec, bad))
	if got := convertColors(tr, [][3]uint8{{255, 0, 0}})[0]; !near(got[1], 255, 1) || got[0] > 1 {
		t.Errorf("matrix/TRC fallback not used: %v", got)
	}
}

func TestUnsupported(t *testing.T) {
	trc := []testTag{{"kTRC", curvGamma(2.2)}}
	for _, s := range []profileSpec{
		{0x02100000, "prtr", "CMYK", "Lab "},
		{0x02100000, "link", "RGB ", "RGB "},
		{0x02100000, "abst", "Lab ", "Lab "},
		{0x02100000, "nmcl", "RGB ", "Lab "},
		{0x02100000, "mntr", "RGB ", "RGB "},
		{0x05000000, "mntr", "GRAY", "XYZ "},
	} {
		_, err := Parse(buildProfile(s, trc))
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%+v: err = %v, want ErrUnsupported", s, err)
		}
	}
}

func TestAlphaAndSubimage(t *testing.T) {
	_, tr := mustTransform(t, readTestdata(t, "swap-rg.icc"))
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	orig := append([]uint8(nil), img.Pix...)
	sub := img.SubImage(image.Rect(1, 1, 3, 3)).(*image.NRGBA)
	tr.ApplyNRGBA(bgCtx, sub)
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			i := y*img.Stride + 4*x
			inside := x >= 1 && x < 3 && y >= 1 && y < 3
			if img.Pix[i+3] != orig[i+3] {
				t.Fatalf("alpha changed at %d,%d", x, y)
			}
			changed := !bytes.Equal(img.Pix[i:i+3], orig[i:i+3])
			if !inside && changed {
				t.Fatalf("pixel %d,%d outside the subimage changed", x, y)
			}
		}
	}
	// Nil and empty images are fine.
	tr.ApplyNRGBA(bgCtx, nil)
	tr.ApplyNRGBA(bgCtx, image.NewNRGBA(image.Rectangle{}))
	var nilT *Transform
	nilT.ApplyNRGBA(bgCtx, img)
}

// TestTransformConcurrent exercises a shared Transform from several
// goroutines (meaningful under -race).
func TestTransformConcurrent(t *testing.T) {
	_, tr := mustTransform(t, adobeMatrixProfile())
	_, lt := mustTransform(t, lutProfiles()["mAB XYZ A-CLUT-B"])
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
			for i := range img.Pix {
				img.Pix[i] = uint8(i)
			}
			tr.ApplyNRGBA(bgCtx, img)
			lt.ApplyNRGBA(bgCtx, img)
			done <- true
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// grayLUTProfile is a grey profile whose A2B0 is a lut16 mapping grey v to
// L* = 100·v, a* = b* = 0 (legacy Lab encoding) through a 17-point CLUT.
func grayLUTProfile() []byte {
	const n, g = 256, 17
	b := elem("mft2")
	b = append(b, 1, 3, g, 0)
	for i := 0; i < 9; i++ {
		if i%4 == 0 {
			b = append(b, s15(1)...)
		} else {
			b = append(b, s15(0)...)
		}
	}
	b = binary.BigEndian.AppendUint16(b, n)
	b = binary.BigEndian.AppendUint16(b, n)
	for i := 0; i < n; i++ {
		b = binary.BigEndian.AppendUint16(b, u16(float64(i)/(n-1)))
	}
	for i := 0; i < g; i++ {
		const k = 65280.0 / 65535
		b = binary.BigEndian.AppendUint16(b, u16(float64(i)/(g-1)*k))
		b = binary.BigEndian.AppendUint16(b, u16(128.0/255*k))
		b = binary.BigEndian.AppendUint16(b, u16(128.0/255*k))
	}
	for c := 0; c < 3; c++ {
		for i := 0; i < n; i++ {
			b = binary.BigEndian.AppendUint16(b, u16(float64(i)/(n-1)))
		}
	}
	return buildProfile(profileSpec{0x02100000, "mntr", "GRAY", "Lab "}, []testTag{{"A2B0", b}})
}

func TestGrayLUT(t *testing.T) {
	p, lt := mustTransform(t, grayLUTProfile())
	if p.model != modelLUT || !p.IsGray() {
		t.Fatalf("%s: want a grey LUT profile", p)
	}
	_, ref := mustTransform(t, buildProfile(profileSpec{0x02100000, "mntr", "GRAY", "Lab "}, []testTag{{"kTRC", binaryCurv(0)}}))
	for v := 0; v < 256; v++ {
		in := [][3]uint8{{uint8(v), uint8(v), uint8(v)}}
		got, want := convertColors(lt, in)[0], convertColors(ref, in)[0]
		for c := 0; c < 3; c++ {
			if !near(got[c], want[c], 1) {
				t.Fatalf("grey %d: LUT gives %v, kTRC gives %v", v, got, want)
			}
		}
	}
}

// TestMalformedImage: an NRGBA whose Pix is too short is left alone rather
// than causing a panic.
func TestMalformedImage(t *testing.T) {
	_, tr := mustTransform(t, readTestdata(t, "swap-rg.icc"))
	img := &image.NRGBA{Pix: make([]uint8, 10), Stride: 40, Rect: image.Rect(0, 0, 10, 10)}
	tr.ApplyNRGBA(bgCtx, img)
	img = &image.NRGBA{Pix: make([]uint8, 400), Stride: 4, Rect: image.Rect(0, 0, 10, 10)}
	tr.ApplyNRGBA(bgCtx, img)
}
