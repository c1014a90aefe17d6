//go:build amd64 && !purego

#include "textflag.h"

// fdctQuant of fdct.go in SSE2, with the same float32 operations in the
// same order on four blocks' worth of lanes, so every coefficient is
// bit-identical: rows of the block are transposed (as 16-bit integers,
// exactly) so that the row pass runs on four rows at once, the row-pass
// results are transposed back (moves only) for the column pass, then each
// coefficient is multiplied by its reciprocal and rounded to the integer
// fdctQuantGo's formula gives (see QUANT); the four exact coefficients are
// divided as there. The zig-zag reordering and the mask follow.

// TRANSPOSE transposes the 8×8 16-bit matrix whose rows are X0…X7; the
// columns end up in X0, X12, X1, X13, X8, X14, X3, X15.
#define TRANSPOSE \
	MOVO X0, X8; PUNPCKLWL X1, X0; PUNPCKHWL X1, X8; \
	MOVO X2, X9; PUNPCKLWL X3, X2; PUNPCKHWL X3, X9; \
	MOVO X4, X10; PUNPCKLWL X5, X4; PUNPCKHWL X5, X10; \
	MOVO X6, X11; PUNPCKLWL X7, X6; PUNPCKHWL X7, X11; \
	MOVO X0, X1; PUNPCKLLQ X2, X0; PUNPCKHLQ X2, X1; \
	MOVO X8, X3; PUNPCKLLQ X9, X8; PUNPCKHLQ X9, X3; \
	MOVO X4, X5; PUNPCKLLQ X6, X4; PUNPCKHLQ X6, X5; \
	MOVO X10, X7; PUNPCKLLQ X11, X10; PUNPCKHLQ X11, X7; \
	MOVO X0, X12; PUNPCKLQDQ X4, X0; PUNPCKHQDQ X4, X12; \
	MOVO X1, X13; PUNPCKLQDQ X5, X1; PUNPCKHQDQ X5, X13; \
	MOVO X8, X14; PUNPCKLQDQ X10, X8; PUNPCKHQDQ X10, X14; \
	MOVO X3, X15; PUNPCKLQDQ X7, X3; PUNPCKHQDQ X7, X15

// DCT8 is dct8 of fdct.go on the four lanes of X0…X7 (d0…d7). Outputs:
// o0 X6, o1 X12, o2 X7, o3 X0, o4 X4, o5 X11, o6 X8, o7 X10; X1, X2, X3,
// X5, X9 clobbered.
#define DCT8 \
	MOVAPS X0, X8; ADDPS X7, X8; SUBPS X7, X0; \
	MOVAPS X1, X9; ADDPS X6, X9; SUBPS X6, X1; \
	MOVAPS X2, X10; ADDPS X5, X10; SUBPS X5, X2; \
	MOVAPS X3, X11; ADDPS X4, X11; SUBPS X4, X3; \
	MOVAPS X8, X4; ADDPS X11, X4; SUBPS X11, X8; \
	MOVAPS X9, X5; ADDPS X10, X5; SUBPS X10, X9; \
	MOVAPS X4, X6; ADDPS X5, X6; SUBPS X5, X4; \
	ADDPS X8, X9; MULPS fdct_c4<>(SB), X9; \
	MOVAPS X8, X7; ADDPS X9, X7; SUBPS X9, X8; \
	MOVAPS X3, X5; ADDPS X2, X5; \
	ADDPS X1, X2; \
	ADDPS X0, X1; \
	MOVAPS X5, X9; SUBPS X1, X9; MULPS fdct_c6<>(SB), X9; \
	MULPS fdct_c2m<>(SB), X5; ADDPS X9, X5; \
	MULPS fdct_c2p<>(SB), X1; ADDPS X9, X1; \
	MULPS fdct_c4<>(SB), X2; \
	MOVAPS X0, X10; ADDPS X2, X10; SUBPS X2, X0; \
	MOVAPS X0, X11; ADDPS X5, X11; SUBPS X5, X0; \
	MOVAPS X10, X12; ADDPS X1, X12; SUBPS X1, X10

