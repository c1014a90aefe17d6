package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/imageopto/imageopto"
)

// metaExpires names the object metadata (x-amz-meta-imageopto-expires)
// holding a value's expiry in Unix milliseconds; absent: no expiry.
const metaExpires = "imageopto-expires"

// CacheOptions configure a Cache. A nil pointer or a zero field takes the
// default shown.
type CacheOptions struct {
	// GetTimeout bounds one Get; a slower store is a failed Get, which the
	// handler treats as a miss. Default: 1 second.
	GetTimeout time.Duration
	// PutTimeout bounds one background write, the SDK's retries included.
	// Default: 10 seconds.
	PutTimeout time.Duration
	// DeleteTimeout bounds one Delete. Default: 5 seconds.
	DeleteTimeout time.Duration
	// QueueSize is about how many values may wait to be written (it is
	// shared out evenly between the writers); a Set that finds the queue
	// full is dropped. Default: 64.
	QueueSize int
	// QueueBytes bounds the bytes of the values waiting or being written;
	// a Set that would pass it is dropped. Default: 64 MiB.
	QueueBytes int64
	// Writers is the number of goroutines writing to the store. Default: 2.
	Writers int
	// MaxValueBytes is the largest value stored; Set ignores larger ones
	// (as MemoryCache does) and Get treats larger objects as misses.
	// Default: 16 MiB.
	MaxValueBytes int64
	// Logger receives failed writes and deletes at level Warn. Default:
	// slog.Default().
	Logger *slog.Logger
}

// Cache is a durable imageopto.Cache in an S3 bucket, meant for derived
// images (imageopto.Options.Cache), shared by every server that uses the
// same bucket and prefix and kept across restarts.
//
// A key is stored as the object prefix/ab/cd/<hex SHA-256 of the key>, so
// any key (slashes, NUL, any bytes) names a safe object and keys spread
// evenly over the key space. A value's expiry (now + ttl; none when ttl is
// 0) is kept in the object's metadata and checked by Get; S3 does not
// delete expired objects by itself, so give the prefix a lifecycle rule
// (for example "expire after 30 days") to bound the bucket's size.
//
// Set never waits for the store: it queues the write, and a fixed number of
// writer goroutines put the values. When the queue is full (by count or by
// bytes) the value is dropped and counted. A value waiting in the queue is
// served by Get on the same Cache, and a second Set of the same key before
// its write starts replaces the value instead of queueing another write.
// Writes of one key are made in order. Flush waits for the queue to empty;
// Close stops the writers and must be called to release them.
//
// Cache implements imageopto.CacheDeleter and imageopto.CacheStatser. It
// is safe for concurrent use.
type Cache struct {
	client         *s3.Client
	bucket, prefix string
	getTimeout     time.Duration
	putTimeout     time.Duration
	delTimeout     time.Duration
	queueBytes     int64
	maxValue       int64
	log            *slog.Logger
	now            func() time.Time

	shards []chan *writeOp

	mu      sync.Mutex
	closed  bool
	queued  map[string]*writeOp // object key → write not started yet (one per key)
	writing map[string]*writeOp // object key → write in progress (one per key)
	pending int                 // writes queued or in progress
	idle    chan struct{}       // closed when pending drops to 0
	bytes   int64               // bytes of the pending writes

	closing     chan struct{} // closed by Close: writers drain and exit
	base        context.Context
	abandon     context.CancelFunc // cancels writes in progress
	writersDone chan struct{}

	hits, misses, expired, sets, dropped, tooLarge, errs atomic.Int64
}

// writeOp is one queued write. Its value and expiry may be replaced while
// it waits (under Cache.mu); the writer copies them when it starts.
type writeOp struct {
	key       string // object key
	value     []byte
	expires   time.Time // zero: none
	cancelled bool      // by Delete: skip
	finished  chan struct{}
}

