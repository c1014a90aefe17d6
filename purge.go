package imageopto

// This file is purging: Handler.Purge and SoftPurge, the purge log that
// every cache lookup consults, and its durable stores. A purge deletes
// nothing: it raises the original's purge generation, and every entry made
// under an older generation — in memory, on disk, in Redis or S3, in a
// peer's cache — becomes unreachable (hard) or stale (soft) wherever it is
// found. The generation travels with the records a Tier shares, so a
// member that missed the purge catches up when it hears from any member
// that did not.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrPurgeIncomplete is returned (wrapped) by Handler.Purge when the purge
// holds on this machine but the Tier could not deliver it to every member:
// those members learn it when they are reachable again (see TierPurger).
var ErrPurgeIncomplete = errors.New("imageopto: purge not delivered to every member")

// PurgeRecord is what a purge leaves behind for one original: the purge
// generations of its latest hard and soft purge (0: none). A generation is
// the time the purge was asked, in Unix nanoseconds, made larger than every
// generation the asking machine knew for the path, so generations of one
// path only grow. Records merge field by field with max, in any order, any
// number of times. The record with the empty Path is the floor: a hard
// purge of every original, left when old records were folded away (see
// Options.MaxPurgeRecords).
type PurgeRecord struct {
	Path string `json:"p"`
	Hard int64  `json:"h,omitempty"`
	Soft int64  `json:"s,omitempty"`
}

// PurgeStore keeps purge records across restarts, so that a machine whose
// caches survive it (a disk cache, Redis, S3) does not serve what was purged
// before it started. LoadPurges returns every record (with an error, what
// it could read: the handler uses it and asks again); SavePurges writes
// records (a record with Hard and Soft both 0 forgets its path). The server
// command keeps them next to -disk-cache and in -redis. Implementations
// must be safe for concurrent use.
type PurgeStore interface {
	LoadPurges(ctx context.Context) ([]PurgeRecord, error)
	SavePurges(ctx context.Context, recs []PurgeRecord) error
}

// TierPurger is implemented by a Tier that carries purges to the other
// members (package cluster does). New calls StartPurges once, after Start,
// with the handler's purge log; the tier merges what other members send
// into it (PurgeLog.Merge) and compares digests (PurgeLog.Digest) with
// them to catch up on purges it missed. Handler.Purge calls
// BroadcastPurges, which returns an error wrapping ErrPurgeIncomplete when
// some member was not reached.
type TierPurger interface {
	StartPurges(log *PurgeLog)
	BroadcastPurges(ctx context.Context, recs []PurgeRecord) error
}

// purgeState is the purge generations that apply to one original.
type purgeState struct{ hard, soft int64 }

// gen is the generation an entry made now carries.
func (p purgeState) gen() int64 { return max(p.hard, p.soft) }

// suffix names the state in flight and tier keys ("" when never purged).
func (p purgeState) suffix() string {
	if p == (purgeState{}) {
		return ""
	}
	return "p" + strconv.FormatInt(p.hard, 10) + "." + strconv.FormatInt(p.soft, 10)
}

// parsePurgeSuffix reads what suffix wrote.
func parsePurgeSuffix(s string) (purgeState, bool) {
	s, ok := strings.CutPrefix(s, "p")
	h, so, ok2 := strings.Cut(s, ".")
	if !ok || !ok2 {
		return purgeState{}, false
	}
	hard, err1 := strconv.ParseInt(h, 10, 64)
	soft, err2 := strconv.ParseInt(so, 10, 64)
	if err1 != nil || err2 != nil || hard < 0 || soft < 0 {
		return purgeState{}, false
	}
	return purgeState{hard, soft}, true
}

// PurgeLog is a handler's table of purges: per purged original, its latest
// hard and soft purge generations, and the floor. It is bounded
// (Options.MaxPurgeRecords); records older than the longest any entry can
// live (MaxTTL + StaleTTL) are dropped. A Tier exchanges it with the other
// members; it is safe for concurrent use.
type PurgeLog struct {
	mu        sync.RWMutex
	recs      map[string]PurgeRecord
	floor     int64
	digest    [16]byte // XOR of the hashes of the records and the floor
	max       int
	retention time.Duration
	store     PurgeStore
	now       func() time.Time
	log       *slog.Logger
}

func newPurgeLog(o *Options) *PurgeLog {
	return &PurgeLog{recs: map[string]PurgeRecord{}, max: o.MaxPurgeRecords,
		retention: o.MaxTTL + o.StaleTTL, store: o.PurgeStore, now: time.Now, log: o.Logger}
}

// state returns the purge generations that apply to path.
func (l *PurgeLog) state(path string) purgeState {
	l.mu.RLock()
	defer l.mu.RUnlock()
	r := l.recs[path]
	return purgeState{hard: max(r.Hard, l.floor), soft: r.Soft}
}

