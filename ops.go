package imageopto

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/imageopto/imageopto/internal/icc"
	"github.com/imageopto/imageopto/internal/imaging"
)

// This file holds the built-in operations of a plan, resolved with
// concrete numbers by layout.resolve. Each is a Step (Apply is the RGB
// painter's work) and says, with optional methods, what the other readers
// of a plan need:
//
//   - planarOp: a geometric operation composes itself into the planar
//     painter's map from output to source pixels (transform_ycbcr.go);
//     a plan whose operations all do can stay in Y′CbCr planes;
//   - contentOp: the operation depends on the pixels (trim-color, smart
//     crop); a run asks it to look, then resolves the plan again;
//   - scratchOp: working memory beyond the two images EstimateMemory
//     counts for every plan (per pixel of the largest image, or in bytes
//     with scratchBytes for memory that does not scale with the image).
//
// Adding an operation is one type here and one line in layout.resolve.
// Custom steps (any Step) run on the RGB path after the built-in ones.

// planarOp is an operation the planar painter can compose.
type planarOp interface {
	compose(g *planarGeometry)
}

// contentOp is an operation whose numbers depend on the pixels: analyze
// looks at the image it would be applied to and records the answer.
type contentOp interface {
	analyze(ctx context.Context, img *image.NRGBA, f *facts) error
}

// scratchOp is an operation that needs scratch memory: bytes per pixel of
// the largest image the plan makes.
type scratchOp interface {
	scratchPerPixel() int64
}

// scratchBytesOp is an operation that needs a fixed amount of scratch
// memory, in bytes, whatever the size of the image (an overlay's pixels).
type scratchBytesOp interface {
	scratchBytes() int64
}

// colorOp converts pixels from an embedded ICC profile to sRGB.
type colorOp struct {
	t    *icc.Transform
	desc string
}

// newColorOp prepares the conversion of a profile to sRGB; it returns nil
// when the profile is sRGB already (nothing to do).
func newColorOp(profile []byte) (*colorOp, error) {
	p, err := icc.Parse(profile)
	if err != nil {
		return nil, err
	}
	if p.IsSRGB() {
		return nil, nil
	}
	t, err := p.ToSRGB()
	if err != nil {
		return nil, err
	}
	return &colorOp{t: t, desc: p.String()}, nil
}

func (s *colorOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	if err := s.t.ApplyNRGBA(ctx, img); err != nil {
		return nil, err
	}
	return img, nil
}

func (s *colorOp) String() string { return "to-srgb(" + s.desc + ")" }

// orientOp flips or rotates a w×h image (EXIF orientation, or orient=).
type orientOp struct {
	o    Orientation
	exif bool
	w, h int // the size it is given (full resolution)
}

func (s *orientOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	return imaging.Orient(ctx, img, int(s.o))
}

func (s *orientOp) compose(g *planarGeometry) {
	g.m = g.m.then(orientMap(s.o, s.w, s.h))
	if s.o.Swaps() {
		g.w, g.h = g.h, g.w
	}
}

func (s *orientOp) String() string {
	if s.exif {
		return fmt.Sprintf("exif-orientation(%d)", s.o)
	}
	return fmt.Sprintf("orient(%d)", s.o)
}

// cropOp keeps the rectangle r of a w×h image (precrop, trim, crop, and
// trim-color once its box is known).
type cropOp struct {
	param string
	sides bool // trim: print as "trim(…)" of the box
	r     image.Rectangle
	w, h  int
}

func (s *cropOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	b := img.Bounds()
	if b.Dx() != s.w || b.Dy() != s.h {
		return nil, fmt.Errorf("%w: %s planned on a %dx%d image, given %dx%d", ErrInternal, s.param, s.w, s.h, b.Dx(), b.Dy())
	}
	if r := s.r.Add(b.Min); r != b {
		return imaging.Crop(ctx, img, r)
	}
	return img, nil
}

func (s *cropOp) compose(g *planarGeometry) {
	if s.r == image.Rect(0, 0, g.w, g.h) {
		return
	}
	g.m = g.m.then(affine{a: 1, d: 1, tx: float64(s.r.Min.X), ty: float64(s.r.Min.Y)})
	g.w, g.h = s.r.Dx(), s.r.Dy()
	g.clip = g.extent()
}

func (s *cropOp) String() string {
	return fmt.Sprintf("%s(%dx%d+%d+%d)", s.param, s.r.Dx(), s.r.Dy(), s.r.Min.X, s.r.Min.Y)
}

// trimColorOp is trim-color before its box is known.
type trimColorOp struct{ t TrimColor }

func (s *trimColorOp) analyze(ctx context.Context, img *image.NRGBA, f *facts) error {
	c := toNRGBA(s.t.Color)
	if s.t.Auto {
		c = img.NRGBAAt(0, 0)
	}
	r, err := imaging.TrimBounds(ctx, img, c, s.t.Threshold)
	if err != nil {
		return err
	}
	if r.Empty() {
		return &ParamError{Param: "trim-color", Value: trimColorString(s.t), Reason: "trims away the whole image (result 0x0)"}
	}
	r = r.Sub(img.Bounds().Min)
	f.trim = &r
	return nil
}

