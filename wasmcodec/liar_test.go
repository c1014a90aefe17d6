package wasmcodec

// Containers that lie about the size of their coded image (issue 11).
//
// Fixtures, made with Debian 12's tools (libavif 0.11.1 + libaom 3.6,
// libheif 1.15.1 + x265):
//
//	# huge-frame.avif: a flat grey 13000×13000 frame, 2,263 bytes
//	avifenc -s 10 --min 63 --max 63 -y 420 grey-13000.png huge-frame.avif
//	# tiny-grid-alpha.avif: tiny-alpha.png on a 128×128 canvas, a 2×2 grid
//	# of 64×64 tiles with a 2×2 alpha grid
//	avifenc -s 8 -g 2x2 tiny-alpha-128.png tiny-grid-alpha.avif
//	# tiny-narrow.heic: the left 96 columns of tiny.png
//	heif-enc -q 60 -o tiny-narrow.heic tiny-narrow.png

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
)

// edit parses a copy of data, lets f change it in place through the parsed
// item tables (whose byte slices point into the copy) and returns the copy.
func edit(t testing.TB, data []byte, f func(h *heifInfo)) []byte {
	t.Helper()
	data = bytes.Clone(data)
	h, err := parseHEIF(data)
	require.NoError(t, err)
	f(&h)
	return data
}

// setItemISPE rewrites the ispe property of one item.
func setItemISPE(t testing.TB, h *heifInfo, id uint32, w, ht uint32) {
	t.Helper()
	body, ok := h.meta.property(id, "ispe")
	require.True(t, ok, "item %d has an ispe", id)
	binary.BigEndian.PutUint32(body[4:], w)
	binary.BigEndian.PutUint32(body[8:], ht)
}

// putBits writes v into n bits of b starting at bit pos.
func putBits(b []byte, pos, n int, v uint32) {
	for i := range n {
		bit := pos + i
		mask := byte(0x80 >> (bit % 8))
		if v>>(n-1-i)&1 == 1 {
			b[bit/8] |= mask
		} else {
			b[bit/8] &^= mask
		}
	}
}

// setAV1Width rewrites max_frame_width_minus_1 in the first sequence
// header of AV1 data (a reduced still picture header, whose frames take
// their size from it).
func setAV1Width(t testing.TB, data []byte, w int) {
	t.Helper()
	o, rest, err := nextOBU(data)
	for err == nil && o.typ != obuSequenceHeader {
		o, rest, err = nextOBU(rest)
	}
	require.NoError(t, err)
	s, err := parseAV1Sequence(o.payload)
	require.NoError(t, err)
	require.Less(t, w-1, 1<<s.widthBits)
	putBits(o.payload, s.widthAt, s.widthBits, uint32(w-1))
}

// wasmCalls is the number of WebAssembly calls made so far.
func wasmCalls() int64 { return memory.calls.Load() }

