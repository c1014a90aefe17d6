package vp8enc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/image/webp"

	"github.com/imageopto/imageopto/internal/vp8dec"
)

// testPlanes makes w x h planes with smooth gradients, edges and noise
// (of amplitude noise), so that every prediction mode has something to
// win on.
func testPlanes(w, h, noise int, seed uint64) *Planes {
	rng := rand.New(rand.NewPCG(seed, 7))
	cw, ch := (w+1)/2, (h+1)/2
	p := &Planes{W: w, H: h, YStride: w, CStride: cw,
		Y: make([]uint8, w*h), Cb: make([]uint8, cw*ch), Cr: make([]uint8, cw*ch)}
	n := func() int {
		if noise == 0 {
			return 0
		}
		return rng.IntN(2*noise+1) - noise
	}
	for y := range h {
		for x := range w {
			v := 40 + (x*3+y*2)%160 + n()
			if (x/7+y/11)%3 == 0 {
				v = 200 - (x+y)%50 + n()
			}
			p.Y[y*w+x] = uint8(max(16, min(235, v)))
		}
	}
	for y := range ch {
		for x := range cw {
			p.Cb[y*cw+x] = uint8(max(16, min(240, 128+(x-y)%60-30+n()/2)))
			p.Cr[y*cw+x] = uint8(max(16, min(240, 100+(x*y)%70+n()/2)))
		}
	}
	return p
}

// decodeGo decodes a WebP file with golang.org/x/image/webp.
func decodeGo(t testing.TB, data []byte) *image.YCbCr {
	t.Helper()
	m, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("x/image/webp: %v", err)
	}
	y, ok := m.(*image.YCbCr)
	if !ok {
		t.Fatalf("x/image/webp decoded a %T", m)
	}
	return y
}

// samePlanes reports the first difference between decoded planes and want.
func samePlanes(m *image.YCbCr, want *Planes) error {
	if m.Rect.Dx() != want.W || m.Rect.Dy() != want.H {
		return fmt.Errorf("size %v, want %dx%d", m.Rect, want.W, want.H)
	}
	for y := range want.H {
		for x := range want.W {
			if g, w := m.Y[y*m.YStride+x], want.Y[y*want.YStride+x]; g != w {
				return fmt.Errorf("Y(%d,%d) = %d, want %d", x, y, g, w)
			}
		}
	}
	for y := range (want.H + 1) / 2 {
		for x := range (want.W + 1) / 2 {
			if g, w := m.Cb[y*m.CStride+x], want.Cb[y*want.CStride+x]; g != w {
				return fmt.Errorf("Cb(%d,%d) = %d, want %d", x, y, g, w)
			}
			if g, w := m.Cr[y*m.CStride+x], want.Cr[y*want.CStride+x]; g != w {
				return fmt.Errorf("Cr(%d,%d) = %d, want %d", x, y, g, w)
			}
		}
	}
	return nil
}

func encodeFile(t testing.TB, p *Planes, o *Options) ([]byte, *Planes) {
	t.Helper()
	frame, rec, err := EncodeFrame(context.Background(), p, o, true)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeContainer(&buf, frame); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), rec
}

var sizes = [][2]int{{1, 1}, {2, 2}, {3, 5}, {15, 17}, {16, 16}, {17, 15}, {31, 33}, {33, 47}, {64, 48}, {97, 83}, {255, 129}}

// TestDecodesToReconstruction: with the loop filter off, what decoders
// decode is exactly the encoder's own reconstruction.
func TestDecodesToReconstruction(t *testing.T) {
	for _, sz := range sizes {
		for _, q := range []int{1, 10, 40, 80, 127} {
			for _, noise := range []int{0, 30} {
				t.Run(fmt.Sprintf("%dx%d/q%d/n%d", sz[0], sz[1], q, noise), func(t *testing.T) {
					p := testPlanes(sz[0], sz[1], noise, uint64(q))
					data, rec := encodeFile(t, p, &Options{QIndex: q, FilterLevel: -1})
					if err := samePlanes(decodeGo(t, data), rec); err != nil {
						t.Fatalf("x/image/webp: %v", err)
					}
					if err := sameDwebp(t, data, rec); err != nil {
						t.Fatalf("dwebp: %v", err)
					}
					// And the module's own decoder, serial and concurrent.
					frame, _, _ := EncodeFrame(context.Background(), p, &Options{QIndex: q, FilterLevel: -1}, false)
					for _, conc := range []bool{false, true} {
						m, err := vp8dec.Decode(context.Background(), frame, vp8dec.Options{Concurrent: conc})
						if err != nil {
							t.Fatalf("vp8dec: %v", err)
						}
						if err := samePlanes(m, rec); err != nil {
							t.Fatalf("vp8dec (concurrent %v): %v", conc, err)
						}
					}
				})
			}
		}
	}
}

