package paging_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/paging"
)

func TestStepsFireAtTheirDeadlinesAndRepeatsStop(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	w.at(0)
	want(t, "at 0m", w.rec.takeNotices(), []string{"14:00 alice (step 1/3, round 1)"})

	w.at(10*time.Minute - time.Second)
	want(t, "just before 10m", w.rec.takeNotices(), nil)
	w.at(10 * time.Minute)
	want(t, "at 10m", w.rec.takeNotices(), []string{"14:10 alice (step 2/3, round 1)", "14:10 bob (step 2/3, round 1)"})
	w.at(20 * time.Minute)
	want(t, "at 20m", w.rec.takeNotices(), []string{"14:20 dave (step 3/3, round 1)", "14:20 #payments (step 3/3, round 1)"})
	// Rounds last 30m: the last step had 10 minutes, like the others.
	w.at(30*time.Minute - time.Second)
	want(t, "just before 30m", w.rec.takeNotices(), nil)
	w.at(30 * time.Minute)
	want(t, "at 30m", w.rec.takeNotices(), []string{"14:30 alice (step 1/3, round 2)"})
	for _, m := range []time.Duration{40, 50, 60, 70, 80} {
		w.at(m * time.Minute)
	}
	want(t, "40m to 80m", w.rec.takeNotices(), []string{
		"14:40 alice (step 2/3, round 2)", "14:40 bob (step 2/3, round 2)",
		"14:50 dave (step 3/3, round 2)", "14:50 #payments (step 3/3, round 2)",
		"15:00 alice (step 1/3, round 3)",
		"15:10 alice (step 2/3, round 3)", "15:10 bob (step 2/3, round 3)",
		"15:20 dave (step 3/3, round 3)", "15:20 #payments (step 3/3, round 3)",
	})
	// repeat: 2 is three rounds in all; then nothing is left to run.
	if w.pending() {
		t.Error("jobs are still pending after the last step of the last round")
	}
	w.at(10 * time.Hour)
	want(t, "later", w.rec.takeNotices(), nil)

	pages := w.pages(inc.ID)
	if len(pages) != 1 {
		t.Fatalf("pages: %+v", pages)
	}
	p := pages[0]
	if p.State != paging.StateEscalated || !p.NextAt.IsZero() || p.Policy != "payments" || p.Target.String() != "service:checkout" {
		t.Errorf("page after the last step: %+v", p)
	}
	evs := w.pageEvents(inc.ID)
	if len(evs) != 9 {
		t.Fatalf("timeline: %d page events, want 9: %q", len(evs), evs)
	}
	want(t, "first timeline events", evs[:3], []string{
		"14:00 page.triggered: Paged alice (on call for payments-primary) (step 1 of 3 of payments, round 1 of 3)",
		"14:10 page.escalated: Escalated to alice (on call for payments-primary), bob (step 2 of 3 of payments, round 1 of 3)",
		"14:20 page.escalated: Escalated to dave, #payments (step 3 of 3 of payments, round 1 of 3)",
	})
	want(t, "last timeline event", evs[8:], []string{
		"15:20 page.escalated: Escalated to dave, #payments (step 3 of 3 of payments, round 3 of 3)",
	})
}

