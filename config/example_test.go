package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// exampleFile is the repository's example configuration, the contract that
// Warroom must accept as it is.
const exampleFile = "../examples/warroom.yaml"

func readExample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// exampleEnv sets every variable that the example uses.
var exampleEnv = map[string]string{
	"SLACK_BOT_TOKEN":        "xoxb-bot-token-value",
	"SLACK_SIGNING_SECRET":   "signing-secret-value",
	"SLACK_APP_TOKEN":        "xapp-app-token-value",
	"WARROOM_SLACK_API_URL":  "http://127.0.0.1:9001/api/",
	"GITHUB_TOKEN":           "ghp_github-token-value",
	"WARROOM_GITHUB_API_URL": "http://127.0.0.1:9002/",
	"WARROOM_WEBHOOK_TOKEN":  "webhook-token-value",
	"WARROOM_API_TOKEN":      "api-token-value",
	"PAGERDUTY_ROUTING_KEY":  "pagerduty-routing-key-value",
	"WARROOM_PAGERDUTY_URL":  "http://127.0.0.1:9003/v2/enqueue",
	"PAGER_WEBHOOK_URL":      "https://pager.example.com/hook",
	"PAGER_WEBHOOK_SECRET":   "pager-webhook-secret-value",
}

var exampleSecrets = []string{
	"xoxb-bot-token-value", "signing-secret-value", "xapp-app-token-value",
	"ghp_github-token-value", "webhook-token-value", "api-token-value",
	"pagerduty-routing-key-value", "pager-webhook-secret-value",
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func noEnv(string) string { return "" }

func TestExampleWithoutEnvironment(t *testing.T) {
	c, err := Load(readExample(t), noEnv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checkExample(t, c)
	if c.Slack.BotToken.IsSet() || c.GitHub.Token.IsSet() || c.API.Token.IsSet() {
		t.Errorf("secrets set without environment: %v", c.Slack)
	}
	if c.Slack.APIURL != "" || c.GitHub.APIURL != "" {
		t.Errorf("API URLs = %q, %q, want empty", c.Slack.APIURL, c.GitHub.APIURL)
	}
	p := c.EscalationPolicies["payments"]
	if p.PagerDuty.Enabled() || p.Webhook.Enabled() {
		t.Errorf("pagerduty/webhook enabled without environment")
	}
}

func TestExampleWithEnvironment(t *testing.T) {
	c, err := Load(readExample(t), mapEnv(exampleEnv))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checkExample(t, c)
	for got, want := range map[Secret]string{
		c.Slack.BotToken:      "xoxb-bot-token-value",
		c.Slack.SigningSecret: "signing-secret-value",
		c.Slack.AppToken:      "xapp-app-token-value",
		c.GitHub.Token:        "ghp_github-token-value",
		c.Webhooks.Token:      "webhook-token-value",
		c.API.Token:           "api-token-value",
	} {
		if got.Reveal() != want {
			t.Errorf("secret = %q, want %q", got.Reveal(), want)
		}
	}
	if c.Slack.APIURL != "http://127.0.0.1:9001/api/" || c.GitHub.APIURL != "http://127.0.0.1:9002/" {
		t.Errorf("API URLs = %q, %q", c.Slack.APIURL, c.GitHub.APIURL)
	}
	p := c.EscalationPolicies["payments"]
	if !p.PagerDuty.Enabled() || p.PagerDuty.RoutingKey.Reveal() != "pagerduty-routing-key-value" || p.PagerDuty.URL != "http://127.0.0.1:9003/v2/enqueue" {
		t.Errorf("pagerduty = %+v", p.PagerDuty)
	}
	if !p.Webhook.Enabled() || p.Webhook.URL != "https://pager.example.com/hook" || p.Webhook.Secret.Reveal() != "pager-webhook-secret-value" {
		t.Errorf("webhook = %+v", p.Webhook)
	}
}

// checkExample asserts the values of the example that do not depend on the
// environment.
func checkExample(t *testing.T, c *Config) {
	t.Helper()
	if c.Server.Listen != ":8080" || c.Server.PublicURL != "https://warroom.example.com" || c.Database.Path != "warroom.db" {
		t.Errorf("server/database = %+v %+v", c.Server, c.Database)
	}
	if c.Slack.ChannelPrefix != "inc" || c.Slack.AnnounceChannel != "#incidents" || c.Slack.TimelineEmoji != "pushpin" {
		t.Errorf("slack = %+v", c.Slack)
	}

	wantPeople := map[string]Person{
		"alice": {Slack: "U01ALICE", Email: "alice@example.com"},
		"bob":   {Slack: "U01BOB"},
		"carol": {Email: "carol@example.com"},
		"dave":  {Slack: "U01DAVE"},
	}
	if fmt.Sprint(c.People) != fmt.Sprint(wantPeople) {
		t.Errorf("people = %v, want %v", c.People, wantPeople)
	}

	s, ok := c.Schedules["payments-primary"]
	if !ok {
		t.Fatal("no schedule payments-primary")
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if s.Location == nil || s.Location.String() != "Europe/Berlin" {
		t.Errorf("location = %v", s.Location)
	}
	r := s.Rotation
	if r.Every.D() != 7*24*time.Hour || r.HandoffAt != (HandoffTime{HasWeekday: true, Weekday: time.Monday, Hour: 9}) {
		t.Errorf("rotation = %+v", r)
	}
	if want := time.Date(2026, 11, 2, 0, 0, 0, 0, berlin); !r.StartDate.Equal(want) {
		t.Errorf("start = %v, want %v", r.StartDate, want)
	}
	if want := time.Date(2026, 11, 2, 9, 0, 0, 0, berlin); !r.FirstHandoff.Equal(want) {
		t.Errorf("first handoff = %v, want %v", r.FirstHandoff, want)
	}
	if fmt.Sprint(s.Members) != "[alice bob carol]" {
		t.Errorf("members = %v", s.Members)
	}
	if len(s.Overrides) != 1 {
		t.Fatalf("overrides = %v", s.Overrides)
	}
	o := s.Overrides[0]
	if o.Person != "dave" || !o.FromTime.Equal(time.Date(2026, 12, 23, 23, 0, 0, 0, time.UTC)) || !o.ToTime.Equal(time.Date(2026, 12, 26, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("override = %+v", o)
	}

	p := c.EscalationPolicies["payments"]
	if p.Repeat != 2 || len(p.Steps) != 3 {
		t.Fatalf("policy = %+v", p)
	}
	for i, want := range []time.Duration{0, 10 * time.Minute, 20 * time.Minute} {
		if p.Steps[i].After.D() != want {
			t.Errorf("step %d after = %v, want %v", i, p.Steps[i].After, want)
		}
	}
	wantTargets := []Target{{TargetPerson, "dave"}, {TargetChannel, "#payments"}}
	if fmt.Sprint(p.Steps[2].Targets) != fmt.Sprint(wantTargets) || p.Steps[1].Targets[0] != (Target{TargetSchedule, "payments-primary"}) {
		t.Errorf("targets = %v, %v", p.Steps[1].Targets, p.Steps[2].Targets)
	}
	if p.PagerDuty == nil || p.Webhook == nil {
		t.Errorf("pagerduty or webhook section missing")
	}

	svc := c.Services["checkout"]
	if svc.EscalationPolicy != "payments" || svc.Channel != "#payments" || svc.Repository != "acme/checkout" {
		t.Errorf("service = %+v", svc)
	}
	if svc.Deploys == nil || svc.Deploys.GitHubDeployments == nil || svc.Deploys.GitHubDeployments.Environment != "production" {
		t.Errorf("deploys = %+v", svc.Deploys)
	}
	if svc.Rollback == nil || svc.Rollback.GitHubWorkflow == nil {
		t.Fatalf("rollback = %+v", svc.Rollback)
	}
	if w := svc.Rollback.GitHubWorkflow; w.Workflow != "rollback.yml" || w.Ref != "main" || w.Inputs["service"] != "checkout" || len(w.Inputs) != 1 {
		t.Errorf("rollback workflow = %+v", w)
	}
	if fmt.Sprint(svc.RollbackApprovers) != "[alice bob]" {
		t.Errorf("approvers = %v", svc.RollbackApprovers)
	}

	a := c.Alerts
	if a.SeverityLabel != "severity" || a.DeclareAtOrAbove != "sev2" || a.ReopenWithin.D() != 30*time.Minute {
		t.Errorf("alerts = %+v", a)
	}
	if fmt.Sprint(a.SeverityMap) != "map[critical:sev1 error:sev2 info:sev4 warning:sev3]" {
		t.Errorf("severity map = %v", a.SeverityMap)
	}
	if len(a.Routes) != 3 {
		t.Fatalf("routes = %+v", a.Routes)
	}
	if m := a.Routes[0].Matchers; len(m) != 1 || m[0].Op != MatchEqual || m[0].Label != "service" || m[0].Value != "checkout" {
		t.Errorf("route 0 matchers = %+v", m)
	}
	re := a.Routes[1].Matchers
	if len(re) != 1 || re[0].Op != MatchRegexp || re[0].Label != "alertname" || re[0].Regexp == nil {
		t.Fatalf("route 1 matchers = %+v", re)
	}
	if !re[0].Matches("PaymentsLatencyHigh") || re[0].Matches("CheckoutDown") {
		t.Errorf("route 1 regexp %v matches wrongly", re[0].Regexp)
	}
	if a.Routes[1].Service != "checkout" || a.Routes[1].Severity != "sev1" {
		t.Errorf("route 1 = %+v", a.Routes[1])
	}
	ne := a.Routes[2].Matchers
	if len(ne) != 1 || ne[0].Op != MatchNotEqual || ne[0].Value != "prod" || ne[0].Matches("prod") || !ne[0].Matches("staging") {
		t.Errorf("route 2 matchers = %+v", ne)
	}
	if d := a.Routes[2].Declare; d == nil || *d {
		t.Errorf("route 2 declare = %v", d)
	}
	if a.Routes[0].Declare != nil {
		t.Errorf("route 0 declare = %v, want nil", *a.Routes[0].Declare)
	}

	pm := c.Postmortem
	if pm.Repository != "acme/postmortems" || pm.BaseBranch != "main" || pm.Path != "postmortems" || pm.Template != "" ||
		fmt.Sprint(pm.DraftOnResolve) != "[sev1 sev2]" || !pm.ActionItemsAsIssues || pm.Location != time.UTC {
		t.Errorf("postmortem = %+v", pm)
	}

	d := c.Digest
	if d.Schedule != "CRON_TZ=Europe/Berlin 0 9 * * MON" || d.Channel != "#incident-review" || d.Cron == nil || !d.Enabled() {
		t.Fatalf("digest = %+v", d)
	}
	next := d.Cron.Next(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 11, 2, 9, 0, 0, 0, berlin); !next.Equal(want) {
		t.Errorf("digest next = %v, want %v", next, want)
	}
}

func TestExampleSecretsRedacted(t *testing.T) {
	c, err := Load(readExample(t), mapEnv(exampleEnv))
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	for _, f := range []string{"%v", "%+v", "%#v"} {
		outputs = append(outputs, fmt.Sprintf(f, c), fmt.Sprintf(f, *c))
	}
	outputs = append(outputs, fmt.Sprint(c.Slack.BotToken), fmt.Sprintf("%q %x %d %10s", c.Slack.BotToken, c.Slack.BotToken, c.Slack.BotToken, c.Slack.BotToken))

	js, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	outputs = append(outputs, string(js))

	ys, err := yaml.Marshal(c)
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	outputs = append(outputs, string(ys))

	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("loaded", "config", c, "token", c.Slack.BotToken, "slack", c.Slack)
		outputs = append(outputs, buf.String())
	}

	for i, out := range outputs {
		for _, s := range exampleSecrets {
			if strings.Contains(out, s) {
				t.Errorf("output %d leaks %q:\n%s", i, s, out)
			}
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("output %d does not contain %q:\n%s", i, redacted, out)
		}
	}
	if !strings.Contains(string(js), `"BotToken":"[redacted]"`) {
		t.Errorf("JSON does not redact BotToken: %s", js)
	}
}

func TestSecret(t *testing.T) {
	var empty Secret
	if empty.String() != "" || empty.IsSet() || fmt.Sprintf("%v|%#v", empty, empty) != "|" {
		t.Errorf("empty secret prints %q", fmt.Sprintf("%v|%#v", empty, empty))
	}
	if b, _ := json.Marshal(empty); string(b) != `""` {
		t.Errorf("empty secret JSON = %s", b)
	}
	s := Secret("hunter2")
	if !s.IsSet() || s.Reveal() != "hunter2" || s.String() != redacted || s.GoString() != redacted || s.LogValue().String() != redacted {
		t.Errorf("secret methods leak or fail")
	}
	if v, _ := s.MarshalYAML(); v != redacted {
		t.Errorf("MarshalYAML = %v", v)
	}
}
