package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// base declares names that the snippets below refer to. It is 14 lines
// long, so a snippet's first line is line 15, and it ends inside the
// service checkout.
const base = `people:
  alice: { slack: U01ALICE }
  bob: { email: bob@example.com }
schedules:
  primary:
    rotation: { every: 1w, handoff: "Mon 09:00", start: "2026-11-02" }
    members: [alice, bob]
escalation_policies:
  pay:
    steps:
      - { after: 0m, notify: ["schedule:primary"] }
services:
  checkout:
    escalation_policy: pay
`

// loadErr loads yaml and returns its error text, failing if it loads.
func loadErr(t *testing.T, yaml string, env map[string]string) string {
	t.Helper()
	_, err := Load([]byte(yaml), mapEnv(env))
	if err == nil {
		t.Fatalf("Load succeeded; want an error for:\n%s", yaml)
	}
	if _, ok := errors.AsType[*Errors](err); !ok {
		t.Errorf("error is %T, want *Errors", err)
	}
	return err.Error()
}

func TestBaseLoads(t *testing.T) {
	if _, err := Load([]byte(base), noEnv); err != nil {
		t.Fatal(err)
	}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string // appended to base unless it starts with "!"
		want []string
	}{
		{"unknown top-level key", "slak:\n  bot_token: x\n", []string{"line 15", `unknown key "slak"`}},
		{"unknown nested key", "slack:\n  chanel: x\n", []string{"line 16", `slack: unknown key "chanel"`}},
		{"unknown deep key", "alerts:\n  routes:\n    - { match: { a: b }, servce: checkout }\n", []string{"line 17", `alerts.routes[0]: unknown key "servce"`}},
		{"repeated key", "server:\n  listen: ':1'\n  listen: ':2'\n", []string{"line 17", `key "listen" is repeated (first at line 16)`}},
		{"unknown member", "!people:\n  alice: { slack: U01ALICE }\nschedules:\n  s:\n    rotation: { every: 1w, handoff: '09:00', start: '2026-01-01' }\n    members: [alice, bobb]\n",
			[]string{"line 6", "schedules.s.members[1]", `unknown person "bobb"`}},
		{"unknown override person", "!people:\n  alice: { slack: U01ALICE }\nschedules:\n  s:\n    rotation: { every: 1d, handoff: '09:00', start: '2026-01-01' }\n    members: [alice]\n    overrides:\n      - { person: zed, from: '2026-01-02T00:00:00Z', to: '2026-01-03T00:00:00Z' }\n",
			[]string{"line 8", "overrides[0].person", `unknown person "zed"`}},
		{"unknown approver", "    rollback_approvers: [alice, mallory]\n", []string{"line 15", "rollback_approvers[1]", `unknown person "mallory"`}},
		{"unknown responder", "    responders: [eve]\n", []string{"line 15", "responders[0]", `unknown person "eve"`}},
		{"unknown policy", "  api:\n    escalation_policy: nope\n", []string{"line 16", "services.api.escalation_policy", `unknown escalation policy "nope"`}},
		{"bad target kind", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    steps:\n      - { notify: [team:x] }\n", []string{"line 7", `"team:x" must be schedule:<name>, person:<name> or channel:#name`}},
		{"unknown target schedule", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    steps:\n      - { notify: ['schedule:nope'] }\n", []string{"line 7", `unknown schedule "nope"`}},
		{"unknown target person", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    steps:\n      - { notify: ['person:nope'] }\n", []string{"line 7", `unknown person "nope"`}},
		{"bad target channel", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    steps:\n      - { notify: ['channel:payments'] }\n", []string{"line 7", `"payments" must be a channel`}},
		{"no steps", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    repeat: 1\n", []string{"line 5", "needs at least one step"}},
		{"negative repeat", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    repeat: -1\n    steps: [{ notify: ['person:bob'] }]\n", []string{"line 6", "repeat: must not be negative"}},
		{"repeat not a number", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    repeat: lots\n    steps: [{ notify: ['person:bob'] }]\n", []string{"line 6", `expected a whole number, found "lots"`}},
		{"bad duration unit", "alerts:\n  reopen_within: 10x\n", []string{"line 16", `invalid duration "10x"`, `unknown unit "x"`}},
		{"negative duration", "alerts:\n  reopen_within: -5m\n", []string{"line 16", "cannot be negative"}},
		{"bare number duration", "alerts:\n  reopen_within: 15\n", []string{"line 16", "add a unit"}},
		{"duration as list", "alerts:\n  reopen_within: [1m]\n", []string{"line 16", "expected a duration such as 10m, found a list"}},
		{"bad cron", "digest:\n  schedule: '0 9 * *'\n  channel: '#x'\n", []string{"line 16", "digest.schedule: invalid cron spec"}},
		{"cron @every", "digest:\n  schedule: '@every 24h'\n  channel: '#x'\n", []string{"line 16", "digest.schedule: use a five-field cron spec"}},
		{"cron bad zone", "digest:\n  schedule: 'CRON_TZ=Mars/Base 0 9 * * MON'\n  channel: '#x'\n", []string{"line 16", "invalid cron spec", "Mars/Base"}},
		{"cron zone only", "digest:\n  schedule: 'CRON_TZ=UTC'\n  channel: '#x'\n", []string{"line 16", "must be followed by a schedule"}},
		{"cron never fires", "digest:\n  schedule: '0 0 30 2 *'\n  channel: '#x'\n", []string{"line 16", "never fires"}},
		{"digest without channel", "digest:\n  schedule: '0 9 * * MON'\n", []string{"line 16", "needs a channel"}},
		{"bad schedule zone", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    timezone: Europe/Berln\n    rotation: { every: 1d, handoff: '09:00', start: '2026-01-01' }\n    members: [a]\n",
			[]string{"line 5", `unknown time zone "Europe/Berln"`}},
		{"bad postmortem zone", "postmortem:\n  timezone: Mars/Base\n", []string{"line 16", `unknown time zone "Mars/Base"`}},
		{"rotation every zero", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    rotation: { every: 0m, handoff: '09:00', start: '2026-01-01' }\n    members: [a]\n", []string{"line 5", "rotation.every", "positive duration"}},
		{"rotation missing", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    members: [a]\n", []string{"line 4", "rotation needs every", "rotation needs handoff", "rotation needs start"}},
		{"rotation weeks", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    rotation: { every: 1d, handoff: 'Mon 09:00', start: '2026-01-01' }\n    members: [a]\n", []string{"line 5", "whole number of weeks"}},
		{"bad handoff time", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    rotation: { every: 1d, handoff: '25:00', start: '2026-01-01' }\n    members: [a]\n", []string{"line 5", `"25:00": the time must be HH:MM`}},
		{"bad handoff day", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    rotation: { every: 1w, handoff: 'Funday 09:00', start: '2026-01-01' }\n    members: [a]\n", []string{"line 5", "unknown weekday"}},
		{"bad start", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    rotation:\n      every: 1d\n      handoff: '09:00'\n      start: '2026-13-01'\n    members: [a]\n", []string{"line 8", `"2026-13-01" must be a date`}},
		{"no members", "!schedules:\n  s:\n    rotation: { every: 1d, handoff: '09:00', start: '2026-01-01' }\n", []string{"line 2", "at least one member"}},
		{"members not a list", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    rotation: { every: 1d, handoff: '09:00', start: '2026-01-01' }\n    members: a\n", []string{"line 6", `expected a list, found "a"`}},
		{"override order", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    rotation: { every: 1d, handoff: '09:00', start: '2026-01-01' }\n    members: [a]\n    overrides:\n      - { person: a, from: '2026-01-03T00:00:00Z', to: '2026-01-02T00:00:00Z' }\n",
			[]string{"line 8", "must end after it starts"}},
		{"override bad time", "!people:\n  a: { slack: U01A }\nschedules:\n  s:\n    rotation: { every: 1d, handoff: '09:00', start: '2026-01-01' }\n    members: [a]\n    overrides:\n      - person: a\n        from: '2026-01-03'\n        to: '2026-01-04T00:00:00Z'\n",
			[]string{"line 9", "overrides[0].from", "RFC 3339"}},
		{"person without contact", "!people:\n  ghost: {}\n", []string{"line 2", "people.ghost: a person needs slack"}},
		{"person null", "!people:\n  ghost:\n", []string{"line 2", "people.ghost: a person needs slack"}},
		{"bad email", "!people:\n  a: { email: not-an-email }\n", []string{"line 2", `"not-an-email" is not an email address`}},
		{"bad slack id", "!people:\n  a: { slack: alice }\n", []string{"line 2", "must be a Slack user ID"}},
		{"people not a mapping", "!people: [alice]\n", []string{"line 1", "people: expected a mapping, found a list"}},
		{"severity map", "alerts:\n  severity_map: { critical: critical }\n", []string{"line 16", `alerts.severity_map.critical: unknown severity "critical"`}},
		{"declare severity", "alerts:\n  declare_at_or_above: sev5\n", []string{"line 16", `unknown severity "sev5"`}},
		{"route severity", "alerts:\n  routes:\n    - severity: high\n", []string{"line 17", `alerts.routes[0].severity: unknown severity "high"`}},
		{"draft severity", "postmortem:\n  repository: acme/pm\n  draft_on_resolve: [sev1, sev0]\n", []string{"line 17", `unknown severity "sev0"`}},
		{"draft without repository", "postmortem:\n  draft_on_resolve: [sev1]\n", []string{"line 16", "need postmortem.repository"}},
		{"route regexp", "alerts:\n  routes:\n    - match: { alertname: '=~(Pay' }\n", []string{"line 17", "alerts.routes[0].match.alertname: invalid regular expression", "missing closing )"}},
		{"route negated regexp", "alerts:\n  routes:\n    - match: { alertname: '!~[z-a]' }\n", []string{"line 17", "invalid regular expression"}},
		{"route unknown service", "alerts:\n  routes:\n    - { service: billing }\n", []string{"line 17", `unknown service "billing"`}},
		{"route declare not bool", "alerts:\n  routes:\n    - { declare: maybe }\n", []string{"line 17", `expected true or false, found "maybe"`}},
		{"two rollbacks", "    repository: acme/checkout\n    rollback:\n      github_deployment: { environment: prod }\n      webhook: { url: 'https://x.example.com' }\n", []string{"line 16", "exactly one of github_workflow, github_deployment, webhook (it sets 2)"}},
		{"empty rollback", "    rollback: {}\n", []string{"line 15", "exactly one of", "(it sets 0)"}},
		{"rollback needs repository", "    rollback:\n      github_workflow: { workflow: rollback.yml }\n", []string{"line 16", "github_workflow needs the service's repository"}},
		{"rollback webhook without url", "    rollback:\n      webhook: { secret: s }\n", []string{"line 16", "webhook needs a url"}},
		{"deploys need fields", "    repository: acme/checkout\n    deploys:\n      github_actions: { branch: main }\n", []string{"line 17", "github_actions needs a workflow"}},
		{"public url", "server:\n  public_url: warroom.example.com\n", []string{"line 16", "server.public_url: must be an absolute http or https URL"}},
		{"slack api url", "slack:\n  api_url: 'ftp://slack.example.com'\n", []string{"line 16", "slack.api_url: must be an absolute"}},
		{"github api url", "github:\n  api_url: /api/v3\n", []string{"line 16", "github.api_url: must be an absolute"}},
		{"pagerduty url", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    steps: [{ notify: ['person:bob'] }]\n    pagerduty: { routing_key: k, url: 'events.pagerduty.com' }\n", []string{"line 7", "pagerduty.url: must be an absolute"}},
		{"policy webhook url", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    steps: [{ notify: ['person:bob'] }]\n    webhook: { url: 'https//x' }\n", []string{"line 7", "webhook.url: must be an absolute"}},
		{"policy min severity", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    min_severity: high\n    steps: [{ notify: ['person:bob'] }]\n", []string{"line 6", `escalation_policies.pay2.min_severity: unknown severity "high"`}},
		{"policy webhook without secret", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    steps: [{ notify: ['person:bob'] }]\n    webhook: { url: 'https://hooks.example.com/page' }\n", []string{"line 7", "escalation_policies.pay2.webhook: a webhook with a url needs a secret"}},
		{"policy webhook secret from an empty variable", "!people:\n  bob: { email: b@example.com }\nschedules: {}\nescalation_policies:\n  pay2:\n    steps: [{ notify: ['person:bob'] }]\n    webhook: { url: 'https://hooks.example.com/page', secret: '${UNSET_SECRET}' }\n", []string{"line 7", "webhook: a webhook with a url needs a secret"}},
		{"rollback webhook url", "    rollback:\n      webhook: { url: 'x.example.com/rollback' }\n", []string{"line 16", "rollback.webhook.url: must be an absolute"}},
		{"service channel", "    channel: payments\n", []string{"line 15", `"payments" must be a channel such as "#payments"`}},
		{"announce channel", "slack:\n  announce_channel: 'Incidents'\n", []string{"line 16", "must be a channel"}},
		{"channel with space", "slack:\n  announce_channel: '#my incidents'\n", []string{"line 16", "must be a channel"}},
		{"channel prefix", "slack:\n  channel_prefix: 'INC!'\n", []string{"line 16", "channel_prefix"}},
		{"emoji", "slack:\n  timeline_emoji: 'push pin'\n", []string{"line 16", "emoji name"}},
		{"repository", "    repository: checkout\n", []string{"line 15", `"checkout" must be a GitHub repository, owner/name`}},
		{"postmortem repository", "postmortem:\n  repository: a/b/c\n", []string{"line 16", "owner/name"}},
		{"postmortem path", "postmortem:\n  path: ../elsewhere\n", []string{"line 16", "must be a folder inside the repository"}},
		{"listen", "server:\n  listen: '8080'\n", []string{"line 16", `"8080" must be host:port`}},
		{"listen port", "server:\n  listen: ':99999'\n", []string{"line 16", "must be host:port"}},
		{"syntax", "!server:\n  listen: [\n", []string{"line 2", "invalid YAML"}},
		{"tab indentation", "!server:\n\tlisten: x\n", []string{"line 2", "invalid YAML"}},
		{"top level list", "!- a\n- b\n", []string{"line 1", "must be a mapping"}},
		{"top level scalar", "!hello\n", []string{"line 1", "must be a mapping"}},
		{"two documents", "!server: {}\n---\nslack: {}\n", []string{"line 2", "single document"}},
		{"empty", "!", []string{"the configuration is empty"}},
		{"whitespace", "!  \n\n", []string{"the configuration is empty"}},
		{"comments only", "!# nothing here\n", []string{"the configuration is empty"}},
		{"null document", "!---\n", []string{"the configuration is empty"}},
		{"recursive alias", "!alerts:\n  routes: &x [*x]\n", []string{"line 2", "expected a mapping, found a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := base + tt.yaml
			if s, ok := strings.CutPrefix(tt.yaml, "!"); ok {
				yaml = s
			}
			got := loadErr(t, yaml, nil)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("error does not contain %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestAllProblemsReported(t *testing.T) {
	yaml := `server:
  listen: nope
slack:
  chanel: "#x"
people:
  alice: {}
schedules:
  s:
    rotation: { every: 1w, handoff: "Mon 09:00", start: "2026-11-02" }
    members: [alice, bob]
alerts:
  reopen_within: 5x
  declare_at_or_above: sev9
`
	got := loadErr(t, yaml, nil)
	want := []string{
		`line 2: server.listen: "nope" must be host:port`,
		`line 4: slack: unknown key "chanel"`,
		`line 6: people.alice: a person needs slack`,
		`line 10: schedules.s.members[1]: unknown person "bob"`,
		`line 12: alerts.reopen_within: invalid duration "5x"`,
		`line 13: alerts.declare_at_or_above: unknown severity "sev9"`,
	}
	lines := strings.Split(got, "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(want), got)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
		}
	}

	_, err := Load([]byte(yaml), noEnv)
	errs, ok := errors.AsType[*Errors](err)
	if !ok || len(errs.Problems) != len(want) {
		t.Fatalf("err = %#v", err)
	}
	if p := errs.Problems[1]; p.Line != 4 || p.Path != "slack" || p.Msg != `unknown key "chanel"` {
		t.Errorf("problem = %+v", p)
	}
}

func TestEnvExpansion(t *testing.T) {
	yaml := `server:
  listen: ${HOST}:${PORT}
  public_url: ${UNSET}
database:
  path: "${UNSET}"
people:
  alice: { slack: U01ALICE, email: "${USER}@example.com" }
escalation_policies:
  p:
    repeat: ${REPEAT}
    steps: [{ notify: ["person:alice"] }]
alerts:
  routes:
    - match: { a: "=~^foo$", b: $HOME, c: "${not-a-name}" }
postmortem:
  template: ${YAMLISH}
  base_branch: ${BOOLISH}
  path: ${COMMENT}
`
	env := map[string]string{
		"HOST": "127.0.0.1", "PORT": "9090", "USER": "alice", "REPEAT": "3",
		"YAMLISH": "x: y\n- z\n{a: [b]}\nslack: {bot_token: evil}",
		"BOOLISH": "true",
		"COMMENT": "# not a comment",
	}
	c, err := Load([]byte(yaml), mapEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "127.0.0.1:9090" {
		t.Errorf("listen = %q", c.Server.Listen)
	}
	if c.Server.PublicURL != "" {
		t.Errorf("unset variable gave %q", c.Server.PublicURL)
	}
	if c.Database.Path != DefaultDatabasePath {
		t.Errorf("database.path = %q, want the default for an empty value", c.Database.Path)
	}
	if c.People["alice"].Email != "alice@example.com" {
		t.Errorf("email = %q", c.People["alice"].Email)
	}
	if c.EscalationPolicies["p"].Repeat != 3 {
		t.Errorf("repeat = %d", c.EscalationPolicies["p"].Repeat)
	}
	m := c.Alerts.Routes[0].Match
	if m["a"] != "=~^foo$" || m["b"] != "$HOME" || m["c"] != "${not-a-name}" {
		t.Errorf("match = %q", m)
	}
	if c.Postmortem.Template != env["YAMLISH"] {
		t.Errorf("template = %q, want the variable's text as is", c.Postmortem.Template)
	}
	if c.Slack.BotToken.IsSet() {
		t.Errorf("an environment value injected YAML structure")
	}
	if c.Postmortem.BaseBranch != "true" || c.Postmortem.Path != "# not a comment" {
		t.Errorf("base_branch, path = %q, %q", c.Postmortem.BaseBranch, c.Postmortem.Path)
	}

	// A value from the environment cannot become a list either.
	got := loadErr(t, "people:\n  a: { slack: U01A }\nschedules:\n  s:\n    rotation: { every: 1d, handoff: '09:00', start: '2026-01-01' }\n    members: ${M}\n",
		map[string]string{"M": "[a]"})
	if !strings.Contains(got, "line 6: schedules.s.members: expected a list, found \"${M}\" from the environment") {
		t.Errorf("error = %s", got)
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	const token = "xoxb-1234-hunter2"
	yaml := `server:
  listen: ${TOKEN}
  public_url: ${TOKEN}
slack:
  bot_token: ["${TOKEN}"]
  signing_secret: { a: "${TOKEN}" }
  announce_channel: ${TOKEN}
people:
  alice: { slack: "${TOKEN}", email: "${TOKEN}" }
schedules:
  s:
    timezone: ${TOKEN}
    rotation: { every: "${TOKEN}", handoff: "${TOKEN}", start: "${TOKEN}" }
    members: ["${TOKEN}"]
escalation_policies:
  p:
    repeat: ${TOKEN}
    steps: [{ after: "${TOKEN}", notify: ["${TOKEN}", "person:${TOKEN}"] }]
    pagerduty: { routing_key: "${TOKEN}", url: "${TOKEN}" }
    webhook: { url: "https://${TOKEN}@x y", secret: "${TOKEN}" }
alerts:
  routes:
    - match: { a: "=~(${TOKEN}" }
      severity: ${TOKEN}
digest:
  schedule: "${TOKEN}"
  channel: "#d"
`
	got := loadErr(t, yaml, map[string]string{"TOKEN": token})
	if strings.Contains(got, "hunter2") {
		t.Errorf("error leaks the token:\n%s", got)
	}
	if n := strings.Count(got, "\n") + 1; n < 20 {
		t.Errorf("got %d problems, want at least 20:\n%s", n, got)
	}
	for _, w := range []string{"line 2:", "line 3:", "line 5:", "line 6:", "line 7:", "line 9:", "line 12:", "line 13:", "line 14:", "line 17:", "line 18:", "line 19:", "line 20:", "line 23:", "line 24:", "line 26:"} {
		if !strings.Contains(got, w) {
			t.Errorf("no problem at %s:\n%s", w, got)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load([]byte("server:\n  public_url: https://w.example.com\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != ":8080" || c.Database.Path != "warroom.db" || c.Slack.ChannelPrefix != "inc" ||
		c.Slack.TimelineEmoji != "pushpin" || c.Alerts.SeverityLabel != "severity" || c.Alerts.DeclareAtOrAbove != "sev2" ||
		c.Alerts.ReopenWithin.D() != 30*time.Minute || c.Postmortem.BaseBranch != "main" || c.Postmortem.Path != "postmortems" ||
		c.Postmortem.Location != time.UTC {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.Digest.Enabled() || c.Digest.Cron != nil {
		t.Errorf("digest enabled without channel: %+v", c.Digest)
	}
	if d := Default(); d.Server.Listen != ":8080" || d.Alerts.ReopenWithin != DefaultReopenWithin {
		t.Errorf("Default() = %+v", d)
	}

	c, err = Load([]byte("alerts:\n  reopen_within: 0m\nslack:\n  timeline_emoji: ':memo:'\ndigest:\n  channel: '#review'\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerts.ReopenWithin != 0 {
		t.Errorf("explicit reopen_within 0m = %v", c.Alerts.ReopenWithin)
	}
	if c.Slack.TimelineEmoji != "memo" {
		t.Errorf("emoji = %q", c.Slack.TimelineEmoji)
	}
	if c.Digest.Schedule != DefaultDigestSchedule || c.Digest.Cron == nil {
		t.Errorf("digest = %+v", c.Digest)
	}
	next := c.Digest.Cron.Next(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("next digest = %v, want %v", next, want)
	}

	c, err = Load([]byte("alerts:\n  reopen_within: ${UNSET}\ndigest:\n  schedule: '30 8 * * *'\n  channel: C0123456789\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerts.ReopenWithin != DefaultReopenWithin {
		t.Errorf("empty reopen_within = %v, want the default", c.Alerts.ReopenWithin)
	}
	if next := c.Digest.Cron.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); !next.Equal(time.Date(2026, 1, 1, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("a spec without CRON_TZ is not read in UTC: next = %v", next)
	}
}

func TestAnchorsAndMerge(t *testing.T) {
	yaml := `people:
  alice: &p { slack: U01ALICE }
  bob: *p
schedules:
  a: &s
    rotation: { every: 1w, handoff: "mon 09:00", start: "2026-11-04" }
    members: [alice, bob]
  b:
    <<: *s
    timezone: America/New_York
`
	c, err := Load([]byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	b := c.Schedules["b"]
	if b.Location.String() != "America/New_York" || len(b.Members) != 2 || b.Rotation.Every.D() != 7*24*time.Hour {
		t.Errorf("merged schedule = %+v", b)
	}
	// 2026-11-04 is a Wednesday; the first Monday handoff is on the 9th.
	if want := time.Date(2026, 11, 9, 9, 0, 0, 0, b.Location); !b.Rotation.FirstHandoff.Equal(want) {
		t.Errorf("first handoff = %v, want %v", b.Rotation.FirstHandoff, want)
	}

	got := loadErr(t, "people:\n  a: &p { slak: U01A }\n  b: *p\n", nil)
	if !strings.Contains(got, `line 2: people.a: unknown key "slak"`) {
		t.Errorf("error = %s", got)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, readExample(t), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
	c, err := LoadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.BotToken.Reveal() != "xoxb-from-env" {
		t.Errorf("bot token = %q", c.Slack.BotToken.Reveal())
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("server:\n  lisen: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	if err == nil || err.Error() != bad+`: line 2: server: unknown key "lisen"` {
		t.Errorf("err = %v", err)
	}
	if errs, ok := errors.AsType[*Errors](err); !ok || errs.File != bad {
		t.Errorf("err = %#v, want *Errors naming the file", err)
	}

	_, err = LoadFile(filepath.Join(dir, "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

func TestValidateWithoutLoad(t *testing.T) {
	c := Default()
	c.People = map[string]Person{"a": {Slack: "U01A"}}
	c.Services = map[string]Service{"s": {RollbackApprovers: []string{"b"}}}
	err := c.Validate()
	if err == nil || err.Error() != `services.s.rollback_approvers[0]: unknown person "b" (not in people)` {
		t.Errorf("err = %v", err)
	}
	c.Services["s"] = Service{RollbackApprovers: []string{"a"}}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// TestQuotedEmptyExpansionIsAbsent checks that a quoted value that expands to
// nothing falls back to its default like an unquoted one, whatever its type.
func TestQuotedEmptyExpansionIsAbsent(t *testing.T) {
	c, err := Load([]byte(`people:
  alice: { slack: U01ALICE }
escalation_policies:
  p:
    repeat: "${UNSET}"
    steps: [{ after: "${UNSET}", notify: ["person:alice"] }]
alerts:
  reopen_within: "${UNSET}"
  declare_at_or_above: '${UNSET}'
`), mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerts.ReopenWithin != DefaultReopenWithin || c.Alerts.DeclareAtOrAbove != DefaultDeclareAtOrAbove {
		t.Errorf("reopen_within %v, declare_at_or_above %q: want the defaults", c.Alerts.ReopenWithin, c.Alerts.DeclareAtOrAbove)
	}
	if p := c.EscalationPolicies["p"]; p.Repeat != 0 || p.Steps[0].After != 0 {
		t.Errorf("repeat %d, after %v: want zero", p.Repeat, p.Steps[0].After)
	}
}
