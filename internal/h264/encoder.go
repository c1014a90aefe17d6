// Package h264 is an H.264 (MPEG-4 AVC) video encoder: Constrained
// Baseline profile, CAVLC entropy coding, 4:2:0 8-bit Y′CbCr (BT.709,
// limited range), one slice per picture, the deblocking filter off.
//
// Frames are coded as IDR pictures (every KeyInterval frames) or P
// pictures predicting from the previous frame. Macroblocks are Intra 16×16
// (vertical, horizontal, DC or plane prediction, chroma likewise), Intra
// 4×4 (nine directions per 4×4 block), P_Skip, or P_L0_16x16 with a
// full-sample motion vector found by a small search; the residual goes
// through the 4×4 integer transform, the Hadamard
// transforms of the DC coefficients and quantisation at one QP. Each
// macroblock's mode is chosen by rate and distortion (SSD + λ·bits); a
// macroblock that would cost more bits than its samples is sent as I_PCM.
package h264

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/imageopto/imageopto/internal/ctxpoll"
)

// Config sets up an Encoder.
type Config struct {
	// Width and Height are the frame size. An odd side is coded one pixel
	// longer, the last column or row repeated (4:2:0 pictures have even
	// sides); Size reports the size coded.
	Width, Height int
	// QP is the quantisation parameter, 0–51 (lower is finer). Values
	// below MinQP are raised to it.
	QP int
	// Level is written in the sequence parameter set; the caller checks
	// that the frames fit it (Level.CheckSize, CheckRate).
	Level Level
	// KeyInterval is the distance between IDR pictures (0: only the first).
	KeyInterval int
}

// MinQP is the lowest QP used: below it, levels could exceed what a
// Baseline bitstream may code, and the files would be large for no
// visible gain.
const MinQP = 10

// Encoder encodes a sequence of frames of one size.
type Encoder struct {
	cfg      Config
	w, h     int // coded display size (even)
	mbw, mbh int
	qp       int
	q, qc    quantizer // luma and chroma
	lambda   float64   // Lagrange multiplier for SSD
	lambdaMV int32     // for SAD, per bit

	src, rec, ref *picture
	mbs           []mbInfo
	frames        int
	frameNum      int
	idrs          int

	sps, pps []byte
	bw, tmp  bitWriter
	cands    [4]mbCand
	scratch  mbScratch
	kinds    [5]int // macroblocks coded of each kind, for tests
}

// mbInfo is what later macroblocks need to know of a coded one.
type mbInfo struct {
	nzY   [16]uint8 // coefficients per 4×4 luma block, raster order in the macroblock
	nzC   [2][4]uint8
	mv    [2]int32 // quarter samples
	inter bool     // P_Skip or P_L0_16x16 (reference index 0)
	i4    bool     // Intra 4×4, with these modes (raster order)
	modes [16]uint8
}

// Macroblock kinds.
const (
	kindSkip = iota
	kindInter
	kindI16
	kindPCM
	kindI4
)

// mbCand is one way to code a macroblock: its syntax elements, levels and
// reconstruction.
type mbCand struct {
	kind       int
	i16, cmode int       // Intra 16×16 luma and chroma modes
	modes      [16]uint8 // Intra 4×4 modes (raster order) and their predictions
	predModes  [16]uint8
	mv, mvd    [2]int32 // P_L0_16x16 motion vector and its difference from the prediction
	cbpL, cbpC int
	dc         [16]int32     // Intra 16×16 luma DC levels, scan order
	ac         [16][16]int32 // per 4×4 block (raster), scan order; [0] unused for Intra 16×16
	cdc        [2][4]int32
	cac        [2][4][16]int32 // scan order, [0] unused
	nzY        [16]uint8
	nzC        [2][4]uint8
	y          [256]uint8 // reconstruction
	cb, cr     [64]uint8
	ssd        int64
	bits       int
}

