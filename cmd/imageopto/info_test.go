package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
)

// testICC is a small RGB matrix/TRC profile whose description is
// "imageopto test profile" (shared with the icc package's tests).
func testICC(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "icc", "testdata", "gamma22-srgb.icc"))
	require.NoError(t, err)
	return data
}

// withEXIFAndICC inserts, after a JPEG's SOI marker, an APP1 Exif segment
// with one IFD0 entry (Orientation) and an APP2 ICC_PROFILE segment.
func withEXIFAndICC(jpg []byte, orientation uint16, profile []byte) []byte {
	be := binary.BigEndian
	tiff := []byte("MM\x00\x2a")
	tiff = be.AppendUint32(tiff, 8)           // IFD0 offset
	tiff = be.AppendUint16(tiff, 1)           // one entry
	tiff = be.AppendUint16(tiff, 0x0112)      // Orientation
	tiff = be.AppendUint16(tiff, 3)           // SHORT
	tiff = be.AppendUint32(tiff, 1)           // one value
	tiff = be.AppendUint16(tiff, orientation) // the value, left-aligned
	tiff = append(tiff, 0, 0, 0, 0, 0, 0)     // padding, next IFD 0
	exif := append([]byte("Exif\x00\x00"), tiff...)
	icc := append([]byte("ICC_PROFILE\x00\x01\x01"), profile...)
	segment := func(marker byte, payload []byte) []byte {
		s := []byte{0xFF, marker}
		s = be.AppendUint16(s, uint16(len(payload)+2))
		return append(s, payload...)
	}
	out := append([]byte{}, jpg[:2]...)
	out = append(out, segment(0xE1, exif)...)
	out = append(out, segment(0xE2, icc)...)
	return append(out, jpg[2:]...)
}

// infoFixtures writes the images the info tests read and returns their
// paths by name.
func infoFixtures(t *testing.T) map[string]string {
	t.Helper()
	jpg := cliJPEG(t, 120, 80)
	p, err := imageopto.ParseParams("format=pjpg")
	require.NoError(t, err)
	progressive, err := imageopto.TransformBytes(context.Background(), jpg, p, nil)
	require.NoError(t, err)
	files := map[string][]byte{
		"rotated.jpg":     withEXIFAndICC(jpg, 6, testICC(t)),
		"alpha.png":       cliPNG(t, 64, 32),
		"anim.gif":        cliGIF(t, 40, 30, 4),
		"progressive.jpg": progressive.Data,
		"corrupt.jpg":     jpg[:100],
		"text.txt":        []byte("hello"),
	}
	dir := writeTree(t, t.TempDir(), files)
	paths := map[string]string{}
	for name := range files {
		paths[name] = filepath.Join(dir, name)
	}
	return paths
}