// TestLiars: every container that misstates its coded size is refused by
// DecodeHeader, before any decoding, with ErrCorrupt (422). Not parallel,
// so that the count of WebAssembly calls is this test's alone.
func TestLiars(t *testing.T) {
	huge := readFile(t, "huge-frame.avif")
	tiny := readFile(t, "tiny.avif")
	grid := readFile(t, "tiny-grid-alpha.avif")
	anim := readFile(t, "tiny-anim.avif")
	heic := readFile(t, "tiny.heic")

	for _, tc := range []struct {
		name  string
		f     imageopto.ImageFormat
		data  []byte
		want  string
		calls int64 // WebAssembly calls DecodeHeader may make
	}{
		{"avif/64x64 ispe around a 13000x13000 frame", imageopto.AVIF, setISPE(huge, 64, 64),
			"container says 64x64, AV1 sequence header says 13000x13000", 0},
		{"avif/ispe larger than the frame", imageopto.AVIF, setISPE(tiny, 262, 202),
			"container says 262x202, AV1 sequence header says 131x101", 0},
		{"avif/ispe of the grid", imageopto.AVIF, edit(t, grid, func(h *heifInfo) { setItemISPE(t, h, h.meta.primary, 64, 64) }),
			"container says 64x64, the image grid says 128x128", 0},
		{"avif/grid output and ispe too large for the tiles", imageopto.AVIF, edit(t, grid, func(h *heifInfo) {
			g, err := h.meta.itemData(h.meta.primary)
			require.NoError(t, err)
			binary.BigEndian.PutUint16(g[4:], 200)
			setItemISPE(t, h, h.meta.primary, 200, 128)
		}), "cannot cover the grid's 200x128", 0},
		{"avif/grid output a tile smaller than the tiles", imageopto.AVIF, edit(t, grid, func(h *heifInfo) {
			g, err := h.meta.itemData(h.meta.primary)
			require.NoError(t, err)
			binary.BigEndian.PutUint16(g[6:], 64)
			setItemISPE(t, h, h.meta.primary, 128, 64)
		}), "overshoot", 0},
		{"avif/grid with fewer rows than tiles", imageopto.AVIF, edit(t, grid, func(h *heifInfo) {
			g, err := h.meta.itemData(h.meta.primary)
			require.NoError(t, err)
			g[2] = 0
		}), "has 4", 0},
		{"avif/a tile of another size", imageopto.AVIF, edit(t, grid, func(h *heifInfo) {
			tile := h.meta.dimg[h.meta.primary][1]
			d, err := h.meta.itemData(tile)
			require.NoError(t, err)
			setAV1Width(t, d, 32)
		}), "grid tile 2: container says 64x64, AV1 sequence header says 32x64", 0},
		{"avif/an alpha tile of another size", imageopto.AVIF, edit(t, grid, func(h *heifInfo) {
			require.Len(t, h.meta.alphas, 1)
			tile := h.meta.dimg[h.meta.alphas[0]][0]
			d, err := h.meta.itemData(tile)
			require.NoError(t, err)
			setAV1Width(t, d, 32)
		}), "alpha plane: grid tile 1", 0},
		{"avis/the first sample's sequence header", imageopto.AVIF, edit(t, anim, func(h *heifInfo) {
			tracks, err := parseTracks(h.moov)
			require.NoError(t, err)
			s := tracks[0]
			setAV1Width(t, h.file[s.chunk:s.chunk+s.sample], 64)
		}), "container says 131x101, AV1 sequence header says 64x101", 1},
		{"avis/the alpha track's sequence header", imageopto.AVIF, edit(t, anim, func(h *heifInfo) {
			tracks, err := parseTracks(h.moov)
			require.NoError(t, err)
			s := tracks[1]
			require.Equal(t, []uint32{tracks[0].id}, s.auxFor)
			setAV1Width(t, h.file[s.chunk:s.chunk+s.sample], 64)
		}), "alpha track: container says 131x101, AV1 sequence header says 64x101", 1},
		{"avis/the track header", imageopto.AVIF, edit(t, anim, func(h *heifInfo) {
			i := bytes.Index(h.file, []byte("tkhd"))
			require.Positive(t, i)
			at := 76 // the width's offset in the body of a version 0 tkhd
			if h.file[i+4] == 1 {
				at = 88
			}
			binary.BigEndian.PutUint32(h.file[i+4+at:], 64<<16)
		}), "says", 1},
		{"heic/64x64 ispe", imageopto.HEIC, setISPE(heic, 64, 64),
			"container says 64x64, HEVC sequence parameter set says 132x102", 0},
		{"heic/ispe of the grid", imageopto.HEIC, edit(t, heic, func(h *heifInfo) { setItemISPE(t, h, h.meta.primary, 120, 100) }),
			"container says 120x100, the image grid says 131x101", 0},
		{"heic/grid output and ispe too large for the tile", imageopto.HEIC, edit(t, heic, func(h *heifInfo) {
			g, err := h.meta.itemData(h.meta.primary)
			require.NoError(t, err)
			binary.BigEndian.PutUint16(g[4:], 300)
			setItemISPE(t, h, h.meta.primary, 300, 101)
		}), "cannot cover the grid's 300x101", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := codec(t, tc.f)
			before := wasmCalls()
			_, err := c.DecodeHeader(tc.data)
			require.Error(t, err)
			assert.ErrorIs(t, err, imageopto.ErrCorrupt)
			assert.ErrorContains(t, err, tc.want)
			t.Log(err)
			_, err = imageopto.TransformBytes(context.Background(), tc.data, imageopto.Params{}, transformOpts())
			assert.ErrorIs(t, err, imageopto.ErrCorrupt)
			assert.Equal(t, 422, imageopto.StatusCode(err))
			assert.LessOrEqual(t, wasmCalls()-before, 2*tc.calls, "no decoding: the header refused the file")
		})
	}
}

