// Package ctxpoll lets the long loops of the image pipeline — resamplers,
// filters, quantisers, encoders and decoders — stop soon after their
// context is done, without slowing them down.
//
// A loop counts the work it does with a Poller, typically once per row;
// the Poller calls ctx.Err() only once every Interval units of work, so
// that even narrow images, whose rows are cheap, do not pay for a poll per
// row, while wide ones are polled every few rows. A unit is one sample (one
// byte of an 8-bit channel) read or written by a tight loop, a few
// nanoseconds of work at most: Interval units take from about 0.1 to 1 ms.
// Loops whose work per sample is much larger count it as several units.
//
// Reader and Writer do the same for code that does not take a context but
// reads or writes through an io.Reader or io.Writer (the standard library's
// PNG, GIF and JPEG codecs): once ctx is done every Read or Write fails
// with ctx.Err(), so the decoder or encoder gives up at its next read or
// write.
//
// Errors returned on cancellation are ctx.Err() itself, never wrapped in a
// package's own sentinel (a stopped job is neither corrupt input nor an
// internal failure); Stopped recognises them.
package ctxpoll

import (
	"context"
	"errors"
	"io"
)

// Interval is the work, in units (see the package documentation), between
// two polls of the context.
const Interval = 1 << 16

// Poller polls a context for cancellation once per Interval units of work.
// The zero Poller, and one made from a nil context, never reports
// cancellation. A Poller is used by one goroutine.
type Poller struct {
	ctx  context.Context
	left int
}

// New returns a Poller for ctx. Its first Work call polls, so that a job
// whose context is done already stops before doing anything.
func New(ctx context.Context) Poller { return Poller{ctx: ctx} }

// Work counts n units of work. When at least Interval units have been
// counted since the last poll (or none was made yet), it polls the context
// and returns ctx.Err(); otherwise it returns nil at the cost of a
// subtraction.
func (p *Poller) Work(n int) error {
	p.left -= n
	if p.left > 0 {
		return nil
	}
	return p.Err()
}

// Err polls the context now and returns ctx.Err(), restarting the count
// towards the next poll. Once it has returned an error, every later Work
// call polls again (and gets the error again: a done context stays done).
func (p *Poller) Err() error {
	if p.ctx == nil {
		p.left = Interval
		return nil
	}
	err := p.ctx.Err()
	if err == nil {
		p.left = Interval
	} else {
		p.left = 0
	}
	return err
}

// Stopped reports whether err comes from a context that was done: it
// wraps context.Canceled or context.DeadlineExceeded.
func Stopped(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Reader returns r wrapped so that once ctx is done every Read fails with
// ctx.Err() instead of reading.
func Reader(ctx context.Context, r io.Reader) io.Reader { return &reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (r *reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// Writer returns w wrapped so that once ctx is done every Write fails with
// ctx.Err() instead of writing.
func Writer(ctx context.Context, w io.Writer) io.Writer { return &writer{ctx, w} }

type writer struct {
	ctx context.Context
	w   io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}
