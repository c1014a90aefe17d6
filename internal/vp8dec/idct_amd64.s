//go:build amd64 && !purego

#include "textflag.h"

// The work area's stride (bps in recon.go).
#define BPS 32

// mul1(x) = x + (x*20091)>>16 and mul2(x) = (x*35468)>>16 on 16-bit
// lanes: PMULHW gives the floored high half of a signed product, and
// 35468 as a signed word is 35468-65536, so PMULHW(x, 35468) + x is
// (x*35468)>>16 exactly. K1 is in X14, K2 in X15.
#define MUL1(src, dst) MOVO src, dst; PMULHW X14, dst; PADDW src, dst
#define MUL2(src, dst) MOVO src, dst; PMULHW X15, dst; PADDW src, dst

// func idctAddSSE2(c *[16]int16, dst *byte)
//
// The transform of vp8.IDCTAdd on 16-bit lanes, four lanes at a time: the
// vertical pass works on the rows of c as vectors, a transpose turns the
// result's columns into vectors for the horizontal pass, a second one
// gives the pixel rows back. The caller makes sure every coefficient is
// within ±2047, so that no intermediate leaves int16 and the results are
// those of the 32-bit Go code.
TEXT ·idctAddSSE2(SB), NOSPLIT, $0-16
	MOVQ c+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVL $20091, AX
	MOVQ AX, X14
	PSHUFLW $0, X14, X14
	MOVL $35468, AX
	MOVQ AX, X15
	PSHUFLW $0, X15, X15

	MOVQ 0(SI), X0             // c[0:4]
	MOVQ 8(SI), X1             // c[4:8]
	MOVQ 16(SI), X2            // c[8:12]
	MOVQ 24(SI), X3            // c[12:16]

	// Vertical pass, one lane per column.
	MOVO X0, X4
	PADDW X2, X4               // a = i0 + i8
	MOVO X0, X5
	PSUBW X2, X5               // b = i0 - i8
	MUL1(X1, X6)
	MUL2(X1, X7)
	MUL1(X3, X8)
	MUL2(X3, X9)
	PSUBW X8, X7               // c = mul2(i4) - mul1(i12)
	PADDW X9, X6               // d = mul1(i4) + mul2(i12)
	MOVO X4, X0
	PADDW X6, X0               // t[0:4] = a + d
	PSUBW X6, X4               // t[12:16] = a - d
	MOVO X5, X1
	PADDW X7, X1               // t[4:8] = b + c
	PSUBW X7, X5               // t[8:12] = b - c

	// Transpose: X0 = t column 0 | column 1, X6 = column 2 | column 3.
	PUNPCKLWL X1, X0
	PUNPCKLWL X4, X5
	MOVO X0, X6
	PUNPCKLLQ X5, X0
	PUNPCKHLQ X5, X6
	MOVO X0, X1
	PUNPCKHQDQ X1, X1          // i1 of every row
	MOVO X6, X3
	PUNPCKHQDQ X3, X3          // i3
	MOVL $4, AX
	MOVQ AX, X2
	PSHUFLW $0, X2, X2
	PADDW X2, X0               // i0 + 4

	// Horizontal pass, one lane per row.
	MOVO X0, X4
	PADDW X6, X4               // a = i0 + i2
	MOVO X0, X5
	PSUBW X6, X5               // b = i0 - i2
	MUL1(X1, X6)
	MUL2(X1, X7)
	MUL1(X3, X8)
	MUL2(X3, X9)
	PSUBW X8, X7               // c
	PADDW X9, X6               // d
	MOVO X4, X0
	PADDW X6, X0               // column 0: a + d
	PSUBW X6, X4               // column 3: a - d
	MOVO X5, X1
	PADDW X7, X1               // column 1: b + c
	PSUBW X7, X5               // column 2: b - c
	PSRAW $3, X0
	PSRAW $3, X1
	PSRAW $3, X5
	PSRAW $3, X4

	// Transpose back: X0 = rows 0 | 1, X6 = rows 2 | 3.
	PUNPCKLWL X1, X0
	PUNPCKLWL X4, X5
	MOVO X0, X6
	PUNPCKLLQ X5, X0
	PUNPCKHLQ X5, X6

	// Add to the pixels, two rows at a time; PACKUSWB clamps to 0..255.
	PXOR X13, X13
	MOVL 0(DI), X8
	MOVL BPS(DI), X9
	PUNPCKLLQ X9, X8
	PUNPCKLBW X13, X8
	PADDW X0, X8
	PACKUSWB X8, X8
	MOVL X8, 0(DI)
	PSRLQ $32, X8
	MOVL X8, BPS(DI)
	MOVL (2*BPS)(DI), X8
	MOVL (3*BPS)(DI), X9
	PUNPCKLLQ X9, X8
	PUNPCKLBW X13, X8
	PADDW X6, X8
	PACKUSWB X8, X8
	MOVL X8, (2*BPS)(DI)
	PSRLQ $32, X8
	MOVL X8, (3*BPS)(DI)
	RET

// func dcAddSSE2(v int32, dst *byte)
//
// Adds v (|v| < 4096) to the 4×4 pixels at dst, clamping to 0..255.
TEXT ·dcAddSSE2(SB), NOSPLIT, $0-16
	MOVL v+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ AX, X0
	PSHUFLW $0, X0, X0
	PUNPCKLQDQ X0, X0
	PXOR X13, X13
	MOVL 0(DI), X8
	MOVL BPS(DI), X9
	PUNPCKLLQ X9, X8
	PUNPCKLBW X13, X8
	PADDW X0, X8
	PACKUSWB X8, X8
	MOVL X8, 0(DI)
	PSRLQ $32, X8
	MOVL X8, BPS(DI)
	MOVL (2*BPS)(DI), X8
	MOVL (3*BPS)(DI), X9
	PUNPCKLLQ X9, X8
	PUNPCKLBW X13, X8
	PADDW X0, X8
	PACKUSWB X8, X8
	MOVL X8, (2*BPS)(DI)
	PSRLQ $32, X8
	MOVL X8, (3*BPS)(DI)
	RET