// NewEncoder returns an encoder for frames of the configured size.
func NewEncoder(c Config) (*Encoder, error) {
	if c.Width <= 0 || c.Height <= 0 {
		return nil, fmt.Errorf("h264: frame size %dx%d", c.Width, c.Height)
	}
	if c.Level.IDC == 0 {
		return nil, errors.New("h264: no level")
	}
	if err := c.Level.CheckSize(c.Width, c.Height); err != nil {
		return nil, fmt.Errorf("h264: %v", err)
	}
	e := &Encoder{cfg: c, w: c.Width + c.Width&1, h: c.Height + c.Height&1}
	e.mbw, e.mbh = macroblocks(c.Width, c.Height)
	e.qp = min(max(c.QP, MinQP), 51)
	e.q, e.qc = newQuantizer(e.qp), newQuantizer(chromaQP(e.qp))
	e.lambda = 0.85 * math.Pow(2, float64(e.qp-12)/3)
	e.lambdaMV = int32(math.Sqrt(e.lambda) + 0.5)
	e.src, e.rec, e.ref = newPicture(e.mbw, e.mbh), newPicture(e.mbw, e.mbh), newPicture(e.mbw, e.mbh)
	e.mbs = make([]mbInfo, e.mbw*e.mbh)
	e.sps = e.writeSPS()
	e.pps = e.writePPS()
	return e, nil
}

// Size is the size of the pictures as coded and displayed: the configured
// size, each side rounded up to even.
func (e *Encoder) Size() (w, h int) { return e.w, e.h }

// SPS and PPS return the parameter sets as NAL units (header byte first,
// no start code).
func (e *Encoder) SPS() []byte { return e.sps }
func (e *Encoder) PPS() []byte { return e.pps }

// Sequence parameter set constants.
const (
	profileBaseline = 66
	log2MaxFrameNum = 8
)

func (e *Encoder) writeSPS() []byte {
	var w bitWriter
	w.u(8, profileBaseline)
	w.u(8, 0xC0) // constraint_set0 and set1: Constrained Baseline
	w.u(8, uint32(e.cfg.Level.IDC))
	w.ue(0)                   // seq_parameter_set_id
	w.ue(log2MaxFrameNum - 4) // log2_max_frame_num_minus4
	w.ue(2)                   // pic_order_cnt_type: output order is decoding order
	w.ue(1)                   // max_num_ref_frames
	w.u(1, 0)                 // gaps_in_frame_num_value_allowed_flag
	w.ue(uint32(e.mbw - 1))   // pic_width_in_mbs_minus1
	w.ue(uint32(e.mbh - 1))   // pic_height_in_map_units_minus1
	w.u(1, 1)                 // frame_mbs_only_flag
	w.u(1, 1)                 // direct_8x8_inference_flag
	right, bottom := 16*e.mbw-e.w, 16*e.mbh-e.h
	if right > 0 || bottom > 0 {
		w.u(1, 1) // frame_cropping_flag, in units of 2 samples (4:2:0)
		w.ue(0)
		w.ue(uint32(right / 2))
		w.ue(0)
		w.ue(uint32(bottom / 2))
	} else {
		w.u(1, 0)
	}
	w.u(1, 1) // vui_parameters_present_flag
	w.u(1, 1) // aspect_ratio_info_present_flag
	w.u(8, 1) // aspect_ratio_idc: square samples
	w.u(1, 0) // overscan_info_present_flag
	w.u(1, 1) // video_signal_type_present_flag
	w.u(3, 5) // video_format: unspecified
	w.u(1, 0) // video_full_range_flag: limited range
	w.u(1, 1) // colour_description_present_flag
	w.u(8, 1) // colour_primaries: BT.709 (those of sRGB)
	w.u(8, 1) // transfer_characteristics: BT.709
	w.u(8, 1) // matrix_coefficients: BT.709
	w.u(1, 0) // chroma_loc_info_present_flag
	w.u(1, 0) // timing_info_present_flag: the container has the timing
	w.u(1, 0) // nal_hrd_parameters_present_flag
	w.u(1, 0) // vcl_hrd_parameters_present_flag
	w.u(1, 0) // pic_struct_present_flag
	w.u(1, 1) // bitstream_restriction_flag
	w.u(1, 1) // motion_vectors_over_pic_boundaries_flag
	w.ue(0)   // max_bytes_per_pic_denom: no limit
	w.ue(0)   // max_bits_per_mb_denom: no limit
	w.ue(10)  // log2_max_mv_length_horizontal: vectors stay within ±256 samples
	w.ue(10)  // log2_max_mv_length_vertical
	w.ue(0)   // max_num_reorder_frames: output at once
	w.ue(1)   // max_dec_frame_buffering
	w.trailing()
	return nalUnit(3, nalSPS, w.buf)
}

