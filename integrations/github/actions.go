package github

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/jobs"
)

// What a token needs to read workflow runs and to dispatch a workflow.
const (
	actionsRead  = "actions: read"
	actionsWrite = "actions: write"
)

// The inputs that WorkflowRollbacker adds to the configured ones. The
// workflow's workflow_dispatch trigger must declare all four (GitHub
// refuses undeclared inputs with 422), and should set its run-name to
// include warroom_key, by which Warroom recognises its run:
//
//	on:
//	  workflow_dispatch:
//	    inputs:
//	      target_ref: {required: true}
//	      target_sha: {required: false}
//	      incident: {required: false}
//	      warroom_key: {required: false}
//	run-name: "Warroom rollback to ${{ inputs.target_ref }} (${{ inputs.warroom_key }})"
const (
	InputTargetRef = "target_ref"  // the ref to go back to (To.Ref, else To.SHA)
	InputTargetSHA = "target_sha"  // the commit to go back to (To.SHA; may be empty)
	InputIncident  = "incident"    // "INC-42"
	InputKey       = "warroom_key" // the rollback's key, to put in run-name
)

// RunClockSkew is how far before the confirmation (RollbackRequest.At) a
// rollback's run is looked for, for clocks that disagree.
const RunClockSkew = 2 * time.Minute

// RunWait is how long after the confirmation a dispatched run may take to
// appear before Progress reports the rollback failed.
const RunWait = 10 * time.Minute

// DispatchSettle is how long a dispatch whose answer was lost (a network
// error, a 5xx) waits before it is retried: by then the run it may have
// started is listed, and the retry finds it instead of dispatching again.
const DispatchSettle = 30 * time.Second

// runPages bounds the search for a dispatched run.
const runPages = 3

// ActionsProvider reads the recent runs of the deploy workflow (a file
// name such as "deploy.yml") in repo, on branch (any when empty), newest
// first: Ref is the run's head branch, SHA its head commit, Creator its
// actor, URL its page, StartedAt when it started, FinishedAt when a
// completed run last changed. Status: queued, waiting, requested and
// pending runs are pending, in_progress is running; completed runs by
// conclusion: success → success, failure, timed_out and startup_failure →
// failed, cancelled, skipped, neutral and stale → canceled (the run did
// not deploy, by its own account), action_required → pending (waiting for
// approval), any other or none → failed (see RunStatus). A successful run older than a later successful one is
// inactive (replaced), as GitHub marks deployments. A workflow_dispatch run
// whose title contains "Warroom rollback" (the recommended run-name) is a
// Rollback. ExternalID is the run's ID. Environment and Service are left
// empty for the caller. One call.
//
// Runs that are not deploys are left out (RunNotADeploy): runs for pull
// requests and other events than DeployEvents, and runs of a fork's
// commit. GitHub's branch filter matches a run's head branch, which a
// fork's pull request names as it likes ("main").
func (c *Client) ActionsProvider(repo, workflow, branch string) deploys.Provider {
	return &actionsProvider{c: c, repo: repo, workflow: workflow, branch: branch}
}

type actionsProvider struct {
	c                      *Client
	repo, workflow, branch string
}

func (p *actionsProvider) Source() deploys.Source { return deploys.SourceGitHubActions }

