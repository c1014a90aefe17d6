// Package diskcache is an imageopto.Cache in a directory on local disk, for
// a single machine that wants its transformed images to survive restarts.
// It is bounded by bytes, evicts the least recently used entries, writes
// every entry atomically, and opens a directory of any size in about the
// time of one directory listing.
//
// # Use
//
//	disk, err := diskcache.Open("/var/cache/imageopto", 10<<30, nil) // 10 GiB
//	if err != nil { ... }
//	defer disk.Close()
//	h, err := imageopto.New(origin, &imageopto.Options{Cache: disk})
//
// The directory must exist and be writable. *Cache implements
// imageopto.Cache, imageopto.CacheDeleter and imageopto.CacheStatser. It is
// safe for concurrent use.
//
// # Layout on disk
//
// An entry lives in dir/ab/abcdef…, named by the hexadecimal SHA-256 of its
// key and fanned out into 256 directories by the first byte of the hash, so
// any key bytes are safe and no directory grows huge. A file holds a
// 32-byte header — the magic "IOdc", a format version, the expiry in Unix
// nanoseconds, the key and value lengths and a CRC-32C of the header, key
// and value — then the key, then the value. A file is only ever served when
// its magic, version, lengths, key and checksum all match: a file that was
// torn by a power loss, truncated, written by a future version or for
// another key is a miss and is removed. Files and directories are created
// private to the user (0600 and 0700). Other files in dir are left alone.
//
// # Writes
//
// Set writes the entry to a temporary file (".tmp-…") in the entry's
// directory and renames it over the final name, so a concurrent Get sees the
// old entry or the new one, never a mix, and a crash leaves at worst a
// temporary file, which the next Open removes. Options.Sync adds an fsync
// of the file before the rename (not of the directory). It is off by default: a process crash loses nothing
// either way (the data is in the page cache), and after a power loss an
// entry whose data had not reached the disk fails its checksum and is a
// miss — a cache may lose entries, it must never serve wrong ones. Turn it
// on when a cold cache after a power loss would be expensive; it costs an
// fsync per Set.
//
// # Bound and eviction
//
// The bound counts the sizes of the entry files (header, key and value),
// not the file system's block rounding or the directories. When a Set takes
// the total over the bound, the least recently used entries are deleted
// until it fits again. An entry larger than Options.MaxEntryBytes (default:
// an eighth of the bound) is not stored — and the key's old value, if any,
// is deleted — so one huge image cannot flush everything else.
//
// # Recency and cold start
//
// The index (hash, file size, recency) is kept in memory, about 150 bytes
// per entry. Recency is also recorded in each file's modification time: a
// Get hit sets it to now, at most once per Options.TouchInterval (default:
// one minute) per entry, and Close writes the recency of entries read since
// their last update. Open checks the directory, lists it (it holds at most
// 256 fan-out directories) and returns; a background goroutine then lists
// each fan-out directory
// and stats every file (it never reads a file's contents), removes stray
// temporary files, orders the entries by modification time and evicts
// whatever exceeds the bound. Indexed reports when that is done. Until
// then, a Get of a file not yet indexed opens it on demand and indexes it,
// Set and Delete work as usual, and the bound applies to the entries
// indexed so far; the accounting is exact once the walk completes.
//
// # Expiry
//
// An entry stored with a ttl expires ttl after Set (0: never; a negative
// ttl stores nothing and deletes the old value). An expired entry is a miss
// and is deleted when read; until then it takes space like any other and,
// not being read, drifts to the least recently used end.
//
// # Concurrency and limits
//
// Get, Set, Delete and Stats may be called from any goroutine. A Get
// concurrent with a Set, Delete or eviction of the same key returns the old
// value, the new value or a miss. The context arguments are not used: each
// call is a few short file system operations. Operations after Close return
// ErrClosed.
//
// The package relies on Unix file semantics (rename over an open file,
// unlinking a file that is being read). One directory must be used by one
// open Cache at a time: two would each count only their own writes (the
// bound would not hold) and one's Open would remove the other's temporary
// files, failing its Sets in progress. Correctness does not depend on it —
// every file is still verified when read.
package diskcache

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/imageopto/imageopto"
)

