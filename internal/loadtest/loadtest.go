// Package loadtest fires alert webhooks at a running Warroom and measures
// how it copes: bodies and alerts sent, Warroom's answers by status code,
// throughput, webhook latency percentiles, and, with the API token, how
// long each alert group took to become an incident with a Slack channel.
//
// Every alert of a run carries the run's ID in its fingerprint, group key
// and title ("Load test <run> group <n>"), so runs against the same
// database do not mix, and the incidents a run caused are found by title.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a run. Zero values take the defaults noted.
type Options struct {
	// URL is Warroom's base URL (default http://127.0.0.1:8080).
	URL string
	// Token is the webhook token (webhooks.token). Required.
	Token string
	// APIToken is the JSON API token (api.token). Without it, the time
	// from the first alert to the incident channel is not measured.
	APIToken string
	// Source is alertmanager (default), grafana or generic.
	Source string
	// Rate is bodies per second; 0 sends as fast as the senders can.
	Rate float64
	// Bodies is how many firing bodies to send; Duration, how long to
	// send them. One of them is required.
	Bodies   int
	Duration time.Duration
	// Concurrency is the number of senders (default 1).
	Concurrency int
	// Groups is the number of distinct alert groups (default 1). Body i
	// goes to group i mod Groups.
	Groups int
	// Batch lists the alerts per body; each body takes one of them at
	// random (seeded). Default [1].
	Batch []int
	// Resolve sends, after the firing bodies, a resolution of every alert
	// that was answered 2xx.
	Resolve bool
	// Seed makes the choice of batch sizes repeatable.
	Seed uint64
	// RunID marks the run's alerts (default: made from the start time).
	RunID string
	// Severity is the alerts' severity label (default critical, which the
	// example config declares at).
	Severity string
	// Service is the alerts' service label (default none: no route of the
	// example config matches, so no paging).
	Service string
	// Poll is the interval at which the incident list is read (default 100 ms).
	Poll time.Duration
	// Wait is how long to keep polling for channels after the last firing
	// body (default 60 s).
	Wait time.Duration
	// Client sends the requests (default: a client with one idle
	// connection per sender and a 30 s timeout).
	Client *http.Client
	// Clock is the time source (default the wall clock).
	Clock Clock
}

