package s3store

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/imageopto/imageopto"
)

// BenchmarkCacheSetQueued is the cost Set adds to a response: queueing only
// (the store holds every write, so the queue fills and later Sets drop).
func BenchmarkCacheSetQueued(b *testing.B) {
	g := newGate(http.MethodPut)
	f := newFakeS3(b, g.wrap)
	b.Cleanup(g.release)
	c := newTestCache(b, f, nil)
	value := bytes.Repeat([]byte("v"), 20<<10)
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Set(ctx, fmt.Sprint("k", i), value, time.Hour)
		i++
	}
}

// BenchmarkCacheGet is a 20 KiB hit from gofakes3 over loopback.
func BenchmarkCacheGet(b *testing.B) {
	f := newFakeS3(b, nil)
	c := newTestCache(b, f, nil)
	ctx := context.Background()
	_ = c.Set(ctx, "k", bytes.Repeat([]byte("v"), 20<<10), time.Hour)
	flush(b, c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "k"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOriginFetch is a 200 KiB original from gofakes3 over loopback.
func BenchmarkOriginFetch(b *testing.B) {
	f := newFakeS3(b, nil)
	f.put(b, "originals", "cat.jpg", bytes.Repeat([]byte("x"), 200<<10))
	o, err := NewOrigin(f.client, "originals", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Fetch(ctx, imageopto.FetchRequest{Path: "cat.jpg"}); err != nil {
			b.Fatal(err)
		}
	}
}
