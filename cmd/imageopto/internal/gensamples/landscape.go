package main

import (
	"image"
	"image/color"
	"math"
)

// mountainLayer is one range of mountains, from far (hazy) to near.
type mountainLayer struct {
	base, amp float64 // crest height above the water: base + amp·peaks, as fractions of the image height
	freq      float64 // ridge frequency per image height
	color     rgb
	haze      float64 // how much of the sky shows through (atmospheric perspective)
	snow      float64 // top fraction of the range's height under snow (0: none)
	trees     bool    // a ragged conifer edge and a forested face
	seed      uint32
}

// landscape describes a lake among mountains; render paints it.
type landscape struct {
	w, h                   int
	horizon                float64 // water line, as a fraction of the height
	shore                  float64 // top of the near bank, as a fraction of the height
	bankRise               float64 // how much higher the bank is at the left edge
	skyTop, skyMid, skyLow rgb
	sun                    rgb
	sunX, sunY, sunR       float64 // sun centre (fractions of width and height), radius (fraction of height)
	cloudiness             float64 // 0 clear … 1 overcast
	water, ground          rgb
	groundLight            float64 // brightness of the near bank (1: full daylight)
	layers                 []mountainLayer
	boulders               [][3]float64 // centre x (fraction of width), radii (fractions of height)
	seed                   uint32
}

