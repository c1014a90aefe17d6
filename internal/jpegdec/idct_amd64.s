//go:build amd64 && !purego

#include "textflag.h"

// The full-size inverse DCT of idct.go in SSE2. Each pass of idct8 is, for
// every output, an integer linear combination of the eight inputs with the
// fixed-point cosines (the rotations only reorder the products), plus the
// rounding term, shifted right arithmetically. PMADDWL multiplies 16-bit
// pairs of inputs by 16-bit pairs of constants and adds them into 32 bits,
// so with inputs that fit in 16 bits every sum is exact: at most
// 2^15 · 43284 (the largest sum of |constants| of an output) + bias2 < 2^31.
// The column pass is done on eight columns at once (the rows of the block
// are the vectors), the block is transposed, and the row pass is done the
// same way. The coefficients and the column-pass results are packed to 16
// bits with signed saturation; the function returns false, having written
// nothing, when any packed value is −32768 or 32767 (so when one did not
// fit, and in the harmless case that one was exactly a limit); idct8 then
// runs the Go code, so the results are always those of the Go code.

// VPASS computes the eight outputs of one 1-D pass for four lanes, from
// the eight 16-bit rows at 0(SP)…112(SP): UNPK is PUNPCKLWL for lanes 0…3
// and PUNPCKHWL for lanes 4…7. Outputs (32-bit) in X0…X7; X8…X15 are
// clobbered.
#define VPASS(UNPK, RND, SH) \
	MOVOU 0(SP), X8; MOVOU 64(SP), X12; UNPK X12, X8; \
	MOVOU 32(SP), X9; MOVOU 96(SP), X12; UNPK X12, X9; \
	MOVOU 16(SP), X10; MOVOU 112(SP), X12; UNPK X12, X10; \
	MOVOU 48(SP), X11; MOVOU 80(SP), X12; UNPK X12, X11; \
	MOVO X8, X0; PMADDWL idct_c44<>(SB), X0; PADDL RND, X0; \
	MOVO X8, X1; PMADDWL idct_c4m4<>(SB), X1; PADDL RND, X1; \
	MOVO X9, X2; PMADDWL idct_c26<>(SB), X2; \
	MOVO X9, X3; PMADDWL idct_c6m2<>(SB), X3; \
	MOVO X0, X12; PADDL X2, X0; PSUBL X2, X12; \
	MOVO X1, X13; PADDL X3, X1; PSUBL X3, X13; \
	MOVO X10, X14; PMADDWL idct_c17o0<>(SB), X14; MOVO X11, X15; PMADDWL idct_c35o0<>(SB), X15; PADDL X15, X14; \
	MOVO X0, X7; PSUBL X14, X7; PADDL X14, X0; \
	MOVO X10, X14; PMADDWL idct_c17o1<>(SB), X14; MOVO X11, X15; PMADDWL idct_c35o1<>(SB), X15; PADDL X15, X14; \
	MOVO X1, X6; PSUBL X14, X6; PADDL X14, X1; \
	MOVO X10, X14; PMADDWL idct_c17o2<>(SB), X14; MOVO X11, X15; PMADDWL idct_c35o2<>(SB), X15; PADDL X15, X14; \
	MOVO X13, X2; PADDL X14, X2; MOVO X13, X5; PSUBL X14, X5; \
	MOVO X10, X14; PMADDWL idct_c17o3<>(SB), X14; MOVO X11, X15; PMADDWL idct_c35o3<>(SB), X15; PADDL X15, X14; \
	MOVO X12, X3; PADDL X14, X3; MOVO X12, X4; PSUBL X14, X4; \
	PSRAL $SH, X0; PSRAL $SH, X1; PSRAL $SH, X2; PSRAL $SH, X3; \
	PSRAL $SH, X4; PSRAL $SH, X5; PSRAL $SH, X6; PSRAL $SH, X7

// SAT folds the 16-bit lanes of R into the running maximum MAX and
// minimum MIN (both start at zero).
#define SAT(R, MAX, MIN) PMAXSW R, MAX; PMINSW R, MIN

