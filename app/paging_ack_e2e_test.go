package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/slackfake"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/paging"
)

// buttonMessages returns the messages of channel whose text contains s.
func buttonMessages(e *pagingE2E, channel, s string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range e.sb.Slack.Messages(channel) {
		if strings.Contains(m.Text, s) {
			out = append(out, m)
		}
	}
	return out
}

// hasButton reports whether a message still carries an Acknowledge button.
func hasButton(m slackfake.Message) bool {
	return strings.Contains(string(m.Blocks), bot.ActionAcknowledgePage)
}

// blocksText is a message's blocks as JSON without Go's escapes of <, >
// and &, to look for mrkdwn in.
func blocksText(m slackfake.Message) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(m.Blocks))
}

// checkEdited checks that m lost its button, shows line, kept what it said,
// and was edited edits times.
func checkEdited(t *testing.T, what string, m slackfake.Message, kept, line string, edits int) {
	t.Helper()
	if hasButton(m) || !strings.Contains(m.Text, line) || !strings.Contains(blocksText(m), line) ||
		!strings.Contains(m.Text, kept) || m.Edits != edits {
		t.Errorf("%s after %d edits (want %d): text %q, blocks %s", what, m.Edits, edits, m.Text, m.Blocks)
	}
}

// TestAckFromTheDMEditsEveryMessageWithTheButton: alice is paged (a direct
// message and a mention in the incident's channel, both with the button),
// then escalated to with bob. bob clicks Acknowledge in his direct message,
// twice: every message of the page is edited once to drop the button and
// say who acknowledged when; resolving edits them once more.
func TestAckFromTheDMEditsEveryMessageWithTheButton(t *testing.T) {
	e := newPagingE2E(t)
	start := e.sb.Clock.Now()
	inc, err := e.sb.App.Incidents.Declare(e.ctx, incidents.DeclareInput{Title: "Checkout is down", Severity: incidents.Sev1,
		Service: "checkout", Actor: incidents.SlackActor(e.sb.Users["carol"])})
	if err != nil {
		t.Fatal(err)
	}
	e.settle()
	e.sb.Clock.Set(start.Add(10 * time.Minute))
	e.settle()
	inc, _ = e.sb.App.Incidents.Get(e.ctx, inc.ID)
	alice, bob := e.sb.Users["alice"], e.sb.Users["bob"]
	aliceDMs, bobDMs := e.sb.Slack.DirectMessages(alice), e.sb.Slack.DirectMessages(bob)
	mentions := buttonMessages(e, inc.ChannelID, ":pager: Paging <@")
	if len(aliceDMs) != 2 || len(bobDMs) != 1 || len(mentions) != 3 {
		t.Fatalf("before the acknowledgement: alice %d, bob %d direct messages, %d mentions", len(aliceDMs), len(bobDMs), len(mentions))
	}
	for _, m := range append(append(aliceDMs, bobDMs...), mentions...) {
		if !hasButton(m) {
			t.Fatalf("a page message without its button: %q %s", m.Text, m.Blocks)
		}
	}

	e.sb.Clock.Set(start.Add(12 * time.Minute))
	e.clickAck(bob, bobDMs[0].Channel, "INC-1|1")
	e.clickAck(bob, bobDMs[0].Channel, "INC-1|1") // a double click
	e.settle()
	line := "Acknowledged by <@" + bob + "> at 14:14 UTC."
	for i, m := range e.sb.Slack.DirectMessages(alice) {
		checkEdited(t, "alice's direct message "+string(rune('1'+i)), m, "You are paged for *INC-1*", line, 1)
	}
	checkEdited(t, "bob's direct message", e.sb.Slack.DirectMessages(bob)[0], "You are paged for *INC-1*", line, 1)
	mentions = buttonMessages(e, inc.ChannelID, ":pager: Paging <@")
	if len(mentions) != 3 {
		t.Fatalf("%d mentions after the acknowledgement", len(mentions))
	}
	for _, m := range mentions {
		checkEdited(t, "mention", m, "Paging <@", line, 1)
	}
	if len(e.sb.Slack.Ephemerals()) != 2 {
		t.Errorf("the clicks were told: %+v", e.sb.Slack.Ephemerals())
	}

	e.sb.Clock.Set(start.Add(40 * time.Minute))
	if _, err := e.sb.App.Incidents.Resolve(e.ctx, inc.ID, "", incidents.SlackActor(bob)); err != nil {
		t.Fatal(err)
	}
	e.settle()
	e.settle() // nothing more to do
	resolved := line + " Resolved at 14:42 UTC."
	for _, m := range append(e.sb.Slack.DirectMessages(alice), e.sb.Slack.DirectMessages(bob)...) {
		checkEdited(t, "direct message after the resolution", m, "You are paged", resolved, 2)
	}
	for _, m := range buttonMessages(e, inc.ChannelID, ":pager: Paging <@") {
		checkEdited(t, "mention after the resolution", m, "Paging <@", resolved, 2)
	}
	if n := failedJobs(e); n != 0 {
		t.Errorf("%d failed jobs", n)
	}
}

