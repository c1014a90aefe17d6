package h264

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bitString renders what w wrote as 0s and 1s.
func bitString(w *bitWriter) string {
	var b strings.Builder
	for _, c := range w.buf {
		for i := 7; i >= 0; i-- {
			b.WriteByte('0' + c>>i&1)
		}
	}
	for i := int(w.n) - 1; i >= 0; i-- {
		b.WriteByte('0' + byte(w.acc>>i&1))
	}
	return b.String()
}

func TestExpGolomb(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ue   uint32
		want string
	}{{0, "1"}, {1, "010"}, {2, "011"}, {3, "00100"}, {6, "00111"}, {7, "0001000"}, {254, "000000011111111"}} {
		var w bitWriter
		w.ue(c.ue)
		assert.Equal(t, c.want, bitString(&w), "ue(%d)", c.ue)
		assert.Equal(t, len(c.want), ueLen(c.ue))
	}
	for _, c := range []struct {
		se   int32
		want string
	}{{0, "1"}, {1, "010"}, {-1, "011"}, {2, "00100"}, {-2, "00101"}, {-3, "00111"}} {
		var w bitWriter
		w.se(c.se)
		assert.Equal(t, c.want, bitString(&w), "se(%d)", c.se)
		assert.Equal(t, len(c.want), seLen(c.se))
	}
	// Counting gives the same sizes as writing.
	var w, n bitWriter
	n.counting = true
	for v := range uint32(3000) {
		w.ue(v)
		n.ue(v)
		w.se(int32(v) - 1500)
		n.se(int32(v) - 1500)
	}
	assert.Equal(t, w.len(), n.len())
}

func TestEmulationPrevention(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ rbsp, want []byte }{
		{[]byte{1, 2, 3}, []byte{0x65, 1, 2, 3}},
		{[]byte{0, 0, 0}, []byte{0x65, 0, 0, 3, 0}},
		{[]byte{0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4}, []byte{0x65, 0, 0, 3, 1, 0, 0, 3, 2, 0, 0, 3, 3, 0, 0, 4}},
		{[]byte{0, 0, 0, 0}, []byte{0x65, 0, 0, 3, 0, 0}},
		{[]byte{0, 0, 3, 0, 0, 0}, []byte{0x65, 0, 0, 3, 3, 0, 0, 3, 0}},
	} {
		assert.Equal(t, c.want, nalUnit(3, nalIDR, c.rbsp), "%x", c.rbsp)
	}
}

// TestTablesPrefixFree: no code of a table is a prefix of another, so
// that a decoder reads back exactly what was written; and each table has a
// code for every value it may be asked for.
func TestTablesPrefixFree(t *testing.T) {
	t.Parallel()
	check := func(name string, codes []vlc) {
		t.Helper()
		for i, a := range codes {
			require.NotZero(t, a.len, "%s: code %d missing", name, i)
			for j, b := range codes {
				if i == j || a.len > b.len {
					continue
				}
				if b.bits>>(b.len-a.len) == a.bits {
					t.Errorf("%s: code %d (%0*b) is a prefix of code %d (%0*b)", name, i, a.len, a.bits, j, b.len, b.bits)
				}
			}
		}
	}
	for tab := range coeffToken {
		var codes []vlc
		for tc := range 17 {
			codes = append(codes, coeffToken[tab][tc][:min(tc, 3)+1]...)
		}
		check("coeff_token", codes)
	}
	var codes []vlc
	for tc := range 17 {
		codes = append(codes, coeffTokenFLC(tc, 0))
		for t1 := 1; t1 <= min(tc, 3); t1++ {
			codes = append(codes, coeffTokenFLC(tc, t1))
		}
	}
	check("coeff_token FLC", codes)
	codes = nil
	for tc := range 5 {
		codes = append(codes, coeffTokenChromaDC[tc][:min(tc, 3)+1]...)
	}
	check("coeff_token chroma DC", codes)
	for tc := 1; tc < 16; tc++ {
		require.Len(t, totalZeros[tc], 17-tc, "total_zeros for %d coefficients", tc)
		check("total_zeros", totalZeros[tc])
	}
	for tc := 1; tc < 4; tc++ {
		require.Len(t, totalZerosChromaDC[tc], 5-tc)
		check("total_zeros chroma DC", totalZerosChromaDC[tc])
	}
	for z := 1; z < 8; z++ {
		want := z + 1 // runs of 0 to zerosLeft; the last table (zerosLeft > 6) to 14
		if z == 7 {
			want = 15
		}
		require.Len(t, runBefore[z], want)
		check("run_before", runBefore[z])
	}
	// The coded_block_pattern tables are permutations.
	for cbp := range 48 {
		assert.Equal(t, uint8(cbp), interCBPByCode[interCBPCode[cbp]])
		assert.Equal(t, uint8(cbp), intraCBPByCode[intraCBPCode[cbp]])
	}
}

