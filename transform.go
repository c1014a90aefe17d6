package imageopto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"runtime/debug"

	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/imaging"
	"github.com/imageopto/imageopto/internal/metadata"
	"github.com/imageopto/imageopto/internal/quality"
)

// TransformOptions configure Transform. A nil *TransformOptions means the
// defaults of every field.
type TransformOptions struct {
	PlanOptions
	// Accept is the client's Accept header, for content negotiation
	// (auto=, format=auto): Transform negotiates once with it (Negotiate)
	// and plans for the format chosen. The Handler does not read it: it
	// negotiates from each request's own header.
	Accept string
	// Steps are custom steps run after the built-in ones and before encoding.
	Steps []Step
	// Overlay, when set, is composited over the output after every
	// built-in operation (blur and bw included) and before the custom
	// Steps and encoding (see Overlay and the package documentation).
	// Transform does not read Overlay.Path. A Handler refuses this field:
	// it takes overlays from Request.Overlay (set by Options.Hook) or the
	// overlay header (Options.TrustOverlayHeader), and fetches the image
	// itself.
	Overlay *Overlay
	// OverlayImage is the overlay's encoded image (any format a source may
	// have), required with Overlay. It is held to the same Limits as a
	// source; its first frame is used.
	OverlayImage []byte
	// Threads is how many goroutines one transformation may keep busy.
	// 0 or 1 (the default): the calling goroutine only. From 2 on, some
	// stages use a second goroutine: a lossy WebP source of 1 MP or more
	// is decoded as a pipeline (parse, reconstruct, loop filter); on the
	// planar paths (a JPEG or lossy WebP made smaller by geometry and a
	// colour profile's conversion alone) a sequential JPEG's inverse DCTs
	// run beside its Huffman decoding, luma is resampled beside chroma
	// and converted to RGB (and through the colour profile) in two
	// halves; the JPEG encoder transforms half the rows beside the other
	// half on every path. That takes about as
	// much CPU in less time: for a program that runs one job at a time on
	// a machine of several cores, as a command-line tool does. The output
	// is the same whatever Threads says.
	//
	// In a Handler's Options.Transform, 0 lets the Handler choose: a job
	// of the planar paths that starts while another CPU slot
	// (Options.MaxConcurrent) is idle and no request waits borrows it and
	// runs with 2; other jobs, and every job under load, run with 1. Any other value is used as it is, and the Handler
	// still counts one slot per transformation, so a server that sets it
	// above 1 should lower MaxConcurrent to match.
	Threads int
}

// ImageInfo describes one side of a transformation.
type ImageInfo struct {
	Format        ImageFormat
	Width, Height int
	Bytes         int64
}

// Result is an encoded output image and what was done to make it.
type Result struct {
	// Data is the encoded image.
	Data []byte
	// ContentType is the media type of Data, from our encoder.
	ContentType string
	// Input describes the source as stored; Output the image in Data.
	Input, Output ImageInfo
	// Original is true when Data is the unchanged source (a request for
	// quality alone whose result would have been larger than the source).
	Original bool
	// Plan is the plan that was run.
	Plan *Plan
	// Warnings are non-fatal notes for the warning header.
	Warnings []string

	// planar is true when the pixels never left Y′CbCr planes (the JPEG
	// fast path of transform_ycbcr.go); planes when the geometry ran on
	// planes, to RGB at the output size or not (transform_planes.go).
	// Tests check them.
	planar, planes bool
	// threads is how many goroutines the job was allowed (Threads, at least 1).
	threads int
}

// Info returns the Fastly-IO-Info style summary of r, e.g.
// "ifsz=108501 idim=827x788 ifmt=jpeg ofsz=13066 odim=300x286 ofmt=jpeg".
func (r *Result) Info() string {
	return fmt.Sprintf("ifsz=%d idim=%dx%d ifmt=%s ofsz=%d odim=%dx%d ofmt=%s",
		r.Input.Bytes, r.Input.Width, r.Input.Height, r.Input.Format,
		r.Output.Bytes, r.Output.Width, r.Output.Height, r.Output.Format)
}

// Inspect reads a source's header (magic bytes decide the format) without
// decoding pixels. It returns ErrUnsupportedFormat for unknown or disallowed
// formats and ErrCorrupt for malformed headers.
func Inspect(data []byte) (SourceInfo, error) {
	info, _, err := inspect(data, nil)
	return info, err
}

// InspectWith is Inspect with configured codecs (PlanOptions.Codecs): a
// format that only they read (AVIF and HEIC with package wasmcodec) is
// inspected by them, as Transform would.
func InspectWith(data []byte, codecs []Codec) (SourceInfo, error) {
	info, _, err := inspect(data, codecs)
	return info, err
}

