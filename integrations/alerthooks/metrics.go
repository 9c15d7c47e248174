package alerthooks

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/incidents"
)

type metrics struct {
	bodies  *prometheus.CounterVec
	alerts  *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		bodies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warroom_alert_bodies_total",
			Help: "Alert webhook bodies received, by source and outcome (accepted, bad_request, too_large, unauthorized, unavailable, off).",
		}, []string{"source", "outcome"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warroom_alerts_received_total",
			Help: "Alerts in accepted bodies, by source and what they were: new, changed (status), repeated (unchanged), stale (older than what is stored).",
		}, []string{"source", "kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "warroom_alert_ingest_duration_seconds",
			Help:    "Time to check, parse and store an accepted alert body, by source.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"source"}),
	}
	if reg != nil {
		reg.MustRegister(m.bodies, m.alerts, m.latency)
	}
	return m
}

func (m *metrics) observe(source, outcome string, res incidents.IngestResult, elapsed time.Duration) {
	m.bodies.WithLabelValues(source, outcome).Inc()
	if outcome != "accepted" {
		return
	}
	m.latency.WithLabelValues(source).Observe(elapsed.Seconds())
	for kind, n := range map[string]int{"new": res.New, "changed": res.Changed, "repeated": res.Repeated, "stale": res.Stale} {
		if n > 0 {
			m.alerts.WithLabelValues(source, kind).Add(float64(n))
		}
	}
}