// SATCHECK jumps to FAIL when MAX has a lane 32767 or MIN one −32768: a
// value that PACKSSLW saturated (or one that was exactly the limit).
#define SATCHECK(MAX, MIN, FAIL) \
	PCMPEQW idct_max16<>(SB), MAX; PCMPEQW idct_min16<>(SB), MIN; POR MIN, MAX; \
	PMOVMSKB MAX, AX; TESTL AX, AX; JNE FAIL

// PACKTMP packs the 32-bit lanes 0…3 saved at 128(SP)… (low) and those in
// X0…X7 (high) into eight 16-bit rows in X0…X7.
#define PACKTMP \
	MOVOU 128(SP), X8; PACKSSLW X0, X8; MOVO X8, X0; \
	MOVOU 144(SP), X8; PACKSSLW X1, X8; MOVO X8, X1; \
	MOVOU 160(SP), X8; PACKSSLW X2, X8; MOVO X8, X2; \
	MOVOU 176(SP), X8; PACKSSLW X3, X8; MOVO X8, X3; \
	MOVOU 192(SP), X8; PACKSSLW X4, X8; MOVO X8, X4; \
	MOVOU 208(SP), X8; PACKSSLW X5, X8; MOVO X8, X5; \
	MOVOU 224(SP), X8; PACKSSLW X6, X8; MOVO X8, X6; \
	MOVOU 240(SP), X8; PACKSSLW X7, X8; MOVO X8, X7

// SAVETMP saves X0…X7 at 128(SP)….
#define SAVETMP \
	MOVOU X0, 128(SP); MOVOU X1, 144(SP); MOVOU X2, 160(SP); MOVOU X3, 176(SP); \
	MOVOU X4, 192(SP); MOVOU X5, 208(SP); MOVOU X6, 224(SP); MOVOU X7, 240(SP)

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

// LOADROW loads row K of the coefficients (32-bit), packs it to 16 bits
// at 16·K(SP), folds it into the saturation check (X8, X9) and ORs its
// columns 4…7 into X10.
#define LOADROW(K) \
	MOVOU (K*32)(SI), X0; MOVOU (K*32+16)(SI), X1; POR X1, X10; \
	PACKSSLW X1, X0; SAT(X0, X8, X9); MOVOU X0, (K*16)(SP)

// LPASS is VPASS for inputs 4…7 zero, from the pairs (x0, x2) in A and
// (x1, x3) in B: every even part takes one product pair, every odd part
// one. Outputs (32-bit) in X0…X7; X12…X15 are clobbered.
#define LPASS(A, B, RND, SH) \
	MOVO A, X12; PMADDWL idct_l42<>(SB), X12; PADDL RND, X12; \
	MOVO A, X13; PMADDWL idct_l46<>(SB), X13; PADDL RND, X13; \
	MOVO A, X14; PMADDWL idct_l4m6<>(SB), X14; PADDL RND, X14; \
	MOVO A, X15; PMADDWL idct_l4m2<>(SB), X15; PADDL RND, X15; \
	MOVO B, X0; PMADDWL idct_l13o0<>(SB), X0; MOVO X12, X7; PSUBL X0, X7; PADDL X12, X0; \
	MOVO B, X1; PMADDWL idct_l13o1<>(SB), X1; MOVO X13, X6; PSUBL X1, X6; PADDL X13, X1; \
	MOVO B, X2; PMADDWL idct_l13o2<>(SB), X2; MOVO X14, X5; PSUBL X2, X5; PADDL X14, X2; \
	MOVO B, X3; PMADDWL idct_l13o3<>(SB), X3; MOVO X15, X4; PSUBL X3, X4; PADDL X15, X3; \
	PSRAL $SH, X0; PSRAL $SH, X1; PSRAL $SH, X2; PSRAL $SH, X3; \
	PSRAL $SH, X4; PSRAL $SH, X5; PSRAL $SH, X6; PSRAL $SH, X7

