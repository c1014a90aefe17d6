package imageopto

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJobCeiling: a job whose estimate is over MaxJobMemory is refused with
// 422 naming the limit, before any work (no transformation runs), whatever
// the budget's state; a job under it runs. The expensive requests of issue
// 11 on a 64×64 JPEG are each refused by the ceiling or by an encoder's
// own limit, with the default options.
func TestJobCeiling(t *testing.T) {
	t.Parallel()
	small := encodeJPEG(t, photoLike(64, 64), 85, 0)
	codecs := []Codec{
		{Format: WebP, Encode: fakeEncode, EncodeMemory: func(w, h int, o EncodeOptions) int64 { return 30 * int64(w) * int64(h) }},
		{Format: AVIF, Encode: fakeEncode, EncodeMemory: func(w, h int, o EncodeOptions) int64 { return 100 * int64(w) * int64(h) }},
	}
	o := newFakeOrigin(map[string][]byte{"small.jpg": small})
	h := newTestHandler(t, o, &Options{Transform: TransformOptions{PlanOptions: PlanOptions{Codecs: codecs}}})
	assert.Equal(t, int64(1<<30), h.opts.MemoryBudget)
	assert.Equal(t, int64(512<<20), h.opts.MaxJobMemory, "default: half the budget")
	cases := []struct {
		query  string
		status int
		reason string // in the body
	}{
		{"canvas=8192,8192&format=avif", 422, "over the AVIF limit of 2100000 pixels"},
		{"canvas=8192,8192&format=webpll", 422, "over the lossless WebP limit"},
		{"canvas=8192,8192&format=png", 422, "over the per-job limit of 512 MiB"},
		{"canvas=8192,8192&format=webp", 422, "over the per-job limit of 512 MiB"},
		{"pad=4000&format=png", 422, "over the per-job limit of 512 MiB"},
		{"width=8192&height=8192&fit=crop&enable=upscale&format=png", 422, "over the per-job limit"},
		{"width=300", 200, ""},
	}
	for _, c := range cases {
		before := h.Transforms()
		w := get(h, "/small.jpg?"+c.query)
		require.Equal(t, c.status, w.Code, "%s: %s", c.query, w.Body.String())
		if c.status != 200 {
			assert.Contains(t, w.Body.String(), c.reason, c.query)
			assert.Contains(t, w.Body.String(), "transformation exceeds limits", c.query)
			assert.Equal(t, before, h.Transforms(), "%s: refused before any work", c.query)
		}
	}
	// The refusal is StatusCode 422 for library users too.
	_, err := h.admit.job(context.Background(), h.opts.MaxJobMemory+1)
	assert.True(t, errors.Is(err, ErrJobTooLarge))
	assert.Equal(t, http.StatusUnprocessableEntity, StatusCode(err))
	// A ceiling over the budget is a configuration error.
	_, err = New(o, &Options{MemoryBudget: 1 << 20, MaxJobMemory: 2 << 20})
	assert.ErrorContains(t, err, "MaxJobMemory")
}

// fakeEncode is an encoder that writes nothing (for plans that are refused
// before encoding).
func fakeEncode(_ context.Context, _ io.Writer, _ *image.NRGBA, _ EncodeOptions) error {
	return errors.New("not expected to encode")
}

// TestHeavyJobsLeaveRoom: while heavy jobs (over a quarter of the ceiling)
// hold every heavy slot, cheap jobs are still admitted at once on the other
// slots, and a further heavy job waits and then gets 503.
func TestHeavyJobsLeaveRoom(t *testing.T) {
	t.Parallel()
	a := newAdmission(&Options{MaxConcurrent: 4, MaxQueue: 8, MemoryBudget: 1 << 30, MaxJobMemory: 512 << 20,
		MaxFetches: 4, QueueTimeout: 50 * time.Millisecond})
	heavy := int64(200 << 20)
	require.True(t, a.isHeavy(heavy))
	var releases []func()
	for range 2 { // half of 4 slots run heavy jobs
		r, err := a.job(context.Background(), heavy)
		require.NoError(t, err)
		releases = append(releases, r)
	}
	_, err := a.job(context.Background(), heavy)
	assert.True(t, errors.Is(err, ErrOverloaded), "a third heavy job waits, then 503: %v", err)
	for range 2 {
		r, err := a.job(context.Background(), 1<<20)
		require.NoError(t, err, "cheap jobs still run beside the heavy ones")
		releases = append(releases, r)
	}
	_, err = a.job(context.Background(), 1<<20)
	assert.True(t, errors.Is(err, ErrOverloaded), "all four slots taken: %v", err)
	for _, r := range releases {
		r()
	}
	r, err := a.job(context.Background(), heavy)
	require.NoError(t, err, "everything was given back")
	r()
	assert.Equal(t, 0, len(a.slots)+len(a.heavy)+len(a.fetches))
	assert.True(t, a.memory.TryAcquire(1<<30), "the whole budget is free again")
}