// TestWriteBlock codes blocks whose bits are worked out by hand from the
// tables of the standard.
func TestWriteBlock(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		coeffs []int32
		nC     int
		want   string
	}{
		// 0 3 −1 0 / 0 −1 1 0 / 1 0 0 0 / 0 0 0 0 in zig-zag order:
		// coeff_token (5, 3) 0000100, signs 011, levels 1 and 0010,
		// total_zeros 3: 111, runs 10 1 1 01.
		{"five coefficients", []int32{0, 3, 0, 1, -1, -1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 0, "000010001110010111101101"},
		{"empty", make([]int32, 16), 0, "1"},
		{"empty, nC 4", make([]int32, 16), 5, "1111"},
		{"empty, nC 8", make([]int32, 16), 9, "000011"},
		{"one DC, chroma DC", []int32{1, 0, 0, 0}, -1, "1" + "0" + "1"},
		// A large level: suffixLength 0, levelCode 2·20−2−2 = 36 ≥ 30:
		// prefix 15 (000000000000001) and 12-bit suffix 6.
		{"escape", append([]int32{20}, make([]int32, 15)...), 0, "000101" + "0000000000000001" + "000000000110" + "1"},
	} {
		var w bitWriter
		writeBlock(&w, c.coeffs, c.nC)
		assert.Equal(t, c.want, bitString(&w), c.name)
		var n bitWriter
		n.counting = true
		writeBlock(&n, c.coeffs, c.nC)
		assert.Equal(t, len(c.want), n.len(), c.name)
	}
}

func TestLevels(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		w, h     int
		shortest time.Duration
		want     string
	}{
		{176, 144, 100 * time.Millisecond, "1.0"},  // 99 MBs at 10 fps
		{176, 144, 33 * time.Millisecond, "1.1"},   // 3,000 MB/s
		{320, 240, 40 * time.Millisecond, "1.3"},   // 300 MBs × 25
		{352, 288, 30 * time.Millisecond, "2.1"},   // 396 MBs × 33
		{640, 400, 80 * time.Millisecond, "2.2"},   // 1,000 MBs
		{1280, 720, 20 * time.Millisecond, "3.2"},  // 3,600 MBs × 50
		{1920, 1080, 40 * time.Millisecond, "4.0"}, // 8,160 MBs × 25
		{3840, 2160, 40 * time.Millisecond, "5.1"}, // 32,400 MBs
		{8192, 4320, 40 * time.Millisecond, "6.0"},
		{1, 1, time.Second, "1.0"},
	} {
		l, ok := LowestLevel(c.w, c.h, c.shortest)
		require.True(t, ok, "%dx%d", c.w, c.h)
		assert.Equal(t, c.want, l.Name, "%dx%d every %v", c.w, c.h, c.shortest)
	}
	_, ok := LowestLevel(8192, 8192, time.Second) // 262,144 MBs: over every level
	assert.False(t, ok)
	l, _ := LevelByName("3.0")
	assert.Equal(t, 30, l.IDC)
	assert.ErrorContains(t, l.CheckSize(1280, 720), "macroblocks")
	assert.ErrorContains(t, l.CheckSize(16*120, 16), "side") // 120 MBs, but a side may have √(8·1620) = 113
	assert.NoError(t, l.CheckSize(16*113, 16))
	assert.NoError(t, l.CheckSize(720, 576))
	assert.ErrorContains(t, l.CheckRate(720, 576, 20*time.Millisecond), "macroblocks per second")
	assert.NoError(t, l.CheckRate(720, 576, 40*time.Millisecond))
	_, ok = LevelByName("1b")
	assert.False(t, ok)
}
