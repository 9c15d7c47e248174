package deploys

import (
	"fmt"

	"github.com/warroomhq/warroom/incidents"
)

// DeployText says what a deploy did, as its timeline events and the
// postmortem draft show it: "Deploy of checkout v1.4.2 (abc1234) to
// production: success", or "Rollback deploy of ..." for a rollback; a
// re-run of a workflow says "(attempt 2)".
func DeployText(d Deploy) string {
	what := "Deploy"
	if d.Rollback {
		what = "Rollback deploy"
	}
	text := fmt.Sprintf("%s of %s %s", what, d.Service, DeployLabel(d))
	if d.Environment != "" {
		text += " to " + d.Environment
	}
	if d.Attempt > 1 {
		text += fmt.Sprintf(" (attempt %d)", d.Attempt)
	}
	return text + ": " + string(d.Status)
}

// DeployActor is the actor of a deploy's timeline events: its source and
// creator ("github_deployments:octocat"), or its source alone.
func DeployActor(d Deploy) incidents.Actor {
	if d.Creator != "" {
		return incidents.Actor(string(d.Source) + ":" + d.Creator)
	}
	return incidents.Actor(d.Source)
}
