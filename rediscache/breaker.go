package rediscache

import (
	"strconv"
	"sync"
	"time"
)

// BreakerState is the state of a Cache's circuit breaker.
type BreakerState int

// The breaker's states.
const (
	// BreakerClosed lets every operation through to Redis.
	BreakerClosed BreakerState = iota
	// BreakerOpen refuses every operation without contacting Redis until
	// the cool-down has passed.
	BreakerOpen
	// BreakerHalfOpen lets one probe operation through after the
	// cool-down and refuses the others until the probe's outcome is known.
	BreakerHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return "BreakerState(" + strconv.Itoa(int(s)) + ")"
}

// outcome is what an operation says about Redis.
type outcome int

const (
	success outcome = iota // Redis answered (a value, a miss or an error reply)
	failure                // Redis did not answer in time, or not at all
	neutral                // nothing learnt (the caller gave up)
)

// breaker is a consecutive-failure circuit breaker. With concurrent
// operations "consecutive" is in order of completion: any success resets
// the count.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	mu        sync.Mutex
	state     BreakerState
	failures  int       // consecutive failures while closed
	openUntil time.Time // end of the cool-down while open
	trips     int64
}

// allow reports whether an operation may contact Redis (ok), and whether it
// is the half-open probe, which must report its outcome with done.
func (b *breaker) allow() (probe, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return false, true
	case BreakerOpen:
		if b.now().Before(b.openUntil) {
			return false, false
		}
		b.state = BreakerHalfOpen
		return true, true
	default: // half-open: the probe is in flight
		return false, false
	}
}

// done records the outcome of an operation that allow let through.
func (b *breaker) done(probe bool, o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		switch o {
		case success:
			b.state, b.failures = BreakerClosed, 0
		case failure:
			b.trip()
		case neutral:
			// No verdict: the next operation probes again at once.
			b.state = BreakerOpen
		}
		return
	}
	if b.state != BreakerClosed {
		return // a straggler that started before the breaker opened
	}
	switch o {
	case success:
		b.failures = 0
	case failure:
		b.failures++
		if b.failures >= b.threshold {
			b.trip()
		}
	}
}

func (b *breaker) trip() {
	b.state = BreakerOpen
	b.openUntil = b.now().Add(b.cooldown)
	b.failures = 0
	b.trips++
}

func (b *breaker) snapshot() (BreakerState, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.trips
}
