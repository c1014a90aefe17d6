// Package promobs exports what an imageopto.Handler does as Prometheus
// metrics. A Metrics is an imageopto.Observer: set it as
// Options.Observer, and call WatchHandler once the handler exists so that
// its gauges are read at each scrape.
//
//	reg := prometheus.NewRegistry()
//	m, err := promobs.New(reg)
//	h, err := imageopto.New(origin, &imageopto.Options{Observer: m})
//	err = m.WatchHandler(h)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Nothing is registered on Prometheus's global default registry: the
// caller passes the registry.
//
// The metrics:
//
//	imageopto_requests_total{code,cache}              requests answered, by status and cache outcome
//	imageopto_request_duration_seconds{cache}         time to answer, by cache outcome (histogram)
//	imageopto_rejected_total                          requests refused with 503 (overload)
//	imageopto_transform_duration_seconds{format}      transformations, by output format (histogram)
//	imageopto_transform_errors_total                  transformations that failed
//	imageopto_origin_fetches_total{result}            origin fetches: ok, not_modified, not_found, timeout, refused, error
//	imageopto_origin_fetch_duration_seconds{result}   their duration (histogram)
//	imageopto_cache_lookups_total{cache,result}       cache reads: hit, miss, error, per cache or layer
//	imageopto_tier_requests_total{group,result}       values asked of the peer tier: ok, error
//	imageopto_purges_total{kind}                      originals purged here: hard, soft
//	imageopto_purge_records                           originals the purge log holds a purge of
//	imageopto_inflight_transforms                     transformations holding a slot
//	imageopto_inflight_fetches                        origin fetches holding a slot
//	imageopto_queue_length                            work waiting for a slot or memory
//	imageopto_memory_in_use_bytes                     memory budget taken
//	imageopto_memory_budget_bytes                     memory budget
//	imageopto_peer_forwards_total                     requests sent to peers (WatchPeers)
//	imageopto_peer_forward_failures_total             … that failed and were made locally
//	imageopto_peer_healthy_members                    cluster members that answer, self included
package promobs

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imageopto/imageopto"
)

// Metrics records imageopto events as Prometheus metrics. It implements
// imageopto.Observer and is safe for concurrent use.
type Metrics struct {
	reg            prometheus.Registerer
	requests       *prometheus.CounterVec
	requestTime    *prometheus.HistogramVec
	rejected       prometheus.Counter
	transformTime  *prometheus.HistogramVec
	transformFails prometheus.Counter
	fetches        *prometheus.CounterVec
	fetchTime      *prometheus.HistogramVec
	lookups        *prometheus.CounterVec
	tier           *prometheus.CounterVec
	purges         *prometheus.CounterVec
}

// durationBuckets are the histogram bounds, in seconds: from a cache hit
// to a large AVIF encode.
var durationBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// New makes the metrics and registers them on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imageopto_requests_total", Help: "Requests answered, by status code and cache outcome (hit, miss, collapsed, stale, revalidated, none).",
		}, []string{"code", "cache"}),
		requestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "imageopto_request_duration_seconds", Help: "Time to answer a request, by cache outcome.", Buckets: durationBuckets,
		}, []string{"cache"}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imageopto_rejected_total", Help: "Requests refused with 503 because the server was overloaded (queue full or wait too long).",
		}),
		transformTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "imageopto_transform_duration_seconds", Help: "Duration of transformations, by output format.", Buckets: durationBuckets,
		}, []string{"format"}),
		transformFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imageopto_transform_errors_total", Help: "Transformations that failed.",
		}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imageopto_origin_fetches_total", Help: "Origin fetches, by result (ok, not_modified, not_found, timeout, refused, error).",
		}, []string{"result"}),
		fetchTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "imageopto_origin_fetch_duration_seconds", Help: "Duration of origin fetches, by result.", Buckets: durationBuckets,
		}, []string{"result"}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imageopto_cache_lookups_total", Help: "Cache reads, by cache (result, source, or a layer's name) and result (hit, miss, error).",
		}, []string{"cache", "result"}),
		tier: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imageopto_tier_requests_total", Help: "Values asked of the peer tier, by group (meta, source, result) and result (ok, error).",
		}, []string{"group", "result"}),
		purges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imageopto_purges_total", Help: "Originals purged through this handler, by kind (hard, soft).",
		}, []string{"kind"}),
	}
	for _, k := range []string{imageopto.PurgeHard, imageopto.PurgeSoft} {
		m.purges.WithLabelValues(k) // both series exist from the start
	}
	for _, c := range []prometheus.Collector{m.requests, m.requestTime, m.rejected, m.transformTime,
		m.transformFails, m.fetches, m.fetchTime, m.lookups, m.tier, m.purges} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Observe records one event.