// Clock tells the time and waits. Tests inject one that moves time
// forward without waiting.
type Clock interface {
	Now() time.Time
	// SleepUntil returns at t, or earlier with ctx's error.
	SleepUntil(ctx context.Context, t time.Time) error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ParseBatch reads a batch mix: "100", or "1,10,100".
func ParseBatch(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("batch %q: want alerts per body as positive numbers, such as 100 or 1,10,100", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// validate fills in defaults and checks o.
func (o *Options) validate() error {
	if o.URL == "" {
		o.URL = "http://127.0.0.1:8080"
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		return fmt.Errorf("url %q: want an http or https base URL", o.URL)
	}
	if o.Token == "" {
		return errors.New("no webhook token: give --token or set WARROOM_WEBHOOK_TOKEN")
	}
	if o.Source == "" {
		o.Source = "alertmanager"
	}
	switch o.Source {
	case "alertmanager", "grafana", "generic":
	default:
		return fmt.Errorf("source %q: use alertmanager, grafana or generic", o.Source)
	}
	if o.Rate < 0 {
		return fmt.Errorf("rate %v: want bodies per second, or 0 for as fast as possible", o.Rate)
	}
	if o.Bodies < 0 || o.Duration < 0 || (o.Bodies == 0) == (o.Duration == 0) {
		return errors.New("give either a number of bodies or a duration")
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	if o.Groups == 0 {
		o.Groups = 1
	}
	if o.Concurrency < 0 || o.Groups < 0 {
		return errors.New("concurrency and groups must be positive")
	}
	if len(o.Batch) == 0 {
		o.Batch = []int{1}
	}
	for _, n := range o.Batch {
		if n < 1 {
			return fmt.Errorf("batch size %d: want at least 1", n)
		}
		if o.Source == "generic" && n > maxGenericAlerts {
			return fmt.Errorf("batch size %d: a generic body holds at most %d alerts", n, maxGenericAlerts)
		}
	}
	if o.Severity == "" {
		o.Severity = "critical"
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Wait <= 0 {
		o.Wait = 60 * time.Second
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.RunID == "" {
		o.RunID = strconv.FormatInt(o.Clock.Now().UnixMilli()%2176782336, 36) // 6 base-36 digits
	}
	if o.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = o.Concurrency + 1
		o.Client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	return nil
}

// loadRun is one run's state.
type loadRun struct {
	o     Options
	clk   Clock
	lim   *rate.Limiter // nil: no limit
	start time.Time     // the alerts' startsAt

	mu        sync.Mutex
	firstSent []time.Time // per group: when its first body went out
	fired     [][]spec    // per group: firing bodies answered 2xx
	fireDone  time.Time   // when the last firing body was answered
}

// Run sends the load described by o and returns what it saw. It returns
// an error only for bad options; failed requests are counted in the report.
// Cancelling ctx stops the run early with a report of what was sent.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	r := &loadRun{o: o, clk: o.Clock, firstSent: make([]time.Time, o.Groups), fired: make([][]spec, o.Groups)}
	if o.Rate > 0 {
		r.lim = rate.NewLimiter(rate.Limit(o.Rate), 1)
	}
	rep := &Report{Source: o.Source, URL: o.URL, RunID: o.RunID, Seed: o.Seed, Concurrency: o.Concurrency,
		Rate: o.Rate, Groups: o.Groups, Batch: o.Batch}
	r.start = r.clk.Now()

	var polled chan *Channels
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	if o.APIToken != "" {
		polled = make(chan *Channels, 1)
		go func() { polled <- r.poll(pollCtx) }()
	} else {
		rep.ChannelsSkipped = "no API token (--api-token or WARROOM_API_TOKEN)"
	}

	end := time.Time{}
	if o.Duration > 0 {
		end = r.start.Add(o.Duration)
	}
	var next atomic.Int64
	rep.Fire = r.phase(ctx, func() (spec, bool) {
		i := int(next.Add(1)) - 1
		if o.Bodies > 0 && i >= o.Bodies {
			return spec{}, false
		}
		return r.plan(i), true
	}, end)
	r.mu.Lock()
	r.fireDone = r.clk.Now()
	var resolve []spec
	if o.Resolve {
		for _, bodies := range r.fired {
			resolve = append(resolve, bodies...)
		}
	}
	r.mu.Unlock()

	if o.Resolve && ctx.Err() == nil {
		var k atomic.Int64
		ends := r.clk.Now()
		ph := r.phase(ctx, func() (spec, bool) {
			i := int(k.Add(1)) - 1
			if i >= len(resolve) {
				return spec{}, false
			}
			s := resolve[i]
			s.status, s.ends = "resolved", ends
			return s, true
		}, time.Time{})
		rep.Resolve = &ph
	}
	if polled != nil {
		rep.Channels = <-polled
	}
	return rep, nil
}

// plan is firing body i: its group, and its batch size drawn from a
// generator seeded with the seed and i, so the plan does not depend on the
// order in which senders take bodies.
func (r *loadRun) plan(i int) spec {
	n := r.o.Batch[0]
	if len(r.o.Batch) > 1 {
		n = r.o.Batch[rand.New(rand.NewPCG(r.o.Seed, uint64(i))).IntN(len(r.o.Batch))]
	}
	return spec{run: r.o.RunID, group: i % r.o.Groups, body: i, n: n, status: "firing",
		starts: r.start, sev: r.o.Severity, svc: r.o.Service}
}

// phase sends the bodies that next hands out from Concurrency senders at
// the rate limit, until next has no more, end (if not zero) has passed or
// ctx is cancelled.
func (r *loadRun) phase(ctx context.Context, next func() (spec, bool), end time.Time) Phase {
	st := newStats()
	begin := r.clk.Now()
	var wg sync.WaitGroup
	for range r.o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				// Take the body first, so that no sender waits for a
				// token it will not use.
				s, ok := next()
				if !ok {
					return
				}
				// The body is due at its token's time: one due at or after
				// end is not sent. (Deciding by the clock after the wait
				// would let another sender's longer wait, on a clock that
				// jumps, drop a body that was due in time.)
				due := r.clk.Now()
				if r.lim != nil {
					res := r.lim.ReserveN(due, 1)
					at := due.Add(res.DelayFrom(due))
					if !end.IsZero() && !at.Before(end) {
						res.CancelAt(due)
						return
					}
					if err := r.clk.SleepUntil(ctx, at); err != nil {
						return
					}
					due = at
				}
				if !end.IsZero() && !due.Before(end) {
					return
				}
				r.send(ctx, s, st)
			}
		}()
	}
	wg.Wait()
	return st.phase(r.clk.Now().Sub(begin))
}

// send posts one body and records the answer.
func (r *loadRun) send(ctx context.Context, s spec, st *stats) {
	body, err := encode(r.o.Source, s)
	if err != nil { // a bug: the options were validated
		st.record(s.n, "encode error", 0, 0)
		return
	}
	if s.status == "firing" {
		r.mu.Lock()
		if r.firstSent[s.group].IsZero() {
			r.firstSent[s.group] = r.clk.Now()
		}
		r.mu.Unlock()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.o.URL+"/hooks/"+r.o.Source, bytes.NewReader(body))
	if err != nil {
		st.record(s.n, "error", 0, 0)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.o.Token)
	begin := r.clk.Now()
	resp, err := r.o.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return // stopped: not an answer
		}
		st.record(s.n, "error", 0, r.clk.Now().Sub(begin))
		return
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	lat := r.clk.Now().Sub(begin)
	if err != nil {
		st.record(s.n, "error", 0, lat)
		return
	}
	accepted := 0
	if resp.StatusCode/100 == 2 {
		var answer struct{ Alerts int }
		if json.Unmarshal(data, &answer) == nil {
			accepted = answer.Alerts
		}
		if s.status == "firing" {
			r.mu.Lock()
			r.fired[s.group] = append(r.fired[s.group], s)
			r.mu.Unlock()
		}
	}
	st.record(s.n, strconv.Itoa(resp.StatusCode), accepted, lat)
}
