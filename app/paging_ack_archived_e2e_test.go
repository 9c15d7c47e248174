package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// TestAckEditsNothingInAnArchivedChannelAndEndsWell: dave is paged, the
// incident's channel is archived, then the page is acknowledged. Slack
// refuses to edit the mention there (is_archived): that message is gone
// for editing, so its edit job ends done, not failed; dave's direct
// message is edited as usual.
func TestAckEditsNothingInAnArchivedChannelAndEndsWell(t *testing.T) {
	e := newPagingE2E(t)
	carol, dave := e.sb.Users["carol"], e.sb.Users["dave"]
	inc := e.declare(carol, "declare Search is slow sev3")
	ch := inc.ChannelID
	if resp, err := e.sb.Driver.Command(e.ctx, carol, ch, "page dave"); err != nil || resp.Status != 200 {
		t.Fatalf("page: %v %+v", err, resp)
	}
	e.settle()
	if mentions := buttonMessages(e, ch, "Paging <@"+dave+">"); len(mentions) != 1 || !hasButton(mentions[0]) {
		t.Fatalf("mentions %+v", mentions)
	}
	e.sb.Slack.Archive(ch)
	e.sb.Clock.Set(e.sb.Clock.Now().Add(3 * time.Minute))
	if _, err := e.sb.App.Paging.Acknowledge(e.ctx, inc.ID, 1, incidents.SlackActor(carol)); err != nil {
		t.Fatal(err)
	}
	e.settle()
	checkEdited(t, "dave's direct message", e.sb.Slack.DirectMessages(dave)[0], "You are paged for *INC-1*",
		"Acknowledged by <@"+carol+">", 1)
	if m := buttonMessages(e, ch, "Paging <@"+dave+">"); len(m) != 1 || m[0].Edits != 0 {
		t.Errorf("the mention in the archived channel: %+v", m)
	}
	posts, err := e.sb.App.Store.PagePosts(e.ctx, 1)
	archived := 0
	for _, p := range posts {
		if p.ChannelID == ch {
			archived++
		}
	}
	if err != nil || len(posts) < 2 || archived != 1 {
		t.Fatalf("the page's posts: %+v %v", posts, err)
	}
	for _, p := range posts {
		key := bot.JobPageButton + ":" + p.Key + ":acknowledged"
		j, err := e.sb.App.Store.GetJob(e.ctx, key)
		if err != nil || j.State != jobs.StateDone {
			t.Errorf("edit of %s (channel %s): %s %q %v", p.Key, p.ChannelID, j.State, j.LastError, err)
		}
	}
}

// TestSummaryEditsInAnArchivedChannelEndWell: once the incident's channel
// is archived, a change (here its severity) cannot be shown in the pinned
// summary there; the edit job ends done, not failed.
func TestSummaryEditsInAnArchivedChannelEndWell(t *testing.T) {
	e := newPagingE2E(t)
	carol := e.sb.Users["carol"]
	inc := e.declare(carol, "declare Search is slow sev3")
	e.sb.Slack.Archive(inc.ChannelID)
	e.sb.Clock.Set(e.sb.Clock.Now().Add(3 * time.Minute))
	updates := len(e.sb.Slack.Calls("chat.update"))
	changed := e.sb.Clock.Now()
	if _, err := e.sb.App.Incidents.SetSeverity(e.ctx, inc.ID, incidents.Sev2, incidents.SlackActor(carol)); err != nil {
		t.Fatal(err)
	}
	e.settle()
	if len(e.sb.Slack.Calls("chat.update")) == updates {
		t.Fatal("no edit was tried")
	}
	// The summary's re-render job of the second after the change.
	at := changed.Truncate(bot.SummaryInterval).Add(bot.SummaryInterval)
	key := fmt.Sprintf("%s:%s:t%d", bot.JobSummary, inc.ID, at.UnixMilli())
	if j, err := e.sb.App.Store.GetJob(e.ctx, key); err != nil || j.State != jobs.StateDone {
		t.Errorf("the summary's edit %s: %s %q %v", key, j.State, j.LastError, err)
	}
}