// TestFetchesBounded: at most MaxFetches origin fetches run at once, each
// reserving the largest original it may bring from the memory budget; the
// others wait, and all are served in the end.
func TestFetchesBounded(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{}
	for i := range 12 {
		files[fmt.Sprintf("f%d.png", i)] = samplePNG(t)
	}
	var running, peak atomic.Int64
	release := make(chan struct{})
	inner := newFakeOrigin(files)
	origin := OriginFunc(func(ctx context.Context, req FetchRequest) (*Source, error) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		defer running.Add(-1)
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return inner.Fetch(ctx, req)
	})
	h := newTestHandler(t, origin, &Options{MaxFetches: 3, QueueTimeout: 20 * time.Second,
		Transform:    TransformOptions{PlanOptions: PlanOptions{Limits: Limits{MaxSourceBytes: 100 << 20}}},
		MemoryBudget: 1 << 30})
	var wg sync.WaitGroup
	codes := make([]int, 12)
	for i := range 12 {
		wg.Go(func() { codes[i] = get(h, fmt.Sprintf("/f%d.png?width=20", i)).Code })
	}
	require.Eventually(t, func() bool { return running.Load() == 3 }, 10*time.Second, time.Millisecond)
	// Three fetches hold 3 × 100 MiB of the budget while they read.
	assert.False(t, h.admit.memory.TryAcquire((1<<30)-300<<20+1), "fetches reserve their cap in the budget")
	close(release)
	wg.Wait()
	for i, c := range codes {
		assert.Equal(t, 200, c, "request %d", i)
	}
	assert.Equal(t, int64(3), peak.Load(), "never more than MaxFetches at once")
}

// TestRefusalsKept: an original refused for its size, or empty, is refused
// once: later requests for any size of it are answered from the source
// cache without asking the origin, until NotFoundTTL runs out.
func TestRefusalsKept(t *testing.T) {
	t.Parallel()
	big := make([]byte, 2000)
	o := newFakeOrigin(map[string][]byte{"big.png": big, "empty.png": {}})
	limited := OriginFunc(func(ctx context.Context, req FetchRequest) (*Source, error) {
		src, err := o.Fetch(ctx, req)
		if err == nil && len(src.Data) > 1000 {
			return nil, fmt.Errorf("%w: original over 1000 bytes", ErrSourceTooLarge)
		}
		return src, err
	})
	h := newTestHandler(t, limited, nil)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	h.now = func() time.Time { return time.Unix(0, clock.Load()) }
	for _, path := range []string{"/big.png", "/empty.png"} {
		before := o.fetches.Load()
		for i := range 5 {
			w := get(h, fmt.Sprintf("%s?width=%d", path, 10+i))
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, path)
		}
		assert.Equal(t, before+1, o.fetches.Load(), "%s: one origin fetch for five sizes", path)
	}
	clock.Add(int64(31 * time.Second)) // past NotFoundTTL
	before := o.fetches.Load()
	assert.Equal(t, http.StatusUnprocessableEntity, get(h, "/big.png?width=99").Code)
	assert.Equal(t, before+1, o.fetches.Load(), "asked again once the refusal expired")
}

