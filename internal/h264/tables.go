package h264

// The fixed tables of the standard (ITU-T H.264): CAVLC codes, scans,
// quantisation and scaling factors, level limits.

// vlc is one variable-length code: its length in bits and its value.
type vlc struct {
	len  uint8
	bits uint16
}

// parseCodes turns codes written as strings of 0 and 1 into vlc values.
func parseCodes(codes ...string) []vlc {
	out := make([]vlc, len(codes))
	for i, s := range codes {
		var v uint16
		for _, c := range s {
			v <<= 1
			if c == '1' {
				v |= 1
			}
		}
		out[i] = vlc{len: uint8(len(s)), bits: v}
	}
	return out
}

// coeffToken[t][totalCoeff][trailingOnes] is coeff_token (Table 9-5) for
// the table t chosen by nC: 0 ≤ nC < 2, 2 ≤ nC < 4, 4 ≤ nC < 8; nC ≥ 8 is
// a 6-bit fixed-length code (coeffTokenFLC) and nC = −1 (chroma DC, 4:2:0)
// is coeffTokenChromaDC.
var coeffToken [3][17][4]vlc

// coeffTokenChromaDC[totalCoeff][trailingOnes], nC = −1.
var coeffTokenChromaDC [5][4]vlc

// coeffTokenFLC is coeff_token for nC ≥ 8: xxxxyy with xxxx = TotalCoeff−1
// and yy = TrailingOnes, and 000011 for no coefficient.
func coeffTokenFLC(total, t1 int) vlc {
	if total == 0 {
		return vlc{len: 6, bits: 3}
	}
	return vlc{len: 6, bits: uint16((total-1)<<2 | t1)}
}

// Rows of Table 9-5, one per TotalCoeff, TrailingOnes 0 to min(3, TotalCoeff).
var coeffTokenRows = [3][17][]string{
	{ // 0 ≤ nC < 2
		{"1"},
		{"000101", "01"},
		{"00000111", "000100", "001"},
		{"000000111", "00000110", "0000101", "00011"},
		{"0000000111", "000000110", "00000101", "000011"},
		{"00000000111", "0000000110", "000000101", "0000100"},
		{"0000000001111", "00000000110", "0000000101", "00000100"},
		{"0000000001011", "0000000001110", "00000000101", "000000100"},
		{"0000000001000", "0000000001010", "0000000001101", "0000000100"},
		{"00000000001111", "00000000001110", "0000000001001", "00000000100"},
		{"00000000001011", "00000000001010", "00000000001101", "0000000001100"},
		{"000000000001111", "000000000001110", "00000000001001", "00000000001100"},
		{"000000000001011", "000000000001010", "000000000001101", "00000000001000"},
		{"0000000000001111", "000000000000001", "000000000001001", "000000000001100"},
		{"0000000000001011", "0000000000001110", "0000000000001101", "000000000001000"},
		{"0000000000000111", "0000000000001010", "0000000000001001", "0000000000001100"},
		{"0000000000000100", "0000000000000110", "0000000000000101", "0000000000001000"},
	},
	{ // 2 ≤ nC < 4
		{"11"},
		{"001011", "10"},
		{"000111", "00111", "011"},
		{"0000111", "001010", "001001", "0101"},
		{"00000111", "000110", "000101", "0100"},
		{"00000100", "0000110", "0000101", "00110"},
		{"000000111", "00000110", "00000101", "001000"},
		{"00000001111", "000000110", "000000101", "000100"},
		{"00000001011", "00000001110", "00000001101", "0000100"},
		{"000000001111", "00000001010", "00000001001", "000000100"},
		{"000000001011", "000000001110", "000000001101", "00000001100"},
		{"000000001000", "000000001010", "000000001001", "00000001000"},
		{"0000000001111", "0000000001110", "0000000001101", "000000001100"},
		{"0000000001011", "0000000001010", "0000000001001", "0000000001100"},
		{"0000000000111", "00000000001011", "0000000000110", "0000000001000"},
		{"00000000001001", "00000000001000", "00000000001010", "0000000000001"},
		{"00000000000111", "00000000000110", "00000000000101", "00000000000100"},
	},
	{ // 4 ≤ nC < 8
		{"1111"},
		{"001111", "1110"},
		{"001011", "01111", "1101"},
		{"001000", "01100", "01110", "1100"},
		{"0001111", "01010", "01011", "1011"},
		{"0001011", "01000", "01001", "1010"},
		{"0001001", "001110", "001101", "1001"},
		{"0001000", "001010", "001001", "1000"},
		{"00001111", "0001110", "0001101", "01101"},
		{"00001011", "00001110", "0001010", "001100"},
		{"000001111", "00001010", "00001101", "0001100"},
		{"000001011", "000001110", "00001001", "00001100"},
		{"000001000", "000001010", "000001101", "00001000"},
		{"0000001101", "000000111", "000001001", "000001100"},
		{"0000001001", "0000001100", "0000001011", "0000001010"},
		{"0000000101", "0000001000", "0000000111", "0000000110"},
		{"0000000001", "0000000100", "0000000011", "0000000010"},
	},
}