func (m *Metrics) Observe(e imageopto.Event) {
	switch e.Kind {
	case imageopto.EventRequest:
		m.requests.WithLabelValues(strconv.Itoa(e.Status), string(e.Cache)).Inc()
		m.requestTime.WithLabelValues(string(e.Cache)).Observe(e.Duration.Seconds())
		if e.Status == http.StatusServiceUnavailable {
			m.rejected.Inc()
		}
	case imageopto.EventTransform:
		if e.Err != nil {
			m.transformFails.Inc()
			return
		}
		m.transformTime.WithLabelValues(string(e.Format)).Observe(e.Duration.Seconds())
	case imageopto.EventOriginFetch:
		m.fetches.WithLabelValues(e.Result).Inc()
		m.fetchTime.WithLabelValues(e.Result).Observe(e.Duration.Seconds())
	case imageopto.EventCacheLookup:
		m.lookups.WithLabelValues(e.Layer, e.Result).Inc()
	case imageopto.EventTier:
		m.tier.WithLabelValues(e.Layer, e.Result).Inc()
	case imageopto.EventPurge:
		m.purges.WithLabelValues(e.Result).Inc()
	}
}

// WatchHandler registers the gauges of h (transformations and fetches in
// flight, queue length, memory in use and budget, purge records), read at
// each scrape.
// Call it once per registry.
func (m *Metrics) WatchHandler(h *imageopto.Handler) error {
	gauge := func(name, help string, read func(imageopto.Gauges) int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return float64(read(h.Gauges())) })
	}
	return m.register(
		gauge("imageopto_inflight_transforms", "Transformations holding a slot now.",
			func(g imageopto.Gauges) int64 { return g.InflightTransforms }),
		gauge("imageopto_inflight_fetches", "Origin fetches holding a slot now.",
			func(g imageopto.Gauges) int64 { return g.InflightFetches }),
		gauge("imageopto_queue_length", "Transformations and fetches waiting for a slot or for memory.",
			func(g imageopto.Gauges) int64 { return g.Queued }),
		gauge("imageopto_memory_in_use_bytes", "Memory budget taken by work in progress.",
			func(g imageopto.Gauges) int64 { return g.MemoryInUse }),
		gauge("imageopto_memory_budget_bytes", "Memory budget for work in progress.",
			func(g imageopto.Gauges) int64 { return g.MemoryBudget }),
		gauge("imageopto_purge_records", "Originals the purge log holds a purge of (purged here or learnt from other members).",
			func(g imageopto.Gauges) int64 { return g.PurgeRecords }),
	)
}

// PeerStats are the counters of a peer tier that WatchPeers exports (the
// server command fills them from cluster.Stats).
type PeerStats struct {
	// Forwarded counts requests sent to the owners of keys.
	Forwarded int64
	// ForwardErrors counts those that failed (each was then made locally).
	ForwardErrors int64
	// Healthy counts the members that answer, this one included.
	Healthy int
}

// WatchPeers registers the peer tier's counters, read from stats at each
// scrape. Call it once per registry.
func (m *Metrics) WatchPeers(stats func() PeerStats) error {
	return m.register(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "imageopto_peer_forwards_total", Help: "Requests sent to the peers that own their keys."},
			func() float64 { return float64(stats().Forwarded) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "imageopto_peer_forward_failures_total", Help: "Requests to peers that failed; each was made locally."},
			func() float64 { return float64(stats().ForwardErrors) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imageopto_peer_healthy_members", Help: "Cluster members that answer, this one included."},
			func() float64 { return float64(stats().Healthy) }),
	)
}

func (m *Metrics) register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