var (
	_ imageopto.Cache        = (*Cache)(nil)
	_ imageopto.CacheDeleter = (*Cache)(nil)
	_ imageopto.CacheStatser = (*Cache)(nil)
)

// ErrClosed is returned by the operations of a Cache after Close.
var ErrClosed = errors.New("diskcache: closed")

// Options configure a Cache. A nil *Options means every default below.
type Options struct {
	// MaxEntryBytes is the largest entry stored, counting its file: the
	// 32-byte header, the key and the value. It must not exceed the bound.
	// Default: an eighth of the bound. (As an imageopto.Options.SourceCache,
	// which holds originals, make it larger than Limits.MaxSourceBytes.)
	MaxEntryBytes int64
	// Sync makes Set fsync each file before renaming it into place, so that
	// an entry whose name survives a power loss has its data too. (The
	// directory is not synced: entries written in the last seconds before a
	// power loss may still be missing.) Default: false: a power loss may
	// also cost entries whose data had not reached the disk, which then
	// fail their checksum and are misses; see the package documentation.
	Sync bool
	// TouchInterval is how often at most a Get hit records an entry's
	// recency in its file's modification time. A negative value never
	// records it, so after a restart recency is the order of writes.
	// Default: one minute.
	TouchInterval time.Duration
	// Logger receives the errors that no call can return: those of the
	// background index and of removing evicted files. Default: slog.Default().
	Logger *slog.Logger
}

// Cache is an imageopto.Cache in a directory, bounded by bytes, evicting the
// least recently used entries. Create it with Open; it is safe for
// concurrent use.
type Cache struct {
	dir        string
	maxBytes   int64
	maxEntry   int64
	sync       bool
	touch      int64 // nanoseconds; <0: never
	log        *slog.Logger
	crc        *crc32.Table
	tmpPattern string // our temporary files: ".tmp-<instance>-*"
	ourTmp     string // their prefix
	now        func() time.Time

	// stripes serialise the changes of one file name (rename in, remove)
	// together with the index update that goes with them, so the index
	// always describes the file under the name. Reads take no stripe.
	stripes [256]sync.Mutex

	mu      sync.Mutex
	items   map[[sha256.Size]byte]*item
	lru     item // sentinel: lru.next is the most recently used
	bytes   int64
	stats   imageopto.CacheStats
	closed  bool
	walking bool
	// tomb holds, while walking, the hashes removed from the index or the
	// disk, so the walk does not index a file it listed before the removal.
	tomb map[[sha256.Size]byte]struct{}

	stop    chan struct{}
	indexed chan struct{}
}

// hooks let tests control the clock and the start of the background walk.
type hooks struct {
	now        func() time.Time
	beforeWalk func()
}

// Open opens the cache in dir, an existing writable directory, bounded to
// maxBytes of entry files. It removes no entry and reads no entry's
// contents: the index is built in the background (see Indexed).
func Open(dir string, maxBytes int64, opts *Options) (*Cache, error) {
	return open(dir, maxBytes, opts, hooks{})
}

