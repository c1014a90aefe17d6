package codec

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"io"
	"sync"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// The PNG writer. image/png's encoder runs its whole row loop, and the
// compressor's, without ever returning to its caller, and writes to its
// io.Writer only once per 32 KiB of compressed data — for a smooth or flat
// image, after many megabytes of pixels. This writer owns the row loop, so
// that it can poll the context every few rows (a job past its deadline
// stops within a millisecond or so of work); its output follows the same
// rules as image/png's (colour types, bit depths, the per-row choice of
// filter, compression level and IDAT size), so files are as small.

// pngLayout is what writePNG needs to know about an image: its size, its
// colour type and bit depth, and how to lay out one row.
type pngLayout struct {
	w, h  int
	ct    byte // colour type
	depth byte // bits per sample
	// bpp is the filter's byte distance: bytes per pixel, at least 1.
	bpp int
	// rowLen is the number of bytes of a serialised row (without its
	// filter type byte).
	rowLen int
	// row serialises row y into dst (rowLen bytes).
	row func(y int, dst []byte)
	// plte and trns are the PLTE and tRNS chunks' data (paletted only;
	// trns nil when every entry is opaque).
	plte, trns []byte
}

// nrgbaLayout lays img out as 8-bit RGB (opaque true) or RGBA.
func nrgbaLayout(img *image.NRGBA, opaque bool) pngLayout {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if !opaque {
		return pngLayout{w: w, h: h, ct: pngRGBA, depth: 8, bpp: 4, rowLen: 4 * w,
			row: func(y int, dst []byte) { copy(dst, img.Pix[y*img.Stride:y*img.Stride+4*w]) }}
	}
	return pngLayout{w: w, h: h, ct: pngTrueColor, depth: 8, bpp: 3, rowLen: 3 * w,
		row: func(y int, dst []byte) {
			src := img.Pix[y*img.Stride : y*img.Stride+4*w]
			dst = dst[:3*w]
			for x := range w {
				p := src[4*x : 4*x+3 : 4*x+3]
				q := dst[3*x : 3*x+3 : 3*x+3]
				q[0], q[1], q[2] = p[0], p[1], p[2]
			}
		}}
}

// grayLayout lays out an opaque grey img (R = G = B) as 8-bit grey.
func grayLayout(img *image.NRGBA) pngLayout {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	return pngLayout{w: w, h: h, ct: pngGray, depth: 8, bpp: 1, rowLen: w,
		row: func(y int, dst []byte) {
			src := img.Pix[y*img.Stride : y*img.Stride+4*w]
			dst = dst[:w]
			for x := range dst {
				dst[x] = src[4*x]
			}
		}}
}

// palettedLayout lays pm out with the smallest bit depth its palette
// allows (1, 2, 4 or 8), and a tRNS chunk up to its last entry that is not
// opaque.
func palettedLayout(pm *image.Paletted) pngLayout {
	w, h := pm.Rect.Dx(), pm.Rect.Dy()
	n := len(pm.Palette)
	depth := 8
	switch {
	case n <= 2:
		depth = 1
	case n <= 4:
		depth = 2
	case n <= 16:
		depth = 4
	}
	l := pngLayout{w: w, h: h, ct: pngPaletted, depth: byte(depth), bpp: 1, rowLen: (w*depth + 7) / 8}
	l.plte = make([]byte, 0, 3*n)
	trns := make([]byte, 0, n)
	last := -1
	for i, c := range pm.Palette {
		nc := color.NRGBAModel.Convert(c).(color.NRGBA)
		l.plte = append(l.plte, nc.R, nc.G, nc.B)
		trns = append(trns, nc.A)
		if nc.A != 0xFF {
			last = i
		}
	}
	if last >= 0 {
		l.trns = trns[:last+1]
	}
	perByte := 8 / depth
	l.row = func(y int, dst []byte) {
		src := pm.Pix[y*pm.Stride : y*pm.Stride+w]
		if depth == 8 {
			copy(dst, src)
			return
		}
		dst = dst[:l.rowLen]
		clear(dst)
		for x, v := range src {
			shift := 8 - depth*(x%perByte+1)
			dst[x/perByte] |= v << shift
		}
	}
	return l
}

// PNG filter types.
const (
	ftNone = iota
	ftSub
	ftUp
	ftAverage
	ftPaeth
	nFilters
)

// pngIDATSize is the largest IDAT chunk written (the compressed stream is
// split into chunks of this size, as image/png does).
const pngIDATSize = 32 << 10

