package rediscache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a settable time source.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestBreaker(t *testing.T) {
	t.Parallel()
	// Each step is an operation: allow, then (when allowed) done with its
	// outcome, or a clock advance. want* describe the allow result and the
	// state afterwards.
	type step struct {
		advance   time.Duration
		outcome   outcome
		wantOK    bool
		wantProbe bool
		wantState BreakerState
	}
	ok := func(o outcome, st BreakerState) step { return step{outcome: o, wantOK: true, wantState: st} }
	probe := func(o outcome, st BreakerState) step {
		return step{outcome: o, wantOK: true, wantProbe: true, wantState: st}
	}
	refused := func(st BreakerState) step { return step{wantState: st} }
	wait := func(d time.Duration, st BreakerState) step { return step{advance: d, wantState: st} }
	const cool = 5 * time.Second

	tests := []struct {
		name  string
		steps []step
	}{
		{"successes keep it closed", []step{
			ok(success, BreakerClosed), ok(success, BreakerClosed), ok(neutral, BreakerClosed),
		}},
		{"threshold consecutive failures open it", []step{
			ok(failure, BreakerClosed), ok(failure, BreakerClosed), ok(failure, BreakerOpen),
			refused(BreakerOpen), refused(BreakerOpen),
		}},
		{"a success resets the count", []step{
			ok(failure, BreakerClosed), ok(failure, BreakerClosed), ok(success, BreakerClosed),
			ok(failure, BreakerClosed), ok(failure, BreakerClosed), ok(failure, BreakerOpen),
		}},
		{"neutral outcomes neither count nor reset", []step{
			ok(failure, BreakerClosed), ok(neutral, BreakerClosed), ok(failure, BreakerClosed),
			ok(failure, BreakerOpen),
		}},
		{"probe after cool-down closes on success", []step{
			ok(failure, BreakerClosed), ok(failure, BreakerClosed), ok(failure, BreakerOpen),
			wait(cool-time.Millisecond, BreakerOpen), refused(BreakerOpen),
			wait(time.Millisecond, BreakerOpen), probe(success, BreakerClosed),
			ok(success, BreakerClosed),
		}},
		{"failed probe opens for another cool-down", []step{
			ok(failure, BreakerClosed), ok(failure, BreakerClosed), ok(failure, BreakerOpen),
			wait(cool, BreakerOpen), probe(failure, BreakerOpen),
			refused(BreakerOpen), wait(cool-time.Millisecond, BreakerOpen), refused(BreakerOpen),
			wait(time.Millisecond, BreakerOpen), probe(success, BreakerClosed),
		}},
		{"neutral probe lets the next operation probe", []step{
			ok(failure, BreakerClosed), ok(failure, BreakerClosed), ok(failure, BreakerOpen),
			wait(cool, BreakerOpen), probe(neutral, BreakerOpen), probe(success, BreakerClosed),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{t: time.Unix(1e9, 0)}
			b := &breaker{threshold: 3, cooldown: cool, now: clk.now}
			for i, s := range tt.steps {
				if s.advance > 0 {
					clk.advance(s.advance)
				} else {
					gotProbe, gotOK := b.allow()
					require.Equal(t, s.wantOK, gotOK, "step %d: allowed", i)
					require.Equal(t, s.wantProbe, gotProbe, "step %d: probe", i)
					if gotOK {
						b.done(gotProbe, s.outcome)
					}
				}
				state, _ := b.snapshot()
				require.Equal(t, s.wantState, state, "step %d: state", i)
			}
		})
	}
}

func TestBreakerHalfOpenAdmitsOneProbe(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	b := &breaker{threshold: 1, cooldown: time.Second, now: clk.now}
	_, ok := b.allow()
	require.True(t, ok)
	b.done(false, failure)
	clk.advance(time.Second)

	probe, ok := b.allow()
	require.True(t, ok)
	require.True(t, probe)
	state, trips := b.snapshot()
	assert.Equal(t, BreakerHalfOpen, state)
	assert.Equal(t, int64(1), trips)
	for range 3 { // others are refused while the probe is out
		_, ok := b.allow()
		assert.False(t, ok)
	}
	// A straggler that started while closed does not close it.
	b.done(false, success)
	state, _ = b.snapshot()
	assert.Equal(t, BreakerHalfOpen, state)

	b.done(true, failure)
	state, trips = b.snapshot()
	assert.Equal(t, BreakerOpen, state)
	assert.Equal(t, int64(2), trips)
}

func TestBreakerStateString(t *testing.T) {
	t.Parallel()
	for s, want := range map[BreakerState]string{
		BreakerClosed: "closed", BreakerOpen: "open", BreakerHalfOpen: "half-open", 7: "BreakerState(7)",
	} {
		assert.Equal(t, want, s.String())
	}
}
