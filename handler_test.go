package imageopto

import (
	"context"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imageopto/imageopto/internal/vp8enc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// fakeOrigin serves in-memory originals, counts fetches, and can be slowed
// down, made to fail, or changed.
type fakeOrigin struct {
	mu      sync.Mutex
	files   map[string][]byte
	etags   map[string]string
	fetches atomic.Int64
	conds   atomic.Int64 // conditional fetches answered 304
	delay   time.Duration
	err     error
	maxAge  time.Duration
}

func newFakeOrigin(files map[string][]byte) *fakeOrigin {
	o := &fakeOrigin{files: files, etags: map[string]string{}}
	for k, v := range files {
		o.etags[k] = contentETag(v)
	}
	return o
}

func (o *fakeOrigin) set(path string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.files[path], o.etags[path] = data, contentETag(data)
}

func (o *fakeOrigin) Fetch(ctx context.Context, req FetchRequest) (*Source, error) {
	o.fetches.Add(1)
	if o.delay > 0 {
		select {
		case <-time.After(o.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return nil, o.err
	}
	data, ok := o.files[req.Path]
	if !ok {
		return nil, ErrNotFound
	}
	src := &Source{ETag: o.etags[req.Path], LastModified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if o.maxAge > 0 {
		src.Expires = time.Now().Add(o.maxAge)
	}
	if req.IfNoneMatch != "" && req.IfNoneMatch == src.ETag {
		o.conds.Add(1)
		src.NotModified = true
		return src, nil
	}
	src.Data = data
	return src, nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestHandler(t testing.TB, o Origin, opts *Options) *Handler {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	h, err := New(o, opts)
	require.NoError(t, err)
	return h
}

func get(h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	return do(h, http.MethodGet, target, hdr...)
}

func do(h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func samplePNG(t testing.TB) []byte { return encodePNG(t, quadrants(200, 100)) }

func TestHandlerServes(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"a/cat.png": samplePNG(t)})
	h := newTestHandler(t, o, nil)
	w := get(h, "/a/cat.png?width=100&format=jpg")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "image/jpeg", w.Header().Get("Content-Type"))
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, strconv.Itoa(w.Body.Len()), w.Header().Get("Content-Length"))
	assert.NotEmpty(t, w.Header().Get("ETag"))
	assert.True(t, strings.HasPrefix(w.Header().Get("ETag"), `"`), "strong ETag")
	assert.Equal(t, "Fri, 02 Jan 2026 03:04:05 GMT", w.Header().Get("Last-Modified"))
	assert.Contains(t, w.Header().Get("Cache-Control"), "public, max-age=")
	assert.Empty(t, w.Header().Get("Vary"), "no negotiation took part")
	assert.Contains(t, w.Header().Get("Imageopto-Info"), "idim=200x100 ifmt=png")
	assert.Contains(t, w.Header().Get("Imageopto-Info"), "odim=100x50 ofmt=jpeg")
	img, err := jpeg.Decode(w.Body)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 100, 50), img.Bounds())
}

func TestHandlerMethodsAndConditional(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	h := newTestHandler(t, o, nil)

	w := do(h, http.MethodPost, "/cat.png")
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"))

	full := get(h, "/cat.png?width=50")
	require.Equal(t, http.StatusOK, full.Code)
	head := do(h, http.MethodHead, "/cat.png?width=50")
	assert.Equal(t, http.StatusOK, head.Code)
	assert.Zero(t, head.Body.Len())
	assert.Equal(t, full.Header().Get("Content-Length"), head.Header().Get("Content-Length"))
	assert.Equal(t, full.Header().Get("ETag"), head.Header().Get("ETag"))

	etag := full.Header().Get("ETag")
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		w := get(h, "/cat.png?width=50", "If-None-Match", inm)
		assert.Equal(t, http.StatusNotModified, w.Code, inm)
		assert.Zero(t, w.Body.Len())
		assert.Equal(t, etag, w.Header().Get("ETag"))
	}
	assert.Equal(t, http.StatusOK, get(h, "/cat.png?width=50", "If-None-Match", `"other"`).Code)
	assert.Equal(t, int64(1), o.fetches.Load(), "everything after the first request came from the cache")
	assert.Equal(t, int64(1), h.Transforms())
}

