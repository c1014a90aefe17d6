package jpegenc

import (
	"container/heap"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestZigzag(t *testing.T) {
	// The start of Figure A.6, and that it is a permutation.
	want := []int{0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5}
	if !slices.Equal(zigzag[:16], want) {
		t.Errorf("zigzag starts %v, want %v", zigzag[:16], want)
	}
	if zigzag[63] != 63 || zigzag[62] != 62 || zigzag[61] != 55 {
		t.Errorf("zigzag ends %v", zigzag[60:])
	}
	for n := range 64 {
		if zigzag[unzigzag[n]] != n {
			t.Fatalf("unzigzag is not the inverse at %d", n)
		}
	}
}

// checkSpec checks that a table is a valid JPEG Huffman table: at most 16
// bits, no code of all 1 bits, no symbol twice, and returns the code of
// each symbol.
func checkSpec(t *testing.T, name string, s *huffSpec) huffEnc {
	t.Helper()
	n := 0
	kraft := 0 // sum of 2^(16-len)
	for l, c := range s.counts {
		n += int(c)
		kraft += int(c) << (15 - l)
	}
	if n != len(s.values) {
		t.Fatalf("%s: counts sum to %d, %d values", name, n, len(s.values))
	}
	if kraft >= 1<<16 {
		t.Fatalf("%s: Kraft sum %d/65536: the all-ones code is used", name, kraft)
	}
	seen := map[uint8]bool{}
	for _, v := range s.values {
		if seen[v] {
			t.Fatalf("%s: symbol %#x twice", name, v)
		}
		seen[v] = true
	}
	var h huffEnc
	h.build(s)
	for _, v := range s.values {
		l := h[v] >> 16
		if l == 0 || l > 16 || h[v]&0xffff == 1<<l-1 {
			t.Fatalf("%s: symbol %#x has code %#x of length %d", name, v, h[v]&0xffff, l)
		}
	}
	return h
}

func TestStandardTables(t *testing.T) {
	// The AC tables must cover exactly the symbols of baseline AC coding:
	// EOB, ZRL and every run 0..15 with size 1..10.
	var acSyms []uint8
	for r := range 16 {
		for s := 1; s <= 10; s++ {
			acSyms = append(acSyms, uint8(r<<4|s))
		}
	}
	acSyms = append(acSyms, 0x00, 0xf0)
	slices.Sort(acSyms)
	for name, s := range map[string]*huffSpec{"DC luma": &stdDCLuma, "DC chroma": &stdDCChroma, "AC luma": &stdACLuma, "AC chroma": &stdACChroma} {
		checkSpec(t, name, s)
		got := slices.Sorted(slices.Values(s.values))
		want := acSyms
		if name[:2] == "DC" {
			want = []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: symbols %v", name, got)
		}
	}
	// Spot checks against Table K.5: EOB is 1010, ZRL 11111111001.
	var h huffEnc
	h.build(&stdACLuma)
	if h[0x00] != 4<<16|0b1010 || h[0xf0] != 11<<16|0b11111111001 {
		t.Errorf("EOB %#x, ZRL %#x", h[0x00], h[0xf0])
	}
}

// huffmanCost returns the total code length of an unconstrained Huffman
// code for freq (the optimum without the 16-bit limit), computed with a
// heap: the sum of all merged weights.
func huffmanCost(freq []int64) int64 {
	h := &int64Heap{}
	for _, f := range freq {
		if f > 0 {
			*h = append(*h, f)
		}
	}
	if h.Len() == 1 {
		return (*h)[0]
	}
	heap.Init(h)
	var cost int64
	for h.Len() > 1 {
		a, b := heap.Pop(h).(int64), heap.Pop(h).(int64)
		cost += a + b
		heap.Push(h, a+b)
	}
	return cost
}

type int64Heap []int64

func (h int64Heap) Len() int           { return len(h) }
func (h int64Heap) Less(i, j int) bool { return h[i] < h[j] }
func (h int64Heap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *int64Heap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *int64Heap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func TestOptimalHuff(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cost := func(f *huffFreq, h *huffEnc) (c int64) {
		for s, n := range f[:256] {
			if n > 0 {
				l := int64(h[s] >> 16)
				if l == 0 {
					t.Fatalf("symbol %d with frequency %d has no code", s, n)
				}
				c += n * l
			}
		}
		return c
	}
	for i := range 300 {
		var f huffFreq
		nsym := 1 + r.IntN(256)
		switch i % 3 {
		case 0: // geometric-ish, like AC symbols
			for range nsym {
				f[r.IntN(256)] += int64(1 + r.ExpFloat64()*1000)
			}
		case 1: // a few very frequent symbols and a long tail
			for s := range nsym {
				f[s] = int64(1 + r.IntN(3))
			}
			f[r.IntN(nsym)] += 1e6
		default: // Fibonacci-like weights force codes far beyond 16 bits
			a, b := int64(1), int64(1)
			for s := range min(nsym, 60) {
				f[s] = a
				a, b = b, a+b
			}
		}
		var spec huffSpec
		optimalHuff(&f, &spec)
		h := checkSpec(t, "optimal", &spec)
		got := cost(&f, &h)
		// The reserved code point costs at most one bit for the rarest
		// symbols; without the length limit the result is Huffman-optimal
		// for the frequencies plus the reserved one.
		withReserved := append(slices.Clone(f[:256]), 1)
		opt := huffmanCost(f[:256])
		optRes := huffmanCost(withReserved) - 1 // the reserved symbol's own weight
		maxLen := 0
		for l := 16; l > 0; l-- {
			if spec.counts[l-1] > 0 {
				maxLen = l
				break
			}
		}
		if got < opt {
			t.Fatalf("case %d: cost %d below the Huffman optimum %d", i, got, opt)
		}
		if i%3 != 2 && got > optRes+int64(maxLen) {
			t.Errorf("case %d: cost %d, Huffman optimum %d (with reserved point %d)", i, got, opt, optRes)
		}
	}
	// A table with no symbols still gets a valid code.
	var empty huffFreq
	var spec huffSpec
	optimalHuff(&empty, &spec)
	checkSpec(t, "empty", &spec)
	// One symbol: a one-bit code 0.
	var one huffFreq
	one[7] = 5
	optimalHuff(&one, &spec)
	if h := checkSpec(t, "one", &spec); h[7] != 1<<16 {
		t.Errorf("single symbol coded as %#x", h[7])
	}
}
