package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/examples"
	"github.com/warroomhq/warroom/oncall"
	"github.com/warroomhq/warroom/store/sqlite"
)

// oncallConfig writes the example config, with a service that has no
// escalation policy, and returns its path.
func oncallConfig(t *testing.T) string {
	t.Helper()
	cfg := bytes.Replace(examples.Config, []byte("services:\n"), []byte("services:\n  search: { channel: \"#search\" }\n"), 1)
	if bytes.Equal(cfg, examples.Config) {
		t.Fatal("the example config changed; update oncallConfig")
	}
	path := filepath.Join(t.TempDir(), "warroom.yaml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOncallServiceFromTheConfigAlone(t *testing.T) {
	cfg := oncallConfig(t)
	missing := filepath.Join(t.TempDir(), "missing.db")
	code, out, stderr := runCLI(t, nil, "oncall", "--config", cfg, "--db", missing, "--service", "checkout",
		"--at", "2026-12-24T10:00:00+01:00")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "no database at "+missing) {
		t.Errorf("stderr does not say the database is missing: %q", stderr)
	}
	want := `Who would be paged for checkout at 2026-12-24T10:00:00+01:00 (policy payments):

Step 1, at once (2026-12-24T10:00:00+01:00):
  schedule payments-primary: dave (Slack U01DAVE), on call until Sun 27 Dec 2026 00:00 CET [override]

Step 2, after 10m (2026-12-24T10:10:00+01:00):
  schedule payments-primary: dave (Slack U01DAVE), on call until Sun 27 Dec 2026 00:00 CET [override]
  person bob (Slack U01BOB)

Step 3, after 20m (2026-12-24T10:20:00+01:00):
  person dave (Slack U01DAVE)
  channel #payments

While nobody acknowledges, the steps run 2 more times.
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

// TestOncallReadsOverridesFromTheDatabase: an override set from Slack
// (stored in the database) changes the answer, and the database is only
// read.
func TestOncallReadsOverridesFromTheDatabase(t *testing.T) {
	ctx := context.Background()
	cfg := oncallConfig(t)
	db := filepath.Join(t.TempDir(), "warroom.db")
	st, err := sqlite.OpenMigrated(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	// Alice's first week; bob covers two hours of it.
	from := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	if _, err := st.AddOverride(ctx, oncall.Override{Schedule: "payments-primary", Person: "bob", From: from,
		To: from.Add(2 * time.Hour), CreatedBy: "U01ALICE"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	before, _ := os.Stat(db)

	code, out, stderr := runCLI(t, map[string]string{"WARROOM_DB": db}, "oncall", "--config", cfg, "--service", "checkout",
		"--at", "2026-11-03T15:55:00Z")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"Step 1, at once (2026-11-03T15:55:00Z):\n  schedule payments-primary: bob (Slack U01BOB), on call until Tue 3 Nov 2026 17:00 CET [override]\n",
		// Ten minutes later the override is over: alice again, until her week ends.
		"Step 2, after 10m (2026-11-03T16:05:00Z):\n  schedule payments-primary: alice (Slack U01ALICE, alice@example.com), on call until Mon 9 Nov 2026 09:00 CET\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}

	code, out, stderr = runCLI(t, nil, "oncall", "--config", cfg, "--db", db, "--schedule", "payments-primary",
		"--at", "2026-11-03T14:30:00Z", "--next", "3")
	if code != 0 {
		t.Fatalf("--schedule: exit %d: %s", code, stderr)
	}
	want := `payments-primary (Europe/Berlin, every 1w, handoff Mon 09:00):
  on call: bob (Slack U01BOB), since Tue 3 Nov 2026 15:00 CET, until Tue 3 Nov 2026 17:00 CET [override]
  next handoffs:
    Tue 3 Nov 2026 17:00 CET  alice (Slack U01ALICE, alice@example.com)
    Mon 9 Nov 2026 09:00 CET  bob (Slack U01BOB)
    Mon 16 Nov 2026 09:00 CET  carol (carol@example.com)
`
	if out != want {
		t.Errorf("--schedule got:\n%s\nwant:\n%s", out, want)
	}
	if after, _ := os.Stat(db); !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Error("warroom oncall changed the database")
	}

	// Without --service or --schedule: every schedule, and the next handoff.
	code, out, _ = runCLI(t, nil, "oncall", "--config", cfg, "--db", db, "--at", "2026-10-30T12:00:00Z")
	if code != 0 || !strings.Contains(out, "nobody is on call") || !strings.Contains(out, "Mon 2 Nov 2026 09:00 CET  alice") {
		t.Errorf("all schedules before the start: exit %d\n%s", code, out)
	}
}

func TestOncallErrors(t *testing.T) {
	cfg := oncallConfig(t)
	db := filepath.Join(t.TempDir(), "missing.db")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--service", "billing"}, 1, `unknown service "billing" (configured: checkout, search)`},
		{[]string{"--service", "search"}, 1, `service "search" has no escalation_policy`},
		{[]string{"--schedule", "nope"}, 1, `unknown schedule "nope" (configured: payments-primary)`},
		{[]string{"--service", "checkout", "--at", "tomorrow"}, 1, "--at \"tomorrow\": want an RFC 3339 time"},
		{[]string{"--service", "checkout", "--schedule", "payments-primary"}, 2, "not both"},
		{[]string{"checkout"}, 2, "unexpected argument"},
		{[]string{"--schedule", "payments-primary", "--next", "0"}, 1, "--next 0"},
	} {
		args := append([]string{"oncall", "--config", cfg, "--db", db}, c.args...)
		code, _, stderr := runCLI(t, nil, args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if code, _, stderr := runCLI(t, nil, "oncall", "--config", filepath.Join(t.TempDir(), "none.yaml")); code != 1 || stderr == "" {
		t.Errorf("missing config: exit %d %q", code, stderr)
	}
}
