package metadata

// Tests against ExifTool (Debian package libimage-exiftool-perl): files it
// writes are read by ExtractJPEG, and files InsertJPEG writes are read by
// it. They skip when exiftool is not installed; TestFixture, which reads a
// committed file ExifTool wrote, always runs.

import (
	"bytes"
	"encoding/json"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureWant is what testdata/copyright.jpg holds (see testdata/README.md).
// XMP dc:rights ("…, all rights reserved") differs from the IPTC and EXIF
// notices, so the fixture also shows that XMP is preferred.
var fixtureWant = &Copyright{
	Notice:       "© 2024 José Müller, all rights reserved",
	Creators:     []string{"José Müller", "山田太郎"},
	Credit:       "Ünïcode Agency",
	WebStatement: "https://example.com/license?a=1&b=2",
	Licensors:    []string{"Example Licensing Ltd.", "Second Licensor"},
}

func readFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "copyright.jpg"))
	require.NoError(t, err)
	return b
}

// withoutSegments returns data without the header segments for which drop
// returns true.
func withoutSegments(t *testing.T, data []byte, drop func(s segInfo) bool) []byte {
	t.Helper()
	segs := listSegments(t, data)
	out := append([]byte{}, data[:2]...)
	for i, s := range segs {
		if s.marker == 0xDA {
			return append(out, data[s.offset:]...)
		}
		if !drop(s) {
			out = append(out, data[s.offset:segs[i+1].offset]...)
		}
	}
	t.Fatal("no SOS")
	return nil
}

func isXMP(s segInfo) bool {
	return s.marker == 0xE1 && bytes.HasPrefix(s.payload, []byte("http://ns.adobe.com/xap/1.0/\x00"))
}
func isIRB(s segInfo) bool { return s.marker == 0xED }

func TestFixture(t *testing.T) {
	data := readFixture(t)
	assert.Equal(t, fixtureWant, ExtractJPEG(data))

	// Without XMP the IPTC values (UTF-8, declared by 1:90) are used.
	noXMP := withoutSegments(t, data, isXMP)
	assert.Equal(t, &Copyright{
		Notice:   "© 2024 José Müller",
		Creators: []string{"José Müller", "山田太郎"},
		Credit:   "Ünïcode Agency",
	}, ExtractJPEG(noXMP))

	// Without XMP and IPTC the EXIF values are used.
	exifOnly := withoutSegments(t, noXMP, isIRB)
	assert.Equal(t, &Copyright{
		Notice:   "© 2024 José Müller",
		Creators: []string{"José Müller", "山田太郎"},
	}, ExtractJPEG(exifOnly))

	// Round trip through a re-encode.
	img, err := jpeg.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, nil))
	out, err := InsertJPEG(buf.Bytes(), ExtractJPEG(data))
	require.NoError(t, err)
	assert.Equal(t, fixtureWant, ExtractJPEG(out))
}

func needExiftool(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("exiftool"); err != nil {
		t.Skip("exiftool not installed (Debian: libimage-exiftool-perl)")
	}
}

// exiftoolWrite writes a fresh tiny JPEG, runs exiftool with args on it and
// returns the file's bytes.
func exiftoolWrite(t *testing.T, args ...string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.jpg")
	require.NoError(t, os.WriteFile(path, tinyJPEG(t, 16, 16), 0o644))
	cmd := exec.Command("exiftool", append(append([]string{"-q", "-overwrite_original"}, args...), path)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "exiftool: %s", out)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// exiftoolRead returns `exiftool -j -G1 -a -struct` of data, keyed by
// "Group:Tag".
func exiftoolRead(t *testing.T, data []byte) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.jpg")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	out, err := exec.Command("exiftool", "-j", "-G1", "-a", "-struct", path).Output()
	require.NoError(t, err)
	var v []map[string]any
	require.NoError(t, json.Unmarshal(out, &v))
	require.Len(t, v, 1)
	return v[0]
}

// strs returns a JSON value that is a string or a list of strings as a
// list.
func strs(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return []string{"<unexpected>"}
}

// licensorNamesOf reads XMP-plus:Licensor as exiftool -struct prints it.
func licensorNamesOf(v any) []string {
	var out []string
	list, ok := v.([]any)
	if !ok && v != nil {
		list = []any{v}
	}
	for _, e := range list {
		m, _ := e.(map[string]any)
		s, _ := m["LicensorName"].(string)
		out = append(out, s)
	}
	return out
}

