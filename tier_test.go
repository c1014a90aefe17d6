package imageopto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/singleflight"
)

// fakeCluster is an in-process Tier for N handlers, with the contract
// package cluster implements on groupcache: an owner per TierShard, one load
// per key at its owner, values kept forever, and a local load when the owner
// is down.
type fakeCluster struct {
	nodes []*fakeNode
}

type fakeNode struct {
	c      *fakeCluster
	load   TierLoader
	down   atomic.Bool
	flight singleflight.Group
	mu     sync.Mutex
	values map[string][]byte
	loads  atomic.Int64
}

func newFakeCluster(n int) *fakeCluster {
	c := &fakeCluster{}
	for range n {
		c.nodes = append(c.nodes, &fakeNode{c: c, values: map[string][]byte{}})
	}
	return c
}

func (n *fakeNode) Start(load TierLoader) error {
	if n.load != nil {
		return errors.New("started twice")
	}
	n.load = load
	return nil
}

func (n *fakeNode) owner(key string) *fakeNode {
	h := fnv.New32a()
	h.Write([]byte(TierShard(key)))
	return n.c.nodes[h.Sum32()%uint32(len(n.c.nodes))]
}

func (n *fakeNode) Get(ctx context.Context, group TierGroup, key string) ([]byte, error) {
	o := n.owner(key)
	if o.down.Load() {
		o = n // the owner cannot be reached: load here
	}
	return o.getLocal(ctx, group, key)
}

func (n *fakeNode) getLocal(ctx context.Context, group TierGroup, key string) ([]byte, error) {
	k := string(group) + "|" + key
	v, err, _ := n.flight.Do(k, func() (any, error) {
		n.mu.Lock()
		v, ok := n.values[k]
		n.mu.Unlock()
		if ok {
			return v, nil
		}
		n.loads.Add(1)
		v, err := n.load(ctx, group, key)
		if err != nil {
			return nil, err
		}
		n.mu.Lock()
		n.values[k] = v
		n.mu.Unlock()
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

func TestTierOneFetchOneTransform(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	o.delay = 20 * time.Millisecond
	c := newFakeCluster(3)
	var hs []*Handler
	for _, node := range c.nodes {
		hs = append(hs, newTestHandler(t, o, &Options{Tier: node}))
	}
	const requests = 300
	bodies := make([][]byte, requests)
	codes := make([]int, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			w := get(hs[i%3], "/cat.png?width=64&format=png")
			codes[i], bodies[i] = w.Code, w.Body.Bytes()
		})
	}
	wg.Wait()
	for i := range requests {
		require.Equal(t, http.StatusOK, codes[i], string(bodies[i]))
		require.True(t, bytes.Equal(bodies[0], bodies[i]), "body %d differs", i)
	}
	var transforms int64
	for _, h := range hs {
		transforms += h.Transforms()
	}
	assert.EqualValues(t, 1, o.fetches.Load(), "origin fetches cluster-wide")
	assert.EqualValues(t, 1, transforms, "transforms cluster-wide")

	// Another size of the same original: a transform, no fetch.
	for _, h := range hs {
		require.Equal(t, http.StatusOK, get(h, "/cat.png?width=32").Code)
	}
	transforms = 0
	for _, h := range hs {
		transforms += h.Transforms()
	}
	assert.EqualValues(t, 1, o.fetches.Load())
	assert.EqualValues(t, 2, transforms)
}

func TestTierKeptAnswers(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t), "junk.png": []byte("\x89PNG\r\n\x1a\nnot really")})
	c := newFakeCluster(2)
	hs := []*Handler{newTestHandler(t, o, &Options{Tier: c.nodes[0]}), newTestHandler(t, o, &Options{Tier: c.nodes[1]})}
	for _, tc := range []struct {
		target string
		code   int
		header string
	}{
		{"/missing.png?width=10", http.StatusNotFound, ""},
		{"/junk.png?width=10", http.StatusUnprocessableEntity, "Image could not be parsed"},
		{"/cat.png?width=10", http.StatusOK, ""},
	} {
		for _, h := range hs {
			w := get(h, tc.target)
			assert.Equal(t, tc.code, w.Code, "%s: %s", tc.target, w.Body.String())
			if tc.header != "" {
				assert.Equal(t, tc.header, w.Header().Get("Imageopto-Error"), tc.target)
			}
		}
	}
	// Each failure was found once, by the owner, and kept: the second node
	// did not fetch again.
	assert.EqualValues(t, 3, o.fetches.Load())
}

