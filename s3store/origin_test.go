package s3store

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
)

func TestNewOriginValidation(t *testing.T) {
	t.Parallel()
	client := testClient(t, "http://127.0.0.1:1", 1)
	tests := []struct {
		name           string
		nilClient      bool
		bucket, prefix string
		opts           *OriginOptions
		wantPrefix     string
		wantErr        bool
	}{
		{name: "defaults", bucket: "b", prefix: "", wantPrefix: ""},
		{name: "prefix slashes trimmed", bucket: "b", prefix: "/a/b/", wantPrefix: "a/b"},
		{name: "nil client", nilClient: true, bucket: "b", wantErr: true},
		{name: "empty bucket", bucket: "", wantErr: true},
		{name: "slash in bucket", bucket: "a/b", wantErr: true},
		{name: "dot-dot prefix", bucket: "b", prefix: "a/../b", wantErr: true},
		{name: "empty element", bucket: "b", prefix: "a//b", wantErr: true},
		{name: "control char", bucket: "b", prefix: "a\x00", wantErr: true},
		{name: "negative max", bucket: "b", opts: &OriginOptions{MaxBytes: -1}, wantErr: true},
		{name: "negative timeout", bucket: "b", opts: &OriginOptions{Timeout: -1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client
			if tt.nilClient {
				c = nil
			}
			o, err := NewOrigin(c, tt.bucket, tt.prefix, tt.opts)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantPrefix, o.prefix)
			assert.Equal(t, imageopto.DefaultLimits().MaxSourceBytes, o.maxBytes)
			assert.Equal(t, 10*time.Second, o.timeout)
		})
	}
}

func TestOriginFetch(t *testing.T) {
	t.Parallel()
	f := newFakeS3(t, nil)
	f.put(t, "originals", "img/photos/cat.jpg", []byte("cat bytes"))
	f.put(t, "originals", "img/a dir/ünï code+%.png", []byte("unicode"))
	f.put(t, "originals", "root.gif", []byte("at the root"))
	f.put(t, "originals", "img/big.png", bytes.Repeat([]byte("x"), 101))
	f.put(t, "originals", "img/exact.png", bytes.Repeat([]byte("x"), 100))

	withPrefix, err := NewOrigin(f.client, "originals", "img", &OriginOptions{MaxBytes: 100})
	require.NoError(t, err)
	noPrefix, err := NewOrigin(f.client, "originals", "", nil)
	require.NoError(t, err)
	noBucket, err := NewOrigin(f.client, "missing-bucket", "", nil)
	require.NoError(t, err)

	tests := []struct {
		name    string
		origin  *Origin
		path    string
		want    string
		wantErr error
	}{
		{name: "ok", origin: withPrefix, path: "photos/cat.jpg", want: "cat bytes"},
		{name: "leading slash", origin: withPrefix, path: "/photos/cat.jpg", want: "cat bytes"},
		{name: "spaces and unicode", origin: withPrefix, path: "a dir/ünï code+%.png", want: "unicode"},
		{name: "no prefix", origin: noPrefix, path: "root.gif", want: "at the root"},
		{name: "exactly at the cap", origin: withPrefix, path: "exact.png", want: string(bytes.Repeat([]byte("x"), 100))},
		{name: "not found", origin: withPrefix, path: "photos/dog.jpg", wantErr: imageopto.ErrNotFound},
		{name: "prefix not escaped", origin: withPrefix, path: "../root.gif", wantErr: imageopto.ErrBadPath},
		{name: "empty element", origin: withPrefix, path: "photos//cat.jpg", wantErr: imageopto.ErrBadPath},
		{name: "over the cap", origin: withPrefix, path: "big.png", wantErr: imageopto.ErrSourceTooLarge},
		{name: "missing bucket is a failing origin", origin: noBucket, path: "root.gif", wantErr: imageopto.ErrOriginFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := tt.origin.Fetch(context.Background(), imageopto.FetchRequest{Path: tt.path})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, src)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(src.Data))
			assert.NotEmpty(t, src.ETag)
			assert.WithinDuration(t, time.Now(), src.LastModified, time.Minute)
			assert.False(t, src.NotModified)
			assert.True(t, src.Expires.IsZero(), "no Cache-Control: no freshness")
		})
	}
}

