package bot

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Options configure a Bot.
type Options struct {
	Slack     config.Slack
	Services  map[string]config.Service
	People    map[string]config.Person
	PublicURL string
	Incidents *incidents.Service
	Store     Store
	// Digest is what the incident review digest reads, and DigestChannel
	// where JobDigest posts it. Optional: without Digest, /incident digest
	// says it is not available.
	Digest        digest.Source
	DigestChannel string
	// Alerts declares incidents for alert groups in triage (the "Declare
	// incident" button). Optional: without it the button says it is off.
	Alerts AlertDeclarer
	// Postmortems drafts postmortems for /incident postmortem. Optional:
	// without it the command is not offered.
	Postmortems PostmortemRequester
	// Deploys shows deploys and runs rollbacks and freezes (/incident
	// deploys, rollback, freeze, unfreeze). Optional.
	Deploys Deploys
	// Jobs enqueues jobs that no incident change causes (opening a modal,
	// an ephemeral answer to a button).
	Jobs jobs.Enqueuer
	// OnCall answers /incident oncall and records its overrides. Optional:
	// without it the command is not offered.
	OnCall OnCallDirectory
	// Notify wakes the job queue after Jobs enqueued something. Optional.
	Notify     func()
	Now        func() time.Time // default time.Now
	Logger     *slog.Logger     // default slog.Default()
	HTTPClient *http.Client     // for the Web API; default http.DefaultClient
	Registry   prometheus.Registerer
}

// Bot is the Slack adapter. It handles commands, events and interactions
// (whether they come over HTTP or Socket Mode), and runs the jobs that call
// the Web API.
type Bot struct {
	opts   Options
	cmds   *CommandTable
	render *Renderer
	api    *slack.Client
	pacer  *pacer
	log    *slog.Logger
	now    func() time.Time
	met    *metrics
	self   selfInfo   // the bot's own user, from auth.test
	prune  pruneTimer // when remembered event IDs are next pruned
	pager  Pager      // paging, once EnablePaging was called (paging.go)
}

// Dispatcher handles Slack requests, whichever transport they came by. Bot
// implements it; the HTTP endpoints and Socket Mode call it.
type Dispatcher interface {
	// Command runs a slash command and returns the reply to show at once.
	Command(ctx context.Context, cmd slack.SlashCommand) Reply
	// Event handles an Events API event (each event ID once).
	Event(ctx context.Context, ev slackevents.EventsAPIEvent) error
	// Interaction handles a button, select or modal submission. A non-nil
	// response is the JSON body to answer with (a view_submission's
	// response_action); nil means an empty 200.
	Interaction(ctx context.Context, cb slack.InteractionCallback) (any, error)
}

// New returns a bot with the core commands in its table.
func New(opts Options) (*Bot, error) {
	if opts.Incidents == nil || opts.Store == nil || opts.Jobs == nil {
		return nil, errors.New("bot: Incidents, Store and Jobs are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Notify == nil {
		opts.Notify = func() {}
	}
	if opts.Slack.ChannelPrefix == "" {
		opts.Slack.ChannelPrefix = config.DefaultChannelPrefix
	}
	if opts.Slack.TimelineEmoji == "" {
		opts.Slack.TimelineEmoji = config.DefaultTimelineEmoji
	}
	apiURL := opts.Slack.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/" // slack-go appends the method name
	}
	slackOpts := []slack.Option{slack.OptionAPIURL(apiURL)}
	if opts.HTTPClient != nil {
		slackOpts = append(slackOpts, slack.OptionHTTPClient(opts.HTTPClient))
	}
	if opts.Slack.AppToken.IsSet() {
		slackOpts = append(slackOpts, slack.OptionAppLevelToken(opts.Slack.AppToken.Reveal()))
	}
	b := &Bot{
		opts:   opts,
		cmds:   NewCommandTable(),
		render: &Renderer{PublicURL: opts.PublicURL, People: opts.People, Now: opts.Now},
		api:    slack.New(opts.Slack.BotToken.Reveal(), slackOpts...),
		pacer:  newPacer(opts.Now),
		log:    opts.Logger,
		now:    opts.Now,
		met:    newMetrics(opts.Registry),
	}
	b.addCoreCommands()
	if opts.OnCall != nil {
		b.addOnCallCommands()
	}
	if opts.Postmortems != nil {
		b.addPostmortemCommand()
	}
	if opts.Deploys != nil {
		b.addDeployCommands()
	}
	return b, nil
}

// Commands is the /incident command table; features add their verbs to it
// during wiring.
func (b *Bot) Commands() *CommandTable { return b.cmds }

// Renderer is the bot's renderer.
func (b *Bot) Renderer() *Renderer { return b.render }

// Routes mounts POST /slack/commands, /slack/events and /slack/interactivity.
func (b *Bot) Routes(handle func(pattern string, h http.Handler)) {
	NewHTTP(b, b.opts.Slack.SigningSecret.Reveal(), b.now, b.log).Routes(handle)
}

// SocketMode reports whether an app token is configured, in which case Run
// should be used to receive requests instead of the HTTP endpoints.
func (b *Bot) SocketMode() bool { return b.opts.Slack.AppToken.IsSet() }

// RunSocketMode receives commands, events and interactions over Socket Mode
// until ctx is cancelled.
func (b *Bot) RunSocketMode(ctx context.Context) error {
	return RunSocketMode(ctx, b.api, b, b.log)
}