// pngSlice is the most filtered data handed to the compressor at once: on
// smooth images (long match chains) deflate takes up to some 250 ns a
// byte, so a wide row is compressed in slices with a poll between them.
// The compressed stream does not depend on how its input is sliced.
const pngSlice = 8 << 10

// zlibWriters pools compressors between images, per level (zlibLevels):
// each holds up to some 800 KiB of tables and window.
var zlibWriters [len(zlibLevels)]sync.Pool // of *zlib.Writer

// zlibLevels are the compression levels the writer uses.
var zlibLevels = [...]int{zlib.DefaultCompression, zlib.HuffmanOnly, zlib.BestSpeed}

// getZlib returns a pooled compressor at level (one of zlibLevels) writing
// to w, and the function that gives it back.
func getZlib(w io.Writer, level int) (*zlib.Writer, func(), error) {
	i := 0
	for i < len(zlibLevels) && zlibLevels[i] != level {
		i++
	}
	if i == len(zlibLevels) {
		zw, err := zlib.NewWriterLevel(w, level)
		return zw, func() {}, err
	}
	zw, _ := zlibWriters[i].Get().(*zlib.Writer)
	if zw == nil {
		var err error
		if zw, err = zlib.NewWriterLevel(w, level); err != nil {
			return nil, nil, err
		}
	} else {
		zw.Reset(w)
	}
	return zw, func() {
		zw.Reset(io.Discard) // drop the reference to w
		zlibWriters[i].Put(zw)
	}, nil
}

// writePNG writes the image l describes as a PNG file: rows filtered (for
// 8-bit grey, RGB and RGBA, with the filter whose output has the least sum
// of absolute values, the heuristic of libpng and image/png; palette rows
// unfiltered), compressed into IDAT chunks of 32 KiB at the level
// choosePNGLevel picks. pl is polled once per row.
func writePNG(pl *ctxpoll.Poller, w io.Writer, l pngLayout) error {
	level, err := choosePNGLevel(pl, l)
	if err != nil {
		return err
	}
	return writePNGLevel(pl, w, l, level)
}

// pngChooseMin is the least filtered data, in bytes, for which
// choosePNGLevel looks at anything but zlib's default level: below it the
// default costs little.
const pngChooseMin = 64 << 10

// choosePNGLevel returns zlib's default level (6, image/png's), or
// Huffman coding alone when string matching does not pay. On filtered
// photographs it does not: matches of a few bytes cost more than the
// literals they replace and blur the literals' statistics (zlib's
// Z_FILTERED strategy, which libpng uses, exists for this), and level 6
// spends most of a small PNG's encoding time finding them.
// cups-palette.png at 400 px: Huffman alone 141,838 B in 1.7 ms, level 6
// 146,024 B in 46 ms, level 1 161,155 B in 5 ms. On an image with flat
// areas or repeats (gulp.png's quantised faint pixels: 79,386 B against
// 51,721) matching is what compresses.
//
// It compresses the filtered rows, counting bytes only, in two passes.
// First one band of 8 rows in every 64, with Huffman coding alone (sh)
// and level 1 (s1, a fast matcher): when level 1 already beats Huffman
// coding there, matching pays and level 6 is kept (gulp.png: this pass is
// all it costs, 1/8 of filtering and of two cheap compressions). Then all
// rows with Huffman coding alone (h) and level 1 (l1), and the sample with
// level 6 (s6): Huffman coding alone is chosen when it is at least 2 %
// smaller than level 6 on the sample and level 1 does not beat it on the
// whole (l1 ≥ h: no flat region or repeats outside the sample worth
// matching); otherwise level 6. The margin covers the sample's
// misjudgement: ladybird-alpha.png at 400 px is 0.4 % smaller with
// Huffman coding on the sample, 0.6 % larger on the whole. On a
// photograph the choice costs about a quarter of level 6's time, and the
// rows are filtered again to write.
//
// At 400 px (h, l1, s6, sh in bytes): cups-palette.png 141,844,
// 161,161, 18,569, 17,609: Huffman (level 6: 146,024); gulp.png 79,392,
// 60,330, 6,863, 10,428: level 6; volna.jpg 79,977, 102,074, 12,803,
// 11,853: Huffman.
func choosePNGLevel(pl *ctxpoll.Poller, l pngLayout) (int, error) {
	if int64(l.rowLen+1)*int64(l.h) < pngChooseMin {
		return zlib.DefaultCompression, nil
	}
	sampled := func(y int) bool { return y/8%8 == 0 }
	var s1, sh countingWriter
	if err := compressCounting(pl, l, sampled, []levelSink{{&s1, zlib.BestSpeed, nil}, {&sh, zlib.HuffmanOnly, nil}}); err != nil {
		return 0, err
	}
	if s1.n < sh.n {
		return zlib.DefaultCompression, nil
	}
	var h, l1, s6 countingWriter
	all := func(int) bool { return true }
	if err := compressCounting(pl, l, all, []levelSink{{&h, zlib.HuffmanOnly, nil}, {&l1, zlib.BestSpeed, nil}, {&s6, zlib.DefaultCompression, sampled}}); err != nil {
		return 0, err
	}
	if 50*sh.n < 49*s6.n && l1.n >= h.n {
		return zlib.HuffmanOnly, nil
	}
	return zlib.DefaultCompression, nil
}

