package icc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Differential tests against Little CMS (transicc, from Debian's
// liblcms2-utils) or, without it, ImageMagick (which uses Little CMS too).
// They skip when neither tool or no profile is installed.

// Tolerances of the reference comparisons (ΔE76 on 8-bit sRGB output).
const (
	refMeanDE = 2.0
	refMaxDE  = 6.0
)

// profileDirs are searched for system profiles: Debian's colord-data,
// icc-profiles-free and libgs-common (ghostscript).
var profileDirs = []string{colordDir, "/usr/share/color/icc", "/usr/share/color/icc/ghostscript"}

// systemProfiles lists the *.icc and *.icm files in profileDirs.
func systemProfiles() []string {
	var out []string
	for _, d := range profileDirs {
		for _, pat := range []string{"*.icc", "*.icm", "*.ICC", "*.ICM"} {
			m, _ := filepath.Glob(filepath.Join(d, pat))
			out = append(out, m...)
		}
	}
	sort.Strings(out)
	return out
}

// referenceRGB converts colours from the RGB profile at path to sRGB with
// the available reference tool; ok is false when there is none.
func referenceRGB(t *testing.T, path string, in [][3]uint8) (out [][3]float64, tool string, ok bool) {
	t.Helper()
	if haveTransicc() {
		out, err := transiccRGB(path, in)
		if err != nil {
			t.Fatal(err)
		}
		return out, "transicc", true
	}
	if haveImageMagick() {
		if out, ok := magickRGB(t, path, in); ok {
			return out, "ImageMagick", true
		}
	}
	return nil, "", false
}

// magickRGB converts colours from the RGB profile at path to colord's sRGB
// profile with ImageMagick (8-bit PNG in and out); ok is false without
// colord-data.
func magickRGB(t *testing.T, path string, in [][3]uint8) ([][3]float64, bool) {
	srgb := filepath.Join(colordDir, "sRGB.icc")
	if _, err := os.Stat(srgb); err != nil {
		return nil, false
	}
	img := image.NewNRGBA(image.Rect(0, 0, len(in), 1))
	for i, c := range in {
		copy(img.Pix[4*i:], []uint8{c[0], c[1], c[2], 255})
	}
	res := magickConvert(t, img, path, srgb)
	out := make([][3]float64, len(in))
	for i := range out {
		for c := 0; c < 3; c++ {
			out[i][c] = float64(res.Pix[4*i+c])
		}
	}
	return out, true
}

// TestImageMagickReference compares the wide-gamut colord profiles with
// ImageMagick too (its 8-bit output truncates rather than rounds, hence a
// systematic difference of about half a code value).
func TestImageMagickReference(t *testing.T) {
	if !haveImageMagick() {
		t.Skip("ImageMagick not installed (apt-get install imagemagick)")
	}
	in := grid9()
	for _, name := range []string{"AdobeRGB1998.icc", "ProPhotoRGB.icc", "WideGamutRGB.icc", "BestRGB.icc", "SwappedRedAndGreen.icc"} {
		path := colordProfile(t, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, tr := mustTransform(t, data)
		ref, ok := magickRGB(t, path, in)
		if !ok {
			t.Skip("no colord sRGB.icc")
		}
		got := convertColors(tr, in)
		s := &deStats{}
		for i := range in {
			s.add(i, deltaE76(srgb8ToLab(got[i]), srgbFloatToLab(ref[i])), func() string {
				return fmt.Sprintf("%v → ours %v, ImageMagick %v", in[i], got[i], ref[i])
			})
		}
		t.Logf("%-24s vs ImageMagick: %s", name, s)
		if s.mean() >= refMeanDE || s.max >= refMaxDE {
			t.Errorf("%s: %s", name, s)
		}
	}
}

// transiccGray converts grey levels with transicc (one input channel).
func transiccGray(src string, levels []uint8) ([][3]float64, error) {
	var stdin bytes.Buffer
	for _, v := range levels {
		fmt.Fprintf(&stdin, "%d\n", v)
	}
	cmd := exec.Command("transicc", "-t1", "-s", "-n", "-i"+src, "-o*sRGB")
	cmd.Stdin = &stdin
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("transicc: %v", err)
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
			c[i], _ = strconv.ParseFloat(f[i], 64)
		}
		out = append(out, c)
	}
	if len(out) != len(levels) {
		return nil, fmt.Errorf("transicc gave %d colours for %d", len(out), len(levels))
	}
	return out, nil
}

