package main

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"math"
)

// spinnerGIF draws a 200×200 loading spinner: a ring of twelve rainbow dots
// with a bright head and a fading, shrinking tail, turning one step per
// frame, looping forever.
//
// Every pixel is a blend of white and one dot's colour, so the palette is
// exact: white plus twenty blend levels for each of the twelve colours.
func spinnerGIF() ([]byte, error) {
	const (
		size   = 200
		dots   = 12
		levels = 20
		ring   = 70.0
	)
	white := hex(0xffffff)
	pal := color.Palette{color.RGBA{255, 255, 255, 255}}
	hues := make([]rgb, dots)
	for i := range dots {
		hues[i] = hsv(float64(i)/dots, 0.78, 0.93)
		for k := 1; k <= levels; k++ {
			c := mix(white, hues[i], float64(k)/levels)
			pal = append(pal, color.RGBA{to8(c.r), to8(c.g), to8(c.b), 255})
		}
	}

	anim := &gif.GIF{LoopCount: 0}
	for f := range dots {
		frame := image.NewPaletted(image.Rect(0, 0, size, size), pal)
		for py := range size {
			for px := range size {
				x, y := float64(px)+0.5-size/2, float64(py)+0.5-size/2
				// The nearest dot: dots sit every 30°, clockwise from the top.
				ang := math.Atan2(x, -y) // 0 at the top, growing clockwise
				i := int(math.Round(ang/(2*math.Pi)*dots+dots)) % dots
				a := float64(i) * 2 * math.Pi / dots
				dx, dy := x-ring*math.Sin(a), y+ring*math.Cos(a)
				age := (f - i + dots) % dots // 0: the head
				radius := 15 - float64(age)*0.75
				fade := float64(age) / 14
				t := coverage(math.Hypot(dx, dy)-radius) * (1 - fade)
				if k := int(math.Round(t * levels)); k > 0 {
					frame.SetColorIndex(px, py, uint8(1+i*levels+k-1))
				}
			}
		}
		anim.Image = append(anim.Image, frame)
		anim.Delay = append(anim.Delay, 7)
		anim.Disposal = append(anim.Disposal, gif.DisposalNone)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// hsv converts hue (0–1), saturation and value to rgb.
func hsv(h, s, v float64) rgb {
	h = math.Mod(h, 1) * 6
	i := math.Floor(h)
	f := h - i
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch int(i) {
	case 0:
		return rgb{v, t, p}
	case 1:
		return rgb{q, v, p}
	case 2:
		return rgb{p, v, t}
	case 3:
		return rgb{p, q, v}
	case 4:
		return rgb{t, p, v}
	}
	return rgb{v, p, q}
}