// ROWPAIRS turns the 32-bit rows R0…R3 (four values w0…w3 each, known to
// fit in 16 bits) into the pairs (w0, w2) of the four rows in A and
// (w1, w3) in B, for LPASS. R0 and R2 are clobbered.
#define ROWPAIRS(R0, R1, R2, R3, A, B) \
	PACKSSLW R1, R0; PSHUFLW $0xd8, R0, R0; PSHUFHW $0xd8, R0, R0; PSHUFD $0xd8, R0, R0; \
	PACKSSLW R3, R2; PSHUFLW $0xd8, R2, R2; PSHUFHW $0xd8, R2, R2; PSHUFD $0xd8, R2, R2; \
	MOVO R0, A; PUNPCKLQDQ R2, A; MOVO R0, B; PUNPCKHQDQ R2, B

// STOREROWS packs the 16-bit rows X0, X12, X1, X13, X8, X14, X3, X15 to
// bytes with clamping (0…255) and stores them at dst, stride apart.
#define STOREROWS \
	MOVQ dst+8(FP), DI; MOVQ stride+16(FP), CX; \
	PACKUSWB X12, X0; PACKUSWB X13, X1; PACKUSWB X14, X8; PACKUSWB X15, X3; \
	MOVQ X0, (DI); MOVHPS X0, (DI)(CX*1); LEAQ (DI)(CX*2), DI; \
	MOVQ X1, (DI); MOVHPS X1, (DI)(CX*1); LEAQ (DI)(CX*2), DI; \
	MOVQ X8, (DI); MOVHPS X8, (DI)(CX*1); LEAQ (DI)(CX*2), DI; \
	MOVQ X3, (DI); MOVHPS X3, (DI)(CX*1)

// func idct8SIMD(in *[64]int32, dst *byte, stride int) bool
// Frame: 0…127 the eight 16-bit rows a pass reads, 128…255 the low lanes
// of a pass's results.
TEXT ·idct8SIMD(SB), NOSPLIT, $256-25
	MOVQ in+0(FP), SI
	PXOR X8, X8
	PXOR X9, X9
	PXOR X10, X10
	LOADROW(0)
	LOADROW(1)
	LOADROW(2)
	LOADROW(3)
	LOADROW(4)
	LOADROW(5)
	LOADROW(6)
	LOADROW(7)
	SATCHECK(X8, X9, idct8fail)
	PXOR X11, X11
	PCMPEQL X11, X10
	PMOVMSKB X10, AX
	CMPL AX, $0xffff
	JEQ idct8left

	// Column pass: row y of the work block, lanes = columns.
	VPASS(PUNPCKLWL, idct_round1<>(SB), 10)
	SAVETMP
	VPASS(PUNPCKHWL, idct_round1<>(SB), 10)
	PACKTMP
	PXOR X8, X8
	PXOR X9, X9
	SAT(X0, X8, X9); SAT(X1, X8, X9); SAT(X2, X8, X9); SAT(X3, X8, X9)
	SAT(X4, X8, X9); SAT(X5, X8, X9); SAT(X6, X8, X9); SAT(X7, X8, X9)
	SATCHECK(X8, X9, idct8fail)

	// Row pass on the transposed block: output column x, lanes = rows.
	TRANSPOSE
	MOVOU X0, 0(SP)
	MOVOU X12, 16(SP)
	MOVOU X1, 32(SP)
	MOVOU X13, 48(SP)
	MOVOU X8, 64(SP)
	MOVOU X14, 80(SP)
	MOVOU X3, 96(SP)
	MOVOU X15, 112(SP)
	VPASS(PUNPCKLWL, idct_bias2<>(SB), 18)
	SAVETMP
	VPASS(PUNPCKHWL, idct_bias2<>(SB), 18)
	PACKTMP // |results| < 2^31 >> 18: no saturation
	TRANSPOSE

	STOREROWS
	MOVB $1, ret+24(FP)
	RET

	// Columns 4…7 of the coefficients are zero, so are those of the
	// column pass: it runs on columns 0…3 only, and the row pass with
	// LPASS as in idct8LowSIMD.
