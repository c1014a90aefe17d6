//go:build linux

package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// caBundle is where Debian keeps the CA certificates the image carries.
const caBundle = "/etc/ssl/certs/ca-certificates.crt"

// TestContainerImage builds the image of deploy/Containerfile.local (the
// Dockerfile's final stage, TestContainerFilesAgree) with buildah from a
// static binary built here, checks what is in it, runs it (buildah's chroot
// isolation, host network, loopback only) with the embedded samples, and
// asks it for /healthz, an image, its HEALTHCHECK command and /metrics.
// It needs root and buildah, and runs only with IMAGEOPTO_CONTAINER_TEST=1
// (.ci/run sets it).
func TestContainerImage(t *testing.T) {
	if os.Getenv("IMAGEOPTO_CONTAINER_TEST") != "1" {
		t.Skip("set IMAGEOPTO_CONTAINER_TEST=1 to build and run the container image with buildah (.ci/run does)")
	}
	buildah, err := exec.LookPath("buildah")
	if err != nil {
		t.Skip("buildah is not installed (apt-get install buildah)")
	}
	if os.Geteuid() != 0 {
		t.Skip("the container test runs buildah as root (rootless buildah needs /etc/subuid ranges)")
	}
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command, to build the static binary")
	// A cold go build on a loaded machine takes minutes. cancel runs after
	// the other cleanups, which use ctx.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)

	// The build context: the static binary and the CA certificates.
	buildDir := t.TempDir()
	binary := filepath.Join(buildDir, "imageopto")
	build := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-tags", "nodynamic,full", "-ldflags=-s -w", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	requireStatic(t, binary)
	certs, err := os.ReadFile(caBundle)
	require.NoError(t, err, "the CA certificates (apt-get install ca-certificates)")
	require.NoError(t, os.WriteFile(filepath.Join(buildDir, "ca-certificates.crt"), certs, 0o644))

	// Storage of its own (vfs: no overlay mounts needed), removed after.
	store := t.TempDir()
	b := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, buildah, append([]string{"--storage-driver", "vfs",
			"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run")}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "buildah %q: %s%s", args, out, &stderr)
		return strings.TrimSpace(string(out))
	}
	tag := "localhost/imageopto-test:" + strconv.Itoa(os.Getpid())
	containerfile, err := filepath.Abs(filepath.Join("..", "..", "deploy", "Containerfile.local"))
	require.NoError(t, err)
	b("bud", "--isolation", "chroot", "--format", "docker", "-f", containerfile, "-t", tag, buildDir)
	t.Cleanup(func() { b("rmi", "-f", tag) })

	// The image's configuration.
	var inspect struct {
		Docker struct {
			Config struct {
				User         string
				Entrypoint   []string
				Env          []string
				ExposedPorts map[string]struct{}
				Healthcheck  struct{ Test []string }
			} `json:"config"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(b("inspect", "--type", "image", tag)), &inspect))
	config := inspect.Docker.Config
	assert.Equal(t, "65532:65532", config.User)
	require.Equal(t, []string{"/imageopto"}, config.Entrypoint)
	assert.Subset(t, config.Env, []string{"IMAGEOPTO_ADDR=:8080", "IMAGEOPTO_METRICS_ADDR=:9090", "IMAGEOPTO_LOG_FORMAT=json"})
	assert.Contains(t, config.ExposedPorts, "8080/tcp")
	require.Equal(t, []string{"CMD", "/imageopto", "healthcheck"}, config.Healthcheck.Test)

	// Its files: the binary and the certificates, nothing else.
	ctr := b("from", "--pull-never", "--name", "imageopto-test-"+strconv.Itoa(os.Getpid()), tag)
	t.Cleanup(func() { b("rm", ctr) })
	rootfs := b("mount", ctr)
	var files []string
	require.NoError(t, filepath.WalkDir(rootfs, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(rootfs, path)
			files = append(files, rel)
		}
		return err
	}))
	assert.ElementsMatch(t, []string{"imageopto", "etc/ssl/certs/ca-certificates.crt"}, files)
	b("umount", ctr)

	// Run the entrypoint with no arguments, as the image would: the
	// embedded samples, configured by the image's environment with the
	// addresses moved to free loopback ports.
	addr, metricsAddr := freePort(t), freePort(t)
	env := []string{"-e", "IMAGEOPTO_ADDR=" + addr, "-e", "IMAGEOPTO_METRICS_ADDR=" + metricsAddr}
	runArgs := append(append([]string{"--storage-driver", "vfs", "--root", filepath.Join(store, "root"),
		"--runroot", filepath.Join(store, "run"), "run", "--isolation", "chroot"}, env...), ctr, "--")
	server := exec.Command(buildah, append(runArgs, config.Entrypoint...)...)
	var log syncBuffer
	server.Stdout, server.Stderr = &log, &log
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, server.Start())
	exited := make(chan struct{})
	go func() { _ = server.Wait(); close(exited) }()
	t.Cleanup(func() { stopGroup(t, server.Process.Pid, exited, addr) })

	base := "http://" + addr
	healthy := func() bool {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for deadline := time.Now().Add(time.Minute); !healthy(); time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("the container exited:\n%s", &log)
		default:
		}
		require.True(t, time.Now().Before(deadline), "no 200 from /healthz within a minute:\n%s", &log)
	}

	resp, body := get(t, base+"/landscape.jpg?width=200&format=webp")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, "image/webp", resp.Header.Get("Content-Type"))
	require.Greater(t, len(body), 12)
	assert.Equal(t, "RIFF", string(body[:4]))
	assert.Equal(t, "WEBP", string(body[8:12]))

	// The server process: the entrypoint, as user 65532, in the image's
	// root directory.
	pid := descendant(t, server.Process.Pid, config.Entrypoint[0])
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	require.NoError(t, err)
	for line := range strings.Lines(string(status)) {
		if k, v, _ := strings.Cut(line, ":"); k == "Uid" || k == "Gid" {
			assert.Equal(t, []string{"65532", "65532", "65532", "65532"}, strings.Fields(v), k)
		}
	}
	root, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/root")
	require.NoError(t, err)
	assert.NotEqual(t, "/", root, "the server runs in the image's root")

	// The HEALTHCHECK command, run in the container as Docker would.
	check := append([]string{"run", "--isolation", "chroot"}, env...)
	assert.Equal(t, "ok", b(append(append(check, ctr, "--"), config.Healthcheck.Test[1:]...)...))

	// The metrics listener counted the image request (health checks are
	// not image requests), and the JSON access log recorded it.
	resp, body = get(t, "http://"+metricsAddr+"/metrics")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `imageopto_requests_total{cache="miss",code="200"} 1`+"\n")
	assert.Contains(t, log.String(), `"msg":"request"`)
	assert.Contains(t, log.String(), `"path":"/landscape.jpg"`)
}

// requireStatic fails unless the ELF file at path is statically linked.
func requireStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s has a program interpreter: not static", path)
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs, "%s needs shared libraries", path)
}

// descendant returns the pid of a process under parent whose argv[0] is
// name, waiting up to a minute for it.
func descendant(t *testing.T, parent int, name string) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		children := map[int][]int{}
		entries, err := os.ReadDir("/proc")
		require.NoError(t, err)
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue // gone
			}
			// pid (comm) state ppid …; comm may hold spaces and parentheses.
			rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
			if f := strings.Fields(rest); len(f) > 1 {
				ppid, _ := strconv.Atoi(f[1])
				children[ppid] = append(children[ppid], pid)
			}
		}
		for queue := children[parent]; len(queue) > 0; queue = queue[1:] {
			pid := queue[0]
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if argv0, _, _ := bytes.Cut(cmdline, []byte{0}); string(argv0) == name {
				return pid
			}
			queue = append(queue, children[pid]...)
		}
		require.True(t, time.Now().Before(deadline), "no process %s under %d", name, parent)
		time.Sleep(50 * time.Millisecond)
	}
}

// stopGroup ends the process group the test started (buildah run and the
// server under it) and waits until the server's port is closed.
func stopGroup(t *testing.T, pgid int, exited <-chan struct{}, addr string) {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Logf("after stopping the container: %v", err)
			}
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Errorf("%s still accepts connections after the container was stopped", addr)
			return
		}
	}
}
