package jpegenc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"runtime"
	"testing"
	"time"

	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
)

// TestThreadsSameBytes: with a second goroutine (Options.Threads 2) every
// mode writes the bytes of the one-goroutine run, for every kind of
// source, sizes of one to many MCU rows (odd and even counts, partial
// last rows, padding blocks) and both subsamplings.
func TestThreadsSameBytes(t *testing.T) {
	t.Parallel()
	sizes := [][2]int{{8, 8}, {17, 9}, {33, 16}, {40, 17}, {129, 100}, {301, 257}, {640, 481}}
	modes := []Options{
		{Quality: 85},
		{Quality: 85, OptimizeHuffman: true},
		{Quality: 92, OptimizeHuffman: true, Subsampling: S444},
		{Quality: 80, Progressive: true},
		{Quality: 95, Progressive: true, Subsampling: S444},
	}
	for _, sz := range sizes {
		rgb := photoLike(sz[0], sz[1], uint64(sz[0]))
		srcs := []struct {
			name string
			img  image.Image
		}{
			{"nrgba", rgb},
			{"ycbcr420", toYCbCr(rgb, image.YCbCrSubsampleRatio420)},
			{"ycbcr444", toYCbCr(rgb, image.YCbCrSubsampleRatio444)},
			{"grey", toGray(rgb)},
		}
		for _, src := range srcs {
			for _, o := range modes {
				name := fmt.Sprintf("%dx%d %s q%d prog=%v opt=%v %s", sz[0], sz[1], src.name, o.Quality, o.Progressive, o.OptimizeHuffman, o.Subsampling)
				one := encode(t, src.img, &o)
				o2 := o
				o2.Threads = 2
				two := encode(t, src.img, &o2)
				if !bytes.Equal(one, two) {
					t.Errorf("%s: Threads 2 wrote other bytes (%d vs %d)", name, len(two), len(one))
				}
			}
		}
	}
}

// TestThreadsCancel: a job with a second goroutine, cancelled at any of
// its polls, returns context.Canceled, and no goroutine outlives Encode.
func TestThreadsCancel(t *testing.T) {
	rgb := photoLike(512, 384, 3)
	before := runtime.NumGoroutine()
	for _, o := range []Options{
		{Quality: 85, OptimizeHuffman: true, Threads: 2},
		{Quality: 85, Progressive: true, Threads: 2},
	} {
		polls := polltest.Never()
		if err := Encode(polls, new(bytes.Buffer), rgb, &o); err != nil {
			t.Fatal(err)
		}
		for n := range polls.Polls() {
			err := Encode(polltest.CancelAfter(n), new(bytes.Buffer), rgb, &o)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("progressive=%v cancelled after %d of %d polls: %v", o.Progressive, n, polls.Polls(), err)
			}
		}
	}
	// Encode joins its goroutine before it returns: the count is back at
	// once (allow the runtime a moment for goroutines of other origins).
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines after, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
