package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/wasmcodec"
)

// TestPlaygroundPage checks the page without a browser: its
// Content-Security-Policy, that nothing in it is inline or external, that
// it has a control for every parameter of the URL API, and that the
// gallery moved to /examples.
func TestPlaygroundPage(t *testing.T) {
	t.Parallel()
	s := start(t)

	resp, body := get(t, s.base+"/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	csp := resp.Header.Get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'self'", "img-src 'self' blob: data:", "style-src 'self'", "script-src 'self'"} {
		assert.Contains(t, csp, directive)
	}
	assert.NotContains(t, csp, "unsafe-inline")
	page := string(body)

	// Nothing inline: no <style>, no style or on* attributes, no <script>
	// without src (the CSP would block them; the page must not need them).
	assert.NotContains(t, page, "<style")
	assert.NotRegexp(t, `\sstyle=`, page)
	assert.NotRegexp(t, `\son[a-z]+=`, page)
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		assert.Contains(t, tag, ` src="/`, "inline script: %s", tag)
	}

	// Every file the page refers to is on the server itself; the files
	// name no other site.
	files := map[string]string{"/": page}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		ref := m[1]
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("the page refers to %q, not a path on its own server", ref)
			continue
		}
		if strings.HasPrefix(ref, playgroundAssets) {
			resp, body := get(t, s.base+ref)
			require.Equal(t, http.StatusOK, resp.StatusCode, ref)
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			files[ref] = string(body)
		}
	}
	require.Contains(t, files, playgroundAssets+"playground.js")
	require.Contains(t, files, playgroundAssets+"playground.css")
	assert.True(t, strings.HasPrefix(contentType(t, s.base+playgroundAssets+"playground.js"), "text/javascript"))
	assert.True(t, strings.HasPrefix(contentType(t, s.base+playgroundAssets+"playground.css"), "text/css"))
	external := regexp.MustCompile(`(?i)https?:|(?:url\(|@import|["'(=]\s*)//`)
	for name, text := range files {
		for _, m := range external.FindAllStringIndex(text, -1) {
			t.Errorf("%s refers to another site: %q", name, text[max(m[0]-30, 0):min(m[1]+30, len(text))])
		}
	}

	// A control for every parameter of the package's documented table,
	// and no control for a name that is not a parameter.
	var fields []string
	for _, m := range regexp.MustCompile(`data-field="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		fields = append(fields, strings.Fields(m[1])...)
	}
	for _, f := range fields {
		assert.True(t, imageopto.IsParam(f), "control for %q, which is not a parameter", f)
	}
	for _, p := range documentedParams(t) {
		assert.Contains(t, fields, p, "no control for the parameter %s", p)
	}

	// The assets and the gallery answer only bare requests; with a query
	// they are image requests like any other path.
	resp, _ = get(t, s.base+playgroundAssets+"playground.js?width=10")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(t, s.base+playgroundAssets+"other.js")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, body = get(t, s.base+"/examples")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `href="/"`, "the gallery links to the playground")
}

// contentType returns the Content-Type of url.
func contentType(t *testing.T, url string) string {
	t.Helper()
	resp, _ := get(t, url)
	return resp.Header.Get("Content-Type")
}

// documentedParams reads the parameter names from the status table in the
// package comment of imageopto.go, which the root package's tests keep in
// step with its parameter table.
func documentedParams(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "imageopto.go"))
	require.NoError(t, err)
	comment, _, _ := strings.Cut(string(src), "\npackage imageopto")
	var names []string
	in := false
	for line := range strings.SplitSeq(comment, "\n") {
		row, ok := strings.CutPrefix(line, "//\t")
		switch {
		case !ok:
			in = false
		case !in:
			in = strings.HasPrefix(row, "parameter ")
		case !strings.HasPrefix(row, " "):
			names = append(names, strings.Fields(row)[0])
		}
	}
	require.GreaterOrEqual(t, len(names), 30, "the parameter table of imageopto.go")
	return names
}

// chromiumPath finds Debian's Chromium (or another Chrome). Without one
// the test skips, unless IMAGEOPTO_REQUIRE_CHROMIUM is set (CI sets it
// after installing chromium), when it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("IMAGEOPTO_REQUIRE_CHROMIUM") != "" {
		t.Fatal("IMAGEOPTO_REQUIRE_CHROMIUM is set but no chromium is in PATH")
	}
	t.Skip("browser test skipped: chromium is not installed (apt-get install chromium)")
	return ""
}

// artifactDir is where screenshots go: $IMAGEOPTO_ARTIFACTS, or a
// temporary directory of the test.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IMAGEOPTO_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// browserLog collects what the page did that a test checks afterwards:
// requests, uncaught exceptions, console errors and browser log entries
// (CSP violations are logged there).
type browserLog struct {
	mu       sync.Mutex
	requests []string
	problems []string
}

func (b *browserLog) add(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.URL)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			b.problems = append(b.problems, fmt.Sprintf("console.%s", ev.Type))
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		// An error status of an image request the test provoked on
		// purpose (400 for a bad value) is logged as a network error.
		if e.Level == log.EntryLevelError && e.Source != log.EntrySourceNetwork {
			b.problems = append(b.problems, fmt.Sprintf("%s log: %s (%s)", e.Source, e.Text, e.URL))
		}
	}
}

func (b *browserLog) snapshot() (requests, problems []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests), slices.Clone(b.problems)
}

// browser starts a headless Chromium for the test and returns its tab.
// The browser is stopped when the test ends.
func browser(t *testing.T, exe string) (context.Context, *browserLog) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // the tests may run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000),
		chromedp.WSURLReadTimeout(2*time.Minute), // a shared, slow machine
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	bl := &browserLog{}
	require.NoError(t, chromedp.Do(ctx), "start chromium") // no timeout: it would stop the browser
	require.NoError(t, chromedp.Listen(ctx, bl.add))
	return ctx, bl
}

// do runs actions with a generous deadline of their own.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...), what)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// pageState is what the page shows, for failure messages.
const pageState = `JSON.stringify({state: document.body.dataset.state, status: $s('status'), info: $s('info'),
	error: $s('error'), warning: $s('warning'), url: document.getElementById('url').value})`

// waitResult waits until the page shows the answer to the request for
// path (state ok, or error when wantError).
func waitResult(t *testing.T, ctx context.Context, path string, wantError bool) {
	t.Helper()
	state := "ok"
	if wantError {
		state = "error"
	}
	cond := fmt.Sprintf(`document.body.dataset.state === %q && document.body.dataset.url === %q && document.getElementById('url').value === location.origin + %q`, state, path, path)
	if !wantError {
		cond += fmt.Sprintf(` && document.getElementById('result').dataset.url === %q`, path)
	}
	pctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	var err error
	for {
		_, err = chromedp.Run(pctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(100*time.Millisecond)))
		// Just after a navigation the poll can land in the old document's
		// JavaScript context, which is gone: poll again in the new one.
		if err == nil || pctx.Err() != nil || !strings.Contains(err.Error(), "Cannot find context") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("waiting for %s (%s): %v\npage: %s", path, state, err,
			eval[string](t, ctx, `(($s) => `+pageState+`)((id) => document.getElementById(id).textContent)`))
	}
}

// retype replaces the text of an input as a user would: it clears the
// field (chromedp.SetValue refuses an empty value), then types key by key.
func retype(id, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).value = ''`, id)),
		chromedp.SendKeys(chromedp.ID(id), text),
	)
}