// allowedTags are the tags exiftool may report for an InsertJPEG output:
// file structure, and the copyright fields with their IIM/IRB framing.
var allowedTags = map[string]bool{
	"SourceFile": true,
	// File structure.
	"File:FileType": true, "File:FileTypeExtension": true, "File:MIMEType": true,
	"File:ExifByteOrder": true, "File:CurrentIPTCDigest": true,
	"File:ImageWidth": true, "File:ImageHeight": true, "File:EncodingProcess": true,
	"File:BitsPerSample": true, "File:ColorComponents": true, "File:YCbCrSubSampling": true,
	"Composite:ImageSize": true, "Composite:Megapixels": true,
	// Copyright fields.
	"IFD0:Artist": true, "IFD0:Copyright": true,
	"XMP-dc:Creator": true, "XMP-dc:Rights": true, "XMP-photoshop:Credit": true,
	"XMP-xmpRights:WebStatement": true, "XMP-plus:Licensor": true,
	"IPTC:By-line": true, "IPTC:Credit": true, "IPTC:CopyrightNotice": true,
	// IIM and Photoshop framing.
	"IPTC:EnvelopeRecordVersion": true, "IPTC:CodedCharacterSet": true,
	"IPTC:ApplicationRecordVersion": true, "Photoshop:IPTCDigest": true,
}

// checkExiftoolView checks what exiftool reads from an InsertJPEG output
// for the normalised c: every field where it belongs, nothing else.
func checkExiftoolView(t *testing.T, got map[string]any, c *Copyright) {
	t.Helper()
	var extra []string
	for k := range got {
		if !allowedTags[k] && !strings.HasPrefix(k, "System:") && !strings.HasPrefix(k, "ExifTool:ExifToolVersion") {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	assert.Empty(t, extra, "tags other than the copyright fields")

	str := func(k string) string { s, _ := got[k].(string); return s }
	assert.Equal(t, c.Notice, str("XMP-dc:Rights"))
	assert.Equal(t, c.Creators, strs(got["XMP-dc:Creator"]))
	assert.Equal(t, c.Credit, str("XMP-photoshop:Credit"))
	assert.Equal(t, c.WebStatement, str("XMP-xmpRights:WebStatement"))
	assert.Equal(t, c.Licensors, licensorNamesOf(got["XMP-plus:Licensor"]))

	assert.Equal(t, c.Notice, str("IFD0:Copyright"))
	assert.Equal(t, strings.Join(c.Creators, "; "), str("IFD0:Artist"))

	assert.Equal(t, iimText(c.Notice, 128), str("IPTC:CopyrightNotice"))
	assert.Equal(t, iimList(c.Creators), strs(got["IPTC:By-line"]))
	assert.Equal(t, iimText(c.Credit, 32), str("IPTC:Credit"))
	if c.Notice != "" || c.Credit != "" || len(c.Creators) > 0 {
		assert.Equal(t, "UTF8", str("IPTC:CodedCharacterSet"))
		assert.Equal(t, str("File:CurrentIPTCDigest"), str("Photoshop:IPTCDigest"), "digest matches the IPTC data")
	}
}

func TestExiftoolReadsInsertJPEG(t *testing.T) {
	needExiftool(t)
	cases := map[string]*Copyright{}
	for k, v := range roundTripCases {
		cases[k] = v
	}
	long := &Copyright{Notice: strings.Repeat("Ü", 300), Creators: []string{strings.Repeat("山", 20)}, Credit: strings.Repeat("k", 40)}
	cases["IIM-truncated"] = long
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := InsertJPEG(tinyJPEG(t, 16, 16), c)
			require.NoError(t, err)
			got := exiftoolRead(t, out)
			assert.NotContains(t, got, "ExifTool:Warning")
			assert.NotContains(t, got, "ExifTool:Error")
			checkExiftoolView(t, got, normalize(c))
		})
	}
}

