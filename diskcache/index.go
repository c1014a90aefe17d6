package diskcache

import (
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
)

// item is the index entry of one file, a node of the recency list.
type item struct {
	hash [sha256.Size]byte
	size int64 // of the file
	// expires is the expiry in Unix nanoseconds, 0 when never or not known
	// (entries found by the walk: their header is checked when read).
	expires int64
	// touched is the file's modification time as last set or seen, used
	// the time of the last use (Unix nanoseconds).
	touched, used int64
	prev, next    *item
}

func (c *Cache) pushFrontLocked(it *item) {
	it.prev, it.next = &c.lru, c.lru.next
	it.prev.next, it.next.prev = it, it
	c.items[it.hash] = it
	c.bytes += it.size
}

func (c *Cache) pushBackLocked(it *item) {
	it.prev, it.next = c.lru.prev, &c.lru
	it.prev.next, it.next.prev = it, it
	c.items[it.hash] = it
	c.bytes += it.size
}

// unlinkLocked removes it from the index.
func (c *Cache) unlinkLocked(it *item) {
	it.prev.next, it.next.prev = it.next, it.prev
	it.prev, it.next = nil, nil
	delete(c.items, it.hash)
	c.bytes -= it.size
	if c.walking {
		c.tomb[it.hash] = struct{}{}
	}
}

// forgetLocked removes h from the index, if there, and keeps the walk from
// indexing a file it listed earlier.
func (c *Cache) forgetLocked(h *[sha256.Size]byte) {
	if it := c.items[*h]; it != nil {
		c.unlinkLocked(it)
	} else if c.walking {
		c.tomb[*h] = struct{}{}
	}
}

// usedLocked marks it as the most recently used and reports whether its
// file's modification time is due to be updated (and counts it as done).
func (c *Cache) usedLocked(it *item, now int64) (touch bool) {
	if c.lru.next != it {
		it.prev.next, it.next.prev = it.next, it.prev
		it.prev, it.next = &c.lru, c.lru.next
		it.prev.next, it.next.prev = it, it
	}
	it.used = max(it.used, now)
	if c.touch >= 0 && now-it.touched >= c.touch {
		it.touched = now
		return true
	}
	return false
}

// evictLocked removes least recently used entries from the index until the
// bound holds, and returns them: the caller removes their files with
// removeVictims once it has released its locks.
func (c *Cache) evictLocked() []*item {
	var victims []*item
	for c.bytes > c.maxBytes && c.lru.prev != &c.lru {
		v := c.lru.prev
		c.unlinkLocked(v)
		c.stats.Evictions++
		victims = append(victims, v)
	}
	return victims
}

// removeVictims removes the files of evicted entries, unless a Set or a Get
// put the key back in the index meanwhile. A file that cannot be removed
// goes back to the end of the index, so the accounting stays true.
func (c *Cache) removeVictims(victims []*item) {
	for _, v := range victims {
		s := c.stripe(&v.hash)
		s.Lock()
		c.mu.Lock()
		back := c.items[v.hash] != nil
		c.mu.Unlock()
		if !back {
			if err := os.Remove(entryPath(c.dir, &v.hash)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				c.log.Warn("diskcache: removing an evicted entry failed", "err", err)
				c.mu.Lock()
				if c.items[v.hash] == nil {
					c.pushBackLocked(v)
				}
				c.mu.Unlock()
			}
		}
		s.Unlock()
	}
}

// drop removes it from the index if it is still the entry of h, and its
// file too when removeFile is set (else the file is known to be gone).
func (c *Cache) drop(h *[sha256.Size]byte, it *item, removeFile bool) {
	s := c.stripe(h)
	s.Lock()
	defer s.Unlock()
	c.mu.Lock()
	current := c.items[*h] == it
	c.mu.Unlock()
	if !current {
		return
	}
	if removeFile {
		if err := os.Remove(entryPath(c.dir, h)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("diskcache: removing an expired entry failed", "err", err)
			return
		}
	}
	c.mu.Lock()
	if c.items[*h] == it {
		c.unlinkLocked(it)
	}
	c.mu.Unlock()
}

// discard removes the file of h if it is still the file described by fi
// (a corrupt or expired entry just read), with its index entry.
func (c *Cache) discard(h *[sha256.Size]byte, fi os.FileInfo) {
	s := c.stripe(h)
	s.Lock()
	defer s.Unlock()
	path := entryPath(c.dir, h)
	now, err := os.Lstat(path)
	if err != nil || !os.SameFile(fi, now) {
		return // replaced or removed meanwhile
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("diskcache: removing an entry failed", "err", err)
		return
	}
	c.mu.Lock()
	c.forgetLocked(h)
	c.mu.Unlock()
}

// adopt indexes the file of h, described by fi and just read by a Get,
// while the walk has not reached it yet. It reports whether the file's
// modification time is due to be updated.
func (c *Cache) adopt(h *[sha256.Size]byte, fi os.FileInfo, now int64) (touch bool) {
	s := c.stripe(h)
	s.Lock()
	now2, err := os.Lstat(entryPath(c.dir, h))
	if err != nil || !os.SameFile(fi, now2) {
		s.Unlock()
		return false // replaced or removed meanwhile: nothing to adopt
	}
	c.mu.Lock()
	if c.items[*h] != nil || c.closed {
		c.mu.Unlock()
		s.Unlock()
		return false
	}
	mtime := fi.ModTime().UnixNano()
	it := &item{hash: *h, size: fi.Size(), touched: mtime, used: mtime}
	c.pushFrontLocked(it)
	touch = c.usedLocked(it, now)
	victims := c.evictLocked()
	c.mu.Unlock()
	s.Unlock()
	c.removeVictims(victims)
	return touch
}
