package bot_test

// The dispatcher's tests run the Bot over a real SQLite store, as the
// server does; only the listener that turns incident changes into Slack jobs
// is left out, so the jobs seen here are the ones the dispatcher enqueues.
// (store/sqlite imports bot, so these tests live in package bot_test.)

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/clock"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/store/sqlite"
)

const (
	slackAlice = "U01ALICE" // configured as "alice"
	slackBob   = "U02BOB"   // not configured
)

type dispatchHarness struct {
	t       *testing.T
	ctx     context.Context
	bot     *bot.Bot
	store   *sqlite.Store
	svc     *incidents.Service
	clock   *clock.Manual
	logs    *bytes.Buffer
	wakes   int // calls of Options.Notify
	trigger int // the last trigger ID handed out
	channel int // the last incident channel made
}

// newDispatchHarness returns a bot over a fresh store. wrap, if given, wraps the
// store the bot sees (to inject failures).
func newDispatchHarness(t *testing.T, wrap ...func(bot.Store) bot.Store) *dispatchHarness {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	st, err := sqlite.OpenMigrated(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &dispatchHarness{t: t, ctx: ctx, store: st, clock: clk, logs: &bytes.Buffer{}}
	h.svc = incidents.NewService(st, incidents.WithClock(clk.Now))
	var bs bot.Store = st
	for _, w := range wrap {
		bs = w(bs)
	}
	h.bot, err = bot.New(bot.Options{
		Services: map[string]config.Service{"checkout": {}, "search": {}},
		People: map[string]config.Person{
			"alice": {Slack: slackAlice},
			"carol": {Email: "carol@example.com"},
		},
		Incidents: h.svc,
		Store:     bs,
		Jobs:      st,
		Notify:    func() { h.wakes++ },
		Now:       clk.Now,
		Logger:    slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// command runs a slash command typed by user in channel, with a new
// trigger ID.
func (h *dispatchHarness) command(user, channel, text string) bot.Reply {
	h.t.Helper()
	h.trigger++
	return h.bot.Command(h.ctx, slack.SlashCommand{
		UserID: user, ChannelID: channel, Text: text, Command: "/incident",
		TriggerID: fmt.Sprintf("T%d", h.trigger),
	})
}

// incident declares an incident that has a channel and no lead, and
// returns it.
func (h *dispatchHarness) incident(title string) *incidents.Incident {
	h.t.Helper()
	inc, err := h.svc.Declare(h.ctx, incidents.DeclareInput{Title: title, Actor: "cli"})
	if err != nil {
		h.t.Fatal(err)
	}
	h.channel++
	inc, err = h.svc.SetChannel(h.ctx, inc.ID, fmt.Sprintf("C0INC%d", h.channel), "inc", incidents.System)
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

func (h *dispatchHarness) get(id incidents.ID) *incidents.Incident {
	h.t.Helper()
	inc, err := h.svc.Get(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

func (h *dispatchHarness) timeline(id incidents.ID) []incidents.Event {
	h.t.Helper()
	evs, err := h.svc.Timeline(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

// count counts an incident's timeline events of kind k.
func (h *dispatchHarness) count(id incidents.ID, k incidents.EventKind) int {
	h.t.Helper()
	n := 0
	for _, ev := range h.timeline(id) {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func (h *dispatchHarness) all() []*incidents.Incident {
	h.t.Helper()
	list, err := h.svc.List(h.ctx, incidents.ListFilter{Status: incidents.FilterAll})
	if err != nil {
		h.t.Fatal(err)
	}
	return list
}

// job returns the job of kind with key, decoding its payload into payload.
func (h *dispatchHarness) job(kind, key string, payload any) jobs.Info {
	h.t.Helper()
	in, err := h.store.GetJob(h.ctx, kind+":"+key)
	if err != nil {
		h.t.Fatalf("job %s %s: %v", kind, key, err)
	}
	if payload != nil {
		if err := json.Unmarshal(in.Payload, payload); err != nil {
			h.t.Fatalf("job %s %s payload: %v", kind, key, err)
		}
	}
	return in
}

// jobCount counts every job enqueued.
func (h *dispatchHarness) jobCount() int {
	h.t.Helper()
	counts, err := h.store.CountByState(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s %q does not contain %q", what, got, w)
		}
	}
}

// replyText is all a reply shows: its text and its blocks.
func replyContent(t *testing.T, r bot.Reply) string {
	t.Helper()
	blocks, err := json.Marshal(r.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return r.Text + "\n" + string(blocks)
}

func TestDispatchCommandsInIncidentChannel(t *testing.T) {
	cases := []struct {
		text  string
		setup func(h *dispatchHarness, id incidents.ID)
		reply string
		check func(t *testing.T, h *dispatchHarness, inc *incidents.Incident)
	}{
		{text: "sev 1", reply: "Severity is now SEV1.", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
			if inc.Severity != incidents.Sev1 {
				t.Errorf("severity %s", inc.Severity)
			}
		}},
		{text: "SEV sev2", reply: "SEV2", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
			if inc.Severity != incidents.Sev2 {
				t.Errorf("severity %s", inc.Severity)
			}
		}},
		{text: "sev SEV4", reply: "SEV4", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
			if inc.Severity != incidents.Sev4 {
				t.Errorf("severity %s", inc.Severity)
			}
		}},
		{text: "status Monitoring", reply: "Status is now monitoring.", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
			if inc.Status != incidents.StatusMonitoring || inc.MitigatedAt.IsZero() {
				t.Errorf("status %s, mitigated at %v", inc.Status, inc.MitigatedAt)
			}
		}},
		{text: "status resolved", reply: "Resolved INC-1.", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
			if inc.Status != incidents.StatusResolved || h.count(inc.ID, incidents.EventResolved) != 1 {
				t.Errorf("status %s", inc.Status)
			}
		}},
		{text: "lead <@U02BOB|bob>", reply: "<@U02BOB> is now lead.", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
			if inc.Lead() != slackBob {
				t.Errorf("lead %q", inc.Lead())
			}
		}},
		{text: "role comms alice", reply: "<@U01ALICE> is now comms.", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
			if inc.Roles[incidents.RoleComms] != slackAlice {
				t.Errorf("roles %v", inc.Roles)
			}
		}},
		{text: "role IC <@U02BOB>", reply: "is now lead.", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
			if inc.Lead() != slackBob {
				t.Errorf("roles %v", inc.Roles)
			}
		}},
		{text: "note rolled back &amp; watching\n<@U02BOB|bob> is on it", reply: "Added to the timeline of INC-1.",
			check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
				evs := h.timeline(inc.ID)
				last := evs[len(evs)-1]
				if last.Kind != incidents.EventNote || last.Text != "rolled back & watching\n@bob is on it" ||
					last.Actor != incidents.SlackActor(slackBob) {
					t.Errorf("note %+v", last)
				}
			}},
		{text: "timeline", reply: "Timeline of INC-1", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {}},
		{text: "resolve rolled back the deploy", reply: "Resolved INC-1.", check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
			if inc.Status != incidents.StatusResolved || inc.Summary != "rolled back the deploy" {
				t.Errorf("status %s, summary %q", inc.Status, inc.Summary)
			}
		}},
		{text: "reopen it came back", reply: "Reopened INC-1; it is investigating again.",
			setup: func(h *dispatchHarness, id incidents.ID) {
				if _, err := h.svc.Resolve(h.ctx, id, "", "cli"); err != nil {
					h.t.Fatal(err)
				}
			},
			check: func(t *testing.T, h *dispatchHarness, inc *incidents.Incident) {
				evs := h.timeline(inc.ID)
				if inc.Status != incidents.StatusInvestigating || evs[len(evs)-1].Text != "Reopened: it came back" {
					t.Errorf("status %s, last event %+v", inc.Status, evs[len(evs)-1])
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			h := newDispatchHarness(t)
			inc := h.incident("Checkout is down")
			if c.setup != nil {
				c.setup(h, inc.ID)
			}
			r := h.command(slackBob, inc.ChannelID, c.text)
			wantContains(t, "reply", replyContent(t, r), c.reply)
			if r.InChannel {
				t.Error("the reply is shown to everybody")
			}
			c.check(t, h, h.get(inc.ID))
		})
	}
}

func TestDispatchCommandsAnswerBadArgumentsWithUsage(t *testing.T) {
	cases := []struct{ text, want string }{
		{"sev", "Usage: `/incident sev &lt;1-4&gt;`"},
		{"sev 9", `"9" is not a severity`},
		{"sev 1 2", "Usage: `/incident sev"},
		{"status", "Usage: `/incident status &lt;investigating|identified|monitoring|resolved&gt;`"},
		{"status fixed", `"fixed" is not a status`},
		{"status identified please", "Usage: `/incident status"},
		{"lead", "Say who should lead.\nUsage: `/incident lead @user`"},
		{"lead alice bob", "Usage: `/incident lead @user`"},
		{"role comms", "Usage: `/incident role &lt;lead|comms&gt; @user`"},
		{"role scribe alice", `"scribe" is not a role`},
		{"note", "A note needs some text.\nUsage: `/incident note &lt;text&gt;`"},
		{"note <@U02BOB>", ""}, // a mention is text: a note, no error
		{"list open", "Usage: `/incident list`"},
		{"declare sev1 checkout", ""}, // a one-word title, no error
		{"declare   ", ""},            // the form; covered elsewhere
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			h := newDispatchHarness(t)
			inc := h.incident("Checkout is down")
			before := len(h.timeline(inc.ID))
			r := h.command(slackBob, inc.ChannelID, c.text)
			if c.want == "" {
				if strings.HasPrefix(r.Text, ":warning:") {
					t.Errorf("reply %q, want no warning", r.Text)
				}
				return
			}
			if !strings.HasPrefix(r.Text, ":warning: ") {
				t.Errorf("reply %q is not a warning", r.Text)
			}
			wantContains(t, "reply", r.Text, c.want)
			if after := len(h.timeline(inc.ID)); after != before {
				t.Errorf("a refused command added %d timeline events", after-before)
			}
		})
	}
}