idct8left:
	VPASS(PUNPCKLWL, idct_round1<>(SB), 10)
	ROWPAIRS(X0, X1, X2, X3, X8, X9)
	ROWPAIRS(X4, X5, X6, X7, X10, X11)
	PXOR X12, X12
	PXOR X13, X13
	SAT(X8, X12, X13); SAT(X9, X12, X13); SAT(X10, X12, X13); SAT(X11, X12, X13)
	SATCHECK(X12, X13, idct8fail)
	LPASS(X8, X9, idct_bias2<>(SB), 18)
	SAVETMP
	LPASS(X10, X11, idct_bias2<>(SB), 18)
	PACKTMP
	TRANSPOSE
	STOREROWS
	MOVB $1, ret+24(FP)
	RET

idct8fail:
	MOVB $0, ret+24(FP)
	RET

// T4 transposes the 4×4 matrix of 32-bit lanes whose rows are A, B, C, D
// in place; T and U are clobbered.
#define T4(A, B, C, D, T, U) \
	MOVO A, T; PUNPCKLLQ B, A; PUNPCKHLQ B, T; \
	MOVO C, U; PUNPCKLLQ D, C; PUNPCKHLQ D, U; \
	MOVO A, B; PUNPCKLQDQ C, A; PUNPCKHQDQ C, B; \
	MOVO T, C; PUNPCKLQDQ U, C; PUNPCKHQDQ U, T; \
	MOVO T, D

// func idct8LowSIMD(in *[64]int32, dst *byte, stride int) bool
// idct8SIMD for blocks whose nonzero coefficients lie in the top-left
// 4×4: the column pass runs on columns 0…3 with LPASS (columns 4…7 of
// its result are zero), the row pass with LPASS. Frame: 128…255 as in
// idct8SIMD.
TEXT ·idct8LowSIMD(SB), NOSPLIT, $256-25
	MOVQ in+0(FP), SI
	MOVOU 0(SI), X0
	MOVOU 32(SI), X1
	MOVOU 64(SI), X2
	MOVOU 96(SI), X3
	PACKSSLW X0, X0
	PACKSSLW X1, X1
	PACKSSLW X2, X2
	PACKSSLW X3, X3
	PXOR X8, X8
	PXOR X9, X9
	SAT(X0, X8, X9); SAT(X1, X8, X9); SAT(X2, X8, X9); SAT(X3, X8, X9)
	SATCHECK(X8, X9, idct8lowfail)
	PUNPCKLWL X2, X0
	PUNPCKLWL X3, X1
	MOVO X0, X10
	MOVO X1, X11

	// Column pass: row y of the work block, lanes = columns 0…3.
	LPASS(X10, X11, idct_round1<>(SB), 10)

	// Row pass: output column x, lanes = rows.
	ROWPAIRS(X0, X1, X2, X3, X8, X9)
	ROWPAIRS(X4, X5, X6, X7, X10, X11)
	PXOR X12, X12
	PXOR X13, X13
	SAT(X8, X12, X13); SAT(X9, X12, X13); SAT(X10, X12, X13); SAT(X11, X12, X13)
	SATCHECK(X12, X13, idct8lowfail)
	LPASS(X8, X9, idct_bias2<>(SB), 18)
	SAVETMP
	LPASS(X10, X11, idct_bias2<>(SB), 18)
	PACKTMP
	TRANSPOSE

	STOREROWS
	MOVB $1, ret+24(FP)
	RET

idct8lowfail:
	MOVB $0, ret+24(FP)
	RET

