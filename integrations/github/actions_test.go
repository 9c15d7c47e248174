package github_test

import (
	"context"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/jobs"
)

const (
	deployRuns   = "/repos/acme/checkout/actions/workflows/deploy.yml/runs"
	rollbackRuns = "/repos/acme/checkout/actions/workflows/rollback.yml/runs"
	dispatches   = "/repos/acme/checkout/actions/workflows/rollback.yml/dispatches"
	runName      = "Warroom rollback to ${{ inputs.target_ref }} (${{ inputs.warroom_key }})"
)

var rollbackInputs = []string{"service", github.InputTargetRef, github.InputTargetSHA, github.InputIncident, github.InputKey}

func TestActionsProviderReadsRunsOfTheDeployWorkflow(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	f.AddWorkflow(svcRepo, githubfake.Workflow{File: "deploy.yml", Name: "Deploy"})
	f.AddWorkflow(svcRepo, githubfake.Workflow{File: "ci.yml"})
	add := func(r githubfake.WorkflowRun) string {
		return strconv.FormatInt(f.AddRun(svcRepo, r), 10)
	}
	old := add(githubfake.WorkflowRun{Workflow: "deploy.yml", HeadBranch: "main", HeadSHA: sha1x, Conclusion: "success", Actor: "alice",
		CreatedAt: at(-300), UpdatedAt: at(-290)})
	add(githubfake.WorkflowRun{Workflow: "deploy.yml", HeadBranch: "feature", HeadSHA: sha1x, Conclusion: "success", CreatedAt: at(-250)})
	live := add(githubfake.WorkflowRun{Workflow: "deploy.yml", HeadBranch: "main", HeadSHA: sha2x, Conclusion: "success", Actor: "bob",
		CreatedAt: at(-200), UpdatedAt: at(-195)})
	add(githubfake.WorkflowRun{Workflow: "ci.yml", HeadBranch: "main", HeadSHA: sha3x, Conclusion: "failure", CreatedAt: at(-70)})
	failed := add(githubfake.WorkflowRun{Workflow: "deploy.yml", HeadBranch: "main", HeadSHA: sha3x, Conclusion: "timed_out", Actor: "carol",
		CreatedAt: at(-60), UpdatedAt: at(-30)})
	rollback := add(githubfake.WorkflowRun{Workflow: "deploy.yml", HeadBranch: "main", HeadSHA: sha2x, Event: "workflow_dispatch",
		DisplayTitle: "Warroom rollback to v1.1 (k)", Status: "in_progress", CreatedAt: at(-5)})
	f.ResetCalls()

	p := c.ActionsProvider(svcRepo, "deploy.yml", "main")
	if p.Source() != deploys.SourceGitHubActions {
		t.Errorf("Source = %s", p.Source())
	}
	got, err := p.Recent(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	checkCalls(t, calls, "GET "+deployRuns+" 200")
	if len(calls) == 1 {
		checkQuery(t, calls[0], map[string]string{"branch": "main", "per_page": "100"})
	}
	runURL := func(id string) string { return f.URL() + "/acme/checkout/actions/runs/" + id }
	want := []deploys.Deploy{
		{Source: deploys.SourceGitHubActions, ExternalID: rollback, Ref: "main", SHA: sha2x, Status: deploys.StatusRunning,
			Creator: githubfake.Login, Description: "Warroom rollback to v1.1 (k)", URL: runURL(rollback), StartedAt: at(-5), Rollback: true, Attempt: 1},
		{Source: deploys.SourceGitHubActions, ExternalID: failed, Ref: "main", SHA: sha3x, Status: deploys.StatusFailed,
			Creator: "carol", Description: "Deploy", URL: runURL(failed), StartedAt: at(-60), FinishedAt: at(-30), Attempt: 1},
		{Source: deploys.SourceGitHubActions, ExternalID: live, Ref: "main", SHA: sha2x, Status: deploys.StatusSuccess,
			Creator: "bob", Description: "Deploy", URL: runURL(live), StartedAt: at(-200), FinishedAt: at(-195), Attempt: 1},
		{Source: deploys.SourceGitHubActions, ExternalID: old, Ref: "main", SHA: sha1x, Status: deploys.StatusInactive,
			Creator: "alice", Description: "Deploy", URL: runURL(old), StartedAt: at(-300), FinishedAt: at(-290), Attempt: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Recent =\n%+v\nwant\n%+v", got, want)
	}

	// Any branch, and the limit.
	got, err = c.ActionsProvider(svcRepo, "deploy.yml", "").Recent(context.Background(), 2)
	if err != nil || len(got) != 2 {
		t.Fatalf("Recent = %+v, %v", got, err)
	}
	if _, err := c.ActionsProvider(svcRepo, "missing.yml", "").Recent(context.Background(), 2); !jobs.IsPermanent(err) {
		t.Errorf("missing workflow: %v, want permanent", err)
	}
}

func TestRunStatus(t *testing.T) {
	for _, tc := range []struct {
		status, conclusion string
		want               deploys.Status
	}{
		{"queued", "", deploys.StatusPending},
		{"waiting", "", deploys.StatusPending},
		{"in_progress", "", deploys.StatusRunning},
		{"completed", "success", deploys.StatusSuccess},
		{"completed", "failure", deploys.StatusFailed},
		{"completed", "startup_failure", deploys.StatusFailed},
		{"completed", "cancelled", deploys.StatusCanceled},
		{"completed", "skipped", deploys.StatusCanceled},
		{"completed", "neutral", deploys.StatusCanceled},
		{"completed", "stale", deploys.StatusCanceled},
		{"completed", "", deploys.StatusFailed},
		{"completed", "exploded", deploys.StatusFailed},
		{"completed", "action_required", deploys.StatusPending},
		{"requested", "", deploys.StatusPending},
		{"weird", "", deploys.StatusUnknown},
	} {
		if got := github.RunStatus(tc.status, tc.conclusion); got != tc.want {
			t.Errorf("RunStatus(%s, %s) = %s, want %s", tc.status, tc.conclusion, got, tc.want)
		}
	}
}

func rollbackWorkflow(t *testing.T, f *githubfake.Fake) {
	t.Helper()
	f.AddWorkflow(svcRepo, githubfake.Workflow{File: "rollback.yml", Name: "Rollback", Inputs: rollbackInputs, RunName: runName})
}

func TestWorkflowRollbackerDispatchesFindsAndFollowsTheRun(t *testing.T) {
	f, c, clk := setupDeploys(t, nil)
	rollbackWorkflow(t, f)
	f.SetRunDelay(5 * time.Second)
	// A run from before the confirmation, and someone else's dispatch.
	f.AddRun(svcRepo, githubfake.WorkflowRun{Workflow: "rollback.yml", Event: "workflow_dispatch", DisplayTitle: "Warroom rollback to v0 (inc-1/rollback-1)", CreatedAt: at(-60)})
	clk.Add(time.Minute)
	ctx := context.Background()
	req := rollbackRequest()
	rb := c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", map[string]string{"service": "checkout", "incident": "overridden"})
	if rb.Mechanism() != deploys.MechanismGitHubWorkflow {
		t.Errorf("Mechanism = %s", rb.Mechanism())
	}

	h, err := rb.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	checkCalls(t, calls, "GET "+rollbackRuns+" 200", "POST "+dispatches+" 204")
	if len(calls) == 2 {
		checkQuery(t, calls[0], map[string]string{"event": "workflow_dispatch", "created": ">=2026-11-21T09:58:00Z", "per_page": "100"})
		checkBody(t, calls[1], `{"ref": "main", "inputs": {"service": "checkout", "target_ref": "v1.1", "target_sha": "`+sha2x+`",
			"incident": "INC-42", "warroom_key": "inc-42/rollback-1"}}`)
	}
	wantPending := deploys.Handle{Pending: true, URL: f.URL() + "/acme/checkout/actions/workflows/rollback.yml"}
	if h != wantPending {
		t.Errorf("handle %+v, want %+v", h, wantPending)
	}

	// The run is not listed yet.
	f.ResetCalls()
	p, err := rb.Progress(ctx, req, h)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != deploys.StatusPending || p.Handle != (deploys.Handle{}) || p.Message != "dispatched rollback.yml; waiting for its run to start" {
		t.Errorf("Progress before the run appears = %+v", p)
	}
	checkCalls(t, f.Calls(), "GET "+rollbackRuns+" 200")

	// A retried Start in that window would dispatch again; after the
	// run appears, it finds it instead.
	clk.Add(5 * time.Second)
	runs := f.Runs(svcRepo)
	run := runs[len(runs)-1]
	runID := strconv.FormatInt(run.ID, 10)
	found := deploys.Handle{ExternalID: runID, URL: run.URL}
	if run.DisplayTitle != "Warroom rollback to v1.1 (inc-42/rollback-1)" || run.HeadBranch != "main" || run.Event != "workflow_dispatch" {
		t.Errorf("run %+v", run)
	}
	f.ResetCalls()
	if h2, err := rb.Start(ctx, req); err != nil || h2 != found {
		t.Errorf("Start after the run appeared = %+v, %v; want %+v", h2, err, found)
	}
	checkCalls(t, f.Calls(), "GET "+rollbackRuns+" 200")

	p, err = rb.Progress(ctx, req, h)
	if err != nil {
		t.Fatal(err)
	}
	label := "rollback.yml run #" + strconv.FormatInt(run.ID-1000, 10)
	if p.Status != deploys.StatusPending || p.Handle != found || p.URL != run.URL || p.Message != label+" is queued" {
		t.Errorf("Progress once the run appears = %+v", p)
	}

	// From then on, Progress reads the run by its ID.
	h = p.Handle
	for _, step := range []struct {
		status, conclusion, job, stepName string
		want                              deploys.Status
		message, url                      string
	}{
		{"in_progress", "", "", "", deploys.StatusRunning, label + " is running", run.URL},
		{"completed", "failure", "rollback", "kubectl rollout status", deploys.StatusFailed,
			label + ` failure in job rollback, step "kubectl rollout status"; see ` + run.URL + "/job/" + strconv.FormatInt(run.ID*10+1, 10),
			run.URL + "/job/" + strconv.FormatInt(run.ID*10+1, 10)},
	} {
		f.SetRun(svcRepo, run.ID, step.status, step.conclusion, step.job, step.stepName)
		f.ResetCalls()
		p, err := rb.Progress(ctx, req, h)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != step.want || p.Message != step.message || p.URL != step.url || p.Handle != (deploys.Handle{}) {
			t.Errorf("Progress = %+v, want %s %q %s", p, step.want, step.message, step.url)
		}
		want := []string{"GET /repos/acme/checkout/actions/runs/" + runID + " 200"}
		if step.want == deploys.StatusFailed {
			want = append(want, "GET /repos/acme/checkout/actions/runs/"+runID+"/jobs 200")
		}
		checkCalls(t, f.Calls(), want...)
	}
	if n := len(f.Calls(githubfake.RouteDispatchWorkflow)); n != 0 {
		t.Errorf("dispatched again")
	}
	if n := len(f.Runs(svcRepo)); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

func TestWorkflowRollbackerAfterALostDispatchAnswer(t *testing.T) {
	for _, fault := range []githubfake.Fault{
		{Status: 502, Apply: true},
		{Status: 503, Apply: true, Header: http.Header{"Retry-After": {"90"}}},
	} {
		f, c, clk := setupDeploys(t, nil)
		rollbackWorkflow(t, f)
		f.SetRunDelay(3 * time.Second)
		rb := c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", nil)
		f.FailNext(githubfake.RouteDispatchWorkflow, fault)

		_, err := rb.Start(context.Background(), rollbackRequest())
		d, ok := jobs.RetryAfterOf(err)
		wantWait := github.DispatchSettle
		if fault.Header != nil {
			wantWait = 90 * time.Second
		}
		if err == nil || jobs.IsPermanent(err) || !ok || d != wantWait {
			t.Fatalf("Start: %v (retry after %v), want a retry after %v", err, d, wantWait)
		}
		clk.Add(d) // the job runs again when it said
		h, err := rb.Start(context.Background(), rollbackRequest())
		if err != nil || h.ExternalID == "" || h.Pending {
			t.Errorf("retry: %+v, %v", h, err)
		}
		if n := len(f.Runs(svcRepo)); n != 1 {
			t.Errorf("%d runs, want 1", n)
		}
		if n := len(f.Calls(githubfake.RouteDispatchWorkflow)); n != 1 {
			t.Errorf("%d dispatches, want 1", n)
		}
	}
}

func TestWorkflowRollbackerDispatchesAgainWhenTheFirstNeverHappened(t *testing.T) {
	f, c, clk := setupDeploys(t, nil)
	rollbackWorkflow(t, f)
	rb := c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", nil)
	f.FailNext(githubfake.RouteDispatchWorkflow, githubfake.Fault{Status: 502}) // not applied
	if _, err := rb.Start(context.Background(), rollbackRequest()); err == nil {
		t.Fatal("no error")
	}
	clk.Add(github.DispatchSettle)
	if h, err := rb.Start(context.Background(), rollbackRequest()); err != nil || !h.Pending {
		t.Errorf("retry: %+v, %v", h, err)
	}
	if n := len(f.Runs(svcRepo)); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
}

func TestWorkflowRollbackerRefusals(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	f.AddWorkflow(svcRepo, githubfake.Workflow{File: "rollback.yml", Inputs: []string{"service"}})
	_, err := c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", map[string]string{"service": "checkout"}).Start(context.Background(), rollbackRequest())
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), "must declare the inputs target_ref, target_sha, incident and warroom_key") {
		t.Errorf("undeclared inputs: %v", err)
	}
	_, err = c.WorkflowRollbacker(svcRepo, "missing.yml", "main", nil).Start(context.Background(), rollbackRequest())
	if !jobs.IsPermanent(err) || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing workflow: %v", err)
	}
	req := rollbackRequest()
	req.At = time.Time{}
	if _, err := c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", nil).Start(context.Background(), req); !jobs.IsPermanent(err) {
		t.Errorf("no time: %v", err)
	}
	if n := len(f.Runs(svcRepo)); n != 0 {
		t.Errorf("%d runs", n)
	}
}

