package imageopto

// This file is admission control: CPU slots, the memory budget, the
// per-job ceiling, heavy slots, origin fetch slots and the bounded queue.

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// admission decides when work may start, so that no request takes more
// than its share of the machine:
//
//   - a transformation takes a CPU slot (MaxConcurrent) and its estimated
//     memory from the shared budget (MemoryBudget); one whose estimate is
//     over the per-job ceiling (MaxJobMemory) is refused before any work;
//   - a heavy transformation (an estimate over a quarter of the ceiling)
//     also takes one of fewer heavy slots (half the CPU slots, at least
//     one), so that the other slots stay free for cheap requests while
//     expensive ones run;
//   - an origin fetch takes a fetch slot (MaxFetches) and reserves the
//     largest original it may bring (Limits.MaxSourceBytes) from the same
//     memory budget while it reads;
//   - whoever cannot start at once waits at most QueueTimeout, behind at
//     most MaxQueue others, and then gets ErrOverloaded (503).
type admission struct {
	slots    chan struct{} // CPU slots
	heavy    chan struct{} // heavy-job slots
	fetches  chan struct{} // origin fetches in progress
	memory   *semaphore.Weighted
	waiting  atomic.Int64
	inUse    atomic.Int64 // bytes of memory taken (for Gauges)
	maxQueue int64
	timeout  time.Duration
	ceiling  int64 // MaxJobMemory
}

func newAdmission(o *Options) *admission {
	return &admission{
		slots:    make(chan struct{}, o.MaxConcurrent),
		heavy:    make(chan struct{}, max(1, o.MaxConcurrent/2)),
		fetches:  make(chan struct{}, o.MaxFetches),
		memory:   semaphore.NewWeighted(o.MemoryBudget),
		maxQueue: int64(o.MaxQueue),
		timeout:  o.QueueTimeout,
		ceiling:  o.MaxJobMemory,
	}
}

// tryMem takes n bytes of the budget if they are free now.
func (a *admission) tryMem(n int64) bool {
	if a.memory.TryAcquire(n) {
		a.inUse.Add(n)
		return true
	}
	return false
}

// acquireMem waits for n bytes of the budget until ctx ends.
func (a *admission) acquireMem(ctx context.Context, n int64) error {
	if err := a.memory.Acquire(ctx, n); err != nil {
		return err
	}
	a.inUse.Add(n)
	return nil
}

// releaseMem gives n bytes back.
func (a *admission) releaseMem(n int64) {
	a.inUse.Add(-n)
	a.memory.Release(n)
}

// isHeavy reports whether a job of this estimate must take a heavy slot.
func (a *admission) isHeavy(need int64) bool { return need > a.ceiling/4 }