// Transform reads a source image from r, applies the parameters p and
// encodes the result. It is the whole engine without HTTP: sniff the format
// from magic bytes, read the header, refuse sources over the limits before
// any pixel is allocated, plan, decode, run the steps and encode.
//
// Errors are *ParamError values (joined), ErrUnsupportedFormat,
// ErrCorrupt, ErrSourceTooLarge, the context's error, or ErrInternal for a
// recovered panic; StatusCode maps them to HTTP statuses. Transform is safe
// for concurrent use; it does not start goroutines unless opts.Threads
// allows them.
//
// The context is obeyed inside the work, not only between steps: the
// built-in decoders, steps and encoders poll it every millisecond or so of
// work (see internal/ctxpoll), so a job whose deadline passes, or whose
// caller goes away, stops promptly with an error wrapping ctx.Err(). Only
// configured codecs (Codec.Decode and Codec.Encode) run to completion.
func Transform(ctx context.Context, r io.Reader, p Params, opts *TransformOptions) (*Result, error) {
	var o TransformOptions
	if opts != nil {
		o = *opts
	}
	limit := o.Limits.withDefaults().MaxSourceBytes
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("imageopto: reading source: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: source over %d bytes", ErrSourceTooLarge, limit)
	}
	return TransformBytes(ctx, data, p, &o)
}

// TransformBytes is Transform on a source already in memory.
func TransformBytes(ctx context.Context, data []byte, p Params, opts *TransformOptions) (res *Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, fmt.Errorf("%w: panic: %v\n%s", ErrInternal, v, debug.Stack())
		}
	}()
	var o TransformOptions
	if opts != nil {
		o = *opts
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	negotiated, _ := Negotiate(p, o.Accept, o.Codecs)
	job, err := prepare(data, p, negotiated, o)
	if err != nil {
		return nil, err
	}
	return job.run(ctx)
}

// prepared is a source whose header has been read and whose plan is made:
// everything known before a pixel is decoded.
type prepared struct {
	data    []byte
	p       Params
	o       TransformOptions
	info    SourceInfo
	dec     decoder
	plan    *Plan
	overlay *overlaySource // nil: none
}

// prepare reads the header and plans, so that a caller (the Handler's
// admission control) can look at the plan before running it, without doing
// this work twice.
func prepare(data []byte, p Params, negotiated ImageFormat, o TransformOptions) (*prepared, error) {
	info, dec, err := inspect(data, o.Codecs)
	if err != nil {
		return nil, err
	}
	overlay, err := newOverlaySource(&o)
	if err != nil {
		return nil, err
	}
	plan, err := newPlan(p, info, negotiated, &o.PlanOptions, overlay)
	if err != nil {
		return nil, err
	}
	plan.Steps = append(plan.Steps[:len(plan.Steps):len(plan.Steps)], o.Steps...)
	return &prepared{data: data, p: p, o: o, info: info, dec: dec, plan: plan, overlay: overlay}, nil
}

// run decodes, runs the steps and encodes. It recovers panics into
// ErrInternal.
func (j *prepared) run(ctx context.Context) (res *Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, fmt.Errorf("%w: panic: %v\n%s", ErrInternal, v, debug.Stack())
		}
	}()
	data, p, o, info, dec, plan := j.data, j.p, j.o, j.info, j.dec, j.plan
	defer j.overlay.release()
	var img *image.NRGBA
	var out []byte
	var bounds image.Rectangle
	q := plan.Quality // optimize= finds it per image
	planar, planes := false, false
	switch {
	case plan.Animated && dec.frames != nil:
		img, out, err = transformFrames(ctx, dec, plan, o.Limits.withDefaults(), o.Codecs)
	case planarEligible(info, plan):
		// Geometry on Y′CbCr planes (transform_planes.go). The fallback
		// is set when the decoded image turns out not to be Y′CbCr or
		// greyscale; the RGB path then takes over.
		var pr planarResult
		if pr, err = j.runPlanar(ctx); err == nil && pr.fallback != nil {
			img, out, q, err = runRGB(ctx, pr.fallback, plan, o.Codecs, o.Threads)
		} else {
			out, bounds, q, planar, planes = pr.out, pr.bounds, pr.q, pr.pure, true
		}
	default:
		if img, err = dec.decode(ctx, plan.DecodeScale); err == nil {
			img, out, q, err = runRGB(ctx, img, plan, o.Codecs, o.Threads)
		}
	}
	if err != nil {
		return nil, err
	}
	if img != nil {
		bounds = img.Bounds()
	}
	// metadata=copyright keeps the copyright fields, JPEG to JPEG only.
	if p.Metadata.Copyright && info.Format == JPEG && plan.Format == JPEG {
		if c := metadata.ExtractJPEG(data); c != nil {
			if out, err = metadata.InsertJPEG(out, c); err != nil {
				return nil, fmt.Errorf("%w: metadata: %v", ErrInternal, err)
			}
		}
	}
	if q != plan.Quality { // the plan is not changed: the result reports a copy
		ran := *plan
		ran.Quality = q
		plan = &ran
	}
	res = &Result{
		Data:        out,
		ContentType: plan.Format.ContentType(),
		Input:       ImageInfo{Format: info.Format, Width: info.Width, Height: info.Height, Bytes: info.Bytes},
		Output:      ImageInfo{Format: plan.Format, Width: bounds.Dx(), Height: bounds.Dy(), Bytes: int64(len(out))},
		Plan:        plan,
		Warnings:    plan.Warnings,
		planar:      planar,
		planes:      planes,
		threads:     max(o.Threads, 1),
	}
	// A request for quality alone never makes the image larger (unless
	// an overlay must be on it).
	if onlyQuality(p) && j.overlay == nil && plan.Format == info.Format && info.Orientation <= 1 && len(out) > len(data) {
		res.Data, res.Original = data, true
		res.ContentType = info.Format.ContentType()
		res.Output = ImageInfo{Format: info.Format, Width: info.Width, Height: info.Height, Bytes: info.Bytes}
	}
	return res, nil
}

