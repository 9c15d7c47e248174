package bot_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/internal/slackfake"
)

// settle runs the jobs due within a minute (moving the clock to each), and
// not the later ones: a rollback's proposal expires 30 minutes after it is
// made, and runJobs would run its expiry.
func settle(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	if _, err := sb.Settle(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if failed := failedJobs(t, sb); failed != 0 {
		t.Fatalf("%d jobs failed", failed)
	}
}

// proposal finds the one rollback confirmation in the channel (posted
// with Confirm and Cancel, or edited since), by its blocks' block ID.
func proposal(t *testing.T, sb *sandbox.Sandbox, channel string) slackfake.Message {
	t.Helper()
	var out []slackfake.Message
	for _, m := range sb.Slack.Messages(channel) {
		if m.User == sb.Slack.BotUser() && strings.Contains(m.Text, "rolling back *checkout*") && strings.Contains(m.Text, "propose") {
			out = append(out, m)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d rollback confirmations; transcript:\n%s", len(out), sb.Slack.Transcript())
	}
	return out[0]
}

// updates counts the chat.update calls Slack answered for message ts.
func updates(sb *sandbox.Sandbox, ts string) int {
	n := 0
	for _, c := range sb.Slack.Calls("chat.update") {
		if c.Params["ts"] == ts && c.Status == 200 && c.Error == "" && !c.Faulted {
			n++
		}
	}
	return n
}

// proposeRollback proposes rolling checkout back in a new sev1 incident
// and returns the incident, the confirmation and the rollback's ID.
func proposeRollback(t *testing.T, sb *sandbox.Sandbox) (*incidents.Incident, slackfake.Message, string) {
	t.Helper()
	inc := declare(t, sb, "Checkout errors sev1 checkout")
	command(t, sb, dave, inc.ChannelID, "rollback checkout")
	settle(t, sb)
	m := proposal(t, sb, inc.ChannelID)
	ids := buttons(t, "\x00"+string(m.Blocks))[bot.ActionRollbackConfirm]
	if len(ids) != 1 {
		t.Fatalf("confirmation without its button: %s", m.Blocks)
	}
	return inc, m, ids[0]
}

func assertDecided(t *testing.T, sb *sandbox.Sandbox, m slackfake.Message, want ...string) {
	t.Helper()
	got, ok := sb.Slack.Message(m.Channel, m.TS)
	if !ok {
		t.Fatal("the confirmation is gone")
	}
	if b := buttons(t, "\x00"+string(got.Blocks)); len(b) != 0 {
		t.Errorf("the decided confirmation still has buttons %v", b)
	}
	for _, w := range append([]string{"proposed rolling back *checkout* from `v3 (3333333)` to `v2 (2222222)` through github_workflow"}, want...) {
		if !strings.Contains(got.Text, w) || !strings.Contains(unescapeJSON(string(got.Blocks)), w) {
			t.Errorf("the decided confirmation lacks %q:\ntext %s\nblocks %s", w, got.Text, got.Blocks)
		}
	}
	assertNoPing(t, "decided confirmation", got.Text+string(got.Blocks))
	if got.Edits != 1 || updates(sb, m.TS) != 1 {
		t.Errorf("the confirmation was edited %d times (%d chat.update calls), want once", got.Edits, updates(sb, m.TS))
	}
}

func TestConfirmingRemovesTheButtonsOnceEvenOnADoubleClick(t *testing.T) {
	rb := &e2eRollbacker{progress: []deploys.Progress{{Status: deploys.StatusSuccess}}}
	sb := deploySandbox(t, rb)
	inc, m, id := proposeRollback(t, sb)
	// dave may not confirm: told so, and the buttons stay.
	clickButton(t, sb, inc, dave, bot.ActionRollbackConfirm, id)
	settle(t, sb)
	if got, _ := sb.Slack.Message(m.Channel, m.TS); got.Edits != 0 || len(buttons(t, "\x00"+string(got.Blocks))) != 2 {
		t.Fatalf("a refusal changed the confirmation: %d edits, %s", got.Edits, got.Blocks)
	}
	// alice clicks twice (and bob once) before the queue runs.
	at := sb.Clock.Now().UTC().Format("15:04")
	clickButton(t, sb, inc, alice, bot.ActionRollbackConfirm, id)
	clickButton(t, sb, inc, alice, bot.ActionRollbackConfirm, id)
	clickButton(t, sb, inc, bob, bot.ActionRollbackConfirm, id)
	runJobs(t, sb) // past the expiry, which changes nothing now
	if len(rb.starts) != 1 {
		t.Fatalf("%d rollbacks started", len(rb.starts))
	}
	assertDecided(t, sb, m, "Confirmed by <@U01ALICE> at "+at+" UTC — rolling back…")
	// A later click is still told, privately.
	clickButton(t, sb, inc, bob, bot.ActionRollbackConfirm, id)
	runJobs(t, sb)
	if eph := ephemeralsTo(sb, bob); len(eph) != 2 || !strings.Contains(eph[1], "already confirmed") {
		t.Errorf("bob's late clicks: %v", eph)
	}
	assertDecided(t, sb, m)
}

func TestCancelingRemovesTheButtons(t *testing.T) {
	rb := &e2eRollbacker{}
	sb := deploySandbox(t, rb)
	inc, m, id := proposeRollback(t, sb)
	sb.Clock.Advance(3 * time.Minute)
	at := sb.Clock.Now().UTC().Format("15:04")
	clickButton(t, sb, inc, dave, bot.ActionRollbackCancel, id) // the proposer may cancel
	runJobs(t, sb)
	assertDecided(t, sb, m, "Cancelled by <@U01DAVE> at "+at+" UTC.")
	if len(rb.starts) != 0 {
		t.Error("a canceled rollback started")
	}
}

func TestAnUnconfirmedProposalExpiresInSlack(t *testing.T) {
	rb := &e2eRollbacker{}
	sb := deploySandbox(t, rb)
	inc, m, id := proposeRollback(t, sb)
	runJobs(t, sb) // nobody clicks for 30 minutes
	assertDecided(t, sb, m, "Expired unconfirmed after 30 minutes.")
	if n := countKind(timeline(t, sb, inc.ID), deploys.EventRollbackCanceled); n != 1 {
		t.Errorf("%d cancel events", n)
	}
	clickButton(t, sb, inc, alice, bot.ActionRollbackConfirm, id)
	runJobs(t, sb)
	if eph := ephemeralsTo(sb, alice); len(eph) != 1 || !strings.Contains(eph[0], "was canceled") {
		t.Errorf("a click after the expiry: %v", eph)
	}
	if len(rb.starts) != 0 {
		t.Error("an expired proposal started")
	}
	assertDecided(t, sb, m)
}

func TestADecisionBeforeTheConfirmationIsPostedEditsItOncePosted(t *testing.T) {
	ctx := context.Background()
	rb := &e2eRollbacker{}
	sb := deploySandbox(t, rb)
	inc := declare(t, sb, "Checkout errors sev1 checkout")
	// Slack is down when the confirmation is to be posted.
	sb.Slack.Down(slackfake.Fault{Status: http.StatusServiceUnavailable})
	command(t, sb, dave, inc.ChannelID, "rollback checkout")
	if _, err := sb.Settle(ctx, 0); err != nil {
		t.Fatal(err)
	}
	rbs, err := sb.App.Deploys.Rollbacks(ctx, inc.ID)
	if err != nil || len(rbs) != 1 {
		t.Fatalf("rollbacks %v, %v", rbs, err)
	}
	if n := len(botMessages(sb, inc.ChannelID, "rolling back")); n != 0 {
		t.Fatalf("%d confirmations posted while Slack is down", n)
	}
	// The lead cancels it meanwhile (/incident rollback cancel is not a
	// command: here through the service, as a click would).
	if _, err := sb.App.Deploys.CancelRollback(ctx, rbs[0].ID, incidents.SlackActor(alice)); err != nil {
		t.Fatal(err)
	}
	sb.Slack.Recover()
	runJobs(t, sb)
	m := proposal(t, sb, inc.ChannelID)
	assertDecided(t, sb, m, "Cancelled by <@U01ALICE>")
	// The cancel's own message comes after the confirmation.
	msgs := botMessages(sb, inc.ChannelID, "Canceled the proposed rollback")
	if len(msgs) != 1 {
		t.Errorf("%d cancel messages", len(msgs))
	}
}

// unescapeJSON undoes encoding/json's HTML escaping, to find mrkdwn in
// Block Kit JSON.
func unescapeJSON(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}
