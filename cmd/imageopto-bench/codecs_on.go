//go:build !nowasmcodec

package main

import (
	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/wasmcodec"
)

// extraCodecs are the opt-in WebAssembly codecs (lossless and transparent
// WebP, AVIF, HEIC), configured as a production server would have them.
func extraCodecs() []imageopto.Codec { return wasmcodec.Codecs() }