// runRGB runs the plan's steps on img and encodes the result. It returns
// the image that was encoded (for its size) and the encoded bytes.
func runRGB(ctx context.Context, img *image.NRGBA, plan *Plan, codecs []Codec, threads int) (*image.NRGBA, []byte, int, error) {
	img, err := plan.Run(ctx, img)
	if err != nil {
		return nil, nil, 0, err
	}
	out, q, err := encode(ctx, img, plan, codecs, threads)
	return img, out, q, err
}

// onlyQuality reports whether p asks for nothing but a quality.
func onlyQuality(p Params) bool {
	q := Params{Quality: p.Quality, WebPQuality: p.WebPQuality}
	return p.Quality != 0 && p == q
}

// encode writes img in the plan's output format. With optimize= it first
// searches the quality; it returns the quality used. threads is
// TransformOptions.Threads, for the built-in encoders.
func encode(ctx context.Context, img *image.NRGBA, plan *Plan, codecs []Codec, threads int) ([]byte, int, error) {
	if !plan.Format.HasAlpha() && !imaging.IsOpaque(img) {
		if err := imaging.Flatten(ctx, img, plan.Background); err != nil {
			return nil, 0, err
		}
	}
	q := plan.Quality
	if plan.OptimizeTarget > 0 {
		var err error
		q, err = quality.Search(quality.Sample(img, optimizeSamplePixels), plan.OptimizeTarget,
			optimizeMinQuality, optimizeMaxQuality, func(m *image.NRGBA, q int) (*image.NRGBA, error) {
				data, err := encodeAt(ctx, m, plan, codecs, q, threads)
				if err != nil {
					return nil, err
				}
				_, dec, err := inspect(data, codecs)
				if err != nil {
					return nil, err
				}
				return dec.first(ctx)
			})
		if ctxpoll.Stopped(err) {
			return nil, 0, err
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%w: optimize: %v", ErrInternal, err)
		}
	}
	out, err := encodeAt(ctx, img, plan, codecs, q, threads)
	return out, q, err
}

// transformFrames runs the plan on every frame of an animation and writes
// an animation in the plan's format. It returns the first output frame
// (for the result's size) and the encoded bytes.
func transformFrames(ctx context.Context, dec decoder, plan *Plan, l Limits, codecs []Codec) (*image.NRGBA, []byte, error) {
	frames, loop, err := dec.frames(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	var f facts // found on the first frame, kept for the others
	for i := range frames {
		img, err := plan.run(ctx, frames[i].Image, &f)
		if err != nil {
			return nil, nil, err
		}
		if !plan.Format.HasAlpha() && !imaging.IsOpaque(img) { // as encode does
			if err := imaging.Flatten(ctx, img, plan.Background); err != nil {
				return nil, nil, err
			}
		}
		frames[i].Image = img
	}
	c := findCodec(codecs, plan.Format, canAnimateWith)
	if c == nil {
		return nil, nil, fmt.Errorf("%w: no animation encoder for %s", ErrInternal, plan.Format)
	}
	var buf bytes.Buffer
	if err := c.EncodeFrames(ctx, &buf, frames, loop, encodeOptions(plan, plan.Quality)); err != nil {
		var pe *ParamError
		if ctxpoll.Stopped(err) || errors.As(err, &pe) || errors.Is(err, ErrJobTooLarge) {
			return nil, nil, err // stopped, or refused (an MP4 level the frame rate exceeds)
		}
		return nil, nil, fmt.Errorf("%w: encoding animation: %v", ErrInternal, err)
	}
	return frames[0].Image, buf.Bytes(), nil
}

// Bounds of the optimize= search: the qualities tried, and the size of the
// sample it runs on.
const (
	optimizeMinQuality   = 30
	optimizeMaxQuality   = 95
	optimizeSamplePixels = 512 * 512
)
