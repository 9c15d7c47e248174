package app

import (
	"fmt"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

// DeploySources builds one service's deploy providers and rollbacker (nil
// when it has no rollback). app.Options.DeploySources replaces the
// configured ones with it (tests and the demo use fakes).
type DeploySources func(service string, svc config.Service) ([]deploys.Provider, deploys.Rollbacker, error)

// wireDeploys builds the deploys service from the configuration and
// registers its jobs. It runs after the queue exists and before the server
// and the bot, which both use it.
func (a *App) wireDeploys(cfg *config.Config, opts Options) error {
	sources := opts.DeploySources
	if sources == nil {
		sources = configuredDeploySources(cfg, opts)
	}
	people := make(map[string]incidents.Actor, len(cfg.People))
	for name, p := range cfg.People {
		// Approvers and leads are recognised by their Slack user ID; a
		// person configured by email only cannot confirm a rollback as an
		// approver (they can as the incident's lead, by Slack ID).
		if p.Slack != "" {
			people[name] = incidents.SlackActor(p.Slack)
		}
	}
	services := make(map[string]deploys.ServiceConfig, len(cfg.Services))
	for name, svc := range cfg.Services {
		provs, rb, err := sources(name, svc)
		if err != nil {
			return fmt.Errorf("services.%s: %w", name, err)
		}
		services[name] = deploys.ServiceConfig{
			Environment:      deployEnvironment(svc),
			Providers:        provs,
			Rollbacker:       rb,
			Approvers:        svc.RollbackApprovers,
			HasDeploySources: svc.Deploys != nil && svc.Deploys.Webhook != nil,
		}
	}
	var err error
	a.Deploys, err = deploys.NewService(deploys.Options{
		Incidents: a.Incidents,
		Store:     a.Store,
		Services:  services,
		People:    people,
		Notify:    a.Queue.Notify,
		Now:       opts.Now,
		Logger:    opts.Logger.With("component", "deploys"),
	})
	if err != nil {
		return err
	}
	a.Deploys.RegisterJobs(a.Queue)
	return nil
}

// deployEnvironment is the environment whose deploys count for a service:
// the one its GitHub deployments, its deploy webhook or its GitHub
// deployment rollback name.
func deployEnvironment(svc config.Service) string {
	if d := svc.Deploys; d != nil {
		if d.GitHubDeployments != nil && d.GitHubDeployments.Environment != "" {
			return d.GitHubDeployments.Environment
		}
		if d.Webhook != nil && d.Webhook.Environment != "" {
			return d.Webhook.Environment
		}
	}
	if r := svc.Rollback; r != nil && r.GitHubDeployment != nil {
		return r.GitHubDeployment.Environment
	}
	return ""
}

// configuredDeploySources builds the providers and rollbackers that the
// configuration names.
//
// TODO(lead, when merging wip/deploys-int): build them with the
// integrations' constructors, from one GitHub client made of cfg.GitHub
// (github.New(cfg.GitHub.Token.Reveal(), cfg.GitHub.APIURL, nil)):
//
//	d := svc.Deploys
//	d.GitHubDeployments → gh.DeploymentsProvider(svc.Repository, d.GitHubDeployments.Environment)
//	d.GitHubActions     → gh.ActionsProvider(svc.Repository, d.GitHubActions.Workflow, d.GitHubActions.Branch)
//	d.Webhook           → no provider: its deploys arrive at POST /hooks/deploy (deploys.Recorder = a.Deploys)
//	r := svc.Rollback
//	r.GitHubWorkflow    → gh.WorkflowRollbacker(svc.Repository, r.GitHubWorkflow.Workflow, r.GitHubWorkflow.Ref, r.GitHubWorkflow.Inputs)
//	r.GitHubDeployment  → gh.DeploymentRollbacker(svc.Repository, r.GitHubDeployment.Environment)
//	r.Webhook           → the webhook Rollbacker (r.Webhook.URL, r.Webhook.Secret)
//
// and mount deploys-int's POST /hooks/deploy and POST /hooks/github with
// a.Deploys as their deploys.Recorder. Until then only deploys reported
// to Warroom are shown, and rollbacks are not available.
func configuredDeploySources(cfg *config.Config, opts Options) DeploySources {
	warned := false
	return func(name string, svc config.Service) ([]deploys.Provider, deploys.Rollbacker, error) {
		if (svc.Rollback != nil || (svc.Deploys != nil && (svc.Deploys.GitHubDeployments != nil || svc.Deploys.GitHubActions != nil))) && !warned {
			warned = true
			opts.Logger.Info("deploy providers and rollbacks are not wired into this build yet; only deploys reported to Warroom are shown",
				"service", name)
		}
		return nil, nil, nil
	}
}