// NewCache returns a cache storing values below prefix in bucket with
// client (see NewClient) and starts its writers. Call Close to stop them.
func NewCache(client *s3.Client, bucket, prefix string, opts *CacheOptions) (*Cache, error) {
	if client == nil {
		return nil, errors.New("s3store: NewCache: nil client")
	}
	if err := checkBucket(bucket); err != nil {
		return nil, fmt.Errorf("s3store: NewCache: %w", err)
	}
	prefix, err := cleanPrefix(prefix)
	if err != nil {
		return nil, fmt.Errorf("s3store: NewCache: %w", err)
	}
	var o CacheOptions
	if opts != nil {
		o = *opts
	}
	if o.GetTimeout < 0 || o.PutTimeout < 0 || o.DeleteTimeout < 0 || o.QueueSize < 0 ||
		o.QueueBytes < 0 || o.Writers < 0 || o.MaxValueBytes < 0 {
		return nil, errors.New("s3store: NewCache: negative option")
	}
	o.GetTimeout = durOr(o.GetTimeout, time.Second)
	o.PutTimeout = durOr(o.PutTimeout, 10*time.Second)
	o.DeleteTimeout = durOr(o.DeleteTimeout, 5*time.Second)
	if o.QueueSize == 0 {
		o.QueueSize = 64
	}
	if o.QueueBytes == 0 {
		o.QueueBytes = 64 << 20
	}
	if o.Writers == 0 {
		o.Writers = 2
	}
	if o.MaxValueBytes == 0 {
		o.MaxValueBytes = 16 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	base, abandon := context.WithCancel(context.Background())
	c := &Cache{
		client: client, bucket: bucket, prefix: prefix,
		getTimeout: o.GetTimeout, putTimeout: o.PutTimeout, delTimeout: o.DeleteTimeout,
		queueBytes: o.QueueBytes, maxValue: o.MaxValueBytes, log: o.Logger, now: time.Now,
		shards:  make([]chan *writeOp, o.Writers),
		queued:  map[string]*writeOp{},
		writing: map[string]*writeOp{},
		closing: make(chan struct{}), base: base, abandon: abandon,
		writersDone: make(chan struct{}),
	}
	perShard := (o.QueueSize + o.Writers - 1) / o.Writers
	var wg sync.WaitGroup
	for i := range c.shards {
		c.shards[i] = make(chan *writeOp, perShard)
		wg.Go(func() { c.writer(c.shards[i]) })
	}
	go func() {
		wg.Wait()
		close(c.writersDone)
	}()
	return c, nil
}

func durOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// objectKey maps a cache key to its object: prefix/ab/cd/<64 hex digits>.
func (c *Cache) objectKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return joinKey(c.prefix, h[0:2]+"/"+h[2:4]+"/"+h)
}

// shard picks the writer of an object key, so that one key's writes are
// made in order by one goroutine.
func (c *Cache) shard(objKey string) chan *writeOp {
	sum := sha256.Sum256([]byte(objKey))
	return c.shards[binary.BigEndian.Uint64(sum[:8])%uint64(len(c.shards))]
}

// Get returns the value stored under key: from the write queue when a
// write of key is pending, else from the store within GetTimeout. A
// missing, expired or oversized object is imageopto.ErrCacheMiss; other
// failures (timeouts included) are errors, which the handler logs and
// treats as misses.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	objKey := c.objectKey(key)
	now := c.now()
	c.mu.Lock()
	op := c.queued[objKey]
	if op == nil {
		op = c.writing[objKey]
	}
	if op != nil {
		value, expires := op.value, op.expires
		c.mu.Unlock()
		if !expires.IsZero() && !now.Before(expires) {
			return c.miss(true)
		}
		c.hits.Add(1)
		return value, nil
	}
	c.mu.Unlock()

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.getTimeout)
	defer cancel()
	out, err := c.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(objKey)})
	if err != nil {
		if isNoSuchKey(err) {
			return c.miss(false)
		}
		return nil, c.getError(parent, ctx, objKey, err)
	}
	defer out.Body.Close()
	if exp, ok := expiresOf(out.Metadata); !ok || (!exp.IsZero() && !now.Before(exp)) {
		return c.miss(true) // the body stays unread
	}
	if aws.ToInt64(out.ContentLength) > c.maxValue {
		return c.miss(false)
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, c.maxValue+1))
	if err != nil {
		return nil, c.getError(parent, ctx, objKey, err)
	}
	if int64(len(data)) > c.maxValue {
		return c.miss(false)
	}
	c.hits.Add(1)
	return data, nil
}

