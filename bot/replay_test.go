package bot_test

import (
	"testing"

	"github.com/slack-go/slack"

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
