package deploys_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/jobs/runner"
)

func TestRecordDeployIsIdempotentAndGoesOnOpenIncidents(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc := h.declare(incidents.Sev2)
	other, _ := h.inc.Declare(ctx, incidents.DeclareInput{Title: "search slow", Service: "search"})

	d := deploys.Deploy{Service: "checkout", Environment: "production", Source: deploys.SourceWebhook, ExternalID: "argo-7",
		Ref: "v4", SHA: "4444444444444444", Status: deploys.StatusRunning, Creator: "argo"}
	h.clock.Advance(time.Minute)
	got, err := h.svc.RecordDeploy(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 || !got.StartedAt.Equal(h.clock.Now()) {
		t.Errorf("recorded %+v: want an ID and the start time defaulting to now", got)
	}
	// The same report again (a retried webhook) changes nothing.
	if _, err := h.svc.RecordDeploy(ctx, d); err != nil {
		t.Fatal(err)
	}
	evs := h.events(inc.ID, deploys.EventDeploy)
	if len(evs) != 1 {
		t.Fatalf("%d deploy events after the same deploy twice, want 1", len(evs))
	}
	if !strings.Contains(evs[0].Text, "checkout v4 (4444444) to production: running") || evs[0].Actor != "webhook:argo" {
		t.Errorf("event %q by %s", evs[0].Text, evs[0].Actor)
	}
	// Its status changing is another event.
	d.Status = deploys.StatusSuccess
	if _, err := h.svc.RecordDeploy(ctx, d); err != nil {
		t.Fatal(err)
	}
	evs = h.events(inc.ID, deploys.EventDeploy)
	if len(evs) != 2 || evs[1].Data["status"] != "success" {
		t.Fatalf("after success: %+v", evs)
	}
	if n := len(h.events(other.ID, deploys.EventDeploy)); n != 0 {
		t.Errorf("another service's incident got %d deploy events", n)
	}

	// A deploy over before the incident began stays off its timeline, and
	// a resolved incident gets no more deploys.
	old := d
	old.ExternalID, old.StartedAt, old.FinishedAt = "argo-1", t0.Add(-2*time.Hour), t0.Add(-time.Hour)
	if _, err := h.svc.RecordDeploy(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := h.inc.Resolve(ctx, inc.ID, "", "cli:t"); err != nil {
		t.Fatal(err)
	}
	late := d
	late.ExternalID = "argo-8"
	if _, err := h.svc.RecordDeploy(ctx, late); err != nil {
		t.Fatal(err)
	}
	if n := len(h.events(inc.ID, deploys.EventDeploy)); n != 2 {
		t.Errorf("%d deploy events, want still 2", n)
	}
	stored, _ := h.store.Deploys(ctx, "checkout", 10)
	if len(stored) != 3 {
		t.Errorf("%d stored deploys, want 3", len(stored))
	}
}

func TestRecordDeployRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	good := deploys.Deploy{Service: "checkout", Source: deploys.SourceWebhook, ExternalID: "1", Status: deploys.StatusSuccess}
	for name, mutate := range map[string]func(*deploys.Deploy){
		"unknown service": func(d *deploys.Deploy) { d.Service = "nope" },
		"no service":      func(d *deploys.Deploy) { d.Service = "" },
		"no id":           func(d *deploys.Deploy) { d.ExternalID = " " },
		"bad source":      func(d *deploys.Deploy) { d.Source = "jenkins" },
		"bad status":      func(d *deploys.Deploy) { d.Status = "exploded" },
		"long ref":        func(d *deploys.Deploy) { d.Ref = strings.Repeat("r", 1001) },
	} {
		d := good
		mutate(&d)
		_, err := h.svc.RecordDeploy(context.Background(), d)
		if err == nil || !deploys.IsUserError(err) {
			t.Errorf("%s: %v, want a validation error", name, err)
		}
	}
}

func TestRecentMergesProvidersAndStoredDeploys(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.prov.deploys = history()
	// The webhook heard v3 finish; the provider still says running.
	hist := history()
	h.prov.deploys[0].Status = deploys.StatusRunning
	v3 := hist[0]
	v3.ID = 0
	if _, err := h.svc.RecordDeploy(ctx, v3); err != nil {
		t.Fatal(err)
	}
	// A staging deploy reported by webhook is another environment.
	if _, err := h.svc.RecordDeploy(ctx, deploys.Deploy{Service: "checkout", Environment: "staging", Source: deploys.SourceWebhook,
		ExternalID: "s1", Ref: "v9", Status: deploys.StatusSuccess, StartedAt: t0}); err != nil {
		t.Fatal(err)
	}
	rec, err := h.svc.Recent(ctx, "checkout", 10)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, d := range rec.Deploys {
		refs = append(refs, d.Ref+":"+string(d.Status))
	}
	if got := strings.Join(refs, " "); got != "v3:success v2.1:failed v2:inactive v1:inactive" {
		t.Errorf("deploys %s", got)
	}
	if rec.Live == nil || rec.Live.Ref != "v3" || rec.LastGood == nil || rec.LastGood.Ref != "v2" {
		t.Errorf("live %+v, last good %+v; want v3 and v2", rec.Live, rec.LastGood)
	}
	if rec.Deploys[0].ID == 0 {
		t.Error("the stored deploy lost its ID in the merge")
	}
	if len(rec.Errors) != 0 {
		t.Errorf("errors %v", rec.Errors)
	}
	if rec, _ := h.svc.Recent(ctx, "checkout", 2); len(rec.Deploys) != 2 || rec.LastGood == nil {
		t.Errorf("limit 2: %d deploys, last good %v", len(rec.Deploys), rec.LastGood)
	}
	if _, err := h.svc.Recent(ctx, "nope", 0); !deploys.IsUserError(err) {
		t.Errorf("unknown service: %v", err)
	}
}

func TestRecentReportsAProviderErrorAndKeepsStoredDeploys(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.prov.err = errors.New("GET /repos/acme/checkout/deployments: 502 Bad Gateway")
	for _, d := range history()[:3] {
		d.Source = deploys.SourceWebhook
		if _, err := h.svc.RecordDeploy(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := h.svc.Recent(ctx, "checkout", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Deploys) != 3 || rec.Live == nil || rec.Live.Ref != "v3" || rec.LastGood.Ref != "v2" {
		t.Fatalf("stored deploys hidden by the provider error: %+v", rec)
	}
	if len(rec.Errors) != 1 || rec.Errors[0].Source != deploys.SourceGitHubDeployments ||
		!strings.Contains(rec.Errors[0].Error(), "502 Bad Gateway") {
		t.Errorf("errors %v", rec.Errors)
	}
	// A rollback can still be proposed from what is stored.
	inc := h.declare(incidents.Sev1)
	r, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", Actor: incidents.SlackActor(alice)})
	if err != nil {
		t.Fatal(err)
	}
	if r.From.Ref != "v3" || r.To.Ref != "v2" {
		t.Errorf("rollback from %s to %s", r.From.Ref, r.To.Ref)
	}

	// With nothing stored either, the proposal says what failed.
	h2 := newHarness(t)
	h2.prov.err = h.prov.err
	inc2 := h2.declare(incidents.Sev1)
	_, err = h2.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc2.ID, Service: "checkout", Actor: incidents.SlackActor(alice)})
	if err == nil || !deploys.IsUserError(err) || !strings.Contains(err.Error(), "502 Bad Gateway") ||
		!strings.Contains(err.Error(), "/incident rollback checkout to <ref>") {
		t.Errorf("proposal without deploys: %v", err)
	}
}

// propose declares a sev1 incident led by lena and proposes rolling
// checkout back from v3 to v2.
func (h *harness) propose() (*incidents.Incident, *deploys.Rollback) {
	h.t.Helper()
	h.prov.deploys = history()
	inc := h.declare(incidents.Sev1)
	r, err := h.svc.RequestRollback(context.Background(), deploys.RollbackInput{Incident: inc.ID, Service: "checkout",
		Actor: incidents.SlackActor(dave), Key: "propose-1"})
	if err != nil {
		h.t.Fatal(err)
	}
	return inc, r
}

func TestRequestRollbackProposesWhatToRollBack(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	if r.State != deploys.RollbackProposed || r.From.Ref != "v3" || r.To.Ref != "v2" || r.To.SHA != "2222222222222222" ||
		r.Mechanism != deploys.MechanismGitHubWorkflow || r.Key != deploys.RollbackKey(r.ID) || r.ProposedBy != incidents.SlackActor(dave) {
		t.Fatalf("proposal %+v", r)
	}
	evs := h.events(inc.ID, deploys.EventRollbackProposed)
	if len(evs) != 1 || evs[0].Text != "Proposed rolling back checkout from v3 (3333333) to v2 (2222222) through github_workflow" {
		t.Fatalf("proposal events %+v", evs)
	}
	// The same proposal key (a retried job) proposes nothing new.
	again, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", Key: "propose-1"})
	if err != nil || again.ID != r.ID || len(h.events(inc.ID, deploys.EventRollbackProposed)) != 1 {
		t.Errorf("second proposal with the same key: %+v, %v", again, err)
	}
	if _, err := h.svc.CancelRollback(ctx, r.ID, incidents.SlackActor(dave)); err != nil {
		t.Fatal(err)
	}
	// A named ref: a known deploy, an older one by SHA prefix, one that is
	// not among the recent deploys, and the live one.
	for _, c := range []struct{ ref, wantRef, wantSHA, wantErr string }{
		{ref: "v1", wantRef: "v1", wantSHA: "1111111111111111"},
		{ref: "1111111", wantRef: "v1", wantSHA: "1111111111111111"},
		{ref: "v0.9", wantRef: "v0.9"},
		{ref: "v3", wantErr: "v3 (3333333) is what is live now"},
	} {
		r, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", ToRef: c.ref})
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("to %s: %v, want %q", c.ref, err, c.wantErr)
			}
			continue
		}
		if err != nil || r.To.Ref != c.wantRef || r.To.SHA != c.wantSHA {
			t.Errorf("to %s: %+v, %v", c.ref, r, err)
			continue
		}
		if _, err := h.svc.CancelRollback(ctx, r.ID, incidents.SlackActor(lena)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "search"}); err == nil ||
		!strings.Contains(err.Error(), "search has no rollback configured") {
		t.Errorf("service without rollback: %v", err)
	}
	if _, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: 99, Service: "checkout"}); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
}

