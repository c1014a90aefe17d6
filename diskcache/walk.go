package diskcache

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// found is a file seen by the walk.
type found struct {
	hash  [sha256.Size]byte
	size  int64
	mtime int64
}

// walk builds the index of the files in the fan-out directories subs from
// their names, sizes and modification times alone, then evicts what exceeds
// the bound. Entries that operations indexed or removed meanwhile win over
// what the walk saw.
func (c *Cache) walk(subs []string, before func()) {
	defer close(c.indexed)
	if before != nil {
		before()
	}
	var all []found
	for _, sub := range subs {
		select {
		case <-c.stop:
			return
		default:
		}
		dir := filepath.Join(c.dir, sub)
		entries, err := os.ReadDir(dir)
		if err != nil {
			c.log.Warn("diskcache: indexing a directory failed", "dir", dir, "err", err)
			if len(entries) == 0 {
				continue
			}
		}
		for _, e := range entries {
			name := e.Name()
			if c.strayTemp(name) {
				c.removeStray(filepath.Join(dir, name))
				continue
			}
			h, ok := parseName(sub, name)
			if !ok || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					c.log.Warn("diskcache: indexing a file failed", "err", err)
				}
				continue
			}
			all = append(all, found{h, fi.Size(), fi.ModTime().UnixNano()})
		}
	}
	// Newest first, each behind the previous: the oldest ends up least
	// recently used, behind every entry used since Open.
	slices.SortFunc(all, func(a, b found) int { return cmp.Compare(b.mtime, a.mtime) })
	c.mu.Lock()
	for _, f := range all {
		if c.items[f.hash] != nil {
			continue
		}
		if _, removed := c.tomb[f.hash]; removed {
			continue
		}
		c.pushBackLocked(&item{hash: f.hash, size: f.size, touched: f.mtime, used: f.mtime})
	}
	c.walking = false
	c.tomb = nil
	victims := c.evictLocked()
	c.mu.Unlock()
	c.removeVictims(victims)
}