func (c *Cache) miss(expired bool) ([]byte, error) {
	c.misses.Add(1)
	if expired {
		c.expired.Add(1)
	}
	return nil, imageopto.ErrCacheMiss
}

func (c *Cache) getError(parent, ctx context.Context, objKey string, err error) error {
	c.errs.Add(1)
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("s3store: cache get s3://%s/%s: %w", c.bucket, objKey, parent.Err())
	case timedOut(parent, ctx):
		return fmt.Errorf("s3store: cache get s3://%s/%s: no answer within %v: %w", c.bucket, objKey, c.getTimeout, context.DeadlineExceeded)
	}
	return fmt.Errorf("s3store: cache get s3://%s/%s: %w", c.bucket, objKey, err)
}

// expiresOf reads the expiry metadata: zero when absent, ok false when
// unreadable (treated as expired).
func expiresOf(meta map[string]string) (t time.Time, ok bool) {
	v, found := meta[metaExpires]
	if !found {
		return time.Time{}, true
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// Set queues value for writing under key and returns at once; it never
// waits for the store. The value is kept as it is until written: the
// caller must not modify it afterwards. ttl is how long the value is worth
// keeping (0: no limit; negative: not stored). A value over MaxValueBytes
// is ignored; a value that does not fit in the queue is dropped and
// counted. Set returns ErrClosed after Close, and nil otherwise.
func (c *Cache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	n := int64(len(value))
	if n > c.maxValue {
		c.tooLarge.Add(1)
		return nil
	}
	if ttl < 0 {
		return nil
	}
	var expires time.Time
	if ttl > 0 {
		expires = c.now().Add(ttl)
	}
	objKey := c.objectKey(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.dropped.Add(1)
		return ErrClosed
	}
	if op := c.queued[objKey]; op != nil {
		// Not started yet: write the newest value instead.
		if c.bytes-int64(len(op.value))+n > c.queueBytes {
			c.dropped.Add(1)
			return nil
		}
		c.bytes += n - int64(len(op.value))
		op.value, op.expires = value, expires
		return nil
	}
	if c.bytes+n > c.queueBytes {
		c.dropped.Add(1)
		return nil
	}
	op := &writeOp{key: objKey, value: value, expires: expires, finished: make(chan struct{})}
	select {
	case c.shard(objKey) <- op:
	default:
		c.dropped.Add(1)
		return nil
	}
	c.queued[objKey] = op
	c.bytes += n
	c.pending++
	if c.pending == 1 {
		c.idle = make(chan struct{})
	}
	return nil
}

// writer writes the values of one shard until Close, then drains it.
func (c *Cache) writer(ch <-chan *writeOp) {
	for {
		select {
		case op := <-ch:
			c.process(op)
		case <-c.closing:
			for {
				select {
				case op := <-ch:
					c.process(op)
				default:
					return
				}
			}
		}
	}
}

// process writes one queued value, unless Delete cancelled it or Close
// abandoned the queue.
func (c *Cache) process(op *writeOp) {
	c.mu.Lock()
	if c.queued[op.key] == op {
		delete(c.queued, op.key)
	}
	skip := op.cancelled || c.base.Err() != nil
	value, expires := op.value, op.expires
	if !skip {
		c.writing[op.key] = op
	}
	c.mu.Unlock()

	if skip {
		if !op.cancelled {
			c.dropped.Add(1)
		}
	} else if err := c.put(op.key, value, expires); err != nil {
		if c.base.Err() != nil {
			c.dropped.Add(1)
		} else {
			c.errs.Add(1)
			c.log.Warn("s3store: cache write failed", "bucket", c.bucket, "key", op.key, "err", err)
		}
	} else {
		c.sets.Add(1)
	}

	c.mu.Lock()
	if c.writing[op.key] == op {
		delete(c.writing, op.key)
	}
	c.bytes -= int64(len(op.value))
	c.pending--
	if c.pending == 0 {
		close(c.idle)
	}
	c.mu.Unlock()
	close(op.finished)
}

func (c *Cache) put(objKey string, value []byte, expires time.Time) error {
	ctx, cancel := context.WithTimeout(c.base, c.putTimeout)
	defer cancel()
	in := &s3.PutObjectInput{
		Bucket:        aws.String(c.bucket),
		Key:           aws.String(objKey),
		Body:          bytes.NewReader(value),
		ContentLength: aws.Int64(int64(len(value))),
		ContentType:   aws.String("application/octet-stream"),
	}
	if !expires.IsZero() {
		in.Metadata = map[string]string{metaExpires: strconv.FormatInt(max(expires.UnixMilli(), 1), 10)}
	}
	_, err := c.client.PutObject(ctx, in)
	return err
}

// Delete removes key: a queued write of key is cancelled, a write in
// progress is waited for, then the object is deleted within DeleteTimeout.
// Deleting a missing key is not an error.
func (c *Cache) Delete(ctx context.Context, key string) error {
	objKey := c.objectKey(key)
	c.mu.Lock()
	if op := c.queued[objKey]; op != nil {
		op.cancelled = true
		delete(c.queued, objKey)
	}
	w := c.writing[objKey]
	c.mu.Unlock()
	if w != nil {
		select {
		case <-w.finished:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.delTimeout)
	defer cancel()
	_, err := c.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(objKey)})
	if err != nil && !isNoSuchKey(err) {
		c.errs.Add(1)
		if timedOut(parent, ctx) {
			return fmt.Errorf("s3store: cache delete s3://%s/%s: no answer within %v: %w", c.bucket, objKey, c.delTimeout, context.DeadlineExceeded)
		}
		return fmt.Errorf("s3store: cache delete s3://%s/%s: %w", c.bucket, objKey, err)
	}
	return nil
}

// Flush waits until every value queued so far has been written (or has
// failed), or until ctx is done. Values queued meanwhile are waited for
// too. Use it in tests and before shutting down; Close drains as well.
func (c *Cache) Flush(ctx context.Context) error {
	c.mu.Lock()
	if c.pending == 0 {
		c.mu.Unlock()
		return nil
	}
	idle := c.idle
	c.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking values (Set then returns ErrClosed), writes the
// values still queued and stops the writers. When ctx ends first, the
// writes in progress are cancelled, the rest of the queue is dropped and
// Close returns ctx's error once the writers have stopped, which is
// promptly. Get and Delete keep working after Close. Close may be called
// more than once.
func (c *Cache) Close(ctx context.Context) error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.closing)
	}
	c.mu.Unlock()
	select {
	case <-c.writersDone:
		c.abandon()
		return nil
	case <-ctx.Done():
	}
	c.abandon()
	<-c.writersDone
	return fmt.Errorf("s3store: close: queue abandoned: %w", ctx.Err())
}