func TestTierOriginChanges(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	o.maxAge = time.Second // below MinTTL: clamped to 10 s
	c := newFakeCluster(2)
	var clock atomic.Int64
	clock.Store(time.Now().Truncate(time.Minute).UnixNano()) // the fake origin's expiry uses the real clock
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	var hs []*Handler
	for _, node := range c.nodes {
		h := newTestHandler(t, o, &Options{Tier: node, TierRecheck: time.Minute, StaleWhileRevalidate: time.Nanosecond})
		h.now = now
		hs = append(hs, h)
	}
	first := get(hs[0], "/cat.png?width=50&format=png")
	require.Equal(t, http.StatusOK, first.Code)
	// Fresh for the rest of the re-check epoch, although the origin said 10 s.
	clock.Add(int64(30 * time.Second))
	assert.Equal(t, first.Body.Bytes(), get(hs[1], "/cat.png?width=50&format=png").Body.Bytes())
	assert.EqualValues(t, 1, o.fetches.Load())

	// The original changes; the next epoch's record sees it (a conditional
	// request answered 200) and a new result is made.
	o.set("cat.png", encodePNG(t, quadrants(100, 100)))
	clock.Add(int64(time.Minute))
	for _, h := range hs {
		w := get(h, "/cat.png?width=50&format=png")
		require.Equal(t, http.StatusOK, w.Code)
		assert.NotEqual(t, first.Body.Bytes(), w.Body.Bytes(), "new content wins")
		assert.Contains(t, w.Header().Get("Imageopto-Info"), "idim=100x100")
	}
	assert.EqualValues(t, 2, o.fetches.Load())

	// Unchanged next epoch: a 304 confirms the original, no transform.
	var before int64
	for _, h := range hs {
		before += h.Transforms()
	}
	clock.Add(int64(time.Minute))
	for _, h := range hs {
		require.Equal(t, http.StatusOK, get(h, "/cat.png?width=50&format=png").Code)
	}
	var after int64
	for _, h := range hs {
		after += h.Transforms()
	}
	assert.Equal(t, before, after)
	assert.EqualValues(t, 1, o.conds.Load(), "revalidated with a conditional request")
}

func TestTierOwnerDown(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{})
	for i := range 20 {
		o.set(fmt.Sprintf("p%d.png", i), samplePNG(t))
	}
	c := newFakeCluster(3)
	var hs []*Handler
	for _, node := range c.nodes {
		hs = append(hs, newTestHandler(t, o, &Options{Tier: node}))
	}
	c.nodes[2].down.Store(true)
	for i := range 20 {
		for _, h := range hs[:2] {
			w := get(h, fmt.Sprintf("/p%d.png?width=20", i))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		}
	}
	// Keys owned by the dead node are loaded once on each survivor that
	// receives them; every other key once.
	assert.LessOrEqual(t, o.fetches.Load(), int64(2*20))
	assert.GreaterOrEqual(t, o.fetches.Load(), int64(20))
}

