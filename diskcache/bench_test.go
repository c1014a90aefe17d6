package diskcache

import (
	"fmt"
	"testing"
)

var benchSizes = []int{4 << 10, 64 << 10, 1 << 20}

// BenchmarkGet reads one entry again and again (from the page cache).
func BenchmarkGet(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			c := openT(b, b.TempDir(), 1<<30, nil)
			if err := c.Set(ctx, "key", randBytes(n), 0); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Get(ctx, "key"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetParallel reads 64 entries from all goroutines.
func BenchmarkGetParallel(b *testing.B) {
	const n = 64 << 10
	c := openT(b, b.TempDir(), 1<<30, nil)
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprint("key", i)
		if err := c.Set(ctx, keys[i], randBytes(n), 0); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Get(ctx, keys[i%len(keys)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkSet writes over 256 keys, with and without fsync.
func BenchmarkSet(b *testing.B) {
	for _, sync := range []bool{false, true} {
		for _, n := range benchSizes {
			if sync && n != 64<<10 {
				continue
			}
			b.Run(fmt.Sprintf("%dKiB/sync=%v", n>>10, sync), func(b *testing.B) {
				c := openT(b, b.TempDir(), 1<<30, &Options{Sync: sync})
				value := randBytes(n)
				keys := make([]string, 256)
				for i := range keys {
					keys[i] = fmt.Sprint("key", i)
				}
				b.SetBytes(int64(n))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := c.Set(ctx, keys[i%len(keys)], value, 0); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}
