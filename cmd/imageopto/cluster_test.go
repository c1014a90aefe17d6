package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain runs the server command itself when the test binary is started
// as a child with IMAGEOPTO_SERVER_ARGS (a JSON list of arguments): the
// cluster test needs one process per server, because groupcache's registry
// is process-wide.
func TestMain(m *testing.M) {
	if args := os.Getenv("IMAGEOPTO_SERVER_ARGS"); args != "" {
		var list []string
		if err := json.Unmarshal([]byte(args), &list); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := installPeerRoutes(os.Getenv("IMAGEOPTO_TEST_PEER_ROUTES")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := run(ctx, list, io.Discard, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// portsGiven are the ports freePort handed out in this test binary.
var portsGiven sync.Map

// freePort returns a loopback address whose port was free a moment ago,
// for a child server to listen on. The port is below Linux's ephemeral
// range (32768 and up), from which the kernel picks the local ports of
// outgoing connections and of listeners on port 0: another test's client
// cannot take it before the child binds it. It is never handed out twice
// in one test binary.
func freePort(t *testing.T) string {
	t.Helper()
	for range 200 {
		port := 20000 + rand.IntN(12000)
		if _, taken := portsGiven.LoadOrStore(port, true); taken {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		return addr
	}
	t.Fatal("no free loopback port between 20000 and 32000")
	return ""
}

// startServer runs the command with args in a child process and waits
// until it answers on addr.
func startServer(t *testing.T, addr string, args ...string) *exec.Cmd {
	t.Helper()
	return startServerEnv(t, addr, nil, args...)
}

// startServerEnv is startServer with more environment variables.
func startServerEnv(t *testing.T, addr string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	b, err := json.Marshal(append([]string{"-addr", addr}, args...))
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...), "IMAGEOPTO_SERVER_ARGS="+string(b))
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 20*time.Second, 20*time.Millisecond, "server on %s did not start", addr)
	return cmd
}

type serverStats struct {
	Handler struct{ Transforms int64 }
	Cluster struct{ Members, Healthy int }
}

func statsOf(t *testing.T, addr, secret string) serverStats {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/_imageopto/stats", nil)
	require.NoError(t, err)
	req.Header.Set("Imageopto-Peer-Secret", secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s serverStats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

// TestThreeServers starts three server processes on loopback with -peers
// and a counting origin: 300 concurrent requests for one new key, spread
// over all three, cause exactly one origin fetch and one transform
// cluster-wide, and all 300 bodies are byte-identical.
func TestThreeServers(t *testing.T) {
	needFeature(t, "cluster")
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	t.Run("peers on the public listener", func(t *testing.T) { threeServers(t, false) })
	t.Run("peers on -peer-addr", func(t *testing.T) { threeServers(t, true) })
}

func threeServers(t *testing.T, private bool) {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var jpg bytes.Buffer
	require.NoError(t, jpeg.Encode(&jpg, img, nil))
	var fetches atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		time.Sleep(50 * time.Millisecond) // so that the requests overlap
		if r.URL.Path != "/cat.jpg" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(jpg.Bytes())
	}))
	defer origin.Close()

	const secret = "a-test-secret-of-32-bytes-length"
	addrs := []string{freePort(t), freePort(t), freePort(t)}
	peerAddrs := addrs
	if private {
		peerAddrs = []string{freePort(t), freePort(t), freePort(t)}
	}
	var peers []string
	for _, a := range peerAddrs {
		peers = append(peers, "http://"+a)
	}
	for i, a := range addrs {
		args := []string{"-origin", origin.URL, "-peers", strings.Join(peers, ","), "-peer-secret", secret}
		if private {
			args = append(args, "-peer-addr", peerAddrs[i])
		}
		startServer(t, a, args...)
	}
	require.Eventually(t, func() bool {
		for _, a := range peerAddrs {
			if statsOf(t, a, secret).Cluster.Healthy != 3 {
				return false
			}
		}
		return true
	}, 10*time.Second, 50*time.Millisecond)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	defer client.CloseIdleConnections()
	const requests = 300
	bodies := make([][]byte, requests)
	codes := make([]int, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			resp, err := client.Get("http://" + addrs[i%3] + "/cat.jpg?width=120&format=jpg")
			if err != nil {
				bodies[i] = []byte(err.Error())
				return
			}
			defer resp.Body.Close()
			codes[i] = resp.StatusCode
			bodies[i], _ = io.ReadAll(resp.Body)
		})
	}
	wg.Wait()
	for i := range requests {
		require.Equal(t, http.StatusOK, codes[i], string(bodies[i]))
		require.True(t, bytes.Equal(bodies[0], bodies[i]), "body %d differs", i)
	}
	var transforms int64
	for _, a := range peerAddrs {
		transforms += statsOf(t, a, secret).Handler.Transforms
	}
	t.Logf("300 requests over 3 server processes: %d origin fetch(es), %d transform(s)", fetches.Load(), transforms)
	assert.EqualValues(t, 1, fetches.Load(), "origin fetches cluster-wide")
	assert.EqualValues(t, 1, transforms, "transforms cluster-wide")

	// The peer endpoints refuse requests without the secret; with
	// -peer-addr they are not on the public listener at all.
	resp, err := http.Get("http://" + peerAddrs[0] + "/_imageopto/peer/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	if private {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addrs[0]+"/_imageopto/peer/health", nil)
		req.Header.Set("Imageopto-Peer-Secret", secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.NotEqual(t, http.StatusOK, resp.StatusCode, "no peer handler on the public listener")
	}
}