func TestTierKeys(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, newFakeOrigin(nil), &Options{TierRecheck: 10 * time.Second})
	now := time.Date(2026, 5, 1, 0, 0, 3, 0, time.UTC)
	k1 := h.tierMetaKey("a/b.jpg", "x=1", now, purgeState{})
	k2 := h.tierMetaKey("a/b.jpg", "x=1", now.Add(10*time.Second), purgeState{})
	ks := tierSourceKey("a/b.jpg", "x=1", `"abc"`)
	assert.NotEqual(t, k1, k2, "a new epoch is a new key")
	assert.Equal(t, TierShard(k1), TierShard(k2), "… with the same owner")
	assert.Equal(t, TierShard(k1), TierShard(ks), "… as the original's bytes")
	path, query, rest, err := parseTierKey(ks)
	require.NoError(t, err)
	assert.Equal(t, []string{"a/b.jpg", "x=1", `h"abc"`}, []string{path, query, rest})
	assert.True(t, now.Add(7*time.Second).Equal(h.epochEnd(now)), "%v", h.epochEnd(now))
	for _, bad := range []string{"", "v0\x00a\x00b\x1fe1", "v" + PipelineVersion + "\x00a\x00b"} {
		_, _, _, err := parseTierKey(bad)
		assert.Error(t, err, "%q", bad)
	}

	p, err := ParseParams("width=300&fit=crop&height=200")
	require.NoError(t, err)
	j := &job{path: "a/b.jpg", params: p, format: WebP}
	hash, back, err := parseTierResultKey(tierResultKey(`"abc"`, j))
	require.NoError(t, err)
	assert.Equal(t, `"abc"`, hash)
	assert.Equal(t, j.params, back.params)
	assert.Equal(t, j.format, back.format)
	alias := &job{path: "elsewhere/c.jpg", query: "v=2", params: p, format: WebP}
	assert.Equal(t, tierResultKey(`"abc"`, j), tierResultKey(`"abc"`, alias), "the path is not part of a result key")
	for _, bad := range []string{"", "v0\x00a\x00b", "v" + PipelineVersion + "\x00h\x00webp\x00width=-1"} {
		_, _, err := parseTierResultKey(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// TestTierOriginFailureKept: an origin failure found by the owner is the
// record's value for the epoch; the machine that asked does not try the
// origin again itself, and serves its stale copy when it has one.
func TestTierOriginFailureKept(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{})
	o.err = ErrOriginFailed
	c := newFakeCluster(2)
	var hs []*Handler
	for _, node := range c.nodes {
		hs = append(hs, newTestHandler(t, o, &Options{Tier: node}))
	}
	for i := range 6 {
		w := get(hs[i%2], fmt.Sprintf("/p%d.png?width=10", i/2))
		assert.Equal(t, http.StatusBadGateway, w.Code)
		assert.Equal(t, "Invalid status", w.Header().Get("Imageopto-Error"))
	}
	assert.EqualValues(t, 3, o.fetches.Load(), "one origin attempt per original, cluster-wide")
}

func TestTierPeerKeysChecked(t *testing.T) {
	t.Parallel()
	c := newFakeCluster(1)
	h := newTestHandler(t, newFakeOrigin(map[string][]byte{"a.png": samplePNG(t)}), &Options{Tier: c.nodes[0]})
	ctx := context.Background()
	// A peer cannot make a handler without PassQuery send an origin query.
	_, err := h.tierLoad(ctx, TierMeta, h.tierMetaKey("a.png", "secret=1", time.Now(), purgeState{}))
	assert.ErrorIs(t, err, ErrForbidden)
	_, err = h.tierLoad(ctx, TierSource, tierSourceKey("a.png", "x=1", `"h"`))
	assert.ErrorIs(t, err, ErrForbidden)
	_, err = h.tierLoad(ctx, TierMeta, "garbage")
	assert.ErrorIs(t, err, ErrInternal)
	// Bytes asked for by a hash they no longer have.
	_, err = h.tierLoad(ctx, TierSource, tierSourceKey("a.png", "", `"not-this"`))
	assert.ErrorIs(t, err, errSourceChanged)
	_, err = h.tierLoad(ctx, TierGroup("nope"), "k")
	assert.Error(t, err)

	// A hook cannot put control characters into the origin query.
	hk := newTestHandler(t, newFakeOrigin(nil), &Options{PassQuery: true, Hook: func(_ context.Context, r *Request) error {
		r.OriginQuery = "a=1\x1fb=2"
		return nil
	}})
	w := get(hk, "/a.png?width=10")
	assert.Equal(t, http.StatusBadRequest, w.Code)
}

func TestTierKeptFailureCachedLocally(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"junk.png": []byte("\x89PNG\r\n\x1a\nnot really")})
	c := newFakeCluster(1)
	h := newTestHandler(t, o, &Options{Tier: c.nodes[0]})
	for range 3 {
		assert.Equal(t, http.StatusUnprocessableEntity, get(h, "/junk.png?width=10").Code)
	}
	assert.EqualValues(t, 3, c.nodes[0].loads.Load(), "record, bytes and result once; then this machine's own cache")
}

