// Package config loads and validates Warroom's YAML configuration.
//
// Load parses a file strictly: an unknown key is an error, and every problem
// found is reported at once, with its line, as an *Errors. ${NAME} inside a
// value is replaced by the environment variable NAME (an unset variable is
// an empty string); the replacement happens after YAML parsing, so a value
// can never change the structure of the file. A key whose value is empty
// after expansion counts as absent, so its default applies.
//
// Defaults, applied by Load to values that are absent or empty:
//
//	server.listen              ":8080"
//	database.path              "warroom.db"
//	slack.channel_prefix       "inc"
//	slack.timeline_emoji       "pushpin"
//	alerts.severity_label      "severity"
//	alerts.declare_at_or_above "sev2"
//	alerts.reopen_within       30m (an explicit 0 means never reopen)
//	postmortem.base_branch     "main"
//	postmortem.path            "postmortems"
//	digest.schedule            "CRON_TZ=UTC 0 9 * * MON", only when digest.channel is set
//	schedule time zones        UTC
//	postmortem.timezone        UTC
//
// The digest is disabled when neither digest.channel nor digest.schedule is
// set. Secrets (tokens, signing secrets, routing keys) are never required
// here: the parts of Warroom that use them check them at startup, so that a
// configuration can be validated without them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// Config is Warroom's whole configuration.
type Config struct {
	Server             Server                      `yaml:"server"`
	Database           Database                    `yaml:"database"`
	Slack              Slack                       `yaml:"slack"`
	GitHub             GitHub                      `yaml:"github"`
	Webhooks           Webhooks                    `yaml:"webhooks"`
	API                API                         `yaml:"api"`
	People             map[string]Person           `yaml:"people"`
	Schedules          map[string]Schedule         `yaml:"schedules"`
	EscalationPolicies map[string]EscalationPolicy `yaml:"escalation_policies"`
	Services           map[string]Service          `yaml:"services"`
	Alerts             Alerts                      `yaml:"alerts"`
	Postmortem         Postmortem                  `yaml:"postmortem"`
	Digest             Digest                      `yaml:"digest"`

	// src remembers where each value came from, for validation messages.
	src *source
}

// Server configures the HTTP server.
type Server struct {
	// Listen is the host:port to listen on. Default ":8080".
	Listen string `yaml:"listen"`
	// PublicURL is the absolute http(s) URL that links posted by Warroom
	// start with. Optional.
	PublicURL string `yaml:"public_url"`
}

// Database configures storage.
type Database struct {
	// Path is the SQLite file. Default "warroom.db".
	Path string `yaml:"path"`
}

// Slack configures the Slack app.
type Slack struct {
	BotToken      Secret `yaml:"bot_token"`
	SigningSecret Secret `yaml:"signing_secret"`
	// AppToken, when set, makes Warroom use Socket Mode instead of HTTP
	// endpoints.
	AppToken Secret `yaml:"app_token"`
	// APIURL is the Web API base URL (a proxy or a test server). Optional.
	APIURL string `yaml:"api_url"`
	// ChannelPrefix starts the name of each incident channel. Default "inc".
	ChannelPrefix string `yaml:"channel_prefix"`
	// AnnounceChannel ("#incidents" or a channel ID) is told of every new
	// incident. Optional.
	AnnounceChannel string `yaml:"announce_channel"`
	// TimelineEmoji is the reaction, without colons, that copies a message
	// into the timeline. Default "pushpin".
	TimelineEmoji string `yaml:"timeline_emoji"`
}

// GitHub configures access to GitHub.
type GitHub struct {
	Token Secret `yaml:"token"`
	// APIURL is the REST API base URL (GitHub Enterprise or a test server).
	// Optional.
	APIURL string `yaml:"api_url"`
	// WebhookSecret verifies GitHub's webhooks to POST /hooks/github
	// (X-Hub-Signature-256). Empty turns that hook off.
	WebhookSecret Secret `yaml:"webhook_secret"`
}

// Webhooks configures the inbound alert and deploy webhooks.
type Webhooks struct {
	// Token must be presented as a bearer token or basic-auth password.
	Token Secret `yaml:"token"`
}

// API configures the JSON API under /api.
type API struct {
	// Token must be presented as a bearer token.
	Token Secret `yaml:"token"`
}

// Person is someone who can be paged. At least one of Slack and Email is
// set; an email is resolved to a Slack user by Warroom.
type Person struct {
	// Slack is a Slack user ID such as "U01ALICE".
	Slack string `yaml:"slack"`
	Email string `yaml:"email"`
}

