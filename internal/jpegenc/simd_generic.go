//go:build !amd64 || purego

package jpegenc

const haveSIMD = false

func fdctQuantSIMD(src *byte, stride int, q *[64]uint8, recip *[64]float32, dst *[64]int16) uint64 {
	panic("jpegenc: no SIMD kernels in this build")
}

func rgbaToYCbCrSIMD(p, y, cb, cr *byte, n int) {
	panic("jpegenc: no SIMD kernels in this build")
}