// TestHonestFiles: the fixtures, whose containers tell the truth, pass the
// coded size checks.
func TestHonestFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file  string
		f     imageopto.ImageFormat
		w, h  int
		alpha bool
	}{
		{"tiny.avif", imageopto.AVIF, 131, 101, false},
		{"tiny-irot.avif", imageopto.AVIF, 131, 101, false},
		{"tiny-rot.avif", imageopto.AVIF, 131, 101, false},
		{"tiny-anim.avif", imageopto.AVIF, 131, 101, true}, // avifenc gave its items an opaque alpha plane
		{"tiny-grid-alpha.avif", imageopto.AVIF, 128, 128, true},
		{"huge-frame.avif", imageopto.AVIF, 13000, 13000, false},
		{"tiny.heic", imageopto.HEIC, 131, 101, false},
		{"tiny-alpha.heic", imageopto.HEIC, 131, 101, true},
		{"tiny-narrow.heic", imageopto.HEIC, 96, 101, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			data := readFile(t, tc.file)
			h, err := parseHEIF(data)
			require.NoError(t, err)
			if h.hasMeta {
				codecType := "av01"
				if tc.f == imageopto.HEIC {
					codecType = "hvc1"
				}
				require.NoError(t, checkCodedSize(&h, codecType), "the primary item codes its ispe")
				assert.Equal(t, [2]int{tc.w, tc.h}, [2]int{h.width, h.height})
				assert.Equal(t, tc.alpha, h.hasAlpha)
			}
			if h.hasMoov {
				require.NoError(t, checkSequence(&h, tc.w, tc.h))
			}
		})
	}
}

// TestHugeFrame: the honest 13000×13000 file is measured as such, so the
// source limits refuse it (422) before anything is decoded.
func TestHugeFrame(t *testing.T) {
	data := readFile(t, "huge-frame.avif")
	before := wasmCalls()
	info, err := codec(t, imageopto.AVIF).DecodeHeader(data)
	require.NoError(t, err)
	assert.Equal(t, 13000, info.Width)
	assert.Equal(t, 13000, info.Height)
	t.Logf("BytesPerPixel %d: an estimate of %d MiB", info.BytesPerPixel, int64(info.BytesPerPixel)*13000*13000>>20)
	_, err = imageopto.TransformBytes(context.Background(), data, imageopto.Params{}, transformOpts())
	assert.ErrorIs(t, err, imageopto.ErrSourceTooLarge)
	assert.Equal(t, 422, imageopto.StatusCode(err))
	assert.Equal(t, before, wasmCalls(), "nothing decoded")
}