// TestExiftoolPipeline plays metadata=copyright end to end: a source that
// ExifTool filled with copyright fields and with fields that must be
// stripped (GPS, camera make and model, a JPEG comment, a description, a
// caption) is decoded and re-encoded, and only the copyright fields come
// back.
func TestExiftoolPipeline(t *testing.T) {
	needExiftool(t)
	src := exiftoolWrite(t,
		"-charset", "iptc=UTF8", "-IPTC:CodedCharacterSet=UTF8",
		"-Copyright=© 2025 Zoë Ünal", "-Artist=Zoë Ünal",
		"-XMP-dc:Rights=© 2025 Zoë Ünal — 版权所有", "-XMP-dc:Creator=Zoë Ünal", "-XMP-dc:Creator=李雷",
		"-XMP-photoshop:Credit=Crédit & Co", "-XMP-xmpRights:WebStatement=https://example.org/rights",
		"-XMP-plus:LicensorName=Licensor <One>",
		"-IPTC:CopyrightNotice=© 2025 Zoë Ünal", "-IPTC:By-line=Zoë Ünal", "-IPTC:Credit=Crédit & Co",
		"-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E",
		"-Make=Canon", "-Model=EOS R5", "-Comment=secret comment",
		"-XMP-dc:Description=private description", "-IPTC:Caption-Abstract=private caption",
	)
	before := exiftoolRead(t, src)
	for _, k := range []string{"GPS:GPSLatitude", "IFD0:Make", "File:Comment", "XMP-dc:Description"} {
		require.Contains(t, before, k, "the source has the fields to strip")
	}

	c := ExtractJPEG(src)
	want := &Copyright{
		Notice:       "© 2025 Zoë Ünal — 版权所有",
		Creators:     []string{"Zoë Ünal", "李雷"},
		Credit:       "Crédit & Co",
		WebStatement: "https://example.org/rights",
		Licensors:    []string{"Licensor <One>"},
	}
	require.Equal(t, want, c)

	img, err := jpeg.Decode(bytes.NewReader(src))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}))
	out, err := InsertJPEG(buf.Bytes(), c)
	require.NoError(t, err)

	got := exiftoolRead(t, out)
	for k := range got {
		assert.NotContains(t, k, "GPS")
	}
	for _, k := range []string{"IFD0:Make", "IFD0:Model", "File:Comment", "XMP-dc:Description", "IPTC:Caption-Abstract"} {
		assert.NotContains(t, got, k)
	}
	checkExiftoolView(t, got, want)
	assert.Equal(t, want, ExtractJPEG(out))
}

// TestExiftoolSources reads files ExifTool wrote in several ways.
func TestExiftoolSources(t *testing.T) {
	needExiftool(t)
	t.Run("IPTC in Latin-1 (ExifTool's default)", func(t *testing.T) {
		data := exiftoolWrite(t, "-IPTC:By-line=Jürgen Groß", "-IPTC:Credit=Café ©", "-IPTC:CopyrightNotice=© Jürgen")
		require.True(t, bytes.Contains(data, []byte("J\xFCrgen Gro\xDF")), "stored as Latin-1")
		assert.Equal(t, &Copyright{
			Notice: "© Jürgen", Creators: []string{"Jürgen Groß"}, Credit: "Café ©",
		}, ExtractJPEG(data))
	})
	t.Run("IPTC in UTF-8", func(t *testing.T) {
		data := exiftoolWrite(t, "-charset", "iptc=UTF8", "-IPTC:CodedCharacterSet=UTF8",
			"-IPTC:By-line=山田太郎", "-IPTC:By-line=Ünal", "-IPTC:Credit=通信社")
		assert.Equal(t, &Copyright{Creators: []string{"山田太郎", "Ünal"}, Credit: "通信社"}, ExtractJPEG(data))
	})
	t.Run("EXIF only", func(t *testing.T) {
		data := exiftoolWrite(t, "-Artist=Ann Example; Bob Example", "-Copyright=© 2020 Ann", "-Make=Nikon")
		assert.Equal(t, &Copyright{Notice: "© 2020 Ann", Creators: []string{"Ann Example", "Bob Example"}}, ExtractJPEG(data))
	})
	t.Run("XMP only", func(t *testing.T) {
		data := exiftoolWrite(t, "-XMP-dc:Rights=Rights with <tags> & \"quotes\"", "-XMP-dc:Rights-de=Alle Rechte",
			"-XMP-xmpRights:WebStatement=https://x.example/?q=1&r=2", "-XMP-plus:LicensorName=L1",
			"-XMP-plus:LicensorName=L2", "-XMP-photoshop:Credit=Credit", "-XMP-dc:Subject=keyword")
		assert.Equal(t, &Copyright{
			Notice: `Rights with <tags> & "quotes"`, Credit: "Credit",
			WebStatement: "https://x.example/?q=1&r=2", Licensors: []string{"L1", "L2"},
		}, ExtractJPEG(data))
	})
	t.Run("no copyright fields", func(t *testing.T) {
		data := exiftoolWrite(t, "-Make=Nikon", "-GPSLatitude=1", "-Comment=c", "-XMP-dc:Title=t", "-IPTC:Keywords=k")
		assert.Nil(t, ExtractJPEG(data))
	})
}
