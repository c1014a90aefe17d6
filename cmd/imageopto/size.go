package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes parseSize accepts, in lower case. As in dd(1),
// a bare letter and the IEC forms are powers of 1024, the SI forms powers
// of 1000: 1K = 1KiB = 1024 bytes, 1KB = 1000 bytes.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// parseSize reads a byte size such as "256MB", "1.5GiB", "64 k" or "0".
// The number may have a fraction; the unit is case-insensitive (see
// sizeUnits). The result is rounded to whole bytes.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	if num == "" {
		return 0, errors.New("want a number with an optional unit, like 256MB or 1GiB")
	}
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q (use B, K/KiB, M/MiB, G/GiB, T/TiB, or KB, MB, GB, TB)", s[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q: %w", num, errors.Unwrap(err))
	}
	n := math.Round(v * mult)
	if n >= math.MaxInt64 {
		return 0, errors.New("too large")
	}
	return int64(n), nil
}

// formatSize writes n bytes with the largest binary unit that keeps at
// least one whole unit, e.g. "256 MiB", "1.5 GiB", "900 B".
func formatSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " " + units[u]
}

// sizeFlag is a flag.Value holding a byte size.
type sizeFlag int64

// String shows the size as given to formatSize.
func (s *sizeFlag) String() string { return formatSize(int64(*s)) }

// Set parses a size with parseSize.
func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}
