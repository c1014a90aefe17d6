package s3store

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxKeyBytes is the longest object key S3 accepts.
const maxKeyBytes = 1024

// Location is a bucket and a key prefix inside it, as given on a command
// line: "bucket" or "bucket/some/prefix".
type Location struct {
	// Bucket is the bucket name.
	Bucket string
	// Prefix is the key prefix without leading or trailing slashes; empty
	// for the whole bucket.
	Prefix string
}

// String returns "bucket/prefix", or "bucket" when the prefix is empty;
// ParseLocation(l.String()) returns l.
func (l Location) String() string {
	if l.Prefix == "" {
		return l.Bucket
	}
	return l.Bucket + "/" + l.Prefix
}

// ParseLocation parses "bucket/prefix", "bucket" or the same with an
// "s3://" scheme in front. Leading and trailing slashes of the prefix are
// dropped. The bucket must be a plausible bucket name (see NewOrigin) and
// the prefix must be clean: no empty, "." or ".." elements, no backslashes,
// no control characters, valid UTF-8.
func ParseLocation(s string) (Location, error) {
	rest := strings.TrimPrefix(s, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if err := checkBucket(bucket); err != nil {
		return Location{}, fmt.Errorf("s3store: location %q: %w", s, err)
	}
	prefix, err := cleanPrefix(prefix)
	if err != nil {
		return Location{}, fmt.Errorf("s3store: location %q: %w", s, err)
	}
	return Location{Bucket: bucket, Prefix: prefix}, nil
}

// checkBucket refuses names that cannot be a bucket anywhere. It is looser
// than AWS's naming rules (3–63 lower-case letters, digits, dots and
// hyphens) because S3-compatible stores differ; the store refuses the rest.
func checkBucket(b string) error {
	switch {
	case b == "":
		return errors.New("empty bucket name")
	case len(b) > 255:
		return errors.New("bucket name longer than 255 bytes")
	case strings.ContainsAny(b, "/\\?#%"):
		return fmt.Errorf("bucket name %q contains one of / \\ ? # %%", b)
	}
	for _, r := range b {
		if r <= ' ' || r >= 0x7f {
			return fmt.Errorf("bucket name %q contains a space, control or non-ASCII character", b)
		}
	}
	return nil
}

// cleanPrefix trims slashes from a key prefix and refuses unclean ones.
func cleanPrefix(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", nil
	}
	if !utf8.ValidString(p) {
		return "", errors.New("prefix is not valid UTF-8")
	}
	if strings.ContainsRune(p, '\\') {
		return "", errors.New("backslash in prefix")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return "", errors.New("control character in prefix")
		}
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return "", errors.New("prefix has empty, . or .. elements")
		}
	}
	if len(p) > maxKeyBytes/2 {
		return "", fmt.Errorf("prefix longer than %d bytes", maxKeyBytes/2)
	}
	return p, nil
}

// joinKey puts a prefix (clean, possibly empty) in front of a relative name.
func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}
