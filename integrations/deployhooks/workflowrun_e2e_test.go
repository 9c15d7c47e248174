package deployhooks_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/examples"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/sandbox"
)

// TestWorkflowRunsReachTheIncident runs the workflow_run events through a
// whole Warroom (its deploys service and database): a deploy of checkout
// during its incident goes on the timeline and into the channel, a
// redelivery and a stale event change nothing, and a re-run is a new try.
func TestWorkflowRunsReachTheIncident(t *testing.T) {
	ctx := context.Background()
	cfg := bytes.Replace(examples.Config, []byte("      github_deployments: { environment: production }\n"),
		[]byte("      github_deployments: { environment: production }\n      github_actions: { workflow: deploy.yml, branch: main }\n"), 1)
	if bytes.Equal(cfg, examples.Config) {
		t.Fatal("the example config changed; update this test")
	}
	sb, err := sandbox.New(ctx, sandbox.Options{Config: cfg, Dir: t.TempDir(), NoPaging: true,
		Start: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC), Env: map[string]string{"GITHUB_WEBHOOK_SECRET": githubSecret}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	inc, err := sb.App.Incidents.Declare(ctx, incidents.DeclareInput{Title: "Checkout 502s", Service: "checkout",
		Severity: incidents.Sev2, Actor: "cli:alice"})
	if err != nil {
		t.Fatal(err)
	}
	run := func() {
		t.Helper()
		if _, err := sb.Run(ctx, 100000); err != nil {
			t.Fatal(err)
		}
	}
	run()
	post := func(file string) {
		t.Helper()
		body := readTestdata(t, file)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sb.Server.URL+"/hooks/github", strings.NewReader(body))
		req.Header = githubHeaders("workflow_run", body, githubSecret)
		resp, err := sb.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", file, resp.StatusCode)
		}
	}
	for _, file := range []string{
		"workflow_run_in_progress.json",
		"workflow_run_completed.json",
		"workflow_run_completed.json",   // redelivered
		"workflow_run_in_progress.json", // late: the run completed
		"workflow_run_rerun_failed.json",
		"workflow_run_completed.json", // attempt 1, late: attempt 2 failed
	} {
		post(file)
	}
	run()
	evs, err := sb.App.Incidents.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, ev := range evs {
		if ev.Kind == deploys.EventDeploy {
			texts = append(texts, ev.Text)
		}
	}
	want := []string{
		"Deploy of checkout main (9f2c1e0): running",
		"Deploy of checkout main (9f2c1e0): success",
		"Deploy of checkout main (9f2c1e0) (attempt 2): failed",
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Fatalf("timeline:\n%s\nwant\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	inc, _ = sb.App.Incidents.Get(ctx, inc.ID)
	var posted []string
	for _, m := range sb.Slack.Messages(inc.ChannelID) {
		if strings.HasPrefix(m.Text, ":package: Deploy of checkout") {
			posted = append(posted, m.Text)
		}
	}
	if len(posted) != 3 || !strings.Contains(posted[2], "(attempt 2): failed <https://github.com/acme/checkout/actions/runs/30433642|(details)>") {
		t.Errorf("channel posts %q", posted)
	}
	stored, err := sb.App.Store.Deploys(ctx, "checkout", 10)
	if err != nil || len(stored) != 1 || stored[0].Status != deploys.StatusFailed || stored[0].Attempt != 2 ||
		!stored[0].StartedAt.Equal(time.Date(2026, 11, 21, 10, 2, 0, 0, time.UTC)) {
		t.Errorf("stored %+v, %v", stored, err)
	}
}
