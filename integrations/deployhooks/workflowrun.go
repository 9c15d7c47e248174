package deployhooks

import (
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/integrations/github"
)

// serveWorkflowRun records a workflow_run event as a deploy of the service
// whose deploys are the runs of that workflow (deploys.github_actions):
// the same repository, the workflow's file, and the branch when the service
// names one; and a run for a deploy event of the repository's own commit
// (github.RunNotADeploy: not a pull request's run, not a fork's). The
// deploy is identified by the run's ID, as the GitHub
// Actions provider reads it, and carries the run's attempt: a redelivery
// changes nothing, a re-run starts the deploy over, and a late event of an
// earlier attempt, or an in_progress after the run completed, is stale.
func (h *Hooks) serveWorkflowRun(w http.ResponseWriter, r *http.Request, payload []byte) string {
	ev, err := github.ParseWorkflowRun(payload)
	if err != nil {
		return fail(w, r, http.StatusBadRequest, "bad_request", err.Error())
	}
	service, why := h.serviceOfRun(ev)
	if service == "" {
		return ignored(w, why)
	}
	if why := ev.NotADeploy(); why != "" {
		h.log.Info("GitHub workflow run of a deploy workflow is not a deploy", "delivery", r.Header.Get(GitHubDeliveryHeader),
			"service", service, "run", ev.Deploy.ExternalID, "event", ev.Event, "head_repository", ev.HeadRepository, "reason", why)
		return ignored(w, why)
	}
	ev.Deploy.Service = service
	h.log.Debug("GitHub workflow run", "delivery", r.Header.Get(GitHubDeliveryHeader), "service", service,
		"run", ev.Deploy.ExternalID, "attempt", ev.Deploy.Attempt, "action", ev.Action, "status", ev.Deploy.Status)
	return h.record(w, r, "github", ev.Deploy)
}

// serviceOfRun finds the service that reads its deploys from the run's
// workflow in the run's repository (several: the first by name, logged),
// or says why none does.
func (h *Hooks) serviceOfRun(ev github.WorkflowRunEvent) (service, why string) {
	var names []string
	branchOnly := ""
	for name, s := range h.opts.Services {
		a := actionsDeploys(s)
		if a == nil || !strings.EqualFold(s.Repository, ev.Repository) || !sameWorkflow(a.Workflow, ev.WorkflowPath) {
			continue
		}
		if a.Branch != "" && a.Branch != ev.Deploy.Ref {
			branchOnly = a.Branch
			continue
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		if branchOnly != "" {
			return "", "runs of " + ev.WorkflowFile() + " on " + ev.Deploy.Ref + " are not deploys: the service follows " + branchOnly + " only"
		}
		return "", "no service reads its deploys from the runs of " + ev.WorkflowFile() + " in " + ev.Repository
	}
	slices.Sort(names)
	if len(names) > 1 {
		h.log.Warn("several services follow the same GitHub Actions workflow; recording for the first",
			"repository", ev.Repository, "workflow", ev.WorkflowPath, "services", names)
	}
	return names[0], ""
}

func actionsDeploys(s config.Service) *config.GitHubActions {
	if s.Deploys == nil {
		return nil
	}
	return s.Deploys.GitHubActions
}

// sameWorkflow reports whether the configured workflow (a file name such as
// "deploy.yml", or its path) is the workflow file at runPath.
func sameWorkflow(configured, runPath string) bool {
	configured = strings.TrimPrefix(strings.TrimSpace(configured), "./")
	return configured != "" && (configured == runPath || configured == path.Base(runPath))
}
