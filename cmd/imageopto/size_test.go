package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1024", 1024},
		{"512B", 512},
		{"64k", 64 << 10},
		{"64K", 64 << 10},
		{"64KiB", 64 << 10},
		{"64KB", 64000},
		{"256MB", 256_000_000},
		{"256mb", 256_000_000},
		{"256M", 256 << 20},
		{"256MiB", 256 << 20},
		{"1GiB", 1 << 30},
		{"1gib", 1 << 30},
		{"1.5GiB", 3 << 29},
		{"2GB", 2_000_000_000},
		{"1TiB", 1 << 40},
		{" 256 MB ", 256_000_000},
		{"0MB", 0},
		{".5K", 512},
		{"0.1B", 0},
	}
	for _, tc := range good {
		got, err := parseSize(tc.in)
		if assert.NoError(t, err, tc.in) {
			assert.Equal(t, tc.want, got, tc.in)
		}
	}
	for _, in := range []string{"", "MB", "-1", "-1MB", "1XB", "1.2.3MB", "1e9", "NaN", "Inf", "1 M B", "9999999TiB", "0x10", "."} {
		_, err := parseSize(in)
		assert.Error(t, err, "%q", in)
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0:               "0 B",
		900:             "900 B",
		1024:            "1 KiB",
		256 << 20:       "256 MiB",
		3 << 29:         "1.5 GiB",
		256_000_000:     "244.1 MiB",
		(256 << 20) / 3: "85.3 MiB",
	} {
		assert.Equal(t, want, formatSize(n), n)
	}
}

func TestSizeFlag(t *testing.T) {
	t.Parallel()
	var s sizeFlag
	require.NoError(t, s.Set("1GiB"))
	assert.Equal(t, sizeFlag(1<<30), s)
	assert.Equal(t, "1 GiB", s.String())
	assert.Error(t, s.Set("big"))
	assert.Equal(t, sizeFlag(1<<30), s, "a failed Set keeps the old value")
}