// Counters are the counts of a Cache since it was made.
type Counters struct {
	Hits    int64 // Gets answered with a value (from the store or the queue)
	Misses  int64 // Gets answered with ErrCacheMiss, expired ones included
	Expired int64 // … of which the value had expired
	Sets    int64 // values written to the store
	Dropped int64 // values not written: queue full, closed or abandoned
	// TooLarge counts values over MaxValueBytes, which are not stored.
	TooLarge int64
	// Errors counts failed Gets, writes and deletes (timeouts included).
	Errors int64
	// Pending and PendingBytes are the writes queued or in progress now.
	Pending      int
	PendingBytes int64
}

// Counters returns the cache's counts.
func (c *Cache) Counters() Counters {
	c.mu.Lock()
	pending, bytes := c.pending, c.bytes
	c.mu.Unlock()
	return Counters{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Expired: c.expired.Load(),
		Sets: c.sets.Load(), Dropped: c.dropped.Load(), TooLarge: c.tooLarge.Load(),
		Errors: c.errs.Load(), Pending: pending, PendingBytes: bytes,
	}
}

// Stats returns Hits, Misses and Sets as imageopto.CacheStats (the store's
// size is not known, so Items, Bytes and MaxBytes are 0); Counters has
// the rest.
func (c *Cache) Stats() imageopto.CacheStats {
	return imageopto.CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Sets: c.sets.Load()}
}

// Interface checks.
var (
	_ imageopto.Cache        = (*Cache)(nil)
	_ imageopto.CacheDeleter = (*Cache)(nil)
	_ imageopto.CacheStatser = (*Cache)(nil)
	_ imageopto.Origin       = (*Origin)(nil)
)
