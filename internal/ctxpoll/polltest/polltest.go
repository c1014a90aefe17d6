// Package polltest provides a context for testing cancellation without
// timing: it is cancelled by the code under test itself, at a chosen poll.
package polltest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Context is a context that is cancelled at a given call of its Err method:
// the first n calls return nil, and every later call (and Err from then on)
// returns context.Canceled. Code that polls its context once per batch of
// work is thus stopped after a known number of polls, the same on every
// run and on any machine; Polls tells how many it made. Done is closed
// when Err first reports the cancellation. Context is safe for concurrent
// use.
type Context struct {
	n     int64
	polls atomic.Int64
	once  sync.Once
	done  chan struct{}
}

// CancelAfter returns a Context whose Err returns nil n times, then
// context.Canceled. CancelAfter(0) is done at the first poll.
func CancelAfter(n int) *Context {
	return &Context{n: int64(n), done: make(chan struct{})}
}

// Never returns a Context that is never cancelled but still counts polls,
// to measure how often a job polls.
func Never() *Context { return CancelAfter(int(^uint(0) >> 1)) }

// Err counts a poll and returns context.Canceled once more than n polls
// have been made.
func (c *Context) Err() error {
	if c.polls.Add(1) <= c.n {
		return nil
	}
	c.once.Do(func() { close(c.done) })
	return context.Canceled
}

// Polls returns the number of calls of Err so far.
func (c *Context) Polls() int { return int(c.polls.Load()) }

// Done returns a channel closed once Err has reported the cancellation.
func (c *Context) Done() <-chan struct{} { return c.done }

// Deadline returns no deadline.
func (c *Context) Deadline() (time.Time, bool) { return time.Time{}, false }

// Value returns nil: the context carries no values.
func (c *Context) Value(any) any { return nil }

// Slack is how many more polls than the one that reported the cancellation
// Check lets a stopped run make on its way out (code that checks the
// context once more before choosing which error to return).
const Slack = 2

// Check runs job three times and fails t unless it stops promptly when its
// context is cancelled, in terms of polls rather than time:
//
//   - under Never, job succeeds after at least minPolls polls (it polls
//     all through its work, not only at the start);
//   - under CancelAfter(0), a context done at the first poll, job returns
//     an error wrapping context.Canceled after at most 1+Slack polls;
//   - under CancelAfter(k), k half the polls of the full run, it returns
//     such an error after at most k+1+Slack polls: it stopped right after
//     the poll that saw the cancellation, with about half of its work
//     undone.
//
// It returns the number of polls of the full run.
func Check(t testing.TB, job func(ctx context.Context) error, minPolls int) int {
	t.Helper()
	full := Never()
	if err := job(full); err != nil {
		t.Fatalf("uncancelled run: %v", err)
	}
	n := full.Polls()
	if n < minPolls {
		t.Errorf("uncancelled run polled %d times, want at least %d", n, minPolls)
	}
	for _, k := range []int{0, n / 2} {
		ctx := CancelAfter(k)
		err := job(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at poll %d of %d: error %v, want one wrapping context.Canceled", k+1, n, err)
		}
		if p := ctx.Polls(); p > k+1+Slack {
			t.Errorf("cancelled at poll %d of %d: went on to poll %d times", k+1, n, p)
		}
	}
	return n
}
