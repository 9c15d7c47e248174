// Package sandbox runs a whole Warroom in one process against fakes of the
// outside systems (Slack, for now), on a manual clock: the demo shows it,
// and end-to-end tests drive it the way Slack does, through signed HTTP
// requests.
package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/warroomhq/warroom/app"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/examples"
	"github.com/warroomhq/warroom/internal/clock"
	"github.com/warroomhq/warroom/internal/githubfake"
	"github.com/warroomhq/warroom/internal/slackfake"
)

// SigningSecret is the Slack signing secret the sandbox's app uses.
const SigningSecret = "sandbox-signing-secret"

// WebhookToken is the webhook token the sandbox's app uses.
const WebhookToken = "sandbox-webhook-token"

// GitHubWebURL starts the GitHub fake's web links (pull requests, issues).
const GitHubWebURL = "https://github.example.com"

// APIToken is the JSON API token the sandbox's app uses.
const APIToken = "sandbox-api-token"

// Options configure a sandbox. The zero value runs the shipped example
// config on a database in dir.
type Options struct {
	// Config is the YAML config (default: examples/warroom.yaml). The Slack
	// settings are pointed at the fake through the environment it names
	// (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, WARROOM_SLACK_API_URL).
	Config []byte
	// Env adds environment variables for the config.
	Env map[string]string
	// Dir holds the database. Required.
	Dir string
	// Start is the clock's start (default 2026-11-03 14:02 UTC).
	Start time.Time
	// WallClock runs the app, the fake and the driver on the real clock
	// instead (benchmarks, with the job queue running); Clock is then unused.
	WallClock bool
	Logger    *slog.Logger
	// Slack are extra options for the Slack fake.
	Slack []slackfake.Option
	// SlackTransport, when set, carries Warroom's Web API calls (to inject
	// faults between Warroom and the fake, such as a lost answer).
	SlackTransport http.RoundTripper
	// NoPaging clears the services' escalation policies, for tests of
	// other features: Run would otherwise carry their story through every
	// step of the page that declaring for a service starts.
	NoPaging bool
	// DeploySources builds the services' deploy providers and rollbackers
	// (fakes); nil uses the configured ones (against the GitHub fake).
	DeploySources app.DeploySources
}

// Sandbox is a running Warroom with its fakes.
type Sandbox struct {
	Clock *clock.Manual
	Slack *slackfake.Fake
	// GitHub is the GitHub fake that GITHUB_TOKEN and
	// WARROOM_GITHUB_API_URL point at, with every repository the config
	// names (postmortem.repository, services' repository).
	GitHub *githubfake.Fake
	App    *app.App
	Server *httptest.Server
	// Driver sends signed Slack requests to the app.
	Driver *slackfake.Driver
	// Users maps each configured person to their Slack user ID in the fake.
	Users map[string]string
}

// New starts a sandbox. Close stops it.
func New(ctx context.Context, opts Options) (*Sandbox, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("sandbox: Dir is required")
	}
	if opts.Config == nil {
		opts.Config = examples.Config
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 11, 3, 14, 2, 0, 0, time.UTC)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{Clock: clock.NewManual(opts.Start), Users: map[string]string{}}
	now := s.Clock.Now
	if opts.WallClock {
		now = time.Now
	}
	s.Slack = slackfake.New(append([]slackfake.Option{slackfake.WithClock(now)}, opts.Slack...)...)
	s.GitHub = githubfake.New(githubfake.WithClock(now), githubfake.WithWebURL(GitHubWebURL))

	env := map[string]string{
		"SLACK_BOT_TOKEN":        s.Slack.Token(),
		"SLACK_SIGNING_SECRET":   SigningSecret,
		"WARROOM_SLACK_API_URL":  s.Slack.APIURL(),
		"WARROOM_WEBHOOK_TOKEN":  WebhookToken,
		"WARROOM_API_TOKEN":      APIToken,
		"GITHUB_TOKEN":           s.GitHub.Token(),
		"WARROOM_GITHUB_API_URL": s.GitHub.APIURL(),
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	cfg, err := config.Load(opts.Config, func(k string) string { return env[k] })
	if err != nil {
		s.Slack.Close()
		s.GitHub.Close()
		return nil, err
	}
	if opts.NoPaging {
		for name, svc := range cfg.Services {
			svc.EscalationPolicy = ""
			cfg.Services[name] = svc
		}
	}
	s.populate(cfg)

	s.App, err = app.New(ctx, cfg, app.Options{
		DBPath:           filepath.Join(opts.Dir, "warroom.db"),
		Logger:           opts.Logger,
		Now:              now,
		SlackHTTPClient:  &http.Client{Transport: opts.SlackTransport, Timeout: 30 * time.Second},
		GitHubHTTPClient: &http.Client{Timeout: 30 * time.Second},
		DeploySources:    opts.DeploySources,
	})
	if err != nil {
		s.Slack.Close()
		s.GitHub.Close()
		return nil, err
	}
	s.Server = httptest.NewServer(s.App.Server.Handler())
	s.Driver = &slackfake.Driver{BaseURL: s.Server.URL, SigningSecret: SigningSecret, Now: now, Fake: s.Slack}
	return s, nil
}

