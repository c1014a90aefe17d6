//go:build wasmcodec || full

package main

import (
	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/wasmcodec"
)

const hasWasmcodec = true

// extraCodecs are the codecs beyond the library's built-in ones.
func extraCodecs() []imageopto.Codec { return wasmcodec.Codecs() }

// warmCodecs compiles the WebAssembly codecs, which takes seconds of CPU.
func warmCodecs() error { return wasmcodec.Warm() }
