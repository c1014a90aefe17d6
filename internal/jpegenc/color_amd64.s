//go:build amd64 && !purego

#include "textflag.h"

// rgbToYCbCr of color.go on sixteen RGBA pixels at a time, in SSE2, with
// the same integer arithmetic. For a pixel dword p = r | g<<8 | b<<16 |
// a<<24, p & 0x00ff00ff is the 16-bit pair (r, b) and g | g<<16 the pair
// (g, g), so PMADDWL gives every product in two instructions: the
// coefficients 38470, 21712 and 27440 of g are split in two equal halves,
// and those of magnitude 32768 (which 16 bits cannot hold) enter negated,
// subtracted from the constant:
//
//	y  = 19595·r + 7471·b + 19235·(g+g) + 2^15
//	cb = 257·2^15 − (11056·r − 32768·b + 10856·(g+g))
//	cr = 257·2^15 − (−32768·r + 5328·b + 13720·(g+g))
//
// then >> 16. y is at most 255; PACKSSLW and PACKUSWB clamp cb and cr to
// 0…255 as clampShift does.

DATA ycc_lo<>+0(SB)/4, $0x00ff00ff
DATA ycc_lo<>+4(SB)/4, $0x00ff00ff
DATA ycc_lo<>+8(SB)/4, $0x00ff00ff
DATA ycc_lo<>+12(SB)/4, $0x00ff00ff
GLOBL ycc_lo<>(SB), RODATA|NOPTR, $16
DATA ycc_byte<>+0(SB)/4, $0xff
DATA ycc_byte<>+4(SB)/4, $0xff
DATA ycc_byte<>+8(SB)/4, $0xff
DATA ycc_byte<>+12(SB)/4, $0xff
GLOBL ycc_byte<>(SB), RODATA|NOPTR, $16
// (19595, 7471)
DATA ycc_yrb<>+0(SB)/4, $0x1d2f4c8b
DATA ycc_yrb<>+4(SB)/4, $0x1d2f4c8b
DATA ycc_yrb<>+8(SB)/4, $0x1d2f4c8b
DATA ycc_yrb<>+12(SB)/4, $0x1d2f4c8b
GLOBL ycc_yrb<>(SB), RODATA|NOPTR, $16
// (19235, 19235)
DATA ycc_yg<>+0(SB)/4, $0x4b234b23
DATA ycc_yg<>+4(SB)/4, $0x4b234b23
DATA ycc_yg<>+8(SB)/4, $0x4b234b23
DATA ycc_yg<>+12(SB)/4, $0x4b234b23
GLOBL ycc_yg<>(SB), RODATA|NOPTR, $16
// (11056, -32768)
DATA ycc_cbrb<>+0(SB)/4, $0x80002b30
DATA ycc_cbrb<>+4(SB)/4, $0x80002b30
DATA ycc_cbrb<>+8(SB)/4, $0x80002b30
DATA ycc_cbrb<>+12(SB)/4, $0x80002b30
GLOBL ycc_cbrb<>(SB), RODATA|NOPTR, $16
// (10856, 10856)
DATA ycc_cbg<>+0(SB)/4, $0x2a682a68
DATA ycc_cbg<>+4(SB)/4, $0x2a682a68
DATA ycc_cbg<>+8(SB)/4, $0x2a682a68
DATA ycc_cbg<>+12(SB)/4, $0x2a682a68
GLOBL ycc_cbg<>(SB), RODATA|NOPTR, $16
// (-32768, 5328)
DATA ycc_crrb<>+0(SB)/4, $0x14d08000
DATA ycc_crrb<>+4(SB)/4, $0x14d08000
DATA ycc_crrb<>+8(SB)/4, $0x14d08000
DATA ycc_crrb<>+12(SB)/4, $0x14d08000
GLOBL ycc_crrb<>(SB), RODATA|NOPTR, $16
// (13720, 13720)
DATA ycc_crg<>+0(SB)/4, $0x35983598
DATA ycc_crg<>+4(SB)/4, $0x35983598
DATA ycc_crg<>+8(SB)/4, $0x35983598
DATA ycc_crg<>+12(SB)/4, $0x35983598
GLOBL ycc_crg<>(SB), RODATA|NOPTR, $16
DATA ycc_yround<>+0(SB)/4, $32768
DATA ycc_yround<>+4(SB)/4, $32768
DATA ycc_yround<>+8(SB)/4, $32768
DATA ycc_yround<>+12(SB)/4, $32768
GLOBL ycc_yround<>(SB), RODATA|NOPTR, $16
// 257·2^15
DATA ycc_cbias<>+0(SB)/4, $8421376
DATA ycc_cbias<>+4(SB)/4, $8421376
DATA ycc_cbias<>+8(SB)/4, $8421376
DATA ycc_cbias<>+12(SB)/4, $8421376
GLOBL ycc_cbias<>(SB), RODATA|NOPTR, $16