// Apply is never reached through a Plan, which resolves the box first;
// it is here so that the operation is a Step.
func (s *trimColorOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	var f facts
	if err := s.analyze(ctx, img, &f); err != nil {
		return nil, err
	}
	return imaging.Crop(ctx, img, f.trim.Add(img.Bounds().Min))
}

func (s *trimColorOp) String() string {
	return fmt.Sprintf("trim-color(%s,t%g)", trimColorString(s.t), s.t.Threshold)
}

// smartCropOp is a content-aware crop of a w×h window before its place is
// known.
type smartCropOp struct {
	param string
	index int // in facts.smart
	w, h  int // the window
}

func (s *smartCropOp) analyze(ctx context.Context, img *image.NRGBA, f *facts) error {
	b := img.Bounds()
	fact := &smartFact{}
	if s.w <= b.Dx() && s.h <= b.Dy() {
		pt, err := imaging.SmartCrop(ctx, img, s.w, s.h)
		if err != nil {
			return err
		}
		fact.at = &pt
	}
	f.smart[s.index] = fact
	return nil
}

// Apply is never reached through a Plan (see trimColorOp.Apply).
func (s *smartCropOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	var f facts
	if err := s.analyze(ctx, img, &f); err != nil {
		return nil, err
	}
	if at := f.smart[s.index].at; at != nil {
		return imaging.Crop(ctx, img, image.Rect(at.X, at.Y, at.X+s.w, at.Y+s.h).Add(img.Bounds().Min))
	}
	return img, nil
}

func (s *smartCropOp) String() string { return fmt.Sprintf("%s(%dx%d,smart)", s.param, s.w, s.h) }

// resizeOp resamples the window g.Src of a w×h image to g.W×g.H. With
// shrink-on-load (scale > 1) the image arrives scale times smaller than
// the w×h the window refers to.
type resizeOp struct {
	g      resizeGeometry
	filter ResizeFilter
	w, h   int
	scale  int
	// window: resample the window g.Src covers at the reduction, to the
	// fraction of a pixel (a PNG in boxes: a side that the box does not
	// divide ends in a narrower box), rather than the whole pixels that
	// hold it.
	window bool
}

func (s *resizeOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	b := img.Bounds()
	src := s.g.Src.Add(b.Min)
	if s.window && s.scale > 1 && b.Dx() < s.w {
		sc := float64(s.scale)
		x0, y0 := float64(s.g.Src.Min.X)/sc, float64(s.g.Src.Min.Y)/sc
		x1, y1 := min(float64(s.g.Src.Max.X)/sc, float64(b.Dx())), min(float64(s.g.Src.Max.Y)/sc, float64(b.Dy()))
		px := image.Rect(int(x0), int(y0), int(math.Ceil(x1)), int(math.Ceil(y1))).Add(b.Min).Intersect(b)
		var err error
		if px != b {
			if img, err = imaging.Crop(ctx, img, px); err != nil {
				return nil, err
			}
		}
		ox, oy := float64(px.Min.X-b.Min.X), float64(px.Min.Y-b.Min.Y)
		return imaging.ResizeWindow(ctx, img, s.g.W, s.g.H, imagingFilter(s.filter), x0-ox, y0-oy, x1-ox, y1-oy)
	}
	if s.scale > 1 && b.Dx() < s.w {
		src = image.Rect(s.g.Src.Min.X/s.scale, s.g.Src.Min.Y/s.scale,
			ceilDiv(s.g.Src.Max.X, s.scale), ceilDiv(s.g.Src.Max.Y, s.scale)).Add(b.Min).Intersect(b)
	}
	var err error
	if src != b {
		if img, err = imaging.Crop(ctx, img, src); err != nil {
			return nil, err
		}
	}
	return imaging.Resize(ctx, img, s.g.W, s.g.H, imagingFilter(s.filter))
}

func (s *resizeOp) compose(g *planarGeometry) {
	f := s.g.SrcF
	g.m = g.m.then(affine{
		a: (f.X1 - f.X0) / float64(s.g.W), d: (f.Y1 - f.Y0) / float64(s.g.H),
		tx: f.X0, ty: f.Y0,
	})
	g.w, g.h = s.g.W, s.g.H
	g.filter = imagingFilter(s.filter)
}

