package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// knownVariables are the variables -h lists, one per flag.
func knownVariables(t *testing.T) map[string]bool {
	t.Helper()
	var out syncBuffer
	_, _ = parseFlags([]string{"-h"}, &out)
	known := map[string]bool{"IMAGEOPTO_SIGN_KEYS": true}
	for _, m := range regexp.MustCompile(`\[\$(IMAGEOPTO_\w+)\]`).FindAllStringSubmatch(out.String(), -1) {
		known[m[1]] = true
	}
	require.Greater(t, len(known), 30)
	return known
}

// dockerfileEnv reads the ENV instructions of a Dockerfile (KEY=VALUE
// pairs, continued lines joined).
func dockerfileEnv(t *testing.T, text string) map[string]string {
	t.Helper()
	env := map[string]string{}
	joined := strings.ReplaceAll(text, "\\\n", " ")
	for line := range strings.Lines(joined) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "ENV" {
			continue
		}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			require.True(t, ok, "ENV %q: want KEY=VALUE", kv)
			env[k] = v
		}
	}
	return env
}

// manifestEnv reads the container env of a Kubernetes manifest: literal
// values (with $(POD_IP) expanded to an example address), and variables
// from Secrets, given a placeholder long enough to be a secret.
func manifestEnv(t *testing.T, text string) map[string]string {
	t.Helper()
	env := map[string]string{}
	lines := strings.Split(text, "\n")
	name := regexp.MustCompile(`^\s*- name: (\S+)\s*$`)
	value := regexp.MustCompile(`^\s*value: "(.*)"\s*$`)
	for i, line := range lines {
		m := name.FindStringSubmatch(line)
		if m == nil || i+1 >= len(lines) {
			continue
		}
		switch next := lines[i+1]; {
		case value.MatchString(next):
			env[m[1]] = strings.ReplaceAll(value.FindStringSubmatch(next)[1], "$(POD_IP)", "10.1.2.3")
		case strings.TrimSpace(next) == "valueFrom:" && i+2 < len(lines) && strings.TrimSpace(lines[i+2]) == "secretKeyRef:":
			env[m[1]] = "a-placeholder-secret-0123456789"
		}
	}
	return env
}

// TestDeploymentFilesAccepted: every IMAGEOPTO_ variable that the
// Dockerfile and the manifests in deploy/ set names a flag, and the
// server's configuration accepts all of them together (as the container
// would see them), and the HEALTHCHECK runs a subcommand that exists.
func TestDeploymentFilesAccepted(t *testing.T) {
	t.Parallel()
	known := knownVariables(t)
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	require.NoError(t, err)
	deployment, err := os.ReadFile(filepath.Join("..", "..", "deploy", "deployment.yaml"))
	require.NoError(t, err)

	image := dockerfileEnv(t, string(dockerfile))
	pod := manifestEnv(t, string(deployment))
	require.NotEmpty(t, image)
	require.Contains(t, pod, "IMAGEOPTO_PEERS")
	for _, set := range []map[string]string{image, pod} {
		for k := range set {
			if strings.HasPrefix(k, envPrefix) {
				assert.True(t, known[k], "%s names no flag", k)
			}
		}
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"image defaults alone", image},
		{"the Deployment over the image", merge(image, pod)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			needFeature(t, "prometheus") // IMAGEOPTO_METRICS_ADDR
			needFeature(t, "cluster")    // IMAGEOPTO_PEERS
			t.Parallel()
			cfg, err := parseConfig(nil, &syncBuffer{}, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			require.NoError(t, err)
			assert.Equal(t, ":8080", cfg.addr)
			assert.Equal(t, ":9090", cfg.metricsAddr)
			assert.Equal(t, "json", cfg.logFormat)
		})
	}

	// HEALTHCHECK and ENTRYPOINT use the binary at /imageopto.
	assert.Contains(t, string(dockerfile), `HEALTHCHECK`)
	assert.Regexp(t, `CMD \["/imageopto", "healthcheck"\]`, string(dockerfile))
	assert.Contains(t, string(dockerfile), `ENTRYPOINT ["/imageopto"]`)
	assert.Contains(t, string(dockerfile), "USER 65532:65532")
	assert.Contains(t, string(dockerfile), "CGO_ENABLED=0")
	assert.Regexp(t, `go build .*-tags [a-z0-9,]*\bfull\b`, string(dockerfile), "the image has every optional part")
	// Probes on the health endpoints.
	assert.Contains(t, string(deployment), "path: /healthz")
	assert.Contains(t, string(deployment), "path: /readyz")
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestHealthcheckCommand: "imageopto healthcheck URL" succeeds against a
// live server and fails against a refused connection or a 503.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	s := start(t)
	dead := freePort(t)
	for _, tc := range []struct {
		url     string
		wantErr bool
	}{
		{s.base + "/healthz", false},
		{s.base + "/nothing-here", true},
		{"http://" + dead + "/healthz", true},
	} {
		var out syncBuffer
		err := run(context.Background(), []string{"healthcheck", tc.url}, &out, nil)
		if tc.wantErr {
			assert.Error(t, err, tc.url)
		} else {
			assert.NoError(t, err, tc.url)
			assert.Equal(t, "ok\n", out.String())
		}
	}
	for addr, want := range map[string]string{":8080": "8080", "0.0.0.0:9000": "9000", "": "8080", "localhost": "8080"} {
		assert.Equal(t, want, healthPort(addr), addr)
	}
}

// finalStage returns the instructions of a Dockerfile's last stage, one a
// line (continuations joined, spaces collapsed, comments dropped), with
// each COPY's sources reduced to their base names: a COPY --from=build
// /out/imageopto /imageopto reads as COPY imageopto /imageopto.
func finalStage(text string) []string {
	var stage []string
	for line := range strings.Lines(strings.ReplaceAll(text, "\\\n", " ")) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "FROM":
			stage = nil
		case "COPY":
			args := f[1:]
			for len(args) > 0 && strings.HasPrefix(args[0], "--") {
				args = args[1:]
			}
			for i := range len(args) - 1 {
				args[i] = filepath.Base(args[i])
			}
			f = append([]string{"COPY"}, args...)
		}
		stage = append(stage, strings.Join(f, " "))
	}
	return stage
}

// TestContainerFilesAgree: deploy/Containerfile.local (the image built from
// a local binary, which TestContainerImage builds and runs) is the
// Dockerfile's final stage, so that testing one tests the other.
func TestContainerFilesAgree(t *testing.T) {
	t.Parallel()
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	require.NoError(t, err)
	local, err := os.ReadFile(filepath.Join("..", "..", "deploy", "Containerfile.local"))
	require.NoError(t, err)
	want := finalStage(string(dockerfile))
	require.Equal(t, "FROM scratch", want[0])
	require.Len(t, want, 8, "FROM, 2 COPY, USER, ENV, EXPOSE, HEALTHCHECK, ENTRYPOINT: %q", want)
	assert.Equal(t, want, finalStage(string(local)))
	assert.Equal(t, []string{"FROM x AS final", "COPY a b"},
		finalStage("FROM y\nRUN z\nFROM x \\\n  AS final\n# c\nCOPY --from=build --chmod=0755 /o/a b\n"))
}
