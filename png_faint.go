package imageopto

import (
	"context"
	"image"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Nearly transparent pixels in PNG output. A pixel of alpha a shows its
// colour c only as c·a/255 (composed onto any background): under alpha 1
// a change of c by 255 moves what is seen by one level. Photos cut out with
// soft masks often hold such pixels over most of their area, with colours
// that are noise nobody sees (dithering, the average of whatever the
// resize mixed); that noise defeats PNG's filters and deflate. gulp.png
// (alpha 1–3 over 90 % of it), made 400 px wide, had 58,517 distinct
// colours.
//
// faintPNG keeps the colour of such pixels only to the precision that
// shows: the premultiplied value c·a/255 rounded to 8 bits, un-premultiplied
// again (at alpha 1, c becomes 0 or 255; at 2, 0, 128 or 255). Composed
// onto any background the image changes by at most half a level. It does so
// only when faint pixels are a large part of the image: a cut-out's thin
// anti-aliased edge costs little in the file, and its exact colours serve
// whoever resamples the result again.

// faintAlpha is the alpha under which a pixel counts as faint, and
// faintShare the part of the image (in pixels) that faint ones must make up.
const (
	faintAlpha = 16
	faintShare = 0.25
)

// faintPNG quantises the colour of faint pixels of img in place when they
// make up faintShare of it. It polls ctx every few rows.
func faintPNG(ctx context.Context, img *image.NRGBA) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 {
		return nil
	}
	pl := ctxpoll.New(ctx)
	faint := 0
	for y := range h {
		if err := pl.Work(w); err != nil {
			return err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for i := 3; i < len(row); i += 4 {
			if a := row[i]; a > 0 && a < faintAlpha {
				faint++
			}
		}
	}
	if float64(faint) < faintShare*float64(w)*float64(h) {
		return nil
	}
	// back[a][p] is the colour whose premultiplied value at alpha a is p.
	var back [faintAlpha][faintAlpha + 1]uint8
	for a := 1; a < faintAlpha; a++ {
		for p := 0; p <= a; p++ {
			back[a][p] = uint8(min(255, (p*255+a/2)/a))
		}
	}
	for y := range h {
		if err := pl.Work(4 * w); err != nil {
			return err
		}
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for i := 0; i+3 < len(row); i += 4 {
			a := int(row[i+3])
			if a == 0 || a >= faintAlpha {
				continue
			}
			b := &back[a]
			row[i] = b[(int(row[i])*a+127)/255]
			row[i+1] = b[(int(row[i+1])*a+127)/255]
			row[i+2] = b[(int(row[i+2])*a+127)/255]
		}
	}
	return nil
}