// sameDwebp decodes data with libwebp's dwebp (Debian package webp) to
// raw planes and compares them with want; it skips without dwebp.
func sameDwebp(t *testing.T, data []byte, want *Planes) error {
	t.Helper()
	bin, err := exec.LookPath("dwebp")
	if err != nil {
		t.Skip("no dwebp")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.webp"), filepath.Join(dir, "out.yuv")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bin, "-yuv", in, "-o", out).CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cw, ch := (want.W+1)/2, (want.H+1)/2
	if len(raw) != want.W*want.H+2*cw*ch {
		return fmt.Errorf("dwebp wrote %d bytes", len(raw))
	}
	m := &image.YCbCr{Y: raw[:want.W*want.H], Cb: raw[want.W*want.H : want.W*want.H+cw*ch], Cr: raw[want.W*want.H+cw*ch:],
		YStride: want.W, CStride: cw, Rect: image.Rect(0, 0, want.W, want.H), SubsampleRatio: image.YCbCrSubsampleRatio420}
	return samePlanes(m, want)
}

// TestForcedBModes codes every macroblock with one 4x4 mode, so that each
// predictor is checked against the decoders in every position.
func TestForcedBModes(t *testing.T) {
	defer func() { forceBMode = -1 }()
	for m := range numBModes {
		forceBMode = m
		for _, sz := range [][2]int{{33, 33}, {47, 18}} {
			p := testPlanes(sz[0], sz[1], 10, 1)
			data, rec := encodeFile(t, p, &Options{QIndex: 20, FilterLevel: -1})
			if err := samePlanes(decodeGo(t, data), rec); err != nil {
				t.Errorf("mode %d %v: x/image/webp: %v", m, sz, err)
			}
			if err := sameDwebp(t, data, rec); err != nil {
				t.Errorf("mode %d %v: dwebp: %v", m, sz, err)
			}
		}
	}
}

// TestAlpha: an image with transparency gets an ALPH chunk that both
// decoders read back exactly; an opaque one stays a simple file.
func TestAlpha(t *testing.T) {
	for _, tc := range []struct {
		sz    [2]int
		alpha func(x, y int) uint8
	}{
		{[2]int{1, 1}, func(x, y int) uint8 { return 7 }},
		{[2]int{17, 9}, func(x, y int) uint8 { return uint8(x * y * 37 % 251) }},
		{[2]int{64, 40}, func(x, y int) uint8 { return uint8((x*x + y*3) % 256) }},
		{[2]int{100, 70}, func(x, y int) uint8 { // a disc: runs
			if (x-50)*(x-50)+(y-35)*(y-35) < 900 {
				return 255
			}
			return 0
		}},
		{[2]int{300, 5}, func(x, y int) uint8 { return uint8(x / 2) }},               // a ramp
		{[2]int{200, 50}, func(x, y int) uint8 { return uint8((x%37)*7 ^ (y % 5)) }}, // a tile: far matches
	} {
		sz := tc.sz
		img := image.NewNRGBA(image.Rect(0, 0, sz[0], sz[1]))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 37 % 251)
		}
		for y := range sz[1] {
			for x := range sz[0] {
				img.Pix[y*img.Stride+4*x+3] = tc.alpha(x, y)
			}
		}
		var buf bytes.Buffer
		if err := EncodeNRGBA(context.Background(), &buf, img, &Options{Quality: 80}); err != nil {
			t.Fatal(err)
		}
		m, err := webp.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%v: %v", sz, err)
		}
		// ALPH follows RIFF, WEBP and VP8X: its payload's first byte.
		if string(buf.Bytes()[30:34]) != "ALPH" {
			t.Fatalf("%v: no ALPH chunk", sz)
		}
		n := binary.LittleEndian.Uint32(buf.Bytes()[34:])
		t.Logf("%v: ALPH %d bytes for %d values, header %#x", sz, n, sz[0]*sz[1], buf.Bytes()[38])
		if sz[0]*sz[1] >= 1000 && (buf.Bytes()[38]&3 != 1 || int(n) > sz[0]*sz[1]/4) {
			t.Errorf("%v: alpha not compressed: %d bytes, header %#x", sz, n, buf.Bytes()[38])
		}
		na, ok := m.(*image.NYCbCrA)
		if !ok {
			t.Fatalf("%v: decoded %T", sz, m)
		}
		for y := range sz[1] {
			for x := range sz[0] {
				if g, w := na.A[y*na.AStride+x], img.Pix[y*img.Stride+4*x+3]; g != w {
					t.Fatalf("%v: alpha(%d,%d) = %d, want %d", sz, x, y, g, w)
				}
			}
		}
		if bin, err := exec.LookPath("dwebp"); err == nil {
			dir := t.TempDir()
			in := filepath.Join(dir, "a.webp")
			os.WriteFile(in, buf.Bytes(), 0o644)
			if b, err := exec.Command(bin, in, "-pam", "-o", filepath.Join(dir, "a.pam")).CombinedOutput(); err != nil {
				t.Fatalf("dwebp: %v %s", err, b)
			}
			pam, _ := os.ReadFile(filepath.Join(dir, "a.pam"))
			_, px, ok := bytes.Cut(pam, []byte("ENDHDR\n"))
			if !ok || len(px) != 4*sz[0]*sz[1] {
				t.Fatalf("%v: dwebp wrote %d bytes of PAM", sz, len(pam))
			}
			for i := range sz[0] * sz[1] {
				if g, w := px[4*i+3], img.Pix[(i/sz[0])*img.Stride+4*(i%sz[0])+3]; g != w {
					t.Fatalf("%v: dwebp alpha %d = %d, want %d", sz, i, g, w)
				}
			}
		}
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i] = 255
		}
		buf.Reset()
		EncodeNRGBA(context.Background(), &buf, img, &Options{Quality: 80})
		if string(buf.Bytes()[12:16]) != "VP8 " {
			t.Errorf("%v: opaque image written as %q", sz, buf.Bytes()[12:16])
		}
	}
}