// SlackNames maps the Slack user IDs of the configured people to their
// names, so that what Warroom writes for people (postmortem drafts) names
// them rather than their IDs.
func (c *Config) SlackNames() map[string]string {
	names := make(map[string]string, len(c.People))
	for name, p := range c.People {
		if p.Slack != "" {
			names[p.Slack] = name
		}
	}
	return names
}

// Schedule is an on-call rotation.
type Schedule struct {
	// Timezone is an IANA time zone name. Default UTC.
	Timezone string   `yaml:"timezone"`
	Rotation Rotation `yaml:"rotation"`
	// Members take turns in this order, starting with the first at the
	// rotation's start.
	Members []string `yaml:"members"`
	// Overrides put someone else on call for a while.
	Overrides []Override `yaml:"overrides"`

	// Location is Timezone loaded. Filled in by Validate.
	Location *time.Location `yaml:"-"`
}

// Rotation says when a schedule hands over to its next member.
type Rotation struct {
	// Every is the length of a shift; it must be positive, and a whole
	// number of weeks when Handoff names a weekday.
	Every Duration `yaml:"every"`
	// Handoff is the local time of a handover, "HH:MM" or "Mon HH:MM"
	// (weekdays Mon to Sun, in any case).
	Handoff string `yaml:"handoff"`
	// Start is the local date, YYYY-MM-DD, of the first shift.
	Start string `yaml:"start"`

	// HandoffAt is Handoff parsed. Filled in by Validate.
	HandoffAt HandoffTime `yaml:"-"`
	// StartDate is midnight of Start in the schedule's Location. Filled in
	// by Validate.
	StartDate time.Time `yaml:"-"`
	// FirstHandoff is when the first shift begins: the handoff time on the
	// start date or, when Handoff names a weekday, on the first such weekday
	// on or after the start date. Filled in by Validate.
	FirstHandoff time.Time `yaml:"-"`
}

// HandoffTime is a parsed Rotation.Handoff.
type HandoffTime struct {
	// HasWeekday tells whether Weekday is meaningful.
	HasWeekday bool
	Weekday    time.Weekday
	Hour       int
	Minute     int
}

// Override puts Person on call from From until To, both RFC 3339 times.
type Override struct {
	Person string `yaml:"person"`
	From   string `yaml:"from"`
	To     string `yaml:"to"`

	// FromTime and ToTime are From and To parsed. Filled in by Validate.
	FromTime time.Time `yaml:"-"`
	ToTime   time.Time `yaml:"-"`
}

// EscalationPolicy says whom to page, and when, until someone acknowledges.
type EscalationPolicy struct {
	// Repeat is how many more times the steps run while nobody
	// acknowledges. Zero runs them once.
	Repeat int    `yaml:"repeat"`
	Steps  []Step `yaml:"steps"`
	// PagerDuty, when it has a routing key, also pages through PagerDuty.
	PagerDuty *PagerDuty `yaml:"pagerduty"`
	// Webhook, when it has a URL, also POSTs each page.
	Webhook *Webhook `yaml:"webhook"`
	// MinSeverity, when set, is the lowest severity (sev1..sev4) that
	// starts a page on declare; empty pages every severity.
	MinSeverity string `yaml:"min_severity"`
}

// Step is one step of an escalation policy.
type Step struct {
	// After is how long after the page this step runs.
	After Duration `yaml:"after"`
	// Notify lists targets: "schedule:<name>", "person:<name>" or
	// "channel:#name".
	Notify []string `yaml:"notify"`

	// Targets is Notify parsed. Filled in by Validate.
	Targets []Target `yaml:"-"`
}

// TargetKind is the kind of an escalation target.
type TargetKind string

// The kinds of escalation targets.
const (
	TargetSchedule TargetKind = "schedule"
	TargetPerson   TargetKind = "person"
	TargetChannel  TargetKind = "channel"
)

// Target is a parsed escalation target such as "person:bob".
type Target struct {
	Kind TargetKind
	// Name is a schedule or person name, or a channel such as "#payments".
	Name string
}

// String returns the target as written in the configuration.
func (t Target) String() string { return string(t.Kind) + ":" + t.Name }

// PagerDuty configures paging through the PagerDuty Events API v2.
type PagerDuty struct {
	// RoutingKey is the integration key. Empty means PagerDuty is not used.
	RoutingKey Secret `yaml:"routing_key"`
	// URL overrides the events endpoint. Optional.
	URL string `yaml:"url"`
}

// Enabled reports whether p is present and has a routing key.
func (p *PagerDuty) Enabled() bool { return p != nil && p.RoutingKey.IsSet() }

