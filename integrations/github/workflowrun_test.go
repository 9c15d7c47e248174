package github_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/integrations/github"
)

func readRunEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../deployhooks/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWorkflowRunConvertsTheRun(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	base := deploys.Deploy{Source: deploys.SourceGitHubActions, ExternalID: "30433642", Ref: "main",
		SHA: "9f2c1e0b7d4a3c2b1a09f8e7d6c5b4a392817160", Creator: "alice", Description: "Release 1.4.2",
		URL: "https://github.com/acme/checkout/actions/runs/30433642", Attempt: 1, StartedAt: at("2026-11-21T09:40:00Z")}
	for file, want := range map[string]func(d deploys.Deploy) deploys.Deploy{
		"workflow_run_in_progress.json": func(d deploys.Deploy) deploys.Deploy { d.Status = deploys.StatusRunning; return d },
		"workflow_run_completed.json": func(d deploys.Deploy) deploys.Deploy {
			d.Status, d.FinishedAt = deploys.StatusSuccess, at("2026-11-21T09:43:10Z")
			return d
		},
		"workflow_run_rerun_failed.json": func(d deploys.Deploy) deploys.Deploy {
			d.Status, d.Attempt, d.StartedAt, d.FinishedAt = deploys.StatusFailed, 2, at("2026-11-21T10:02:00Z"), at("2026-11-21T10:04:30Z")
			return d
		},
	} {
		ev, err := github.ParseWorkflowRun(readRunEvent(t, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if ev.Repository != "acme/checkout" || ev.WorkflowPath != ".github/workflows/deploy.yml" || ev.WorkflowFile() != "deploy.yml" ||
			ev.WorkflowName != "Deploy" {
			t.Errorf("%s: %+v", file, ev)
		}
		if w := want(base); ev.Deploy != w {
			t.Errorf("%s: deploy\n%+v\nwant\n%+v", file, ev.Deploy, w)
		}
	}
}

func TestParseWorkflowRunNamesWhatIsWrong(t *testing.T) {
	good := string(readRunEvent(t, "workflow_run_completed.json"))
	for body, want := range map[string]string{
		`{"action": "completed"}`:              "repository.full_name is missing",
		`{"repository": {"full_name": "a/b"}}`: "workflow_run.id is missing",
		`[]`:                                   "not a workflow_run event",
		`{"workflow_run": {"id": "x"}}`:        "workflow_run.id: expected a JSON int64",
		strings.Replace(good, `"status": "completed"`, `"status": ""`, 1):                "workflow_run.status is missing",
		strings.ReplaceAll(good, `"path": ".github/workflows/deploy.yml"`, `"path": ""`): "workflow.path is missing",
		strings.Replace(good, `"run_attempt": 1`, `"run_attempt": -1`, 1):                "workflow_run.run_attempt: -1 is negative",
	} {
		_, err := github.ParseWorkflowRun([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60q: %v, want %q", body, err, want)
		}
	}
	// Without workflow.path, the run's own path does.
	noWorkflow := strings.Replace(good, `"workflow": {`, `"workflow_was": {`, 1)
	if ev, err := github.ParseWorkflowRun([]byte(noWorkflow)); err != nil || ev.WorkflowFile() != "deploy.yml" || ev.WorkflowName != "Deploy" {
		t.Errorf("without workflow: %+v, %v", ev, err)
	}
}

// FuzzParseWorkflowRun: any body is an event or an error, never a panic,
// and an event has a repository, a run ID, a workflow file and a status.
func FuzzParseWorkflowRun(f *testing.F) {
	for _, name := range []string{"workflow_run_in_progress.json", "workflow_run_completed.json", "workflow_run_rerun_failed.json"} {
		if b, err := os.ReadFile("../deployhooks/testdata/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"repository": {"full_name": "a/b"}, "workflow_run": {"id": 1, "status": "completed", "conclusion": "neutral", "path": "/"}}`))
	f.Add([]byte(`{"repository": {"full_name": "a/b"}, "workflow": {"path": "x.yml"}, "workflow_run": {"id": 1, "status": "queued", "run_attempt": 3}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := github.ParseWorkflowRun(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		d := ev.Deploy
		if ev.Repository == "" || d.ExternalID == "" || d.ExternalID == "0" || strings.HasPrefix(d.ExternalID, "-") ||
			ev.WorkflowFile() == "" || ev.WorkflowFile() == "." || ev.WorkflowFile() == "/" {
			t.Fatalf("incomplete event %+v from %q", ev, body)
		}
		if d.Status == "" || d.Source != deploys.SourceGitHubActions || d.Attempt < 0 {
			t.Fatalf("deploy %+v", d)
		}
		if !d.Status.Done() && !d.FinishedAt.IsZero() {
			t.Fatalf("a %s deploy with an end: %+v", d.Status, d)
		}
	})
}

// A completed run is finished whatever its conclusion: never "running"
// with an end time.
func TestParseWorkflowRunACompletedRunIsFinished(t *testing.T) {
	good := string(readRunEvent(t, "workflow_run_completed.json"))
	for conclusion, want := range map[string]deploys.Status{
		`"neutral"`: deploys.StatusCanceled, `"stale"`: deploys.StatusCanceled, `"skipped"`: deploys.StatusCanceled,
		`null`: deploys.StatusFailed, `"exploded"`: deploys.StatusFailed, `"action_required"`: deploys.StatusPending,
	} {
		body := strings.Replace(good, `"conclusion": "success"`, `"conclusion": `+conclusion, 1)
		ev, err := github.ParseWorkflowRun([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", conclusion, err)
		}
		if d := ev.Deploy; d.Status != want || d.Status.Done() == d.FinishedAt.IsZero() {
			t.Errorf("conclusion %s: status %s, finished at %s; want %s", conclusion, d.Status, d.FinishedAt, want)
		}
	}
}