func TestConfirmRefusesOthersAndRecordsIt(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	_, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(dave))
	var refused *deploys.RefusedError
	if !errors.As(err, &refused) || !deploys.IsUserError(err) {
		t.Fatalf("dave confirming: %v, want a refusal", err)
	}
	if msg := err.Error(); msg != "Only the incident's lead (lena) or checkout's rollback approvers (alice, bob) may confirm this rollback." {
		t.Errorf("refusal %q", msg)
	}
	evs := h.events(inc.ID, deploys.EventRollbackRefused)
	if len(evs) != 1 || evs[0].Actor != incidents.SlackActor(dave) || !strings.Contains(evs[0].Text, "confirm the rollback of checkout to v2") {
		t.Fatalf("refusal events %+v", evs)
	}
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackProposed {
		t.Errorf("state after a refusal: %s", got.State)
	}
	// The proposer may not confirm either, but may cancel.
	h.settle()
	if h.rb.startCalls() != 0 {
		t.Fatal("a refused confirmation started the rollback")
	}
	if _, err := h.svc.CancelRollback(ctx, r.ID, incidents.SlackActor(bob+"X")); !errors.As(err, &refused) {
		t.Errorf("a stranger canceling: %v", err)
	}
	got, err := h.svc.CancelRollback(ctx, r.ID, incidents.SlackActor(dave))
	if err != nil || got.State != deploys.RollbackCanceled {
		t.Fatalf("proposer canceling: %+v, %v", got, err)
	}
	var st *deploys.StateError
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); !errors.As(err, &st) ||
		!strings.Contains(err.Error(), "was canceled") {
		t.Errorf("confirming a canceled rollback: %v", err)
	}
	if n := len(h.events(inc.ID, deploys.EventRollbackCanceled)); n != 1 {
		t.Errorf("%d cancel events", n)
	}
	if o := h.outcomeList(); o != "[github_workflow/canceled]" {
		t.Errorf("outcomes %s", o)
	}
}

