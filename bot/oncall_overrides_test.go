package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/oncall"
)

// TestOnCallOverridesAreListedAndCancelled: overrides are listed with their
// IDs, bounds in the schedule's zone and in UTC, and who set them; only
// their setter or the person they put on call may cancel them, once; a
// cancelled one stops counting at once.
func TestOnCallOverridesAreListedAndCancelled(t *testing.T) {
	h := newOnCallHarness(t)
	const bob = "U01BOB"
	h.command(slackAlice, "CGENERAL", "oncall override primary <@U01BOB|bob> 2h dentist &lt;b&gt; <!channel>")
	h.command(bob, "CGENERAL", "oncall override secondary carol 1d")

	all := h.command(slackBob, "CGENERAL", "oncall overrides")
	want := "Current and future on-call overrides:\n" +
		"• `#1` *primary*: <@U01BOB> from Tue 3 Mar 13:00 CET until Tue 3 Mar 15:00 CET (Tue 3 Mar 12:00 – Tue 3 Mar 14:00 UTC), now; " +
		"set by <@U01ALICE>: dentist &lt;b&gt; @channel.\n" +
		"• `#2` *secondary*: carol from Tue 3 Mar 13:00 CET until Wed 4 Mar 13:00 CET (Tue 3 Mar 12:00 – Wed 4 Mar 12:00 UTC), now; " +
		"set by <@U01BOB>."
	if all.Text != want || all.InChannel {
		t.Errorf("overrides (in channel %v):\n got %q\nwant %q", all.InChannel, all.Text, want)
	}
	if one := h.command(slackBob, "CGENERAL", "oncall overrides PRIMARY").Text; strings.Contains(one, "#2") || !strings.Contains(one, "`#1` *primary*") {
		t.Errorf("overrides of primary: %q", one)
	}
	wantContains(t, "unknown schedule", h.command(slackBob, "CGENERAL", "oncall overrides nope").Text, `I know no schedule "nope"`)

	// Neither the setter nor the person: refused, and nothing changes.
	for _, c := range []struct{ user, id, want string }{
		{"U0STRANGER", "1", "Only people in the configuration"},
		{slackAlice, "2", "Only whoever set override 2"},
	} {
		r := h.command(c.user, "CGENERAL", "oncall override cancel "+c.id)
		wantContains(t, "refused cancel by "+c.user, r.Text, c.want)
	}
	if who, _ := h.res.Who(h.ctx, "primary", h.clock.Now()); who != "bob" {
		t.Fatalf("a refused cancellation took effect: %s", who)
	}

	// bob is the person of #1 and the setter of #2.
	h.clock.Advance(30 * time.Minute)
	r := h.command(bob, "CGENERAL", "oncall override cancel #1")
	if want := ":arrows_counterclockwise: <@U01BOB> cancelled override 1: <@U01BOB> was on call for *primary* until now " +
		"(Tue 3 Mar 13:30 CET) instead of until Tue 3 Mar 15:00 CET. On call now: <@U01ALICE>."; r.Text != want || !r.InChannel {
		t.Errorf("cancel #1 (in channel %v):\n got %q\nwant %q", r.InChannel, r.Text, want)
	}
	if who, err := h.res.Who(h.ctx, "primary", h.clock.Now()); err != nil || who != "alice" {
		t.Errorf("Who after the cancellation: %q %v", who, err)
	}
	if who, err := h.res.Who(h.ctx, "primary", h.clock.Now().Add(-15*time.Minute)); err != nil || who != "bob" {
		t.Errorf("Who before the cancellation, asked after it: %q %v", who, err)
	}
	if got := h.command(slackBob, "CGENERAL", "oncall primary").Text; strings.Contains(got, "override") {
		t.Errorf("oncall after the cancellation: %q", got)
	}
	wantContains(t, "cancel #2", h.command(bob, "CGENERAL", "oncall override cancel 2").Text, "cancelled override 2: carol was on call")
	wantContains(t, "again", h.command(bob, "CGENERAL", "oncall override cancel 1").Text, "Override 1 is over already")
	wantContains(t, "unknown", h.command(bob, "CGENERAL", "oncall override cancel 99").Text, "There is no override 99")
	wantContains(t, "not an ID", h.command(bob, "CGENERAL", "oncall override cancel soon").Text, `"soon" is not an override ID`)
	wantContains(t, "no ID", h.command(bob, "CGENERAL", "oncall override cancel").Text, "Say which override to cancel")
	if got := h.command(slackBob, "CGENERAL", "oncall overrides").Text; got != "No current or future overrides." {
		t.Errorf("overrides after the cancellations: %q", got)
	}
}

