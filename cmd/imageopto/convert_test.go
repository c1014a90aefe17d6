package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "golang.org/x/image/webp" // registers the WebP decoder with image.Decode
)

// cliJPEG is a w×h baseline JPEG of a diagonal gradient.
func cliJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(255 * x / w), uint8(255 * y / h), 128, 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}))
	return b.Bytes()
}

// cliPNG is a w×h PNG whose left half is transparent.
func cliPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint8(255)
			if x < w/2 {
				a = 0
			}
			m.SetNRGBA(x, y, color.NRGBA{200, 40, uint8(y), a})
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, m))
	return b.Bytes()
}

// cliGIF is a w×h GIF animation of n frames.
func cliGIF(t testing.TB, w, h, n int) []byte {
	t.Helper()
	pal := color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 255}}
	g := &gif.GIF{}
	for i := range n {
		f := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for y := range h {
			for x := range w {
				f.SetColorIndex(x, y, uint8((x/4+y/4+i)%len(pal)))
			}
		}
		g.Image = append(g.Image, f)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	require.NoError(t, gif.EncodeAll(&b, g))
	return b.Bytes()
}

// writeTree writes files (slash paths relative to dir) and returns dir.
func writeTree(t testing.TB, dir string, files map[string][]byte) string {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	return dir
}

// decodedSize decodes an image file fully and returns its format and size.
func decodedSize(t testing.TB, path string) (string, int, int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, format, err := image.Decode(f)
	require.NoError(t, err, path)
	return format, m.Bounds().Dx(), m.Bounds().Dy()
}

// runConvertTest runs "imageopto convert" in-process and returns its exit
// status and outputs.
func runConvertTest(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runConvert(context.Background(), args, &out, &errOut)
	return exitCode(err), out.String(), errOut.String()
}

// listFiles lists the regular files under dir as slash paths.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var names []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	}))
	return names
}

