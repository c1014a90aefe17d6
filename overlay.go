package imageopto

// This file holds what planning and painting need of an overlay: the
// overlay image read up to its header (overlaySource, made by prepare),
// the placement geometry that layout.resolve turns into an overlayOp
// (ops.go), and the overlay's pixels, decoded and resized once per job
// however many frames or tiles use them.

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"sync"

	"github.com/imageopto/imageopto/internal/imaging"
)

// overlaySource is an overlay whose image header has been read: the
// canonical spec, the header, and a decoder that runs only when the
// overlay step is reached.
type overlaySource struct {
	spec Overlay
	info SourceInfo
	dec  decoder

	mu     sync.Mutex
	tile   *image.NRGBA // the overlay at its placed size (kept for a job's frames)
	filter ResizeFilter
}

// errOverlayImage is returned when TransformOptions.Overlay is set without
// an image.
var errOverlayImage = errors.New("imageopto: TransformOptions.Overlay is set but OverlayImage is empty")

// newOverlaySource reads the overlay of o (nil when there is none): its
// spec is checked, and its image header is read and held to the same
// limits as a source's.
func newOverlaySource(o *TransformOptions) (*overlaySource, error) {
	if o.Overlay == nil {
		return nil, nil
	}
	check := *o.Overlay
	if check.Path == "" { // Transform has the image itself: the path is optional
		check.Path = "/-"
	}
	spec, err := check.canonical()
	if err != nil {
		return nil, err
	}
	spec.Path = o.Overlay.Path
	if len(o.OverlayImage) == 0 {
		return nil, errOverlayImage
	}
	data := o.OverlayImage
	lim := o.Limits.withDefaults()
	if int64(len(data)) > lim.MaxSourceBytes {
		return nil, fmt.Errorf("%w: overlay image of %d bytes, limit %d", ErrSourceTooLarge, len(data), lim.MaxSourceBytes)
	}
	info, dec, err := inspect(data, o.Codecs)
	if err != nil {
		return nil, fmt.Errorf("overlay image: %w", err)
	}
	if err := lim.Check(info); err != nil {
		return nil, fmt.Errorf("overlay image: %w", err)
	}
	if info.Width <= 0 || info.Height <= 0 {
		return nil, fmt.Errorf("%w: overlay image has no pixels", ErrCorrupt)
	}
	return &overlaySource{spec: spec, info: info, dec: dec}, nil
}

// overlayGeometry is where an overlay goes on a w×h image: the overlay is
// resized to tw×th, and copies of it are placed with their top-left pixel
// at (x0 + i·sx, y0 + j·sy) for i < nx, j < ny — one copy when it is not
// repeated. The step is the overlay with its padding, so copies never
// overlap; only copies that touch the image are counted.
type overlayGeometry struct {
	tw, th int
	x0, y0 int
	sx, sy int
	nx, ny int
}

// overlayLayout resolves an overlay on a w×h output for an overlay image
// of ow×oh (upright). maxSide bounds the overlay's size.
func overlayLayout(w, h int, o Overlay, ow, oh, maxSide int) (overlayGeometry, error) {
	var g overlayGeometry
	switch {
	case o.Width.IsSet() && o.Height.IsSet():
		g.tw, g.th = roundPx(o.Width.Of(w)), roundPx(o.Height.Of(h))
	case o.Width.IsSet():
		g.tw = roundPx(o.Width.Of(w))
		g.th = roundPx(float64(oh) * float64(g.tw) / float64(ow))
	case o.Height.IsSet():
		g.th = roundPx(o.Height.Of(h))
		g.tw = roundPx(float64(ow) * float64(g.th) / float64(oh))
	default:
		g.tw, g.th = ow, oh
	}
	if g.tw > maxSide || g.th > maxSide {
		param, value := keyOverlay, o.Path
		switch {
		case g.tw > maxSide && o.Width.IsSet():
			param, value = keyOverlayWidth, lengthString(o.Width)
		case o.Height.IsSet():
			param, value = keyOverlayHeight, lengthString(o.Height)
		case o.Width.IsSet():
			param, value = keyOverlayWidth, lengthString(o.Width)
		}
		return g, &ParamError{Param: param, Value: value,
			Reason: fmt.Sprintf("the overlay would be %dx%d, over the %d px limit", g.tw, g.th, maxSide)}
	}
	top, bottom := int(math.Round(o.Pad.Top.Of(g.th))), int(math.Round(o.Pad.Bottom.Of(g.th)))
	left, right := int(math.Round(o.Pad.Left.Of(g.tw))), int(math.Round(o.Pad.Right.Of(g.tw)))
	g.sx, g.sy = left+g.tw+right, top+g.th+bottom
	g.x0, g.nx = overlayAxis(w, g.tw, g.sx, left, o.AlignX == AlignLeft, o.AlignX == AlignRight,
		o.Repeat == RepeatX || o.Repeat == RepeatBoth)
	g.y0, g.ny = overlayAxis(h, g.th, g.sy, top, o.AlignY == AlignTop, o.AlignY == AlignBottom,
		o.Repeat == RepeatY || o.Repeat == RepeatBoth)
	// Each copy is composited on its own: a tiny tile repeated over a large
	// output would cost millions of calls for one short request.
	if int64(g.nx)*int64(g.ny) > maxOverlayCopies {
		return g, &ParamError{Param: keyOverlayRepeat, Value: string(o.Repeat),
			Reason: fmt.Sprintf("%dx%d copies of a %dx%d overlay, over the limit of %d copies", g.nx, g.ny, g.tw, g.th, maxOverlayCopies)}
	}
	return g, nil
}

