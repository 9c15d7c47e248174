package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/internal/slackfake"
)

// amBody is an Alertmanager webhook body (version 4) for one group.
func amBody(group, status string, startsAt time.Time, alerts ...map[string]any) []byte {
	for _, a := range alerts {
		a["status"] = status
		a["startsAt"] = startsAt.Format(time.RFC3339)
		a["endsAt"] = "0001-01-01T00:00:00Z"
		if status == "resolved" {
			a["endsAt"] = startsAt.Add(10 * time.Minute).Format(time.RFC3339)
		}
	}
	b, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": group, "status": status, "receiver": "warroom",
		"externalURL": "https://alertmanager.example.com", "alerts": alerts,
	})
	if err != nil {
		panic(err)
	}
	return b
}

func amAlert(fp, name, severity, summary string) map[string]any {
	return map[string]any{
		"fingerprint": fp,
		"labels":      map[string]string{"alertname": name, "service": "checkout", "severity": severity, "env": "prod"},
		"annotations": map[string]string{"summary": summary},
	}
}

type alertsE2E struct {
	t   *testing.T
	ctx context.Context
	sb  *sandbox.Sandbox
}

func newAlertsE2E(t *testing.T, opts ...slackfake.Option) *alertsE2E {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Options{Dir: t.TempDir(), Slack: opts, NoPaging: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return &alertsE2E{t: t, ctx: ctx, sb: sb}
}

func (e *alertsE2E) post(body []byte) map[string]any {
	e.t.Helper()
	resp, err := e.sb.PostAlerts(e.ctx, "alertmanager", body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.Status != 200 {
		e.t.Fatalf("POST /hooks/alertmanager: %d %s", resp.Status, resp.Body)
	}
	return resp.JSON
}

func (e *alertsE2E) run() {
	e.t.Helper()
	if _, err := e.sb.Run(e.ctx, 2000); err != nil {
		e.t.Fatal(err)
	}
}

func (e *alertsE2E) incidents() []*incidents.Incident {
	e.t.Helper()
	incs, err := e.sb.App.Incidents.List(e.ctx, incidents.ListFilter{Status: incidents.FilterAll})
	if err != nil {
		e.t.Fatal(err)
	}
	return incs
}

// messages returns the channel's messages whose text contains s.
func (e *alertsE2E) messages(channel, s string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range e.sb.Slack.Messages(channel) {
		if strings.Contains(m.Text, s) {
			out = append(out, m)
		}
	}
	return out
}

func (e *alertsE2E) summary(inc *incidents.Incident) slackfake.Message {
	e.t.Helper()
	for _, m := range e.sb.Slack.Messages(inc.ChannelID) {
		if m.Pinned {
			return m
		}
	}
	e.t.Fatalf("%s has no pinned summary", inc.ID)
	return slackfake.Message{}
}

func TestAlertDeclaresIncidentWithChannelAndOffersResolveWhenAllResolve(t *testing.T) {
	e := newAlertsE2E(t)
	start := e.sb.Clock.Now().Add(-2 * time.Minute)
	const group = `{}/{service="checkout"}:{alertname="CheckoutHigh5xxRate"}`
	firing := func() []byte {
		return amBody(group, "firing", start,
			amAlert("fp-a", "CheckoutHigh5xxRate", "error", "Checkout API returns 502 <!channel>"),
			amAlert("fp-b", "CheckoutHigh5xxRate", "error", "Checkout API returns 502"))
	}
	if out := e.post(firing()); out["new"] != 2.0 {
		t.Fatalf("answer %v", out)
	}
	e.run()
	incs := e.incidents()
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	inc := incs[0]
	if inc.Severity != incidents.Sev2 || inc.ChannelID == "" || inc.DeclaredBy != "alertmanager" {
		t.Fatalf("incident %+v", inc)
	}
	sum := e.summary(inc)
	if !strings.Contains(string(sum.Blocks), "2 firing · 0 resolved") || !strings.Contains(string(sum.Blocks), "CheckoutHigh5xxRate ×2") {
		t.Fatalf("summary does not show the alerts: %s", sum.Blocks)
	}
	reply, err := e.sb.Driver.Command(e.ctx, "U01ALICE", inc.ChannelID, "alerts")
	if err != nil || reply.Status != 200 {
		t.Fatalf("/incident alerts: %v %+v", err, reply)
	}
	if text, _ := reply.JSON["text"].(string); !strings.Contains(text, "2 firing · 0 resolved") ||
		!strings.Contains(text, "*CheckoutHigh5xxRate*") || !strings.Contains(text, "|Silence>") {
		t.Fatalf("/incident alerts answered %q", text)
	}
	if len(e.messages("#incidents", "New SEV2 incident "+inc.ID.String())) != 1 {
		t.Fatalf("no announcement: %v", e.sb.Slack.Messages("#incidents"))
	}
	// Alertmanager's repeat_interval: the same group again changes nothing in Slack.
	calls := len(e.sb.Slack.Calls())
	e.post(firing())
	e.run()
	if n := len(e.sb.Slack.Calls()); n != calls {
		t.Fatalf("a repeated body made %d Slack calls", n-calls)
	}

	e.sb.Clock.Advance(10 * time.Minute)
	e.post(amBody(group, "resolved", start,
		amAlert("fp-a", "CheckoutHigh5xxRate", "error", "Checkout API returns 502"),
		amAlert("fp-b", "CheckoutHigh5xxRate", "error", "Checkout API returns 502")))
	e.run()
	done := e.messages(inc.ChannelID, "All 2 alerts have resolved")
	if len(done) != 1 || !strings.Contains(string(done[0].Blocks), bot.ActionResolve) {
		t.Fatalf("all-resolved message: %+v", done)
	}
	if sum := e.summary(inc); !strings.Contains(string(sum.Blocks), "0 firing · 2 resolved") {
		t.Fatalf("summary after resolution: %s", sum.Blocks)
	}
	// The JSON API lists the incident's alerts with their history.
	var api struct {
		Firing, Resolved int
		Alerts           []struct {
			Fingerprint, Status string
			Labels              map[string]string
			History             []struct{ Status string }
		}
	}
	if code, err := e.sb.API(e.ctx, "/api/incidents/"+inc.ID.String()+"/alerts", &api); err != nil || code != 200 {
		t.Fatalf("GET alerts: %d %v", code, err)
	}
	if api.Firing != 0 || api.Resolved != 2 || len(api.Alerts) != 2 || api.Alerts[0].Labels["alertname"] != "CheckoutHigh5xxRate" ||
		len(api.Alerts[0].History) != 2 || api.Alerts[0].History[0].Status != "firing" || api.Alerts[0].History[1].Status != "resolved" {
		t.Fatalf("GET alerts: %+v", api)
	}
	// The alert's "<!channel>" is shown, escaped, and pings no one.
	escaped := 0
	for _, ch := range e.sb.Slack.Channels() {
		for _, m := range e.sb.Slack.Messages(ch.ID) {
			if strings.Contains(m.Text, "<!channel>") || strings.Contains(string(m.Blocks), "<!channel>") {
				t.Fatalf("alert text pinged #%s: %s", ch.Name, m.Text)
			}
			if strings.Contains(m.Text, "&lt;!channel&gt;") {
				escaped++
			}
		}
	}
	if escaped == 0 {
		t.Fatal("the alert's title is not in any message")
	}
	// One click resolves.
	resp, err := e.sb.Driver.Interaction(e.ctx, map[string]any{
		"type": "block_actions", "user": map[string]any{"id": "U01ALICE", "name": "alice"},
		"channel": map[string]any{"id": inc.ChannelID}, "team": map[string]any{"id": e.sb.Slack.TeamID()},
		"trigger_id": e.sb.Slack.NewTriggerID(),
		"actions":    []any{map[string]any{"type": "button", "action_id": bot.ActionResolve, "value": inc.ID.String(), "block_id": "alerts_resolved"}},
	})
	if err != nil || resp.Status != 200 {
		t.Fatalf("click: %v %+v", err, resp)
	}
	if got, _ := e.sb.App.Incidents.Get(e.ctx, inc.ID); got.Status != incidents.StatusResolved {
		t.Fatalf("status %s after the resolve click", got.Status)
	}
}

func TestAlertBelowThresholdIsPostedForTriageAndDeclaredByButton(t *testing.T) {
	e := newAlertsE2E(t)
	const group = `{}/{service="checkout"}:{alertname="CheckoutSlowQueries"}`
	e.post(amBody(group, "firing", e.sb.Clock.Now(), amAlert("w1", "CheckoutSlowQueries", "warning", "Checkout queries are slow")))
	e.sb.Clock.Advance(1500 * time.Millisecond) // the job runs a little after the alert arrived
	e.run()
	if n := len(e.incidents()); n != 0 {
		t.Fatalf("a warning declared %d incidents", n)
	}
	triage := e.messages("#payments", "Checkout queries are slow")
	if len(triage) != 1 || !strings.Contains(string(triage[0].Blocks), bot.ActionDeclareAlerts) {
		t.Fatalf("triage message in #payments: %+v", e.sb.Slack.Messages("#payments"))
	}
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	json.Unmarshal(triage[0].Blocks, &blocks)
	var value string
	for _, b := range blocks {
		for _, el := range b.Elements {
			if el.ActionID == bot.ActionDeclareAlerts {
				value = el.Value
			}
		}
	}
	payments, _ := e.sb.Slack.Channel("payments")
	click := func(user string) {
		resp, err := e.sb.Driver.Interaction(e.ctx, map[string]any{
			"type": "block_actions", "user": map[string]any{"id": user, "name": user},
			"channel": map[string]any{"id": payments.ID}, "team": map[string]any{"id": e.sb.Slack.TeamID()},
			"trigger_id": e.sb.Slack.NewTriggerID(),
			"actions":    []any{map[string]any{"type": "button", "action_id": bot.ActionDeclareAlerts, "value": value, "block_id": "alert_triage"}},
		})
		if err != nil || resp.Status != 200 {
			t.Fatalf("click: %v %+v", err, resp)
		}
	}
	click("U01ALICE")
	click("U01BOB") // a second click declares nothing more
	e.run()
	incs := e.incidents()
	if len(incs) != 1 || incs[0].Severity != incidents.Sev3 || incs[0].DeclaredBy != "slack:U01ALICE" || incs[0].ChannelID == "" {
		t.Fatalf("incidents %+v", incs)
	}
	after, _ := e.sb.Slack.Message(payments.ID, triage[0].TS)
	if !strings.Contains(after.Text, "declared as "+incs[0].ID.String()) || strings.Contains(string(after.Blocks), bot.ActionDeclareAlerts) {
		t.Fatalf("triage message not updated: %s / %s", after.Text, after.Blocks)
	}
}

func TestAlertStormIsOneIncidentAndFewSlackMessages(t *testing.T) {
	e := newAlertsE2E(t)
	bodies, per := 20, 100
	if testing.Short() {
		bodies = 5
	}
	const group = `{}/{}:{alertname="NodeDown"}`
	for b := range bodies {
		var alerts []map[string]any
		for i := range per {
			alerts = append(alerts, amAlert(fmt.Sprintf("n%d-%d", b, i), "NodeDown", "critical", "Node is down"))
		}
		e.post(amBody(group, "firing", e.sb.Clock.Now(), alerts...))
		if b%5 == 0 {
			e.run() // jobs run while the storm goes on
		}
	}
	e.run()
	incs := e.incidents()
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	inc := incs[0]
	if sum := e.summary(inc); !strings.Contains(string(sum.Blocks), fmt.Sprintf("%d firing", bodies*per)) {
		t.Fatalf("summary: %s", sum.Blocks)
	}
	posts := 0
	for _, c := range e.sb.Slack.Calls("chat.postMessage") {
		if c.Params["channel"] == inc.ChannelID {
			posts++
		}
	}
	// The summary, and nothing per alert.
	if posts > 2 {
		t.Fatalf("%d messages posted in the incident channel for %d alerts", posts, bodies*per)
	}
	if updates := len(e.sb.Slack.Calls("chat.update")); updates > 2*bodies {
		t.Fatalf("%d edits for %d bodies", updates, bodies)
	}
	t.Logf("%d alerts: %d Slack calls in all", bodies*per, len(e.sb.Slack.Calls()))
}
