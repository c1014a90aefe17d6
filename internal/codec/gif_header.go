package codec

// GIF block introducers and labels (GIF89a spec).
const (
	gifExtension      = 0x21
	gifImageSeparator = 0x2C
	gifTrailer        = 0x3B
	gifGraphicControl = 0xF9
	gifColorTableFlag = 0x80
	gifTransparentBit = 0x01
)

// readGIFHeader reads the logical screen descriptor and walks the blocks,
// counting image descriptors without LZW-decoding anything: each data
// sub-block is skipped by its length byte, so the walk is linear in
// len(data).
func readGIFHeader(data []byte) (Header, error) {
	if len(data) < 13 {
		return Header{}, corruptf("gif: truncated logical screen descriptor")
	}
	h := Header{
		Width:         int(data[6]) | int(data[7])<<8,
		Height:        int(data[8]) | int(data[9])<<8,
		Orientation:   1,
		Scans:         1,
		BytesPerPixel: 1, // *image.Paletted
	}
	p := 13
	if flags := data[10]; flags&gifColorTableFlag != 0 {
		p += 3 << (flags&7 + 1)
	}
	if p > len(data) {
		return Header{}, corruptf("gif: truncated global colour table")
	}
	transparent := false // set by a graphic control extension for the next image
walk:
	for p < len(data) {
		switch data[p] {
		case gifExtension:
			if p+2 > len(data) {
				break walk
			}
			label := data[p+1]
			p += 2
			if label == gifGraphicControl && p+2 <= len(data) && data[p] == 4 {
				transparent = data[p+1]&gifTransparentBit != 0
			}
			var ok bool
			if p, ok = skipGIFSubBlocks(data, p); !ok {
				break walk
			}
		case gifImageSeparator:
			if p+10 > len(data) {
				break walk
			}
			d := data[p+1 : p+10]
			left, top := int(d[0])|int(d[1])<<8, int(d[2])|int(d[3])<<8
			fw, fh := int(d[4])|int(d[5])<<8, int(d[6])|int(d[7])<<8
			p += 10
			if d[8]&gifColorTableFlag != 0 {
				p += 3 << (d[8]&7 + 1)
			}
			if h.Frames == 0 {
				if left+fw > h.Width || top+fh > h.Height {
					return Header{}, corruptf("gif: first frame %dx%d+%d+%d lies outside the %dx%d screen",
						fw, fh, left, top, h.Width, h.Height)
				}
				if left != 0 || top != 0 || fw != h.Width || fh != h.Height {
					h.HasAlpha = true // the uncovered screen is transparent
				}
			}
			if transparent {
				h.HasAlpha = true
			}
			transparent = false
			h.Frames++
			p++ // LZW minimum code size
			if p > len(data) {
				break walk
			}
			var ok bool
			if p, ok = skipGIFSubBlocks(data, p); !ok {
				break walk
			}
		case gifTrailer:
			break walk
		default:
			if h.Frames == 0 {
				return Header{}, corruptf("gif: unknown block type %#02x", data[p])
			}
			break walk // trailing junk after the frames we can use
		}
	}
	if h.Frames == 0 {
		return Header{}, corruptf("gif: no image descriptor")
	}
	return h, nil
}

// skipGIFSubBlocks skips a sequence of data sub-blocks starting at p and
// returns the offset after its zero-length terminator, or false when the
// data ends first.
func skipGIFSubBlocks(data []byte, p int) (int, bool) {
	for p < len(data) {
		n := int(data[p])
		p++
		if n == 0 {
			return p, true
		}
		p += n
	}
	return len(data), false
}