func TestWorkflowRollbackerRateLimitDefers(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	rollbackWorkflow(t, f)
	f.FailNext(githubfake.RouteDispatchWorkflow, githubfake.Fault{Status: 403, Header: http.Header{"Retry-After": {"120"}},
		Body: `{"message": "You have exceeded a secondary rate limit"}`})
	_, err := c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", nil).Start(context.Background(), rollbackRequest())
	if d, ok := jobs.DeferOf(err); !ok || d != 2*time.Minute {
		t.Errorf("%v: deferred %v %v", err, d, ok)
	}
}

func TestWorkflowRollbackerUsesTheDefaultBranch(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	rollbackWorkflow(t, f)
	if _, err := c.WorkflowRollbacker(svcRepo, "rollback.yml", "", nil).Start(context.Background(), rollbackRequest()); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, f.Calls(), "GET "+rollbackRuns+" 200", "GET /repos/acme/checkout 200", "POST "+dispatches+" 204")
	if r := f.Runs(svcRepo); len(r) != 1 || r[0].HeadBranch != "main" {
		t.Errorf("runs %+v", r)
	}
}

func TestWorkflowRollbackerWithoutRunName(t *testing.T) {
	f, c, clk := setupDeploys(t, nil)
	f.AddWorkflow(svcRepo, githubfake.Workflow{File: "rollback.yml", Name: "Rollback"})
	clk.Add(time.Minute)
	// Earlier runs, and one on another branch.
	f.AddRun(svcRepo, githubfake.WorkflowRun{Workflow: "rollback.yml", Event: "workflow_dispatch", HeadBranch: "main", CreatedAt: at(-30)})
	f.AddRun(svcRepo, githubfake.WorkflowRun{Workflow: "rollback.yml", Event: "workflow_dispatch", HeadBranch: "other", CreatedAt: at(1)})
	rb := c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", nil)
	h, err := rb.Start(context.Background(), rollbackRequest())
	if err != nil || !h.Pending {
		t.Fatalf("Start = %+v, %v", h, err)
	}
	p, err := rb.Progress(context.Background(), rollbackRequest(), h)
	runs := f.Runs(svcRepo)
	if err != nil || p.Handle.ExternalID != strconv.FormatInt(runs[2].ID, 10) {
		t.Errorf("Progress = %+v, %v; want run %d", p, err, runs[2].ID)
	}
}

