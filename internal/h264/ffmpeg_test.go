package h264

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testFrames makes n frames of w×h: a gradient with a moving square, text-like
// stripes, and some noise, so that every kind of macroblock appears.
func testFrames(w, h, n int, seed uint64) []*image.NRGBA {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]*image.NRGBA, n)
	for f := range n {
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				c := color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) * 127 / (w + h)), 255}
				if x > 2*f+w/4 && x < 2*f+w/2 && y > f+h/4 && y < f+h/2 {
					c = color.NRGBA{200, 30, 40, 255}
				}
				if y > 3*h/4 && (x/3)%2 == 0 && (y/2)%3 == 0 {
					c = color.NRGBA{0, 0, 0, 255}
				}
				if x < w/8 && y < h/8 {
					c.R = uint8(r.IntN(256))
					c.G = uint8(r.IntN(256))
				}
				m.SetNRGBA(x, y, c)
			}
		}
		out[f] = m
	}
	return out
}

// annexB joins NAL units with start codes.
func annexB(nals ...[]byte) []byte {
	var b bytes.Buffer
	for _, n := range nals {
		b.Write([]byte{0, 0, 0, 1})
		b.Write(n)
	}
	return b.Bytes()
}

// TestDecoderMatchesReconstruction: ffmpeg decodes our stream to exactly
// the pictures the encoder reconstructed (the deblocking filter is off, so
// any difference is a bitstream or reconstruction error).
func TestDecoderMatchesReconstruction(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed (Debian package ffmpeg)")
	}
	cases := []struct {
		w, h, n, qp, key int
		noise            bool // frames of random samples: large levels, I_PCM
	}{
		{64, 48, 4, 26, 0, false},
		{100, 70, 6, 20, 3, false},
		{33, 17, 3, 40, 0, false},
		{176, 144, 5, 10, 0, false},
		{48, 32, 3, 51, 0, false},
		{1, 1, 2, 26, 0, false},
		{2, 34, 3, 30, 1, false},
		{35, 1, 3, 30, 0, false},
		{64, 48, 3, 10, 0, true},
		{64, 48, 3, 24, 2, true},
	}
	var kinds [5]int
	for _, c := range cases {
		frames := testFrames(c.w, c.h, c.n, uint64(c.w))
		if c.noise {
			r := rand.New(rand.NewPCG(uint64(c.qp), 7))
			for _, f := range frames {
				for i := range f.Pix {
					f.Pix[i] = uint8(r.IntN(256))
				}
			}
		}
		lvl, _ := LevelByName("5.1")
		e, err := NewEncoder(Config{Width: c.w, Height: c.h, QP: c.qp, Level: lvl, KeyInterval: c.key})
		require.NoError(t, err)
		nals := [][]byte{e.SPS(), e.PPS()}
		var recon []byte
		for _, f := range frames {
			nal, _, err := e.Encode(context.Background(), f)
			require.NoError(t, err)
			nals = append(nals, nal)
			recon = append(recon, cropped(e.ref, e.w, e.h)...)
		}
		for k, n := range e.kinds {
			kinds[k] += n
		}
		dir := t.TempDir()
		in := filepath.Join(dir, "in.h264")
		require.NoError(t, os.WriteFile(in, annexB(nals...), 0o644))
		out, err := exec.Command(ffmpeg, "-v", "error", "-i", in, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-").Output()
		require.NoError(t, err, "%dx%d", c.w, c.h)
		require.Equal(t, len(recon), len(out), "%dx%d: decoded size", c.w, c.h)
		if !bytes.Equal(recon, out) {
			for i := range out {
				if out[i] != recon[i] {
					t.Fatalf("%dx%d qp %d: first difference at byte %d of %d (frame %d)", c.w, c.h, c.qp, i, len(out), i/(len(out)/c.n))
				}
			}
		}
	}
	t.Logf("macroblocks coded: %d skipped, %d inter, %d intra 16x16, %d intra 4x4, %d PCM", kinds[kindSkip], kinds[kindInter], kinds[kindI16], kinds[kindI4], kinds[kindPCM])
	for k, n := range kinds {
		assert.NotZero(t, n, "macroblocks of kind %d", k)
	}
}

// cropped returns the displayed part of p as planar yuv420p.
func cropped(p *picture, w, h int) []byte {
	var out []byte
	for y := range h {
		out = append(out, p.y[y*p.ys:y*p.ys+w]...)
	}
	for _, pl := range [][]uint8{p.cb, p.cr} {
		for y := range h / 2 {
			out = append(out, pl[y*p.cs:y*p.cs+w/2]...)
		}
	}
	return out
}
