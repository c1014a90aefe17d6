package wasmcodec

import (
	"errors"
	"fmt"
)

// This file finds the first sample of an AVIF image sequence's tracks (the
// moov box, ISO/IEC 14496-12 §8.3–8.7), which is all libavif decodes of
// one, so that its AV1 sequence header can be checked against the size the
// track declares. The walk reads only box headers and the first entries of
// the sample tables.

// track is what this package needs from a trak box.
type track struct {
	id          uint32
	auxFor      []uint32 // track IDs this one is an auxiliary (auxl) of
	width       int      // tkhd, integer part
	height      int
	sampleEntry string // type of the first sample entry (av01)
	av1C        []byte // of that sample entry
	chunk       uint64 // offset of the first chunk
	hasChunk    bool
	sample      uint64 // size of the first sample
	hasSample   bool
}

// parseTracks reads the trak boxes of a moov box body.
func parseTracks(moov []byte) ([]track, error) {
	var tracks []track
	err := children(moov, func(bx box) error {
		if bx.typ != "trak" {
			return nil
		}
		if len(tracks) >= maxItems {
			return errors.New("too many tracks")
		}
		t, err := parseTrack(bx.body)
		if err != nil {
			return err
		}
		tracks = append(tracks, t)
		return nil
	})
	return tracks, err
}

// parseTrack reads one trak box body.
func parseTrack(trak []byte) (track, error) {
	var t track
	var walk func(b []byte, depth int) error
	walk = func(b []byte, depth int) error {
		return children(b, func(bx box) error {
			r := &reader{b: bx.body}
			switch bx.typ {
			case "mdia", "minf", "stbl":
				if depth < 3 {
					return walk(bx.body, depth+1)
				}
			case "tkhd":
				v, _ := r.fullBox()
				if v == 1 {
					r.take(16) // creation and modification times
				} else {
					r.take(8)
				}
				t.id = r.u32()
				r.take(4) // reserved
				if v == 1 {
					r.take(8) // duration
				} else {
					r.take(4)
				}
				r.take(8 + 2 + 2 + 2 + 2 + 36) // reserved, layer, alternate_group, volume, reserved, matrix
				t.width, t.height = int(r.u32()>>16), int(r.u32()>>16)
			case "tref":
				return children(bx.body, func(ref box) error {
					if ref.typ != "auxl" {
						return nil
					}
					rr := &reader{b: ref.body}
					for len(rr.b) >= 4 && len(t.auxFor) < maxItems {
						t.auxFor = append(t.auxFor, rr.u32())
					}
					return nil
				})
			case "stsd":
				r.fullBox()
				if r.u32() == 0 || r.bad {
					return nil
				}
				entry, _, err := nextBox(r.b)
				if err != nil {
					return err
				}
				t.sampleEntry = entry.typ
				// VisualSampleEntry: 78 bytes of fields, then boxes.
				if entry.typ == "av01" && len(entry.body) >= 78 {
					return children(entry.body[78:], func(cb box) error {
						if cb.typ == "av1C" && t.av1C == nil {
							t.av1C = cb.body
						}
						return nil
					})
				}
			case "stco", "co64":
				r.fullBox()
				if r.u32() > 0 {
					if bx.typ == "stco" {
						t.chunk = uint64(r.u32())
					} else {
						t.chunk = uint64(r.u32())<<32 | uint64(r.u32())
					}
					t.hasChunk = !r.bad
				}
			case "stsz":
				r.fullBox()
				size, count := r.u32(), r.u32()
				if count > 0 {
					if size == 0 {
						size = r.u32()
					}
					t.sample, t.hasSample = uint64(size), !r.bad
				}
			}
			if r.bad {
				return fmt.Errorf("%w: %s", errTruncated, bx.typ)
			}
			return nil
		})
	}
	return t, walk(trak, 0)
}

// checkSequence verifies an AVIF image sequence: the first sample of the
// colour track that libavif decodes (the first av01 track with samples that
// is no other track's auxiliary) and of its alpha tracks must code the size
// that libavif reports (w×h) and the track header declares.
func checkSequence(h *heifInfo, w, ht int) error {
	tracks, err := parseTracks(h.moov)
	if err != nil {
		return err
	}
	var color *track
	for i := range tracks {
		t := &tracks[i]
		if t.id != 0 && t.hasChunk && t.sampleEntry == "av01" && len(t.auxFor) == 0 {
			color = t
			break
		}
	}
	if color == nil {
		return errors.New("no AV1 track")
	}
	if color.width != w || color.height != ht {
		return fmt.Errorf("the decoder says %dx%d, the track header %dx%d", w, ht, color.width, color.height)
	}
	check := func(t *track) error {
		if !t.hasSample {
			return errors.New("track without sample sizes")
		}
		file := h.file
		if t.chunk > uint64(len(file)) || t.sample > uint64(len(file))-t.chunk {
			return fmt.Errorf("first sample at %d+%d is past the end (%d bytes): truncated file", t.chunk, t.sample, len(file))
		}
		cw, ch, err := av1CodedSize(file[t.chunk:t.chunk+t.sample], t.av1C, false)
		if err != nil {
			return err
		}
		if cw != w || ch != ht {
			return fmt.Errorf("container says %dx%d, AV1 sequence header says %dx%d", w, ht, cw, ch)
		}
		return nil
	}
	if err := check(color); err != nil {
		return err
	}
	for i := range tracks {
		t := &tracks[i]
		if t == color || t.sampleEntry != "av01" || !t.hasChunk {
			continue
		}
		for _, a := range t.auxFor {
			if a == color.id {
				if err := check(t); err != nil {
					return fmt.Errorf("alpha track: %w", err)
				}
				break
			}
		}
	}
	return nil
}
