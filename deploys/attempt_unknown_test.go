package deploys_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

// A deploy stored before migration 0012 has attempt 0 (unknown); the
// first provider read or workflow_run redelivery after the upgrade reports
// the same run with its attempt. That is no re-run: the deploy is not
// posted to the timeline again, and the attempt is learned.
func TestADeployStoredWithoutAttemptIsNotPostedAgain(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc := h.declare(incidents.Sev2)
	start := h.clock.Now()
	record := func(d deploys.Deploy) deploys.Deploy {
		t.Helper()
		got, err := h.svc.RecordDeploy(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for i, attempt := range []int{1, 2} {
		run := deploys.Deploy{Service: "checkout", Source: deploys.SourceGitHubActions, ExternalID: fmt.Sprint("77", i),
			Ref: "main", SHA: "4444444444444444", Status: deploys.StatusSuccess, Attempt: 0,
			StartedAt: start, FinishedAt: start.Add(2 * time.Minute)}
		record(run)
		run.Attempt = attempt
		if got := record(run); got.Attempt != attempt || got.Status != deploys.StatusSuccess {
			t.Errorf("attempt %d: stored %+v", attempt, got)
		}
		// A later report without an attempt keeps the one learned.
		run.Attempt = 0
		if got := record(run); got.Attempt != attempt {
			t.Errorf("a report without attempt: stored attempt %d, want %d", got.Attempt, attempt)
		}
	}
	if evs := h.events(inc.ID, deploys.EventDeploy); len(evs) != 2 {
		var texts []string
		for _, e := range evs {
			texts = append(texts, e.Text)
		}
		t.Fatalf("%d deploy events for two unchanged deploys:\n%s", len(evs), strings.Join(texts, "\n"))
	}

	// A stored attempt-0 deploy whose status changes is posted; an
	// earlier attempt than the one then learned is stale.
	run := deploys.Deploy{Service: "checkout", Source: deploys.SourceGitHubActions, ExternalID: "88",
		Ref: "main", SHA: "5555555555555555", Status: deploys.StatusRunning, StartedAt: start}
	record(run)
	run.Attempt, run.Status, run.FinishedAt = 2, deploys.StatusFailed, start.Add(3*time.Minute)
	record(run)
	late := run
	late.Attempt, late.Status = 1, deploys.StatusSuccess
	if got := record(late); got.Attempt != 2 || got.Status != deploys.StatusFailed {
		t.Errorf("a late attempt 1 changed attempt 2: %+v", got)
	}
	evs := h.events(inc.ID, deploys.EventDeploy)
	if len(evs) != 4 || evs[3].Text != "Deploy of checkout main (5555555) (attempt 2): failed" {
		for _, e := range evs {
			t.Log(e.Text)
		}
		t.Errorf("%d deploy events, want 4 ending with attempt 2's failure", len(evs))
	}
}

// Recent and Known prefer the later attempt: a provider's answer (read
// before a re-run, or cached) of attempt 1 does not hide the stored
// attempt 2; a provider's attempt 3 that the store has not heard of does.
func TestRecentPrefersTheLaterAttempt(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	start := h.clock.Now().Add(-time.Hour)
	d := deploys.Deploy{Service: "checkout", Source: deploys.SourceGitHubDeployments, ExternalID: "501", Ref: "v5",
		SHA: "5555555555555555", Status: deploys.StatusSuccess, Attempt: 1, StartedAt: start, FinishedAt: start.Add(time.Minute)}
	h.prov.deploys = []deploys.Deploy{d}
	if _, err := h.svc.Recent(ctx, "checkout", 10); err != nil {
		t.Fatal(err)
	}
	rerun := d
	rerun.Attempt, rerun.Status, rerun.StartedAt, rerun.FinishedAt = 2, deploys.StatusFailed, start.Add(10*time.Minute), start.Add(12*time.Minute)
	if _, err := h.svc.RecordDeploy(ctx, rerun); err != nil {
		t.Fatal(err)
	}
	for name, get := range map[string]func() (deploys.Recent, error){
		"Known":  func() (deploys.Recent, error) { return h.svc.Known(ctx, "checkout", 10) },
		"Recent": func() (deploys.Recent, error) { return h.svc.Recent(ctx, "checkout", 10) },
	} {
		rec, err := get()
		if err != nil || len(rec.Deploys) != 1 || rec.Deploys[0].Attempt != 2 || rec.Deploys[0].Status != deploys.StatusFailed {
			t.Errorf("%s: %+v, %v; want attempt 2 failed", name, rec.Deploys, err)
		}
	}
	third := rerun
	third.Attempt, third.Status, third.StartedAt, third.FinishedAt = 3, deploys.StatusRunning, start.Add(20*time.Minute), time.Time{}
	h.prov.deploys = []deploys.Deploy{third}
	rec, err := h.svc.Recent(ctx, "checkout", 10)
	if err != nil || len(rec.Deploys) != 1 || rec.Deploys[0].Attempt != 3 || rec.Deploys[0].Status != deploys.StatusRunning {
		t.Errorf("attempt 3 running: %+v, %v", rec.Deploys, err)
	}
}
