package jpegenc

// huffEnc maps a symbol to its Huffman code: the low 16 bits hold the code
// and bits 16..23 its length. A length of zero means the symbol has no code.
type huffEnc [256]uint32

// build derives the codes of spec by the procedure of Annex C (Figures C.1
// to C.3): codes of each length are consecutive, and moving to the next
// length appends a zero bit.
func (h *huffEnc) build(spec *huffSpec) {
	*h = huffEnc{}
	code, k := uint32(0), 0
	for l := 1; l <= 16; l++ {
		for range spec.counts[l-1] {
			h[spec.values[k]] = uint32(l)<<16 | code
			code++
			k++
		}
		code <<= 1
	}
}

// huffFreq counts how often each symbol of one Huffman table is used. Entry
// 256 is unused by symbols; optimalHuff reserves it (see there).
type huffFreq [257]int64

// optimalHuff builds a Huffman table for the symbol frequencies in freq by
// the procedure of Annex K.2:
//
//   - Figure K.1 (code sizes): repeatedly merge the two least frequent
//     subtrees, lengthening every code in both. A reserved pseudo-symbol of
//     frequency 1 takes part so that no real code consists only of 1 bits.
//   - Figure K.2 (counts per code length).
//   - Figure K.3 (limit to 16 bits): while a code is longer than 16 bits,
//     take two codes of the longest length i; one of the pair moves up to
//     length i−1 and its sibling goes down beside a code of a shorter length
//     j, which becomes two codes of length j+1. Then drop the reserved code,
//     which is the last one of the longest length.
//   - Figure K.4: list the symbols by increasing code size.
//
// Symbols with zero frequency get no code. A table with no symbol at all gets
// a single code for symbol 0, so that the result is always a valid table.
// The table is stored in spec, reusing its storage.
func optimalHuff(freq *huffFreq, spec *huffSpec) {
	var f [257]int64
	copy(f[:], freq[:])
	any := false
	for _, v := range f[:256] {
		if v > 0 {
			any = true
			break
		}
	}
	if !any {
		f[0] = 1
	}
	f[256] = 1

	var size [257]int
	var next [257]int // chain of the symbols in one subtree; -1 ends it
	for i := range next {
		next[i] = -1
	}
	for {
		// v1: least frequency, ties to the largest symbol; v2: the next least.
		v1, v2 := -1, -1
		for i := range f {
			if f[i] == 0 {
				continue
			}
			if v1 < 0 || f[i] <= f[v1] {
				v2, v1 = v1, i
			} else if v2 < 0 || f[i] <= f[v2] {
				v2 = i
			}
		}
		if v2 < 0 {
			break
		}
		f[v1] += f[v2]
		f[v2] = 0
		i := v1
		size[i]++
		for next[i] >= 0 {
			i = next[i]
			size[i]++
		}
		next[i] = v2
		for i = v2; i >= 0; i = next[i] {
			size[i]++
		}
	}

	var bits [33]int // bits[l]: number of codes of length l; Huffman on 257 symbols never exceeds 32
	for _, s := range size {
		if s > 0 {
			bits[s]++
		}
	}
	for i := 32; i > 16; i-- {
		for bits[i] > 0 {
			j := i - 2
			for bits[j] == 0 {
				j--
			}
			bits[i] -= 2
			bits[i-1]++
			bits[j+1] += 2
			bits[j]--
		}
	}
	i := 16
	for bits[i] == 0 {
		i--
	}
	bits[i]-- // remove the reserved code point

	for l := 1; l <= 16; l++ {
		spec.counts[l-1] = uint8(bits[l])
	}
	spec.values = spec.values[:0]
	for l := 1; l <= 32; l++ {
		for s := 0; s < 256; s++ {
			if size[s] == l {
				spec.values = append(spec.values, uint8(s))
			}
		}
	}
}