// TestHandlerCollapsing: 100 concurrent identical misses at a slow origin
// make one fetch and one transform, and every body is identical.
func TestHandlerCollapsing(t *testing.T) {
	verifyNoLeaks(t)
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	o.delay = 200 * time.Millisecond
	h := newTestHandler(t, o, nil)
	const n = 100
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := get(h, "/cat.png?width=80&height=80&fit=crop")
			if w.Code == http.StatusOK {
				bodies[i] = w.Body.Bytes()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), o.fetches.Load(), "one origin fetch")
	assert.Equal(t, int64(1), h.Transforms(), "one transform")
	for i := range n {
		require.NotNil(t, bodies[i], "request %d failed", i)
		assert.Equal(t, bodies[0], bodies[i])
	}
}

// verifyNoLeaks makes t fail, when it ends, if a goroutine started while it
// ran is still there (reliability §5.5 #3): goleak over every goroutine that
// did not exist when verifyNoLeaks was called, retried for up to 30 s so that
// detached work (a shared flight, a background revalidation, a connection
// being torn down) may finish, even on a loaded machine (the wait costs
// that long only when a goroutine really is left behind). The default
// transport's idle connections are closed first. Call it first thing in a
// test that is not parallel (its subtests may be): goroutines of tests
// running alongside would count.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := goleak.Find(ignore)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines left behind after 30 s: %v", err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestHandlerWaiterLeaves: a client that gives up does not cancel the shared
// work for the others, and no goroutine outlives the shared work (§5.3).
// Not parallel: it checks for leaked goroutines.
func TestHandlerWaiterLeaves(t *testing.T) {
	verifyNoLeaks(t)
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	o.delay = 300 * time.Millisecond
	h := newTestHandler(t, o, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r := httptest.NewRequest(http.MethodGet, "/cat.png?width=10", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.ServeHTTP(w, r); close(done) }()
	second := get(h, "/cat.png?width=10")
	<-done
	assert.Equal(t, http.StatusOK, second.Code)
	assert.Equal(t, int64(1), o.fetches.Load())
}

func TestHandlerSourceCache(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	h := newTestHandler(t, o, nil)
	for _, q := range []string{"width=10", "width=20", "width=30&format=jpg", "height=5"} {
		require.Equal(t, http.StatusOK, get(h, "/cat.png?"+q).Code)
	}
	assert.Equal(t, int64(1), o.fetches.Load(), "N sizes, one origin fetch")
	assert.Equal(t, int64(4), h.Transforms())
}

func TestHandlerCanonicalKey(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	h := newTestHandler(t, o, nil)
	first := get(h, "/cat.png?width=0.5&bg-color=FFF&orient=r&unknown=1")
	require.Equal(t, http.StatusOK, first.Code)
	for _, q := range []string{
		"orient=6&bg-color=255,255,255&width=50p",
		"bg-color=fff&width=50p&orient=r&utm_source=x",
	} {
		w := get(h, "/cat.png?"+q)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, first.Header().Get("ETag"), w.Header().Get("ETag"))
	}
	assert.Equal(t, int64(1), h.Transforms(), "equivalent queries share one cache entry")
}

