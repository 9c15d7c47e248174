package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/examples"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/internal/slackfake"
)

// These tests drive a whole Warroom the way Slack does: signed requests to
// its HTTP endpoints, with the Web API served by the stateful Slack fake,
// and the job queue run on a manual clock.

const (
	alice = "U01ALICE"
	bob   = "U01BOB"
	dave  = "U01DAVE"
	carol = "U0CAROL" // configured by email only; the sandbox gives her this ID
)

// testConfig is the shipped example with responders for checkout.
func testConfig(t testing.TB) []byte {
	t.Helper()
	cfg := bytes.Replace(examples.Config,
		[]byte("    rollback_approvers: [alice, bob]"),
		[]byte("    rollback_approvers: [alice, bob]\n    responders: [bob, carol]"), 1)
	if bytes.Equal(cfg, examples.Config) {
		t.Fatal("the example config changed; update testConfig")
	}
	return cfg
}

func newSandbox(t *testing.T, opts ...slackfake.Option) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.New(context.Background(), sandbox.Options{Config: testConfig(t), Dir: t.TempDir(), Slack: opts, NoPaging: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return sb
}

// runJobs runs every pending job to the end.
func runJobs(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	n, err := sb.Run(context.Background(), 100000)
	t.Logf("ran %d job attempts; clock at %s", n, sb.Clock.Now().Format(time.TimeOnly))
	if err != nil {
		t.Fatal(err)
	}
	if failed := failedJobs(t, sb); failed != 0 {
		t.Fatalf("%d jobs failed", failed)
	}
}

func failedJobs(t *testing.T, sb *sandbox.Sandbox) int {
	t.Helper()
	counts, err := sb.App.Store.CountByState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return counts["failed"]
}

// command sends a slash command and checks that Slack got a 200 at once.
func command(t *testing.T, sb *sandbox.Sandbox, user, channel, text string) string {
	t.Helper()
	resp, err := sb.Driver.Command(context.Background(), user, channel, text)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("/incident %s: status %d: %s", text, resp.Status, resp.Body)
	}
	if resp.JSON["response_type"] != "ephemeral" {
		t.Errorf("/incident %s: response_type %v, want ephemeral", text, resp.JSON["response_type"])
	}
	reply, _ := resp.JSON["text"].(string)
	return reply
}

