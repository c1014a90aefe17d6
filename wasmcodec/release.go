package wasmcodec

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Giving memory back to the operating system.
//
// Every WebAssembly call instantiates a module whose linear memory is an
// ordinary Go byte slice, grown by copying as the C code asks for more, and
// dropped when the call returns: a large call leaves hundreds of MiB to
// GiBs of garbage. The garbage collector frees it at its next cycle, but the
// runtime hands freed pages back to the operating system only slowly (its
// background scavenger), so a burst of large calls leaves the process that
// much larger for minutes. After a call whose modelled peak is at least
// releaseThreshold, the package therefore asks for debug.FreeOSMemory (a
// collection, then every free page returned) once the large calls have
// stopped for releaseQuiet, or releaseMaxDelay after the first of a run
// of them if they never stop: never on a request's path (a timer's
// goroutine runs it), never for small images, and at most once per
// releaseQuiet.

const (
	// releaseThreshold is the modelled peak memory of a call that makes
	// the package give memory back after it. The models are worst cases
	// (noise with noisy alpha), so 256 MiB is a 1–2 MP encode or AVIF
	// decode (5 MP for HEIC), which really holds 100–250 MiB: the memory
	// of smaller calls is reused by the next ones or returned by the
	// runtime's background scavenger in due course.
	releaseThreshold = 256 << 20
	// releaseQuiet is how long after the last large call the memory is
	// given back.
	releaseQuiet = time.Second
	// releaseMaxDelay bounds the wait while large calls keep coming.
	releaseMaxDelay = 10 * time.Second
)

// releaser schedules the release of memory after large calls.
type releaser struct {
	quiet, maxDelay time.Duration
	free            func()

	mu      sync.Mutex
	pending bool        // a large call ended since the last release
	first   time.Time   // when the first of them ended
	last    time.Time   // when the latest ended
	timer   *time.Timer // armed while pending

	releases atomic.Int64 // releases done, for tests
	calls    atomic.Int64 // WebAssembly calls made, for tests
}

// memory is the package's releaser.
var memory = &releaser{quiet: releaseQuiet, maxDelay: releaseMaxDelay, free: debug.FreeOSMemory}

// after records the end of a WebAssembly call whose modelled peak memory
// was peak bytes, scheduling a release when it was large. It returns at
// once.
func (r *releaser) after(peak int64) {
	r.calls.Add(1)
	if peak >= releaseThreshold {
		r.schedule()
	}
}

// schedule arranges for a release once large calls have stopped for
// quiet (or maxDelay after the first of them). It returns at once.
func (r *releaser) schedule() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if !r.pending {
		r.pending, r.first = true, now
	}
	r.last = now
	if r.timer == nil {
		r.timer = time.AfterFunc(min(r.quiet, r.maxDelay), r.fire)
	}
}

// fire releases the memory when it is due, else waits until it is.
func (r *releaser) fire() {
	r.mu.Lock()
	due := r.last.Add(r.quiet)
	if limit := r.first.Add(r.maxDelay); limit.Before(due) {
		due = limit
	}
	if wait := time.Until(due); wait > 0 {
		r.timer.Reset(wait)
		r.mu.Unlock()
		return
	}
	r.pending, r.timer = false, nil
	r.mu.Unlock()
	r.free()
	r.releases.Add(1)
}
