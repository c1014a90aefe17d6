// Command preset serves images by named preset instead of raw Fastly IO
// parameters: /cat.jpg?preset=thumb. A request hook (Options.Hook) swaps
// the preset's parameters in before anything is fetched, so the server,
// not the client, decides which variants exist, and with them what the
// cache and the CPU can be asked for.
//
//	go run ./examples/preset -dir ./photos
//	curl -s 'http://localhost:8080/cat.jpg?preset=thumb' -o thumb.jpg
//	curl -i 'http://localhost:8080/cat.jpg?preset=huge'   # 400: unknown preset
//	curl -i 'http://localhost:8080/cat.jpg?width=5000'    # 403: presets only
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/imageopto/imageopto"
)

// presetQueries are the variants clients may ask for.
var presetQueries = map[string]string{
	"thumb":  "width=200&height=200&fit=crop",
	"card":   "crop=3:2,smart&width=600",
	"hero":   "width=1600&height=600&fit=crop&quality=75",
	"avatar": "width=96&height=96&fit=crop&format=png",
}

func main() {
	dir := flag.String("dir", ".", "directory of original images")
	addr := flag.String("addr", "localhost:8080", "listen address")
	flag.Parse()

	// Parse every preset once: a typo fails here, not on each request.
	presets := map[string]imageopto.Params{}
	for name, q := range presetQueries {
		p, err := imageopto.ParseParams(q)
		if err != nil {
			log.Fatalf("preset %s: %v", name, err)
		}
		presets[name] = p
	}
	known := strings.Join(slices.Sorted(maps.Keys(presets)), ", ")

	hook := func(ctx context.Context, r *imageopto.Request) error {
		// r.Params holds the request's Fastly IO parameters; r.RawQuery the
		// whole query as received, among it preset. Nothing is passed on
		// to the origin (r.OriginQuery stays empty).
		q, _ := url.ParseQuery(r.RawQuery)
		name := q.Get("preset")
		if r.Params != (imageopto.Params{}) {
			return fmt.Errorf("%w: use ?preset= (%s)", imageopto.ErrForbidden, known) // 403
		}
		p, ok := presets[name]
		if !ok {
			return &imageopto.ParamError{Param: "preset", Value: name, Reason: "must be one of " + known} // 400
		}
		r.Params = p
		return nil
	}

	origin, err := imageopto.NewDirOrigin(*dir, 0)
	if err != nil {
		log.Fatal(err)
	}
	h, err := imageopto.New(origin, &imageopto.Options{Hook: hook})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("serving %s at http://%s/NAME?preset=%s", *dir, *addr, strings.ReplaceAll(known, ", ", "|"))
	log.Fatal(srv.ListenAndServe())
}