// Webhook configures a page webhook, signed with HMAC-SHA256 using Secret.
type Webhook struct {
	// URL receives the POSTs. Empty means the webhook is not used.
	URL    string `yaml:"url"`
	Secret Secret `yaml:"secret"`
}

// Enabled reports whether w is present and has a URL.
func (w *Webhook) Enabled() bool { return w != nil && w.URL != "" }

// Service is something that can break.
type Service struct {
	// EscalationPolicy names the policy that pages for this service.
	EscalationPolicy string `yaml:"escalation_policy"`
	// Channel ("#name" or a channel ID) receives alerts that are not
	// declared as incidents.
	Channel string `yaml:"channel"`
	// Repository is the GitHub repository, "owner/name".
	Repository string    `yaml:"repository"`
	Deploys    *Deploys  `yaml:"deploys"`
	Rollback   *Rollback `yaml:"rollback"`
	// RollbackApprovers may approve a rollback, besides the incident lead.
	RollbackApprovers []string `yaml:"rollback_approvers"`
	// Responders are invited to the service's incident channels. Optional.
	Responders []string `yaml:"responders"`
}

// Deploys says where a service's recent deploys are read from. Any
// combination of sources may be set.
type Deploys struct {
	GitHubDeployments *GitHubDeployments `yaml:"github_deployments"`
	GitHubActions     *GitHubActions     `yaml:"github_actions"`
	Webhook           *DeployWebhook     `yaml:"webhook"`
}

// GitHubDeployments reads deploys from the service repository's GitHub
// deployments to Environment.
type GitHubDeployments struct {
	Environment string `yaml:"environment"`
}

// GitHubActions reads deploys from runs of Workflow in the service's
// repository, on Branch (any branch when empty).
type GitHubActions struct {
	Workflow string `yaml:"workflow"`
	Branch   string `yaml:"branch"`
}

// DeployWebhook accepts deploy events posted to Warroom's deploy webhook.
type DeployWebhook struct {
	// Environment, when set, keeps only deploys to that environment.
	Environment string `yaml:"environment"`
}

// Rollback says how to roll a service back. Exactly one field is set.
type Rollback struct {
	GitHubWorkflow   *GitHubWorkflow   `yaml:"github_workflow"`
	GitHubDeployment *GitHubDeployment `yaml:"github_deployment"`
	Webhook          *RollbackWebhook  `yaml:"webhook"`
}

// GitHubWorkflow rolls back by dispatching Workflow on Ref (the repository's
// default branch when empty) with Inputs.
type GitHubWorkflow struct {
	Workflow string            `yaml:"workflow"`
	Ref      string            `yaml:"ref"`
	Inputs   map[string]string `yaml:"inputs"`
}

// GitHubDeployment rolls back by redeploying the previous successful GitHub
// deployment to Environment.
type GitHubDeployment struct {
	Environment string `yaml:"environment"`
}

// RollbackWebhook rolls back by POSTing to URL, signed with HMAC-SHA256
// using Secret.
type RollbackWebhook struct {
	URL    string `yaml:"url"`
	Secret Secret `yaml:"secret"`
}

// Alerts configures how inbound alerts become incidents.
type Alerts struct {
	// SeverityLabel is the alert label whose value SeverityMap translates.
	// Default "severity".
	SeverityLabel string `yaml:"severity_label"`
	// SeverityMap maps label values to severities sev1..sev4.
	SeverityMap map[string]string `yaml:"severity_map"`
	// DeclareAtOrAbove is the lowest severity that declares an incident;
	// lower ones are posted for triage. Default "sev2".
	DeclareAtOrAbove string `yaml:"declare_at_or_above"`
	// KeepBodies is how long the raw webhook bodies are kept for audit;
	// alerts and their history are kept regardless. Default 30d.
	KeepBodies Duration `yaml:"keep_bodies"`
	// DefaultSeverity is the severity of alerts whose severity label is
	// missing or not in SeverityMap. Default "sev3".
	DefaultSeverity string `yaml:"default_severity"`
	// ReopenWithin is how soon an alert group that fires again reopens its
	// incident; 0 means never. Default 30m, when absent or empty.
	ReopenWithin Duration `yaml:"reopen_within"`
	// Routes are tried in order; the first that matches wins.
	Routes []Route `yaml:"routes"`
}

