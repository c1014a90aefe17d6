package main

import (
	"fmt"
	"strings"
)

// The optional parts of the server, each behind a build tag (the package
// documentation lists them). Each tag has a pair of files, NAME.go with
// "//go:build TAG || full" and NAME_off.go with the opposite constraint,
// that define hasX and the functions the rest of the command calls.

// A feature is one optional part.
type feature struct {
	tag   string // its build tag
	what  string // what it brings, for messages
	built bool   // whether this build has it
}

// features are the optional parts, in the order -h lists them.
var features = []feature{
	{"redis", "Redis", hasRedis},
	{"s3", "S3", hasS3},
	{"prometheus", "Prometheus metrics", hasPrometheus},
	{"cluster", "peer cluster", hasCluster},
	{"wasmcodec", "WebAssembly codec (lossless, animated and transparent WebP and AVIF output, AVIF and HEIC input)", hasWasmcodec},
}

// notBuilt is the error for a flag whose feature this build lacks.
func notBuilt(flag, tag string) error {
	what := tag
	for _, f := range features {
		if f.tag == tag {
			what = f.what
		}
	}
	return fmt.Errorf("%s: this build has no %s support; build with -tags %s (or -tags full; see README)", flag, what, tag)
}

// buildSummary says which optional parts this build has, for -h.
func buildSummary() string {
	var with, without []string
	for _, f := range features {
		if f.built {
			with = append(with, f.tag)
		} else {
			without = append(without, f.tag)
		}
	}
	s := "This build has the optional parts: "
	if len(with) == 0 {
		s += "none"
	}
	s += strings.Join(with, ", ")
	if len(without) > 0 {
		s += "; without: " + strings.Join(without, ", ") + " (go build -tags " + strings.Join(without, ",") + ", or -tags full)"
	}
	return s + ".\n"
}
