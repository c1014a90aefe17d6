//go:build amd64 && !purego

#include "textflag.h"

// func plVRowSIMD(out []int16, rows [][]uint8, ws []int16)
// Sixteen samples at a time; for each pair of rows the bytes of both are
// interleaved and widened to 16-bit pairs, and PMADDWD with the broadcast
// weight pair (ws[k], ws[k+1]) adds four sums per register.
TEXT ·plVRowSIMD(SB), NOSPLIT, $0-72
	MOVQ out_base+0(FP), DI
	MOVQ out_len+8(FP), CX
	MOVQ rows_base+24(FP), SI
	MOVQ rows_len+32(FP), R8
	MOVQ ws_base+48(FP), DX
	PXOR X8, X8                // zero
	MOVQ $128, AX              // 1 << (plHShift-1)
	MOVQ AX, X14
	PSHUFD $0, X14, X14
	XORQ BX, BX                // sample offset

vchunk:
	CMPQ BX, CX
	JAE  vdone
	PXOR X0, X0
	PXOR X1, X1
	PXOR X2, X2
	PXOR X3, X3
	MOVQ SI, R10               // &rows[k]
	MOVQ DX, R11               // &ws[k]
	MOVQ R8, R9                // rows left

vpair:
	MOVQ   0(R10), R12         // rows[k] data
	MOVQ   24(R10), R13        // rows[k+1] data
	MOVOU  (R12)(BX*1), X4
	MOVOU  (R13)(BX*1), X5
	MOVL   (R11), AX           // ws[k] | ws[k+1]<<16
	MOVQ   AX, X6
	PSHUFD $0, X6, X6
	MOVO   X4, X7
	PUNPCKLBW X5, X4           // r0[0], r1[0], … r0[7], r1[7]
	PUNPCKHBW X5, X7           // samples 8…15
	MOVO   X4, X5
	PUNPCKLBW X8, X4           // 16-bit pairs, samples 0…3
	PUNPCKHBW X8, X5           // 4…7
	MOVO   X7, X9
	PUNPCKLBW X8, X7           // 8…11
	PUNPCKHBW X8, X9           // 12…15
	PMADDWL X6, X4
	PMADDWL X6, X5
	PMADDWL X6, X7
	PMADDWL X6, X9
	PADDL  X4, X0
	PADDL  X5, X1
	PADDL  X7, X2
	PADDL  X9, X3
	ADDQ   $48, R10
	ADDQ   $4, R11
	SUBQ   $2, R9
	JA     vpair

	PADDL    X14, X0
	PADDL    X14, X1
	PADDL    X14, X2
	PADDL    X14, X3
	PSRAL    $8, X0
	PSRAL    $8, X1
	PSRAL    $8, X2
	PSRAL    $8, X3
	PACKSSLW X1, X0
	PACKSSLW X3, X2
	MOVOU    X0, (DI)(BX*2)
	MOVOU    X2, 16(DI)(BX*2)
	ADDQ     $16, BX
	JMP      vchunk

vdone:
	RET

// func plHRowSIMD(out []uint8, n, step int, in []int16, start []int32, w []int16, taps int)
// One output sample at a time: taps/8 PMADDWDs into four lanes, summed
// across, rounded, shifted and saturated to a byte.
TEXT ·plHRowSIMD(SB), NOSPLIT, $0-120
	MOVQ out_base+0(FP), DI
	MOVQ n+24(FP), CX
	MOVQ step+32(FP), R12
	MOVQ in_base+40(FP), SI
	MOVQ start_base+64(FP), BX
	MOVQ w_base+88(FP), DX
	MOVQ taps+112(FP), R8
	MOVQ $0x80000, AX          // 1 << (plVShift-1)
	MOVQ AX, X14
	PSHUFD $0, X14, X14
	XORQ R9, R9                // output index
	TESTQ CX, CX
	JEQ  hdone

hloop:
	MOVLQSX (BX)(R9*4), AX
	LEAQ    (SI)(AX*2), R10    // &in[start[i]]
	PXOR    X0, X0
	MOVQ    R8, R11

hinner:
	MOVOU   (R10), X1
	MOVOU   (DX), X2
	PMADDWL X2, X1
	PADDL   X1, X0
	ADDQ    $16, R10
	ADDQ    $16, DX
	SUBQ    $8, R11
	JA      hinner

	PSHUFD   $0x4E, X0, X1
	PADDL    X1, X0
	PSHUFD   $0xB1, X0, X1
	PADDL    X1, X0
	PADDL    X14, X0
	PSRAL    $20, X0
	PACKSSLW X0, X0
	PACKUSWB X0, X0
	MOVQ     X0, AX
	MOVB     AL, (DI)
	ADDQ     R12, DI
	INCQ     R9
	CMPQ     R9, CX
	JB       hloop

hdone:
	RET