func TestDispatchRefusedChangesAreWarnings(t *testing.T) {
	h := newDispatchHarness(t)
	inc := h.incident("Checkout is down")
	h.command(slackBob, inc.ChannelID, "lead alice")
	for text, want := range map[string]string{
		"sev 3":                "INC-1 is already sev3.",
		"status investigating": "INC-1 is already investigating.",
		"lead alice":           "U01ALICE is already lead of INC-1.",
		"reopen":               "INC-1 is still open (investigating)",
	} {
		r := h.command(slackBob, inc.ChannelID, text)
		if !strings.HasPrefix(r.Text, ":warning: ") {
			t.Errorf("%s: reply %q is not a warning", text, r.Text)
		}
		wantContains(t, text, r.Text, want)
	}
	h.command(slackBob, inc.ChannelID, "resolve")
	r := h.command(slackBob, inc.ChannelID, "resolve")
	wantContains(t, "second resolve", r.Text, ":warning: INC-1 is already resolved.")
	if n := h.count(inc.ID, incidents.EventResolved); n != 1 {
		t.Errorf("%d resolutions", n)
	}
}

func TestDispatchHelpListsEveryCommand(t *testing.T) {
	h := newDispatchHarness(t)
	// A feature's command, added during wiring, is listed too.
	h.bot.Commands().Add(bot.Command{Name: "postmortem", Help: "Draft the postmortem",
		Run: func(context.Context, *bot.Request) (bot.Reply, error) { return bot.Reply{}, nil }})
	want := []string{"help", "declare", "list", "sev", "status", "lead", "role", "note", "timeline", "alerts", "digest", "resolve", "reopen", "postmortem"}
	var got []string
	for _, c := range h.bot.Commands().All() {
		got = append(got, c.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("commands %v, want %v", got, want)
	}
	for _, text := range []string{"", "help", "  HELP  "} {
		r := h.command(slackBob, "CRANDOM", text)
		all := replyContent(t, r)
		for _, c := range h.bot.Commands().All() {
			wantContains(t, fmt.Sprintf("help (%q)", text), all, "/incident "+c.Name)
		}
	}
}

func TestDispatchUnknownVerb(t *testing.T) {
	h := newDispatchHarness(t)
	cases := map[string]string{
		"sevv 1":     "I don't know `/incident sevv`. Did you mean `/incident sev`? Type `/incident help` for the list.",
		"Resolv":     "Did you mean `/incident resolve`?",
		"timelin":    "Did you mean `/incident timeline`?",
		"frobnicate": "I don't know `/incident frobnicate`. Type `/incident help` for the list.",
		"<!channel>": "I don't know `/incident &lt;!channel&gt;`.",
	}
	for text, want := range cases {
		r := h.command(slackBob, "CRANDOM", text)
		wantContains(t, text, r.Text, want)
	}
}

func TestDispatchIncidentCommandsOutsideIncidentChannels(t *testing.T) {
	h := newDispatchHarness(t)
	r := h.command(slackBob, "CRANDOM", "sev 1")
	wantContains(t, "reply", r.Text, "`/incident sev` works in an incident's channel.", "There are no open incidents.")

	a := h.incident("Checkout is down")
	if _, err := h.svc.Declare(h.ctx, incidents.DeclareInput{Title: "<!channel> no channel yet"}); err != nil {
		t.Fatal(err)
	}
	resolved := h.incident("Old one")
	h.svc.Resolve(h.ctx, resolved.ID, "", "cli")
	for _, verb := range []string{"sev 1", "status monitoring", "lead alice", "role comms alice", "note x", "timeline", "resolve", "reopen"} {
		r := h.command(slackBob, "CRANDOM", verb)
		wantContains(t, verb, r.Text, "works in an incident's channel.", "Open incidents: ", "<#"+a.ChannelID+">",
			"INC-2 (&lt;!channel&gt; no channel yet)")
		if strings.Contains(r.Text, resolved.ChannelID) {
			t.Errorf("%s: a resolved incident is listed: %q", verb, r.Text)
		}
	}
	if got := h.get(a.ID); got.Severity != incidents.Sev3 {
		t.Errorf("a command outside the channel changed the incident: %s", got.Severity)
	}
}

func TestDispatchList(t *testing.T) {
	h := newDispatchHarness(t)
	wantContains(t, "empty list", replyContent(t, h.command(slackBob, "CRANDOM", "list")), "No open incidents.")
	a := h.incident("Checkout is down")
	b := h.incident("Search is slow")
	h.svc.Resolve(h.ctx, b.ID, "", "cli")
	all := replyContent(t, h.command(slackBob, a.ChannelID, "list"))
	wantContains(t, "list", all, "1 open incident", "Checkout is down", "<#"+a.ChannelID+">")
	if strings.Contains(all, "Search is slow") {
		t.Errorf("the list shows a resolved incident: %s", all)
	}
}

func TestDispatchDeclareParsing(t *testing.T) {
	cases := []struct {
		text, title string
		sev         incidents.Severity
		service     string
	}{
		{"declare Checkout is down sev1 checkout", "Checkout is down", incidents.Sev1, "checkout"},
		{"declare Checkout is down checkout SEV2", "Checkout is down", incidents.Sev2, "checkout"},
		{"new Search is slow", "Search is slow", incidents.Sev3, ""},
		{"declare Search is slow Search", "Search is slow", incidents.Sev3, "search"},
		{"DECLARE Payments sev1 failing", "Payments sev1 failing", incidents.Sev3, ""},
		{"declare Checkout down sev1 sev2", "Checkout down sev1", incidents.Sev2, ""},
		{"declare Checkout down checkout search", "Checkout down checkout", incidents.Sev3, "search"},
		{"declare Checkout down 1", "Checkout down 1", incidents.Sev3, ""},
		{"declare checkout", "checkout", incidents.Sev3, ""},
		{"declare sev1 checkout", "sev1", incidents.Sev3, "checkout"},
		{"declare   Checkout   is down   sev4  ", "Checkout   is down", incidents.Sev4, ""},
		{"declare Orders &amp; payments &lt;EU&gt; down", "Orders & payments <EU> down", incidents.Sev3, ""},
		{"declare <!channel> DB is down <https://status.example.com|status.example.com>", "@channel DB is down status.example.com", incidents.Sev3, ""},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			h := newDispatchHarness(t)
			r := h.command(slackBob, "CRANDOM", c.text)
			list := h.all()
			if len(list) != 1 {
				t.Fatalf("reply %q; %d incidents declared", r.Text, len(list))
			}
			inc := list[0]
			if inc.Title != c.title || inc.Severity != c.sev || inc.Service != c.service {
				t.Errorf("declared %q %s %q, want %q %s %q", inc.Title, inc.Severity, inc.Service, c.title, c.sev, c.service)
			}
			if inc.Lead() != slackBob || inc.DeclaredBy != incidents.SlackActor(slackBob) {
				t.Errorf("lead %q, declared by %q; want the person who typed it", inc.Lead(), inc.DeclaredBy)
			}
			want := fmt.Sprintf(":white_check_mark: Declared *INC-1*: %s (%s", bot.Escape(c.title), strings.ToUpper(string(c.sev)))
			if c.service != "" {
				want += ", " + c.service
			}
			wantContains(t, "reply", r.Text, want+"). Setting up the channel…")
			if strings.Contains(r.Text, "<!channel>") {
				t.Errorf("reply %q can ping the channel", r.Text)
			}
		})
	}
}

