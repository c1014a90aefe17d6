package rediscache

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/imageopto/imageopto"
)

// purgeHashKey is the hash, under the prefix, that holds purge records:
// no cache key maps to it (keys starting with '#' become '#' and 64
// hexadecimal digits).
const purgeHashKey = "#purges"

// PurgeStore returns an imageopto.PurgeStore that keeps purge records in
// Redis, in one hash under the cache's prefix (field: the original's path;
// value: its hard and soft generations), so that they survive the restart of every
// machine that shares this Redis: give it to imageopto.Options.PurgeStore.
// It bypasses the circuit breaker and bounds each call by the caller's
// context only: a purge that was not saved must be reported, and loading
// happens once at start-up.
func (c *Cache) PurgeStore() imageopto.PurgeStore { return purgeStore{c} }

type purgeStore struct{ c *Cache }

func (s purgeStore) key() string { return s.c.opts.Prefix + purgeHashKey }

// A field's value is "HARD SOFT" in decimal.
func parsePurgeValue(path, v string) (imageopto.PurgeRecord, bool) {
	h, so, ok := strings.Cut(v, " ")
	hard, err1 := strconv.ParseInt(h, 10, 64)
	soft, err2 := strconv.ParseInt(so, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return imageopto.PurgeRecord{}, false
	}
	return imageopto.PurgeRecord{Path: path, Hard: hard, Soft: soft}, true
}

func (s purgeStore) LoadPurges(ctx context.Context) ([]imageopto.PurgeRecord, error) {
	m, err := s.c.client.HGetAll(ctx, s.key()).Result()
	if err != nil {
		return nil, fmt.Errorf("rediscache: loading purges: %w", err)
	}
	out := make([]imageopto.PurgeRecord, 0, len(m))
	for path, v := range m {
		if r, ok := parsePurgeValue(path, v); ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// mergePurges merges records into the hash field by field with max, so
// that members saving at once never lower a generation. Generations are
// compared as decimal strings (Lua's numbers are doubles, too coarse for
// nanoseconds): the longer is larger, else the lexically larger.
var mergePurges = redis.NewScript(`
local function larger(a, b)
  if #a ~= #b then if #a > #b then return a else return b end end
  if a > b then return a else return b end
end
for i = 1, #ARGV, 3 do
  local p, h, s = ARGV[i], ARGV[i+1], ARGV[i+2]
  if h == "0" and s == "0" then
    redis.call("HDEL", KEYS[1], p)
  else
    local old = redis.call("HGET", KEYS[1], p)
    if old then
      local oh, os = string.match(old, "^(%d+) (%d+)$")
      if oh then h = larger(h, oh); s = larger(s, os) end
    end
    redis.call("HSET", KEYS[1], p, h .. " " .. s)
  end
end
return 0
`)

func (s purgeStore) SavePurges(ctx context.Context, recs []imageopto.PurgeRecord) error {
	if len(recs) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(recs))
	for _, r := range recs {
		args = append(args, r.Path, strconv.FormatInt(r.Hard, 10), strconv.FormatInt(r.Soft, 10))
	}
	if err := mergePurges.Run(ctx, s.c.client, []string{s.key()}, args...).Err(); err != nil {
		return fmt.Errorf("rediscache: saving purges: %w", err)
	}
	return nil
}
