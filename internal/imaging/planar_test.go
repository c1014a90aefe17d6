package imaging

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

// randomPlane returns a w×h plane of pseudo-random samples with a stride
// wider than w, so that stride handling shows.
func randomPlane(w, h int, seed uint64) Plane {
	rng := rand.New(rand.NewPCG(seed, 7))
	p := Plane{Pix: make([]uint8, (w+3)*h), Stride: w + 3, W: w, H: h}
	for i := range p.Pix {
		p.Pix[i] = uint8(rng.UintN(256))
	}
	return p
}

// planeToNRGBA makes a grey NRGBA image of p.
func planeToNRGBA(p Plane) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, p.W, p.H))
	for y := range p.H {
		for x := range p.W {
			v := p.Pix[y*p.Stride+x]
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = v, v, v, 255
		}
	}
	return m
}

func newPlane(w, h int) Plane {
	return Plane{Pix: make([]uint8, w*h), Stride: w, W: w, H: h}
}

// resamplePlane is ResamplePlane with the axes of a plain resize of src to
// w×h.
func resamplePlane(src Plane, w, h int, f Filter) Plane {
	dst := newPlane(w, h)
	hw := NewPlaneWeights(PlaneAxis{N: w, Step: float64(src.W) / float64(w), Hi: src.W}, f)
	vw := NewPlaneWeights(PlaneAxis{N: h, Step: float64(src.H) / float64(h), Hi: src.H}, f)
	noErr(ResamplePlane(bgCtx, dst, src, hw, vw))
	return dst
}

// TestResamplePlaneMatchesResize: on a plain resize the planar resampler
// gives Resize's result on the same grey image within ±1 (both round
// fixed-point intermediates, at different places).
func TestResamplePlaneMatchesResize(t *testing.T) {
	t.Parallel()
	for _, f := range allFilters {
		for _, s := range resizeSizes {
			t.Run(fmt.Sprintf("%v/%dx%d-%dx%d", f, s.sw, s.sh, s.dw, s.dh), func(t *testing.T) {
				t.Parallel()
				src := randomPlane(s.sw, s.sh, uint64(s.sw*31+s.sh))
				got := resamplePlane(src, s.dw, s.dh, f)
				want := must(Resize(bgCtx, planeToNRGBA(src), s.dw, s.dh, f))
				worst := 0
				for y := range s.dh {
					for x := range s.dw {
						d := int(got.Pix[y*got.Stride+x]) - int(want.Pix[want.PixOffset(x, y)])
						worst = max(worst, d, -d)
					}
				}
				if worst > 1 {
					t.Errorf("differs from Resize by %d", worst)
				}
			})
		}
	}
}

// refSample is the float64 value ResamplePlane approximates: the separable
// convolution of src with the normalised kernels of the two axes.
func refSample(src Plane, h, v PlaneAxis, f Filter, x, y int) float64 {
	weights := func(a PlaneAxis, i int) map[int]float64 {
		c := a.Offset + a.Step*(float64(i)+0.5)
		out := map[int]float64{}
		if f == Nearest {
			out[min(max(int(math.Floor(c)), a.Lo), a.Hi-1)] = 1
			return out
		}
		fs := max(math.Abs(a.Step), 1)
		sup := rsSupport(f) * fs
		sum := 0.0
		for j := int(math.Floor(c - sup)); j <= int(math.Ceil(c+sup)); j++ {
			k := rsKernel(f, (float64(j)+0.5-c)/fs)
			out[min(max(j, a.Lo), a.Hi-1)] += k
			sum += k
		}
		for j := range out {
			out[j] /= sum
		}
		return out
	}
	wx, wy := weights(h, x), weights(v, y)
	s := 0.0
	for j, a := range wy {
		for i, b := range wx {
			s += a * b * float64(src.Pix[j*src.Stride+i])
		}
	}
	return s
}