func TestBackendFlagErrors(t *testing.T) {
	t.Setenv("IMAGEOPTO_PEER_SECRET", "")
	for _, tc := range []struct {
		args []string
		want string
		tag  string // in a build without it, the error names the tag instead
	}{
		{[]string{"-peers", "http://127.0.0.1:1"}, "-peer-secret", "cluster"},
		{[]string{"-peers", "http://127.0.0.1:1", "-peer-secret", "short"}, "at least 16 bytes", "cluster"},
		{[]string{"-self", "http://127.0.0.1:1"}, "needs -peers", ""},
		{[]string{"-peer-secret", "short"}, "at least 16 bytes", ""},
		{[]string{"-peers", "http://127.0.0.1:1", "-peer-secret", "0123456789abcdef", "-peer-secret", "short"}, "at least 16 bytes", "cluster"},
		{[]string{"-peer-addr", "127.0.0.1:0"}, "need -peers or -peer-secret", ""},
		{[]string{"-peer-secret", "0123456789abcdef", "-peer-tls-cert", "c.pem"}, "go together", ""},
		{[]string{"-peer-secret", "0123456789abcdef", "-peer-tls-cert", "c.pem", "-peer-tls-key", "k.pem", "-peer-tls-ca", "ca.pem"}, "need -peer-addr", ""},
		{[]string{"-addr", "127.0.0.1:0", "-peer-secret", "0123456789abcdef", "-peer-addr", "127.0.0.1:0",
			"-peer-tls-cert", "/nonexistent/c.pem", "-peer-tls-key", "/nonexistent/k.pem", "-peer-tls-ca", "/nonexistent/ca.pem"}, "-peer-tls-cert", ""},
		{[]string{"-s3", "bucket/prefix", "-dir", "."}, "mutually exclusive", "s3"},
		{[]string{"-disk-cache-size", "0"}, "-disk-cache-size", ""},
		{[]string{"-s3-endpoint", "http://127.0.0.1:9000"}, "needs -s3", ""},
		{[]string{"-addr", ":0", "-peers", "http://127.0.0.1:1", "-peer-secret", "0123456789abcdef"}, "needs -self", "cluster"},
		{[]string{"-addr", "127.0.0.1:0", "-peers", "dns:", "-peer-secret", "0123456789abcdef", "-self", "http://127.0.0.1:1"}, "dns:NAME", "cluster"},
		{[]string{"-addr", "127.0.0.1:0", "-redis", "mysql://x"}, "-redis", "redis"},
		{[]string{"-addr", "127.0.0.1:0", "-disk-cache", "/proc/nonexistent/x"}, "-disk-cache", ""},
	} {
		if tc.tag != "" && notBuiltTag(tc.tag) {
			tc.want = "build with -tags " + tc.tag
		}
		err := run(context.Background(), tc.args, io.Discard, nil)
		require.Error(t, err, "%q", tc.args)
		assert.Contains(t, err.Error(), tc.want, "%q", tc.args)
	}
}

// TestDiskCacheSurvivesRestart: with -disk-cache, a result made before a
// restart is served after it although the origin is gone.
func TestDiskCacheSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	var jpg bytes.Buffer
	require.NoError(t, jpeg.Encode(&jpg, img, nil))
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(jpg.Bytes())
	}))
	serve := func() (string, context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-origin", origin.URL, "-disk-cache", dir, "-disk-cache-size", "16MiB"},
				io.Discard, func(a string) { ready <- a })
		}()
		select {
		case a := <-ready:
			return a, cancel, done
		case err := <-done:
			t.Fatal(err)
		}
		return "", cancel, done
	}
	addr, stop, done := serve()
	resp, err := http.Get("http://" + addr + "/x.jpg?width=32")
	require.NoError(t, err)
	first, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(first))
	stop()
	require.NoError(t, <-done)

	origin.Close() // the origin is gone: only the disk can answer
	addr, stop, done = serve()
	defer func() { stop(); <-done }()
	resp, err = http.Get("http://" + addr + "/x.jpg?width=32")
	require.NoError(t, err)
	again, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(again))
	assert.Equal(t, first, again)
}

// TestS3Flags: -s3 serves originals from a bucket and -s3-cache keeps
// results there (gofakes3 in process stands for S3).
func TestS3Flags(t *testing.T) {
	needFeature(t, "s3")
	backend := s3mem.New()
	require.NoError(t, backend.CreateBucket("photos"))
	require.NoError(t, backend.CreateBucket("derived"))
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	var jpg bytes.Buffer
	require.NoError(t, jpeg.Encode(&jpg, img, nil))
	_, err := backend.PutObject("photos", "originals/cat.jpg", map[string]string{"Content-Type": "image/jpeg"},
		bytes.NewReader(jpg.Bytes()), int64(jpg.Len()), nil)
	require.NoError(t, err)
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer s3srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-s3", "photos/originals", "-s3-cache", "derived/v1",
			"-s3-endpoint", s3srv.URL}, io.Discard, func(a string) { ready <- a })
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/cat.jpg?width=32")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	resp, err = http.Get("http://" + addr + "/dog.jpg?width=32")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	cancel()
	require.NoError(t, <-done) // shutting down drains the S3 write queue
	list, err := backend.ListBucket("derived", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	assert.NotEmpty(t, list.Contents, "the result was kept in the bucket")
}
