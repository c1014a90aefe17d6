package imageopto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPurgeAlone: one handler, an original that changes at the origin
// while its results are fresh in the cache.
func TestPurgeAlone(t *testing.T) {
	t.Parallel()
	oldPNG, newPNG := encodePNG(t, quadrants(100, 100)), samplePNG(t)
	for _, tc := range []struct {
		name string
		// purge runs after the first round of requests and the change at
		// the origin; originDown fails the origin after the purge.
		soft, originDown bool
		wantCode         int
		wantNew          bool   // the body is made from the new original
		wantWarning      string // in the warning header
		wantFetches      int64  // origin fetches caused by the purge
		tierFetches      int64  // … through a tier, when different
	}{
		{name: "hard purge refetches", wantCode: http.StatusOK, wantNew: true, wantFetches: 1},
		{name: "hard purge with the origin down fails", originDown: true, wantCode: http.StatusBadGateway, wantFetches: 1},
		{name: "soft purge revalidates", soft: true, wantCode: http.StatusOK, wantNew: true, wantFetches: 1},
		// With a stale copy in hand, a failure is not remembered: each size
		// asks the origin.
		// (Through a tier, the owner keeps the failure in the record.)
		{name: "soft purge with the origin down serves stale", soft: true, originDown: true, wantCode: http.StatusOK,
			wantWarning: "stale", wantFetches: 2, tierFetches: 1},
	} {
		for _, tier := range []bool{false, true} {
			name := tc.name
			if tier {
				name += " through a tier"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				o := newFakeOrigin(map[string][]byte{"cat.png": oldPNG, "dog.png": oldPNG})
				o.maxAge = time.Hour
				opts := &Options{StaleWhileRevalidate: time.Nanosecond}
				wantFetches := tc.wantFetches
				if tier {
					opts.Tier = newFakeCluster(1).nodes[0]
					if tc.tierFetches != 0 {
						wantFetches = tc.tierFetches
					}
				}
				h := newTestHandler(t, o, opts)
				sizes := []string{"/cat.png?width=40", "/cat.png?width=60&format=png"}
				before := map[string][]byte{}
				for _, u := range sizes {
					w := get(h, u)
					require.Equal(t, http.StatusOK, w.Code)
					before[u] = w.Body.Bytes()
				}
				require.Equal(t, http.StatusOK, get(h, "/dog.png?width=40").Code)
				o.set("cat.png", newPNG)
				o.set("dog.png", newPNG)
				for _, u := range sizes {
					assert.Equal(t, before[u], get(h, u).Body.Bytes(), "fresh in the cache before the purge")
				}
				fetches := o.fetches.Load()
				purge := h.Purge
				if tc.soft {
					purge = h.SoftPurge
				}
				require.NoError(t, purge(context.Background(), "/cat.png"))
				if tc.originDown {
					o.mu.Lock()
					o.err = ErrOriginFailed
					o.mu.Unlock()
				}
				for _, u := range sizes {
					w := get(h, u)
					require.Equal(t, tc.wantCode, w.Code, u)
					if w.Code == http.StatusOK {
						assert.Equal(t, !tc.wantNew, bytes.Equal(before[u], w.Body.Bytes()), "%s: made from the new original", u)
					}
					assert.Contains(t, w.Header().Get("Imageopto-Warning"), tc.wantWarning)
				}
				assert.Equal(t, wantFetches, o.fetches.Load()-fetches, "origin fetches after the purge (sizes share one)")
				// Another original is untouched.
				if !tc.originDown {
					w := get(h, "/dog.png?width=40")
					assert.Equal(t, http.StatusOK, w.Code)
					assert.Equal(t, wantFetches, o.fetches.Load()-fetches, "dog.png is still served from the cache")
				}
			})
		}
	}
}

// TestPurgeNotFound: a remembered 404 goes with a purge, so an original
// uploaded after it is served at once.
func TestPurgeNotFound(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{})
	o.maxAge = time.Hour
	h := newTestHandler(t, o, &Options{NotFoundTTL: time.Hour})
	require.Equal(t, http.StatusNotFound, get(h, "/new.png?width=10").Code)
	o.set("new.png", samplePNG(t))
	require.Equal(t, http.StatusNotFound, get(h, "/new.png?width=10").Code, "remembered")
	require.NoError(t, h.Purge(context.Background(), "new.png"))
	assert.Equal(t, http.StatusOK, get(h, "/new.png?width=10").Code)
}

