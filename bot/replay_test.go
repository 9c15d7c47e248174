package bot_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

// A replayed /incident note (the same request, so the same trigger ID)
// adds its note once; another request with the same text adds it again.
func TestDispatchNoteReplayedAddsOnce(t *testing.T) {
	h := newDispatchHarness(t)
	inc := h.incident("Checkout is down")
	cmd := slack.SlashCommand{UserID: slackAlice, ChannelID: inc.ChannelID, Command: "/incident",
		Text: "note rolled back the config", TriggerID: "T-note-1"}
	first := h.bot.Command(h.ctx, cmd)
	again := h.bot.Command(h.ctx, cmd)
	if first.Text != again.Text {
		t.Errorf("replies differ: %q, %q", first.Text, again.Text)
	}
	if n := h.count(inc.ID, incidents.EventNote); n != 1 {
		t.Fatalf("%d notes after a replayed command, want 1", n)
	}
	cmd.TriggerID = "T-note-2"
	h.bot.Command(h.ctx, cmd)
	if n := h.count(inc.ID, incidents.EventNote); n != 2 {
		t.Fatalf("%d notes after a second command, want 2", n)
	}
}

// A replayed Confirm or Cancel of a rollback (the same click, so the same
// trigger ID) is decided once: a refused one is recorded once, a confirmed
// one starts the rollback once. Another click is decided again.
func TestRollbackClickReplayedDecidedOnce(t *testing.T) {
	rb := &e2eRollbacker{progress: []deploys.Progress{{Status: deploys.StatusRunning}}}
	sb, _ := deploySandboxWith(t, rb)
	inc := declare(t, sb, "Checkout errors sev1 checkout")
	sb.Slack.Join(inc.ChannelID, dave)
	command(t, sb, alice, inc.ChannelID, "rollback checkout")
	settle(t, sb) // not as far as the proposal's expiry
	confirm := botMessages(sb, inc.ChannelID, "proposes rolling back")
	if len(confirm) != 1 {
		t.Fatalf("%d proposals; transcript:\n%s", len(confirm), sb.Slack.Transcript())
	}
	id := buttons(t, confirm[0])[bot.ActionRollbackConfirm][0]
	click := func(user, trigger string) {
		t.Helper()
		resp, err := sb.Driver.Interaction(context.Background(), map[string]any{
			"type": "block_actions", "user": map[string]any{"id": user, "name": user},
			"channel": map[string]any{"id": inc.ChannelID}, "team": map[string]any{"id": sb.Slack.TeamID()},
			"trigger_id": trigger,
			"actions": []any{map[string]any{"action_id": bot.ActionRollbackConfirm, "block_id": "b", "type": "button",
				"value": id, "action_ts": "1795300000.000100"}},
		})
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("click: %v %d %s", err, resp.Status, resp.Body)
		}
		settle(t, sb)
	}
	refusals := func() int { return countKind(timeline(t, sb, inc.ID), deploys.EventRollbackRefused) }

	click(dave, "T-dave-1")
	click(dave, "T-dave-1")
	if n := refusals(); n != 1 {
		t.Errorf("%d refusals after a replayed refused click, want 1", n)
	}
	click(dave, "T-dave-2")
	if n := refusals(); n != 2 {
		t.Errorf("%d refusals after a second click, want 2", n)
	}
	click(alice, "T-alice-1")
	click(alice, "T-alice-1")
	if n := countKind(timeline(t, sb, inc.ID), deploys.EventRollbackConfirmed); n != 1 || len(rb.starts) != 1 {
		t.Errorf("%d confirmations, %d starts after a replayed Confirm, want 1 each", n, len(rb.starts))
	}
	if eph := ephemeralsTo(sb, alice); len(eph) != 0 {
		t.Errorf("alice was told of her replayed click: %v", eph)
	}
}
