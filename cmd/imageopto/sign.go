package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/imageopto/imageopto"
)

// newSigner makes a Signer from the keys given on the command line.
func newSigner(keys []string) (*imageopto.Signer, error) {
	raw := make([][]byte, len(keys))
	for i, k := range keys {
		raw[i] = []byte(k)
	}
	return imageopto.NewSigner(raw...)
}

// runSign is "imageopto sign": it prints each URL signed for a server started
// with the same -sign-key.
func runSign(args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("imageopto sign", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	var keys stringList
	flags.Var(&keys, "key", "signing `KEY` (the server's first -sign-key)")
	expires := flags.Duration("expires", 0, "validity `DURATION` from now, e.g. 24h (0: forever)")
	prefix := flags.String("prefix", "", "mount `PATH` of the handler that is not part of the signed path, e.g. /img")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "usage: imageopto sign -key KEY [-expires 24h] [-prefix /img] URL...")
			flags.SetOutput(stdout)
			flags.PrintDefaults()
			return nil
		}
		return &usageError{err}
	}
	if len(keys) == 0 || flags.NArg() == 0 {
		return &usageError{errors.New("sign needs -key and at least one URL")}
	}
	s, err := newSigner(keys)
	if err != nil {
		return &usageError{err}
	}
	var exp time.Time
	if *expires > 0 {
		exp = time.Now().Add(*expires)
	}
	for _, u := range flags.Args() {
		signed, err := s.SignURL(u, *prefix, exp)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, signed)
	}
	return nil
}