func TestAcknowledgeStopsEscalation(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	w.at(0)
	w.at(10 * time.Minute)
	w.rec.takeNotices()

	w.clock.Set(t0.Add(14 * time.Minute))
	res, err := w.paging.Acknowledge(w.ctx, inc.ID, 0, "slack:U01ALICE")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Acked) != 1 || res.Acked[0].State != paging.StateAcknowledged || res.Acked[0].AckedBy != "slack:U01ALICE" {
		t.Fatalf("acknowledged: %+v", res)
	}
	if !res.Incident.AcknowledgedAt.Equal(t0.Add(14 * time.Minute)) {
		t.Errorf("incident acknowledged at %v", res.Incident.AcknowledgedAt)
	}
	// A double click, on the page's button: nothing changes, and it says
	// who acknowledged first.
	w.clock.Set(t0.Add(15 * time.Minute))
	again, err := w.paging.Acknowledge(w.ctx, inc.ID, res.Acked[0].ID, "slack:U01BOB")
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Acked) != 0 || len(again.Already) != 1 || again.Already[0].AckedBy != "slack:U01ALICE" {
		t.Errorf("second acknowledgement: %+v", again)
	}

	for _, m := range []time.Duration{20, 30, 60, 120} {
		w.at(m * time.Minute)
	}
	want(t, "after the acknowledgement", w.rec.takeNotices(), nil)
	want(t, "timeline", w.pageEvents(inc.ID), []string{
		"14:00 page.triggered: Paged alice (on call for payments-primary) (step 1 of 3 of payments, round 1 of 3)",
		"14:10 page.escalated: Escalated to alice (on call for payments-primary), bob (step 2 of 3 of payments, round 1 of 3)",
		"14:14 page.acknowledged: Acknowledged page 1 (payments) 14m after it started",
		"14:14 acknowledged: Acknowledged 14m after detection",
	})
	if w.pending() {
		t.Error("jobs still pending after the acknowledgement")
	}
	// The step at 20m was cancelled, not left to find the page over.
	info, err := w.store.GetJob(w.ctx, "page:1:r0:s2")
	if err != nil || info.State != jobs.StateDone || info.LastError != "cancelled" || info.Attempt != 0 {
		t.Errorf("the next step's job after the acknowledgement: %+v, %v", info, err)
	}
}

func TestResolvingTheIncidentResolvesItsPages(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	w.at(0)
	manual, err := w.paging.Page(w.ctx, inc.ID, paging.Target{Kind: paging.TargetPerson, Name: "carol"}, "slack:U01BOB")
	if err != nil {
		t.Fatal(err)
	}
	w.at(time.Minute)
	want(t, "notices", w.rec.takeNotices(), []string{"14:00 alice (step 1/3, round 1)", "14:01 carol (step 1/1, round 1)"})

	w.clock.Set(t0.Add(5 * time.Minute))
	if _, err := w.inc.Resolve(w.ctx, inc.ID, "rolled back", "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	if info, err := w.store.GetJob(w.ctx, "page:1:r0:s1"); err != nil || info.LastError != "cancelled" {
		t.Errorf("the next step's job after the resolution: %+v, %v", info, err)
	}
	for _, p := range w.pages(inc.ID) {
		if p.State != paging.StateResolved || !p.ResolvedAt.Equal(t0.Add(5*time.Minute)) || !p.NextAt.IsZero() {
			t.Errorf("page after the resolution: %+v", p)
		}
	}
	w.at(2 * time.Hour)
	want(t, "after the resolution", w.rec.takeNotices(), nil)
	evs := w.pageEvents(inc.ID)
	want(t, "resolutions", evs[len(evs)-2:], []string{
		"14:05 page.resolved: Resolved page 1 (payments) with the incident",
		"14:05 page.resolved: Resolved page 2 (person:carol) with the incident",
	})
	if manual.Policy != "" {
		t.Errorf("a manual page of a person has policy %q", manual.Policy)
	}
	if _, err := w.paging.Page(w.ctx, inc.ID, paging.Target{Kind: paging.TargetPerson, Name: "carol"}, "slack:U01BOB"); !incidents.IsUserError(err) {
		t.Errorf("paging for a resolved incident: %v", err)
	}
}

