package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/deployconfig"
	"github.com/warroomhq/warroom/integrations/deployhooks"
	"github.com/warroomhq/warroom/integrations/github"
)

// DeploySources builds one service's deploy providers and rollbacker (nil
// when it has no rollback). app.Options.DeploySources replaces the
// configured ones with it (tests and the demo use fakes).
type DeploySources func(service string, svc config.Service) ([]deploys.Provider, deploys.Rollbacker, error)

// wireDeploys builds the deploys service from the configuration and
// registers its jobs. It runs after the queue exists and before the server
// and the bot, which both use it.
func (a *App) wireDeploys(ctx context.Context, cfg *config.Config, opts Options) error {
	sources := opts.DeploySources
	if sources == nil {
		var err error
		if sources, err = configuredDeploySources(cfg, opts, a.GitHub); err != nil {
			return err
		}
	}
	people := make(map[string]incidents.Actor, len(cfg.People))
	for name, p := range cfg.People {
		// Approvers and leads are recognised by their Slack user ID; a
		// person configured by email only, by the Slack user that the
		// bot's lookup of their email found (Resolver).
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
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "warroom_rollbacks_total",
		Help: "Rollbacks that reached a final state, by mechanism and outcome (succeeded, failed, canceled, unknown).",
	}, []string{"mechanism", "outcome"})
	if a.Registry != nil {
		if err := a.Registry.Register(outcomes); err != nil {
			return fmt.Errorf("registering the rollback metric: %w", err)
		}
	}
	var err error
	a.Deploys, err = deploys.NewService(deploys.Options{
		OnOutcome: func(m deploys.Mechanism, st deploys.RollbackState) {
			outcomes.WithLabelValues(string(m), string(st)).Inc()
		},
		Incidents: a.Incidents,
		Store:     a.Store,
		Services:  services,
		People:    people,
		Resolver:  bot.SlackPeople(a.Store, cfg.People, opts.Now), // people by email, once Slack said who they are
		Notify:    a.Queue.Notify,
		Now:       opts.Now,
		Logger:    opts.Logger.With("component", "deploys"),
	})
	if err != nil {
		return err
	}
	a.Deploys.RegisterJobs(a.Queue)
	a.Incidents.AddListener(a.Deploys.Listener()) // the deploys listed on declare, for the postmortem
	// Proposals stored before each had its expiry job get one.
	if err := a.Deploys.QueueExpiries(ctx); err != nil {
		return fmt.Errorf("queueing the expiry of rollback proposals: %w", err)
	}
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
// configuration names, with the app's GitHub client (nil without
// github.token). A service that needs GitHub while no token is set is
// logged and gets none: its deploys reported to Warroom are still shown.
func configuredDeploySources(cfg *config.Config, opts Options, gh *github.Client) (DeploySources, error) {
	webhookClient := &http.Client{Timeout: 30 * time.Second}
	return func(name string, svc config.Service) ([]deploys.Provider, deploys.Rollbacker, error) {
		provs, err := deployconfig.Providers(gh, svc)
		if errors.Is(err, deployconfig.ErrNoGitHub) {
			opts.Logger.Warn("not reading deploys from GitHub: github.token is not set", "service", name)
			provs, err = nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		rb, err := deployconfig.Rollbacker(gh, svc, cfg.Server.PublicURL, webhookClient)
		if errors.Is(err, deployconfig.ErrNoGitHub) {
			opts.Logger.Warn("rollbacks through GitHub are off: github.token is not set", "service", name)
			return provs, nil, nil
		}
		return provs, rb, err
	}, nil
}

// mountDeployHooks mounts POST /hooks/deploy, its rollback callbacks and
// POST /hooks/github, which record what they hear through the deploys
// service.
func (a *App) mountDeployHooks(cfg *config.Config, opts Options) {
	deployhooks.New(deployhooks.Options{
		Token:        cfg.Webhooks.Token.Reveal(),
		GitHubSecret: []byte(cfg.GitHub.WebhookSecret.Reveal()),
		Services:     cfg.Services,
		Recorder:     a.Deploys,
		Logger:       opts.Logger.With("component", "deployhooks"),
		Registry:     a.Registry,
	}).Routes(a.Server.HandleLimited)
}