func TestConvert(t *testing.T) {
	t.Parallel()
	jpg := cliJPEG(t, 400, 300)
	pngAlpha := cliPNG(t, 200, 200)
	anim := cliGIF(t, 160, 120, 3)
	corrupt := jpg[:120] // the header stops in its tables

	type want struct {
		format string
		w, h   int
	}
	cases := []struct {
		name      string
		tree      map[string][]byte
		args      func(in, out string) []string
		code      int
		outputs   map[string]want // slash paths under OUTDIR: every file there
		summary   []string        // lines the summary contains
		failedArg []string        // inputs named among the failures
		needs     string          // an optional part of the build, by its tag
	}{{
		name: "nested folders keep their paths and take the output's extension",
		tree: map[string][]byte{
			"a.jpg": jpg, "sub/b.png": pngAlpha, "sub/deeper/c.gif": anim,
			"notes.txt": []byte("not an image"), ".hidden/d.jpg": jpg, "sub/.e.jpg": jpg,
		},
		args: func(in, out string) []string { return []string{"-q", "width=100&format=png", "-o", out, in} },
		outputs: map[string]want{
			"a.png": {"png", 100, 75}, "sub/b.png": {"png", 100, 100}, "sub/deeper/c.png": {"png", 100, 75},
		},
		summary: []string{"files:     3 (3 converted, 0 skipped, 0 failed)"},
	}, {
		name: "WebP from the wasmcodec encoder, flags after the folder",
		tree: map[string][]byte{"photos/a.jpg": jpg, "photos/2024/b.png": pngAlpha},
		args: func(in, out string) []string {
			return []string{filepath.Join(in, "photos"), "-o", out, "-q", "?width=80&format=webp", "-j", "1"}
		},
		outputs: map[string]want{"a.webp": {"webp", 80, 60}, "2024/b.webp": {"webp", 80, 80}},
		summary: []string{"2 converted", "saving:"},
		needs:   "wasmcodec",
	}, {
		name: "without format= each output keeps its input's format",
		tree: map[string][]byte{"x/a.jpeg": jpg, "y/b.png": pngAlpha, "c.gif": anim},
		args: func(in, out string) []string {
			return []string{"-q", "width=50", "-o", out, filepath.Join(in, "x/a.jpeg"), filepath.Join(in, "y"), filepath.Join(in, "c.gif")}
		},
		outputs: map[string]want{"a.jpg": {"jpeg", 50, 38}, "b.png": {"png", 50, 50}, "c.gif": {"gif", 50, 38}},
	}, {
		name: "a corrupt file is reported and the others finish",
		tree: map[string][]byte{"a.jpg": jpg, "broken/bad.jpg": corrupt, "broken/z.png": pngAlpha, "empty.png": {}},
		args: func(in, out string) []string { return []string{"-q", "width=120&format=jpg", "-o", out, "-j", "2", in} },
		code: 1,
		outputs: map[string]want{
			"a.jpg": {"jpeg", 120, 90}, "broken/z.jpg": {"jpeg", 120, 120},
		},
		summary:   []string{"files:     4 (2 converted, 0 skipped, 2 failed)", "failures:", "bytes in:", "bytes out:", "saving:"},
		failedArg: []string{"broken/bad.jpg", "empty.png"},
	}, {
		name: "a missing argument fails alone",
		tree: map[string][]byte{"a.jpg": jpg},
		args: func(in, out string) []string {
			return []string{"-q", "width=10", "-o", out, filepath.Join(in, "missing.jpg"), filepath.Join(in, "a.jpg")}
		},
		code:      1,
		outputs:   map[string]want{"a.jpg": {"jpeg", 10, 8}},
		failedArg: []string{"missing.jpg"},
	}, {
		name: "AVIF inputs are read by the configured codecs",
		tree: map[string][]byte{"a.avif": readTestdata(t, "../../wasmcodec/testdata/tiny-irot.avif"),
			"b.avif": readTestdata(t, "../../wasmcodec/testdata/tiny-grid-alpha.avif")},
		args:    func(in, out string) []string { return []string{"-q", "format=png", "-o", out, in} },
		outputs: map[string]want{"a.png": {"png", 101, 131}, "b.png": {"png", 128, 128}},
		summary: []string{"2 converted"},
		needs:   "wasmcodec",
	}, {
		name: "a parameter that does not fit one image fails that image",
		tree: map[string][]byte{"big.jpg": jpg, "small.png": cliPNG(t, 40, 40)},
		args: func(in, out string) []string { return []string{"-q", "crop=100,100", "-o", out, in} },
		code: 1,
		outputs: map[string]want{
			"big.jpg": {"jpeg", 100, 100},
		},
		failedArg: []string{"small.png"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needs != "" {
				needFeature(t, tc.needs)
			}
			t.Parallel()
			in := writeTree(t, t.TempDir(), tc.tree)
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runConvertTest(t, tc.args(in, out)...)
			assert.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			var names []string
			for name, w := range tc.outputs {
				names = append(names, name)
				format, width, height := decodedSize(t, filepath.Join(out, filepath.FromSlash(name)))
				assert.Equal(t, w, want{format, width, height}, name)
			}
			assert.ElementsMatch(t, names, listFiles(t, out), "no other file, no temporary file left")
			for _, s := range tc.summary {
				assert.Contains(t, stdout, s)
			}
			for _, f := range tc.failedArg {
				assert.Regexp(t, `(?m)^  .*`+regexp.QuoteMeta(filepath.FromSlash(f))+`: \S`, stdout, "failure with its reason")
				assert.Contains(t, stderr, "FAILED ")
			}
			// Inputs are untouched.
			for name, data := range tc.tree {
				got, err := os.ReadFile(filepath.Join(in, filepath.FromSlash(name)))
				require.NoError(t, err)
				assert.Equal(t, data, got, name)
			}
		})
	}
}

func TestConvertCorruptReason(t *testing.T) {
	t.Parallel()
	in := writeTree(t, t.TempDir(), map[string][]byte{"bad.jpg": cliJPEG(t, 64, 64)[:120]})
	code, stdout, _ := runConvertTest(t, "-q", "width=10", "-o", t.TempDir(), in)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "bad.jpg: image could not be parsed")
	assert.NotContains(t, stdout, "imageopto: ", "the library's prefix is dropped from reasons")
}