// TestPurgeSoftConditional: a soft purge of an unchanged original costs a
// conditional request, answered 304, and no transformation.
func TestPurgeSoftConditional(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	o.maxAge = time.Hour
	h := newTestHandler(t, o, &Options{StaleWhileRevalidate: time.Nanosecond})
	first := get(h, "/cat.png?width=40")
	require.Equal(t, http.StatusOK, first.Code)
	require.NoError(t, h.SoftPurge(context.Background(), "cat.png"))
	again := get(h, "/cat.png?width=40")
	require.Equal(t, http.StatusOK, again.Code)
	assert.Equal(t, first.Body.Bytes(), again.Body.Bytes())
	assert.EqualValues(t, 1, o.conds.Load(), "revalidated with a conditional request")
	assert.EqualValues(t, 1, h.Transforms(), "not transformed again")
	// Revalidated under the new generation: no further requests.
	get(h, "/cat.png?width=40")
	assert.EqualValues(t, 2, o.fetches.Load())
}

func TestPurgeBadPath(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, newFakeOrigin(map[string][]byte{}), nil)
	for _, p := range []string{"", "/", "../etc/passwd", "a/./b", "a\x00b"} {
		assert.ErrorIs(t, h.Purge(context.Background(), p), ErrBadPath, "%q", p)
	}
	assert.Zero(t, h.Purges().Len())
}

// purgingNode is a fakeNode that carries purges to the other nodes that
// are not cut off.
type purgingNode struct {
	*fakeNode
	c   *purgingCluster
	i   int
	log *PurgeLog
}

type purgingCluster struct {
	mu    sync.Mutex
	cut   map[int]bool // nodes that hear no purge
	nodes []*purgingNode
}

func (n *purgingNode) StartPurges(l *PurgeLog) { n.log = l }

func (n *purgingNode) BroadcastPurges(ctx context.Context, recs []PurgeRecord) error {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	var missed []int
	for _, m := range n.c.nodes {
		if m == n {
			continue
		}
		if n.c.cut[m.i] || n.c.cut[n.i] {
			missed = append(missed, m.i)
			continue
		}
		if _, err := m.log.Merge(ctx, recs); err != nil {
			return err
		}
	}
	if len(missed) > 0 {
		return fmt.Errorf("%w: nodes %v", ErrPurgeIncomplete, missed)
	}
	return nil
}

// TestPurgeThroughTier: a purge on one member reaches the others; a member
// that missed it keeps its own copies until it hears of the purge from an
// owner's record, and then drops them all.
func TestPurgeThroughTier(t *testing.T) {
	t.Parallel()
	oldPNG, newPNG := encodePNG(t, quadrants(100, 100)), samplePNG(t)
	o := newFakeOrigin(map[string][]byte{"cat.png": oldPNG})
	o.maxAge = time.Hour
	fc := newFakeCluster(3)
	pc := &purgingCluster{cut: map[int]bool{}}
	var hs []*Handler
	for i, n := range fc.nodes {
		pn := &purgingNode{fakeNode: n, c: pc, i: i}
		pc.nodes = append(pc.nodes, pn)
		hs = append(hs, newTestHandler(t, o, &Options{Tier: pn}))
	}
	before := get(hs[0], "/cat.png?width=40").Body.Bytes()
	for _, h := range hs {
		require.Equal(t, before, get(h, "/cat.png?width=40").Body.Bytes())
	}
	assert.EqualValues(t, 1, o.fetches.Load())
	o.set("cat.png", newPNG)

	// One member is cut off from the purge (not the original's owner,
	// not the one that purges); the others hear it.
	owner := fc.nodes[0].owner(tierShard("cat.png", "") + tierShardSep)
	cut := 1
	if owner == fc.nodes[1] {
		cut = 2
	}
	heard := 3 - cut
	pc.cut[cut] = true
	err := hs[0].Purge(context.Background(), "cat.png")
	require.ErrorIs(t, err, ErrPurgeIncomplete)
	after := get(hs[0], "/cat.png?width=40").Body.Bytes()
	require.NotEqual(t, before, after)
	assert.Equal(t, after, get(hs[heard], "/cat.png?width=40").Body.Bytes())
	assert.Equal(t, before, get(hs[cut], "/cat.png?width=40").Body.Bytes(), "the member that missed the purge serves its copy")
	assert.EqualValues(t, 2, o.fetches.Load(), "one fetch cluster-wide after the purge")

	// In the next re-check epoch, a miss on that member reads the
	// original's record from its owner, which knows of the purge: the
	// member learns it, and its old copies go.
	hs[cut].now = func() time.Time { return time.Now().Add(hs[cut].opts.TierRecheck) }
	require.Equal(t, http.StatusOK, get(hs[cut], "/cat.png?width=41").Code)
	assert.Equal(t, hs[0].Purges().Digest(), hs[cut].Purges().Digest())
	assert.Equal(t, after, get(hs[cut], "/cat.png?width=40").Body.Bytes())
	assert.EqualValues(t, 2, o.fetches.Load())
}

