package config

import (
	"fmt"
	"maps"
	"net"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	// Time zones are validated and loaded from the embedded database, so
	// that Warroom behaves the same on hosts without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Validate checks the configuration and fills in the derived fields that
// the documentation marks "Filled in by Validate" (locations, parsed times,
// targets, matchers, the digest's cron schedule). It reports every problem
// at once in an *Errors; problems carry lines when c came from Load. Load
// calls Validate, so a loaded configuration need not be validated again.
func (c *Config) Validate() error {
	var ps problems
	c.validate(&ps)
	return ps.err()
}

// validator adds problems with the line of their path.
type validator struct {
	c  *Config
	ps *problems
}

// add reports a problem at path, unless Load has already reported one
// there (a value that could not be decoded is left zero, and that is no
// second problem).
func (v *validator) add(path, format string, args ...any) {
	if v.c.src != nil && v.c.src.broken[path] {
		return
	}
	v.ps.add(v.c.src.line(path), path, format, args...)
}

// show quotes value for a message or, when it came from the environment and
// so might be a secret, its text before expansion.
func (v *validator) show(path, value string) string {
	if raw, ok := v.c.src.fromEnv(path); ok {
		return showEnv(raw)
	}
	return strconv.Quote(value)
}

// isEnv reports whether the value at path came from the environment.
func (v *validator) isEnv(path string) bool {
	_, ok := v.c.src.fromEnv(path)
	return ok
}

func (c *Config) validate(ps *problems) {
	v := &validator{c: c, ps: ps}
	v.server()
	v.slack()
	v.url("github.api_url", c.GitHub.APIURL)
	v.people()
	v.schedules()
	v.policies()
	v.services()
	v.alerts()
	v.postmortem()
	v.digest()
}

func (v *validator) server() {
	c := v.c
	if !validListen(c.Server.Listen) {
		v.add("server.listen", "%s must be host:port, such as \":8080\" or \"127.0.0.1:8080\"", v.show("server.listen", c.Server.Listen))
	}
	v.url("server.public_url", c.Server.PublicURL)
	if c.Database.Path == "" {
		v.add("database.path", "must not be empty")
	}
}

func (v *validator) slack() {
	s := v.c.Slack
	v.url("slack.api_url", s.APIURL)
	if !channelPrefixRE.MatchString(s.ChannelPrefix) {
		v.add("slack.channel_prefix", "%s must be lowercase letters, digits, '-' or '_', at most 20 characters", v.show("slack.channel_prefix", s.ChannelPrefix))
	}
	v.channel("slack.announce_channel", s.AnnounceChannel)
	if !emojiRE.MatchString(s.TimelineEmoji) {
		v.add("slack.timeline_emoji", "%s must be an emoji name such as pushpin", v.show("slack.timeline_emoji", s.TimelineEmoji))
	}
}

func (v *validator) people() {
	for _, name := range sortedKeys(v.c.People) {
		p := v.c.People[name]
		at := joinPath("people", name)
		if name == "" {
			v.add(at, "a person's name cannot be empty")
		}
		if p.Slack == "" && p.Email == "" {
			v.add(at, "a person needs slack (a user ID) or email")
		}
		if p.Slack != "" && !slackUserRE.MatchString(p.Slack) {
			v.add(at+".slack", "%s must be a Slack user ID such as U01ABCDEF", v.show(at+".slack", p.Slack))
		}
		if p.Email != "" && !validEmail(p.Email) {
			v.add(at+".email", "%s is not an email address", v.show(at+".email", p.Email))
		}
	}
}

func (v *validator) person(path, name string) {
	if _, ok := v.c.People[name]; !ok {
		v.add(path, "unknown person %s (not in people)", v.show(path, name))
	}
}

func (v *validator) schedules() {
	for _, name := range sortedKeys(v.c.Schedules) {
		s := v.c.Schedules[name]
		at := joinPath("schedules", name)
		if name == "" {
			v.add(at, "a schedule's name cannot be empty")
		}
		s.Location = v.location(at+".timezone", s.Timezone)
		v.rotation(at+".rotation", &s.Rotation, s.Location)
		if len(s.Members) == 0 {
			v.add(at+".members", "a schedule needs at least one member")
		}
		for i, m := range s.Members {
			v.person(fmt.Sprintf("%s.members[%d]", at, i), m)
		}
		if s.Overrides != nil {
			s.Overrides = slices.Clone(s.Overrides)
		}
		for i := range s.Overrides {
			o := &s.Overrides[i]
			oat := fmt.Sprintf("%s.overrides[%d]", at, i)
			if o.Person == "" {
				v.add(oat, "an override needs a person")
			} else {
				v.person(oat+".person", o.Person)
			}
			o.FromTime = v.rfc3339(oat+".from", o.From)
			o.ToTime = v.rfc3339(oat+".to", o.To)
			if !o.FromTime.IsZero() && !o.ToTime.IsZero() && !o.FromTime.Before(o.ToTime) {
				v.add(oat+".to", "an override must end after it starts")
			}
		}
		v.c.Schedules[name] = s
	}
}

func (v *validator) rotation(at string, r *Rotation, loc *time.Location) {
	if r.Every <= 0 {
		v.add(at+".every", "a rotation needs every: a positive duration such as 1w")
	}
	r.HandoffAt = HandoffTime{}
	if r.Handoff == "" {
		v.add(at+".handoff", "a rotation needs handoff: a time such as \"09:00\" or \"Mon 09:00\"")
	} else if h, err := parseHandoff(r.Handoff); err != nil {
		v.add(at+".handoff", "%s: %v", v.show(at+".handoff", r.Handoff), err)
	} else {
		r.HandoffAt = h
		if h.HasWeekday && r.Every > 0 && r.Every%Duration(7*24*time.Hour) != 0 {
			v.add(at+".every", "must be a whole number of weeks, since handoff names a weekday")
		}
	}
	r.StartDate, r.FirstHandoff = time.Time{}, time.Time{}
	if r.Start == "" {
		v.add(at+".start", "a rotation needs start: the date of the first shift, such as \"2026-11-02\"")
	} else if d, err := time.ParseInLocation(time.DateOnly, r.Start, loc); err != nil {
		v.add(at+".start", "%s must be a date such as \"2026-11-02\"", v.show(at+".start", r.Start))
	} else {
		r.StartDate = d
		h := r.HandoffAt
		days := 0
		if h.HasWeekday {
			days = (int(h.Weekday) - int(d.Weekday()) + 7) % 7
		}
		r.FirstHandoff = time.Date(d.Year(), d.Month(), d.Day()+days, h.Hour, h.Minute, 0, 0, loc)
	}
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

var clockRE = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

// parseHandoff parses "HH:MM" or "Mon HH:MM".
func parseHandoff(s string) (HandoffTime, error) {
	var h HandoffTime
	f := strings.Fields(s)
	switch len(f) {
	case 1:
	case 2:
		wd, ok := weekdays[strings.ToLower(f[0])]
		if !ok {
			return h, fmt.Errorf("unknown weekday; use Mon, Tue, Wed, Thu, Fri, Sat or Sun")
		}
		h.HasWeekday, h.Weekday = true, wd
	default:
		return h, fmt.Errorf("must be \"HH:MM\" or a weekday and a time, such as \"Mon 09:00\"")
	}
	m := clockRE.FindStringSubmatch(f[len(f)-1])
	if m == nil {
		return h, fmt.Errorf("the time must be HH:MM, from 00:00 to 23:59")
	}
	h.Hour, _ = strconv.Atoi(m[1])
	h.Minute, _ = strconv.Atoi(m[2])
	return h, nil
}

func (v *validator) rfc3339(path, s string) time.Time {
	if s == "" {
		v.add(path, "a time is required, such as \"2026-12-24T00:00:00+01:00\"")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.add(path, "%s must be an RFC 3339 time such as \"2026-12-24T00:00:00+01:00\"", v.show(path, s))
		return time.Time{}
	}
	return t
}

// location loads an IANA time zone name; empty means UTC.
func (v *validator) location(path, name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		v.add(path, "unknown time zone %s; use an IANA name such as Europe/Berlin", v.show(path, name))
		return time.UTC
	}
	return loc
}

func (v *validator) policies() {
	for _, name := range sortedKeys(v.c.EscalationPolicies) {
		p := v.c.EscalationPolicies[name]
		at := joinPath("escalation_policies", name)
		if name == "" {
			v.add(at, "a policy's name cannot be empty")
		}
		if p.Repeat < 0 {
			v.add(at+".repeat", "must not be negative")
		}
		if len(p.Steps) == 0 {
			v.add(at+".steps", "a policy needs at least one step")
		}
		if p.Steps != nil {
			p.Steps = slices.Clone(p.Steps)
		}
		for i := range p.Steps {
			st := &p.Steps[i]
			sat := fmt.Sprintf("%s.steps[%d]", at, i)
			if st.After < 0 {
				v.add(sat+".after", "must not be negative")
			}
			if len(st.Notify) == 0 {
				v.add(sat+".notify", "a step needs at least one target to notify")
			}
			st.Targets = nil
			for j, n := range st.Notify {
				if t, ok := v.target(fmt.Sprintf("%s.notify[%d]", sat, j), n); ok {
					st.Targets = append(st.Targets, t)
				}
			}
		}
		if p.MinSeverity != "" {
			v.severity(at+".min_severity", p.MinSeverity)
		}
		if p.PagerDuty != nil {
			v.url(at+".pagerduty.url", p.PagerDuty.URL)
		}
		if p.Webhook != nil {
			v.url(at+".webhook.url", p.Webhook.URL)
			if p.Webhook.URL != "" && !p.Webhook.Secret.IsSet() {
				// Every delivery is signed: without a key each one would fail.
				v.add(at+".webhook", "a webhook with a url needs a secret to sign its deliveries (leave both empty to turn it off)")
			}
		}
		v.c.EscalationPolicies[name] = p
	}
}

// target parses and checks an escalation target such as "person:bob".
func (v *validator) target(path, s string) (Target, bool) {
	kind, name, _ := strings.Cut(s, ":")
	t := Target{Kind: TargetKind(kind), Name: name}
	switch t.Kind {
	case TargetSchedule:
		if _, ok := v.c.Schedules[name]; !ok {
			v.add(path, "unknown schedule %s (not in schedules)", v.show(path, name))
			return t, false
		}
	case TargetPerson:
		if _, ok := v.c.People[name]; !ok {
			v.add(path, "unknown person %s (not in people)", v.show(path, name))
			return t, false
		}
	case TargetChannel:
		if !validChannel(name) {
			v.add(path, "%s must be a channel such as \"#payments\" or a channel ID", v.show(path, name))
			return t, false
		}
	default:
		v.add(path, "%s must be schedule:<name>, person:<name> or channel:#name", v.show(path, s))
		return t, false
	}
	return t, true
}

func (v *validator) services() {
	for _, name := range sortedKeys(v.c.Services) {
		s := v.c.Services[name]
		at := joinPath("services", name)
		if name == "" {
			v.add(at, "a service's name cannot be empty")
		}
		if s.EscalationPolicy != "" {
			if _, ok := v.c.EscalationPolicies[s.EscalationPolicy]; !ok {
				v.add(at+".escalation_policy", "unknown escalation policy %s (not in escalation_policies)", v.show(at+".escalation_policy", s.EscalationPolicy))
			}
		}
		v.channel(at+".channel", s.Channel)
		v.repository(at+".repository", s.Repository)
		needRepo := func(path, what string) {
			if s.Repository == "" {
				v.add(path, "%s needs the service's repository", what)
			}
		}
		if d := s.Deploys; d != nil {
			if d.GitHubDeployments != nil {
				needRepo(at+".deploys.github_deployments", "github_deployments")
				if d.GitHubDeployments.Environment == "" {
					v.add(at+".deploys.github_deployments", "github_deployments needs an environment")
				}
			}
			if d.GitHubActions != nil {
				needRepo(at+".deploys.github_actions", "github_actions")
				if d.GitHubActions.Workflow == "" {
					v.add(at+".deploys.github_actions", "github_actions needs a workflow")
				}
			}
		}
		if r := s.Rollback; r != nil {
			rat := at + ".rollback"
			n := 0
			if r.GitHubWorkflow != nil {
				n++
				needRepo(rat+".github_workflow", "github_workflow")
				if r.GitHubWorkflow.Workflow == "" {
					v.add(rat+".github_workflow", "github_workflow needs a workflow")
				}
			}
			if r.GitHubDeployment != nil {
				n++
				needRepo(rat+".github_deployment", "github_deployment")
				if r.GitHubDeployment.Environment == "" {
					v.add(rat+".github_deployment", "github_deployment needs an environment")
				}
			}
			if r.Webhook != nil {
				n++
				if r.Webhook.URL == "" {
					v.add(rat+".webhook", "webhook needs a url")
				}
				v.url(rat+".webhook.url", r.Webhook.URL)
			}
			if n != 1 {
				v.add(rat, "rollback must set exactly one of github_workflow, github_deployment, webhook (it sets %d)", n)
			}
		}
		for i, p := range s.RollbackApprovers {
			v.person(fmt.Sprintf("%s.rollback_approvers[%d]", at, i), p)
		}
		for i, p := range s.Responders {
			v.person(fmt.Sprintf("%s.responders[%d]", at, i), p)
		}
	}
}

func (v *validator) alerts() {
	a := &v.c.Alerts
	if a.SeverityLabel == "" {
		v.add("alerts.severity_label", "must not be empty")
	}
	for _, k := range sortedKeys(a.SeverityMap) {
		v.severity(joinPath("alerts.severity_map", k), a.SeverityMap[k])
	}
	v.severity("alerts.declare_at_or_above", a.DeclareAtOrAbove)
	v.severity("alerts.default_severity", a.DefaultSeverity)
	if a.ReopenWithin < 0 {
		v.add("alerts.reopen_within", "must not be negative")
	}
	if a.KeepBodies < Duration(time.Hour) {
		v.add("alerts.keep_bodies", "must be at least 1h")
	}
	if a.Routes != nil {
		a.Routes = slices.Clone(a.Routes)
	}
	for i := range a.Routes {
		r := &a.Routes[i]
		at := fmt.Sprintf("alerts.routes[%d]", i)
		r.Matchers = nil
		for _, label := range sortedKeys(r.Match) {
			if m, ok := v.matcher(joinPath(at+".match", label), label, r.Match[label]); ok {
				r.Matchers = append(r.Matchers, m)
			}
		}
		if r.Service != "" {
			if _, ok := v.c.Services[r.Service]; !ok {
				v.add(at+".service", "unknown service %s (not in services)", v.show(at+".service", r.Service))
			}
		}
		if r.Severity != "" {
			v.severity(at+".severity", r.Severity)
		}
		for j, l := range r.GroupBy {
			if l == "" {
				v.add(fmt.Sprintf("%s.group_by[%d]", at, j), "a label name cannot be empty")
			}
		}
	}
}

// matcher parses one entry of a route's match.
func (v *validator) matcher(path, label, value string) (Matcher, bool) {
	if label == "" {
		v.add(path, "a label name cannot be empty")
		return Matcher{}, false
	}
	m := Matcher{Label: label, Op: MatchEqual, Value: value}
	for _, op := range []MatchOp{MatchRegexp, MatchNotRegex, MatchNotEqual} {
		if rest, ok := strings.CutPrefix(value, string(op)); ok {
			m.Op, m.Value = op, rest
			break
		}
	}
	if m.Op == MatchRegexp || m.Op == MatchNotRegex {
		re, err := regexp.Compile(m.Value)
		if err != nil {
			if raw, ok := v.c.src.fromEnv(path); ok {
				v.add(path, "%s is not a valid regular expression", showEnv(raw))
			} else {
				v.add(path, "invalid regular expression: %v", err)
			}
			return Matcher{}, false
		}
		m.Regexp = re
	}
	return m, true
}

func (v *validator) postmortem() {
	p := &v.c.Postmortem
	v.repository("postmortem.repository", p.Repository)
	if p.BaseBranch == "" {
		v.add("postmortem.base_branch", "must not be empty")
	}
	if path.IsAbs(p.Path) || p.Path == ".." || strings.HasPrefix(path.Clean(p.Path), "../") {
		v.add("postmortem.path", "%s must be a folder inside the repository", v.show("postmortem.path", p.Path))
	}
	for i, s := range p.DraftOnResolve {
		v.severity(fmt.Sprintf("postmortem.draft_on_resolve[%d]", i), s)
	}
	if len(p.DraftOnResolve) > 0 && p.Repository == "" {
		v.add("postmortem.draft_on_resolve", "drafts need postmortem.repository")
	}
	p.Location = v.location("postmortem.timezone", p.Timezone)
}

func (v *validator) digest() {
	d := &v.c.Digest
	d.Cron = nil
	v.channel("digest.channel", d.Channel)
	if d.Schedule == "" {
		return
	}
	if d.Channel == "" {
		v.add("digest.schedule", "the digest needs a channel")
	}
	s, err := parseCron(d.Schedule)
	switch {
	case err != nil && v.isEnv("digest.schedule"):
		v.add("digest.schedule", "invalid cron spec %s", v.show("digest.schedule", d.Schedule))
	case err != nil:
		v.add("digest.schedule", "invalid cron spec %q: %v", d.Schedule, err)
	case !isSpec(s):
		// "@every 24h" counts from whenever it is asked: a run would have
		// no fixed time to be recorded by, and a restart would send again.
		v.add("digest.schedule", "use a five-field cron spec such as \"CRON_TZ=Europe/Berlin 0 9 * * MON\", not @every")
	case s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero():
		v.add("digest.schedule", "the cron spec never fires")
	default:
		d.Cron = s
	}
}

// isSpec reports whether s fires at fixed times of the clock.
func isSpec(s cron.Schedule) bool {
	_, ok := s.(*cron.SpecSchedule)
	return ok
}

// parseCron parses a standard cron spec, read in UTC unless it starts with
// CRON_TZ=<zone> or TZ=<zone>.
func parseCron(spec string) (cron.Schedule, error) {
	if strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=") {
		// cron/v3 panics on a time zone prefix without a schedule.
		if !strings.Contains(spec, " ") {
			return nil, fmt.Errorf("the time zone must be followed by a schedule, such as \"CRON_TZ=UTC 0 9 * * MON\"")
		}
	} else {
		spec = "CRON_TZ=UTC " + spec
	}
	return cron.ParseStandard(spec)
}

