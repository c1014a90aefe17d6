package s3store

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/imageopto/imageopto"
)

// newTestCache returns a cache on f's "derived" bucket, closed when the
// test ends (before the server).
func newTestCache(t testing.TB, f *fakeS3, opts *CacheOptions) *Cache {
	t.Helper()
	c, err := NewCache(f.client, "derived", "cache", opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

func flush(t testing.TB, c *Cache) {
	t.Helper()
	// Generous: it costs that long only when the writes are stuck.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, c.Flush(ctx))
}

func TestNewCacheValidation(t *testing.T) {
	t.Parallel()
	client := testClient(t, "http://127.0.0.1:1", 1)
	_, err := NewCache(nil, "b", "", nil)
	assert.Error(t, err)
	_, err = NewCache(client, "", "", nil)
	assert.Error(t, err)
	_, err = NewCache(client, "b", "../x", nil)
	assert.Error(t, err)
	for _, o := range []CacheOptions{{Writers: -1}, {QueueSize: -1}, {QueueBytes: -1}, {GetTimeout: -1}, {MaxValueBytes: -1}} {
		_, err = NewCache(client, "b", "", &o)
		assert.Error(t, err, "%+v", o)
	}
	c, err := NewCache(client, "b", "/p/", nil)
	require.NoError(t, err)
	assert.Len(t, c.shards, 2)
	assert.Equal(t, 32, cap(c.shards[0]))
	assert.Equal(t, time.Second, c.getTimeout)
	assert.Equal(t, int64(16<<20), c.maxValue)
	require.NoError(t, c.Close(context.Background()))
}

func TestCacheObjectKey(t *testing.T) {
	t.Parallel()
	c := &Cache{prefix: "cache"}
	re := regexp.MustCompile(`^cache/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$`)
	seen := map[string]string{}
	for _, key := range []string{"", "r/abc", "s/photos/cat.jpg\x00", "../../etc/passwd", "\xff\xfe", strings.Repeat("k", 5000)} {
		obj := c.objectKey(key)
		m := re.FindStringSubmatch(obj)
		require.NotNil(t, m, "%q → %q", key, obj)
		assert.Equal(t, m[1]+m[2], m[3][:4])
		assert.NotContains(t, seen, obj)
		seen[obj] = key
		assert.Equal(t, obj, c.objectKey(key), "deterministic")
	}
	assert.Regexp(t, `^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$`, (&Cache{}).objectKey("x"), "no prefix: no leading slash")
}

func TestCacheRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t, nil)
	writer := newTestCache(t, f, nil)
	reader := newTestCache(t, f, nil) // a second instance: reads come from the store
	tests := []struct {
		key   string
		value []byte
		ttl   time.Duration
	}{
		{"r/0123", []byte("derived image"), time.Hour},
		{"s/photos/cat.jpg\x00q=1", []byte("original"), 0},
		{"\xff\x00/../", bytes.Repeat([]byte{0, 1, 2, 255}, 10000), time.Minute},
		{"empty", []byte{}, time.Hour},
	}
	for _, tt := range tests {
		require.NoError(t, writer.Set(context.Background(), tt.key, tt.value, tt.ttl))
	}
	flush(t, writer)
	assert.Equal(t, int64(len(tests)), writer.Counters().Sets)
	for _, tt := range tests {
		got, err := reader.Get(context.Background(), tt.key)
		require.NoError(t, err, "%q", tt.key)
		assert.Equal(t, tt.value, got, "%q", tt.key)
	}
	_, err := reader.Get(context.Background(), "never set")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)
	st := reader.Counters()
	assert.Equal(t, int64(len(tests)), st.Hits)
	assert.Equal(t, int64(1), st.Misses)
	assert.Zero(t, st.Errors)
	assert.Equal(t, imageopto.CacheStats{Hits: st.Hits, Misses: st.Misses}, reader.Stats())

	// The objects are where the documentation says, with the expiry.
	out, err := f.client.GetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String("derived"), Key: aws.String(writer.objectKey("r/0123"))})
	require.NoError(t, err)
	out.Body.Close()
	exp, ok := expiresOf(out.Metadata)
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(time.Hour), exp, time.Minute)
}

func TestCacheExpiry(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t, nil)
	c := newTestCache(t, f, nil)
	base := time.Now()
	var mu sync.Mutex
	now := base
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	ctx := context.Background()
	require.NoError(t, c.Set(ctx, "short", []byte("v"), time.Minute))
	require.NoError(t, c.Set(ctx, "forever", []byte("v"), 0))
	require.NoError(t, c.Set(ctx, "negative", []byte("v"), -time.Second))
	flush(t, c)
	assert.Equal(t, int64(2), c.Counters().Sets, "a negative ttl is not stored")

	for _, k := range []string{"short", "forever"} {
		_, err := c.Get(ctx, k)
		require.NoError(t, err, k)
	}
	advance(2 * time.Minute)
	_, err := c.Get(ctx, "short")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)
	advance(1000 * time.Hour)
	_, err = c.Get(ctx, "forever")
	require.NoError(t, err)
	st := c.Counters()
	assert.Equal(t, int64(1), st.Expired)
	assert.Equal(t, int64(1), st.Misses)

	// An unreadable expiry counts as expired.
	_, err = f.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("derived"), Key: aws.String(c.objectKey("bad")),
		Body: strings.NewReader("v"), Metadata: map[string]string{metaExpires: "soon"}})
	require.NoError(t, err)
	_, err = c.Get(ctx, "bad")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)
}

