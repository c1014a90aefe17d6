package imageopto

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLayeredCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	front, back := NewMemoryCache(1<<20), NewMemoryCache(1<<20)
	c := NewLayeredCache(time.Minute, front, back)

	_, err := c.Get(ctx, "k")
	assert.ErrorIs(t, err, ErrCacheMiss)

	require.NoError(t, c.Set(ctx, "k", []byte("v"), time.Hour))
	for _, l := range []Cache{front, back} {
		v, err := l.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, "v", string(v), "Set writes every layer")
	}

	// A hit in the back layer is copied to the front.
	require.NoError(t, back.Set(ctx, "only-back", []byte("b"), time.Hour))
	v, err := c.Get(ctx, "only-back")
	require.NoError(t, err)
	assert.Equal(t, "b", string(v))
	v, err = front.Get(ctx, "only-back")
	require.NoError(t, err)
	assert.Equal(t, "b", string(v))

	require.NoError(t, c.Delete(ctx, "k"))
	for _, l := range []Cache{front, back} {
		_, err := l.Get(ctx, "k")
		assert.ErrorIs(t, err, ErrCacheMiss)
	}
}

func TestLayeredCacheFailingLayer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	front := NewMemoryCache(1 << 20)
	c := NewLayeredCache(0, front, failingCache{})
	// The dead layer is a miss (the handler does not log misses) that still
	// carries its failure.
	_, err := c.Get(ctx, "k")
	assert.ErrorIs(t, err, ErrCacheMiss)
	assert.ErrorContains(t, err, "down")
	// Set reaches the working layer and reports the failing one.
	err = c.Set(ctx, "k", []byte("v"), 0)
	assert.Error(t, err)
	v, err := c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(v))
	assert.False(t, errors.Is(c.Delete(ctx, "k"), ErrCacheMiss))
}
