package main

import (
	"context"

	"github.com/imageopto/imageopto"
)

// overlayFlag is -overlay: one overlay, in the grammar of the
// X-Fastly-Imageopto-Overlay header, applied to every response that has
// none from a trusted header.
type overlayFlag struct {
	spec *imageopto.Overlay
	raw  string
}

// String returns the value as given.
func (f *overlayFlag) String() string { return f.raw }

// Set parses the overlay; a bad one is a usage error naming the key.
func (f *overlayFlag) Set(v string) error {
	o, err := imageopto.ParseOverlay(v)
	if err != nil {
		return err
	}
	f.spec, f.raw = &o, v
	return nil
}

// hook returns the request hook that applies the overlay, or nil when
// -overlay was not given. The overlay of a trusted header
// (-trust-overlay-header) wins over it.
func (f *overlayFlag) hook() func(context.Context, *imageopto.Request) error {
	if f.spec == nil {
		return nil
	}
	spec := *f.spec
	return func(_ context.Context, r *imageopto.Request) error {
		if r.Overlay == nil {
			o := spec
			r.Overlay = &o
		}
		return nil
	}
}
