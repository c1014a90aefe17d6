package s3store

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testEnv is the environment the test clients see: static credentials only.
func testEnv(name string) string {
	switch name {
	case "AWS_ACCESS_KEY_ID":
		return "test-key"
	case "AWS_SECRET_ACCESS_KEY":
		return "test-secret"
	}
	return ""
}

// testClient returns a path-style client for the server at url, with its
// own transport whose idle connections are closed when the test ends.
func testClient(t testing.TB, url string, attempts int) *s3.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := NewClient(&ClientOptions{
		Endpoint:         url,
		PathStyle:        true,
		Getenv:           testEnv,
		HTTPClient:       &http.Client{Transport: tr},
		RetryMaxAttempts: attempts,
	})
	require.NoError(t, err)
	return c
}

// fakeS3 is gofakes3 with the in-memory backend behind httptest on
// loopback, with buckets "originals" and "derived".
type fakeS3 struct {
	srv     *httptest.Server
	backend *s3mem.Backend
	client  *s3.Client
	// requests records "METHOD status" for every request served.
	mu       sync.Mutex
	requests []string
}

// newFakeS3 starts a fake store; wrap, when not nil, wraps gofakes3's
// handler (to stall, count or alter requests).
func newFakeS3(t testing.TB, wrap func(http.Handler) http.Handler) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New()}
	for _, b := range []string{"originals", "derived"} {
		require.NoError(t, f.backend.CreateBucket(b))
	}
	var h http.Handler = gofakes3.New(f.backend).Server()
	if wrap != nil {
		h = wrap(h)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+http.StatusText(rec.status))
		f.mu.Unlock()
	}))
	t.Cleanup(f.srv.Close)
	f.client = testClient(t, f.srv.URL, 1)
	return f
}

// put stores an object through the S3 API.
func (f *fakeS3) put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	_, err := f.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		ContentType: aws.String("application/octet-stream"),
	})
	require.NoError(t, err)
}

// served returns the "METHOD status" log and clears it.
func (f *fakeS3) served() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// gate holds requests of one method until opened; it reports every held
// request on arrived. A held request also ends when its client goes away.
type gate struct {
	method  string
	open    chan struct{}
	once    sync.Once
	arrived chan string
}

func newGate(method string) *gate {
	return &gate{method: method, open: make(chan struct{}), arrived: make(chan string, 100)}
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == g.method {
			g.arrived <- r.URL.Path
			select {
			case <-g.open:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// waitArrived waits for n held requests, for a generous while: it costs
// that long only when a request does not come.
func (g *gate) waitArrived(t testing.TB, n int) {
	t.Helper()
	for range n {
		select {
		case <-g.arrived:
		case <-time.After(30 * time.Second):
			t.Fatal("request did not arrive")
		}
	}
}

// scripted is a server that answers every request with handle, for the
// answers gofakes3 cannot give (403, 5xx, Cache-Control, lying lengths).
func scripted(t testing.TB, handle http.HandlerFunc) *s3.Client {
	t.Helper()
	srv := httptest.NewServer(handle)
	t.Cleanup(srv.Close)
	return testClient(t, srv.URL, 1)
}

// s3Error writes an S3 error document.
func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>scripted</Message><RequestId>1</RequestId></Error>`))
}
