package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary serve as the measurement child: the
// command re-executes its own binary (here the test binary) with -child.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		os.Exit(childMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// gradient is a smooth test picture with some detail.
func gradient(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 0x3f), 255})
		}
	}
	return m
}

// TestRunW1 runs W1 once on a small generated JPEG, without the reference
// tools, and checks the report.
func TestRunW1(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, gradient(640, 360), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "small.jpg"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run([]string{"-corpus", dir, "-runs", "1", "-workloads", "W1", "-images", "small.jpg", "-no-ref"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"| W1 thumbnail | small.jpg |",
		"300×169",     // our output, and the naive one
		"— (-no-ref)", // no reference tools
		"`resize(300x169 lanczos3) → jpeg q85 300x169`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SSIM n/a") {
		t.Errorf("an SSIM is missing:\n%s", out)
	}
}

func TestSSIM(t *testing.T) {
	a := luma(gradient(64, 48))
	if s := ssim(a, a); math.Abs(s-1) > 1e-9 {
		t.Errorf("ssim(a, a) = %v, want 1", s)
	}
	b := plane{w: a.w, h: a.h, p: make([]float64, len(a.p))}
	for i, v := range a.p {
		b.p[i] = v + float64(i%7*9) // noise
	}
	if s := ssim(a, b); s > 0.9 || s < 0 {
		t.Errorf("ssim(a, noisy a) = %v, want in [0, 0.9]", s)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{},                                   // no corpus
		{"-corpus", "/nonexistent/folder"},   // not a folder
		{"-corpus", ".", "-runs", "0"},       // no runs
		{"-corpus", ".", "-workloads", "W9"}, // unknown workload
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

// TestVP8Range: a WebP's Y'CbCr is limited range (16 is black, 235 white);
// another format's is left to its own colour model.
func TestVP8Range(t *testing.T) {
	m := image.NewYCbCr(image.Rect(0, 0, 2, 1), image.YCbCrSubsampleRatio444)
	m.Y[0], m.Y[1] = 16, 235
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = 128, 128
	}
	webp := []byte("RIFF\x00\x00\x00\x00WEBP")
	got := vp8Range(webp, m)
	for x, want := range []uint8{0, 255} {
		if c := color.NRGBAModel.Convert(got.At(x, 0)).(color.NRGBA); c != (color.NRGBA{want, want, want, 255}) {
			t.Errorf("WebP pixel %d: %v, want grey %d", x, c, want)
		}
	}
	if other := vp8Range([]byte("\xff\xd8\xff\xe0 JFIF data"), m); other != image.Image(m) {
		t.Errorf("a JPEG's Y'CbCr was converted")
	}
}
