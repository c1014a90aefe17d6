package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Info is what Read finds in a file written by Write.
type Info struct {
	Brand         string   // ftyp major brand
	Boxes         []string // top-level box types, in order
	Width, Height int      // from tkhd
	Timescale     uint32   // from mdhd
	Duration      uint32   // from mdhd
	SPS, PPS      []byte   // from avcC
	Profile       uint8    // from avcC
	Level         uint8
	Durations     []uint32 // per sample, from stts
	Sync          []int    // 1-based sync sample numbers, from stss
	Samples       [][]byte // sample data, from stsz, stsc, stco
}

// Read parses an MP4 file of one video track, checking the structure
// Write produces: every box inside its parent, the tables consistent, the
// samples inside the file.
func Read(data []byte) (*Info, error) {
	info := &Info{}
	var sizes []uint32
	var offsets []uint32
	var stsc [][3]uint32
	var walk func(b []byte, depth int) error
	walk = func(b []byte, depth int) error {
		for len(b) > 0 {
			if len(b) < 8 {
				return errors.New("mp4: truncated box header")
			}
			size := binary.BigEndian.Uint32(b)
			typ := string(b[4:8])
			if size < 8 || int64(size) > int64(len(b)) {
				return fmt.Errorf("mp4: box %q of %d bytes in %d", typ, size, len(b))
			}
			body := b[8:size]
			if depth == 0 {
				info.Boxes = append(info.Boxes, typ)
			}
			var err error
			switch typ {
			case "moov", "trak", "mdia", "minf", "dinf", "stbl":
				err = walk(body, depth+1)
			case "ftyp":
				if len(body) >= 4 {
					info.Brand = string(body[:4])
				}
			case "tkhd":
				if len(body) < 84 {
					return errors.New("mp4: short tkhd")
				}
				info.Width = int(binary.BigEndian.Uint32(body[76:]) >> 16)
				info.Height = int(binary.BigEndian.Uint32(body[80:]) >> 16)
			case "mdhd":
				if len(body) < 20 {
					return errors.New("mp4: short mdhd")
				}
				info.Timescale = binary.BigEndian.Uint32(body[12:])
				info.Duration = binary.BigEndian.Uint32(body[16:])
			case "stsd":
				if len(body) < 8 {
					return errors.New("mp4: short stsd")
				}
				err = readSampleEntry(body[8:], info)
			case "stts":
				var t []uint32
				if t, err = table(body, 2); err == nil {
					for i := 0; i < len(t); i += 2 {
						if t[i] > uint32(len(data)) {
							return errors.New("mp4: stts count")
						}
						for range t[i] {
							info.Durations = append(info.Durations, t[i+1])
						}
					}
				}
			case "stss":
				var t []uint32
				if t, err = table(body, 1); err == nil {
					for _, v := range t {
						info.Sync = append(info.Sync, int(v))
					}
				}
			case "stsc":
				var t []uint32
				if t, err = table(body, 3); err == nil {
					for i := 0; i < len(t); i += 3 {
						stsc = append(stsc, [3]uint32{t[i], t[i+1], t[i+2]})
					}
				}
			case "stsz":
				if len(body) < 12 {
					return errors.New("mp4: short stsz")
				}
				if binary.BigEndian.Uint32(body[4:]) != 0 {
					return errors.New("mp4: constant sample size")
				}
				sizes, err = table(append([]byte{0, 0, 0, 0}, body[8:]...), 1)
			case "stco":
				offsets, err = table(body, 1)
			}
			if err != nil {
				return err
			}
			b = b[size:]
		}
		return nil
	}
	if err := walk(data, 0); err != nil {
		return nil, err
	}
	if info.SPS == nil || len(sizes) == 0 || info.Timescale == 0 {
		return nil, errors.New("mp4: no H.264 track with samples")
	}
	if len(sizes) != len(info.Durations) {
		return nil, fmt.Errorf("mp4: %d sizes, %d durations", len(sizes), len(info.Durations))
	}
	// Samples per chunk from stsc.
	next := 0
	for ci, off := range offsets {
		per := uint32(0)
		for _, e := range stsc {
			if e[0] <= uint32(ci+1) {
				per = e[1]
			}
		}
		for range per {
			if next >= len(sizes) {
				return nil, errors.New("mp4: more samples in chunks than in stsz")
			}
			end := uint64(off) + uint64(sizes[next])
			if end > uint64(len(data)) {
				return nil, errors.New("mp4: sample outside the file")
			}
			info.Samples = append(info.Samples, data[off:end])
			off = uint32(end)
			next++
		}
	}
	if next != len(sizes) {
		return nil, fmt.Errorf("mp4: %d samples in chunks, %d in stsz", next, len(sizes))
	}
	return info, nil
}

// table reads a full box holding an entry count and entries of n uint32s.
func table(body []byte, n int) ([]uint32, error) {
	if len(body) < 8 {
		return nil, errors.New("mp4: short table")
	}
	count := binary.BigEndian.Uint32(body[4:])
	if uint64(count)*uint64(4*n) != uint64(len(body)-8) {
		return nil, fmt.Errorf("mp4: table of %d entries in %d bytes", count, len(body)-8)
	}
	out := make([]uint32, 0, int(count)*n)
	for i := 8; i < len(body); i += 4 {
		out = append(out, binary.BigEndian.Uint32(body[i:]))
	}
	return out, nil
}

func readSampleEntry(b []byte, info *Info) error {
	if len(b) < 86 || string(b[4:8]) != "avc1" {
		return errors.New("mp4: no avc1 sample entry")
	}
	size := binary.BigEndian.Uint32(b)
	if int64(size) > int64(len(b)) || size < 86 {
		return errors.New("mp4: avc1 size")
	}
	for rest := b[86:size]; len(rest) >= 8; {
		n := binary.BigEndian.Uint32(rest)
		if n < 8 || int64(n) > int64(len(rest)) {
			return errors.New("mp4: box inside avc1")
		}
		if string(rest[4:8]) == "avcC" {
			c := rest[8:n]
			if len(c) < 8 {
				return errors.New("mp4: short avcC")
			}
			info.Profile, info.Level = c[1], c[3]
			l := int(binary.BigEndian.Uint16(c[6:]))
			if len(c) < 8+l+3 {
				return errors.New("mp4: avcC SPS")
			}
			info.SPS = c[8 : 8+l]
			c = c[8+l:]
			pl := int(binary.BigEndian.Uint16(c[1:]))
			if len(c) < 3+pl {
				return errors.New("mp4: avcC PPS")
			}
			info.PPS = c[3 : 3+pl]
		}
		rest = rest[n:]
	}
	if info.SPS == nil {
		return errors.New("mp4: no avcC")
	}
	return nil
}
