// Package app wires Warroom together: the store, the domain service, the job
// queue and the HTTP server, from a configuration. The CLI's serve and demo
// commands and the end-to-end tests all start Warroom through it, so there is
// one place where the parts are connected.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/alerthooks"
	"github.com/warroomhq/warroom/integrations/github"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/oncall"
	"github.com/warroomhq/warroom/paging"
	"github.com/warroomhq/warroom/postmortem"
	"github.com/warroomhq/warroom/server"
	"github.com/warroomhq/warroom/store/sqlite"
)

// Options are the settings that come from flags and the environment rather
// than the config file.
type Options struct {
	DBPath string           // overrides database.path
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
	// Workers is the job queue's worker count (default 4).
	Workers int
	// SlackHTTPClient makes the Slack Web API calls (default: a client
	// with a 30s timeout).
	SlackHTTPClient *http.Client
	// GitHubHTTPClient makes the GitHub API calls (default: a client with
	// a 30s timeout).
	GitHubHTTPClient *http.Client
	// DeploySources, when set, builds each service's deploy providers and
	// rollbacker instead of the configured ones (tests, the demo).
	DeploySources DeploySources
}

// App is a wired Warroom.
type App struct {
	Config    *config.Config
	Store     *sqlite.Store
	Incidents *incidents.Service
	// Alerts turns alert webhooks into incidents.
	Alerts *incidents.AlertService
	// Postmortems writes postmortem drafts, with the configured template
	// and time zone.
	Postmortems *postmortem.Drafter
	// Publisher proposes drafts as pull requests, through the queue.
	Publisher *postmortem.Publisher
	// GitHub is the one GitHub client (postmortems, deploys, rollbacks),
	// or nil without github.token.
	GitHub *github.Client
	Queue  *runner.Queue
	Server *server.Server
	// Bot is the Slack adapter, or nil when no bot token is configured.
	Bot *bot.Bot
	// OnCall answers who is on call, from the schedules and the overrides.
	OnCall *oncall.Resolver
	// Digest runs the digest schedule; nil when no digest is configured or
	// there is no Slack to post it to.
	Digest *digest.Scheduler
	// Paging starts, escalates and acknowledges pages (paging.go).
	Paging   *paging.Service
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Deploys shows deploys, runs rollbacks and answers freezes.
	Deploys *deploys.Service

	closeOnce sync.Once
}