// Route sends matching alerts to a service.
type Route struct {
	// Match maps label names to values. A value "=~re" is a regular
	// expression, "!~re" a negated one, "!=v" a negation; any other value
	// must be equal. An empty Match matches every alert.
	Match map[string]string `yaml:"match"`
	// Service, when set, names the service the alert belongs to.
	Service string `yaml:"service"`
	// Severity, when set, overrides the alert's severity.
	Severity string `yaml:"severity"`
	// Declare, when set, overrides whether the alert declares an incident.
	Declare *bool `yaml:"declare"`
	// GroupBy lists the labels that group alerts into one incident.
	GroupBy []string `yaml:"group_by"`

	// Matchers is Match parsed, sorted by label. Filled in by Validate.
	Matchers []Matcher `yaml:"-"`
}

// MatchOp is how a Matcher compares a label value.
type MatchOp string

// The match operators.
const (
	MatchEqual    MatchOp = "="
	MatchNotEqual MatchOp = "!="
	MatchRegexp   MatchOp = "=~"
	MatchNotRegex MatchOp = "!~"
)

// Matcher is one parsed entry of Route.Match.
type Matcher struct {
	Label string
	Op    MatchOp
	// Value is the value or pattern, without the operator.
	Value string
	// Regexp is Value compiled, for MatchRegexp and MatchNotRegex.
	Regexp *regexp.Regexp
}

// Matches reports whether a label value (empty when the label is missing)
// satisfies m. Regular expressions are not anchored: "=~^Pay" matches
// values that start with "Pay", "=~Pay" values that contain it.
func (m Matcher) Matches(value string) bool {
	switch m.Op {
	case MatchNotEqual:
		return value != m.Value
	case MatchRegexp:
		return m.Regexp != nil && m.Regexp.MatchString(value)
	case MatchNotRegex:
		return m.Regexp != nil && !m.Regexp.MatchString(value)
	default:
		return value == m.Value
	}
}

// Postmortem configures postmortem drafts, opened as pull requests.
type Postmortem struct {
	// Repository, "owner/name", receives the drafts.
	Repository string `yaml:"repository"`
	// BaseBranch is the pull requests' base. Default "main".
	BaseBranch string `yaml:"base_branch"`
	// Path is the folder, relative to the repository root, that drafts are
	// written to. Default "postmortems".
	Path string `yaml:"path"`
	// Template is a file that replaces the built-in template. Optional.
	Template string `yaml:"template"`
	// DraftOnResolve lists the severities whose incidents get a draft
	// automatically when they resolve.
	DraftOnResolve []string `yaml:"draft_on_resolve"`
	// ActionItemsAsIssues makes each action item an issue in the service's
	// repository.
	ActionItemsAsIssues bool `yaml:"action_items_as_issues"`
	// Timezone is the team's IANA time zone, used for dates in drafts.
	// Default UTC.
	Timezone string `yaml:"timezone"`

	// Location is Timezone loaded. Filled in by Validate.
	Location *time.Location `yaml:"-"`
}

// Digest configures the periodic incident digest.
type Digest struct {
	// Schedule is a standard five-field cron spec, optionally prefixed with
	// "CRON_TZ=<zone> "; without a prefix it is read in UTC. Empty disables
	// the digest, unless Channel is set, when it defaults to
	// "CRON_TZ=UTC 0 9 * * MON".
	Schedule string `yaml:"schedule"`
	// Channel receives the digest. Required when Schedule is set.
	Channel string `yaml:"channel"`

	// Cron is Schedule parsed. Filled in by Validate; nil when the digest
	// is disabled.
	Cron cron.Schedule `yaml:"-"`
}

// Enabled reports whether the digest is scheduled.
func (d Digest) Enabled() bool { return d.Schedule != "" }

// Default values, also listed in the package documentation.
const (
	DefaultListen           = ":8080"
	DefaultDatabasePath     = "warroom.db"
	DefaultChannelPrefix    = "inc"
	DefaultTimelineEmoji    = "pushpin"
	DefaultSeverityLabel    = "severity"
	DefaultDeclareAtOrAbove = "sev2"
	DefaultAlertSeverity    = "sev3"
	DefaultReopenWithin     = Duration(30 * time.Minute)
	DefaultKeepBodies       = Duration(30 * 24 * time.Hour)
	DefaultBaseBranch       = "main"
	DefaultPostmortemPath   = "postmortems"
	DefaultDigestSchedule   = "CRON_TZ=UTC 0 9 * * MON"
)

