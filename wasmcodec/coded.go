package wasmcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/imageopto/imageopto"
)

// This file checks, before anything is decoded, that the size a HEIF
// container declares for the image (ispe, the grid's output size) is the
// size its coded data will decode to: AV1 sequence and frame headers for
// AVIF (av1.go), HEVC sequence parameter sets for HEIC (hevc.go). The
// decoders believe the bitstream while the memory estimate and the limits
// believe the container, so a file whose container understates its size
// would otherwise cost the decoder the real size's memory and CPU (and one
// that overstates it decodes to a garbled picture).
//
// The work is bounded: every item's data is walked at most once, and all
// the walks together may cover at most twice the file.

// maxDerivedDepth bounds the nesting of derived images (iden of a grid).
const maxDerivedDepth = 2

// codedChecker verifies the items of one file.
type codedChecker struct {
	m      *heifMeta
	codec  string // the coded item type: av01 or hvc1
	what   string // what the codec's size comes from, for errors
	budget int64  // bytes of item data that may still be walked
	sizes  map[uint32][2]int
}

// unsupported marks an error as ErrUnsupportedFormat: a file libavif or
// libheif would not decode either, not a corrupt one.
func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{imageopto.ErrUnsupportedFormat}, a...)...)
}

// checkCodedSize verifies that the primary item of h (and its tiles and
// alpha planes) codes the size the container declares, codec being av01
// for AVIF and hvc1 for HEIC. It returns an error wrapping
// imageopto.ErrUnsupportedFormat for structures the decoder does not
// support either, and a plain error (corrupt data) otherwise.
func checkCodedSize(h *heifInfo, codec string) error {
	c := &codedChecker{
		m:      h.meta,
		codec:  codec,
		budget: 2 * int64(len(h.meta.file)+len(h.meta.idat)),
		sizes:  map[uint32][2]int{},
		what:   "AV1 sequence header",
	}
	if codec == "hvc1" {
		c.what = "HEVC sequence parameter set"
	}
	w, ht, err := c.item(h.meta.primary, 0)
	if err != nil {
		return err
	}
	for _, a := range uniq(h.meta.alphas) {
		aw, ah, err := c.item(a, 0)
		if err != nil {
			return fmt.Errorf("alpha plane: %w", err)
		}
		if aw != w || ah != ht {
			return fmt.Errorf("the image is %dx%d, its alpha plane %dx%d", w, ht, aw, ah)
		}
	}
	return nil
}