func (v *validator) severity(path, s string) {
	switch s {
	case "sev1", "sev2", "sev3", "sev4":
	default:
		v.add(path, "unknown severity %s; use sev1, sev2, sev3 or sev4", v.show(path, s))
	}
}

// url checks an optional absolute http(s) URL. The message never shows the
// URL, which may hold credentials.
func (v *validator) url(path, s string) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(path, "must be an absolute http or https URL")
	}
}

// channel checks an optional Slack channel.
func (v *validator) channel(path, s string) {
	if s != "" && !validChannel(s) {
		v.add(path, "%s must be a channel such as \"#payments\" or a channel ID such as C0123456789", v.show(path, s))
	}
}

// repository checks an optional "owner/name".
func (v *validator) repository(path, s string) {
	if s == "" {
		return
	}
	_, name, _ := strings.Cut(s, "/")
	if !repoRE.MatchString(s) || name == "." || name == ".." {
		v.add(path, "%s must be a GitHub repository, owner/name", v.show(path, s))
	}
}

var (
	channelIDRE     = regexp.MustCompile(`^[CG][A-Z0-9]{6,}$`)
	channelPrefixRE = regexp.MustCompile(`^[a-z0-9_-]{1,20}$`)
	emojiRE         = regexp.MustCompile(`^[a-z0-9_+'-]+$`)
	slackUserRE     = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	repoRE          = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$`)
)

// validChannel accepts "#name" (lowercase, no spaces or periods, at most 80
// characters) or a channel ID such as C0123456789.
func validChannel(s string) bool {
	if channelIDRE.MatchString(s) {
		return true
	}
	name, ok := strings.CutPrefix(s, "#")
	if !ok || name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 80 {
		return false
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsUpper(r) || !unicode.IsPrint(r) || strings.ContainsRune(".,#@<>", r) {
			return false
		}
	}
	return true
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// validListen accepts host:port with a numeric port.
func validListen(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || strings.ContainsAny(host, " \t") {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
