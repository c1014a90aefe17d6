package jpegdec

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

var scales = []int{1, 2, 4, 8}

// decodeAll decodes data at every scale and checks that a successful
// decode has the bounds DecodeConfig predicts. It returns the errors.
func decodeAll(t *testing.T, data []byte) []error {
	t.Helper()
	var errs []error
	for _, s := range scales {
		m, err := Decode(bgCtx, data, &Options{Scale: s})
		errs = append(errs, err)
		if err != nil {
			continue
		}
		w, h, cerr := DecodeConfig(data)
		if cerr != nil {
			t.Fatalf("1/%d: Decode succeeds but DecodeConfig fails: %v", s, cerr)
		}
		sw, sh := ScaledSize(w, h, s)
		if m.Bounds() != image.Rect(0, 0, sw, sh) {
			t.Fatalf("1/%d: bounds %v, want %d×%d", s, m.Bounds(), sw, sh)
		}
	}
	return errs
}

// TestTruncated cuts every test file at 10, 50 and 99 % and at every
// tenth of the entropy-coded data near its end: decoding must fail with
// ErrCorrupt (and io.ErrUnexpectedEOF when data is missing), at every
// scale, without panicking.
func TestTruncated(t *testing.T) {
	for _, name := range testFiles(t) {
		data := readFile(t, name)
		if _, err := Decode(bgCtx, data, nil); err != nil {
			continue
		}
		for _, pct := range []int{10, 50, 99} {
			cut := data[:len(data)*pct/100]
			for i, err := range decodeAll(t, cut) {
				if err == nil {
					t.Errorf("%s cut at %d%%, 1/%d: no error", name, pct, scales[i])
				} else if !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s cut at %d%%, 1/%d: %v, want ErrCorrupt", name, pct, scales[i], err)
				}
			}
		}
		// Cut inside the last scan, a few bytes at a time.
		for n := len(data) - 2; n > len(data)-40 && n > 0; n -= 3 {
			for i, err := range decodeAll(t, data[:n]) {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("%s cut to %d bytes, 1/%d: %v, want io.ErrUnexpectedEOF", name, n, scales[i], err)
				}
			}
		}
	}
}

// patch returns a copy of data with b written at offset i.
func patch(data []byte, i int, b ...byte) []byte {
	out := bytes.Clone(data)
	copy(out[i:], b)
	return out
}

// markerPos returns the position of the first 0xFF m marker.
func markerPos(t *testing.T, data []byte, m byte) int {
	t.Helper()
	i := bytes.Index(data, []byte{0xFF, m})
	if i < 0 {
		t.Fatalf("marker %02X not found", m)
	}
	return i
}

// TestUnsupported checks that the frame types, precisions and layouts the
// decoder does not implement are refused with ErrUnsupported, by Decode and
// (for frame-header properties) by DecodeConfig.
func TestUnsupported(t *testing.T) {
	base := readFile(t, "testdata/video-001.jpeg")
	sof := markerPos(t, base, mSOF0)
	cases := map[string][]byte{}
	for _, m := range []byte{0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF} {
		cases[fmt.Sprintf("SOF%d", m-0xC0)] = patch(base, sof+1, m)
	}
	cases["12-bit"] = patch(base, sof+4, 12)
	cases["16-bit"] = patch(base, sof+4, 16)
	cases["DNL height"] = patch(base, sof+5, 0, 0)
	cases["sampling 3"] = patch(base, sof+11, 0x31)
	for name, data := range cases {
		if _, _, err := DecodeConfig(data); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: DecodeConfig: %v, want ErrUnsupported", name, err)
		}
	}
	// Arithmetic-coding conditioning, hierarchical markers: seen by Decode.
	for name, m := range map[string]byte{"DAC": mDAC, "DHP": mDHP, "EXP": mEXP} {
		seg := []byte{0xFF, m, 0, 4, 0, 0}
		cases[name] = append(append(bytes.Clone(base[:sof]), seg...), base[sof:]...)
	}
	// A 4-component file without the Adobe marker.
	cmyk := readFile(t, "testdata/video-001.cmyk.jpeg")
	i := bytes.Index(cmyk, []byte("Adobe"))
	cases["CMYK without Adobe"] = patch(cmyk, i, 'X')
	// Chroma sampled more densely than luma.
	cases["Y 1x1, Cb 2x2"] = patch(base, sof+11, 0x11, 0, 2, 0x22, 1, 3, 0x22)
	for name, data := range cases {
		for i, err := range decodeAll(t, data) {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s, 1/%d: %v, want ErrUnsupported", name, scales[i], err)
			}
		}
	}
}