func TestInfo(t *testing.T) {
	t.Parallel()
	paths := infoFixtures(t)
	type entry struct {
		File          string
		Error         string
		Format        string
		Width, Height int
		UprightWidth  int `json:"upright_width"`
		UprightHeight int `json:"upright_height"`
		Frames        int
		Orientation   int
		ICC           *iccInfo
		Alpha         bool
		Progressive   bool
		Lossless      bool
	}
	cases := []struct {
		file string
		want entry
		text []string // lines of the text output
	}{{
		file: "rotated.jpg",
		want: entry{Format: "jpeg", Width: 120, Height: 80, UprightWidth: 80, UprightHeight: 120, Frames: 1, Orientation: 6,
			ICC: &iccInfo{Bytes: len(testICC(t)), Description: "imageopto test profile"}},
		text: []string{
			"  format       jpeg",
			"  size         120x80 as stored, 80x120 as shown",
			"  orientation  6 (rotate 90° clockwise)",
			`  icc          "imageopto test profile", 520 bytes; ICC v`,
			"  alpha        no",
			"  progressive  no",
		},
	}, {
		file: "alpha.png",
		want: entry{Format: "png", Width: 64, Height: 32, UprightWidth: 64, UprightHeight: 32, Frames: 1, Orientation: 1, Alpha: true, Lossless: true},
		text: []string{"  size         64x32\n", "  alpha        yes", "  icc          none (sRGB assumed)", "  orientation  1 (normal)"},
	}, {
		file: "anim.gif",
		want: entry{Format: "gif", Width: 40, Height: 30, UprightWidth: 40, UprightHeight: 30, Frames: 4, Orientation: 1, Lossless: true},
		text: []string{"  format       gif", "  frames       4"},
	}, {
		file: "progressive.jpg",
		want: entry{Format: "jpeg", Width: 120, Height: 80, UprightWidth: 120, UprightHeight: 80, Frames: 1, Orientation: 1, Progressive: true},
		text: []string{"  progressive  yes"},
	}, {
		file: "corrupt.jpg",
		want: entry{Error: "image could not be parsed"},
		text: []string{"  error  image could not be parsed"},
	}, {
		file: "text.txt",
		want: entry{Error: "not a supported image format"},
		text: []string{"  error  not a supported image format"},
	}}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			failing := tc.want.Error != ""
			wantCode := 0
			if failing {
				wantCode = 1
			}

			var text bytes.Buffer
			err := runInfo([]string{paths[tc.file]}, &text)
			assert.Equal(t, wantCode, exitCode(err), "%v", err)
			assert.True(t, strings.HasPrefix(text.String(), paths[tc.file]+":\n"), text.String())
			for _, line := range tc.text {
				assert.Contains(t, text.String(), line)
			}

			var js bytes.Buffer
			err = runInfo([]string{"-json", paths[tc.file]}, &js)
			assert.Equal(t, wantCode, exitCode(err), "%v", err)
			var got []entry
			require.NoError(t, json.Unmarshal(js.Bytes(), &got), js.String())
			require.Len(t, got, 1)
			want := tc.want
			want.File = paths[tc.file]
			if failing {
				assert.Contains(t, got[0].Error, want.Error)
				got[0].Error = want.Error
			}
			if got[0].ICC != nil {
				assert.Contains(t, got[0].ICC.Profile, "RGB", "the parsed profile's summary")
				got[0].ICC.Profile = ""
			}
			assert.Equal(t, want, got[0])
			if failing {
				assert.NotContains(t, js.String(), `"format"`, "no header fields for an unreadable file")
			} else {
				assert.Contains(t, js.String(), `"icc": `, "icc is present, null when absent")
			}
		})
	}
}

func TestInfoSeveralFiles(t *testing.T) {
	t.Parallel()
	paths := infoFixtures(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"info", paths["alpha.png"], paths["anim.gif"], "-json"}, &out, nil)
	require.NoError(t, err)
	var got []map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got, 2)
	assert.Equal(t, "png", got[0]["format"])
	assert.Equal(t, "gif", got[1]["format"])

	out.Reset()
	err = runInfo([]string{paths["anim.gif"], paths["corrupt.jpg"], paths["rotated.jpg"]}, &out)
	assert.Equal(t, 1, exitCode(err))
	assert.ErrorContains(t, err, "1 of 3 files")
	assert.Equal(t, 3, strings.Count(out.String(), "  format")+strings.Count(out.String(), "  error"))
	assert.Contains(t, out.String(), "\n\n"+paths["corrupt.jpg"]+":\n")
}

func TestInfoCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		code   int
		output string
	}{
		{[]string{"-h"}, 0, "usage: imageopto info [-json] FILE..."},
		{nil, 2, ""},
		{[]string{"-xml", "a.jpg"}, 2, ""},
		{[]string{filepath.Join(t.TempDir(), "missing.jpg")}, 1, "no such file"},
	} {
		var out bytes.Buffer
		err := runInfo(tc.args, &out)
		assert.Equal(t, tc.code, exitCode(err), "%q: %v", tc.args, err)
		assert.Contains(t, out.String(), tc.output, "%q", tc.args)
	}
}

// iccWithDesc is a profile of only a header and one 'desc' tag holding el.
func iccWithDesc(el []byte) []byte {
	be := binary.BigEndian
	p := make([]byte, iccHeaderSize)
	p = be.AppendUint32(p, 1)
	p = append(p, "desc"...)
	p = be.AppendUint32(p, uint32(iccHeaderSize+4+12))
	p = be.AppendUint32(p, uint32(len(el)))
	return append(p, el...)
}

// descElement is a version 2 textDescriptionType element.
func descElement(s string) []byte {
	el := append([]byte("desc"), 0, 0, 0, 0)
	el = binary.BigEndian.AppendUint32(el, uint32(len(s)+1))
	el = append(el, s...)
	el = append(el, 0)
	return append(el, make([]byte, 67)...) // the empty Unicode and ScriptCode parts
}

