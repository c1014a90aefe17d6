package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needFeature skips t in a build without the optional part tag: .ci/run
// runs this package's tests again with -tags full.
func needFeature(t testing.TB, tag string) {
	t.Helper()
	for _, f := range features {
		if f.tag == tag && !f.built {
			t.Skipf("this build has no %s: build tag %s (go test -tags full runs it)", f.what, tag)
		}
	}
}

// notBuiltTag reports whether this build lacks the optional part tag.
func notBuiltTag(tag string) bool {
	for _, f := range features {
		if f.tag == tag {
			return !f.built
		}
	}
	panic("no optional part " + tag)
}

// TestMissingFeatures: in a build without an optional part, its flags
// still exist (on the command line and in the environment) and fail with a
// message that names the build tag; with it, they are not refused for that
// reason.
func TestMissingFeatures(t *testing.T) {
	t.Setenv("IMAGEOPTO_PEER_SECRET", "")
	cases := []struct {
		tag  string
		args []string
		env  map[string]string
	}{
		{"redis", []string{"-redis", "redis://127.0.0.1:1"}, nil},
		{"redis", nil, map[string]string{"IMAGEOPTO_REDIS": "redis://127.0.0.1:1"}},
		{"s3", []string{"-s3", "bucket/prefix"}, nil},
		{"s3", []string{"-s3-cache", "bucket/prefix"}, nil},
		{"prometheus", []string{"-metrics-addr", "127.0.0.1:0"}, nil},
		{"prometheus", nil, map[string]string{"IMAGEOPTO_METRICS_ADDR": "127.0.0.1:0"}},
		{"cluster", []string{"-peers", "http://127.0.0.1:1", "-self", "http://127.0.0.1:2", "-peer-secret", "0123456789abcdef"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.tag+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			_, err := parseConfig(tc.args, io.Discard, lookup)
			if !notBuiltTag(tc.tag) {
				if err != nil {
					assert.NotContains(t, err.Error(), "this build has no")
				}
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "this build has no")
			assert.Contains(t, err.Error(), "build with -tags "+tc.tag)
			assert.Equal(t, 2, exitCode(err), "a bad command line")
		})
	}
}

// TestHelpNamesBuild: -h says which optional parts this build has and how
// to get the others.
func TestHelpNamesBuild(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"-h"}, &out, nil))
	_, line, ok := strings.Cut(out.String(), "This build has the optional parts: ")
	require.True(t, ok, "-h says which optional parts this build has")
	line, _, _ = strings.Cut(line, "\n")
	with, without, _ := strings.Cut(line, "; without: ")
	for _, f := range features {
		if f.built {
			assert.Contains(t, with, f.tag, "listed as built")
		} else {
			assert.Contains(t, without, f.tag, "listed as missing")
			assert.Regexp(t, `-tags [a-z0-9,]*\b`+f.tag+`\b`, without, "the tags to build with")
		}
	}
}