// TestDecodeAVIFGrid decodes the grid with alpha.
func TestDecodeAVIFGrid(t *testing.T) {
	t.Parallel()
	c := codec(t, imageopto.AVIF)
	data := readFile(t, "tiny-grid-alpha.avif")
	info, err := c.DecodeHeader(data)
	require.NoError(t, err)
	assert.True(t, info.HasAlpha)
	got, err := c.Decode(context.Background(), data)
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 128, 128), got.Bounds())
	want := image.NewNRGBA(image.Rect(0, 0, 128, 128))
	src := toNRGBA(readPNG(t, "tiny-alpha.png"))
	for y := range 101 {
		copy(want.Pix[y*want.Stride:], src.Pix[y*src.Stride:y*src.Stride+4*128])
	}
	assert.Less(t, alphaDiff(want, got), 2.0, "alpha is kept")
	assert.GreaterOrEqual(t, ssimLuma(want, got), 0.9)
}

// TestItemData covers the extents of an item's data.
func TestItemData(t *testing.T) {
	t.Parallel()
	file := []byte("0123456789abcdef")
	m := &heifMeta{file: file, idat: []byte("IDAT"), locs: map[uint32]location{
		1: {method: 0, extents: []extent{{2, 3}}},
		2: {method: 0, extents: []extent{{2, 3}, {10, 2}}},
		3: {method: 1, extents: []extent{{1, 0}}},
		4: {method: 0, extents: []extent{{2, 30}}},
		5: {method: 0, extents: []extent{{0, 16}, {0, 16}}},
		6: {method: 2, extents: []extent{{0, 1}}},
		7: {method: 0},
		8: {method: 0, extents: []extent{{0, 1}}, more: true},
		9: {method: 0, extents: []extent{{17, 0}}},
	}}
	for id, want := range map[uint32]string{1: "234", 2: "234ab", 3: "DAT"} {
		got, err := m.itemData(id)
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
	}
	for _, id := range []uint32{4, 5, 7, 8, 9, 10} {
		_, err := m.itemData(id)
		assert.Error(t, err, "item %d", id)
	}
	_, err := m.itemData(6)
	assert.ErrorIs(t, err, imageopto.ErrUnsupportedFormat)
}

// TestCodedBudget: items whose data overlap cannot make the checks walk
// the file over and over.
func TestCodedBudget(t *testing.T) {
	t.Parallel()
	data := readFile(t, "tiny-grid-alpha.avif")
	h, err := parseHEIF(data)
	require.NoError(t, err)
	// Point every tile at the whole file, and the grid at 64×64 copies of
	// them: each walk would cover the file.
	for _, tile := range h.meta.dimg[h.meta.primary] {
		h.meta.locs[tile] = location{extents: []extent{{0, uint64(len(data))}}}
	}
	err = checkCodedSize(&h, "av01")
	require.Error(t, err)
	assert.False(t, errors.Is(err, imageopto.ErrUnsupportedFormat))
}

// withoutProperty drops the associations of item id with properties of
// type typ (in memory).
func withoutProperty(h *heifInfo, id uint32, typ string) {
	var keep []int
	for _, idx := range h.meta.assoc[id] {
		if h.meta.props[idx-1].typ != typ {
			keep = append(keep, idx)
		}
	}
	h.meta.assoc[id] = keep
}