// T4 transposes the 4×4 matrix of 32-bit lanes whose rows are A, B, C, D
// in place; T and U are clobbered.
#define T4(A, B, C, D, T, U) \
	MOVO A, T; PUNPCKLLQ B, A; PUNPCKHLQ B, T; \
	MOVO C, U; PUNPCKLLQ D, C; PUNPCKHLQ D, U; \
	MOVO A, B; PUNPCKLQDQ C, A; PUNPCKHQDQ C, B; \
	MOVO T, C; PUNPCKLQDQ U, C; PUNPCKHQDQ U, T; \
	MOVO T, D

// ROWS loads the transposed 16-bit block at 0(SP) (row k = column k of
// the samples), widens lanes 0…3 (UNPK = PUNPCKLWL) or 4…7 (PUNPCKHWL) to
// float32 in X0…X7, runs the row pass on those four sample rows and stores
// output u at OFF+32·u(SP).
#define ROWS(UNPK, OFF) \
	PXOR X15, X15; \
	MOVOU 0(SP), X0; UNPK X15, X0; CVTPL2PS X0, X0; \
	MOVOU 16(SP), X1; UNPK X15, X1; CVTPL2PS X1, X1; \
	MOVOU 32(SP), X2; UNPK X15, X2; CVTPL2PS X2, X2; \
	MOVOU 48(SP), X3; UNPK X15, X3; CVTPL2PS X3, X3; \
	MOVOU 64(SP), X4; UNPK X15, X4; CVTPL2PS X4, X4; \
	MOVOU 80(SP), X5; UNPK X15, X5; CVTPL2PS X5, X5; \
	MOVOU 96(SP), X6; UNPK X15, X6; CVTPL2PS X6, X6; \
	MOVOU 112(SP), X7; UNPK X15, X7; CVTPL2PS X7, X7; \
	DCT8; \
	MOVUPS X6, (OFF+0)(SP); MOVUPS X12, (OFF+32)(SP); \
	MOVUPS X7, (OFF+64)(SP); MOVUPS X0, (OFF+96)(SP); \
	MOVUPS X4, (OFF+128)(SP); MOVUPS X11, (OFF+160)(SP); \
	MOVUPS X8, (OFF+192)(SP); MOVUPS X10, (OFF+224)(SP)

// COLS runs the column pass for columns U0…U0+3: it loads their row-pass
// results from 128(SP)…, transposes them so that lane j is column U0+j,
// transforms, and leaves output row v in the registers DCT8 names.
#define COLS(U0) \
	MOVUPS (128+U0*32+0)(SP), X0; MOVUPS (128+U0*32+32)(SP), X1; \
	MOVUPS (128+U0*32+64)(SP), X2; MOVUPS (128+U0*32+96)(SP), X3; \
	T4(X0, X1, X2, X3, X8, X9); \
	MOVUPS (128+U0*32+16)(SP), X4; MOVUPS (128+U0*32+48)(SP), X5; \
	MOVUPS (128+U0*32+80)(SP), X6; MOVUPS (128+U0*32+112)(SP), X7; \
	T4(X4, X5, X6, X7, X8, X9); \
	DCT8

// QUANT quantises the four coefficients of row V, columns U0…U0+3, in R
// with the reciprocals at (BX) and stores them at 2·(8·V+U0)(SP): with
// p = x·r (float32), fdctQuantGo's int32(float64(p) + 4096.5) − 4096 is
// floor(p + 0.5) exactly while |p| < 4096, which holds for every block
// (|coefficient| ≤ 2048 for 8-bit samples, q ≥ 1). Here: n = p rounded to
// nearest, ties to even (CVTPS2PL); p − n is exact, and where it is +0.5
// (a tie that went down) n + 1. X13, X14, X15 are clobbered.
#define QUANT(R, V, U0) \
	MOVUPS ((8*V+U0)*4)(BX), X13; MULPS R, X13; \
	CVTPS2PL X13, X14; CVTPL2PS X14, X15; SUBPS X15, X13; \
	PCMPEQL fdct_halfv<>(SB), X13; PSUBL X13, X14; \
	PACKSSLW X14, X14; MOVQ X14, ((8*V+U0)*2)(SP)