func TestOriginConditional(t *testing.T) {
	t.Parallel()
	stripConditions := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("If-None-Match")
			r.Header.Del("If-Modified-Since")
			next.ServeHTTP(w, r)
		})
	}
	for _, store := range []struct {
		name       string
		wrap       func(http.Handler) http.Handler
		wantStatus string // of the conditional GETs that match
	}{
		{name: "store answers 304", wantStatus: "GET Not Modified"},
		{name: "store ignores conditions", wrap: stripConditions, wantStatus: "GET OK"},
	} {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeS3(t, store.wrap)
			f.put(t, "originals", "cat.jpg", []byte("cat bytes"))
			o, err := NewOrigin(f.client, "originals", "", nil)
			require.NoError(t, err)
			first, err := o.Fetch(context.Background(), imageopto.FetchRequest{Path: "cat.jpg"})
			require.NoError(t, err)
			require.NotEmpty(t, first.ETag)
			require.False(t, first.LastModified.IsZero())
			f.served()

			tests := []struct {
				name   string
				req    imageopto.FetchRequest
				notMod bool
			}{
				{name: "same ETag", req: imageopto.FetchRequest{IfNoneMatch: first.ETag}, notMod: true},
				{name: "other ETag", req: imageopto.FetchRequest{IfNoneMatch: `"other"`}},
				{name: "ETag wins over date", req: imageopto.FetchRequest{IfNoneMatch: `"other"`, IfModifiedSince: first.LastModified}},
				{name: "not modified since", req: imageopto.FetchRequest{IfModifiedSince: first.LastModified}, notMod: true},
				{name: "modified since", req: imageopto.FetchRequest{IfModifiedSince: first.LastModified.Add(-time.Hour)}},
			}
			for _, tt := range tests {
				tt.req.Path = "cat.jpg"
				src, err := o.Fetch(context.Background(), tt.req)
				require.NoError(t, err, tt.name)
				served := f.served()
				require.Len(t, served, 1, tt.name)
				if !tt.notMod {
					assert.False(t, src.NotModified, tt.name)
					assert.Equal(t, "cat bytes", string(src.Data), tt.name)
					assert.Equal(t, "GET OK", served[0], tt.name)
					continue
				}
				assert.True(t, src.NotModified, tt.name)
				assert.Nil(t, src.Data, tt.name)
				assert.Equal(t, first.ETag, src.ETag, tt.name)
				assert.Equal(t, store.wantStatus, served[0], tt.name)
			}
		})
	}
}

