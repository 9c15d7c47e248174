package bot_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/bot"
	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
)

// TestAnApproverConfiguredByEmailMayConfirm: carol is configured by email
// only (examples/warroom.yaml) and approves checkout's rollbacks. Warroom
// looked her email up in Slack when it started, so her click is recognised
// without asking Slack while it is answered.
func TestAnApproverConfiguredByEmailMayConfirm(t *testing.T) {
	cfg := bytes.Replace(testConfig(t), []byte("rollback_approvers: [alice, bob]"), []byte("rollback_approvers: [alice, bob, carol]"), 1)
	rb := &e2eRollbacker{progress: []deploys.Progress{{Status: deploys.StatusSuccess}}}
	sb, _ := deploySandboxConfig(t, rb, cfg)
	carol := sb.Users["carol"]
	if carol == "" {
		t.Fatal("carol has no Slack user in the fake")
	}
	inc, m, id := proposeRollback(t, sb) // runs the jobs queued at start
	lookups := 0
	for _, c := range sb.Slack.Calls("users.lookupByEmail") {
		if c.Params["email"] == "carol@example.com" {
			lookups++
		}
	}
	if lookups == 0 {
		t.Fatal("carol's email was not looked up")
	}
	before := len(sb.Slack.Calls())
	clickButton(t, sb, inc, carol, bot.ActionRollbackConfirm, id)
	if calls := sb.Slack.Calls()[before:]; len(calls) != 0 {
		t.Errorf("answering carol's click called Slack: %v", calls)
	}
	runJobs(t, sb)
	if len(rb.starts) != 1 || rb.starts[0].RequestedBy != incidents.SlackActor(carol) {
		t.Fatalf("starts %+v; ephemerals to carol %v", rb.starts, ephemeralsTo(sb, carol))
	}
	assertDecided(t, sb, m, "Confirmed by <@"+carol+">")
	// dave, who has an email in the fake too, is still no approver.
	inc2 := declare(t, sb, "Checkout errors again sev2 checkout")
	command(t, sb, alice, inc2.ChannelID, "rollback checkout to v1")
	settle(t, sb)
	var id2 string
	for _, msg := range sb.Slack.Messages(inc2.ChannelID) {
		if ids := buttons(t, "\x00"+string(msg.Blocks))[bot.ActionRollbackConfirm]; len(ids) == 1 {
			id2 = ids[0]
		}
	}
	if id2 == "" {
		t.Fatalf("no second confirmation; transcript:\n%s", sb.Slack.Transcript())
	}
	clickButton(t, sb, inc2, dave, bot.ActionRollbackConfirm, id2)
	settle(t, sb)
	if eph := ephemeralsTo(sb, dave); len(eph) == 0 || !strings.Contains(eph[len(eph)-1], "You may not confirm this rollback") ||
		!strings.Contains(eph[len(eph)-1], "approvers (<@U01ALICE>, <@U01BOB>, carol)") {
		t.Errorf("dave: %v", eph)
	}
}
