package main

import (
	"context"
	"image"
	"image/draw"
	"os"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/internal/icc"
	"github.com/imageopto/imageopto/internal/imaging"
)

// Sources with an EXIF orientation or a colour profile other than sRGB:
// every implementation is asked for an upright sRGB result (imageopto
// does both by default; vipsthumbnail rotates by default and converts with
// --eprofile srgb; ImageMagick needs -auto-orient and -profile), and the
// reference is made upright and converted to sRGB at full resolution, so
// that SSIM compares like with like (and measures what converting after the
// resize costs).

// srgbProfile is an sRGB ICC profile file for ImageMagick's -profile (from
// Debian's colord); "" when absent.
var srgbProfile = func() string {
	const p = "/usr/share/color/icc/colord/sRGB.icc"
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}()

// sourceTraits reads whether a source is tagged with a profile that is
// not sRGB, and its EXIF orientation.
func sourceTraits(path string) (tagged bool, orientation int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, 0
	}
	info, err := imageopto.Inspect(data)
	if err != nil {
		return false, 0
	}
	if len(info.ICC) > 0 {
		if p, err := icc.Parse(info.ICC); err == nil && !p.IsSRGB() {
			tagged = true
		}
	}
	return tagged, int(info.Orientation)
}

// vipsColourArgs are vipsthumbnail's extra arguments for the source.
func vipsColourArgs(path string) []string {
	if tagged, _ := sourceTraits(path); tagged {
		return []string{"--eprofile", "srgb"}
	}
	return nil
}

// magickColourArgs are ImageMagick's extra arguments (after the input).
func magickColourArgs(path string) []string {
	args := []string{"-auto-orient"}
	if tagged, _ := sourceTraits(path); tagged && srgbProfile != "" {
		args = append(args, "-profile", srgbProfile)
	}
	return args
}

// uprightSRGB is src (decoded from data) with its EXIF orientation applied
// and converted from its profile to sRGB, at full resolution.
func uprightSRGB(data []byte, src image.Image) image.Image {
	info, err := imageopto.Inspect(data)
	if err != nil {
		return src
	}
	var t *icc.Transform
	if len(info.ICC) > 0 {
		if p, err := icc.Parse(info.ICC); err == nil && !p.IsSRGB() {
			t, _ = p.ToSRGB()
		}
	}
	if t == nil && info.Orientation <= 1 {
		return src
	}
	m := image.NewNRGBA(src.Bounds().Sub(src.Bounds().Min))
	draw.Draw(m, m.Rect, src, src.Bounds().Min, draw.Src)
	ctx := context.Background()
	if t != nil {
		_ = t.ApplyNRGBA(ctx, m)
	}
	if info.Orientation > 1 {
		if o, err := imaging.Orient(ctx, m, int(info.Orientation)); err == nil {
			m = o
		}
	}
	return m
}