func recordHash(r PurgeRecord) [16]byte {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", r.Path, r.Hard, r.Soft))
	return [16]byte(sum[:16])
}

func (l *PurgeLog) xor(r PurgeRecord) {
	h := recordHash(r)
	for i := range h {
		l.digest[i] ^= h[i]
	}
}

// Digest summarises the log: two logs with the same records have the same
// digest.
func (l *PurgeLog) Digest() string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.recs) == 0 && l.floor == 0 {
		return "0"
	}
	return hex.EncodeToString(l.digest[:])
}

// Records returns every record, the floor (Path "") first when there is
// one.
func (l *PurgeLog) Records() []PurgeRecord {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]PurgeRecord, 0, len(l.recs)+1)
	if l.floor != 0 {
		out = append(out, PurgeRecord{Hard: l.floor})
	}
	for _, r := range l.recs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b PurgeRecord) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Len returns the number of records (the floor not counted).
func (l *PurgeLog) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.recs)
}

// MaxPurgeSkew bounds the generations a PurgeLog accepts from elsewhere
// (PurgeLog.Merge: other members, tier keys, the PurgeStore): a generation
// later than the log's clock plus MaxPurgeSkew is lowered to that. A member
// whose clock runs far ahead, or a peer that sends a far-future
// generation, could otherwise plant a record that never leaves the log
// (records leave it when they are older than the retention) and push
// every later purge of the path into that future. A lowered record
// differs from the sender's until the clocks pass it, so digests may
// disagree for up to MaxPurgeSkew plus the clocks' difference; merging
// makes them agree when they do.
const MaxPurgeSkew = time.Minute

// Merge adds records to the log (field by field, the larger generation
// wins) and writes those that changed it to the PurgeStore. Generations
// later than now plus MaxPurgeSkew are lowered to that. It returns how
// many changed the log, and the store's error.
func (l *PurgeLog) Merge(ctx context.Context, recs []PurgeRecord) (int, error) {
	changed := l.merge(recs, true)
	return len(changed), l.save(ctx, changed)
}

// mergeOwn is Merge for the records this handler's own purges made
// (next): not clamped, so that a purge always raises the generation even
// just after a clamped record.
func (l *PurgeLog) mergeOwn(ctx context.Context, recs []PurgeRecord) error {
	return l.save(ctx, l.merge(recs, false))
}

// merge applies records and returns what changed (for the store: records,
// and forgotten paths as zero records). clamp lowers generations past the
// clock plus MaxPurgeSkew.
func (l *PurgeLog) merge(recs []PurgeRecord, clamp bool) []PurgeRecord {
	now := l.now()
	oldest := now.Add(-l.retention).UnixNano()
	latest := now.Add(MaxPurgeSkew).UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	var changed []PurgeRecord
	for _, r := range recs {
		if r.Hard < 0 || r.Soft < 0 {
			continue
		}
		if clamp {
			r.Hard, r.Soft = min(r.Hard, latest), min(r.Soft, latest)
		}
		if r.Path == "" {
			if r.Hard > l.floor {
				changed = append(changed, l.raiseFloorLocked(r.Hard)...)
			}
			continue
		}
		if max(r.Hard, r.Soft) < oldest {
			continue // past the life of anything it purged
		}
		old, had := l.recs[r.Path]
		n := PurgeRecord{Path: r.Path, Hard: max(old.Hard, r.Hard), Soft: max(old.Soft, r.Soft)}
		if had && n == old || max(n.Hard, n.Soft) <= l.floor {
			continue
		}
		if had {
			l.xor(old)
		}
		l.recs[r.Path] = n
		l.xor(n)
		changed = append(changed, n)
	}
	if len(l.recs) > l.max {
		changed = append(changed, l.foldLocked(oldest)...)
	}
	return changed
}

// raiseFloorLocked sets the floor and drops the records it covers.
func (l *PurgeLog) raiseFloorLocked(floor int64) []PurgeRecord {
	if l.floor != 0 {
		l.xor(PurgeRecord{Hard: l.floor})
	}
	l.floor = floor
	l.xor(PurgeRecord{Hard: floor})
	changed := []PurgeRecord{{Hard: floor}}
	for p, r := range l.recs {
		if max(r.Hard, r.Soft) <= floor {
			l.xor(r)
			delete(l.recs, p)
			changed = append(changed, PurgeRecord{Path: p})
		}
	}
	return changed
}

