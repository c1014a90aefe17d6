//go:build amd64 && !purego

package jpegenc

// The forward DCT and quantisation in SSE2 (fdct_amd64.s), which every
// amd64 processor has. Build with the purego tag for the Go code alone
// (fdct_generic.go); TestFDCTSIMD checks that both give the same
// coefficients.

const fdctSIMD = true

// fdctQuantSIMD is fdctQuantGo with src pointing at the first sample (the
// caller checks that 8 rows of 8 bytes, stride apart, are within bounds).
//
//go:noescape
func fdctQuantSIMD(src *byte, stride int, q *[64]uint8, recip *[64]float32, dst *[64]int16) uint64
