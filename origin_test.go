package imageopto

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// CleanPath

func TestCleanPath(t *testing.T) {
	t.Parallel()
	good := []struct{ in, want string }{
		{"a.jpg", "a.jpg"},
		{"/a.jpg", "a.jpg"},
		{"//a/b.jpg", "a/b.jpg"},
		{"dir/sub/img.png", "dir/sub/img.png"},
		{"with space.jpg", "with space.jpg"},
		{"a..b.jpg", "a..b.jpg"},
		{".hidden.png", ".hidden.png"},
		{"...", "..."},
		{"%2e%2e/x", "%2e%2e/x"}, // not decoded: a literal name, not a traversal
		{"日本/画像.jpg", "日本/画像.jpg"},
		// Leading slashes are stripped: an absolute path names a file
		// relative to the origin root, never the host's file.
		{"/etc/passwd", "etc/passwd"},
	}
	for _, c := range good {
		t.Run("good/"+c.in, func(t *testing.T) {
			t.Parallel()
			got, err := CleanPath(c.in)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"only slash", "/"},
		{"only slashes", "///"},
		{"dot", "."},
		{"dotdot", ".."},
		{"leading dotdot", "../x"},
		{"slash dotdot", "/../etc/passwd"},
		{"inner dotdot", "a/../b"},
		{"trailing dotdot", "a/.."},
		{"leading dot", "./a"},
		{"inner dot", "a/./b"},
		{"empty element", "a//b"},
		{"trailing slash", "a/"},
		{"backslash dotdot", `..\x`},
		{"backslash", `a\b`},
		{"windows absolute", `C:\Windows\win.ini`},
		{"NUL", "a\x00b.jpg"},
		{"NUL suffix", "a.jpg\x00.png"},
		{"newline", "a\nb"},
		{"CR", "a\rb"},
		{"tab", "a\tb"},
		{"escape", "a\x1bb"},
		{"DEL", "a\x7fb"},
		{"invalid UTF-8", "a\xffb.jpg"},
		{"overlong slash", "a\xc0\xafb"},
		{"truncated UTF-8", "a\xe6\x97"},
	}
	for _, c := range bad {
		t.Run("bad/"+c.name, func(t *testing.T) {
			t.Parallel()
			got, err := CleanPath(c.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBadPath)
			assert.Empty(t, got, "a bad path is never rewritten into a good one")
			assert.Equal(t, http.StatusBadRequest, StatusCode(err))
		})
	}
}

// ---------------------------------------------------------------------------
// StatusCode for origin errors

func TestOriginStatusCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, http.StatusOK},
		{"not found", ErrNotFound, http.StatusNotFound},
		{"wrapped not found", fmt.Errorf("%w: a.jpg", ErrNotFound), http.StatusNotFound},
		{"gone", ErrGone, http.StatusGone},
		{"wrapped gone", fmt.Errorf("%w: origin answered 410", ErrGone), http.StatusGone},
		{"origin failed", ErrOriginFailed, http.StatusBadGateway},
		{"wrapped origin failed", fmt.Errorf("%w: 503", ErrOriginFailed), http.StatusBadGateway},
		{"bad path", ErrBadPath, http.StatusBadRequest},
		{"wrapped bad path", fmt.Errorf("%w: NUL", ErrBadPath), http.StatusBadRequest},
		{"deadline", context.DeadlineExceeded, http.StatusGatewayTimeout},
		{"wrapped deadline", fmt.Errorf("imageopto: origin timed out: %w (x)", context.DeadlineExceeded), http.StatusGatewayTimeout},
		{"source too large", fmt.Errorf("%w: big", ErrSourceTooLarge), http.StatusUnprocessableEntity},
		{"canceled", context.Canceled, 499},
		{"other", errors.New("boom"), http.StatusInternalServerError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, c.want, StatusCode(c.err))
		})
	}
}

// ---------------------------------------------------------------------------
// DirOrigin

// dirOriginFixture is a temporary origin root next to a directory outside it.
type dirOriginFixture struct {
	root, outside string
	mtime         time.Time
}

func newDirOriginFixture(t *testing.T) dirOriginFixture {
	t.Helper()
	base := t.TempDir()
	f := dirOriginFixture{
		root:    filepath.Join(base, "root"),
		outside: filepath.Join(base, "outside"),
		mtime:   time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
	}
	require.NoError(t, os.MkdirAll(filepath.Join(f.root, "sub"), 0o755))
	require.NoError(t, os.MkdirAll(f.outside, 0o755))
	write := func(p string, data []byte) {
		require.NoError(t, os.WriteFile(p, data, 0o644))
		require.NoError(t, os.Chtimes(p, f.mtime, f.mtime))
	}
	write(filepath.Join(f.root, "img.jpg"), []byte("root image bytes"))
	write(filepath.Join(f.root, "sub", "deep.png"), []byte("deep image bytes"))
	write(filepath.Join(f.root, "ten.bin"), bytes.Repeat([]byte{'x'}, 10))
	write(filepath.Join(f.root, "eleven.bin"), bytes.Repeat([]byte{'x'}, 11))
	write(filepath.Join(f.root, "etc_passwd_lookalike"), []byte("inside"))
	require.NoError(t, os.MkdirAll(filepath.Join(f.root, "etc"), 0o755))
	write(filepath.Join(f.root, "etc", "passwd"), []byte("root-relative passwd"))
	write(filepath.Join(f.outside, "secret.txt"), []byte("OUTSIDE SECRET"))

	// Symbolic links: one escaping to a file outside, one to a directory
	// outside, one absolute, and one staying inside the root.
	require.NoError(t, os.Symlink(filepath.Join("..", "outside", "secret.txt"), filepath.Join(f.root, "escape.jpg")))
	require.NoError(t, os.Symlink(filepath.Join("..", "outside"), filepath.Join(f.root, "outdir")))
	require.NoError(t, os.Symlink(filepath.Join(f.outside, "secret.txt"), filepath.Join(f.root, "abs.jpg")))
	require.NoError(t, os.Symlink("img.jpg", filepath.Join(f.root, "inside.jpg")))
	require.NoError(t, os.Symlink(filepath.Join("..", "img.jpg"), filepath.Join(f.root, "sub", "up.jpg")))
	return f
}