func TestDispatchDeclareIsIdempotentPerTrigger(t *testing.T) {
	h := newDispatchHarness(t)
	cmd := slack.SlashCommand{UserID: slackBob, ChannelID: "CRANDOM", Text: "declare Checkout is down sev1", TriggerID: "T-retried"}
	first := h.bot.Command(h.ctx, cmd)
	again := h.bot.Command(h.ctx, cmd) // Slack retried the request
	if first.Text != again.Text {
		t.Errorf("replies differ: %q, %q", first.Text, again.Text)
	}
	if n := len(h.all()); n != 1 {
		t.Fatalf("%d incidents after a retried command", n)
	}
	cmd.TriggerID = "T-other"
	h.bot.Command(h.ctx, cmd)
	if n := len(h.all()); n != 2 {
		t.Fatalf("%d incidents after a second command, want 2", n)
	}
}

func TestDispatchDeclareValidation(t *testing.T) {
	h := newDispatchHarness(t)
	r := h.command(slackBob, "CRANDOM", "declare "+strings.Repeat("x", incidents.MaxTitleLen+1))
	wantContains(t, "reply", r.Text, ":warning: The title is too long")
	if n := len(h.all()); n != 0 {
		t.Errorf("%d incidents declared", n)
	}
}

func TestDispatchMentions(t *testing.T) {
	cases := []struct {
		arg, want, warn string
	}{
		{arg: "<@U02BOB>", want: slackBob},
		{arg: "<@U02BOB|bob>", want: slackBob},
		{arg: "<@W0ENTERPRISE|Ann Lee>", want: "W0ENTERPRISE"},
		{arg: "U02BOB", want: slackBob},
		{arg: "alice", want: slackAlice},
		{arg: "Alice", want: slackAlice},
		{arg: "@alice", want: slackAlice},
		{arg: "carol", want: "carol"}, // configured by email only
		{arg: "@carol", want: "carol"},
		{arg: "@dave", warn: "I can't tell who @dave is: pick them from the list Slack shows as you type @"},
		{arg: "dave", warn: `I can't tell who "dave" is`},
		{arg: "<#C1|general>", warn: `I can't tell who "#general" is`},
		{arg: "<!channel>", warn: `I can't tell who "@channel" is`},
		{arg: "u02bob", warn: `I can't tell who "u02bob" is`},
	}
	for _, c := range cases {
		t.Run(c.arg, func(t *testing.T) {
			h := newDispatchHarness(t)
			inc := h.incident("Checkout is down")
			for _, text := range []string{"lead " + c.arg, "role comms " + c.arg} {
				r := h.command(slackBob, inc.ChannelID, text)
				if c.warn != "" {
					wantContains(t, text, r.Text, ":warning: ", c.warn)
					continue
				}
				if strings.HasPrefix(r.Text, ":warning:") {
					t.Errorf("%s: %q", text, r.Text)
				}
			}
			got := h.get(inc.ID)
			if c.warn != "" {
				if len(got.Roles) != 0 {
					t.Errorf("roles changed: %v", got.Roles)
				}
				return
			}
			if got.Lead() != c.want || got.Roles[incidents.RoleComms] != c.want {
				t.Errorf("roles %v, want %q as lead and comms", got.Roles, c.want)
			}
		})
	}
}

