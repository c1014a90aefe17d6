package jpegdec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imageopto/imageopto/internal/ctxpoll/polltest"
)

// threadSources are the files TestThreads* decode: testdata (every
// layout, restart intervals, progressive, CMYK, truncated), a larger
// generated photo by image/jpeg and, when installed, by cjpeg with restart
// intervals, 4:4:4, greyscale and one scan per component; and the photos of
// $IMAGEOPTO_CORPUS when set.
func threadSources(t *testing.T) map[string][]byte {
	srcs := map[string][]byte{}
	for _, name := range testFiles(t) {
		srcs[filepath.Base(name)] = readFile(t, name)
	}
	photo := photoLike(700, 500, 4)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo, &jpeg.Options{Quality: 88}); err != nil {
		t.Fatal(err)
	}
	srcs["photo image/jpeg"] = buf.Bytes()
	if _, err := exec.LookPath("cjpeg"); err == nil {
		ppm := toPPM(photo)
		for _, args := range [][]string{
			{"-restart", "1"}, {"-restart", "3B", "-sample", "1x1"}, {"-grayscale", "-restart", "2"},
			{"-sample", "2x1"}, {"-optimize", "-sample", "1x1"},
		} {
			cmd := exec.Command("cjpeg", append([]string{"-quality", "90"}, args...)...)
			cmd.Stdin = bytes.NewReader(ppm)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("cjpeg %v: %v", args, err)
			}
			srcs[fmt.Sprint("photo cjpeg ", args)] = out
		}
	}
	if dir := os.Getenv("IMAGEOPTO_CORPUS"); dir != "" {
		names, _ := filepath.Glob(filepath.Join(dir, "*.jp*g"))
		for _, name := range names {
			srcs[filepath.Base(name)] = readFile(t, name)
		}
	}
	return srcs
}

// TestThreadsSamePixels: with a second goroutine (Options.Threads 2),
// Decode and DecodePlanes return the pixels (or the error) of the
// one-goroutine decode, at every scale and with reduced chroma. It lowers
// minPipeBlocks so that small files take the pipe too, hence not parallel.
func TestThreadsSamePixels(t *testing.T) {
	defer func(n int) { minPipeBlocks = n }(minPipeBlocks)
	minPipeBlocks = 1
	srcs := threadSources(t)
	for name, data := range srcs {
		for _, scale := range []int{1, 2, 4, 8} {
			o1 := &Options{Scale: scale}
			o2 := &Options{Scale: scale, Threads: 2}
			a, err1 := Decode(bgCtx, data, o1)
			b, err2 := Decode(bgCtx, data, o2)
			if fmt.Sprint(err1) != fmt.Sprint(err2) {
				t.Errorf("%s 1/%d: errors %v and %v", name, scale, err1, err2)
				continue
			}
			if err1 == nil {
				if maxd, n, err := imageDiff(a, b); err != nil || n != 0 {
					t.Errorf("%s 1/%d: Threads 2 differs in %d samples (max %d) %v", name, scale, n, maxd, err)
				}
			}
			o1.ChromaStepX, o1.ChromaStepY = 16, 16
			o2.ChromaStepX, o2.ChromaStepY = 16, 16
			p1, err1 := DecodePlanes(bgCtx, data, o1)
			p2, err2 := DecodePlanes(bgCtx, data, o2)
			if fmt.Sprint(err1) != fmt.Sprint(err2) {
				t.Errorf("%s planes 1/%d: errors %v and %v", name, scale, err1, err2)
				continue
			}
			if err1 != nil {
				continue
			}
			for i := range p1.Comp {
				if !bytes.Equal(p1.Comp[i].Pix, p2.Comp[i].Pix) {
					t.Errorf("%s planes 1/%d: Threads 2 wrote other samples in plane %d", name, scale, i)
				}
			}
			p1.Release()
			p2.Release()
		}
	}
}

// TestThreadsCancel: a decode with a second goroutine, cancelled at any
// of a spread of its polls, returns context.Canceled (not ErrCorrupt), and
// no goroutine outlives it.
func TestThreadsCancel(t *testing.T) {
	var seq bytes.Buffer
	if err := jpeg.Encode(&seq, photoLike(1024, 768, 9), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for _, o := range []*Options{{Threads: 2}, {Scale: 2, Threads: 2}} {
		polls := polltest.Never()
		if _, err := Decode(polls, seq.Bytes(), o); err != nil {
			t.Fatal(err)
		}
		n := polls.Polls()
		for k := range n {
			_, err := Decode(polltest.CancelAfter(k), seq.Bytes(), o)
			if !errors.Is(err, context.Canceled) || errors.Is(err, ErrCorrupt) {
				t.Errorf("1/%d cancelled at poll %d of %d: %v", o.Scale, k+1, n, err)
			}
		}
	}
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines after, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPipeWorkerPanic: a panic in the inverse DCT worker (here a block
// whose plane is missing) stops the scan (add fails) and is raised again on
// the calling goroutine by close, with the worker's stack, after the worker
// has ended: the caller's recover sees it as with one goroutine.
func TestPipeWorkerPanic(t *testing.T) {
	t.Parallel()
	d := &decoder{ncomp: 1}
	d.comps[0] = component{keepN: 1, scale: 8, bs: 1, stride: 1} // no pix
	p := newIDCTPipe(d)
	var err error
	for i := 0; i < 8*pipeBlocks && err == nil; i++ {
		p.slot()[0] = 0
		err = p.add(0, 1, shapeDC, i, 0)
	}
	if err != nil && !errors.Is(err, errWorkerPanicked) {
		t.Errorf("add: %v, want errWorkerPanicked", err)
	}
	raised := func() (v any) {
		defer func() { v = recover() }()
		p.close(err == nil)
		return nil
	}()
	msg, _ := raised.(string)
	if !strings.Contains(msg, "inverse DCT worker: runtime error") || !strings.Contains(msg, "idctpipe.go") {
		t.Errorf("close raised %v, want the worker's panic with its stack", raised)
	}
	select {
	case <-p.done:
	default:
		t.Error("the worker is still running")
	}
}