// mlucElement is a version 4 multiLocalizedUnicodeType element with one
// record per language ("en-US" style keys).
func mlucElement(records [][2]string) []byte {
	be := binary.BigEndian
	el := append([]byte("mluc"), 0, 0, 0, 0)
	el = be.AppendUint32(el, uint32(len(records)))
	el = be.AppendUint32(el, 12)
	strOff := 16 + 12*len(records)
	var strs []byte
	for _, r := range records {
		units := utf16.Encode([]rune(r[1]))
		el = append(el, r[0][:2]...)
		el = append(el, r[0][3:5]...)
		el = be.AppendUint32(el, uint32(2*len(units)))
		el = be.AppendUint32(el, uint32(strOff+len(strs)))
		for _, u := range units {
			strs = be.AppendUint16(strs, u)
		}
	}
	return append(el, strs...)
}

func TestICCDescription(t *testing.T) {
	t.Parallel()
	truncate := func(b []byte, n int) []byte { return b[:len(b)-n] }
	for _, tc := range []struct {
		name    string
		profile []byte
		want    string
	}{
		{"v2 desc", iccWithDesc(descElement("Display P3")), "Display P3"},
		{"v2 desc with control characters", iccWithDesc(descElement(" sRGB\tbuilt-in\x1b[31m ")), "sRGBbuilt-in[31m"},
		{"v2 desc, count past the end", iccWithDesc(append([]byte("desc\x00\x00\x00\x00\xff\xff\xff\xffAB"), 0)), "AB"},
		{"v4 mluc prefers en-US", iccWithDesc(mlucElement([][2]string{{"de-DE", "Farbprofil"}, {"en-GB", "Colour profile"}, {"en-US", "Color profile"}})), "Color profile"},
		{"v4 mluc, other English", iccWithDesc(mlucElement([][2]string{{"fr-FR", "Profil"}, {"en-GB", "Colour profile"}})), "Colour profile"},
		{"v4 mluc, first otherwise", iccWithDesc(mlucElement([][2]string{{"ja-JP", "プロファイル"}, {"fr-FR", "Profil"}})), "プロファイル"},
		{"text type", iccWithDesc([]byte("text\x00\x00\x00\x00Plain\x00")), "Plain"},
		{"unknown type", iccWithDesc([]byte("xxxx\x00\x00\x00\x00abc")), ""},
		{"tag past the end", truncate(iccWithDesc(descElement("Display P3")), 5), ""},
		{"mluc string past the end", iccWithDesc(truncate(mlucElement([][2]string{{"en-US", "Cut"}}), 1)), ""},
		{"mluc record size too small", iccWithDesc([]byte("mluc\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x04")), ""},
		{"no tags", make([]byte, iccHeaderSize+4), ""},
		{"huge tag count", binary.BigEndian.AppendUint32(make([]byte, iccHeaderSize), 0xFFFFFFFF), ""},
		{"too short", []byte("acsp"), ""},
		{"nil", nil, ""},
		{"the icc package's test profile", testICC(t), "imageopto test profile"},
	} {
		assert.Equal(t, tc.want, iccDescription(tc.profile), tc.name)
	}
}

// TestICCDescriptionColord reads the descriptions of real profiles: the
// version 4 profiles that Debian's colord-data ships (CI installs it).
func TestICCDescriptionColord(t *testing.T) {
	t.Parallel()
	dir := "/usr/share/color/icc/colord"
	for file, want := range map[string]string{"sRGB.icc": "sRGB", "AdobeRGB1998.icc": "Adobe RGB (1998)", "ProPhotoRGB.icc": "ProPhoto"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if os.IsNotExist(err) {
			t.Skip("colord-data is not installed (apt-get install colord-data)")
		}
		require.NoError(t, err)
		assert.Contains(t, iccDescription(data), want, file)
	}
}

// TestIdimIsStoredSize pins what README.md and docs/url-api.md say: the
// info header's idim is the source as stored, before its EXIF orientation,
// as imageopto info's width and height are; odim is the upright output.
func TestIdimIsStoredSize(t *testing.T) {
	t.Parallel()
	src := withEXIFAndICC(cliJPEG(t, 120, 80), 6, testICC(t))
	p, err := imageopto.ParseParams("width=40")
	require.NoError(t, err)
	res, err := imageopto.TransformBytes(context.Background(), src, p, nil)
	require.NoError(t, err)
	assert.Contains(t, res.Info(), " idim=120x80 ")
	assert.Contains(t, res.Info(), " odim=40x60 ")
}

// TestInfoAVIF: info reads AVIF headers through the configured codecs (a
// build with wasmcodec), as convert does.
func TestInfoAVIF(t *testing.T) {
	needFeature(t, "wasmcodec")
	t.Parallel()
	var out bytes.Buffer
	err := runInfo([]string{"../../wasmcodec/testdata/tiny-irot.avif"}, &out)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "format       avif")
	assert.Contains(t, out.String(), "131x101 as stored, 101x131 as shown")
}