// failedJobs counts the jobs parked as failed.
func failedJobs(e *pagingE2E) int {
	e.t.Helper()
	counts, err := e.sb.App.Store.CountByState(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return counts["failed"]
}

// TestSlashAckEditsTheDirectMessageAndTheMention: /incident ack, twice,
// edits dave's direct message and his mention in the channel once each.
func TestSlashAckEditsTheDirectMessageAndTheMention(t *testing.T) {
	e := newPagingE2E(t)
	carol, dave := e.sb.Users["carol"], e.sb.Users["dave"]
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
	command("page dave")
	e.settle()
	dms, mentions := e.sb.Slack.DirectMessages(dave), buttonMessages(e, ch, "Paging <@"+dave+">")
	if len(dms) != 1 || len(mentions) != 1 || !hasButton(dms[0]) || !hasButton(mentions[0]) {
		t.Fatalf("dave's direct messages %+v, mentions %+v", dms, mentions)
	}
	e.sb.Clock.Set(e.sb.Clock.Now().Add(3 * time.Minute))
	if got := command("ack"); !strings.Contains(got, "Acknowledged page 1") {
		t.Fatalf("ack: %q", got)
	}
	command("ack")
	e.settle()
	line := "Acknowledged by <@" + carol + "> at 14:05 UTC."
	checkEdited(t, "dave's direct message", e.sb.Slack.DirectMessages(dave)[0], "You are paged for *INC-1*", line, 1)
	checkEdited(t, "dave's mention", buttonMessages(e, ch, "Paging <@"+dave+">")[0], "Paging <@"+dave+">", line, 1)
}

// TestAckByAnyPathEditsChannelNoticesAndEscapes: the third step of the
// payments policy posts in #payments; an acknowledgement from the CLI, by
// a name full of mrkdwn, edits that post too, escaped.
func TestAckByAnyPathEditsChannelNoticesAndEscapes(t *testing.T) {
	e := newPagingE2E(t)
	start := e.sb.Clock.Now()
	inc, err := e.sb.App.Incidents.Declare(e.ctx, incidents.DeclareInput{Title: "Checkout is down", Severity: incidents.Sev1,
		Service: "checkout", Actor: incidents.SlackActor(e.sb.Users["carol"])})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []time.Duration{0, 10, 20} {
		e.sb.Clock.Set(start.Add(m * time.Minute))
		e.settle()
	}
	payments, _ := e.sb.Slack.Channel("payments")
	notices := buttonMessages(e, payments.ID, "Paging this channel for *INC-1*")
	if len(notices) != 1 || !hasButton(notices[0]) {
		t.Fatalf("#payments: %+v", e.sb.Slack.Messages(payments.ID))
	}
	e.sb.Clock.Set(start.Add(21 * time.Minute))
	if _, err := e.sb.App.Paging.Acknowledge(e.ctx, inc.ID, 0, "cli:<!channel> & *co*"); err != nil {
		t.Fatal(err)
	}
	e.settle()
	m := buttonMessages(e, payments.ID, "Paging this channel for *INC-1*")[0]
	if strings.Contains(m.Text, "<!channel>") || strings.Contains(blocksText(m), "<!channel>") {
		t.Errorf("the edit pings the channel: %q %s", m.Text, m.Blocks)
	}
	checkEdited(t, "the #payments notice", m, "Paging this channel", "Acknowledged by &lt;!channel&gt; &amp; *co* (CLI) at 14:23 UTC.", 1)
	dave := e.sb.Users["dave"]
	checkEdited(t, "dave's direct message", e.sb.Slack.DirectMessages(dave)[0], "You are paged", "(CLI) at 14:23 UTC.", 1)
}

// TestPageEndedWhileItsMentionWasOnItsWay: dave's mention in the channel
// fails (Slack answers 503) and is acknowledged before its retry: the
// mention is never posted, dave's direct message is edited, and nothing is
// left failed or pending.
func TestPageEndedWhileItsMentionWasOnItsWay(t *testing.T) {
	e := newPagingE2E(t)
	carol, dave := e.sb.Users["carol"], e.sb.Users["dave"]
	inc, err := e.sb.App.Incidents.Declare(e.ctx, incidents.DeclareInput{Title: "Search is slow", Severity: incidents.Sev3,
		Actor: incidents.SlackActor(carol)})
	if err != nil {
		t.Fatal(err)
	}
	e.settle()
	inc, _ = e.sb.App.Incidents.Get(e.ctx, inc.ID)
	// The direct message is the next post, the mention the one after.
	base := e.sb.Slack.CountCalls("chat.postMessage", false)
	e.sb.Slack.SetFaultFunc(func(method string, n int) slackfake.Fault {
		if method == "chat.postMessage" && n == base+2 {
			return slackfake.Fault{Status: 503}
		}
		return slackfake.Fault{}
	})
	if _, err := e.sb.App.Paging.Page(e.ctx, inc.ID, paging.Target{Kind: paging.TargetPerson, Name: "dave"}, incidents.SlackActor(carol)); err != nil {
		t.Fatal(err)
	}
	// The step, the notice, then the mention, which fails: run jobs until
	// it has been tried.
	for range 20 {
		if e.sb.Slack.CountCalls("chat.postMessage", false) == base+2 {
			break
		}
		if _, err := e.sb.App.Queue.RunDue(e.ctx); err != nil {
			t.Fatal(err)
		}
		if next, ok, _ := e.sb.App.Queue.NextRunAt(e.ctx); ok && next.After(e.sb.Clock.Now()) && next.Before(e.sb.Clock.Now().Add(5*time.Second)) {
			e.sb.Clock.Set(next)
		}
	}
	if n := len(e.sb.Slack.DirectMessages(dave)); n != 1 {
		t.Fatalf("%d direct messages to dave", n)
	}
	if posts := e.sb.Slack.CountCalls("chat.postMessage", false); posts != base+2 || e.sb.Slack.CountCalls("chat.postMessage", true) != base+1 {
		t.Fatalf("%d posts since the page, want the direct message and the failed mention", posts-base)
	}
	if _, err := e.sb.App.Paging.Acknowledge(e.ctx, inc.ID, 0, incidents.SlackActor(carol)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Settle(e.ctx, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := buttonMessages(e, inc.ChannelID, "Paging <@"+dave+">"); len(got) != 0 {
		t.Errorf("the mention was posted after the acknowledgement: %+v", got)
	}
	checkEdited(t, "dave's direct message", e.sb.Slack.DirectMessages(dave)[0], "You are paged", "Acknowledged by <@"+carol+">", 1)
	// The mention's edit waited for its post, which was never made.
	mention := "slack.post:page:1:r0:s0:person:dave:mention"
	if info, err := e.sb.App.Store.GetJob(e.ctx, bot.JobPageButton+":"+mention+":acknowledged"); err != nil || info.State != jobs.StateDone {
		t.Errorf("the mention's edit job: %+v %v", info, err)
	}
	if p, ok, err := e.sb.App.Store.Post(e.ctx, mention); err != nil || !ok || p.State != bot.PostSending || p.Page != 1 {
		t.Errorf("the mention's post: %+v %v %v", p, ok, err)
	}
	if n := failedJobs(e); n != 0 {
		t.Errorf("%d failed jobs", n)
	}
	if _, pending, err := e.sb.App.Queue.NextRunAt(e.ctx); err != nil || pending {
		t.Errorf("jobs still pending: %v %v", pending, err)
	}
}
