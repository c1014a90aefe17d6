//go:build cluster || full

package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/cluster"
)

const hasCluster = true

// clusterTier is the peer tier of package cluster.
type clusterTier struct{ c *cluster.Cluster }

func (t clusterTier) Handler() http.Handler { return t.c.Handler() }
func (t clusterTier) stats() any            { return t.c.Stats() }
func (t clusterTier) counts() peerCounts {
	st := t.c.Stats()
	return peerCounts{Members: st.Members, Healthy: st.Healthy, Forwarded: st.Forwarded, ForwardErrors: st.ForwardErrors}
}

// noPeerStats is what /_imageopto/stats reports for a server outside a
// cluster: the zero statistics.
func noPeerStats() any { return cluster.Stats{} }

// selfURL is -self, or the URL -peer-addr or -addr gives when it names a
// host.
func (b *backendFlags) selfURL(addr string) (string, error) {
	if b.self != "" {
		return b.self, nil
	}
	if b.peerAddr != "" {
		addr = b.peerAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() || port == "0" {
		return "", errors.New("-peers needs -self when -addr does not name this server's host and port")
	}
	scheme := "http://"
	if b.peerTLS.cert != "" {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port), nil
}

// openCluster joins the cluster -peers names, over TLS with tlsConf and
// through dial when they are not nil; closeAll leaves it.
func (b *backendFlags) openCluster(cfg *config, tlsConf *tls.Config, dial dialFunc, logger *slog.Logger) (_ peerTier, _ imageopto.Tier, closeAll func(), _ error) {
	self, err := b.selfURL(cfg.addr)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := url.Parse(self)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("-self: %w", err)
	}
	p, _ := strconv.Atoi(u.Port())
	members, err := cluster.ParsePeers(b.peers, p)
	if err != nil {
		return nil, nil, nil, err
	}
	co := cluster.Options{Self: self, Peers: members, Secret: b.peerSecret[0], AcceptSecrets: b.peerSecret[1:], Logger: logger}
	if tlsConf != nil || dial != nil {
		t := cluster.NewTransport(tlsConf)
		if dial != nil {
			t.DialContext = dial
		}
		co.Transport = t
	}
	// The peer tier keeps what this server owns (and hot copies of
	// popular keys others own): as much again as -cache-size, and next
	// to nothing when it is 0 (fills are still shared, not kept).
	size := max(int64(cfg.cacheSize), 3<<20)
	co.MetaBytes, co.SourceBytes, co.ResultBytes = max(size/64, 1<<20), size/3, size-size/3
	c, err := cluster.New(co)
	if err != nil {
		return nil, nil, nil, err
	}
	return clusterTier{c}, c, func() { _ = c.Close() }, nil
}
