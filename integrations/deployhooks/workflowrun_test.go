package deployhooks_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/integrations/deployhooks"
	"github.com/warroomhq/warroom/integrations/webhook"
)

// actionsServices read their deploys from GitHub Actions runs.
var actionsServices = map[string]config.Service{
	"checkout": {
		Repository: "acme/checkout",
		Deploys:    &config.Deploys{GitHubActions: &config.GitHubActions{Workflow: "deploy.yml", Branch: "main"}},
		// Runs of the rollback workflow are not deploys of a version.
		Rollback: &config.Rollback{GitHubWorkflow: &config.GitHubWorkflow{Workflow: "rollback.yml"}},
	},
	"web": {
		Repository: "acme/web",
		Deploys:    &config.Deploys{GitHubActions: &config.GitHubActions{Workflow: ".github/workflows/deploy.yml"}},
	},
	"billing": {
		Repository: "acme/billing",
		Deploys:    &config.Deploys{GitHubDeployments: &config.GitHubDeployments{Environment: "production"}},
	},
}

func TestGitHubHookRecordsWorkflowRuns(t *testing.T) {
	r := newRig(t, deployhooks.Options{GitHubSecret: []byte(githubSecret), Services: actionsServices})
	post := func(body string) (int, map[string]any) {
		t.Helper()
		return r.post(t, "/hooks/github", body, githubHeaders("workflow_run", body, githubSecret))
	}
	running := readTestdata(t, "workflow_run_in_progress.json")
	code, out := post(running)
	if code != 200 || out["service"] != "checkout" || out["deploy_id"] != 1.0 {
		t.Fatalf("in_progress: %d %v", code, out)
	}
	want := deploys.Deploy{ID: 1, Service: "checkout", Source: deploys.SourceGitHubActions, ExternalID: "30433642",
		Ref: "main", SHA: "9f2c1e0b7d4a3c2b1a09f8e7d6c5b4a392817160", Status: deploys.StatusRunning, Creator: "alice",
		Description: "Release 1.4.2", URL: "https://github.com/acme/checkout/actions/runs/30433642", Attempt: 1,
		StartedAt: time.Date(2026, 11, 21, 9, 40, 0, 0, time.UTC)}
	if got, _ := r.rec.snapshot(); len(got) != 1 || got[0] != want {
		t.Fatalf("recorded %+v\nwant %+v", got, want)
	}
	completed := readTestdata(t, "workflow_run_completed.json")
	if code, out := post(completed); code != 200 || out["deploy_id"] != 1.0 {
		t.Fatalf("completed: %d %v", code, out)
	}
	want.Status, want.FinishedAt = deploys.StatusSuccess, time.Date(2026, 11, 21, 9, 43, 10, 0, time.UTC)
	if got, _ := r.rec.snapshot(); len(got) != 1 || got[0] != want {
		t.Fatalf("after completed: %+v", got)
	}
	// The form content type works too, and the path as configured.
	web := strings.NewReplacer(`"full_name": "acme/checkout"`, `"full_name": "Acme/Web"`,
		`"head_branch": "main"`, `"head_branch": "release"`).Replace(completed)
	form := "payload=" + url.QueryEscape(web)
	h := githubHeaders("workflow_run", form, githubSecret)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, out := r.post(t, "/hooks/github", form, h); code != 200 || out["service"] != "web" {
		t.Errorf("web: %d %v", code, out)
	}
	_, calls := r.rec.snapshot()

	for name, tc := range map[string]struct{ body, reason string }{
		"another workflow": {strings.ReplaceAll(completed, "workflows/deploy.yml", "workflows/rollback.yml"),
			"no service reads its deploys from the runs of rollback.yml in acme/checkout"},
		"another branch": {strings.Replace(completed, `"head_branch": "main"`, `"head_branch": "feature/x"`, 1),
			"runs of deploy.yml on feature/x are not deploys: the service follows main only"},
		"another repository": {strings.ReplaceAll(completed, `"full_name": "acme/checkout"`, `"full_name": "acme/billing"`),
			"no service reads its deploys from the runs of deploy.yml in acme/billing"},
	} {
		if code, out := post(tc.body); code != 202 || out["status"] != "ignored" || out["reason"] != tc.reason {
			t.Errorf("%s: %d %v, want 202 %q", name, code, out, tc.reason)
		}
	}
	for body, want := range map[string]string{
		`{"action": "completed", "workflow_run": {"id": 1}}`:                                  "repository.full_name is missing",
		`{"repository": {"full_name": "acme/checkout"}, "workflow_run": {"id": true}}`:        "workflow_run.id: expected",
		strings.ReplaceAll(completed, `"path": ".github/workflows/deploy.yml"`, `"path": ""`): "workflow.path is missing",
		`{`: "not a workflow_run event",
	} {
		if code, out := post(body); code != 400 || !strings.Contains(out["error"].(string), want) {
			t.Errorf("%.50q: %d %v, want 400 %q", body, code, out, want)
		}
	}
	// A wrong signature is refused before the body is read.
	bad := githubHeaders("workflow_run", completed, githubSecret)
	bad.Set("X-Hub-Signature-256", webhook.Sign([]byte("nope"), []byte(completed)))
	if code, _ := r.post(t, "/hooks/github", completed, bad); code != 401 {
		t.Errorf("bad signature: %d", code)
	}
	if _, after := r.rec.snapshot(); after != calls {
		t.Errorf("%d recorder calls for ignored or refused events", after-calls)
	}
}
