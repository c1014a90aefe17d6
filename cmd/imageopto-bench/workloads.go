package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"runtime"
	"strconv"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
	_ "golang.org/x/image/webp" // decodes W3 outputs for SSIM

	"github.com/imageopto/imageopto"
)

// workload is one named job: a Fastly IO query run on some images.
type workload struct {
	name, title string
	query       string   // the Fastly IO query
	images      []string // default images (corpus file names)
	ext         string   // output format: "jpg", "png" or "webp"
	// The geometry, for the naive pipeline and the reference tools:
	// width, and for crop a height and fit=crop (cover, then centre crop).
	width, height int
	crop          bool
}

var workloads = []*workload{
	{name: "W1", title: "thumbnail", query: "width=300", images: []string{"kleiber.jpg"}, ext: "jpg", width: 300},
	{name: "W2", title: "medium", query: "width=1600", images: []string{"volna.jpg"}, ext: "jpg", width: 1600},
	{name: "W3", title: "format", query: "width=800&format=webp", images: []string{"volna.jpg"}, ext: "webp", width: 800},
	{name: "W4", title: "alpha", query: "width=400&format=png", images: []string{"gulp.png"}, ext: "png", width: 400},
	{name: "W5", title: "crop", query: "width=400&height=400&fit=crop", images: []string{"kleiber.jpg"}, ext: "jpg", width: 400, height: 400, crop: true},
	{name: "W6", title: "handler", query: "width=300", images: []string{"kleiber.jpg"}, ext: "jpg", width: 300},
}

func workloadByName(name string) *workload {
	for _, w := range workloads {
		if w.name == name {
			return w
		}
	}
	return nil
}

// quality is the lossy quality of every workload (imageopto's default).
const quality = 85

// ours runs the workload through imageopto.TransformBytes. The output is
// the workload's format, as the tools write it, also where the query names
// none and the source is another format (W1 on a WebP source writes JPEG,
// not the source's WebP).
func (w *workload) ours(ctx context.Context, data []byte, opts *imageopto.TransformOptions) (*imageopto.Result, error) {
	p, err := imageopto.ParseParams(w.query)
	if err != nil {
		return nil, err
	}
	ext := map[imageopto.ImageFormat]string{imageopto.JPEG: "jpg", imageopto.PNG: "png", imageopto.WebP: "webp"}
	if info, err := imageopto.Inspect(data); p.Format == "" && err == nil && ext[info.Format] != w.ext {
		p.Format = imageopto.Format(w.ext)
	}
	return imageopto.TransformBytes(ctx, data, p, opts)
}

// oursOptions are the options of our engine for w: the WebAssembly codecs
// for a WebP output, as a server configured with them has (lossy WebP is
// still the built-in encoder's), and every processor for the one job of
// the process (Threads), as vipsthumbnail has its threads.
func (w *workload) oursOptions() *imageopto.TransformOptions {
	opts := &imageopto.TransformOptions{Threads: runtime.GOMAXPROCS(0)}
	if w.ext == "webp" {
		opts.Codecs = extraCodecs()
	}
	return opts
}

var errNoNaive = errors.New("no pure-Go encoder for this format")

// naive runs the workload the way a Go program without an image library
// would: full decode, CatmullRom, standard encoder.
func (w *workload) naive(data []byte) ([]byte, image.Rectangle, error) {
	if w.ext != "jpg" && w.ext != "png" {
		return nil, image.Rectangle{}, errNoNaive
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, image.Rectangle{}, err
	}
	dst := w.scale(src)
	var buf bytes.Buffer
	if w.ext == "jpg" {
		err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: quality})
	} else {
		err = png.Encode(&buf, dst)
	}
	return buf.Bytes(), dst.Bounds(), err
}

// geometry is the workload's output size for a source of size b, and the
// region of the source it shows: all of it, or for crop the centre of the
// aspect ratio of the output (which need not fall on whole pixels).
func (w *workload) geometry(b image.Rectangle) (dw, dh int, x0, y0, cw, ch float64) {
	sw, sh := float64(b.Dx()), float64(b.Dy())
	if !w.crop {
		dw = min(w.width, b.Dx()) // like the engine: never upscale
		dh = max(1, int(math.Round(sh*float64(dw)/sw)))
		return dw, dh, float64(b.Min.X), float64(b.Min.Y), sw, sh
	}
	dw, dh = w.width, w.height
	s := math.Max(float64(dw)/sw, float64(dh)/sh) // cover
	cw, ch = math.Min(sw, float64(dw)/s), math.Min(sh, float64(dh)/s)
	return dw, dh, float64(b.Min.X) + (sw-cw)/2, float64(b.Min.Y) + (sh-ch)/2, cw, ch
}

// scale resizes src with CatmullRom to the workload's geometry, the way a
// naive program does: draw.Scale from the region rounded to whole pixels.
func (w *workload) scale(src image.Image) *image.RGBA {
	dw, dh, x0, y0, cw, ch := w.geometry(src.Bounds())
	x, y := int(math.Round(x0)), int(math.Round(y0))
	sr := image.Rect(x, y, x+int(math.Round(cw)), y+int(math.Round(ch)))
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, sr, draw.Src, nil)
	return dst
}

// reference is the exact resize of src to the workload's geometry that
// outputs are compared with: scale, except that a crop region that does not
// fall on whole pixels is mapped exactly (SSIM drops by several hundredths
// for a shift of half an output pixel).
func (w *workload) reference(src image.Image) *image.RGBA {
	dw, dh, x0, y0, cw, ch := w.geometry(src.Bounds())
	if x0 == math.Trunc(x0) && y0 == math.Trunc(y0) && cw == math.Trunc(cw) && ch == math.Trunc(ch) {
		return w.scale(src)
	}
	sx, sy := float64(dw)/cw, float64(dh)/ch
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	draw.CatmullRom.Transform(dst, f64.Aff3{sx, 0, -sx * x0, 0, sy, -sy * y0}, src, src.Bounds(), draw.Src, nil)
	return dst
}

// vipsArgs are the vipsthumbnail arguments of the workload (shrink-on-load
// and all; Huffman tables optimised like ours).
func (w *workload) vipsArgs(in, out string) []string {
	size := strconv.Itoa(w.width) + "x"
	if w.crop {
		size = fmt.Sprintf("%dx%d", w.width, w.height)
	}
	var opts string
	switch w.ext {
	case "jpg":
		opts = fmt.Sprintf("[Q=%d,strip,optimize_coding]", quality)
	case "webp":
		opts = fmt.Sprintf("[Q=%d,strip]", quality)
	case "png":
		opts = "[strip]"
	}
	args := []string{in, "--size", size}
	if w.crop {
		args = append(args, "--smartcrop", "centre")
	}
	return append(args, "-o", out+opts)
}

// magickArgs are the ImageMagick convert arguments of the workload: its
// common usage, -resize (a Lanczos-family filter when shrinking) with no
// decoding hint.
func (w *workload) magickArgs(in, out string) []string {
	args := []string{in}
	if w.crop {
		g := fmt.Sprintf("%dx%d", w.width, w.height)
		args = append(args, "-resize", g+"^", "-gravity", "center", "-extent", g)
	} else {
		args = append(args, "-resize", strconv.Itoa(w.width)+"x>")
	}
	if w.ext != "png" {
		args = append(args, "-quality", strconv.Itoa(quality))
	}
	return append(args, "-strip", out)
}
