//go:build unix

package rediscache

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/diskcache"
)

// changingOrigin serves one original whose bytes can change.
type changingOrigin struct {
	mu      sync.Mutex
	data    []byte
	fetches atomic.Int64
}

func (o *changingOrigin) Fetch(_ context.Context, req imageopto.FetchRequest) (*imageopto.Source, error) {
	o.fetches.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	if req.Path != "cat.png" {
		return nil, imageopto.ErrNotFound
	}
	return &imageopto.Source{Data: o.data, Expires: time.Now().Add(time.Hour)}, nil
}

func (o *changingOrigin) set(b []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.data = b
}

func gradientPNG(t *testing.T, blue uint8) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), blue, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// TestPurgeThroughLayers: results kept on disk and in Redis outlive the
// handler that purged them. A handler started afterwards on the same disk
// and Redis (a restart, or another machine) must not serve them: the purge
// records it loads from its PurgeStore make them unreachable. Without a
// store (the control case) it serves the purged result, which shows the
// test can fail.
func TestPurgeThroughLayers(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	oldPNG, newPNG := gradientPNG(t, 10), gradientPNG(t, 200)
	for i, tc := range []struct {
		name        string
		disk, redis bool
		store       string // "", "file", "redis", "both"
		wantPurged  bool   // the handler started after the purge serves the new original
	}{
		{"disk, purges in a file", true, false, "file", true},
		{"redis, purges in redis", false, true, "redis", true},
		{"disk and redis, purges in both", true, true, "both", true},
		{"disk and redis, purges in redis only", true, true, "redis", true},
		{"disk and redis, no purge store (control)", true, true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			prefix := "purge" + string(rune('a'+i)) + ":"
			origin := &changingOrigin{data: oldPNG}
			var disk *diskcache.Cache
			open := func() *imageopto.Handler {
				mem := imageopto.NewMemoryCache(32 << 20)
				layers := []imageopto.Cache{mem}
				var stores []imageopto.PurgeStore
				if tc.disk {
					var err error
					disk, err = diskcache.Open(dir, 64<<20, nil)
					require.NoError(t, err)
					layers = append(layers, disk)
				}
				var rc *Cache
				if tc.redis || tc.store == "redis" || tc.store == "both" {
					rc = openCache(t, srv, &Options{Prefix: prefix + "r:"})
				}
				if tc.redis {
					layers = append(layers, rc)
				}
				if tc.store == "file" || tc.store == "both" {
					stores = append(stores, imageopto.NewFilePurgeStore(filepath.Join(dir, "purges.jsonl")))
				}
				if tc.store == "redis" || tc.store == "both" {
					stores = append(stores, rc.PurgeStore())
				}
				opts := &imageopto.Options{Cache: imageopto.NewLayeredCache(time.Hour, layers...),
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
				if len(stores) > 0 {
					opts.PurgeStore = imageopto.PurgeStores(stores...)
				}
				h, err := imageopto.New(origin, opts)
				require.NoError(t, err)
				return h
			}
			get := func(h *imageopto.Handler) []byte {
				rec := serve(h, "/cat.png?width=32&format=png")
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				return rec.Body.Bytes()
			}
			h := open()
			before := get(h)
			origin.set(newPNG)
			require.Equal(t, before, get(h), "fresh in the cache")
			require.NoError(t, h.Purge(context.Background(), "cat.png"))
			if disk != nil {
				require.NoError(t, disk.Close())
			}
			// A new handler on the same disk and Redis, fresh memory.
			h2 := open()
			if disk != nil {
				t.Cleanup(func() { _ = disk.Close() })
			}
			fetches := origin.fetches.Load()
			got := get(h2)
			if tc.wantPurged {
				assert.NotEqual(t, before, got, "the purged result must not come back from disk or Redis")
				assert.Equal(t, fetches+1, origin.fetches.Load())
			} else {
				assert.Equal(t, before, got, "control: without a purge store the old result is found")
			}
		})
	}
}

func serve(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestRedisPurgeStoreMerges(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := openCache(t, srv, &Options{Prefix: "ps:"})
	s := c.PurgeStore()
	ctx := context.Background()
	big := int64(1_800_000_000_000_000_123) // beyond a double's exact integers
	require.NoError(t, s.SavePurges(ctx, []imageopto.PurgeRecord{{Path: "a", Hard: big}, {Path: "b", Soft: 5}}))
	// Another machine saves what it knew: older generations never win.
	require.NoError(t, s.SavePurges(ctx, []imageopto.PurgeRecord{{Path: "a", Hard: big - 1, Soft: 7}, {Path: "c", Hard: 1}}))
	require.NoError(t, s.SavePurges(ctx, []imageopto.PurgeRecord{{Path: "c"}})) // forgotten
	recs, err := s.LoadPurges(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []imageopto.PurgeRecord{{Path: "a", Hard: big, Soft: 7}, {Path: "b", Soft: 5}}, recs)
}