func TestTierNoStoreNotShared(t *testing.T) {
	t.Parallel()
	data := samplePNG(t)
	var fetches atomic.Int64
	origin := OriginFunc(func(context.Context, FetchRequest) (*Source, error) {
		fetches.Add(1)
		return &Source{Data: data, NoStore: true}, nil
	})
	c := newFakeCluster(2)
	hs := []*Handler{newTestHandler(t, origin, &Options{Tier: c.nodes[0]}), newTestHandler(t, origin, &Options{Tier: c.nodes[1]})}
	for _, h := range hs {
		w := get(h, "/x.png?width=10")
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	}
	var transforms int64
	for _, h := range hs {
		transforms += h.Transforms()
	}
	assert.EqualValues(t, 2, transforms, "each machine transforms a no-store original itself")
}

func TestTierStartRefused(t *testing.T) {
	t.Parallel()
	c := newFakeCluster(1)
	_, err := New(newFakeOrigin(nil), &Options{Tier: c.nodes[0], Logger: quietLogger()})
	require.NoError(t, err)
	_, err = New(newFakeOrigin(nil), &Options{Tier: c.nodes[0], Logger: quietLogger()})
	assert.ErrorContains(t, err, "Options.Tier: started twice")
}

// FuzzDecodeEntry: cache entries come from shared stores (Redis, S3, disk,
// peers); any bytes either fail to decode or round-trip.
func FuzzDecodeEntry(f *testing.F) {
	f.Add((&entry{ContentType: "image/jpeg", ETag: `"x"`, Body: []byte("body")}).encode())
	f.Add((&entry{Status: 422, Kind: "corrupt", Error: "bad"}).encode())
	f.Add([]byte("ioE1\x05{}xyz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		_ = e.err()
		again, err := decodeEntry(e.encode())
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if string(again.Body) != string(e.Body) || again.ETag != e.ETag || again.Status != e.Status {
			t.Fatalf("round trip changed the entry")
		}
	})
}

// TestTierSpellingsShareResults: URLs that name the same original bytes —
// an alias path, another origin query — share one result cluster-wide;
// each spelling's record is still read from the origin.
func TestTierSpellingsShareResults(t *testing.T) {
	t.Parallel()
	data := samplePNG(t)
	o := newFakeOrigin(map[string][]byte{"a.png": data, "alias/b.png": data, "other.png": encodePNG(t, quadrants(50, 50))})
	c := newFakeCluster(3)
	var hs []*Handler
	for _, node := range c.nodes {
		hs = append(hs, newTestHandler(t, o, &Options{Tier: node, PassQuery: true}))
	}
	var bodies [][]byte
	for i, u := range []string{"/a.png?width=40", "/alias/b.png?width=40", "/a.png?width=40&v=2", "/alias/b.png?v=9&width=40"} {
		w := get(hs[i%3], u)
		require.Equal(t, http.StatusOK, w.Code, u)
		bodies = append(bodies, w.Body.Bytes())
	}
	for _, b := range bodies {
		assert.Equal(t, bodies[0], b)
	}
	var transforms int64
	for _, h := range hs {
		transforms += h.Transforms()
	}
	assert.EqualValues(t, 1, transforms, "one result for four spellings of the same bytes")
	assert.EqualValues(t, 4, o.fetches.Load(), "each spelling's record is read from the origin")
	// Other bytes are another result.
	require.Equal(t, http.StatusOK, get(hs[0], "/other.png?width=40").Code)
	transforms = 0
	for _, h := range hs {
		transforms += h.Transforms()
	}
	assert.EqualValues(t, 2, transforms)

	// A result key loaded without an origin, or with one whose bytes are
	// not those of the key, fails.
	p, _ := ParseParams("width=41")
	key := tierResultKey(contentETag(data), &job{params: p, format: PNG})
	_, err := hs[0].tierLoad(context.Background(), TierResult, key)
	assert.ErrorIs(t, err, ErrInternal)
	_, err = hs[0].tierLoad(WithTierOrigin(context.Background(), "other.png", ""), TierResult, key)
	assert.Error(t, err)
	_, err = hs[0].tierLoad(WithTierOrigin(context.Background(), "../x", ""), TierResult, key)
	assert.ErrorIs(t, err, ErrBadPath)
	v, err := hs[0].tierLoad(WithTierOrigin(context.Background(), "alias/b.png", ""), TierResult, key)
	require.NoError(t, err)
	e, err := decodeEntry(v)
	require.NoError(t, err)
	assert.Zero(t, e.Status)
}
