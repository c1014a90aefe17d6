package imageopto

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lookupCounter counts EventCacheLookup per layer.
type lookupCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *lookupCounter) Observe(e Event) {
	if e.Kind == EventCacheLookup {
		c.mu.Lock()
		c.n[e.Layer]++
		c.mu.Unlock()
	}
}

func (c *lookupCounter) take(layer string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n[layer]
	c.n = map[string]int{}
	return n
}

// TestOneResultLookupPerRequest: whatever the outcome — a miss, a hit, a
// stale entry revalidated — a request counts one result-cache lookup (a
// miss's fill starts from what the lookup read).
func TestOneResultLookupPerRequest(t *testing.T) {
	t.Parallel()
	obs := &lookupCounter{n: map[string]int{}}
	h := newTestHandler(t, newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)}), &Options{Observer: obs})
	clock := time.Now()
	var mu sync.Mutex
	h.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	steps := []struct {
		name    string
		advance time.Duration
	}{
		{"miss", 0},
		{"hit", 0},
		{"expired: revalidated", 2 * time.Hour},
		{"hit again", 0},
	}
	for _, st := range steps {
		mu.Lock()
		clock = clock.Add(st.advance)
		mu.Unlock()
		w := get(h, "/cat.png?width=20&format=png")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, 1, obs.take("result"), st.name)
	}
}
