package codec

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"slices"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// EncodePNG8 writes img as a palette PNG (colour type 3, at most 256
// entries) with 8-bit alpha per entry in a tRNS chunk.
//
// When img has at most 256 distinct colours the palette is exact and
// decoding gives back img's pixels; failing that, when it has at most 256
// once every fully transparent pixel counts as (0, 0, 0, 0), the visible
// pixels are exact. Otherwise the image is quantised (see quantizeRGBA):
// median cut in premultiplied RGBA with variance-minimising splits, refined
// by k-means, then mapped with serpentine Floyd–Steinberg dithering of
// premultiplied values. Fully transparent pixels stay exactly (0, 0, 0, 0)
// and are never dithered; opaque pixels stay opaque; translucent pixels
// may become opaque or transparent when that is nearest.
//
// quality (1–100; callers default to 85) steers quantised images only,
// through three numbers:
//
//	colours    ≤ clamp(round(256 · (quality/100)²), 2, 256)
//	target RMS = (100 − quality)/20 levels (of 255) per channel
//	dither     = min(1, quality/50)
//
// Median cut stops at the colour limit or as soon as the palette's RMS
// error over the visible pixels (premultiplied channels, alpha weighted as
// quantizeRGBA describes) is within the target, whichever comes first, so
// images with few distinct colours get small palettes. dither is the
// fraction of each pixel's error that is diffused. So 100 gives up to 256
// colours with no early stop, 85 up to 185 colours and stops at 0.75
// levels, 50 up to 64 colours and 2.5 levels, 25 up to 16 colours, 7.5
// levels and half-strength dithering. Fewer colours and less dither noise
// make smaller files. At least one colour is kept for each class present
// (fully transparent, translucent, opaque).
//
// ctx is polled every few rows of every pass over the image, and every few
// steps of the palette search (see ctxpoll): once it is done, EncodePNG8
// stops, leaving w with part of a file at most, and returns ctx.Err().
func EncodePNG8(ctx context.Context, w io.Writer, img *image.NRGBA, quality int) error {
	if err := checkEncodable(img); err != nil {
		return err
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("codec: PNG8 quality %d is outside 1–100", quality)
	}
	pl := ctxpoll.New(ctx)
	pm, err := png8Paletted(&pl, img, quality)
	if err != nil {
		return err
	}
	return writePNG(&pl, w, palettedLayout(pm))
}

// png8Paletted returns the paletted image EncodePNG8 writes, polling pl.
func png8Paletted(pl *ctxpoll.Poller, img *image.NRGBA, quality int) (*image.Paletted, error) {
	for _, clearTransparent := range []bool{false, true} {
		set, err := distinctColors(pl, img, clearTransparent)
		if err != nil {
			return nil, err
		}
		if set != nil {
			return palettedFromSet(pl, img, set, clearTransparent)
		}
	}
	q := float64(quality) / 100
	colors := min(max(int(math.Round(256*q*q)), 2), 256)
	return quantizeRGBA(pl, img, colors, float64(100-quality)/20, min(1, 2*q))
}

// distinctColors returns img's colours when there are at most 256 of
// them, or nil. With clearTransparent, every pixel with alpha 0 counts as
// (0, 0, 0, 0). It polls pl once per row.
func distinctColors(pl *ctxpoll.Poller, img *image.NRGBA, clearTransparent bool) (*colorSet, error) {
	set := new(colorSet)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return nil, err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		prev, havePrev := uint32(0), false
		for i := 0; i < len(row); i += 4 {
			k := pngKey(row[i:i+4:i+4], clearTransparent)
			if havePrev && k == prev {
				continue
			}
			prev, havePrev = k, true
			if !set.add(k) {
				return nil, nil
			}
		}
	}
	return set, nil
}

// pngKey packs a pixel, mapping alpha 0 to key 0 with clearTransparent.
func pngKey(p []byte, clearTransparent bool) uint32 {
	if clearTransparent && p[3] == 0 {
		return 0
	}
	return packNRGBA(p)
}