// hold takes n bytes of the budget for an original that a job is about to
// use, waiting like a queued job: originals waiting for their
// transformation are inside the budget too.
func (a *admission) hold(ctx context.Context, n int64) (release func(), err error) {
	if n <= 0 || a.tryMem(n) {
		return func() { a.releaseMem(max(n, 0)) }, nil
	}
	wctx, done, err := a.queue(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := a.acquireMem(wctx, n); err != nil {
		return nil, a.timedOut(ctx, bytesString(n)+" of memory for the original not free")
	}
	return func() { a.releaseMem(n) }, nil
}

// job admits a transformation that needs need bytes. It returns the
// function that gives everything back, to be called once the work has
// really ended (not when its caller stops waiting for it).
func (a *admission) job(ctx context.Context, need int64) (release func(), err error) {
	if err := a.fits(need); err != nil {
		return nil, err
	}
	heavy := a.isHeavy(need)
	// Fast path: everything free now, no queueing.
	if a.tryJob(need, heavy) {
		return func() { a.releaseJob(need, heavy) }, nil
	}
	wctx, done, err := a.queue(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if heavy {
		if err := a.take(ctx, wctx, a.heavy, "no slot for a large transformation"); err != nil {
			return nil, err
		}
	}
	if err := a.acquireMem(wctx, need); err != nil {
		if heavy {
			<-a.heavy
		}
		return nil, a.timedOut(ctx, bytesString(need)+" of memory not free")
	}
	if err := a.take(ctx, wctx, a.slots, "no transformation slot"); err != nil {
		a.releaseMem(need)
		if heavy {
			<-a.heavy
		}
		return nil, err
	}
	return func() { a.releaseJob(need, heavy) }, nil
}

// lend takes up to n more CPU slots for a job that has its own, if they
// are free now and no request waits for one: an idle server lends its
// spare cores to the transformation it runs. It returns how many it took
// and the function that gives them back (with the job's own release).
func (a *admission) lend(n int) (int, func()) {
	got := 0
	for got < n && a.waiting.Load() == 0 {
		select {
		case a.slots <- struct{}{}:
			got++
			continue
		default:
		}
		break
	}
	return got, func() {
		for range got {
			<-a.slots
		}
	}
}

// fits refuses a job whose estimate is over the per-job ceiling.
func (a *admission) fits(need int64) error {
	if need > a.ceiling {
		return fmt.Errorf("%w: the transformation needs an estimated %s of memory, over the per-job limit of %s", ErrJobTooLarge, bytesString(need), bytesString(a.ceiling))
	}
	return nil
}

// tryJob takes what a job needs if all of it is free now.
func (a *admission) tryJob(need int64, heavy bool) bool {
	select {
	case a.slots <- struct{}{}:
	default:
		return false
	}
	if heavy {
		select {
		case a.heavy <- struct{}{}:
		default:
			<-a.slots
			return false
		}
	}
	if !a.tryMem(need) {
		<-a.slots
		if heavy {
			<-a.heavy
		}
		return false
	}
	return true
}

func (a *admission) releaseJob(need int64, heavy bool) {
	<-a.slots
	if heavy {
		<-a.heavy
	}
	a.releaseMem(need)
}

// fetch admits an origin fetch that may bring up to limit bytes.
func (a *admission) fetch(ctx context.Context, limit int64) (release func(), err error) {
	limit = min(limit, a.ceiling)
	select {
	case a.fetches <- struct{}{}:
		if a.tryMem(limit) {
			return func() { a.releaseFetch(limit) }, nil
		}
		<-a.fetches
	default:
	}
	wctx, done, err := a.queue(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := a.take(ctx, wctx, a.fetches, "no origin fetch slot"); err != nil {
		return nil, err
	}
	if err := a.acquireMem(wctx, limit); err != nil {
		<-a.fetches
		return nil, a.timedOut(ctx, bytesString(limit)+" of memory for the original not free")
	}
	return func() { a.releaseFetch(limit) }, nil
}

func (a *admission) releaseFetch(limit int64) {
	<-a.fetches
	a.releaseMem(limit)
}

// queue enters the wait queue, or refuses when it is full. The returned
// context ends after QueueTimeout.
func (a *admission) queue(ctx context.Context) (context.Context, func(), error) {
	if a.waiting.Add(1) > a.maxQueue {
		a.waiting.Add(-1)
		return nil, nil, fmt.Errorf("%w: queue full", ErrOverloaded)
	}
	wctx, cancel := context.WithTimeout(ctx, a.timeout)
	return wctx, func() { cancel(); a.waiting.Add(-1) }, nil
}

// take waits for a slot of ch until wctx ends.
func (a *admission) take(ctx, wctx context.Context, ch chan struct{}, what string) error {
	select {
	case ch <- struct{}{}:
		return nil
	case <-wctx.Done():
		return a.timedOut(ctx, what)
	}
}

// timedOut is the error of a wait that ended: the caller's own end, or
// ErrOverloaded when the queue timeout ran out first.
func (a *admission) timedOut(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s within %v", ErrOverloaded, what, a.timeout)
}

// bytesString writes a byte count for people: "1.3 MiB", "512 MiB".
func bytesString(n int64) string {
	switch {
	case n >= 100<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}
