package metadata

import (
	"bytes"
	"crypto/md5"
	"encoding/xml"
	"image/jpeg"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundTripCases are normal (already normalised) values.
var roundTripCases = map[string]*Copyright{
	"ASCII": {
		Notice:       "Copyright 2024 Jane Doe. All rights reserved.",
		Creators:     []string{"Jane Doe", "John Roe"},
		Credit:       "Example Photo Agency",
		WebStatement: "https://example.com/licensing/terms?id=42",
		Licensors:    []string{"Example Licensing Ltd.", "Other Licensor"},
	},
	"non-ASCII": {
		Notice:       "© 2024 José Müller — tous droits réservés",
		Creators:     []string{"José Müller", "山田太郎", "Zoë Ünal"},
		Credit:       "Agência Fotográfica ©",
		WebStatement: "https://例え.jp/ライセンス?ü=1",
		Licensors:    []string{"株式会社ライセンス", "Lizenz GmbH & Co. KG"},
	},
	"XML specials": {
		Notice:       `<b>"Rights"</b> & 'more' ]]> &amp; &lt;`,
		Creators:     []string{"A & B", "<C>"},
		Credit:       "]]>",
		WebStatement: "https://example.com/?a=1&b=2&c=<3>",
		Licensors:    []string{`"Quoted" & 'apos'`},
	},
	"multi-line": {
		Notice: "Line one\nLine two\n\tindented",
		Credit: "x\ny",
	},
	"supplementary planes": {
		Notice:   "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 𠜎",
		Creators: []string{"😀"},
	},
	"notice only":        {Notice: "N"},
	"creators only":      {Creators: []string{"C1", "C2"}},
	"credit only":        {Credit: "Cr"},
	"web statement only": {WebStatement: "https://w.example/"},
	"licensors only":     {Licensors: []string{"L"}},
}

func TestRoundTrip(t *testing.T) {
	for name, c := range roundTripCases {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, c, normalize(c), "test case is not normal")
			for _, base := range [][]byte{baseJPEG(), jpegWith(baseJPEG(), jfifAPP0())} {
				out, err := InsertJPEG(base, c)
				require.NoError(t, err)
				assert.Equal(t, c, ExtractJPEG(out))

				img, err := jpeg.Decode(bytes.NewReader(out))
				require.NoError(t, err)
				assert.Equal(t, 8, img.Bounds().Dx())
				assert.Equal(t, 8, img.Bounds().Dy())

				// Every segment is well formed and within the size limit.
				for _, s := range listSegments(t, out) {
					assert.LessOrEqual(t, len(s.payload), 0xFFFF-2)
				}
			}
		})
	}
}

// TestRoundTripPerSegment checks each of the three segments on its own:
// each must carry the fields it can hold.
func TestRoundTripPerSegment(t *testing.T) {
	for name, c := range roundTripCases {
		t.Run(name, func(t *testing.T) {
			exif, xmp, irb := buildEXIF(c), buildXMP(c), buildIRB(c)

			assert.Equal(t, c, ExtractJPEG(jpegWith(baseJPEG(), seg(0xE1, xmp))), "XMP alone")

			var wantIPTC *Copyright
			if irb != nil {
				wantIPTC = ExtractJPEG(jpegWith(baseJPEG(), seg(0xED, irb)))
			}
			want := normalize(&Copyright{
				Notice:   iimText(c.Notice, 128),
				Creators: iimList(c.Creators),
				Credit:   iimText(c.Credit, 32),
			})
			assert.Equal(t, want, wantIPTC, "IPTC alone")

			var gotEXIF *Copyright
			if exif != nil {
				gotEXIF = ExtractJPEG(jpegWith(baseJPEG(), seg(0xE1, exif)))
			}
			assert.Equal(t, normalize(&Copyright{Notice: c.Notice, Creators: c.Creators}), gotEXIF, "EXIF alone")
		})
	}
}

func iimList(l []string) []string {
	var out []string
	for _, v := range l {
		out = append(out, iimText(v, 32))
	}
	return out
}