func TestLeadAndApproversMayConfirm(t *testing.T) {
	for name, actor := range map[string]incidents.Actor{
		"lead by person name": incidents.SlackActor(lena),
		"approver":            incidents.SlackActor(bob),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			_, r := h.propose()
			got, err := h.svc.ConfirmRollback(context.Background(), r.ID, actor)
			if err != nil || got.State != deploys.RollbackConfirmed || got.ConfirmedBy != actor {
				t.Fatalf("%+v, %v", got, err)
			}
		})
	}
	// A lead assigned by Slack ID (not a configured person), before the
	// proposal.
	ctx := context.Background()
	h := newHarness(t)
	h.prov.deploys = history()
	inc := h.declare(incidents.Sev1)
	if _, err := h.inc.AssignRole(ctx, inc.ID, incidents.RoleLead, "U09ZED", "cli:t"); err != nil {
		t.Fatal(err)
	}
	r, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", Actor: incidents.SlackActor(dave)})
	if err != nil {
		t.Fatal(err)
	}
	if r.ProposedLead != "U09ZED" {
		t.Errorf("proposed while %q led", r.ProposedLead)
	}
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(lena)); err == nil {
		t.Error("the former lead may still confirm")
	}
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor("U09ZED")); err != nil {
		t.Errorf("the lead: %v", err)
	}
}

func TestTakingTheLeadDoesNotLetOneConfirm(t *testing.T) {
	// /incident lead @me is open to anyone; with approvers configured, a
	// lead taken after the proposal does not let dave confirm.
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	if _, err := h.inc.AssignRole(ctx, inc.ID, incidents.RoleLead, dave, incidents.SlackActor(dave)); err != nil {
		t.Fatal(err)
	}
	_, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(dave))
	var refused *deploys.RefusedError
	if !errors.As(err, &refused) || !refused.LeadChanged ||
		err.Error() != "Only checkout's rollback approvers (alice, bob) may confirm this rollback: the incident's lead changed since it was proposed, and a new lead may confirm only rollbacks proposed while they lead." {
		t.Fatalf("dave, lead since the proposal: %v", err)
	}
	if n := len(h.events(inc.ID, deploys.EventRollbackRefused)); n != 1 {
		t.Errorf("%d refusals recorded", n)
	}
	// An approver may confirm it.
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(bob)); err != nil {
		t.Errorf("approver: %v", err)
	}

	// Without approvers, the lead of the moment decides.
	h2 := newHarness(t)
	h2.prov.deploys = history()
	inc2, err := h2.inc.Declare(ctx, incidents.DeclareInput{Title: "cart down", Service: "cart", Severity: incidents.Sev1,
		Lead: "lena", Actor: incidents.SlackActor(lena)})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h2.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc2.ID, Service: "cart", Actor: incidents.SlackActor(lena)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h2.inc.AssignRole(ctx, inc2.ID, incidents.RoleLead, dave, incidents.SlackActor(dave)); err != nil {
		t.Fatal(err)
	}
	if _, err := h2.svc.ConfirmRollback(ctx, r2.ID, incidents.SlackActor(dave)); err != nil {
		t.Errorf("the lead of a service without approvers: %v", err)
	}
}

func TestDoubleConfirmStartsOneRollback(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	_, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice))
	var st *deploys.StateError
	if !errors.As(err, &st) || !strings.Contains(err.Error(), "already confirmed by slack:U01ALICE") {
		t.Fatalf("second click: %v", err)
	}
	h.rb.progress = []deploys.Progress{{Status: deploys.StatusSuccess}}
	h.runJobs()
	if n := h.rb.startCalls(); n != 1 {
		t.Fatalf("Start called %d times, want 1", n)
	}
	if n := len(h.events(inc.ID, deploys.EventRollbackConfirmed)); n != 1 {
		t.Errorf("%d confirm events", n)
	}
}

func TestConcurrentConfirmsStartOneRollback(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := alice
			if i%2 == 1 {
				who = bob
			}
			_, errs[i] = h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(who))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var st *deploys.StateError
		switch {
		case err == nil:
			ok++
		case !errors.As(err, &st):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d confirmations succeeded, want 1", ok)
	}
	h.rb.progress = []deploys.Progress{{Status: deploys.StatusSuccess}}
	h.runJobs()
	if n := h.rb.startCalls(); n != 1 {
		t.Fatalf("Start called %d times, want 1", n)
	}
	if n := len(h.events(inc.ID, deploys.EventRollbackConfirmed)); n != 1 {
		t.Errorf("%d confirm events", n)
	}
}

func TestRollbackIsFollowedToSuccess(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	h.rb.progress = []deploys.Progress{
		{Status: deploys.StatusPending, Handle: deploys.Handle{Pending: true}},
		{Status: deploys.StatusRunning, Message: "deploying v2", Handle: deploys.Handle{ExternalID: "9", URL: "https://github.com/acme/checkout/actions/runs/9"}},
		{Status: deploys.StatusRunning, Message: "deploying v2"},
		{Status: deploys.StatusSuccess},
	}
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(lena)); err != nil {
		t.Fatal(err)
	}
	h.runJobs()
	got, _ := h.svc.Rollback(ctx, r.ID)
	if got.State != deploys.RollbackSucceeded || got.Handle.ExternalID != "9" || got.URL != "https://github.com/acme/checkout/actions/runs/9" {
		t.Fatalf("after following: %+v", got)
	}
	req := h.rb.reqs[0]
	if req.Key != r.Key || req.To.Ref != "v2" || req.From.Ref != "v3" || req.Incident != inc.ID ||
		req.RequestedBy != incidents.SlackActor(lena) || !req.At.Equal(got.ConfirmedAt) {
		t.Errorf("request %+v", req)
	}
	if h.rb.polls != 4 {
		t.Errorf("%d polls, want 4", h.rb.polls)
	}
	// One event per change: started, running with its message, success.
	if n := len(h.events(inc.ID, deploys.EventRollbackProgress)); n != 1 {
		t.Errorf("%d progress events, want 1", n)
	}
	ok := h.events(inc.ID, deploys.EventRollbackSucceeded)
	if len(ok) != 1 || !strings.HasPrefix(ok[0].Text, "Rolled back checkout to v2 (2222222) through github_workflow in 1m") {
		t.Errorf("success events %+v", ok)
	}
	if got.FinishedAt.Sub(got.StartedAt) != time.Minute {
		t.Errorf("took %s, want 4 polls of 15s", got.FinishedAt.Sub(got.StartedAt))
	}
	if o := h.outcomeList(); o != "[github_workflow/succeeded]" {
		t.Errorf("outcomes %s", o)
	}
}