// render paints the scene, upright.
func (s *landscape) render() *image.NRGBA {
	W, H := s.w, s.h
	fh := float64(H)
	hy := s.horizon * fh
	sunPX, sunPY := s.sunX*float64(W), s.sunY*fh
	buf := make([]rgb, W*H)

	// Crest lines of every layer: edge (with trees) and a smooth base for
	// shading, plus prefix sums of the base so that faces can be lit from
	// the crest's slope at a scale that grows with depth.
	type crest struct {
		edge, base []float64 // screen y of the crest per column
		prefix     []float64
	}
	crests := make([]crest, len(s.layers))
	for i, l := range s.layers {
		c := crest{edge: make([]float64, W), base: make([]float64, W), prefix: make([]float64, W+1)}
		for x := range W {
			X := float64(x) / fh
			r := peaks(X*l.freq, l.seed)
			c.base[x] = hy - fh*(l.base+l.amp*r)
			c.edge[x] = c.base[x]
			if l.trees {
				c.edge[x] -= treeProfile(float64(x), fh, l.seed)
			}
			c.prefix[x+1] = c.prefix[x] + c.base[x]
		}
		crests[i] = c
	}
	smoothed := func(c *crest, x float64, half int) float64 {
		a := int(x) - half
		b := int(x) + half
		a = max(a, 0)
		b = min(b, W-1)
		if b < a {
			return c.base[min(max(int(x), 0), W-1)]
		}
		return (c.prefix[b+1] - c.prefix[a]) / float64(b-a+1)
	}
	sunSide := 1.0
	if s.sunX < 0.5 {
		sunSide = -1
	}

	// Sky and mountains above the water line.
	top := int(math.Ceil(hy))
	for y := range top {
		for x := range W {
			X, Y := float64(x)/fh, float64(y)/fh
			col := s.sky(X, Y, float64(x), float64(y), sunPX, sunPY)
			air, _, _ := s.air(Y, float64(x), float64(y), sunPX, sunPY)
			for i := range s.layers { // far to near, each over what is behind
				c := &crests[i]
				fy := float64(y)
				if fy+0.5 < c.edge[x]-0.5 {
					continue
				}
				l := &s.layers[i]
				depth := math.Max(fy-c.base[x], 0)
				half := 1 + int(depth*0.8)
				d := float64(max(half/2, 1))
				slope := (smoothed(c, float64(x)+d, half) - smoothed(c, float64(x)-d, half)) / (2 * d)
				// Big faces take their light from the crest's slope, smoothed
				// more the further down they are; ribs and gullies run
				// diagonally down from the crest on either side of a peak.
				side := math.Tanh(slope * 2.5) // +1: the face looks right
				q := (float64(x) - side*depth*0.9) / fh
				n0 := fbm(q*l.freq*6, 0.5, 3, 0.5, l.seed+7)
				n1 := fbm((q+0.5/fh)*l.freq*6, 0.5, 3, 0.5, l.seed+7)
				rib := math.Tanh((n1-n0)*fh*0.15) * smoothstep(0.3, 0.7, noise(q*l.freq*2, depth/fh*l.freq*3, l.seed+8))
				lit := clamp01(0.5 + 0.42*side*sunSide + 0.22*rib*sunSide)
				gully := fbm(q*l.freq*14, Y*l.freq*3, 3, 0.5, l.seed+9)
				m := l.color.scale(0.4 + 0.75*lit).scale(0.85 + 0.3*gully)
				m = mix(m, m.mul(s.sun).scale(1.4), lit*0.3)
				if !l.trees {
					rock := fbm(X*l.freq*30, Y*l.freq*30, 3, 0.5, l.seed+13)
					m = m.scale(1 + (rock-0.5)*0.5*(1-l.haze))
				}
				if l.snow > 0 {
					height := (hy - fy) / fh
					line := l.base + l.amp*(1-l.snow) + 0.05*(fbm(X*l.freq*3, Y*20, 3, 0.5, l.seed+3)-0.5)
					if height > line {
						snow := mix(hex(0x8f9fc4), hex(0xfbf6f0), lit)
						m = mix(m, snow, smoothstep(line, line+0.012, height)*(0.75+0.25*gully))
					}
				}
				if l.trees {
					m = m.scale(0.7 + 0.6*fbm(X*140, Y*30, 2, 0.5, l.seed+11))
				}
				mist := smoothstep(hy-fh*0.1, hy, fy) * 0.25
				m = mix(m, air, clamp01(l.haze+(1-l.haze)*mist))
				// Anti-alias the crest.
				col = mix(col, m, clamp01(fy+0.5-(c.edge[x]-0.5)))
			}
			buf[y*W+x] = col
		}
	}

	// The lake: a rippled reflection of everything above the water line.
	sample := func(x, y float64) rgb {
		xi := min(max(int(x), 0), W-1)
		yi := min(max(int(y), 0), top-1)
		return buf[yi*W+xi]
	}
	for y := top; y < H; y++ {
		dy := float64(y) - hy + 0.5
		depth := fh / dy
		for x := range W {
			u := (float64(x) - float64(W)/2) / fh * depth
			ripple := fbm(u*1.2, depth*5, 4, 0.5, s.seed+21)
			wave := (ripple - 0.5) * 2
			ry := 2*hy - float64(y) + wave*dy*0.10
			rx := float64(x) + wave*dy*0.04
			refl := sample(rx, ry)
			fresnel := lerp(0.92, 0.62, smoothstep(0, 0.35, dy/fh))
			col := mix(s.water, refl.scale(0.92), fresnel)
			col = col.add(s.skyMid.scale(wave * 0.06))
			// Glitter under the sun.
			width := fh * (0.015 + 0.22*dy/fh)
			band := math.Exp(-sq((float64(x) - sunPX) / width))
			spark := math.Pow(noise(u*9, depth*30, s.seed+5), 7) * 2.2
			col = col.add(s.sun.scale(band * spark))
			// A thin bright line of mist along the far shore.
			col = mix(col, s.skyLow, math.Exp(-dy/2)*0.45)
			buf[y*W+x] = col
		}
	}

	// The near bank: boulders at the water's edge, then grass (which hides
	// their feet) and a few clumps of reeds against the water.
	bankAt := func(x float64) float64 {
		X := x / fh
		bank := fh * (s.shore + 0.03*(fbm(X*2.5, 5.5, 4, 0.5, s.seed+31)-0.5))
		return bank - fh*s.bankRise*math.Pow(smoothstep(0.5*float64(W), 0, x), 1.6)
	}
	for _, b := range s.boulders {
		bx := b[0] * float64(W)
		rx, ry := b[1]*fh, b[2]*fh
		by := bankAt(bx) - ry*0.45
		for y := max(int(by-ry*1.2), 0); y < min(int(by+ry*1.2), H); y++ {
			for x := max(int(bx-rx*1.2), 0); x < min(int(bx+rx*1.2), W); x++ {
				dx, dy := (float64(x)+0.5-bx)/rx, (float64(y)+0.5-by)/ry
				rr := math.Hypot(dx, dy)
				ang := math.Atan2(dy, dx)
				edge := 1 + 0.12*(fbm(math.Cos(ang)*1.5+b[0]*40, math.Sin(ang)*1.5, 3, 0.5, s.seed+61)-0.5)
				cov := clamp01((edge - rr) * math.Min(rx, ry))
				if cov == 0 {
					continue
				}
				// An ellipsoid's normal, bent by lumps.
				nx, ny := dx/edge, dy/edge
				nx += (noise(dx*2.5, dy*2.5, s.seed+63) - 0.5) * 0.8
				ny += (noise(dx*2.5, dy*2.5, s.seed+64) - 0.5) * 0.6
				nz := math.Sqrt(math.Max(1-sq(rr/edge), 0))
				light := clamp01(0.6*nx*sunSide-0.7*ny+0.4*nz)*0.9 + 0.1
				grain := fbm(float64(x)*0.12, float64(y)*0.12, 4, 0.65, s.seed+62)
				rock := hex(0x5e5a54).scale(0.35 + 0.9*light).scale(0.6 + 0.8*grain)
				rock = mix(rock, rock.mul(s.sun).scale(1.3), light*0.3)
				buf[y*W+x] = mix(buf[y*W+x], rock, cov)
			}
		}
	}
	for x := range W {
		X := float64(x) / fh
		bank := bankAt(float64(x))
		reeds := reedProfile(float64(x), fh, s.seed)
		for y := max(int(bank-reeds)-1, top); y < H; y++ {
			fy := float64(y)
			Y := fy / fh
			var cover float64
			if fy >= bank {
				cover = clamp01(fy - bank + 0.5)
			} else {
				cover = clamp01((fy - (bank - reeds)) / 1.5)
			}
			if cover == 0 {
				continue
			}
			// Patches of green, dry olive and bare earth; blades that lean.
			patch := fbm(X*5, Y*9, 4, 0.5, s.seed+43)
			g := mix(s.ground, hex(0x6d6a2c), smoothstep(0.45, 0.72, patch))
			g = mix(g, hex(0x4b3b24), 0.6*smoothstep(0.55, 0.8, fbm(X*3+9, Y*6, 3, 0.5, s.seed+44)))
			lean := (noise(X*5, Y*5, s.seed+45) - 0.5) * 0.25
			blades := fbm((X+lean*(fy-bank)/fh)*320, Y*10, 3, 0.6, s.seed+41)
			shade := smoothstep(bank+fh*0.1, bank, fy) // lighter at the top edge
			g = g.scale((0.45 + 0.55*blades + 0.3*shade) * s.groundLight)
			rim := math.Exp(-(fy-bank+reeds)/(fh*0.004)) * 0.25
			g = g.add(s.sun.scale(rim))
			buf[y*W+x] = mix(buf[y*W+x], g, cover)
		}
	}

	// Vignette and output.
	img := image.NewNRGBA(image.Rect(0, 0, W, H))
	cx, cy := float64(W)/2, fh/2
	rmax := math.Hypot(cx, cy)
	for y := range H {
		for x := range W {
			r := math.Hypot(float64(x)-cx, float64(y)-cy) / rmax
			c := buf[y*W+x].scale(1 - 0.28*r*r)
			img.SetNRGBA(x, y, color.NRGBA{to8(c.r), to8(c.g), to8(c.b), 255})
		}
	}
	return img
}

