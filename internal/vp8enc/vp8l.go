package vp8enc

import (
	"container/heap"
	"math"
	"math/bits"
	"sort"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// A small lossless (VP8L) image-stream writer for the alpha plane (WebP
// lossless bitstream specification; the ALPH chunk holds an image stream
// without the VP8L header, its size being the frame's). The values go in
// the green channel; red, blue and alpha are constant zero. There are no
// transforms, no colour cache and one set of prefix codes; runs of equal
// values become backward references to the previous pixel (distance code
// 121 = 1 pixel back, section "LZ77 backward reference"). The ALPH chunk's
// own prediction filter (alphaPayload) turns smooth alpha into such runs.

// bitWriter writes bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) write(v uint32, n uint) {
	w.acc |= uint64(v) << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nacc > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.nacc = 0, 0
	}
	return w.buf
}

// prefixOf splits a length or distance value v >= 1 into its prefix code
// and extra bits (section "LZ77 prefix coding").
func prefixOf(v int) (code int, nextra uint, extra uint32) {
	d := v - 1
	if d < 4 {
		return d, 0, 0
	}
	hb := bits.Len(uint(d)) - 1
	second := (d >> (hb - 1)) & 1
	nextra = uint(hb - 1)
	return 2*hb + second, nextra, uint32(d) & (1<<nextra - 1)
}

const (
	numLengthCodes   = 24
	numDistanceCodes = 40
	greenAlphabet    = 256 + numLengthCodes
	maxMatch         = 4096
	// maxDistance keeps distance+120 within the 40 distance prefix codes.
	maxDistance = 1<<20 - 121
	hashBits    = 16
	chainDepth  = 8
)

// matcher finds backward references greedily: at each position the
// match (at least 3 values) worth the most bits among a run of the
// previous value and up to chainDepth earlier positions with the same
// next 3 values.
type matcher struct {
	v    []uint8
	head []int32  // per hash: the last position, or -1
	prev []int32  // per position: the previous one with its hash
	cost [256]int // of each value as a literal, in 1/16 bit (its entropy in v, 1 bit at least)
}

func newMatcher(v []uint8, prev []int32) *matcher {
	m := &matcher{v: v, head: make([]int32, 1<<hashBits), prev: prev}
	for i := range m.head {
		m.head[i] = -1
	}
	var hist [256]int
	for _, b := range v {
		hist[b]++
	}
	for b, n := range hist {
		m.cost[b] = max(16, int(16*math.Log2(float64(len(v))/float64(max(n, 1))))) // a prefix code takes 1 bit at least
	}
	return m
}

func (m *matcher) hash(i int) int {
	v := m.v
	return int((uint32(v[i])<<16|uint32(v[i+1])<<8|uint32(v[i+2]))*2654435761) >> (32 - hashBits)
}

// insert records position i (whose next 3 values exist) in the chains.
func (m *matcher) insert(i int) {
	if i+3 <= len(m.v) {
		h := m.hash(i)
		m.prev[i] = m.head[h]
		m.head[h] = int32(i)
	}
}

// at returns the match at i (length 0: a literal) and inserts the
// positions it covers.
func (m *matcher) at(i int) (length, dist int) {
	v := m.v
	limit := min(len(v)-i, maxMatch)
	// A match's worth: the bits of the literals it replaces (lits: their
	// cost, summed as the match is measured), less about what its length
	// and distance cost (prefix codes of some 4 bits, and extra bits).
	worth := func(n, d, lits int) int {
		_, ln, _ := prefixOf(n)
		_, dn, _ := prefixOf(d + 120)
		return lits - 16*(8+int(ln)+int(dn))
	}
	best := 0
	if i > 0 { // a run of the previous value: distance 1
		n, lits := 0, 0
		for n < limit && v[i+n] == v[i-1] {
			lits += m.cost[v[i+n]]
			n++
		}
		length, dist, best = n, 1, worth(n, 1, lits)
	}
	if i+3 <= len(v) && length < limit {
		for j, d := m.head[m.hash(i)], 0; j >= 0 && d < chainDepth && i-int(j) <= maxDistance; j, d = m.prev[j], d+1 {
			n, lits := 0, 0
			for n < limit && v[int(j)+n] == v[i+n] {
				lits += m.cost[v[i+n]]
				n++
			}
			if w := worth(n, i-int(j), lits); w > best {
				length, dist, best = n, i-int(j), w
			}
		}
	}
	if length < 3 || best <= 0 {
		length, dist = 0, 0
	}
	for k := i; k < i+max(length, 1); k++ {
		m.insert(k)
	}
	return length, dist
}