// TestCancel: a done context stops the encoder with its error.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := testPlanes(64, 64, 10, 1)
	if err := Encode(ctx, io.Discard, p, &Options{Quality: 80}); err != context.Canceled {
		t.Errorf("Encode: %v, want context.Canceled", err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	if err := EncodeNRGBA(ctx, io.Discard, img, &Options{Quality: 80}); err != context.Canceled {
		t.Errorf("EncodeNRGBA: %v, want context.Canceled", err)
	}
	if err := Encode(context.Background(), io.Discard, &Planes{W: 0, H: 5}, nil); !errors.Is(err, ErrSize) {
		t.Errorf("empty image: %v, want ErrSize", err)
	}
}

// TestQualityRoundTrip: each quality reaches the frame header as
// QIndexForQuality says, and SSIM against the source stays above a floor
// at the default quality.
func TestQualityRoundTrip(t *testing.T) {
	p := testPlanes(96, 80, 4, 3)
	for _, q := range []int{0, 1, 50, 85, 100} {
		var buf bytes.Buffer
		if err := Encode(context.Background(), &buf, p, &Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		qi, err := FrameQIndex(buf.Bytes())
		if err != nil || qi != QIndexForQuality(q) {
			t.Errorf("quality %d: qindex %d, %v; want %d", q, qi, err, QIndexForQuality(q))
		}
		if q == 85 {
			if s := lumaSSIM(t, buf.Bytes(), p); s < 0.95 {
				t.Errorf("quality 85: luma SSIM %.4f < 0.95", s)
			}
		}
	}
}

// TestDecodersAgreeFiltered: with the loop filter on (the level chosen
// from the quantiser), x/image/webp and dwebp decode the same planes, and
// those stay close to the unfiltered reconstruction.
func TestDecodersAgreeFiltered(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {17, 15}, {97, 83}, {255, 129}} {
		for _, q := range []int{10, 60, 127} {
			p := testPlanes(sz[0], sz[1], 20, uint64(q))
			data, rec := encodeFile(t, p, &Options{QIndex: q})
			m := decodeGo(t, data)
			goPlanes := &Planes{Y: m.Y, Cb: m.Cb, Cr: m.Cr, YStride: m.YStride, CStride: m.CStride, W: sz[0], H: sz[1]}
			if err := sameDwebp(t, data, goPlanes); err != nil {
				t.Errorf("%v q%d: x/image/webp and dwebp differ: %v", sz, q, err)
			}
			var d, n float64
			for y := range sz[1] {
				for x := range sz[0] {
					v := float64(m.Y[y*m.YStride+x]) - float64(rec.Y[y*rec.YStride+x])
					d += v * v
					n++
				}
			}
			if d/n > 4+float64(q)/2 {
				t.Errorf("%v q%d: filtered luma differs from the reconstruction by MSE %.1f", sz, q, d/n)
			}
		}
	}
}

// TestCancelAlpha: the alpha plane's filter trials and lossless coder poll
// the context too (after the colour planes, they are the longest part of a
// transparent image's encoding).
func TestCancelAlpha(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	img := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = uint8(i / 7)
	}
	if _, err := alphaPayload(ctx, img); err != context.Canceled {
		t.Errorf("alphaPayload: %v, want context.Canceled", err)
	}
	if _, err := alphaPayload(context.Background(), img); err != nil {
		t.Errorf("alphaPayload: %v", err)
	}
}
