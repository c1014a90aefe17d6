package h264

// writeBlock writes residual_block_cavlc (7.3.5.3.2, 9.2) for the levels
// of one block in scan order (len(coeffs) is maxNumCoeff: 16, 15 or 4).
// nC is the context from the neighbours' coefficient counts, −1 for chroma
// DC. Levels must be within ±maxLevel.
func writeBlock(w *bitWriter, coeffs []int32, nC int) {
	var lv [16]int32 // non-zero levels, highest frequency first
	var runs [16]int // zeros before each of them (towards lower frequencies)
	total, last := 0, -1
	for i := len(coeffs) - 1; i >= 0; i-- {
		if coeffs[i] != 0 {
			if last < 0 {
				last = i
			}
			lv[total] = coeffs[i]
			total++
		} else if total > 0 {
			runs[total-1]++
		}
	}
	t1 := 0
	for t1 < total && t1 < 3 && (lv[t1] == 1 || lv[t1] == -1) {
		t1++
	}
	switch {
	case nC == -1:
		w.code(coeffTokenChromaDC[total][t1])
	case nC < 2:
		w.code(coeffToken[0][total][t1])
	case nC < 4:
		w.code(coeffToken[1][total][t1])
	case nC < 8:
		w.code(coeffToken[2][total][t1])
	default:
		w.code(coeffTokenFLC(total, t1))
	}
	if total == 0 {
		return
	}
	suffixLen := 0
	if total > 10 && t1 < 3 {
		suffixLen = 1
	}
	for i := range total {
		l := lv[i]
		if i < t1 {
			w.flag(l < 0)
			continue
		}
		var code int32
		if l > 0 {
			code = 2*l - 2
		} else {
			code = -2*l - 1
		}
		if i == t1 && t1 < 3 {
			code -= 2
		}
		writeLevel(w, code, suffixLen)
		if suffixLen == 0 {
			suffixLen = 1
		}
		if (l > 3<<(suffixLen-1) || -l > 3<<(suffixLen-1)) && suffixLen < 6 {
			suffixLen++
		}
	}
	zeros := last + 1 - total
	if total < len(coeffs) {
		if nC == -1 {
			w.code(totalZerosChromaDC[total][zeros])
		} else {
			w.code(totalZeros[total][zeros])
		}
	}
	for i := 0; i < total-1 && zeros > 0; i++ {
		w.code(runBefore[min(zeros, 7)][runs[i]])
		zeros -= runs[i]
	}
}

// writeLevel writes level_prefix and level_suffix for levelCode with the
// current suffixLength (9.2.2.1, read backwards).
func writeLevel(w *bitWriter, code int32, suffixLen int) {
	prefix, suffix, suffixSize := 0, int32(0), suffixLen
	switch {
	case suffixLen == 0 && code < 14:
		prefix, suffixSize = int(code), 0
	case suffixLen == 0 && code < 30:
		prefix, suffix, suffixSize = 14, code-14, 4
	case suffixLen == 0:
		prefix, suffix, suffixSize = 15, code-30, 12
	case code < 15<<suffixLen:
		prefix, suffix = int(code>>suffixLen), code&(1<<suffixLen-1)
	default:
		prefix, suffix, suffixSize = 15, code-15<<suffixLen, 12
	}
	w.u(prefix, 0)
	w.u(1, 1)
	w.u(suffixSize, uint32(suffix))
}
