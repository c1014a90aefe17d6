package imageopto

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestETagMismatchCounted: an origin that changes an original's bytes
// but keeps its ETag (and ignores If-None-Match) is detected on the refetch
// and counted; the new bytes win (reliability.md §5.3).
func TestETagMismatchCounted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		sourceCache bool // the stale original is still in the source cache
	}{
		{"source cache holds the old bytes", true},
		{"only the result entry remembers the hash", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			data := samplePNG(t)
			var conditional atomic.Int64
			origin := OriginFunc(func(_ context.Context, req FetchRequest) (*Source, error) {
				if req.IfNoneMatch != "" {
					conditional.Add(1)
				}
				mu.Lock()
				defer mu.Unlock()
				return &Source{Data: data, ETag: `"same"`, Expires: time.Now().Add(time.Second)}, nil
			})
			opts := &Options{StaleWhileRevalidate: time.Nanosecond}
			if !tc.sourceCache {
				opts.SourceCache = nilCache{}
			}
			h := newTestHandler(t, origin, opts)
			var clock atomic.Int64
			clock.Store(time.Now().UnixNano())
			h.now = func() time.Time { return time.Unix(0, clock.Load()) }
			first := get(h, "/cat.png?width=40&format=png")
			require.Equal(t, http.StatusOK, first.Code)

			// Same bytes, same ETag: an origin that ignores conditionals is
			// not a mismatch.
			clock.Add(int64(time.Minute))
			require.Equal(t, http.StatusOK, get(h, "/cat.png?width=40&format=png").Code)
			assert.Zero(t, h.Stats().ETagMismatches)

			mu.Lock()
			data = encodePNG(t, quadrants(80, 80))
			mu.Unlock()
			clock.Add(int64(time.Minute))
			w := get(h, "/cat.png?width=40&format=png")
			require.Equal(t, http.StatusOK, w.Code)
			assert.Contains(t, w.Header().Get("Imageopto-Info"), "idim=80x80", "new content wins")
			assert.NotEqual(t, first.Header().Get("ETag"), w.Header().Get("ETag"))
			assert.EqualValues(t, 1, h.Stats().ETagMismatches)
			assert.EqualValues(t, 2, conditional.Load(), "both refetches were conditional")
		})
	}
}

// nilCache stores nothing.
type nilCache struct{}

func (nilCache) Get(context.Context, string) ([]byte, error)              { return nil, ErrCacheMiss }
func (nilCache) Set(context.Context, string, []byte, time.Duration) error { return nil }