func TestRollbackThatFailsSaysWhatAndWhere(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	h.rb.progress = []deploys.Progress{{Status: deploys.StatusFailed, Message: `job "deploy" failed at step "helm upgrade"`,
		URL: "https://github.com/acme/checkout/actions/runs/77/job/5"}}
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	h.runJobs()
	got, _ := h.svc.Rollback(ctx, r.ID)
	if got.State != deploys.RollbackFailed {
		t.Fatalf("state %s", got.State)
	}
	evs := h.events(inc.ID, deploys.EventRollbackFailed)
	want := `Rollback of checkout to v2 (2222222) failed: job "deploy" failed at step "helm upgrade". Look at https://github.com/acme/checkout/actions/runs/77/job/5`
	if len(evs) != 1 || evs[0].Text != want || evs[0].Data["url"] != "https://github.com/acme/checkout/actions/runs/77/job/5" {
		t.Fatalf("failure events %+v", evs)
	}
}

func TestRollbackThatCannotStartFails(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	h.rb.startErr = jobs.Permanent(errors.New("POST /repos/acme/checkout/actions/workflows/rollback.yml/dispatches: 404 Not Found"))
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	h.runJobs()
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackFailed || !strings.Contains(got.Message, "404 Not Found") {
		t.Fatalf("after a refused start: %+v", got)
	}
	evs := h.events(inc.ID, deploys.EventRollbackFailed)
	if len(evs) != 1 || !strings.Contains(evs[0].Text, "failed to start") || !strings.Contains(evs[0].Text, "404 Not Found") ||
		!strings.Contains(evs[0].Text, "services.checkout.rollback") {
		t.Fatalf("failure events %+v", evs)
	}

	// A start that keeps failing with a temporary error fails on its last
	// attempt, and is not started twice.
	h2 := newHarness(t)
	_, r2 := h2.propose()
	h2.rb.startErr = errors.New("502 Bad Gateway")
	if _, err := h2.svc.ConfirmRollback(ctx, r2.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	h2.runJobs()
	if got, _ := h2.svc.Rollback(ctx, r2.ID); got.State != deploys.RollbackFailed || h2.rb.startCalls() != 6 {
		t.Fatalf("after 6 failed starts (%d calls): %+v", h2.rb.startCalls(), got)
	}
	// Its last answer was lost, not a refusal: it may have started.
	evs = h2.events(r2.Incident, deploys.EventRollbackFailed)
	if len(evs) != 1 || strings.Contains(evs[0].Text, "Nothing was rolled back") || !strings.Contains(evs[0].Text, "may have started anyway") ||
		!strings.Contains(evs[0].Text, "look for "+r2.Key) {
		t.Errorf("failure after lost answers: %+v", evs)
	}
	if h.outcomeList() != "[github_workflow/failed]" || h2.outcomeList() != "[github_workflow/failed]" {
		t.Errorf("outcomes %s and %s", h.outcomeList(), h2.outcomeList())
	}
}

func TestRestartBetweenConfirmAndStartStartsOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	// Warroom stops before the start job runs.
	h.reopen()
	info, err := h.store.GetJob(ctx, deploys.JobRollbackStart+":"+strconv.FormatInt(r.ID, 10))
	if err != nil || info.State != jobs.StatePending {
		t.Fatalf("start job after the restart: %+v, %v", info, err)
	}
	h.rb.progress = []deploys.Progress{{Status: deploys.StatusSuccess}}
	h.runJobs()
	h.reopen()
	h.runJobs()
	if n := h.rb.startCalls(); n != 1 {
		t.Fatalf("Start called %d times, want 1", n)
	}
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackSucceeded {
		t.Errorf("state %s", got.State)
	}
	if n := len(h.events(inc.ID, deploys.EventRollbackStarted)); n != 1 {
		t.Errorf("%d start events", n)
	}
}

func TestStartThatLostItsAnswerIsNotStartedTwice(t *testing.T) {
	// The first Start succeeds at the mechanism but its job fails before
	// recording it; the retry passes the same key, and the mechanism finds
	// the rollback it started.
	ctx := context.Background()
	h := newHarness(t)
	_, r := h.propose()
	lost := &losingRollbacker{fakeRollbacker: h.rb}
	cfg, _ := h.svc.Config("checkout")
	cfg.Rollbacker = lost
	h.rb.progress = []deploys.Progress{{Status: deploys.StatusSuccess}}
	svc, err := deploys.NewService(deploys.Options{Incidents: h.inc, Store: h.store, Now: h.clock.Now, Logger: quiet,
		Services: map[string]deploys.ServiceConfig{"checkout": cfg},
		People:   map[string]incidents.Actor{"alice": incidents.SlackActor(alice)}})
	if err != nil {
		t.Fatal(err)
	}
	h.queue = runner.New(h.store, runner.Options{Now: h.clock.Now, Logger: quiet, MinBackoff: time.Second, MaxBackoff: time.Minute})
	svc.RegisterJobs(h.queue)
	if _, err := svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	h.runJobs()
	if h.rb.startCalls() != 2 || len(h.rb.started) != 1 {
		t.Fatalf("%d Start calls, %d rollbacks started; want 2 calls with one key", h.rb.startCalls(), len(h.rb.started))
	}
	if h.rb.reqs[0].Key != h.rb.reqs[1].Key {
		t.Errorf("keys %q and %q differ", h.rb.reqs[0].Key, h.rb.reqs[1].Key)
	}
}