// maxOverlayCopies bounds overlay-repeat: a 64 px watermark tiled over an
// 8192² output is 16,384 copies.
const maxOverlayCopies = 1 << 16

// overlayAxis places an overlay of length n, in a cell of length cell
// that starts lead pixels before it, on an axis of length size: the cell
// at the start, the end or centred; repeated, the cells go on both ways
// from there until they leave the axis. It returns the first overlay's
// start and how many touch the axis.
func overlayAxis(size, n, cell, lead int, start, end, repeat bool) (first, count int) {
	c := int(math.Round(float64(size-cell) / 2)) // centred
	switch {
	case start:
		c = 0
	case end:
		c = size - cell
	}
	at := c + lead
	if !repeat {
		if at+n <= 0 || at >= size {
			return at, 0
		}
		return at, 1
	}
	// Copies at at + k·cell for every k with at + k·cell + n > 0 and
	// at + k·cell < size.
	kmin := floorDiv(-n-at, cell) + 1
	kmax := ceilDivInt(size-at, cell) - 1
	return at + kmin*cell, max(kmax-kmin+1, 0)
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDivInt(a, b int) int { return -floorDiv(-a, b) }

// upright is the overlay image's size after its EXIF orientation.
func (s *overlaySource) upright() (int, int) { return s.info.Upright() }

// memory is the most the overlay's pixels take while a tw×th copy is
// made: the decoder's buffer and the decoded image, an oriented copy, and
// the resized overlay.
func (s *overlaySource) memory(tw, th int) int64 {
	src := int64(s.info.Width) * int64(s.info.Height)
	bpp := int64(max(s.info.BytesPerPixel, 4))
	return src*(bpp+8) + 4*int64(tw)*int64(th)
}

// pixels returns the overlay decoded, converted to sRGB, upright and
// resized to tw×th with filter. The result is kept: the frames of an
// animation, and a plan resolved again, use it without decoding again.
func (s *overlaySource) pixels(ctx context.Context, tw, th int, filter ResizeFilter) (*image.NRGBA, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tile; t != nil && t.Rect.Dx() == tw && t.Rect.Dy() == th && s.filter == filter {
		return t, nil
	}
	s.tile = nil
	img, err := s.dec.first(ctx)
	if err != nil {
		return nil, fmt.Errorf("overlay image: %w", err)
	}
	if len(s.info.ICC) > 0 {
		if op, err := newColorOp(s.info.ICC); err == nil && op != nil {
			if img, err = op.Apply(ctx, img); err != nil {
				return nil, err
			}
		}
	}
	if o := s.info.Orientation; o > 1 && o <= 8 {
		if img, err = imaging.Orient(ctx, img, int(o)); err != nil {
			return nil, err
		}
	}
	if b := img.Bounds(); b.Dx() != tw || b.Dy() != th {
		if img, err = imaging.Resize(ctx, img, tw, th, imagingFilter(filter)); err != nil {
			return nil, err
		}
	}
	s.tile, s.filter = img, filter
	return img, nil
}

// release drops the kept pixels (at the end of a job).
func (s *overlaySource) release() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.tile = nil
	s.mu.Unlock()
}

// newOverlayOp resolves the overlay on a w×h image.
func newOverlayOp(src *overlaySource, w, h int, filter ResizeFilter, maxSide int) (*overlayOp, error) {
	ow, oh := src.upright()
	g, err := overlayLayout(w, h, src.spec, ow, oh, maxSide)
	if err != nil {
		return nil, err
	}
	return &overlayOp{src: src, g: g, w: w, h: h, filter: filter}, nil
}
