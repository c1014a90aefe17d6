package main

// A fault-injecting TCP proxy for one directed link between two cluster
// members, on loopback. The member that dials (the client side, "down")
// sends requests; the member dialled (the server side, "up") answers. Its
// mode can be switched at any time and applies to the connections already
// open as well as to new ones.
//
// Bytes are never dropped from the middle of a stream that goes on: a
// connection that loses bytes (a blackhole, a stall, a one-way link) is
// "poisoned" — everything after is discarded, in both directions — and it
// is reset when the link heals, as a TCP connection whose packets were lost
// ends in a timeout, never in a stream with a hole in it.

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

type linkMode int

const (
	modePass      linkMode = iota
	modeBlackhole          // accept, forward nothing, answer nothing
	modeReset              // reset every connection at once
	modeStall              // answers stop after stallAfter bytes per connection
	modeOneWay             // requests arrive, answers never come back
)

func (m linkMode) String() string {
	return [...]string{"pass", "blackhole", "reset", "stall", "one-way"}[m]
}

// linkSettings are a link's faults; the zero value passes everything.
type linkSettings struct {
	mode            linkMode
	latency, jitter time.Duration // added to each chunk, each direction
	bandwidth       int           // bytes per second, each direction (0: no limit)
	stallAfter      int           // modeStall: answer bytes passed per connection
}

// link proxies connections to upstream.
type link struct {
	ln       net.Listener
	upstream string

	mu    sync.Mutex
	set   linkSettings
	conns map[*pconn]struct{}
	// The time each direction is busy until, for the bandwidth limit: the
	// limit is the link's, shared by its connections.
	busy [2]time.Time
}

// pconn is one proxied connection.
type pconn struct {
	down, up net.Conn
	poisoned atomic.Bool
	answered atomic.Int64 // answer bytes passed
	once     sync.Once
}

func (c *pconn) close(reset bool) {
	c.once.Do(func() {
		for _, conn := range []net.Conn{c.down, c.up} {
			if conn == nil {
				continue
			}
			if tc, ok := conn.(*net.TCPConn); ok && reset {
				_ = tc.SetLinger(0) // RST instead of FIN
			}
			_ = conn.Close()
		}
	})
}

func newLink(upstream string) (*link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &link{ln: ln, upstream: upstream, conns: map[*pconn]struct{}{}}
	go l.accept()
	return l, nil
}

func (l *link) addr() string { return l.ln.Addr().String() }

// apply switches the link's faults. Healing (pass) resets the poisoned
// connections; a reset mode resets every open connection.
func (l *link) apply(s linkSettings) {
	l.mu.Lock()
	l.set = s
	var victims []*pconn
	for c := range l.conns {
		if s.mode == modeReset || s.mode == modePass && c.poisoned.Load() {
			victims = append(victims, c)
		}
	}
	l.mu.Unlock()
	for _, c := range victims {
		l.drop(c, true)
	}
}

func (l *link) settings() linkSettings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.set
}

func (l *link) drop(c *pconn, reset bool) {
	c.close(reset)
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

func (l *link) closeAll() {
	_ = l.ln.Close()
	l.mu.Lock()
	var all []*pconn
	for c := range l.conns {
		all = append(all, c)
	}
	l.mu.Unlock()
	for _, c := range all {
		l.drop(c, true)
	}
}

func (l *link) accept() {
	for {
		down, err := l.ln.Accept()
		if err != nil {
			return
		}
		go l.handle(down)
	}
}

func (l *link) handle(down net.Conn) {
	c := &pconn{down: down}
	s := l.settings()
	switch s.mode {
	case modeReset:
		c.close(true)
		return
	case modeBlackhole:
		c.poisoned.Store(true)
	}
	l.mu.Lock()
	l.conns[c] = struct{}{}
	l.mu.Unlock()
	if !c.poisoned.Load() {
		up, err := net.DialTimeout("tcp", l.upstream, 2*time.Second)
		if err != nil {
			l.drop(c, true)
			return
		}
		c.up = up
	}
	var wg sync.WaitGroup
	wg.Go(func() { l.pump(c, down, c.up, 0) })
	if c.up != nil {
		wg.Go(func() { l.pump(c, c.up, down, 1) })
	}
	wg.Wait()
	l.drop(c, false)
}

// chunk is data on its way, due at a time.
type chunk struct {
	data []byte
	due  time.Time
}

// pump copies src to dst for one direction (0: requests, 1: answers),
// applying the link's faults to each chunk as it arrives.
func (l *link) pump(c *pconn, src, dst net.Conn, dir int) {
	queue := make(chan chunk, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ch := range queue {
			if d := time.Until(ch.due); d > 0 {
				time.Sleep(d)
			}
			// (What was queued before the link failed was sent before it.)
			if err := l.write(dst, ch.data, dir); err != nil {
				c.close(true)
				return
			}
		}
	}()
	defer func() {
		close(queue)
		<-done
		c.close(false) // the other direction ends too: HTTP needs no half-close
	}()
	var last time.Time
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			s := l.settings()
			data := append([]byte(nil), buf[:n]...)
			switch {
			case s.mode == modeBlackhole:
				c.poisoned.Store(true)
			case s.mode == modeReset:
				c.close(true)
				return
			case s.mode == modeOneWay && dir == 1:
				c.poisoned.Store(true)
			case s.mode == modeStall && dir == 1:
				if left := int64(s.stallAfter) - c.answered.Load(); left < int64(n) {
					data = data[:max(left, 0)]
					c.poisoned.Store(true)
				}
			}
			if c.poisoned.Load() && (s.mode != modeStall || len(data) == 0) {
				// Discard; a stall lets through what came before it.
				data = nil
			}
			if dir == 1 {
				c.answered.Add(int64(len(data)))
			}
			if len(data) > 0 {
				due := time.Now().Add(s.latency)
				if s.jitter > 0 {
					due = due.Add(time.Duration(rand.Int64N(int64(2*s.jitter))) - s.jitter)
				}
				due = maxTime(due, last) // in order
				last = due
				select {
				case queue <- chunk{data, due}:
				default:
					c.close(true) // more queued than any test sends: give up
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// write sends data, within the link's bandwidth in direction dir.
func (l *link) write(dst net.Conn, data []byte, dir int) error {
	for len(data) > 0 {
		s := l.settings()
		n := len(data)
		if s.bandwidth > 0 {
			n = min(n, max(s.bandwidth/20, 512)) // ~50 ms of the link at a time
			cost := time.Duration(float64(n) / float64(s.bandwidth) * float64(time.Second))
			l.mu.Lock()
			start := maxTime(time.Now(), l.busy[dir])
			l.busy[dir] = start.Add(cost)
			l.mu.Unlock()
			time.Sleep(time.Until(start.Add(cost)))
		}
		if _, err := dst.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// installPeerRoutes makes this process (a member started by the fault
// suite) dial its peers through the proxies named in routes, a JSON object
// "peer address" → "proxy address". Empty routes change nothing.
func installPeerRoutes(routes string) error {
	if routes == "" {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(routes), &m); err != nil {
		return err
	}
	var d net.Dialer
	peerDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if via, ok := m[addr]; ok {
			addr = via
		}
		return d.DialContext(ctx, network, addr)
	}
	return nil
}
