package imageopto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
)

// pollCounter is a context that counts its Err calls (the polls of the
// pipeline's loops) and the longest time between two of them.
type pollCounter struct {
	context.Context
	polls   atomic.Int64
	last    atomic.Int64 // UnixNano of the last poll
	maxGap  atomic.Int64
	started time.Time
	// expireAt, when set, is the poll from which Err reports
	// context.DeadlineExceeded: a deadline reached after a given amount of
	// work rather than of time, the same on a busy machine as on an idle one.
	expireAt int64
}

func newPollCounter(ctx context.Context) *pollCounter {
	c := &pollCounter{Context: ctx, started: time.Now()}
	c.last.Store(c.started.UnixNano())
	return c
}

func (c *pollCounter) Err() error {
	n := c.polls.Add(1)
	now := time.Now().UnixNano()
	if gap := now - c.last.Swap(now); gap > c.maxGap.Load() {
		c.maxGap.Store(gap)
	}
	if c.expireAt > 0 && n >= c.expireAt {
		return context.DeadlineExceeded
	}
	return c.Context.Err()
}

// checkStopped fails t unless err is what a stopped job returns: it wraps
// want, and neither ErrCorrupt nor ErrInternal, and has the status the
// handler gives it.
func checkStopped(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want one wrapping %v", err, want)
	}
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrInternal) {
		t.Errorf("a stopped job reported as %v", err)
	}
	status := http.StatusGatewayTimeout
	if want == context.Canceled {
		status = 499
	}
	if got := StatusCode(err); got != status {
		t.Errorf("status %d, want %d", got, status)
	}
}

// TestTransformStopsAtDeadline runs the jobs of issue 11 — a 64×64 JPEG
// blown up to 8192×8192 and written as PNG (49 s before the deadline was
// obeyed inside the work), as JPEG (the Y′CbCr path) and blurred — with a
// deadline that passes after a 16th of the job's work: the polls of the
// same job at 1024×1024, a 64th of the work, run to the end, times 64
// estimate the whole job's, and the context reports DeadlineExceeded from
// the 16th of them on (a deadline measured in work, not in time, so that
// the test means the same on a busy machine). Each job must fail with
// context.DeadlineExceeded, the handler's 504, having polled less than a
// quarter of the whole job's polls. Times are only logged; the server's
// real-time deadline is TestAttackDeadline's (cmd/imageopto).
func TestTransformStopsAtDeadline(t *testing.T) {
	t.Parallel()
	src := encodeJPEG(t, texturedPhoto(64, 64), 90, 0)
	for _, tc := range []struct{ name, query string }{
		{"png", "width=%d&height=%d&fit=crop&enable=upscale&format=png"},
		{"jpeg", "width=%d&height=%d&fit=crop&enable=upscale&format=jpeg"},
		{"blur", "width=%d&height=%d&fit=crop&enable=upscale&blur=50&format=jpeg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const scale = 8 // 8192 / 1024
			small, err := ParseParams(fmt.Sprintf(tc.query, 8192/scale, 8192/scale))
			require.NoError(t, err)
			big, err := ParseParams(fmt.Sprintf(tc.query, 8192, 8192))
			require.NoError(t, err)

			ref := newPollCounter(context.Background())
			res, err := TransformBytes(ref, src, small, nil)
			require.NoError(t, err)
			require.Equal(t, 8192/scale, res.Output.Width)
			fullPolls := scale * scale * ref.polls.Load()
			require.Greater(t, fullPolls, int64(64), "the job polls")

			c := newPollCounter(context.Background())
			c.expireAt = fullPolls / 16
			start := time.Now()
			_, err = TransformBytes(c, src, big, nil)
			elapsed := time.Since(start)
			checkStopped(t, err, context.DeadlineExceeded)
			t.Logf("deadline at poll %d: stopped after %v and %d polls (longest gap %v); the whole job: about %d polls",
				c.expireAt, elapsed.Round(time.Millisecond), c.polls.Load(), time.Duration(c.maxGap.Load()).Round(time.Microsecond), fullPolls)
			if p := c.polls.Load(); p > fullPolls/4 {
				t.Errorf("stopped after %d polls, a quarter of the job is %d", p, fullPolls/4)
			}
		})
	}
}

// TestTransformCancelEverywhere cancels jobs at a given poll instead of a
// given time (polltest.Check): every path of the pipeline — decoders, the
// steps, the encoders, the Y′CbCr path, animations, optimize= — must poll
// all through its work and stop right after the poll that sees the
// cancellation, with an error that wraps context.Canceled and that is
// neither ErrCorrupt nor ErrInternal.
func TestTransformCancelEverywhere(t *testing.T) {
	t.Parallel()
	photo := texturedPhoto(480, 320)
	jpg := encodeJPEG(t, photo, 90, 0)
	progressive := encodeOwnJPEG(t, photo, 0, true)
	alpha := texturedPhoto(480, 320)
	for i := 3; i < len(alpha.Pix); i += 4 {
		alpha.Pix[i] = uint8(i / 4 % 251)
	}
	png := encodePNG(t, alpha)
	anim := animatedGIF(t, 240, 160, 4)
	for _, tc := range []struct {
		name, query string
		data        []byte
	}{
		{"jpeg to png, enlarged", "width=900&format=png", jpg},
		{"jpeg, Y′CbCr path", "width=900&height=500&fit=crop&orient=r", jpg},
		{"progressive jpeg, Y′CbCr path", "width=300", progressive},
		{"jpeg shrunk on load", "width=100&format=png", progressive},
		{"filters", "blur=3&sharpen=a2,r2,t0&brightness=10&saturation=20&contrast=5&format=pjpg", jpg},
		{"bw atkinson", "bw=atkinson&format=gif", jpg},
		{"png geometry", "trim-color=auto&crop=400,300,smart&pad=20&canvas=600,420&format=png", png},
		{"png flattened", "bg-color=ff0000&format=jpeg&orient=3", png},
		{"png8", "format=png8&quality=80", png},
		{"gif", "format=gif&width=400", png},
		{"animation", "width=200", anim},
		{"mp4", "width=200&format=mp4", anim},
		{"mp4 from a still", "width=300&format=mp4", jpg},
		{"optimize", "optimize=medium&format=jpeg", jpg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseParams(tc.query)
			require.NoError(t, err)
			job := func(ctx context.Context) error {
				_, err := TransformBytes(ctx, tc.data, p, nil)
				if err != nil && (errors.Is(err, ErrCorrupt) || errors.Is(err, ErrInternal)) {
					t.Errorf("stopped job reported as %v", err)
				}
				return err
			}
			n := polltest.Check(t, job, 8)
			t.Logf("%d polls", n)
			_, err = TransformBytes(polltest.CancelAfter(n/3), tc.data, p, nil)
			checkStopped(t, err, context.Canceled)
		})
	}
}
