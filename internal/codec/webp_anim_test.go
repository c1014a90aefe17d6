package codec

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/imageopto/imageopto/internal/format"
)

// anmfChunk returns an ANMF chunk for a w×h frame at (x, y) (even) holding
// the given sub-chunks.
func anmfChunk(x, y, w, h, duration int, flags byte, subs ...[]byte) []byte {
	b := make([]byte, 16)
	putLE24(b[0:], x/2)
	putLE24(b[3:], y/2)
	putLE24(b[6:], w-1)
	putLE24(b[9:], h-1)
	putLE24(b[12:], duration)
	b[15] = flags
	for _, s := range subs {
		b = append(b, s...)
	}
	return riffChunk("ANMF", b)
}

// animChunk returns an ANIM chunk with a transparent background.
func animChunk(loop int) []byte {
	b := make([]byte, 6)
	binary.LittleEndian.PutUint16(b[4:], uint16(loop))
	return riffChunk("ANIM", b)
}

// animWebP wraps ANMF chunks into an animated WebP with a cw×ch canvas.
func animWebP(cw, ch, loop int, frames ...[]byte) []byte {
	return riffWebP(append([][]byte{vp8xChunk(webpFlagAnimation|webpFlagAlpha, cw, ch), animChunk(loop)}, frames...)...)
}

// stillFrame is a still WebP fixture: its image chunks and decoded pixels.
type stillFrame struct {
	chunks [][]byte // ALPH (if any) and VP8/VP8L, raw with headers
	img    *image.NRGBA
}

func loadStill(t *testing.T, name string) stillFrame {
	t.Helper()
	data := readFixture(t, name)
	img, err := Decode(bgCtx, data, mustHeader(t, data))
	if err != nil {
		t.Fatal(err)
	}
	c := splitWebP(t, data)
	var s stillFrame
	if a := c["ALPH"]; a != nil {
		s.chunks = append(s.chunks, a)
	}
	for _, id := range []string{"VP8 ", "VP8L"} {
		if b := c[id]; b != nil {
			s.chunks = append(s.chunks, b)
		}
	}
	s.img = img
	return s
}

// refBlend is the container specification's blend in floating point,
// rounded, as the reference for drawFrame.
func refBlend(dst, src color.NRGBA) color.NRGBA {
	sa, da := float64(src.A)/255, float64(dst.A)/255
	a := sa + da*(1-sa)
	if a == 0 {
		return color.NRGBA{}
	}
	ch := func(s, d uint8) uint8 {
		return uint8(math.Round((float64(s)*sa + float64(d)*da*(1-sa)) / a))
	}
	return color.NRGBA{ch(src.R, dst.R), ch(src.G, dst.G), ch(src.B, dst.B), uint8(math.Round(a * 255))}
}

// refFrame describes one frame of a hand-built animation.
type refFrame struct {
	still          stillFrame
	x, y, duration int
	noBlend        bool
	dispose        bool
}

// refCompose composes frames the way the specification describes, with
// image/draw-free per-pixel code, for comparison with DecodeWebPFrames.
func refCompose(cw, ch int, frames []refFrame) []*image.NRGBA {
	var out []*image.NRGBA
	cur := image.NewNRGBA(image.Rect(0, 0, cw, ch))
	for i, f := range frames {
		if i > 0 && frames[i-1].dispose {
			p := frames[i-1]
			b := p.still.img.Rect.Add(image.Pt(p.x, p.y))
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					cur.SetNRGBA(x, y, color.NRGBA{})
				}
			}
		}
		m := f.still.img
		for y := range m.Rect.Dy() {
			for x := range m.Rect.Dx() {
				s := m.NRGBAAt(x, y)
				if !f.noBlend {
					s = refBlend(cur.NRGBAAt(f.x+x, f.y+y), s)
				}
				cur.SetNRGBA(f.x+x, f.y+y, s)
			}
		}
		c := image.NewNRGBA(cur.Rect)
		copy(c.Pix, cur.Pix)
		out = append(out, c)
	}
	return out
}