// air is the colour of the clear sky at a point, with the sun's glow but
// without clouds or the sun itself: what distant mountains fade into.
func (s *landscape) air(Y, px, py, sunPX, sunPY float64) (c rgb, glow, d float64) {
	t := Y / s.horizon
	c = mix(s.skyTop, s.skyMid, smoothstep(0, 0.65, t))
	c = mix(c, s.skyLow, smoothstep(0.45, 1, t))
	d = math.Hypot(px-sunPX, py-sunPY) / float64(s.h)
	glow = 0.3*math.Exp(-d/0.035) + 0.3*math.Exp(-d/0.18)
	return c.add(s.sun.scale(glow)), glow, d
}

// sky is the sky colour at a point: air, clouds and the sun disc.
func (s *landscape) sky(X, Y, px, py, sunPX, sunPY float64) rgb {
	t := Y / s.horizon
	c, glow, d := s.air(Y, px, py, sunPX, sunPY)

	if s.cloudiness > 0 {
		n := fbm(X*1.6+0.3*Y, Y*7.5, 6, 0.55, s.seed+51)
		cov := smoothstep(0.62-0.25*s.cloudiness, 0.82, n) * (1 - smoothstep(0.55, 0.95, t))
		if cov > 0 {
			lit := mix(hex(0xfff3e6), s.sun, 0.3).add(s.sun.scale(glow * 0.6))
			shade := mix(s.skyMid, hex(0x6e6a86), 0.5)
			cloud := mix(lit, shade, smoothstep(0.6, 0.95, n)*0.8)
			c = mix(c, cloud, cov*0.9)
		}
	}
	disc := 1 - smoothstep(s.sunR-0.002, s.sunR+0.002, d)
	return mix(c, rgb{1.3, 1.25, 1.1}, disc)
}

