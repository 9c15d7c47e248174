package github_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/internal/githubfake"
)

// GitHub's branch filter matches a run's head branch, which a fork's pull
// request names as it likes: the provider leaves out runs that are not
// deploys, so a fork's run is never live nor last good.
func TestActionsProviderLeavesOutRunsThatAreNotDeploys(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	f.AddWorkflow(svcRepo, githubfake.Workflow{File: "deploy.yml", Name: "Deploy"})
	add := func(r githubfake.WorkflowRun) string {
		r.Workflow = "deploy.yml"
		return strconv.FormatInt(f.AddRun(svcRepo, r), 10)
	}
	good := add(githubfake.WorkflowRun{HeadBranch: "main", HeadSHA: sha1x, Conclusion: "success", CreatedAt: at(-100)})
	add(githubfake.WorkflowRun{Event: "pull_request", HeadRepository: "mallory/checkout", HeadBranch: "main", HeadSHA: sha3x,
		Conclusion: "success", CreatedAt: at(-50)})
	add(githubfake.WorkflowRun{Event: "push", HeadRepository: "mallory/checkout", HeadBranch: "main", HeadSHA: sha3x,
		Conclusion: "success", CreatedAt: at(-40)})
	add(githubfake.WorkflowRun{Event: "pull_request", HeadBranch: "main", HeadSHA: sha2x, Conclusion: "success", CreatedAt: at(-30)})
	// A push whose commit message is "Warroom rollback ..." is no rollback.
	push := add(githubfake.WorkflowRun{HeadBranch: "main", HeadSHA: sha2x, DisplayTitle: "Warroom rollback to v0 (inc-1/rollback-1)",
		Status: "in_progress", CreatedAt: at(-10)})

	got, err := c.ActionsProvider(svcRepo, "deploy.yml", "main").Recent(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ExternalID != push || got[0].Rollback || got[1].ExternalID != good || got[1].Status != deploys.StatusSuccess {
		t.Errorf("Recent = %+v\nwant the push %s (not a rollback) and the live deploy %s", got, push, good)
	}

	// Runs of pull requests newer than the deploys do not crowd them out
	// of a short list: the page read is full, the limit cuts the deploys.
	for i := range 12 {
		add(githubfake.WorkflowRun{Event: "pull_request", HeadBranch: "main", HeadSHA: sha3x, Conclusion: "success",
			CreatedAt: at(i)})
	}
	got, err = c.ActionsProvider(svcRepo, "deploy.yml", "main").Recent(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ExternalID != push {
		t.Errorf("Recent(1) behind 12 pull-request runs = %+v, want the push %s", got, push)
	}
}

func TestRunNotADeploy(t *testing.T) {
	for _, tc := range []struct {
		event, head string
		deploy      bool
	}{
		{"push", "acme/checkout", true},
		{"workflow_dispatch", "Acme/Checkout", true},
		{"release", "acme/checkout", true},
		{"schedule", "acme/checkout", true},
		{"deployment", "acme/checkout", true},
		{"repository_dispatch", "acme/checkout", true},
		{"workflow_run", "acme/checkout", true},
		{"push", "mallory/checkout", false},
		{"push", "", false},
		{"", "acme/checkout", false},
		{"pull_request", "acme/checkout", false},
		{"pull_request_target", "acme/checkout", false},
		{"pull_request_review", "acme/checkout", false},
		{"issue_comment", "acme/checkout", false},
		{"merge_group", "acme/checkout", false},
		{"dynamic", "acme/checkout", false},
	} {
		why := github.RunNotADeploy("acme/checkout", tc.event, tc.head)
		if (why == "") != tc.deploy {
			t.Errorf("RunNotADeploy(%q, %q) = %q, want a deploy: %t", tc.event, tc.head, why, tc.deploy)
		}
	}
}

// Only a workflow_dispatch run titled "Warroom rollback ..." (the
// run-name by which WorkflowRollbacker finds its runs) is a rollback; the
// title of a push or pull request run is its commit's or pull request's.
func TestParseWorkflowRunRollbackOnlyForDispatchedRuns(t *testing.T) {
	for event, want := range map[string]bool{"workflow_dispatch": true, "push": false, "pull_request": false} {
		var ev map[string]any
		if err := json.Unmarshal(readRunEvent(t, "workflow_run_completed.json"), &ev); err != nil {
			t.Fatal(err)
		}
		run := ev["workflow_run"].(map[string]any)
		run["event"], run["display_title"] = event, "Warroom rollback to v1.4.1 (inc-4/rollback-1)"
		b, _ := json.Marshal(ev)
		got, err := github.ParseWorkflowRun(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Deploy.Rollback != want || got.Event != event || got.HeadRepository != "acme/checkout" {
			t.Errorf("%s: Rollback %t, Event %q, HeadRepository %q; want Rollback %t", event, got.Deploy.Rollback, got.Event, got.HeadRepository, want)
		}
	}
}