// choose selects an option of a <select> as a user would: the value
// changes and the change event fires.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const el = document.querySelector(%q); el.value = %q; el.dispatchEvent(new Event('change', {bubbles: true})) })()`,
		sel, value))
}

// TestPlaygroundBrowser drives the playground in Chromium: it sets
// parameters through the controls, checks the image and the info shown,
// provokes a parameter error, previews a negotiated format at dpr 2, and
// saves screenshots.
func TestPlaygroundBrowser(t *testing.T) {
	exe := chromiumPath(t)
	t.Parallel()
	s := start(t)
	ctx, bl := browser(t, exe)
	artifacts := artifactDir(t)
	screenshot := func(name string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		file := filepath.Join(artifacts, name)
		require.NoError(t, os.WriteFile(file, png, 0o644))
		t.Logf("screenshot: %s", file)
	}

	do(t, ctx, "load the page", chromedp.Navigate(s.base+"/"), chromedp.WaitVisible(chromedp.ID("p-width")))
	waitResult(t, ctx, "/landscape.jpg", false) // the first sample, as it is

	// Width, height and fit through the controls: typed key by key, so
	// that the debounce and the dropping of stale answers take part.
	do(t, ctx, "set width, height and fit",
		chromedp.SendKeys(chromedp.ID("p-width"), "400"),
		chromedp.SendKeys(chromedp.ID("p-height"), "200"),
		choose("#p-fit", "crop"),
	)
	const cropped = "/landscape.jpg?width=400&height=200&fit=crop"
	waitResult(t, ctx, cropped, false)
	assert.Equal(t, []int{400, 200}, eval[[]int](t, ctx, `[document.getElementById('result').naturalWidth, document.getElementById('result').naturalHeight]`))
	info := eval[string](t, ctx, `document.getElementById('info').textContent`)
	assert.Contains(t, info, "Input: JPEG, 1000 × 1600 px")
	assert.Contains(t, info, "Output: JPEG, 400 × 200 px")
	assert.Regexp(t, `— \d+% smaller\.$`, info)
	assert.Equal(t, s.base+cropped, eval[string](t, ctx, `document.getElementById('url').value`))
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('natural').textContent`), "400 × 200 px")
	assert.Equal(t, "#"+cropped, eval[string](t, ctx, `location.hash`), "the fragment keeps the request")
	screenshot("playground.png")

	// A bad value: the error shows, naming the parameter, at its control.
	do(t, ctx, "type a bad width",
		retype("p-width", "abc"),
	)
	waitResult(t, ctx, "/landscape.jpg?width=abc&height=200&fit=crop", true)
	errText := eval[string](t, ctx, `document.getElementById('error').textContent`)
	assert.Contains(t, errText, "400")
	assert.Contains(t, errText, "width=abc: must be")
	assert.True(t, eval[bool](t, ctx, `document.querySelector('[data-field="width"]').classList.contains('invalid')`))
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('[data-field="width"] .msg').textContent`), "width=abc")
	screenshot("playground-error.png")

	// A negotiated format at dpr 2: format=auto with an Accept header
	// that offers WebP gives WebP, twice the width in pixels, shown at
	// the width asked for.
	// The server compiles the WebAssembly codecs in the background: wait
	// for them, as a user would wait for the image. The Accept header
	// comes first, so that no answer for the final URL is negotiated with
	// a half-typed one.
	if hasWasmcodec {
		playgroundWebP(t, ctx)
	} else {
		t.Log("WebP preview skipped: this build has no wasmcodec (go test -tags full runs it)")
	}

	// A link with the request in its fragment fills the controls; what no
	// control holds goes to the free-text query.
	do(t, ctx, "open a link to a request", chromedp.Navigate("about:blank"),
		chromedp.Navigate(s.base+"/#/badge.png?width=120&bw=threshold,40&enable=upscale&orient=r&frame=1&other=1"),
		chromedp.WaitVisible(chromedp.ID("p-width")))
	const restored = "/badge.png?width=120&enable=upscale&bw=threshold,40&frame=1&orient=r&other=1"
	waitResult(t, ctx, restored, false)
	assert.Equal(t, []string{"120", "enable", "threshold", "40", "r", "other=1"}, eval[[]string](t, ctx,
		`['p-width', 'p-upscale', 'p-bw', 'p-bw-l', 'p-orient', 'extra'].map((id) => document.getElementById(id).value)`))
	assert.True(t, eval[bool](t, ctx, `document.getElementById('p-frame').checked`))
	assert.Equal(t, 120, eval[int](t, ctx, `document.getElementById('result').naturalWidth`))

	// An example from the menu replaces the form; a sample's button
	// changes only the path.
	do(t, ctx, "load an example", choose("#preset", "/portrait.jpg?height=400&fit=bounds&canvas=400,400&bg-color=111827"))
	waitResult(t, ctx, "/portrait.jpg?height=400&fit=bounds&canvas=400,400&bg-color=111827", false)
	assert.Equal(t, []int{400, 400}, eval[[]int](t, ctx, `[document.getElementById('result').naturalWidth, document.getElementById('result').naturalHeight]`))
	do(t, ctx, "pick a sample", chromedp.Click(chromedp.CSS(`.sample[data-path="/spinner.gif"]`)))
	waitResult(t, ctx, "/spinner.gif?height=400&fit=bounds&canvas=400,400&bg-color=111827", false)
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('info').textContent`), "Output: GIF, 400 × 400 px")

	// A lenient server drops a bad value: the image comes, and the
	// warning header names the parameter at its control.
	lenient := start(t, "-lenient")
	do(t, ctx, "open a lenient server's playground", chromedp.Navigate(lenient.base+"/#/landscape.jpg?width=300&blur=abc"),
		chromedp.WaitVisible(chromedp.ID("p-width")))
	waitResult(t, ctx, "/landscape.jpg?width=300&blur=abc", false)
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('warning').textContent`), "blur=abc: must be")
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('[data-field="blur"] .msg').textContent`), "blur=abc")
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('header').textContent`), "This server is lenient")

	// The pages asked only their own server, and nothing went wrong in them.
	requests, problems := bl.snapshot()
	assert.Empty(t, problems, "exceptions, console errors or blocked content in the page")
	require.NotEmpty(t, requests)
	for _, u := range requests {
		ok := strings.HasPrefix(u, "data:")
		for _, base := range []string{s.base, lenient.base} {
			ok = ok || strings.HasPrefix(u, base+"/") || strings.HasPrefix(u, "blob:"+base+"/")
		}
		if !ok {
			t.Errorf("the page requested %s, outside %s and %s", u, s.base, lenient.base)
		}
	}
}

// playgroundWebP previews a negotiated WebP at dpr 2 in the playground
// that ctx shows (a build with the WebAssembly codecs).
func playgroundWebP(t *testing.T, ctx context.Context) {
	t.Helper()
	require.NoError(t, wasmcodec.Warm())
	do(t, ctx, "preview WebP at dpr 2",
		retype("accept", "image/webp,*/*"),
		retype("p-width", "300"),
		chromedp.SendKeys(chromedp.ID("p-dpr"), "2"),
		choose("#p-format", "auto"),
	)
	const negotiated = "/landscape.jpg?width=300&height=200&dpr=2&fit=crop&format=auto"
	waitResult(t, ctx, negotiated, false)
	assert.Equal(t, []int{600, 400}, eval[[]int](t, ctx, `[document.getElementById('result').naturalWidth, document.getElementById('result').naturalHeight]`))
	assert.Equal(t, 300, eval[int](t, ctx, `Math.round(document.getElementById('result').getBoundingClientRect().width)`))
	info := eval[string](t, ctx, `document.getElementById('info').textContent`)
	assert.Contains(t, info, "Output: WebP, 600 × 400 px")
	assert.Contains(t, info, "negotiated from the Accept header (image/webp)")
}