func TestCacheServesQueuedValues(t *testing.T) {
	t.Parallel()
	g := newGate(http.MethodPut)
	f := newFakeS3(t, g.wrap)
	t.Cleanup(g.release)
	c := newTestCache(t, f, &CacheOptions{Writers: 1, QueueSize: 4})
	ctx := context.Background()

	require.NoError(t, c.Set(ctx, "a", []byte("a1"), time.Hour))
	g.waitArrived(t, 1) // the write of a is in progress, held
	require.NoError(t, c.Set(ctx, "b", []byte("b1"), time.Hour))
	require.NoError(t, c.Set(ctx, "b", []byte("b2"), time.Hour)) // replaces the queued b1
	require.NoError(t, c.Set(ctx, "a", []byte("a2"), time.Hour)) // queued behind the write of a1
	st := c.Counters()
	assert.Equal(t, 3, st.Pending)
	assert.Equal(t, int64(6), st.PendingBytes)

	for key, want := range map[string]string{"a": "a2", "b": "b2"} {
		got, err := c.Get(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
	}
	assert.Empty(t, f.served(), "queued values are served without the store")

	g.release()
	flush(t, c)
	st = c.Counters()
	assert.Equal(t, int64(3), st.Sets)
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.PendingBytes)
	reader := newTestCache(t, f, nil)
	for key, want := range map[string]string{"a": "a2", "b": "b2"} {
		got, err := reader.Get(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, want, string(got), "writes of one key land in order")
	}
}

func TestCacheQueueOverflow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        CacheOptions
		values      int
		size        int
		wantDropped int64
	}{
		// One value is being written (held), two wait, the rest are dropped.
		{name: "by count", opts: CacheOptions{Writers: 1, QueueSize: 2}, values: 10, size: 10, wantDropped: 7},
		// 100 bytes allowed: the held one and one waiting.
		{name: "by bytes", opts: CacheOptions{Writers: 1, QueueSize: 50, QueueBytes: 100}, values: 10, size: 50, wantDropped: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGate(http.MethodPut)
			f := newFakeS3(t, g.wrap)
			t.Cleanup(g.release)
			c := newTestCache(t, f, &tt.opts)
			ctx := context.Background()
			value := bytes.Repeat([]byte("v"), tt.size)
			require.NoError(t, c.Set(ctx, "k0", value, time.Hour))
			g.waitArrived(t, 1)
			// Set never waits for the store: the other Sets return while
			// the store holds the first write, which it does until
			// g.release. (The guard only keeps a Set that does wait from
			// hanging the test.)
			start := time.Now()
			sets := make(chan error, 1)
			go func() {
				for i := 1; i < tt.values; i++ {
					if err := c.Set(ctx, fmt.Sprint("k", i), value, time.Hour); err != nil {
						sets <- err
						return
					}
				}
				sets <- nil
			}()
			select {
			case err := <-sets:
				require.NoError(t, err)
			case <-time.After(time.Minute):
				g.release()
				t.Fatal("Set waits for the store")
			}
			t.Logf("%d Sets with the store held took %v", tt.values-1, time.Since(start))
			st := c.Counters()
			assert.Equal(t, tt.wantDropped, st.Dropped)
			assert.Equal(t, int64(tt.values)-tt.wantDropped, int64(st.Pending))
			g.release()
			flush(t, c)
			assert.Equal(t, int64(tt.values)-tt.wantDropped, c.Counters().Sets)
		})
	}
}

func TestCacheTooLarge(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t, nil)
	c := newTestCache(t, f, &CacheOptions{MaxValueBytes: 10})
	ctx := context.Background()
	require.NoError(t, c.Set(ctx, "big", bytes.Repeat([]byte("x"), 11), time.Hour))
	require.NoError(t, c.Set(ctx, "fits", bytes.Repeat([]byte("x"), 10), time.Hour))
	flush(t, c)
	st := c.Counters()
	assert.Equal(t, int64(1), st.TooLarge)
	assert.Equal(t, int64(1), st.Sets)
	_, err := c.Get(ctx, "big")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)

	// An object over the limit (written by a cache with a larger one) is a miss.
	big := newTestCache(t, f, nil)
	require.NoError(t, big.Set(ctx, "huge", bytes.Repeat([]byte("x"), 100), time.Hour))
	flush(t, big)
	_, err = c.Get(ctx, "huge")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)
}

