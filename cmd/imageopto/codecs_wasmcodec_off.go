//go:build !(wasmcodec || full)

package main

import "github.com/imageopto/imageopto"

const hasWasmcodec = false

// extraCodecs: this build has only the library's built-in codecs.
func extraCodecs() []imageopto.Codec { return nil }

// warmCodecs has nothing to compile.
func warmCodecs() error { return nil }