// TestHandlerRevalidation: a stale entry is revalidated with the origin; a
// 304 refreshes it without transforming again, a change transforms anew.
func TestHandlerRevalidation(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	o.maxAge = time.Minute
	h := newTestHandler(t, o, &Options{StaleWhileRevalidate: time.Nanosecond})
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	h.now = func() time.Time { return time.Unix(0, clock.Load()) }

	first := get(h, "/cat.png?width=40")
	require.Equal(t, http.StatusOK, first.Code)
	clock.Add(int64(2 * time.Minute)) // stale now
	second := get(h, "/cat.png?width=40")
	require.Equal(t, http.StatusOK, second.Code)
	assert.Equal(t, first.Body.Bytes(), second.Body.Bytes())
	assert.Equal(t, int64(2), o.fetches.Load(), "one conditional request")
	assert.Equal(t, int64(1), o.conds.Load(), "answered 304")
	assert.Equal(t, int64(1), h.Transforms(), "not transformed again")

	o.set("cat.png", encodePNG(t, quadrants(100, 100)))
	clock.Add(int64(2 * time.Minute))
	third := get(h, "/cat.png?width=40")
	require.Equal(t, http.StatusOK, third.Code)
	assert.Contains(t, third.Header().Get("Imageopto-Info"), "odim=40x40")
	assert.Equal(t, int64(2), h.Transforms(), "changed original: transformed again")
}

// TestHandlerStaleOnOriginError: a stale entry is served when the origin fails.
func TestHandlerStaleOnOriginError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tier bool
	}{{"alone", false}, {"through a tier", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
			o.maxAge = time.Minute
			opts := &Options{}
			if tc.tier {
				opts.Tier = newFakeCluster(1).nodes[0]
			}
			h := newTestHandler(t, o, opts)
			var clock atomic.Int64
			clock.Store(time.Now().UnixNano())
			h.now = func() time.Time { return time.Unix(0, clock.Load()) }
			require.Equal(t, http.StatusOK, get(h, "/cat.png?width=40").Code)
			clock.Add(int64(2 * time.Minute))
			o.mu.Lock()
			o.err = ErrOriginFailed
			o.mu.Unlock()
			w := get(h, "/cat.png?width=40")
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Contains(t, w.Header().Get("Imageopto-Warning"), "stale")
			// Never cached: the failure shows.
			assert.Equal(t, http.StatusBadGateway, get(h, "/cat.png?width=41").Code)
		})
	}
}

func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	good := samplePNG(t)
	cases := []struct {
		name   string
		origin Origin
		target string
		status int
		body   string
		header string // error header
	}{
		{"bad param", newFakeOrigin(map[string][]byte{"a.png": good}), "/a.png?width=0&fit=stretch", 400, "width=0", ""},
		{"all bad params listed", newFakeOrigin(map[string][]byte{"a.png": good}), "/a.png?width=0&fit=stretch", 400, "fit=stretch", ""},
		{"duplicate", newFakeOrigin(map[string][]byte{"a.png": good}), "/a.png?width=1&width=2", 400, "width", ""},
		{"unsupported format", newFakeOrigin(map[string][]byte{"a.png": good}), "/a.png?format=jxl", 400, "format=jxl", ""},
		{"crop out of bounds", newFakeOrigin(map[string][]byte{"a.png": good}), "/a.png?crop=300,50,x0,y0", 400, "Invalid crop, region out of bounds", ""},
		{"not found", newFakeOrigin(nil), "/nope.png", 404, "", "Invalid status"},
		{"gone", OriginFunc(func(context.Context, FetchRequest) (*Source, error) { return nil, ErrGone }), "/x.png", 410, "", "Invalid status"},
		{"origin failed", OriginFunc(func(context.Context, FetchRequest) (*Source, error) { return nil, ErrOriginFailed }), "/x.png", 502, "Bad Gateway", "Invalid status"},
		{"origin timeout", OriginFunc(func(ctx context.Context, _ FetchRequest) (*Source, error) {
			return nil, context.DeadlineExceeded
		}), "/x.png", 504, "Gateway Timeout", ""},
		{"not an image", newFakeOrigin(map[string][]byte{"a.png": []byte("<html>oops</html>")}), "/a.png", 415, "", "Not a supported image format"},
		{"corrupt", newFakeOrigin(map[string][]byte{"a.png": good[:60]}), "/a.png", 422, "", "Image could not be parsed"},
		{"traversal", newFakeOrigin(nil), "/a/../../etc/passwd", 400, "", ""},
		{"encoded traversal", newFakeOrigin(nil), "/%2e%2e/etc/passwd", 400, "", ""},
		{"backslash", newFakeOrigin(nil), "/..%5cetc", 400, "", ""},
		{"long query", newFakeOrigin(nil), "/a.png?x=" + strings.Repeat("a", 5000), 414, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(t, c.origin, nil)
			w := get(h, c.target)
			assert.Equal(t, c.status, w.Code, w.Body.String())
			assert.Contains(t, w.Body.String(), c.body)
			assert.Equal(t, c.header, w.Header().Get("Imageopto-Error"))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		})
	}
}