func TestWorkflowRollbackerGivesUpOnARunThatNeverAppears(t *testing.T) {
	f, c, clk := setupDeploys(t, nil)
	rollbackWorkflow(t, f)
	rb := c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", nil)
	h := deploys.Handle{Pending: true, URL: "https://example.com/runs"}
	clk.Add(github.RunWait - time.Second)
	if p, err := rb.Progress(context.Background(), rollbackRequest(), h); err != nil || p.Status != deploys.StatusPending {
		t.Errorf("before the deadline: %+v, %v", p, err)
	}
	clk.Add(2 * time.Second)
	p, err := rb.Progress(context.Background(), rollbackRequest(), h)
	if err != nil || p.Status != deploys.StatusFailed || p.URL != h.URL ||
		!strings.Contains(p.Message, "no run of rollback.yml for this rollback appeared within 10m0s") {
		t.Errorf("after the deadline: %+v, %v", p, err)
	}
}

func TestWorkflowRollbackerDoesNotTakeAnotherKeysRun(t *testing.T) {
	f, c, _ := setupDeploys(t, nil)
	rollbackWorkflow(t, f)
	// The run of a rollback whose key starts with this one's.
	f.AddRun(svcRepo, githubfake.WorkflowRun{Workflow: "rollback.yml", Event: "workflow_dispatch",
		DisplayTitle: "Warroom rollback to v1 (inc-42/rollback-10)", CreatedAt: githubfake.Epoch})
	h, err := c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", nil).Start(context.Background(), rollbackRequest())
	if err != nil || !h.Pending {
		t.Fatalf("Start = %+v, %v; want a dispatch", h, err)
	}
	if n := len(f.Calls(githubfake.RouteDispatchWorkflow)); n != 1 {
		t.Errorf("%d dispatches", n)
	}
	// Its own run, titled with the key at the end, is found.
	h, err = c.WorkflowRollbacker(svcRepo, "rollback.yml", "main", nil).Start(context.Background(), rollbackRequest())
	if runs := f.Runs(svcRepo); err != nil || h.ExternalID != strconv.FormatInt(runs[1].ID, 10) {
		t.Errorf("second Start = %+v, %v", h, err)
	}
}