func (e *Encoder) writePPS() []byte {
	var w bitWriter
	w.ue(0)                // pic_parameter_set_id
	w.ue(0)                // seq_parameter_set_id
	w.u(1, 0)              // entropy_coding_mode_flag: CAVLC
	w.u(1, 0)              // bottom_field_pic_order_in_frame_present_flag
	w.ue(0)                // num_slice_groups_minus1
	w.ue(0)                // num_ref_idx_l0_default_active_minus1
	w.ue(0)                // num_ref_idx_l1_default_active_minus1
	w.u(1, 0)              // weighted_pred_flag
	w.u(2, 0)              // weighted_bipred_idc
	w.se(int32(e.qp - 26)) // pic_init_qp_minus26
	w.se(0)                // pic_init_qs_minus26
	w.se(0)                // chroma_qp_index_offset
	w.u(1, 1)              // deblocking_filter_control_present_flag
	w.u(1, 0)              // constrained_intra_pred_flag
	w.u(1, 0)              // redundant_pic_cnt_present_flag
	w.trailing()
	return nalUnit(3, nalPPS, w.buf)
}

// Encode codes the next frame, which must have the configured size (its
// alpha is ignored), and returns its NAL unit (one slice) and whether it is
// an IDR picture. It polls ctx every few macroblock rows.
func (e *Encoder) Encode(ctx context.Context, img *image.NRGBA) (nal []byte, idr bool, err error) {
	if img.Rect.Dx() != e.cfg.Width || img.Rect.Dy() != e.cfg.Height {
		return nil, false, fmt.Errorf("h264: frame of %v, encoder set up for %dx%d", img.Rect.Size(), e.cfg.Width, e.cfg.Height)
	}
	e.src.load(img)
	idr = e.frames == 0 || (e.cfg.KeyInterval > 0 && e.frames%e.cfg.KeyInterval == 0)
	if idr {
		e.frameNum = 0
	}
	w := &e.bw
	w.buf, w.acc, w.n = w.buf[:0], 0, 0
	// Slice header (7.3.3).
	w.ue(0) // first_mb_in_slice
	if idr {
		w.ue(7) // slice_type: I, every slice of the picture
	} else {
		w.ue(5) // slice_type: P
	}
	w.ue(0) // pic_parameter_set_id
	w.u(log2MaxFrameNum, uint32(e.frameNum))
	if idr {
		w.ue(uint32(e.idrs & 1)) // idr_pic_id: consecutive IDR pictures differ
	} else {
		w.u(1, 0) // num_ref_idx_active_override_flag
		w.u(1, 0) // ref_pic_list_modification_flag_l0
	}
	if idr {
		w.u(1, 0) // no_output_of_prior_pics_flag
		w.u(1, 0) // long_term_reference_flag
	} else {
		w.u(1, 0) // adaptive_ref_pic_marking_mode_flag: sliding window
	}
	w.se(0) // slice_qp_delta
	w.ue(1) // disable_deblocking_filter_idc: off

	pl := ctxpoll.New(ctx)
	skipRun := 0
	for mby := range e.mbh {
		if err := pl.Work(256 * 16 * e.mbw); err != nil {
			return nil, false, err
		}
		for mbx := range e.mbw {
			c := e.codeMB(mbx, mby, idr)
			if c.kind == kindSkip {
				skipRun++
			} else {
				if !idr {
					w.ue(uint32(skipRun))
					skipRun = 0
				}
				e.writeMB(w, mbx, mby, c, !idr)
			}
			e.commit(mbx, mby, c)
		}
	}
	if skipRun > 0 {
		w.ue(uint32(skipRun))
	}
	w.trailing()
	typ := nalSlice
	if idr {
		typ = nalIDR
		e.idrs++
	}
	nal = nalUnit(2, typ, w.buf)
	e.rec, e.ref = e.ref, e.rec
	e.frames++
	e.frameNum = (e.frameNum + 1) % (1 << log2MaxFrameNum)
	return nal, idr, nil
}

// commit stores a coded macroblock: its reconstruction and what its
// neighbours need.
func (e *Encoder) commit(mbx, mby int, c *mbCand) {
	p := e.rec
	for y := range 16 {
		copy(p.y[(mby*16+y)*p.ys+mbx*16:][:16], c.y[16*y:16*y+16])
	}
	for y := range 8 {
		copy(p.cb[(mby*8+y)*p.cs+mbx*8:][:8], c.cb[8*y:8*y+8])
		copy(p.cr[(mby*8+y)*p.cs+mbx*8:][:8], c.cr[8*y:8*y+8])
	}
	e.kinds[c.kind]++
	m := &e.mbs[mby*e.mbw+mbx]
	m.nzY, m.nzC = c.nzY, c.nzC
	m.inter = c.kind == kindSkip || c.kind == kindInter
	m.i4, m.modes = c.kind == kindI4, c.modes
	m.mv = [2]int32{}
	if m.inter {
		m.mv = c.mv
	}
}