// TestCorrupt checks a few kinds of damage: each gives ErrCorrupt at
// every scale.
func TestCorrupt(t *testing.T) {
	base := readFile(t, "testdata/video-001.jpeg")
	rst := readFile(t, "testdata/restart-1b-420.jpeg")
	sof := markerPos(t, base, mSOF0)
	sos := markerPos(t, base, mSOS)
	dht := markerPos(t, base, mDHT)
	dqt := markerPos(t, base, mDQT)
	r3 := markerPos(t, rst, mRST0+3)
	cases := map[string][]byte{
		"no SOI":             base[2:],
		"empty":              nil,
		"SOI only":           base[:2],
		"zero width":         patch(base, sof+7, 0, 0),
		"bad sampling":       patch(base, sof+11, 0x50),
		"bad Tq":             patch(base, sof+12, 9),
		"bad DQT precision":  patch(base, dqt+4, 0x20),
		"DHT too many codes": patch(base, dht+5, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		"SOS unknown comp":   patch(base, sos+5, 99),
		"SOS bad table":      patch(base, sos+6, 0x77),
		"SOS bad length":     patch(base, sos+3, 7),
		"bad Huffman code":   append(bytes.Repeat([]byte{0xFF, 0}, 100), 0xFF, mEOI),
		"wrong RST":          patch(rst, r3+1, mRST0+5),
		"missing RST":        patch(rst, r3, 0x12, 0x34),
		"unknown marker":     append(bytes.Clone(base[:sof]), append([]byte{0xFF, 0x05, 0, 2}, base[sof:]...)...),
	}
	// Scan data of garbage: all-ones codes are never valid.
	start := sos + 2 + be16(base[sos+2:])
	cases["bad Huffman code"] = append(bytes.Clone(base[:start]), cases["bad Huffman code"]...)
	for name, data := range cases {
		for i, err := range decodeAll(t, data) {
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s, 1/%d: %v, want ErrCorrupt", name, scales[i], err)
			}
		}
	}
}

// scanBomb returns a progressive file with n extra scans: copies of a DC
// refinement scan of component 1 with size bytes of data, inserted before
// EOI.
func scanBomb(t *testing.T, n, size int) []byte {
	data := readFile(t, "testdata/video-001.progressive.jpeg")
	eoi := bytes.LastIndex(data, []byte{0xFF, mEOI})
	sof := markerPos(t, data, mSOF2)
	id := data[sof+10] // first component identifier
	scan := append([]byte{0xFF, mSOS, 0, 8, 1, id, 0, 0, 0, 0x10}, bytes.Repeat([]byte{0x55}, size)...)
	out := bytes.Clone(data[:eoi])
	for range n {
		out = append(out, scan...)
	}
	return append(out, 0xFF, mEOI)
}