// treeProfile is how far conifers rise above a crest at column x.
func treeProfile(x, fh float64, seed uint32) float64 {
	cell := fh * 0.008
	k := int(math.Floor(x / cell))
	best := 0.0
	for i := k - 3; i <= k+3; i++ {
		if hash(i, 1, seed) < 0.15 {
			continue // a gap
		}
		xc := (float64(i) + hash(i, 2, seed)) * cell
		grove := noise(float64(i)*0.07, 9.1, seed) // taller in groves
		ht := cell * (1.5 + 3.5*hash(i, 3, seed)) * (0.4 + grove)
		hw := ht * 0.27
		if dx := math.Abs(x - xc); dx < hw {
			// Jagged sides: a pine's tiers of branches.
			tier := 0.1 * math.Abs(math.Sin((1-dx/hw)*ht/cell*2.6))
			best = math.Max(best, ht*(1-dx/hw)*(1-tier))
		}
	}
	return best
}

// reedProfile is the height of reeds and tall grass at column x.
func reedProfile(x, fh float64, seed uint32) float64 {
	cell := fh * 0.004
	k := int(math.Floor(x / cell))
	best := 0.0
	for i := k - 2; i <= k+2; i++ {
		if noise(float64(i)*0.045, 3.3, seed)+0.2*hash(i, 4, seed) < 0.72 {
			continue // reeds grow in clumps
		}
		xc := (float64(i) + hash(i, 5, seed)) * cell
		ht := fh * (0.01 + 0.05*hash(i, 6, seed))
		hw := 1.6
		if dx := math.Abs(x - xc); dx < hw {
			best = math.Max(best, ht*(1-dx/hw*0.6))
		}
	}
	return best
}

func sq(v float64) float64 { return v * v }

// peaks is a mountain silhouette in [0, 1] along x: normalised fractal
// noise folded at its mean, so it has sharp crests and rounded valleys,
// with concave flanks, broad swells and a little rock on top.
func peaks(x float64, seed uint32) float64 {
	g := (fbm(x, float64(seed)*0.618, 6, 0.5, seed) - 0.5) / 0.12
	tent := 1 - math.Min(math.Abs(g), 2.2)/2.2
	swell := fbm(x*0.3, 3.7, 3, 0.5, seed+99)
	rock := ridged(x*6, 1.3, 4, seed+5)
	return clamp01(0.62*math.Pow(tent, 1.6) + 0.3*swell + 0.08*rock)
}

// landscapeScene is the sample landscape: a lake in a mountain valley,
// sun in the upper right.
func landscapeScene() *landscape {
	return &landscape{
		w: 1600, h: 1000,
		horizon: 0.60, shore: 0.87, bankRise: 0.09,
		skyTop: hex(0x1c4488), skyMid: hex(0x86b3dc), skyLow: hex(0xf7cf9c),
		sun: hex(0xffc070), sunX: 0.72, sunY: 0.34, sunR: 0.026,
		cloudiness: 0.5,
		water:      hex(0x1a3f58), ground: hex(0x34421f), groundLight: 0.85,
		layers: []mountainLayer{
			{base: 0.10, amp: 0.36, freq: 1.5, color: hex(0x5f729e), haze: 0.26, snow: 0.45, seed: 1},
			{base: 0.06, amp: 0.24, freq: 2.2, color: hex(0x4d5f80), haze: 0.26, snow: 0.3, seed: 2},
			{base: 0.03, amp: 0.13, freq: 3.2, color: hex(0x33465a), haze: 0.12, seed: 3},
			{base: 0.012, amp: 0.06, freq: 4.4, color: hex(0x1d3126), haze: 0.04, trees: true, seed: 4},
		},
		boulders: [][3]float64{{0.63, 0.08, 0.036}, {0.69, 0.045, 0.022}, {0.17, 0.05, 0.028}},
		seed:     7,
	}
}

// portraitScene is a tall dusk variant: low sun, pink sky, steeper peaks.
func portraitScene() *landscape {
	return &landscape{
		w: 720, h: 1080,
		horizon: 0.64, shore: 0.88, bankRise: 0.06,
		skyTop: hex(0x2a2a6e), skyMid: hex(0xb07ab8), skyLow: hex(0xffb27a),
		sun: hex(0xff9a58), sunX: 0.45, sunY: 0.33, sunR: 0.032,
		cloudiness: 0.7,
		water:      hex(0x2a2548), ground: hex(0x2c3a22), groundLight: 0.6,
		layers: []mountainLayer{
			{base: 0.10, amp: 0.34, freq: 2.0, color: hex(0x6c5a8c), haze: 0.35, snow: 0.25, seed: 11},
			{base: 0.05, amp: 0.18, freq: 3.0, color: hex(0x3f3660), haze: 0.25, seed: 12},
			{base: 0.01, amp: 0.06, freq: 4.5, color: hex(0x1b2224), haze: 0.05, trees: true, seed: 13},
		},
		seed: 17,
	}
}