// quantizeRGBA's histogram holds at most histMaxCells cells besides the
// fully transparent one, and k-means runs kmeansIterations rounds.
const (
	histMaxCells     = 1 << (histMaxBits - 1)
	kmeansIterations = 4
	// ditherLimit caps the error a pixel receives from its neighbours at
	// 16 levels (of 255) in its largest channel, scaling all four channels
	// together; uncapped errors build up in areas no palette entry is near
	// and leave streaks and wrong alpha at edges.
	ditherLimit = 16 * 255 * 16 // in the 1/16 units of the error rows
)

// Alpha counts twice in the squared distance that median cut, k-means and
// the mapping minimise (its coordinate is scaled by alphaScale ≈ √2): an
// alpha error shows in all three channels of the composited result, while
// a premultiplied colour error shows in one.
const (
	alphaScaleNum   = 181 // alphaScale = 181/128
	alphaScaleShift = 7
	alphaScale      = float64(alphaScaleNum) / (1 << alphaScaleShift)
)

// scaleAlpha scales a premultiplied ×255 alpha by alphaScale.
func scaleAlpha(a int32) int32 {
	return a * alphaScaleNum >> alphaScaleShift
}

// Colour classes. Opaque pixels only map to opaque entries and fully
// transparent ones only to the transparent entry, so quantisation never
// changes whether a pixel is opaque or invisible.
const (
	classTransparent = iota
	classTranslucent
	classOpaque
)

// qcell is an occupied histogram cell: its pixel count and mean colour in
// premultiplied RGBA scaled by 255 (an opaque channel value v is 255·v, up
// to 65025), alpha scaled by 255·alphaScale.
type qcell struct {
	n     float64
	c     [4]float64
	class uint8
}

// premul returns a pixel's premultiplied channels scaled by 255.
func premul(p []byte) [4]int32 {
	a := int32(p[3])
	return [4]int32{int32(p[0]) * a, int32(p[1]) * a, int32(p[2]) * a, a * 255}
}

// quantizeRGBA reduces img to at most maxColors palette entries (fewer when
// median cut reaches targetRMS first, see paletteRGBA) and maps it with
// dithering of the given strength (0–1). All distances are squared
// Euclidean in premultiplied RGBA with alpha scaled by alphaScale. The
// palette holds color.NRGBA entries, translucent ones first (so that tRNS
// stays short), and only entries that some pixel uses. Memory, besides
// one index byte per pixel and two rows of error terms, is bounded
// independently of the image: at most 6 MiB of histogram table (less for
// small images), 3 MiB of scratch when the table coarsens, 3 MiB of
// occupied cells and 2 MiB of search grids. Each stage polls pl.
func quantizeRGBA(pl *ctxpoll.Poller, img *image.NRGBA, maxColors int, targetRMS, dither float64) (*image.Paletted, error) {
	cells, err := histogramRGBA(pl, img)
	if err != nil {
		return nil, err
	}
	pal, classes, err := paletteRGBA(pl, cells, maxColors, targetRMS)
	if err != nil {
		return nil, err
	}
	return ditherRGBA(pl, img, pal, classes, dither)
}