// TestHandlerNotFoundCached: origin 404s are remembered briefly (D26).
func TestHandlerNotFoundCached(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{})
	h := newTestHandler(t, o, nil)
	for range 3 {
		assert.Equal(t, http.StatusNotFound, get(h, "/missing.png?width=10").Code)
	}
	assert.Equal(t, int64(1), o.fetches.Load())
}

// TestHandlerDirOriginTraversal: the directory origin cannot be escaped
// through the handler.
func TestHandlerDirOriginTraversal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	require.NoError(t, os.MkdirAll(root, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "ok.png"), samplePNG(t), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret.png"), samplePNG(t), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(dir, "secret.png"), filepath.Join(root, "link.png")))
	o, err := NewDirOrigin(root, 0)
	require.NoError(t, err)
	t.Cleanup(func() { o.Close() })
	h := newTestHandler(t, o, nil)
	assert.Equal(t, http.StatusOK, get(h, "/ok.png?width=10").Code)
	for _, p := range []string{"/../secret.png", "/%2e%2e/secret.png", "/%252e%252e/secret.png", "/link.png", "//" + filepath.Join(dir, "secret.png")} {
		w := get(h, p)
		assert.Contains(t, []int{400, 404}, w.Code, "%s: %d %s", p, w.Code, w.Body.String())
	}
}

func TestHandlerHook(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"real.png": samplePNG(t)})
	h := newTestHandler(t, o, &Options{Hook: func(_ context.Context, r *Request) error {
		switch r.Path {
		case "secret.png":
			return ErrForbidden
		case "alias.png":
			r.Path = "real.png"
		}
		if r.Header.Get("X-Preset") == "thumb" {
			r.Params = Params{Width: Px(20), Height: Px(20), Fit: FitCrop}
		}
		return nil
	}})
	assert.Equal(t, http.StatusForbidden, get(h, "/secret.png").Code)
	w := get(h, "/alias.png", "X-Preset", "thumb")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Header().Get("Imageopto-Info"), "odim=20x20")
}

func TestHandlerLenientAndPrefix(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"a.png": samplePNG(t)})
	h := newTestHandler(t, o, &Options{Lenient: true, HeaderPrefix: "Fastly-IO"})
	w := get(h, "/a.png?width=abc&height=50")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Header().Get("Fastly-IO-Warning"), "width=abc")
	assert.Contains(t, w.Header().Get("Fastly-IO-Info"), "odim=100x50")
}

func TestHandlerPassQuery(t *testing.T) {
	t.Parallel()
	var seen atomic.Value
	o := OriginFunc(func(_ context.Context, r FetchRequest) (*Source, error) {
		seen.Store(r.RawQuery)
		return &Source{Data: samplePNG(t)}, nil
	})
	h := newTestHandler(t, o, &Options{PassQuery: true})
	require.Equal(t, http.StatusOK, get(h, "/a.png?width=10&v=3&sig=x").Code)
	assert.Equal(t, "v=3&sig=x", seen.Load())
	h = newTestHandler(t, o, nil)
	require.Equal(t, http.StatusOK, get(h, "/a.png?width=10&v=4").Code)
	assert.Equal(t, "", seen.Load(), "D5: no query to the origin by default")
}

// failingCache fails every call.
type failingCache struct{}

