package imageopto

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	signKey1 = []byte("0123456789abcdef-first-key")
	signKey2 = []byte("fedcba9876543210-second-key")
)

func TestSignerRoundTrip(t *testing.T) {
	t.Parallel()
	s, err := NewSigner(signKey1)
	require.NoError(t, err)
	p, err := ParseParams("width=400&fit=crop&height=300")
	require.NoError(t, err)
	q, err := s.Query("photos/cat.jpg", p, time.Time{})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(q, "fit=crop&height=300&width=400&s="), q)
	require.NoError(t, s.Verify("photos/cat.jpg", p, q))

	signed, err := s.SignURL("https://cdn.example/img/photos/cat.jpg?width=400&height=300&fit=crop&utm=x", "/img", time.Time{})
	require.NoError(t, err)
	u, err := url.Parse(signed)
	require.NoError(t, err)
	assert.Equal(t, "/img/photos/cat.jpg", u.Path)
	assert.NotContains(t, u.RawQuery, "utm", "unknown parameters are dropped")
	require.NoError(t, s.Verify("photos/cat.jpg", p, u.RawQuery))
}

// TestSignerRefuses pins reliability §5.2 #28: missing, wrong, truncated,
// wrong key, expired, param added after signing.
func TestSignerRefuses(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	s, err := NewSigner(signKey1)
	require.NoError(t, err)
	s.now = func() time.Time { return now }
	other, err := NewSigner(signKey2)
	require.NoError(t, err)
	p, _ := ParseParams("width=400")
	good, err := s.Query("a.jpg", p, now.Add(time.Hour))
	require.NoError(t, err)
	expired, err := s.Query("a.jpg", p, now.Add(-time.Second))
	require.NoError(t, err)
	wrongKey, err := other.Query("a.jpg", p, now.Add(time.Hour))
	require.NoError(t, err)
	sig := good[strings.LastIndex(good, "=")+1:]
	flip := []byte(sig)
	flip[len(flip)/2] ^= 1
	if flip[len(flip)/2] == '_' || flip[len(flip)/2] == '-' { // stay in the alphabet
		flip[len(flip)/2] = 'A'
	}
	p500, _ := ParseParams("width=500")
	pMore, _ := ParseParams("width=400&blur=5")

	cases := []struct {
		name  string
		path  string
		p     Params
		query string
		why   string
	}{
		{"missing", "a.jpg", p, "width=400", "missing"},
		{"truncated", "a.jpg", p, strings.TrimSuffix(good, sig) + sig[:20], "malformed"},
		{"flipped bit", "a.jpg", p, strings.TrimSuffix(good, sig) + string(flip), "does not match"},
		{"wrong key", "a.jpg", p, wrongKey, "does not match"},
		{"expired", "a.jpg", p, expired, "expired"},
		{"value changed", "a.jpg", p500, good, "does not match"},
		{"param added", "a.jpg", pMore, good + "&blur=5", "does not match"},
		{"other path", "b.jpg", p, good, "does not match"},
		{"expiry extended", "a.jpg", p, strings.Replace(good, "expires=", "expires=9", 1), "does not match"},
		{"repeated", "a.jpg", p, good + "&s=" + sig, "repeated"},
	}
	for _, c := range cases {
		err := s.Verify(c.path, c.p, c.query)
		require.Error(t, err, c.name)
		assert.ErrorIs(t, err, ErrSignature, c.name)
		assert.Contains(t, err.Error(), c.why, c.name)
		assert.Equal(t, http.StatusForbidden, StatusCode(err), c.name)
	}
	require.NoError(t, s.Verify("a.jpg", p, good))
}

func TestSignerRotation(t *testing.T) {
	t.Parallel()
	old, _ := NewSigner(signKey1)
	rotated, err := NewSigner(signKey2, signKey1)
	require.NoError(t, err)
	p, _ := ParseParams("width=10")
	q, _ := old.Query("x.png", p, time.Time{})
	assert.NoError(t, rotated.Verify("x.png", p, q), "URLs signed with the old key still verify")
	q2, _ := rotated.Query("x.png", p, time.Time{})
	assert.Error(t, old.Verify("x.png", p, q2), "new URLs use the new key")

	_, err = NewSigner([]byte("short"))
	assert.Error(t, err)
	_, err = NewSigner()
	assert.Error(t, err)
}

func TestHandlerSigned(t *testing.T) {
	t.Parallel()
	s, err := NewSigner(signKey1)
	require.NoError(t, err)
	o := newFakeOrigin(map[string][]byte{"cat.png": samplePNG(t)})
	h := newTestHandler(t, o, &Options{Signer: s})
	signed, err := s.SignURL("/cat.png?height=20&width=30&v=2", "", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, get(h, signed).Code)
	// Reordered, same parameters: still valid.
	u, _ := url.Parse(signed)
	sig := u.Query().Get(SignatureParam)
	assert.Equal(t, http.StatusOK, get(h, "/cat.png?width=30&s="+sig+"&height=20").Code)
	for _, bad := range []string{"/cat.png?width=30&height=20", "/cat.png?width=31&height=20&s=" + sig, "/dog.png?height=20&width=30&s=" + sig} {
		w := get(h, bad)
		assert.Equal(t, http.StatusForbidden, w.Code, bad)
	}
	assert.Equal(t, int64(1), o.fetches.Load(), "refused requests never reach the origin")
}

// FuzzSigner: Verify never panics on any query, a signed query verifies,
// and no single-byte change of the signature verifies.
func FuzzSigner(f *testing.F) {
	f.Add("width=400", "a.jpg", "s=abc", 3)
	f.Add("crop=1:1,smart&format=webp", "x/y.png", "expires=1&s=", 0)
	f.Add("", "z.gif", "s=AAAA&s=BBBB", 7)
	s, err := NewSigner(signKey1)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query, path, raw string, pos int) {
		p, err := ParseParamsLenient(query)
		_ = err
		_ = s.Verify(path, p, raw) // must not panic
		q, err := s.Query(path, p, time.Time{})
		if err != nil {
			return // a bad path
		}
		clean, _ := CleanPath(path)
		if err := s.Verify(clean, p, q); err != nil {
			t.Fatalf("signed query does not verify: %v", err)
		}
		i := strings.LastIndex(q, "s=") + 2 + abs(pos)%43
		if i >= len(q) {
			return
		}
		b := []byte(q)
		b[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[(strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", b[i])+1)%64]
		if s.Verify(clean, p, string(b)) == nil {
			t.Fatalf("changed signature %q verifies", b)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