func TestDispatchDeclareFormOpens(t *testing.T) {
	h := newDispatchHarness(t)
	r := h.bot.Command(h.ctx, slack.SlashCommand{UserID: slackBob, ChannelID: "CRANDOM", Text: "declare", TriggerID: "T123.456"})
	if r.Text != "Opening the declare form…" {
		t.Errorf("reply %q", r.Text)
	}
	var p bot.OpenViewJob
	in := h.job(bot.JobOpenView, "T123.456", &p)
	if in.Kind != bot.JobOpenView || p.TriggerID != "T123.456" {
		t.Errorf("job %+v, payload %+v", in, p)
	}
	var view slack.ModalViewRequest
	if err := json.Unmarshal(p.View, &view); err != nil {
		t.Fatalf("view %s: %v", p.View, err)
	}
	if view.CallbackID != bot.ViewDeclare {
		t.Errorf("view callback ID %q", view.CallbackID)
	}
	wantContains(t, "view", string(p.View), `"checkout"`, `"search"`)
	if h.wakes == 0 {
		t.Error("the job queue was not woken")
	}
	if len(h.all()) != 0 {
		t.Error("opening the form declared an incident")
	}

	// Without a trigger ID no form can open.
	r = h.bot.Command(h.ctx, slack.SlashCommand{UserID: slackBob, ChannelID: "CRANDOM", Text: "new"})
	wantContains(t, "reply without trigger", r.Text, ":warning: ", "Type the title instead")
	if n := h.jobCount(); n != 1 {
		t.Errorf("%d jobs, want only the first form", n)
	}
}

