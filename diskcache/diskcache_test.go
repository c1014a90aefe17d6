package diskcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/imageopto/imageopto"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

// openT opens a cache in dir, waits for its index and closes it at the end
// of the test.
func openT(t testing.TB, dir string, maxBytes int64, opts *Options) *Cache {
	t.Helper()
	return openHooked(t, dir, maxBytes, opts, hooks{})
}

func openHooked(t testing.TB, dir string, maxBytes int64, opts *Options, hk hooks) *Cache {
	t.Helper()
	c, err := open(dir, maxBytes, opts, hk)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	if hk.beforeWalk == nil {
		<-c.Indexed()
	}
	return c
}

// fileSize is the size of the entry file of key and value.
func fileSize(key string, value []byte) int64 {
	return int64(headerSize + len(key) + len(value))
}

// usage counts the entry files under dir and their bytes, and the
// temporary files.
func usage(t testing.TB, dir string) (files int, size int64, temps int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), tmpPrefix) {
			temps++
			return nil
		}
		if _, ok := parseName(filepath.Base(filepath.Dir(path)), d.Name()); ok {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			files++
			size += fi.Size()
		}
		return nil
	})
	require.NoError(t, err)
	return files, size, temps
}

// requireAccounting checks that the index counts exactly the files on disk.
func requireAccounting(t testing.TB, c *Cache) {
	t.Helper()
	files, size, _ := usage(t, c.dir)
	s := c.Stats()
	require.Equal(t, files, s.Items, "items = entry files on disk")
	require.Equal(t, size, s.Bytes, "bytes = entry bytes on disk")
	require.LessOrEqual(t, s.Bytes, s.MaxBytes)
}

func onDisk(c *Cache, key string) bool {
	h := hashKey(key)
	_, err := os.Lstat(entryPath(c.dir, &h))
	return err == nil
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, key string
		value     []byte
	}{
		{"small", "k", []byte("hello")},
		{"empty value", "k", []byte{}},
		{"empty key", "", []byte("x")},
		{"1 MiB", "big", randBytes(1 << 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := openT(t, t.TempDir(), 64<<20, nil)
			require.NoError(t, c.Set(ctx, tc.key, tc.value, 0))
			got, err := c.Get(ctx, tc.key)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(tc.value, got))
			_, err = c.Get(ctx, tc.key+"?")
			require.ErrorIs(t, err, imageopto.ErrCacheMiss)
			s := c.Stats()
			assert.Equal(t, imageopto.CacheStats{Hits: 1, Misses: 1, Sets: 1, Items: 1,
				Bytes: fileSize(tc.key, tc.value), MaxBytes: 64 << 20}, s)
			requireAccounting(t, c)
		})
	}
}

func TestReplaceAndDelete(t *testing.T) {
	t.Parallel()
	c := openT(t, t.TempDir(), 1<<20, nil)
	require.NoError(t, c.Set(ctx, "k", []byte("one"), 0))
	require.NoError(t, c.Set(ctx, "k", []byte("three"), 0))
	got, err := c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "three", string(got))
	assert.Equal(t, fileSize("k", got), c.Stats().Bytes)
	requireAccounting(t, c)

	require.NoError(t, c.Delete(ctx, "k"))
	require.NoError(t, c.Delete(ctx, "k"), "deleting a missing key")
	_, err = c.Get(ctx, "k")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)
	assert.False(t, onDisk(c, "k"))
	requireAccounting(t, c)
}

func TestBinaryKeys(t *testing.T) {
	t.Parallel()
	keys := []string{"\x00", "\x00\x00", "a/b/../c", "../../etc/passwd", "\xff\xfe\xfd", "ab/cd",
		"C:\\x", "..", ".", "with\nnewline", strings.Repeat("k", 10000), "s/cat.png\x00q=1"}
	c := openT(t, t.TempDir(), 8<<20, nil)
	for i, k := range keys {
		require.NoError(t, c.Set(ctx, k, fmt.Appendf(nil, "value %d", i), 0))
	}
	for i, k := range keys {
		got, err := c.Get(ctx, k)
		require.NoError(t, err, "%q", k)
		assert.Equal(t, fmt.Sprintf("value %d", i), string(got), "%q", k)
	}
	files, _, temps := usage(t, c.dir)
	assert.Equal(t, len(keys), files, "every key is one hex-named file")
	assert.Zero(t, temps)
	requireAccounting(t, c)
}

