package codec

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gifThreshold returns what a GIF can show of m: alpha below 128 is
// transparent (0, 0, 0, 0), anything else opaque.
func gifThreshold(m *image.NRGBA) *image.NRGBA {
	b := m.Rect
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := m.NRGBAAt(b.Min.X+x, b.Min.Y+y)
			if c.A < 0x80 {
				c = color.NRGBA{}
			} else {
				c.A = 0xFF
			}
			out.SetNRGBA(x, y, c)
		}
	}
	return out
}

// roundTripFrames encodes and decodes frames.
func roundTripFrames(t testing.TB, frames []Frame, loop int) ([]Frame, int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeGIFFrames(bgCtx, &buf, frames, loop); err != nil {
		t.Fatalf("EncodeGIFFrames: %v", err)
	}
	got, gotLoop, err := DecodeFrames(bgCtx, buf.Bytes(), mustHeader(t, buf.Bytes()), len(frames), 1<<40)
	if err != nil {
		t.Fatalf("DecodeFrames: %v", err)
	}
	if len(got) != len(frames) {
		t.Fatalf("%d frames back, want %d", len(got), len(frames))
	}
	return got, gotLoop, buf.Bytes()
}

// checkExact fails unless got are the thresholded frames with their delays.
func checkExact(t testing.TB, got, want []Frame) {
	t.Helper()
	for i := range want {
		w := gifThreshold(want[i].Image)
		if got[i].Image.Rect != w.Rect {
			t.Fatalf("frame %d bounds %v, want %v", i, got[i].Image.Rect, w.Rect)
		}
		for y := range w.Rect.Dy() {
			for x := range w.Rect.Dx() {
				if g, ww := got[i].Image.NRGBAAt(x, y), w.NRGBAAt(x, y); g != ww {
					t.Fatalf("frame %d pixel (%d,%d) = %v, want %v", i, x, y, g, ww)
				}
			}
		}
		if got[i].Delay != want[i].Delay {
			t.Errorf("frame %d delay %d, want %d", i, got[i].Delay, want[i].Delay)
		}
	}
}

// fillNRGBA fills r of m with c.
func fillNRGBA(m *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			m.SetNRGBA(x, y, c)
		}
	}
}

// spriteFrames returns n frames of a w×h white screen with a 5×4
// four-colour sprite moving across it.
func spriteFrames(w, h, n int) []Frame {
	var frames []Frame
	for i := range n {
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		fillNRGBA(m, m.Rect, color.NRGBA{255, 255, 255, 255})
		for y := range 4 {
			for x := range 5 {
				m.SetNRGBA(3*i+x, i+y, color.NRGBA{uint8(60 * x), uint8(50 * y), 200, 255})
			}
		}
		frames = append(frames, Frame{Image: m, Delay: 4 + i%3})
	}
	return frames
}

