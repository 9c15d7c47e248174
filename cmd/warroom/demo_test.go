package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/store/sqlite"
)

// TestDemoTellsTheSlackStory runs `warroom demo` as a user would and checks
// that its story shows what happened in Slack, the same way on every run.
func TestDemoTellsTheSlackStory(t *testing.T) {
	// The demo's temporary directory goes here, to check it is removed.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	code, stdout, stderr := runCLI(t, nil, "demo")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The demo logs at warn level and above: a clean run logs nothing.
	if stderr != "" {
		t.Errorf("demo wrote to stderr:\n%s", stderr)
	}
	for _, want := range []string{
		// Alertmanager's webhook, answered after the alerts were stored.
		`{"status":"ok","body_id":1,"alerts":2,"new":2,"changed":0,"repeated":0,"stale":0,"groups":1}`,
		// The channel, its topic and the pinned summary with the alert
		// counts and its controls.
		"#inc-1-checkout-api-returns-502 (topic: SEV1 · Resolved · Lead: @alice",
		"@warroom: :rotating_light: INC-1 · SEV2 · Investigating — Checkout API returns 502 📌",
		"*Alerts* :red_circle: 2 firing · 0 resolved",
		"*Alerts* :large_green_circle: 0 firing · 2 resolved",
		"[Change status ▾] [Resolve]",
		// The warning below the threshold, offered for triage.
		"#payments\n  [14:02:01] @warroom: :warning: Alert in checkout: Checkout database queries are slow (1 firing, 0 resolved)",
		"[Declare incident]",
		// All alerts resolved: a one-click resolve.
		"All 2 alerts have resolved. If the incident is over, resolve INC-1.",
		// The announcement in #incidents, first as posted, then as edited.
		"#incidents\n  [14:02:00] @warroom: :rotating_light: New SEV2 incident INC-1: Checkout API returns 502 — join #inc-1-checkout-api-returns-502\n",
		"#incidents\n  [14:02:00] @warroom: :white_check_mark: INC-1 resolved after 28m",
		// bob's message, pinned by alice's reaction into the timeline.
		"[14:04:00] @bob: 502s started right after deploy 2026.11.03-1 :pushpin:×1",
		"slack.message       slack:U01BOB     502s started right after deploy 2026.11.03-1",
		"slack.joined        slack:U01BOB     joined the channel",
		"alert.firing        alertmanager     CheckoutHigh5xxRate on api-1 fired: Checkout API returns 502",
		"alert.resolved      alertmanager     CheckoutHigh5xxRate on api-2 resolved",
		// The changes, as posted in the channel.
		"@alice made @bob *comms*",
		"@alice raised the severity from *SEV2* to *SEV1*",
		"@bob changed the status from *identified* to *monitoring*",
		"@alice resolved INC-1 after 28m. Summary: Rolled back 2026.11.03-1; error rate back to baseline",
		// The refused second resolution, seen by bob alone.
		"@warroom (only @bob sees this): :warning: INC-1 is already resolved.",
		// The timeline and key times.
		"INC-1 Checkout API returns 502  [sev1, resolved, checkout]",
		"severity_changed    slack:U01ALICE   Severity raised from sev2 to sev1",
		"time to mitigate     13m",
		"time to resolve      28m",
		"Slack calls: 55 (each made once; 0 failed jobs)",
		// The page: alice is on call, paged by DM, and acknowledges.
		"You are paged for *INC-1* (SEV2, checkout): Checkout API returns 502 (step 1 of 3 of payments, round 1 of 3).",
		"page.triggered      warroom          Paged alice (on call for payments-primary) (step 1 of 3 of payments, round 1 of 3)",
		"page.acknowledged   slack:U01ALICE   Acknowledged page 1 (payments) 1m after it started",
		"page.resolved       slack:U01ALICE   Resolved page 1 (payments) with the incident",
		"time to acknowledge  2m",
		// The postmortem, opened by the resolve.
		"@warroom: :memo: The postmortem draft of INC-1 is ready for review: pull request #1",
		"pull request  https://github.example.com/acme/postmortems/pull/1  (draft, branch postmortem/inc-1-checkout-api-returns-502)",
		"issue         https://github.example.com/acme/checkout/issues/1  add a canary stage to the checkout deploy",
		"The start of postmortems/2026-11-03-inc-1-checkout-api-returns-502.md:",
		"    # INC-1: Checkout API returns 502",
		"    INC-1  sev1  checkout  Checkout API returns 502  https://github.example.com/acme/postmortems/pull/1",
		// Recent deploys on declare, and the rollback alice confirmed.
		"(2m before the first alert) · by deploy-bot",
		"`2026.11.02-2` `9f2c4e1` :white_circle: replaced · last good",
		"[Roll back to this]",
		"proposes rolling back *checkout* from `2026.11.03-1 (c0ffee1)` to `2026.11.02-2 (9f2c4e1)` through github_workflow",
		// Once confirmed, the confirmation shows who confirmed it, not its buttons.
		"proposed rolling back *checkout* from `2026.11.03-1 (c0ffee1)` to `2026.11.02-2 (9f2c4e1)` through github_workflow. (edited 1×)",
		"Confirmed by @alice at 14:12 UTC — rolling back…",
		"Rolled back checkout to 2026.11.02-2 (9f2c4e1) through github_workflow in 15s <https://github.example.com/acme/checkout/actions/runs/",
		"rollback.succeeded  warroom",
		// The digest of the demo's week.
		"Incident review: Tue 27 Oct 2026 14:30 UTC to Tue 3 Nov 2026 14:30 UTC (7 days)",
		"  To resolve      1 (↑1 from 0)  28m     28m",
		"    INC-1  sev1  checkout  Checkout API returns 502",
		"    2      2       checkout  Checkout API returns 502            INC-1",
		"Next: run `warroom serve --config examples/warroom.yaml`",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(stdout, tmp) || strings.Contains(stdout, "warroom.db") {
		t.Error("demo output names its temporary database")
	}
	if t.Failed() {
		t.Logf("output:\n%s", stdout)
	}

	// The demo's clock, IDs and event order are its own: every run prints
	// the same, byte for byte.
	_, again, _ := runCLI(t, nil, "demo")
	if again != stdout {
		t.Errorf("demo output differs between runs:\n%s", firstDifference(stdout, again))
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("demo left %d files in the temporary directory", len(left))
	}
}

// TestDemoKeepsItsDatabase checks --db: the demo's database is kept where
// asked, and an existing file is never replaced.
func TestDemoKeepsItsDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	code, _, stderr := runCLI(t, nil, "demo", "--db", db)
	if code != 0 {
		t.Fatalf("demo --db: exit %d\n%s", code, stderr)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	incs, err := incidents.NewService(st).List(ctx, incidents.ListFilter{Status: incidents.FilterAll})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 1 || incs[0].Status != incidents.StatusResolved || incs[0].ChannelName != "inc-1-checkout-api-returns-502" {
		t.Fatalf("kept database holds %+v", incs)
	}

	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, nil, "demo", "--db", db)
	if code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("demo --db on an existing file: exit %d, %s", code, stderr)
	}
	if after, _ := os.ReadFile(db); string(after) != string(before) {
		t.Error("demo --db changed an existing file")
	}
}

// firstDifference shows the first line where a and b differ.
func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, al[i], bl[i])
		}
	}
	return "one output is longer"
}
