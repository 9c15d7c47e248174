// Package deployconfig builds a service's deploy providers and rollbacker
// from its configuration (services.<name>.deploys and .rollback), so that
// the wiring in app does not repeat which adapter serves which key.
package deployconfig

import (
	"errors"
	"net/http"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/integrations/deploywebhook"
	"github.com/warroomhq/warroom/integrations/github"
)

// ErrNoGitHub is returned for a GitHub source or mechanism when Warroom has
// no GitHub client (github.token is not set).
var ErrNoGitHub = errors.New("the service reads deploys from, or rolls back through, GitHub, but github.token is not set")

// Providers returns the providers that read svc's recent deploys:
// deploys.github_deployments and deploys.github_actions, on svc's
// repository. deploys.webhook has no provider: those deploys arrive at
// POST /hooks/deploy and are read from the store. gh may be nil when no
// GitHub source is configured.
func Providers(gh *github.Client, svc config.Service) ([]deploys.Provider, error) {
	var out []deploys.Provider
	if svc.Deploys == nil {
		return nil, nil
	}
	if d := svc.Deploys.GitHubDeployments; d != nil {
		if gh == nil {
			return nil, ErrNoGitHub
		}
		out = append(out, gh.DeploymentsProvider(svc.Repository, d.Environment))
	}
	if a := svc.Deploys.GitHubActions; a != nil {
		if gh == nil {
			return nil, ErrNoGitHub
		}
		out = append(out, gh.ActionsProvider(svc.Repository, a.Workflow, a.Branch))
	}
	return out, nil
}

// Rollbacker returns svc's rollbacker, or nil when it has no rollback.
// publicURL is server.public_url, for the webhook's callback_url;
// httpClient (nil: a default) sends webhook requests.
func Rollbacker(gh *github.Client, svc config.Service, publicURL string, httpClient *http.Client) (deploys.Rollbacker, error) {
	rb := svc.Rollback
	switch {
	case rb == nil:
		return nil, nil
	case rb.GitHubWorkflow != nil:
		if gh == nil {
			return nil, ErrNoGitHub
		}
		w := rb.GitHubWorkflow
		return gh.WorkflowRollbacker(svc.Repository, w.Workflow, w.Ref, w.Inputs), nil
	case rb.GitHubDeployment != nil:
		if gh == nil {
			return nil, ErrNoGitHub
		}
		return gh.DeploymentRollbacker(svc.Repository, rb.GitHubDeployment.Environment), nil
	case rb.Webhook != nil:
		return deploywebhook.NewRollbacker(rb.Webhook.URL, []byte(rb.Webhook.Secret.Reveal()),
			deploywebhook.CallbackURL(publicURL), httpClient), nil
	}
	return nil, nil
}