func (failingCache) Get(context.Context, string) ([]byte, error) { return nil, errors.New("down") }
func (failingCache) Set(context.Context, string, []byte, time.Duration) error {
	return errors.New("down")
}

func TestHandlerFailingCache(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(map[string][]byte{"a.png": samplePNG(t)})
	h := newTestHandler(t, o, &Options{Cache: failingCache{}, SourceCache: failingCache{}})
	for range 2 {
		assert.Equal(t, http.StatusOK, get(h, "/a.png?width=10").Code)
	}
	assert.Equal(t, int64(2), o.fetches.Load())
}

// TestHandlerOverload: with one slot and no queue, a second transformation
// is refused with 503 and Retry-After. Not parallel: it checks for leaked
// goroutines.
func TestHandlerOverload(t *testing.T) {
	verifyNoLeaks(t)
	block := make(chan struct{})
	slow := StepFunc{Name: "slow", Func: func(_ context.Context, img *image.NRGBA) (*image.NRGBA, error) {
		<-block
		return img, nil
	}}
	o := newFakeOrigin(map[string][]byte{"a.png": samplePNG(t)})
	h := newTestHandler(t, o, &Options{MaxConcurrent: 1, MaxQueue: 1, QueueTimeout: 50 * time.Millisecond,
		Transform: TransformOptions{Steps: []Step{slow}}})
	done := make(chan int)
	go func() { done <- get(h, "/a.png?width=10").Code }()
	for h.Transforms() == 0 {
		time.Sleep(time.Millisecond)
	}
	w := get(h, "/a.png?width=11")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	close(block)
	assert.Equal(t, http.StatusOK, <-done)
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	o := newFakeOrigin(nil)
	for _, opts := range []*Options{
		{DefaultTTL: -1},
		{MaxConcurrent: -1},
		{HeaderPrefix: "Bad Prefix"},
		{MinTTL: time.Hour, MaxTTL: time.Minute},
		{Transform: TransformOptions{PlanOptions: PlanOptions{JPEGQuality: 101}}},
		{Transform: TransformOptions{PlanOptions: PlanOptions{ResizeFilter: "sinc"}}},
		{Signer: &Signer{keys: [][]byte{signKey1}}, PassQuery: true},
	} {
		_, err := New(o, opts)
		assert.Error(t, err, "%+v", opts)
	}
	_, err := New(nil, nil)
	assert.Error(t, err)
	h, err := New(o, nil)
	require.NoError(t, err)
	assert.NotNil(t, h)
}

func TestEntryRoundTrip(t *testing.T) {
	t.Parallel()
	e := &entry{ContentType: "image/png", ETag: `"x"`, Expires: time.Unix(100, 0).UTC(), Info: "i", Warnings: []string{"w"}, Body: []byte{1, 2, 3}}
	got, err := decodeEntry(e.encode())
	require.NoError(t, err)
	assert.Equal(t, e, got)
	for _, bad := range [][]byte{nil, []byte("ioE1"), []byte("ioE1\xff\xff\xff\xff\xff"), []byte("junk"), append([]byte("ioE1\x05"), "{}"...)} {
		_, err := decodeEntry(bad)
		assert.Error(t, err)
	}
}

// fakeWebP is a stand-in WebP encoder for negotiation tests: it records the
// options it was called with and writes a marker, not a real WebP file.
func fakeWebP(seen *atomic.Value) Codec {
	return Codec{Format: WebP, Encode: func(_ context.Context, w io.Writer, img *image.NRGBA, o EncodeOptions) error {
		seen.Store(o)
		_, err := w.Write([]byte("RIFF fake webp"))
		return err
	}}
}

