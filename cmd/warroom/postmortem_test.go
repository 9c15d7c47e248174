package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warroomhq/warroom/postmortem"
)

func TestPostmortemLint(t *testing.T) {
	dir := t.TempDir()
	blaming := filepath.Join(dir, "blaming.md")
	os.WriteFile(blaming, []byte("# INC-7\n\n## Contributing factors\n\nThe outage was caused by human error.\nAlice forgot to renew the certificate.\n"), 0o644)
	clean := filepath.Join(dir, "clean.md")
	os.WriteFile(clean, []byte("# INC-7\n\n## Contributing factors\n\nThe certificate expired: renewal was a manual step with no reminder.\n"), 0o644)

	code, out, stderr := runCLI(t, nil, "postmortem", "lint", blaming)
	if code != 1 {
		t.Fatalf("blaming file: exit %d, want 1\n%s%s", code, out, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], blaming+":5:") || !strings.Contains(lines[0], "human error — ") ||
		!strings.HasPrefix(lines[1], blaming+":6:1: Alice forgot — ") {
		t.Errorf("findings:\n%s", out)
	}
	if !strings.Contains(stderr, "2 passages") {
		t.Errorf("stderr %q", stderr)
	}

	if code, out, stderr := runCLI(t, nil, "postmortem", "lint", clean); code != 0 || out != "" {
		t.Errorf("clean file: exit %d\n%s%s", code, out, stderr)
	}
	for _, bad := range [][]string{
		{"postmortem", "lint"},
		{"postmortem", "lint", clean, blaming},
		{"postmortem", "lint", "--strict", clean},
		{"postmortem", "lint", filepath.Join(dir, "missing.md")},
	} {
		if code, _, stderr := runCLI(t, nil, bad...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and why", bad, code, stderr)
		}
	}
}

// TestPostmortemDraftOfTheDemo writes the draft of the demo's incident
// from its database, as a user would after running the demo.
func TestPostmortemDraftOfTheDemo(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	if code, _, stderr := runCLI(t, nil, "demo", "--db", db); code != 0 {
		t.Fatalf("demo: %d %s", code, stderr)
	}
	out := filepath.Join(dir, "draft.md")
	if code, stdout, stderr := runCLI(t, nil, "postmortem", "1", "--db", db, "--out", out); code != 0 || stdout != "" {
		t.Fatalf("postmortem 1: exit %d\n%s%s", code, stdout, stderr)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if missing := postmortem.MissingSections(md); len(missing) != 0 {
		t.Errorf("the draft lacks %q:\n%s", missing, md)
	}
	for _, want := range []string{"# INC-1: ", "\n## Timeline\n\nTimes in UTC.", "| CheckoutHigh5xxRate |",
		// The deploy live at detection, as GitHub listed it on declare.
		"| 2026-11-03 13:58:00 | before the incident: finished 2m before detection | github_deployments:deploy-bot | Deploy of checkout 2026.11.03-1 (c0ffee1) to production: success |",
		// The rollback, with how long after detection it came.
		"| UTC | When | Who | What happened |",
		"| 2026-11-03 14:12:00 | during: 11m after detection | slack:U01ALICE | Proposed rolling back checkout from 2026.11.03-1 (c0ffee1) to 2026.11.02-2 (9f2c4e1) through github_workflow |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the draft lacks %q:\n%s", want, md)
		}
	}

	// With a config: its time zone, and flags before the ID.
	cfg := filepath.Join(dir, "warroom.yaml")
	os.WriteFile(cfg, []byte("postmortem:\n  timezone: Europe/Berlin\n"), 0o644)
	code, stdout, stderr := runCLI(t, nil, "postmortem", "--config", cfg, "--db", db, "INC-1")
	if code != 0 || !strings.Contains(stdout, "| UTC | Europe/Berlin | Who | What happened |") {
		t.Errorf("with a config: exit %d\n%s%s", code, stdout, stderr)
	}

	for _, bad := range [][]string{
		{"postmortem"},
		{"postmortem", "one", "--db", db},
		{"postmortem", "1", "2", "--db", db},
	} {
		if code, _, stderr := runCLI(t, nil, bad...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and why", bad, code, stderr)
		}
	}
	if code, _, stderr := runCLI(t, nil, "postmortem", "9", "--db", db); code != 1 || !strings.Contains(stderr, "INC-9") {
		t.Errorf("unknown incident: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, nil, "postmortem", "1", "--db", filepath.Join(dir, "missing.db")); code != 1 || stderr == "" {
		t.Errorf("missing database: exit %d, %q", code, stderr)
	}
}
