//go:build !amd64 || purego

package vp8dec

const haveSIMD = false

func idctAddSSE2(c *[16]int16, dst *byte) {
	panic("vp8dec: no SIMD transform in this build")
}

func dcAddSSE2(v int32, dst *byte) {
	panic("vp8dec: no SIMD transform in this build")
}