// TestResamplePlaneAxes: sub-pixel offsets, mirrored axes and windows
// (Lo, Hi) give the exact convolution within ±1.
func TestResamplePlaneAxes(t *testing.T) {
	t.Parallel()
	src := randomPlane(61, 47, 3)
	cases := []struct{ h, v PlaneAxis }{
		{PlaneAxis{N: 20, Offset: 0.37, Step: 2.71, Hi: 61}, PlaneAxis{N: 13, Offset: 1.5, Step: 3.2, Hi: 47}},
		{PlaneAxis{N: 61, Offset: 61, Step: -1, Hi: 61}, PlaneAxis{N: 47, Offset: 0, Step: 1, Hi: 47}},    // mirror x
		{PlaneAxis{N: 30, Offset: 0, Step: 1, Hi: 61}, PlaneAxis{N: 20, Offset: 47, Step: -2.35, Hi: 47}}, // mirror y, reduce
		{PlaneAxis{N: 25, Offset: 10.5, Step: 1, Lo: 10, Hi: 36}, PlaneAxis{N: 47, Offset: 0.5, Step: 1, Hi: 47}},
		{PlaneAxis{N: 17, Offset: 12.25, Step: 0.5, Lo: 12, Hi: 21}, PlaneAxis{N: 9, Offset: 40, Step: -0.75, Lo: 30, Hi: 41}},
		{PlaneAxis{N: 100, Offset: -3, Step: 0.7, Hi: 61}, PlaneAxis{N: 5, Offset: 0, Step: 9.4, Hi: 47}},
	}
	for ci, c := range cases {
		for _, f := range allFilters {
			t.Run(fmt.Sprintf("%d/%v", ci, f), func(t *testing.T) {
				t.Parallel()
				dst := newPlane(c.h.N, c.v.N)
				noErr(ResamplePlane(bgCtx, dst, src, NewPlaneWeights(c.h, f), NewPlaneWeights(c.v, f)))
				worst := 0.0
				for y := range c.v.N {
					for x := range c.h.N {
						want := min(max(refSample(src, c.h, c.v, f, x, y), 0), 255)
						worst = max(worst, math.Abs(float64(dst.Pix[y*dst.Stride+x])-want))
					}
				}
				if worst > 1.01 {
					t.Errorf("differs from the exact convolution by %.2f", worst)
				}
			})
		}
	}
}

// TestResamplePlaneExtremes: single bright or dark lines, where the
// kernels' lobes overshoot most, are filtered exactly and clamped.
func TestResamplePlaneExtremes(t *testing.T) {
	t.Parallel()
	for _, bright := range []bool{true, false} {
		src := newPlane(31, 23)
		for y := range src.H {
			for x := range src.W {
				on := x == 15 || y == 11
				if on == bright {
					src.Pix[y*src.Stride+x] = 255
				}
			}
		}
		for _, f := range allFilters {
			for _, step := range []float64{0.23, 0.5, 1.7} {
				h := PlaneAxis{N: int(31 / step), Step: step, Hi: 31}
				v := PlaneAxis{N: int(23 / step), Step: step, Hi: 23}
				dst := newPlane(h.N, v.N)
				noErr(ResamplePlane(bgCtx, dst, src, NewPlaneWeights(h, f), NewPlaneWeights(v, f)))
				for y := range v.N {
					for x := range h.N {
						want := min(max(refSample(src, h, v, f, x, y), 0), 255)
						if d := math.Abs(float64(dst.Pix[y*dst.Stride+x]) - want); d > 1.01 {
							t.Fatalf("%v step %g bright=%v: (%d,%d) = %d, want %.1f", f, step, bright, x, y, dst.Pix[y*dst.Stride+x], want)
						}
					}
				}
			}
		}
	}
}

// TestResamplePlaneCopy: an unscaled, whole-sample axis copies samples.
func TestResamplePlaneCopy(t *testing.T) {
	t.Parallel()
	src := randomPlane(40, 30, 9)
	for _, f := range allFilters {
		hw := NewPlaneWeights(PlaneAxis{N: 20, Offset: 7, Step: 1, Hi: 40}, f)
		vw := NewPlaneWeights(PlaneAxis{N: 10, Offset: 3, Step: 1, Hi: 30}, f)
		if hw.copyFrom != 7 || vw.copyFrom != 3 {
			t.Fatalf("%v: copyFrom %d, %d; want 7, 3", f, hw.copyFrom, vw.copyFrom)
		}
		dst := newPlane(20, 10)
		noErr(ResamplePlane(bgCtx, dst, src, hw, vw))
		for y := range 10 {
			for x := range 20 {
				if g, w := dst.Pix[y*20+x], src.Pix[(y+3)*src.Stride+x+7]; g != w {
					t.Fatalf("%v: (%d,%d) = %d, want %d", f, x, y, g, w)
				}
			}
		}
		// One axis copied, the other resampled.
		vr := NewPlaneWeights(PlaneAxis{N: 7, Offset: 0, Step: 30.0 / 7, Hi: 30}, f)
		dst = newPlane(20, 7)
		noErr(ResamplePlane(bgCtx, dst, src, hw, vr))
		want := newPlane(20, 7)
		noErr(ResamplePlane(bgCtx, want, src, NewPlaneWeights(PlaneAxis{N: 20, Offset: 7.000001, Step: 1, Hi: 40}, Nearest), vr))
		for i := range dst.Pix {
			if dst.Pix[i] != want.Pix[i] {
				t.Fatalf("%v: vertical-only resample differs at %d", f, i)
			}
		}
	}
}