// histogramRGBA collects the occupied cells of img. A cell groups the
// pixels of one class whose premultiplied 8-bit channels (and alpha) agree
// after dropping shift low bits; shift starts at 0 (every distinct colour
// its own cell) and grows, merging cells, whenever more than histMaxCells
// cells would be needed. Every cell keeps exact sums, so its colour is the
// exact mean of its pixels; the cells only limit how finely median cut and
// k-means can separate colours. Memory is bounded by histMaxCells whatever
// the image size. It polls pl once per row.
func histogramRGBA(pl *ctxpoll.Poller, img *image.NRGBA) ([]qcell, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	var t histTable
	// Twice as many slots as cells keeps probes short; a small image
	// cannot have more cells than pixels.
	t.bits = 4
	for t.bits < histMaxBits && 1<<t.bits < 2*int64(w)*int64(h) {
		t.bits++
	}
	t.init()
	var transparent uint64
	for y := range h {
		if err := pl.Work(8 * w); err != nil {
			return nil, err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		last, slot := uint32(0), -1 // the previous pixel and its slot
		for i := 0; i < len(row); i += 4 {
			p := row[i : i+4 : i+4]
			if p[3] == 0 {
				transparent++
				continue
			}
			if px := packNRGBA(p); slot >= 0 && px == last {
				t.counts[slot]++
				t.addSum(slot, p)
				continue
			} else {
				last = px
			}
			slot = t.add(p)
		}
	}
	cells := make([]qcell, 0, t.n+1)
	if transparent > 0 {
		cells = append(cells, qcell{n: float64(transparent), class: classTransparent})
	}
	for s, k := range t.keys {
		if k == 0 {
			continue
		}
		n := float64(t.counts[s])
		c := qcell{n: n, class: uint8(k >> 32)}
		for i := range 4 {
			c.c[i] = float64(t.sums[s][i]) / n
		}
		c.c[3] *= alphaScale
		cells = append(cells, c)
	}
	return cells, nil
}

// histTable is an open-addressing hash table of histogram cells.
type histTable struct {
	keys   []uint64 // class<<32 | r<<24 | g<<16 | b<<8 | a, each >> shift; 0 marks a free slot
	counts []uint64
	sums   [][4]uint64 // premultiplied ×255 sums
	n      int
	shift  uint
	bits   uint       // log2 of the number of slots
	spill  []histCell // scratch for coarsen
}

// histMaxBits sizes the largest table: twice histMaxCells slots.
const histMaxBits = 17

// init allocates 1<<t.bits empty slots.
func (t *histTable) init() {
	n := 1 << t.bits
	t.keys = make([]uint64, n)
	t.counts = make([]uint64, n)
	t.sums = make([][4]uint64, n)
}

// cellKey returns the key of a pixel with alpha > 0 at the current shift.
func (t *histTable) cellKey(p []byte) uint64 {
	s := t.shift
	if p[3] == 0xFF {
		return classOpaque<<32 | uint64(p[0]>>s)<<24 | uint64(p[1]>>s)<<16 | uint64(p[2]>>s)<<8
	}
	a := uint32(p[3])
	pr, pg, pb := (uint32(p[0])*a+127)/255, (uint32(p[1])*a+127)/255, (uint32(p[2])*a+127)/255
	return classTranslucent<<32 | uint64(pr>>s)<<24 | uint64(pg>>s)<<16 | uint64(pb>>s)<<8 | uint64(a>>s)
}

// find returns the slot holding k or the free slot where it goes.
func (t *histTable) find(k uint64) int {
	i := int((k * 0x9E3779B97F4A7C15) >> (64 - t.bits))
	for t.keys[i] != 0 && t.keys[i] != k {
		i = (i + 1) & (1<<t.bits - 1)
	}
	return i
}

// add counts pixel p and returns its slot.
func (t *histTable) add(p []byte) int {
	k := t.cellKey(p)
	i := t.find(k)
	if t.keys[i] == 0 {
		if t.n == 1<<(t.bits-1) { // at most histMaxCells
			t.coarsen()
			return t.add(p)
		}
		t.keys[i] = k
		t.n++
	}
	t.counts[i]++
	t.addSum(i, p)
	return i
}

// addSum adds p's premultiplied values to slot i.
func (t *histTable) addSum(i int, p []byte) {
	q := premul(p)
	s := &t.sums[i]
	s[0] += uint64(q[0])
	s[1] += uint64(q[1])
	s[2] += uint64(q[2])
	s[3] += uint64(q[3])
}

// coarsen drops one more bit of every channel, merging cells.
func (t *histTable) coarsen() {
	// Move the cells out (reusing one buffer), clear the table, and put
	// them back under their coarser keys.
	if t.spill == nil {
		t.spill = make([]histCell, 0, t.n)
	}
	t.spill = t.spill[:0]
	for s, k := range t.keys {
		if k != 0 {
			t.spill = append(t.spill, histCell{k, t.counts[s], t.sums[s]})
		}
	}
	clear(t.keys)
	clear(t.counts)
	clear(t.sums)
	t.n = 0
	t.shift++
	for _, c := range t.spill {
		// Halve each 8-bit field; the class stays.
		nk := c.key&(0xFF<<32) | (c.key&0xFEFEFEFE)>>1
		i := t.find(nk)
		if t.keys[i] == 0 {
			t.keys[i] = nk
			t.n++
		}
		t.counts[i] += c.count
		for k := range 4 {
			t.sums[i][k] += c.sum[k]
		}
	}
}

// histCell is a table entry while the table is rebuilt.
type histCell struct {
	key   uint64
	count uint64
	sum   [4]uint64
}

// qbox is a range of cells in the median-cut work list.
type qbox struct {
	lo, hi int
	sse    float64 // count-weighted squared error around the mean
	axis   int     // channel of largest spread
}

// newQBox computes the statistics of cells[lo:hi].
func newQBox(cells []qcell, lo, hi int) qbox {
	var n float64
	var s, s2 [4]float64
	for _, c := range cells[lo:hi] {
		n += c.n
		for i := range 4 {
			s[i] += c.n * c.c[i]
			s2[i] += c.n * c.c[i] * c.c[i]
		}
	}
	b := qbox{lo: lo, hi: hi}
	best := -1.0
	for i := range 4 {
		v := max(s2[i]-s[i]*s[i]/n, 0)
		b.sse += v
		if v > best {
			best, b.axis = v, i
		}
	}
	return b
}

// paletteRGBA chooses at most maxColors colours for cells: one entry for
// the fully transparent cell, the rest shared by the translucent and opaque
// cells by median cut (boxes never mix the two classes; the box with the
// largest squared error is split, along its widest channel, where the two
// halves' summed squared error is least), then kmeansIterations rounds of
// k-means within each class. Splitting stops early once the boxes' summed
// squared error, per visible pixel and channel, is at most targetRMS²
// (targetRMS in levels of 255). It returns the entries in the cells'
// coordinates, with their classes. It polls pl once per split, and as
// kmeans does.
func paletteRGBA(pl *ctxpoll.Poller, cells []qcell, maxColors int, targetRMS float64) ([][4]float64, []uint8, error) {
	// Sort by class so that each class is one range.
	slices.SortStableFunc(cells, func(a, b qcell) int { return int(a.class) - int(b.class) })
	var pal [][4]float64
	var classes []uint8
	var boxes []qbox
	budget := maxColors
	for lo := 0; lo < len(cells); {
		hi := lo
		for hi < len(cells) && cells[hi].class == cells[lo].class {
			hi++
		}
		if cells[lo].class == classTransparent {
			pal = append(pal, [4]float64{})
			classes = append(classes, classTransparent)
		} else {
			boxes = append(boxes, newQBox(cells, lo, hi))
		}
		budget--
		lo = hi
	}
	budget = max(budget, 0)
	var visible float64
	for _, c := range cells {
		if c.class != classTransparent {
			visible += c.n
		}
	}
	target := targetRMS * targetRMS * 255 * 255 * 4 * visible
	for ; budget > 0; budget-- {
		var total float64
		for _, b := range boxes {
			total += b.sse
		}
		if total <= target {
			break
		}
		best := -1
		for i, b := range boxes {
			if b.hi-b.lo > 1 && b.sse > 0 && (best < 0 || b.sse > boxes[best].sse) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		b := boxes[best]
		part := cells[b.lo:b.hi]
		// Sorting and splitting a box take some 100 ns per cell.
		if err := pl.Work(32 * len(part)); err != nil {
			return nil, nil, err
		}
		axis := b.axis
		slices.SortFunc(part, func(x, y qcell) int { return cmp.Compare(x.c[axis], y.c[axis]) })
		split := bestSplit(part)
		boxes[best] = newQBox(cells, b.lo, b.lo+split)
		boxes = append(boxes, newQBox(cells, b.lo+split, b.hi))
	}
	for _, b := range boxes {
		pal = append(pal, centroid(cells[b.lo:b.hi]))
		classes = append(classes, cells[b.lo].class)
	}
	if err := kmeans(pl, cells, pal, classes); err != nil {
		return nil, nil, err
	}
	return pal, classes, nil
}

// bestSplit returns the index in (0, len(part)) that splits the sorted
// cells into two halves with the least summed squared error.
func bestSplit(part []qcell) int {
	var tn, ts2 float64
	var tsum [4]float64
	for _, c := range part {
		tn += c.n
		for i := range 4 {
			tsum[i] += c.n * c.c[i]
			ts2 += c.n * c.c[i] * c.c[i]
		}
	}
	best, bestErr := 1, math.Inf(1)
	var ln float64
	var lsum [4]float64
	for k := 1; k < len(part); k++ {
		c := part[k-1]
		ln += c.n
		for i := range 4 {
			lsum[i] += c.n * c.c[i]
		}
		rn := tn - ln
		// SSE_left + SSE_right = Σn·c² − |Σ_left|²/n_left − |Σ_right|²/n_right;
		// the first term is constant, so maximise the rest.
		var l2, r2 float64
		for i := range 4 {
			l2 += lsum[i] * lsum[i]
			r := tsum[i] - lsum[i]
			r2 += r * r
		}
		if e := ts2 - l2/ln - r2/rn; e < bestErr {
			best, bestErr = k, e
		}
	}
	return best
}

// centroid returns the count-weighted mean colour of cells.
func centroid(cells []qcell) [4]float64 {
	var n float64
	var s [4]float64
	for _, c := range cells {
		n += c.n
		for i := range 4 {
			s[i] += c.n * c.c[i]
		}
	}
	for i := range 4 {
		s[i] /= n
	}
	return s
}

// kmeans refines the translucent and opaque entries of pal: each round
// assigns every cell to the nearest entry of its class and moves each entry
// to the mean of its cells. Entries that lose all cells stay put. It polls
// pl every few thousand cells.
func kmeans(pl *ctxpoll.Poller, cells []qcell, pal [][4]float64, classes []uint8) error {
	sums := make([][5]float64, len(pal))
	var has [3]bool
	for _, c := range classes {
		has[c] = true
	}
	for range kmeansIterations {
		var searches [3]paletteSearch
		for _, cl := range []uint8{classTranslucent, classOpaque} {
			if has[cl] {
				searches[cl] = newPaletteSearch(pal, func(i int) bool { return classes[i] == cl }, cl == classOpaque, 4)
			}
		}
		clear(sums)
		for j, c := range cells {
			if j%1024 == 0 {
				// A nearest-entry search takes some 100 ns.
				if err := pl.Work(32 * 1024); err != nil {
					return err
				}
			}
			if c.class == classTransparent {
				continue
			}
			q := [4]int32{int32(c.c[0] + 0.5), int32(c.c[1] + 0.5), int32(c.c[2] + 0.5), int32(c.c[3] + 0.5)}
			i := searches[c.class].nearest(q)
			s := &sums[i]
			for k := range 4 {
				s[k] += c.n * c.c[k]
			}
			s[4] += c.n
		}
		for i, s := range sums {
			if s[4] > 0 && classes[i] != classTransparent {
				for k := range 4 {
					pal[i][k] = s[k] / s[4]
				}
			}
		}
	}
	return nil
}

// paletteSearch finds, exactly, the nearest palette entry (squared
// Euclidean distance, integer coordinates) among a subset of entries. The
// query space is cut into a grid of boxes; the first query in a box lists
// the entries that can be nearest to any point of the box — those whose
// distance to the box is at most the smallest distance from an entry to
// the box's farthest corner — and every query then only compares those
// few candidates. Boxes are filled lazily, so the cost follows the colours
// the image actually has. A paletteSearch is used by one goroutine.
type paletteSearch struct {
	ent   [][4]int32
	index []int
	bits  [4]uint  // grid bits per coordinate
	shift [4]uint  // coordinate >> shift is the grid position
	start []int32  // per box: offset in cand, −1 while not built
	count []uint16 // per box: number of candidates
	cand  []uint8  // candidate positions in ent
	all   []uint8  // 0, 1, …, len(ent)−1
	// parent is a coarser grid over the same entries: a box's candidates
	// are a subset of those of the parent box holding it, so fine boxes are
	// built from the parent's short list instead of every entry.
	parent *paletteSearch
}

// Coordinate ranges of the search space: premultiplied ×255 channels, and
// the scaled alpha.
const (
	maxChannel = 255 * 255
	maxAlpha   = maxChannel * alphaScaleNum >> alphaScaleShift
)

// newPaletteSearch indexes the entries of pal for which keep is true; they
// must be at most 256. With opaqueOnly, every query has alpha maxAlpha.
// The grid has 2^(3·bits) boxes for opaque queries and 2^(4·(bits−2))
// otherwise: fine grids suit many queries (dithering every pixel), coarse
// ones few (k-means over histogram cells), since each box touched costs a
// pass over the entries.
func newPaletteSearch(pal [][4]float64, keep func(int) bool, opaqueOnly bool, bits uint) paletteSearch {
	var s paletteSearch
	for i, p := range pal {
		if keep(i) {
			s.ent = append(s.ent, [4]int32{int32(p[0] + 0.5), int32(p[1] + 0.5), int32(p[2] + 0.5), int32(p[3] + 0.5)})
			s.index = append(s.index, i)
		}
	}
	s.bits = [4]uint{bits - 2, bits - 2, bits - 2, bits - 2}
	if opaqueOnly {
		s.bits = [4]uint{bits, bits, bits, 0}
	}
	for k, max := range [4]int32{maxChannel, maxChannel, maxChannel, maxAlpha} {
		for max>>s.shift[k] >= 1<<s.bits[k] {
			s.shift[k]++
		}
	}
	s.all = make([]uint8, len(s.ent))
	for j := range s.all {
		s.all[j] = uint8(j)
	}
	n := 1 << (s.bits[0] + s.bits[1] + s.bits[2] + s.bits[3])
	s.start = make([]int32, n)
	for i := range s.start {
		s.start[i] = -1
	}
	s.count = make([]uint16, n)
	if bits >= 5 {
		p := newPaletteSearch(pal, keep, opaqueOnly, bits-2)
		s.parent = &p
	}
	return s
}

// box returns the grid box of q.
func (s *paletteSearch) box(q [4]int32) int {
	b := 0
	for k := range 4 {
		b = b<<s.bits[k] | int(q[k]>>s.shift[k])&(1<<s.bits[k]-1)
	}
	return b
}

// build lists the candidates of the box holding q.
func (s *paletteSearch) build(q [4]int32, b int) {
	var lo, hi [4]int64
	for k := range 4 {
		if s.bits[k] == 0 {
			lo[k], hi[k] = int64(q[k]), int64(q[k]) // the one value queries take
			continue
		}
		lo[k] = int64(q[k]>>s.shift[k]) << s.shift[k]
		hi[k] = lo[k] + 1<<s.shift[k] - 1
	}
	from := s.all
	if s.parent != nil {
		from = s.parent.candidates(q)
	}
	bound := int64(math.MaxInt64)
	for _, j := range from {
		e := s.ent[j]
		var far int64
		for k := range 4 {
			d := max(int64(e[k])-lo[k], hi[k]-int64(e[k]))
			far += d * d
		}
		bound = min(bound, far)
	}
	s.start[b] = int32(len(s.cand))
	for _, j := range from {
		e := s.ent[j]
		var near int64
		for k := range 4 {
			if d := lo[k] - int64(e[k]); d > 0 {
				near += d * d
			} else if d := int64(e[k]) - hi[k]; d > 0 {
				near += d * d
			}
		}
		if near <= bound {
			s.cand = append(s.cand, j)
		}
	}
	s.count[b] = uint16(len(s.cand) - int(s.start[b]))
}

// candidates returns the candidate positions of the box holding q.
func (s *paletteSearch) candidates(q [4]int32) []uint8 {
	b := s.box(q)
	if s.start[b] < 0 {
		s.build(q, b)
	}
	return s.cand[s.start[b]:][:s.count[b]]
}

// nearest returns the palette index nearest to q; the search must hold at
// least one entry, and q must lie in the search space.
func (s *paletteSearch) nearest(q [4]int32) int {
	cands := s.candidates(q)
	best, bestD := int(cands[0]), dist4(s.ent[cands[0]], q)
	for _, j := range cands[1:] {
		if d := dist4(s.ent[j], q); d < bestD {
			best, bestD = int(j), d
		}
	}
	return s.index[best]
}

// dist4 returns the squared distance of two integer points.
func dist4(a, b [4]int32) int64 {
	d0, d1, d2, d3 := int64(a[0]-b[0]), int64(a[1]-b[1]), int64(a[2]-b[2]), int64(a[3]-b[3])
	return d0*d0 + d1*d1 + d2*d2 + d3*d3
}

// ditherRGBA maps img onto the palette with serpentine Floyd–Steinberg
// error diffusion in premultiplied ×255 RGBA, diffusing the fraction
// strength of each error. Fully transparent pixels take the transparent
// entry and neither receive nor spread error; opaque pixels only take
// opaque entries and receive no alpha error; translucent pixels may take
// any entry. Targets are clamped to valid premultiplied values. It polls pl
// once per row.
func ditherRGBA(pl *ctxpoll.Poller, img *image.NRGBA, pal [][4]float64, classes []uint8, strength float64) (*image.Paletted, error) {
	// The NRGBA entries, and their exact premultiplied values.
	entries := make([]color.NRGBA, len(pal))
	exact := make([][4]int32, len(pal))    // premultiplied ×255
	scaled := make([][4]float64, len(pal)) // the same, alpha scaled, for the search
	for i, p := range pal {
		var c color.NRGBA
		switch classes[i] {
		case classTransparent:
		case classOpaque:
			c = color.NRGBA{to8f(p[0] / 255), to8f(p[1] / 255), to8f(p[2] / 255), 0xFF}
		default:
			a := to8f(p[3] / alphaScale / 255)
			if a == 0 {
				break
			}
			c = color.NRGBA{to8f(p[0] / float64(a)), to8f(p[1] / float64(a)), to8f(p[2] / float64(a)), a}
		}
		entries[i] = c
		q := premul([]byte{c.R, c.G, c.B, c.A})
		scaled[i] = [4]float64{float64(q[0]), float64(q[1]), float64(q[2]), float64(scaleAlpha(q[3]))}
		exact[i] = q
	}
	transparent := -1
	for i, c := range entries {
		if c.A == 0 {
			transparent = i
			break
		}
	}
	// Fine grids pay off over many pixels; small images use coarse ones.
	bits := uint(4)
	if px := int64(img.Rect.Dx()) * int64(img.Rect.Dy()); px >= 1<<18 {
		bits = 6
	} else if px >= 1<<14 {
		bits = 5
	}
	opaque := newPaletteSearch(scaled, func(i int) bool { return entries[i].A == 0xFF }, true, bits)
	all := newPaletteSearch(scaled, func(int) bool { return true }, false, bits)
	scale := int32(math.Round(min(max(strength, 0), 1) * 256))

	w, h := img.Rect.Dx(), img.Rect.Dy()
	idx := make([]uint8, w*h)
	// Error rows in 1/16 units, with a guard cell at each end.
	cur := make([][4]int32, w+2)
	next := make([][4]int32, w+2)
	chunkWork := 32 * min(w, 1024) // a nearest-entry search takes some 100 ns
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		out := idx[y*w : (y+1)*w]
		clear(next)
		x0, x1, dx := 0, w, 1
		if y%2 == 1 {
			x0, x1, dx = w-1, -1, -1
		}
		for x := x0; x != x1; x += dx {
			if x&1023 == 0 {
				// Wide rows take milliseconds: polled every 1024 pixels.
				if err := pl.Work(chunkWork); err != nil {
					return nil, err
				}
			}
			p := row[4*x : 4*x+4 : 4*x+4]
			if p[3] == 0 {
				out[x] = uint8(transparent)
				continue
			}
			q := premul(p)
			e := cur[x+1]
			if m := max(e[0], -e[0], e[1], -e[1], e[2], -e[2], e[3], -e[3]); m > ditherLimit {
				for k := range 4 {
					e[k] = int32(int64(e[k]) * ditherLimit / int64(m))
				}
			}
			var i int
			if p[3] == 0xFF {
				for k := range 3 {
					q[k] = min(max(q[k]+(e[k]+8)>>4, 0), 65025)
				}
				i = opaque.nearest([4]int32{q[0], q[1], q[2], scaleAlpha(q[3])})
			} else {
				q[3] = min(max(q[3]+(e[3]+8)>>4, 0), 65025)
				for k := range 3 {
					q[k] = min(max(q[k]+(e[k]+8)>>4, 0), q[3])
				}
				i = all.nearest([4]int32{q[0], q[1], q[2], scaleAlpha(q[3])})
			}
			out[x] = uint8(i)
			if scale == 0 {
				continue
			}
			ahead, behind := x+1+dx, x+1-dx
			for k := range 4 {
				d := (q[k] - exact[i][k]) * scale >> 8
				cur[ahead][k] += 7 * d
				next[behind][k] += 3 * d
				next[x+1][k] += 5 * d
				next[ahead][k] += d
			}
		}
		cur, next = next, cur
	}
	return compactPaletted(idx, w, h, entries), nil
}

// to8f rounds v to a byte, clamped.
func to8f(v float64) uint8 {
	return uint8(min(max(math.Round(v), 0), 255))
}

// compactPaletted builds the paletted image from indices into entries,
// keeping only the entries in use (merging equal ones), translucent ones
// first.
func compactPaletted(idx []uint8, w, h int, entries []color.NRGBA) *image.Paletted {
	var used [256]bool
	for _, i := range idx {
		used[i] = true
	}
	var keep []color.NRGBA
	for i, c := range entries {
		if used[i] && !slices.Contains(keep, c) {
			keep = append(keep, c)
		}
	}
	slices.SortStableFunc(keep, func(a, b color.NRGBA) int {
		return int(a.A/0xFF) - int(b.A/0xFF) // alpha < 255 first
	})
	var remap [256]uint8
	for i, c := range entries {
		if used[i] {
			remap[i] = uint8(slices.Index(keep, c))
		}
	}
	pal := make(color.Palette, len(keep))
	for i, c := range keep {
		pal[i] = c
	}
	for i, v := range idx {
		idx[i] = remap[v]
	}
	return &image.Paletted{Pix: idx, Stride: w, Rect: image.Rect(0, 0, w, h), Palette: pal}
}