func TestPagerDutyAndWebhookOncePerPage(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	w.at(0)
	w.at(10 * time.Minute)
	w.at(20 * time.Minute)
	w.clock.Set(t0.Add(21 * time.Minute))
	if _, err := w.paging.Acknowledge(w.ctx, inc.ID, 0, "slack:U01DAVE"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.paging.Acknowledge(w.ctx, inc.ID, 1, "slack:U01DAVE"); err != nil {
		t.Fatal(err)
	}
	w.at(22 * time.Minute)
	w.clock.Set(t0.Add(40 * time.Minute))
	if _, err := w.inc.Resolve(w.ctx, inc.ID, "", "slack:U01DAVE"); err != nil {
		t.Fatal(err)
	}
	w.at(40 * time.Minute)
	w.at(3 * time.Hour)

	want(t, "PagerDuty", w.rec.pdActions(), []string{
		"trigger warroom-inc-1", "acknowledge warroom-inc-1", "resolve warroom-inc-1",
	})
	trigger := w.rec.pd[0]
	if trigger.RoutingKey != "R0UTINGKEY" || trigger.URL != "http://pagerduty.invalid/v2/enqueue" ||
		trigger.Summary != "INC-1 [sev1] Checkout is down" || trigger.Severity != incidents.Sev1 || trigger.Component != "checkout" ||
		trigger.Source != "checkout" || !trigger.Timestamp.Equal(t0) {
		t.Errorf("trigger: %+v", trigger)
	}
	if len(trigger.Links) != 1 || trigger.Links[0].URL != "https://warroom.example.com/api/incidents/INC-1" ||
		trigger.ClientURL != trigger.Links[0].URL {
		t.Errorf("trigger's links (no channel yet): %+v, %q", trigger.Links, trigger.ClientURL)
	}
	if got := w.rec.webhooks[1].Event.People; !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("webhook people: %q", got)
	}
	if got := w.rec.webhooks[2].Event; !slices.Equal(got.People, []string{"dave"}) || !slices.Equal(got.Channels, []string{"#payments"}) {
		t.Errorf("webhook people %q and channels %q", got.People, got.Channels)
	}
	want(t, "webhooks", w.rec.webhookEvents(), []string{
		"page.triggered", "page.escalated", "page.escalated", "page.acknowledged", "page.resolved",
	})
	seen := map[string]bool{}
	for _, h := range w.rec.webhooks {
		if seen[h.Delivery] {
			t.Errorf("delivery ID %s used twice", h.Delivery)
		}
		seen[h.Delivery] = true
		if h.URL != "http://hooks.invalid/page" || string(h.Secret) != "s3cret" || h.Event.Incident != 1 || h.Event.Page != 1 ||
			h.Event.DedupKey != "warroom-inc-1" || h.Event.Title != "Checkout is down" {
			t.Errorf("webhook: %+v", h)
		}
	}
	if got := w.rec.webhooks[1].Event; got.Step != 2 || got.Round != 1 || len(got.Notified) != 2 || got.Notified[1] != "bob" ||
		!slices.Equal(got.Targets, []string{"schedule:payments-primary", "person:bob"}) {
		t.Errorf("escalation webhook: %+v", got)
	}
	if got := w.rec.webhooks[3].Event; got.AckedBy != "slack:U01DAVE" || got.State != paging.StateAcknowledged || got.AckedAt.IsZero() {
		t.Errorf("acknowledgement webhook: %+v", got)
	}
}