func open(dir string, maxBytes int64, opts *Options, hk hooks) (*Cache, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if maxBytes <= 0 {
		return nil, fmt.Errorf("diskcache: Open: maxBytes %d is not positive", maxBytes)
	}
	if o.MaxEntryBytes == 0 {
		o.MaxEntryBytes = maxBytes / 8
	}
	if o.MaxEntryBytes < 0 || o.MaxEntryBytes > maxBytes {
		return nil, fmt.Errorf("diskcache: Open: Options.MaxEntryBytes %d is outside 0–%d", o.MaxEntryBytes, maxBytes)
	}
	if o.TouchInterval == 0 {
		o.TouchInterval = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if hk.now == nil {
		hk.now = time.Now
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("diskcache: Open: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("diskcache: Open: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("diskcache: Open: %s is not a directory", abs)
	}
	ourTmp := tmpPrefix + rand.Text()[:10] + "-"
	probe, err := os.CreateTemp(abs, ourTmp+"probe-*")
	if err != nil {
		return nil, fmt.Errorf("diskcache: Open: directory is not writable: %w", err)
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return nil, fmt.Errorf("diskcache: Open: %w", err)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("diskcache: Open: %w", err)
	}
	c := &Cache{
		dir:        abs,
		maxBytes:   maxBytes,
		maxEntry:   o.MaxEntryBytes,
		sync:       o.Sync,
		touch:      int64(o.TouchInterval),
		log:        o.Logger,
		crc:        crc32.MakeTable(crc32.Castagnoli),
		tmpPattern: ourTmp + "*",
		ourTmp:     ourTmp,
		now:        hk.now,
		items:      map[[sha256.Size]byte]*item{},
		walking:    true,
		tomb:       map[[sha256.Size]byte]struct{}{},
		stop:       make(chan struct{}),
		indexed:    make(chan struct{}),
	}
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	c.stats.MaxBytes = maxBytes
	var subs []string
	for _, e := range entries {
		switch name := e.Name(); {
		case isFanout(name) && e.IsDir():
			subs = append(subs, name)
		case c.strayTemp(name):
			c.removeStray(filepath.Join(abs, name))
		}
	}
	go c.walk(subs, hk.beforeWalk)
	return c, nil
}

// Indexed returns a channel that is closed when the background index of
// the files found at Open is complete (or abandoned by Close). From then
// on, Stats counts every entry on disk and the bound holds.
func (c *Cache) Indexed() <-chan struct{} { return c.indexed }

// Close stops the background index, records the recency of the entries read
// since it was last recorded (see Options.TouchInterval) and makes further
// operations return ErrClosed. The files stay: a later Open finds them.
// Closing twice is harmless.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	<-c.indexed

	type touch struct {
		h    [sha256.Size]byte
		used int64
	}
	var pending []touch
	c.mu.Lock()
	if c.touch >= 0 {
		for it := c.lru.next; it != &c.lru; it = it.next {
			if it.used > it.touched {
				pending = append(pending, touch{it.hash, it.used})
				it.touched = it.used
			}
		}
	}
	c.mu.Unlock()
	for _, p := range pending {
		t := time.Unix(0, p.used)
		if err := os.Chtimes(entryPath(c.dir, &p.h), t, t); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("diskcache: recording recency failed", "err", err)
		}
	}
	return nil
}

// Get returns the value stored under key, or imageopto.ErrCacheMiss when it
// is missing, expired or corrupt (the last two are deleted). Other errors
// are those of the file system. The caller owns the returned slice.
func (c *Cache) Get(_ context.Context, key string) ([]byte, error) {
	h := hashKey(key)
	now := c.now().UnixNano()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	it := c.items[h]
	walking := c.walking
	if it == nil && !walking {
		c.stats.Misses++
		c.mu.Unlock()
		return nil, imageopto.ErrCacheMiss
	}
	if it != nil && it.expires != 0 && now >= it.expires {
		c.stats.Misses++
		c.mu.Unlock()
		c.drop(&h, it, true)
		return nil, imageopto.ErrCacheMiss
	}
	c.mu.Unlock()

	path := entryPath(c.dir, &h)
	value, fi, err := c.read(path, key, now)
	if err != nil {
		c.mu.Lock()
		c.stats.Misses++
		c.mu.Unlock()
		var corrupt corruptError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if it != nil {
				c.drop(&h, it, false) // removed behind our back
			}
			return nil, imageopto.ErrCacheMiss
		case errors.As(err, &corrupt):
			c.log.Warn("diskcache: removing corrupt entry", "file", path, "err", err)
			c.discard(&h, fi)
			return nil, imageopto.ErrCacheMiss
		case errors.Is(err, errExpired):
			c.discard(&h, fi)
			return nil, imageopto.ErrCacheMiss
		}
		return nil, fmt.Errorf("diskcache: Get: %w", err)
	}

	c.mu.Lock()
	c.stats.Hits++
	cur := c.items[h]
	touch := false
	if cur != nil {
		touch = c.usedLocked(cur, now)
	}
	c.mu.Unlock()
	if cur == nil && walking {
		touch = c.adopt(&h, fi, now)
	}
	if touch {
		t := time.Unix(0, now)
		_ = os.Chtimes(path, t, t) // best effort: the entry may be gone already
	}
	return value, nil
}

// errExpired marks an entry read after its expiry.
var errExpired = errors.New("diskcache: expired")