func TestDirOriginFetch(t *testing.T) {
	t.Parallel()
	fx := newDirOriginFixture(t)
	o, err := NewDirOrigin(fx.root, 10_000)
	require.NoError(t, err)
	t.Cleanup(func() { _ = o.Close() })

	cases := []struct {
		name, path string
		want       string
	}{
		{"top level", "img.jpg", "root image bytes"},
		{"leading slash", "/img.jpg", "root image bytes"},
		{"nested", "sub/deep.png", "deep image bytes"},
		{"absolute is root-relative", "/etc/passwd", "root-relative passwd"},
		{"symlink inside root", "inside.jpg", "root image bytes"},
		{"symlink up but inside root", "sub/up.jpg", "root image bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := o.Fetch(context.Background(), FetchRequest{Path: c.path})
			require.NoError(t, err)
			assert.Equal(t, c.want, string(s.Data))
			assert.False(t, s.NotModified)
			assert.NotEmpty(t, s.ETag)
			assert.True(t, strings.HasPrefix(s.ETag, `"`) && strings.HasSuffix(s.ETag, `"`), "strong quoted ETag: %s", s.ETag)
			assert.True(t, fx.mtime.Equal(s.LastModified), "LastModified %v", s.LastModified)
			assert.False(t, s.NoStore)
		})
	}
}

func TestDirOriginRefuses(t *testing.T) {
	t.Parallel()
	fx := newDirOriginFixture(t)
	o, err := NewDirOrigin(fx.root, 10)
	require.NoError(t, err)
	t.Cleanup(func() { _ = o.Close() })

	cases := []struct {
		name, path string
		want       []error // the error must be one of these
	}{
		{"missing", "nope.jpg", []error{ErrNotFound}},
		{"missing nested", "sub/nope/x.jpg", []error{ErrNotFound}},
		{"directory", "sub", []error{ErrNotFound}},
		{"file as directory", "img.jpg/x", []error{ErrNotFound}},
		{"dotdot", "../outside/secret.txt", []error{ErrBadPath}},
		{"inner dotdot", "sub/../../outside/secret.txt", []error{ErrBadPath}},
		{"backslash", `..\outside\secret.txt`, []error{ErrBadPath}},
		{"NUL", "img.jpg\x00", []error{ErrBadPath}},
		{"symlink to outside file", "escape.jpg", []error{ErrNotFound, ErrBadPath}},
		{"symlink to outside dir", "outdir/secret.txt", []error{ErrNotFound, ErrBadPath}},
		{"absolute symlink", "abs.jpg", []error{ErrNotFound, ErrBadPath}},
		{"over byte cap", "eleven.bin", []error{ErrSourceTooLarge}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := o.Fetch(context.Background(), FetchRequest{Path: c.path})
			require.Error(t, err)
			assert.Nil(t, s)
			assert.True(t, slices.ContainsFunc(c.want, func(e error) bool { return errors.Is(err, e) }),
				"error %v is none of %v", err, c.want)
			assert.NotContains(t, err.Error(), "OUTSIDE SECRET")
		})
	}

	t.Run("at byte cap", func(t *testing.T) {
		t.Parallel()
		s, err := o.Fetch(context.Background(), FetchRequest{Path: "ten.bin"})
		require.NoError(t, err)
		assert.Len(t, s.Data, 10)
	})
	t.Run("canceled context", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := o.Fetch(ctx, FetchRequest{Path: "ten.bin"})
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestDirOriginConditional(t *testing.T) {
	t.Parallel()
	fx := newDirOriginFixture(t)
	o, err := NewDirOrigin(fx.root, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = o.Close() })

	first, err := o.Fetch(context.Background(), FetchRequest{Path: "img.jpg"})
	require.NoError(t, err)
	require.NotEmpty(t, first.ETag)

	cases := []struct {
		name        string
		req         FetchRequest
		notModified bool
	}{
		{"If-None-Match matches", FetchRequest{IfNoneMatch: first.ETag}, true},
		{"If-None-Match differs", FetchRequest{IfNoneMatch: `"other"`}, false},
		{"If-None-Match wins over matching If-Modified-Since", FetchRequest{IfNoneMatch: `"other"`, IfModifiedSince: fx.mtime}, false},
		{"If-Modified-Since equal", FetchRequest{IfModifiedSince: fx.mtime}, true},
		{"If-Modified-Since later", FetchRequest{IfModifiedSince: fx.mtime.Add(time.Hour)}, true},
		{"If-Modified-Since earlier", FetchRequest{IfModifiedSince: fx.mtime.Add(-time.Second)}, false},
		{"unconditional", FetchRequest{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.req.Path = "img.jpg"
			s, err := o.Fetch(context.Background(), c.req)
			require.NoError(t, err)
			assert.Equal(t, c.notModified, s.NotModified)
			assert.Equal(t, first.ETag, s.ETag)
			assert.True(t, fx.mtime.Equal(s.LastModified))
			if c.notModified {
				assert.Nil(t, s.Data)
			} else {
				assert.Equal(t, "root image bytes", string(s.Data))
			}
		})
	}
}

func TestDirOriginETagChangesWithFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, os.WriteFile(p, []byte("one"), 0o644))
	require.NoError(t, os.Chtimes(p, t0, t0))
	o, err := NewDirOrigin(dir, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = o.Close() })

	a, err := o.Fetch(context.Background(), FetchRequest{Path: "a.png"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte("two!"), 0o644))
	require.NoError(t, os.Chtimes(p, t0.Add(time.Minute), t0.Add(time.Minute)))
	b, err := o.Fetch(context.Background(), FetchRequest{Path: "a.png", IfNoneMatch: a.ETag})
	require.NoError(t, err)
	assert.False(t, b.NotModified)
	assert.NotEqual(t, a.ETag, b.ETag)
	assert.Equal(t, "two!", string(b.Data))
}

func TestDirOriginSpecialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o, err := NewDirOrigin(dir, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = o.Close() })

	t.Run("over-long name", func(t *testing.T) {
		t.Parallel()
		_, err := o.Fetch(context.Background(), FetchRequest{Path: strings.Repeat("n", 300) + ".jpg"})
		assert.ErrorIs(t, err, ErrNotFound)
	})
	t.Run("symlink loop", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, os.Symlink("loop.jpg", filepath.Join(dir, "loop.jpg")))
		_, err := o.Fetch(context.Background(), FetchRequest{Path: "loop.jpg"})
		require.Error(t, err)
		assert.NotEqual(t, http.StatusOK, StatusCode(err))
	})
	t.Run("named pipe", func(t *testing.T) {
		t.Parallel()
		mkfifo, err := exec.LookPath("mkfifo")
		if err != nil {
			t.Skip("no mkfifo")
		}
		require.NoError(t, exec.Command(mkfifo, filepath.Join(dir, "pipe.jpg")).Run())
		done := make(chan error, 1)
		go func() {
			_, err := o.Fetch(context.Background(), FetchRequest{Path: "pipe.jpg"})
			done <- err
		}()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, ErrNotFound)
		case <-time.After(5 * time.Second):
			// Unblock the stuck open so the goroutine can end.
			if f, err := os.OpenFile(filepath.Join(dir, "pipe.jpg"), os.O_WRONLY, 0); err == nil {
				_ = f.Close()
			}
			t.Fatal("opening a named pipe blocked the fetch")
		}
	})
}

func TestNewDirOriginMissingDir(t *testing.T) {
	t.Parallel()
	_, err := NewDirOrigin(filepath.Join(t.TempDir(), "does-not-exist"), 0)
	require.Error(t, err)
}

// ---------------------------------------------------------------------------
// FSOrigin

func TestFSOrigin(t *testing.T) {
	t.Parallel()
	mtime := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	fsys := fstest.MapFS{
		"a/b.png":     {Data: []byte("png bytes"), ModTime: mtime},
		"nomtime.gif": {Data: []byte("gif bytes")},
		"ten.bin":     {Data: bytes.Repeat([]byte{1}, 10), ModTime: mtime},
		"eleven.bin":  {Data: bytes.Repeat([]byte{1}, 11), ModTime: mtime},
	}
	o := NewFSOrigin(fsys, 10)

	t.Run("reads", func(t *testing.T) {
		t.Parallel()
		for _, p := range []string{"a/b.png", "/a/b.png"} {
			s, err := o.Fetch(context.Background(), FetchRequest{Path: p})
			require.NoError(t, err)
			assert.Equal(t, "png bytes", string(s.Data))
			assert.Equal(t, contentETag([]byte("png bytes")), s.ETag, "ETag made from the content")
			assert.True(t, mtime.Equal(s.LastModified))
			assert.False(t, s.NotModified)
		}
	})
	t.Run("content ETag", func(t *testing.T) {
		t.Parallel()
		s, err := o.Fetch(context.Background(), FetchRequest{Path: "nomtime.gif"})
		require.NoError(t, err)
		assert.Equal(t, contentETag([]byte("gif bytes")), s.ETag)
		assert.NotEqual(t, contentETag([]byte("png bytes")), s.ETag)
		assert.True(t, s.LastModified.IsZero(), "no modification time known")
		assert.Regexp(t, `^"[0-9a-f]{24}"$`, s.ETag)
	})
	t.Run("at byte cap", func(t *testing.T) {
		t.Parallel()
		s, err := o.Fetch(context.Background(), FetchRequest{Path: "ten.bin"})
		require.NoError(t, err)
		assert.Len(t, s.Data, 10)
	})

	cond := []struct {
		name        string
		req         FetchRequest
		notModified bool
	}{
		{"If-None-Match matches", FetchRequest{IfNoneMatch: contentETag([]byte("png bytes"))}, true},
		{"If-None-Match differs", FetchRequest{IfNoneMatch: `"nope"`}, false},
		{"If-Modified-Since equal", FetchRequest{IfModifiedSince: mtime}, true},
		{"If-Modified-Since earlier", FetchRequest{IfModifiedSince: mtime.Add(-time.Hour)}, false},
	}
	for _, c := range cond {
		t.Run("conditional/"+c.name, func(t *testing.T) {
			t.Parallel()
			c.req.Path = "a/b.png"
			s, err := o.Fetch(context.Background(), c.req)
			require.NoError(t, err)
			assert.Equal(t, c.notModified, s.NotModified)
			assert.Equal(t, contentETag([]byte("png bytes")), s.ETag)
			if c.notModified {
				assert.Nil(t, s.Data)
			} else {
				assert.Equal(t, "png bytes", string(s.Data))
			}
		})
	}
	t.Run("If-Modified-Since without a known mtime", func(t *testing.T) {
		t.Parallel()
		s, err := o.Fetch(context.Background(), FetchRequest{Path: "nomtime.gif", IfModifiedSince: time.Now()})
		require.NoError(t, err)
		assert.False(t, s.NotModified)
		assert.Equal(t, "gif bytes", string(s.Data))
	})

	bad := []struct {
		name, path string
		want       error
	}{
		{"missing", "nope.png", ErrNotFound},
		{"missing nested", "a/nope.png", ErrNotFound},
		{"directory", "a", ErrNotFound},
		{"over byte cap", "eleven.bin", ErrSourceTooLarge},
		{"dotdot", "../a/b.png", ErrBadPath},
		{"empty", "", ErrBadPath},
	}
	for _, c := range bad {
		t.Run("error/"+c.name, func(t *testing.T) {
			t.Parallel()
			s, err := o.Fetch(context.Background(), FetchRequest{Path: c.path})
			assert.Nil(t, s)
			assert.ErrorIs(t, err, c.want)
		})
	}
}

func TestFSOriginDefaultCap(t *testing.T) {
	t.Parallel()
	o := NewFSOrigin(fstest.MapFS{}, 0)
	assert.Equal(t, DefaultLimits().MaxSourceBytes, o.maxBytes)
}

// ---------------------------------------------------------------------------
// HTTPOrigin

// newTestHTTPOrigin returns an HTTPOrigin for base with short test timeouts
// unless opts sets them.
func newTestHTTPOrigin(t *testing.T, base string, opts *HTTPOriginOptions) *HTTPOrigin {
	t.Helper()
	var o HTTPOriginOptions
	if opts != nil {
		o = *opts
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	h, err := NewHTTPOrigin(base, &o)
	require.NoError(t, err)
	return h
}

// serve starts an httptest server for fn and closes it when the test ends.
func serveOriginTest(t *testing.T, fn http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(fn)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPOriginOK(t *testing.T) {
	t.Parallel()
	lastMod := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodGet, r.Method)
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("ETag", `"abc"`)
		w.Header().Set("Last-Modified", lastMod.Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "public, max-age=60")
		_, _ = io.WriteString(w, "image body")
	})
	o := newTestHTTPOrigin(t, srv.URL, nil)
	before := time.Now()
	s, err := o.Fetch(context.Background(), FetchRequest{Path: "img.png"})
	require.NoError(t, err)
	assert.Equal(t, "image body", string(s.Data))
	assert.Equal(t, `"abc"`, s.ETag)
	assert.True(t, lastMod.Equal(s.LastModified))
	assert.False(t, s.NotModified)
	assert.False(t, s.NoStore)
	assert.WithinRange(t, s.Expires, before.Add(59*time.Second), time.Now().Add(61*time.Second))
}

