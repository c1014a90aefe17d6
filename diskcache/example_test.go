package diskcache_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/diskcache"
)

// Values survive Close and a new Open on the same directory.
func Example() {
	dir, err := os.MkdirTemp("", "diskcache-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	c, err := diskcache.Open(dir, 1<<20, nil) // at most 1 MiB
	if err != nil {
		panic(err)
	}
	_ = c.Set(ctx, "greeting", []byte("hello, disk"), time.Hour)
	v, err := c.Get(ctx, "greeting")
	fmt.Println(string(v), err)
	_, err = c.Get(ctx, "missing")
	fmt.Println(errors.Is(err, imageopto.ErrCacheMiss))
	_ = c.Close()

	c, err = diskcache.Open(dir, 1<<20, nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	v, _ = c.Get(ctx, "greeting")
	fmt.Println("after restart:", string(v))
	<-c.Indexed()
	s := c.Stats()
	fmt.Println(s.Items, "item,", s.Bytes, "bytes") // a 32-byte header, the key and the value
	// Output:
	// hello, disk <nil>
	// true
	// after restart: hello, disk
	// 1 item, 51 bytes
}
