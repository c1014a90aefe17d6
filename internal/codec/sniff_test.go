package codec

import (
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
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", JPEG},
		{"jpeg minimal", "\xff\xd8\xff", JPEG},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", PNG},
		{"gif87a", "GIF87a\x01\x00\x01\x00", GIF},
		{"gif89a", "GIF89a", GIF},
		{"webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", WebP},
		{"riff wave", "RIFF\x24\x00\x00\x00WAVEfmt ", ""},
		{"avif", ftyp("avif", "mif1", "miaf"), AVIF},
		{"avis", ftyp("avis", "msf1"), AVIF},
		{"avif compatible", ftyp("mif1", "avif", "miaf"), AVIF},
		{"heic", ftyp("heic", "mif1", "heic"), HEIC},
		{"heix", ftyp("heix"), HEIC},
		{"mif1 only", ftyp("mif1", "miaf"), HEIC},
		{"mp4", ftyp("isom", "iso2", "avc1", "mp41"), MP4},
		{"quicktime", ftyp("qt  "), MP4},
		{"unknown brand", ftyp("zzzz"), ""},
		{"ftyp truncated", "\x00\x00\x00\x18ftypav", ""},
		{"jxl codestream", "\xff\x0a\xfa\x7f", JXL},
		{"jxl container", "\x00\x00\x00\x0cJXL \r\n\x87\n\x00\x00\x00\x14ftypjxl ", JXL},
		{"tiff le", "II*\x00\x08\x00\x00\x00", TIFF},
		{"tiff be", "MM\x00*\x00\x00\x00\x08", TIFF},
		{"bigtiff", "II+\x00\x08\x00\x00\x00", TIFF},
		{"bmp", "BM\x36\x00\x00\x00", BMP},
		{"pdf", "%PDF-1.7\n", PDF},
		{"ico", "\x00\x00\x01\x00\x01\x00\x10\x10", ICO},
		{"psd", "8BPS\x00\x01", PSD},
		{"svg", `<svg xmlns="http://www.w3.org/2000/svg"/>`, SVG},
		{"svg xml decl", "\xef\xbb\xbf  <?xml version=\"1.0\"?>\n<svg/>", SVG},
		{"svg doctype", `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><svg>`, SVG},
		{"svg comment", "<!-- made by hand -->\n<svg>", SVG},
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
		"video-001.jpeg":                JPEG,
		"video-001.cmyk.jpeg":           JPEG,
		"basn6a16.png":                  PNG,
		"video-001.gif":                 GIF,
		"blue-purple-pink.lossy.webp":   WebP,
		"gopher-doc.8bpp.lossless.webp": WebP,
	} {
		if got := Sniff(readFixture(t, name)); got != want {
			t.Errorf("Sniff(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestDecodable(t *testing.T) {
	t.Parallel()
	for _, f := range []Format{JPEG, PNG, GIF, WebP} {
		if !f.Decodable() {
			t.Errorf("%s not decodable", f)
		}
	}
	for _, f := range []Format{AVIF, HEIC, JXL, TIFF, BMP, SVG, PDF, ICO, PSD, MP4, ""} {
		if f.Decodable() {
			t.Errorf("%q decodable", f)
		}
	}
}
