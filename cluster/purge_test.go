package cluster

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
)

func (n *node) purge(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get(n.url() + "/_test/purge?path=" + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestClusterPurge: three member processes. A purge on one reaches the
// others, and the next request anywhere brings the new original, fetched
// once cluster-wide. A member that is stopped (SIGSTOP) while another
// purges misses the purge; continued, it catches up from the others' purge
// logs within a few probe intervals, and drops what it had.
func TestClusterPurge(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three member processes")
	}
	o, srv := newOrigin(t, 2)
	nodes := startNodes(t, 3, srv.URL)
	c := newClient(nodes)
	defer c.http.CloseIdleConnections()
	body := func(n *node, path string) []byte {
		t.Helper()
		code, b, err := c.get(n, path)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, string(b))
		return b
	}
	sizes := []string{"/img0.jpg?width=100", "/img0.jpg?width=60&format=png"}
	before := map[string][]byte{}
	for _, u := range sizes {
		before[u] = body(nodes[0], u)
		for _, n := range nodes {
			require.Equal(t, before[u], body(n, u))
		}
	}
	require.Equal(t, 1, o.count("/img0.jpg"))

	o.set("/img0.jpg", testJPEG(t, 99, 320, 240))
	require.Equal(t, http.StatusOK, nodes[1].purge(t, "img0.jpg"), "every member reached")
	after := map[string][]byte{}
	for _, u := range sizes {
		after[u] = body(nodes[2], u)
		require.NotEqual(t, before[u], after[u], "%s: made from the new original", u)
		for _, n := range nodes {
			require.Equal(t, after[u], body(n, u), u)
		}
	}
	assert.Equal(t, 2, o.count("/img0.jpg"), "one fetch cluster-wide after the purge")

	// The partition that heals: node 2 is stopped, node 0 purges.
	o.set("/img0.jpg", testJPEG(t, 7, 320, 240))
	hung := nodes[2]
	require.NoError(t, hung.cmd.Process.Signal(syscall.SIGSTOP))
	require.Eventually(t, func() bool { return nodes[0].stats(t).Cluster.Healthy == 2 }, 30*time.Second, 50*time.Millisecond)
	assert.Equal(t, http.StatusAccepted, nodes[0].purge(t, "img0.jpg"), "a member was not reached")
	third := body(nodes[0], sizes[0])
	require.NotEqual(t, after[sizes[0]], third)
	require.NoError(t, hung.cmd.Process.Signal(syscall.SIGCONT))
	start := time.Now()
	require.Eventually(t, func() bool {
		return hung.stats(t).Cluster.PurgeDigest == nodes[0].stats(t).Cluster.PurgeDigest
	}, 30*time.Second, 20*time.Millisecond, "the continued member catches up")
	t.Logf("the member stopped during the purge caught up %v after it was continued", time.Since(start))
	assert.Positive(t, hung.stats(t).Cluster.PurgeSyncs)
	assert.Equal(t, third, body(hung, sizes[0]), "and no longer serves what it had")
}

// TestPurgeEndpoints: the peer handler's purge and purge-log endpoints.
func TestPurgeEndpoints(t *testing.T) {
	c := testCluster(t, "http://127.0.0.1:1", "http://127.0.0.1:1")
	h, err := imageopto.New(imageopto.OriginFunc(func(context.Context, imageopto.FetchRequest) (*imageopto.Source, error) {
		return nil, imageopto.ErrNotFound
	}), &imageopto.Options{DisableCache: true})
	require.NoError(t, err)
	c.StartPurges(h.Purges())
	serve := func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/_imageopto/peer/"+path, strings.NewReader(body))
		r.Header.Set(headerSecret, testSecret)
		w := httptest.NewRecorder()
		c.Handler().ServeHTTP(w, r)
		return w
	}
	now := time.Now().UnixNano()
	for _, tc := range []struct {
		method, path, body string
		code               int
	}{
		{http.MethodGet, "purge", "", http.StatusMethodNotAllowed},
		{http.MethodPost, "purges", "", http.StatusMethodNotAllowed},
		{http.MethodPost, "purge", "not json", http.StatusBadRequest},
		{http.MethodPost, "purge", `[{"p":"a.jpg","h":` + itoa(now) + `}]`, http.StatusOK},
		{http.MethodPost, "purge", `[{"p":"a.jpg","h":` + itoa(now) + `}]`, http.StatusOK}, // again: no change
		{http.MethodGet, "purges", "", http.StatusOK},
	} {
		w := serve(tc.method, tc.path, tc.body)
		assert.Equal(t, tc.code, w.Code, "%+v: %s", tc, w.Body)
	}
	assert.Equal(t, 1, h.Purges().Len())
	assert.Contains(t, serve(http.MethodGet, "purges", "").Body.String(), `"p":"a.jpg"`)
	health := serve(http.MethodGet, "health", "").Body.String()
	assert.Equal(t, c.id+"\n"+h.Purges().Digest(), health)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestSecretRotation(t *testing.T) {
	const old, next = "the-old-secret-0123", "the-new-secret-4567"
	o, err := withDefaults(Options{Self: "http://127.0.0.1:1", Peers: Static{}, Secret: next, AcceptSecrets: []string{old}})
	require.NoError(t, err)
	secrets := hashSecrets(o)
	for _, tc := range []struct {
		secret string
		ok     bool
	}{{next, true}, {old, true}, {"another-secret-890", false}, {"", false}, {next + "x", false}} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set(headerSecret, tc.secret)
		assert.Equal(t, tc.ok, Authorized(r, secrets), tc.secret)
	}
	_, err = withDefaults(Options{Self: "http://127.0.0.1:1", Peers: Static{}, Secret: next, AcceptSecrets: []string{"short"}})
	assert.ErrorContains(t, err, "AcceptSecrets")
}

// trickle sends some bytes, then nothing until closed.
type trickle struct {
	sent   bool
	closed chan struct{}
}

func (r *trickle) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "partial"), nil
	}
	<-r.closed
	return 0, errors.New("closed")
}

func TestReadWatched(t *testing.T) {
	v, err := readWatched(bytes.NewReader([]byte("whole value")), 100, time.Second, func() {})
	require.NoError(t, err)
	assert.Equal(t, "whole value", string(v))
	r := &trickle{closed: make(chan struct{})}
	start := time.Now()
	_, err = readWatched(r, 100, 50*time.Millisecond, func() { close(r.closed) })
	assert.ErrorIs(t, err, errStalled)
	assert.Less(t, time.Since(start), 10*time.Second)
}

// TestClusterSpellings: two paths serving the same bytes share one result
// across member processes: the path rides beside the content key to the
// owner, which fetches through it.
func TestClusterSpellings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three member processes")
	}
	o, srv := newOrigin(t, 1)
	o.set("/alias/same.jpg", o.files["/img0.jpg"])
	nodes := startNodes(t, 3, srv.URL)
	c := newClient(nodes)
	defer c.http.CloseIdleConnections()
	var bodies [][]byte
	for i, u := range []string{"/img0.jpg?width=70", "/alias/same.jpg?width=70", "/alias/same.jpg?width=70"} {
		code, b, err := c.get(nodes[i], u)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code, string(b))
		bodies = append(bodies, b)
	}
	assert.Equal(t, bodies[0], bodies[1])
	assert.Equal(t, bodies[0], bodies[2])
	assert.EqualValues(t, 1, transforms(t, nodes), "one transform for both spellings")
	assert.Equal(t, 1, o.count("/alias/same.jpg"), "the alias's record read once")
}