func TestOriginScriptedAnswers(t *testing.T) {
	t.Parallel()
	lastMod := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	ok := func(extra map[string]string, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("ETag", `"abc"`)
			h.Set("Last-Modified", lastMod.Format(http.TimeFormat))
			h.Set("Content-Length", strconv.Itoa(len(body)))
			for k, v := range extra {
				h.Set(k, v)
			}
			_, _ = w.Write([]byte(body))
		}
	}
	tests := []struct {
		name    string
		handle  http.HandlerFunc
		req     imageopto.FetchRequest
		wantErr []error
		check   func(t *testing.T, src *imageopto.Source)
	}{
		{
			name:   "max-age",
			handle: ok(map[string]string{"Cache-Control": "public, max-age=60"}, "img"),
			check: func(t *testing.T, src *imageopto.Source) {
				assert.WithinDuration(t, time.Now().Add(time.Minute), src.Expires, 5*time.Second)
				assert.False(t, src.NoStore)
				assert.Equal(t, `"abc"`, src.ETag)
				assert.Equal(t, lastMod, src.LastModified)
				assert.Equal(t, "img", string(src.Data))
			},
		},
		{
			name:   "s-maxage wins over max-age",
			handle: ok(map[string]string{"Cache-Control": "max-age=60, s-maxage=3600"}, "img"),
			check: func(t *testing.T, src *imageopto.Source) {
				assert.WithinDuration(t, time.Now().Add(time.Hour), src.Expires, 5*time.Second)
			},
		},
		{
			name:   "Expires",
			handle: ok(map[string]string{"Expires": "Wed, 01 Jan 2031 00:00:00 GMT"}, "img"),
			check: func(t *testing.T, src *imageopto.Source) {
				assert.Equal(t, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), src.Expires.UTC())
			},
		},
		{
			name:   "no-store",
			handle: ok(map[string]string{"Cache-Control": "no-store"}, "img"),
			check:  func(t *testing.T, src *imageopto.Source) { assert.True(t, src.NoStore) },
		},
		{
			name:   "no-cache is stale at once",
			handle: ok(map[string]string{"Cache-Control": "no-cache, max-age=600"}, "img"),
			check: func(t *testing.T, src *imageopto.Source) {
				assert.WithinDuration(t, time.Now(), src.Expires, 5*time.Second)
			},
		},
		{
			name:    "gzip refused",
			handle:  ok(map[string]string{"Content-Encoding": "gzip"}, "img"),
			wantErr: []error{imageopto.ErrOriginFailed},
		},
		{
			name: "over the cap without Content-Length",
			handle: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", `"abc"`)
				w.WriteHeader(http.StatusOK)
				for range 4 {
					_, _ = w.Write(bytes.Repeat([]byte("x"), 40))
					w.(http.Flusher).Flush() // chunked: no length known ahead
				}
			},
			wantErr: []error{imageopto.ErrSourceTooLarge},
		},
		{
			name: "body shorter than Content-Length",
			handle: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "50")
				_, _ = w.Write([]byte("short"))
			},
			wantErr: []error{imageopto.ErrOriginFailed},
		},
		{
			name:    "403 access denied is a failing origin, not forbidden",
			handle:  func(w http.ResponseWriter, r *http.Request) { s3Error(w, 403, "AccessDenied") },
			wantErr: []error{imageopto.ErrOriginFailed},
		},
		{
			name:    "404 NoSuchKey",
			handle:  func(w http.ResponseWriter, r *http.Request) { s3Error(w, 404, "NoSuchKey") },
			wantErr: []error{imageopto.ErrNotFound},
		},
		{
			name:    "404 NoSuchBucket",
			handle:  func(w http.ResponseWriter, r *http.Request) { s3Error(w, 404, "NoSuchBucket") },
			wantErr: []error{imageopto.ErrOriginFailed},
		},
		{
			name:    "500",
			handle:  func(w http.ResponseWriter, r *http.Request) { s3Error(w, 500, "InternalError") },
			wantErr: []error{imageopto.ErrOriginFailed},
		},
		{
			name:    "503 SlowDown",
			handle:  func(w http.ResponseWriter, r *http.Request) { s3Error(w, 503, "SlowDown") },
			wantErr: []error{imageopto.ErrOriginFailed},
		},
		{
			name:    "304 to an unconditional request",
			handle:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) },
			wantErr: []error{imageopto.ErrOriginFailed},
		},
		{
			name: "304 refreshes validators and freshness",
			handle: func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, `"abc"`, r.Header.Get("If-None-Match"))
				assert.Empty(t, r.Header.Get("If-Modified-Since"), "If-None-Match takes precedence")
				w.Header().Set("ETag", `"abc"`)
				w.Header().Set("Last-Modified", lastMod.Format(http.TimeFormat))
				w.Header().Set("Cache-Control", "max-age=120")
				w.WriteHeader(http.StatusNotModified)
			},
			req: imageopto.FetchRequest{IfNoneMatch: `"abc"`, IfModifiedSince: lastMod},
			check: func(t *testing.T, src *imageopto.Source) {
				assert.True(t, src.NotModified)
				assert.Nil(t, src.Data)
				assert.Equal(t, `"abc"`, src.ETag)
				assert.Equal(t, lastMod, src.LastModified)
				assert.WithinDuration(t, time.Now().Add(2*time.Minute), src.Expires, 5*time.Second)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := NewOrigin(scripted(t, tt.handle), "b", "p", &OriginOptions{MaxBytes: 100})
			require.NoError(t, err)
			tt.req.Path = "x.jpg"
			src, err := o.Fetch(context.Background(), tt.req)
			for _, want := range tt.wantErr {
				require.ErrorIs(t, err, want)
			}
			if len(tt.wantErr) > 0 {
				assert.NotErrorIs(t, err, imageopto.ErrForbidden)
				return
			}
			require.NoError(t, err)
			tt.check(t, src)
		})
	}
}

