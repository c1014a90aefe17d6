// Package jpegenc is a JPEG encoder written from ITU-T T.81 (the JPEG
// standard). It exists because image/jpeg writes neither progressive JPEG
// nor optimised Huffman tables.
//
// It writes JFIF files: 8-bit baseline (SOF0) or progressive (SOF2)
// Huffman-coded JPEG, three-component Y′CbCr with 4:2:0 or 4:4:4 chroma
// sampling, or one-component greyscale. Quality follows the IJG scale used
// by libjpeg and image/jpeg, so a given quality gives the same quantisation
// tables as those do. Files decode with image/jpeg and libjpeg(-turbo).
//
// The pipeline works on one MCU row (8 or 16 pixel rows) at a time: colour
// conversion to Y′CbCr with image/color's exact rounding, edge replication
// to whole blocks, 2×2 box downsampling of chroma for 4:2:0, a float32 AAN
// forward DCT with quantisation folded into one multiplication, and
// rounding to nearest (every coefficient is the correctly rounded quotient
// in practice; image/jpeg's integer DCT misrounds up to 6% of them at high
// quality). Baseline output with the Annex K tables streams each MCU row
// out as soon as it is transformed, in memory proportional to the image
// width. Optimised baseline and progressive output keep all quantised
// coefficients (2 bytes per sample, plus a non-zero mask of 8 bytes per
// block) and make two passes over them per scan: one gathering symbol
// statistics for optimal Huffman tables (T.81 Annex K.2), one writing.
//
// Encoders and their buffers are pooled; Encode allocates nothing per block,
// starts no goroutines (unless Options.Threads allows a second one) and is
// safe for concurrent use. It polls its context
// once every few MCU rows of each pass (see ctxpoll), so that a job whose
// deadline passes stops within a millisecond or so of work.
package jpegenc

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	"sync/atomic"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Subsampling selects the chroma sampling of colour output.
type Subsampling int

const (
	// S420 stores Cb and Cr at half resolution in both directions
	// (2×2 luma blocks per chroma block). It is the default.
	S420 Subsampling = iota
	// S444 stores chroma at full resolution.
	S444
)

// String returns "4:2:0" or "4:4:4".
func (s Subsampling) String() string {
	switch s {
	case S420:
		return "4:2:0"
	case S444:
		return "4:4:4"
	}
	return fmt.Sprintf("Subsampling(%d)", int(s))
}

// DefaultQuality is the quality used when Options is nil or its Quality is
// zero (the same default as image/jpeg).
const DefaultQuality = 75

// Options are the encoding parameters. A nil *Options means
// DefaultQuality, baseline, 4:2:0, standard Huffman tables.
type Options struct {
	// Quality is 1–100 on the IJG scale: the Annex K example tables are
	// scaled by 5000/Quality percent below 50 and by 200−2·Quality percent
	// from 50 up, and clamped to 1..255. Zero means DefaultQuality; other
	// values outside 1–100 are clamped.
	Quality int
	// Progressive selects progressive JPEG (SOF2) with a scan script like
	// libjpeg's default for Y′CbCr: DC first with successive approximation,
	// then a quick low-frequency luma scan, chroma AC scans, the rest of
	// luma AC, and refinement scans. Otherwise the output is baseline
	// (SOF0) with one interleaved scan.
	Progressive bool
	// Subsampling is the chroma sampling of colour output; greyscale
	// sources ignore it.
	Subsampling Subsampling
	// OptimizeHuffman makes baseline output use Huffman tables built for
	// the image (two passes) instead of the Annex K tables. Progressive
	// output always uses optimal tables, built per scan.
	OptimizeHuffman bool
	// Threads is how many goroutines Encode may keep busy. From 2 on,
	// optimised baseline and progressive output transform the image (colour
	// conversion, downsampling, DCT) on a second goroutine as well, which
	// has ended when Encode returns. The output does not depend on it.
	Threads int
}

