package codec

import (
	"github.com/imageopto/imageopto/internal/format"
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	t.Parallel()
	ftyp := func(major string, compat ...string) string {
		body := major + "\x00\x00\x00\x00" + strings.Join(compat, "")
		n := 8 + len(body)
		return string([]byte{0, 0, 0, byte(n)}) + "ftyp" + body + "\x00\x00\x00\x08mdat"
	}
	tests := []struct {
		name string
		data string
		want Format
	}{
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", format.JPEG},
		{"jpeg minimal", "\xff\xd8\xff", format.JPEG},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", format.PNG},
		{"gif87a", "GIF87a\x01\x00\x01\x00", format.GIF},
		{"gif89a", "GIF89a", format.GIF},
		{"webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", format.WebP},
		{"riff wave", "RIFF\x24\x00\x00\x00WAVEfmt ", ""},
		{"avif", ftyp("avif", "mif1", "miaf"), format.AVIF},
		{"avis", ftyp("avis", "msf1"), format.AVIF},
		{"avif compatible", ftyp("mif1", "avif", "miaf"), format.AVIF},
		{"heic", ftyp("heic", "mif1", "heic"), format.HEIC},
		{"heix", ftyp("heix"), format.HEIC},
		{"mif1 only", ftyp("mif1", "miaf"), format.HEIC},
		{"mp4", ftyp("isom", "iso2", "avc1", "mp41"), format.MP4},
		{"quicktime", ftyp("qt  "), format.MP4},
		{"unknown brand", ftyp("zzzz"), ""},
		{"ftyp truncated", "\x00\x00\x00\x18ftypav", ""},
		{"jxl codestream", "\xff\x0a\xfa\x7f", format.JXL},
		{"jxl container", "\x00\x00\x00\x0cJXL \r\n\x87\n\x00\x00\x00\x14ftypjxl ", format.JXL},
		{"tiff le", "II*\x00\x08\x00\x00\x00", format.TIFF},
		{"tiff be", "MM\x00*\x00\x00\x00\x08", format.TIFF},
		{"bigtiff", "II+\x00\x08\x00\x00\x00", format.TIFF},
		{"bmp", "BM\x36\x00\x00\x00", format.BMP},
		{"pdf", "%PDF-1.7\n", format.PDF},
		{"ico", "\x00\x00\x01\x00\x01\x00\x10\x10", format.ICO},
		{"psd", "8BPS\x00\x01", format.PSD},
		{"svg", `<svg xmlns="http://www.w3.org/2000/svg"/>`, format.SVG},
		{"svg xml decl", "\xef\xbb\xbf  <?xml version=\"1.0\"?>\n<svg/>", format.SVG},
		{"svg doctype", `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><svg>`, format.SVG},
		{"svg comment", "<!-- made by hand -->\n<svg>", format.SVG},
		{"xml not svg", `<?xml version="1.0"?><rss></rss>`, ""},
		{"svg too late", "<?xml version=\"1.0\"?>" + strings.Repeat(" ", 1100) + "<svg>", ""},
		{"html error page", "<!DOCTYPE html><html><body>404 <svg></svg></body></html>", ""},
		{"empty", "", ""},
		{"one byte ff", "\xff", ""},
		{"one byte", "G", ""},
		{"two bytes jpeg", "\xff\xd8", ""},
		{"junk", "hello, world", ""},
		{"zeros", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Sniff([]byte(tc.data)); got != tc.want {
				t.Errorf("Sniff = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSniffFixtures(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]Format{
		"video-001.jpeg":                format.JPEG,
		"video-001.cmyk.jpeg":           format.JPEG,
		"basn6a16.png":                  format.PNG,
		"video-001.gif":                 format.GIF,
		"blue-purple-pink.lossy.webp":   format.WebP,
		"gopher-doc.8bpp.lossless.webp": format.WebP,
	} {
		if got := Sniff(readFixture(t, name)); got != want {
			t.Errorf("Sniff(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestDecodable(t *testing.T) {
	t.Parallel()
	for _, f := range []Format{format.JPEG, format.PNG, format.GIF, format.WebP} {
		if !Decodable(f) {
			t.Errorf("%s not decodable", f)
		}
	}
	for _, f := range []Format{format.AVIF, format.HEIC, format.JXL, format.TIFF, format.BMP, format.SVG, format.PDF, format.ICO, format.PSD, format.MP4, ""} {
		if Decodable(f) {
			t.Errorf("%q decodable", f)
		}
	}
}