func TestOriginTimeout(t *testing.T) {
	t.Parallel()
	stallHeaders := func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}
	stallBody := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	for _, tt := range []struct {
		name   string
		handle http.HandlerFunc
	}{
		{"no answer", stallHeaders},
		{"body stalls", stallBody},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const timeout = 200 * time.Millisecond
			o, err := NewOrigin(scripted(t, tt.handle), "b", "", &OriginOptions{Timeout: timeout})
			require.NoError(t, err)
			start := time.Now()
			src, err := o.Fetch(context.Background(), imageopto.FetchRequest{Path: "x.jpg"})
			elapsed := time.Since(start)
			t.Logf("%s: %v after %v", tt.name, err, elapsed)
			// The server stalls until the client goes away and the client
			// has no deadline of its own: only the Timeout can end the
			// fetch, so a DeadlineExceeded is its, and not before it.
			assert.Nil(t, src)
			require.ErrorIs(t, err, imageopto.ErrOriginFailed)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.GreaterOrEqual(t, elapsed, timeout)
		})
	}

	t.Run("caller cancels", func(t *testing.T) {
		t.Parallel()
		o, err := NewOrigin(scripted(t, stallHeaders), "b", "", &OriginOptions{Timeout: time.Minute})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err = o.Fetch(ctx, imageopto.FetchRequest{Path: "x.jpg"})
		require.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, imageopto.ErrOriginFailed)
	})
}

func TestFreshness(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		cc, expires string
		want        time.Time
		noStore     bool
	}{
		{"", "", time.Time{}, false},
		{"max-age=10", "", now.Add(10 * time.Second), false},
		{`max-age="10"`, "", now.Add(10 * time.Second), false},
		{"MAX-AGE=10, private", "", now.Add(10 * time.Second), true},
		{"max-age=-5", "", time.Time{}, false},
		{"max-age=abc", "Thu, 01 Jan 2026 00:00:00 GMT", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"", "not a date", now, false},
		{"no-cache", "", now, false},
		{"max-age=10", "Thu, 01 Jan 2026 00:00:00 GMT", now.Add(10 * time.Second), false},
	}
	for _, tt := range tests {
		got, noStore := freshness(tt.cc, tt.expires, now)
		assert.True(t, tt.want.Equal(got), "%q %q: got %v want %v", tt.cc, tt.expires, got, tt.want)
		assert.Equal(t, tt.noStore, noStore, "%q", tt.cc)
	}
}

// TestOriginStatusCodes checks how the handler will answer for each error.
func TestOriginStatusCodes(t *testing.T) {
	t.Parallel()
	o := &Origin{bucket: "b", timeout: time.Second}
	bg := context.Background()
	expired, cancel := context.WithTimeout(bg, -1)
	defer cancel()
	assert.Equal(t, http.StatusBadGateway, imageopto.StatusCode(o.fetchError(bg, expired, "p", "k", errors.New("x"))))
	assert.Equal(t, http.StatusBadGateway, imageopto.StatusCode(o.fetchError(bg, bg, "p", "k", errors.New("x"))))
}
