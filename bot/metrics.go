package bot

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
)

// metrics counts Web API calls: warroom_slack_api_calls_total{method,outcome}
// and warroom_slack_api_call_duration_seconds{method}.
type metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// The outcomes of a Web API call.
const (
	callOK          = "ok"
	callRateLimited = "rate_limited"
	callSlackError  = "slack_error" // {"ok":false}
	callHTTPError   = "http_error"  // a 4xx or 5xx answer
	callFailed      = "failed"      // no answer: network, timeout
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warroom_slack_api_calls_total",
			Help: "Slack Web API calls, by method and outcome (ok, rate_limited, slack_error, http_error, failed).",
		}, []string{"method", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "warroom_slack_api_call_duration_seconds",
			Help:    "Time Slack took to answer a Web API call, by method.",
			Buckets: []float64{.025, .05, .1, .2, .3, .5, 1, 2, 5, 10},
		}, []string{"method"}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.duration)
	}
	return m
}

func (m *metrics) observe(method string, err error, took time.Duration) {
	m.calls.WithLabelValues(method, callOutcome(err)).Inc()
	m.duration.WithLabelValues(method).Observe(took.Seconds())
}

func callOutcome(err error) string {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	switch {
	case err == nil:
		return callOK
	case errors.As(err, &rl):
		return callRateLimited
	case errors.As(err, &sc):
		return callHTTPError
	case slackError(err) == "ratelimited":
		return callRateLimited
	case slackError(err) != "":
		return callSlackError
	}
	return callFailed
}
