//go:build !nowasmcodec

package main

import (
	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/wasmcodec"
)

// haveCodecs reports whether the opt-in WebAssembly codecs (WebP output,
// for W3) are built in.
const haveCodecs = true

func extraCodecs() []imageopto.Codec { return wasmcodec.Codecs() }
