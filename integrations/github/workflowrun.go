package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"

	gh "github.com/google/go-github/v60/github"

	"github.com/warroomhq/warroom/deploys"
)

// WorkflowRunEvent is GitHub's workflow_run webhook, converted.
type WorkflowRunEvent struct {
	// Repository is the repository's full name, "owner/name".
	Repository string
	// Event is the event the run is for: "push", "workflow_dispatch",
	// "pull_request"...; HeadRepository the full name of the repository
	// of its head commit (a fork's, for a fork's pull request; empty
	// when GitHub does not say). NotADeploy says what they mean.
	Event          string
	HeadRepository string
	// Action is what happened to the run: "requested", "in_progress" or
	// "completed".
	Action string
	// WorkflowPath is the workflow's file, ".github/workflows/deploy.yml";
	// WorkflowName its name ("Deploy"), which may be empty.
	WorkflowPath string
	WorkflowName string
	// Deploy is the run as ActionsProvider reads it (DeployFromRun),
	// without its Service: ExternalID is the run's ID, Attempt its
	// run_attempt, Ref its head branch, SHA its head commit, Status from
	// its status and conclusion, StartedAt its run_started_at (the current
	// attempt's start), FinishedAt its updated_at once completed.
	Deploy deploys.Deploy
}

// WorkflowFile is the workflow's file name, "deploy.yml": what a service's
// deploys.github_actions.workflow names.
func (e WorkflowRunEvent) WorkflowFile() string { return path.Base(e.WorkflowPath) }

// NotADeploy says why the run is not a deploy of its repository (see
// RunNotADeploy), or returns "" when it may be one.
func (e WorkflowRunEvent) NotADeploy() string {
	return RunNotADeploy(e.Repository, e.Event, e.HeadRepository)
}

// ParseWorkflowRun reads the body of a workflow_run webhook
// (X-GitHub-Event: workflow_run, content type application/json). Its
// errors name the missing or malformed field. A run whose status Warroom
// does not know has deploys.StatusUnknown, which keeps a stored deploy's
// status; a completed run is finished whatever its conclusion (RunStatus).
func ParseWorkflowRun(body []byte) (WorkflowRunEvent, error) {
	var ev gh.WorkflowRunEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return WorkflowRunEvent{}, fmt.Errorf("%s: expected a JSON %s, got %s", ute.Field, ute.Type, ute.Value)
		}
		return WorkflowRunEvent{}, fmt.Errorf("the body is not a workflow_run event: %w", err)
	}
	// go-github v60's WorkflowRun has no path, which GitHub sends in
	// workflow_run too, besides workflow.path: read it when that is absent.
	var runPath struct {
		Run struct {
			Path string `json:"path"`
		} `json:"workflow_run"`
	}
	if ev.Workflow.GetPath() == "" {
		_ = json.Unmarshal(body, &runPath) // a path of another type is absent
	}
	run := ev.WorkflowRun
	out := WorkflowRunEvent{Repository: ev.Repo.GetFullName(), Action: ev.GetAction(),
		WorkflowPath: ev.Workflow.GetPath(), WorkflowName: ev.Workflow.GetName(),
		Event: run.GetEvent(), HeadRepository: run.GetHeadRepository().GetFullName()}
	if out.WorkflowPath == "" {
		out.WorkflowPath = runPath.Run.Path
	}
	switch {
	case out.Repository == "":
		return WorkflowRunEvent{}, errors.New("repository.full_name is missing")
	case run == nil || run.GetID() <= 0:
		return WorkflowRunEvent{}, errors.New("workflow_run.id is missing")
	case run.GetStatus() == "":
		return WorkflowRunEvent{}, errors.New("workflow_run.status is missing")
	case out.WorkflowPath == "" || path.Base(out.WorkflowPath) == "." || path.Base(out.WorkflowPath) == "/":
		return WorkflowRunEvent{}, errors.New("workflow.path is missing")
	case run.GetRunAttempt() < 0:
		return WorkflowRunEvent{}, fmt.Errorf("workflow_run.run_attempt: %d is negative", run.GetRunAttempt())
	}
	if out.WorkflowName == "" {
		out.WorkflowName = run.GetName()
	}
	out.Deploy = DeployFromRun(run)
	return out, nil
}