// losingRollbacker loses the answer of its first Start.
type losingRollbacker struct {
	*fakeRollbacker
	lost bool
}

func (l *losingRollbacker) Start(ctx context.Context, req deploys.RollbackRequest) (deploys.Handle, error) {
	h, err := l.fakeRollbacker.Start(ctx, req)
	if !l.lost {
		l.lost = true
		return deploys.Handle{}, errors.New("connection reset by peer")
	}
	return h, err
}

func TestRecordRollbackProgressByKey(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.rb.mech = deploys.MechanismWebhook
	inc, r := h.propose()
	if err := h.svc.RecordRollbackProgress(ctx, "checkout", r.Key, deploys.Progress{Status: deploys.StatusRunning}); !deploys.IsUserError(err) {
		t.Errorf("progress of an unconfirmed rollback: %v", err)
	}
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.queue.RunDue(ctx); err != nil { // started
		t.Fatal(err)
	}
	if err := h.svc.RecordRollbackProgress(ctx, "checkout", r.Key, deploys.Progress{Status: deploys.StatusFailed,
		Message: "argo sync failed: image not found", URL: "https://argo.example.com/app/checkout"}); err != nil {
		t.Fatal(err)
	}
	// The same callback again changes nothing.
	if err := h.svc.RecordRollbackProgress(ctx, "checkout", r.Key, deploys.Progress{Status: deploys.StatusFailed, Message: "x"}); err != nil {
		t.Fatal(err)
	}
	got, _ := h.svc.Rollback(ctx, r.ID)
	if got.State != deploys.RollbackFailed || got.Message != "argo sync failed: image not found" {
		t.Fatalf("after the callback: %+v", got)
	}
	if evs := h.events(inc.ID, deploys.EventRollbackFailed); len(evs) != 1 || !strings.Contains(evs[0].Text, "https://argo.example.com/app/checkout") {
		t.Errorf("failure events %+v", evs)
	}
	if err := h.svc.RecordRollbackProgress(ctx, "checkout", "warroom-rollback-404", deploys.Progress{}); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
}

func TestFollowingStopsAfterFollowFor(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	h.runJobs() // the fake says running forever
	if h.rb.polls != int(deploys.DefaultFollowFor/deploys.DefaultFollowEvery) {
		t.Errorf("%d polls in %s", h.rb.polls, deploys.DefaultFollowFor)
	}
	evs := h.events(inc.ID, deploys.EventRollbackUnknown)
	if len(evs) != 1 || !strings.Contains(evs[0].Text, "stopped following") || !strings.Contains(evs[0].Text, "Whether it worked is unknown") ||
		!strings.Contains(evs[0].Text, "https://github.com/acme/checkout/actions/runs/77") {
		t.Fatalf("unknown events %+v", evs)
	}
	// It no longer counts as running: it blocks no other rollback.
	got, _ := h.svc.Rollback(ctx, r.ID)
	if got.State != deploys.RollbackUnknown || !strings.Contains(got.Message, "Look at https://github.com/acme/checkout/actions/runs/77") {
		t.Fatalf("after giving up: %s %q", got.State, got.Message)
	}
	if _, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", ToRef: "v1", Key: "after"}); err != nil {
		t.Errorf("proposing after giving up on the first: %v", err)
	}
}

func TestASecondProposalReturnsTheOpenOne(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	// Another click or command (another key) while the first waits.
	again, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", ToRef: "v1",
		Actor: incidents.SlackActor(bob), Key: "click-2"})
	var pe *deploys.ProposedError
	if !errors.As(err, &pe) || !deploys.IsUserError(err) || again == nil || again.ID != r.ID || pe.Rollback.ID != r.ID {
		t.Fatalf("second proposal: %+v, %v; want the open one (%d) and a ProposedError", again, err, r.ID)
	}
	if !strings.Contains(err.Error(), "already proposed by slack:U01DAVE") {
		t.Errorf("message %q", err)
	}
	if n := len(h.events(inc.ID, deploys.EventRollbackProposed)); n != 1 {
		t.Errorf("%d proposals recorded, want 1", n)
	}
	all, _ := h.svc.Rollbacks(ctx, inc.ID)
	if len(all) != 1 {
		t.Errorf("%d rollbacks stored, want 1", len(all))
	}
	// Once it is canceled, a new proposal can be made.
	if _, err := h.svc.CancelRollback(ctx, r.ID, incidents.SlackActor(dave)); err != nil {
		t.Fatal(err)
	}
	if r2, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", Key: "click-3"}); err != nil || r2.ID == r.ID {
		t.Errorf("after the cancel: %+v, %v", r2, err)
	}
}

func TestTwoProposalsStartOneRollback(t *testing.T) {
	// Two incidents of checkout each get a proposal; both are confirmed.
	ctx := context.Background()
	h := newHarness(t)
	inc1, r1 := h.propose()
	inc2 := h.declare(incidents.Sev2)
	r2, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc2.ID, Service: "checkout", Actor: incidents.SlackActor(dave), Key: "p2"})
	if err != nil || r2.ID == r1.ID {
		t.Fatalf("proposal in %s: %+v, %v", inc2.ID, r2, err)
	}
	if _, err := h.svc.ConfirmRollback(ctx, r1.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.ConfirmRollback(ctx, r2.ID, incidents.SlackActor(bob))
	var st *deploys.StateError
	if !errors.As(err, &st) || st.Other == nil || st.Other.ID != r1.ID ||
		!strings.Contains(err.Error(), "Another rollback of checkout, to v2 (2222222) in "+inc1.ID.String()+", was confirmed by slack:U01ALICE") {
		t.Fatalf("second confirmation: %v", err)
	}
	if got, _ := h.svc.Rollback(ctx, r2.ID); got.State != deploys.RollbackProposed {
		t.Errorf("the refused proposal is %s", got.State)
	}
	// While the first runs, no new proposal is made either.
	h.rb.progress = []deploys.Progress{{Status: deploys.StatusRunning}}
	if _, err := h.queue.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.svc.Rollback(ctx, r1.ID); got.State != deploys.RollbackRunning {
		t.Fatalf("first rollback %s", got.State)
	}
	if _, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc1.ID, Service: "checkout", Key: "p3"}); !errors.As(err, &st) {
		t.Errorf("proposal while one runs: %v", err)
	}
	h.rb.progress = []deploys.Progress{{Status: deploys.StatusSuccess}}
	h.settle() // not past the other proposal's expiry
	if n := h.rb.startCalls(); n != 1 {
		t.Fatalf("Start called %d times, want 1", n)
	}
	if n := len(h.events(inc2.ID, deploys.EventRollbackConfirmed)); n != 0 {
		t.Errorf("%d confirmations in %s", n, inc2.ID)
	}
	// Once it is over, the other proposal may be confirmed.
	if _, err := h.svc.ConfirmRollback(ctx, r2.ID, incidents.SlackActor(bob)); err != nil {
		t.Errorf("confirming after the first ended: %v", err)
	}
}

