// Command gensamples draws the sample images that the imageopto server
// embeds. Everything is procedural, from fixed seeds, so running it again
// gives the same files:
//
//	go run ./cmd/imageopto/internal/gensamples cmd/imageopto/samples
//
// It writes:
//
//	landscape.jpg  1600×1000 lake and mountains, stored rotated 90° counter-clockwise
//	               with EXIF Orientation 6, so only a decoder that honours EXIF shows it upright
//	portrait.jpg   720×1080 dusk variant, for fit and crop demos
//	badge.png      800×800 glossy emblem with a soft shadow on transparency
//	spinner.gif    200×200 animated loading spinner, 12 frames
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gensamples DIR")
		os.Exit(2)
	}
	if err := generate(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gensamples:", err)
		os.Exit(1)
	}
}

// generate writes every sample into dir.
func generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	samples := []struct {
		name string
		draw func() ([]byte, error)
	}{
		{"landscape.jpg", landscapeJPEG},
		{"portrait.jpg", portraitJPEG},
		{"badge.png", badgePNG},
		{"spinner.gif", spinnerGIF},
	}
	total := 0
	for _, s := range samples {
		data, err := s.draw()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.name), data, 0o644); err != nil {
			return err
		}
		fmt.Printf("%-14s %7d bytes\n", s.name, len(data))
		total += len(data)
	}
	fmt.Printf("%-14s %7d bytes\n", "total", total)
	return nil
}

// landscapeJPEG renders the landscape, stores it rotated 90°
// counter-clockwise and tags it with EXIF Orientation 6 ("rotate 90°
// clockwise to display").
func landscapeJPEG() ([]byte, error) {
	img := landscapeScene().render()
	data, err := encodeJPEG(rotateCCW(img), 85)
	if err != nil {
		return nil, err
	}
	return withOrientation(data, 6)
}

// portraitJPEG renders the dusk scene, stored upright without EXIF.
func portraitJPEG() ([]byte, error) {
	return encodeJPEG(portraitScene().render(), 85)
}

func encodeJPEG(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rotateCCW returns img turned 90° counter-clockwise: the top row becomes
// the left column, read bottom to top.
func rotateCCW(img *image.NRGBA) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, h, w))
	for y := range h {
		for x := range w {
			// Source (x, y) lands at (y, w-1-x).
			si := img.PixOffset(b.Min.X+x, b.Min.Y+y)
			di := out.PixOffset(y, w-1-x)
			copy(out.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return out
}

// withOrientation inserts, right after SOI, an APP1 segment holding a
// small Exif block: a big-endian TIFF header and IFD0 with Orientation
// (0x0112) and the other tags Exif requires in a JPEG's IFD0 (resolution
// 72 dpi, centred chroma siting).
func withOrientation(jpg []byte, orientation uint16) ([]byte, error) {
	if len(jpg) < 2 || jpg[0] != 0xFF || jpg[1] != 0xD8 {
		return nil, fmt.Errorf("not a JPEG")
	}
	const (
		typeShort    = 3
		typeRational = 5
		entries      = 5
		dataOffset   = 8 + 2 + entries*12 + 4 // after the header and IFD0
	)
	be := binary.BigEndian
	tiff := []byte{'M', 'M', 0, 42}
	tiff = be.AppendUint32(tiff, 8) // IFD0 follows the header
	tiff = be.AppendUint16(tiff, entries)
	short := func(tag, v uint16) {
		tiff = be.AppendUint16(tiff, tag)
		tiff = be.AppendUint16(tiff, typeShort)
		tiff = be.AppendUint32(tiff, 1)
		tiff = be.AppendUint16(tiff, v)
		tiff = append(tiff, 0, 0) // a SHORT is left-justified in the 4-byte field
	}
	rational := func(tag uint16, offset uint32) {
		tiff = be.AppendUint16(tiff, tag)
		tiff = be.AppendUint16(tiff, typeRational)
		tiff = be.AppendUint32(tiff, 1)
		tiff = be.AppendUint32(tiff, offset) // 8 bytes do not fit: stored after IFD0
	}
	// Entries in ascending tag order, as TIFF requires.
	short(0x0112, orientation)      // Orientation
	rational(0x011A, dataOffset)    // XResolution
	rational(0x011B, dataOffset+8)  // YResolution
	short(0x0128, 2)                // ResolutionUnit: inches
	short(0x0213, 1)                // YCbCrPositioning: centred
	tiff = be.AppendUint32(tiff, 0) // no next IFD
	// The values of XResolution and YResolution: 72/1 each.
	for range 2 {
		tiff = be.AppendUint32(tiff, 72)
		tiff = be.AppendUint32(tiff, 1)
	}

	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = be.AppendUint16(seg, uint16(2+len(payload))) // length counts itself
	seg = append(seg, payload...)

	out := make([]byte, 0, len(jpg)+len(seg))
	out = append(out, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...), nil
}