func TestHTTPOriginEmptyBody(t *testing.T) {
	t.Parallel()
	srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {})
	o := newTestHTTPOrigin(t, srv.URL, nil)
	s, err := o.Fetch(context.Background(), FetchRequest{Path: "x"})
	require.NoError(t, err) // the handler decides what an empty original means
	assert.Empty(t, s.Data)
}

func TestHTTPOriginURL(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.RequestURI)
		mu.Unlock()
		_, _ = io.WriteString(w, r.RequestURI)
	})
	cases := []struct {
		name, base, path, query string
		want                    string // RequestURI the origin sees
	}{
		{"root base", "", "a/b.jpg", "", "/a/b.jpg"},
		{"root base with slash", "/", "a/b.jpg", "", "/a/b.jpg"},
		{"base path", "/base", "a/b.jpg", "", "/base/a/b.jpg"},
		{"base path trailing slash", "/base/", "a/b.jpg", "", "/base/a/b.jpg"},
		{"base path many slashes", "/base//", "a/b.jpg", "", "/base/a/b.jpg"},
		{"nested base", "/x/y", "img.png", "", "/x/y/img.png"},
		{"leading slash in path", "/base", "/a.jpg", "", "/base/a.jpg"},
		{"space", "/base", "my photo.jpg", "", "/base/my%20photo.jpg"},
		{"question mark", "", "what?.jpg", "", "/what%3F.jpg"},
		{"hash", "", "no#1.jpg", "", "/no%231.jpg"},
		{"percent is literal", "", "100%25.jpg", "", "/100%2525.jpg"},
		{"encoded dotdot is literal", "", "%2e%2e/x.jpg", "", "/%252e%252e/x.jpg"},
		{"unicode", "", "日本.jpg", "", "/%E6%97%A5%E6%9C%AC.jpg"},
		{"no query by default", "/base", "a.jpg", "", "/base/a.jpg"},
		{"RawQuery passed when set", "/base", "a.jpg", "v=2&sig=abc", "/base/a.jpg?v=2&sig=abc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := newTestHTTPOrigin(t, srv.URL+c.base, nil)
			s, err := o.Fetch(context.Background(), FetchRequest{Path: c.path, RawQuery: c.query})
			require.NoError(t, err)
			assert.Equal(t, c.want, string(s.Data))
		})
	}
	t.Run("bad path sends nothing", func(t *testing.T) {
		// Not parallel: it runs before the parallel cases above resume,
		// so any request the server sees now came from this subtest.
		mu.Lock()
		before := len(seen)
		mu.Unlock()
		o := newTestHTTPOrigin(t, srv.URL+"/base", nil)
		for _, p := range []string{"../secret", "a/../../b", "a\x00", `..\x`, "", "/"} {
			_, err := o.Fetch(context.Background(), FetchRequest{Path: p})
			require.ErrorIs(t, err, ErrBadPath, "path %q", p)
		}
		mu.Lock()
		defer mu.Unlock()
		assert.Len(t, seen, before, "no request reached the origin")
	})
}

func TestHTTPOriginRequestHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts *HTTPOriginOptions
		want http.Header
	}{
		{
			name: "defaults",
			opts: nil,
			want: http.Header{
				"User-Agent":      {"imageopto"},
				"Accept-Encoding": {"identity"},
			},
		},
		{
			name: "configured headers and user agent",
			opts: &HTTPOriginOptions{
				Header:    http.Header{"X-Origin-Key": {"s3cret"}, "Authorization": {"Bearer origin-token"}},
				UserAgent: "my-proxy/1.0",
			},
			want: http.Header{
				"User-Agent":      {"my-proxy/1.0"},
				"Accept-Encoding": {"identity"},
				"X-Origin-Key":    {"s3cret"},
				"Authorization":   {"Bearer origin-token"},
			},
		},
		{
			name: "configured Accept-Encoding is overridden",
			opts: &HTTPOriginOptions{Header: http.Header{"Accept-Encoding": {"gzip"}}},
			want: http.Header{
				"User-Agent":      {"imageopto"},
				"Accept-Encoding": {"identity"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan http.Header, 1)
			srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
				got <- r.Header.Clone()
				_, _ = io.WriteString(w, "ok")
			})
			o := newTestHTTPOrigin(t, srv.URL, c.opts)
			// The client's request, with its cookies and credentials, is
			// never an input to Fetch: the origin sees only what the
			// options add.
			_, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
			require.NoError(t, err)
			h := <-got
			assert.Equal(t, c.want, h)
			assert.Empty(t, h.Get("Cookie"))
			assert.Empty(t, h.Get("X-Forwarded-For"))
			assert.Empty(t, h.Get("Referer"))
			assert.Empty(t, h.Get("If-None-Match"))
			assert.Empty(t, h.Get("If-Modified-Since"))
		})
	}
	t.Run("options header is copied", func(t *testing.T) {
		t.Parallel()
		got := make(chan http.Header, 1)
		srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
			got <- r.Header.Clone()
		})
		hdr := http.Header{"X-Key": {"one"}}
		o := newTestHTTPOrigin(t, srv.URL, &HTTPOriginOptions{Header: hdr})
		hdr.Set("X-Key", "changed")
		hdr.Set("Cookie", "late=1")
		_, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
		require.NoError(t, err)
		h := <-got
		assert.Equal(t, "one", h.Get("X-Key"))
		assert.Empty(t, h.Get("Cookie"))
	})
}