// EXACT redoes coefficient N (natural order) from the float at OFF(SP):
// x / (8·q[N]) rounded half away from zero, into 2·N(SP).
#define EXACT(N, OFF) \
	MOVSS OFF(SP), X0; MOVBLZX N(DX), AX; CVTSL2SS AX, X1; \
	MULSS fdct_eight<>(SB), X1; DIVSS X1, X0; \
	MOVSS fdct_half<>(SB), X1; MOVSS fdct_sign<>(SB), X2; ANDPS X0, X2; ORPS X2, X1; \
	ADDSS X1, X0; CVTTSS2SL X0, AX; MOVW AX, (2*N)(SP)

// func fdctQuantSIMD(src *byte, stride int, q *[64]uint8, recip *[64]float32, dst *[64]int16) uint64
// Frame: 0…127 the transposed samples, later the quantised coefficients
// in natural order; 128…383 the row-pass results, output u of row y at
// 128+32u+4y; 384…399 the four exact coefficients before division.
TEXT ·fdctQuantSIMD(SB), NOSPLIT, $400-48
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), CX
	MOVQ q+16(FP), DX
	MOVQ recip+24(FP), BX
	MOVQ dst+32(FP), DI

	// The samples, widened to 16 bits and transposed.
	PXOR X15, X15
	MOVQ (SI), X0
	MOVQ (SI)(CX*1), X1
	LEAQ (SI)(CX*2), SI
	MOVQ (SI), X2
	MOVQ (SI)(CX*1), X3
	LEAQ (SI)(CX*2), SI
	MOVQ (SI), X4
	MOVQ (SI)(CX*1), X5
	LEAQ (SI)(CX*2), SI
	MOVQ (SI), X6
	MOVQ (SI)(CX*1), X7
	PUNPCKLBW X15, X0
	PUNPCKLBW X15, X1
	PUNPCKLBW X15, X2
	PUNPCKLBW X15, X3
	PUNPCKLBW X15, X4
	PUNPCKLBW X15, X5
	PUNPCKLBW X15, X6
	PUNPCKLBW X15, X7
	TRANSPOSE
	MOVOU X0, 0(SP)
	MOVOU X12, 16(SP)
	MOVOU X1, 32(SP)
	MOVOU X13, 48(SP)
	MOVOU X8, 64(SP)
	MOVOU X14, 80(SP)
	MOVOU X3, 96(SP)
	MOVOU X15, 112(SP)

	// Row pass, rows 0…3 then 4…7.
	ROWS(PUNPCKLWL, 128)
	ROWS(PUNPCKHWL, 144)

	// Column pass and quantisation, columns 0…3 then 4…7.
	COLS(0)
	SUBPS fdct_shift<>(SB), X6
	MOVSS X6, 384(SP) // coefficient 0
	MOVSS X4, 388(SP) // coefficient 32
	QUANT(X6, 0, 0)
	QUANT(X12, 1, 0)
	QUANT(X7, 2, 0)
	QUANT(X0, 3, 0)
	QUANT(X4, 4, 0)
	QUANT(X11, 5, 0)
	QUANT(X8, 6, 0)
	QUANT(X10, 7, 0)
	COLS(4)
	MOVSS X6, 392(SP) // coefficient 4
	MOVSS X4, 396(SP) // coefficient 36
	QUANT(X6, 0, 4)
	QUANT(X12, 1, 4)
	QUANT(X7, 2, 4)
	QUANT(X0, 3, 4)
	QUANT(X4, 4, 4)
	QUANT(X11, 5, 4)
	QUANT(X8, 6, 4)
	QUANT(X10, 7, 4)
	EXACT(0, 384)
	EXACT(32, 388)
	EXACT(4, 392)
	EXACT(36, 396)

	// Zig-zag order.
	MOVWLZX 0(SP), AX; MOVW AX, 0(DI)
	MOVWLZX 2(SP), AX; MOVW AX, 2(DI)
	MOVWLZX 16(SP), AX; MOVW AX, 4(DI)
	MOVWLZX 32(SP), AX; MOVW AX, 6(DI)
	MOVWLZX 18(SP), AX; MOVW AX, 8(DI)
	MOVWLZX 4(SP), AX; MOVW AX, 10(DI)
	MOVWLZX 6(SP), AX; MOVW AX, 12(DI)
	MOVWLZX 20(SP), AX; MOVW AX, 14(DI)
	MOVWLZX 34(SP), AX; MOVW AX, 16(DI)
	MOVWLZX 48(SP), AX; MOVW AX, 18(DI)
	MOVWLZX 64(SP), AX; MOVW AX, 20(DI)
	MOVWLZX 50(SP), AX; MOVW AX, 22(DI)
	MOVWLZX 36(SP), AX; MOVW AX, 24(DI)
	MOVWLZX 22(SP), AX; MOVW AX, 26(DI)
	MOVWLZX 8(SP), AX; MOVW AX, 28(DI)
	MOVWLZX 10(SP), AX; MOVW AX, 30(DI)
	MOVWLZX 24(SP), AX; MOVW AX, 32(DI)
	MOVWLZX 38(SP), AX; MOVW AX, 34(DI)
	MOVWLZX 52(SP), AX; MOVW AX, 36(DI)
	MOVWLZX 66(SP), AX; MOVW AX, 38(DI)
	MOVWLZX 80(SP), AX; MOVW AX, 40(DI)
	MOVWLZX 96(SP), AX; MOVW AX, 42(DI)
	MOVWLZX 82(SP), AX; MOVW AX, 44(DI)
	MOVWLZX 68(SP), AX; MOVW AX, 46(DI)
	MOVWLZX 54(SP), AX; MOVW AX, 48(DI)
	MOVWLZX 40(SP), AX; MOVW AX, 50(DI)
	MOVWLZX 26(SP), AX; MOVW AX, 52(DI)
	MOVWLZX 12(SP), AX; MOVW AX, 54(DI)
	MOVWLZX 14(SP), AX; MOVW AX, 56(DI)
	MOVWLZX 28(SP), AX; MOVW AX, 58(DI)
	MOVWLZX 42(SP), AX; MOVW AX, 60(DI)
	MOVWLZX 56(SP), AX; MOVW AX, 62(DI)
	MOVWLZX 70(SP), AX; MOVW AX, 64(DI)
	MOVWLZX 84(SP), AX; MOVW AX, 66(DI)
	MOVWLZX 98(SP), AX; MOVW AX, 68(DI)
	MOVWLZX 112(SP), AX; MOVW AX, 70(DI)
	MOVWLZX 114(SP), AX; MOVW AX, 72(DI)
	MOVWLZX 100(SP), AX; MOVW AX, 74(DI)
	MOVWLZX 86(SP), AX; MOVW AX, 76(DI)
	MOVWLZX 72(SP), AX; MOVW AX, 78(DI)
	MOVWLZX 58(SP), AX; MOVW AX, 80(DI)
	MOVWLZX 44(SP), AX; MOVW AX, 82(DI)
	MOVWLZX 30(SP), AX; MOVW AX, 84(DI)
	MOVWLZX 46(SP), AX; MOVW AX, 86(DI)
	MOVWLZX 60(SP), AX; MOVW AX, 88(DI)
	MOVWLZX 74(SP), AX; MOVW AX, 90(DI)
	MOVWLZX 88(SP), AX; MOVW AX, 92(DI)
	MOVWLZX 102(SP), AX; MOVW AX, 94(DI)
	MOVWLZX 116(SP), AX; MOVW AX, 96(DI)
	MOVWLZX 118(SP), AX; MOVW AX, 98(DI)
	MOVWLZX 104(SP), AX; MOVW AX, 100(DI)
	MOVWLZX 90(SP), AX; MOVW AX, 102(DI)
	MOVWLZX 76(SP), AX; MOVW AX, 104(DI)
	MOVWLZX 62(SP), AX; MOVW AX, 106(DI)
	MOVWLZX 78(SP), AX; MOVW AX, 108(DI)
	MOVWLZX 92(SP), AX; MOVW AX, 110(DI)
	MOVWLZX 106(SP), AX; MOVW AX, 112(DI)
	MOVWLZX 120(SP), AX; MOVW AX, 114(DI)
	MOVWLZX 122(SP), AX; MOVW AX, 116(DI)
	MOVWLZX 108(SP), AX; MOVW AX, 118(DI)
	MOVWLZX 94(SP), AX; MOVW AX, 120(DI)
	MOVWLZX 110(SP), AX; MOVW AX, 122(DI)
	MOVWLZX 124(SP), AX; MOVW AX, 124(DI)
	MOVWLZX 126(SP), AX; MOVW AX, 126(DI)

	// The mask of nonzero coefficients.
	PXOR X15, X15
	MOVOU 0(DI), X0
	MOVOU 16(DI), X1
	MOVOU 32(DI), X2
	MOVOU 48(DI), X3
	MOVOU 64(DI), X4
	MOVOU 80(DI), X5
	MOVOU 96(DI), X6
	MOVOU 112(DI), X7
	PCMPEQW X15, X0
	PCMPEQW X15, X1
	PCMPEQW X15, X2
	PCMPEQW X15, X3
	PCMPEQW X15, X4
	PCMPEQW X15, X5
	PCMPEQW X15, X6
	PCMPEQW X15, X7
	PACKSSWB X1, X0
	PACKSSWB X3, X2
	PACKSSWB X5, X4
	PACKSSWB X7, X6
	PMOVMSKB X0, AX
	PMOVMSKB X2, BX
	PMOVMSKB X4, CX
	PMOVMSKB X6, DX
	SHLQ $16, BX
	ORQ  BX, AX
	SHLQ $32, CX
	ORQ  CX, AX
	SHLQ $48, DX
	ORQ  DX, AX
	NOTQ AX
	MOVQ AX, ret+40(FP)
	RET