func getIncident(t *testing.T, sb *sandbox.Sandbox, id incidents.ID) *incidents.Incident {
	t.Helper()
	inc, err := sb.App.Incidents.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func timeline(t *testing.T, sb *sandbox.Sandbox, id incidents.ID) []incidents.Event {
	t.Helper()
	evs, err := sb.App.Incidents.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func countKind(evs []incidents.Event, k incidents.EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// declare declares an incident from #general and sets its channel up.
func declare(t *testing.T, sb *sandbox.Sandbox, text string) *incidents.Incident {
	t.Helper()
	reply := command(t, sb, alice, "general", "declare "+text)
	if !strings.Contains(reply, "INC-") {
		t.Fatalf("declare replied %q", reply)
	}
	runJobs(t, sb)
	incs, err := sb.App.Incidents.List(context.Background(), incidents.ListFilter{Status: incidents.FilterAll, Limit: 1})
	if err != nil || len(incs) == 0 {
		t.Fatalf("no incident after declare: %v", err)
	}
	return incs[0]
}

// summary is the incident's pinned summary message in the fake.
func summary(t *testing.T, sb *sandbox.Sandbox, inc *incidents.Incident) slackfake.Message {
	t.Helper()
	for _, m := range sb.Slack.Messages(inc.ChannelID) {
		if m.Pinned && m.User == sb.Slack.BotUser() {
			return m
		}
	}
	t.Fatalf("no pinned summary in %s; transcript:\n%s", inc.ChannelName, sb.Slack.Transcript())
	return slackfake.Message{}
}

func TestDeclareSetsUpTheChannel(t *testing.T) {
	sb := newSandbox(t)
	sb.Slack.AddChannel("general", alice, bob)
	inc := declare(t, sb, "Checkout <!channel> is down sev1 checkout")

	if inc.Title != "Checkout @channel is down" || inc.Severity != incidents.Sev1 || inc.Service != "checkout" || inc.Lead() != alice {
		t.Fatalf("declared %+v", inc)
	}
	wantName := bot.ChannelName("inc", inc.ID, inc.Title, 0)
	ch, ok := sb.Slack.Channel(inc.ChannelID)
	if !ok || ch.Name != wantName || inc.ChannelName != wantName {
		t.Fatalf("channel %+v (incident says %s), want %s", ch, inc.ChannelName, wantName)
	}
	for _, want := range []string{"SEV1", "Investigating"} {
		if !strings.Contains(strings.ToUpper(ch.Topic), strings.ToUpper(want)) {
			t.Errorf("topic %q lacks %s", ch.Topic, want)
		}
	}
	if !strings.Contains(ch.Topic, alice) {
		t.Errorf("topic %q does not name the lead", ch.Topic)
	}
	for _, u := range []string{alice, bob, carol} {
		if !contains(ch.Members, u) {
			t.Errorf("%s was not invited; members %v", u, ch.Members)
		}
	}
	if contains(ch.Members, dave) {
		t.Errorf("dave was invited but is no responder")
	}

	sum := summary(t, sb, inc)
	blocks := string(sum.Blocks)
	if !strings.Contains(blocks, "INC-1") || !strings.Contains(blocks, bot.ActionResolve) || !strings.Contains(blocks, bot.ActionStatus) {
		t.Errorf("summary blocks lack the ID or buttons: %s", blocks)
	}
	assertNoPing(t, "summary", sum.Text+blocks)

	ann := sb.Slack.Messages("incidents")
	if len(ann) != 1 {
		t.Fatalf("announcement channel has %d messages, want 1", len(ann))
	}
	annText := ann[0].Text + string(ann[0].Blocks)
	if !strings.Contains(annText, "<#"+inc.ChannelID) {
		t.Errorf("announcement does not link the channel: %s", annText)
	}
	assertNoPing(t, "announcement", annText)

	evs := timeline(t, sb, inc.ID)
	if countKind(evs, incidents.EventDeclared) != 1 || countKind(evs, incidents.EventChannel) != 1 {
		t.Errorf("timeline %v", evs)
	}
	// Each thing was made once.
	if n := sb.Slack.CountCalls("conversations.create", true); n != 1 {
		t.Errorf("%d channels created", n)
	}
	if n := sb.Slack.CountCalls("pins.add", true); n != 1 {
		t.Errorf("%d pins", n)
	}
}

// assertNoPing checks that rendered Slack text holds no live mention of
// what users typed.
func assertNoPing(t *testing.T, what, s string) {
	t.Helper()
	s = strings.ReplaceAll(s, `\u003c`, "<")
	s = strings.ReplaceAll(s, `\u003e`, ">")
	if strings.Contains(s, "<!channel>") {
		t.Errorf("%s pings the channel: %s", what, s)
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

func TestNameTakenPicksAnotherName(t *testing.T) {
	sb := newSandbox(t)
	taken := bot.ChannelName("inc", 1, "Payments slow", 0)
	sb.Slack.AddChannel(taken)
	inc := declare(t, sb, "Payments slow")
	if inc.ChannelName == taken || inc.ChannelName != bot.ChannelName("inc", 1, "Payments slow", 1) {
		t.Errorf("channel %q; %q was taken", inc.ChannelName, taken)
	}
}

func TestChannelCommandsEditTheSummaryAndPost(t *testing.T) {
	sb := newSandbox(t)
	inc := declare(t, sb, "Checkout errors sev2 checkout")
	ch := inc.ChannelID

	steps := []struct{ text, reply string }{
		{"sev 1", "SEV1"},
		{"status identified", "identified"},
		{"lead <@U01BOB|bob>", ""},
		{"role comms <@U01DAVE>", ""},
		{"note rolled back <!channel> build 42", ""},
		{"status monitoring", "monitoring"},
	}
	for _, s := range steps {
		reply := command(t, sb, alice, ch, s.text)
		if s.reply != "" && !strings.Contains(strings.ToLower(reply), strings.ToLower(s.reply)) {
			t.Errorf("/incident %s replied %q", s.text, reply)
		}
		sb.Clock.Advance(2 * time.Second)
		runJobs(t, sb)
	}
	got := getIncident(t, sb, inc.ID)
	if got.Severity != incidents.Sev1 || got.Status != incidents.StatusMonitoring || got.Lead() != bob || got.Roles[incidents.RoleComms] != dave {
		t.Fatalf("incident %+v", got)
	}
	sum := summary(t, sb, got)
	if sum.Edits == 0 {
		t.Error("the summary was never edited")
	}
	if !strings.Contains(strings.ToLower(string(sum.Blocks)), "monitoring") || !strings.Contains(string(sum.Blocks), bob) {
		t.Errorf("the summary does not show the current state: %s", sum.Blocks)
	}
	chInfo, _ := sb.Slack.Channel(ch)
	if !strings.Contains(chInfo.Topic, bob) || !strings.Contains(strings.ToLower(chInfo.Topic), "monitoring") {
		t.Errorf("topic %q", chInfo.Topic)
	}
	if !contains(chInfo.Members, dave) {
		t.Errorf("the new comms lead was not invited: %v", chInfo.Members)
	}
	// Each change was posted in the channel, once, and nobody was pinged
	// by the note.
	posts := 0
	for _, m := range sb.Slack.Messages(ch) {
		if m.User == sb.Slack.BotUser() && !m.Pinned {
			posts++
			assertNoPing(t, "post", m.Text)
		}
	}
	if posts != len(steps) {
		t.Errorf("%d change posts, want %d; transcript:\n%s", posts, len(steps), sb.Slack.Transcript())
	}

	// timeline and resolve.
	if reply := command(t, sb, bob, ch, "timeline"); !strings.Contains(reply+"", "") {
		t.Errorf("timeline replied %q", reply)
	}
	command(t, sb, bob, ch, "resolve Rolled back build 42")
	runJobs(t, sb)
	if got := getIncident(t, sb, inc.ID); got.Status != incidents.StatusResolved || got.Summary != "Rolled back build 42" {
		t.Fatalf("after resolve: %+v", got)
	}
	ann := sb.Slack.Messages("incidents")
	if len(ann) != 1 || ann[0].Edits == 0 {
		t.Errorf("announcement not edited on resolve: %+v", ann)
	}
	command(t, sb, bob, ch, "reopen it came back")
	runJobs(t, sb)
	if got := getIncident(t, sb, inc.ID); got.Status != incidents.StatusInvestigating {
		t.Errorf("after reopen: %s", got.Status)
	}
}

func TestCommandsOutsideAnIncidentChannel(t *testing.T) {
	sb := newSandbox(t)
	sb.Slack.AddChannel("general", alice)
	for _, tc := range []struct{ text, want string }{
		{"help", "declare"},
		{"", "declare"},
		{"sev 1", "incident"},
		{"frobnicate", "help"},
		{"list", "No open incidents"},
	} {
		reply := command(t, sb, alice, "general", tc.text)
		if !strings.Contains(reply, tc.want) {
			t.Errorf("/incident %s replied %q, want it to mention %q", tc.text, reply, tc.want)
		}
	}
	declare(t, sb, "Search is slow")
	if reply := command(t, sb, alice, "general", "list"); !strings.Contains(reply, "Search is slow") && !strings.Contains(reply, "INC-1") {
		t.Errorf("list replied %q", reply)
	}
}

func TestButtonsChangeStatusAndResolveOnce(t *testing.T) {
	sb := newSandbox(t)
	inc := declare(t, sb, "Queue backlog sev2")
	ctx := context.Background()
	click := func(user, actionID, value string, selected bool) {
		t.Helper()
		action := map[string]any{"action_id": actionID, "block_id": "incident_actions", "type": "button", "value": value, "action_ts": fmt.Sprint(sb.Clock.Now().UnixNano())}
		if selected {
			action["type"] = "static_select"
			action["selected_option"] = map[string]any{"value": value, "text": map[string]any{"type": "plain_text", "text": value}}
			delete(action, "value")
		}
		resp, err := sb.Driver.Interaction(ctx, map[string]any{
			"type":       "block_actions",
			"user":       map[string]any{"id": user, "name": user},
			"channel":    map[string]any{"id": inc.ChannelID, "name": inc.ChannelName},
			"team":       map[string]any{"id": sb.Slack.TeamID()},
			"trigger_id": sb.Slack.NewTriggerID(),
			"actions":    []any{action},
		})
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("click %s: %v %d %s", actionID, err, resp.Status, resp.Body)
		}
	}
	click(bob, bot.ActionStatus, inc.ID.String()+"|identified", true)
	runJobs(t, sb)
	if got := getIncident(t, sb, inc.ID); got.Status != incidents.StatusIdentified {
		t.Fatalf("status %s after the select", got.Status)
	}
	// A double click resolves once, and tells the second clicker why
	// nothing happened.
	click(bob, bot.ActionResolve, inc.ID.String(), false)
	click(alice, bot.ActionResolve, inc.ID.String(), false)
	sb.Slack.AddChannel("x") // keep the fake busy with something unrelated
	runJobs(t, sb)
	evs := timeline(t, sb, inc.ID)
	if n := countKind(evs, incidents.EventResolved); n != 1 {
		t.Errorf("%d resolutions", n)
	}
	if eph := sb.Slack.Ephemerals(); len(eph) != 1 || eph[0].EphemeralUser != alice {
		t.Errorf("ephemerals %+v, want one to alice", eph)
	}
	for _, e := range evs {
		if e.Kind == incidents.EventResolved && e.Actor != incidents.SlackActor(bob) {
			t.Errorf("resolved by %s, want bob", e.Actor)
		}
	}
}

func TestDeclareModal(t *testing.T) {
	sb := newSandbox(t)
	sb.Slack.AddChannel("general", alice)
	command(t, sb, alice, "general", "declare")
	runJobs(t, sb)
	views := sb.Slack.Views()
	if len(views) != 1 || views[0].CallbackID != bot.ViewDeclare {
		t.Fatalf("views %+v", views)
	}
	submit := func(title, sev, service string) slackfake.Response {
		t.Helper()
		values := map[string]any{
			bot.BlockTitle:       map[string]any{bot.BlockTitle: map[string]any{"type": "plain_text_input", "value": title}},
			bot.BlockSeverity:    map[string]any{bot.BlockSeverity: map[string]any{"type": "static_select", "selected_option": map[string]any{"value": sev}}},
			bot.BlockDescription: map[string]any{bot.BlockDescription: map[string]any{"type": "plain_text_input", "value": "Cards fail"}},
		}
		if service != "" {
			values[bot.BlockService] = map[string]any{bot.BlockService: map[string]any{"type": "static_select", "selected_option": map[string]any{"value": service}}}
		}
		resp, err := sb.Driver.Interaction(context.Background(), map[string]any{
			"type": "view_submission",
			"user": map[string]any{"id": alice},
			"team": map[string]any{"id": sb.Slack.TeamID()},
			"view": map[string]any{"id": views[0].ID, "callback_id": bot.ViewDeclare, "type": "modal",
				"state": map[string]any{"values": values}},
		})
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("submit: %v %d %s", err, resp.Status, resp.Body)
		}
		return resp
	}
	resp := submit("  ", "sev2", "checkout")
	if resp.JSON["response_action"] != "errors" {
		t.Fatalf("a blank title answered %s", resp.Body)
	}
	errs, _ := resp.JSON["errors"].(map[string]any)
	if errs[bot.BlockTitle] == nil {
		t.Errorf("no error on the title block: %s", resp.Body)
	}
	for range 2 { // a double submit declares once
		if resp := submit("Card payments failing", "sev2", "checkout"); len(resp.Body) != 0 && resp.JSON["response_action"] == "errors" {
			t.Fatalf("a valid form answered %s", resp.Body)
		}
	}
	runJobs(t, sb)
	incs, _ := sb.App.Incidents.List(context.Background(), incidents.ListFilter{Status: incidents.FilterAll})
	if len(incs) != 1 || incs[0].Title != "Card payments failing" || incs[0].Severity != incidents.Sev2 || incs[0].Description != "Cards fail" || incs[0].ChannelID == "" {
		t.Fatalf("incidents %+v", incs)
	}
}

func TestReactionsPinsAndJoinsReachTheTimeline(t *testing.T) {
	sb := newSandbox(t)
	inc := declare(t, sb, "DNS flapping sev2")
	ctx := context.Background()
	ts := sb.Slack.Post(inc.ChannelID, bob, "restarted <https://x.example|resolver> on node 3")
	other := sb.Slack.Post(inc.ChannelID, bob, "brb")
	event := func(id string, ev map[string]any) {
		t.Helper()
		resp, err := sb.Driver.Event(ctx, id, ev)
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("event %s: %v %d %s", id, err, resp.Status, resp.Body)
		}
	}
	item := map[string]any{"type": "message", "channel": inc.ChannelID, "ts": ts}
	event("Ev1", map[string]any{"type": "reaction_added", "user": alice, "reaction": "pushpin", "item": item, "item_user": bob, "event_ts": ts})
	event("Ev1", map[string]any{"type": "reaction_added", "user": alice, "reaction": "pushpin", "item": item, "item_user": bob, "event_ts": ts}) // Slack's retry
	event("Ev2", map[string]any{"type": "reaction_added", "user": alice, "reaction": "eyes", "item": map[string]any{"type": "message", "channel": inc.ChannelID, "ts": other}})
	event("Ev3", map[string]any{"type": "pin_added", "user": dave, "channel_id": inc.ChannelID,
		"item": map[string]any{"type": "message", "channel": inc.ChannelID, "message": map[string]any{"ts": ts, "text": "x", "user": bob}}, "event_ts": ts})
	event("Ev4", map[string]any{"type": "member_joined_channel", "user": dave, "channel": inc.ChannelID, "channel_type": "C"})
	runJobs(t, sb)

	evs := timeline(t, sb, inc.ID)
	if n := countKind(evs, bot.EventMessage); n != 1 {
		t.Fatalf("%d messages copied, want 1 (reaction, its retry and a pin of the same message); timeline %+v", n, evs)
	}
	for _, e := range evs {
		if e.Kind != bot.EventMessage {
			continue
		}
		if e.Text != "restarted <https://x.example|resolver> on node 3" || e.Data["author"] != bob || e.Actor != incidents.SlackActor(bob) || e.Data["copied_by"] != alice {
			t.Errorf("copied %+v", e)
		}
		if link, _ := e.Data["permalink"].(string); !strings.Contains(link, strings.ReplaceAll(ts, ".", "")) {
			t.Errorf("permalink %q", link)
		}
	}
	if n := countKind(evs, bot.EventJoined); n != 1 {
		t.Errorf("%d joins recorded", n)
	}
}

func TestBadSignaturesChangeNothing(t *testing.T) {
	sb := newSandbox(t)
	ctx := context.Background()
	runJobs(t, sb) // what Warroom does when it starts (looking up people by email)
	before := len(sb.Slack.Calls())
	body := []byte("command=%2Fincident&text=declare+Forged&user_id=U01ALICE&channel_id=C1&trigger_id=t1")
	for name, tc := range map[string]struct {
		ts   time.Time
		sign bool
	}{
		"unsigned":         {sb.Clock.Now(), false},
		"replayed 6m late": {sb.Clock.Now().Add(-6 * time.Minute), true},
	} {
		resp, err := sb.Driver.Raw(ctx, "/slack/commands", "application/x-www-form-urlencoded", body, tc.ts, tc.sign)
		if err != nil || resp.Status != http.StatusUnauthorized {
			t.Errorf("%s: %v %d %s", name, err, resp.Status, resp.Body)
		}
	}
	forged := &slackfake.Driver{BaseURL: sb.Server.URL, SigningSecret: "not-the-secret", Now: sb.Clock.Now, Fake: sb.Slack}
	if resp, err := forged.Command(ctx, alice, "general", "declare Forged"); err != nil || resp.Status != http.StatusUnauthorized {
		t.Errorf("forged: %v %d", err, resp.Status)
	}
	runJobs(t, sb)
	if incs, _ := sb.App.Incidents.List(ctx, incidents.ListFilter{Status: incidents.FilterAll}); len(incs) != 0 {
		t.Errorf("a refused request declared %+v", incs)
	}
	if calls := sb.Slack.Calls()[before:]; len(calls) != 0 {
		t.Errorf("a refused request called Slack: %+v", calls)
	}
}

// TestBurstWith429s makes 200 changes to one incident while Slack answers
// every other call with 429: every change reaches the timeline, the summary
// ends up showing the last state, and no message is lost or posted twice.
func TestBurstWith429s(t *testing.T) {
	sb := newSandbox(t)
	inc := declare(t, sb, "Burst sev3")
	sb.Slack.SetFaultFunc(func(method string, n int) slackfake.Fault {
		if n%2 == 0 {
			return slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second}
		}
		return slackfake.Fault{}
	})
	before := len(sb.Slack.Messages(inc.ChannelID))
	sevs := []string{"1", "2", "3", "4"}
	changes := 200
	if testing.Short() {
		// CI runs the full burst without the race detector and this
		// smaller one with it (SQLite under the race detector is ~20x
		// slower).
		changes = 40
	}
	for i := range changes {
		var text string
		switch i % 4 {
		case 0:
			text = "sev " + sevs[(i/4)%4]
		case 1:
			text = fmt.Sprintf("note step %d", i)
		case 2:
			text = []string{"status identified", "status investigating"}[(i/4)%2]
		case 3:
			text = fmt.Sprintf("note more %d", i)
		}
		command(t, sb, alice, inc.ChannelID, text)
		sb.Clock.Advance(100 * time.Millisecond)
	}
	runJobs(t, sb)

	got := getIncident(t, sb, inc.ID)
	evs := timeline(t, sb, inc.ID)
	changesRecorded := countKind(evs, incidents.EventSeverity) + countKind(evs, incidents.EventNote) + countKind(evs, incidents.EventStatusChanged)
	// Every command is a real change (the severity and status never repeat).
	if changesRecorded != changes {
		t.Errorf("%d changes recorded", changesRecorded)
	}
	sum := summary(t, sb, got)
	want := strings.ToUpper(string(got.Severity))
	if !strings.Contains(strings.ToUpper(string(sum.Blocks)), want) || !strings.Contains(strings.ToLower(string(sum.Blocks)), string(got.Status)) {
		t.Errorf("summary does not show the final %s/%s: %s", got.Severity, got.Status, sum.Blocks)
	}
	// Every recorded change was posted once: one post per timeline event
	// that has one.
	msgs := sb.Slack.Messages(inc.ChannelID)
	keys := map[string]int{}
	for _, m := range msgs[before:] {
		if m.Metadata != nil {
			keys[fmt.Sprint(m.Metadata.EventPayload["key"])]++
		}
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("message %s posted %d times", k, n)
		}
	}
	if len(msgs)-before != changesRecorded {
		t.Errorf("%d messages posted for %d changes", len(msgs)-before, changesRecorded)
	}
	// Paced: one post per second in the channel, edits at most once a
	// second.
	checkSpacing(t, sb.Slack.Calls("chat.postMessage"), inc.ChannelID, bot.ChannelPostInterval)
	checkSpacing(t, sb.Slack.Calls("chat.update"), inc.ChannelID, bot.SummaryInterval)
	if sb.Slack.CountCalls("chat.postMessage", false) == sb.Slack.CountCalls("chat.postMessage", true) {
		t.Error("no 429 was answered; the test does not test anything")
	}
}

