package imageopto_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/imageopto/imageopto"
)

// The overlay grammar: strict, with every error named, and a canonical form.
func ExampleParseOverlay() {
	o, err := imageopto.ParseOverlay("overlay-base64=L2ltZy93bS5wbmc&overlay-width=0.2&overlay-align=bottom,right")
	if err != nil {
		panic(err)
	}
	fmt.Println(o.Path, o.Width.Value, o.AlignY, o.AlignX)
	fmt.Println(o.Encode())

	_, err = imageopto.ParseOverlay("overlay=/img/wm.png&overlay-repeat=sometimes")
	fmt.Println(err)
	// Output:
	// /img/wm.png 20 bottom right
	// overlay=/img/wm.png&overlay-align=bottom,right&overlay-width=20p
	// overlay-repeat=sometimes: must be x, y or both
}

// A watermark on every image a Handler serves, set by its hook. The
// overlay image is fetched from the handler's origin like any original.
func ExampleOverlay_hook() {
	wm, err := imageopto.ParseOverlay("overlay=/img/wm.png&overlay-width=20p&overlay-align=bottom,right&overlay-pad=10")
	if err != nil {
		panic(err)
	}
	origin, err := imageopto.NewDirOrigin("/srv/photos", 0)
	if err != nil {
		return
	}
	h, err := imageopto.New(origin, &imageopto.Options{
		Hook: func(_ context.Context, r *imageopto.Request) error {
			r.Overlay = &wm
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	http.Handle("/img/", http.StripPrefix("/img", h))
}