// TestHandlerNegotiation: Vary: Accept exactly when negotiation took part,
// the cache keyed by the negotiated format, the second quality for WebP;
// lossy WebP written by the built-in encoder, lossless by the configured
// codec.
func TestHandlerNegotiation(t *testing.T) {
	t.Parallel()
	var seen atomic.Value
	o := newFakeOrigin(map[string][]byte{"a.png": samplePNG(t), "b.jpg": encodeJPEG(t, quadrants(64, 64), 90, 0)})
	h := newTestHandler(t, o, &Options{Transform: TransformOptions{PlanOptions: PlanOptions{Codecs: []Codec{fakeWebP(&seen)}}}})
	cases := []struct {
		target, accept string
		ctype          string
		vary           bool
		opts           EncodeOptions
	}{
		{"/a.png?auto=webp", "image/avif,image/webp,*/*", "image/webp", true, EncodeOptions{Lossless: true}},
		{"/a.png?auto=webp", "image/png,*/*", "image/png", true, EncodeOptions{}},
		{"/a.png?auto=webp", "image/*", "image/png", true, EncodeOptions{}},
		{"/a.png?auto=webp", "image/webp;q=0", "image/png", true, EncodeOptions{}},
		{"/a.png?auto=avif", "image/avif", "image/png", false, EncodeOptions{}}, // no AVIF encoder: no negotiation
		{"/a.png?width=10", "image/webp", "image/png", false, EncodeOptions{}},
		{"/b.jpg?format=pjpg&auto=webp&quality=85,75", "image/webp", "image/webp", true, EncodeOptions{Quality: 75}},
		{"/b.jpg?auto=webp&quality=70", "image/webp", "image/webp", true, EncodeOptions{Quality: 70}},
		{"/b.jpg?format=auto", "image/webp", "image/webp", true, EncodeOptions{Quality: 85}},
		{"/b.jpg?format=auto", "text/html", "image/jpeg", true, EncodeOptions{}},
		{"/a.png?format=webpll", "", "image/webp", false, EncodeOptions{Lossless: true}},
		{"/b.jpg?format=webply&quality=40", "", "image/webp", false, EncodeOptions{Quality: 40}},
	}
	for _, c := range cases {
		seen.Store(EncodeOptions{})
		w := get(h, c.target, "Accept", c.accept)
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", c.target, w.Body.String())
		assert.Equal(t, c.ctype, w.Header().Get("Content-Type"), c.target+" "+c.accept)
		assert.Equal(t, c.vary, w.Header().Get("Vary") == "Accept", c.target+" "+c.accept)
		switch {
		case c.ctype == "image/webp" && c.opts.Lossless:
			got := seen.Load().(EncodeOptions)
			got.Alpha = false
			assert.Equal(t, c.opts, got, c.target)
		case c.ctype == "image/webp":
			// Lossy WebP is the built-in encoder's, at the quality asked.
			assert.Equal(t, EncodeOptions{}, seen.Load(), c.target)
			qi, err := vp8enc.FrameQIndex(w.Body.Bytes())
			require.NoError(t, err, c.target)
			assert.Equal(t, vp8enc.QIndexForQuality(c.opts.Quality), qi, c.target)
		}
	}
	// Without any WebP codec, asking for WebP explicitly is a 400 (D24).
	h = newTestHandler(t, o, nil)
	w := get(h, "/a.png?format=webp")
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "format=webp")
}

// TestHandlerMemoryBudget: with free CPU slots but a memory budget that one
// job fills, a second job waits for memory and then gets 503.
func TestHandlerMemoryBudget(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	slow := StepFunc{Name: "slow", Func: func(_ context.Context, img *image.NRGBA) (*image.NRGBA, error) {
		<-block
		return img, nil
	}}
	data := samplePNG(t)
	info, err := Inspect(data)
	require.NoError(t, err)
	plan, err := NewPlan(Params{Width: Px(10)}, info, "", nil)
	require.NoError(t, err)
	need := EstimateMemory(info, plan)
	t.Logf("estimate for a 200x100 PNG → width=10: %d bytes", need)
	assert.Greater(t, need, int64(200*100*4))

	o := newFakeOrigin(map[string][]byte{"a.png": data})
	h := newTestHandler(t, o, &Options{MaxConcurrent: 4, MemoryBudget: need * 3 / 2, MaxJobMemory: need * 3 / 2, QueueTimeout: 50 * time.Millisecond,
		Transform: TransformOptions{Steps: []Step{slow}}})
	done := make(chan int)
	go func() { done <- get(h, "/a.png?width=10").Code }()
	for h.Transforms() == 0 {
		time.Sleep(time.Millisecond)
	}
	w := get(h, "/a.png?width=11")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, w.Body.String(), "retry")
	close(block)
	assert.Equal(t, http.StatusOK, <-done)
	assert.Equal(t, http.StatusOK, get(h, "/a.png?width=12").Code, "memory is returned")
}