// submission is the declare modal submitted by user with values by block.
func viewSubmission(viewID, user string, values map[string]slack.BlockAction) slack.InteractionCallback {
	st := &slack.ViewState{Values: map[string]map[string]slack.BlockAction{}}
	for block, v := range values {
		st.Values[block] = map[string]slack.BlockAction{block: v}
	}
	return slack.InteractionCallback{
		Type: slack.InteractionTypeViewSubmission,
		User: slack.User{ID: user},
		View: slack.View{ID: viewID, CallbackID: bot.ViewDeclare, State: st},
	}
}

func selectedOption(v string) slack.BlockAction {
	return slack.BlockAction{SelectedOption: slack.OptionBlockObject{Value: v}}
}

func TestDispatchDeclareFormErrors(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]slack.BlockAction
		want   map[string]string
	}{
		{"no title", map[string]slack.BlockAction{bot.BlockTitle: {Value: "   "}},
			map[string]string{bot.BlockTitle: "Say in a few words what is wrong."}},
		{"long title", map[string]slack.BlockAction{bot.BlockTitle: {Value: strings.Repeat("é", incidents.MaxTitleLen+1)}},
			map[string]string{bot.BlockTitle: "Keep the title under 200 characters (it has 201)"}},
		{"bad severity and service", map[string]slack.BlockAction{
			bot.BlockTitle: {Value: "Checkout is down"}, bot.BlockSeverity: selectedOption("sev9"), bot.BlockService: {Value: "billing"}},
			map[string]string{bot.BlockSeverity: "Pick a severity", bot.BlockService: `"billing" is not a configured service.`}},
		{"long description", map[string]slack.BlockAction{
			bot.BlockTitle: {Value: "Checkout is down"}, bot.BlockDescription: {Value: strings.Repeat("d", incidents.MaxTextLen+1)}},
			map[string]string{bot.BlockDescription: "The description is too long"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newDispatchHarness(t)
			resp, err := h.bot.Interaction(h.ctx, viewSubmission("V1", slackBob, c.values))
			if err != nil {
				t.Fatal(err)
			}
			vr, ok := resp.(*slack.ViewSubmissionResponse)
			if !ok || vr.ResponseAction != slack.RAErrors {
				t.Fatalf("response %#v, want errors", resp)
			}
			if len(vr.Errors) != len(c.want) {
				t.Errorf("errors %v, want %v", vr.Errors, c.want)
			}
			for block, want := range c.want {
				wantContains(t, "error of "+block, vr.Errors[block], want)
			}
			body, _ := json.Marshal(resp)
			wantContains(t, "response", string(body), `"response_action":"errors"`, `"errors":{`)
			if n := len(h.all()); n != 0 {
				t.Errorf("%d incidents declared", n)
			}
		})
	}
}

func TestDispatchDeclareFormDeclaresOnce(t *testing.T) {
	h := newDispatchHarness(t)
	cb := viewSubmission("V-double", slackBob, map[string]slack.BlockAction{
		bot.BlockTitle:       {Value: "  Checkout <!channel> is down "},
		bot.BlockSeverity:    selectedOption("sev1"),
		bot.BlockService:     selectedOption("checkout"),
		bot.BlockDescription: {Value: "5xx since 14:02"},
	})
	for range 2 { // a double submission
		resp, err := h.bot.Interaction(h.ctx, cb)
		if err != nil || resp != nil {
			t.Fatalf("response %#v, %v; want nil to close the modal", resp, err)
		}
	}
	list := h.all()
	if len(list) != 1 {
		t.Fatalf("%d incidents declared", len(list))
	}
	inc := list[0]
	if inc.Title != "Checkout <!channel> is down" || inc.Severity != incidents.Sev1 || inc.Service != "checkout" ||
		inc.Description != "5xx since 14:02" || inc.Lead() != slackBob || inc.DeclaredBy != incidents.SlackActor(slackBob) {
		t.Errorf("declared %+v", inc)
	}

	// A service typed into a text input (too many services for a select),
	// and no severity: the default.
	cb = viewSubmission("V-other", slackAlice, map[string]slack.BlockAction{
		bot.BlockTitle: {Value: "Search is slow"}, bot.BlockService: {Value: "Search"}})
	if resp, err := h.bot.Interaction(h.ctx, cb); err != nil || resp != nil {
		t.Fatalf("response %#v, %v", resp, err)
	}
	inc = h.all()[0]
	if inc.Title != "Search is slow" || inc.Service != "search" || inc.Severity != incidents.Sev3 || inc.Lead() != slackAlice {
		t.Errorf("declared %+v", inc)
	}
}

