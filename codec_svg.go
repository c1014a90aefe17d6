package imageopto

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"io"
	"strconv"

	"github.com/imageopto/imageopto/internal/imaging"
)

// This file is SVG output (format=svg), one Codec value in builtinCodecs:
// {Format: SVG, Encode: writeSVG, EncodeMemory: svgEncodeMemory}.
// The transformed raster is wrapped in an SVG document:
//
//	<svg xmlns="http://www.w3.org/2000/svg" width="W" height="H" viewBox="0 0 W H">
//	<image width="W" height="H" href="data:image/png;base64,…"/></svg>
//
// With viewbox=1 (EncodeOptions.ViewBox) the root has only the viewBox, so
// the document scales to its container. The embedded image is whichever of
// JPEG (at EncodeOptions.Quality) and PNG is smaller, JPEG only for an
// opaque image. The document is generated here from numbers and base64
// alone: no text from the request or the source reaches it, and it holds
// nothing executable (no script, no event attribute, no reference outside
// itself). SVG sources are not read (not rasterised): see the package
// documentation.

// svgEncodeMemory is the SVG encoder's peak: the JPEG encoder, then the PNG
// encoder while the JPEG bytes are kept, then the embedded bytes and their
// base64 in the output buffer (grown once to its exact size). Measured
// (TotalAlloc over the encode, an upper bound): noise with alpha, PNG's
// worst case (4 bytes a pixel, 5.3 in base64), 16.7 bytes a pixel; noisy
// opaque pixels 9.9; a photo 4.6. The race detector's appends allocate
// about twice as much (33 for the noise), which the margin covers.
func svgEncodeMemory(w, h int, _ EncodeOptions) int64 {
	return 2<<20 + 25*int64(w)*int64(h)
}

// errSVGLarger stops the PNG encoder once its output is larger than the
// JPEG already made.
var errSVGLarger = errors.New("svg: png larger than jpeg")

// cappedBuffer is a buffer that refuses to grow past limit bytes.
type cappedBuffer struct {
	buf   bytes.Buffer
	limit int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.limit {
		return 0, errSVGLarger
	}
	return b.buf.Write(p)
}

// writeSVG writes img as an SVG document embedding a PNG or a JPEG.
func writeSVG(ctx context.Context, w io.Writer, img *image.NRGBA, o EncodeOptions) error {
	embedded, mime, err := svgRaster(ctx, img, o)
	if err != nil {
		return err
	}
	b := img.Rect.Size()
	width, height := strconv.Itoa(b.X), strconv.Itoa(b.Y)
	head := `<svg xmlns="http://www.w3.org/2000/svg"`
	if !o.ViewBox {
		head += ` width="` + width + `" height="` + height + `"`
	}
	head += ` viewBox="0 0 ` + width + ` ` + height + `">` +
		`<image width="` + width + `" height="` + height + `" href="data:` + mime + `;base64,`
	const tail = `"/></svg>` + "\n"
	if g, ok := w.(interface{ Grow(int) }); ok { // a bytes.Buffer: one allocation of the exact size
		g.Grow(len(head) + base64.StdEncoding.EncodedLen(len(embedded)) + len(tail))
	}
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	enc := base64.NewEncoder(base64.StdEncoding, w)
	if _, err := enc.Write(embedded); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = io.WriteString(w, tail)
	return err
}

// svgRaster encodes the image to embed: PNG for an image with transparency;
// for an opaque one JPEG, or PNG when that is smaller (flat graphics, few
// colours). The PNG encoder stops as soon as it passes the JPEG's size.
func svgRaster(ctx context.Context, img *image.NRGBA, o EncodeOptions) ([]byte, string, error) {
	png := func(limit int) ([]byte, error) {
		buf := &cappedBuffer{limit: limit}
		err := writePNG(ctx, buf, img, EncodeOptions{})
		return buf.buf.Bytes(), err
	}
	if !imaging.IsOpaque(img) {
		data, err := png(int(^uint(0) >> 1))
		return data, "image/png", err
	}
	var jpg bytes.Buffer
	if err := writeJPEG(ctx, &jpg, img, EncodeOptions{Quality: o.Quality, Progressive: o.Progressive}); err != nil {
		return nil, "", err
	}
	data, err := png(jpg.Len() - 1)
	switch {
	case errors.Is(err, errSVGLarger):
		return jpg.Bytes(), "image/jpeg", nil
	case err != nil:
		return nil, "", err
	}
	return data, "image/png", nil
}