// vp8lAlpha codes the values v as a headerless VP8L image stream, in two
// passes over v with the same matcher: one counts the symbols, the other
// writes them. Distances are coded linearly (distance + 120).
func vp8lAlpha(pl *ctxpoll.Poller, v []uint8) ([]byte, error) {
	var green [greenAlphabet]int
	var dists [numDistanceCodes]int
	prev := make([]int32, len(v))
	m := newMatcher(v, prev)
	for i := 0; i < len(v); {
		if err := pl.Work(1); err != nil {
			return nil, err
		}
		if n, d := m.at(i); n > 0 {
			c, _, _ := prefixOf(n)
			green[256+c]++
			dc, _, _ := prefixOf(d + 120)
			dists[dc]++
			i += n
			continue
		}
		green[v[i]]++
		i++
	}
	w := &bitWriter{buf: make([]byte, 0, len(v)/4+64)}
	w.write(0, 1) // no transform
	w.write(0, 1) // no colour cache
	w.write(0, 1) // no meta prefix codes
	gl := codeLengths(green[:], 15)
	writeCode(w, gl)
	for range 3 { // red, blue, alpha: the single symbol 0
		writeSimple(w, 0)
	}
	used, last := 0, 0
	for s, n := range dists {
		if n > 0 {
			used, last = used+1, s
		}
	}
	var dl []uint8
	if used <= 1 {
		writeSimple(w, last) // one symbol (or none), read in zero bits
		dl = make([]uint8, numDistanceCodes)
	} else {
		dl = codeLengths(dists[:], 15)
		writeCode(w, dl)
	}
	gc, dcodes := canonical(gl), canonical(dl)
	m = newMatcher(v, prev)
	for i := 0; i < len(v); {
		if err := pl.Work(1); err != nil {
			return nil, err
		}
		if n, d := m.at(i); n > 0 {
			c, ne, extra := prefixOf(n)
			w.write(gc[256+c], uint(gl[256+c]))
			w.write(extra, ne)
			dc, dn, dextra := prefixOf(d + 120)
			w.write(dcodes[dc], uint(dl[dc]))
			w.write(dextra, dn)
			i += n
			continue
		}
		w.write(gc[v[i]], uint(gl[v[i]]))
		i++
	}
	return w.bytes(), nil
}

// writeSimple writes a one-symbol "simple" prefix code (symbol < 256).
func writeSimple(w *bitWriter, sym int) {
	w.write(1, 1) // simple
	w.write(0, 1) // one symbol
	if sym < 2 {
		w.write(0, 1)
		w.write(uint32(sym), 1)
	} else {
		w.write(1, 1)
		w.write(uint32(sym), 8)
	}
}

