package github

import (
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// DeployEvents are the events whose runs of a deploy workflow are deploys:
// what lands on a branch or tag of the repository itself (push, release),
// what people or systems with write access start (workflow_dispatch,
// repository_dispatch, deployment) and schedules. Runs for pull requests (pull_request, pull_request_target,
// pull_request_review...), issue and discussion events, merge queues
// (merge_group runs on a temporary gh-readonly-queue branch, before the
// merge) and anything else are not: their head branch and commit may come
// from a pull request, even a fork's.
//
// workflow_run is a deploy workflow chained after another one (CI, then
// deploy); it runs in the repository with the default branch's workflow.
var DeployEvents = []string{
	"push", "workflow_dispatch", "release", "schedule", "deployment",
	"repository_dispatch", "workflow_run",
}

// RunNotADeploy says why a run of a deploy workflow in repo ("owner/name")
// is not a deploy, or returns "" when it is one: its event is not one of
// DeployEvents, or its head commit is not from repo itself (a fork's pull
// request, or a head repository GitHub no longer knows). It is the one
// filter of both the workflow_run webhook and ActionsProvider. event and
// headRepository are the run's event and head_repository.full_name;
// names compare without case, as GitHub's do.
func RunNotADeploy(repo, event, headRepository string) string {
	switch {
	case event == "":
		return "the run has no event: it cannot be told from a pull request's run"
	case !slices.Contains(DeployEvents, event):
		return "runs for " + event + " events are not deploys (deploys are runs for " + strings.Join(DeployEvents, ", ") + ")"
	case headRepository == "":
		return "the run has no head repository: it cannot be told from a fork's run"
	case !strings.EqualFold(headRepository, repo):
		return "the run's commit is from " + headRepository + ", not " + repo + ": a fork's run is not a deploy"
	}
	return ""
}

// runNotADeploy is RunNotADeploy for a listed run of repo (the configured
// name, when the run does not say its repository).
func runNotADeploy(repo string, r *gh.WorkflowRun) string {
	if name := r.GetRepository().GetFullName(); name != "" {
		repo = name
	}
	return RunNotADeploy(repo, r.GetEvent(), r.GetHeadRepository().GetFullName())
}

// isRollbackRun reports whether a run is one that WorkflowRollbacker
// dispatched: a workflow_dispatch run (how the rollbacker starts one, and
// where it looks for it) titled by the recommended run-name, "Warroom
// rollback to ...". The title of other runs is a pull request's or a
// commit's, which anyone who can open one chooses.
func isRollbackRun(r *gh.WorkflowRun) bool {
	return r.GetEvent() == "workflow_dispatch" && strings.Contains(strings.ToLower(r.GetDisplayTitle()), "warroom rollback")
}