// click is a block action by user in channel.
func blockClick(trigger, user, channel string, act slack.BlockAction) slack.InteractionCallback {
	return slack.InteractionCallback{
		Type:           slack.InteractionTypeBlockActions,
		TriggerID:      trigger,
		User:           slack.User{ID: user},
		Channel:        slack.Channel{GroupConversation: slack.GroupConversation{Conversation: slack.Conversation{ID: channel}}},
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{&act}},
	}
}

func TestDispatchStatusSelectAndResolveButton(t *testing.T) {
	h := newDispatchHarness(t)
	inc := h.incident("Checkout is down")
	interact := func(cb slack.InteractionCallback) {
		t.Helper()
		if resp, err := h.bot.Interaction(h.ctx, cb); err != nil || resp != nil {
			t.Fatalf("response %#v, %v", resp, err)
		}
	}
	interact(blockClick("T1", slackBob, inc.ChannelID, slack.BlockAction{ActionID: bot.ActionStatus,
		SelectedOption: slack.OptionBlockObject{Value: "INC-1|monitoring"}}))
	if got := h.get(inc.ID); got.Status != incidents.StatusMonitoring {
		t.Fatalf("status %s after the select", got.Status)
	}
	evs := h.timeline(inc.ID)
	if last := evs[len(evs)-1]; last.Actor != incidents.SlackActor(slackBob) {
		t.Errorf("status changed by %q", last.Actor)
	}

	// A double click on Resolve: one resolution, and the second click is
	// told why nothing happened.
	resolve := slack.BlockAction{ActionID: bot.ActionResolve, Value: "INC-1"}
	interact(blockClick("T2", slackBob, inc.ChannelID, resolve))
	interact(blockClick("T3", slackBob, inc.ChannelID, resolve))
	if got := h.get(inc.ID); got.Status != incidents.StatusResolved {
		t.Fatalf("status %s after resolve", got.Status)
	}
	if n := h.count(inc.ID, incidents.EventResolved); n != 1 {
		t.Errorf("%d resolutions", n)
	}
	var eph bot.EphemeralJob
	h.job(bot.JobEphemeral, "T3:"+bot.ActionResolve, &eph)
	if eph.Channel != inc.ChannelID || eph.User != slackBob || eph.Text != ":warning: INC-1 is already resolved." {
		t.Errorf("ephemeral %+v", eph)
	}
	// Slack retrying the same click says it once.
	interact(blockClick("T3", slackBob, inc.ChannelID, resolve))
	// The select on a resolved incident is refused the same way.
	interact(blockClick("T4", slackBob, inc.ChannelID, slack.BlockAction{ActionID: bot.ActionStatus,
		SelectedOption: slack.OptionBlockObject{Value: "INC-1|identified"}}))
	h.job(bot.JobEphemeral, "T4:"+bot.ActionStatus, &eph)
	wantContains(t, "ephemeral", eph.Text, ":warning: INC-1 is resolved; reopen it first")
	if n := h.jobCount(); n != 2 {
		t.Errorf("%d jobs, want the two ephemeral answers", n)
	}

	// Selecting "resolved" resolves.
	other := h.incident("Search is slow")
	interact(blockClick("T5", slackBob, other.ChannelID, slack.BlockAction{ActionID: bot.ActionStatus,
		SelectedOption: slack.OptionBlockObject{Value: "INC-2|resolved"}}))
	if got := h.get(other.ID); got.Status != incidents.StatusResolved {
		t.Errorf("status %s after selecting resolved", got.Status)
	}
}

func TestDispatchIgnoresOtherInteractions(t *testing.T) {
	h := newDispatchHarness(t)
	inc := h.incident("Checkout is down")
	before := len(h.timeline(inc.ID))
	for name, cb := range map[string]slack.InteractionCallback{
		"unknown action":   blockClick("T1", slackBob, inc.ChannelID, slack.BlockAction{ActionID: "something_else", Value: "INC-1"}),
		"malformed select": blockClick("T2", slackBob, inc.ChannelID, slack.BlockAction{ActionID: bot.ActionStatus, SelectedOption: slack.OptionBlockObject{Value: "monitoring"}}),
		"malformed button": blockClick("T3", slackBob, inc.ChannelID, slack.BlockAction{ActionID: bot.ActionResolve, Value: "nope"}),
		"other view":       {Type: slack.InteractionTypeViewSubmission, View: slack.View{ID: "V1", CallbackID: "other"}},
		"shortcut":         {Type: slack.InteractionTypeShortcut},
	} {
		resp, err := h.bot.Interaction(h.ctx, cb)
		if resp != nil || err != nil {
			t.Errorf("%s: %#v, %v", name, resp, err)
		}
	}
	if after := len(h.timeline(inc.ID)); after != before || h.jobCount() != 0 {
		t.Errorf("ignored interactions changed something: %d events, %d jobs", after-before, h.jobCount())
	}
	if got := h.get(inc.ID); got.Status != incidents.StatusInvestigating {
		t.Errorf("status %s", got.Status)
	}
}