// TestCancelledOverrideIsNotPaged: bob takes payments-primary over from
// alice with an override, then cancels it; the incident declared after
// that pages alice, not bob. The configuration's override is listed, and
// cannot be cancelled.
func TestCancelledOverrideIsNotPaged(t *testing.T) {
	sb, err := sandbox.New(context.Background(), sandbox.Options{Config: testConfig(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close) // Tuesday 2026-11-03 14:02 UTC: alice's first week
	sb.Slack.AddChannel("general", alice, bob)
	ctx := context.Background()
	if _, err := sb.Driver.Command(ctx, bob, "general", "oncall override payments-primary <@U01BOB|bob> 2h"); err != nil {
		t.Fatal(err)
	}
	if who, _ := sb.App.OnCall.Who(ctx, "payments-primary", sb.Clock.Now()); who != "bob" {
		t.Fatalf("with the override: %s", who)
	}
	list := command(t, sb, alice, "general", "oncall overrides payments-primary")
	wantContains(t, "overrides", list, "`#1` *payments-primary*: <@U01BOB>",
		"`config` *payments-primary*: <@U01DAVE> from Thu 24 Dec 00:00 CET until Sun 27 Dec 00:00 CET (Wed 23 Dec 23:00 – Sat 26 Dec 23:00 UTC); from the configuration")
	wantContains(t, "oncall", command(t, sb, alice, "general", "oncall payments-primary"), "<@U01BOB> (override 1, set by <@U01BOB>)")
	resp, err := sb.Driver.Command(ctx, bob, "general", "oncall override cancel 1")
	if text, _ := resp.JSON["text"].(string); err != nil || !strings.Contains(text, "cancelled override 1") {
		t.Fatalf("cancel: %v %v", resp.JSON, err)
	}

	inc, err := sb.App.Incidents.Declare(ctx, incidents.DeclareInput{Title: "Checkout is down", Severity: incidents.Sev1,
		Service: "checkout", Actor: incidents.SlackActor(alice)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Settle(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(sb.Slack.DirectMessages(alice)); n != 1 {
		t.Errorf("alice got %d direct messages, want her page", n)
	}
	if dms := sb.Slack.DirectMessages(bob); len(dms) != 0 {
		t.Errorf("bob was paged through his cancelled override: %+v", dms)
	}
	evs, _ := sb.App.Incidents.Timeline(ctx, inc.ID)
	paged := false
	for _, ev := range evs {
		paged = paged || strings.Contains(ev.Text, "Paged alice (on call for payments-primary)")
	}
	if !paged {
		t.Error("the timeline does not say alice was paged")
	}
}

// TestOnlyConfiguredPeopleCancelOverrides: an override's setter who is no
// longer in the configuration may not cancel it (as they may not set one);
// a person configured by email only, whom Slack named when Warroom started,
// may hand back the shift an override gave her, and set one, like anyone
// configured by Slack ID.
func TestOnlyConfiguredPeopleCancelOverrides(t *testing.T) {
	h := newOnCallHarness(t)
	gone, err := h.res.AddOverride(h.ctx, oncall.Override{Schedule: "primary", Person: "bob", From: h.clock.Now(),
		To: h.clock.Now().Add(time.Hour), CreatedBy: "U0GONE"})
	if err != nil {
		t.Fatal(err)
	}
	r := h.command("U0GONE", "CGENERAL", fmt.Sprintf("oncall override cancel %d", gone.ID))
	wantContains(t, "cancel by a setter removed from the configuration", r.Text, "Only people in the configuration")
	if who, _ := h.res.Who(h.ctx, "primary", h.clock.Now()); who != "bob" {
		t.Errorf("the override was cancelled by someone not configured: %s", who)
	}

	sb, err := sandbox.New(context.Background(), sandbox.Options{Config: testConfig(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	ctx := context.Background()
	if _, err := sb.Settle(ctx, 5*time.Second); err != nil { // looks carol's email up
		t.Fatal(err)
	}
	carol := sb.Users["carol"]
	sb.Slack.AddChannel("general", alice, bob, carol)
	if _, err := sb.Driver.Command(ctx, bob, "general", "oncall override payments-primary carol 2h"); err != nil {
		t.Fatal(err)
	}
	if who, _ := sb.App.OnCall.Who(ctx, "payments-primary", sb.Clock.Now()); who != "carol" {
		t.Fatalf("with the override: %s", who)
	}
	resp, err := sb.Driver.Command(ctx, carol, "general", "oncall override cancel 1")
	if text, _ := resp.JSON["text"].(string); err != nil || !strings.Contains(text, "cancelled override 1: carol was on call") {
		t.Fatalf("carol hands her shift back: %v %v", resp.JSON, err)
	}
	if who, _ := sb.App.OnCall.Who(ctx, "payments-primary", sb.Clock.Now()); who == "carol" {
		t.Error("carol is still on call")
	}
	resp, err = sb.Driver.Command(ctx, carol, "general", "oncall override payments-primary carol 1h")
	if text, _ := resp.JSON["text"].(string); err != nil || !strings.Contains(text, "put carol on call for *payments-primary*") {
		t.Errorf("carol sets an override: %v %v", resp.JSON, err)
	}
}

// TestCancellingAnOverrideOfARemovedSchedule: the schedule of an override
// set from Slack was removed from the configuration since; cancelling it
// still works, shows its times in UTC and says the schedule is gone,
// instead of failing after the cancellation.
func TestCancellingAnOverrideOfARemovedSchedule(t *testing.T) {
	h := newOnCallHarness(t)
	now := h.clock.Now() // Tue 3 Mar 12:00 UTC
	o, err := h.st.AddOverride(h.ctx, oncall.Override{Schedule: "retired", Person: "bob", From: now, To: now.Add(2 * time.Hour), CreatedBy: "U01BOB"})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(30 * time.Minute)
	r := h.command("U01BOB", "CGENERAL", fmt.Sprintf("oncall override cancel %d", o.ID))
	want := fmt.Sprintf(":arrows_counterclockwise: <@U01BOB> cancelled override %d: <@U01BOB> was on call for *retired* until now "+
		"(Tue 3 Mar 12:30 UTC) instead of until Tue 3 Mar 14:00 UTC. *retired* is no longer in the configuration.", o.ID)
	if r.Text != want || !r.InChannel {
		t.Errorf("cancel (in channel %v):\n got %q\nwant %q", r.InChannel, r.Text, want)
	}
	if kept, err := h.st.Override(h.ctx, o.ID); err != nil || kept.CancelledAt.IsZero() {
		t.Errorf("not cancelled: %+v %v", kept, err)
	}
}
