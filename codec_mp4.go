package imageopto

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"time"

	"github.com/imageopto/imageopto/internal/h264"
	"github.com/imageopto/imageopto/internal/mp4"
)

// MP4 output (format=mp4): H.264 video in an MP4 file, written by the
// pure-Go encoder of internal/h264 and the muxer of internal/mp4. This
// file holds the codec's functions (the Codec value is one line of
// builtinCodecs) and the planning rules of the format (planMP4).
//
// What is written, and why:
//
//   - Constrained Baseline profile (profile_idc 66 with constraint_set0 and
//     constraint_set1), CAVLC, 4:2:0, BT.709 limited range, tagged in the
//     stream and in a colr box. profile=main and profile=high are answered
//     with the same stream, signalled as what it is: every Main and High
//     decoder plays Constrained Baseline, and the plan carries a warning.
//   - level= is checked: the frame size (and each side) against the
//     level's MaxFS when planning, the frame rate (macroblocks per second,
//     from the shortest frame) when encoding; either over the level is a
//     400 naming level. Without level= the lowest level that fits is
//     written. Bit rates are not constrained.
//   - Sides are even (4:2:0): an odd width or height is coded one pixel
//     longer, the last column or row repeated, and the video is that size.
//   - Frame timing is kept in milliseconds (the track's timescale is
//     1000). A delay of 10 ms or less becomes 100 ms, as browsers show such
//     GIF frames. A still image becomes one frame of one second. MP4 has no
//     loop count: pages loop the video themselves (<video autoplay loop
//     muted playsinline>).
//   - Transparent pixels are composed onto the background: bg-color, or
//     white (the pipeline flattens frames for outputs without alpha).
//   - quality= (default DefaultMP4Quality) sets the quantiser; optimize=
//     does not apply.

// DefaultMP4Quality is the default quality of MP4 output, 1–100.
const DefaultMP4Quality = 80

const (
	mp4Timescale     = 1000 // milliseconds
	mp4StillDuration = time.Second
	mp4MinDelay      = 10 * time.Millisecond // at most this: shown for mp4ShortDelay
	mp4ShortDelay    = 100 * time.Millisecond
	// mp4KeyInterval is the distance between IDR pictures: where playback
	// can start when seeking, at a small cost in bytes.
	mp4KeyInterval = 120
)

// mp4QP maps quality 1–100 to the H.264 quantisation parameter: 100 is
// h264.MinQP, each 2.5 points below add one step (about 12% in quantiser
// size), and 1 is the coarsest, 51.
func mp4QP(quality int) int {
	if quality <= 0 {
		quality = DefaultMP4Quality
	}
	qp := h264.MinQP + (100-min(quality, 100)+1)*2/5
	return min(qp, 51)
}

// writeMP4 writes a still image as a one-frame video.
func writeMP4(ctx context.Context, w io.Writer, img *image.NRGBA, o EncodeOptions) error {
	return writeMP4Frames(ctx, w, []Frame{{Image: img, Delay: mp4StillDuration}}, 0, o)
}

// writeMP4Frames encodes the frames (all of one size) as an H.264 MP4.
// The loop count cannot be stored.
func writeMP4Frames(ctx context.Context, w io.Writer, frames []Frame, _ int, o EncodeOptions) error {
	if len(frames) == 0 {
		return errors.New("mp4: no frames")
	}
	b := frames[0].Image.Rect
	durations, shortest := mp4Durations(frames)
	lvl, err := mp4Level(o.Level, b.Dx(), b.Dy(), shortest)
	if err != nil {
		return err
	}
	enc, err := h264.NewEncoder(h264.Config{Width: b.Dx(), Height: b.Dy(), QP: mp4QP(o.Quality),
		Level: lvl, KeyInterval: mp4KeyInterval})
	if err != nil {
		return err
	}
	t := &mp4.Track{Timescale: mp4Timescale, SPS: enc.SPS(), PPS: enc.PPS()}
	t.Width, t.Height = enc.Size()
	t.Samples = make([]mp4.Sample, 0, len(frames))
	for i, f := range frames {
		if f.Image.Rect.Size() != b.Size() {
			return fmt.Errorf("mp4: frame %d is %v, the first %v", i, f.Image.Rect.Size(), b.Size())
		}
		nal, idr, err := enc.Encode(ctx, f.Image)
		if err != nil {
			return err
		}
		t.Samples = append(t.Samples, mp4.Sample{NALs: [][]byte{nal}, Duration: durations[i], Sync: idr})
	}
	return mp4.Write(w, t)
}