// event wraps an inner event as Slack delivers it.
func callbackEvent(id string, inner any) slackevents.EventsAPIEvent {
	typ := ""
	switch inner.(type) {
	case *slackevents.ReactionAddedEvent:
		typ = "reaction_added"
	case *slackevents.PinAddedEvent:
		typ = "pin_added"
	case *slackevents.MemberJoinedChannelEvent:
		typ = "member_joined_channel"
	}
	return slackevents.EventsAPIEvent{
		Type:       slackevents.CallbackEvent,
		Data:       &slackevents.EventsAPICallbackEvent{Type: slackevents.CallbackEvent, EventID: id},
		InnerEvent: slackevents.EventsAPIInnerEvent{Type: typ, Data: inner},
	}
}

func reactionAdded(user, emoji, channel, ts string) *slackevents.ReactionAddedEvent {
	return &slackevents.ReactionAddedEvent{Type: "reaction_added", User: user, Reaction: emoji,
		Item: slackevents.Item{Type: "message", Channel: channel, Timestamp: ts}}
}

func TestDispatchReactionsCopyMessages(t *testing.T) {
	cases := []struct {
		name    string
		ev      func(inc *incidents.Incident) *slackevents.ReactionAddedEvent
		copied  bool
		channel string
	}{
		{"timeline emoji", func(inc *incidents.Incident) *slackevents.ReactionAddedEvent {
			return reactionAdded(slackBob, "pushpin", inc.ChannelID, "1700000000.000100")
		}, true, ""},
		{"other emoji", func(inc *incidents.Incident) *slackevents.ReactionAddedEvent {
			return reactionAdded(slackBob, "eyes", inc.ChannelID, "1700000000.000100")
		}, false, ""},
		{"not an incident channel", func(inc *incidents.Incident) *slackevents.ReactionAddedEvent {
			return reactionAdded(slackBob, "pushpin", "CRANDOM", "1700000000.000100")
		}, false, ""},
		{"a file", func(inc *incidents.Incident) *slackevents.ReactionAddedEvent {
			ev := reactionAdded(slackBob, "pushpin", inc.ChannelID, "1700000000.000100")
			ev.Item.Type = "file"
			return ev
		}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newDispatchHarness(t)
			inc := h.incident("Checkout is down")
			if err := h.bot.Event(h.ctx, callbackEvent("Ev1", c.ev(inc))); err != nil {
				t.Fatal(err)
			}
			if !c.copied {
				if n := h.jobCount(); n != 0 {
					t.Errorf("%d jobs enqueued", n)
				}
				return
			}
			var p bot.CopyMessageJob
			in := h.job(bot.JobCopyMessage, inc.ChannelID+":1700000000.000100", &p)
			want := bot.CopyMessageJob{Incident: inc.ID, Channel: inc.ChannelID, TS: "1700000000.000100", By: slackBob, Via: "reaction"}
			if p != want || in.SerialKey != "" {
				t.Errorf("job %+v (serial %q), want %+v", p, in.SerialKey, want)
			}
			if h.wakes == 0 {
				t.Error("the job queue was not woken")
			}
		})
	}
}

func TestDispatchPinAndReactionsCopyOnce(t *testing.T) {
	h := newDispatchHarness(t)
	inc := h.incident("Checkout is down")
	const ts = "1700000000.000200"
	pin := &slackevents.PinAddedEvent{Type: "pin_added", User: slackAlice, Channel: inc.ChannelID,
		Item: slackevents.Item{Type: "message", Channel: inc.ChannelID,
			Message: &slackevents.ItemMessage{Type: "message", User: slackBob, Text: "restarting pods", Timestamp: ts}}}
	for i, ev := range []any{pin, reactionAdded(slackBob, "pushpin", inc.ChannelID, ts), reactionAdded(slackAlice, "pushpin", inc.ChannelID, ts)} {
		if err := h.bot.Event(h.ctx, callbackEvent(fmt.Sprintf("Ev%d", i), ev)); err != nil {
			t.Fatal(err)
		}
	}
	var p bot.CopyMessageJob
	h.job(bot.JobCopyMessage, inc.ChannelID+":"+ts, &p)
	if p.Via != "pin" || p.By != slackAlice || p.TS != ts || p.Incident != inc.ID {
		t.Errorf("job %+v, want the pin's", p)
	}
	if n := h.jobCount(); n != 1 {
		t.Errorf("%d jobs, want one copy", n)
	}
}