// Encode writes img to w as a JPEG file.
//
// Fast paths exist for *image.NRGBA and *image.RGBA (alpha is ignored: the
// image is assumed opaque; flatten it first otherwise), *image.YCbCr and
// *image.NYCbCrA (whose planes are encoded directly, without a round trip
// through RGB; when their subsampling differs from the output's, chroma is
// resampled in Y′CbCr), and *image.Gray and *image.Gray16, which give a
// one-component greyscale JPEG. Any other image is converted pixel by pixel
// through its At method.
//
// ctx is polled every few MCU rows of each pass over the image: once it is
// done, Encode stops, leaving w with part of a file, and returns ctx.Err().
func Encode(ctx context.Context, w io.Writer, img image.Image, o *Options) error {
	opts := Options{Quality: DefaultQuality}
	if o != nil {
		opts = *o
		if opts.Quality == 0 {
			opts.Quality = DefaultQuality
		}
	}
	opts.Quality = min(max(opts.Quality, 1), 100)
	if opts.Subsampling != S420 && opts.Subsampling != S444 {
		return fmt.Errorf("jpegenc: unknown subsampling %d", int(opts.Subsampling))
	}
	b := img.Bounds()
	if b.Empty() {
		return errors.New("jpegenc: empty image")
	}
	if b.Dx() > 0xffff || b.Dy() > 0xffff {
		return fmt.Errorf("jpegenc: image size %dx%d exceeds JPEG's 65535 limit", b.Dx(), b.Dy())
	}
	e := encoderPool.Get().(*encoder)
	defer func() {
		e.release()
		encoderPool.Put(e)
	}()
	e.poll = ctxpoll.New(ctx)
	e.ctx, e.threads = ctx, opts.Threads
	return e.encode(w, img, &opts)
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// component is one colour component of the output.
type component struct {
	id   byte
	h, v int // sampling factors
	tq   int // quantisation and Huffman table index: 0 luma, 1 chroma
	// bw×rows blocks are stored in coef, in rows of the MCU-padded grid
	// (bw = MCUs across × h); rows is v for a streamed MCU row, or the
	// whole padded height in blocks.
	bw int
	// cbw×cbh blocks cover the component itself: the block grid of a
	// non-interleaved scan (T.81 A.2.2).
	cbw, cbh int
	coef     []int16  // quantised coefficients, 64 per block, zig-zag order
	mask     []uint64 // per block: bit z set when coefficient z is non-zero
	stride   int      // of the component's samples in rowBufs.plane
	pred     int32    // DC predictor
}

// rowBufs hold the samples of one MCU row on their way to the DCT: one set
// for each goroutine that transforms rows.
type rowBufs struct {
	plane [3][]byte // samples of the MCU row at component resolution
	// Full-resolution chroma rows of the MCU row: the chroma planes
	// themselves for 4:4:4, part of buf for 4:2:0 (then downsampled).
	fullCb, fullCr []byte
	buf            []byte // storage of plane and, for 4:2:0, fullCb and fullCr
}

// encoder holds the state and reusable buffers of one encoding.
type encoder struct {
	out           bitWriter
	src           source
	width, height int
	ncomp         int
	comps         [3]component
	hmax, vmax    int
	mcusX, mcusY  int
	quant         [2][64]uint8 // natural order
	recip         [2][64]float32
	progressive   bool
	optimize      bool
	poll          ctxpoll.Poller
	ctx           context.Context // for a second goroutine's poller
	// mcuRowWork is the work of transforming one MCU row, in ctxpoll units.
	mcuRowWork int

	// rows[0] are the calling goroutine's MCU row buffers, rows[1] the
	// second goroutine's (Options.Threads).
	rows    [2]rowBufs
	threads int
	coefBuf []int16
	maskBuf []uint64

	// Huffman tables by slot: 0 and 1 are DC tables 0 and 1, 2 and 3 are
	// AC tables 0 and 1.
	enc   [4]huffEnc
	freq  [4]huffFreq
	specs [4]huffSpec // optimal tables built for the current scan
	tabs  []dhtTable  // tables of the next DHT segment
	// counting makes sym and raw gather statistics instead of writing.
	counting bool
	// Progressive AC state: pending end-of-band run, and the correction
	// bits of a refinement scan still to be written (one per byte): the
	// first be belong to the blocks of the pending run.
	eobrun int
	corr   []byte
	be     int
}

// release drops references to caller data before pooling.
func (e *encoder) release() {
	e.src = source{}
	e.out.w = nil
	e.poll = ctxpoll.Poller{}
	e.ctx = nil
}

func (e *encoder) encode(w io.Writer, img image.Image, o *Options) error {
	e.out.reset(w)
	e.progressive = o.Progressive
	e.optimize = o.OptimizeHuffman || o.Progressive
	e.setup(img, o.Subsampling)
	for i := range e.quant {
		e.quant[i] = scaleQuant(&baseQuant[i], o.Quality)
		e.recip[i] = quantRecip(&e.quant[i])
	}
	e.writeHeaders()

	if !e.optimize {
		e.enc[0].build(&stdDCLuma)
		e.enc[1].build(&stdDCChroma)
		e.enc[2].build(&stdACLuma)
		e.enc[3].build(&stdACChroma)
		e.tabs = append(e.tabs[:0], dhtTable{0, 0, &stdDCLuma}, dhtTable{1, 0, &stdACLuma})
		if e.ncomp == 3 {
			e.tabs = append(e.tabs, dhtTable{0, 1, &stdDCChroma}, dhtTable{1, 1, &stdACChroma})
		}
		e.writeDHT(e.tabs)
		e.writeSOS(e.allComps(), 0, 63, 0, 0)
		e.resetPred()
		for my := range e.mcusY {
			if err := e.poll.Work(e.mcuRowWork); err != nil {
				return err
			}
			e.fill(&e.rows[0], my)
			e.transformRow(&e.rows[0], my, 0)
			e.baselineRow(0)
			e.out.maybeFlush()
		}
		e.out.align()
	} else {
		if err := e.transformAll(); err != nil {
			return err
		}
		var err error
		if e.progressive {
			err = e.writeProgressive()
		} else {
			err = e.writeOptimizedBaseline()
		}
		if err != nil {
			return err
		}
	}
	e.out.bytes(0xff, 0xd9) // EOI
	return e.out.flush()
}

// transformAll is the first pass of optimised baseline or progressive
// output: it fills and transforms every MCU row into the stored
// coefficients and, for optimised baseline, gathers the symbol statistics.
//
// With Options.Threads > 1 a second goroutine transforms the bottom half
// of the MCU rows while the calling one transforms and counts the top
// half; the calling one counts the bottom half after. Each row is
// transformed alike by either (into its own place; padding blocks copy
// only from their own MCU row) and counted in order, so the output is
// that of one goroutine. The second goroutine has stopped when
// transformAll returns, whatever happened: a panic in it is raised again
// on the calling goroutine.
func (e *encoder) transformAll() error {
	if !e.progressive {
		e.freq = [4]huffFreq{}
		e.resetPred()
	}
	split := e.mcusY
	if e.threads > 1 && e.mcusY >= 2 {
		split = (e.mcusY + 1) / 2
	}
	var (
		stop    atomic.Bool
		done    chan any // the worker's panic value, or nil
		workErr error
	)
	if split < e.mcusY {
		e.setupRows(&e.rows[1])
		done = make(chan any, 1)
		ctx := e.ctx
		go func() {
			defer func() { done <- recover() }()
			pl := ctxpoll.New(ctx)
			for my := split; my < e.mcusY && !stop.Load(); my++ {
				if workErr = pl.Work(e.mcuRowWork); workErr != nil {
					return
				}
				e.fill(&e.rows[1], my)
				e.transformRow(&e.rows[1], my, my)
			}
		}()
		// Join on every way out, a panic of this goroutine included.
		defer func() {
			if done != nil {
				stop.Store(true)
				<-done
			}
		}()
	}
	for my := range split {
		if err := e.poll.Work(e.mcuRowWork); err != nil {
			return err
		}
		e.fill(&e.rows[0], my)
		e.transformRow(&e.rows[0], my, my)
		if !e.progressive {
			e.countRow(my)
		}
	}
	if done != nil {
		crashed := <-done
		done = nil
		if crashed != nil {
			panic(crashed)
		}
		if workErr != nil {
			return workErr
		}
		if !e.progressive {
			for my := split; my < e.mcusY; my++ {
				e.countRow(my)
			}
		}
	}
	return nil
}

// setup chooses the source fast path and the component layout, and sizes
// the buffers.
func (e *encoder) setup(img image.Image, sub Subsampling) {
	b := img.Bounds()
	e.width, e.height = b.Dx(), b.Dy()
	e.src = source{kind: srcGeneric, img: img, rect: b}
	e.ncomp = 3
	switch m := img.(type) {
	case *image.Gray:
		e.ncomp = 1
		e.src.kind, e.src.pix, e.src.stride = srcGray, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.Gray16:
		e.ncomp = 1
		e.src.kind, e.src.pix, e.src.stride = srcGray16, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.RGBA:
		e.src.kind, e.src.pix, e.src.stride = srcRGB4, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.NRGBA:
		e.src.kind, e.src.pix, e.src.stride = srcRGB4, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.YCbCr:
		e.setYCbCr(m, sub)
	case *image.NYCbCrA:
		e.setYCbCr(&m.YCbCr, sub)
	}

	if e.ncomp == 1 {
		e.hmax, e.vmax = 1, 1
		e.comps[0] = component{id: 1, h: 1, v: 1, tq: 0}
	} else {
		hs := 1
		if sub == S420 {
			hs = 2
		}
		e.hmax, e.vmax = hs, hs
		e.comps[0] = component{id: 1, h: hs, v: hs, tq: 0}
		e.comps[1] = component{id: 2, h: 1, v: 1, tq: 1}
		e.comps[2] = component{id: 3, h: 1, v: 1, tq: 1}
	}
	e.mcusX = (e.width + 8*e.hmax - 1) / (8 * e.hmax)
	e.mcusY = (e.height + 8*e.vmax - 1) / (8 * e.vmax)
	padW := e.mcusX * 8 * e.hmax
	rows := 8 * e.vmax
	// Colour conversion, the DCT and coding take some 10 ns per pixel.
	e.mcuRowWork = 4 * padW * rows
	if e.src.kind == srcGeneric {
		e.mcuRowWork *= 4 // an At call per pixel
	}

	whole := e.optimize // keep every coefficient for a second pass
	coefLen := 0
	for i := range e.ncomp {
		c := &e.comps[i]
		c.bw = e.mcusX * c.h
		cw := (e.width*c.h + e.hmax - 1) / e.hmax
		ch := (e.height*c.v + e.vmax - 1) / e.vmax
		c.cbw, c.cbh = (cw+7)/8, (ch+7)/8
		blockRows := c.v
		if whole {
			blockRows = e.mcusY * c.v
		}
		coefLen += c.bw * blockRows * 64
		c.stride = c.bw * 8
	}
	e.coefBuf = grow(e.coefBuf, coefLen)
	e.maskBuf = grow(e.maskBuf, coefLen/64)
	coef, mask := e.coefBuf, e.maskBuf
	for i := range e.ncomp {
		c := &e.comps[i]
		n := c.bw * c.v
		if whole {
			n *= e.mcusY
		}
		c.mask, mask = mask[:n:n], mask[n:]
		n *= 64
		c.coef, coef = coef[:n:n], coef[n:]
	}
	e.setupRows(&e.rows[0])
}

// setupRows sizes rb for the current image.
func (e *encoder) setupRows(rb *rowBufs) {
	padW, rows := e.mcusX*8*e.hmax, 8*e.vmax
	n := 0
	for i := range e.ncomp {
		n += e.comps[i].stride * 8 * e.comps[i].v
	}
	full := 0
	if e.ncomp == 3 && e.src.kind != srcYCbCrRaw && e.hmax != 1 {
		full = padW * rows
	}
	rb.buf = grow(rb.buf, n+2*full)
	b := rb.buf
	rb.plane = [3][]byte{}
	for i := range e.ncomp {
		c := &e.comps[i]
		p := c.stride * 8 * c.v
		rb.plane[i], b = b[:p:p], b[p:]
	}
	rb.fullCb, rb.fullCr = nil, nil
	if e.ncomp == 3 && e.src.kind != srcYCbCrRaw {
		if e.hmax == 1 {
			// 4:4:4: colour conversion writes straight into the planes.
			rb.fullCb, rb.fullCr = rb.plane[1], rb.plane[2]
		} else {
			rb.fullCb, rb.fullCr = b[:full:full], b[full:2*full]
		}
	}
}

// setYCbCr picks the raw-plane path when m's chroma planes have exactly the
// output layout, and per-pixel chroma lookup otherwise.
func (e *encoder) setYCbCr(m *image.YCbCr, sub Subsampling) {
	e.src.ycc = m
	e.src.kind = srcYCbCr
	switch {
	case sub == S444 && m.SubsampleRatio == image.YCbCrSubsampleRatio444,
		// 4:2:0 pairs pixel rows and columns 2k, 2k+1 as the output does
		// only from an even, non-negative origin (COffset halves
		// coordinates rounding towards zero).
		sub == S420 && m.SubsampleRatio == image.YCbCrSubsampleRatio420 &&
			m.Rect.Min.X >= 0 && m.Rect.Min.Y >= 0 && m.Rect.Min.X%2 == 0 && m.Rect.Min.Y%2 == 0:
		e.src.kind = srcYCbCrRaw
	}
}

// grow returns a slice of length n, reusing s's storage when large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// transformRow runs the DCT and quantisation over the planes of the
// current MCU row my, storing the blocks at block row stored·v of each
// component's coefficient array (stored is 0 when streaming one MCU row
// at a time, my otherwise).
//
// Blocks of the MCU-padded grid that lie wholly outside the component
// (only luma of 4:2:0 output, when the image size modulo 16 is 1..8) are
// never displayed; they are set to the DC value of their left neighbour,
// or the one above at the bottom edge, with zero AC, which costs almost
// nothing to code.
func (e *encoder) transformRow(rb *rowBufs, my, stored int) {
	for i := range e.ncomp {
		c := &e.comps[i]
		plane := rb.plane[i]
		q, rec := &e.quant[c.tq], &e.recip[c.tq]
		for by := range c.v {
			bi := (stored*c.v + by) * c.bw // block index of the row start
			for bx := range c.bw {
				blk := c.coef[(bi+bx)*64 : (bi+bx)*64+64]
				if bx < c.cbw && my*c.v+by < c.cbh {
					c.mask[bi+bx] = fdctQuant(plane[by*8*c.stride+bx*8:], c.stride, q, rec, (*[64]int16)(blk))
					continue
				}
				clear(blk)
				if bx >= c.cbw {
					blk[0] = c.coef[(bi+bx-1)*64]
				} else {
					blk[0] = c.coef[(bi-c.bw+bx)*64]
				}
				c.mask[bi+bx] = 0
				if blk[0] != 0 {
					c.mask[bi+bx] = 1
				}
			}
		}
	}
}

func (e *encoder) resetPred() {
	for i := range e.comps {
		e.comps[i].pred = 0
	}
}

// allComps lists the indices of all components, for the scan header of a
// baseline scan.
func (e *encoder) allComps() []int { return compIndices[:e.ncomp] }

var compIndices = []int{0, 1, 2}

// addOptimalTable builds the optimal Huffman table for the statistics in
// slot, installs its codes there and queues it for the next DHT segment
// as table class (0 DC, 1 AC) number id.
func (e *encoder) addOptimalTable(slot, class, id int) {
	optimalHuff(&e.freq[slot], &e.specs[slot])
	e.enc[slot].build(&e.specs[slot])
	e.tabs = append(e.tabs, dhtTable{class: class, id: id, spec: &e.specs[slot]})
}
