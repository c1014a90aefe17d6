// Command mux shows the usual way to use imageopto: mount its handler in an
// existing http.ServeMux, under a prefix, next to the application's own
// routes.
//
//	go run ./examples/mux -dir ./photos
//	curl -s 'http://localhost:8080/img/cat.jpg?width=300' -o cat-300.jpg
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/imageopto/imageopto"
)

func main() {
	dir := flag.String("dir", ".", "directory of original images")
	addr := flag.String("addr", "localhost:8080", "listen address")
	flag.Parse()

	// Originals come from a directory; requests cannot leave it.
	origin, err := imageopto.NewDirOrigin(*dir, 0)
	if err != nil {
		log.Fatal(err)
	}
	// nil options: in-memory caches, strict parameter parsing and the
	// other defaults documented on imageopto.Options.
	images, err := imageopto.New(origin, nil)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	// The application's own routes...
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello; images are under /img/, e.g. /img/cat.jpg?width=300")
	})
	// ...and the images. StripPrefix turns /img/cat.jpg into /cat.jpg, so
	// the handler fetches cat.jpg from the directory.
	mux.Handle("/img/", http.StripPrefix("/img", images))

	srv := &http.Server{
		Addr:              *addr,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      60 * time.Second,
	}
	log.Printf("serving %s at http://%s/img/", *dir, *addr)
	log.Fatal(srv.ListenAndServe())
}
