package peerauth

import (
	"net/http/httptest"
	"testing"
)

func TestAuthorized(t *testing.T) {
	hashed := Hash("0123456789abcdef", "fedcba9876543210")
	for _, tc := range []struct {
		name, header string
		set, want    bool
	}{
		{"first secret", "0123456789abcdef", true, true},
		{"second secret", "fedcba9876543210", true, true},
		{"wrong secret", "0123456789abcdeX", true, false},
		{"empty header", "", true, false},
		{"no header", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.set {
				r.Header.Set(Header, tc.header)
			}
			if got := Authorized(r, hashed); got != tc.want {
				t.Errorf("Authorized = %v, want %v", got, tc.want)
			}
		})
	}
	if Authorized(httptest.NewRequest("GET", "/", nil), nil) {
		t.Error("authorized with no secrets")
	}
}
