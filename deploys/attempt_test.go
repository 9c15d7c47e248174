package deploys_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

func TestAReRunStartsTheDeployOverAndAnEarlierAttemptIsStale(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inc := h.declare(incidents.Sev2)
	start := h.clock.Now()
	run := deploys.Deploy{Service: "checkout", Source: deploys.SourceGitHubActions, ExternalID: "30433642",
		Ref: "main", SHA: "4444444444444444", Status: deploys.StatusFailed, Attempt: 1,
		StartedAt: start, FinishedAt: start.Add(2 * time.Minute)}
	record := func(d deploys.Deploy) deploys.Deploy {
		t.Helper()
		got, err := h.svc.RecordDeploy(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	record(run)
	// Re-run: attempt 2 is running; the failed attempt 1 does not hold it
	// back.
	rerun := run
	rerun.Attempt, rerun.Status, rerun.StartedAt, rerun.FinishedAt = 2, deploys.StatusRunning, start.Add(5*time.Minute), time.Time{}
	got := record(rerun)
	if got.Status != deploys.StatusRunning || got.Attempt != 2 || !got.FinishedAt.IsZero() || !got.StartedAt.Equal(rerun.StartedAt) {
		t.Fatalf("after the re-run started: %+v", got)
	}
	// Attempt 1's completion, redelivered late, is stale.
	if got := record(run); got.Status != deploys.StatusRunning || got.Attempt != 2 {
		t.Fatalf("a late report of attempt 1 changed the deploy: %+v", got)
	}
	done := rerun
	done.Status, done.FinishedAt = deploys.StatusSuccess, start.Add(8*time.Minute)
	record(done)
	// Attempt 2's in_progress, redelivered after its completion, is stale too.
	if got := record(rerun); got.Status != deploys.StatusSuccess || !got.FinishedAt.Equal(done.FinishedAt) {
		t.Fatalf("a late in_progress undid the success: %+v", got)
	}
	stored, err := h.store.Deploys(ctx, "checkout", 10)
	if err != nil || len(stored) != 1 || stored[0].Attempt != 2 || stored[0].Status != deploys.StatusSuccess {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	var texts []string
	for _, ev := range h.events(inc.ID, deploys.EventDeploy) {
		texts = append(texts, ev.Text)
	}
	want := []string{
		"Deploy of checkout main (4444444): failed",
		"Deploy of checkout main (4444444) (attempt 2): running",
		"Deploy of checkout main (4444444) (attempt 2): success",
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
}