// TestHandlerStaleWhileRevalidate: within the window, a stale entry is
// served at once and revalidated in the background (RFC 5861), and the
// background work leaves no goroutine behind. Not parallel: it checks for
// leaked goroutines.
func TestHandlerStaleWhileRevalidate(t *testing.T) {
	verifyNoLeaks(t)
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	o.maxAge = time.Minute
	// The origin holds every fetch while blocked is set, until release is
	// closed: a revalidation that the client waited for could not end.
	var blocked atomic.Bool
	held := make(chan struct{}, 1) // a fetch is being held
	release := make(chan struct{})
	origin := OriginFunc(func(ctx context.Context, req FetchRequest) (*Source, error) {
		if blocked.Load() {
			select {
			case held <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return o.Fetch(ctx, req)
	})
	h := newTestHandler(t, origin, nil) // default window: 60 s
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	h.now = func() time.Time { return time.Unix(0, clock.Load()) }
	require.Equal(t, http.StatusOK, get(h, "/cat.png?width=40").Code)
	clock.Add(int64(90 * time.Second)) // 30 s stale
	blocked.Store(true)                // the revalidation is slow…
	answered := make(chan *httptest.ResponseRecorder, 1)
	go func() { answered <- get(h, "/cat.png?width=40") }()
	var w *httptest.ResponseRecorder
	select {
	case w = <-answered:
		// …but the client does not wait for it: it has its answer while the
		// origin holds the revalidation.
	case <-time.After(time.Minute):
		t.Error("the client waited for the revalidation")
		close(release)
		<-answered
		return
	}
	select {
	case <-held:
		assert.Zero(t, o.conds.Load(), "the revalidation is still held")
	case <-time.After(time.Minute):
		t.Error("no revalidation reached the origin")
	}
	close(release)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Header().Get("Imageopto-Warning"), "revalidated")
	deadline := time.Now().Add(30 * time.Second)
	for o.conds.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, int64(1), o.conds.Load(), "revalidated in the background with a 304")
	refreshed := false
	for !refreshed && time.Now().Before(deadline) {
		refreshed = get(h, "/cat.png?width=40").Header().Get("Imageopto-Warning") == ""
		time.Sleep(5 * time.Millisecond)
	}
	assert.True(t, refreshed, "the entry is fresh again")
	assert.Equal(t, int64(1), h.Transforms())
}

// TestHandlerReviewRegressions pins fixes from review: a cancellation the
// client did not cause is a 502, never an empty 200; the source cache key
// cannot be forged by putting "?" in the path.
func TestHandlerReviewRegressions(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, OriginFunc(func(context.Context, FetchRequest) (*Source, error) {
		return nil, context.Canceled
	}), nil)
	w := get(h, "/a.png")
	assert.Equal(t, http.StatusBadGateway, w.Code)
	assert.NotEmpty(t, w.Body.String())

	big, small := samplePNG(t), encodePNG(t, quadrants(40, 20))
	o := OriginFunc(func(_ context.Context, r FetchRequest) (*Source, error) {
		if r.Path == "a" && r.RawQuery == "b?" {
			return &Source{Data: big}, nil
		}
		return &Source{Data: small}, nil
	})
	h = newTestHandler(t, o, &Options{PassQuery: true})
	require.Equal(t, http.StatusOK, get(h, "/a?b?").Code)
	w = get(h, "/a%3Fb")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Header().Get("Imageopto-Info"), "idim=40x20")
}
