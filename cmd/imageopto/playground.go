package main

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"path"
	"strings"
	"time"
)

// playgroundFiles are the playground's page (a template), script and
// style sheet. Script and style are separate files so that the page works
// under a strict Content-Security-Policy, with nothing inline.
//
//go:embed playground/index.html playground/playground.js playground/playground.css
var playgroundFiles embed.FS

// playgroundCSP is the page's Content-Security-Policy: everything from the
// server itself, images also from blob: URLs (results are fetched with
// fetch() and shown from a blob), nothing inline, no frames around it.
const playgroundCSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// playgroundAssets is where the script and style sheet are served.
const playgroundAssets = "/_imageopto/playground/"

// h264Levels are the values of the level parameter, for its menu.
var h264Levels = []string{"1.0", "1.1", "1.2", "1.3", "2.0", "2.1", "2.2", "3.0", "3.1", "3.2",
	"4.0", "4.1", "4.2", "5.0", "5.1", "5.2", "6.0", "6.1", "6.2"}

var playgroundTemplate = template.Must(template.ParseFS(playgroundFiles, "playground/index.html"))

// playgroundPage is what the page template shows.
type playgroundPage struct {
	Assets       string
	Describe     string
	HeaderPrefix string // of the info, warning and error headers the script reads
	Lenient      bool
	Signed       bool
	Samples      []string  // origin paths with a thumbnail button
	First        string    // the path the page starts with
	Examples     []example // the gallery's requests, as presets
	Levels       []string
}

// mountPlayground serves the playground at "/", its script and style
// sheet under playgroundAssets, and the examples gallery at /examples.
// Like /healthz, /examples and the assets answer only requests without a
// query string: with one they go to images, so that an original of that
// name can still be served.
func mountPlayground(mux *http.ServeMux, images http.Handler, src *source, cfg *config) {
	page := playgroundPage{
		Assets:       playgroundAssets,
		Describe:     src.describe,
		HeaderPrefix: cfg.headerPrefix,
		Lenient:      cfg.lenient,
		Signed:       len(cfg.signKeys) > 0,
		Samples:      examplePaths(src.examples),
		Levels:       h264Levels,
	}
	if page.HeaderPrefix == "" {
		page.HeaderPrefix = "Imageopto"
	}
	if len(page.Samples) > 0 {
		page.First = page.Samples[0]
	}
	for _, e := range src.examples {
		if !strings.Contains(e.Path, "/PATH") {
			page.Examples = append(page.Examples, e)
		}
	}
	var html bytes.Buffer
	if err := playgroundTemplate.Execute(&html, page); err != nil {
		panic(err) // the template and its data are fixed: a test catches this
	}
	started := time.Now()

	onlyBare := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.RawQuery != "" || r.URL.ForceQuery {
				images.ServeHTTP(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	mux.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", playgroundCSP)
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "index.html", started, bytes.NewReader(html.Bytes()))
	}))
	mux.Handle("GET "+playgroundAssets+"{file}", onlyBare(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if name != "playground.js" && name != "playground.css" {
			http.NotFound(w, r)
			return
		}
		body, err := playgroundFiles.ReadFile("playground/" + name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		hdr := w.Header()
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, started, bytes.NewReader(body))
	})))
	mux.Handle("GET /examples", onlyBare(indexHandler(src)))
}

// examplePaths are the distinct origin paths of the examples that work as
// they are, in order.
func examplePaths(examples []example) []string {
	var out []string
	for _, e := range examples {
		p, _, _ := strings.Cut(e.Path, "?")
		if strings.Contains(p, "/PATH") || path.Clean(p) != p {
			continue
		}
		dup := false
		for _, q := range out {
			dup = dup || q == p
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}
