package codec

import (
	"bytes"
	"compress/lzw"
	"errors"
	"fmt"
	"github.com/imageopto/imageopto/internal/format"
	"image"
	"image/color"
	"image/gif"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// D29's limits, as the handler passes them.
const (
	testMaxFrames = 1000
	testMaxPixels = 100_000_000
)

// Colours of the hand-drawn test frames, by letter; '.' is transparent.
var letterColors = map[byte]color.NRGBA{
	'r': {255, 0, 0, 255},
	'g': {0, 255, 0, 255},
	'b': {0, 0, 255, 255},
	'w': {255, 255, 255, 255},
	'.': {},
}

// letterPalette is the colour table of the test frames; index 3 is the
// transparent one (image/gif.EncodeAll marks the first alpha-0 entry).
var letterPalette = color.Palette{
	color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{},
	color.RGBA{255, 255, 255, 255},
}

// letterIndex maps a letter to its letterPalette index.
func letterIndex(c byte) uint8 {
	return map[byte]uint8{'r': 0, 'g': 1, 'b': 2, '.': 3, 'w': 4}[c]
}

// pframe returns a paletted frame at r drawn with letters, one string per
// row.
func pframe(r image.Rectangle, rows ...string) *image.Paletted {
	m := image.NewPaletted(r, letterPalette)
	for y, row := range rows {
		for x := range len(row) {
			m.SetColorIndex(r.Min.X+x, r.Min.Y+y, letterIndex(row[x]))
		}
	}
	return m
}

// canvas returns an NRGBA image drawn with letters, one string per row.
func canvas(rows ...string) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, len(rows[0]), len(rows)))
	for y, row := range rows {
		for x := range len(row) {
			m.SetNRGBA(x, y, letterColors[row[x]])
		}
	}
	return m
}

// animFrame is one frame for image/gif.EncodeAll.
type animFrame struct {
	m        *image.Paletted
	disposal byte
	delay    int
}