// TestScanLimit checks that a progressive file with more scans than
// MaxScans is refused quickly, before any decoding, and that the limit is
// inclusive. "Before any decoding" is measured in bytes allocated, not in
// time (not parallel, so that the figure is its own).
func TestScanLimit(t *testing.T) {
	bomb := scanBomb(t, 5000, 3)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for _, s := range scales {
		if _, err := Decode(bgCtx, bomb, &Options{Scale: s}); !errors.Is(err, ErrTooManyScans) {
			t.Errorf("1/%d: %v, want ErrTooManyScans", s, err)
		}
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	// Refusing costs a few hundred bytes; decoding this 150×103 file at the
	// four scales allocates about 300 KiB of buffers.
	if a := after.TotalAlloc - before.TotalAlloc; a > 16<<10 {
		t.Errorf("refusing allocated %d bytes: decoding began", a)
	}
	t.Logf("5000-scan file (%d bytes) refused 4 times in %v, allocating %d bytes", len(bomb), elapsed, after.TotalAlloc-before.TotalAlloc)

	data := readFile(t, "testdata/video-001.progressive.jpeg")
	n := bytes.Count(data, []byte{0xFF, mSOS})
	if _, err := Decode(bgCtx, data, &Options{MaxScans: n}); err != nil {
		t.Errorf("MaxScans %d (= scans): %v", n, err)
	}
	if _, err := Decode(bgCtx, data, &Options{MaxScans: n - 1}); !errors.Is(err, ErrTooManyScans) {
		t.Errorf("MaxScans %d: %v, want ErrTooManyScans", n-1, err)
	}
	// With the limit raised, the extra scans are decoded (they refine the
	// DC's last bit).
	small := scanBomb(t, 150, 40) // 40 bytes: one bit for each of the 247 blocks
	if _, err := Decode(bgCtx, small, &Options{MaxScans: 1000}); err != nil {
		t.Errorf("150 extra scans, MaxScans 1000: %v", err)
	}
	if _, err := Decode(bgCtx, small, nil); !errors.Is(err, ErrTooManyScans) {
		t.Errorf("150 extra scans, default limit: %v, want ErrTooManyScans", err)
	}
}

// TestHugeHeader checks that a small file declaring 65535×65535 pixels is
// refused before the pixel buffers are allocated, for sequential files and
// for progressive files whose first scan is a DC scan.
func TestHugeHeader(t *testing.T) {
	for _, name := range []string{"testdata/video-001.jpeg", "testdata/video-001.progressive.jpeg", "testdata/video-005.gray.jpeg"} {
		data := readFile(t, name)
		sof := bytes.Index(data, []byte{0xFF, mSOF0})
		if sof < 0 {
			sof = markerPos(t, data, mSOF2)
		}
		huge := patch(data, sof+5, 0xFF, 0xFF, 0xFF, 0xFF)
		w, h, err := DecodeConfig(huge)
		if err != nil || w != 65535 || h != 65535 {
			t.Fatalf("%s: DecodeConfig = %d×%d, %v", name, w, h, err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, s := range scales {
			if _, err := Decode(bgCtx, huge, &Options{Scale: s}); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s, 1/%d: %v, want io.ErrUnexpectedEOF", name, s, err)
			}
		}
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
			t.Errorf("%s: allocated %d bytes", name, a)
		}
	}
}

// TestMutations decodes randomly damaged copies of every test file at
// every scale: no panic, and any image returned has the predicted bounds.
// (FuzzDecode explores further.)
func TestMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 150
	if testing.Short() || raceEnabled {
		n = 30
	}
	for _, name := range testFiles(t) {
		data := readFile(t, name)
		for range n {
			m := bytes.Clone(data)
			for range 1 + r.IntN(8) {
				i := r.IntN(len(m))
				switch r.IntN(4) {
				case 0:
					m[i] ^= 1 << r.IntN(8)
				case 1:
					m[i] = byte(r.IntN(256))
				case 2:
					m[i] = 0xFF
				case 3:
					m = append(m[:i], m[min(len(m), i+1+r.IntN(16)):]...)
				}
				if len(m) == 0 {
					break
				}
			}
			if w, h, err := DecodeConfig(m); err == nil && w*h > 1<<22 {
				continue
			}
			decodeAll(t, m)
		}
	}
}