// (5793, 7568) repeated
DATA idct_l42<>+0(SB)/4, $0x1d9016a1
DATA idct_l42<>+4(SB)/4, $0x1d9016a1
DATA idct_l42<>+8(SB)/4, $0x1d9016a1
DATA idct_l42<>+12(SB)/4, $0x1d9016a1
GLOBL idct_l42<>(SB), RODATA|NOPTR, $16
// (5793, 3135) repeated
DATA idct_l46<>+0(SB)/4, $0x0c3f16a1
DATA idct_l46<>+4(SB)/4, $0x0c3f16a1
DATA idct_l46<>+8(SB)/4, $0x0c3f16a1
DATA idct_l46<>+12(SB)/4, $0x0c3f16a1
GLOBL idct_l46<>(SB), RODATA|NOPTR, $16
// (5793, -3135) repeated
DATA idct_l4m6<>+0(SB)/4, $0xf3c116a1
DATA idct_l4m6<>+4(SB)/4, $0xf3c116a1
DATA idct_l4m6<>+8(SB)/4, $0xf3c116a1
DATA idct_l4m6<>+12(SB)/4, $0xf3c116a1
GLOBL idct_l4m6<>(SB), RODATA|NOPTR, $16
// (5793, -7568) repeated
DATA idct_l4m2<>+0(SB)/4, $0xe27016a1
DATA idct_l4m2<>+4(SB)/4, $0xe27016a1
DATA idct_l4m2<>+8(SB)/4, $0xe27016a1
DATA idct_l4m2<>+12(SB)/4, $0xe27016a1
GLOBL idct_l4m2<>(SB), RODATA|NOPTR, $16
// (8035, 6811) repeated
DATA idct_l13o0<>+0(SB)/4, $0x1a9b1f63
DATA idct_l13o0<>+4(SB)/4, $0x1a9b1f63
DATA idct_l13o0<>+8(SB)/4, $0x1a9b1f63
DATA idct_l13o0<>+12(SB)/4, $0x1a9b1f63
GLOBL idct_l13o0<>(SB), RODATA|NOPTR, $16
// (6811, -1598) repeated
DATA idct_l13o1<>+0(SB)/4, $0xf9c21a9b
DATA idct_l13o1<>+4(SB)/4, $0xf9c21a9b
DATA idct_l13o1<>+8(SB)/4, $0xf9c21a9b
DATA idct_l13o1<>+12(SB)/4, $0xf9c21a9b
GLOBL idct_l13o1<>(SB), RODATA|NOPTR, $16
// (4551, -8035) repeated
DATA idct_l13o2<>+0(SB)/4, $0xe09d11c7
DATA idct_l13o2<>+4(SB)/4, $0xe09d11c7
DATA idct_l13o2<>+8(SB)/4, $0xe09d11c7
DATA idct_l13o2<>+12(SB)/4, $0xe09d11c7
GLOBL idct_l13o2<>(SB), RODATA|NOPTR, $16
// (1598, -4551) repeated
DATA idct_l13o3<>+0(SB)/4, $0xee39063e
DATA idct_l13o3<>+4(SB)/4, $0xee39063e
DATA idct_l13o3<>+8(SB)/4, $0xee39063e
DATA idct_l13o3<>+12(SB)/4, $0xee39063e
GLOBL idct_l13o3<>(SB), RODATA|NOPTR, $16
// func idct4SIMD(in *[16]int32, dst *byte, stride int)
// idct4 of idct.go with the same float32 operations in the same order:
// the column pass on the four columns at once, a transpose (moves only),
// the row pass on the four rows at once; clampf as MAXPS, MINPS and
// truncation; a transpose back to rows of bytes.
TEXT ·idct4SIMD(SB), NOSPLIT, $0-24
	MOVQ in+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ stride+16(FP), CX
	MOVSS ·k1(SB), X10
	SHUFPS $0, X10, X10
	MOVSS ·k3(SB), X11
	SHUFPS $0, X11, X11
	MOVUPS ·w4+0(SB), X12
	MOVUPS ·w4+16(SB), X13
	MOVUPS ·w4+32(SB), X14
	MOVUPS ·w4+48(SB), X15
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	CVTPL2PS X0, X0
	CVTPL2PS X1, X1
	CVTPL2PS X2, X2
	CVTPL2PS X3, X3
	MULPS X12, X0 // y0
	MULPS X13, X1 // y1
	MULPS X14, X2 // y2
	MULPS X15, X3 // y3
	MOVAPS X0, X4
	ADDPS X2, X4  // e0
	SUBPS X2, X0  // e1
	MOVAPS X1, X5
	MULPS X10, X5
	MOVAPS X3, X6
	MULPS X11, X6
	ADDPS X6, X5  // o0 = k1·y1 + k3·y3
	MULPS X11, X1
	MULPS X10, X3
	SUBPS X3, X1  // o1 = k3·y1 − k1·y3
	MOVAPS X4, X6
	ADDPS X5, X6  // ws row 0
	SUBPS X5, X4  // ws row 3
	MOVAPS X0, X7
	ADDPS X1, X7  // ws row 1
	SUBPS X1, X0  // ws row 2
	T4(X6, X7, X0, X4, X8, X9)

	// Row pass: lane r is row r; X6, X7, X0, X4 hold ws[r][0…3].
	MOVSS idct4_half<>(SB), X12
	SHUFPS $0, X12, X12
	MOVAPS X6, X1
	ADDPS X0, X1
	ADDPS X12, X1 // e0 = y0 + y2 + 128.5
	SUBPS X0, X6
	ADDPS X12, X6 // e1 = y0 − y2 + 128.5
	MOVAPS X7, X2
	MULPS X10, X2
	MOVAPS X4, X3
	MULPS X11, X3
	ADDPS X3, X2  // o0
	MULPS X11, X7
	MULPS X10, X4
	SUBPS X4, X7  // o1
	MOVAPS X1, X0
	ADDPS X2, X0  // out 0
	SUBPS X2, X1  // out 3
	MOVAPS X6, X2
	ADDPS X7, X2  // out 1
	SUBPS X7, X6  // out 2

	// clampf, then rows of bytes.
	XORPS X13, X13
	MOVSS idct4_max<>(SB), X14
	SHUFPS $0, X14, X14
	MAXPS X13, X0
	MAXPS X13, X2
	MAXPS X13, X6
	MAXPS X13, X1
	MINPS X14, X0
	MINPS X14, X2
	MINPS X14, X6
	MINPS X14, X1
	CVTTPS2PL X0, X0
	CVTTPS2PL X2, X2
	CVTTPS2PL X6, X6
	CVTTPS2PL X1, X1
	T4(X0, X2, X6, X1, X8, X9)
	PACKSSLW X2, X0
	PACKSSLW X1, X6
	PACKUSWB X6, X0
	MOVQ X0, AX
	MOVL AX, (DI)
	SHRQ $32, AX
	MOVL AX, (DI)(CX*1)
	LEAQ (DI)(CX*2), DI
	PSRLDQ $8, X0
	MOVQ X0, AX
	MOVL AX, (DI)
	SHRQ $32, AX
	MOVL AX, (DI)(CX*1)
	RET

