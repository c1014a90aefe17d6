package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCA makes certificates for the tests: a CA, and leaf certificates for
// 127.0.0.1 usable as server and client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf returns a certificate and key in PEM for 127.0.0.1, for servers and
// clients.
func (ca *testCA) leaf(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "member"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// tlsClient is an HTTPS client that trusts ca and presents the given
// client certificate (none when certPEM is nil).
func tlsClient(t *testing.T, ca *testCA, certPEM, keyPEM []byte) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	conf := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certPEM != nil {
		c, err := tls.X509KeyPair(certPEM, keyPEM)
		require.NoError(t, err)
		conf.Certificates = []tls.Certificate{c}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}
}

func gradientJPEG(t *testing.T, w, h int, shade uint8) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), shade, 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, nil))
	return b.Bytes()
}

// TestPeersOverTLS: three server processes whose peer listeners speak
// mutual TLS with certificates the test made, while their secrets rotate
// (one member already sends the new secret; all accept both). They find
// each other and share work; a client without a certificate, or with one
// from another CA, cannot reach the peer listener at all.
func TestPeersOverTLS(t *testing.T) {
	needFeature(t, "cluster")
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	dir := t.TempDir()
	ca := newTestCA(t, "imageopto peers")
	caFile := writeFile(t, dir, "ca.pem", ca.pem)
	jpg := gradientJPEG(t, 300, 200, 40)
	var fetches atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		time.Sleep(50 * time.Millisecond)
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(jpg)
	}))
	defer origin.Close()

	const oldSecret, newSecret = "the-old-peer-secret-0123", "the-new-peer-secret-4567"
	addrs := []string{stablePort(t), stablePort(t), stablePort(t)}
	peerAddrs := []string{stablePort(t), stablePort(t), stablePort(t)}
	var peers []string
	for _, a := range peerAddrs {
		peers = append(peers, "https://"+a)
	}
	for i := range addrs {
		cert, key := ca.leaf(t, int64(10+i))
		secrets := []string{"-peer-secret", oldSecret, "-peer-secret", newSecret}
		if i == 0 {
			secrets = []string{"-peer-secret", newSecret, "-peer-secret", oldSecret}
		}
		startServer(t, addrs[i], append(secrets, "-origin", origin.URL, "-peers", strings.Join(peers, ","),
			"-peer-addr", peerAddrs[i], "-self", peers[i],
			"-peer-tls-cert", writeFile(t, dir, "c"+peerAddrs[i], cert),
			"-peer-tls-key", writeFile(t, dir, "k"+peerAddrs[i], key), "-peer-tls-ca", caFile)...)
	}
	clientCert, clientKey := ca.leaf(t, 99)
	member := tlsClient(t, ca, clientCert, clientKey)
	stats := func(addr string) serverStats {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/_imageopto/stats", nil)
		req.Header.Set("Imageopto-Peer-Secret", oldSecret)
		resp, err := member.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var s serverStats
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
		return s
	}
	require.Eventually(t, func() bool {
		for _, a := range peerAddrs {
			if stats(a).Cluster.Healthy != 3 {
				return false
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond, "the members did not find each other over TLS")

	var wg sync.WaitGroup
	bodies := make([][]byte, 30)
	for i := range bodies {
		wg.Go(func() {
			resp, err := http.Get("http://" + addrs[i%3] + "/x.jpg?width=90&format=png")
			if err != nil {
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				bodies[i], _ = io.ReadAll(resp.Body)
			}
		})
	}
	wg.Wait()
	for i := range bodies {
		require.NotEmpty(t, bodies[i], "request %d failed", i)
		require.Equal(t, bodies[0], bodies[i])
	}
	var transforms int64
	for _, a := range peerAddrs {
		transforms += stats(a).Handler.Transforms
	}
	assert.EqualValues(t, 1, fetches.Load(), "one origin fetch cluster-wide, over TLS")
	assert.EqualValues(t, 1, transforms)

	// Without a client certificate, or with one from another CA, the
	// handshake fails: the secret is never even read.
	otherCert, otherKey := newTestCA(t, "someone else").leaf(t, 5)
	for name, c := range map[string]*http.Client{
		"no client certificate":  tlsClient(t, ca, nil, nil),
		"another CA's client":    tlsClient(t, ca, otherCert, otherKey),
		"plain HTTP to TLS port": {Timeout: 5 * time.Second},
	} {
		scheme := "https://"
		if strings.HasPrefix(name, "plain") {
			scheme = "http://"
		}
		req, _ := http.NewRequest(http.MethodGet, scheme+peerAddrs[0]+"/_imageopto/peer/health", nil)
		req.Header.Set("Imageopto-Peer-Secret", oldSecret)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			assert.NotEqual(t, http.StatusOK, resp.StatusCode, name)
			continue
		}
		assert.Error(t, err, name)
	}
}

// TestPurgeEndpointAlone: a server without -peers but with -peer-secret
// serves POST /_imageopto/purge behind the secret.
func TestPurgeEndpointAlone(t *testing.T) {
	var mu sync.Mutex
	data := gradientJPEG(t, 64, 48, 10)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(data)
	}))
	defer origin.Close()
	const secret = "a-purge-secret-0123456789"
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-origin", origin.URL, "-peer-secret", secret}, io.Discard,
			func(a string) { ready <- a })
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	get := func() []byte {
		resp, err := http.Get("http://" + addr + "/p.jpg?width=32&format=png")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	purge := func(secret, form string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/_imageopto/purge", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Imageopto-Peer-Secret", secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	before := get()
	mu.Lock()
	data = gradientJPEG(t, 64, 48, 250)
	mu.Unlock()
	assert.Equal(t, before, get(), "cached")
	for _, tc := range []struct {
		secret, form string
		code         int
	}{
		{"wrong-secret-0123456789", "path=p.jpg", http.StatusForbidden},
		{secret, "", http.StatusBadRequest},
		{secret, "path=../x", http.StatusBadRequest},
		{secret, "path=p.jpg&soft=1", http.StatusOK},
		{secret, "path=p.jpg&path=q.jpg", http.StatusOK},
	} {
		code, body := purge(tc.secret, tc.form)
		assert.Equal(t, tc.code, code, "%+v: %s", tc, body)
	}
	assert.NotEqual(t, before, get(), "purged")
}

// TestPurgeSurvivesRestart: with -disk-cache, a purge is kept next to the
// cache, so the result purged before a restart is not served from disk
// after it.
func TestPurgeSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	data := gradientJPEG(t, 64, 48, 10)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(data)
	}))
	defer origin.Close()
	const secret = "a-purge-secret-0123456789"
	serve := func() (string, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-origin", origin.URL, "-peer-secret", secret,
				"-disk-cache", dir, "-disk-cache-size", "16MiB"}, io.Discard, func(a string) { ready <- a })
		}()
		select {
		case a := <-ready:
			return a, func() { cancel(); require.NoError(t, <-done) }
		case err := <-done:
			t.Fatal(err)
		}
		return "", nil
	}
	get := func(addr string) []byte {
		resp, err := http.Get("http://" + addr + "/r.jpg?width=32&format=png")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	addr, stop := serve()
	before := get(addr)
	mu.Lock()
	data = gradientJPEG(t, 64, 48, 240)
	mu.Unlock()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/_imageopto/purge?path=r.jpg", nil)
	req.Header.Set("Imageopto-Peer-Secret", secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	stop()
	addr, stop = serve()
	defer stop()
	assert.NotEqual(t, before, get(addr), "the purged result must not come back from disk")
	_, err = os.Stat(filepath.Join(dir, "purges.jsonl"))
	assert.NoError(t, err)
}