func TestInsertLayout(t *testing.T) {
	c := roundTripCases["non-ASCII"]
	t.Run("after JFIF APP0", func(t *testing.T) {
		base := jpegWith(baseJPEG(), jfifAPP0())
		out, err := InsertJPEG(base, c)
		require.NoError(t, err)
		segs := listSegments(t, out)
		require.GreaterOrEqual(t, len(segs), 5)
		assert.Equal(t, byte(0xE0), segs[0].marker)
		assert.Equal(t, 2, segs[0].offset)
		assert.Equal(t, byte(0xE1), segs[1].marker)
		assert.True(t, bytes.HasPrefix(segs[1].payload, []byte("Exif\x00\x00MM\x00\x2a")))
		assert.Equal(t, byte(0xE1), segs[2].marker)
		assert.True(t, bytes.HasPrefix(segs[2].payload, []byte("http://ns.adobe.com/xap/1.0/\x00<?xpacket")))
		assert.Equal(t, byte(0xED), segs[3].marker)
		assert.True(t, bytes.HasPrefix(segs[3].payload, []byte("Photoshop 3.0\x00")))
		// The rest of the stream is untouched.
		assert.Equal(t, base[2+len(jfifAPP0()):], out[segs[4].offset:])
	})
	t.Run("right after SOI without JFIF", func(t *testing.T) {
		out, err := InsertJPEG(baseJPEG(), c)
		require.NoError(t, err)
		segs := listSegments(t, out)
		assert.Equal(t, 2, segs[0].offset)
		assert.Equal(t, byte(0xE1), segs[0].marker)
		assert.Equal(t, baseJPEG()[2:], out[segs[3].offset:])
	})
	t.Run("non-JFIF APP0 stays after", func(t *testing.T) {
		avi1 := seg(0xE0, []byte("AVI1\x00\x00\x00\x00"))
		out, err := InsertJPEG(jpegWith(baseJPEG(), avi1), c)
		require.NoError(t, err)
		segs := listSegments(t, out)
		assert.Equal(t, byte(0xE1), segs[0].marker)
		assert.Equal(t, byte(0xE0), segs[3].marker)
	})
	t.Run("segments only for the fields present", func(t *testing.T) {
		out, err := InsertJPEG(baseJPEG(), &Copyright{WebStatement: "https://w.example/"})
		require.NoError(t, err)
		segs := listSegments(t, out)
		assert.True(t, bytes.HasPrefix(segs[0].payload, []byte("http://ns.adobe.com/xap/1.0/\x00")))
		assert.Equal(t, byte(0xDB), segs[1].marker, "no EXIF or IPTC without their fields")
	})
}

func TestInsertIRB(t *testing.T) {
	c := roundTripCases["non-ASCII"]
	irb := buildIRB(c)
	require.NotNil(t, irb)
	iim := findIPTC(irb[len("Photoshop 3.0\x00"):])
	require.NotNil(t, iim)
	// 1:00, 1:90 = ESC % G, 2:00, then ascending record 2 datasets.
	assert.True(t, bytes.HasPrefix(iim, []byte("\x1C\x01\x00\x00\x02\x00\x04\x1C\x01\x5A\x00\x03\x1B%G\x1C\x02\x00\x00\x02\x00\x04")))
	// The digest resource follows and matches.
	sum := md5.Sum(iim)
	assert.True(t, bytes.HasSuffix(irb, append([]byte("8BIM\x04\x25\x00\x00\x00\x00\x00\x10"), sum[:]...)))
}

func TestInsertEscapesXML(t *testing.T) {
	c := roundTripCases["XML specials"]
	packet := buildXMPPacket(c)
	// Strict parsing reads it without error.
	d := xml.NewDecoder(bytes.NewReader(packet))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.Contains(t, string(packet), "&lt;b&gt;\"Rights\"&lt;/b&gt; &amp; 'more' ]]&gt; &amp;amp; &amp;lt;")
	assert.NotContains(t, string(packet), "]]>")
}

func TestInsertNormalizes(t *testing.T) {
	messy := &Copyright{
		Notice:       "  \u00A9 2024\r\nSecond line\rThird\x00\x07 line\t ",
		Creators:     []string{"", "  Ann  ", "\x01\x02", "Bad \xFF byte", "Bob\u0085"},
		Credit:       "\uFFFE\uFFFF",
		WebStatement: "\n",
		Licensors:    []string{" ", ""},
	}
	want := &Copyright{
		Notice:   "© 2024\nSecond line\nThird line",
		Creators: []string{"Ann", "Bad \uFFFD byte", "Bob"},
	}
	assert.Equal(t, want, normalize(messy))
	out, err := InsertJPEG(baseJPEG(), messy)
	require.NoError(t, err)
	assert.Equal(t, want, ExtractJPEG(out))
	assert.Equal(t, want, normalize(want), "idempotent")
}