// populate gives the fakes what the config names; see Populate.
func (s *Sandbox) populate(cfg *config.Config) {
	maps.Copy(s.Users, Populate(cfg, s.Slack, s.GitHub))
}

// Populate gives the Slack and GitHub fakes the people, channels and
// repositories that cfg names, and returns each person's Slack user ID.
// Every person becomes a user (people known only by email get an ID made
// from their name, people without an email one at example.com); every
// channel named with '#' exists (the announcement and digest channels,
// then the services', then those escalation policies notify, in that
// order, so that their IDs are the same on every run); and every
// repository (postmortems', services') exists with a README on main.
func Populate(cfg *config.Config, sl *slackfake.Fake, gh *githubfake.Fake) map[string]string {
	users := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(cfg.People)) {
		p := cfg.People[name]
		id := p.Slack
		if id == "" {
			id = "U0" + strings.ToUpper(name)
		}
		email := p.Email
		if email == "" {
			email = name + "@example.com"
		}
		sl.AddUser(slackfake.User{ID: id, Name: name, RealName: strings.ToUpper(name[:1]) + name[1:], Email: email})
		users[name] = id
	}
	channels := []string{cfg.Slack.AnnounceChannel, cfg.Digest.Channel}
	repos := []string{cfg.Postmortem.Repository}
	for _, name := range slices.Sorted(maps.Keys(cfg.Services)) {
		channels = append(channels, cfg.Services[name].Channel)
		repos = append(repos, cfg.Services[name].Repository)
	}
	var notified []string
	for _, p := range cfg.EscalationPolicies {
		for _, st := range p.Steps {
			for _, n := range st.Notify {
				if ch, ok := strings.CutPrefix(n, "channel:"); ok {
					notified = append(notified, ch)
				}
			}
		}
	}
	slices.Sort(notified)
	for _, ch := range append(channels, notified...) {
		if name, ok := strings.CutPrefix(ch, "#"); ok {
			if _, exists := sl.Channel(name); !exists {
				sl.AddChannel(name)
			}
		}
	}
	slices.Sort(repos)
	for _, r := range slices.Compact(repos) {
		if r != "" {
			gh.AddRepo(r, "main", map[string]string{"README.md": "# " + r + "\n"})
		}
	}
	return users
}

// Run runs every pending job, moving the clock forward to each retry or
// deferred job (at most rounds times), and returns how many attempts ran.
func (s *Sandbox) Run(ctx context.Context, rounds int) (int, error) {
	return s.App.Queue.RunAll(ctx, s.Clock.Set, rounds)
}

// Settle runs the jobs that are due now or within horizon, moving the
// clock forward to each of them (a summary edit a second away, a retry's
// backoff), and stops at the first job due later (the next step of a page
// ten minutes away). It returns how many attempts ran. Unlike Run, it
// leaves the future alone, so a story can act before then (acknowledge).
func (s *Sandbox) Settle(ctx context.Context, horizon time.Duration) (int, error) {
	total := 0
	for range 10000 {
		n, err := s.App.Queue.RunDue(ctx)
		total += n
		if err != nil {
			return total, err
		}
		next, ok, err := s.App.Queue.NextRunAt(ctx)
		if err != nil {
			return total, err
		}
		if !ok || next.After(s.Clock.Now().Add(horizon)) {
			return total, nil
		}
		if next.After(s.Clock.Now()) {
			s.Clock.Set(next)
		}
	}
	return total, fmt.Errorf("sandbox: jobs keep falling due within %s", horizon)
}

// PostAlerts posts an alert webhook body to /hooks/<source> with the
// webhook token, as Alertmanager does (basic auth, the token as password).
func (s *Sandbox) PostAlerts(ctx context.Context, source string, body []byte) (slackfake.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Server.URL+"/hooks/"+source, bytes.NewReader(body))
	if err != nil {
		return slackfake.Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("alertmanager", WebhookToken)
	resp, err := s.Server.Client().Do(req)
	if err != nil {
		return slackfake.Response{}, err
	}
	defer resp.Body.Close()
	out := slackfake.Response{Status: resp.StatusCode}
	if out.Body, err = io.ReadAll(resp.Body); err != nil {
		return out, err
	}
	_ = json.Unmarshal(out.Body, &out.JSON)
	return out, nil
}

// API GETs path from the JSON API with the API token and decodes the
// answer into out.
func (s *Sandbox) API(ctx context.Context, path string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Server.URL+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+APIToken)
	resp, err := s.Server.Client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
}

// Close stops the server and the fake and closes the database.
func (s *Sandbox) Close() {
	s.Server.Close()
	s.Slack.Close()
	s.GitHub.Close()
	s.App.Close()
}
