package diskcache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"os"
)

// The entry file format. All integers are little-endian.
//
//	offset size
//	     0    4  magic "IOdc"
//	     4    1  format version (formatVersion)
//	     5    3  reserved, zero
//	     8    8  expiry in Unix nanoseconds (0: never)
//	    16    4  key length
//	    20    8  value length
//	    28    4  CRC-32C of bytes 0–27, the key and the value
//	    32       the key, then the value
const (
	magic         = "IOdc"
	formatVersion = 1
	headerSize    = 32
	crcOffset     = 28
)

// tmpPrefix starts the name of every temporary file the package writes.
// Entry names are hexadecimal, so the two can never be confused.
const tmpPrefix = ".tmp-"

// hashKey names a key on disk.
func hashKey(key string) [sha256.Size]byte {
	return sha256.Sum256([]byte(key))
}

// encodeHead returns the header and the key of an entry; the value follows
// them in the file.
func encodeHead(key string, value []byte, expires int64, tab *crc32.Table) []byte {
	b := make([]byte, headerSize+len(key))
	copy(b, magic)
	b[4] = formatVersion
	binary.LittleEndian.PutUint64(b[8:], uint64(expires))
	binary.LittleEndian.PutUint32(b[16:], uint32(len(key)))
	binary.LittleEndian.PutUint64(b[20:], uint64(len(value)))
	copy(b[headerSize:], key)
	crc := crc32.Update(0, tab, b[:crcOffset])
	crc = crc32.Update(crc, tab, b[headerSize:])
	crc = crc32.Update(crc, tab, value)
	binary.LittleEndian.PutUint32(b[crcOffset:], crc)
	return b
}

// corruptError says why a file is not a valid entry for the key read.
type corruptError string

func (e corruptError) Error() string { return "diskcache: corrupt entry: " + string(e) }

// decode checks that buf, a whole entry file, is a valid entry for key and
// returns its value (a sub-slice of buf) and expiry.
func decode(buf []byte, key string, tab *crc32.Table) (value []byte, expires int64, err error) {
	if len(buf) < headerSize || string(buf[:4]) != magic {
		return nil, 0, corruptError("bad magic")
	}
	if buf[4] != formatVersion {
		return nil, 0, corruptError("unknown format version")
	}
	expires = int64(binary.LittleEndian.Uint64(buf[8:]))
	klen := uint64(binary.LittleEndian.Uint32(buf[16:]))
	vlen := binary.LittleEndian.Uint64(buf[20:])
	n := uint64(len(buf)) - headerSize
	if klen > n || vlen != n-klen {
		return nil, 0, corruptError("length mismatch (truncated file?)")
	}
	start := headerSize + int(klen)
	if string(buf[headerSize:start]) != key {
		return nil, 0, corruptError("key mismatch")
	}
	crc := crc32.Update(0, tab, buf[:crcOffset])
	crc = crc32.Update(crc, tab, buf[headerSize:])
	if crc != binary.LittleEndian.Uint32(buf[crcOffset:]) {
		return nil, 0, corruptError("checksum mismatch")
	}
	return buf[start:len(buf):len(buf)], expires, nil
}

// subdir returns the fan-out directory of a hash: dir/ab.
func subdir(dir string, h *[sha256.Size]byte) string {
	var name [2]byte
	hex.Encode(name[:], h[:1])
	return dir + string(os.PathSeparator) + string(name[:])
}

// entryPath returns the file of a hash: dir/ab/abcdef….
func entryPath(dir string, h *[sha256.Size]byte) string {
	var name [2 * sha256.Size]byte
	hex.Encode(name[:], h[:])
	return dir + string(os.PathSeparator) + string(name[:2]) + string(os.PathSeparator) + string(name[:])
}

// isFanout reports whether name is a fan-out directory name ("00"–"ff").
func isFanout(name string) bool {
	return len(name) == 2 && isLowerHex(name[0]) && isLowerHex(name[1])
}

// parseName returns the hash an entry file name in fan-out directory sub
// stands for.
func parseName(sub, name string) (h [sha256.Size]byte, ok bool) {
	if len(name) != 2*sha256.Size || name[:2] != sub {
		return h, false
	}
	for i := range len(name) {
		if !isLowerHex(name[i]) {
			return h, false
		}
	}
	_, err := hex.Decode(h[:], []byte(name))
	return h, err == nil
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }
