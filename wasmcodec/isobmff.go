package wasmcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/imageopto/imageopto"
)

// This file reads what DecodeHeader needs from an AVIF or HEIC file — the
// primary item's type, size (ispe), rotation (irot), mirror (imir), clean
// aperture (clap) and whether an alpha auxiliary image belongs to it —
// straight from the ISO base media file format boxes (ISO/IEC 14496-12 and
// HEIF, ISO/IEC 23008-12). It allocates little, never touches pixel data and
// does work proportional to the size of the boxes it walks, so it is safe on
// hostile input.

// heifInfo is what the box walk found.
type heifInfo struct {
	file      []byte
	fileLen   uint64 // bytes in the file
	major     string // major brand
	hasMeta   bool   // a meta box exists
	hasMoov   bool   // a moov box (image sequence) exists
	itemType  string // of the primary item: av01, hvc1, grid, …
	width     int    // ispe of the primary item, as stored
	height    int
	hasISPE   bool
	rotation  int // irot: anticlockwise quarter turns, 0–3
	mirror    int // imir: 0 none, 1 left and right exchanged, 2 top and bottom exchanged
	hasClap   bool
	clapW     int // clean aperture size, rounded
	clapH     int
	transform []string // transformative properties in ipma order (clap, irot, imir)
	hasAlpha  bool
	meta      *heifMeta // the item tables, for the coded size checks (coded.go)
	moov      []byte    // the body of the first moov box
}

// heifMeta is the item tables of the meta box.
type heifMeta struct {
	file      []byte // the whole file
	idat      []byte // the body of the idat box
	primary   uint32
	alphas    []uint32 // the primary item's alpha auxiliary items
	itemTypes map[uint32]string
	dimg      map[uint32][]uint32 // derived item → its inputs, in order
	props     []property
	assoc     map[uint32][]int // item → 1-based property indexes in ipma order
	locs      map[uint32]location
}

// extent is one piece of an item's data (iloc).
type extent struct{ offset, length uint64 }

// location is where an item's data is (iloc): in the file (construction
// method 0), in the meta box's idat (1) or in other items (2).
type location struct {
	method  uint32
	extents []extent
	more    bool // more extents than were kept
}

// maxItems bounds the item and property tables of the box walk: real files
// have a few dozen items (a 48-tile grid and its thumbnail have ~60).
const maxItems = 1 << 14

// maxExtents bounds the extents kept per item: encoders write one.
const maxExtents = 1024

var errTruncated = errors.New("truncated box")

// box is one ISOBMFF box: its type and payload (after the header).
type box struct {
	typ  string
	body []byte
}

// nextBox splits the box at the front of b. A size of 0 means "to the end".
func nextBox(b []byte) (bx box, rest []byte, err error) {
	if len(b) < 8 {
		return box{}, nil, errTruncated
	}
	size := uint64(binary.BigEndian.Uint32(b))
	typ := string(b[4:8])
	hdr := uint64(8)
	switch size {
	case 0:
		size = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return box{}, nil, errTruncated
		}
		size, hdr = binary.BigEndian.Uint64(b[8:]), 16
	}
	if size < hdr || size > uint64(len(b)) {
		return box{}, nil, fmt.Errorf("%w: %q box of %d bytes, %d left", errTruncated, typ, size, len(b))
	}
	return box{typ: typ, body: b[hdr:size]}, b[size:], nil
}

// children calls f for each box in b until f returns an error.
func children(b []byte, f func(box) error) error {
	for len(b) > 0 {
		bx, rest, err := nextBox(b)
		if err != nil {
			return err
		}
		if err := f(bx); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// reader reads big-endian integers from a box body, remembering the first
// short read.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
func (r *reader) u8() uint32  { return uint32(r.take(1)[0]) }
func (r *reader) u16() uint32 { return uint32(binary.BigEndian.Uint16(r.take(2))) }
func (r *reader) u32() uint32 { return binary.BigEndian.Uint32(r.take(4)) }

// uN reads a 16-bit or a 32-bit value.
func (r *reader) uN(wide bool) uint32 {
	if wide {
		return r.u32()
	}
	return r.u16()
}

// fullBox reads the version and flags of a FullBox.
func (r *reader) fullBox() (version, flags uint32) {
	v := r.u32()
	return v >> 24, v & 0xFFFFFF
}

// cstring reads a NUL-terminated string (or the rest of the box).
func (r *reader) cstring() string {
	for i, c := range r.b {
		if c == 0 {
			s := string(r.b[:i])
			r.b = r.b[i+1:]
			return s
		}
	}
	s := string(r.b)
	r.b = nil
	return s
}

// property is one entry of ipco.
type property struct {
	typ  string
	body []byte
}

// headerBoxes returns a copy of the file's ftyp and meta boxes, or data
// itself when it has none.
func headerBoxes(data []byte) []byte {
	var out []byte
	rest := data
	for len(rest) > 0 {
		bx, next, err := nextBox(rest)
		if err != nil {
			break
		}
		if bx.typ == "ftyp" || bx.typ == "meta" {
			out = append(out, rest[:len(rest)-len(next)]...)
		}
		rest = next
	}
	if out == nil {
		return data
	}
	return out
}

// parseHEIF walks the boxes of an AVIF or HEIC file.
func parseHEIF(data []byte) (heifInfo, error) {
	h := heifInfo{fileLen: uint64(len(data)), file: data}
	first := true
	var meta []byte
	err := children(data, func(bx box) error {
		if first {
			if bx.typ != "ftyp" || len(bx.body) < 8 {
				return errors.New("no ftyp box at the start")
			}
			h.major, first = string(bx.body[:4]), false
			return nil
		}
		switch bx.typ {
		case "meta":
			if !h.hasMeta {
				h.hasMeta, meta = true, bx.body
			}
		case "moov":
			if !h.hasMoov {
				h.hasMoov, h.moov = true, bx.body
			}
		}
		return nil
	})
	if first {
		return h, errors.New("no ftyp box at the start")
	}
	if err != nil && !h.hasMeta {
		// Damage after a meta box is left to the item location checks of
		// parseMeta, which report data missing from the file.
		return h, err
	}
	if !h.hasMeta {
		return h, nil
	}
	return h, h.parseMeta(meta, data)
}

// parseMeta reads the meta box of a HEIF file.
func (h *heifInfo) parseMeta(meta, file []byte) error {
	if len(meta) < 4 {
		return errTruncated
	}
	var (
		primary   uint32
		havePitm  bool
		itemTypes = map[uint32]string{}
		auxlRefs  [][2]uint32             // from, to
		dimg      = map[uint32][]uint32{} // derived item → its inputs (grid tiles)
		props     []property
		assoc     = map[uint32][]int{} // item → 1-based property indexes in ipma order
		locs      = map[uint32]location{}
		idat      []byte
		nrefs     int
	)
	err := children(meta[4:], func(bx box) error {
		r := &reader{b: bx.body}
		switch bx.typ {
		case "pitm":
			v, _ := r.fullBox()
			primary, havePitm = r.uN(v != 0), true
		case "iinf":
			v, _ := r.fullBox()
			r.uN(v != 0) // entry count: the boxes that follow are authoritative
			if r.bad {
				return errTruncated
			}
			return children(r.b, func(infe box) error {
				if infe.typ != "infe" {
					return nil
				}
				if len(itemTypes) >= maxItems {
					return errors.New("too many items")
				}
				ir := &reader{b: infe.body}
				iv, _ := ir.fullBox()
				if iv < 2 {
					return nil // pre-HEIF item info without an item type
				}
				id := ir.uN(iv != 2)
				ir.u16() // protection index
				typ := string(ir.take(4))
				if ir.bad {
					return errTruncated
				}
				itemTypes[id] = typ
				return nil
			})
		case "iref":
			v, _ := r.fullBox()
			if r.bad {
				return errTruncated
			}
			return children(r.b, func(ref box) error {
				rr := &reader{b: ref.body}
				from := rr.uN(v != 0)
				n := rr.u16()
				for range n {
					to := rr.uN(v != 0)
					if rr.bad {
						return errTruncated
					}
					if nrefs++; nrefs > maxItems {
						return errors.New("too many item references")
					}
					switch ref.typ {
					case "auxl":
						auxlRefs = append(auxlRefs, [2]uint32{from, to})
					case "dimg":
						dimg[from] = append(dimg[from], to)
					}
				}
				return nil
			})
		case "idat":
			idat = bx.body
		case "iloc":
			return parseILOC(r, locs)
		case "iprp":
			return children(bx.body, func(p box) error {
				switch p.typ {
				case "ipco":
					return children(p.body, func(prop box) error {
						if len(props) >= maxItems {
							return errors.New("too many properties")
						}
						props = append(props, property(prop))
						return nil
					})
				case "ipma":
					pr := &reader{b: p.body}
					v, flags := pr.fullBox()
					n := pr.u32()
					for i := uint32(0); i < n && !pr.bad; i++ {
						id := pr.uN(v >= 1)
						k := pr.u8()
						if len(assoc) >= maxItems {
							return errors.New("too many property associations")
						}
						list := assoc[id]
						for range k {
							var idx uint32
							if flags&1 != 0 {
								idx = pr.u16() & 0x7FFF
							} else {
								idx = pr.u8() & 0x7F
							}
							if pr.bad {
								break
							}
							list = append(list, int(idx))
						}
						assoc[id] = list
					}
					if pr.bad {
						return errTruncated
					}
				}
				return nil
			})
		}
		if r.bad {
			return errTruncated
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !havePitm {
		return errors.New("no primary item (pitm)")
	}
	typ, ok := itemTypes[primary]
	if !ok {
		return fmt.Errorf("primary item %d has no item info", primary)
	}
	h.itemType = typ
	h.meta = &heifMeta{file: file, idat: idat, primary: primary, itemTypes: itemTypes, dimg: dimg, props: props, assoc: assoc, locs: locs}
	for _, idx := range assoc[primary] {
		if idx == 0 || idx > len(props) {
			continue
		}
		if err := h.applyProperty(props[idx-1]); err != nil {
			return err
		}
	}
	// The items the decoder reads: the primary item, its grid tiles and its
	// alpha plane. Their data must be in the file: libavif would otherwise
	// report success with an empty image.
	need := append([]uint32{primary}, dimg[primary]...)
	for _, ref := range auxlRefs {
		if ref[1] != primary {
			continue
		}
		for _, idx := range assoc[ref[0]] {
			if idx == 0 || idx > len(props) || props[idx-1].typ != "auxC" {
				continue
			}
			r := &reader{b: props[idx-1].body}
			r.fullBox()
			switch r.cstring() {
			case "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", "urn:mpeg:hevc:2015:auxid:1":
				h.hasAlpha = true
				h.meta.alphas = append(h.meta.alphas, ref[0])
				need = append(need, ref[0])
			}
		}
	}
	for _, id := range need {
		if err := checkLocation(id, locs, h.fileLen, uint64(len(idat))); err != nil {
			return err
		}
	}
	return nil
}

// parseILOC reads the item location box.
func parseILOC(r *reader, locs map[uint32]location) error {
	v, _ := r.fullBox()
	if v > 2 {
		return fmt.Errorf("iloc version %d", v)
	}
	sizes := r.u16()
	offSize, lenSize, baseSize, idxSize := sizes>>12, sizes>>8&0xF, sizes>>4&0xF, sizes&0xF
	if v == 0 {
		idxSize = 0
	}
	for _, n := range []uint32{offSize, lenSize, baseSize, idxSize} {
		if n != 0 && n != 4 && n != 8 {
			return fmt.Errorf("iloc field size %d", n)
		}
	}
	num := func(size uint32) uint64 {
		switch size {
		case 4:
			return uint64(r.u32())
		case 8:
			return uint64(r.u32())<<32 | uint64(r.u32())
		}
		return 0
	}
	count := r.uN(v == 2)
	for i := uint32(0); i < count && !r.bad; i++ {
		id := r.uN(v == 2)
		var loc location
		if v >= 1 {
			loc.method = r.u16() & 0xF
		}
		r.u16() // data reference index
		base := num(baseSize)
		n := r.u16()
		for range n {
			num(idxSize)
			off, length := num(offSize), num(lenSize)
			if r.bad {
				break
			}
			if len(loc.extents) < maxExtents {
				loc.extents = append(loc.extents, extent{base + off, length})
			} else {
				loc.more = true
			}
		}
		if len(locs) >= maxItems {
			return errors.New("too many item locations")
		}
		locs[id] = loc
	}
	if r.bad {
		return errTruncated
	}
	return nil
}

// checkLocation reports an error when item id has no location or its data
// lies past the end of the file (or of the idat box).
func checkLocation(id uint32, locs map[uint32]location, fileLen, idatLen uint64) error {
	loc, ok := locs[id]
	if !ok {
		return fmt.Errorf("item %d has no location (iloc)", id)
	}
	limit := fileLen
	switch loc.method {
	case 0:
	case 1:
		limit = idatLen
	default:
		return nil // built from other items' data
	}
	if len(loc.extents) == 0 {
		return fmt.Errorf("item %d has no data", id)
	}
	for _, e := range loc.extents {
		if e.offset > limit || e.length > limit-e.offset {
			return fmt.Errorf("item %d: data at %d+%d is past the end (%d bytes): truncated file", id, e.offset, e.length, limit)
		}
	}
	return nil
}

// applyProperty records one property of the primary item.
func (h *heifInfo) applyProperty(p property) error {
	r := &reader{b: p.body}
	switch p.typ {
	case "ispe":
		r.fullBox()
		w, ht := r.u32(), r.u32()
		if r.bad {
			return errTruncated
		}
		h.width, h.height, h.hasISPE = int(w), int(ht), true
	case "irot":
		h.rotation = int(r.u8() & 3)
		h.transform = append(h.transform, "irot")
	case "imir":
		// ISO/IEC 23008-12:2022: axis 0 exchanges top and bottom, 1 left
		// and right (the 2017 draft said the opposite; libavif ≥ 1.0,
		// libheif and browsers follow 2022).
		if r.u8()&1 == 0 {
			h.mirror = 2
		} else {
			h.mirror = 1
		}
		h.transform = append(h.transform, "imir")
	case "clap":
		var v [8]uint32
		for i := range v {
			v[i] = r.u32()
		}
		if r.bad {
			return errTruncated
		}
		h.hasClap = true
		h.clapW, h.clapH = roundFraction(v[0], v[1]), roundFraction(v[2], v[3])
		h.transform = append(h.transform, "clap")
	}
	if r.bad {
		return errTruncated
	}
	return nil
}

// roundFraction returns n/d rounded to the nearest integer, 0 when d is 0.
func roundFraction(n, d uint32) int {
	if d == 0 {
		return 0
	}
	return int(math.Round(float64(n) / float64(d)))
}

// orientation maps HEIF rotation (anticlockwise quarter turns) followed by
// mirroring to the EXIF orientation that has the same effect.
var orientation = [4][3]imageopto.Orientation{
	// no mirror, left and right exchanged, top and bottom exchanged
	{1, 2, 4}, // no rotation
	{8, 7, 5}, // 90° anticlockwise
	{3, 4, 2}, // 180°
	{6, 5, 7}, // 270° anticlockwise = 90° clockwise
}

// exifOrientation returns the EXIF orientation equivalent to the item's irot
// and imir, or 0 when there are none.
func (h heifInfo) exifOrientation() imageopto.Orientation {
	o := orientation[h.rotation&3][h.mirror%3]
	if o == 1 {
		return 0
	}
	return o
}

// displaySize returns the size after the transformative properties, as
// libheif applies them: clean aperture, then rotation (mirroring keeps the
// size).
func (h heifInfo) displaySize() (w, ht int) {
	w, ht = h.width, h.height
	for _, t := range h.transform {
		switch t {
		case "clap":
			w, ht = h.clapW, h.clapH
		case "irot":
			if h.rotation&1 == 1 {
				w, ht = ht, w
			}
		}
	}
	return w, ht
}
