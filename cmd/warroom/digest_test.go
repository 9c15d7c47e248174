package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestDigestCommandReadsTheDemoDatabase keeps the demo's database and
// prints its week's digest in each format, as a user would.
func TestDigestCommandReadsTheDemoDatabase(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	db := filepath.Join(t.TempDir(), "demo.db")
	if code, _, stderr := runCLI(t, nil, "demo", "--db", db); code != 0 {
		t.Fatalf("demo: %d %s", code, stderr)
	}
	at := "2026-11-03T15:30:00+01:00" // the end of the demo's story, in Berlin
	code, out, stderr := runCLI(t, nil, "digest", "--db", db, "--at", at, "--format", "json")
	if code != 0 {
		t.Fatalf("digest --format json: %d %s", code, stderr)
	}
	var rep struct {
		Opened        struct{ Current int }
		TimeToResolve struct {
			Current struct {
				Count         int
				MedianSeconds int `json:"median_seconds"`
			}
		} `json:"time_to_resolve"`
		Postmortems struct {
			Missing []struct{ ID int }
			Open    []struct {
				ID  int
				URL string
			} `json:"open_pull_requests"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	// The demo's one incident: detected 14:00:30, resolved 14:29.
	if rep.Opened.Current != 1 || rep.TimeToResolve.Current.Count != 1 || rep.TimeToResolve.Current.MedianSeconds != 28*60+30 ||
		len(rep.Postmortems.Missing) != 0 || len(rep.Postmortems.Open) != 1 ||
		rep.Postmortems.Open[0].URL != "https://github.example.com/acme/postmortems/pull/1" {
		t.Fatalf("digest of the demo week: %+v", rep)
	}
	code, out, _ = runCLI(t, nil, "digest", "--db", db, "--at", at, "--format", "markdown")
	if code != 0 || !strings.Contains(out, "| INC-1 |") {
		t.Fatalf("markdown: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, nil, "digest", "--db", db, "--at", at)
	if code != 0 || !strings.Contains(out, "Longest incident: INC-1") {
		t.Fatalf("text: %d\n%s", code, out)
	}
	for _, bad := range [][]string{
		{"digest", "--db", db, "--format", "pdf"},
		{"digest", "--db", db, "--since", "soon"},
		{"digest", "--db", db, "--at", "Monday"},
		{"digest", "--db", filepath.Join(t.TempDir(), "missing.db")},
	} {
		if code, _, stderr := runCLI(t, nil, bad...); code == 0 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want a failure that says why", bad, code, stderr)
		}
	}
}
