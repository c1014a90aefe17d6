package imageopto_test

import (
	"errors"
	"fmt"

	"github.com/imageopto/imageopto"
)

// ExampleParseParams parses a query, prints its canonical form and shows how
// bad parameters are reported.
func ExampleParseParams() {
	p, err := imageopto.ParseParams("width=0.5&crop=4%3A3,offset-x10&bg-color=FFF&orient=r&dpr=1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Width.Value, p.Width.Unit == imageopto.UnitPercent)
	fmt.Println(p.Encode())

	_, err = imageopto.ParseParams("width=0&fit=stretch&quality=85")
	var pe *imageopto.ParamError
	fmt.Println(errors.Is(err, imageopto.ErrInvalidParam), errors.As(err, &pe), pe.Param)
	fmt.Println(err)
	// Output:
	// 50 true
	// bg-color=255,255,255&crop=4:3,offset-x10&orient=6&width=50p
	// true true width
	// width=0: must be a whole number of pixels between 1 and 8192, a fraction between 0 and 1, or a percentage like 50p (at most 1000p)
	// fit=stretch: must be bounds, cover or crop
}

// ExampleParseParamsLenient shows lenient mode: bad parameters are dropped
// and reported as warnings, and the last of repeated parameters wins.
func ExampleParseParamsLenient() {
	p, warnings := imageopto.ParseParamsLenient("width=abc&height=300&height=200&format=jpeg")
	fmt.Println(p.Encode())
	fmt.Println(warnings)
	// Output:
	// format=jpg&height=200
	// width=abc: must be a whole number of pixels between 1 and 8192, a fraction between 0 and 1, or a percentage like 50p (at most 1000p)
	// height=300: given more than once; a later value is used
}