// New opens and migrates the database and wires the parts. Close releases it.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dbPath := cfg.Database.Path
	if opts.DBPath != "" {
		dbPath = opts.DBPath
	}
	tmpl, err := postmortem.LoadTemplates(cfg.Postmortem.Template)
	if err != nil {
		return nil, fmt.Errorf("postmortem.template: %w", err)
	}
	st, err := sqlite.OpenMigrated(ctx, dbPath, sqlite.WithClock(opts.Now))
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry() // the server adds Go and process metrics

	a := &App{Config: cfg, Store: st, Registry: reg, Logger: opts.Logger}
	a.setUpOnCall()
	a.Postmortems = &postmortem.Drafter{Source: st, Templates: tmpl, Location: cfg.Postmortem.Location, Now: opts.Now,
		Names: cfg.SlackNames(), Items: st}
	a.Incidents = incidents.NewService(st, incidents.WithClock(opts.Now))
	if a.GitHub, err = newGitHub(cfg, opts); err != nil {
		st.Close()
		return nil, err
	}
	a.Queue = runner.New(st, runner.Options{
		Workers: opts.Workers,
		Now:     opts.Now,
		Logger:  opts.Logger.With("component", "jobs"),
		Metrics: runner.NewMetrics(reg, st),
		Lane:    jobLanes(opts.Workers),
	})
	if err := a.wireDeploys(ctx, cfg, opts); err != nil {
		st.Close()
		return nil, err
	}
	a.Server = server.New(server.Options{
		Incidents:   st,
		Alerts:      st,
		Postmortems: a.Postmortems,
		Followups:   st,
		Deploys:     a.Deploys,
		Ready:       a.ready,
		APIToken:    cfg.API.Token.Reveal(),
		PublicURL:   cfg.Server.PublicURL,
		Registry:    reg,
		Logger:      opts.Logger.With("component", "http"),
		Now:         opts.Now,
	})
	a.Alerts = incidents.NewAlertService(a.Incidents, st, AlertPolicy(cfg.Alerts), incidents.WithJobNotify(a.Queue.Notify))
	a.Queue.Handle(incidents.JobProcessAlerts, jobs.HandlerFunc(a.Alerts.HandleJob))
	a.Queue.Handle(incidents.JobPruneAlertBodies, jobs.HandlerFunc(a.Alerts.HandlePruneJob))
	alerthooks.New(alerthooks.Options{
		Token:    cfg.Webhooks.Token.Reveal(),
		Ingester: a.Alerts,
		Logger:   opts.Logger.With("component", "alerts"),
		Registry: reg,
	}).Routes(a.Server.HandleLimited)
	if err := a.wirePostmortems(cfg, opts); err != nil {
		st.Close()
		return nil, err
	}
	a.mountDeployHooks(cfg, opts)
	if !cfg.Webhooks.Token.IsSet() {
		opts.Logger.Warn("webhooks.token is not set: the alert webhooks under /hooks are off")
	}
	if cfg.Slack.BotToken.IsSet() {
		httpClient := opts.SlackHTTPClient
		if httpClient == nil {
			httpClient = &http.Client{Timeout: 30 * time.Second}
		}
		a.Bot, err = bot.New(bot.Options{
			Slack:         cfg.Slack,
			Services:      cfg.Services,
			People:        cfg.People,
			PublicURL:     cfg.Server.PublicURL,
			Incidents:     a.Incidents,
			Store:         st,
			Alerts:        a.Alerts,
			Postmortems:   a.Publisher,
			Deploys:       a.Deploys,
			Digest:        st,
			DigestChannel: cfg.Digest.Channel,
			OnCall:        a.onCallDirectory(),
			Jobs:          st,
			Notify:        a.Queue.Notify,
			Now:           opts.Now,
			Logger:        opts.Logger.With("component", "slack"),
			HTTPClient:    httpClient,
			Registry:      reg,
		})
		if err != nil {
			st.Close()
			return nil, err
		}
		a.Incidents.AddListener(a.Bot.Listener())
		a.Alerts.AddListener(a.Bot.AlertListener())
		a.Bot.RegisterJobs(a.Queue)
		a.Bot.Routes(a.Server.Handle)
		if err := a.Bot.LookUpPeople(ctx); err != nil { // approvers known by email (bot/people.go)
			st.Close()
			return nil, err
		}
		if cfg.Digest.Cron != nil && cfg.Digest.Channel != "" {
			a.Digest = digest.NewScheduler(cfg.Digest.Cron, a.enqueueDigest, opts.Now, opts.Logger.With("component", "digest"))
		}
	} else {
		opts.Logger.Warn("slack.bot_token is not set: incidents are recorded, but nothing is posted to Slack")
	}
	if err := a.wirePaging(ctx, cfg, opts); err != nil { // paging.go
		st.Close()
		return nil, err
	}
	// Jobs enqueued by a committed change are picked up at once rather than
	// at the next poll.
	a.Incidents.AddListener(incidents.ListenerFunc(func(context.Context, incidents.Tx, incidents.Change) error {
		a.Queue.Notify()
		return nil
	}))
	return a, nil
}

// enqueueDigest records a digest run as the job that posts it, keyed by
// the run: a run is posted once, across restarts.
func (a *App) enqueueDigest(ctx context.Context, key string, from, to time.Time) (bool, error) {
	payload, err := json.Marshal(bot.DigestJob{From: from, To: to})
	if err != nil {
		return false, err
	}
	fresh, err := a.Store.Enqueue(ctx, jobs.NewJob{Kind: bot.JobDigest, Key: key, Payload: payload})
	if err == nil && fresh {
		a.Queue.Notify()
	}
	return fresh, err
}

func (a *App) ready(ctx context.Context) error {
	if err := a.Store.Ping(ctx); err != nil {
		return err
	}
	return a.Store.CheckSchema(ctx)
}

// Run serves HTTP on listen and runs the job queue until ctx is cancelled,
// then shuts both down gracefully: the server finishes in-flight requests,
// running jobs finish or return to the queue. ready, if not nil, is called
// with the listening address.
func (a *App) Run(ctx context.Context, listen string, ready func(net.Addr)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := 2
	errc := make(chan error, 4)
	go func() { errc <- a.Queue.Run(ctx) }()
	go func() { errc <- a.Server.Serve(ctx, listen, ready) }()
	if a.Bot != nil && a.Bot.SocketMode() {
		parts++
		go func() { errc <- a.Bot.RunSocketMode(ctx) }()
	}
	if a.Digest != nil {
		parts++
		go func() { errc <- a.Digest.Run(ctx) }()
	}
	if a.Bot != nil {
		parts++
		go func() { errc <- a.Bot.RunPeopleLookups(ctx, time.Hour) }() // daily, by the date in the job key
	}
	if a.Publisher != nil && a.Publisher.Repo != nil {
		parts++
		go func() { errc <- a.syncPostmortems(ctx, a.Incidents.Now) }()
	}

	var errs []error
	for range parts {
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
		cancel() // one part stopping stops the other
	}
	return errors.Join(errs...)
}

// Close closes the database.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() { err = a.Store.Close() })
	if err != nil {
		return fmt.Errorf("closing database: %w", err)
	}
	return nil
}