func TestLastGoodAfterARollbackIsNotTheBadVersion(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	h.rb.progress = []deploys.Progress{{Status: deploys.StatusSuccess}}
	h.runJobs()
	// The rollback workflow deployed v2 again (GitHub does not mark it as a
	// rollback); v3 was replaced.
	hist := history()
	hist[0].Status = deploys.StatusInactive
	v2again := hist[2]
	v2again.ExternalID, v2again.Status, v2again.StartedAt, v2again.FinishedAt = "105", deploys.StatusSuccess, h.clock.Now(), h.clock.Now()
	h.prov.deploys = append([]deploys.Deploy{v2again}, hist...)
	rec, err := h.svc.Recent(ctx, "checkout", 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Live == nil || rec.Live.ExternalID != "105" || rec.LastGood == nil || rec.LastGood.Ref != "v1" {
		t.Fatalf("live %+v, last good %+v; want v2 (105) and v1, not the rolled-back v3", rec.Live, rec.LastGood)
	}
	if !rec.RolledBack(hist[0]) || rec.RolledBack(hist[2]) || rec.RolledBack(v2again) {
		t.Errorf("rolled back: v3 %v, v2 %v, v2 again %v", rec.RolledBack(hist[0]), rec.RolledBack(hist[2]), rec.RolledBack(v2again))
	}
	// So a second rollback goes to v1, not back to v3.
	r2, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", Key: "again"})
	if err != nil || r2.From.ExternalID != "105" || r2.To.Ref != "v1" {
		t.Fatalf("second rollback: %+v, %v", r2, err)
	}
	if _, err := h.svc.CancelRollback(ctx, r2.ID, incidents.SlackActor(lena)); err != nil {
		t.Fatal(err)
	}

	// The fix, v3 redeployed later as v4 went live, is good again.
	h.clock.Advance(time.Hour)
	redeploy := hist[0]
	redeploy.ExternalID, redeploy.StartedAt, redeploy.FinishedAt = "106", h.clock.Now(), h.clock.Now()
	v4 := hist[0]
	v4.ExternalID, v4.Ref, v4.SHA, v4.Status = "107", "v4", "4444444444444444", deploys.StatusSuccess
	v4.StartedAt, v4.FinishedAt = h.clock.Now().Add(time.Minute), h.clock.Now().Add(time.Minute)
	v2again.Status = deploys.StatusInactive
	h.prov.deploys = append([]deploys.Deploy{v4, redeploy, v2again}, hist...)
	if rec, _ := h.svc.Recent(ctx, "checkout", 0); rec.LastGood == nil || rec.LastGood.ExternalID != "106" {
		t.Errorf("after a redeploy of v3: last good %+v, want the redeploy (106)", rec.LastGood)
	}
}

func TestLastGoodSkipsWhatARollbackDeployReplaced(t *testing.T) {
	// A rollback made outside Warroom, reported as a rollback deploy.
	ctx := context.Background()
	h := newHarness(t)
	hist := history()
	hist[0].Status = deploys.StatusInactive
	back := hist[2]
	back.ExternalID, back.Status, back.Rollback = "105", deploys.StatusSuccess, true
	back.StartedAt, back.FinishedAt = t0.Add(-5*time.Minute), t0.Add(-4*time.Minute)
	h.prov.deploys = append([]deploys.Deploy{back}, hist...)
	rec, err := h.svc.Recent(ctx, "checkout", 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Live == nil || rec.Live.ExternalID != "105" || rec.LastGood == nil || rec.LastGood.Ref != "v1" || !rec.RolledBack(hist[0]) {
		t.Fatalf("live %+v, last good %+v; want 105 and v1", rec.Live, rec.LastGood)
	}
}

func TestUnknownProgressChangesNothing(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	h.rb.progress = []deploys.Progress{
		{Status: deploys.StatusRunning, Message: "deploying v2"},
		{Status: deploys.StatusUnknown, Message: "no news"},
		{Status: deploys.StatusUnknown, Message: "no news"},
		{Status: deploys.StatusSuccess},
	}
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	h.runJobs()
	evs := h.events(inc.ID, deploys.EventRollbackProgress)
	if len(evs) != 1 || !strings.Contains(evs[0].Text, "deploying v2") {
		t.Fatalf("progress events %+v; want only the running one", evs)
	}
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackSucceeded || h.rb.polls != 4 {
		t.Errorf("state %s after %d polls", got.State, h.rb.polls)
	}
}

func TestWebhookRollbackIsNotPolled(t *testing.T) {
	// The tool reports by callbacks; polls would only undo their message.
	ctx := context.Background()
	h := newHarness(t)
	h.rb.mech = deploys.MechanismWebhook
	h.rb.progress = []deploys.Progress{{Status: deploys.StatusUnknown, Message: "waiting for argo.example.com"}}
	inc, r := h.propose()
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.queue.RunDue(ctx); err != nil { // the start
		t.Fatal(err)
	}
	if err := h.svc.RecordRollbackProgress(ctx, "checkout", r.Key, deploys.Progress{Status: deploys.StatusRunning, Message: "syncing 3/5 pods"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5 * time.Minute)
	if _, err := h.queue.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := h.svc.Rollback(ctx, r.ID)
	if h.rb.polls != 0 || got.Message != "syncing 3/5 pods" {
		t.Fatalf("after 5 minutes: %d polls, message %q", h.rb.polls, got.Message)
	}
	// Only the give-up runs, once FollowFor has passed.
	h.runJobs()
	if h.rb.polls != 0 {
		t.Errorf("%d polls of a webhook rollback", h.rb.polls)
	}
	evs := h.events(inc.ID, deploys.EventRollbackProgress)
	if len(evs) != 1 || !strings.Contains(evs[0].Text, "syncing 3/5 pods") || len(h.events(inc.ID, deploys.EventRollbackUnknown)) != 1 {
		t.Fatalf("progress events %+v", evs)
	}
	// The tool's late final word is still recorded.
	if err := h.svc.RecordRollbackProgress(ctx, "checkout", r.Key, deploys.Progress{Status: deploys.StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackSucceeded {
		t.Errorf("after a late callback: %s", got.State)
	}
	if !h.clock.Now().After(got.StartedAt.Add(deploys.DefaultFollowFor)) {
		t.Errorf("gave up at %s, started %s", h.clock.Now(), got.StartedAt)
	}
}

func TestCallbacksChangeOnlyTheirServicesWebhookRollback(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.rb.mech = deploys.MechanismWebhook
	_, r := h.propose()
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.queue.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	// A tool trusted for search names checkout's rollback.
	err := h.svc.RecordRollbackProgress(ctx, "search", r.Key, deploys.Progress{Status: deploys.StatusSuccess})
	if !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("another service's callback: %v, want not found", err)
	}
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackRunning {
		t.Fatalf("another service's callback changed the rollback: %s", got.State)
	}
	if err := h.svc.RecordRollbackProgress(ctx, "checkout", r.Key, deploys.Progress{Status: deploys.StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.svc.Rollback(ctx, r.ID); got.State != deploys.RollbackSucceeded {
		t.Errorf("state %s", got.State)
	}

	// A rollback through GitHub takes no callbacks.
	h2 := newHarness(t)
	_, r2 := h2.propose()
	if _, err := h2.svc.ConfirmRollback(ctx, r2.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	if err := h2.svc.RecordRollbackProgress(ctx, "checkout", r2.Key, deploys.Progress{Status: deploys.StatusFailed}); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("callback for a github_workflow rollback: %v", err)
	}
}

func TestAStaleDeployReportDoesNotUndoAFinishedOne(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc := h.declare(incidents.Sev2)
	started := t0.Add(-5 * time.Minute)
	running := deploys.Deploy{Service: "checkout", Environment: "production", Source: deploys.SourceWebhook, ExternalID: "argo-9",
		Ref: "v4", Status: deploys.StatusRunning, StartedAt: started}
	if _, err := h.svc.RecordDeploy(ctx, running); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(3 * time.Minute)
	// The success report carries no times: the start is kept.
	done := running
	done.Status, done.StartedAt = deploys.StatusSuccess, time.Time{}
	got, err := h.svc.RecordDeploy(ctx, done)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartedAt.Equal(started) || !got.FinishedAt.Equal(h.clock.Now()) {
		t.Errorf("after success: started %s (want %s), finished %s", got.StartedAt, started, got.FinishedAt)
	}
	// A late redelivery of "running", without times, changes nothing.
	h.clock.Advance(time.Minute)
	late := running
	late.StartedAt = time.Time{}
	got, err = h.svc.RecordDeploy(ctx, late)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := h.store.Deploys(ctx, "checkout", 10)
	if len(stored) != 1 || stored[0].Status != deploys.StatusSuccess || !stored[0].StartedAt.Equal(started) ||
		!stored[0].FinishedAt.Equal(t0.Add(3*time.Minute)) || got.Status != deploys.StatusSuccess {
		t.Fatalf("after a stale report: stored %+v, returned %+v", stored, got)
	}
	// And a report without a status keeps the stored one.
	if _, err := h.svc.RecordDeploy(ctx, deploys.Deploy{Service: "checkout", Source: deploys.SourceWebhook, ExternalID: "argo-9", Ref: "v4"}); err != nil {
		t.Fatal(err)
	}
	if stored, _ := h.store.Deploys(ctx, "checkout", 10); stored[0].Status != deploys.StatusSuccess {
		t.Errorf("a report without a status made it %s", stored[0].Status)
	}
	evs := h.events(inc.ID, deploys.EventDeploy)
	// (Running, it had started before the incident: not on its timeline.)
	if len(evs) != 1 || evs[0].Data["status"] != "success" {
		t.Errorf("deploy events %+v; want the success only", evs)
	}
}

func TestAnExpiredProposalCannotBeConfirmed(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	h.clock.Advance(deploys.DefaultProposalTTL + time.Minute)
	_, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice))
	var st *deploys.StateError
	if !errors.As(err, &st) || !strings.Contains(err.Error(), "proposed 31m ago and has expired (a proposal holds for 30m)") ||
		!strings.Contains(err.Error(), "/incident rollback checkout") {
		t.Fatalf("late confirmation: %v", err)
	}
	got, _ := h.svc.Rollback(ctx, r.ID)
	if got.State != deploys.RollbackCanceled {
		t.Errorf("expired proposal is %s", got.State)
	}
	h.runJobs()
	if h.rb.startCalls() != 0 {
		t.Error("an expired proposal was started")
	}
	evs := h.events(inc.ID, deploys.EventRollbackCanceled)
	if len(evs) != 1 || !strings.Contains(evs[0].Text, "expired") {
		t.Errorf("cancel events %+v", evs)
	}
	// An expired proposal does not stand in the way of a new one, which
	// expires the old one if nobody tried to confirm it.
	r2, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", Key: "p2"})
	if err != nil || r2.ID == r.ID {
		t.Fatalf("new proposal: %+v, %v", r2, err)
	}
	h.clock.Advance(deploys.DefaultProposalTTL + time.Minute)
	r3, err := h.svc.RequestRollback(ctx, deploys.RollbackInput{Incident: inc.ID, Service: "checkout", Key: "p3"})
	if err != nil || r3.ID == r2.ID {
		t.Fatalf("proposal after the second expired: %+v, %v", r3, err)
	}
	if got, _ := h.svc.Rollback(ctx, r2.ID); got.State != deploys.RollbackCanceled {
		t.Errorf("the expired open proposal is %s", got.State)
	}
	if _, err := h.svc.ConfirmRollback(ctx, r3.ID, incidents.SlackActor(alice)); err != nil {
		t.Errorf("confirming in time: %v", err)
	}
}

func TestStartRefusesWhenWhatIsLiveChanged(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc, r := h.propose()
	if _, err := h.svc.ConfirmRollback(ctx, r.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	// v4 went live between the proposal and the start.
	v4 := history()[0]
	v4.ExternalID, v4.Ref, v4.SHA, v4.StartedAt = "105", "v4", "4444444444444444", t0.Add(-time.Minute)
	h.prov.deploys = append([]deploys.Deploy{v4}, history()...)
	h.runJobs()
	if n := h.rb.startCalls(); n != 0 {
		t.Fatalf("Start called %d times over a changed live version", n)
	}
	got, _ := h.svc.Rollback(ctx, r.ID)
	if got.State != deploys.RollbackFailed {
		t.Fatalf("state %s", got.State)
	}
	evs := h.events(inc.ID, deploys.EventRollbackFailed)
	if len(evs) != 1 || !strings.Contains(evs[0].Text, "what is live changed since it was proposed (v3 (3333333) then, v4 (4444444) now)") ||
		!strings.Contains(evs[0].Text, "Nothing was rolled back") {
		t.Fatalf("failure events %+v", evs)
	}

	// The target already live: said so.
	h2 := newHarness(t)
	_, r2 := h2.propose()
	if _, err := h2.svc.ConfirmRollback(ctx, r2.ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	back := history()[2]
	back.ExternalID, back.Status, back.StartedAt = "105", deploys.StatusSuccess, t0.Add(-time.Minute)
	h2.prov.deploys = append([]deploys.Deploy{back}, history()...)
	h2.runJobs()
	if got, _ := h2.svc.Rollback(ctx, r2.ID); got.State != deploys.RollbackFailed || h2.rb.startCalls() != 0 ||
		!strings.Contains(got.Message, "v2 (2222222) is live already") {
		t.Errorf("target live already: %+v, %d starts", got, h2.rb.startCalls())
	}
}

func TestKnownCallsNoProvider(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.prov.deploys = history()
	stored := deploys.Deploy{Service: "checkout", Environment: "production", Source: deploys.SourceWebhook, ExternalID: "argo-1",
		Ref: "v0", Status: deploys.StatusInactive, StartedAt: t0.Add(-48 * time.Hour)}
	if _, err := h.svc.RecordDeploy(ctx, stored); err != nil {
		t.Fatal(err)
	}
	// Before any read: the stored deploys only.
	rec, err := h.svc.Known(ctx, "checkout", 0)
	if err != nil || len(rec.Deploys) != 1 || rec.Deploys[0].Ref != "v0" || !rec.ReadAt.IsZero() {
		t.Fatalf("known before a read: %+v, %v", rec, err)
	}
	h.clock.Advance(time.Minute)
	if _, err := h.svc.Recent(ctx, "checkout", 0); err != nil {
		t.Fatal(err)
	}
	calls := h.prov.calls
	h.prov.deploys = nil // GitHub changed; Known does not ask
	h.clock.Advance(time.Minute)
	rec, err = h.svc.Known(ctx, "checkout", 0)
	if err != nil || len(rec.Deploys) != 5 || rec.Live == nil || rec.Live.Ref != "v3" || rec.LastGood.Ref != "v2" ||
		!rec.ReadAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("known after a read: %+v, %v", rec, err)
	}
	if h.prov.calls != calls {
		t.Errorf("Known called the provider %d times", h.prov.calls-calls)
	}
	if _, err := h.svc.Known(ctx, "nope", 0); !deploys.IsUserError(err) {
		t.Errorf("unknown service: %v", err)
	}
}

func TestSnapshotOnDeclareWaitsForAFailingProvider(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.inc.AddListener(h.svc.Listener())
	h.prov.deploys = history()
	h.prov.err = errors.New("GET /repos/acme/checkout/deployments: 502 Bad Gateway")
	inc := h.declare(incidents.Sev2)
	if n, err := h.queue.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("ran %d jobs: %v", n, err)
	}
	if ds, err := h.store.DeploySnapshots(ctx, inc.ID); err != nil || len(ds) != 0 {
		t.Fatalf("snapshot after a failed read: %v, %v; want none yet", ds, err)
	}
	// GitHub is back by the retry: the snapshot has its deploys.
	h.prov.mu.Lock()
	h.prov.err = nil
	h.prov.mu.Unlock()
	h.runJobs()
	ds, err := h.store.DeploySnapshots(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, d := range ds {
		refs = append(refs, d.Ref+":"+string(d.Status))
	}
	if got := strings.Join(refs, " "); got != "v3:success v2.1:failed v2:inactive v1:inactive" {
		t.Errorf("snapshot %s", got)
	}

	// A provider that never answers: the last attempt keeps what is known.
	h.prov.mu.Lock()
	h.prov.err = errors.New("connection refused")
	h.prov.mu.Unlock()
	if _, err := h.svc.RecordDeploy(ctx, deploys.Deploy{Service: "cart", Source: deploys.SourceWebhook, ExternalID: "c1",
		Ref: "c1", Status: deploys.StatusSuccess, StartedAt: t0.Add(-time.Hour), FinishedAt: t0.Add(-50 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	cart, err := h.inc.Declare(ctx, incidents.DeclareInput{Title: "cart down", Service: "cart", Severity: incidents.Sev3,
		Actor: incidents.SlackActor(lena)})
	if err != nil {
		t.Fatal(err)
	}
	calls := h.prov.calls
	h.runJobs()
	if ds, err := h.store.DeploySnapshots(ctx, cart.ID); err != nil || len(ds) != 1 || ds[0].Ref != "c1" {
		t.Errorf("snapshot of cart %+v, %v; want the stored c1", ds, err)
	}
	if got := h.prov.calls - calls; got != 6 {
		t.Errorf("%d reads of the failing provider, want 6 (the job's attempts)", got)
	}
}
