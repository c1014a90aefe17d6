// Package s3store connects imageopto to S3 and S3-compatible object stores
// (MinIO, Ceph, R2, …) with the AWS SDK for Go v2. It lives apart from the
// root package so that only programs that import it build the SDK.
//
// It has two parts:
//
//   - Origin reads original images from a bucket (an imageopto.Origin), with
//     conditional revalidation, a byte cap and a per-fetch timeout.
//   - Cache keeps derived images in a bucket (an imageopto.Cache): a durable
//     tier shared by all servers and kept across restarts. Reads are bounded
//     by a short timeout; writes go through a bounded queue to a few writer
//     goroutines and are dropped when the queue is full, so a slow bucket
//     never adds latency to a response.
//
// # Quick start
//
//	client, err := s3store.NewClient(&s3store.ClientOptions{
//		Endpoint:  "http://127.0.0.1:9000", // empty for AWS
//		PathStyle: true,
//	})
//	if err != nil { … }
//	loc, err := s3store.ParseLocation("images/originals") // bucket/prefix
//	if err != nil { … }
//	origin, err := s3store.NewOrigin(client, loc.Bucket, loc.Prefix, nil)
//	if err != nil { … }
//	cache, err := s3store.NewCache(client, "images", "derived", nil)
//	if err != nil { … }
//	defer cache.Close(context.Background()) // after the server has shut down
//	h, err := imageopto.New(origin, &imageopto.Options{Cache: cache})
//	if err != nil { … }
//	mux.Handle("/img/", http.StripPrefix("/img", h))
//
// Either part works alone: any imageopto.Origin with the S3 Cache, or the S3
// Origin with the default in-memory caches. Options.Cache replaces the
// default in-memory result cache, so every request that is not collapsed
// into a running one costs one GetObject (bounded by CacheOptions.GetTimeout,
// a failure counting as a miss).
//
// # Credentials
//
// NewClient reads static credentials from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, the region from AWS_REGION or
// AWS_DEFAULT_REGION, and the endpoint from AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL, and does nothing else: no shared config files, no
// instance metadata service, no network calls at start. Programs that need
// instance roles or SSO build a credentials provider with
// aws-sdk-go-v2/config and pass it as ClientOptions.Credentials, or build
// the *s3.Client themselves.
//
// Permissions: the Origin needs s3:GetObject on its prefix and s3:ListBucket
// on the bucket (without it S3 answers a missing key with 403, which the
// Origin reports as a failing origin rather than a 404). The Cache needs
// s3:GetObject, s3:PutObject and s3:DeleteObject on its prefix, and
// s3:ListBucket for the same reason: without it every miss is an error.
//
// # Keys and expiry
//
// Origin: the origin path (imageopto.CleanPath: relative, clean, valid
// UTF-8) is appended to the prefix with a slash, so "photos/cat.jpg" under
// prefix "originals" is the object "originals/photos/cat.jpg".
//
// Cache: keys are opaque to the store. A key becomes the object
// prefix/ab/cd/<hex SHA-256 of the key>; its expiry (Set's ttl) is kept in
// the object metadata x-amz-meta-imageopto-expires and checked by Get. S3
// never deletes expired objects by itself: give the cache prefix a
// lifecycle rule, for example to expire objects 30 days after creation.
//
// # Shutdown
//
// A Cache owns writer goroutines. Stop the HTTP server first
// (http.Server.Shutdown), then call Cache.Close with a deadline: it writes
// what is still queued, or drops it when the deadline comes, and stops the
// writers. Cache.Flush waits for the queue to empty without closing.
//
// # Security
//
// Whoever can write to the cache prefix can make the handler serve any
// bytes as a transformed image: keep the cache bucket private, and give
// write access to the image servers alone. Keep the cache under a prefix
// (or bucket) of its own, never below the originals. The Origin refuses
// objects stored with a Content-Encoding such as gzip, whose size would
// escape the byte cap.
package s3store