// TestFlightDeadline: a transformation that does not stop by itself (like
// a WebAssembly encoder) answers 504 at FlightTimeout; its slot and memory
// are given back only when the work really ends.
func TestFlightDeadline(t *testing.T) {
	t.Parallel()
	unblock := make(chan struct{})
	stuck := StepFunc{Name: "stuck", Func: func(_ context.Context, img *image.NRGBA) (*image.NRGBA, error) {
		<-unblock // ignores its context, as a codec that cannot be stopped
		return img, nil
	}}
	o := newFakeOrigin(map[string][]byte{"a.png": samplePNG(t)})
	h := newTestHandler(t, o, &Options{MaxConcurrent: 1, FlightTimeout: 200 * time.Millisecond,
		QueueTimeout: 50 * time.Millisecond, Transform: TransformOptions{Steps: []Step{stuck}}})
	w := get(h, "/a.png?width=10")
	assert.Equal(t, http.StatusGatewayTimeout, w.Code, w.Body.String())
	// The stuck work still holds the only slot: the next job waits, then 503.
	w = get(h, "/a.png?width=11")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	close(unblock)
	require.Eventually(t, func() bool { return len(h.admit.slots) == 0 }, 10*time.Second, time.Millisecond)
	assert.True(t, h.admit.memory.TryAcquire(h.opts.MemoryBudget), "memory given back when the work ended")
	h.admit.memory.Release(h.opts.MemoryBudget)
	h.opts.Transform.Steps = nil
	assert.Equal(t, http.StatusOK, get(h, "/a.png?width=12").Code)
}

// TestLendIdleSlots: a job may borrow CPU slots only while they are idle
// and no request waits, and gives them back.
func TestLendIdleSlots(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name            string
		slots, taken    int
		waiting         int64
		ask, want, left int
	}{
		{"idle machine", 2, 1, 0, 1, 1, 0},
		{"every slot busy", 2, 2, 0, 1, 0, 0},
		{"a request waits", 4, 1, 1, 1, 0, 3},
		{"asks for more than is idle", 4, 2, 0, 3, 2, 0},
		{"one slot", 1, 1, 0, 1, 0, 0},
	}
	for _, c := range cases {
		a := newAdmission(&Options{MaxConcurrent: c.slots, MaxQueue: 8, MemoryBudget: 1 << 30, MaxJobMemory: 512 << 20, MaxFetches: 4, QueueTimeout: time.Second})
		for range c.taken {
			a.slots <- struct{}{}
		}
		a.waiting.Store(c.waiting)
		got, giveBack := a.lend(c.ask)
		assert.Equal(t, c.want, got, c.name)
		assert.Equal(t, c.left, cap(a.slots)-len(a.slots), "%s: idle slots while lent", c.name)
		giveBack()
		assert.Equal(t, c.taken, len(a.slots), "%s: given back", c.name)
	}
}

// TestHandlerLendsThreads: on an idle Handler a planar job runs with two
// goroutines and gives the borrowed slot back; a job of the RGB path, a
// Handler whose Threads is set, or one with every slot busy runs with the
// given number.
func TestHandlerLendsThreads(t *testing.T) {
	t.Parallel()
	src := encodeJPEG(t, photoLike(640, 480), 85, 0)
	cases := []struct {
		name    string
		query   string
		threads int // Options.Transform.Threads
		busy    int // slots held by others
		want    int
	}{
		{"planar, idle", "width=200", 0, 0, 2},
		{"planar, Threads set", "width=200", 1, 0, 1},
		{"planar, Threads 3", "width=200", 3, 0, 3},
		{"planar, busy", "width=200", 0, 1, 1},
		{"RGB path", "width=200&blur=2", 0, 0, 1},
	}
	for _, c := range cases {
		h, err := New(newFakeOrigin(map[string][]byte{"a.jpg": src}), &Options{MaxConcurrent: 2, Transform: TransformOptions{Threads: c.threads}})
		require.NoError(t, err)
		for range c.busy {
			h.admit.slots <- struct{}{}
		}
		p, err := ParseParams(c.query)
		require.NoError(t, err)
		res, err := h.transform(context.Background(), &job{path: "a.jpg", params: p}, src)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, res.threads, c.name)
		require.Eventually(t, func() bool { return len(h.admit.slots) == c.busy }, 5*time.Second, time.Millisecond, "%s: slots given back", c.name)
	}
}