// encodeAll encodes frames with image/gif on a w×h screen.
func encodeAll(t testing.TB, w, h, loop int, frames ...animFrame) []byte {
	t.Helper()
	g := gif.GIF{Config: image.Config{Width: w, Height: h}, LoopCount: loop}
	for _, f := range frames {
		g.Image = append(g.Image, f.m)
		g.Disposal = append(g.Disposal, f.disposal)
		g.Delay = append(g.Delay, f.delay)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mustFrames decodes all frames under the test limits.
func mustFrames(t testing.TB, data []byte) ([]Frame, int) {
	t.Helper()
	frames, loop, err := DecodeFrames(bgCtx, data, mustHeader(t, data), testMaxFrames, testMaxPixels)
	if err != nil {
		t.Fatalf("DecodeFrames: %v", err)
	}
	return frames, loop
}

func TestDecodeFramesDisposal(t *testing.T) {
	t.Parallel()
	full := image.Rect(0, 0, 4, 3)
	tests := []struct {
		name   string
		frames []animFrame
		want   [][]string
	}{
		{
			name: "keep and transparent overlay",
			frames: []animFrame{
				{pframe(full, "rrrr", "rrrr", "rrrr"), gif.DisposalNone, 10},
				{pframe(image.Rect(1, 1, 3, 3), "g.", "b."), 0, 0},
				{pframe(image.Rect(3, 0, 4, 1), "b"), gif.DisposalNone, 7},
			},
			want: [][]string{
				{"rrrr", "rrrr", "rrrr"},
				{"rrrr", "rgrr", "rbrr"},
				{"rrrb", "rgrr", "rbrr"},
			},
		},
		{
			name: "restore to background is transparent",
			frames: []animFrame{
				{pframe(full, "rrrr", "rrrr", "rrrr"), gif.DisposalNone, 10},
				{pframe(image.Rect(1, 0, 3, 2), "gg", "g."), gif.DisposalBackground, 10},
				{pframe(image.Rect(0, 2, 1, 3), "b"), 0, 10},
			},
			want: [][]string{
				{"rrrr", "rrrr", "rrrr"},
				{"rggr", "rgrr", "rrrr"},
				{"r..r", "r..r", "brrr"},
			},
		},
		{
			name: "restore to previous",
			frames: []animFrame{
				{pframe(full, "rrrr", "rrrr", "rrrr"), gif.DisposalNone, 10},
				{pframe(image.Rect(1, 1, 3, 3), "gb", "b."), gif.DisposalPrevious, 10},
				{pframe(image.Rect(0, 0, 2, 2), ".g", "g."), 4, 10}, // 4 acts as 3
				{pframe(image.Rect(3, 2, 4, 3), "b"), 0, 10},
			},
			want: [][]string{
				{"rrrr", "rrrr", "rrrr"},
				{"rrrr", "rgbr", "rbrr"},
				{"rgrr", "grrr", "rrrr"},
				{"rrrr", "rrrr", "rrrb"},
			},
		},
		{
			name: "restore to previous from the empty screen",
			frames: []animFrame{
				{pframe(image.Rect(0, 0, 2, 3), "rr", "gg", "bb"), gif.DisposalPrevious, 10},
				{pframe(image.Rect(1, 1, 4, 2), "bbb"), gif.DisposalPrevious, 10},
				{pframe(image.Rect(0, 0, 1, 1), "g"), gif.DisposalNone, 10},
				{pframe(image.Rect(2, 0, 4, 3), "r.", "r.", "r."), gif.DisposalPrevious, 10},
				{pframe(image.Rect(3, 2, 4, 3), "b"), 0, 10},
			},
			want: [][]string{
				{"rr..", "gg..", "bb.."},
				{"....", ".bbb", "...."},
				{"g...", "....", "...."},
				{"g.r.", "..r.", "..r."},
				{"g...", "....", "...b"},
			},
		},
		{
			name: "background on a partial first frame, then disposals 5 to 7 keep",
			frames: []animFrame{
				{pframe(image.Rect(1, 1, 3, 2), "gg"), gif.DisposalBackground, 10},
				{pframe(image.Rect(0, 0, 1, 3), "b", "b", "b"), 5, 10},
				{pframe(image.Rect(3, 0, 4, 1), "w"), 7, 10},
				{pframe(image.Rect(2, 2, 3, 3), "r"), 6, 10},
			},
			want: [][]string{
				{"....", ".gg.", "...."},
				{"b...", "b...", "b..."},
				{"b..w", "b...", "b..."},
				{"b..w", "b...", "b.r."},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := encodeAll(t, 4, 3, 0, tc.frames...)
			frames, loop := mustFrames(t, data)
			if loop != 0 {
				t.Errorf("loop count %d, want 0", loop)
			}
			if len(frames) != len(tc.want) {
				t.Fatalf("%d frames, want %d", len(frames), len(tc.want))
			}
			for i, f := range frames {
				t.Run(fmt.Sprint("frame", i), func(t *testing.T) {
					samePixels(t, f.Image, canvas(tc.want[i]...))
				})
				if f.Delay != tc.frames[i].delay {
					t.Errorf("frame %d delay %d, want %d", i, f.Delay, tc.frames[i].delay)
				}
			}
			samePixels(t, frames[0].Image, mustDecode(t, data))
			for i := 1; i < len(frames); i++ {
				if &frames[i].Image.Pix[0] == &frames[i-1].Image.Pix[0] {
					t.Fatalf("frames %d and %d share pixels", i-1, i)
				}
			}
		})
	}
}

// TestDecodeFramesGCEScope checks that a frame without a graphic control
// extension does not inherit the previous frame's disposal method (as
// image/gif's decoder would report it).
func TestDecodeFramesGCEScope(t *testing.T) {
	t.Parallel()
	opaque := color.Palette{letterPalette[0], letterPalette[1], letterPalette[2]}
	f2 := image.NewPaletted(image.Rect(0, 0, 1, 1), opaque)
	f2.Pix[0] = 2                                                  // blue, no GCE: delay 0, disposal 0, no transparency
	f3 := image.NewPaletted(image.Rect(3, 2, 4, 3), letterPalette) // red
	data := encodeAll(t, 4, 3, -1,
		animFrame{pframe(image.Rect(0, 0, 4, 3), "rrrr", "rrrr", "rrrr"), gif.DisposalNone, 5},
		animFrame{pframe(image.Rect(1, 1, 2, 2), "g"), gif.DisposalBackground, 5},
		animFrame{f2, 0, 0},
		animFrame{f3, 0, 5},
	)
	frames, loop := mustFrames(t, data)
	if loop != -1 {
		t.Errorf("loop count %d, want −1 (no extension)", loop)
	}
	want := [][]string{
		{"rrrr", "rrrr", "rrrr"},
		{"rrrr", "rgrr", "rrrr"},
		{"brrr", "r.rr", "rrrr"},
		{"brrr", "r.rr", "rrrr"}, // frame 2 kept: its disposal is 0
	}
	for i, w := range want {
		samePixels(t, frames[i].Image, canvas(w...))
	}
	if frames[2].Delay != 0 {
		t.Errorf("delay %d, want 0", frames[2].Delay)
	}
}

// gifBuilder writes GIF files field by field, for inputs image/gif refuses
// to encode.
type gifBuilder struct{ b []byte }

// newGIF starts a file with a w×h screen and an optional global colour
// table (RGB triples, a power of two of them).
func newGIF(w, h int, gct []byte) *gifBuilder {
	g := &gifBuilder{b: []byte("GIF89a")}
	flags := byte(0)
	if gct != nil {
		flags = 0x80 | tableBits(gct)
	}
	g.b = append(g.b, byte(w), byte(w>>8), byte(h), byte(h>>8), flags, 0, 0)
	g.b = append(g.b, gct...)
	return g
}

// tableBits returns the size field of a colour table.
func tableBits(t []byte) byte {
	n := byte(0)
	for 2<<n < len(t)/3 {
		n++
	}
	return n
}

// gce appends a graphic control extension; trans < 0 means none.
func (g *gifBuilder) gce(disposal, delay, trans int) *gifBuilder {
	flags := byte(disposal << 2)
	if trans >= 0 {
		flags |= 1
	} else {
		trans = 0
	}
	g.b = append(g.b, 0x21, 0xF9, 4, flags, byte(delay), byte(delay>>8), byte(trans), 0)
	return g
}

// loop appends an application extension with a loop count.
func (g *gifBuilder) loop(id string, n int) *gifBuilder {
	g.b = append(g.b, 0x21, 0xFF, byte(len(id)))
	g.b = append(g.b, id...)
	g.b = append(g.b, 3, 1, byte(n), byte(n>>8), 0)
	return g
}

// frame appends an image: descriptor, optional local colour table, and
// pix (row-major, stored interlaced when asked) compressed with LZW.
func (g *gifBuilder) frame(left, top, w, h int, lct []byte, interlaced bool, pix []byte) *gifBuilder {
	flags := byte(0)
	if lct != nil {
		flags = 0x80 | tableBits(lct)
	}
	if interlaced {
		flags |= 0x40
		stored := make([]byte, 0, len(pix))
		for _, pass := range [][2]int{{0, 8}, {4, 8}, {2, 4}, {1, 2}} {
			for y := pass[0]; y < h; y += pass[1] {
				stored = append(stored, pix[y*w:(y+1)*w]...)
			}
		}
		pix = stored
	}
	g.b = append(g.b, 0x2C, byte(left), byte(left>>8), byte(top), byte(top>>8), byte(w), byte(w>>8), byte(h), byte(h>>8), flags)
	g.b = append(g.b, lct...)
	const litWidth = 8
	var z bytes.Buffer
	zw := lzw.NewWriter(&z, lzw.LSB, litWidth)
	zw.Write(pix)
	zw.Close()
	g.b = append(g.b, litWidth)
	return g.subBlocks(z.Bytes())
}

// subBlocks appends data as sub-blocks and a terminator.
func (g *gifBuilder) subBlocks(data []byte) *gifBuilder {
	for len(data) > 0 {
		n := min(len(data), 255)
		g.b = append(g.b, byte(n))
		g.b = append(g.b, data[:n]...)
		data = data[n:]
	}
	g.b = append(g.b, 0)
	return g
}

// end appends the trailer and returns the file.
func (g *gifBuilder) end() []byte { return append(g.b, 0x3B) }

// letterTable is letterPalette as a colour table of 8 entries.
var letterTable = []byte{255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0}

// letters turns rows of letters into letterPalette indices.
func letters(rows ...string) []byte {
	var pix []byte
	for _, r := range rows {
		for i := range len(r) {
			pix = append(pix, letterIndex(r[i]))
		}
	}
	return pix
}

func TestDecodeFramesClipsFramesOutsideTheScreen(t *testing.T) {
	t.Parallel()
	data := newGIF(4, 3, letterTable).
		gce(1, 10, 3).frame(0, 0, 4, 3, nil, false, letters("rrrr", "rrrr", "rrrr")).
		gce(1, 10, 3).frame(2, 1, 4, 2, nil, false, letters("gg.g", "bgbg")). // area 8 ≤ 12, sticks out right and below
		gce(2, 10, 3).frame(10, 10, 1, 1, nil, false, letters("b")).          // entirely outside
		gce(0, 10, 3).frame(3, 0, 1, 1, nil, false, letters("w")).
		end()
	frames, _ := mustFrames(t, data)
	want := [][]string{
		{"rrrr", "rrrr", "rrrr"},
		{"rrrr", "rrgg", "rrbg"},
		{"rrrr", "rrgg", "rrbg"},
		{"rrrw", "rrgg", "rrbg"},
	}
	if len(frames) != len(want) {
		t.Fatalf("%d frames", len(frames))
	}
	for i, w := range want {
		samePixels(t, frames[i].Image, canvas(w...))
	}
	if _, err := gif.DecodeAll(bytes.NewReader(data)); err == nil {
		t.Log("image/gif now accepts frames outside the screen")
	}
}

func TestDecodeFramesDetails(t *testing.T) {
	t.Parallel()
	t.Run("zero delays and ANIMEXTS loop", func(t *testing.T) {
		data := newGIF(2, 1, letterTable).loop("ANIMEXTS1.0", 3).
			gce(0, 0, -1).frame(0, 0, 2, 1, nil, false, letters("rg")).
			gce(0, 7, -1).frame(0, 0, 1, 1, nil, false, letters("b")).
			frame(1, 0, 1, 1, nil, false, letters("w")). // no GCE at all
			end()
		frames, loop := mustFrames(t, data)
		if loop != 3 {
			t.Errorf("loop %d, want 3", loop)
		}
		var delays []int
		for _, f := range frames {
			delays = append(delays, f.Delay)
		}
		if fmt.Sprint(delays) != "[0 7 0]" {
			t.Errorf("delays %v", delays)
		}
		samePixels(t, frames[2].Image, canvas("bw"))
	})
	t.Run("interlaced", func(t *testing.T) {
		rows := []string{"rgbwr", "ggggg", "bbbbb", "wwwww", "r.r.r", "g.g.g", "bwbwb", "wrwrw", "rrrrr", "gbgbg", "..bb."}
		a := newGIF(5, 11, letterTable).gce(0, 0, 3).frame(0, 0, 5, 11, nil, false, letters(rows...)).end()
		b := newGIF(5, 11, letterTable).gce(0, 0, 3).frame(0, 0, 5, 11, nil, true, letters(rows...)).end()
		fa, _ := mustFrames(t, a)
		fb, _ := mustFrames(t, b)
		samePixels(t, fa[0].Image, canvas(rows...))
		samePixels(t, fb[0].Image, canvas(rows...))
		samePixels(t, fb[0].Image, mustDecode(t, b))
	})
	t.Run("interlaced rows", func(t *testing.T) {
		for h := 1; h <= 40; h++ {
			seen := make([]bool, h)
			for i := range h {
				y := interlacedRow(i, h)
				if y < 0 || y >= h || seen[y] {
					t.Fatalf("height %d: stored row %d → %d", h, i, y)
				}
				seen[y] = true
			}
		}
	})
	t.Run("local colour table and transparent index past the table", func(t *testing.T) {
		lct := []byte{9, 9, 9, 200, 100, 0}
		data := newGIF(3, 1, letterTable).
			gce(0, 0, -1).frame(0, 0, 3, 1, nil, false, letters("rgb")).
			gce(0, 0, 7).frame(0, 0, 3, 1, lct, false, []byte{1, 7, 0}).
			end()
		frames, _ := mustFrames(t, data)
		want := canvas("rgb")
		want.SetNRGBA(0, 0, color.NRGBA{200, 100, 0, 255})
		want.SetNRGBA(2, 0, color.NRGBA{9, 9, 9, 255})
		samePixels(t, frames[1].Image, want)
	})
	t.Run("extra LZW data is ignored", func(t *testing.T) {
		data := newGIF(2, 1, letterTable).frame(0, 0, 2, 1, nil, false, letters("rgbbbb")).end()
		frames, _ := mustFrames(t, data)
		samePixels(t, frames[0].Image, canvas("rg"))
	})
	t.Run("trailing junk ends the animation", func(t *testing.T) {
		data := newGIF(2, 1, letterTable).frame(0, 0, 2, 1, nil, false, letters("rg")).b
		data = append(data, 0x99, 0x2C, 1, 2, 3)
		frames, _ := mustFrames(t, data)
		if len(frames) != 1 {
			t.Errorf("%d frames", len(frames))
		}
	})
	t.Run("single-frame formats", func(t *testing.T) {
		for _, name := range []string{"basn6a08.png", "video-001.jpeg", "yellow_rose.lossy-with-alpha.webp"} {
			data := readFixture(t, name)
			frames, loop := mustFrames(t, data)
			if len(frames) != 1 || loop != -1 || frames[0].Delay != 0 {
				t.Fatalf("%s: %d frames, loop %d", name, len(frames), loop)
			}
			samePixels(t, frames[0].Image, mustDecode(t, data))
			h := mustHeader(t, data)
			if _, _, err := DecodeFrames(bgCtx, data, h, 1, int64(h.Width*h.Height)-1); !errors.Is(err, ErrTooManyFrames) {
				t.Errorf("%s: pixel limit: %v", name, err)
			}
		}
	})
}

func TestDecodeFramesBad(t *testing.T) {
	t.Parallel()
	three := newGIF(2, 1, letterTable).
		gce(0, 1, -1).frame(0, 0, 2, 1, nil, false, letters("rg")).
		gce(0, 2, -1).frame(0, 0, 2, 1, nil, false, letters("gb")).
		gce(0, 3, -1).frame(0, 0, 2, 1, nil, false, letters("bw")).
		end()
	tests := []struct {
		name string
		data []byte
	}{
		{"no colour table", newGIF(2, 1, nil).frame(0, 0, 2, 1, nil, false, letters("rg")).end()},
		{"later frame without colour table", newGIF(2, 1, nil).
			frame(0, 0, 2, 1, letterTable, false, letters("rg")).
			frame(0, 0, 2, 1, nil, false, letters("rg")).end()},
		{"frame larger than the screen", newGIF(2, 2, letterTable).
			frame(0, 0, 2, 2, nil, false, letters("rg", "bw")).
			frame(1, 0, 5, 1, nil, false, letters("rrrrr")).end()},
		{"pixel outside the table", newGIF(2, 1, letterTable).frame(0, 0, 2, 1, nil, false, []byte{0, 9}).end()},
		{"too little LZW data", newGIF(2, 1, letterTable).frame(0, 0, 2, 1, nil, false, letters("r")).end()},
		{"LZW minimum code size 9", func() []byte {
			d := newGIF(2, 1, letterTable).frame(0, 0, 2, 1, nil, false, letters("rg")).end()
			d[13+len(letterTable)+10] = 9
			return d
		}()},
		{"first frame truncated", three[:13+len(letterTable)+8+10+3]},
	}
	for _, tc := range tests {
		h, err := ReadHeader(tc.data)
		if err != nil {
			t.Fatalf("%s: ReadHeader: %v", tc.name, err)
		}
		frames, _, err := DecodeFrames(bgCtx, tc.data, h, testMaxFrames, testMaxPixels)
		if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooManyFrames) {
			t.Errorf("%s: %d frames, error %v, want ErrCorrupt", tc.name, len(frames), err)
		}
	}

	// A download cut inside the third frame gives the first two.
	h := mustHeader(t, three)
	for cut := len(three) - 1; cut > len(three)-12; cut-- {
		frames, _, err := DecodeFrames(bgCtx, three[:cut], h, testMaxFrames, testMaxPixels)
		if err != nil || len(frames) < 2 {
			t.Fatalf("cut at %d: %d frames, %v", cut, len(frames), err)
		}
		samePixels(t, frames[1].Image, canvas("gb"))
	}
	// A header that counts fewer frames than the data holds.
	h2 := h
	h2.Frames = 2
	if _, _, err := DecodeFrames(bgCtx, three, h2, testMaxFrames, testMaxPixels); !errors.Is(err, ErrCorrupt) {
		t.Errorf("header with 2 frames: %v", err)
	}
	// Another image's header.
	h3 := h
	h3.Width = 3
	if _, _, err := DecodeFrames(bgCtx, three, h3, testMaxFrames, testMaxPixels); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong dimensions: %v", err)
	}
	if _, _, err := DecodeFrames(bgCtx, nil, Header{}, 1, 1); err != ErrUnknownFormat {
		t.Errorf("empty header: %v", err)
	}
	if _, _, err := DecodeFrames(bgCtx, nil, Header{Format: format.TIFF, Width: 1, Height: 1}, 1, 1); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("TIFF: %v", err)
	}
}