// clock is a settable clock for hooks.now.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestTTL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := newClock()
	c := openHooked(t, dir, 1<<20, nil, hooks{now: clk.now})
	<-c.Indexed()
	require.NoError(t, c.Set(ctx, "minute", []byte("a"), time.Minute))
	require.NoError(t, c.Set(ctx, "forever", []byte("b"), 0))
	require.NoError(t, c.Set(ctx, "negative", []byte("c"), time.Hour))
	require.NoError(t, c.Set(ctx, "negative", []byte("c2"), -time.Second))

	clk.advance(59 * time.Second)
	_, err := c.Get(ctx, "minute")
	require.NoError(t, err, "fresh before the ttl")
	_, err = c.Get(ctx, "negative")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss, "a negative ttl stores nothing and drops the old value")
	assert.False(t, onDisk(c, "negative"))

	clk.advance(time.Second)
	_, err = c.Get(ctx, "minute")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss, "expired at the ttl")
	assert.False(t, onDisk(c, "minute"), "expired entries are removed")
	clk.advance(100 * 365 * 24 * time.Hour)
	_, err = c.Get(ctx, "forever")
	require.NoError(t, err, "ttl 0 never expires")
	requireAccounting(t, c)

	// After a restart the expiry is known only from the file's header.
	require.NoError(t, c.Set(ctx, "minute", []byte("a"), time.Minute))
	require.NoError(t, c.Close())
	c = openHooked(t, dir, 1<<20, nil, hooks{now: clk.now})
	<-c.Indexed()
	_, err = c.Get(ctx, "minute")
	require.NoError(t, err)
	clk.advance(time.Minute)
	_, err = c.Get(ctx, "minute")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)
	assert.False(t, onDisk(c, "minute"))
	requireAccounting(t, c)
}

func TestLRUEviction(t *testing.T) {
	t.Parallel()
	val := make([]byte, 1000)
	one := fileSize("k0", val) // every key has two bytes
	set := func(c *Cache, key string) { require.NoError(t, c.Set(ctx, key, val, 0)) }
	get := func(c *Cache, key string) {
		_, err := c.Get(ctx, key)
		require.NoError(t, err)
	}
	for _, tc := range []struct {
		name      string
		ops       func(c *Cache)
		kept      []string
		evicted   []string
		evictions int64
	}{
		{"oldest goes", func(c *Cache) {
			for _, k := range []string{"k0", "k1", "k2", "k3", "k4"} {
				set(c, k)
			}
		}, []string{"k1", "k2", "k3", "k4"}, []string{"k0"}, 1},
		{"get refreshes", func(c *Cache) {
			set(c, "k0")
			set(c, "k1")
			set(c, "k2")
			set(c, "k3")
			get(c, "k0")
			set(c, "k4")
		}, []string{"k0", "k2", "k3", "k4"}, []string{"k1"}, 1},
		{"set refreshes", func(c *Cache) {
			set(c, "k0")
			set(c, "k1")
			set(c, "k2")
			set(c, "k3")
			set(c, "k0")
			set(c, "k4")
		}, []string{"k0", "k2", "k3", "k4"}, []string{"k1"}, 1},
		{"delete frees", func(c *Cache) {
			set(c, "k0")
			set(c, "k1")
			set(c, "k2")
			set(c, "k3")
			require.NoError(t, c.Delete(ctx, "k1"))
			set(c, "k4")
		}, []string{"k0", "k2", "k3", "k4"}, []string{"k1"}, 0},
		{"a big entry evicts several", func(c *Cache) {
			set(c, "k0")
			set(c, "k1")
			set(c, "k2")
			set(c, "k3")
			require.NoError(t, c.Set(ctx, "kb", make([]byte, 2000), 0))
		}, []string{"k2", "k3", "kb"}, []string{"k0", "k1"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			max := 4*one + 100
			c := openT(t, t.TempDir(), max, &Options{MaxEntryBytes: max})
			tc.ops(c)
			for _, k := range tc.kept {
				assert.True(t, onDisk(c, k), "%s kept", k)
			}
			for _, k := range tc.evicted {
				assert.False(t, onDisk(c, k), "%s evicted", k)
			}
			assert.Equal(t, tc.evictions, c.Stats().Evictions)
			assert.Equal(t, len(tc.kept), c.Stats().Items)
			requireAccounting(t, c)
		})
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	c := openT(t, t.TempDir(), 8000, nil) // entries up to 1000 bytes
	require.NoError(t, c.Set(ctx, "k", make([]byte, 900), 0))
	require.True(t, onDisk(c, "k"))
	require.NoError(t, c.Set(ctx, "k", make([]byte, 1000), 0), "too large is not an error")
	_, err := c.Get(ctx, "k")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss, "the old value does not survive a replacement")
	assert.False(t, onDisk(c, "k"))
	assert.Equal(t, int64(1), c.Stats().Sets)
	requireAccounting(t, c)
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := openT(t, dir, 1<<20, nil)
	want := map[string][]byte{"a": []byte("alpha"), "b": randBytes(5000), "\x00": []byte("nul")}
	for k, v := range want {
		require.NoError(t, c.Set(ctx, k, v, time.Hour))
	}
	before := c.Stats()
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "closing twice")

	c = openT(t, dir, 1<<20, nil)
	after := c.Stats()
	assert.Equal(t, before.Items, after.Items)
	assert.Equal(t, before.Bytes, after.Bytes)
	for k, v := range want {
		got, err := c.Get(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, v, got)
	}
	requireAccounting(t, c)
}

func TestLRUSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	val := make([]byte, 1000)
	max := 4*fileSize("k0", val) + 100
	opts := &Options{MaxEntryBytes: max}
	c := openT(t, dir, max, opts)
	for i := range 4 {
		require.NoError(t, c.Set(ctx, fmt.Sprint("k", i), val, 0))
		time.Sleep(20 * time.Millisecond) // file times are as coarse as the kernel's clock tick
	}
	_, err := c.Get(ctx, "k0") // recorded in the file by Close
	require.NoError(t, err)
	require.NoError(t, c.Close())

	c = openT(t, dir, max, opts)
	require.NoError(t, c.Set(ctx, "k4", val, 0))
	assert.True(t, onDisk(c, "k0"), "k0 was read last before the restart")
	assert.False(t, onDisk(c, "k1"), "k1 is the least recently used")
	for _, k := range []string{"k2", "k3", "k4"} {
		assert.True(t, onDisk(c, k), k)
	}
	requireAccounting(t, c)
}

func TestTouchInterval(t *testing.T) {
	t.Parallel()
	mtime := func(c *Cache, key string) time.Time {
		h := hashKey(key)
		fi, err := os.Stat(entryPath(c.dir, &h))
		require.NoError(t, err)
		return fi.ModTime()
	}
	for _, tc := range []struct {
		name    string
		every   time.Duration
		advance time.Duration
		touched bool
	}{
		{"due", time.Minute, time.Minute, true},
		{"throttled", time.Minute, 59 * time.Second, false},
		{"disabled", -1, time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			c := openHooked(t, t.TempDir(), 1<<20, &Options{TouchInterval: tc.every}, hooks{now: clk.now})
			<-c.Indexed()
			require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))
			written := mtime(c, "k")
			clk.advance(tc.advance)
			_, err := c.Get(ctx, "k")
			require.NoError(t, err)
			if tc.touched {
				assert.True(t, clk.now().Equal(mtime(c, "k")), "a hit records the time of use")
			} else {
				assert.Equal(t, written, mtime(c, "k"))
			}
		})
	}
}

func TestOrderByMtimeAndShrinkOnOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	val := make([]byte, 1000)
	one := fileSize("k0", val)
	c := openT(t, dir, 1<<20, nil)
	base := time.Now().Add(-time.Hour)
	for i := range 10 {
		k := fmt.Sprint("k", i)
		require.NoError(t, c.Set(ctx, k, val, 0))
		h := hashKey(k)
		// Written in order 0…9, but used last in order 9…0.
		when := base.Add(time.Duration(10-i) * time.Second)
		require.NoError(t, os.Chtimes(entryPath(dir, &h), when, when))
	}
	require.NoError(t, c.Close())

	c = openT(t, dir, 4*one, &Options{MaxEntryBytes: one})
	s := c.Stats()
	assert.Equal(t, 4, s.Items, "Open evicts down to a smaller bound")
	assert.Equal(t, int64(6), s.Evictions)
	for i := range 10 {
		assert.Equal(t, i < 4, onDisk(c, fmt.Sprint("k", i)), "k%d", i)
	}
	requireAccounting(t, c)
}

// TestCrashRecovery leaves what crashes and bit rot leave behind.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := openT(t, dir, 1<<20, nil)
	for _, k := range []string{"good", "torn", "flipped", "foreign", "old-version"} {
		require.NoError(t, c.Set(ctx, k, randBytes(3000), 0))
	}
	require.NoError(t, c.Close())
	path := func(key string) string {
		h := hashKey(key)
		return entryPath(dir, &h)
	}
	good := path("good")
	// Temporary files of a Set interrupted by a crash.
	strayA := filepath.Join(filepath.Dir(good), tmpPrefix+"0123456789-42")
	strayB := filepath.Join(dir, tmpPrefix+"probe-7")
	require.NoError(t, os.WriteFile(strayA, []byte("half an entry"), 0o600))
	require.NoError(t, os.WriteFile(strayB, nil, 0o600))
	// A torn write, a flipped bit, another key's entry under this name, a
	// future format version and a file too short for a header.
	require.NoError(t, os.Truncate(path("torn"), 1500))
	b, err := os.ReadFile(path("flipped"))
	require.NoError(t, err)
	b[len(b)-10] ^= 0x10
	require.NoError(t, os.WriteFile(path("flipped"), b, 0o600))
	b, err = os.ReadFile(good)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path("foreign"), b, 0o600))
	b, err = os.ReadFile(path("old-version"))
	require.NoError(t, err)
	b[4] = formatVersion + 1
	require.NoError(t, os.WriteFile(path("old-version"), b, 0o600))
	h := hashKey("tiny")
	require.NoError(t, os.MkdirAll(subdir(dir, &h), 0o700))
	require.NoError(t, os.WriteFile(path("tiny"), []byte("IOdc"), 0o600))
	// Files that are not the cache's.
	notes := filepath.Join(filepath.Dir(good), "notes.txt")
	readme := filepath.Join(dir, "README")
	require.NoError(t, os.WriteFile(notes, []byte("mine"), 0o600))
	require.NoError(t, os.WriteFile(readme, []byte("mine"), 0o600))

	c = openT(t, dir, 1<<20, nil)
	assert.NoFileExists(t, strayA, "stray temporary files are removed")
	assert.NoFileExists(t, strayB)
	assert.FileExists(t, notes, "foreign files are left alone")
	assert.FileExists(t, readme)
	assert.Equal(t, 6, c.Stats().Items, "the index never reads contents")
	requireAccounting(t, c)

	for _, k := range []string{"torn", "flipped", "foreign", "old-version", "tiny"} {
		_, err := c.Get(ctx, k)
		require.ErrorIs(t, err, imageopto.ErrCacheMiss, k)
		assert.NoFileExists(t, path(k), "%s is removed", k)
	}
	_, err = c.Get(ctx, "good")
	require.NoError(t, err)
	assert.Equal(t, 1, c.Stats().Items)
	requireAccounting(t, c)
}

