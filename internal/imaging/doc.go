// Package imaging holds the pixel-level image operations behind imageopto's
// implementation of the Fastly Image Optimizer URL API: resampling, geometry
// (crop, EXIF orientation, placement on a canvas), alpha flattening, colour
// conversion to the working format, and the filters (adjustments, blur,
// sharpen, black and white, trim, smart crop).
//
// The working pixel type of the whole package is *image.NRGBA: 8 bits per
// channel with straight (non-premultiplied) alpha. Every image the package
// returns has its Rect.Min at (0, 0). Functions never start goroutines; the
// caller decides how many images are processed concurrently.
package imaging