// TestResamplePlaneWeightsSum: every output sample's weights sum to one
// exactly, and taps stay within Lo…Hi.
func TestResamplePlaneWeightsSum(t *testing.T) {
	t.Parallel()
	for _, f := range allFilters {
		for _, a := range []PlaneAxis{
			{N: 200, Offset: 0.5, Step: 0.1, Hi: 21}, // enlargement: the largest lobes
			{N: 37, Offset: 0.25, Step: 0.77, Hi: 29},
			{N: 300, Step: 6028.0 / 8 / 300, Hi: 754},
			{N: 1600, Step: 3.2, Hi: 5120},
			{N: 33, Offset: 80, Step: -0.4, Lo: 60, Hi: 81},
			{N: 1, Offset: 0, Step: 1000, Hi: 1000},
		} {
			pw := NewPlaneWeights(a, f)
			for i := range pw.n {
				s, n := int(pw.start[i]), int(pw.count[i])
				if s < a.Lo || s+n > a.Hi || n < 1 || n > pw.taps {
					t.Fatalf("%v %+v: sample %d reads %d…%d", f, a, i, s, s+n-1)
				}
				sum, pos := 0, 0
				for _, w := range pw.w[i*pw.taps : i*pw.taps+n] {
					sum += int(w)
					pos += max(int(w), 0)
				}
				if sum != plWeightOne {
					t.Fatalf("%v %+v: sample %d weights sum to %d", f, a, i, sum)
				}
				// The bound the int16 intermediates rely on.
				if pos > plWeightOne*128/100 {
					t.Fatalf("%v %+v: sample %d positive weights sum to %d", f, a, i, pos)
				}
			}
		}
	}
}

func TestTransposePlane(t *testing.T) {
	t.Parallel()
	src := randomPlane(70, 45, 5)
	dst := newPlane(45, 70)
	noErr(TransposePlane(bgCtx, dst, src))
	for y := range 45 {
		for x := range 70 {
			if dst.Pix[x*dst.Stride+y] != src.Pix[y*src.Stride+x] {
				t.Fatalf("(%d,%d) not transposed", x, y)
			}
		}
	}
}

// BenchmarkResamplePlane resamples luma-sized planes as the W1 and W2
// workloads do (W2's chroma planes are the 2560×1440 case), and a 12 MP
// 4:2:0 photo made 1600 px wide through a colour profile (chroma enlarged).
func BenchmarkResamplePlane(b *testing.B) {
	for _, s := range []struct{ sw, sh, dw, dh int }{{5120, 2880, 1600, 900}, {2560, 1440, 800, 450}, {754, 424, 300, 169},
		{4032, 3024, 2133, 1600}, {2016, 1512, 2133, 1600}} { // and a 12 MP 4:2:0 photo, chroma to the output size
		b.Run(fmt.Sprintf("%dx%d-%dx%d", s.sw, s.sh, s.dw, s.dh), func(b *testing.B) {
			src := randomPlane(s.sw, s.sh, 1)
			dst := newPlane(s.dw, s.dh)
			h := NewPlaneWeights(PlaneAxis{N: s.dw, Step: float64(s.sw) / float64(s.dw), Hi: s.sw}, Lanczos3)
			v := NewPlaneWeights(PlaneAxis{N: s.dh, Step: float64(s.sh) / float64(s.dh), Hi: s.sh}, Lanczos3)
			b.ReportAllocs()
			b.SetBytes(int64(s.sw * s.sh))
			for b.Loop() {
				noErr(ResamplePlane(bgCtx, dst, src, h, v))
			}
		})
	}
}

// BenchmarkPlaneWeights computes the weights of W2's horizontal axis.
func BenchmarkPlaneWeights(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewPlaneWeights(PlaneAxis{N: 1600, Step: 3.2, Hi: 5120}, Lanczos3)
	}
}

