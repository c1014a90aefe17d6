package codec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io"
	"slices"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// EncodePNG writes img losslessly in the smallest suitable PNG form. The
// direct form is 8-bit grey when every pixel is opaque grey, RGB when the
// image is opaque, and RGBA otherwise. When the image has at most 256
// distinct colours (alpha included) a paletted PNG (1, 2, 4 or 8 bits per
// pixel) is encoded as well and the smaller of the two is written: palette
// rows are never filtered, so on smooth gradients the direct form can win.
// Decoding the result gives back img's exact pixels.
//
// ctx is polled every few rows of every pass over the image (see
// ctxpoll): once it is done, EncodePNG stops, leaving w with part of a file
// at most, and returns ctx.Err().
func EncodePNG(ctx context.Context, w io.Writer, img *image.NRGBA) error {
	if err := checkEncodable(img); err != nil {
		return err
	}
	pl := ctxpoll.New(ctx)
	opaque, gray, set, err := analyzePNG(&pl, img)
	if err != nil {
		return err
	}
	direct := nrgbaLayout(img, opaque)
	if gray && opaque {
		direct = grayLayout(img)
	}
	if set == nil {
		return writePNG(&pl, w, direct)
	}
	pm, err := palettedFromSet(&pl, img, set, false)
	if err != nil {
		return err
	}
	var pal, dir bytes.Buffer
	if err := writePNG(&pl, &pal, palettedLayout(pm)); err != nil {
		return err
	}
	if err := writePNG(&pl, &dir, direct); err != nil {
		return err
	}
	best := &pal
	if dir.Len() < pal.Len() {
		best = &dir
	}
	_, err = w.Write(best.Bytes())
	return err
}

// EncodeGIF writes img as a single-frame GIF. Pixels with alpha below 128
// become the one transparent palette entry; the others are treated as
// opaque. With at most 256 distinct colours (the transparent entry
// included) the palette is exact; otherwise the colours are reduced by
// median cut and Floyd–Steinberg dithering.
//
// ctx is polled every few rows of the colour analysis and quantisation
// (see ctxpoll), and image/gif's writes to w fail once it is done (the
// encoder writes every 4 KiB of compressed data): EncodeGIF then stops and
// returns ctx.Err().
func EncodeGIF(ctx context.Context, w io.Writer, img *image.NRGBA) error {
	if err := checkEncodable(img); err != nil {
		return err
	}
	pl := ctxpoll.New(ctx)
	pm, err := exactGIFPaletted(&pl, img)
	if err != nil {
		return err
	}
	if pm == nil {
		if pm, err = quantize(&pl, img, false); err != nil {
			return err
		}
	}
	if err := gif.Encode(ctxpoll.Writer(ctx, w), pm, nil); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return err
	}
	return nil
}

// checkEncodable rejects nil and empty images.
func checkEncodable(img *image.NRGBA) error {
	if img == nil {
		return errors.New("codec: nil image")
	}
	if img.Rect.Empty() {
		return fmt.Errorf("codec: empty image %v", img.Rect)
	}
	return nil
}

// colorSet is a small open-addressing hash set of packed colours that
// gives each colour a dense index in insertion order (or, after sort, in
// key order).
type colorSet struct {
	keys  [colorSetSlots]uint32
	vals  [colorSetSlots]uint16 // index+1; 0 marks an empty slot
	order [256]uint32           // keys by index
	n     int
}

// colorSetSlots keeps the load factor at or below 1/4 for 256 colours.
const colorSetSlots = 1024

// slot returns the slot holding k or the empty slot where k would go.
func (s *colorSet) slot(k uint32) int {
	i := int((k * 0x9E3779B1) >> 22) // top 10 bits of a Fibonacci hash
	for s.vals[i] != 0 && s.keys[i] != k {
		i = (i + 1) & (colorSetSlots - 1)
	}
	return i
}

// add inserts k and reports false when that would exceed 256 colours.
func (s *colorSet) add(k uint32) bool {
	i := s.slot(k)
	if s.vals[i] != 0 {
		return true
	}
	if s.n == len(s.order) {
		return false
	}
	s.keys[i] = k
	s.order[s.n] = k
	s.n++
	s.vals[i] = uint16(s.n)
	return true
}

// index returns k's index; k must be in the set.
func (s *colorSet) index(k uint32) uint8 {
	return uint8(s.vals[s.slot(k)] - 1)
}