func TestDispatchTimelineEmojiIsConfigurable(t *testing.T) {
	h := newDispatchHarness(t)
	st := h.store
	b, err := bot.New(bot.Options{Slack: config.Slack{TimelineEmoji: ":bookmark:"}, Incidents: h.svc, Store: st, Jobs: st, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	inc := h.incident("Checkout is down")
	for i, emoji := range []string{"pushpin", "bookmark"} {
		if err := b.Event(h.ctx, callbackEvent(fmt.Sprint("Ev", i), reactionAdded(slackBob, emoji, inc.ChannelID, fmt.Sprint("17.", i)))); err != nil {
			t.Fatal(err)
		}
	}
	h.job(bot.JobCopyMessage, inc.ChannelID+":17.1", nil)
	if n := h.jobCount(); n != 1 {
		t.Errorf("%d jobs, want only the bookmark's", n)
	}
}

func memberJoined(user, channel string) *slackevents.MemberJoinedChannelEvent {
	return &slackevents.MemberJoinedChannelEvent{Type: "member_joined_channel", User: user, Channel: channel}
}

func TestDispatchMemberJoinedIsRecorded(t *testing.T) {
	h := newDispatchHarness(t)
	inc := h.incident("Checkout is down")
	if err := h.bot.Event(h.ctx, callbackEvent("Ev1", memberJoined(slackBob, inc.ChannelID))); err != nil {
		t.Fatal(err)
	}
	if err := h.bot.Event(h.ctx, callbackEvent("Ev2", memberJoined(slackBob, "CRANDOM"))); err != nil {
		t.Fatal(err)
	}
	evs := h.timeline(inc.ID)
	last := evs[len(evs)-1]
	if last.Kind != bot.EventJoined || last.Actor != incidents.SlackActor(slackBob) || last.Data["user"] != slackBob ||
		last.Text != "joined the channel" {
		t.Errorf("last event %+v", last)
	}
	if n := h.count(inc.ID, bot.EventJoined); n != 1 {
		t.Errorf("%d joins recorded", n)
	}
}

func TestDispatchEventsAreHandledOnce(t *testing.T) {
	h := newDispatchHarness(t)
	inc := h.incident("Checkout is down")
	ev := callbackEvent("Ev-retried", memberJoined(slackBob, inc.ChannelID))
	for range 3 { // Slack retries
		if err := h.bot.Event(h.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.count(inc.ID, bot.EventJoined); n != 1 {
		t.Fatalf("%d joins recorded for one event", n)
	}
	if err := h.bot.Event(h.ctx, callbackEvent("Ev-next", memberJoined(slackAlice, inc.ChannelID))); err != nil {
		t.Fatal(err)
	}
	// Without an event ID (Socket Mode always has one) every delivery counts.
	for range 2 {
		if err := h.bot.Event(h.ctx, callbackEvent("", memberJoined(slackBob, inc.ChannelID))); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.count(inc.ID, bot.EventJoined); n != 4 {
		t.Errorf("%d joins recorded, want 4", n)
	}
	// Anything but an event callback is not for the dispatcher.
	if err := h.bot.Event(h.ctx, slackevents.EventsAPIEvent{Type: slackevents.URLVerification}); err != nil {
		t.Error(err)
	}
}

func TestDispatchPrunesOldEventIDs(t *testing.T) {
	h := newDispatchHarness(t)
	inc := h.incident("Checkout is down")
	send := func(id string) {
		t.Helper()
		if err := h.bot.Event(h.ctx, callbackEvent(id, memberJoined(slackBob, inc.ChannelID))); err != nil {
			t.Fatal(err)
		}
	}
	send("Ev-old")
	h.clock.Advance(25 * time.Hour)
	send("Ev-new") // prunes what is older than a day
	send("Ev-old") // not remembered any more: handled again
	send("Ev-new") // still remembered
	if n := h.count(inc.ID, bot.EventJoined); n != 3 {
		t.Errorf("%d joins recorded, want 3", n)
	}
}

// flakyStore fails IncidentByChannel while fail is set.
type flakyStore struct {
	bot.Store
	fail error
}

func (s *flakyStore) IncidentByChannel(ctx context.Context, ch string) (*incidents.Incident, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	return s.Store.IncidentByChannel(ctx, ch)
}

func TestDispatchFailedEventIsHandledOnRetry(t *testing.T) {
	flaky := &flakyStore{fail: errors.New("database is locked")}
	h := newDispatchHarness(t, func(s bot.Store) bot.Store { flaky.Store = s; return flaky })
	inc := h.incident("Checkout is down")
	ev := callbackEvent("Ev-failing", memberJoined(slackBob, inc.ChannelID))
	err := h.bot.Event(h.ctx, ev)
	if err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("handling with a failing store: %v", err)
	}
	flaky.fail = nil
	if err := h.bot.Event(h.ctx, ev); err != nil { // Slack's retry
		t.Fatal(err)
	}
	if err := h.bot.Event(h.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if n := h.count(inc.ID, bot.EventJoined); n != 1 {
		t.Errorf("%d joins recorded, want the retry's only", n)
	}
}

func TestDispatchHidesInternalErrors(t *testing.T) {
	flaky := &flakyStore{}
	h := newDispatchHarness(t, func(s bot.Store) bot.Store { flaky.Store = s; return flaky })
	flaky.fail = errors.New("disk I/O error at /var/lib/warroom.db")
	r := h.command(slackBob, "C0INC1", "sev 1")
	if r.Text != ":x: Something went wrong; it was logged. Please try again." {
		t.Errorf("reply %q", r.Text)
	}
	wantContains(t, "log", h.logs.String(), "level=ERROR", "verb=sev", "disk I/O error")

	// An error of a click is returned for the transport to answer 500.
	flaky.fail = nil
	inc := h.incident("Checkout is down")
	h.store.Close()
	_, err := h.bot.Interaction(h.ctx, blockClick("T1", slackBob, inc.ChannelID, slack.BlockAction{ActionID: bot.ActionResolve, Value: "INC-1"}))
	if err == nil {
		t.Error("a click that could not be stored returned no error")
	}
	_, err = h.bot.Interaction(h.ctx, viewSubmission("V1", slackBob, map[string]slack.BlockAction{bot.BlockTitle: {Value: "x"}}))
	if err == nil {
		t.Error("a form that could not be stored returned no error")
	}
}