func TestConvertSkipExisting(t *testing.T) {
	t.Parallel()
	in := writeTree(t, t.TempDir(), map[string][]byte{
		"a.jpg": cliJPEG(t, 200, 100), "sub/b.png": cliPNG(t, 100, 100), "sub/c.gif": cliGIF(t, 80, 80, 2),
	})
	out := t.TempDir()
	args := []string{"-q", "width=40&format=png", "-o", out, "-skip-existing", in}
	code, stdout, _ := runConvertTest(t, args...)
	require.Equal(t, 0, code, stdout)
	assert.Contains(t, stdout, "3 converted, 0 skipped")

	// Outputs newer than their inputs are left alone; an input touched
	// after its output was made is converted again.
	past := time.Now().Add(-time.Hour)
	for _, f := range []string{"a.jpg", "sub/b.png", "sub/c.gif"} {
		require.NoError(t, os.Chtimes(filepath.Join(in, filepath.FromSlash(f)), past, past))
	}
	future := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(in, "sub", "c.gif"), future, future))
	require.NoError(t, os.WriteFile(filepath.Join(out, "a.png"), []byte("stale but newer"), 0o644))
	code, stdout, stderr := runConvertTest(t, args...)
	require.Equal(t, 0, code, stdout)
	assert.Contains(t, stdout, "1 converted, 2 skipped, 0 failed")
	assert.Contains(t, stderr, "skipped "+filepath.Join(in, "a.jpg"))
	data, err := os.ReadFile(filepath.Join(out, "a.png"))
	require.NoError(t, err)
	assert.Equal(t, "stale but newer", string(data), "skipped: not rewritten")
	_, w, h := decodedSize(t, filepath.Join(out, "sub", "c.png"))
	assert.Equal(t, [2]int{40, 40}, [2]int{w, h})

	// Without -skip-existing everything is made again.
	code, stdout, _ = runConvertTest(t, "-q", "width=40&format=png", "-o", out, in)
	require.Equal(t, 0, code, stdout)
	assert.Contains(t, stdout, "3 converted, 0 skipped")
	format, _, _ := decodedSize(t, filepath.Join(out, "a.png"))
	assert.Equal(t, "png", format)
}

func TestConvertNeverOverwritesInputs(t *testing.T) {
	t.Parallel()
	jpg, pngData := cliJPEG(t, 60, 60), cliPNG(t, 60, 60)
	dir := writeTree(t, t.TempDir(), map[string][]byte{"a.jpg": jpg, "a.png": pngData, "sub/b.jpg": jpg})
	// Output folder = input folder: a.jpg and a.png would both become
	// a.png, an input; sub/b.jpg becomes the new sub/b.png.
	code, stdout, _ := runConvertTest(t, "-q", "format=png", "-o", dir, dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "2 failed")
	assert.Contains(t, stdout, "would overwrite an input")
	got, err := os.ReadFile(filepath.Join(dir, "a.png"))
	require.NoError(t, err)
	assert.Equal(t, pngData, got)
	_, w, _ := decodedSize(t, filepath.Join(dir, "sub", "b.png"))
	assert.Equal(t, 60, w)
}

func TestConvertOutputInsideInput(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, t.TempDir(), map[string][]byte{"a.jpg": cliJPEG(t, 60, 40), "sub/b.jpg": cliJPEG(t, 60, 40)})
	out := filepath.Join(dir, "small")
	for range 2 { // the second run must not read the first one's outputs
		code, stdout, _ := runConvertTest(t, "-q", "width=30&format=png", "-o", out, dir)
		require.Equal(t, 0, code, stdout)
		assert.Contains(t, stdout, "files:     2 (2 converted")
	}
	assert.ElementsMatch(t, []string{"a.png", "sub/b.png"}, listFiles(t, out))
}