// TestAcknowledgeBeforeTheFirstStepTellsNobody: a page acknowledged (and
// resolved) before its first step ran never triggered PagerDuty nor the
// webhook, so they get no acknowledge or resolve either.
func TestAcknowledgeBeforeTheFirstStepTellsNobody(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("ledger")
	w.at(2 * time.Minute)
	if res, err := w.paging.Acknowledge(w.ctx, inc.ID, 0, "slack:U01BOB"); err != nil || len(res.Acked) != 1 {
		t.Fatalf("acknowledging: %+v, %v", res, err)
	}
	w.clock.Set(t0.Add(3 * time.Minute))
	if _, err := w.inc.Resolve(w.ctx, inc.ID, "", "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	w.at(time.Hour)
	want(t, "PagerDuty", w.rec.pdActions(), nil)
	want(t, "webhooks", w.rec.webhookEvents(), nil)
	want(t, "notices", w.rec.takeNotices(), nil)
}

// TestPagerDutyKeysAcrossPages: two pages through PagerDuty share the
// incident's alert, which is acknowledged only once neither escalates; a
// page started after that alert was acknowledged gets an alert of its own,
// so that its trigger wakes someone.
func TestPagerDutyKeysAcrossPages(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	if _, err := w.paging.Page(w.ctx, inc.ID, paging.Target{Kind: paging.TargetService, Name: "billing"}, "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	w.at(0)
	want(t, "triggers", w.rec.pdActions(), []string{"trigger warroom-inc-1", "trigger warroom-inc-1"})

	// Page 1 is acknowledged; page 2 still escalates: the alert stays.
	w.clock.Set(t0.Add(5 * time.Minute))
	if _, err := w.paging.Acknowledge(w.ctx, inc.ID, 1, "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	w.at(5 * time.Minute)
	want(t, "after page 1's acknowledgement", w.rec.pdActions()[2:], nil)
	w.clock.Set(t0.Add(6 * time.Minute))
	if _, err := w.paging.Acknowledge(w.ctx, inc.ID, 2, "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	w.at(6 * time.Minute)
	want(t, "after page 2's", w.rec.pdActions()[2:], []string{"acknowledge warroom-inc-1"})

	// Paging the service again: the incident's alert is acknowledged, so
	// this page triggers one of its own, and acknowledges it alone.
	w.clock.Set(t0.Add(7 * time.Minute))
	if _, err := w.paging.Page(w.ctx, inc.ID, paging.Target{Kind: paging.TargetService, Name: "checkout"}, "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	w.at(7 * time.Minute)
	want(t, "the new page", w.rec.pdActions()[3:], []string{"trigger warroom-inc-1-p3"})
	if ev := w.rec.webhooks[len(w.rec.webhooks)-1].Event; ev.Page != 3 || ev.DedupKey != "warroom-inc-1-p3" {
		t.Errorf("webhook of the new page: %+v", ev)
	}
	w.clock.Set(t0.Add(30 * time.Minute))
	if _, err := w.inc.Resolve(w.ctx, inc.ID, "", "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	w.at(30 * time.Minute)
	// One resolve per alert.
	want(t, "resolution", w.rec.pdActions()[4:], []string{"resolve warroom-inc-1", "resolve warroom-inc-1-p3"})
}

// TestMinSeverity: a sev4 of a service whose policy pages from sev2 does
// not page (the timeline says why); raising it to sev2 pages, once.
func TestMinSeverity(t *testing.T) {
	w := newWorld(t)
	inc, err := w.inc.Declare(w.ctx, incidents.DeclareInput{Title: "Reports are late", Severity: incidents.Sev4,
		Service: "reports", Actor: "slack:U01CAROL"})
	if err != nil {
		t.Fatal(err)
	}
	w.at(0)
	if pages := w.pages(inc.ID); len(pages) != 0 {
		t.Fatalf("a sev4 was paged: %+v", pages)
	}
	want(t, "timeline", w.pageEvents(inc.ID), []string{
		"14:00 page.not_paged: Not paging reports's escalation policy serious: sev4 is below its min_severity sev2",
	})
	w.clock.Set(t0.Add(5 * time.Minute))
	if _, err := w.inc.SetSeverity(w.ctx, inc.ID, incidents.Sev3, "slack:U01CAROL"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.inc.SetSeverity(w.ctx, inc.ID, incidents.Sev2, "slack:U01CAROL"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.inc.SetSeverity(w.ctx, inc.ID, incidents.Sev1, "slack:U01CAROL"); err != nil {
		t.Fatal(err)
	}
	w.at(5 * time.Minute)
	want(t, "notices", w.rec.takeNotices(), []string{"14:05 alice (step 1/3, round 1)"})
	if pages := w.pages(inc.ID); len(pages) != 1 || pages[0].Policy != "serious" {
		t.Errorf("pages: %+v", pages)
	}
	// A page by hand ignores min_severity.
	low := w.declare("")
	if _, err := w.inc.SetSeverity(w.ctx, low.ID, incidents.Sev4, "slack:U01CAROL"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.paging.Page(w.ctx, low.ID, paging.Target{Kind: paging.TargetService, Name: "reports"}, "slack:U01CAROL"); err != nil {
		t.Errorf("paging a sev4 by hand: %v", err)
	}
}

// TestRestartResumesEscalation stops Warroom in the middle of an escalation
// and starts another on the same database: the next step fires at its
// deadline, once, and nothing that ran runs again.
func TestRestartResumesEscalation(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	w.at(0)
	w.at(10 * time.Minute)
	w.clock.Set(t0.Add(15 * time.Minute))
	w.stop()
	before := w.rec.takeNotices()

	w.start()
	if n, err := w.paging.Resume(w.ctx); err != nil || n != 0 {
		t.Errorf("Resume queued %d steps (%v); the step at 20m was queued already", n, err)
	}
	w.at(15 * time.Minute)
	w.at(20*time.Minute - time.Second)
	want(t, "before 20m, after the restart", w.rec.takeNotices(), nil)
	w.at(20 * time.Minute)
	w.at(20*time.Minute + time.Second)
	want(t, "at 20m", w.rec.takeNotices(), []string{"14:20 dave (step 3/3, round 1)", "14:20 #payments (step 3/3, round 1)"})
	want(t, "before the restart", before, []string{"14:00 alice (step 1/3, round 1)", "14:10 alice (step 2/3, round 1)", "14:10 bob (step 2/3, round 1)"})
	if evs := w.pageEvents(inc.ID); len(evs) != 3 {
		t.Errorf("timeline: %q", evs)
	}
}

// TestRestartAfterDeadlinesPassed: Warroom was down while two steps fell
// due; on start only the latest runs (one wake-up rather than a burst), the
// timeline notes the skipped one, and the rest keeps its schedule.
func TestRestartAfterDeadlinesPassed(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	w.at(0)
	w.stop()
	w.rec.takeNotices()
	w.start()
	w.at(25 * time.Minute)
	want(t, "late", w.rec.takeNotices(), []string{"14:25 dave (step 3/3, round 1)", "14:25 #payments (step 3/3, round 1)"})
	want(t, "timeline", w.pageEvents(inc.ID)[1:], []string{
		"14:25 page.skipped: Skipped Page 1 (payments), step 2 of 3, round 1 of 3 (due 14:10 UTC): a later step was due too (Warroom was not running), so only the latest runs",
		"14:25 page.escalated: Escalated to dave, #payments (step 3 of 3 of payments, round 1 of 3)",
	})
	w.at(30 * time.Minute)
	want(t, "the next round on time", w.rec.takeNotices(), []string{"14:30 alice (step 1/3, round 2)"})
}

// TestDownForAnHourWakesOnce: down from before the first step to 65m, six
// steps fell due; the latest (round 3, step 1) runs, once, as the page's
// trigger, so PagerDuty is triggered.
func TestDownForAnHourWakesOnce(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	w.stop()
	w.start()
	w.at(65 * time.Minute)
	want(t, "after an hour down", w.rec.takeNotices(), []string{"15:05 alice (step 1/3, round 3)"})
	evs := w.pageEvents(inc.ID)
	if len(evs) != 2 || !strings.HasPrefix(evs[0], "15:05 page.skipped: Skipped Page 1 (payments), step 1 of 3, round 1 of 3 (due 14:00 UTC); ") ||
		evs[1] != "15:05 page.triggered: Paged alice (on call for payments-primary) (step 1 of 3 of payments, round 3 of 3)" {
		t.Errorf("timeline: %q", evs)
	}
	want(t, "PagerDuty", w.rec.pdActions(), []string{"trigger warroom-inc-1"})
	w.at(70 * time.Minute)
	want(t, "the next step on time", w.rec.takeNotices(), []string{"15:10 alice (step 2/3, round 3)", "15:10 bob (step 2/3, round 3)"})
}

// TestStepJobRunTwice: a worker that dies after a step committed and before
// the queue recorded the job as done runs it again; the second run sends
// nothing.
func TestStepJobRunTwice(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("checkout")
	info, err := w.store.GetJob(w.ctx, "page:1:r0:s0")
	if err != nil {
		t.Fatal(err)
	}
	w.at(0)
	h := jobsHandler(t, w)
	if err := h.Handle(w.ctx, info.Job); err != nil {
		t.Fatal(err)
	}
	w.at(time.Second)
	want(t, "notices", w.rec.takeNotices(), []string{"14:00 alice (step 1/3, round 1)"})
	if evs := w.pageEvents(inc.ID); len(evs) != 1 {
		t.Errorf("timeline: %q", evs)
	}
}

// jobsHandler returns the escalation handler as the queue has it.
func jobsHandler(t *testing.T, w *world) jobs.Handler {
	t.Helper()
	var h jobs.Handler
	w.paging.RegisterJobs(handlerMap(func(kind string, hh jobs.Handler) {
		if kind == paging.JobEscalate {
			h = hh
		}
	}))
	return h
}

type handlerMap func(kind string, h jobs.Handler)

func (f handlerMap) Handle(kind string, h jobs.Handler) { f(kind, h) }

// TestStepThatReachesNobodyWarnsAndEscalatesNow: the first step of db
// names a schedule with nobody on call, so the channel is warned and the
// second step runs at once; ghost, its only recipient, cannot be notified,
// so the third runs at once too. The next round keeps its time.
func TestStepThatReachesNobodyWarnsAndEscalatesNow(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("database")
	w.at(0)
	want(t, "notices", w.rec.takeNotices(), []string{
		"14:00 bob (step 3/3, round 1)", "14:00 #db (step 3/3, round 1)",
	})
	want(t, "warnings", w.rec.takeWarnings(), []string{
		"page:1:r0:s0:nobody: Page 1 (db), step 1 of 3, round 1 of 2 reached nobody on call for empty. Escalating to step 2 now.",
		"page:1:r0:s1:person:ghost:failed: Page 1 (db), step 2 of 3, round 1 of 2 could not notify ghost: ghost has no Slack account. Escalating to step 3 now.",
	})
	want(t, "timeline", w.pageEvents(inc.ID), []string{
		"14:00 page.triggered: Paged nobody on call for empty (step 1 of 3 of db, round 1 of 2)",
		"14:00 page.escalated: Escalated to ghost (step 2 of 3 of db, round 1 of 2)",
		"14:00 page.unreached: Page 1 (db), step 2 of 3, round 1 of 2 could not notify ghost: ghost has no Slack account. Escalating to step 3 now.",
		"14:00 page.escalated: Escalated to bob, #db (step 3 of 3 of db, round 1 of 2)",
	})
	// The second round starts on time, 30m after the page, and rushes
	// through the steps that reach nobody again.
	w.at(30*time.Minute - time.Second)
	want(t, "before the second round", w.rec.takeNotices(), nil)
	w.at(30 * time.Minute)
	want(t, "second round", w.rec.takeNotices(), []string{
		"14:30 bob (step 3/3, round 2)", "14:30 #db (step 3/3, round 2)",
	})
	if got := w.rec.takeWarnings(); len(got) != 2 {
		t.Errorf("second round's warnings: %q", got)
	}
	if w.pending() {
		t.Error("jobs pending after the last round")
	}
	// A notice that fails again (a retried job) is told once.
	if err := w.paging.NoticeFailed(w.ctx, "page:1:r0:s1:person:ghost", paging.SlackNotice{Page: 1, Incident: inc.ID, Policy: "db",
		Round: 0, Step: 1, Person: "ghost", Recipients: []string{"person:ghost"}}, "again"); err != nil {
		t.Fatal(err)
	}
	w.at(31 * time.Minute)
	want(t, "after a second failure of the same notice", w.rec.takeWarnings(), nil)
}

// TestStepPartlyUnreachedWarnsAndKeepsItsTime: one target of a step names
// nobody, another is notified: the channel is told, and the next step
// keeps its deadline.
func TestStepPartlyUnreachedWarnsAndKeepsItsTime(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("")
	if _, err := w.paging.Page(w.ctx, inc.ID, paging.Target{Kind: paging.TargetService, Name: "catalog"}, "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	w.at(0)
	want(t, "notices", w.rec.takeNotices(), []string{"14:00 bob (step 1/2, round 1)"})
	want(t, "warnings", w.rec.takeWarnings(), []string{
		"page:1:r0:s0:nobody: Page 1 (search), step 1 of 2 reached nobody on call for empty. The step's other targets were notified.",
	})
	w.at(10*time.Minute - time.Second)
	want(t, "before 10m", w.rec.takeNotices(), nil)
	w.at(10 * time.Minute)
	want(t, "at 10m", w.rec.takeNotices(), []string{"14:10 dave (step 2/2, round 1)"})
}

func TestPagingAScheduleWithNobodyOnCallIsRefused(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("")
	var ve *incidents.ValidationError
	_, err := w.paging.Page(w.ctx, inc.ID, paging.Target{Kind: paging.TargetSchedule, Name: "empty"}, "slack:U01BOB")
	if !errors.As(err, &ve) || ve.Msg != "Nobody is on call for empty now: page a person or a service instead." {
		t.Fatalf("paging a schedule with nobody on call: %v", err)
	}
	if pages := w.pages(inc.ID); len(pages) != 0 {
		t.Errorf("pages: %+v", pages)
	}
}

func TestManualPages(t *testing.T) {
	w := newWorld(t)
	inc := w.declare("") // no service: no page
	w.at(0)
	if pages := w.pages(inc.ID); len(pages) != 0 {
		t.Fatalf("an incident without a service was paged: %+v", pages)
	}
	for _, target := range []paging.Target{
		{Kind: paging.TargetUser, Name: "U0ERIN"},
		{Kind: paging.TargetSchedule, Name: "payments-primary"},
		{Kind: paging.TargetService, Name: "checkout"},
	} {
		if _, err := w.paging.Page(w.ctx, inc.ID, target, "slack:U01BOB"); err != nil {
			t.Fatalf("paging %s: %v", target, err)
		}
	}
	_, err := w.paging.Page(w.ctx, inc.ID, paging.Target{Kind: paging.TargetUser, Name: "U0ERIN"}, "slack:U01BOB")
	var ve *incidents.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("paging U0ERIN twice: %v", err)
	}
	if _, err := w.paging.Page(w.ctx, inc.ID, paging.Target{Kind: paging.TargetService, Name: "search"}, "slack:U01BOB"); !errors.As(err, &ve) {
		t.Errorf("paging a service without a policy: %v", err)
	}
	w.at(0)
	want(t, "notices", w.rec.takeNotices(), []string{
		"14:00 U0ERIN (step 1/1, round 1)", "14:00 alice (step 1/1, round 1)", "14:00 alice (step 1/3, round 1)",
	})
	w.at(time.Hour)
	pages := w.pages(inc.ID)
	if len(pages) != 3 || pages[0].State != paging.StateTriggered || !pages[0].NextAt.IsZero() || pages[2].State != paging.StateEscalated {
		t.Errorf("pages: %+v %+v %+v", pages[0], pages[1], pages[2])
	}
	// The acknowledgement of one page leaves the others.
	res, err := w.paging.Acknowledge(w.ctx, inc.ID, pages[2].ID, "slack:U01ALICE")
	if err != nil || len(res.Acked) != 1 || res.Acked[0].ID != pages[2].ID {
		t.Fatalf("acknowledging page 3: %+v, %v", res, err)
	}
	if _, err := w.paging.Acknowledge(w.ctx, inc.ID, 99, "slack:U01ALICE"); !errors.As(err, &ve) {
		t.Errorf("acknowledging a page of another incident: %v", err)
	}
	if p := w.pages(inc.ID); p[0].State != paging.StateTriggered {
		t.Errorf("page 1 after page 3 was acknowledged: %+v", p[0])
	}
}

func TestPayloadsAreJSON(t *testing.T) {
	// The notices the Slack adapter decodes carry everything it shows.
	w := newWorld(t)
	w.declare("checkout")
	w.at(0)
	info, err := w.store.GetJob(w.ctx, "page:1:r0:s0:person:alice")
	if err != nil {
		t.Fatal(err)
	}
	var n paging.SlackNotice
	if err := json.Unmarshal(info.Payload, &n); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(n, paging.SlackNotice{Page: 1, Incident: 1, Policy: "payments", Rounds: 3, Steps: 3, Person: "alice",
		Via: "schedule:payments-primary", Recipients: []string{"person:alice"}}) {
		t.Errorf("notice: %+v", n)
	}
	if info.Kind != paging.JobNotifySlack {
		t.Errorf("kind %s", info.Kind)
	}
}