// TestCodedGridInMemory covers the grid checks that the fixture cannot show
// by rewriting bytes (its tiles, and its colour and alpha grids, share one
// ispe property), by editing the parsed tables instead.
func TestCodedGridInMemory(t *testing.T) {
	t.Parallel()
	data := readFile(t, "tiny-grid-alpha.avif")

	h, err := parseHEIF(bytes.Clone(data))
	require.NoError(t, err)
	tile := h.meta.dimg[h.meta.primary][3]
	d, err := h.meta.itemData(tile)
	require.NoError(t, err)
	setAV1Width(t, d, 63)
	withoutProperty(&h, tile, "ispe")
	assert.ErrorContains(t, checkCodedSize(&h, "av01"), "grid tile 4 is 63x64, tile 1 is 64x64")

	// An alpha grid of its own, larger than the colour grid.
	h, err = parseHEIF(bytes.Clone(data))
	require.NoError(t, err)
	alpha := h.meta.alphas[0]
	g, err := h.meta.itemData(alpha)
	require.NoError(t, err)
	bigger := bytes.Clone(g)
	binary.BigEndian.PutUint16(bigger[4:], 100)
	h.meta.locs[alpha] = location{method: 1, extents: []extent{{uint64(len(h.meta.idat)), uint64(len(bigger))}}}
	h.meta.idat = append(bytes.Clone(h.meta.idat), bigger...)
	withoutProperty(&h, alpha, "ispe")
	assert.ErrorContains(t, checkCodedSize(&h, "av01"), "the image is 128x128, its alpha plane 100x128")

	// Tiles that are not coded items, and a nested grid.
	h, err = parseHEIF(bytes.Clone(data))
	require.NoError(t, err)
	h.meta.itemTypes[h.meta.dimg[h.meta.primary][0]] = "grid"
	assert.ErrorIs(t, checkCodedSize(&h, "av01"), imageopto.ErrUnsupportedFormat)

	// A grid coding over twice its output: one 64×64 tile for a 40×40
	// output would be within a tile, but 2.56× the pixels.
	h, err = parseHEIF(bytes.Clone(data))
	require.NoError(t, err)
	g, err = h.meta.itemData(h.meta.primary)
	require.NoError(t, err)
	g[2], g[3] = 0, 0
	binary.BigEndian.PutUint16(g[4:], 40)
	binary.BigEndian.PutUint16(g[6:], 40)
	h.meta.dimg[h.meta.primary] = h.meta.dimg[h.meta.primary][:1]
	withoutProperty(&h, h.meta.primary, "ispe")
	h.meta.alphas = nil
	assert.ErrorContains(t, checkCodedSize(&h, "av01"), "over twice")
	binary.BigEndian.PutUint16(g[4:], 50)
	binary.BigEndian.PutUint16(g[6:], 50)
	assert.NoError(t, checkCodedSize(&h, "av01"), "64×64 for 50×50 is 1.64×")
}

// TestCodedDerivedHEIC covers identity and overlay items, built in memory
// around tiny.heic's grid.
func TestCodedDerivedHEIC(t *testing.T) {
	t.Parallel()
	h, err := parseHEIF(readFile(t, "tiny.heic"))
	require.NoError(t, err)
	grid := h.meta.primary
	m := h.meta
	derive := func(id uint32, typ string, inputs ...uint32) {
		m.itemTypes[id], m.dimg[id] = typ, inputs
		m.primary = id
	}
	derive(900, "iden", grid)
	assert.NoError(t, checkCodedSize(&h, "hvc1"))
	derive(901, "iden", grid, grid)
	assert.ErrorContains(t, checkCodedSize(&h, "hvc1"), "2 inputs")
	derive(902, "iden", 900)
	derive(903, "iden", 902)
	assert.ErrorIs(t, checkCodedSize(&h, "hvc1"), imageopto.ErrUnsupportedFormat, "nested too deep")

	overlay := func(id uint32, w, ht uint16, inputs ...uint32) {
		b := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		b = binary.BigEndian.AppendUint16(b, w)
		b = binary.BigEndian.AppendUint16(b, ht)
		for range inputs {
			b = append(b, 0, 0, 0, 0)
		}
		m.locs[id] = location{method: 1, extents: []extent{{uint64(len(m.idat)), uint64(len(b))}}}
		m.idat = append(bytes.Clone(m.idat), b...)
		derive(id, "iovl", inputs...)
	}
	overlay(910, 200, 150, grid)
	assert.NoError(t, checkCodedSize(&h, "hvc1"))
	overlay(911, 50, 50, grid)
	assert.ErrorContains(t, checkCodedSize(&h, "hvc1"), "for a 50x50 canvas")
	overlay(912, 200, 150)
	assert.ErrorContains(t, checkCodedSize(&h, "hvc1"), "without inputs")

	// AVIF has no identity or overlay items.
	derive(920, "iden", grid)
	assert.ErrorIs(t, checkCodedSize(&h, "av01"), imageopto.ErrUnsupportedFormat)
}