// LoadFile reads the file at path and loads it with Load, taking ${VAR}
// values from the process environment. Errors name the file.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := Load(data, os.Getenv)
	if err != nil {
		if errs, ok := errors.AsType[*Errors](err); ok {
			errs.File = path
			return nil, errs
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Load parses a YAML configuration, replaces ${VAR} in values with
// getenv(VAR) (a nil getenv leaves every variable unset), applies the
// defaults and validates the result. It reads nothing but its arguments.
// Any problem is reported in an *Errors that lists them all.
func Load(data []byte, getenv func(string) string) (*Config, error) {
	root, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	src := &source{lines: map[string]int{}, env: map[string]string{}, broken: map[string]bool{}}
	fromEnv := map[*yaml.Node]string{}
	expandEnv(root, getenv, fromEnv)

	var ps problems
	w := walker{ps: &ps, src: src, fromEnv: fromEnv}
	w.walk(root, configType, "")

	c := Default()
	c.src = src
	if err := root.Decode(c); err != nil {
		// The walk above reports the same problems with better messages;
		// this is a fallback for anything it does not foresee.
		if len(ps.list) == 0 {
			addDecodeError(&ps, err)
		}
	}
	for _, p := range ps.list {
		src.broken[p.Path] = true
	}
	c.applyDefaults()
	c.validate(&ps)
	return c.result(&ps)
}

// result returns c, or the problems when there are any.
func (c *Config) result(ps *problems) (*Config, error) {
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Default returns a configuration holding only the defaults. Load decodes
// into it, so that alerts.reopen_within keeps its default when absent but
// may be set to 0.
func Default() *Config {
	c := &Config{Alerts: Alerts{ReopenWithin: DefaultReopenWithin, KeepBodies: DefaultKeepBodies}}
	c.applyDefaults()
	return c
}

// applyDefaults fills in empty strings that have a default, and trims the
// colons that people often write around an emoji name.
func (c *Config) applyDefaults() {
	c.Slack.TimelineEmoji = strings.Trim(c.Slack.TimelineEmoji, ":")
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Server.Listen, DefaultListen)
	def(&c.Database.Path, DefaultDatabasePath)
	def(&c.Slack.ChannelPrefix, DefaultChannelPrefix)
	def(&c.Slack.TimelineEmoji, DefaultTimelineEmoji)
	def(&c.Alerts.SeverityLabel, DefaultSeverityLabel)
	def(&c.Alerts.DeclareAtOrAbove, DefaultDeclareAtOrAbove)
	def(&c.Alerts.DefaultSeverity, DefaultAlertSeverity)
	def(&c.Postmortem.BaseBranch, DefaultBaseBranch)
	def(&c.Postmortem.Path, DefaultPostmortemPath)
	if c.Digest.Channel != "" {
		def(&c.Digest.Schedule, DefaultDigestSchedule)
	}
}

// parseDocument parses data into its single YAML document and returns the
// top-level mapping.
func parseDocument(data []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Errors{Problems: []Problem{{Msg: "the configuration is empty"}}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Errors{Problems: []Problem{{Msg: "the configuration is empty (it holds only comments)"}}}
		}
		return nil, syntaxError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(err)
	default:
		return nil, &Errors{Problems: []Problem{{Line: next.Line, Msg: "a second YAML document starts here; the configuration must be a single document"}}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, &Errors{Problems: []Problem{{Msg: "the configuration is empty"}}}
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, &Errors{Problems: []Problem{{Msg: "the configuration is empty"}}}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Errors{Problems: []Problem{{Line: root.Line, Msg: "the configuration must be a mapping of keys such as server: and slack:"}}}
	}
	return root, nil
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxError turns a YAML parser error into *Errors, keeping its line.
func syntaxError(err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Errors{Problems: []Problem{{Line: line, Msg: "invalid YAML: " + m[2]}}}
	}
	return &Errors{Problems: []Problem{{Msg: "invalid YAML: " + trimYAMLPrefix(msg)}}}
}

func trimYAMLPrefix(s string) string { return strings.TrimPrefix(s, "yaml: ") }

// decodeValueRE matches the value that yaml.v3 quotes in its type errors.
var decodeValueRE = regexp.MustCompile("^cannot unmarshal (\\S+) `.*` into (.*)$")

// addDecodeError adds the errors of yaml's Decode to ps, without the values
// that yaml quotes in them, since a value may be a secret.
func addDecodeError(ps *problems, err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		ps.add(0, "", "%s", trimYAMLPrefix(err.Error()))
		return
	}
	for _, e := range te.Errors {
		line := 0
		if m := yamlLineRE.FindStringSubmatch(e); m != nil {
			line, _ = strconv.Atoi(m[1])
			e = m[2]
		}
		e = decodeValueRE.ReplaceAllString(e, "cannot decode $1 into $2")
		ps.add(line, "", "%s", e)
	}
}
