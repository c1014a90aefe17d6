package main

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"text/tabwriter"
)

// example is a request worth trying: a path with its query, and what it
// shows.
type example struct {
	Path string // "/landscape.jpg?width=300"
	What string
}

// IsVideo reports whether the example's result is a video (format=mp4),
// which the page shows in a <video> element.
func (e example) IsVideo() bool { return strings.Contains(e.Path, "format=mp4") }

// IsPattern reports whether the path is a pattern for the user to fill in
// ("/PATH?…") rather than a request that works as it is.
func (e example) IsPattern() bool { return strings.HasPrefix(e.Path, "/PATH?") }

// sampleExamples show off the embedded samples.
var sampleExamples = []example{
	{"/landscape.jpg?width=300", "300 px wide; stored rotated, shown upright (EXIF orientation)"},
	{"/landscape.jpg?width=400&height=400&fit=crop", "400×400 thumbnail, cropped to fill"},
	{"/landscape.jpg?crop=16:9,smart&width=600", "16:9 content-aware crop, 600 px wide"},
	{"/landscape.jpg?width=600&saturation=-100&contrast=20", "black and white with more contrast"},
	{"/landscape.jpg?width=500&bw=atkinson&format=png", "1-bit Atkinson dither, as PNG"},
	{"/landscape.jpg?width=480&blur=4", "Gaussian blur"},
	{"/landscape.jpg?width=300&orient=r", "turned right"},
	{"/landscape.jpg?width=600&dpr=2&quality=70", "600 px at device pixel ratio 2 (1200 px), quality 70"},
	{"/portrait.jpg?width=300&height=300&fit=crop", "tall image, square crop"},
	{"/portrait.jpg?height=400&fit=bounds&canvas=400,400&bg-color=111827", "letterboxed on a dark 400×400 canvas"},
	{"/badge.png?width=300&canvas=400,400&bg-color=ffd54f", "PNG with soft alpha on a yellow canvas"},
	{"/badge.png?width=200&format=jpg&bg-color=1e293b", "alpha flattened onto a background, as JPEG"},
	{"/spinner.gif?width=100", "animated GIF in, animated GIF out: every frame resized alike"},
	{"/spinner.gif?width=100&format=mp4", "the animated GIF as an H.264 video (a fraction of the bytes)"},
}

// imageExts are the extensions dirExamples looks for.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true}

// dirExamples suggests requests for up to three images at the top of dir.
func dirExamples(dir string) []example {
	entries, _ := os.ReadDir(dir) // no suggestions on error; requests will tell
	var out []example
	for _, e := range entries {
		if !e.Type().IsRegular() || !imageExts[strings.ToLower(path.Ext(e.Name()))] {
			continue
		}
		p := "/" + url.PathEscape(e.Name())
		out = append(out, example{p + "?width=300", e.Name() + " at 300 px wide"})
		if len(out) == 1 {
			out = append(out, example{p + "?width=300&height=300&fit=crop", e.Name() + " as a 300×300 thumbnail"})
		}
		if len(out) >= 4 {
			break
		}
	}
	if len(out) == 0 {
		out = append(out, example{"/PATH?width=300", "any image below the directory, 300 px wide"})
	}
	return out
}

// printBanner tells the user what is served where, with example URLs one
// per line.
func printBanner(w io.Writer, base string, src *source, cfg *config) {
	cache := "off"
	if n := int64(cfg.cacheSize); n > 0 {
		cache = fmt.Sprintf("%s (%s results, %s originals)", formatSize(n), formatSize(n-n/3), formatSize(n/3))
	}
	fmt.Fprintf(w, "imageopto: serving %s at %s/\ncache: %s\n%s\ntry:\n", src.describe, base, cache, cfg.backend.describe())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range src.examples {
		fmt.Fprintf(tw, "  %s%s\t%s\n", base, e.Path, e.What)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nor open %s/ for the playground, %s/examples for all of them. Ctrl-C stops.\n\n", base, base)
}

// indexTemplate is the page at /examples: every example as a link and a
// picture.
var indexTemplate = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><meta charset="utf-8"><title>imageopto</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #1f2937 }
figure { display: inline-block; vertical-align: top; margin: 0 1.5rem 1.5rem 0; max-width: 320px }
img, video { max-width: 320px; max-height: 320px; background: repeating-conic-gradient(#e5e7eb 0 25%, #fff 0 50%) 0 0 / 16px 16px }
code { font-size: 12px; word-break: break-all }
</style>
<h1>imageopto</h1>
<p>Serving {{.Describe}}. Each picture below is a live request: change the query in the address bar to try others,
or try every parameter in the <a href="/">playground</a>.</p>
{{range .Examples}}{{if .IsPattern}}<p><code>{{.Path}}</code>: {{.What}}</p>
{{else if .IsVideo}}<figure><a href="{{.Path}}"><video src="{{.Path}}" autoplay loop muted playsinline></video></a>
<figcaption><code>{{.Path}}</code><br>{{.What}}</figcaption></figure>
{{else}}<figure><a href="{{.Path}}"><img src="{{.Path}}" alt="" loading="lazy"></a>
<figcaption><code>{{.Path}}</code><br>{{.What}}</figcaption></figure>
{{end}}{{end}}</html>
`))

// indexHandler serves the index page.
func indexHandler(src *source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_ = indexTemplate.Execute(w, struct {
			Describe string
			Examples []example
		}{src.describe, src.examples})
	})
}