func (p *actionsProvider) Recent(ctx context.Context, limit int) ([]deploys.Deploy, error) {
	owner, name, err := splitRepo(p.repo)
	if err == nil && p.workflow == "" {
		err = errors.New("no workflow")
	}
	if err != nil {
		return nil, jobs.Permanent(fmt.Errorf("github: reading workflow runs: %w", err))
	}
	limit = min(max(limit, 1), 100)
	// A full page, still one call: runs that are no deploys (pull
	// requests, forks) are left out below and must not crowd out the
	// deploys.
	runs, _, err := p.c.gh.Actions.ListWorkflowRunsByFileName(ctx, owner, name, p.workflow, &gh.ListWorkflowRunsOptions{
		Branch: p.branch, ListOptions: gh.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, p.c.jobError(err, p.repo, fmt.Sprintf("github: listing the runs of %s in %s", p.workflow, p.repo), actionsRead)
	}
	out := make([]deploys.Deploy, 0, limit)
	live := false
	for _, r := range runs.WorkflowRuns {
		if len(out) == limit {
			break
		}
		if runNotADeploy(p.repo, r) != "" {
			continue
		}
		d := DeployFromRun(r)
		if d.Status == deploys.StatusSuccess {
			if live {
				d.Status = deploys.StatusInactive
			}
			live = true
		}
		out = append(out, d)
	}
	return out, nil
}

// DeployFromRun converts a workflow run to a deploy (see ActionsProvider).
// It does not say whether the run is a deploy: RunNotADeploy does.
func DeployFromRun(r *gh.WorkflowRun) deploys.Deploy {
	d := deploys.Deploy{
		Source:      deploys.SourceGitHubActions,
		ExternalID:  strconv.FormatInt(r.GetID(), 10),
		Ref:         r.GetHeadBranch(),
		SHA:         r.GetHeadSHA(),
		Status:      RunStatus(r.GetStatus(), r.GetConclusion()),
		Creator:     firstNonEmpty(r.GetActor().GetLogin(), r.GetTriggeringActor().GetLogin()),
		Description: r.GetDisplayTitle(),
		URL:         r.GetHTMLURL(),
		StartedAt:   r.GetRunStartedAt().Time,
		Rollback:    isRollbackRun(r),
		Attempt:     r.GetRunAttempt(),
	}
	if d.StartedAt.IsZero() {
		d.StartedAt = r.GetCreatedAt().Time
	}
	if r.GetStatus() == "completed" && d.Status.Done() {
		d.FinishedAt = r.GetUpdatedAt().Time
	}
	return d
}

// RunStatus maps a workflow run's status and conclusion to a Status. A
// completed run is never pending or running, except one waiting for
// approval (action_required): cancelled, skipped, neutral and stale runs
// did not deploy (canceled); a conclusion Warroom does not know, or none,
// is failed, so that it is neither taken for a success nor left running.
// An unknown status is StatusUnknown, which keeps a stored deploy's.
func RunStatus(status, conclusion string) deploys.Status {
	switch status {
	case "queued", "waiting", "requested", "pending":
		return deploys.StatusPending
	case "in_progress":
		return deploys.StatusRunning
	case "completed":
		switch conclusion {
		case "success":
			return deploys.StatusSuccess
		case "failure", "timed_out", "startup_failure":
			return deploys.StatusFailed
		case "cancelled", "skipped", "neutral", "stale":
			return deploys.StatusCanceled
		case "action_required":
			return deploys.StatusPending
		}
		return deploys.StatusFailed
	}
	return deploys.StatusUnknown
}

// WorkflowRollbacker rolls back by dispatching workflow (a file name such
// as "rollback.yml") in repo on ref (the repository's default branch when
// empty) with inputs plus InputTargetRef, InputTargetSHA, InputIncident and
// InputKey, which override configured inputs of the same names.
//
// GitHub answers a dispatch with 204 and no run ID, so the run is found
// afterwards: a workflow_dispatch run of the workflow created at most
// RunClockSkew before the confirmation (req.At) whose title (run-name)
// contains the key as a whole word (not "rollback-1" in "rollback-12").
// Start returns Handle{Pending: true} after a dispatch; Progress looks for
// the run until it appears (then its Handle carries the run's ID and URL,
// to be stored) and after that follows the run. A run
// that has not appeared RunWait after the confirmation is reported failed.
// When the workflow does not set run-name, the run is recognised only
// after the dispatch (by Progress), as the oldest workflow_dispatch run on
// ref since the confirmation with the workflow's name as its title.
//
// Exactly one dispatch per key:
//   - Start first looks for the key's run, so a Start retried after its
//     run appeared returns it and does not dispatch.
//   - A dispatch whose answer was lost (a network error or a 5xx, after
//     which the run may or may not exist) fails with
//     jobs.RetryAfter(DispatchSettle): the retry comes when the run, if
//     there is one, is listed, and finds it.
//   - A definite refusal (401, 403, 404, 422: an undeclared input, an
//     unknown ref) is permanent and did not dispatch; a rate limit defers.
//
// The remaining window is a crash of Warroom between GitHub's 204 and the
// job storing its result, followed by a retry before the run is listed
// (GitHub lists it within seconds): jobs leases outlast that. This needs
// run-name with the key; without it, a lost answer can dispatch twice.
//
// The token needs actions: write (and actions: read).
func (c *Client) WorkflowRollbacker(repo, workflow, ref string, inputs map[string]string) deploys.Rollbacker {
	return &workflowRollbacker{c: c, repo: repo, workflow: workflow, ref: ref, inputs: maps.Clone(inputs)}
}

type workflowRollbacker struct {
	c                   *Client
	repo, workflow, ref string
	inputs              map[string]string
}

func (r *workflowRollbacker) Mechanism() deploys.Mechanism { return deploys.MechanismGitHubWorkflow }

// inputsFor returns the inputs that a dispatch for req sends.
func (r *workflowRollbacker) inputsFor(req deploys.RollbackRequest) map[string]any {
	in := make(map[string]any, len(r.inputs)+4)
	for k, v := range r.inputs {
		in[k] = v
	}
	in[InputTargetRef] = firstNonEmpty(req.To.Ref, req.To.SHA)
	in[InputTargetSHA] = req.To.SHA
	in[InputIncident] = req.Incident.String()
	in[InputKey] = req.Key
	return in
}

func (r *workflowRollbacker) check(req deploys.RollbackRequest) (owner, name string, err error) {
	owner, name, err = splitRepo(r.repo)
	switch {
	case err != nil:
	case r.workflow == "":
		err = errors.New("no workflow")
	case req.Key == "":
		err = errors.New("the rollback has no key")
	case req.To.Ref == "" && req.To.SHA == "":
		err = errors.New("the rollback has no target ref or SHA")
	case req.At.IsZero():
		err = errors.New("the rollback has no confirmation time")
	}
	if err != nil {
		err = jobs.Permanent(fmt.Errorf("github: rolling back with %s: %w", r.workflow, err))
	}
	return owner, name, err
}

func (r *workflowRollbacker) Start(ctx context.Context, req deploys.RollbackRequest) (deploys.Handle, error) {
	owner, name, err := r.check(req)
	if err != nil {
		return deploys.Handle{}, err
	}
	run, err := r.find(ctx, owner, name, req, false)
	if err != nil {
		return deploys.Handle{}, err
	}
	if run != nil {
		return runHandle(run), nil
	}

	ref := r.ref
	if ref == "" {
		repo, _, err := r.c.gh.Repositories.Get(ctx, owner, name)
		if err != nil {
			return deploys.Handle{}, r.c.jobError(err, r.repo, "github: reading the default branch of "+r.repo, actionsRead)
		}
		ref = repo.GetDefaultBranch()
	}
	_, err = r.c.gh.Actions.CreateWorkflowDispatchEventByFileName(ctx, owner, name, r.workflow, gh.CreateWorkflowDispatchEventRequest{
		Ref: ref, Inputs: r.inputsFor(req),
	})
	if err != nil {
		what := fmt.Sprintf("github: dispatching %s on %s in %s", r.workflow, ref, r.repo)
		if isValidation(err, "Unexpected inputs") {
			what += fmt.Sprintf(" (its workflow_dispatch trigger must declare the inputs %s, %s, %s and %s)",
				InputTargetRef, InputTargetSHA, InputIncident, InputKey)
		}
		je := r.c.jobError(err, r.repo, what, actionsWrite)
		if _, deferred := jobs.DeferOf(je); deferred || jobs.IsPermanent(je) {
			return deploys.Handle{}, je
		}
		wait := DispatchSettle
		if d, ok := jobs.RetryAfterOf(je); ok && d > wait {
			wait = d
		}
		return deploys.Handle{}, jobs.RetryAfter(wait, fmt.Errorf(
			"%w (the dispatch may have started a run: the retry looks for it before dispatching again)", je))
	}
	return deploys.Handle{Pending: true, URL: r.c.webURL() + "/" + r.repo + "/actions/workflows/" + r.workflow}, nil
}

// find looks for the rollback's run; with fallback, also for the oldest
// untitled (no run-name) workflow_dispatch run on the dispatch ref.
func (r *workflowRollbacker) find(ctx context.Context, owner, name string, req deploys.RollbackRequest, fallback bool) (*gh.WorkflowRun, error) {
	since := req.At.Add(-RunClockSkew).UTC().Format(time.RFC3339)
	opts := &gh.ListWorkflowRunsOptions{Event: "workflow_dispatch", Created: ">=" + since, ListOptions: gh.ListOptions{PerPage: 100}}
	var oldest *gh.WorkflowRun
	for range runPages {
		runs, resp, err := r.c.gh.Actions.ListWorkflowRunsByFileName(ctx, owner, name, r.workflow, opts)
		if err != nil {
			return nil, r.c.jobError(err, r.repo, fmt.Sprintf("github: looking for the run of rollback %s of %s in %s", req.Key, r.workflow, r.repo), actionsRead)
		}
		for _, run := range runs.WorkflowRuns {
			if containsKey(run.GetDisplayTitle(), req.Key) {
				return run, nil
			}
			if fallback && run.GetDisplayTitle() == run.GetName() && (r.ref == "" || run.GetHeadBranch() == r.ref) {
				oldest = run // listed newest first
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return oldest, nil
}

// containsKey reports whether title holds key as a whole word: not as the
// start of a longer key ("inc-4/rollback-1" in "inc-4/rollback-12").
func containsKey(title, key string) bool {
	for i := 0; key != ""; {
		j := strings.Index(title[i:], key)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(key)
		if (start == 0 || !keyByte(title[start-1])) && (end == len(title) || !keyByte(title[end])) {
			return true
		}
		i = start + 1
	}
	return false
}

// keyByte reports whether b can continue a key.
func keyByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("-_./:", b) >= 0
}

func runHandle(run *gh.WorkflowRun) deploys.Handle {
	return deploys.Handle{ExternalID: strconv.FormatInt(run.GetID(), 10), URL: run.GetHTMLURL()}
}

func (r *workflowRollbacker) Progress(ctx context.Context, req deploys.RollbackRequest, h deploys.Handle) (deploys.Progress, error) {
	owner, name, err := r.check(req)
	if err != nil {
		return deploys.Progress{}, err
	}
	var run *gh.WorkflowRun
	var found deploys.Handle
	if h.ExternalID == "" {
		if run, err = r.find(ctx, owner, name, req, true); err != nil {
			return deploys.Progress{}, err
		}
		if run == nil {
			return r.notYet(req, h), nil
		}
		found = runHandle(run)
	} else {
		id, err := strconv.ParseInt(h.ExternalID, 10, 64)
		if err != nil {
			return deploys.Progress{}, jobs.Permanent(fmt.Errorf("github: following rollback %s: run ID %q is not a number", req.Key, h.ExternalID))
		}
		run, _, err = r.c.gh.Actions.GetWorkflowRunByID(ctx, owner, name, id)
		if err != nil {
			return deploys.Progress{}, r.c.jobError(err, r.repo, fmt.Sprintf("github: reading run %d of %s in %s", id, r.workflow, r.repo), actionsRead)
		}
	}
	p := deploys.Progress{Status: RunStatus(run.GetStatus(), run.GetConclusion()), URL: run.GetHTMLURL(), Handle: found}
	label := fmt.Sprintf("%s run #%d", r.workflow, run.GetRunNumber())
	switch p.Status {
	case deploys.StatusPending:
		p.Message = label + " is " + strings.ReplaceAll(run.GetStatus(), "_", " ")
	case deploys.StatusRunning:
		p.Message = label + " is running"
	case deploys.StatusSuccess:
		p.Message = label + " succeeded"
	case deploys.StatusCanceled:
		p.Message = label + " was " + run.GetConclusion()
	case deploys.StatusFailed:
		p.Message = label + " " + strings.ReplaceAll(cmp.Or(run.GetConclusion(), "completed without a conclusion"), "_", " ")
		if job, step, url := r.failedJob(ctx, owner, name, run.GetID()); job != "" {
			p.Message += " in job " + job
			if step != "" {
				p.Message += ", step " + strconv.Quote(step)
			}
			if url != "" {
				p.URL = url
			}
		}
		p.Message += "; see " + p.URL
	default:
		p.Message = fmt.Sprintf("%s: status %s, conclusion %s", label, run.GetStatus(), run.GetConclusion())
	}
	return p, nil
}

// notYet is the progress of a dispatch whose run has not appeared.
func (r *workflowRollbacker) notYet(req deploys.RollbackRequest, h deploys.Handle) deploys.Progress {
	url := firstNonEmpty(h.URL, r.c.webURL()+"/"+r.repo+"/actions/workflows/"+r.workflow)
	if r.c.now().Sub(req.At) > RunWait {
		return deploys.Progress{Status: deploys.StatusFailed, URL: url, Message: fmt.Sprintf(
			"no run of %s for this rollback appeared within %s of the dispatch; see %s (if the workflow sets run-name, it must include ${{ inputs.%s }})",
			r.workflow, RunWait, url, InputKey)}
	}
	return deploys.Progress{Status: deploys.StatusPending, URL: url,
		Message: fmt.Sprintf("dispatched %s; waiting for its run to start", r.workflow)}
}

// failedJob names the first failed job of a run and its failed step. It is
// best effort: an error leaves them empty.
func (r *workflowRollbacker) failedJob(ctx context.Context, owner, name string, runID int64) (job, step, url string) {
	jl, _, err := r.c.gh.Actions.ListWorkflowJobs(ctx, owner, name, runID, &gh.ListWorkflowJobsOptions{ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		return "", "", ""
	}
	for _, j := range jl.Jobs {
		if c := j.GetConclusion(); c == "failure" || c == "timed_out" {
			for _, s := range j.Steps {
				if s.GetConclusion() == "failure" || s.GetConclusion() == "timed_out" {
					return j.GetName(), s.GetName(), j.GetHTMLURL()
				}
			}
			return j.GetName(), "", j.GetHTMLURL()
		}
	}
	return "", "", ""
}