func TestConvertSameOutputTwice(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, t.TempDir(), map[string][]byte{"x/a.jpg": cliJPEG(t, 30, 30), "y/a.png": cliPNG(t, 30, 30)})
	out := t.TempDir()
	code, stdout, _ := runConvertTest(t, "-q", "format=png", "-o", out, "-j", "1", filepath.Join(dir, "x"), filepath.Join(dir, "y"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "1 converted, 0 skipped, 1 failed")
	assert.Contains(t, stdout, "is already written from "+filepath.Join(dir, "x", "a.jpg"))
}

func TestConvertCommandLine(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, t.TempDir(), map[string][]byte{"a.jpg": cliJPEG(t, 20, 20)})
	cases := []struct {
		args   []string
		code   int
		output string // in stdout
	}{
		{[]string{"-h"}, 0, "usage: imageopto convert -q QUERY -o OUTDIR"},
		{[]string{"-q", "width=10", dir}, 2, ""},
		{[]string{"-q", "width=10", "-o", t.TempDir()}, 2, ""},
		{[]string{"-q", "width=abc", "-o", t.TempDir(), dir}, 2, ""},
		{[]string{"-q", "width=10", "-o", t.TempDir(), "-j", "-1", dir}, 2, ""},
		{[]string{"-nope", "-o", t.TempDir(), dir}, 2, ""},
		{[]string{"-q", "width=10", "-o", t.TempDir(), t.TempDir()}, 1, ""}, // an empty folder: nothing to do
	}
	for _, tc := range cases {
		code, stdout, _ := runConvertTest(t, tc.args...)
		assert.Equal(t, tc.code, code, "%q", tc.args)
		assert.Contains(t, stdout, tc.output, "%q", tc.args)
	}
	// Through the command's dispatcher.
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"convert", "-h"}, &out, nil))
	assert.Contains(t, out.String(), "-skip-existing")
}

func TestConvertInterrupted(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, t.TempDir(), map[string][]byte{"a.jpg": cliJPEG(t, 20, 20), "b.jpg": cliJPEG(t, 20, 20)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	err := runConvert(ctx, []string{"-q", "width=10", "-o", t.TempDir(), dir}, &stdout, &stderr)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, exitCode(err))
	assert.Contains(t, stdout.String(), "2 failed")
}

func TestConvertProgressBar(t *testing.T) {
	t.Parallel()
	var w bytes.Buffer
	p := newProgress(&w, 3, true)
	for i := range 3 {
		p.done(convertOutcome{index: i})
	}
	p.finish()
	assert.Contains(t, w.String(), "3/3")
	assert.Contains(t, w.String(), "files/s")
	assert.True(t, strings.HasSuffix(w.String(), "\n"), "the bar's line is ended: %q", w.String())

	w.Reset()
	p = newProgress(&w, 3, true)
	p.done(convertOutcome{index: 0})
	p.finish() // interrupted
	assert.Contains(t, w.String(), "1/3")
	assert.True(t, strings.HasSuffix(w.String(), "\n"), "%q", w.String())

	assert.False(t, isTerminal(&w))
}

func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-h"}, &out, nil))
	for _, cmd := range []string{"sign", "convert", "info", "healthcheck"} {
		assert.Regexp(t, `(?m)^  `+cmd+` `, out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		assert.LessOrEqual(t, strings.Count(line, "(default"), 1, "a default printed twice: %s", line)
	}
	assert.Contains(t, out.String(), "[$IMAGEOPTO_DISK_CACHE_SIZE] (default 1 GiB)")
}

func TestErrorLine(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"-dir", filepath.Join(t.TempDir(), "nonexistent")}, &bytes.Buffer{}, nil)
	require.Error(t, err)
	line := errorLine(err)
	assert.True(t, strings.HasPrefix(line, "imageopto: "), line)
	assert.Equal(t, 1, strings.Count(line, "imageopto:"), line)
	assert.Equal(t, "imageopto: plain", errorLine(errors.New("plain")))
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 1},
		{&usageError{errors.New("x")}, 2},
		{fmt.Errorf("wrapped: %w", &usageError{errors.New("x")}), 2},
	} {
		assert.Equal(t, tc.want, exitCode(tc.err), "%v", tc.err)
	}
}

func readTestdata(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