// sortBy reorders the indices by cmp on the keys.
func (s *colorSet) sortBy(cmp func(a, b uint32) int) {
	keys := s.order[:s.n]
	slices.SortFunc(keys, cmp)
	for i, k := range keys {
		s.vals[s.slot(k)] = uint16(i + 1)
	}
}

// packNRGBA packs a pixel's bytes into a key.
func packNRGBA(p []byte) uint32 {
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}

// analyzePNG reports whether img is opaque and grey, and returns its
// colours when there are at most 256 of them (nil otherwise). It polls pl
// once per row.
func analyzePNG(pl *ctxpoll.Poller, img *image.NRGBA) (opaque, gray bool, set *colorSet, err error) {
	opaque, gray, set = true, true, new(colorSet)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return false, false, nil, err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		prev, havePrev := uint32(0), false
		for i := 0; i < len(row); i += 4 {
			p := row[i : i+4 : i+4]
			if p[3] != 0xFF {
				opaque = false
			}
			if p[0] != p[1] || p[1] != p[2] {
				gray = false
			}
			if set != nil {
				if k := packNRGBA(p); !havePrev || k != prev {
					prev, havePrev = k, true
					if !set.add(k) {
						set = nil
					}
				}
			}
		}
		if !opaque && !gray && set == nil {
			break
		}
	}
	return opaque, gray, set, nil
}

// palettedFromSet builds the paletted image for EncodePNG and EncodePNG8
// from the colours distinctColors or analyzePNG found (with the same
// clearTransparent). Entries with alpha below 255 come first so that the
// tRNS chunk stays short. It polls pl once per row.
func palettedFromSet(pl *ctxpoll.Poller, img *image.NRGBA, set *colorSet, clearTransparent bool) (*image.Paletted, error) {
	set.sortBy(func(a, b uint32) int {
		ao, bo := a&0xFF == 0xFF, b&0xFF == 0xFF
		if ao != bo {
			if ao {
				return 1
			}
			return -1
		}
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	pal := make(color.Palette, set.n)
	for i, k := range set.order[:set.n] {
		pal[i] = color.NRGBA{R: uint8(k >> 24), G: uint8(k >> 16), B: uint8(k >> 8), A: uint8(k)}
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	pm := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return nil, err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		out := pm.Pix[y*pm.Stride : y*pm.Stride+w]
		prev, idx := uint32(0), uint8(0)
		for x := range out {
			k := pngKey(row[4*x:4*x+4:4*x+4], clearTransparent)
			if x == 0 || k != prev {
				prev, idx = k, set.index(k)
			}
			out[x] = idx
		}
	}
	return pm, nil
}

// gifTransparentKey is the colorSet key used for pixels with alpha < 128;
// opaque keys always have their low byte set to 0xFF.
const gifTransparentKey = 0

// gifKey maps a pixel to its GIF palette key.
func gifKey(p []byte) uint32 {
	if p[3] < 0x80 {
		return gifTransparentKey
	}
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | 0xFF
}

// exactGIFPaletted returns img with an exact palette, or nil when it has
// more than 256 colours (the transparent entry included). It polls pl once
// per row.
func exactGIFPaletted(pl *ctxpoll.Poller, img *image.NRGBA) (*image.Paletted, error) {
	set := new(colorSet)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return nil, err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		prev := uint32(1) // never a valid key
		for i := 0; i < len(row); i += 4 {
			if k := gifKey(row[i : i+4]); k != prev {
				prev = k
				if !set.add(k) {
					return nil, nil
				}
			}
		}
	}
	set.sortBy(func(a, b uint32) int {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	pal := make(color.Palette, set.n)
	for i, k := range set.order[:set.n] {
		if k == gifTransparentKey {
			pal[i] = color.RGBA{}
		} else {
			pal[i] = color.RGBA{R: uint8(k >> 24), G: uint8(k >> 16), B: uint8(k >> 8), A: 0xFF}
		}
	}
	pm := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return nil, err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		out := pm.Pix[y*pm.Stride : y*pm.Stride+w]
		prev, idx := uint32(1), uint8(0)
		for x := range out {
			k := gifKey(row[4*x : 4*x+4])
			if k != prev {
				prev, idx = k, set.index(k)
			}
			out[x] = idx
		}
	}
	return pm, nil
}
