package sqlite

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
)

func TestDeploysBeforeListsFinishedDeploysLastStartedFirst(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	save := func(id, service string, started, finished time.Duration, status deploys.Status) {
		d := deploys.Deploy{Service: service, Source: deploys.SourceWebhook, ExternalID: id, Ref: id, Status: status,
			StartedAt: t0.Add(started)}
		if finished != 0 {
			d.FinishedAt = t0.Add(finished)
		}
		deployTx(t, s, func(tx deploys.Tx) error { _, err := tx.SaveDeploy(ctx, &d); return err })
	}
	save("old", "checkout", -72*time.Hour, -72*time.Hour+time.Minute, deploys.StatusInactive)
	save("failed", "checkout", -3*time.Hour, -3*time.Hour+2*time.Minute, deploys.StatusFailed)
	save("recent", "checkout", -15*time.Minute, -10*time.Minute, deploys.StatusSuccess)
	save("running", "checkout", -5*time.Minute, 0, deploys.StatusRunning)            // not finished
	save("across", "checkout", -2*time.Minute, 3*time.Minute, deploys.StatusSuccess) // finished after t0
	save("later", "checkout", time.Minute, 2*time.Minute, deploys.StatusSuccess)
	save("other", "search", -time.Minute, -30*time.Second, deploys.StatusSuccess)

	got, err := s.DeploysBefore(ctx, "checkout", t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, d := range got {
		refs = append(refs, d.Ref)
	}
	if strings.Join(refs, ",") != "recent,failed,old" {
		t.Errorf("DeploysBefore = %v, want recent,failed,old", refs)
	}
	if d := got[0]; d.Status != deploys.StatusSuccess || !d.FinishedAt.Equal(t0.Add(-10*time.Minute)) || d.Service != "checkout" {
		t.Errorf("first deploy %+v", d)
	}
	if got, _ := s.DeploysBefore(ctx, "checkout", t0, 2); len(got) != 2 || got[1].Ref != "failed" {
		t.Errorf("limit 2: %+v", got)
	}
	if got, _ := s.DeploysBefore(ctx, "checkout", t0.Add(-48*time.Hour), 10); len(got) != 1 || got[0].Ref != "old" {
		t.Errorf("before two days ago: %+v", got)
	}
	if got, _ := s.DeploysBefore(ctx, "payments", t0, 10); len(got) != 0 {
		t.Errorf("a service without deploys: %+v", got)
	}
}

// TestDeploysBeforeUsesTheIndex keeps drafting cheap however long a
// service's deploy history: the query walks deploys_service_started back
// from the incident and sorts nothing.
func TestDeploysBeforeUsesTheIndex(t *testing.T) {
	s := openTestStore(t)
	plan := strings.Join(queryPlan(t, s.writer, deploysBeforeSQL, "checkout", 1, 1, 10), "\n")
	if !strings.Contains(plan, "deploys_service_started (service=? AND started_at<?)") {
		t.Errorf("plan\n%s\ndoes not use deploys_service_started", plan)
	}
	if regexp.MustCompile(`(?m)^SCAN |TEMP B-TREE`).MatchString(plan) {
		t.Errorf("plan\n%s\nscans or sorts", plan)
	}
}