// foldLocked bounds the log: records past the retention go first; if that
// is not enough, the oldest tenth is folded into the floor, which purges
// (hard) every original whose record is older than the newest dropped.
func (l *PurgeLog) foldLocked(oldest int64) []PurgeRecord {
	var changed []PurgeRecord
	for p, r := range l.recs {
		if max(r.Hard, r.Soft) < oldest {
			l.xor(r)
			delete(l.recs, p)
			changed = append(changed, PurgeRecord{Path: p})
		}
	}
	if len(l.recs) <= l.max {
		return changed
	}
	gens := make([]int64, 0, len(l.recs))
	for _, r := range l.recs {
		gens = append(gens, max(r.Hard, r.Soft))
	}
	slices.Sort(gens)
	keep := l.max - l.max/10
	floor := gens[len(gens)-keep-1]
	l.log.Warn("imageopto: purge log full; older purges folded into a purge of every original", "records", len(l.recs), "max", l.max)
	return append(changed, l.raiseFloorLocked(floor)...)
}

func (l *PurgeLog) save(ctx context.Context, recs []PurgeRecord) error {
	if l.store == nil || len(recs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := l.store.SavePurges(ctx, recs); err != nil {
		l.log.Error("imageopto: saving purge records failed", "records", len(recs), "err", err)
		return fmt.Errorf("imageopto: saving purge records: %w", err)
	}
	return nil
}

// next returns the record of a new purge of path.
func (l *PurgeLog) next(path string, soft bool) PurgeRecord {
	l.mu.RLock()
	r := l.recs[path]
	floor := l.floor
	l.mu.RUnlock()
	gen := max(l.now().UnixNano(), r.Hard+1, r.Soft+1, floor+1)
	r.Path = path
	if soft {
		r.Soft = gen
	} else {
		r.Hard = gen
	}
	return r
}

// load reads the store at start-up, retrying in the background until
// every store answered.
func (l *PurgeLog) load() {
	if l.store == nil {
		return
	}
	try := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		recs, err := l.store.LoadPurges(ctx)
		changed := l.merge(recs, true)
		// Paths forgotten (past the retention, under the floor) and a
		// raised floor go back to the store; the rest is there already.
		oldest := l.now().Add(-l.retention).UnixNano()
		var back []PurgeRecord
		for _, r := range recs {
			if r.Path != "" && max(r.Hard, r.Soft) < oldest {
				back = append(back, PurgeRecord{Path: r.Path})
			}
		}
		for _, r := range changed {
			if r.Hard == 0 && r.Soft == 0 || r.Path == "" {
				back = append(back, r)
			}
		}
		_ = l.save(ctx, back)
		if err != nil {
			l.log.Error("imageopto: loading purge records failed; retrying", "err", err)
			return false
		}
		return true
	}
	if try() {
		return
	}
	go func() {
		for {
			time.Sleep(5 * time.Second)
			if try() {
				return
			}
		}
	}()
}

// Purge invalidates the originals at paths (origin paths, as the Origin
// sees them: after any Hook) and every result made from them, whatever the
// parameters, output format or origin query: the next request for any of
// them fetches the original again, unconditionally. Nothing is deleted:
// entries made before the purge become unreachable wherever they are
// kept — memory, disk, Redis, S3 — and are dropped by those caches'
// eviction. With a Tier that implements TierPurger (package cluster), the
// purge is sent to every member; a member that cannot be reached learns it
// when it is again, and until then may serve what it had. The purge holds
// here even when Purge returns an error wrapping ErrPurgeIncomplete (a
// member was not reached) or a PurgeStore error (it may not survive a
// restart).
func (h *Handler) Purge(ctx context.Context, paths ...string) error {
	return h.purge(ctx, paths, false)
}

// SoftPurge marks the originals at paths stale, like a CDN's soft purge:
// entries made before it are revalidated with the origin (a conditional
// request) before they are served again, served at once while that runs
// (Options.StaleWhileRevalidate, counted from the purge), and served when
// the origin fails (Options.StaleTTL). Delivery is as for Purge.
func (h *Handler) SoftPurge(ctx context.Context, paths ...string) error {
	return h.purge(ctx, paths, true)
}

func (h *Handler) purge(ctx context.Context, paths []string, soft bool) error {
	recs := make([]PurgeRecord, 0, len(paths))
	for _, p := range paths {
		clean, err := CleanPath(p)
		if err != nil {
			return err
		}
		recs = append(recs, h.purges.next(clean, soft))
	}
	if len(recs) == 0 {
		return nil
	}
	serr := h.purges.mergeOwn(ctx, recs)
	var berr error
	if tp, ok := h.opts.Tier.(TierPurger); ok {
		berr = tp.BroadcastPurges(ctx, recs)
	}
	err := errors.Join(berr, serr)
	kind := PurgeHard
	if soft {
		kind = PurgeSoft
	}
	for _, r := range recs {
		h.log.Info("imageopto: purged", "path", r.Path, "soft", soft)
		if h.obs != nil {
			h.obs.Observe(Event{Kind: EventPurge, Result: kind, Err: err})
		}
	}
	return err
}

