package imageopto

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sparseFile makes a file of size bytes that takes no disk space.
func sparseFile(t *testing.T, dir, name string, size int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(size))
	require.NoError(t, f.Close())
}

// allocatedBy returns the bytes allocated while fn runs (by the whole
// process: callers do not run in parallel).
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// countingFS counts the bytes read from its files, and can hide their size
// as some file systems do.
type countingFS struct {
	fs.FS
	read     *atomic.Int64
	hideSize bool
}

type countingFile struct {
	fs.File
	fsys countingFS
}

type zeroSize struct{ fs.FileInfo }

func (zeroSize) Size() int64 { return 0 }

func (c countingFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return countingFile{f, c}, nil
}

func (f countingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.fsys.read.Add(int64(n))
	return n, err
}

func (f countingFile) Stat() (fs.FileInfo, error) {
	st, err := f.File.Stat()
	if err == nil && f.fsys.hideSize {
		st = zeroSize{st}
	}
	return st, err
}

// TestLocalOriginsStatBeforeRead pins issue 11 part 6: a file over the cap
// is refused from its size, before anything is read. Not parallel: it
// measures the process's allocations.
func TestLocalOriginsStatBeforeRead(t *testing.T) {
	dir := t.TempDir()
	sparseFile(t, dir, "huge.jpg", 10<<30)
	sparseFile(t, dir, "over.jpg", 1001)
	sparseFile(t, dir, "at.jpg", 1000)
	cases := []struct {
		name     string
		path     string
		maxBytes int64 // 0: the default, 50 MiB
		want     int
	}{
		{"10 GiB sparse file, default cap", "huge.jpg", 0, http.StatusUnprocessableEntity},
		{"one byte over", "over.jpg", 1000, http.StatusUnprocessableEntity},
		{"at the cap", "at.jpg", 1000, http.StatusOK},
	}
	for _, c := range cases {
		t.Run("dir/"+c.name, func(t *testing.T) {
			o, err := NewDirOrigin(dir, c.maxBytes)
			require.NoError(t, err)
			t.Cleanup(func() { _ = o.Close() })
			var src *Source
			n := allocatedBy(func() { src, err = o.Fetch(t.Context(), FetchRequest{Path: c.path}) })
			t.Logf("allocated %d bytes; err %v", n, err)
			assert.Equal(t, c.want, StatusCode(err))
			if c.want == http.StatusOK {
				require.NoError(t, err)
				assert.Len(t, src.Data, 1000)
				return
			}
			require.ErrorIs(t, err, ErrSourceTooLarge)
			assert.Less(t, n, uint64(1<<20), "nothing was read")
		})
		t.Run("fs/"+c.name, func(t *testing.T) {
			var read atomic.Int64
			o := NewFSOrigin(countingFS{FS: os.DirFS(dir), read: &read}, c.maxBytes)
			var err error
			n := allocatedBy(func() { _, err = o.Fetch(t.Context(), FetchRequest{Path: c.path}) })
			t.Logf("allocated %d bytes, read %d; err %v", n, read.Load(), err)
			assert.Equal(t, c.want, StatusCode(err))
			if c.want != http.StatusOK {
				require.ErrorIs(t, err, ErrSourceTooLarge)
				assert.Zero(t, read.Load(), "nothing was read")
				assert.Less(t, n, uint64(1<<20))
			}
		})
	}
	t.Run("fs without sizes is still capped while reading", func(t *testing.T) {
		var read atomic.Int64
		o := NewFSOrigin(countingFS{FS: os.DirFS(dir), read: &read, hideSize: true}, 1000)
		_, err := o.Fetch(t.Context(), FetchRequest{Path: "over.jpg"})
		require.ErrorIs(t, err, ErrSourceTooLarge)
		assert.Equal(t, int64(1001), read.Load(), "read up to the cap and one byte more")
	})
}
