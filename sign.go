package imageopto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Query parameters that carry a URL signature. They are not Fastly IO
// parameters, never reach the origin and are not part of the cache key.
const (
	SignatureParam = "s"
	ExpiresParam   = "expires"
)

// MinSignKeyBytes is the shortest key a Signer accepts.
const MinSignKeyBytes = 16

// Signer signs and verifies URLs with HMAC-SHA256, so that only URLs made by
// the site owner are served (no parameter tampering: 300x301, 300x302, …).
// The signature covers the origin path, the canonical parameters
// (Params.Encode, so reordering or respelling a signed query keeps it valid
// and adding a parameter breaks it) and the optional expiry. Several keys
// may be given for rotation: the first signs, any verifies. A Signer is safe
// for concurrent use.
type Signer struct {
	keys [][]byte
	now  func() time.Time
}

// NewSigner returns a Signer. Every key must be at least MinSignKeyBytes
// long; the first one signs.
func NewSigner(keys ...[]byte) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("imageopto: NewSigner: no keys")
	}
	s := &Signer{now: time.Now}
	for i, k := range keys {
		if len(k) < MinSignKeyBytes {
			return nil, fmt.Errorf("imageopto: NewSigner: key %d is %d bytes, want at least %d", i, len(k), MinSignKeyBytes)
		}
		s.keys = append(s.keys, append([]byte(nil), k...))
	}
	return s, nil
}

// mac computes the signature of path, canonical query and expiry with key.
func mac(key []byte, path, canonical string, expires int64) []byte {
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "imageopto-v1\n%s\n%s\n%d", path, canonical, expires)
	return h.Sum(nil)
}

// Query returns the signed query string for an origin path and parameters:
// the canonical parameters, then expires= when expires is not zero, then
// s=SIGNATURE (base64url, 256 bits).
func (s *Signer) Query(path string, p Params, expires time.Time) (string, error) {
	path, err := CleanPath(path)
	if err != nil {
		return "", err
	}
	canonical := p.Encode()
	var exp int64
	if !expires.IsZero() {
		exp = expires.Unix()
	}
	sig := base64.RawURLEncoding.EncodeToString(mac(s.keys[0], path, canonical, exp))
	var b strings.Builder
	b.WriteString(canonical)
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + v)
	}
	if exp != 0 {
		add(ExpiresParam, strconv.FormatInt(exp, 10))
	}
	add(SignatureParam, sig)
	return b.String(), nil
}

// SignURL signs a URL path with its Fastly IO query, e.g.
// "/photos/cat.jpg?width=400", returning "/photos/cat.jpg?width=400&s=…".
// prefix is the part of the path that the handler does not see (the mount
// point removed by http.StripPrefix), e.g. "/img"; it is kept in the
// result but not signed. Query parameters that are not Fastly IO parameters
// are dropped. A zero expires makes the URL valid forever.
func (s *Signer) SignURL(rawURL, prefix string, expires time.Time) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("imageopto: SignURL: %w", err)
	}
	rest, ok := strings.CutPrefix(u.Path, prefix)
	if !ok {
		return "", fmt.Errorf("imageopto: SignURL: path %q does not start with %q", u.Path, prefix)
	}
	p, err := ParseParamsLenient(stripSignature(u.RawQuery))
	if err != nil {
		return "", fmt.Errorf("imageopto: SignURL: %w", err)
	}
	q, err := s.Query(rest, p, expires)
	if err != nil {
		return "", err
	}
	u.RawQuery = q
	return u.String(), nil
}

// ErrSignature is wrapped by every signature failure; StatusCode maps it to
// 403 through ErrForbidden.
var ErrSignature = fmt.Errorf("%w: bad signature", ErrForbidden)

// Verify checks the signature of a request for an origin path with parsed
// parameters p and its raw query (which holds s= and expires=). It returns
// nil or an error wrapping ErrSignature that says what was wrong (missing,
// malformed, expired, or not matching any key). The comparison takes the
// same time wherever the signatures differ.
func (s *Signer) Verify(path string, p Params, rawQuery string) error {
	var sig, exp string
	var nsig, nexp int
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case SignatureParam:
			sig, nsig = v, nsig+1
		case ExpiresParam:
			exp, nexp = v, nexp+1
		}
	}
	switch {
	case nsig == 0:
		return fmt.Errorf("%w: missing", ErrSignature)
	case nsig > 1 || nexp > 1:
		return fmt.Errorf("%w: repeated", ErrSignature)
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig) // no malleable trailing bits
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: malformed", ErrSignature)
	}
	var expires int64
	if nexp == 1 {
		if expires, err = strconv.ParseInt(exp, 10, 64); err != nil || expires <= 0 {
			return fmt.Errorf("%w: malformed expiry", ErrSignature)
		}
	}
	canonical := p.Encode()
	ok := false
	for _, k := range s.keys {
		// Every key is tried, so the time does not tell which one matched.
		if hmac.Equal(got, mac(k, path, canonical, expires)) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: does not match", ErrSignature)
	}
	if expires != 0 && s.now().Unix() > expires {
		return fmt.Errorf("%w: expired", ErrSignature)
	}
	return nil
}

// stripSignature removes s= and expires= from a raw query.
func stripSignature(raw string) string {
	var keep []string
	for _, part := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(part, "=")
		if part != "" && k != SignatureParam && k != ExpiresParam {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, "&")
}