// Purges returns the handler's purge log.
func (h *Handler) Purges() *PurgeLog { return h.purges }

// unpurged applies the purge state of an entry's original to the entry:
// nil when a hard purge came after it was made, a copy that is stale from
// the purge on when a soft one did.
func (h *Handler) unpurged(e *entry, ps purgeState) *entry {
	if e == nil || e.Gen >= ps.gen() {
		return e
	}
	if e.Gen < ps.hard {
		return nil
	}
	c := *e
	at := time.Unix(0, ps.soft)
	if now := h.now(); at.After(now) {
		at = now
	}
	if c.Expires.After(at) {
		c.Expires = at
	}
	return &c
}

// filePurgeStore keeps purge records in a file of JSON lines, appended to
// and compacted when loaded and when it has grown.
type filePurgeStore struct {
	mu   sync.Mutex
	path string
	// compactAt is the file size past which SavePurges compacts it: twice
	// its size after the last compaction, and at least minCompact.
	compactAt  int64
	minCompact int64
}

// minPurgeCompact is the smallest size at which a purge file is compacted
// when it grows (a few thousand records).
const minPurgeCompact = 256 << 10

// NewFilePurgeStore returns a PurgeStore that keeps records in the file at
// path (created when missing, in a directory that must exist): one JSON
// line per saved record, rewritten compactly at each load and whenever it
// has grown to twice its compacted size (and past 256 KiB), so that it
// stays bounded by the purge log it holds (Options.MaxPurgeRecords). The
// server command keeps it as purges.jsonl in -disk-cache.
func NewFilePurgeStore(path string) PurgeStore {
	return &filePurgeStore{path: path, minCompact: minPurgeCompact}
}

func (s *filePurgeStore) LoadPurges(ctx context.Context) ([]PurgeRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compactLocked()
}

// compactLocked reads the file, folds its lines into one record per path
// and rewrites it when that saves lines. s.mu is held.
func (s *filePurgeStore) compactLocked() ([]PurgeRecord, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	latest := map[string]PurgeRecord{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		var r PurgeRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue // a line torn by a crash
		}
		if _, ok := latest[r.Path]; !ok {
			order = append(order, r.Path)
		}
		if r.Hard == 0 && r.Soft == 0 {
			delete(latest, r.Path)
			continue
		}
		o := latest[r.Path]
		latest[r.Path] = PurgeRecord{Path: r.Path, Hard: max(o.Hard, r.Hard), Soft: max(o.Soft, r.Soft)}
	}
	out := make([]PurgeRecord, 0, len(latest))
	for _, p := range order {
		if r, ok := latest[p]; ok {
			out = append(out, r)
			delete(latest, p)
		}
	}
	size := int64(len(b))
	if lines > len(out) {
		if size, err = s.rewrite(out); err != nil {
			return nil, err
		}
	}
	s.compactAt = max(s.minCompact, 2*size)
	return out, nil
}

// rewrite replaces the file atomically and returns its new size. s.mu is
// held.
func (s *filePurgeStore) rewrite(recs []PurgeRecord) (int64, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range recs {
		_ = enc.Encode(r)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".purges-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), os.Rename(tmp.Name(), s.path)
}

func (s *filePurgeStore) SavePurges(ctx context.Context, recs []PurgeRecord) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range recs {
		_ = enc.Encode(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	fi, err := f.Stat()
	if err := errors.Join(err, f.Close()); err != nil {
		return err
	}
	if s.compactAt == 0 {
		s.compactAt = max(s.minCompact, 2*fi.Size()) // saved to before any load
	}
	if fi.Size() > s.compactAt {
		// Appended records are durable already: a failed compaction only
		// leaves the file long.
		_, _ = s.compactLocked()
	}
	return nil
}

// PurgeStores returns a PurgeStore that loads from every store (what they
// hold together, and the errors of those that failed) and saves to every
// one.
func PurgeStores(stores ...PurgeStore) PurgeStore { return multiPurgeStore(stores) }

type multiPurgeStore []PurgeStore

func (m multiPurgeStore) LoadPurges(ctx context.Context) ([]PurgeRecord, error) {
	var all []PurgeRecord
	var errs []error
	for _, s := range m {
		recs, err := s.LoadPurges(ctx)
		all = append(all, recs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return all, errors.Join(errs...)
}

func (m multiPurgeStore) SavePurges(ctx context.Context, recs []PurgeRecord) error {
	var errs []error
	for _, s := range m {
		if err := s.SavePurges(ctx, recs); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