// PIX loads four pixels at OFF(SI) and leaves the pairs (r, b) in RB and
// (g, g) in GG (X15 clobbered).
#define PIX(OFF, RB, GG) \
	MOVOU OFF(SI), RB; MOVO RB, GG; \
	PAND ycc_lo<>(SB), RB; \
	PSRLL $8, GG; PAND ycc_byte<>(SB), GG; MOVO GG, X15; PSLLL $16, X15; POR X15, GG

// YSUM leaves 19595·r + 7471·b + 19235·(g+g) + 2^15 >> 16 of RB, GG in D.
#define YSUM(RB, GG, D) \
	MOVO RB, D; PMADDWL ycc_yrb<>(SB), D; MOVO GG, X15; PMADDWL ycc_yg<>(SB), X15; \
	PADDL X15, D; PADDL ycc_yround<>(SB), D; PSRAL $16, D

// CSUM leaves 257·2^15 − (pmadd(RB, CRB) + pmadd(GG, CG)) >> 16 in D
// (X14 clobbered).
#define CSUM(RB, GG, CRB, CG, D) \
	MOVO RB, X14; PMADDWL CRB, X14; MOVO GG, X15; PMADDWL CG, X15; PADDL X15, X14; \
	MOVOU ycc_cbias<>(SB), D; PSUBL X14, D; PSRAL $16, D

// func rgbaToYCbCrSIMD(p, y, cb, cr *byte, n int)
// n is a positive multiple of 16; p holds 4n bytes, the others n.
TEXT ·rgbaToYCbCrSIMD(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ cb+16(FP), DX
	MOVQ cr+24(FP), R8
	MOVQ n+32(FP), CX
	XORQ BX, BX

loop:
	PIX(0, X0, X1)
	PIX(16, X2, X3)
	PIX(32, X4, X5)
	PIX(48, X6, X7)

	YSUM(X0, X1, X8)
	YSUM(X2, X3, X9)
	YSUM(X4, X5, X10)
	YSUM(X6, X7, X11)
	PACKSSLW X9, X8
	PACKSSLW X11, X10
	PACKUSWB X10, X8
	MOVOU X8, (DI)(BX*1)

	CSUM(X0, X1, ycc_cbrb<>(SB), ycc_cbg<>(SB), X8)
	CSUM(X2, X3, ycc_cbrb<>(SB), ycc_cbg<>(SB), X9)
	CSUM(X4, X5, ycc_cbrb<>(SB), ycc_cbg<>(SB), X10)
	CSUM(X6, X7, ycc_cbrb<>(SB), ycc_cbg<>(SB), X11)
	PACKSSLW X9, X8
	PACKSSLW X11, X10
	PACKUSWB X10, X8
	MOVOU X8, (DX)(BX*1)

	CSUM(X0, X1, ycc_crrb<>(SB), ycc_crg<>(SB), X8)
	CSUM(X2, X3, ycc_crrb<>(SB), ycc_crg<>(SB), X9)
	CSUM(X4, X5, ycc_crrb<>(SB), ycc_crg<>(SB), X10)
	CSUM(X6, X7, ycc_crrb<>(SB), ycc_crg<>(SB), X11)
	PACKSSLW X9, X8
	PACKSSLW X11, X10
	PACKUSWB X10, X8
	MOVOU X8, (R8)(BX*1)

	ADDQ $64, SI
	ADDQ $16, BX
	CMPQ BX, CX
	JB   loop
	RET
