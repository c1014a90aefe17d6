package main

import (
	"fmt"
	"strings"
)

// The optional parts of the server. A plain "go build" or "go run" of this
// command compiles none of them, so that a first build costs little beyond
// the standard library; each comes with a build tag, and the tag full
// brings them all (the Dockerfile builds with it):
//
//	tag         flags                    libraries
//	redis       -redis                   github.com/redis/go-redis
//	s3          -s3, -s3-cache           the AWS SDK for Go v2
//	prometheus  -metrics-addr            Prometheus client_golang (protobuf)
//	cluster     -peers                   groupcache (protobuf)
//	wasmcodec   WebP and AVIF output,    wazero and gen2brain's WebAssembly
//	            AVIF and HEIC input      builds of libwebp, libavif, libheif
//
// In a build without one, its flags still exist and fail with a message
// that names the tag.

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
	{"wasmcodec", "WebAssembly codec (WebP and AVIF output, AVIF and HEIC input)", hasWasmcodec},
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