// cos(4π/16), cos(6π/16), cos(6π/16)·√2 and cos(2π/16)·√2 rounded to
// float32 as fdct.go's constants are, four times each.
DATA fdct_c4<>+0(SB)/4, $0x3f3504f3
DATA fdct_c4<>+4(SB)/4, $0x3f3504f3
DATA fdct_c4<>+8(SB)/4, $0x3f3504f3
DATA fdct_c4<>+12(SB)/4, $0x3f3504f3
GLOBL fdct_c4<>(SB), RODATA|NOPTR, $16
DATA fdct_c6<>+0(SB)/4, $0x3ec3ef15
DATA fdct_c6<>+4(SB)/4, $0x3ec3ef15
DATA fdct_c6<>+8(SB)/4, $0x3ec3ef15
DATA fdct_c6<>+12(SB)/4, $0x3ec3ef15
GLOBL fdct_c6<>(SB), RODATA|NOPTR, $16
DATA fdct_c2m<>+0(SB)/4, $0x3f0a8bd4
DATA fdct_c2m<>+4(SB)/4, $0x3f0a8bd4
DATA fdct_c2m<>+8(SB)/4, $0x3f0a8bd4
DATA fdct_c2m<>+12(SB)/4, $0x3f0a8bd4
GLOBL fdct_c2m<>(SB), RODATA|NOPTR, $16
DATA fdct_c2p<>+0(SB)/4, $0x3fa73d75
DATA fdct_c2p<>+4(SB)/4, $0x3fa73d75
DATA fdct_c2p<>+8(SB)/4, $0x3fa73d75
DATA fdct_c2p<>+12(SB)/4, $0x3fa73d75
GLOBL fdct_c2p<>(SB), RODATA|NOPTR, $16
// The level shift of the DC term: 64·128 in lane 0.
DATA fdct_shift<>+0(SB)/4, $0x46000000
DATA fdct_shift<>+4(SB)/4, $0
DATA fdct_shift<>+8(SB)/4, $0
DATA fdct_shift<>+12(SB)/4, $0
GLOBL fdct_shift<>(SB), RODATA|NOPTR, $16
// 0.5 (float32) four times.
DATA fdct_halfv<>+0(SB)/4, $0x3f000000
DATA fdct_halfv<>+4(SB)/4, $0x3f000000
DATA fdct_halfv<>+8(SB)/4, $0x3f000000
DATA fdct_halfv<>+12(SB)/4, $0x3f000000
GLOBL fdct_halfv<>(SB), RODATA|NOPTR, $16
// 8, 0.5 and the float32 sign bit for the exact coefficients.
DATA fdct_eight<>+0(SB)/4, $0x41000000
GLOBL fdct_eight<>(SB), RODATA|NOPTR, $4
DATA fdct_half<>+0(SB)/4, $0x3f000000
GLOBL fdct_half<>(SB), RODATA|NOPTR, $4
DATA fdct_sign<>+0(SB)/4, $0x80000000
GLOBL fdct_sign<>(SB), RODATA|NOPTR, $4
