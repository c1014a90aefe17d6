//go:build nowasmcodec

package main

import "github.com/imageopto/imageopto"

// haveCodecs reports whether the opt-in WebAssembly codecs (WebP output,
// for W3) are built in: not with -tags nowasmcodec.
const haveCodecs = false

func extraCodecs() []imageopto.Codec { return nil }