// bombGIF declares n full-screen frames of w×h with almost no data each.
func bombGIF(n, w, h int) []byte {
	g := newGIF(w, h, []byte{0, 0, 0, 255, 255, 255})
	frame := []byte{0x2C, 0, 0, 0, 0, byte(w), byte(w >> 8), byte(h), byte(h >> 8), 0, 2, 1, 0x44, 0}
	for range n {
		g.b = append(g.b, frame...)
	}
	return g.end()
}

// TestDecodeFramesLimits runs alone (not parallel) so that the allocation
// count is its own.
func TestDecodeFramesLimits(t *testing.T) {
	data := bombGIF(10_000, 1000, 1000)
	h := mustHeader(t, data)
	if h.Frames != 10_000 {
		t.Fatalf("header counts %d frames", h.Frames)
	}
	for _, lim := range []struct {
		frames int
		pixels int64
	}{
		{testMaxFrames, testMaxPixels}, // too many frames
		{20_000, testMaxPixels},        // too many pixels
		{20_000, 1<<63 - 1},            // fine by the limits: decoding starts, then fails on the data
	} {
		start := time.Now()
		allocs := testing.AllocsPerRun(3, func() {
			_, _, err := DecodeFrames(bgCtx, data, h, lim.frames, lim.pixels)
			if lim.pixels == 1<<63-1 {
				if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooManyFrames) {
					t.Errorf("no limit hit: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTooManyFrames) || !errors.Is(err, ErrCorrupt) {
				t.Errorf("limits %+v: %v", lim, err)
			}
		})
		if lim.pixels == 1<<63-1 {
			continue
		}
		// Refused before any frame is decoded: a few allocations. (The
		// time is logged only: a loaded machine stretches it.)
		t.Logf("limits %+v: refused 4 times in %v, %.0f allocations each", lim, time.Since(start), allocs)
		if allocs > 10 {
			t.Errorf("limits %+v: refusing made %.0f allocations", lim, allocs)
		}
	}
	// Exactly at the limits is admitted.
	small := bombGIF(3, 4, 4)
	hs := mustHeader(t, small)
	if _, _, err := DecodeFrames(bgCtx, small, hs, 3, 48); errors.Is(err, ErrTooManyFrames) {
		t.Errorf("at the limits: %v", err)
	}
	for _, lim := range [][2]int64{{2, 48}, {3, 47}, {0, 48}, {3, 0}} {
		if _, _, err := DecodeFrames(bgCtx, small, hs, int(lim[0]), lim[1]); !errors.Is(err, ErrTooManyFrames) {
			t.Errorf("limits %v: %v", lim, err)
		}
	}
}

// corpusFile returns a file of the photo corpus, or skips.
func corpusFile(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("IMAGEOPTO_CORPUS")
	if dir == "" {
		t.Skip("IMAGEOPTO_CORPUS not set (build it with scripts/corpus.sh DIR)")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus: %v", err)
	}
	return p
}

func TestDecodeFramesCorpus(t *testing.T) {
	t.Parallel()
	p := corpusFile(t, "path-anim.gif")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	frames, loop := mustFrames(t, data)
	if len(frames) != 5 {
		t.Fatalf("%d frames, want 5", len(frames))
	}
	for _, f := range frames {
		if f.Image.Rect != image.Rect(0, 0, 640, 400) {
			t.Fatalf("frame bounds %v", f.Image.Rect)
		}
	}
	samePixels(t, frames[0].Image, mustDecode(t, data))
	t.Logf("loop %d, delays %v", loop, []int{frames[0].Delay, frames[1].Delay, frames[2].Delay, frames[3].Delay, frames[4].Delay})
	compareWithImageMagick(t, data, frames)
}

// compareWithImageMagick checks composed frames against ImageMagick's
// -coalesce, when ImageMagick is installed. Fully transparent pixels match
// whatever their colour.
func compareWithImageMagick(t *testing.T, data []byte, frames []Frame) {
	t.Helper()
	convert, err := exec.LookPath("convert")
	if err != nil {
		t.Log("ImageMagick not installed; skipping the comparison")
		return
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gif")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(convert, in, "-coalesce", filepath.Join(dir, "f-%d.png")).CombinedOutput()
	if err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	for i, f := range frames {
		png, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("f-%d.png", i)))
		if err != nil {
			t.Fatalf("ImageMagick frame %d: %v", i, err)
		}
		ref := mustDecode(t, png)
		if ref.Rect != f.Image.Rect {
			t.Fatalf("frame %d: ImageMagick bounds %v, ours %v", i, ref.Rect, f.Image.Rect)
		}
		for y := range ref.Rect.Dy() {
			for x := range ref.Rect.Dx() {
				a, b := f.Image.NRGBAAt(x, y), ref.NRGBAAt(x, y)
				if a != b && !(a.A == 0 && b.A == 0) {
					t.Fatalf("frame %d pixel (%d,%d): ours %v, ImageMagick %v", i, x, y, a, b)
				}
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("f-%d.png", len(frames)))); err == nil {
		t.Fatalf("ImageMagick sees more than %d frames", len(frames))
	}
}

func TestDecodeFramesMatchesImageMagick(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("convert"); err != nil {
		t.Skip("ImageMagick not installed")
	}
	full := image.Rect(0, 0, 4, 3)
	cases := map[string][]byte{
		"keep": encodeAll(t, 4, 3, 0,
			animFrame{pframe(full, "rrrr", "rrrr", "rrrr"), gif.DisposalNone, 10},
			animFrame{pframe(image.Rect(1, 1, 3, 3), "g.", "b."), 0, 10}),
		"background": encodeAll(t, 4, 3, 0,
			animFrame{pframe(full, "rrrr", "rr.r", "rrrr"), gif.DisposalNone, 10},
			animFrame{pframe(image.Rect(1, 0, 3, 2), "gg", "g."), gif.DisposalBackground, 10},
			animFrame{pframe(image.Rect(0, 2, 1, 3), "b"), 0, 10}),
		"previous": encodeAll(t, 4, 3, 0,
			animFrame{pframe(full, "rrrr", "rrrr", "rr.r"), gif.DisposalNone, 10},
			animFrame{pframe(image.Rect(1, 1, 3, 3), "gb", "b."), gif.DisposalPrevious, 10},
			animFrame{pframe(image.Rect(0, 0, 2, 2), ".g", "g."), gif.DisposalPrevious, 10},
			animFrame{pframe(image.Rect(3, 2, 4, 3), "b"), 0, 10}),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			frames, _ := mustFrames(t, data)
			compareWithImageMagick(t, data, frames)
		})
	}
}
