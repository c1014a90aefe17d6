// Package polltest provides a context for testing cancellation without
// timing: it is cancelled by the code under test itself, at a chosen poll.
package polltest

import (
	"context"
	"sync"
	"sync/atomic"
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
