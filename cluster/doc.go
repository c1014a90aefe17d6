// Package cluster lets several machines running an imageopto.Handler work as
// one: an imageopto.Tier built on github.com/golang/groupcache.
//
// # What it does
//
// Every key has one owner among the members, chosen by consistent hashing;
// the owner is the shield for that key. A request that misses a machine's
// own cache asks the owner, and groupcache's per-key flight at the owner
// collapses concurrent fills from the whole cluster into one. The handler
// asks for three kinds of values (imageopto.TierGroup):
//
//   - meta: "origin path → validators, freshness and the hash of the
//     original's bytes", the only mutable record. Its key carries a
//     re-check epoch (imageopto.Options.TierRecheck, 10 s by default), so a
//     new key is asked for each epoch and its owner re-reads its source
//     cache, revalidating with the origin (If-None-Match) when the
//     original's freshness has run out. A 304 keeps the hash.
//   - source: the original's bytes, keyed by their hash. The record and the
//     bytes of one original have the same owner (imageopto.TierShard), so N
//     sizes of one image cost one origin fetch cluster-wide.
//   - result: a transformed image, keyed by the pipeline version, the hash
//     of the original's bytes, the negotiated format and the canonical
//     parameters — not by the original's path, so two URLs naming the same
//     bytes (an alias, another origin query) share one result. The path the
//     owner can fetch the original from rides beside the key (a query
//     parameter of the peer request, imageopto.TierOrigin on the owner).
//     Such values never change and need no invalidation, which is
//     groupcache's model (no TTL, no delete).
//
// A failure that depends only on the bytes and the parameters (a corrupt
// image, an invalid parameter) is kept as the value of its key, like a
// result. A 404 or a failing origin is kept in the record for its epoch, so
// the machine that asked answers at once (with its stale copy, if it has
// one) instead of trying the origin again. Other failures are not kept.
// Because results are kept cluster-wide, every member must run the same
// imageopto.Options.Transform (limits, codecs, qualities).
//
// # Failures
//
// Peer requests carry a deadline: half the request's remaining time (the
// other half is left to make the value locally when the owner does not
// answer), capped by Options.PeerTimeout (10 s by default, because a result
// request includes the owner's transform, which can take seconds for a
// large image). An answer whose body stops arriving for
// Options.StallTimeout (2 s) is dropped and counts as a failure of the
// peer. The
// owner's load runs to LoadTimeout even when the asking peer gives up,
// because others may wait for it. Each member probes the others' health
// every ProbeInterval; FailuresToOpen failed probes, or failed requests,
// in a row mark a peer down, which abandons requests in flight to it — a
// hung member is bypassed in about two probe intervals (≈ 1 s). While a
// peer is down, its keys are made locally (still one fill per key on each
// machine), and one good probe brings it back — after a hold when requests
// to it failed (a peer that answers probes but resets or stalls values:
// four probe intervals, doubling while it recurs, at most 30 s). A new
// member is down until its first good probe, so nothing is forwarded to a
// process that is not ready. When fewer than half of the members answer, a machine stops
// forwarding altogether (it may be the one cut off).
//
// A member answers "not the owner" at once to a request for a key it thinks
// another member owns, so members that briefly disagree about ownership
// never wait on each other; and a member URL that reaches this very process
// (a second spelling of Self) is found by the health check's per-process
// identity and never forwarded to.
//
// # Purges
//
// A Cluster implements imageopto.TierPurger: Handler.Purge posts the purge
// records to every member that is up (POST BasePath+"purge") and reports
// the others (imageopto.ErrPurgeIncomplete). Each member's health answer
// carries the digest of its purge log; a member that sees a digest unlike
// its own pulls that member's log (GET BasePath+"purges") and merges it.
// Records merge by taking the larger generation, in any order, so a member
// that was cut off, stopped or restarted catches up within a probe
// interval of being reachable again. The purge generation is also part of
// the key of an original's record, so the owner learns a purge from the
// first request that carries it, and no record made before it is found
// again. Stats reports each member's purge digest. A generation is a time:
// one received from a member that is more than imageopto.MaxPurgeSkew (a
// minute) ahead of this member's clock is lowered to that, so a member
// with a wrong clock (or a rogue one) cannot plant a purge in the far
// future; keep the members' clocks in step (NTP).
//
// # Membership
//
// A PeerSource gives the member list: Static, DNS (the addresses a name
// resolves to, re-read every 5 s, e.g. a Kubernetes headless service), or
// your own implementation. Consistent hashing moves about 1/N of the keys
// when a member comes or goes.
//
// # Wiring
//
//	c, err := cluster.New(cluster.Options{
//		Self:   "http://10.0.0.7:8080",
//		Peers:  cluster.Static{"http://10.0.0.7:8080", "http://10.0.0.8:8080", "http://10.0.0.9:8080"},
//		Secret: os.Getenv("PEER_SECRET"),
//	})
//	h, err := imageopto.New(origin, &imageopto.Options{Tier: c})
//	mux.Handle("/", h)
//	mux.Handle("/_imageopto/peer/", c.Handler()) // guarded by the secret
//
// Peer traffic is plain HTTP requests to BasePath carrying the shared
// secret (at least 16 bytes) in a header. Whoever holds the secret can read
// originals and results, make a member fetch and transform (though not
// fetch an origin query unless Options.PassQuery allows it) and purge:
// mount the peer handler on a private listener where you can (the server
// command's -peer-addr), and use https URLs when the network between
// members is not trusted: NewTransport(tlsConfig) as Options.Transport,
// with client certificates for mutual TLS (the server command's
// -peer-tls-cert, -peer-tls-key and -peer-tls-ca). Options.AcceptSecrets
// lets secrets rotate without a moment where members refuse each other.
//
// # Limits
//
// groupcache registers its groups and its peer picker process-wide, so a
// process can hold one Cluster (New returns an error for a second) and must
// not use groupcache's HTTPPool itself. Groups cannot be unregistered: Close
// stops health checks and polling, and the Cluster keeps working alone.
// Members must run the same pipeline version; during a rolling upgrade,
// keys carry the version, so old and new members do not share results.
package cluster
