//go:build !amd64 || purego

package jpegdec

const idctSIMD = false

func idct8SIMD(in *[64]int32, dst *byte, stride int) bool {
	panic("jpegdec: no SIMD kernels in this build")
}

func idct8LowSIMD(in *[64]int32, dst *byte, stride int) bool {
	panic("jpegdec: no SIMD kernels in this build")
}

func idct4SIMD(in *[16]int32, dst *byte, stride int) {
	panic("jpegdec: no SIMD kernels in this build")
}

func idct2SIMD(in *[4]int32, dst *byte, stride int) {
	panic("jpegdec: no SIMD kernels in this build")
}
