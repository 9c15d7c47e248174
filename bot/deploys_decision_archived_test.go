package bot_test

import (
	"context"
	"testing"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/jobs"
)

// TestAnExpiryInAnArchivedChannelEndsTheEditWell: the incident's channel
// is archived before the rollback proposal expires; Slack refuses to edit
// the confirmation (is_archived), so the edit job is done, not failed, as
// for a page's messages (messageGone).
func TestAnExpiryInAnArchivedChannelEndsTheEditWell(t *testing.T) {
	sb := deploySandbox(t, &e2eRollbacker{})
	inc, m, id := proposeRollback(t, sb)
	sb.Slack.Archive(inc.ChannelID)
	if _, err := sb.Run(context.Background(), 100000); err != nil { // nobody clicks for 30 minutes
		t.Fatal(err)
	}
	j, err := sb.App.Store.GetJob(context.Background(), bot.JobRollbackDecided+":"+id)
	if err != nil || j.State != jobs.StateDone {
		t.Errorf("the confirmation's edit: %s %q %v", j.State, j.LastError, err)
	}
	refused := 0
	for _, c := range sb.Slack.Calls("chat.update") {
		if c.Params["ts"] == m.TS && c.Error == "is_archived" {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("Slack refused %d edits of the confirmation as archived, want 1", refused)
	}
	if got, _ := sb.Slack.Message(m.Channel, m.TS); got.Edits != 0 {
		t.Errorf("edited in an archived channel: %+v", got)
	}
}
