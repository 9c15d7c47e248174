package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/clock"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/oncall"
	"github.com/warroomhq/warroom/store/sqlite"
)

// directory is the resolver with the schedules of each service, as the
// app wires it.
type directory struct {
	*oncall.Resolver
	services map[string][]string
}

func (d directory) ServiceSchedules(s string) []string { return d.services[s] }

type onCallHarness struct {
	t     *testing.T
	ctx   context.Context
	bot   *bot.Bot
	svc   *incidents.Service
	res   *oncall.Resolver
	st    *sqlite.Store
	clock *clock.Manual
	trig  int
}

// newOnCallHarness runs a bot over a real store, with two schedules in
// Berlin: "primary", weekly on Mondays at 09:00 from 2026-03-02 (alice,
// bob, carol), and "secondary", which starts in April.
func newOnCallHarness(t *testing.T) *onCallHarness {
	t.Helper()
	ctx := context.Background()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Tuesday 2026-03-03 13:00 CET: alice's first week.
	clk := clock.NewManual(time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC))
	st, err := sqlite.OpenMigrated(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res := oncall.NewResolver(map[string]oncall.Schedule{
		"primary": {Location: berlin, Every: 7 * 24 * time.Hour, Handoff: 9 * time.Hour,
			FirstHandoff: time.Date(2026, 3, 2, 9, 0, 0, 0, berlin), Members: []string{"alice", "bob", "carol"}},
		"secondary": {Location: berlin, Every: 24 * time.Hour, Handoff: 9 * time.Hour,
			FirstHandoff: time.Date(2026, 4, 1, 9, 0, 0, 0, berlin), Members: []string{"carol"}},
	}, st)
	h := &onCallHarness{t: t, ctx: ctx, res: res, st: st, clock: clk}
	h.svc = incidents.NewService(st, incidents.WithClock(clk.Now))
	h.bot, err = bot.New(bot.Options{
		Services: map[string]config.Service{"checkout": {EscalationPolicy: "payments"}, "search": {}},
		People: map[string]config.Person{
			"alice": {Slack: slackAlice},
			"bob":   {Slack: "U01BOB"},
			"carol": {Email: "carol@example.com"},
		},
		Incidents: h.svc,
		Store:     st,
		Jobs:      st,
		OnCall:    directory{Resolver: res, services: map[string][]string{"checkout": {"primary"}}},
		Now:       clk.Now,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *onCallHarness) command(user, channel, text string) bot.Reply {
	h.t.Helper()
	h.trig++
	return h.bot.Command(h.ctx, slack.SlashCommand{UserID: user, ChannelID: channel, Text: text, Command: "/incident",
		TriggerID: fmt.Sprintf("T%d", h.trig)})
}

func TestOnCallShowsWhoIsOnCallAndTheNextHandoff(t *testing.T) {
	h := newOnCallHarness(t)
	all := h.command(slackBob, "CGENERAL", "oncall")
	if all.InChannel {
		t.Error("the answer is shown to everybody")
	}
	want := "• *primary*: <@U01ALICE> until Mon 9 Mar 09:00 CET, then <@U01BOB>.\n" +
		"• *secondary*: nobody yet; carol from Wed 1 Apr 09:00 CEST."
	if all.Text != want {
		t.Errorf("all schedules:\n got %q\nwant %q", all.Text, want)
	}
	for _, text := range []string{"oncall primary", "oncall PRIMARY"} {
		if r := h.command(slackBob, "CGENERAL", text); r.Text != "• *primary*: <@U01ALICE> until Mon 9 Mar 09:00 CET, then <@U01BOB>." {
			t.Errorf("%s: %q", text, r.Text)
		}
	}
	wantContains(t, "a service", h.command(slackBob, "CGENERAL", "oncall checkout").Text, "On call for *checkout*:", "*primary*", "<@U01ALICE>")
	wantContains(t, "a service without schedules", h.command(slackBob, "CGENERAL", "oncall search").Text, "No schedule pages for search")

	// In an incident's channel, the incident's service.
	inc, err := h.svc.Declare(h.ctx, incidents.DeclareInput{Title: "Checkout down", Service: "checkout", Actor: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.SetChannel(h.ctx, inc.ID, "C0INC1", "inc", incidents.System); err != nil {
		t.Fatal(err)
	}
	wantContains(t, "in the incident channel", h.command(slackBob, "C0INC1", "oncall").Text, "On call for *checkout*:")
	if strings.Contains(h.command(slackBob, "C0INC1", "oncall").Text, "secondary") {
		t.Error("in the incident channel: schedules of other services are listed")
	}

	for text, want := range map[string]string{
		"oncall billing":                      `I know no schedule or service "billing". Schedules: primary, secondary.`,
		"oncall a b":                          "Usage: `/incident oncall",
		"oncall <!channel>":                   "I know no schedule or service \"@channel\"",
		"oncall override":                     "Say which schedule, who, and for how long",
		"oncall override x":                   "Say which schedule, who, and for how long",
		"oncall override primary bob soon":    `"soon" is not a duration`,
		"oncall override primary bob 0":       `"0" is not a duration`,
		"oncall override primary bob 31d":     "at most 30 days",
		"oncall override tertiary bob 1h":     `I know no schedule "tertiary"`,
		"oncall override primary <@U0NEW> 1h": "not in the configuration's people",
		"oncall override primary dave 1h":     `"dave" is not in the configuration's people`,
	} {
		r := h.command(slackAlice, "CGENERAL", text)
		wantContains(t, text, r.Text, want)
		if r.InChannel {
			t.Errorf("%s: an error is shown to everybody", text)
		}
		if strings.Contains(r.Text, "<!channel>") {
			t.Errorf("%s: the reply pings the channel: %q", text, r.Text)
		}
	}
}

func TestOnCallOverrideFromSlack(t *testing.T) {
	h := newOnCallHarness(t)
	// Someone who is not in the configuration cannot reroute pages.
	r := h.command("U0STRANGER", "CGENERAL", "oncall override primary <@U01BOB|bob> 2h")
	wantContains(t, "stranger", r.Text, "Only people in the configuration")
	if who, _ := h.res.Who(h.ctx, "primary", h.clock.Now()); who != "alice" {
		t.Fatalf("a stranger's override took effect: %s", who)
	}

	r = h.command(slackAlice, "CGENERAL", "oncall override primary <@U01BOB|bob> 2h dentist &lt;b&gt; <!channel>")
	want := ":arrows_counterclockwise: <@U01ALICE> put <@U01BOB> on call for *primary* until Tue 3 Mar 15:00 CET (2h). " +
		"Reason: dentist &lt;b&gt; @channel\nOverride 1: `/incident oncall override cancel 1` ends it early."
	if r.Text != want || !r.InChannel {
		t.Errorf("override reply (in channel %v):\n got %q\nwant %q", r.InChannel, r.Text, want)
	}
	if who, err := h.res.Who(h.ctx, "primary", h.clock.Now()); err != nil || who != "bob" {
		t.Fatalf("Who after the override: %q %v", who, err)
	}
	if got := h.command(slackAlice, "CGENERAL", "oncall primary").Text; got != "• *primary*: <@U01BOB> (override 1, set by <@U01ALICE>) until Tue 3 Mar 15:00 CET, then <@U01ALICE>." {
		t.Errorf("after the override: %q", got)
	}
	h.clock.Advance(2 * time.Hour)
	if who, _ := h.res.Who(h.ctx, "primary", h.clock.Now()); who != "alice" {
		t.Errorf("after two hours: %s", who)
	}

	// By name, for someone with only an email; a later override wins over an earlier one.
	h.command(slackAlice, "CGENERAL", "oncall override primary bob 1d")
	r = h.command(slackAlice, "CGENERAL", "oncall override Primary @Carol 30m")
	wantContains(t, "carol", r.Text, "put carol on call for *primary*", "(30m)")
	if who, _ := h.res.Who(h.ctx, "primary", h.clock.Now().Add(10*time.Minute)); who != "carol" {
		t.Errorf("the later override: %s", who)
	}
	if who, _ := h.res.Who(h.ctx, "primary", h.clock.Now().Add(40*time.Minute)); who != "bob" {
		t.Errorf("after the later override ends: %s", who)
	}
}

// TestOnCallIsOnlyOfferedWhenWired: without a directory the verb is unknown.
func TestOnCallIsOnlyOfferedWhenWired(t *testing.T) {
	h := newDispatchHarness(t)
	if _, ok := h.bot.Commands().Lookup("oncall"); ok {
		t.Error("oncall is offered without an OnCall directory")
	}
	oh := newOnCallHarness(t)
	wantContains(t, "help", replyContent(t, oh.command(slackBob, "CGENERAL", "help")), "/incident oncall")
}

// TestOnCallThroughSlack drives the wired app the way Slack does: the
// example's schedule, an override typed in Slack, and Who afterwards.
func TestOnCallThroughSlack(t *testing.T) {
	// Paging stays on: the services' escalation policies name the
	// schedules. No incident is declared, so nothing is paged.
	sb, err := sandbox.New(context.Background(), sandbox.Options{Config: testConfig(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close) // Tuesday 2026-11-03 14:02 UTC: alice's first week
	sb.Slack.AddChannel("general", alice, bob)
	ctx := context.Background()
	reply := command(t, sb, bob, "general", "oncall")
	if want := "• *payments-primary*: <@U01ALICE> until Mon 9 Nov 09:00 CET, then <@U01BOB>."; reply != want {
		t.Errorf("oncall:\n got %q\nwant %q", reply, want)
	}
	resp, err := sb.Driver.Command(ctx, alice, "general", "oncall override payments-primary <@U01BOB|bob> 90m")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := resp.JSON["text"].(string)
	if resp.Status != 200 || resp.JSON["response_type"] != "in_channel" ||
		!strings.Contains(text, "<@U01ALICE> put <@U01BOB> on call for *payments-primary* until Tue 3 Nov 16:32 CET (1h30m).") {
		t.Errorf("override: %d %v", resp.Status, resp.JSON)
	}
	if who, err := sb.App.OnCall.Who(ctx, "payments-primary", sb.Clock.Now()); err != nil || who != "bob" {
		t.Errorf("Who after the override: %q %v", who, err)
	}
	if reply := command(t, sb, bob, "general", "oncall checkout"); !strings.Contains(reply, "<@U01BOB> (override 1, set by <@U01ALICE>) until Tue 3 Nov 16:32 CET, then <@U01ALICE>") {
		t.Errorf("oncall checkout: %q", reply)
	}
}