var coeffTokenChromaDCRows = [5][]string{
	{"01"},
	{"000111", "1"},
	{"000100", "000110", "001"},
	{"000011", "0000011", "0000010", "000101"},
	{"000010", "00000011", "00000010", "0000000"},
}

// totalZeros[totalCoeff][total_zeros] for 4×4 blocks (Tables 9-7, 9-8).
var totalZeros [16][]vlc

var totalZerosRows = [16][]string{
	1:  {"1", "011", "010", "0011", "0010", "00011", "00010", "000011", "000010", "0000011", "0000010", "00000011", "00000010", "000000011", "000000010", "000000001"},
	2:  {"111", "110", "101", "100", "011", "0101", "0100", "0011", "0010", "00011", "00010", "000011", "000010", "000001", "000000"},
	3:  {"0101", "111", "110", "101", "0100", "0011", "100", "011", "0010", "00011", "00010", "000001", "00001", "000000"},
	4:  {"00011", "111", "0101", "0100", "110", "101", "100", "0011", "011", "0010", "00010", "00001", "00000"},
	5:  {"0101", "0100", "0011", "111", "110", "101", "100", "011", "0010", "00001", "0001", "00000"},
	6:  {"000001", "00001", "111", "110", "101", "100", "011", "010", "0001", "001", "000000"},
	7:  {"000001", "00001", "101", "100", "011", "11", "010", "0001", "001", "000000"},
	8:  {"000001", "0001", "00001", "011", "11", "10", "010", "001", "000000"},
	9:  {"000001", "000000", "0001", "11", "10", "001", "01", "00001"},
	10: {"00001", "00000", "001", "11", "10", "01", "0001"},
	11: {"0000", "0001", "001", "010", "1", "011"},
	12: {"0000", "0001", "01", "1", "001"},
	13: {"000", "001", "1", "01"},
	14: {"00", "01", "1"},
	15: {"0", "1"},
}

// totalZerosChromaDC[totalCoeff][total_zeros] for 4:2:0 chroma DC (Table 9-9a).
var totalZerosChromaDC [4][]vlc

var totalZerosChromaDCRows = [4][]string{
	1: {"1", "01", "001", "000"},
	2: {"1", "01", "00"},
	3: {"1", "0"},
}

// runBefore[min(zerosLeft, 7)][run_before] (Table 9-10).
var runBefore [8][]vlc

var runBeforeRows = [8][]string{
	1: {"1", "0"},
	2: {"1", "01", "00"},
	3: {"11", "10", "01", "00"},
	4: {"11", "10", "01", "001", "000"},
	5: {"11", "10", "011", "010", "001", "000"},
	6: {"11", "000", "001", "011", "010", "101", "100"},
	7: {"111", "110", "101", "100", "011", "010", "001", "0001", "00001", "000001", "0000001", "00000001", "000000001", "0000000001", "00000000001"},
}