func TestHTTPOriginConditional(t *testing.T) {
	t.Parallel()
	lastMod := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	type seenReq struct{ inm, ims string }
	seen := make(chan seenReq, 16)
	srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
		seen <- seenReq{r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")}
		w.Header().Set("Cache-Control", "max-age=120")
		w.Header().Set("Last-Modified", lastMod.Format(http.TimeFormat))
		if r.URL.Path != "/noetag.jpg" {
			w.Header().Set("ETag", `"v1"`)
		}
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			if inm == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		} else if t, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !lastMod.After(t) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = io.WriteString(w, "fresh bytes")
	})
	o := newTestHTTPOrigin(t, srv.URL, nil)

	cases := []struct {
		name        string
		path        string
		req         FetchRequest
		sent        seenReq
		notModified bool
		etag        string
	}{
		{"If-None-Match matches", "a.jpg", FetchRequest{IfNoneMatch: `"v1"`}, seenReq{inm: `"v1"`}, true, `"v1"`},
		{"If-None-Match differs", "a.jpg", FetchRequest{IfNoneMatch: `"v0"`}, seenReq{inm: `"v0"`}, false, `"v1"`},
		{"If-None-Match takes precedence", "a.jpg", FetchRequest{IfNoneMatch: `"v1"`, IfModifiedSince: lastMod}, seenReq{inm: `"v1"`}, true, `"v1"`},
		{"If-Modified-Since equal", "a.jpg", FetchRequest{IfModifiedSince: lastMod}, seenReq{ims: lastMod.Format(http.TimeFormat)}, true, `"v1"`},
		{"If-Modified-Since in another zone", "a.jpg", FetchRequest{IfModifiedSince: lastMod.In(time.FixedZone("X", 3600))}, seenReq{ims: lastMod.Format(http.TimeFormat)}, true, `"v1"`},
		{"If-Modified-Since earlier", "a.jpg", FetchRequest{IfModifiedSince: lastMod.Add(-time.Hour)}, seenReq{ims: lastMod.Add(-time.Hour).Format(http.TimeFormat)}, false, `"v1"`},
		{"304 without ETag keeps ours", "noetag.jpg", FetchRequest{IfNoneMatch: `"v1"`}, seenReq{inm: `"v1"`}, true, `"v1"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Sequential: the server reports each request on one channel.
			c.req.Path = c.path
			before := time.Now()
			s, err := o.Fetch(context.Background(), c.req)
			require.NoError(t, err)
			assert.Equal(t, c.sent, <-seen)
			assert.Equal(t, c.notModified, s.NotModified)
			assert.Equal(t, c.etag, s.ETag)
			assert.True(t, lastMod.Equal(s.LastModified))
			assert.WithinRange(t, s.Expires, before.Add(119*time.Second), time.Now().Add(121*time.Second),
				"a 304 refreshes the freshness")
			if c.notModified {
				assert.Nil(t, s.Data)
			} else {
				assert.Equal(t, "fresh bytes", string(s.Data))
			}
		})
	}
}

func TestHTTPOriginUnconditional304(t *testing.T) {
	t.Parallel()
	srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	})
	o := newTestHTTPOrigin(t, srv.URL, nil)
	s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
	assert.Nil(t, s)
	assert.ErrorIs(t, err, ErrOriginFailed, "a 304 to a request without validators has no bytes to serve")
}

func TestHTTPOriginStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		want   error
		code   int
	}{
		{http.StatusNotFound, ErrNotFound, http.StatusNotFound},
		{http.StatusGone, ErrGone, http.StatusGone},
		{http.StatusInternalServerError, ErrOriginFailed, http.StatusBadGateway},
		{http.StatusBadGateway, ErrOriginFailed, http.StatusBadGateway},
		{http.StatusServiceUnavailable, ErrOriginFailed, http.StatusBadGateway},
		{http.StatusGatewayTimeout, ErrOriginFailed, http.StatusBadGateway},
		{http.StatusForbidden, ErrOriginFailed, http.StatusBadGateway},
		{http.StatusUnauthorized, ErrOriginFailed, http.StatusBadGateway},
		{http.StatusTooManyRequests, ErrOriginFailed, http.StatusBadGateway},
		{http.StatusNoContent, ErrOriginFailed, http.StatusBadGateway},
		{http.StatusPartialContent, ErrOriginFailed, http.StatusBadGateway},
		{http.StatusFound, ErrOriginFailed, http.StatusBadGateway}, // no Location: not followed
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			t.Parallel()
			srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, "<html>error page</html>")
			})
			o := newTestHTTPOrigin(t, srv.URL, nil)
			s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
			assert.Nil(t, s)
			require.ErrorIs(t, err, c.want)
			assert.Equal(t, c.code, StatusCode(err))
			if c.want == ErrOriginFailed {
				assert.Contains(t, err.Error(), strconv.Itoa(c.status))
			}
		})
	}
}

func TestHTTPOriginContentEncoding(t *testing.T) {
	t.Parallel()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(bytes.Repeat([]byte{0}, 1<<20)) // a small gzip bomb: 1 MiB of zeros
	require.NoError(t, zw.Close())

	cases := []struct {
		name, encoding string
		body           []byte
		ok             bool
	}{
		{"gzip", "gzip", gz.Bytes(), false},
		{"GZIP upper case", "GZIP", gz.Bytes(), false},
		{"br", "br", []byte("xx"), false},
		{"deflate", "deflate", []byte("xx"), false},
		{"unknown", "x-custom", []byte("xx"), false},
		{"identity", "identity", []byte("plain"), true},
		{"none", "", []byte("plain"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
				if c.encoding != "" {
					w.Header().Set("Content-Encoding", c.encoding)
				}
				_, _ = w.Write(c.body)
			})
			// The cap is far below the inflated size: the raw body must
			// never be inflated behind our back.
			o := newTestHTTPOrigin(t, srv.URL, &HTTPOriginOptions{MaxBytes: 64 << 10})
			s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
			if c.ok {
				require.NoError(t, err)
				assert.Equal(t, c.body, s.Data)
				return
			}
			assert.Nil(t, s)
			require.ErrorIs(t, err, ErrOriginFailed)
			assert.Contains(t, err.Error(), "Unsupported Content-Encoding")
		})
	}
}

func TestHTTPOriginMaxBytes(t *testing.T) {
	t.Parallel()
	const limit = 100
	cases := []struct {
		name          string
		size          int
		contentLength bool
		ok            bool
	}{
		{"at cap with Content-Length", limit, true, true},
		{"at cap chunked", limit, false, true},
		{"over cap with Content-Length", limit + 1, true, false},
		{"over cap chunked", limit + 1, false, false},
		{"far over cap with Content-Length", 10 << 20, true, false},
		{"far over cap chunked", 10 << 20, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
				body := bytes.Repeat([]byte{'z'}, c.size)
				if c.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(c.size))
					_, _ = w.Write(body)
					return
				}
				// Flush first so that no Content-Length is computed.
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				for len(body) > 0 && r.Context().Err() == nil {
					n := min(len(body), 4096)
					if _, err := w.Write(body[:n]); err != nil {
						return
					}
					body = body[n:]
				}
			})
			o := newTestHTTPOrigin(t, srv.URL, &HTTPOriginOptions{MaxBytes: limit})
			s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
			if c.ok {
				require.NoError(t, err)
				assert.Len(t, s.Data, c.size)
				return
			}
			assert.Nil(t, s)
			require.ErrorIs(t, err, ErrSourceTooLarge)
			assert.Equal(t, http.StatusUnprocessableEntity, StatusCode(err))
		})
	}
}

func TestHTTPOriginInfiniteBody(t *testing.T) {
	t.Parallel()
	srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte{'i'}, 32<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	o := newTestHTTPOrigin(t, srv.URL, &HTTPOriginOptions{MaxBytes: 1 << 20})
	start := time.Now()
	_, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
	t.Logf("infinite body refused after %v: %v", time.Since(start), err)
	// Cut by the byte cap, not by the total timeout (5 s), which would be
	// a DeadlineExceeded.
	require.ErrorIs(t, err, ErrSourceTooLarge)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
}

// hijackServer answers every request with raw, written by fn, then closes
// the connection.
func hijackServer(t *testing.T, fn func(c net.Conn)) *httptest.Server {
	t.Helper()
	return serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close()
		_ = buf.Flush()
		fn(conn)
	})
}

func TestHTTPOriginTruncatedBody(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		raw  string
	}{
		{"Content-Length larger than body", "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("j", 300)},
		{"Content-Length and no body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"},
		{"chunked cut mid-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n" + strings.Repeat("c", 50)},
		{"chunked without last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"},
		{"headers cut", "HTTP/1.1 200 OK\r\nContent-Le"},
		{"garbage instead of HTTP", "SSH-2.0-OpenSSH\r\n\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := hijackServer(t, func(conn net.Conn) {
				_, _ = io.WriteString(conn, c.raw)
			})
			o := newTestHTTPOrigin(t, srv.URL, nil)
			s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
			assert.Nil(t, s, "a short body is never returned as an image")
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrOriginFailed)
			assert.Equal(t, http.StatusBadGateway, StatusCode(err))
		})
	}
}

func TestHTTPOriginResetMidBody(t *testing.T) {
	t.Parallel()
	srv := hijackServer(t, func(conn net.Conn) {
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("r", 1000))
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST instead of FIN
		}
	})
	o := newTestHTTPOrigin(t, srv.URL, nil)
	s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
	assert.Nil(t, s)
	require.ErrorIs(t, err, ErrOriginFailed)
}

func TestHTTPOriginRedirects(t *testing.T) {
	t.Parallel()
	var finalHits atomic.Int64
	srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
		// /r/N redirects to /r/N-1; /r/0 is the image.
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if n == 0 {
			finalHits.Add(1)
			_, _ = io.WriteString(w, "final image")
			return
		}
		http.Redirect(w, r, "/r/"+strconv.Itoa(n-1), http.StatusFound)
	})
	cases := []struct {
		name         string
		maxRedirects int
		hops         int
		ok           bool
	}{
		{"none needed", 0, 0, true},
		{"default follows 2", 0, 2, true},
		{"default follows 3", 0, 3, true},
		{"default refuses 4", 0, 4, false},
		{"cap 3 follows 2", 3, 2, true},
		{"cap 3 follows 3", 3, 3, true},
		{"cap 3 refuses 5", 3, 5, false},
		{"cap 1 refuses 2", 1, 2, false},
		{"-1 follows none", -1, 1, false},
		{"-1 direct still works", -1, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := newTestHTTPOrigin(t, srv.URL, &HTTPOriginOptions{MaxRedirects: c.maxRedirects})
			s, err := o.Fetch(context.Background(), FetchRequest{Path: "r/" + strconv.Itoa(c.hops)})
			if c.ok {
				require.NoError(t, err)
				assert.Equal(t, "final image", string(s.Data))
				return
			}
			assert.Nil(t, s)
			require.ErrorIs(t, err, ErrOriginFailed)
			assert.Contains(t, err.Error(), "redirects")
		})
	}
	t.Run("refused chains never reach the target", func(t *testing.T) {
		t.Parallel()
		// A separate server, so that the parallel successes above do not
		// count.
		var hits atomic.Int64
		s2 := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
			if n == 0 {
				hits.Add(1)
				_, _ = io.WriteString(w, "final image")
				return
			}
			http.Redirect(w, r, "/r/"+strconv.Itoa(n-1), http.StatusMovedPermanently)
		})
		o := newTestHTTPOrigin(t, s2.URL, &HTTPOriginOptions{MaxRedirects: 3})
		_, err := o.Fetch(context.Background(), FetchRequest{Path: "r/4"})
		require.ErrorIs(t, err, ErrOriginFailed)
		assert.Zero(t, hits.Load())
	})
}

func TestHTTPOriginRedirectScheme(t *testing.T) {
	t.Parallel()
	// A real gopher-ish listener: it must never see a connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	var dialed atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dialed.Add(1)
			_ = c.Close()
		}
	}()
	targets := []string{
		"file:///etc/passwd",
		"gopher://" + ln.Addr().String() + "/_GET",
		"ftp://" + ln.Addr().String() + "/x",
		"dict://" + ln.Addr().String() + "/",
		"javascript:alert(1)",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", target)
				w.WriteHeader(http.StatusFound)
			})
			o := newTestHTTPOrigin(t, srv.URL, nil)
			s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
			assert.Nil(t, s)
			require.ErrorIs(t, err, ErrOriginFailed)
			assert.NotContains(t, err.Error(), "root:")
		})
	}
	// Cleanups run after the parallel subtests have finished.
	t.Cleanup(func() { assert.Zero(t, dialed.Load(), "a refused scheme is never dialed") })
}

// blackHole returns the address of a listener that accepts connections and
// never answers.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

func TestHTTPOriginBlackHole(t *testing.T) {
	t.Parallel()
	addr := blackHole(t)
	// The total timeout is a minute away: a timeout within 20 s can only
	// be the header timeout's.
	o := newTestHTTPOrigin(t, "http://"+addr, &HTTPOriginOptions{
		HeaderTimeout: 200 * time.Millisecond,
		Timeout:       time.Minute,
	})
	start := time.Now()
	s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
	elapsed := time.Since(start)
	t.Logf("black hole: %v after %v", err, elapsed)
	assert.Nil(t, s)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, http.StatusGatewayTimeout, StatusCode(err))
	assert.GreaterOrEqual(t, elapsed, 150*time.Millisecond)
	assert.Less(t, elapsed, 20*time.Second, "cut by the header timeout, not the total one")
}

func TestHTTPOriginTotalTimeout(t *testing.T) {
	t.Parallel()
	t.Run("black hole under total timeout", func(t *testing.T) {
		t.Parallel()
		addr := blackHole(t)
		// The header timeout is a minute away: a timeout within 20 s can
		// only be the total timeout's.
		o := newTestHTTPOrigin(t, "http://"+addr, &HTTPOriginOptions{
			HeaderTimeout: time.Minute,
			Timeout:       200 * time.Millisecond,
		})
		start := time.Now()
		_, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
		elapsed := time.Since(start)
		t.Logf("black hole under total timeout: %v after %v", err, elapsed)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, elapsed, 20*time.Second, "cut by the total timeout, not the header one")
	})
	t.Run("slow body", func(t *testing.T) {
		t.Parallel()
		srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(http.StatusOK)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			// Giving up ends the body short: ErrOriginFailed, not a timeout.
			giveUp := time.After(time.Minute)
			for {
				select {
				case <-r.Context().Done():
					return
				case <-giveUp:
					return
				case <-tick.C:
					if _, err := w.Write([]byte("slow")); err != nil {
						return
					}
					w.(http.Flusher).Flush()
				}
			}
		})
		o := newTestHTTPOrigin(t, srv.URL, &HTTPOriginOptions{Timeout: 300 * time.Millisecond})
		start := time.Now()
		s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
		t.Logf("slow body: %v after %v", err, time.Since(start))
		assert.Nil(t, s, "nothing partial is returned")
		// The body never ends before the server gives up (a minute, a
		// short body): a DeadlineExceeded is the total timeout's.
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, http.StatusGatewayTimeout, StatusCode(err))
	})
	t.Run("caller deadline", func(t *testing.T) {
		t.Parallel()
		addr := blackHole(t)
		// The origin's own timeouts are a minute away: a timeout within 20 s
		// can only be the caller's deadline.
		o := newTestHTTPOrigin(t, "http://"+addr, &HTTPOriginOptions{HeaderTimeout: time.Minute, Timeout: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := o.Fetch(ctx, FetchRequest{Path: "a.jpg"})
		elapsed := time.Since(start)
		t.Logf("caller deadline: %v after %v", err, elapsed)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, elapsed, 20*time.Second, "cut by the caller's deadline, not the origin's timeouts")
	})
	t.Run("caller cancels", func(t *testing.T) {
		t.Parallel()
		addr := blackHole(t)
		o := newTestHTTPOrigin(t, "http://"+addr, nil)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := o.Fetch(ctx, FetchRequest{Path: "a.jpg"})
		require.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, ErrOriginFailed)
	})
}

func TestHTTPOriginConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	o := newTestHTTPOrigin(t, "http://"+addr, nil)
	start := time.Now()
	s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
	t.Logf("connection refused: %v after %v", err, time.Since(start))
	// Fails fast: an origin failure (502), not a timeout waited for.
	assert.Nil(t, s)
	require.ErrorIs(t, err, ErrOriginFailed)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, http.StatusBadGateway, StatusCode(err))
}

func TestHTTPOriginTransportOption(t *testing.T) {
	t.Parallel()
	var called atomic.Bool
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		called.Store(true)
		assert.Equal(t, "https://images.example/base/a%20b.jpg", r.URL.String())
		return &http.Response{
			StatusCode:    http.StatusOK,
			Header:        http.Header{"Etag": {`"t"`}},
			Body:          io.NopCloser(strings.NewReader("from transport")),
			ContentLength: -1,
			Request:       r,
		}, nil
	})
	o := newTestHTTPOrigin(t, "https://images.example/base", &HTTPOriginOptions{Transport: rt})
	s, err := o.Fetch(context.Background(), FetchRequest{Path: "a b.jpg"})
	require.NoError(t, err)
	assert.True(t, called.Load())
	assert.Equal(t, "from transport", string(s.Data))
	assert.Equal(t, `"t"`, s.ETag)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewHTTPOriginBaseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		base string
		ok   bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.1:8080/", true},
		{"https://images.example.com/base/path", true},
		{"HTTP://images.example.com", true},
		{"http://[::1]:8080/x", true},
		{"ftp://images.example.com/", false},
		{"file:///srv/images", false},
		{"gopher://images.example.com/", false},
		{"/relative/path", false},
		{"relative/path", false},
		{"images.example.com/path", false},
		{"//images.example.com/path", false},
		{"http://", false},
		{"http:///path", false},
		{"http://images.example.com/?q=1", false},
		{"http://images.example.com/base?", false},
		{"http://images.example.com/#frag", false},
		{"http://user@images.example.com/", false},
		{"http://user:pass@images.example.com/", false},
		{"http://images.example.com@evil.example/", false},
		{"http://bad host/", false},
		{"http://%zz/", false},
		{"", false},
		{"::", false},
	}
	for _, c := range cases {
		t.Run(c.base, func(t *testing.T) {
			t.Parallel()
			o, err := NewHTTPOrigin(c.base, nil)
			if c.ok {
				require.NoError(t, err)
				assert.NotNil(t, o)
				return
			}
			assert.Error(t, err)
			assert.Nil(t, o)
		})
	}
}

func TestNewHTTPOriginDefaults(t *testing.T) {
	t.Parallel()
	o, err := NewHTTPOrigin("http://127.0.0.1:1/base/", nil)
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, o.timeout)
	assert.Equal(t, DefaultLimits().MaxSourceBytes, o.maxBytes)
	assert.Equal(t, "imageopto", o.ua)
	assert.Equal(t, "/base", o.base.Path)
	tr, ok := o.client.Transport.(*http.Transport)
	require.True(t, ok)
	assert.Nil(t, tr.Proxy, "never a proxy from the environment")
	assert.True(t, tr.DisableCompression, "no transparent gzip")
	assert.Equal(t, 5*time.Second, tr.ResponseHeaderTimeout)
	assert.Equal(t, 2*time.Second, tr.TLSHandshakeTimeout)
	assert.NotNil(t, o.client.CheckRedirect)
}

// ---------------------------------------------------------------------------
// freshness

func TestFreshness(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	expiresAt := time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		h       http.Header
		expires time.Time
		noStore bool
	}{
		{"nothing", http.Header{}, time.Time{}, false},
		{"public only", http.Header{"Cache-Control": {"public"}}, time.Time{}, false},
		{"max-age", http.Header{"Cache-Control": {"max-age=60"}}, now.Add(60 * time.Second), false},
		{"max-age with public", http.Header{"Cache-Control": {"public, max-age=60"}}, now.Add(time.Minute), false},
		{"max-age quoted", http.Header{"Cache-Control": {`max-age="60"`}}, now.Add(time.Minute), false},
		{"MAX-AGE upper case", http.Header{"Cache-Control": {"MAX-AGE=60"}}, now.Add(time.Minute), false},
		{"max-age spaces", http.Header{"Cache-Control": {"  max-age=60  ,  public "}}, now.Add(time.Minute), false},
		{"max-age zero", http.Header{"Cache-Control": {"max-age=0"}}, now, false},
		{"max-age negative ignored", http.Header{"Cache-Control": {"max-age=-5"}}, time.Time{}, false},
		{"max-age junk ignored", http.Header{"Cache-Control": {"max-age=abc"}}, time.Time{}, false},
		{"max-age empty ignored", http.Header{"Cache-Control": {"max-age="}}, time.Time{}, false},
		{"max-age huge clamped", http.Header{"Cache-Control": {"max-age=99999999999999"}}, now.Add((1 << 31) * time.Second), false},
		{"s-maxage wins over max-age", http.Header{"Cache-Control": {"max-age=60, s-maxage=300"}}, now.Add(300 * time.Second), false},
		{"s-maxage wins over later max-age", http.Header{"Cache-Control": {"s-maxage=300, max-age=60"}}, now.Add(300 * time.Second), false},
		{"s-maxage alone", http.Header{"Cache-Control": {"s-maxage=10"}}, now.Add(10 * time.Second), false},
		{"no-store", http.Header{"Cache-Control": {"no-store"}}, time.Time{}, true},
		{"private", http.Header{"Cache-Control": {"private"}}, time.Time{}, true},
		{"private with max-age", http.Header{"Cache-Control": {"private, max-age=60"}}, now.Add(time.Minute), true},
		{"No-Store mixed case", http.Header{"Cache-Control": {"No-Store"}}, time.Time{}, true},
		{"no-cache", http.Header{"Cache-Control": {"no-cache"}}, now, false},
		{"no-cache before max-age", http.Header{"Cache-Control": {"no-cache, max-age=60"}}, now, false},
		{"no-cache after max-age", http.Header{"Cache-Control": {"max-age=60, no-cache"}}, now, false},
		{"no-cache before s-maxage", http.Header{"Cache-Control": {"no-cache, s-maxage=60"}}, now, false},
		{"no-cache with Expires", http.Header{"Cache-Control": {"no-cache"}, "Expires": {expiresAt.Format(http.TimeFormat)}}, now, false},
		{"Expires", http.Header{"Expires": {expiresAt.Format(http.TimeFormat)}}, expiresAt, false},
		{"Expires in the past", http.Header{"Expires": {now.Add(-time.Hour).Format(http.TimeFormat)}}, now.Add(-time.Hour), false},
		{"Expires RFC 850", http.Header{"Expires": {expiresAt.Format(time.RFC850)}}, expiresAt, false},
		{"max-age beats Expires", http.Header{"Cache-Control": {"max-age=60"}, "Expires": {expiresAt.Format(http.TimeFormat)}}, now.Add(time.Minute), false},
		{"invalid Expires is now", http.Header{"Expires": {"0"}}, now, false},
		{"invalid Expires -1 is now", http.Header{"Expires": {"-1"}}, now, false},
		{"invalid Expires text is now", http.Header{"Expires": {"tomorrow"}}, now, false},
		{"invalid max-age falls back to Expires", http.Header{"Cache-Control": {"max-age=x"}, "Expires": {expiresAt.Format(http.TimeFormat)}}, expiresAt, false},
		{"several Cache-Control lines", http.Header{"Cache-Control": {"max-age=60", "private"}}, now.Add(time.Minute), true},
		{"several Cache-Control lines no-cache", http.Header{"Cache-Control": {"max-age=60", "no-cache"}}, now, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			exp, noStore := Freshness(c.h, now)
			assert.True(t, c.expires.Equal(exp), "expires: want %v, got %v", c.expires, exp)
			assert.Equal(t, c.noStore, noStore)
		})
	}
}

func TestHTTPOriginFreshnessHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cc      string
		noStore bool
	}{
		{"no-store", "no-store", true},
		{"private", "private, max-age=600", true},
		{"public", "public, max-age=600", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := serveOriginTest(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", c.cc)
				_, _ = io.WriteString(w, "x")
			})
			o := newTestHTTPOrigin(t, srv.URL, nil)
			s, err := o.Fetch(context.Background(), FetchRequest{Path: "a.jpg"})
			require.NoError(t, err)
			assert.Equal(t, c.noStore, s.NoStore)
		})
	}
}

// ---------------------------------------------------------------------------
// OriginFunc

func TestOriginFunc(t *testing.T) {
	t.Parallel()
	var got FetchRequest
	var o Origin = OriginFunc(func(ctx context.Context, req FetchRequest) (*Source, error) {
		got = req
		return &Source{Data: []byte("fn")}, nil
	})
	s, err := o.Fetch(context.Background(), FetchRequest{Path: "p.jpg", RawQuery: "a=1"})
	require.NoError(t, err)
	assert.Equal(t, "fn", string(s.Data))
	assert.Equal(t, FetchRequest{Path: "p.jpg", RawQuery: "a=1"}, got)
}

// The built-in origins satisfy Origin.
var (
	_ Origin = (*DirOrigin)(nil)
	_ Origin = (*FSOrigin)(nil)
	_ Origin = (*HTTPOrigin)(nil)
)
