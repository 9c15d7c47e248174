package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/warroomhq/warroom/incidents"
)

// httpMetrics are the server's metrics. Routes are labelled by the mux pattern
// that matched, or "unmatched", never by raw path, so the number of series
// stays bounded whatever clients request.
type httpMetrics struct {
	requests *prometheus.CounterVec   // warroom_http_requests_total{route,code}
	duration *prometheus.HistogramVec // warroom_http_request_duration_seconds{route}
}

func newHTTPMetrics(reg *prometheus.Registry, r incidents.Reader) *httpMetrics {
	m := &httpMetrics{
		requests: mustRegister(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warroom_http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"})),
		duration: mustRegister(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "warroom_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"})),
	}
	mustRegister(reg, collectors.NewGoCollector())
	mustRegister(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if r != nil {
		mustRegister(reg, &incidentsCollector{
			reader:  r,
			timeout: incidentGaugeTimeout,
			desc: prometheus.NewDesc("warroom_incidents",
				"Incidents by status.",
				[]string{"status"}, nil),
		})
	}
	return m
}

// mustRegister registers c, or returns the equal collector that is already
// registered (a second Server on the same registry, Go collectors registered
// by the caller). Any other registration error is a programming error.
func mustRegister[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
		return c
	}
	panic(fmt.Sprintf("server: registering metrics: %v", err))
}

func (m *httpMetrics) observe(route string, code int, elapsed time.Duration) {
	m.requests.WithLabelValues(route, codeLabel(code)).Inc()
	m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
}

// metricsHandler serves reg. A collector that fails (the incident gauge when the
// database is slow) is logged and left out; the other metrics are served.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second,
	})
}

type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn("collecting metrics", "err", fmt.Sprint(v...)) }

// incidentsCollector reads incident counts when Prometheus scrapes, so the
// gauge is never stale and nothing has to keep it up to date.
type incidentsCollector struct {
	reader  incidents.Reader
	timeout time.Duration
	desc    *prometheus.Desc
}

func (c *incidentsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *incidentsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	stored, err := c.reader.CountByStatus(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("counting incidents: %w", err))
		return
	}
	// Every status has a series, zero or not.
	counts := make(map[incidents.Status]int, len(incidents.Statuses))
	for _, st := range incidents.Statuses {
		counts[st] = stored[st]
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(st))
	}
}
