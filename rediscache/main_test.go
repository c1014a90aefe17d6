package rediscache

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain silences go-redis's own logging (dial failures are the point of
// several tests) and checks that no goroutine outlives the tests.
func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{})
	code := m.Run()
	if code == 0 {
		if err := findLeaks(30 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// findLeaks retries goleak.Find for up to wait. A closed go-redis pool whose
// dials had failed stops its background re-dialler only at the end of that
// goroutine's one-second sleep, later than goleak's own retries give up;
// anything still running after wait (generous, for a loaded machine) is a
// real leak.
func findLeaks(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := goleak.Find()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
