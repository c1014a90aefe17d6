//go:build nowasmcodec

package main

import "github.com/imageopto/imageopto"

// extraCodecs: built with -tags nowasmcodec, only the built-in codecs.
func extraCodecs() []imageopto.Codec { return nil }
