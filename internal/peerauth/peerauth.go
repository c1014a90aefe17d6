// Package peerauth checks the shared secret that servers of one deployment
// send each other (peer requests, the stats and purge endpoints). It is
// apart from package cluster so that a server built without the peer tier
// can still guard those endpoints without compiling groupcache.
package peerauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// Header carries the shared secret.
const Header = "Imageopto-Peer-Secret"

// Authorized reports whether r carries a secret whose SHA-256 is one of
// hashed, comparing in constant time.
func Authorized(r *http.Request, hashed [][32]byte) bool {
	got := sha256.Sum256([]byte(r.Header.Get(Header)))
	ok := 0
	for _, s := range hashed {
		ok |= subtle.ConstantTimeCompare(got[:], s[:])
	}
	return ok == 1
}

// Hash returns the SHA-256 of each secret, for Authorized.
func Hash(secrets ...string) [][32]byte {
	out := make([][32]byte, len(secrets))
	for i, s := range secrets {
		out[i] = sha256.Sum256([]byte(s))
	}
	return out
}