// levelSink is a compression of choosePNGLevel's: into w at level, of the
// rows rows selects (nil: all the pass filters).
type levelSink struct {
	w     *countingWriter
	level int
	rows  func(y int) bool
}

// compressCounting filters the rows that rows selects and compresses
// them into each sink.
func compressCounting(pl *ctxpoll.Poller, l pngLayout, rows func(y int) bool, sinks []levelSink) error {
	zws := make([]*zlib.Writer, len(sinks))
	for i, s := range sinks {
		zw, put, err := getZlib(s.w, s.level)
		if err != nil {
			return err
		}
		defer put()
		zws[i] = zw
	}
	err := filterRows(pl, l, rows, func(y int, out []byte) error {
		for i, s := range sinks {
			if s.rows != nil && !s.rows(y) {
				continue
			}
			if _, err := zws[i].Write(out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, zw := range zws {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// writePNGLevel is writePNG at a given zlib level.
func writePNGLevel(pl *ctxpoll.Poller, w io.Writer, l pngLayout, level int) error {
	cw := &pngChunkWriter{w: w}
	cw.bytes([]byte("\x89PNG\r\n\x1a\n"))
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(l.w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(l.h))
	ihdr[8], ihdr[9] = l.depth, l.ct // compression, filter and interlace methods 0
	cw.chunk("IHDR", ihdr[:])
	if l.ct == pngPaletted {
		cw.chunk("PLTE", l.plte)
		if l.trns != nil {
			cw.chunk("tRNS", l.trns)
		}
	}
	if cw.err != nil {
		return cw.err
	}

	idat := bufio.NewWriterSize(idatWriter{cw}, pngIDATSize)
	zw, put, err := getZlib(idat, level)
	if err != nil {
		return err
	}
	defer put()
	err = filterRows(pl, l, nil, func(_ int, out []byte) error {
		_, err := zw.Write(out)
		return err
	})
	if err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := idat.Flush(); err != nil {
		return err
	}
	cw.chunk("IEND", nil)
	return cw.err
}

// filterRows serialises and filters each row of l that rows selects (nil:
// all) and hands it, behind its filter type byte, to emit, in slices of
// at most pngSlice bytes (the compressor behind emit may take up to some
// 250 ns a byte on smooth images: pl is polled between slices, pngSlice
// bytes counting as Interval units of work). A row is filtered as in the
// whole image: the row above a selected one is serialised too.
func filterRows(pl *ctxpoll.Poller, l pngLayout, rows func(y int) bool, emit func(y int, p []byte) error) error {
	// cur[0] and prev[0] are the filter type byte; filtered[f] holds the
	// row filtered with f, behind its type byte.
	n := l.rowLen + 1
	buf := make([]byte, (2+nFilters)*n)
	cur, prev := buf[:n], buf[n:2*n]
	var filtered [nFilters][]byte
	for f := range filtered {
		filtered[f] = buf[(2+f)*n : (3+f)*n]
		filtered[f][0] = byte(f)
	}
	filter := l.ct != pngPaletted && l.depth == 8
	const sliceWork = ctxpoll.Interval / pngSlice
	for y := range l.h {
		selected := rows == nil || rows(y)
		if !selected && (y+1 == l.h || !rows(y+1)) {
			continue
		}
		if err := pl.Work(l.rowLen); err != nil {
			return err
		}
		l.row(y, cur[1:])
		if !selected { // the row above the next one
			cur, prev = prev, cur
			continue
		}
		out := cur
		if filter {
			out = filtered[chooseFilter(&filtered, cur[1:], prev[1:], l.bpp)]
		}
		for len(out) > 0 {
			n := min(len(out), pngSlice)
			if err := pl.Work(sliceWork * n); err != nil {
				return err
			}
			if err := emit(y, out[:n]); err != nil {
				return err
			}
			out = out[n:]
		}
		cur, prev = prev, cur
	}
	return nil
}

// chooseFilter fills the filtered rows (after their type byte) from the
// row cur and the row above it, prev (zeros for the first row), with
// pixels bpp bytes apart, and returns the filter whose output has the
// least sum of absolute values (bytes read as signed). The filters are
// tried in the order Up, Paeth, None, Sub, Average, keeping the first of
// equal sums; a filter stops as soon as its sum reaches the best so far
// (its row is then left incomplete, and not chosen).
func chooseFilter(filtered *[nFilters][]byte, cur, prev []byte, bpp int) int {
	n := len(cur)
	prev = prev[:n]
	best, bestSum := ftUp, 0
	up := filtered[ftUp][1:]
	up = up[:n]
	for i, c := range cur {
		d := c - prev[i]
		up[i] = d
		bestSum += absInt8(d)
	}

	paeth := filtered[ftPaeth][1:]
	paeth = paeth[:n]
	sum := 0
	for i := 0; i < bpp && i < n; i++ {
		d := cur[i] - prev[i] // no left neighbour: Paeth predicts b
		paeth[i] = d
		sum += absInt8(d)
	}
	for i := bpp; i < n && sum < bestSum; i++ {
		d := cur[i] - paethPredict(cur[i-bpp], prev[i], prev[i-bpp])
		paeth[i] = d
		sum += absInt8(d)
	}
	if sum < bestSum {
		best, bestSum = ftPaeth, sum
	}

	none := filtered[ftNone][1:]
	none = none[:n]
	sum = 0
	for i := 0; i < n && sum < bestSum; i++ {
		sum += absInt8(cur[i])
	}
	if sum < bestSum {
		copy(none, cur)
		best, bestSum = ftNone, sum
	}

	sub := filtered[ftSub][1:]
	sub = sub[:n]
	sum = 0
	for i := 0; i < bpp && i < n; i++ {
		sub[i] = cur[i]
		sum += absInt8(cur[i])
	}
	for i := bpp; i < n && sum < bestSum; i++ {
		d := cur[i] - cur[i-bpp]
		sub[i] = d
		sum += absInt8(d)
	}
	if sum < bestSum {
		best, bestSum = ftSub, sum
	}

	avg := filtered[ftAverage][1:]
	avg = avg[:n]
	sum = 0
	for i := 0; i < bpp && i < n; i++ {
		d := cur[i] - prev[i]/2
		avg[i] = d
		sum += absInt8(d)
	}
	for i := bpp; i < n && sum < bestSum; i++ {
		d := cur[i] - byte((int(cur[i-bpp])+int(prev[i]))/2)
		avg[i] = d
		sum += absInt8(d)
	}
	if sum < bestSum {
		best = ftAverage
	}
	return best
}

// absInt8 returns |b| for b read as a signed byte.
func absInt8(b byte) int {
	v := int(int8(b))
	m := v >> 31
	return (v ^ m) - m
}

// paethPredict is the Paeth predictor of PNG filter type 4: of a (left),
// b (above) and c (above left), the one closest to a + b − c, preferring
// a, then b.
func paethPredict(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := p-int(a), p-int(b), p-int(c)
	pa, pb, pc = max(pa, -pa), max(pb, -pb), max(pc, -pc)
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

// pngChunkWriter writes PNG chunks to w, keeping the first error.
type pngChunkWriter struct {
	w   io.Writer
	err error
}

// bytes writes p as it is.
func (c *pngChunkWriter) bytes(p []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(p)
	}
}

// chunk writes one chunk: length, type, data and CRC of type and data.
func (c *pngChunkWriter) chunk(typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	c.bytes(hdr[:])
	c.bytes(data)
	c.bytes(sum[:])
}

// idatWriter writes every Write as one IDAT chunk.
type idatWriter struct{ c *pngChunkWriter }

func (w idatWriter) Write(p []byte) (int, error) {
	w.c.chunk("IDAT", p)
	if w.c.err != nil {
		return 0, w.c.err
	}
	return len(p), nil
}