// mp4Durations returns each frame's duration in milliseconds, rounded so
// that the times at which frames start stay exact, and the shortest.
func mp4Durations(frames []Frame) ([]uint32, time.Duration) {
	out := make([]uint32, len(frames))
	var at time.Duration
	shortest := time.Duration(-1)
	for i, f := range frames {
		d := f.Delay
		if d <= mp4MinDelay {
			d = mp4ShortDelay
		}
		start := at.Milliseconds()
		at += d
		out[i] = uint32(max(at.Milliseconds()-start, 1))
		if ms := time.Duration(out[i]) * time.Millisecond; shortest < 0 || ms < shortest {
			shortest = ms
		}
	}
	return out, shortest
}

// mp4Level returns the level asked for, after checking that w×h frames
// shown at least shortest each fit it, or the lowest level that fits.
func mp4Level(asked Level, w, h int, shortest time.Duration) (h264.Level, error) {
	lvl, named, err := mp4CheckSize(asked, w, h)
	if err != nil {
		return h264.Level{}, err
	}
	if !named {
		lvl, ok := h264.LowestLevel(w, h, shortest)
		if !ok {
			top := h264.Levels[len(h264.Levels)-1]
			return h264.Level{}, fmt.Errorf("%w: MP4 output of %dx%d is over every H.264 level (%v)", ErrJobTooLarge, w, h, top.CheckRate(w, h, shortest))
		}
		return lvl, nil
	}
	if err := lvl.CheckRate(w, h, shortest); err != nil {
		return h264.Level{}, &ParamError{Param: "level", Value: string(asked), Reason: err.Error()}
	}
	return lvl, nil
}

// mp4CheckSize is the one check of an MP4's frame size against H.264
// levels, for planning (planMP4) and encoding (mp4Level): w×h frames must
// fit the level asked for (a ParamError naming level), or without one the
// highest level (ErrJobTooLarge). named says whether a level was asked
// for; lvl is it.
func mp4CheckSize(asked Level, w, h int) (lvl h264.Level, named bool, err error) {
	if asked == "" {
		top := h264.Levels[len(h264.Levels)-1]
		if err := top.CheckSize(w, h); err != nil {
			return h264.Level{}, false, fmt.Errorf("%w: MP4 output of %dx%d is over every H.264 level (%v)", ErrJobTooLarge, w, h, err)
		}
		return h264.Level{}, false, nil
	}
	lvl, ok := h264.LevelByName(string(asked))
	if !ok {
		return h264.Level{}, true, &ParamError{Param: "level", Value: string(asked), Reason: "not an H.264 level"}
	}
	if err := lvl.CheckSize(w, h); err != nil {
		return h264.Level{}, true, &ParamError{Param: "level", Value: string(asked), Reason: err.Error()}
	}
	return lvl, true, nil
}

// mp4FrameBytes bounds the encoded size of one w×h frame: a macroblock
// never costs more than its samples (I_PCM), plus headers.
func mp4FrameBytes(w, h int) int64 {
	mbs := int64((w+16)/16) * int64((h+16)/16)
	return 1024 + 400*mbs
}

// mp4EncodeMemory is the encoder's peak for one w×h frame: three pictures
// in 4:2:0 planes (source, reconstruction, reference), the bit buffers,
// and the output with a bytes.Buffer's slack, over a floor of 8 MiB for
// the encoder's tables and per-frame scratch (which the race detector's
// builds, whose pools keep nothing, allocate anew for every frame: 23.9 MiB
// in all for 20 noise frames of 320×240 against 16.6 without it).
func mp4EncodeMemory(w, h int, _ EncodeOptions) int64 {
	px := int64(w+16) * int64(h+16)
	return 8<<20 + 5*px + 4*mp4FrameBytes(w, h)
}

// planMP4 completes a plan whose output is MP4: quality, level, the
// profile warning, the limit on pixels encoded (Limits.MaxVideoPixels) and
// the memory of the frames' encoded samples, kept until the file is
// written. It is called by NewPlan for every plan.
func planMP4(pl *Plan, p Params, src SourceInfo, l Limits) error {
	if pl.Format != MP4 {
		return nil
	}
	pl.Quality, pl.OptimizeTarget = cmp0(p.Quality, DefaultMP4Quality), 0
	pl.Level = p.Level
	if p.Profile == ProfileMain || p.Profile == ProfileHigh {
		pl.Warnings = append(pl.Warnings, "profile="+string(p.Profile)+": encoded as Constrained Baseline, which "+string(p.Profile)+" decoders play")
	}
	frames := 1
	if pl.Animated {
		frames = max(src.Frames, 1)
	}
	w, h := pl.Width+pl.Width&1, pl.Height+pl.Height&1
	if _, _, err := mp4CheckSize(p.Level, w, h); err != nil {
		return err
	}
	if px := int64(w) * int64(h) * int64(frames); px > l.MaxVideoPixels {
		return fmt.Errorf("%w: MP4 output of %d frames of %dx%d (%d pixels) is over the limit of %d pixels", ErrJobTooLarge, frames, w, h, px, l.MaxVideoPixels)
	}
	pl.EncodeMemory += int64(frames-1) * 3 * mp4FrameBytes(w, h)
	return nil
}
