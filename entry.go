package imageopto

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// entry is what the handler stores in a Cache: a transformed image (or an
// original, in the source cache, or a remembered 404/410) with its
// validators and freshness. Its encoding is the handler's own: a magic
// prefix, a length-prefixed JSON header, then the body bytes.
type entry struct {
	Status       int       `json:"s,omitempty"` // 0: an image; 404/410: remembered origin answer
	ContentType  string    `json:"ct,omitempty"`
	ETag         string    `json:"et,omitempty"`
	LastModified time.Time `json:"lm,omitzero"`
	Expires      time.Time `json:"ex"`
	NoStore      bool      `json:"ns,omitempty"`
	Vary         bool      `json:"v,omitempty"`
	Info         string    `json:"i,omitempty"`
	Warnings     []string  `json:"w,omitempty"`
	SourceETag   string    `json:"se,omitempty"`
	SourceHash   string    `json:"sh,omitempty"` // identity of the original's bytes
	Kind         string    `json:"k,omitempty"`  // a kept failure's sentinel (see kindErrors)
	Error        string    `json:"er,omitempty"` // … and its text
	// Gen is the purge generation of the original when the entry was made
	// (see purge.go); PurgeHard and PurgeSoft, in a tier's record of an
	// original, are the purge generations its owner knew.
	Gen          int64  `json:"g,omitempty"`
	PurgeHard    int64  `json:"ph,omitempty"`
	PurgeSoft    int64  `json:"ps,omitempty"`
	Body         []byte `json:"-"`
	Stale        bool   `json:"-"` // served past its freshness
	Revalidating bool   `json:"-"` // … while a background request revalidates it
	// fill is how the flight that made this entry found it, when not by
	// fetching and transforming: CacheHit (filled meanwhile) or
	// CacheRevalidated.
	fill CacheOutcome
}

var entryMagic = []byte("ioE1")

// errBadEntry means a cached value is not an entry of this version.
var errBadEntry = errors.New("imageopto: bad cache entry")

// err returns the error a remembered origin answer stands for.
func (e *entry) err() error {
	if e.Kind != "" {
		for _, k := range keptKinds {
			if k.kind == e.Kind {
				return &keptError{msg: e.Error, kind: k.err}
			}
		}
		return fmt.Errorf("%w: kept failure of unknown kind %q", ErrInternal, e.Kind)
	}
	switch e.Status {
	case 0:
		return nil
	case http.StatusGone:
		return fmt.Errorf("%w (remembered)", ErrGone)
	}
	return fmt.Errorf("%w (remembered)", ErrNotFound)
}

func (e *entry) encode() []byte {
	meta, err := json.Marshal(e)
	if err != nil {
		panic(err) // only plain fields: cannot fail
	}
	out := make([]byte, 0, len(entryMagic)+binary.MaxVarintLen64+len(meta)+len(e.Body))
	out = append(out, entryMagic...)
	out = binary.AppendUvarint(out, uint64(len(meta)))
	out = append(out, meta...)
	return append(out, e.Body...)
}

func decodeEntry(b []byte) (*entry, error) {
	if !bytes.HasPrefix(b, entryMagic) {
		return nil, errBadEntry
	}
	b = b[len(entryMagic):]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, errBadEntry
	}
	var e entry
	if err := json.Unmarshal(b[k:k+int(n)], &e); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadEntry, err)
	}
	e.Body = b[k+int(n):]
	return &e, nil
}