// 128.5 and 255 (float32).
DATA idct4_half<>+0(SB)/4, $0x43008000
GLOBL idct4_half<>(SB), RODATA|NOPTR, $4
DATA idct4_max<>+0(SB)/4, $0x437f0000
GLOBL idct4_max<>(SB), RODATA|NOPTR, $4

// func idct2SIMD(in *[4]int32, dst *byte, stride int)
// idct2 of idct.go with the same float32 operations: with g the four
// weighted coefficients, (g00, g01, g00, g01) + (g10, g11, −g10, −g11) and
// (128.5, 0, 128.5, 0) give (t0, s0, t1, s1) (x − y and x + (−y) are the
// same IEEE operation, and s + 0 = s up to the sign of a zero, which no
// later sum or clamp can see); then (t0, t0, t1, t1) + (s0, −s0, s1, −s1)
// are the four pixels.
TEXT ·idct2SIMD(SB), NOSPLIT, $0-24
	MOVQ in+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ stride+16(FP), CX
	MOVOU (SI), X0
	CVTPL2PS X0, X0
	MOVUPS ·w2(SB), X1
	MULPS X1, X0                // g00 g01 g10 g11
	PSHUFD $0x44, X0, X1        // g00 g01 g00 g01
	PSHUFD $0xee, X0, X2        // g10 g11 g10 g11
	XORPS idct2_neghi<>(SB), X2 // g10 g11 −g10 −g11
	ADDPS X2, X1
	ADDPS idct2_half<>(SB), X1  // t0 s0 t1 s1
	PSHUFD $0xa0, X1, X2        // t0 t0 t1 t1
	PSHUFD $0xf5, X1, X3        // s0 s0 s1 s1
	XORPS idct2_negodd<>(SB), X3
	ADDPS X3, X2
	XORPS X4, X4
	MAXPS X4, X2
	MINPS idct2_max<>(SB), X2
	CVTTPS2PL X2, X2
	PACKSSLW X2, X2
	PACKUSWB X2, X2
	MOVQ X2, AX
	MOVW AX, (DI)
	SHRQ $16, AX
	MOVW AX, (DI)(CX*1)
	RET