func TestEncodeGIFFramesExact(t *testing.T) {
	t.Parallel()
	rect := image.Rect(0, 0, 16, 16)
	newFrame := func(delay int, paint func(m *image.NRGBA)) Frame {
		m := image.NewNRGBA(rect)
		paint(m)
		return Frame{Image: m, Delay: delay}
	}
	solid := func(c color.NRGBA) func(*image.NRGBA) {
		return func(m *image.NRGBA) { fillNRGBA(m, m.Rect, c) }
	}
	red, blue := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}
	tests := []struct {
		name   string
		frames []Frame
		loop   int
	}{
		{"moving sprite", spriteFrames(32, 24, 6), 0},
		{"single frame", spriteFrames(32, 24, 1), -1},
		{"identical frames", []Frame{newFrame(3, solid(red)), newFrame(0, solid(red)), newFrame(3, solid(red))}, 2},
		{"holes appear, move and close", []Frame{
			newFrame(5, solid(red)),
			newFrame(5, func(m *image.NRGBA) { solid(red)(m); fillNRGBA(m, image.Rect(2, 2, 6, 6), color.NRGBA{}) }),
			newFrame(5, func(m *image.NRGBA) { solid(red)(m); fillNRGBA(m, image.Rect(9, 1, 15, 3), color.NRGBA{1, 2, 3, 0}) }),
			newFrame(5, func(m *image.NRGBA) {}), // fully transparent
			newFrame(5, func(m *image.NRGBA) { fillNRGBA(m, image.Rect(4, 4, 5, 5), blue) }),
			newFrame(5, func(m *image.NRGBA) { fillNRGBA(m, image.Rect(15, 15, 16, 16), blue) }),
			newFrame(5, solid(blue)),
		}, 65535},
		{"alpha threshold", []Frame{
			newFrame(1, solid(color.NRGBA{10, 20, 30, 128})),
			newFrame(1, solid(color.NRGBA{10, 20, 30, 127})),
			newFrame(1, solid(color.NRGBA{10, 20, 30, 200})),
		}, 0},
		{"255 colours and transparency per frame", func() []Frame {
			var fs []Frame
			for k := range 3 {
				fs = append(fs, newFrame(2, func(m *image.NRGBA) {
					for i := range 256 {
						c := color.NRGBA{uint8(i), uint8(k * 70), uint8(255 - i), 255}
						if i == 17*k {
							c = color.NRGBA{}
						}
						m.SetNRGBA(i%16, i/16, c)
					}
				}))
			}
			return fs
		}(), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, loop, _ := roundTripFrames(t, tc.frames, tc.loop)
			if loop != tc.loop {
				t.Errorf("loop %d, want %d", loop, tc.loop)
			}
			checkExact(t, got, tc.frames)
		})
	}
}

// TestEncodeGIFFramesRandom checks exact round trips of many random small
// animations whose frames change, gain and lose transparency at random.
func TestEncodeGIFFramesRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	colors := []color.NRGBA{{}, {9, 9, 9, 0}, {200, 0, 0, 127}, {200, 0, 0, 128}, {0, 200, 0, 255}, {0, 0, 200, 255}, {255, 255, 255, 255}}
	for iter := range 500 {
		w, h := 1+rng.IntN(9), 1+rng.IntN(9)
		n := 1 + rng.IntN(6)
		var frames []Frame
		for range n {
			m := image.NewNRGBA(image.Rect(0, 0, w, h))
			if len(frames) > 0 && rng.IntN(3) > 0 {
				copy(m.Pix, frames[len(frames)-1].Image.Pix) // mostly small changes
				for range rng.IntN(4) {
					x0, y0 := rng.IntN(w), rng.IntN(h)
					fillNRGBA(m, image.Rect(x0, y0, x0+1+rng.IntN(3), y0+1+rng.IntN(3)).Intersect(m.Rect), colors[rng.IntN(len(colors))])
				}
			} else {
				for i := 0; i < len(m.Pix); i += 4 {
					c := colors[rng.IntN(len(colors))]
					m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
				}
			}
			frames = append(frames, Frame{Image: m, Delay: rng.IntN(3)})
		}
		got, _, _ := roundTripFrames(t, frames, 0)
		checkExact(t, got, frames)
		if t.Failed() {
			t.Fatalf("iteration %d (%dx%d, %d frames)", iter, w, h, n)
		}
	}
}

func TestEncodeGIFFramesSubImages(t *testing.T) {
	t.Parallel()
	big := spriteFrames(40, 30, 3)
	var frames []Frame
	for _, f := range big {
		frames = append(frames, Frame{Image: f.Image.SubImage(image.Rect(3, 2, 35, 26)).(*image.NRGBA), Delay: f.Delay})
	}
	got, _, _ := roundTripFrames(t, frames, 0)
	checkExact(t, got, frames)
}

