package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A PeerSource tells a Cluster who its members are. Implement it to take
// membership from your platform (for example the endpoints of a Kubernetes
// service); Static and DNS cover the common cases.
type PeerSource interface {
	// Peers returns the members' peer URLs (scheme://host:port), this
	// machine's among them.
	Peers(ctx context.Context) ([]string, error)
	// Interval is how often Peers is asked again; 0 means never (a fixed
	// list).
	Interval() time.Duration
}

// Static is a fixed member list.
type Static []string

// Peers returns the list.
func (s Static) Peers(context.Context) ([]string, error) { return s, nil }

// Interval returns 0: a static list is read once.
func (Static) Interval() time.Duration { return 0 }

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// DNS takes the members from the addresses a name resolves to (A and AAAA
// records), for example a Kubernetes headless service. Every address gets
// the same scheme and port.
type DNS struct {
	Name   string
	Port   int
	Scheme string // default "http"
	// Every is how often the name is resolved again. Default: 5 seconds.
	Every time.Duration
	// Resolver does the lookups. Default: net.DefaultResolver.
	Resolver Resolver
}

// Peers resolves the name.
func (d *DNS) Peers(ctx context.Context) ([]string, error) {
	if d.Name == "" || d.Port <= 0 || d.Port > 65535 {
		return nil, errors.New("cluster: DNS needs a name and a port")
	}
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupHost(ctx, d.Name)
	if err != nil {
		return nil, fmt.Errorf("cluster: resolving %s: %w", d.Name, err)
	}
	scheme := d.Scheme
	if scheme == "" {
		scheme = "http"
	}
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, scheme+"://"+net.JoinHostPort(a, strconv.Itoa(d.Port)))
	}
	slices.Sort(out)
	return out, nil
}

// Interval returns Every, or its default.
func (d *DNS) Interval() time.Duration {
	if d.Every > 0 {
		return d.Every
	}
	return 5 * time.Second
}

// ParsePeers reads the server command's -peers value: a comma-separated
// list of peer URLs, or "dns:NAME" or "dns:NAME:PORT" (the port defaults to
// defaultPort, normally the port of this machine's own URL).
func ParsePeers(s string, defaultPort int) (PeerSource, error) {
	s = strings.TrimSpace(s)
	if name, ok := strings.CutPrefix(s, "dns:"); ok {
		port := defaultPort
		if host, p, err := net.SplitHostPort(name); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("cluster: -peers %q: bad port", s)
			}
			name, port = host, n
		}
		d := &DNS{Name: name, Port: port}
		if name == "" || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("cluster: -peers %q: needs dns:NAME[:PORT]", s)
		}
		return d, nil
	}
	var list Static
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := normalizePeer(p)
		if err != nil {
			return nil, fmt.Errorf("cluster: -peers: %w", err)
		}
		list = append(list, n)
	}
	if len(list) == 0 {
		return nil, errors.New("cluster: -peers is empty")
	}
	return list, nil
}
