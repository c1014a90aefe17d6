package cluster

// The multi-node tests start members as child processes of the test binary
// (groupcache's registry is process-wide, so one process is one member).
// TestMain turns a child into a member when IMAGEOPTO_CLUSTER_NODE is set.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/imageopto/imageopto"
)

func TestMain(m *testing.M) {
	if os.Getenv("IMAGEOPTO_CLUSTER_NODE") != "" {
		os.Exit(runNode())
	}
	goleak.VerifyTestMain(m)
}

// filePeers reads the member list from a file, one URL per line, so the
// parent can tell children about each other after they have picked ports.
type filePeers string

func (f filePeers) Peers(context.Context) ([]string, error) {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}

func (filePeers) Interval() time.Duration { return 100 * time.Millisecond }

// nodeStats is what a member reports on /_test/stats.
type nodeStats struct {
	Transforms int64
	Cluster    Stats
}

// runNode is a member: a handler on a counting origin, with its peer
// handler on the same listener. It exits when its stdin closes.
func runNode() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	self := "http://" + ln.Addr().String()
	c, err := New(Options{
		Self:          self,
		Peers:         filePeers(os.Getenv("IMAGEOPTO_CLUSTER_PEERS")),
		Secret:        testSecret,
		PeerTimeout:   3 * time.Second,
		ProbeInterval: 150 * time.Millisecond,
		ProbeTimeout:  200 * time.Millisecond,
		Logger:        log,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	origin, err := imageopto.NewHTTPOrigin(os.Getenv("IMAGEOPTO_CLUSTER_ORIGIN"), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h, err := imageopto.New(origin, &imageopto.Options{Tier: c, Logger: log, MaxQueue: 1000, QueueTimeout: 20 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle(c.opts.BasePath, c.Handler())
	mux.HandleFunc("/_test/purge", func(w http.ResponseWriter, r *http.Request) {
		purge := h.Purge
		if r.URL.Query().Get("soft") != "" {
			purge = h.SoftPurge
		}
		if err := purge(r.Context(), r.URL.Query().Get("path")); err != nil {
			http.Error(w, err.Error(), http.StatusAccepted)
		}
	})
	mux.HandleFunc("/_test/stats", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(nodeStats{Transforms: h.Transforms(), Cluster: c.Stats()})
	})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Printf("ADDR %s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return 1
}

// node is a running child member.
type node struct {
	cmd   *exec.Cmd
	addr  string
	stdin io.WriteCloser
}

func (n *node) url() string { return "http://" + n.addr }

func (n *node) stats(t *testing.T) nodeStats {
	t.Helper()
	resp, err := http.Get(n.url() + "/_test/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	var s nodeStats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

// startNodes starts n members that know each other, and waits until each
// sees all the others healthy.
func startNodes(t *testing.T, n int, originURL string) []*node {
	t.Helper()
	peersFile := t.TempDir() + "/peers"
	require.NoError(t, os.WriteFile(peersFile, nil, 0o644))
	var nodes []*node
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "IMAGEOPTO_CLUSTER_NODE=1",
			"IMAGEOPTO_CLUSTER_PEERS="+peersFile, "IMAGEOPTO_CLUSTER_ORIGIN="+originURL)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		nd := &node{cmd: cmd, stdin: stdin}
		t.Cleanup(func() {
			_ = nd.cmd.Process.Signal(syscall.SIGCONT)
			_ = nd.stdin.Close()
			done := make(chan struct{})
			go func() { _ = nd.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = nd.cmd.Process.Kill()
				<-done
			}
		})
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err, "child did not start")
		nd.addr = strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))
		nodes = append(nodes, nd)
	}
	var list []string
	for _, nd := range nodes {
		list = append(list, nd.url())
	}
	require.NoError(t, os.WriteFile(peersFile+".tmp", []byte(strings.Join(list, "\n")), 0o644))
	require.NoError(t, os.Rename(peersFile+".tmp", peersFile))
	require.Eventually(t, func() bool {
		for _, nd := range nodes {
			s := nd.stats(t)
			if s.Cluster.Members != n || s.Cluster.Healthy != n {
				return false
			}
		}
		return true
	}, 10*time.Second, 50*time.Millisecond, "members did not find each other")
	return nodes
}

// countingOrigin serves generated JPEGs and counts fetches per path.
type countingOrigin struct {
	mu     sync.Mutex
	counts map[string]int
	files  map[string][]byte
	delay  time.Duration
}

func (o *countingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.counts[r.URL.Path]++
	data, ok := o.files[r.URL.Path]
	o.mu.Unlock()
	if o.delay > 0 {
		time.Sleep(o.delay)
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Header().Set("ETag", fmt.Sprintf(`"%x"`, len(data)))
	_, _ = w.Write(data)
}

func (o *countingOrigin) set(path string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.files[path] = data
}

func (o *countingOrigin) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.counts {
		n += c
	}
	return n
}

func (o *countingOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[path]
}
