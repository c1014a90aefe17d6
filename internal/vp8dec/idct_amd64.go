//go:build amd64 && !purego

package vp8dec

// The residual adds in SSE2 (idct_amd64.s), which every amd64 processor
// has. Build with the purego tag for the Go code alone (idct.go);
// TestTransformsMatch checks that both give vp8.IDCTAdd's pixels.

const haveSIMD = true

// idctAddSSE2 is idctAdd(c, dst, off) for &dst[off], with every
// coefficient within ±maxSIMDCoeff.
//
//go:noescape
func idctAddSSE2(c *[16]int16, dst *byte)

// dcAddSSE2 adds v, |v| < 4096, to the 4×4 pixels at dst (stride bps).
//
//go:noescape
func dcAddSSE2(v int32, dst *byte)