DATA idct2_neghi<>+0(SB)/4, $0
DATA idct2_neghi<>+4(SB)/4, $0
DATA idct2_neghi<>+8(SB)/4, $0x80000000
DATA idct2_neghi<>+12(SB)/4, $0x80000000
GLOBL idct2_neghi<>(SB), RODATA|NOPTR, $16
DATA idct2_negodd<>+0(SB)/4, $0
DATA idct2_negodd<>+4(SB)/4, $0x80000000
DATA idct2_negodd<>+8(SB)/4, $0
DATA idct2_negodd<>+12(SB)/4, $0x80000000
GLOBL idct2_negodd<>(SB), RODATA|NOPTR, $16
// 128.5, 0, 128.5, 0
DATA idct2_half<>+0(SB)/4, $0x43008000
DATA idct2_half<>+4(SB)/4, $0
DATA idct2_half<>+8(SB)/4, $0x43008000
DATA idct2_half<>+12(SB)/4, $0
GLOBL idct2_half<>(SB), RODATA|NOPTR, $16
// 255, four times
DATA idct2_max<>+0(SB)/4, $0x437f0000
DATA idct2_max<>+4(SB)/4, $0x437f0000
DATA idct2_max<>+8(SB)/4, $0x437f0000
DATA idct2_max<>+12(SB)/4, $0x437f0000
GLOBL idct2_max<>(SB), RODATA|NOPTR, $16

