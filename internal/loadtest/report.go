package loadtest

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Report is what a run saw.
type Report struct {
	Source      string  `json:"source"`
	URL         string  `json:"url"`
	RunID       string  `json:"run_id"`
	Seed        uint64  `json:"seed"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate"` // bodies/s asked for; 0: as fast as possible
	Groups      int     `json:"groups"`
	Batch       []int   `json:"batch"`
	// Fire is the firing bodies; Resolve, the resolutions (with --resolve).
	Fire    Phase  `json:"fire"`
	Resolve *Phase `json:"resolve,omitempty"`
	// Channels is the time from each group's first alert to its incident
	// and channel; nil, with ChannelsSkipped saying why, without the API.
	Channels        *Channels `json:"channels,omitempty"`
	ChannelsSkipped string    `json:"channels_skipped,omitempty"`
}

// Phase sums up the bodies of one phase.
type Phase struct {
	Bodies int `json:"bodies"`
	Alerts int `json:"alerts"`
	// Status counts the answers by HTTP status code; "error" counts
	// requests that got no answer (connection refused, timeout).
	Status map[string]int `json:"status"`
	// Accepted is the alerts Warroom's 2xx answers counted.
	Accepted     int     `json:"accepted_alerts"`
	Seconds      float64 `json:"seconds"`
	BodiesPerSec float64 `json:"bodies_per_second"`
	AlertsPerSec float64 `json:"alerts_per_second"`
	// Latency is the time from sending a request to reading its answer.
	Latency Latency `json:"latency_ms"`
}

// Failed is the number of bodies not answered 2xx.
func (p Phase) Failed() int {
	n := 0
	for code, c := range p.Status {
		if !strings.HasPrefix(code, "2") {
			n += c
		}
	}
	return n
}

// Latency holds percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Channels is how fast the run's alert groups became incidents with a
// channel, as seen by polling GET /api/incidents: each time is bounded
// below by the poll interval.
type Channels struct {
	Groups      int     `json:"groups"` // groups that were sent alerts
	Incidents   int     `json:"incidents"`
	WithChannel int     `json:"with_channel"`
	PollMS      float64 `json:"poll_interval_ms"`
	// ToIncident and ToChannel run from a group's first body to the first
	// poll that saw its incident, and its channel.
	ToIncident Spread `json:"to_incident_ms"`
	ToChannel  Spread `json:"to_channel_ms"`
	// Error is the API's last error, if polling failed.
	Error string `json:"error,omitempty"`
}

// Spread is the median and the maximum in milliseconds.
type Spread struct {
	P50 float64 `json:"p50"`
	Max float64 `json:"max"`
}

// stats collects a phase's answers from many senders. Percentiles are
// exact: every latency is kept (8 bytes a request) and sorted at the end.
type stats struct {
	mu       sync.Mutex
	bodies   int
	alerts   int
	accepted int
	status   map[string]int
	lat      []time.Duration
}

func newStats() *stats { return &stats{status: map[string]int{}} }

func (s *stats) record(alerts int, status string, accepted int, lat time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies++
	s.alerts += alerts
	s.accepted += accepted
	s.status[status]++
	s.lat = append(s.lat, lat)
}

func (s *stats) phase(elapsed time.Duration) Phase {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := Phase{Bodies: s.bodies, Alerts: s.alerts, Accepted: s.accepted, Status: s.status, Seconds: elapsed.Seconds()}
	if p.Seconds > 0 {
		p.BodiesPerSec = float64(p.Bodies) / p.Seconds
		p.AlertsPerSec = float64(p.Alerts) / p.Seconds
	}
	slices.Sort(s.lat)
	p.Latency = Latency{P50: ms(percentile(s.lat, 0.50)), P90: ms(percentile(s.lat, 0.90)),
		P99: ms(percentile(s.lat, 0.99)), Max: ms(percentile(s.lat, 1))}
	return p
}

// percentile is the nearest-rank percentile of sorted: the smallest value
// that at least q of the values do not exceed.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	rate := "as fast as possible"
	if r.Rate > 0 {
		rate = fmt.Sprintf("%g bodies/s", r.Rate)
	}
	batch := make([]string, len(r.Batch))
	for i, n := range r.Batch {
		batch[i] = strconv.Itoa(n)
	}
	fmt.Fprintf(w, "warroom loadtest: %s to %s/hooks/%s, run %s (seed %d)\n", r.Source, r.URL, r.Source, r.RunID, r.Seed)
	fmt.Fprintf(w, "  %d senders, %s, %d groups, %s alerts per body\n", r.Concurrency, rate, r.Groups, strings.Join(batch, "|"))
	writePhase(w, "firing", r.Fire)
	if r.Resolve != nil {
		writePhase(w, "resolving", *r.Resolve)
	}
	switch c := r.Channels; {
	case c == nil:
		fmt.Fprintf(w, "incidents: not checked: %s\n", r.ChannelsSkipped)
	default:
		fmt.Fprintf(w, "incidents: %d of %d groups got an incident, %d a channel (polled every %g ms)\n",
			c.Incidents, c.Groups, c.WithChannel, c.PollMS)
		if c.Incidents > 0 {
			fmt.Fprintf(w, "  first alert to incident: p50 %s, max %s\n", secs(c.ToIncident.P50), secs(c.ToIncident.Max))
		}
		if c.WithChannel > 0 {
			fmt.Fprintf(w, "  first alert to channel:  p50 %s, max %s\n", secs(c.ToChannel.P50), secs(c.ToChannel.Max))
		}
		if c.Error != "" {
			fmt.Fprintf(w, "  API: %s\n", c.Error)
		}
	}
	return nil
}

func writePhase(w io.Writer, name string, p Phase) {
	fmt.Fprintf(w, "%s: %d bodies, %d alerts in %.2f s: %.1f bodies/s, %.0f alerts/s\n",
		name, p.Bodies, p.Alerts, p.Seconds, p.BodiesPerSec, p.AlertsPerSec)
	codes := make([]string, 0, len(p.Status))
	for code := range p.Status {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	answers := make([]string, len(codes))
	for i, code := range codes {
		answers[i] = fmt.Sprintf("%s ×%d", code, p.Status[code])
	}
	fmt.Fprintf(w, "  answers: %s; Warroom counted %d alerts\n", strings.Join(answers, ", "), p.Accepted)
	fmt.Fprintf(w, "  latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		p.Latency.P50, p.Latency.P90, p.Latency.P99, p.Latency.Max)
}

func secs(ms float64) string { return fmt.Sprintf("%.2f s", ms/1000) }