// TestUseWhileIndexing runs operations before the background index has
// seen the files they touch.
func TestUseWhileIndexing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := openT(t, dir, 1<<20, nil)
	for i := range 10 {
		require.NoError(t, c.Set(ctx, fmt.Sprint("k", i), []byte(fmt.Sprint("old ", i)), 0))
	}
	require.NoError(t, c.Close())

	release := make(chan struct{})
	c = openHooked(t, dir, 1<<20, nil, hooks{beforeWalk: func() { <-release }})
	assert.Zero(t, c.Stats().Items)
	got, err := c.Get(ctx, "k0")
	require.NoError(t, err, "a file not yet indexed is found on demand")
	assert.Equal(t, "old 0", string(got))
	assert.Equal(t, 1, c.Stats().Items)
	require.NoError(t, c.Set(ctx, "k1", []byte("new 1"), 0))
	require.NoError(t, c.Delete(ctx, "k2"))
	require.NoError(t, c.Set(ctx, "k10", []byte("new 10"), 0))
	_, err = c.Get(ctx, "nope")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss)

	close(release)
	<-c.Indexed()
	assert.Equal(t, 10, c.Stats().Items, "k0…k10 without k2")
	requireAccounting(t, c)
	_, err = c.Get(ctx, "k2")
	require.ErrorIs(t, err, imageopto.ErrCacheMiss, "a Delete during the walk sticks")
	got, err = c.Get(ctx, "k1")
	require.NoError(t, err)
	assert.Equal(t, "new 1", string(got))
}

// TestConcurrent hammers overlapping keys with Get, Set and Delete, with
// evictions and the background index running, and checks that every value
// read is whole and belongs to its key.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	const (
		workers = 8
		ops     = 400
		keys    = 16
	)
	dir := t.TempDir()
	// value is the key number, a version and a fill of the version's byte.
	value := func(k, version, n int) []byte {
		b := make([]byte, 8+n)
		binary.LittleEndian.PutUint32(b, uint32(k))
		binary.LittleEndian.PutUint32(b[4:], uint32(version))
		for i := 8; i < len(b); i++ {
			b[i] = byte(version)
		}
		return b
	}
	check := func(k int, b []byte) error {
		if len(b) < 8 || binary.LittleEndian.Uint32(b) != uint32(k) {
			return fmt.Errorf("key %d: value of another key", k)
		}
		v := byte(binary.LittleEndian.Uint32(b[4:]))
		for _, x := range b[8:] {
			if x != v {
				return fmt.Errorf("key %d: torn value", k)
			}
		}
		return nil
	}
	const max = 64 << 10
	c := openT(t, dir, max, nil)
	for k := range keys {
		require.NoError(t, c.Set(ctx, fmt.Sprint("key", k), value(k, 0, 1000), 0))
	}
	require.NoError(t, c.Close())

	// Reopen with the walk starting while the workers run.
	start := make(chan struct{})
	c = openHooked(t, dir, max, nil, hooks{beforeWalk: func() { <-start }})
	var version atomic.Int64
	var startOnce sync.Once
	defer startOnce.Do(func() { close(start) }) // should a worker fail early
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range ops {
				if w == 0 && i == ops/4 {
					startOnce.Do(func() { close(start) })
				}
				k := r.IntN(keys)
				key := fmt.Sprint("key", k)
				switch op := r.IntN(10); {
				case op < 6:
					b, err := c.Get(ctx, key)
					if err == nil {
						err = check(k, b)
					} else if err == imageopto.ErrCacheMiss {
						err = nil
					}
					if err != nil {
						errs <- err
						return
					}
				case op < 9:
					if err := c.Set(ctx, key, value(k, int(version.Add(1)), 500+r.IntN(7000)), 0); err != nil {
						errs <- err
						return
					}
				default:
					if err := c.Delete(ctx, key); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	startOnce.Do(func() { close(start) })
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	<-c.Indexed()
	s := c.Stats()
	t.Logf("stats: %+v", s)
	assert.Positive(t, s.Hits)
	assert.Positive(t, s.Evictions)
	_, _, temps := usage(t, dir)
	assert.Zero(t, temps, "no temporary file left behind")
	requireAccounting(t, c)
}

func TestSetErrors(t *testing.T) {
	t.Parallel()
	t.Run("fan-out directory is a file", func(t *testing.T) {
		t.Parallel()
		c := openT(t, t.TempDir(), 1<<20, nil)
		h := hashKey("x")
		require.NoError(t, os.WriteFile(subdir(c.dir, &h), nil, 0o600))
		before := c.Stats()
		require.Error(t, c.Set(ctx, "x", []byte("v"), 0))
		assert.Equal(t, before, c.Stats(), "a failed Set changes nothing")
		requireAccounting(t, c)
	})
	t.Run("directory removed", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "cache")
		require.NoError(t, os.Mkdir(dir, 0o700))
		c := openT(t, dir, 1<<20, nil)
		require.NoError(t, c.Set(ctx, "a", []byte("v"), 0))
		before := c.Stats()
		require.NoError(t, os.RemoveAll(dir))
		require.Error(t, c.Set(ctx, "b", []byte("v"), 0))
		assert.Equal(t, before, c.Stats(), "a failed Set changes nothing")
		_, err := c.Get(ctx, "a")
		require.ErrorIs(t, err, imageopto.ErrCacheMiss, "a vanished file is a miss")
		assert.Zero(t, c.Stats().Items, "and leaves the index")
		assert.Zero(t, c.Stats().Bytes)
	})
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	readOnly := filepath.Join(t.TempDir(), "ro")
	require.NoError(t, os.Mkdir(readOnly, 0o500))
	for _, tc := range []struct {
		name     string
		dir      string
		maxBytes int64
		opts     *Options
		root     bool // the case cannot fail for root
	}{
		{"missing directory", filepath.Join(t.TempDir(), "missing"), 1 << 20, nil, false},
		{"not a directory", file, 1 << 20, nil, false},
		{"read-only directory", readOnly, 1 << 20, nil, true},
		{"unwritable even for root (procfs)", "/proc", 1 << 20, nil, false},
		{"zero bound", t.TempDir(), 0, nil, false},
		{"negative entry bound", t.TempDir(), 1 << 20, &Options{MaxEntryBytes: -1}, false},
		{"entry bound above bound", t.TempDir(), 1 << 20, &Options{MaxEntryBytes: 2 << 20}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.dir == "/proc" && runtime.GOOS != "linux" {
				t.Skip("no procfs")
			}
			if tc.root && os.Geteuid() == 0 {
				t.Skip("root may write anywhere")
			}
			c, err := Open(tc.dir, tc.maxBytes, tc.opts)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.True(t, strings.HasPrefix(err.Error(), "diskcache: "), err.Error())
		})
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	c, err := Open(t.TempDir(), 1<<20, nil)
	require.NoError(t, err)
	require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))
	require.NoError(t, c.Close())
	_, err = c.Get(ctx, "k")
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, c.Set(ctx, "k", []byte("v"), 0), ErrClosed)
	require.ErrorIs(t, c.Delete(ctx, "k"), ErrClosed)
	require.NoError(t, c.Close())
}

