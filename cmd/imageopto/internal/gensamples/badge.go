package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// rgba is a premultiplied colour with float channels.
type rgba struct{ r, g, b, a float64 }

// over composites colour c with opacity alpha over dst.
func over(dst rgba, c rgb, alpha float64) rgba {
	alpha = clamp01(alpha)
	k := 1 - alpha
	return rgba{c.r*alpha + dst.r*k, c.g*alpha + dst.g*k, c.b*alpha + dst.b*k, alpha + dst.a*k}
}

// coverage turns a signed distance in pixels (negative inside) into an
// anti-aliased coverage.
func coverage(sd float64) float64 { return clamp01(0.5 - sd) }

// softShadow is the coverage of a shape blurred with a Gaussian of the
// given sigma, from its signed distance (exact for straight edges).
func softShadow(sd, sigma float64) float64 { return 0.5 * math.Erfc(sd/(sigma*math.Sqrt2)) }

// sdRoundBox is the signed distance to a box of half-size (hw, hh) centred
// at the origin, with corners rounded to radius r.
func sdRoundBox(x, y, hw, hh, r float64) float64 {
	qx, qy := math.Abs(x)-hw+r, math.Abs(y)-hh+r
	return math.Hypot(math.Max(qx, 0), math.Max(qy, 0)) + math.Min(math.Max(qx, qy), 0) - r
}

// sdTriangle is the signed distance to the triangle abc.
func sdTriangle(px, py float64, a, b, c [2]float64) float64 {
	pts := [3][2]float64{a, b, c}
	d := math.Inf(1)
	sign := 1.0
	inside := 0
	for i := range 3 {
		e0, e1 := pts[i], pts[(i+1)%3]
		ex, ey := e1[0]-e0[0], e1[1]-e0[1]
		wx, wy := px-e0[0], py-e0[1]
		t := clamp01((wx*ex + wy*ey) / (ex*ex + ey*ey))
		d = math.Min(d, math.Hypot(wx-ex*t, wy-ey*t))
		if ex*wy-ey*wx > 0 {
			inside++
		}
	}
	if inside == 0 || inside == 3 {
		sign = -1
	}
	return sign * d
}

// badgePNG draws an 800×800 app-icon style emblem — a glossy gradient
// rounded square with a white mountain-and-sun glyph — over a soft drop
// shadow, on a transparent background.
func badgePNG() ([]byte, error) {
	const size = 800
	const cx, cy = 400.0, 378.0
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	warm, mid, cool := hex(0xffb547), hex(0xf0507a), hex(0x5b3fe0)
	shadowTint := hex(0x1a1033)

	body := func(x, y float64) float64 { return sdRoundBox(x-cx, y-cy, 272, 272, 92) }
	glyph := func(x, y float64) float64 {
		sun := math.Hypot(x-488, y-282) - 54
		m1 := sdTriangle(x, y, [2]float64{218, 540}, [2]float64{352, 338}, [2]float64{486, 540}) - 14
		m2 := sdTriangle(x, y, [2]float64{372, 540}, [2]float64{476, 404}, [2]float64{582, 540}) - 14
		return math.Min(sun, math.Min(m1, m2))
	}

	for py := range size {
		for px := range size {
			x, y := float64(px)+0.5, float64(py)+0.5
			var c rgba

			// Drop shadow: the body shape moved down and blurred.
			c = over(c, shadowTint, 0.5*softShadow(body(x, y-26), 22))

			sd := body(x, y)
			if cov := coverage(sd); cov > 0 {
				// Diagonal three-stop gradient with a soft light from the top left.
				t := clamp01(((x - 128) + (y - 106)) / 1088)
				col := mix(warm, mid, smoothstep(0, 0.55, t))
				col = mix(col, cool, smoothstep(0.45, 1, t))
				light := math.Exp(-math.Hypot(x-230, y-190) / 420)
				col = col.add(hex(0xffffff).scale(0.18 * light))
				c = over(c, col, cov)

				// Glyph with its own soft shadow, then the glyph itself.
				c = over(c, shadowTint, 0.28*softShadow(glyph(x, y-10), 9)*cov)
				c = over(c, hex(0xffffff), 0.96*coverage(glyph(x, y))*cov)

				// Gloss: a bright cap bounded by a large arc, fading downwards.
				arc := math.Hypot(x-cx, y+420) - 760
				gloss := coverage(arc) * (1 - smoothstep(106, 430, y)) * 0.32
				c = over(c, hex(0xffffff), gloss*cov)

				// Rim: a thin light line inside the edge, brighter at the top.
				rim := coverage(math.Abs(sd+7)-1.6) * lerp(0.45, 0.08, smoothstep(100, 660, y))
				c = over(c, hex(0xffffff), rim*cov)
			}

			if c.a > 0 {
				img.SetNRGBA(px, py, color.NRGBA{to8(c.r / c.a), to8(c.g / c.a), to8(c.b / c.a), to8(c.a)})
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