// TestEncodeGIFFramesDifferences checks that frames after the first only
// paint the rectangle that changes.
func TestEncodeGIFFramesDifferences(t *testing.T) {
	t.Parallel()
	frames := spriteFrames(64, 48, 5)
	_, _, data := roundTripFrames(t, frames, 0)
	g, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := g.Image[0].Rect; b != image.Rect(0, 0, 64, 48) {
		t.Errorf("first frame %v", b)
	}
	for i, m := range g.Image[1:] {
		// The sprite moves 3 right and 1 down: old and new place together.
		want := image.Rect(3*i, i, 3*i+8, i+5)
		if m.Rect != want {
			t.Errorf("frame %d paints %v, want %v", i+1, m.Rect, want)
		}
		if g.Disposal[i] != gif.DisposalNone {
			t.Errorf("frame %d disposal %d", i, g.Disposal[i])
		}
	}
}

// TestEncodeGIFFramesQuantized encodes photo-like frames with many colours:
// a static photo background with a moving photo-like block.
func TestEncodeGIFFramesQuantized(t *testing.T) {
	t.Parallel()
	bg := photoLike(120, 90)
	patch := photoLike(30, 20)
	var frames []Frame
	for i := range 4 {
		m := image.NewNRGBA(bg.Rect)
		copy(m.Pix, bg.Pix)
		for y := range 20 {
			for x := range 30 {
				m.SetNRGBA(10+8*i+x, 30+y, patch.NRGBAAt(x, y))
			}
		}
		if i == 3 {
			fillNRGBA(m, image.Rect(0, 0, 120, 10), color.NRGBA{}) // a transparent band
		}
		frames = append(frames, Frame{Image: m, Delay: 10})
	}
	got, _, data := roundTripFrames(t, frames, 0)
	for i, f := range got {
		want := gifThreshold(frames[i].Image)
		for y := range 90 {
			for x := range 120 {
				if (f.Image.NRGBAAt(x, y).A == 0) != (want.NRGBAAt(x, y).A == 0) {
					t.Fatalf("frame %d pixel (%d,%d): alpha %d, want %d", i, x, y, f.Image.NRGBAAt(x, y).A, want.NRGBAAt(x, y).A)
				}
			}
		}
		opaque := image.Rect(0, 10, 120, 90)
		p := psnr(blur3(f.Image.SubImage(opaque).(*image.NRGBA)), blur3(want.SubImage(opaque).(*image.NRGBA)))
		if p < 30 {
			t.Errorf("frame %d: blurred PSNR %.2f dB", i, p)
		}
		t.Logf("frame %d: blurred PSNR %.2f dB", i, p)
	}
	t.Logf("%d bytes for 4 frames of 120x90", len(data))
	// The unchanged background is not repainted: frame 1 paints at most
	// the old and new places of the block.
	g, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if r := g.Image[1].Rect; !r.In(image.Rect(10, 30, 48, 50)) {
		t.Errorf("frame 1 paints %v", r)
	}
	// Frame 2 is disposed of to clear the band that frame 3 makes
	// transparent, so its rectangle grows to cover the band.
	if r := g.Image[2].Rect; !image.Rect(0, 0, 120, 10).In(r) || g.Disposal[2] != gif.DisposalBackground {
		t.Errorf("frame 2 paints %v with disposal %d", r, g.Disposal[2])
	}
	if g.Disposal[1] != gif.DisposalNone {
		t.Errorf("frame 1 disposal %d", g.Disposal[1])
	}
}

// TestEncodeGIFFramesExternal checks the frame count with ImageMagick's
// identify and gifsicle, when installed.
func TestEncodeGIFFramesExternal(t *testing.T) {
	t.Parallel()
	frames := spriteFrames(48, 32, 7)
	var buf bytes.Buffer
	if err := EncodeGIFFrames(bgCtx, &buf, frames, 0); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "anim.gif")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ran := false
	if identify, err := exec.LookPath("identify"); err == nil {
		ran = true
		out, err := exec.Command(identify, path).CombinedOutput()
		if err != nil {
			t.Fatalf("identify: %v\n%s", err, out)
		}
		if n := strings.Count(strings.TrimSpace(string(out)), "\n") + 1; n != len(frames) || strings.Contains(string(out), "warning") {
			t.Errorf("identify sees %d frames:\n%s", n, out)
		}
		// ImageMagick composes the frames like DecodeFrames.
		got, _ := mustFrames(t, buf.Bytes())
		compareWithImageMagick(t, buf.Bytes(), got)
	}
	if gifsicle, err := exec.LookPath("gifsicle"); err == nil {
		ran = true
		out, err := exec.Command(gifsicle, "--info", path).CombinedOutput()
		if err != nil {
			t.Fatalf("gifsicle: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "7 images") || !strings.Contains(string(out), "loop forever") {
			t.Errorf("gifsicle --info:\n%s", out)
		}
	}
	if !ran {
		t.Skip("neither ImageMagick nor gifsicle installed")
	}
}

