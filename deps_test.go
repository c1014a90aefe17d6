package imageopto

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRootImports keeps the root package light (docs/architecture.md): besides the
// standard library and this module's own packages, it may only depend on
// golang.org/x/... (today x/image and x/sync).
func TestRootImports(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := []string{"github.com/imageopto/imageopto/", "golang.org/x/"}
	for _, dep := range strings.Fields(string(out)) {
		ok := false
		for _, a := range allowed {
			if dep == strings.TrimSuffix(a, "/") || strings.HasPrefix(dep, a) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("root package depends on %s", dep)
		}
	}
}
