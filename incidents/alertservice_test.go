package incidents_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/clock"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/store/sqlite"
)

// alertRig is an alert service on a real SQLite store, a manual clock, and
// a queue that runs only the alert jobs.
type alertRig struct {
	t      *testing.T
	ctx    context.Context
	clk    *clock.Manual
	st     *sqlite.Store
	svc    *incidents.Service
	alerts *incidents.AlertService
	q      *runner.Queue
	// groups records what the alert listener was told.
	mu     sync.Mutex
	groups []incidents.AlertGroupChange
	// changes records what incident listeners saw.
	changes []incidents.Change
}

func newAlertRig(t *testing.T, policy incidents.AlertPolicy) *alertRig {
	t.Helper()
	r := &alertRig{t: t, ctx: context.Background()}
	r.clk = clock.NewManual(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	st, err := sqlite.OpenMigrated(r.ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.WithClock(r.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r.st = st
	r.svc = incidents.NewService(st, incidents.WithClock(r.clk.Now),
		incidents.WithListener(incidents.ListenerFunc(func(_ context.Context, _ incidents.Tx, c incidents.Change) error {
			r.mu.Lock()
			r.changes = append(r.changes, c)
			r.mu.Unlock()
			return nil
		})))
	r.alerts = incidents.NewAlertService(r.svc, st, policy, incidents.WithAlertListener(r))
	r.q = runner.New(st, runner.Options{Now: r.clk.Now, Workers: 1})
	r.q.Handle(incidents.JobProcessAlerts, jobs.HandlerFunc(r.alerts.HandleJob))
	return r
}

func (r *alertRig) AlertGroupChanged(_ context.Context, _ incidents.Tx, c incidents.AlertGroupChange) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.groups = append(r.groups, c)
	return nil
}

func (r *alertRig) ingest(alerts ...incidents.Alert) incidents.IngestResult {
	r.t.Helper()
	res, err := r.alerts.Ingest(r.ctx, &incidents.AlertBatch{Source: incidents.SourceAlertmanager, Alerts: alerts, Raw: []byte(`{"test":true}`)})
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// process runs the queued alert jobs.
func (r *alertRig) process() {
	r.t.Helper()
	if _, err := r.q.RunAll(r.ctx, r.clk.Set, 100); err != nil {
		r.t.Fatal(err)
	}
}

func (r *alertRig) incidents() []*incidents.Incident {
	r.t.Helper()
	incs, err := r.svc.List(r.ctx, incidents.ListFilter{Status: incidents.FilterAll})
	if err != nil {
		r.t.Fatal(err)
	}
	return incs
}

func (r *alertRig) timeline(id incidents.ID) []incidents.Event {
	r.t.Helper()
	evs, err := r.svc.Timeline(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return evs
}

func (r *alertRig) counts(id incidents.ID) incidents.AlertCounts {
	r.t.Helper()
	c, err := r.st.IncidentAlertCounts(r.ctx, id, 10)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func countKind(evs []incidents.Event, k incidents.EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func alertOf(fp, group, name, severity string, status incidents.AlertStatus, startsAt time.Time) incidents.Alert {
	return incidents.Alert{
		Fingerprint: fp, GroupKey: group, Status: status, StartsAt: startsAt, Title: name + " is bad",
		Labels:      map[string]string{"alertname": name, "severity": severity, "service": "checkout", "env": "prod"},
		Annotations: map[string]string{"summary": name + " is bad"}, RunbookURL: "https://runbooks.example.com/" + name,
	}
}

func TestAlertDedupStateChangesAndAllResolved(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	start := r.clk.Now().Add(-3 * time.Minute)
	firing := alertOf("fp1", "g1", "HighErrorRate", "critical", incidents.AlertFiring, start)

	if res := r.ingest(firing); res.New != 1 || res.Groups != 1 || res.BodyID == 0 {
		t.Fatalf("first body: %+v", res)
	}
	// Alertmanager's retry of the same body, and its repeat_interval resend.
	if res := r.ingest(firing); res.New != 0 || res.Repeated != 1 {
		t.Fatalf("retried body: %+v", res)
	}
	r.process()
	incs := r.incidents()
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	inc := incs[0]
	if inc.Severity != incidents.Sev1 || inc.Service != "checkout" || inc.Title != "HighErrorRate is bad" ||
		!inc.DetectedAt.Equal(start) || inc.DeclaredBy != "alertmanager" {
		t.Fatalf("declared %+v", inc)
	}
	if c := r.counts(inc.ID); c.Firing != 1 || c.Resolved != 0 {
		t.Fatalf("counts %+v", c)
	}

	r.clk.Advance(5 * time.Minute)
	resolved := firing
	resolved.Status, resolved.EndsAt = incidents.AlertResolved, r.clk.Now()
	if res := r.ingest(resolved); res.Changed != 1 {
		t.Fatalf("resolved body: %+v", res)
	}
	// A late retry of the old firing body is older news: it changes nothing.
	if res := r.ingest(firing); res.Stale != 1 || res.Changed != 0 {
		t.Fatalf("stale body: %+v", res)
	}
	r.process()
	evs := r.timeline(inc.ID)
	if countKind(evs, incidents.EventAlertFiring) != 1 || countKind(evs, incidents.EventAlertResolved) != 1 || countKind(evs, incidents.EventAlertsResolved) != 1 {
		t.Fatalf("timeline kinds %v", kinds(evs))
	}
	if c := r.counts(inc.ID); c.Firing != 0 || c.Resolved != 1 {
		t.Fatalf("counts after resolution %+v", c)
	}
	if got, _ := r.svc.Get(r.ctx, inc.ID); got.Status != incidents.StatusInvestigating {
		t.Fatalf("alerts resolving must not resolve the incident by themselves; it is %s", got.Status)
	}

	// Firing again (a new start time) is a state change of the same alert.
	r.clk.Advance(time.Minute)
	again := alertOf("fp1", "g1", "HighErrorRate", "critical", incidents.AlertFiring, r.clk.Now())
	if res := r.ingest(again); res.Changed != 1 {
		t.Fatalf("firing again: %+v", res)
	}
	r.process()
	if n := len(r.incidents()); n != 1 {
		t.Fatalf("%d incidents after the alert fired again in its open incident, want 1", n)
	}
	evs = r.timeline(inc.ID)
	last := evs[len(evs)-1]
	if last.Kind != incidents.EventAlertFiring || last.Text != "HighErrorRate fired again: HighErrorRate is bad" ||
		last.Data["runbook_url"] != "https://runbooks.example.com/HighErrorRate" {
		t.Fatalf("last event %+v", last)
	}
	a, err := r.st.AlertByFingerprint(r.ctx, incidents.SourceAlertmanager, "fp1")
	if err != nil {
		t.Fatal(err)
	}
	hist, err := r.st.AlertHistory(r.ctx, a.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var states []incidents.AlertStatus
	for _, h := range hist {
		states = append(states, h.Status)
	}
	if fmt.Sprint(states) != "[firing resolved firing]" || a.Received != 5 {
		t.Fatalf("history %v, received %d", states, a.Received)
	}
}

func TestAlertGroupingOneIncidentPerGroup(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	now := r.clk.Now()
	r.ingest(alertOf("a1", "g1", "HighErrorRate", "critical", incidents.AlertFiring, now))
	r.process()
	r.ingest(alertOf("a2", "g1", "HighLatency", "error", incidents.AlertFiring, now),
		alertOf("a3", "g1", "HighLatency", "error", incidents.AlertFiring, now))
	r.ingest(alertOf("b1", "g2", "DiskFull", "critical", incidents.AlertFiring, now))
	r.process()
	incs := r.incidents()
	if len(incs) != 2 {
		t.Fatalf("%d incidents, want one per group (2)", len(incs))
	}
	byTitle := map[string]*incidents.Incident{}
	for _, inc := range incs {
		byTitle[inc.Title] = inc
	}
	g1 := byTitle["HighErrorRate is bad"]
	if g1 == nil {
		t.Fatalf("incidents %v", byTitle)
	}
	c := r.counts(g1.ID)
	if c.Firing != 3 || len(c.Names) != 2 || c.Names[0] != (incidents.NameCount{Name: "HighLatency", Firing: 2, Total: 2}) {
		t.Fatalf("group 1 counts %+v", c)
	}
	// Declared through the domain's declare, so incident listeners (the
	// Slack channel, paging) saw it like any declaration.
	declared := 0
	for _, ch := range r.changes {
		if ch.Before == nil {
			declared++
		}
	}
	if declared != 2 {
		t.Fatalf("listeners saw %d declarations, want 2", declared)
	}
}

func TestAlertReopenWithin(t *testing.T) {
	p := examplePolicy()
	p.ReopenWithin = 30 * time.Minute
	r := newAlertRig(t, p)
	fire := func(fp string) {
		r.ingest(alertOf(fp, "g1", "HighErrorRate", "critical", incidents.AlertFiring, r.clk.Now()))
		r.process()
	}
	resolveAll := func() {
		for _, inc := range r.incidents() {
			if inc.Status.Open() {
				if _, err := r.svc.Resolve(r.ctx, inc.ID, "fixed", "slack:U1"); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	fire("f1")
	first := r.incidents()[0]
	resolveAll()

	r.clk.Advance(20 * time.Minute)
	fire("f2") // within 30m: the same incident, reopened
	incs := r.incidents()
	if len(incs) != 1 || incs[0].Status != incidents.StatusInvestigating {
		t.Fatalf("after firing within reopen_within: %d incidents, status %s", len(incs), incs[0].Status)
	}
	evs := r.timeline(first.ID)
	if countKind(evs, incidents.EventReopened) != 1 {
		t.Fatalf("timeline %v", kinds(evs))
	}
	resolveAll()

	r.clk.Advance(31 * time.Minute)
	fire("f3") // too late: a new incident
	incs = r.incidents()
	if len(incs) != 2 || incs[0].ID == first.ID || !incs[0].Status.Open() {
		t.Fatalf("after firing past reopen_within: %+v", incs)
	}
	if c := r.counts(incs[0].ID); c.Firing != 3 {
		// f1 and f2 still fire (nothing resolved them), so they join the new episode.
		t.Fatalf("new incident's alerts %+v", c)
	}
}

func TestAlertTriageBelowThresholdAndDeclareGroup(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	r.ingest(alertOf("w1", "g1", "SlowQueries", "warning", incidents.AlertFiring, r.clk.Now()),
		alertOf("w2", "g1", "SlowQueries", "warning", incidents.AlertFiring, r.clk.Now()))
	r.clk.Advance(2 * time.Second) // the job runs a little after the alerts arrived
	r.process()
	if n := len(r.incidents()); n != 0 {
		t.Fatalf("a sev3 alert declared %d incidents; it should go to triage", n)
	}
	if len(r.groups) != 1 {
		t.Fatalf("alert listener told %d times, want 1", len(r.groups))
	}
	g := r.groups[0]
	if g.Incident != nil || !g.Firing || g.Severity != incidents.Sev3 || g.Group.Service != "checkout" || g.Group.Episode != 1 {
		t.Fatalf("triage change %+v (group %+v)", g, g.Group)
	}
	// The episode's counts include the alerts that started it, although
	// the job ran later than they arrived.
	if c, err := r.st.GroupAlertCounts(r.ctx, g.Group.ID, g.Group.EpisodeStart, 5); err != nil || c.Firing != 2 {
		t.Fatalf("episode counts %+v %v", c, err)
	}

	// Two people press "Declare incident" at once: one incident.
	var wg sync.WaitGroup
	got := make([]*incidents.Incident, 2)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inc, err := r.alerts.DeclareGroup(r.ctx, g.Group.ID, incidents.SlackActor(fmt.Sprintf("U%d", i)))
			if err != nil {
				t.Error(err)
			}
			got[i] = inc
		}()
	}
	wg.Wait()
	if got[0] == nil || got[1] == nil || got[0].ID != got[1].ID || len(r.incidents()) != 1 {
		t.Fatalf("declared %v and %v; incidents %d", got[0], got[1], len(r.incidents()))
	}
	inc := got[0]
	if inc.Severity != incidents.Sev3 || inc.Service != "checkout" {
		t.Fatalf("declared %+v", inc)
	}
	if c := r.counts(inc.ID); c.Firing != 2 {
		t.Fatalf("the group's alerts were not attached: %+v", c)
	}
	last := r.groups[len(r.groups)-1]
	if !last.Declared || last.Incident == nil || last.Incident.ID != inc.ID {
		t.Fatalf("listener not told of the declaration: %+v", last)
	}

	// A later alert of the group joins the incident.
	r.ingest(alertOf("w3", "g1", "SlowQueries", "warning", incidents.AlertFiring, r.clk.Now()))
	r.process()
	if c := r.counts(inc.ID); c.Firing != 3 {
		t.Fatalf("counts %+v", c)
	}

	// Resolved by hand while its alerts still fire; a new alert of the
	// group (no reopen_within here) starts a new episode in triage and
	// does not join the closed incident.
	if _, err := r.svc.Resolve(r.ctx, inc.ID, "", "slack:U1"); err != nil {
		t.Fatal(err)
	}
	r.ingest(alertOf("w4", "g1", "SlowQueries", "warning", incidents.AlertFiring, r.clk.Now()))
	r.process()
	if c := r.counts(inc.ID); c.Firing != 3 {
		t.Fatalf("the resolved incident's counts %+v", c)
	}
	w4, err := r.st.AlertByFingerprint(r.ctx, incidents.SourceAlertmanager, "w4")
	if err != nil || w4.IncidentID != 0 {
		t.Fatalf("w4 attached to %v (%v); it is in triage", w4.IncidentID, err)
	}
	last = r.groups[len(r.groups)-1]
	if last.Incident != nil || last.Group.Episode != 2 || !last.Firing {
		t.Fatalf("the new episode is not in triage: %+v", last)
	}
}

func TestAlertStormIsOneIncidentWithBoundedTimeline(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	const bodies, perBody = 10, 100
	for b := range bodies {
		var alerts []incidents.Alert
		for i := range perBody {
			alerts = append(alerts, alertOf(fmt.Sprintf("s%d-%d", b, i), "storm", fmt.Sprintf("NodeDown%d", i%3), "critical", incidents.AlertFiring, r.clk.Now()))
		}
		r.ingest(alerts...)
		if b == 0 {
			r.process() // the incident exists while the storm goes on
		}
	}
	r.process()
	incs := r.incidents()
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	c := r.counts(incs[0].ID)
	if c.Firing != bodies*perBody {
		t.Fatalf("counts %+v, want %d firing", c, bodies*perBody)
	}
	evs := r.timeline(incs[0].ID)
	alertEvents := countKind(evs, incidents.EventAlertFiring) + countKind(evs, incidents.EventAlertsBatch)
	// Two processing runs (the first body, then the other nine together),
	// each at most MaxAlertEventsPerRun events.
	if alertEvents > 2*incidents.MaxAlertEventsPerRun || countKind(evs, incidents.EventAlertsBatch) != 2 {
		t.Fatalf("%d alert events (%d batches) for a storm", alertEvents, countKind(evs, incidents.EventAlertsBatch))
	}
}

func TestAlertIngestGroupCommitsConcurrentBodies(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	const n = 40
	var wg sync.WaitGroup
	ids := make([]int64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.alerts.Ingest(r.ctx, &incidents.AlertBatch{Source: incidents.SourceAlertmanager, Raw: []byte("{}"),
				Alerts: []incidents.Alert{alertOf(fmt.Sprintf("c%d", i), fmt.Sprintf("g%d", i%4), "X", "critical", incidents.AlertFiring, r.clk.Now())}})
			if err != nil || res.New != 1 {
				t.Errorf("body %d: %+v %v", i, res, err)
			}
			ids[i] = res.BodyID
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, id := range ids {
		if id == 0 || seen[id] {
			t.Fatalf("body IDs %v are not distinct", ids)
		}
		seen[id] = true
	}
	r.process()
	total := 0
	for _, inc := range r.incidents() {
		total += r.counts(inc.ID).Firing
	}
	if len(r.incidents()) != 4 || total != n {
		t.Fatalf("%d incidents with %d alerts, want 4 with %d", len(r.incidents()), total, n)
	}
}

func TestAlertIngestRefusesInvalidBatch(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	_, err := r.alerts.Ingest(r.ctx, &incidents.AlertBatch{Source: "generic", Alerts: []incidents.Alert{{Status: incidents.AlertFiring}}})
	if !incidents.IsUserError(err) {
		t.Fatalf("err = %v, want a validation error", err)
	}
}

func TestAlertBodiesArePrunedAfterKeepBodies(t *testing.T) {
	p := examplePolicy()
	p.KeepBodies = 30 * 24 * time.Hour
	r := newAlertRig(t, p)
	r.q.Handle(incidents.JobPruneAlertBodies, jobs.HandlerFunc(r.alerts.HandlePruneJob))
	t0 := r.clk.Now()
	r.ingest(alertOf("old", "g1", "X", "warning", incidents.AlertFiring, t0))
	r.process()
	r.clk.Advance(31 * 24 * time.Hour)
	r.ingest(alertOf("new", "g1", "X", "warning", incidents.AlertFiring, r.clk.Now()))
	r.process()
	// The prune job of the second body's hour removed the first body.
	if n, err := r.st.PruneAlertBodies(r.ctx, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("the 31-day-old body is still there: pruning it now removed %d (%v)", n, err)
	}
	if n, err := r.st.PruneAlertBodies(r.ctx, r.clk.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("the recent body was pruned too early: %d left (%v)", n, err)
	}
	// Alerts outlive their bodies.
	if _, err := r.st.AlertByFingerprint(r.ctx, incidents.SourceAlertmanager, "old"); err != nil {
		t.Fatal(err)
	}
}

// panickyStore panics inside every alert transaction, as a bug would.
type panickyStore struct{ *sqlite.Store }

func (panickyStore) WithAlertTx(context.Context, func(incidents.AlertTx) error) error {
	panic("bug")
}

func TestAlertIngestSurvivesAPanickingCommit(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	svc := incidents.NewAlertService(r.svc, panickyStore{r.st}, examplePolicy())
	batch := func() *incidents.AlertBatch {
		return &incidents.AlertBatch{Source: "generic", Alerts: []incidents.Alert{alertOf("p", "g", "X", "critical", incidents.AlertFiring, time.Time{})}}
	}
	// Twice, and concurrently: each caller gets an error, none waits forever
	// on a leader that died.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svc.Ingest(r.ctx, batch()); err == nil || !strings.Contains(err.Error(), "panic") {
				t.Errorf("Ingest = %v, want the panic as an error", err)
			}
		}()
	}
	wg.Wait()
	if _, err := svc.Ingest(r.ctx, batch()); err == nil {
		t.Error("Ingest after panics succeeded on a store that panics")
	}
}

func TestAlertGroupIsNotStuckBehindAParkedJob(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	// The first processing job fails for good (a bug, a broken database
	// file); it is parked, and the group stays marked pending.
	failed := false
	r.q = runner.New(r.st, runner.Options{Now: r.clk.Now, Workers: 1})
	r.q.Handle(incidents.JobProcessAlerts, jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		if !failed {
			failed = true
			return jobs.Permanent(fmt.Errorf("simulated failure"))
		}
		return r.alerts.HandleJob(ctx, j)
	}))
	r.ingest(alertOf("a", "g", "X", "critical", incidents.AlertFiring, r.clk.Now()))
	r.process()
	if len(r.incidents()) != 0 {
		t.Fatal("the failed job declared anyway")
	}
	// Within the timeout a new alert rides on the (parked) job ...
	r.clk.Advance(time.Minute)
	r.ingest(alertOf("b", "g", "X", "critical", incidents.AlertFiring, r.clk.Now()))
	r.process()
	if len(r.incidents()) != 0 {
		t.Fatal("declared before the timeout")
	}
	// ... after it, ingesting queues a new job, which applies every change.
	r.clk.Advance(11 * time.Minute)
	r.ingest(alertOf("c", "g", "X", "critical", incidents.AlertFiring, r.clk.Now()))
	r.process()
	incs := r.incidents()
	if len(incs) != 1 || r.counts(incs[0].ID).Firing != 3 {
		t.Fatalf("incidents %v", incs)
	}
}

func TestAlertFiringAgainWithoutAResolutionIsAChange(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	first := r.clk.Now()
	r.ingest(alertOf("fp", "g", "X", "critical", incidents.AlertFiring, first))
	r.process()
	inc := r.incidents()[0]
	if _, err := r.svc.Resolve(r.ctx, inc.ID, "", "slack:U1"); err != nil {
		t.Fatal(err)
	}
	// send_resolved: false, or a resolve and a new firing within one
	// group_interval: the alert comes back firing with a later start.
	r.clk.Advance(2 * time.Hour)
	if res := r.ingest(alertOf("fp", "g", "X", "critical", incidents.AlertFiring, r.clk.Now())); res.Changed != 1 {
		t.Fatalf("firing again with a later start: %+v", res)
	}
	r.process()
	if incs := r.incidents(); len(incs) != 2 || !incs[0].Status.Open() {
		t.Fatalf("incidents after it fired again: %+v", incs)
	}
}

func TestAlertResolutionWithoutStartStillTellsRetriesFromNews(t *testing.T) {
	r := newAlertRig(t, examplePolicy())
	start := r.clk.Now().Add(-time.Minute)
	firing := alertOf("fp", "g", "X", "critical", incidents.AlertFiring, start)
	r.ingest(firing)
	resolved := alertOf("fp", "g", "X", "critical", incidents.AlertResolved, time.Time{}) // a sender that sends no start
	if res := r.ingest(resolved); res.Changed != 1 {
		t.Fatalf("resolution: %+v", res)
	}
	if res := r.ingest(firing); res.Stale != 1 {
		t.Fatalf("a late retry of the firing body: %+v, want it stale", res)
	}
}
