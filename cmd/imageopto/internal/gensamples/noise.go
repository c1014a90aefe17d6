package main

import "math"

// rgb is a colour with float channels in [0, 1] (sRGB encoded).
type rgb struct{ r, g, b float64 }

// hex turns 0xRRGGBB into an rgb.
func hex(v uint32) rgb {
	return rgb{float64(v>>16&0xff) / 255, float64(v>>8&0xff) / 255, float64(v&0xff) / 255}
}

// Colour arithmetic, channel by channel.
func (c rgb) add(d rgb) rgb       { return rgb{c.r + d.r, c.g + d.g, c.b + d.b} }
func (c rgb) scale(k float64) rgb { return rgb{c.r * k, c.g * k, c.b * k} }
func (c rgb) mul(d rgb) rgb       { return rgb{c.r * d.r, c.g * d.g, c.b * d.b} }

// mix is the linear blend from a (t = 0) to b (t = 1).
func mix(a, b rgb, t float64) rgb {
	return rgb{lerp(a.r, b.r, t), lerp(a.g, b.g, t), lerp(a.b, b.b, t)}
}

func lerp(a, b, t float64) float64 { return a + (b-a)*t }
func clamp01(v float64) float64    { return math.Max(0, math.Min(1, v)) }

// to8 quantises a channel to 8 bits.
func to8(v float64) uint8 { return uint8(clamp01(v)*255 + 0.5) }

// smooth is the cubic ease of t clamped to [0, 1]; smoothstep maps x from
// [a, b] through it.
func smooth(t float64) float64           { t = clamp01(t); return t * t * (3 - 2*t) }
func smoothstep(a, b, x float64) float64 { return smooth((x - a) / (b - a)) }

// hash returns a well-mixed value in [0, 1) for an integer lattice point.
func hash(x, y int, seed uint32) float64 {
	h := uint32(x)*0x8da6b343 ^ uint32(y)*0xd8163841 ^ (seed+1)*0xcb1ab31f
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	h *= 0x297a2d39
	h ^= h >> 15
	return float64(h) / (1 << 32)
}

// noise is smooth value noise in [0, 1].
func noise(x, y float64, seed uint32) float64 {
	fx, fy := math.Floor(x), math.Floor(y)
	ix, iy := int(fx), int(fy)
	tx, ty := x-fx, y-fy
	// Quintic fade: continuous second derivative, so lighting from
	// gradients shows no creases.
	tx = tx * tx * tx * (tx*(tx*6-15) + 10)
	ty = ty * ty * ty * (ty*(ty*6-15) + 10)
	a := lerp(hash(ix, iy, seed), hash(ix+1, iy, seed), tx)
	b := lerp(hash(ix, iy+1, seed), hash(ix+1, iy+1, seed), tx)
	return lerp(a, b, ty)
}

// fbm sums octaves of value noise (each twice the frequency, gain times
// the amplitude of the previous one), normalised to [0, 1].
func fbm(x, y float64, octaves int, gain float64, seed uint32) float64 {
	sum, amp, norm := 0.0, 1.0, 0.0
	for i := range octaves {
		sum += amp * noise(x, y, seed+uint32(i)*7919)
		norm += amp
		amp *= gain
		x, y = x*2.03+17.1, y*2.03-9.7
	}
	return sum / norm
}

// ridged is ridged multifractal noise in [0, 1]: sharp crests where value
// noise crosses its middle, which reads as mountain ridges.
func ridged(x, y float64, octaves int, seed uint32) float64 {
	sum, amp, norm, weight := 0.0, 1.0, 0.0, 1.0
	for i := range octaves {
		n := 1 - math.Abs(2*noise(x, y, seed+uint32(i)*104729)-1)
		n *= n
		n *= weight
		weight = clamp01(n * 1.6)
		sum += amp * n
		norm += amp
		amp *= 0.5
		x, y = x*2.01+3.3, y*2.01+1.7
	}
	return sum / norm
}