// uniq returns the distinct values of ids, in order.
func uniq(ids []uint32) []uint32 {
	var out []uint32
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// item returns the size item id decodes to, checked against its ispe.
func (c *codedChecker) item(id uint32, depth int) (w, h int, err error) {
	if s, ok := c.sizes[id]; ok {
		return s[0], s[1], nil
	}
	if depth > maxDerivedDepth {
		return 0, 0, unsupported("derived images nested more than %d deep", maxDerivedDepth)
	}
	typ := c.m.itemTypes[id]
	what := c.what
	switch {
	case typ == c.codec:
		w, h, err = c.codedItem(id)
	case typ == "grid":
		w, h, err = c.grid(id, depth)
		what = "the image grid"
	case typ == "iden" && c.codec == "hvc1":
		w, h, err = c.identity(id, depth)
		what = "its input image"
	case typ == "iovl" && c.codec == "hvc1":
		w, h, err = c.overlay(id, depth)
		what = "the overlay"
	default:
		return 0, 0, unsupported("item %d of type %q", id, typ)
	}
	if err != nil {
		return 0, 0, err
	}
	if ispe, ok := c.m.property(id, "ispe"); ok {
		r := &reader{b: ispe}
		r.fullBox()
		iw, ih := r.u32(), r.u32()
		if r.bad {
			return 0, 0, errTruncated
		}
		if int64(iw) != int64(w) || int64(ih) != int64(h) {
			return 0, 0, fmt.Errorf("container says %dx%d, %s says %dx%d", iw, ih, what, w, h)
		}
	}
	c.sizes[id] = [2]int{w, h}
	return w, h, nil
}

// codedItem reads the size from a coded item's own data and configuration
// property.
func (c *codedChecker) codedItem(id uint32) (w, h int, err error) {
	data, err := c.data(id)
	if err != nil {
		return 0, 0, err
	}
	if c.codec == "av01" {
		av1C, _ := c.m.property(id, "av1C")
		_, layered := c.m.property(id, "a1lx")
		return av1CodedSize(data, av1C, layered)
	}
	hvcC, ok := c.m.property(id, "hvcC")
	if !ok {
		return 0, 0, fmt.Errorf("item %d has no hvcC", id)
	}
	return hevcCodedSize(data, hvcC)
}

// data returns an item's data, charging it to the walk budget.
func (c *codedChecker) data(id uint32) ([]byte, error) {
	data, err := c.m.itemData(id)
	if err != nil {
		return nil, err
	}
	if c.budget -= int64(len(data)); c.budget < 0 {
		return nil, errors.New("the items' data overlap")
	}
	return data, nil
}

// grid checks an image grid (HEIF §6.6.2.3): as many tiles as rows ×
// columns, all coded items of one size, which cover the output with less
// than a tile to spare on each axis, and code at most twice the output's
// pixels.
func (c *codedChecker) grid(id uint32, depth int) (w, h int, err error) {
	data, err := c.data(id)
	if err != nil {
		return 0, 0, err
	}
	if len(data) < 8 || data[0] != 0 {
		return 0, 0, errors.New("bad image grid")
	}
	rows, cols := int(data[2])+1, int(data[3])+1
	if data[1]&1 == 0 {
		w, h = int(binary.BigEndian.Uint16(data[4:])), int(binary.BigEndian.Uint16(data[6:]))
	} else {
		if len(data) < 12 {
			return 0, 0, errors.New("bad image grid")
		}
		w, h = int(binary.BigEndian.Uint32(data[4:])), int(binary.BigEndian.Uint32(data[8:]))
	}
	if w == 0 || h == 0 {
		return 0, 0, fmt.Errorf("image grid of %dx%d", w, h)
	}
	tiles := c.m.dimg[id]
	if len(tiles) != rows*cols {
		return 0, 0, fmt.Errorf("image grid of %dx%d tiles has %d", cols, rows, len(tiles))
	}
	var tw, th int
	for i, t := range tiles {
		if typ := c.m.itemTypes[t]; typ != c.codec {
			return 0, 0, unsupported("grid tile of type %q", typ)
		}
		iw, ih, err := c.item(t, depth+1)
		if err != nil {
			return 0, 0, fmt.Errorf("grid tile %d: %w", i+1, err)
		}
		if i == 0 {
			tw, th = iw, ih
		} else if iw != tw || ih != th {
			return 0, 0, fmt.Errorf("grid tile %d is %dx%d, tile 1 is %dx%d", i+1, iw, ih, tw, th)
		}
	}
	cw, ch := int64(cols)*int64(tw), int64(rows)*int64(th)
	if cw < int64(w) || ch < int64(h) {
		return 0, 0, fmt.Errorf("%dx%d tiles of %dx%d cannot cover the grid's %dx%d", cols, rows, tw, th, w, h)
	}
	if cw-int64(tw) >= int64(w) || ch-int64(th) >= int64(h) {
		return 0, 0, fmt.Errorf("%dx%d tiles of %dx%d overshoot the grid's %dx%d by a tile or more", cols, rows, tw, th, w, h)
	}
	if cw*ch > 2*int64(w)*int64(h) {
		return 0, 0, fmt.Errorf("%dx%d tiles of %dx%d code over twice the grid's %dx%d", cols, rows, tw, th, w, h)
	}
	return w, h, nil
}

// identity checks an identity-transformed item (iden): one input, whose
// size it has.
func (c *codedChecker) identity(id uint32, depth int) (w, h int, err error) {
	in := c.m.dimg[id]
	if len(in) != 1 {
		return 0, 0, fmt.Errorf("iden item with %d inputs", len(in))
	}
	return c.item(in[0], depth+1)
}

// overlay checks an image overlay (iovl, HEIF §6.6.2.4): a canvas, whose
// size it has, and inputs that together code at most twice its pixels.
func (c *codedChecker) overlay(id uint32, depth int) (w, h int, err error) {
	data, err := c.data(id)
	if err != nil {
		return 0, 0, err
	}
	r := &reader{b: data}
	if r.u8() != 0 {
		return 0, 0, errors.New("bad image overlay")
	}
	large := r.u8()&1 != 0
	r.take(8) // canvas_fill_value
	w, h = int(r.uN(large)), int(r.uN(large))
	if r.bad || w == 0 || h == 0 {
		return 0, 0, errors.New("bad image overlay")
	}
	in := c.m.dimg[id]
	if len(in) == 0 {
		return 0, 0, errors.New("image overlay without inputs")
	}
	var area int64
	for _, t := range in {
		iw, ih, err := c.item(t, depth+1)
		if err != nil {
			return 0, 0, err
		}
		area += int64(iw) * int64(ih)
	}
	if area > 2*int64(w)*int64(h) {
		return 0, 0, fmt.Errorf("image overlay inputs code %d pixels for a %dx%d canvas", area, w, h)
	}
	return w, h, nil
}

// property returns the body of the first property of type typ associated
// with item id.
func (m *heifMeta) property(id uint32, typ string) ([]byte, bool) {
	for _, idx := range m.assoc[id] {
		if idx > 0 && idx <= len(m.props) && m.props[idx-1].typ == typ {
			return m.props[idx-1].body, true
		}
	}
	return nil, false
}

// itemData returns the data of an item, as the decoder reads it: its
// extents in the file (construction method 0) or in the idat box (1),
// joined. A single extent is returned without copying. Extents may not
// add up to more than their source, so a copy is bounded by the file.
func (m *heifMeta) itemData(id uint32) ([]byte, error) {
	loc, ok := m.locs[id]
	if !ok {
		return nil, fmt.Errorf("item %d has no location (iloc)", id)
	}
	var src []byte
	switch loc.method {
	case 0:
		src = m.file
	case 1:
		src = m.idat
	default:
		return nil, unsupported("item %d: construction method %d", id, loc.method)
	}
	if loc.more {
		return nil, fmt.Errorf("item %d has over %d extents", id, maxExtents)
	}
	if len(loc.extents) == 0 {
		return nil, fmt.Errorf("item %d has no data", id)
	}
	var parts [][]byte
	var total uint64
	for _, e := range loc.extents {
		limit := uint64(len(src))
		if e.offset > limit {
			return nil, fmt.Errorf("item %d: data at %d is past the end (%d bytes)", id, e.offset, limit)
		}
		n := e.length
		if n == 0 { // to the end of the source (ISO/IEC 14496-12 §8.11.3.3)
			n = limit - e.offset
		}
		if n > limit-e.offset {
			return nil, fmt.Errorf("item %d: data at %d+%d is past the end (%d bytes)", id, e.offset, n, limit)
		}
		if total += n; total > limit {
			return nil, fmt.Errorf("item %d: extents add up to more than the file", id)
		}
		parts = append(parts, src[e.offset:e.offset+n])
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	out := make([]byte, 0, total)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, nil
}