// TestColdStart times Open and the background index of many files.
func TestColdStart(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	dir := t.TempDir()
	c := openT(t, dir, 1<<30, nil)
	val := make([]byte, 1024)
	for i := range n {
		require.NoError(t, c.Set(ctx, fmt.Sprint("key ", i), val, 0))
	}
	require.NoError(t, c.Close())

	start := time.Now()
	c, err := Open(dir, 1<<30, nil)
	require.NoError(t, err)
	defer c.Close()
	opened := time.Since(start)
	got, err := c.Get(ctx, "key 7")
	require.NoError(t, err, "usable at once")
	assert.Len(t, got, len(val))
	<-c.Indexed()
	indexed := time.Since(start)
	assert.Equal(t, n, c.Stats().Items)
	var want int64
	for i := range n {
		want += fileSize(fmt.Sprint("key ", i), val)
	}
	assert.Equal(t, want, c.Stats().Bytes)
	t.Logf("%d files: Open returned in %v, index complete in %v (%.1f µs per file)",
		n, opened, indexed, float64(indexed.Microseconds())/float64(n))
}

func TestHashNames(t *testing.T) {
	t.Parallel()
	h := hashKey("abc")
	want := fmt.Sprintf("%x", sha256.Sum256([]byte("abc")))
	assert.Equal(t, filepath.Join("/d", want[:2], want), entryPath("/d", &h))
	got, ok := parseName(want[:2], want)
	assert.True(t, ok)
	assert.Equal(t, h, got)
	for _, bad := range []string{want[:63], strings.ToUpper(want), want + "0", "zz" + want[2:]} {
		_, ok := parseName(want[:2], bad)
		assert.False(t, ok, bad)
	}
}
