// Package format names image file formats: the one format type of the
// module. The root package exports it as imageopto.ImageFormat, and the
// codec package reports what it sniffs with it.
package format

// Format names an image file format. The values are the tokens of the info
// header's ifmt and ofmt fields, and spell the Fastly IO format token where
// one exists.
type Format string

// Formats recognised by their magic bytes. Only some are decoded or
// written (see the root package's Codec); the rest are known so that they
// can be refused precisely.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	WebP Format = "webp"
	AVIF Format = "avif"
	HEIC Format = "heic"
	JXL  Format = "jxl"
	TIFF Format = "tiff"
	BMP  Format = "bmp"
	SVG  Format = "svg"
	PDF  Format = "pdf"
	ICO  Format = "ico"
	PSD  Format = "psd"
	MP4  Format = "mp4"
)

// ContentType returns the media type of the format.
func (f Format) ContentType() string {
	switch f {
	case JPEG, PNG, GIF, WebP, AVIF, HEIC, JXL, TIFF, BMP:
		return "image/" + string(f)
	case SVG:
		return "image/svg+xml"
	case PDF:
		return "application/pdf"
	case ICO:
		return "image/vnd.microsoft.icon"
	case PSD:
		return "image/vnd.adobe.photoshop"
	case MP4:
		return "video/mp4"
	}
	return "application/octet-stream"
}

// HasAlpha reports whether the format can store transparency.
func (f Format) HasAlpha() bool {
	switch f {
	case "", JPEG, MP4, PDF:
		return false
	}
	return true
}
