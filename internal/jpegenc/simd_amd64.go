//go:build amd64 && !purego

package jpegenc

// The forward DCT with quantisation (fdct_amd64.s) and the RGBA to Y'CbCr
// conversion (color_amd64.s) in SSE2, which every amd64 processor has.
// Build with the purego tag for the Go code alone (simd_generic.go);
// TestFDCTSIMD and TestRGBAToYCbCrSIMD check that both give the same
// results.

const haveSIMD = true

// fdctQuantSIMD is fdctQuantGo with src pointing at the first sample (the
// caller checks that 8 rows of 8 bytes, stride apart, are within bounds).
//
//go:noescape
func fdctQuantSIMD(src *byte, stride int, q *[64]uint8, recip *[64]float32, dst *[64]int16) uint64

// rgbaToYCbCrSIMD converts the n RGBA pixels at p (alpha ignored) as
// rgbToYCbCr does into y, cb and cr. n must be a positive multiple of 16;
// the caller checks the bounds.
//
//go:noescape
func rgbaToYCbCrSIMD(p, y, cb, cr *byte, n int)
