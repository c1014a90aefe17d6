package imageopto

import (
	"errors"
	"testing"
)

// FuzzParseParams checks the parser's contract on arbitrary queries: strict
// mode either fails with *ParamErrors and the zero Params or returns Params
// that survive Encode and ParseParams unchanged; lenient mode never panics,
// always returns such Params, agrees with strict mode on valid queries and
// warns exactly when strict mode fails.
func FuzzParseParams(f *testing.F) {
	for _, tc := range paramValidCases {
		f.Add(tc.query)
	}
	for _, tc := range paramInvalidCases {
		f.Add(tc.query)
	}
	f.Add(paramsFullQuery)
	f.Add(paramsFullEncoded)

	f.Fuzz(func(t *testing.T, q string) {
		p, err := ParseParams(q)
		if err != nil {
			if p != (Params{}) {
				t.Fatalf("ParseParams(%q) failed but returned non-zero Params %+v", q, p)
			}
			checkAllParamErrors(t, q, err)
		} else {
			checkParamsRoundTrip(t, p)
		}

		lp, lerr := ParseParamsLenient(q)
		checkParamsRoundTrip(t, lp)
		if lerr != nil {
			checkAllParamErrors(t, q, lerr)
		}
		if (err == nil) != (lerr == nil) {
			t.Fatalf("query %q: strict error %v but lenient error %v", q, err, lerr)
		}
		if err == nil && lp != p {
			t.Fatalf("query %q: lenient %+v differs from strict %+v", q, lp, p)
		}
	})
}

// checkAllParamErrors asserts that err joins only *ParamErrors that wrap
// ErrInvalidParam.
func checkAllParamErrors(t *testing.T, q string, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidParam) {
		t.Fatalf("query %q: error %v does not wrap ErrInvalidParam", q, err)
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("query %q: error %T is not joined", q, err)
	}
	for _, e := range joined.Unwrap() {
		var pe *ParamError
		if !errors.As(e, &pe) || pe.Param == "" || pe.Reason == "" {
			t.Fatalf("query %q: %v is not a complete *ParamError", q, e)
		}
	}
}
