package paging_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/clock"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/paging"
	"github.com/warroomhq/warroom/store/sqlite"
)

// t0 is when the tests' incidents are declared.
var t0 = time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)

// paymentsPolicy is the example config's policy: steps at 0m, 10m and 20m,
// repeated twice, so rounds of 30m.
func paymentsPolicy() paging.Policy {
	return paging.Policy{
		Name:   "payments",
		Repeat: 2,
		Steps: []paging.Step{
			{After: 0, Targets: []paging.Target{{Kind: paging.TargetSchedule, Name: "payments-primary"}}},
			{After: 10 * time.Minute, Targets: []paging.Target{{Kind: paging.TargetSchedule, Name: "payments-primary"}, {Kind: paging.TargetPerson, Name: "bob"}}},
			{After: 20 * time.Minute, Targets: []paging.Target{{Kind: paging.TargetPerson, Name: "dave"}, {Kind: paging.TargetChannel, Name: "#payments"}}},
		},
		PagerDuty: paging.PagerDutyConfig{RoutingKey: "R0UTINGKEY", URL: "http://pagerduty.invalid/v2/enqueue"},
		Webhook:   paging.WebhookConfig{URL: "http://hooks.invalid/page", Secret: []byte("s3cret")},
	}
}

// dbPolicy's first step names a schedule with nobody on call, and its
// second ghost, whom the tests' Slack cannot notify.
func dbPolicy() paging.Policy {
	return paging.Policy{
		Name:   "db",
		Repeat: 1,
		Steps: []paging.Step{
			{After: 0, Targets: []paging.Target{{Kind: paging.TargetSchedule, Name: "empty"}}},
			{After: 10 * time.Minute, Targets: []paging.Target{{Kind: paging.TargetPerson, Name: "ghost"}}},
			{After: 20 * time.Minute, Targets: []paging.Target{{Kind: paging.TargetPerson, Name: "bob"}, {Kind: paging.TargetChannel, Name: "#db"}}},
		},
	}
}

// searchPolicy's first step reaches bob but not the empty schedule.
func searchPolicy() paging.Policy {
	return paging.Policy{
		Name: "search",
		Steps: []paging.Step{
			{After: 0, Targets: []paging.Target{{Kind: paging.TargetSchedule, Name: "empty"}, {Kind: paging.TargetPerson, Name: "bob"}}},
			{After: 10 * time.Minute, Targets: []paging.Target{{Kind: paging.TargetPerson, Name: "dave"}}},
		},
	}
}

// latePolicy's only step runs 5 minutes after the page starts.
func latePolicy() paging.Policy {
	p := paymentsPolicy()
	p.Name, p.Repeat = "late", 0
	p.Steps = []paging.Step{{After: 5 * time.Minute, Targets: []paging.Target{{Kind: paging.TargetPerson, Name: "bob"}}}}
	return p
}

// seriousPolicy pages by itself for sev2 and above only.
func seriousPolicy() paging.Policy {
	p := paymentsPolicy()
	p.Name, p.MinSeverity = "serious", incidents.Sev2
	return p
}

// onCall is a fixed rotation: alice, or nobody for "empty".
type onCall struct{}

func (onCall) Who(_ context.Context, schedule string, _ time.Time) (string, error) {
	switch schedule {
	case "payments-primary":
		return "alice", nil
	case "empty":
		return "", fmt.Errorf("%s: %w", schedule, paging.ErrNobodyOnCall)
	}
	return "", fmt.Errorf("%s: %w", schedule, paging.ErrUnknownSchedule)
}

// recorder keeps what the adapters were asked to send.
type recorder struct {
	mu       sync.Mutex
	notices  []notice
	pd       []paging.PagerDutyEvent
	webhooks []webhookCall
	warnings []string // "key: text"
}

// takeWarnings returns the channel warnings posted since the last call.
func (r *recorder) takeWarnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.warnings
	r.warnings = nil
	return out
}

type notice struct {
	At time.Time
	paging.SlackNotice
}

// who is the recipient of a notice: the person, user or channel.
func (n notice) who() string { return n.Person + n.User + n.Channel }

type webhookCall struct {
	URL, Delivery string
	Secret        []byte
	Event         paging.PageEvent
}

func (r *recorder) SendPagerDuty(_ context.Context, ev paging.PagerDutyEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pd = append(r.pd, ev)
	return nil
}

func (r *recorder) PostWebhook(_ context.Context, url string, secret []byte, delivery string, ev paging.PageEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.webhooks = append(r.webhooks, webhookCall{URL: url, Delivery: delivery, Secret: secret, Event: ev})
	return nil
}

// pdActions lists the PagerDuty actions sent, as "action dedup-key".
func (r *recorder) pdActions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.pd {
		out = append(out, ev.Action+" "+ev.DedupKey)
	}
	return out
}

func (r *recorder) webhookEvents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, w := range r.webhooks {
		out = append(out, string(w.Event.Event))
	}
	return out
}

