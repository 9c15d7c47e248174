package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/postmortem"
)

// wirePostmortems sets up the postmortem publisher: drafts proposed as
// pull requests (when GitHub has a token and postmortem.repository is
// set), action items filed as issues, and drafts on resolve. Without
// GitHub, asked-for drafts are still recorded with their checker findings.
func (a *App) wirePostmortems(cfg *config.Config, opts Options) error {
	var repo postmortem.Repository
	if a.GitHub != nil && cfg.Postmortem.Repository != "" {
		repo = a.GitHub
	} else if cfg.Postmortem.Repository != "" {
		a.Logger.Warn("github.token is not set: postmortem drafts are written but not proposed as pull requests")
	}
	sevs := make([]incidents.Severity, 0, len(cfg.Postmortem.DraftOnResolve))
	for _, s := range cfg.Postmortem.DraftOnResolve {
		sevs = append(sevs, incidents.Severity(s))
	}
	a.Publisher = &postmortem.Publisher{
		Drafter:   a.Postmortems,
		Repo:      repo,
		Store:     a.Store,
		Incidents: a.Incidents,
		Config: postmortem.PublishConfig{
			Repo:                cfg.Postmortem.Repository,
			Base:                cfg.Postmortem.BaseBranch,
			Path:                cfg.Postmortem.Path,
			DraftOnResolve:      sevs,
			ActionItemsAsIssues: cfg.Postmortem.ActionItemsAsIssues,
			ServiceRepo:         func(service string) string { return cfg.Services[service].Repository },
		},
	}
	a.Incidents.AddListener(a.Publisher.Listener())
	a.Queue.Handle(postmortem.JobPublish, jobs.HandlerFunc(a.Publisher.HandleJob))
	a.Queue.Handle(postmortem.JobSync, jobs.HandlerFunc(a.Publisher.HandleSync))
	return nil
}

// syncPostmortems queues postmortem.sync on start and then every hour
// until ctx ends, while GitHub is configured: the states of postmortem
// pull requests and action-item issues are refreshed hourly.
func (a *App) syncPostmortems(ctx context.Context, now func() time.Time) error {
	tick := time.NewTicker(postmortem.SyncInterval)
	defer tick.Stop()
	for {
		fresh, err := postmortem.QueueSync(ctx, a.Store, now())
		switch {
		case err != nil && ctx.Err() == nil:
			a.Logger.Error("queueing the postmortem sync", "err", err)
		case fresh:
			a.Queue.Notify()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// newGitHub is the one GitHub client of the app, made of github.token and
// github.api_url, or nil without a token. Postmortems, deploys and
// rollbacks share it, and so share its hold on GitHub's rate limits: a
// Retry-After that one job is given holds back the others.
func newGitHub(cfg *config.Config, opts Options) (*github.Client, error) {
	if !cfg.GitHub.Token.IsSet() {
		return nil, nil
	}
	httpClient := opts.GitHubHTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	gh, err := github.New(cfg.GitHub.Token.Reveal(), cfg.GitHub.APIURL, httpClient)
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return gh, nil
}
