//go:build amd64 && !purego

package jpegdec

// The full-size inverse DCT in SSE2 (idct_amd64.s), which every amd64
// processor has. Build with the purego tag for the Go code alone
// (idct_generic.go); TestIDCTSIMD checks that both give the same samples.

const idctSIMD = true

// idct8SIMD is idct8Go for blocks whose coefficients, and the results of
// whose column pass, lie strictly between −32768 and 32767 (every block of
// a real photo): then it
// writes the 8×8 samples at dst (rows stride bytes apart, all within the
// caller's slice) and returns true. Otherwise it writes nothing and
// returns false.
//
//go:noescape
func idct8SIMD(in *[64]int32, dst *byte, stride int) bool

// idct8LowSIMD is idct8SIMD for blocks whose nonzero coefficients all lie
// in the top-left 4×4 (it reads no others).
//
//go:noescape
func idct8LowSIMD(in *[64]int32, dst *byte, stride int) bool

// idct4SIMD is idct4 (the caller checks that 4 rows of 4 bytes, stride
// apart, are within dst).
//
//go:noescape
func idct4SIMD(in *[16]int32, dst *byte, stride int)

// idct2SIMD is idct2 (the caller checks that 2 rows of 2 bytes, stride
// apart, are within dst).
//
//go:noescape
func idct2SIMD(in *[4]int32, dst *byte, stride int)