// takeNotices returns the notices sent since the last call, as
// "hh:mm who (step s/n, round r)".
func (r *recorder) takeNotices() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.notices {
		out = append(out, fmt.Sprintf("%s %s (step %d/%d, round %d)", n.At.Format("15:04"), n.who(), n.Step+1, n.Steps, n.Round+1))
	}
	r.notices = nil
	return out
}

// world is one Warroom's paging over a database file: stopping it and
// starting another on the same file is a restart.
type world struct {
	t      *testing.T
	ctx    context.Context
	clock  *clock.Manual
	path   string
	rec    *recorder
	store  *sqlite.Store
	inc    *incidents.Service
	paging *paging.Service
	queue  *runner.Queue
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), clock: clock.NewManual(t0),
		path: filepath.Join(t.TempDir(), "warroom.db"), rec: &recorder{}}
	w.start()
	return w
}

// start opens the database and wires paging as app.New does.
func (w *world) start() {
	w.t.Helper()
	st, err := sqlite.OpenMigrated(w.ctx, w.path, sqlite.WithClock(w.clock.Now))
	if err != nil {
		w.t.Fatal(err)
	}
	w.store = st
	w.inc = incidents.NewService(st, incidents.WithClock(w.clock.Now))
	w.paging, err = paging.New(paging.Options{
		Incidents: w.inc,
		Pages:     st,
		Policies:  map[string]paging.Policy{"payments": paymentsPolicy(), "db": dbPolicy(), "search": searchPolicy(), "late": latePolicy(), "serious": seriousPolicy()},
		Services:  map[string]string{"checkout": "payments", "database": "db", "catalog": "search", "billing": "payments", "ledger": "late", "reports": "serious"},
		People:    []string{"alice", "bob", "carol", "dave", "ghost"},
		Schedules: []string{"payments-primary", "empty"},
		OnCall:    onCall{},
		PagerDuty: w.rec,
		Webhook:   w.rec,
		PublicURL: "https://warroom.example.com",
		Now:       w.clock.Now,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.inc.AddListener(w.paging.Listener())
	w.queue = runner.New(st, runner.Options{Now: w.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	w.paging.RegisterJobs(w.queue)
	w.queue.Handle(paging.JobNotifySlack, jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		var n paging.SlackNotice
		if err := json.Unmarshal(j.Payload, &n); err != nil {
			return jobs.Permanent(err)
		}
		if n.Person == "ghost" {
			// As the Slack adapter does with a person it cannot find.
			if err := w.paging.NoticeFailed(w.ctx, j.Key, n, "ghost has no Slack account"); err != nil {
				return err
			}
			return jobs.Permanent(errors.New("ghost has no Slack account"))
		}
		w.rec.mu.Lock()
		defer w.rec.mu.Unlock()
		w.rec.notices = append(w.rec.notices, notice{At: w.clock.Now(), SlackNotice: n})
		return nil
	}))
	w.queue.Handle(paging.JobSlackWarning, jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		var wa paging.Warning
		if err := json.Unmarshal(j.Payload, &wa); err != nil {
			return jobs.Permanent(err)
		}
		w.rec.mu.Lock()
		defer w.rec.mu.Unlock()
		w.rec.warnings = append(w.rec.warnings, j.Key+": "+wa.Text)
		return nil
	}))
}

// stop closes the database, as a Warroom that stops (or dies) between jobs.
func (w *world) stop() {
	w.t.Helper()
	if err := w.store.Close(); err != nil {
		w.t.Fatal(err)
	}
}

// at moves the clock to t0+d and runs the jobs due then.
func (w *world) at(d time.Duration) {
	w.t.Helper()
	w.clock.Set(t0.Add(d))
	if _, err := w.queue.RunDue(w.ctx); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) declare(service string) *incidents.Incident {
	w.t.Helper()
	inc, err := w.inc.Declare(w.ctx, incidents.DeclareInput{Title: "Checkout is down", Severity: incidents.Sev1,
		Service: service, Actor: "slack:U01CAROL"})
	if err != nil {
		w.t.Fatal(err)
	}
	return inc
}

func (w *world) pages(id incidents.ID) []*paging.Page {
	w.t.Helper()
	pages, err := w.paging.Pages(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return pages
}

// pageEvents lists the incident's page.* and acknowledged events as
// "hh:mm kind: text".
func (w *world) pageEvents(id incidents.ID) []string {
	w.t.Helper()
	evs, err := w.inc.Timeline(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if strings.HasPrefix(string(ev.Kind), "page.") || ev.Kind == incidents.EventAcknowledged {
			out = append(out, fmt.Sprintf("%s %s: %s", ev.At.Format("15:04"), ev.Kind, ev.Text))
		}
	}
	return out
}

// pending reports whether any job is still pending.
func (w *world) pending() bool {
	w.t.Helper()
	_, ok, err := w.queue.NextRunAt(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return ok
}

func want(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}