// codeLengthOrder is the order in which the code length code's lengths
// are written (kCodeLengthCodeOrder).
var codeLengthOrder = [19]int{17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// writeCode writes a "normal" prefix code given its code lengths: the
// lengths run-length coded (16: repeat the previous non-zero length 3-6
// times, 17: 3-10 zeros, 18: 11-138 zeros), themselves coded with a code
// whose 3-bit lengths come first.
func writeCode(w *bitWriter, lengths []uint8) {
	type tok struct {
		sym    int
		extra  uint32
		nextra uint
	}
	var toks []tok
	prev := uint8(8)
	for i := 0; i < len(lengths); {
		l := lengths[i]
		n := 1
		for i+n < len(lengths) && lengths[i+n] == l {
			n++
		}
		i += n
		if l == 0 {
			for n > 0 {
				switch {
				case n >= 11:
					k := min(n, 138)
					toks = append(toks, tok{18, uint32(k - 11), 7})
					n -= k
				case n >= 3:
					toks = append(toks, tok{17, uint32(n - 3), 3})
					n = 0
				default:
					toks = append(toks, tok{0, 0, 0})
					n--
				}
			}
			continue
		}
		if l != prev {
			toks = append(toks, tok{int(l), 0, 0})
			n--
			prev = l
		}
		for n > 0 {
			if n >= 3 {
				k := min(n, 6)
				toks = append(toks, tok{16, uint32(k - 3), 2})
				n -= k
			} else {
				toks = append(toks, tok{int(l), 0, 0})
				n--
			}
		}
	}
	var hist [19]int
	for _, t := range toks {
		hist[t.sym]++
	}
	cl := codeLengths(hist[:], 7)
	n := 19
	for n > 4 && cl[codeLengthOrder[n-1]] == 0 {
		n--
	}
	w.write(0, 1) // normal code
	w.write(uint32(n-4), 4)
	for _, s := range codeLengthOrder[:n] {
		w.write(uint32(cl[s]), 3)
	}
	w.write(0, 1) // max_symbol: all
	cc := canonical(cl)
	for _, t := range toks {
		w.write(cc[t.sym], uint(cl[t.sym]))
		w.write(t.extra, t.nextra)
	}
}

// codeLengths returns Huffman code lengths for the counts, at most
// maxLen bits, with at least two symbols coded (a decoder reads a code of
// one symbol in zero bits only in the simple form).
func codeLengths(counts []int, maxLen int) []uint8 {
	c := make([]int, len(counts))
	copy(c, counts)
	used := 0
	for _, v := range c {
		if v > 0 {
			used++
		}
	}
	for i := 0; used < 2; i++ {
		if c[i] == 0 {
			c[i] = 1
			used++
		}
	}
	for {
		l := huffman(c)
		ok := true
		for _, v := range l {
			if int(v) > maxLen {
				ok = false
			}
		}
		if ok {
			return l
		}
		for i, v := range c { // flatten the distribution and try again
			if v > 0 {
				c[i] = (v + 1) / 2
			}
		}
	}
}

// huffman returns optimal code lengths for the non-zero counts.
func huffman(c []int) []uint8 {
	type node struct {
		w           int
		left, right int // children, -1 for a leaf
		sym         int
	}
	var nodes []node
	h := &nodeHeap{}
	for s, v := range c {
		if v > 0 {
			nodes = append(nodes, node{w: v, left: -1, right: -1, sym: s})
			heap.Push(h, heapItem{w: v, id: len(nodes) - 1})
		}
	}
	for h.Len() > 1 {
		a := heap.Pop(h).(heapItem)
		b := heap.Pop(h).(heapItem)
		nodes = append(nodes, node{w: a.w + b.w, left: a.id, right: b.id})
		heap.Push(h, heapItem{w: a.w + b.w, id: len(nodes) - 1})
	}
	l := make([]uint8, len(c))
	var walk func(id, depth int)
	walk = func(id, depth int) {
		n := nodes[id]
		if n.left < 0 {
			l[n.sym] = uint8(max(depth, 1))
			return
		}
		walk(n.left, depth+1)
		walk(n.right, depth+1)
	}
	walk(len(nodes)-1, 0)
	return l
}

type heapItem struct{ w, id int }
type nodeHeap []heapItem

func (h nodeHeap) Len() int { return len(h) }
func (h nodeHeap) Less(i, j int) bool {
	if h[i].w != h[j].w {
		return h[i].w < h[j].w
	}
	return h[i].id < h[j].id
}
func (h nodeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)   { *h = append(*h, x.(heapItem)) }
func (h *nodeHeap) Pop() any {
	o := *h
	x := o[len(o)-1]
	*h = o[:len(o)-1]
	return x
}

// canonical assigns canonical codes to the lengths (shorter first, then
// by symbol), bit-reversed because VP8L reads a code's first bit first
// from the least significant end.
func canonical(lengths []uint8) []uint32 {
	syms := make([]int, 0, len(lengths))
	for s, l := range lengths {
		if l > 0 {
			syms = append(syms, s)
		}
	}
	sort.SliceStable(syms, func(i, j int) bool { return lengths[syms[i]] < lengths[syms[j]] })
	codes := make([]uint32, len(lengths))
	code, prevLen := uint32(0), uint8(0)
	for i, s := range syms {
		l := lengths[s]
		if i > 0 {
			code = (code + 1) << (l - prevLen)
		} else {
			code <<= l
		}
		prevLen = l
		codes[s] = bits.Reverse32(code) >> (32 - uint(l))
	}
	return codes
}
