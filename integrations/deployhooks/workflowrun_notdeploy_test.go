package deployhooks_test

import (
	"encoding/json"
	"testing"

	"github.com/warroomhq/warroom/integrations/deployhooks"
)

// runBody is the completed run of testdata with its workflow_run changed
// by edit.
func runBody(t *testing.T, edit func(run map[string]any)) string {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(readTestdata(t, "workflow_run_completed.json")), &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev["workflow_run"].(map[string]any))
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A pull request from a fork whose branch is named "main" runs deploy.yml
// (on: [push, pull_request]) with head_branch "main" and the fork's
// commit: it is not a deploy, nor is any run for a pull request, nor one
// whose head repository is another, or unknown.
func TestGitHubHookIgnoresRunsThatAreNotDeploys(t *testing.T) {
	r := newRig(t, deployhooks.Options{GitHubSecret: []byte(githubSecret), Services: actionsServices})
	fork := func(run map[string]any) {
		run["head_sha"] = "badbadbadbadbadbadbadbadbadbadbadbadbad0"
		run["head_repository"].(map[string]any)["full_name"] = "mallory/checkout"
	}
	for name, tc := range map[string]struct {
		edit   func(run map[string]any)
		reason string
	}{
		"a fork's pull request": {func(run map[string]any) {
			fork(run)
			run["event"] = "pull_request"
			run["display_title"] = "Warroom rollback to v0.0.1"
		}, "runs for pull_request events are not deploys (deploys are runs for push, workflow_dispatch, release, schedule, deployment, repository_dispatch, workflow_run)"},
		"a pull request of the repository": {func(run map[string]any) { run["event"] = "pull_request_target" },
			"runs for pull_request_target events are not deploys (deploys are runs for push, workflow_dispatch, release, schedule, deployment, repository_dispatch, workflow_run)"},
		"a merge queue": {func(run map[string]any) { run["event"] = "merge_group" },
			"runs for merge_group events are not deploys (deploys are runs for push, workflow_dispatch, release, schedule, deployment, repository_dispatch, workflow_run)"},
		"a fork's commit, whatever the event": {fork,
			"the run's commit is from mallory/checkout, not acme/checkout: a fork's run is not a deploy"},
		"no event": {func(run map[string]any) { delete(run, "event") },
			"the run has no event: it cannot be told from a pull request's run"},
		"a deleted fork": {func(run map[string]any) { run["head_repository"] = nil },
			"the run has no head repository: it cannot be told from a fork's run"},
	} {
		body := runBody(t, tc.edit)
		code, out := r.post(t, "/hooks/github", body, githubHeaders("workflow_run", body, githubSecret))
		if code != 202 || out["status"] != "ignored" || out["reason"] != tc.reason {
			t.Errorf("%s: %d %v, want 202 %q", name, code, out, tc.reason)
		}
	}
	if got, calls := r.rec.snapshot(); calls != 0 {
		t.Errorf("recorded %+v", got)
	}

	// The same run for a push of the repository's commit is a deploy;
	// the head repository's name compares without case.
	body := runBody(t, func(run map[string]any) {
		run["head_repository"].(map[string]any)["full_name"] = "ACME/checkout"
	})
	if code, out := r.post(t, "/hooks/github", body, githubHeaders("workflow_run", body, githubSecret)); code != 200 || out["service"] != "checkout" {
		t.Errorf("push: %d %v", code, out)
	}
}
