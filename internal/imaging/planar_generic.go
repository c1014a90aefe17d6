//go:build !amd64 || purego

package imaging

const plSIMD = false

func plVRowSIMD(out []int16, rows [][]uint8, ws []int16) {
	panic("imaging: no SIMD kernels in this build")
}

func plHRowSIMD(out []uint8, n, step int, in []int16, start []int32, w []int16, taps int) {
	panic("imaging: no SIMD kernels in this build")
}
