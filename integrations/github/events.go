package github

import (
	"encoding/json"
	"errors"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/warroomhq/warroom/deploys"
)

// DeploymentStatusEvent is GitHub's deployment_status webhook, converted.
type DeploymentStatusEvent struct {
	// Repository is the repository's full name, "owner/name".
	Repository string
	// Deploy is the deployment with the reported status, as
	// DeploymentsProvider reads it, without its Service. FinishedAt is set
	// for success, failure and error; an inactive status leaves it zero
	// (the deploy finished when it succeeded, earlier).
	Deploy deploys.Deploy
}

// ParseDeploymentStatus reads the body of a deployment_status webhook
// (X-GitHub-Event: deployment_status, content type application/json). Its
// errors name the missing or malformed field.
func ParseDeploymentStatus(body []byte) (DeploymentStatusEvent, error) {
	var ev gh.DeploymentStatusEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return DeploymentStatusEvent{}, fmt.Errorf("%s: expected a JSON %s, got %s", ute.Field, ute.Type, ute.Value)
		}
		return DeploymentStatusEvent{}, fmt.Errorf("the body is not a deployment_status event: %w", err)
	}
	switch {
	case ev.Repo.GetFullName() == "":
		return DeploymentStatusEvent{}, errors.New("repository.full_name is missing")
	case ev.Deployment == nil || ev.Deployment.GetID() == 0:
		return DeploymentStatusEvent{}, errors.New("deployment.id is missing")
	case ev.DeploymentStatus == nil || ev.DeploymentStatus.GetState() == "":
		return DeploymentStatusEvent{}, errors.New("deployment_status.state is missing")
	}
	if DeploymentState(ev.DeploymentStatus.GetState()) == deploys.StatusUnknown {
		return DeploymentStatusEvent{}, fmt.Errorf("deployment_status.state: %q is not a GitHub deployment state", ev.DeploymentStatus.GetState())
	}
	d := DeployFromDeployment(ev.Deployment, []*gh.DeploymentStatus{ev.DeploymentStatus})
	if d.Environment == "" {
		d.Environment = ev.DeploymentStatus.GetEnvironment()
	}
	if d.Environment == "" {
		return DeploymentStatusEvent{}, errors.New("deployment.environment is missing")
	}
	return DeploymentStatusEvent{Repository: ev.Repo.GetFullName(), Deploy: d}, nil
}
