//go:build unix

package rediscache

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// redisServer is a redis-server process on 127.0.0.1 that a test owns.
type redisServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	out    *syncBuffer   // the server's log, shown when it fails to start
}

// requireRedisEnv makes a missing redis-server a failure instead of a skip.
const requireRedisEnv = "IMAGEOPTO_REQUIRE_REDIS"

// redisServerBin finds redis-server: $IMAGEOPTO_REDIS_SERVER, then $PATH,
// then /usr/bin/redis-server (where Debian installs it). Without it the
// test is skipped, or fails when IMAGEOPTO_REQUIRE_REDIS=1.
func redisServerBin(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("IMAGEOPTO_REDIS_SERVER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/redis-server"); err == nil {
		return "/usr/bin/redis-server"
	}
	msg := "redis-server not found (install it with `apt-get install redis-server`, or point IMAGEOPTO_REDIS_SERVER at it)"
	if os.Getenv(requireRedisEnv) == "1" {
		t.Fatalf("%s; %s=1 requires it", msg, requireRedisEnv)
	}
	t.Skipf("%s; set %s=1 to make this a failure", msg, requireRedisEnv)
	return ""
}

// startRedis starts a redis-server on a free loopback port, without
// persistence, in a temporary directory, waits until it answers, and stops
// it when the test ends.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	s := &redisServer{t: t, bin: redisServerBin(t), dir: t.TempDir()}
	t.Cleanup(s.stop)
	var err error
	for range 5 { // another process may take the free port before redis does
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.start(); err == nil {
			return s
		}
		t.Logf("redis-server on port %d: %v; trying another port", s.port, err)
	}
	t.Fatalf("starting redis-server: %v", err)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

func (s *redisServer) url() string { return "redis://" + s.addr() + "/0" }

// start runs redis-server on s.port and waits until this very process
// answers (INFO reports its pid), so a stranger on the port is not
// mistaken for it.
func (s *redisServer) start() error {
	s.out = &syncBuffer{}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--logfile", "",
	)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited: %s", s.out.String())
		default:
		}
		err := s.ping(cmd.Process.Pid)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("redis-server did not answer within 10s: %v; log: %s", err, s.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping asks INFO server over a raw connection and checks the pid.
func (s *redisServer) ping(pid int) error {
	conn, err := net.DialTimeout("tcp", s.addr(), 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := io.WriteString(conn, "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"); err != nil {
		return err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "$") {
		return fmt.Errorf("unexpected reply %q", line) // e.g. -LOADING
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil {
		return fmt.Errorf("unexpected reply %q", line)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	if !bytes.Contains(body, []byte("\r\nprocess_id:"+strconv.Itoa(pid)+"\r\n")) {
		return errors.New("another process answers on the port")
	}
	return nil
}

// kill sends SIGKILL and waits until the process is gone.
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// restart starts redis-server again on the same port (empty: it has no
// persistence).
func (s *redisServer) restart() {
	s.t.Helper()
	s.kill()
	var err error
	for range 3 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("restarting redis-server on port %d: %v", s.port, err)
}

// signal sends sig (SIGSTOP, SIGCONT) to the running server.
func (s *redisServer) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v: %v", sig, err)
	}
}

func (s *redisServer) stop() {
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case a test stopped it
	}
	s.kill()
}

// syncBuffer is a bytes.Buffer safe for the process's writers and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