// compareWithReference converts the test colours of the profile at path
// with ours and the reference, and returns the statistics.
func compareWithReference(t *testing.T, path string, p *Profile) (*deStats, string, bool) {
	t.Helper()
	tr, err := p.ToSRGB()
	if err != nil {
		t.Fatal(err)
	}
	var in [][3]uint8
	var ref [][3]float64
	var tool string
	if p.IsGray() {
		if !haveTransicc() {
			return nil, "", false
		}
		levels := make([]uint8, 256)
		for i := range levels {
			levels[i] = uint8(i)
			in = append(in, [3]uint8{uint8(i), uint8(i), uint8(i)})
		}
		if ref, err = transiccGray(path, levels); err != nil {
			t.Fatal(err)
		}
		tool = "transicc"
	} else {
		in = grid9()
		var ok bool
		if ref, tool, ok = referenceRGB(t, path, in); !ok {
			return nil, "", false
		}
	}
	got := convertColors(tr, in)
	s := &deStats{}
	for i := range in {
		for c := 0; c < 3; c++ {
			if d := math.Abs(ref[i][c] - float64(in[i][c])); d > s.identityDev {
				s.identityDev, s.identityWorst = d, fmt.Sprint(in[i])
			}
		}
		s.add(i, deltaE76(srgb8ToLab(got[i]), srgbFloatToLab(ref[i])), func() string {
			return fmt.Sprintf("%v → ours %v, %s %.1f", in[i], got[i], tool, ref[i])
		})
	}
	return s, tool, true
}

// TestSystemProfiles parses every profile Debian's colord-data,
// icc-profiles-free and libgs-common install and compares the conversion of
// a 9×9×9 RGB grid (or the 256 grey levels) with Little CMS.
func TestSystemProfiles(t *testing.T) {
	paths := systemProfiles()
	if len(paths) == 0 {
		t.Skip("no system ICC profiles (apt-get install colord-data)")
	}
	var table strings.Builder
	for _, path := range paths {
		name := strings.TrimPrefix(path, "/usr/share/color/icc/")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: %v", name, err)
			}
			fmt.Fprintf(&table, "%-40s %v\n", name, err)
			continue
		}
		if path == filepath.Join(colordDir, "sRGB.icc") && !p.IsSRGB() {
			t.Errorf("%s: IsSRGB = false", name)
		}
		s, tool, ok := compareWithReference(t, path, p)
		if ok && p.IsSRGB() && s.identityDev >= 1.5 {
			t.Errorf("%s: IsSRGB but the reference moves %s by %.2f code values", name, s.identityWorst, s.identityDev)
		}
		if !ok {
			fmt.Fprintf(&table, "%-40s %s IsSRGB=%v (no reference tool)\n", name, p, p.IsSRGB())
			continue
		}
		fmt.Fprintf(&table, "%-40s %s IsSRGB=%v vs %s: mean ΔE %.3f max %.3f\n", name, p, p.IsSRGB(), tool, s.mean(), s.max)
		if s.mean() >= refMeanDE || s.max >= refMaxDE {
			t.Errorf("%s: %s", name, s)
		}
	}
	t.Logf("profiles:\n%s", table.String())

	// colord-data's named-colour profiles are refused, its RGB ones parse.
	if _, err := os.Stat(colordDir); err == nil {
		for _, n := range []string{"Crayons.icc", "x11-colors.icc"} {
			data, err := os.ReadFile(filepath.Join(colordDir, n))
			if err != nil {
				continue
			}
			if _, err := Parse(data); !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: err = %v, want ErrUnsupported", n, err)
			}
		}
	}
}

// TestLUTProfilesReference compares the synthetic LUT-based profiles with
// Little CMS, which checks this package's reading of the lut16 and lutAtoB
// encodings independently of the test writer.
func TestLUTProfilesReference(t *testing.T) {
	if !haveTransicc() {
		t.Skip("transicc not installed (apt-get install liblcms2-utils)")
	}
	dir := t.TempDir()
	names := []string{}
	profiles := lutProfiles()
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, name := range names {
		path := filepath.Join(dir, fmt.Sprintf("lut%d.icc", i))
		if err := os.WriteFile(path, profiles[name], 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Parse(profiles[name])
		if err != nil {
			t.Fatal(err)
		}
		s, tool, _ := compareWithReference(t, path, p)
		t.Logf("%-32s vs %s: %s", name, tool, s)
		if s.mean() >= 1 || s.max >= 3 {
			t.Errorf("%s: %s", name, s)
		}
	}
}

// TestGrayLUTReference compares the grey LUT profile with Little CMS.
func TestGrayLUTReference(t *testing.T) {
	if !haveTransicc() {
		t.Skip("transicc not installed (apt-get install liblcms2-utils)")
	}
	path := filepath.Join(t.TempDir(), "graylut.icc")
	if err := os.WriteFile(path, grayLUTProfile(), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Parse(grayLUTProfile())
	if err != nil {
		t.Fatal(err)
	}
	s, tool, _ := compareWithReference(t, path, p)
	t.Logf("grey lut16 vs %s: %s", tool, s)
	if s.mean() >= 1 || s.max >= 3 {
		t.Error(s)
	}
}