func TestEncodeGIFFramesRejects(t *testing.T) {
	t.Parallel()
	ok := spriteFrames(8, 8, 2)
	small := Frame{Image: image.NewNRGBA(image.Rect(0, 0, 4, 8))}
	tests := map[string]struct {
		frames []Frame
		loop   int
	}{
		"no frames":         {nil, 0},
		"nil image":         {[]Frame{ok[0], {}}, 0},
		"empty image":       {[]Frame{{Image: image.NewNRGBA(image.Rect(0, 0, 0, 3))}}, 0},
		"different sizes":   {[]Frame{ok[0], small}, 0},
		"negative delay":    {[]Frame{{Image: ok[0].Image, Delay: -1}}, 0},
		"delay too long":    {[]Frame{{Image: ok[0].Image, Delay: 65536}}, 0},
		"loop count −2":     {ok, -2},
		"loop count 65536":  {ok, 65536},
		"screen too large":  {[]Frame{{Image: image.NewNRGBA(image.Rect(0, 0, 65536, 1))}}, 0},
		"second frame nil ": {[]Frame{ok[0], {Image: nil}}, 0},
	}
	for name, tc := range tests {
		if err := EncodeGIFFrames(bgCtx, &bytes.Buffer{}, tc.frames, tc.loop); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// benchAnimation returns the corpus's path-anim.gif (640×400, 5 frames)
// when IMAGEOPTO_CORPUS is set, else a synthetic 640×400 animation of 5
// frames: a photo-like background with a moving photo-like block.
func benchAnimation(b *testing.B) ([]byte, string) {
	b.Helper()
	if dir := os.Getenv("IMAGEOPTO_CORPUS"); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, "path-anim.gif")); err == nil {
			return data, "path-anim.gif"
		}
	}
	bg, patch := photoLike(640, 400), photoLike(160, 100)
	var frames []Frame
	for i := range 5 {
		m := image.NewNRGBA(bg.Rect)
		copy(m.Pix, bg.Pix)
		for y := range 100 {
			copy(m.Pix[m.PixOffset(40*i, 100+y):][:4*160], patch.Pix[patch.PixOffset(0, y):])
		}
		frames = append(frames, Frame{Image: m, Delay: 8})
	}
	var buf bytes.Buffer
	if err := EncodeGIFFrames(bgCtx, &buf, frames, 0); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), "synthetic"
}

func BenchmarkDecodeFrames(b *testing.B) {
	data, name := benchAnimation(b)
	h, err := ReadHeader(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d frames of %dx%d", name, h.Frames, h.Width, h.Height)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeFrames(bgCtx, data, h, 1000, 100_000_000); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(h.Frames*h.Width*h.Height)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MP/s")
}

func BenchmarkEncodeGIFFrames(b *testing.B) {
	data, name := benchAnimation(b)
	frames, loop, err := DecodeFrames(bgCtx, data, mustHeader(b, data), 1000, 100_000_000)
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	if err := EncodeGIFFrames(bgCtx, &out, frames, loop); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d frames, %d bytes in, %d bytes out", name, len(frames), len(data), out.Len())
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeGIFFrames(bgCtx, io.Discard, frames, loop); err != nil {
			b.Fatal(err)
		}
	}
}