// TestPlaneKernels: the vertical and horizontal kernels (SIMD on amd64)
// give exactly the Go loops' samples, for every row count up to past
// maxPlaneTaps, odd and even, lengths around the 16-sample blocks, and
// weights at the extremes of the documented range.
func TestPlaneKernels(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 9))
	for _, cnt := range []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 31, maxPlaneTaps, maxPlaneTaps + 1} {
		for _, n := range []int{1, 15, 16, 17, 33, 100} {
			t.Run(fmt.Sprintf("v%d/%d", cnt, n), func(t *testing.T) {
				rows := make([][]uint8, cnt, cnt+1)
				for k := range rows {
					rows[k] = make([]uint8, n+rng.IntN(3))
					for i := range rows[k] {
						rows[k][i] = uint8(rng.UintN(256))
					}
				}
				// Weights summing to one, with a negative lobe.
				ws := make([]int16, cnt)
				left := plWeightOne
				for k := range cnt - 1 {
					w := int(rng.IntN(plWeightOne/cnt+1)) - plWeightOne/(4*cnt)
					ws[k] = int16(w)
					left -= w
				}
				ws[cnt-1] = int16(left)
				want := make([]int16, n)
				plVRow(want, rows, ws, make([]int32, n))
				got := make([]int16, n)
				if plSIMD && n >= 16 {
					plVRowPairs(got, rows, ws, make([]int16, cnt+1))
				} else {
					plVRow(got, rows, ws, make([]int32, n))
				}
				for i := range n {
					if got[i] != want[i] {
						t.Fatalf("sample %d: %d, want %d", i, got[i], want[i])
					}
				}
			})
		}
	}
	for _, a := range []PlaneAxis{
		{N: 200, Offset: 0.5, Step: 0.1, Hi: 21},
		{N: 37, Offset: 0.25, Step: 0.77, Hi: 29},
		{N: 1600, Step: 3.2, Hi: 5120},
		{N: 300, Step: 6028.0 / 8 / 300, Hi: 754},
		{N: 33, Offset: 80, Step: -0.4, Lo: 60, Hi: 81},
		{N: 9, Step: 40, Hi: 360}, // more than 48 taps
		{N: 1, Offset: 0, Step: 1000, Hi: 1000},
	} {
		for _, f := range allFilters {
			t.Run(fmt.Sprintf("h%v/%+v", f, a), func(t *testing.T) {
				pw := NewPlaneWeights(a, f)
				if pw.taps%8 != 0 || pw.taps == 0 {
					t.Fatalf("taps %d", pw.taps)
				}
				in := make([]int16, max(a.Hi, pw.reach))
				for i := range in {
					// Intermediates span −0.28…1.28 of 255 << plInterBits.
					in[i] = int16(rng.IntN(255*64*156/100) - 255*64*28/100)
				}
				want, got := make([]uint8, pw.n), make([]uint8, pw.n)
				plHRow16Go(want, in, pw)
				plHRow16(got, in, pw)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("sample %d: %d, want %d", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestResamplePlaneTransposed: writing columns gives the transpose of
// ResamplePlane's result, on every path (copies, one source row, the SIMD
// kernel, enlargements, mirrored axes).
func TestResamplePlaneTransposed(t *testing.T) {
	t.Parallel()
	src := randomPlane(97, 61, 5)
	for _, c := range []struct {
		name string
		h, v PlaneAxis
		f    Filter
	}{
		{"copy", PlaneAxis{N: 40, Offset: 3, Step: 1, Hi: 97}, PlaneAxis{N: 30, Offset: 2, Step: 1, Hi: 61}, Lanczos3},
		{"rows copied", PlaneAxis{N: 40, Step: 2.3, Hi: 97}, PlaneAxis{N: 61, Step: 1, Hi: 61}, Lanczos3},
		{"columns copied", PlaneAxis{N: 97, Step: 1, Hi: 97}, PlaneAxis{N: 20, Step: 3, Hi: 61}, Lanczos3},
		{"reduce", PlaneAxis{N: 45, Step: 97.0 / 45, Hi: 97}, PlaneAxis{N: 33, Step: 61.0 / 33, Hi: 61}, Lanczos3},
		{"enlarge", PlaneAxis{N: 150, Step: 97.0 / 150, Hi: 97}, PlaneAxis{N: 70, Step: 61.0 / 70, Hi: 61}, Bicubic},
		{"mirrored", PlaneAxis{N: 45, Offset: 97, Step: -97.0 / 45, Hi: 97}, PlaneAxis{N: 33, Offset: 61, Step: -61.0 / 33, Hi: 61}, Bilinear},
		{"nearest", PlaneAxis{N: 45, Step: 97.0 / 45, Hi: 97}, PlaneAxis{N: 33, Step: 61.0 / 33, Hi: 61}, Nearest},
	} {
		t.Run(c.name, func(t *testing.T) {
			hw, vw := NewPlaneWeights(c.h, c.f), NewPlaneWeights(c.v, c.f)
			want := newPlane(c.h.N, c.v.N)
			noErr(ResamplePlane(bgCtx, want, src, hw, vw))
			got := Plane{Pix: make([]uint8, c.h.N*(c.v.N+5)), Stride: c.v.N + 5, W: c.v.N, H: c.h.N}
			noErr(ResamplePlaneTransposed(bgCtx, got, src, hw, vw))
			for y := range want.H {
				for x := range want.W {
					if g, w := got.Pix[x*got.Stride+y], want.Pix[y*want.Stride+x]; g != w {
						t.Fatalf("(%d, %d): %d, want %d", x, y, g, w)
					}
				}
			}
		})
	}
}
