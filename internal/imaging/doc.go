// Package imaging holds the pixel-level image operations behind imageopto's
// implementation of the Fastly Image Optimizer URL API: resampling, geometry
// (crop, EXIF orientation, placement on a canvas), alpha flattening, colour
// conversion to the working format, and the filters (adjustments, blur,
// sharpen, black and white, trim, smart crop).
//
// The working pixel type of the whole package is *image.NRGBA: 8 bits per
// channel with straight (non-premultiplied) alpha. Every image the package
// allocates and returns has its Rect.Min at (0, 0); functions documented as
// possibly returning their input unchanged (Orient with orientation 1,
// ToNRGBA on an NRGBA image already at the origin) return it as it is.
// Planar resampling (Plane, PlaneWeights, ResamplePlane,
// ResamplePlaneTransposed, TransposePlane) is the exception: it works on
// single 8-bit planes, such as a JPEG's Y′, Cb and Cr, so that a JPEG can be
// resized without a round trip through RGB.
// Functions never start goroutines: the caller bounds concurrency.
//
// Functions that walk a whole image take a context and poll it every few
// rows, about once per millisecond of work (see internal/ctxpoll): once it
// is done they stop and return ctx.Err() as it is, their result, or the
// rows of an in-place operation not yet reached, left undone. Only IsOpaque,
// a read at memory speed that stops at the first translucent row, does not.
package imaging