func init() {
	for t := range coeffTokenRows {
		for tc, row := range coeffTokenRows[t] {
			copy(coeffToken[t][tc][:], parseCodes(row...))
		}
	}
	for tc, row := range coeffTokenChromaDCRows {
		copy(coeffTokenChromaDC[tc][:], parseCodes(row...))
	}
	for tc, row := range totalZerosRows {
		totalZeros[tc] = parseCodes(row...)
	}
	for tc, row := range totalZerosChromaDCRows {
		totalZerosChromaDC[tc] = parseCodes(row...)
	}
	for z, row := range runBeforeRows {
		runBefore[z] = parseCodes(row...)
	}
}

// interCBPCode maps an inter macroblock's coded_block_pattern to the
// codeNum of its me(v) code (Table 9-4, ChromaArrayType 1); the inverse of
// the table's inter column.
var interCBPCode [48]uint8

var interCBPByCode = [48]uint8{
	0, 16, 1, 2, 4, 8, 32, 3, 5, 10, 12, 15, 47, 7, 11, 13,
	14, 6, 9, 31, 35, 37, 42, 44, 33, 34, 36, 40, 39, 43, 45, 46,
	17, 18, 20, 24, 19, 21, 26, 28, 23, 27, 29, 30, 22, 25, 38, 41,
}

// intraCBPCode is the same for Intra_4×4 macroblocks (the table's intra
// column).
var intraCBPCode [48]uint8

var intraCBPByCode = [48]uint8{
	47, 31, 15, 0, 23, 27, 29, 30, 7, 11, 13, 14, 39, 43, 45, 46,
	16, 3, 5, 10, 12, 19, 21, 26, 28, 35, 37, 42, 44, 1, 2, 4,
	8, 17, 18, 20, 24, 6, 9, 22, 25, 32, 33, 34, 36, 40, 38, 41,
}

func init() {
	for code, cbp := range interCBPByCode {
		interCBPCode[cbp] = uint8(code)
	}
	for code, cbp := range intraCBPByCode {
		intraCBPCode[cbp] = uint8(code)
	}
}

// zigzag[i] is the raster position (x + 4y) of the i-th coefficient of a
// 4×4 block in frame (zig-zag) scan order.
var zigzag = [16]uint8{0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15}

// blockXY[i] is the position, in 4×4 blocks, of luma4x4BlkIdx i inside its
// macroblock: 8×8 quadrants in raster order, 4×4 blocks in raster order
// inside each.
var blockXY = [16][2]uint8{
	{0, 0}, {1, 0}, {0, 1}, {1, 1},
	{2, 0}, {3, 0}, {2, 1}, {3, 1},
	{0, 2}, {1, 2}, {0, 3}, {1, 3},
	{2, 2}, {3, 2}, {2, 3}, {3, 3},
}

// posClass is the class of a raster position in a 4×4 block for the
// quantisation tables: 0 for (even, even), 1 for (odd, odd), 2 otherwise.
var posClass = [16]uint8{
	0, 2, 0, 2,
	2, 1, 2, 1,
	0, 2, 0, 2,
	2, 1, 2, 1,
}

// quantMF[qp%6][class] are the forward quantisation multipliers.
var quantMF = [6][3]int32{
	{13107, 5243, 8066},
	{11916, 4660, 7490},
	{10082, 4194, 6554},
	{9362, 3647, 5825},
	{8192, 3355, 5243},
	{7282, 2893, 4559},
}

// dequantV[qp%6][class] are the scaling factors of the inverse
// quantisation (normAdjust4x4 with flat weights).
var dequantV = [6][3]int32{
	{10, 16, 13},
	{11, 18, 14},
	{13, 20, 16},
	{14, 23, 18},
	{16, 25, 20},
	{18, 29, 23},
}

// chromaQP maps the luma QP (with chroma_qp_index_offset 0) to QPc (Table 8-15).
func chromaQP(qp int) int {
	if qp < 30 {
		return qp
	}
	return [...]int{29, 30, 31, 32, 32, 33, 34, 34, 35, 35, 36, 36, 37, 37, 37, 38, 38, 38, 39, 39, 39, 39}[qp-30]
}
