//go:build amd64 && !purego

package imaging

// The planar resampler's two inner loops in SSE2 (planar_amd64.s), which
// every amd64 processor has: PMADDWD multiplies eight 16-bit pairs and adds
// them pairwise, four output sums per instruction. Build with the purego
// tag for the Go loops alone (planar_generic.go); TestPlaneKernels checks
// that both give the same samples.

const plSIMD = true

// plVRowSIMD sets out[i] to the rounded, plHShift-scaled sum of
// ws[k]·rows[k][i] for i < len(out). len(out) must be a multiple of 16,
// len(rows) = len(ws) even, and every row at least len(out) long.
//
//go:noescape
func plVRowSIMD(out []int16, rows [][]uint8, ws []int16)

// plHRowSIMD sets out[i·step], i < n, to the rounded, plVShift-scaled sum
// of in[start[i]+k]·w[i*taps+k] for k < taps, clamped to 0…255. taps must
// be a positive multiple of 8, (n−1)·step < len(out), len(start) ≥ n,
// len(w) ≥ n·taps and in[start[i] : start[i]+taps] within in.
//
//go:noescape
func plHRowSIMD(out []uint8, n, step int, in []int16, start []int32, w []int16, taps int)