func TestPurgeLogMerge(t *testing.T) {
	t.Parallel()
	now := time.Now().UnixNano()
	recs := []PurgeRecord{
		{Path: "a", Hard: now + 1},
		{Path: "a", Soft: now + 5},
		{Path: "b", Hard: now + 3, Soft: now + 2},
		{Path: "a", Hard: now + 2},
		{Path: "c", Soft: now + 7},
		{Path: "old", Hard: now - int64(1000*time.Hour)}, // past the retention
	}
	newLog := func() *PurgeLog {
		o := &Options{MaxTTL: time.Hour, StaleTTL: time.Hour, MaxPurgeRecords: 100, Logger: quietLogger()}
		return newPurgeLog(o)
	}
	want := newLog()
	n, err := want.Merge(context.Background(), recs)
	require.NoError(t, err)
	assert.Equal(t, 5, n, "changes: a three times, b, c")
	assert.Equal(t, []PurgeRecord{{Path: "a", Hard: now + 2, Soft: now + 5}, {Path: "b", Hard: now + 3, Soft: now + 2}, {Path: "c", Soft: now + 7}},
		want.Records())
	assert.Equal(t, purgeState{now + 2, now + 5}, want.state("a"))
	assert.Equal(t, purgeState{}, want.state("old"))
	for i := range 20 {
		// Any order, any repetition: the same log, the same digest.
		shuffled := append(append([]PurgeRecord{}, recs...), recs[i%len(recs)])
		rand.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		got := newLog()
		for _, r := range shuffled {
			_, _ = got.Merge(context.Background(), []PurgeRecord{r})
		}
		require.Equal(t, want.Records(), got.Records())
		require.Equal(t, want.Digest(), got.Digest())
	}
	other := newLog()
	assert.NotEqual(t, want.Digest(), other.Digest())
	n, _ = want.Merge(context.Background(), want.Records())
	assert.Zero(t, n, "merging its own records changes nothing")

	// next makes generations that only grow.
	r := want.next("b", false)
	assert.Greater(t, r.Hard, now+3)
	assert.Equal(t, now+2, r.Soft)
}

func TestPurgeLogFold(t *testing.T) {
	t.Parallel()
	o := &Options{MaxTTL: time.Hour, StaleTTL: time.Hour, MaxPurgeRecords: 10, Logger: quietLogger()}
	l := newPurgeLog(o)
	base := time.Now().UnixNano()
	for i := range 11 {
		_, _ = l.Merge(context.Background(), []PurgeRecord{{Path: fmt.Sprint("p", i), Hard: base + int64(i)}})
	}
	// 11 records > 10: the oldest are folded into the floor, keeping 9.
	assert.Equal(t, 9, l.Len())
	floor := l.Records()[0]
	assert.Equal(t, "", floor.Path)
	assert.Equal(t, base+1, floor.Hard)
	assert.Equal(t, purgeState{hard: base + 1}, l.state("never-purged"), "the floor purges every original")
	assert.Equal(t, purgeState{hard: base + 10}, l.state("p10"))
	// A peer that merges these records ends up with the same log.
	m := newPurgeLog(o)
	_, _ = m.Merge(context.Background(), l.Records())
	assert.Equal(t, l.Digest(), m.Digest())
}

func TestFilePurgeStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "purges.jsonl")
	s := NewFilePurgeStore(path)
	recs, err := s.LoadPurges(ctx)
	require.NoError(t, err)
	assert.Empty(t, recs)
	require.NoError(t, s.SavePurges(ctx, []PurgeRecord{{Path: "a", Hard: 1}, {Path: "b", Soft: 2}}))
	require.NoError(t, s.SavePurges(ctx, []PurgeRecord{{Path: "a", Soft: 3}, {Path: "b"}, {Hard: 9}}))
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, _ = f.WriteString(`{"p":"torn","h":`) // a crash mid-line
	require.NoError(t, f.Close())
	for range 2 { // the second load reads the compacted file
		recs, err = s.LoadPurges(ctx)
		require.NoError(t, err)
		assert.ElementsMatch(t, []PurgeRecord{{Path: "a", Hard: 1, Soft: 3}, {Hard: 9}}, recs)
	}
	b, _ := os.ReadFile(path)
	assert.Equal(t, 2, bytes.Count(b, []byte("\n")), "compacted")

	// A handler started on the store knows the purges before its first
	// request.
	h := newTestHandler(t, newFakeOrigin(map[string][]byte{}), &Options{PurgeStore: s})
	assert.Equal(t, purgeState{hard: 9}, h.purges.state("a"), "the floor is above a's purges")
}

// failingStore fails every load until ok is set.
type failingStore struct {
	mu   sync.Mutex
	ok   bool
	recs []PurgeRecord
}

func (s *failingStore) LoadPurges(context.Context) ([]PurgeRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ok {
		return nil, errors.New("down")
	}
	return s.recs, nil
}

func (s *failingStore) SavePurges(context.Context, []PurgeRecord) error { return nil }

func TestPurgeStoreRetried(t *testing.T) {
	t.Parallel()
	now := time.Now().UnixNano()
	s := &failingStore{recs: []PurgeRecord{{Path: "a", Hard: now}}}
	h := newTestHandler(t, newFakeOrigin(map[string][]byte{}), &Options{PurgeStore: s})
	assert.Zero(t, h.Purges().Len())
	s.mu.Lock()
	s.ok = true
	s.mu.Unlock()
	require.Eventually(t, func() bool { return h.Purges().Len() == 1 }, 20*time.Second, 50*time.Millisecond)
}

func TestPurgeLogClampsFuture(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	latest := now.Add(MaxPurgeSkew).UnixNano()
	far := now.Add(24 * 365 * time.Hour).UnixNano()
	tests := []struct {
		name string
		in   PurgeRecord
		want []PurgeRecord
	}{
		{"far hard", PurgeRecord{Path: "a", Hard: far}, []PurgeRecord{{Path: "a", Hard: latest}}},
		{"far soft", PurgeRecord{Path: "a", Soft: far}, []PurgeRecord{{Path: "a", Soft: latest}}},
		{"far floor", PurgeRecord{Hard: far}, []PurgeRecord{{Hard: latest}}},
		{"within the skew", PurgeRecord{Path: "a", Hard: latest - 1}, []PurgeRecord{{Path: "a", Hard: latest - 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newPurgeLog(&Options{MaxTTL: time.Hour, StaleTTL: time.Hour, MaxPurgeRecords: 10, Logger: quietLogger()})
			l.now = func() time.Time { return now }
			_, err := l.Merge(context.Background(), []PurgeRecord{tc.in})
			require.NoError(t, err)
			assert.Equal(t, tc.want, l.Records())
		})
	}
	// This handler's own purges still raise the generation after a clamped
	// record, one nanosecond at a time if need be.
	l := newPurgeLog(&Options{MaxTTL: time.Hour, StaleTTL: time.Hour, MaxPurgeRecords: 10, Logger: quietLogger()})
	l.now = func() time.Time { return now }
	_, _ = l.Merge(context.Background(), []PurgeRecord{{Path: "a", Hard: far}})
	for i := range 3 {
		require.NoError(t, l.mergeOwn(context.Background(), []PurgeRecord{l.next("a", false)}))
		assert.Equal(t, latest+int64(i)+1, l.state("a").hard)
	}
}

func TestFilePurgeStoreCompactsWhenGrown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "purges.jsonl")
	s := NewFilePurgeStore(path).(*filePurgeStore)
	s.minCompact = 1 << 10
	for i := range 2000 {
		// The same three paths purged again and again: three live records.
		require.NoError(t, s.SavePurges(ctx, []PurgeRecord{{Path: fmt.Sprint("p", i%3), Hard: int64(i + 1)}}))
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.LessOrEqual(t, fi.Size(), int64(1<<10)+64, "after %d saves", i+1)
	}
	recs, err := s.LoadPurges(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []PurgeRecord{{Path: "p0", Hard: 1999}, {Path: "p1", Hard: 2000}, {Path: "p2", Hard: 1998}}, recs)
}