// (5793, 5793) repeated
DATA idct_c44<>+0(SB)/4, $0x16a116a1
DATA idct_c44<>+4(SB)/4, $0x16a116a1
DATA idct_c44<>+8(SB)/4, $0x16a116a1
DATA idct_c44<>+12(SB)/4, $0x16a116a1
GLOBL idct_c44<>(SB), RODATA|NOPTR, $16
// (5793, -5793) repeated
DATA idct_c4m4<>+0(SB)/4, $0xe95f16a1
DATA idct_c4m4<>+4(SB)/4, $0xe95f16a1
DATA idct_c4m4<>+8(SB)/4, $0xe95f16a1
DATA idct_c4m4<>+12(SB)/4, $0xe95f16a1
GLOBL idct_c4m4<>(SB), RODATA|NOPTR, $16
// (7568, 3135) repeated
DATA idct_c26<>+0(SB)/4, $0x0c3f1d90
DATA idct_c26<>+4(SB)/4, $0x0c3f1d90
DATA idct_c26<>+8(SB)/4, $0x0c3f1d90
DATA idct_c26<>+12(SB)/4, $0x0c3f1d90
GLOBL idct_c26<>(SB), RODATA|NOPTR, $16
// (3135, -7568) repeated
DATA idct_c6m2<>+0(SB)/4, $0xe2700c3f
DATA idct_c6m2<>+4(SB)/4, $0xe2700c3f
DATA idct_c6m2<>+8(SB)/4, $0xe2700c3f
DATA idct_c6m2<>+12(SB)/4, $0xe2700c3f
GLOBL idct_c6m2<>(SB), RODATA|NOPTR, $16
// (8035, 1598) repeated
DATA idct_c17o0<>+0(SB)/4, $0x063e1f63
DATA idct_c17o0<>+4(SB)/4, $0x063e1f63
DATA idct_c17o0<>+8(SB)/4, $0x063e1f63
DATA idct_c17o0<>+12(SB)/4, $0x063e1f63
GLOBL idct_c17o0<>(SB), RODATA|NOPTR, $16
// (6811, 4551) repeated
DATA idct_c35o0<>+0(SB)/4, $0x11c71a9b
DATA idct_c35o0<>+4(SB)/4, $0x11c71a9b
DATA idct_c35o0<>+8(SB)/4, $0x11c71a9b
DATA idct_c35o0<>+12(SB)/4, $0x11c71a9b
GLOBL idct_c35o0<>(SB), RODATA|NOPTR, $16
// (6811, -4551) repeated
DATA idct_c17o1<>+0(SB)/4, $0xee391a9b
DATA idct_c17o1<>+4(SB)/4, $0xee391a9b
DATA idct_c17o1<>+8(SB)/4, $0xee391a9b
DATA idct_c17o1<>+12(SB)/4, $0xee391a9b
GLOBL idct_c17o1<>(SB), RODATA|NOPTR, $16
// (-1598, -8035) repeated
DATA idct_c35o1<>+0(SB)/4, $0xe09df9c2
DATA idct_c35o1<>+4(SB)/4, $0xe09df9c2
DATA idct_c35o1<>+8(SB)/4, $0xe09df9c2
DATA idct_c35o1<>+12(SB)/4, $0xe09df9c2
GLOBL idct_c35o1<>(SB), RODATA|NOPTR, $16
// (4551, 6811) repeated
DATA idct_c17o2<>+0(SB)/4, $0x1a9b11c7
DATA idct_c17o2<>+4(SB)/4, $0x1a9b11c7
DATA idct_c17o2<>+8(SB)/4, $0x1a9b11c7
DATA idct_c17o2<>+12(SB)/4, $0x1a9b11c7
GLOBL idct_c17o2<>(SB), RODATA|NOPTR, $16
// (-8035, 1598) repeated
DATA idct_c35o2<>+0(SB)/4, $0x063ee09d
DATA idct_c35o2<>+4(SB)/4, $0x063ee09d
DATA idct_c35o2<>+8(SB)/4, $0x063ee09d
DATA idct_c35o2<>+12(SB)/4, $0x063ee09d
GLOBL idct_c35o2<>(SB), RODATA|NOPTR, $16
// (1598, -8035) repeated
DATA idct_c17o3<>+0(SB)/4, $0xe09d063e
DATA idct_c17o3<>+4(SB)/4, $0xe09d063e
DATA idct_c17o3<>+8(SB)/4, $0xe09d063e
DATA idct_c17o3<>+12(SB)/4, $0xe09d063e
GLOBL idct_c17o3<>(SB), RODATA|NOPTR, $16
// (-4551, 6811) repeated
DATA idct_c35o3<>+0(SB)/4, $0x1a9bee39
DATA idct_c35o3<>+4(SB)/4, $0x1a9bee39
DATA idct_c35o3<>+8(SB)/4, $0x1a9bee39
DATA idct_c35o3<>+12(SB)/4, $0x1a9bee39
GLOBL idct_c35o3<>(SB), RODATA|NOPTR, $16
// round1
DATA idct_round1<>+0(SB)/4, $512
DATA idct_round1<>+4(SB)/4, $512
DATA idct_round1<>+8(SB)/4, $512
DATA idct_round1<>+12(SB)/4, $512
GLOBL idct_round1<>(SB), RODATA|NOPTR, $16
// bias2
DATA idct_bias2<>+0(SB)/4, $33685504
DATA idct_bias2<>+4(SB)/4, $33685504
DATA idct_bias2<>+8(SB)/4, $33685504
DATA idct_bias2<>+12(SB)/4, $33685504
GLOBL idct_bias2<>(SB), RODATA|NOPTR, $16
// The 16-bit limits, eight times each.
DATA idct_max16<>+0(SB)/8, $0x7fff7fff7fff7fff
DATA idct_max16<>+8(SB)/8, $0x7fff7fff7fff7fff
GLOBL idct_max16<>(SB), RODATA|NOPTR, $16
DATA idct_min16<>+0(SB)/8, $0x8000800080008000
DATA idct_min16<>+8(SB)/8, $0x8000800080008000
GLOBL idct_min16<>(SB), RODATA|NOPTR, $16
