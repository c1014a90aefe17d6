package ctxpoll_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/imageopto/imageopto/internal/ctxpoll"
	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
)

// TestPollerPollsOncePerInterval counts the polls of a Poller fed with
// batches of work of various sizes: the first Work polls, then one poll
// follows each Interval units.
func TestPollerPollsOncePerInterval(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		batch, calls int
		want         int
	}{
		{batch: 1, calls: 3 * ctxpoll.Interval, want: 3},
		{batch: 100, calls: 10 * ctxpoll.Interval / 100, want: 10},
		{batch: ctxpoll.Interval, calls: 7, want: 7},
		{batch: 3 * ctxpoll.Interval, calls: 5, want: 5}, // a huge batch polls once, not three times
		{batch: 0, calls: 1000, want: 1},
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.calls, tc.batch), func(t *testing.T) {
			t.Parallel()
			ctx := polltest.Never()
			p := ctxpoll.New(ctx)
			for range tc.calls {
				if err := p.Work(tc.batch); err != nil {
					t.Fatal(err)
				}
			}
			if got := ctx.Polls(); got != tc.want {
				t.Errorf("%d polls, want %d", got, tc.want)
			}
		})
	}
}

// TestPollerStopsAndStays checks that Work returns the context's error at
// the poll that sees it, and at every later call.
func TestPollerStopsAndStays(t *testing.T) {
	t.Parallel()
	ctx := polltest.CancelAfter(2)
	p := ctxpoll.New(ctx)
	var errs int
	for i := range 10 * ctxpoll.Interval {
		err := p.Work(1)
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("unit %d: %v", i, err)
		}
		if err == nil && errs > 0 {
			t.Fatalf("unit %d: nil after an error", i)
		}
		if err != nil {
			if errs == 0 && i != 2*ctxpoll.Interval {
				t.Errorf("first error at unit %d, want %d (the third poll)", i, 2*ctxpoll.Interval)
			}
			errs++
		}
	}
	if errs == 0 {
		t.Fatal("never stopped")
	}
}

// TestPollerNilContext checks that the zero Poller and one made from a nil
// context never report cancellation.
func TestPollerNilContext(t *testing.T) {
	t.Parallel()
	var zero ctxpoll.Poller
	//lint:ignore SA1012 a nil context is what this test checks
	fromNil := ctxpoll.New(nil)
	for range 3 {
		if err := zero.Work(ctxpoll.Interval); err != nil {
			t.Fatal(err)
		}
		if err := fromNil.Work(ctxpoll.Interval); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReaderWriter checks the wrappers: they pass data through while the
// context lives and fail with its error once it is done.
func TestReaderWriter(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	r := ctxpoll.Reader(ctx, strings.NewReader("abcdef"))
	var out bytes.Buffer
	w := ctxpoll.Writer(ctx, &out)
	buf := make([]byte, 3)
	if n, err := r.Read(buf); n != 3 || err != nil {
		t.Fatalf("Read: %d, %v", n, err)
	}
	if n, err := w.Write(buf); n != 3 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	cancel()
	if n, err := r.Read(buf); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel: %d, %v", n, err)
	}
	if n, err := w.Write(buf); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Write after cancel: %d, %v", n, err)
	}
	if out.String() != "abc" {
		t.Errorf("wrote %q", out.String())
	}
	if _, err := io.ReadAll(ctxpoll.Reader(context.Background(), strings.NewReader("x"))); err != nil {
		t.Errorf("ReadAll: %v", err)
	}
}

// TestStopped lists the errors Stopped recognises.
func TestStopped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{context.Canceled, true},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("decoding: %w", context.DeadlineExceeded), true},
		{io.ErrUnexpectedEOF, false},
		{nil, false},
	} {
		if got := ctxpoll.Stopped(tc.err); got != tc.want {
			t.Errorf("Stopped(%v) = %v", tc.err, got)
		}
	}
}
