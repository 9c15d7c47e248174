package runner

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/jobs"
)

// Outcomes of an attempt, the outcome label of warroom_jobs_processed_total.
const (
	OutcomeDone     = "done"     // the job completed
	OutcomeRetry    = "retry"    // the job failed and will run again
	OutcomeFailed   = "failed"   // the job was parked as failed
	OutcomeReleased = "released" // the job went back to the queue on shutdown
	OutcomeDeferred = "deferred" // a rate limit delayed the job; the attempt did not count
)

// countTimeout bounds the database query behind the warroom_jobs gauge, so a
// locked database slows a scrape down but does not hang it.
const countTimeout = 2 * time.Second

// Metrics are the queue's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	processed   *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	countErrors prometheus.Counter
	jobs        *prometheus.Desc
	store       jobs.Store
}

// NewMetrics creates the queue's metrics and registers them with reg (when
// reg is not nil):
//
//   - warroom_jobs_processed_total{kind,outcome} counts finished attempts;
//   - warroom_job_duration_seconds{kind} is a histogram of handler run times;
//   - warroom_jobs{state} is the number of jobs in each state, counted by
//     store.CountByState at scrape time (left out when store is nil);
//   - warroom_jobs_count_errors_total counts scrapes where that count failed
//     (the gauge is then left out rather than failing the whole scrape).
func NewMetrics(reg prometheus.Registerer, store jobs.Store) *Metrics {
	m := &Metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warroom_jobs_processed_total",
			Help: "Job attempts finished, by kind and outcome (done, retry, failed, released, deferred).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "warroom_job_duration_seconds",
			Help:    "How long job handlers ran, by kind.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind"}),
		countErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warroom_jobs_count_errors_total",
			Help: "Scrapes where counting jobs by state failed.",
		}),
		jobs: prometheus.NewDesc("warroom_jobs",
			"Jobs in the queue, by state.", []string{"state"}, nil),
		store: store,
	}
	if reg != nil {
		reg.MustRegister(m)
	}
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.processed.Describe(ch)
	m.duration.Describe(ch)
	m.countErrors.Describe(ch)
	ch <- m.jobs
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.processed.Collect(ch)
	m.duration.Collect(ch)
	m.collectCounts(ch)
	m.countErrors.Collect(ch)
}

// collectCounts sends warroom_jobs, counted now.
func (m *Metrics) collectCounts(ch chan<- prometheus.Metric) {
	if m.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), countTimeout)
	defer cancel()
	counts, err := m.store.CountByState(ctx)
	if err != nil {
		m.countErrors.Inc()
		return
	}
	for _, st := range jobs.States {
		ch <- prometheus.MustNewConstMetric(m.jobs, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}

// count counts a finished attempt whose run time is unknown (the last
// attempt of a job that Claim parked because its worker died or lost its
// lease), so it adds nothing to the duration histogram.
func (m *Metrics) count(kind, outcome string) {
	if m == nil {
		return
	}
	m.processed.WithLabelValues(kind, outcome).Inc()
}

// observe records a finished attempt.
func (m *Metrics) observe(kind, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.processed.WithLabelValues(kind, outcome).Inc()
	m.duration.WithLabelValues(kind).Observe(d.Seconds())
}