func (s *resizeOp) String() string {
	win := ""
	if s.g.Src != image.Rect(0, 0, s.w, s.h) {
		win = fmt.Sprintf(" of %dx%d+%d+%d", s.g.Src.Dx(), s.g.Src.Dy(), s.g.Src.Min.X, s.g.Src.Min.Y)
	}
	shrink := ""
	if s.scale > 1 {
		shrink = fmt.Sprintf(" decoded at 1/%d", s.scale)
	}
	return fmt.Sprintf("resize(%dx%d%s %s%s)", s.g.W, s.g.H, win, s.filter, shrink)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func imagingFilter(f ResizeFilter) imaging.Filter {
	switch f {
	case FilterNearest:
		return imaging.Nearest
	case FilterBilinear:
		return imaging.Bilinear
	case FilterBicubic:
		return imaging.Bicubic
	case FilterLanczos2:
		return imaging.Lanczos2
	}
	return imaging.Lanczos3
}

// placeOp puts the image at x, y on a w×h canvas filled with bg (pad and
// canvas).
type placeOp struct {
	param, size string
	w, h, x, y  int
	bg          color.NRGBA
}

func (s *placeOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	return imaging.Place(ctx, s.w, s.h, s.bg, img, s.x, s.y)
}

func (s *placeOp) String() string {
	return fmt.Sprintf("%s(%s: %dx%d, image at %d,%d)", s.param, s.size, s.w, s.h, s.x, s.y)
}

// flattenOp composes transparent pixels onto bg (bg-color).
type flattenOp struct{ bg color.NRGBA }

func (s *flattenOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	if err := imaging.Flatten(ctx, img, s.bg); err != nil {
		return nil, err
	}
	return img, nil
}

func (s *flattenOp) String() string {
	return fmt.Sprintf("bg-color(%d,%d,%d,%d)", s.bg.R, s.bg.G, s.bg.B, s.bg.A)
}

// adjustOp changes brightness, contrast and saturation.
type adjustOp struct{ b, c, s float64 }

func (s *adjustOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	if err := imaging.Adjust(ctx, img, s.b, s.c, s.s); err != nil {
		return nil, err
	}
	return img, nil
}

func (s *adjustOp) String() string {
	return fmt.Sprintf("adjust(brightness=%g contrast=%g saturation=%g)", s.b, s.c, s.s)
}

// sharpenOp is an unsharp mask.
type sharpenOp struct{ s Sharpen }

func (s *sharpenOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	return imaging.Sharpen(ctx, img, s.s.Amount, s.s.Radius, s.s.Threshold)
}

func (s *sharpenOp) scratchPerPixel() int64 { return 12 }

func (s *sharpenOp) String() string {
	return fmt.Sprintf("sharpen(a%g,r%g,t%d)", s.s.Amount, s.s.Radius, s.s.Threshold)
}

// blurOp is a Gaussian blur of standard deviation sigma (resolved from
// the blur length and the size of the image it is given).
type blurOp struct {
	l     Length
	sigma float64
}

func (s *blurOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	return imaging.Blur(ctx, img, s.sigma)
}

func (s *blurOp) scratchPerPixel() int64 { return 12 }

func (s *blurOp) String() string { return fmt.Sprintf("blur(%s: σ=%g)", lengthString(s.l), s.sigma) }

// bwOp makes the image black and white.
type bwOp struct{ bw BW }

func (s *bwOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	var err error
	if s.bw.Mode == BWAtkinson {
		err = imaging.Atkinson(ctx, img)
	} else {
		err = imaging.Threshold(ctx, img, s.bw.Luminance)
	}
	if err != nil {
		return nil, err
	}
	return img, nil
}

func (s *bwOp) String() string {
	if s.bw.Mode == BWAtkinson {
		return "bw(atkinson)"
	}
	return fmt.Sprintf("bw(threshold,%g)", s.bw.Luminance)
}

// overlayOp composites an overlay image over a w×h image, in
// premultiplied alpha: resized to g.tw×g.th and placed (and tiled) as g
// says. It is not a planarOp: a JPEG with an overlay takes the RGB path.
type overlayOp struct {
	src    *overlaySource
	g      overlayGeometry
	w, h   int
	filter ResizeFilter
}

func (s *overlayOp) Apply(ctx context.Context, img *image.NRGBA) (*image.NRGBA, error) {
	b := img.Bounds()
	if b.Dx() != s.w || b.Dy() != s.h {
		return nil, fmt.Errorf("%w: overlay planned on a %dx%d image, given %dx%d", ErrInternal, s.w, s.h, b.Dx(), b.Dy())
	}
	if s.g.nx == 0 || s.g.ny == 0 {
		return img, nil // entirely outside the image
	}
	tile, err := s.src.pixels(ctx, s.g.tw, s.g.th, s.filter)
	if err != nil {
		return nil, err
	}
	err = imaging.OverGrid(ctx, img, tile, image.Pt(s.g.x0, s.g.y0), image.Pt(s.g.sx, s.g.sy), s.g.nx, s.g.ny)
	if err != nil {
		return nil, err
	}
	return img, nil
}

func (s *overlayOp) scratchBytes() int64 { return s.src.memory(s.g.tw, s.g.th) }

func (s *overlayOp) String() string {
	tiles := ""
	if s.g.nx != 1 || s.g.ny != 1 {
		tiles = fmt.Sprintf(", %dx%d copies every %d,%d", s.g.nx, s.g.ny, s.g.sx, s.g.sy)
	}
	return fmt.Sprintf("overlay(%s: %dx%d at %d,%d%s)", s.src.spec.Path, s.g.tw, s.g.th, s.g.x0, s.g.y0, tiles)
}

func (s *cropOp) outSize() (int, int)   { return s.r.Dx(), s.r.Dy() }
func (s *resizeOp) outSize() (int, int) { return s.g.W, s.g.H }
func (s *placeOp) outSize() (int, int)  { return s.w, s.h }
