package deployconfig_test

import (
	"context"
	"errors"
	"testing"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/integrations/deployconfig"
	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/internal/githubfake"
)

func TestProvidersAndRollbackersFromConfig(t *testing.T) {
	f := githubfake.New()
	t.Cleanup(f.Close)
	f.AddRepo("acme/checkout", "main", nil)
	f.AddDeployment("acme/checkout", githubfake.Deployment{Ref: "v1", SHA: "1111111111111111111111111111111111111111", Environment: "production"})
	f.AddWorkflow("acme/checkout", githubfake.Workflow{File: "deploy.yml"})
	gh, err := github.New(f.Token(), f.APIURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := config.Service{
		Repository: "acme/checkout",
		Deploys: &config.Deploys{
			GitHubDeployments: &config.GitHubDeployments{Environment: "production"},
			GitHubActions:     &config.GitHubActions{Workflow: "deploy.yml"},
			Webhook:           &config.DeployWebhook{},
		},
	}
	ps, err := deployconfig.Providers(gh, svc)
	if err != nil || len(ps) != 2 || ps[0].Source() != deploys.SourceGitHubDeployments || ps[1].Source() != deploys.SourceGitHubActions {
		t.Fatalf("Providers = %v, %v", ps, err)
	}
	if got, err := ps[0].Recent(context.Background(), 5); err != nil || len(got) != 1 || got[0].Ref != "v1" {
		t.Errorf("deployments: %+v, %v", got, err)
	}
	if _, err := deployconfig.Providers(nil, svc); !errors.Is(err, deployconfig.ErrNoGitHub) {
		t.Errorf("without GitHub: %v", err)
	}

	for _, tc := range []struct {
		rb   *config.Rollback
		want deploys.Mechanism
	}{
		{&config.Rollback{GitHubWorkflow: &config.GitHubWorkflow{Workflow: "rollback.yml"}}, deploys.MechanismGitHubWorkflow},
		{&config.Rollback{GitHubDeployment: &config.GitHubDeployment{Environment: "production"}}, deploys.MechanismGitHubDeployment},
		{&config.Rollback{Webhook: &config.RollbackWebhook{URL: "https://argo.example.com", Secret: "s"}}, deploys.MechanismWebhook},
	} {
		svc.Rollback = tc.rb
		rb, err := deployconfig.Rollbacker(gh, svc, "https://warroom.example.com", nil)
		if err != nil || rb == nil || rb.Mechanism() != tc.want {
			t.Errorf("%s: %v, %v", tc.want, rb, err)
		}
		if _, err := deployconfig.Rollbacker(nil, svc, "", nil); (tc.want == deploys.MechanismWebhook) != (err == nil) {
			t.Errorf("%s without GitHub: %v", tc.want, err)
		}
	}
	svc.Rollback = nil
	if rb, err := deployconfig.Rollbacker(gh, svc, "", nil); rb != nil || err != nil {
		t.Errorf("no rollback: %v, %v", rb, err)
	}
}
