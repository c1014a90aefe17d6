//go:build prometheus || full

package main

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imageopto/imageopto"
	"github.com/imageopto/imageopto/promobs"
)

const hasPrometheus = true

// promMetrics are -metrics-addr's metrics: the handler's and the peer
// tier's (package promobs) and the Go runtime's and the process's.
type promMetrics struct {
	*promobs.Metrics
	reg *prometheus.Registry
}

func newMetrics() (metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := promobs.New(reg)
	if err != nil {
		return nil, err
	}
	return &promMetrics{Metrics: m, reg: reg}, nil
}

func (m *promMetrics) watch(h *imageopto.Handler, peers peerTier) error {
	if err := m.WatchHandler(h); err != nil {
		return err
	}
	if peers == nil {
		return nil
	}
	return m.WatchPeers(func() promobs.PeerStats {
		st := peers.counts()
		return promobs.PeerStats{Forwarded: st.Forwarded, ForwardErrors: st.ForwardErrors, Healthy: st.Healthy}
	})
}

func (m *promMetrics) handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)})
}