func checkSpacing(t *testing.T, calls []slackfake.Call, channel string, min time.Duration) {
	t.Helper()
	var last time.Time
	for _, c := range calls {
		if c.Params["channel"] != channel || c.Faulted || c.Error != "" {
			continue
		}
		if !last.IsZero() && c.At.Sub(last) < min {
			t.Errorf("%s calls %v apart, want at least %v", c.Method, c.At.Sub(last), min)
			return
		}
		last = c.At
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var _ = jsonString

// loseAnswers makes the first call of each listed method reach Slack but
// lose its answer on the way back, as when Warroom dies mid-call or the
// network drops.
type loseAnswers struct {
	lost map[string]bool
}

func (l *loseAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	method := req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
	if err == nil && l.lost[method] {
		l.lost[method] = false
		resp.Body.Close()
		return nil, fmt.Errorf("connection reset (test: lost answer to %s)", method)
	}
	return resp, err
}

func TestLostAnswersDoNotDuplicate(t *testing.T) {
	lose := &loseAnswers{lost: map[string]bool{"conversations.create": true, "chat.postMessage": true}}
	sb, err := sandbox.New(context.Background(), sandbox.Options{Config: testConfig(t), Dir: t.TempDir(), SlackTransport: lose, NoPaging: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	inc := declare(t, sb, "Lost answers sev2")
	if n := len(sb.Slack.Channels()); n != 4 { // incidents, incident-review, payments, and one incident channel
		for _, c := range sb.Slack.Channels() {
			t.Logf("channel %s %s", c.ID, c.Name)
		}
		t.Errorf("%d channels, want 4", n)
	}
	if inc.ChannelName != bot.ChannelName("inc", inc.ID, inc.Title, 0) {
		t.Errorf("channel %s: the lost creation was not adopted", inc.ChannelName)
	}
	bySummary := 0
	for _, m := range sb.Slack.Messages(inc.ChannelID) {
		if m.User == sb.Slack.BotUser() {
			bySummary++
		}
	}
	if bySummary != 1 {
		t.Errorf("%d bot messages in the channel, want the one summary; transcript:\n%s", bySummary, sb.Slack.Transcript())
	}
}
