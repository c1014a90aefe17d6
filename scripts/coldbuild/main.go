// Command coldbuild measures what a newcomer's first "go run ./cmd/imageopto"
// costs: a build of the server with an empty build cache and a warm module
// cache, beside the same for a plain net/http file server (written to a
// temporary module), which is the floor any Go web server pays for the
// standard library.
//
// Each build gets a fresh GOCACHE in a temporary directory; its CPU time
// (user + system) is the go command's rusage, which includes the compiler
// and linker processes it waited for. The builds run alternately, the
// starting one rotating from run to run, so that a busy neighbour on a
// shared machine weighs on each alike; the summary gives medians and each
// server build's ratio to the plain server's.
//
//	go run ./scripts/coldbuild                          # the default build against the plain server, 3 runs
//	go run ./scripts/coldbuild -runs 5 -tags '' -tags full   # the default and the full build
//
// Run it from the repository root. The module cache must hold every
// dependency (go mod download); GOPROXY is off during the builds, so
// nothing is fetched while timed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// plainServer is the baseline: a static file server on net/http.
const plainServer = `package main

import (
	"log"
	"net/http"
)

func main() {
	log.Fatal(http.ListenAndServe("localhost:8080", http.FileServer(http.Dir("."))))
}
`

// tagList is the repeatable -tags flag: one server build per occurrence.
type tagList []string

func (t *tagList) String() string     { return strings.Join(*t, " | ") }
func (t *tagList) Set(s string) error { *t = append(*t, s); return nil }

// build is one thing to build cold.
type build struct {
	name string
	dir  string   // where go build runs
	args []string // after "go build -o BIN"
}

// sample is one measured build.
type sample struct{ cpu, wall time.Duration }

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "coldbuild:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("coldbuild", flag.ContinueOnError)
	runs := fs.Int("runs", 3, "cold builds of each")
	pkg := fs.String("pkg", "./cmd/imageopto", "the server `PACKAGE` to build")
	var tags tagList
	fs.Var(&tags, "tags", "build the server with these `TAGS` (comma-separated); repeat for several builds (default: one build without tags)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	if len(tags) == 0 {
		tags = tagList{""}
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "coldbuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	plainDir := filepath.Join(tmp, "plain")
	if err := os.MkdirAll(plainDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(plainDir, "go.mod"), []byte("module plainserver\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(plainDir, "main.go"), []byte(plainServer), 0o644); err != nil {
		return err
	}

	builds := []build{{name: "plain net/http", dir: plainDir, args: []string{"."}}}
	for _, t := range tags {
		name := "imageopto"
		if t != "" {
			name += " -tags " + t
		}
		builds = append(builds, build{name: name, dir: root, args: []string{"-tags", t, *pkg}})
		// Fetch anything missing now, untimed (with the usual caches).
		list := exec.Command("go", "list", "-deps", "-tags", t, *pkg)
		list.Dir, list.Stderr = root, os.Stderr
		if err := list.Run(); err != nil {
			return fmt.Errorf("go list -tags %q %s: %w", t, *pkg, err)
		}
	}

	fmt.Fprintf(out, "%s, %d runs each, GOFLAGS=%q\n", goVersion(), *runs, os.Getenv("GOFLAGS"))
	samples := make([][]sample, len(builds))
	for r := range *runs {
		for i := range builds {
			k := (i + r) % len(builds) // rotate the order from run to run
			s, err := coldBuild(builds[k], tmp)
			if err != nil {
				return fmt.Errorf("%s: %w", builds[k].name, err)
			}
			samples[k] = append(samples[k], s)
			fmt.Fprintf(out, "run %d  %-36s cpu %6.1fs  wall %6.1fs\n", r+1, builds[k].name, s.cpu.Seconds(), s.wall.Seconds())
		}
	}

	fmt.Fprintln(out, "medians:")
	base := median(samples[0], func(s sample) time.Duration { return s.cpu })
	for i, b := range builds {
		cpu := median(samples[i], func(s sample) time.Duration { return s.cpu })
		wall := median(samples[i], func(s sample) time.Duration { return s.wall })
		fmt.Fprintf(out, "  %-36s cpu %6.1fs  wall %6.1fs  cpu %.2fx plain\n", b.name, cpu.Seconds(), wall.Seconds(), float64(cpu)/float64(base))
	}
	return nil
}

// coldBuild builds b with an empty build cache of its own.
func coldBuild(b build, tmp string) (sample, error) {
	cache, err := os.MkdirTemp(tmp, "gocache-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(cache)
	bin := filepath.Join(tmp, "bin")
	defer os.Remove(bin)
	cmd := exec.Command("go", append([]string{"build", "-o", bin}, b.args...)...)
	cmd.Dir = b.dir
	cmd.Env = append(os.Environ(), "GOCACHE="+cache, "GOPROXY=off", "GOTOOLCHAIN=local")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return sample{}, err
	}
	wall := time.Since(start)
	// The rusage of a waited-for process includes its own waited-for
	// children: here the compiler and linker runs.
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return sample{cpu: cpu, wall: wall}, nil
}

func median(s []sample, f func(sample) time.Duration) time.Duration {
	v := make([]time.Duration, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func goVersion() string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "go (version unknown)"
	}
	return strings.TrimSpace(string(out))
}
