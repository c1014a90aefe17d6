package main

import (
	"errors"
	"flag"
	"strings"
)

// subcommandHelp is the part of the server's -h text that lists the other
// commands of the binary.
const subcommandHelp = `
commands (imageopto COMMAND -h for the first three):
  sign         sign URLs for a server started with -sign-key
  convert      transform files and folders with a query, without a server
  info         print what image headers say: format, size, frames, EXIF
               orientation, ICC profile, alpha, progressive
  healthcheck  [URL] ask a running server's /healthz (the container's
               HEALTHCHECK)
`

// errorLine is the line main prints for an error that ends the command.
// Errors of the library already start with "imageopto: ", which is not
// repeated.
func errorLine(err error) string {
	return "imageopto: " + strings.TrimPrefix(err.Error(), "imageopto: ")
}

// exitCode is the process status for the error a command returned: 0 for
// none, 2 for a bad command line, 1 otherwise.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.As(err, new(*usageError)):
		return 2
	}
	return 1
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments ("convert DIR -o OUT" as well as "convert -o OUT
// DIR"), which flag.FlagSet.Parse alone stops at. Everything after "--" is
// positional. It returns the positional arguments in order.
func parseInterspersed(flags *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := flags.Parse(args); err != nil {
			return nil, err
		}
		rest := flags.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