// visibleDiff returns the largest channel difference between two images,
// fully transparent pixels being equal whatever their colour.
func visibleDiff(a, b *image.NRGBA) (int, image.Point) {
	worst, at := 0, image.Point{}
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			p, q := a.NRGBAAt(x, y), b.NRGBAAt(x, y)
			if p.A == 0 && q.A == 0 {
				continue
			}
			for _, d := range []int{int(p.R) - int(q.R), int(p.G) - int(q.G), int(p.B) - int(q.B), int(p.A) - int(q.A)} {
				if d < 0 {
					d = -d
				}
				if d > worst {
					worst, at = d, image.Pt(x, y)
				}
			}
		}
	}
	return worst, at
}

// TestDecodeWebPFramesCompose builds animations from the still fixtures'
// bitstreams (lossy, lossy with an ALPH chunk, lossless with alpha) and
// compares every composed frame with the specification's composition:
// blend and no-blend, dispose to background and none, frames that leave
// part of the canvas uncovered.
func TestDecodeWebPFramesCompose(t *testing.T) {
	t.Parallel()
	lossy := loadStill(t, "blocks.lossy.webp")                    // 64×64 VP8
	lossyAlpha := loadStill(t, "blocks.lossy-alpha.webp")         // 64×64 ALPH + VP8
	gopher := loadStill(t, "gopher-doc.with-alpha.lossless.webp") // 75×100 VP8L, alpha
	gopher8 := loadStill(t, "gopher-doc.8bpp.lossless.webp")      // 75×100 VP8L
	const cw, ch = 128, 112
	tests := []struct {
		name   string
		frames []refFrame
	}{
		{"blend, dispose, uncovered", []refFrame{
			{still: gopher, duration: 40, noBlend: true},
			{still: lossy, x: 40, y: 20, duration: 50, dispose: true},
			{still: lossyAlpha, x: 60, y: 40, duration: 60},
			{still: gopher8, x: 52, y: 10, duration: 0, noBlend: true},
		}},
		{"alpha over alpha", []refFrame{
			{still: lossyAlpha, duration: 100},
			{still: lossyAlpha, x: 30, y: 30, duration: 100},
			{still: gopher, x: 10, y: 6, duration: 100},
			{still: lossyAlpha, x: 2, y: 2, duration: 16777215, noBlend: true, dispose: true},
			{still: lossy, x: 64, y: 48, duration: 7},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var chunks [][]byte
			for _, f := range tc.frames {
				var flags byte
				if f.noBlend {
					flags |= anmfNoBlend
				}
				if f.dispose {
					flags |= anmfDispose
				}
				s := f.still.img.Rect.Size()
				chunks = append(chunks, anmfChunk(f.x, f.y, s.X, s.Y, f.duration, flags, f.still.chunks...))
			}
			data := animWebP(cw, ch, 3, chunks...)
			h := mustHeader(t, data)
			if !h.Animated || h.Frames != len(tc.frames) || h.Width != cw || h.Height != ch || !h.HasAlpha {
				t.Fatalf("header %+v", h)
			}
			got, loop, err := DecodeWebPFrames(bgCtx, data, h, 10, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if loop != 3 || len(got) != len(tc.frames) {
				t.Fatalf("loop %d, %d frames", loop, len(got))
			}
			want := refCompose(cw, ch, tc.frames)
			for i := range got {
				if got[i].Duration != tc.frames[i].duration {
					t.Errorf("frame %d: duration %d, want %d", i, got[i].Duration, tc.frames[i].duration)
				}
				if d, at := visibleDiff(got[i].Image, want[i]); d > 1 {
					t.Errorf("frame %d differs by %d at %v: %v, want %v", i, d, at, got[i].Image.At(at.X, at.Y), want[i].At(at.X, at.Y))
				}
			}
			// Decode composes the first frame alone.
			first, err := Decode(bgCtx, data, h)
			if err != nil {
				t.Fatal(err)
			}
			if d, at := visibleDiff(first, want[0]); d > 1 {
				t.Errorf("Decode: first frame differs by %d at %v", d, at)
			}
		})
	}
}

// TestBlendPixel holds the integer blend to the floating-point formula.
func TestBlendPixel(t *testing.T) {
	t.Parallel()
	vals := []uint8{0, 1, 2, 77, 128, 200, 254, 255}
	for _, sa := range vals {
		for _, da := range vals {
			for _, sc := range []uint8{0, 13, 255} {
				for _, dc := range []uint8{0, 200, 255} {
					src := color.NRGBA{sc, 255 - sc, sc / 2, sa}
					dst := color.NRGBA{dc, dc / 3, 255 - dc, da}
					got := []byte{dst.R, dst.G, dst.B, dst.A}
					blendPixel(got, []byte{src.R, src.G, src.B, src.A})
					want := refBlend(dst, src)
					g := color.NRGBA{got[0], got[1], got[2], got[3]}
					if want.A == 0 && g.A == 0 {
						continue
					}
					d, _ := visibleDiff(nrgbaOf(g), nrgbaOf(want))
					if d > 1 {
						t.Errorf("blend %v over %v = %v, want %v", src, dst, g, want)
					}
				}
			}
		}
	}
}

func nrgbaOf(c color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	m.SetNRGBA(0, 0, c)
	return m
}

// TestWebPAnimHeader: what the header reader accepts and refuses in an
// animation, from the header alone.
func TestWebPAnimHeader(t *testing.T) {
	t.Parallel()
	lossy := loadStill(t, "blocks.lossy.webp")
	vp8 := lossy.chunks[0]
	opaque := func(x, y int) []byte { return anmfChunk(x, y, 64, 64, 10, 0, vp8) }
	noAlphaAnim := func(cw, ch int, frames ...[]byte) []byte {
		return riffWebP(append([][]byte{vp8xChunk(webpFlagAnimation, cw, ch), animChunk(0)}, frames...)...)
	}
	full := noAlphaAnim(64, 64, opaque(0, 0), opaque(0, 0))
	tests := []struct {
		name   string
		data   []byte
		frames int
		alpha  bool
		err    error
	}{
		{"two opaque frames", full, 2, false, nil},
		{"uncovered canvas has alpha", noAlphaAnim(66, 64, opaque(0, 0), opaque(2, 0)), 2, true, nil},
		{"truncated last frame", full[:len(full)-20], 1, false, nil},
		{"unknown chunks kept out", noAlphaAnim(64, 64, riffChunk("XYZW", []byte("abc")), opaque(0, 0)), 1, false, nil},
		{"frame outside the canvas", noAlphaAnim(64, 64, opaque(2, 0)), 0, false, ErrCorrupt},
		{"bitstream size differs", noAlphaAnim(64, 64, anmfChunk(0, 0, 32, 64, 10, 0, vp8)), 0, false, ErrCorrupt},
		{"no bitstream", noAlphaAnim(64, 64, anmfChunk(0, 0, 64, 64, 10, 0, riffChunk("XYZW", nil))), 0, false, ErrCorrupt},
		{"sub-chunk overruns", noAlphaAnim(64, 64, anmfChunk(0, 0, 64, 64, 10, 0, vp8[:len(vp8)-10])), 0, false, ErrCorrupt},
		{"short ANMF", noAlphaAnim(64, 64, riffChunk("ANMF", make([]byte, 10))), 0, false, ErrCorrupt},
		{"no frames", noAlphaAnim(64, 64), 0, false, ErrCorrupt},
		{"ANMF before ANIM", riffWebP(vp8xChunk(webpFlagAnimation, 64, 64), opaque(0, 0), animChunk(0)), 0, false, ErrCorrupt},
		{"image chunk outside frames", noAlphaAnim(64, 64, opaque(0, 0), vp8), 0, false, ErrCorrupt},
		{"ANIM without the flag", riffWebP(vp8xChunk(0, 64, 64), animChunk(0), vp8), 0, false, ErrCorrupt},
		{"ANMF without the flag", riffWebP(vp8xChunk(0, 64, 64), opaque(0, 0)), 0, false, ErrCorrupt},
		{"bad ANIM length", riffWebP(vp8xChunk(webpFlagAnimation, 64, 64), riffChunk("ANIM", make([]byte, 4)), opaque(0, 0)), 0, false, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := ReadHeader(tc.data)
			if tc.err != nil {
				requireIs(t, err, tc.err)
				// A forged header does not get a decode past the checks.
				_, _, err = DecodeWebPFrames(bgCtx, tc.data, Header{Format: format.WebP, Width: 64, Height: 64, Frames: 1, Animated: true}, 10, 1<<30)
				requireIs(t, err, ErrCorrupt)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !h.Animated || h.Frames != tc.frames || h.HasAlpha != tc.alpha || h.BytesPerPixel != 4 {
				t.Fatalf("header %+v, want %d frames, alpha %v", h, tc.frames, tc.alpha)
			}
			frames, _, err := DecodeWebPFrames(bgCtx, tc.data, h, 10, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != tc.frames {
				t.Fatalf("%d frames, want %d", len(frames), tc.frames)
			}
		})
	}
}

// TestDecodeWebPFramesLimits: the frame-count and summed-area limits are
// checked from the header before any frame is decoded (the frames here
// would not decode), and a header that disagrees with the data is refused.
func TestDecodeWebPFramesLimits(t *testing.T) {
	t.Parallel()
	// Frames whose bitstream header is valid but whose data is garbage.
	bad := append([]byte{0x2F, 0x3F, 0xC0, 0x0F, 0}, bytes.Repeat([]byte{0xA5}, 40)...) // VP8L 64×64
	frame := anmfChunk(0, 0, 64, 64, 10, 0, riffChunk("VP8L", bad))
	data := animWebP(64, 64, 0, frame, frame, frame)
	h := mustHeader(t, data)
	if h.Frames != 3 {
		t.Fatalf("header %+v", h)
	}
	for _, tc := range []struct {
		name      string
		maxFrames int
		maxPixels int64
		err       error
	}{
		{"too many frames", 2, 1 << 30, ErrTooManyFrames},
		{"too many pixels", 10, 3*64*64 - 1, ErrTooManyFrames},
		{"within the limits: decoded, and corrupt", 3, 3 * 64 * 64, ErrCorrupt},
	} {
		_, _, err := DecodeWebPFrames(bgCtx, data, h, tc.maxFrames, tc.maxPixels)
		requireIs(t, err, tc.err)
		if tc.err != ErrTooManyFrames && errors.Is(err, ErrTooManyFrames) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// A header claiming fewer frames than the data holds.
	forged := h
	forged.Frames = 1
	_, _, err := DecodeWebPFrames(bgCtx, data, forged, 10, 1<<30)
	requireIs(t, err, ErrCorrupt)
}

// TestDecodeWebPFramesCancel: a done context stops the decoder with its
// error, not ErrCorrupt.
func TestDecodeWebPFramesCancel(t *testing.T) {
	t.Parallel()
	data := readFixture(t, "anim.img2webp.webp")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := DecodeWebPFrames(ctx, data, mustHeader(t, data), 10, 1<<30)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("error %v", err)
	}
}

// animFixtureFrames are the frames of testdata/anim.*.webp: 48×32, a red
// background with a blue square moving right, then a frame with a
// half-transparent corner, one with a transparent corner, and a
// transparent one with a green square (img2webp picks sub-rectangles,
// dispose and blend modes to code them).
func animFixtureFrames() []*image.NRGBA {
	var out []*image.NRGBA
	for i := range 6 {
		m := image.NewNRGBA(image.Rect(0, 0, 48, 32))
		for y := range 32 {
			for x := range 48 {
				c := color.NRGBA{220, 30, 20, 255}
				if i == 5 { // transparent but for a small green square
					c = color.NRGBA{}
					if x >= 20 && x < 26 && y >= 12 && y < 18 {
						c = color.NRGBA{0, 200, 0, 255}
					}
					m.SetNRGBA(x, y, c)
					continue
				}
				if x >= 4+6*i && x < 16+6*i && y >= 8 && y < 20 {
					c = color.NRGBA{20, 40, 230, 255}
				}
				if i == 3 && x >= 30 && y >= 20 {
					c = color.NRGBA{250, 250, 0, 128}
				}
				if i == 4 && x < 10 && y < 10 {
					c = color.NRGBA{}
				}
				m.SetNRGBA(x, y, c)
			}
		}
		out = append(out, m)
	}
	return out
}

// animFixtureDurations are the fixtures' frame durations in milliseconds.
var animFixtureDurations = []int{40, 80, 120, 10, 1000, 70}

// img2webp makes an animated WebP from frames with Debian's img2webp, with
// the given per-file options (e.g. -lossless, -lossy) before each frame.
func img2webp(t *testing.T, frames []*image.NRGBA, durations []int, opts ...string) []byte {
	t.Helper()
	tool, err := exec.LookPath("img2webp")
	if err != nil {
		t.Skip("img2webp not installed (apt-get install webp)")
	}
	dir := t.TempDir()
	args := []string{"-loop", "2"}
	for i, f := range frames {
		name := filepath.Join(dir, fmt.Sprintf("f%d.png", i))
		var buf bytes.Buffer
		if err := png.Encode(&buf, f); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-d", fmt.Sprint(durations[i]))
		if len(opts) > 0 {
			args = append(args, opts[i%len(opts)])
		}
		args = append(args, name)
	}
	out := filepath.Join(dir, "anim.webp")
	args = append(args, "-o", out)
	if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("img2webp: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGenerateWebPAnimFixtures regenerates testdata/anim.*.webp (needs
// Debian's webp package).
func TestGenerateWebPAnimFixtures(t *testing.T) {
	if !*updateFixtures {
		t.Skip("run with -update-fixtures to regenerate")
	}
	frames := animFixtureFrames()
	for name, opts := range map[string][]string{
		"anim.img2webp.webp":       {"-lossless"},
		"anim.img2webp-mixed.webp": {"-lossless", "-lossy", "-lossy", "-lossless", "-lossy", "-lossy"},
	} {
		if err := os.WriteFile(filepath.Join("testdata", name), img2webp(t, frames, animFixtureDurations, opts...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDecodeWebPAnimFixtures decodes animations written by libwebp's
// animation encoder (img2webp: sub-rectangles, dispose to background,
// blend and no-blend chosen by libwebp): the committed fixtures, and fresh
// ones when img2webp is installed. Lossless frames must come back exactly,
// lossy ones close.
func TestDecodeWebPAnimFixtures(t *testing.T) {
	t.Parallel()
	frames := animFixtureFrames()
	type input struct {
		name     string
		data     func(t *testing.T) []byte
		lossless bool
	}
	inputs := []input{
		{"anim.img2webp.webp", func(t *testing.T) []byte { return readFixture(t, "anim.img2webp.webp") }, true},
		{"anim.img2webp-mixed.webp", func(t *testing.T) []byte { return readFixture(t, "anim.img2webp-mixed.webp") }, false},
		{"img2webp -lossless now", func(t *testing.T) []byte { return img2webp(t, frames, animFixtureDurations, "-lossless") }, true},
		{"img2webp -lossy now", func(t *testing.T) []byte { return img2webp(t, frames, animFixtureDurations, "-lossy") }, false},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			data := in.data(t)
			h := mustHeader(t, data)
			if !h.Animated || h.Frames != len(frames) || !h.HasAlpha || h.Width != 48 || h.Height != 32 {
				t.Fatalf("header %+v", h)
			}
			got, loop, err := DecodeWebPFrames(bgCtx, data, h, 100, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if loop != 2 || len(got) != len(frames) {
				t.Fatalf("loop %d, %d frames", loop, len(got))
			}
			for i := range got {
				if got[i].Duration != animFixtureDurations[i] {
					t.Errorf("frame %d: duration %d, want %d", i, got[i].Duration, animFixtureDurations[i])
				}
				tol := 0
				if !in.lossless {
					tol = 40 // q75 lossy, on hard colour edges
				}
				if d, at := visibleDiff(got[i].Image, frames[i]); d > tol {
					t.Errorf("frame %d differs by %d at %v: %v, want %v", i, d, at, got[i].Image.At(at.X, at.Y), frames[i].At(at.X, at.Y))
				}
				// Alpha is lossless even in lossy frames.
				for p := 3; p < len(frames[i].Pix); p += 4 {
					if got[i].Image.Pix[p] != frames[i].Pix[p] {
						t.Fatalf("frame %d: alpha %d at byte %d, want %d", i, got[i].Image.Pix[p], p, frames[i].Pix[p])
					}
				}
			}
		})
	}
}

// TestDecodeWebPFromGIF2WebP: Debian's gif2webp turns an animated GIF with
// transparency and disposal into a lossless animated WebP; its frames must
// be the GIF's frames as DecodeFrames composes them.
func TestDecodeWebPFromGIF2WebP(t *testing.T) {
	t.Parallel()
	tool, err := exec.LookPath("gif2webp")
	if err != nil {
		t.Skip("gif2webp not installed (apt-get install webp)")
	}
	for _, name := range []string{"video-001.gif", "triangle-001.gif"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := readFixture(t, name)
			gh := mustHeader(t, src)
			want, _, err := DecodeFrames(bgCtx, src, gh, 1000, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in.gif"), filepath.Join(dir, "out.webp")
			if err := os.WriteFile(in, src, 0o644); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command(tool, in, "-o", out).CombinedOutput(); err != nil {
				t.Fatalf("gif2webp: %v\n%s", err, b)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			h := mustHeader(t, data)
			if h.Frames != len(want) && !(len(want) == 1 && !h.Animated) {
				t.Fatalf("%d frames, the GIF has %d", h.Frames, len(want))
			}
			got, _, err := DecodeWebPFrames(bgCtx, data, h, 1000, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if d, at := visibleDiff(got[i].Image, want[i].Image); d > 0 {
					t.Fatalf("frame %d differs by %d at %v", i, d, at)
				}
				if got[i].Duration != 10*want[i].Delay {
					t.Errorf("frame %d: %d ms, GIF %d cs", i, got[i].Duration, want[i].Delay)
				}
			}
		})
	}
}

// fakeStill is a WebPStillEncoder for tests without libwebp: it wraps a
// VP8L bitstream of the image's size taken from a template and records
// every image it was given.
type fakeStill struct {
	images []*image.NRGBA
}

func (f *fakeStill) encode(img *image.NRGBA) ([]byte, error) {
	c := image.NewNRGBA(img.Rect)
	copy(c.Pix, img.Pix)
	f.images = append(f.images, c)
	// A VP8L header of the right size, alpha hint set; the body does not
	// matter to the container writer.
	w, h := img.Rect.Dx()-1, img.Rect.Dy()-1
	bits := uint32(w) | uint32(h)<<14 | 1<<28
	body := []byte{0x2F, byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24), 0}
	return riffWebP(riffChunk("VP8L", body)), nil
}

// TestEncodeWebPAnimationDeltas: each frame codes the rectangle of the
// pixels that changed (corner at even coordinates), blended with the
// unchanged pixels transparent when every changed pixel is opaque, else
// replacing the rectangle; an unchanged frame codes one transparent pixel.
// The container's fields are checked by reading them back.
func TestEncodeWebPAnimationDeltas(t *testing.T) {
	t.Parallel()
	const w, h = 20, 10
	fill := func(c color.NRGBA, rects ...image.Rectangle) *image.NRGBA {
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.SetNRGBA(x, y, color.NRGBA{10, 20, 30, 255})
			}
		}
		for _, r := range rects {
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					m.SetNRGBA(x, y, c)
				}
			}
		}
		return m
	}
	red := color.NRGBA{255, 0, 0, 255}
	half := color.NRGBA{0, 255, 0, 128}
	frames := []WebPFrame{
		{Image: fill(red), Duration: 10},
		{Image: fill(red, image.Rect(5, 3, 9, 6)), Duration: 20},    // opaque change
		{Image: fill(red, image.Rect(5, 3, 9, 6)), Duration: 30},    // unchanged
		{Image: fill(half, image.Rect(11, 1, 12, 2)), Duration: 40}, // undoes 5,3–9,6; adds a half-transparent pixel
	}
	var st fakeStill
	var buf bytes.Buffer
	if err := EncodeWebPAnimation(bgCtx, &buf, frames, 7, st.encode); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var parsed []anmf
	hd, loop, err := readWebPHeaderFrames(data, &parsed)
	if err != nil {
		t.Fatal(err)
	}
	if !hd.Animated || hd.Frames != 4 || hd.Width != w || hd.Height != h || loop != 7 {
		t.Fatalf("header %+v, loop %d", hd, loop)
	}
	if got := binary.LittleEndian.Uint32(data[4:]); int(got) != len(data)-8 {
		t.Errorf("RIFF size %d, file %d bytes", got, len(data))
	}
	want := []struct {
		rect  image.Rectangle
		blend bool
	}{
		{image.Rect(0, 0, w, h), false},
		{image.Rect(4, 2, 9, 6), true}, // corner moved to even coordinates
		{image.Rect(0, 0, 1, 1), true},
		{image.Rect(4, 0, 12, 6), false}, // a half-transparent pixel: replace
	}
	for i, f := range parsed {
		if f.rect != want[i].rect || f.blend != want[i].blend || f.dispose || f.duration != frames[i].Duration {
			t.Errorf("frame %d: %v blend %v dispose %v duration %d, want %v blend %v", i, f.rect, f.blend, f.dispose, f.duration, want[i].rect, want[i].blend)
		}
	}
	// What the still encoder was given: the blended delta has the changed
	// pixels and transparency elsewhere; the replacing one has every pixel.
	d1 := st.images[1]
	if c := d1.NRGBAAt(0, 0); c != (color.NRGBA{}) {
		t.Errorf("unchanged pixel of a blended delta is %v", c)
	}
	if c := d1.NRGBAAt(1, 1); c != red {
		t.Errorf("changed pixel of a blended delta is %v", c)
	}
	if c := st.images[2].NRGBAAt(0, 0); c.A != 0 {
		t.Errorf("unchanged frame codes %v", c)
	}
	d3 := st.images[3] // canvas (4,0)–(12,6)
	for y := range d3.Rect.Dy() {
		for x := range d3.Rect.Dx() {
			if got, want := d3.NRGBAAt(x, y), frames[3].Image.NRGBAAt(4+x, y); got != want {
				t.Fatalf("replacing delta at (%d,%d) is %v, want %v", 4+x, y, got, want)
			}
		}
	}
}

// TestEncodeWebPAnimationRefuses: bad arguments and a failing still
// encoder are errors; a done context stops before writing.
func TestEncodeWebPAnimationRefuses(t *testing.T) {
	t.Parallel()
	img := func(w, h int) *image.NRGBA { return image.NewNRGBA(image.Rect(0, 0, w, h)) }
	var st fakeStill
	for _, tc := range []struct {
		name   string
		frames []WebPFrame
		loop   int
		still  WebPStillEncoder
	}{
		{"no frames", nil, 0, st.encode},
		{"sizes differ", []WebPFrame{{Image: img(4, 4)}, {Image: img(4, 5)}}, 0, st.encode},
		{"too large", []WebPFrame{{Image: img(16384, 1)}}, 0, st.encode},
		{"loop count", []WebPFrame{{Image: img(4, 4)}}, 65536, st.encode},
		{"still fails", []WebPFrame{{Image: img(4, 4)}}, 0, func(*image.NRGBA) ([]byte, error) { return nil, errors.New("boom") }},
		{"still writes junk", []WebPFrame{{Image: img(4, 4)}}, 0, func(*image.NRGBA) ([]byte, error) { return []byte("RIFF\x04\x00\x00\x00WEBP"), nil }},
		{"still wrong size", []WebPFrame{{Image: img(4, 4)}}, 0, func(*image.NRGBA) ([]byte, error) { return st.encode(img(5, 4)) }},
	} {
		if err := EncodeWebPAnimation(bgCtx, &bytes.Buffer{}, tc.frames, tc.loop, tc.still); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	err := EncodeWebPAnimation(ctx, &buf, []WebPFrame{{Image: img(4, 4)}}, 0, st.encode)
	if !errors.Is(err, context.Canceled) || buf.Len() != 0 {
		t.Errorf("done context: %v, %d bytes written", err, buf.Len())
	}
}

// FuzzDecodeWebPAnim feeds the animation parser and frame decoder: no
// panic, errors wrap ErrCorrupt, and every frame is a canvas of the
// header's size.
func FuzzDecodeWebPAnim(f *testing.F) {
	for _, name := range []string{"anim.img2webp.webp", "anim.img2webp-mixed.webp"} {
		f.Add(readFixture(f, name))
	}
	lossy := readFixture(f, "blocks.lossy.webp")
	f.Add(animWebP(66, 64, 0, anmfChunk(2, 0, 64, 64, 10, 0, lossy[12:]), anmfChunk(0, 0, 64, 64, 10, anmfDispose|anmfNoBlend, lossy[12:])))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(data)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if h.Format != format.WebP {
			return
		}
		checkHeader(t, h)
		if int64(h.Width)*int64(h.Height) > fuzzMaxPixels {
			return
		}
		frames, _, err := DecodeWebPFrames(bgCtx, data, h, 50, fuzzMaxPixels)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if len(frames) != max(h.Frames, 1) {
			t.Fatalf("%d frames, header %d", len(frames), h.Frames)
		}
		for _, fr := range frames {
			if fr.Image.Rect != image.Rect(0, 0, h.Width, h.Height) || len(fr.Image.Pix) < 4*h.Width*h.Height {
				t.Fatalf("frame %v, header %dx%d", fr.Image.Rect, h.Width, h.Height)
			}
		}
	})
}