func TestInsertLimits(t *testing.T) {
	t.Run("long values", func(t *testing.T) {
		c := &Copyright{
			Notice:       strings.Repeat("é", 100_000),
			Creators:     make([]string, 100),
			Credit:       strings.Repeat("x", MaxValueBytes+1),
			WebStatement: strings.Repeat("a", MaxValueBytes-1) + "中",
		}
		for i := range c.Creators {
			c.Creators[i] = strings.Repeat("y", i)
		}
		n := normalize(c)
		assert.Len(t, n.Notice, MaxValueBytes)
		assert.Len(t, n.Credit, MaxValueBytes)
		assert.Equal(t, strings.Repeat("a", MaxValueBytes-1), n.WebStatement, "cut before a split character")
		require.Len(t, n.Creators, MaxListItems)
		assert.Equal(t, "y", n.Creators[0], "empty items are dropped before counting")
		checkInsert(t, c, n)
	})
	t.Run("escaped packet too large for one segment", func(t *testing.T) {
		// 67 values of 2048 '&' escape to 67 × 10 KiB: far more than 64 KiB.
		amp := strings.Repeat("&", MaxValueBytes)
		c := &Copyright{Notice: amp, Credit: amp, WebStatement: amp}
		for range MaxListItems {
			c.Creators = append(c.Creators, amp)
			c.Licensors = append(c.Licensors, amp)
		}
		n := normalize(c)
		assert.LessOrEqual(t, xmpSize(n), maxXMPPacket)
		assert.Greater(t, xmpSize(n), maxXMPPacket/2, "not shortened more than needed")
		assert.Len(t, n.Creators, MaxListItems, "items shortened, not dropped")
		checkInsert(t, c, n)
	})
	t.Run("IIM lengths", func(t *testing.T) {
		c := &Copyright{
			Notice:   strings.Repeat("©", 100),               // 200 bytes
			Creators: []string{strings.Repeat("山", 11)},      // 33 bytes
			Credit:   strings.Repeat("c", 31) + " " + "more", // cut after a space
		}
		iptc := ExtractJPEG(jpegWith(baseJPEG(), seg(0xED, buildIRB(c))))
		require.NotNil(t, iptc)
		assert.Equal(t, strings.Repeat("©", 64), iptc.Notice)
		assert.Equal(t, []string{strings.Repeat("山", 10)}, iptc.Creators)
		assert.Equal(t, strings.Repeat("c", 31), iptc.Credit)
		// The full values survive in XMP, which wins.
		out, err := InsertJPEG(baseJPEG(), c)
		require.NoError(t, err)
		assert.Equal(t, normalize(c), ExtractJPEG(out))
	})
}

// checkInsert inserts c and checks the result: valid segments, and the
// normalised values n read back.
func checkInsert(t *testing.T, c, n *Copyright) {
	t.Helper()
	assert.Equal(t, n, normalize(n), "idempotent")
	out, err := InsertJPEG(baseJPEG(), c)
	require.NoError(t, err)
	for _, s := range listSegments(t, out) {
		assert.LessOrEqual(t, len(s.payload), 0xFFFF-2)
	}
	assert.Equal(t, n, ExtractJPEG(out))
	_, err = jpeg.Decode(bytes.NewReader(out))
	assert.NoError(t, err)
}

func TestXMPSize(t *testing.T) {
	for name, c := range roundTripCases {
		assert.Equal(t, len(buildXMPPacket(c)), xmpSize(c), name)
	}
}

func TestInsertErrors(t *testing.T) {
	c := &Copyright{Notice: "n"}
	for name, data := range map[string][]byte{
		"nil":            nil,
		"PNG":            []byte("\x89PNG\r\n\x1a\n"),
		"SOI only":       {0xFF, 0xD8},
		"truncated APP0": {0xFF, 0xD8, 0xFF, 0xE0, 0x00},
		"APP0 too long":  {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x20, 'J', 'F', 'I', 'F', 0},
		"APP0 length 1":  {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xD9},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := InsertJPEG(data, c)
			assert.Error(t, err)
		})
	}
	_, err := InsertJPEG([]byte("not a jpeg"), c)
	assert.ErrorIs(t, err, ErrNotJPEG)
}

func TestInsertNothing(t *testing.T) {
	base := baseJPEG()
	for _, c := range []*Copyright{nil, {}, {Creators: []string{"", " "}, Notice: "\x00"}} {
		out, err := InsertJPEG(base, c)
		require.NoError(t, err)
		assert.Equal(t, base, out)
	}
}

func TestIsZero(t *testing.T) {
	assert.True(t, (*Copyright)(nil).IsZero())
	assert.True(t, (&Copyright{}).IsZero())
	assert.True(t, (&Copyright{Creators: []string{""}, Licensors: []string{}}).IsZero())
	assert.False(t, (&Copyright{Creators: []string{"", "a"}}).IsZero())
	assert.False(t, (&Copyright{Licensors: []string{"l"}}).IsZero())
	assert.False(t, (&Copyright{Notice: "n"}).IsZero())
	assert.False(t, (&Copyright{Credit: "c"}).IsZero())
	assert.False(t, (&Copyright{WebStatement: "w"}).IsZero())
}