func TestCacheGetTimeout(t *testing.T) {
	t.Parallel()
	g := newGate(http.MethodGet)
	f := newFakeS3(t, g.wrap)
	t.Cleanup(g.release)
	const timeout = 150 * time.Millisecond
	c := newTestCache(t, f, &CacheOptions{GetTimeout: timeout})
	start := time.Now()
	_, err := c.Get(context.Background(), "k")
	t.Logf("held Get: %v after %v", err, time.Since(start))
	// The store holds the GET until the test ends and the caller has no
	// deadline: only GetTimeout can end it, so a DeadlineExceeded is its.
	require.Error(t, err)
	assert.NotErrorIs(t, err, imageopto.ErrCacheMiss)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int64(1), c.Counters().Errors)

	// The caller's cancellation, with GetTimeout far away so that a late
	// timer on a loaded machine cannot turn it into a timeout.
	patient := newTestCache(t, f, &CacheOptions{GetTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = patient.Get(ctx, "k")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestCacheWriteErrors(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	client := scripted(t, func(w http.ResponseWriter, r *http.Request) { s3Error(w, 500, "InternalError") })
	c, err := NewCache(client, "b", "", &CacheOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer c.Close(context.Background())
	require.NoError(t, c.Set(context.Background(), "k", []byte("v"), time.Hour))
	flush(t, c)
	st := c.Counters()
	assert.Equal(t, int64(1), st.Errors)
	assert.Zero(t, st.Sets)
	assert.Contains(t, logs.String(), "cache write failed")

	_, err = c.Get(context.Background(), "k")
	require.Error(t, err)
	assert.NotErrorIs(t, err, imageopto.ErrCacheMiss)
	assert.Error(t, c.Delete(context.Background(), "k"))
	assert.Equal(t, int64(3), c.Counters().Errors)
}

func TestCacheDelete(t *testing.T) {
	t.Parallel()
	g := newGate(http.MethodPut)
	f := newFakeS3(t, g.wrap)
	t.Cleanup(g.release)
	c := newTestCache(t, f, &CacheOptions{Writers: 1})
	ctx := context.Background()

	require.NoError(t, c.Delete(ctx, "never set"))

	// a's write is in progress, b's is queued: Delete cancels b's and waits
	// for a's before deleting.
	require.NoError(t, c.Set(ctx, "a", []byte("a"), time.Hour))
	g.waitArrived(t, 1)
	require.NoError(t, c.Set(ctx, "b", []byte("b"), time.Hour))
	require.NoError(t, c.Delete(ctx, "b"))
	_, err := c.Get(ctx, "b")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, c.Delete(short, "a"), context.DeadlineExceeded, "waits for the write in progress")

	done := make(chan error, 1)
	go func() { done <- c.Delete(ctx, "a") }()
	time.Sleep(20 * time.Millisecond)
	g.release()
	require.NoError(t, <-done)
	flush(t, c)
	for _, k := range []string{"a", "b"} {
		_, err := newTestCache(t, f, nil).Get(ctx, k)
		require.ErrorIs(t, err, imageopto.ErrCacheMiss, k)
	}
	assert.Equal(t, int64(1), c.Counters().Sets, "b was never written")
}

// TestCacheClose runs without t.Parallel: it checks that no goroutine
// outlives Close.
func TestCacheClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tests := []struct {
		name        string
		hold        bool // PUTs never complete
		wantErr     error
		wantSets    int64
		wantDropped int64
	}{
		{name: "drains", wantSets: 5},
		{name: "abandons at the deadline", hold: true, wantErr: context.DeadlineExceeded, wantDropped: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(http.MethodPut)
			if !tt.hold {
				g.release()
			}
			f := newFakeS3(t, g.wrap)
			t.Cleanup(g.release)
			// Writes in progress end with PutTimeout unless Close abandons
			// them: a minute, so that Close returning within 20 s shows
			// that it did.
			c, err := NewCache(f.client, "derived", "", &CacheOptions{Writers: 2, QueueSize: 10, PutTimeout: time.Minute})
			require.NoError(t, err)
			for i := range 5 {
				require.NoError(t, c.Set(context.Background(), fmt.Sprint(i), []byte("v"), time.Hour))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err = c.Close(ctx)
			elapsed := time.Since(start)
			t.Logf("Close: %v after %v", err, elapsed)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Less(t, elapsed, 20*time.Second, "Close returns after its deadline (300 ms), not when the writes time out (1 min)")
			} else {
				require.NoError(t, err)
			}
			st := c.Counters()
			assert.Equal(t, tt.wantSets, st.Sets)
			assert.Equal(t, tt.wantDropped, st.Dropped)
			assert.Zero(t, st.Pending)

			require.ErrorIs(t, c.Set(context.Background(), "late", []byte("v"), time.Hour), ErrClosed)
			require.NoError(t, c.Close(context.Background()), "a second Close is fine")
			if !tt.hold {
				got, err := c.Get(context.Background(), "0")
				require.NoError(t, err, "Get works after Close")
				assert.Equal(t, "v", string(got))
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