// read reads and checks the entry file at path. fi describes the file read,
// when it could be opened.
func (c *Cache) read(path, key string, now int64) (value []byte, fi os.FileInfo, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err = f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := fi.Size()
	if size < headerSize || size > c.maxBytes {
		return nil, fi, corruptError(fmt.Sprintf("file size %d", size))
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(f, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fi, corruptError("short read")
		}
		return nil, fi, err
	}
	value, expires, err := decode(buf, key, c.crc)
	if err != nil {
		return nil, fi, err
	}
	if expires != 0 && now >= expires {
		return nil, fi, errExpired
	}
	return value, fi, nil
}

// Set stores value under key for ttl (0: no limit), evicting the least
// recently used entries to stay within the bound. An entry larger than
// Options.MaxEntryBytes, or a negative ttl, stores nothing and deletes the
// key's old value. Errors are those of the file system; the index is then
// unchanged.
func (c *Cache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if c.isClosed() {
		return ErrClosed
	}
	h := hashKey(key)
	size := int64(headerSize) + int64(len(key)) + int64(len(value))
	if ttl < 0 || size > c.maxEntry {
		if err := c.remove(&h); err != nil {
			return fmt.Errorf("diskcache: Set: %w", err)
		}
		return nil
	}
	var expires int64
	if ttl > 0 {
		now := c.now().UnixNano()
		if expires = now + int64(ttl); expires < now {
			expires = 0 // beyond the year 2262: never
		}
	}
	tmp, err := c.writeTemp(&h, encodeHead(key, value, expires, c.crc), value)
	if err != nil {
		return fmt.Errorf("diskcache: Set: %w", err)
	}
	s := c.stripe(&h)
	s.Lock()
	if err := os.Rename(tmp, entryPath(c.dir, &h)); err != nil {
		s.Unlock()
		_ = os.Remove(tmp)
		return fmt.Errorf("diskcache: Set: %w", err)
	}
	now := c.now().UnixNano()
	c.mu.Lock()
	if old := c.items[h]; old != nil {
		c.unlinkLocked(old)
	}
	c.pushFrontLocked(&item{hash: h, size: size, expires: expires, touched: now, used: now})
	c.stats.Sets++
	victims := c.evictLocked()
	c.mu.Unlock()
	s.Unlock()
	c.removeVictims(victims)
	return nil
}

// writeTemp writes an entry to a new temporary file in its fan-out
// directory and returns the file's name.
func (c *Cache) writeTemp(h *[sha256.Size]byte, head, value []byte) (string, error) {
	dir := subdir(c.dir, h)
	f, err := os.CreateTemp(dir, c.tmpPattern)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		f, err = os.CreateTemp(dir, c.tmpPattern)
	}
	if err != nil {
		return "", err
	}
	_, err = f.Write(head)
	if err == nil {
		_, err = f.Write(value)
	}
	if err == nil && c.sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Delete removes key. Deleting a missing key is not an error.
func (c *Cache) Delete(_ context.Context, key string) error {
	if c.isClosed() {
		return ErrClosed
	}
	h := hashKey(key)
	if err := c.remove(&h); err != nil {
		return fmt.Errorf("diskcache: Delete: %w", err)
	}
	return nil
}

// remove deletes the file of h and its index entry. On an error other than
// a missing file, both stay.
func (c *Cache) remove(h *[sha256.Size]byte) error {
	s := c.stripe(h)
	s.Lock()
	defer s.Unlock()
	if err := os.Remove(entryPath(c.dir, h)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	c.mu.Lock()
	c.forgetLocked(h)
	c.mu.Unlock()
	return nil
}

// Stats returns the cache's counters. Items and Bytes count the entries
// indexed so far (all of them once Indexed is closed).
func (c *Cache) Stats() imageopto.CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Items, s.Bytes = len(c.items), c.bytes
	return s
}

func (c *Cache) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Cache) stripe(h *[sha256.Size]byte) *sync.Mutex { return &c.stripes[h[0]] }

// strayTemp reports whether name is a temporary file left by another
// instance, that is by a crash (ours are still being written).
func (c *Cache) strayTemp(name string) bool {
	return strings.HasPrefix(name, tmpPrefix) && !strings.HasPrefix(name, c.ourTmp)
}

func (c *Cache) removeStray(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("diskcache: removing a stray temporary file failed", "err", err)
	}
}
