package templates

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

func timelineData() map[string]any {
	at := time.Date(2026, 11, 3, 14, 2, 5, 0, time.UTC)
	return map[string]any{
		"Incident": &incidents.Incident{ID: 4, Title: "Search is slow", Severity: incidents.Sev3, Status: incidents.StatusIdentified, Service: "search"},
		"Events": []incidents.Event{
			{At: at, Kind: incidents.EventDeclared, Actor: "slack:U1", Text: "Declared INC-4"},
			{At: at.Add(90 * time.Second), Kind: incidents.EventNote, Actor: "cli", Text: strings.Repeat("long ", 40)},
		},
	}
}

func TestEmbeddedTimeline(t *testing.T) {
	set, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := set.Execute(&b, "timeline.txt.tmpl", timelineData()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
	if lines[0] != "INC-4 Search is slow  [sev3, identified, search]" {
		t.Errorf("header %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "14:02:05  declared ") || !strings.Contains(lines[1], "slack:U1") {
		t.Errorf("event line %q", lines[1])
	}
	if !strings.HasSuffix(lines[2], "…") || len([]rune(lines[2])) != 10+20+17+100 {
		t.Errorf("long text not truncated: %q", lines[2])
	}
}

func TestOverrideDirReplacesByName(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "timeline.txt.tmpl"), []byte(`{{.Incident.ID}} has {{len .Events}} events`), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := set.Execute(&b, "timeline.txt.tmpl", timelineData()); err != nil {
		t.Fatal(err)
	}
	if b.String() != "INC-4 has 2 events" {
		t.Errorf("override not used: %q", b.String())
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing override directory was accepted")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.tmpl"), []byte(`{{.Unclosed`), 0o644)
	if _, err := New(dir); err == nil || !strings.Contains(err.Error(), "bad.tmpl") {
		t.Errorf("a broken override: %v", err)
	}
	set, _ := New("")
	if err := set.Execute(&strings.Builder{}, "nope.tmpl", nil); !errors.Is(err, ErrNoTemplate) {
		t.Errorf("unknown template: %v", err)
	}
	if got, err := inZone("Europe/Berlin", time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)); err != nil || got != "14:00 CEST" {
		t.Errorf("inZone = %q, %v", got, err)
	}
}

func TestReplaceFile(t *testing.T) {
	dir := t.TempDir()
	ours := filepath.Join(dir, "ours.txt")
	os.WriteFile(ours, []byte(`{{.Incident.ID}}: {{md .Incident.Title}}`), 0o644)
	broken := filepath.Join(dir, "broken.txt")
	os.WriteFile(broken, []byte(`{{.Incident.ID`), 0o644)

	set, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	if err := set.ReplaceFile("timeline.txt.tmpl", filepath.Join(dir, "missing.txt")); err == nil {
		t.Error("a missing file was accepted")
	}
	if err := set.ReplaceFile("nope.tmpl", ours); !errors.Is(err, ErrNoTemplate) {
		t.Errorf("replacing a template that does not exist: %v", err)
	}
	if err := set.ReplaceFile("timeline.txt.tmpl", broken); err == nil || !strings.Contains(err.Error(), broken) {
		t.Errorf("a broken file: %v", err)
	}
	var b strings.Builder
	if err := set.Execute(&b, "timeline.txt.tmpl", timelineData()); err != nil || !strings.HasPrefix(b.String(), "INC-4 Search is slow  [") {
		t.Fatalf("after a failed replacement the built-in template should stay: %v %q", err, b.String())
	}
	if err := set.ReplaceFile("timeline.txt.tmpl", ours); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := set.Execute(&b, "timeline.txt.tmpl", timelineData()); err != nil || b.String() != "INC-4: Search is slow" {
		t.Errorf("replaced template: %v %q", err, b.String())
	}
}
