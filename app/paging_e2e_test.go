package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/integrations/webhook"
	"github.com/warroomhq/warroom/internal/pagerdutyfake"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/internal/slackfake"
	"github.com/warroomhq/warroom/internal/webhookfake"
	"github.com/warroomhq/warroom/paging"
)

// pagingE2E is the whole Warroom with the example config, paging through
// Slack, a PagerDuty fake and a webhook fake.
type pagingE2E struct {
	t   *testing.T
	ctx context.Context
	sb  *sandbox.Sandbox
	pd  *pagerdutyfake.Fake
	wh  *webhookfake.Fake
}

func newPagingE2E(t *testing.T) *pagingE2E {
	t.Helper()
	return newPagingE2EAt(t, time.Time{})
}

// newPagingE2EAt starts the clock at start (zero: the sandbox's default,
// in alice's first week on call).
func newPagingE2EAt(t *testing.T, start time.Time) *pagingE2E {
	t.Helper()
	e := &pagingE2E{t: t, ctx: context.Background()}
	now := func() time.Time { return e.sb.Clock.Now() }
	e.pd = pagerdutyfake.New(pagerdutyfake.WithClock(now))
	t.Cleanup(e.pd.Close)
	e.wh = webhookfake.New(webhookfake.WithSecret([]byte("pager-webhook-secret")), webhookfake.WithClock(now))
	t.Cleanup(e.wh.Close)
	sb, err := sandbox.New(e.ctx, sandbox.Options{Dir: t.TempDir(), Start: start, Env: map[string]string{
		"PAGERDUTY_ROUTING_KEY": pagerdutyfake.RoutingKey,
		"WARROOM_PAGERDUTY_URL": e.pd.URL(),
		"PAGER_WEBHOOK_URL":     e.wh.URL(),
		"PAGER_WEBHOOK_SECRET":  "pager-webhook-secret",
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.sb = sb
	t.Cleanup(sb.Close)
	return e
}

// settle runs the jobs due now, and those that fall due within the next
// few seconds (pacing, retries), moving the clock to each; never as far as
// the next escalation step.
func (e *pagingE2E) settle() {
	e.t.Helper()
	limit := e.sb.Clock.Now().Add(5 * time.Second)
	for range 1000 {
		if _, err := e.sb.App.Queue.RunDue(e.ctx); err != nil {
			e.t.Fatal(err)
		}
		next, ok, err := e.sb.App.Queue.NextRunAt(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if !ok || next.After(limit) {
			return
		}
		if next.After(e.sb.Clock.Now()) {
			e.sb.Clock.Set(next)
		}
	}
	e.t.Fatal("jobs keep falling due")
}

// dms returns the texts of the direct messages that user got.
func (e *pagingE2E) dms(user string) []string {
	var out []string
	for _, m := range e.sb.Slack.DirectMessages(user) {
		out = append(out, m.Text)
	}
	return out
}

func (e *pagingE2E) clickAck(user, channel, value string) {
	e.t.Helper()
	resp, err := e.sb.Driver.Interaction(e.ctx, map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user},
		"channel": map[string]any{"id": channel}, "team": map[string]any{"id": e.sb.Slack.TeamID()},
		"trigger_id": e.sb.Slack.NewTriggerID(),
		"actions":    []any{map[string]any{"type": "button", "action_id": bot.ActionAcknowledgePage, "value": value, "block_id": "page_1"}},
	})
	if err != nil || resp.Status != 200 {
		e.t.Fatalf("click: %v %+v", err, resp)
	}
}

// declare declares an incident with /incident as user, lets its jobs run,
// and returns it, with its channel.
func (e *pagingE2E) declare(user, text string) *incidents.Incident {
	e.t.Helper()
	if resp, err := e.sb.Driver.Command(e.ctx, user, "C0GENERAL", text); err != nil || resp.Status != 200 {
		e.t.Fatalf("%s: %v %+v", text, err, resp)
	}
	e.settle()
	incs, err := e.sb.App.Incidents.List(e.ctx, incidents.ListFilter{Status: incidents.FilterAll})
	if err != nil || len(incs) != 1 || incs[0].ChannelID == "" {
		e.t.Fatalf("incidents: %+v, %v", incs, err)
	}
	return incs[0]
}

// TestAlertPagesEscalatesAndIsAcknowledgedFromTheDM follows a page from the
// alert that declares the incident to the acknowledgement in a direct
// message and the resolution, through signed Slack requests.
func TestAlertPagesEscalatesAndIsAcknowledgedFromTheDM(t *testing.T) {
	e := newPagingE2E(t)
	start := e.sb.Clock.Now()
	const group = `{}/{service="checkout"}:{alertname="CheckoutDown"}`
	resp, err := e.sb.PostAlerts(e.ctx, "alertmanager", amBody(group, "firing", start,
		amAlert("fp-1", "CheckoutDown", "critical", "Checkout is down <!channel>")))
	if err != nil || resp.Status != 200 {
		t.Fatalf("alert: %v %+v", err, resp)
	}
	e.settle()
	incs, err := e.sb.App.Incidents.List(e.ctx, incidents.ListFilter{Status: incidents.FilterAll})
	if err != nil || len(incs) != 1 || incs[0].ChannelID == "" {
		t.Fatalf("incidents: %+v, %v", incs, err)
	}
	inc := incs[0]
	alice, bob := e.sb.Users["alice"], e.sb.Users["bob"]

	// Step 1: alice is on call for payments-primary in the first week.
	dms := e.dms(alice)
	if len(dms) != 1 || !strings.Contains(dms[0], "You are paged for *INC-1* (SEV1, checkout)") ||
		!strings.Contains(dms[0], "&lt;!channel&gt;") || !strings.Contains(dms[0], "<#"+inc.ChannelID+">") ||
		!strings.Contains(dms[0], "step 1 of 3 of payments, round 1 of 3") {
		t.Fatalf("alice's direct messages: %q", dms)
	}
	dm := e.sb.Slack.DirectMessages(alice)[0]
	if !strings.Contains(string(dm.Blocks), bot.ActionAcknowledgePage) || !strings.Contains(string(dm.Blocks), `"INC-1|1"`) {
		t.Errorf("the direct message has no Acknowledge button: %s", dm.Blocks)
	}
	if ch, _ := e.sb.Slack.Channel(inc.ChannelID); !contains(ch.Members, alice) {
		t.Errorf("alice is not in the channel: %v", ch.Members)
	}
	if n := len(messagesWith(e, inc.ChannelID, "Paging <@"+alice+"> (step 1 of 3 of payments")); n != 1 {
		t.Errorf("%d mentions of alice in the channel", n)
	}
	if got := e.pd.Actions("warroom-inc-1"); len(got) != 1 || got[0] != "trigger" {
		t.Errorf("PagerDuty after the first step: %v", got)
	}
	if a, _ := e.pd.Alert("warroom-inc-1"); a.Severity != "critical" || !strings.Contains(a.Summary, "INC-1 [sev1]") {
		t.Errorf("PagerDuty alert: %+v", a)
	}

	// Nobody answers: at 10m alice and bob, at 20m... bob acknowledges first.
	e.sb.Clock.Set(start.Add(10 * time.Minute))
	e.settle()
	if got := e.dms(bob); len(got) != 1 || !strings.Contains(got[0], "step 2 of 3") {
		t.Fatalf("bob's direct messages: %q", got)
	}
	if got := e.dms(alice); len(got) != 2 {
		t.Fatalf("alice's direct messages at 10m: %q", got)
	}
	e.sb.Clock.Set(start.Add(12 * time.Minute))
	bobDM := e.sb.Slack.DirectMessages(bob)[0]
	e.clickAck(bob, bobDM.Channel, "INC-1|1")
	e.clickAck(alice, inc.ChannelID, "INC-1|1") // late, from the channel
	e.settle()

	got, _ := e.sb.App.Incidents.Get(e.ctx, inc.ID)
	if !got.AcknowledgedAt.Equal(start.Add(12 * time.Minute)) {
		t.Errorf("incident acknowledged at %v", got.AcknowledgedAt)
	}
	pages, _ := e.sb.App.Paging.Pages(e.ctx, inc.ID)
	if len(pages) != 1 || pages[0].State != paging.StateAcknowledged || pages[0].AckedBy != incidents.SlackActor(bob) {
		t.Fatalf("pages: %+v", pages)
	}
	var told []string
	for _, m := range e.sb.Slack.Ephemerals() {
		told = append(told, m.EphemeralUser+": "+m.Text)
	}
	if len(told) != 2 || !strings.Contains(told[0], bob+": :white_check_mark: Acknowledged page 1 (payments)") ||
		!strings.Contains(told[1], alice+": page 1 (payments) of INC-1 was already acknowledged by <@"+bob+"> at 14:14 UTC") {
		t.Errorf("what the clickers were told: %q", told)
	}

	// Acknowledged: nothing more is sent, at 20m or later.
	e.sb.Clock.Set(start.Add(3 * time.Hour))
	e.settle()
	if got := e.dms(e.sb.Users["dave"]); got != nil {
		t.Errorf("dave was paged after the acknowledgement: %q", got)
	}
	if got := e.dms(alice); len(got) != 2 {
		t.Errorf("alice's direct messages after the acknowledgement: %q", got)
	}

	// Resolving resolves the page and the PagerDuty alert.
	if _, err := e.sb.App.Incidents.Resolve(e.ctx, inc.ID, "", incidents.SlackActor(bob)); err != nil {
		t.Fatal(err)
	}
	e.settle()
	if got := e.pd.Actions("warroom-inc-1"); strings.Join(got, " ") != "trigger acknowledge resolve" {
		t.Errorf("PagerDuty: %v", got)
	}
	if st := e.pd.State("warroom-inc-1"); st != pagerdutyfake.State("resolved") {
		t.Errorf("PagerDuty alert state %s", st)
	}
	if got := strings.Join(e.wh.Events(), " "); got != "page.triggered page.escalated page.acknowledged page.resolved" {
		t.Errorf("webhook events: %s", got)
	}
	var body webhook.PagePayload
	for _, d := range e.wh.Deliveries() {
		if d.Event == "page.acknowledged" {
			if err := d.Decode(&body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if body.Incident.ID != 1 || body.Page.AcknowledgedBy != bob || body.Page.DedupKey != "warroom-inc-1" || body.Page.State != "acknowledged" {
		t.Errorf("acknowledged webhook: %+v", body)
	}
	if refused := e.wh.Refused(); len(refused) != 0 {
		t.Errorf("the webhook refused deliveries (bad signatures?): %+v", refused)
	}
	evs, _ := e.sb.App.Incidents.Timeline(e.ctx, inc.ID)
	var kinds []string
	for _, ev := range evs {
		if strings.HasPrefix(string(ev.Kind), "page.") || ev.Kind == incidents.EventAcknowledged {
			kinds = append(kinds, string(ev.Kind))
		}
	}
	if strings.Join(kinds, " ") != "page.triggered page.escalated page.acknowledged acknowledged page.resolved" {
		t.Errorf("timeline: %v", kinds)
	}
}

// TestPageAndAckCommands pages a person and a schedule by hand, and
// acknowledges with /incident ack.
func TestPageAndAckCommands(t *testing.T) {
	e := newPagingE2E(t)
	carol := e.sb.Users["carol"]
	inc := e.declare(carol, "declare Search is slow sev3")
	ch := inc.ChannelID
	command := func(text string) string {
		t.Helper()
		resp, err := e.sb.Driver.Command(e.ctx, carol, ch, text)
		if err != nil || resp.Status != 200 {
			t.Fatalf("%s: %v %+v", text, err, resp)
		}
		s, _ := resp.JSON["text"].(string)
		return s
	}
	if got := command("page dave"); !strings.Contains(got, "Paging <@U01DAVE> for INC-1 (page 1)") {
		t.Errorf("page dave: %q", got)
	}
	if got := command("page payments-primary"); !strings.Contains(got, "whoever is on call for *payments-primary*") {
		t.Errorf("page payments-primary: %q", got)
	}
	if got := command("page dave"); !strings.Contains(got, "already paging person:dave") {
		t.Errorf("page dave twice: %q", got)
	}
	if got := command("page nobody-we-know"); !strings.Contains(got, "I can't tell whom to page") {
		t.Errorf("page an unknown name: %q", got)
	}
	e.settle()
	if got := e.dms("U01DAVE"); len(got) != 1 || !strings.Contains(got[0], "You are paged for *INC-1* (SEV3): Search is slow.") {
		t.Errorf("dave's direct messages: %q", got)
	}
	if got := e.dms(e.sb.Users["alice"]); len(got) != 1 {
		t.Errorf("alice's direct messages: %q", got)
	}
	if got := command("ack"); !strings.Contains(got, "Acknowledged page 1 (person:dave), page 2 (schedule:payments-primary) of INC-1") {
		t.Errorf("ack: %q", got)
	}
	if got := command("ack"); !strings.Contains(got, "page 1 (person:dave) of INC-1 was already acknowledged by <@"+carol+"> at 14:02 UTC") {
		t.Errorf("ack again: %q", got)
	}
	// Manual pages of people have no policy: PagerDuty and the webhook are
	// the policies'.
	if n := len(e.pd.Events()) + len(e.wh.Requests()); n != 0 {
		t.Errorf("%d PagerDuty or webhook calls for manual pages", n)
	}
}

// TestUnreachablePersonIsToldInTheChannelAndEscalates: carol, on call in
// the third week, has only an email that no Slack user has. Her notice
// fails for good: the channel is warned and step 2 runs at once instead of
// 10 minutes later.
func TestUnreachablePersonIsToldInTheChannelAndEscalates(t *testing.T) {
	e := newPagingE2EAt(t, time.Date(2026, 11, 17, 14, 2, 0, 0, time.UTC))
	carol := e.sb.Users["carol"]
	e.sb.Slack.AddUser(slackfake.User{ID: carol, Name: "carol", Email: "carol@elsewhere.example.com"})
	inc, err := e.sb.App.Incidents.Declare(e.ctx, incidents.DeclareInput{Title: "Checkout is down", Severity: incidents.Sev1,
		Service: "checkout", Actor: incidents.SlackActor(e.sb.Users["alice"])})
	if err != nil {
		t.Fatal(err)
	}
	e.settle()
	inc, _ = e.sb.App.Incidents.Get(e.ctx, inc.ID)
	warnings := messagesWith(e, inc.ChannelID, ":warning:")
	if len(warnings) != 2 ||
		warnings[0] != ":warning: Page 1 (payments), step 1 of 3, round 1 of 3 could not notify carol: no Slack user has the email of carol. Escalating to step 2 now." ||
		!strings.HasPrefix(warnings[1], ":warning: Page 1 (payments), step 2 of 3, round 1 of 3 could not notify carol") {
		t.Errorf("warnings in the channel: %q", warnings)
	}
	if got := e.dms(e.sb.Users["bob"]); len(got) != 1 || !strings.Contains(got[0], "step 2 of 3 of payments") {
		t.Errorf("bob's direct messages, at once: %q", got)
	}
	if got := e.dms(e.sb.Users["dave"]); got != nil {
		t.Errorf("dave was paged: bob was reached at step 2, so step 3 keeps its time: %q", got)
	}
	evs, _ := e.sb.App.Incidents.Timeline(e.ctx, inc.ID)
	var unreached int
	for _, ev := range evs {
		if ev.Kind == paging.EventUnreached {
			unreached++
		}
	}
	if unreached != 2 {
		t.Errorf("%d page.unreached events, want 2", unreached)
	}
}

// TestPagerDutyAndWebhookPayloads checks what a receiver gets for a page:
// the service as PagerDuty's source, the page's start as its timestamp,
// the lead and the channel in the details, links to the channel and to
// the API; and in the webhook, the channel, the lead and plain people.
func TestPagerDutyAndWebhookPayloads(t *testing.T) {
	e := newPagingE2E(t)
	start := e.sb.Clock.Now()
	alice := e.sb.Users["alice"]
	inc, err := e.sb.App.Incidents.Declare(e.ctx, incidents.DeclareInput{Title: "Checkout is down", Severity: incidents.Sev1,
		Service: "checkout", Lead: alice, Actor: incidents.SlackActor(alice)})
	if err != nil {
		t.Fatal(err)
	}
	e.settle()
	inc, _ = e.sb.App.Incidents.Get(e.ctx, inc.ID)
	accepted := e.pd.Accepted("warroom-inc-1")
	if len(accepted) != 1 {
		t.Fatalf("PagerDuty events: %+v", e.pd.Events())
	}
	var trigger struct {
		Payload struct {
			Source        string         `json:"source"`
			Timestamp     string         `json:"timestamp"`
			CustomDetails map[string]any `json:"custom_details"`
		} `json:"payload"`
		Links     []struct{ Href, Text string } `json:"links"`
		Client    string                        `json:"client"`
		ClientURL string                        `json:"client_url"`
	}
	if err := json.Unmarshal(accepted[0].Body, &trigger); err != nil {
		t.Fatal(err)
	}
	channelURL := "https://slack.com/app_redirect?channel=" + inc.ChannelID
	apiURL := "https://warroom.example.com/api/incidents/INC-1"
	if ts, err := time.Parse(time.RFC3339, trigger.Payload.Timestamp); err != nil || !ts.Equal(start) || trigger.Payload.Source != "checkout" {
		t.Errorf("source %q, timestamp %q; want checkout, %s", trigger.Payload.Source, trigger.Payload.Timestamp, start)
	}
	d := trigger.Payload.CustomDetails
	if d["incident"] != "INC-1" || d["severity"] != "sev1" || d["service"] != "checkout" || d["lead"] != alice ||
		d["channel"] != "#"+inc.ChannelName {
		t.Errorf("custom_details: %v", d)
	}
	if len(trigger.Links) != 2 || trigger.Links[0].Href != channelURL || trigger.Links[1].Href != apiURL ||
		trigger.Client != "Warroom" || trigger.ClientURL != channelURL {
		t.Errorf("links %+v, client %q %q", trigger.Links, trigger.Client, trigger.ClientURL)
	}

	var body webhook.PagePayload
	if ds := e.wh.Deliveries(); len(ds) != 1 || ds[0].Decode(&body) != nil {
		t.Fatalf("webhook deliveries: %+v", ds)
	}
	if body.Incident.URL != apiURL || body.Incident.ChannelURL != channelURL || body.Incident.ChannelID != inc.ChannelID ||
		body.Incident.Channel != "#"+inc.ChannelName || body.Incident.Lead != alice {
		t.Errorf("webhook incident: %+v", body.Incident)
	}
	if strings.Join(body.Page.People, ",") != "alice" || len(body.Page.Channels) != 0 {
		t.Errorf("webhook people %q, channels %q", body.Page.People, body.Page.Channels)
	}
}

// TestRepageAfterAcknowledgementOpensANewPagerDutyAlert: a trigger with
// the incident's key would be merged into its acknowledged alert and wake
// nobody; the new page gets an alert of its own.
func TestRepageAfterAcknowledgementOpensANewPagerDutyAlert(t *testing.T) {
	e := newPagingE2E(t)
	start := e.sb.Clock.Now()
	bob := incidents.SlackActor(e.sb.Users["bob"])
	inc, err := e.sb.App.Incidents.Declare(e.ctx, incidents.DeclareInput{Title: "Checkout is down", Severity: incidents.Sev1,
		Service: "checkout", Actor: bob})
	if err != nil {
		t.Fatal(err)
	}
	e.settle()
	e.sb.Clock.Set(start.Add(3 * time.Minute))
	if _, err := e.sb.App.Paging.Acknowledge(e.ctx, inc.ID, 0, bob); err != nil {
		t.Fatal(err)
	}
	e.settle()
	e.sb.Clock.Set(start.Add(40 * time.Minute))
	if _, err := e.sb.App.Paging.Page(e.ctx, inc.ID, paging.Target{Kind: paging.TargetService, Name: "checkout"}, bob); err != nil {
		t.Fatal(err)
	}
	e.settle()
	if st := e.pd.State("warroom-inc-1"); st != pagerdutyfake.State("acknowledged") {
		t.Errorf("the first alert: %s", st)
	}
	if st := e.pd.State("warroom-inc-1-p2"); st != pagerdutyfake.State("triggered") {
		t.Errorf("the new page's alert: %s (events %+v)", st, e.pd.Events())
	}
	if _, err := e.sb.App.Incidents.Resolve(e.ctx, inc.ID, "", bob); err != nil {
		t.Fatal(err)
	}
	e.settle()
	for _, key := range []string{"warroom-inc-1", "warroom-inc-1-p2"} {
		if st := e.pd.State(key); st != pagerdutyfake.State("resolved") {
			t.Errorf("%s after the resolution: %s", key, st)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func messagesWith(e *pagingE2E, channel, s string) []string {
	var out []string
	for _, m := range e.sb.Slack.Messages(channel) {
		if strings.Contains(m.Text, s) {
			out = append(out, m.Text)
		}
	}
	return out
}
