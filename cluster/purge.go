package cluster

// Purges between members: a member that purges posts the records to every
// other (BroadcastPurges); each member's health answer carries the digest
// of its purge log, and a member that sees a digest unlike its own pulls
// that member's log and merges it (anti-entropy), so a member that was cut
// off catches up within a probe interval of being reachable again.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/imageopto/imageopto"
)

// StartPurges implements imageopto.TierPurger: imageopto.New gives the
// Cluster the handler's purge log.
func (c *Cluster) StartPurges(log *imageopto.PurgeLog) { c.purges.Store(log) }

func (c *Cluster) purgeDigest() string {
	if l := c.purges.Load(); l != nil {
		return l.Digest()
	}
	return ""
}

// BroadcastPurges implements imageopto.TierPurger: it posts the records to
// every other member at once, each request bounded by PeerTimeout and
// ctx. Members marked down are not asked. The error wraps
// imageopto.ErrPurgeIncomplete and names the members not reached; they
// catch up from the others' purge logs when they are reachable again.
func (c *Cluster) BroadcastPurges(ctx context.Context, recs []imageopto.PurgeRecord) error {
	body, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	peers := c.peerList()
	var mu sync.Mutex
	var missed []string
	var wg sync.WaitGroup
	for _, p := range peers {
		if !p.isUp() {
			mu.Lock()
			missed = append(missed, p.url+" (down)")
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			if err := p.postPurges(ctx, body); err != nil {
				mu.Lock()
				missed = append(missed, p.url+" ("+err.Error()+")")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(missed) > 0 {
		return fmt.Errorf("%w: %d of %d members not reached: %s", imageopto.ErrPurgeIncomplete,
			len(missed), len(peers), strings.Join(missed, "; "))
	}
	return nil
}

func (p *peer) postPurges(ctx context.Context, body []byte) error {
	c := p.c
	ctx, cancel := context.WithTimeout(ctx, c.opts.PeerTimeout)
	defer cancel()
	stop := context.AfterFunc(p.done(), cancel)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+c.opts.BasePath+"purge", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set(headerSecret, c.opts.Secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// maxPurgeBody bounds a purge request or log read from a peer.
const maxPurgeBody = 64 << 20

// servePurge merges the records a member posts.
func (c *Cluster) servePurge(w http.ResponseWriter, r *http.Request) {
	l := c.purges.Load()
	if l == nil {
		http.Error(w, "no purge log", http.StatusServiceUnavailable)
		return
	}
	var recs []imageopto.PurgeRecord
	if err := json.NewDecoder(io.LimitReader(r.Body, maxPurgeBody)).Decode(&recs); err != nil {
		http.Error(w, "bad purge records", http.StatusBadRequest)
		return
	}
	n, err := l.Merge(r.Context(), recs)
	if n > 0 {
		c.log.Info("cluster: purges received", "records", len(recs), "new", n)
	}
	if err != nil {
		// Applied in memory, not kept: still an answer the sender must see.
		http.Error(w, "purge applied but not saved", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// servePurges answers this member's purge log.
func (c *Cluster) servePurges(w http.ResponseWriter, _ *http.Request) {
	var recs []imageopto.PurgeRecord
	if l := c.purges.Load(); l != nil {
		recs = l.Records()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(recs)
}

// syncPurges pulls the peer's purge log and merges it; one pull per peer
// at a time.
func (p *peer) syncPurges(ctx context.Context) {
	l := p.c.purges.Load()
	if l == nil || !p.syncing.CompareAndSwap(false, true) {
		return
	}
	defer p.syncing.Store(false)
	ctx, cancel := context.WithTimeout(ctx, p.c.opts.PeerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+p.c.opts.BasePath+"purges", nil)
	if err != nil {
		return
	}
	req.Header.Set(headerSecret, p.c.opts.Secret)
	resp, err := p.c.client.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	var recs []imageopto.PurgeRecord
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxPurgeBody)).Decode(&recs); err != nil {
		p.c.log.Warn("cluster: bad purge log from a peer", "peer", p.url, "err", err)
		return
	}
	if n, _ := l.Merge(ctx, recs); n > 0 {
		p.c.purgeSyncs.Add(1)
		p.c.log.Info("cluster: caught up on purges", "peer", p.url, "new", n)
	}
}

// errStalled is a peer's answer whose body stopped arriving.
var errStalled = errors.New("cluster: peer's answer stalled")

// readWatched reads at most limit bytes of r, calling cancel (which must
// make r's reads fail) when no byte arrives for stall.
func readWatched(r io.Reader, limit int64, stall time.Duration, cancel func()) ([]byte, error) {
	var stalled bool
	var mu sync.Mutex
	t := time.AfterFunc(stall, func() {
		mu.Lock()
		stalled = true
		mu.Unlock()
		cancel()
	})
	defer t.Stop()
	r = io.LimitReader(r, limit)
	buf := make([]byte, 0, 32<<10)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n > 0 {
			t.Reset(stall)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			mu.Lock()
			s := stalled
			mu.Unlock()
			if s {
				return nil, fmt.Errorf("%w (no byte for %v)", errStalled, stall)
			}
			return nil, err
		}
	}
}
