package generic

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed bodies: %v", err)
	}
	for _, name := range files {
		body, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, s := range []string{
		``,
		`null`,
		`{}`,
		`[]`,
		`{"title":"x"}`,
		`{"alerts":[null]}`,
		`{"alerts":null}`,
		`{"alerts":[{"title":"x"}]`,
		`{"title":"x","status":"resolved","labels":{"a":"b","severity":"","service":null},"severity":"p1","service":"s"}`,
		`{"title":"x","links":[{"url":"HTTP://a.example.com"},{"title":"t","url":"javascript:alert(1)"}]}`,
		`{"title":"x","runbook_url":"//a.example.com","source_url":"http:a"}`,
		`{"title":"x","starts_at":"0001-01-01T00:00:00+01:00","ends_at":"9999-12-31T23:59:59.999999999-23:59"}`,
		`{"title":"\u0000\ud800","dedup_key":" ","group_key":"\u00ff","labels":{"\u0000":"\ud800"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Parse(body)
		if err != nil {
			if b != nil {
				t.Fatalf("Parse returned a batch and an error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q has more than one line", err)
			}
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if len(b.Alerts) == 0 {
			t.Fatalf("a batch without alerts")
		}
		if b.Receiver != "" || b.ExternalURL != "" || b.Title != "" {
			t.Fatalf("batch %q %q %q; the generic format has none", b.Receiver, b.ExternalURL, b.Title)
		}
		for i, a := range b.Alerts {
			if !a.Status.Valid() {
				t.Fatalf("alert %d: status %q", i, a.Status)
			}
			if a.Labels == nil || a.Annotations == nil {
				t.Fatalf("alert %d: nil labels or annotations", i)
			}
			if a.Title == "" || len([]rune(a.Title)) > MaxTitleLength {
				t.Fatalf("alert %d: title %q", i, a.Title)
			}
			if a.GroupKey == "" {
				t.Fatalf("alert %d: no group key", i)
			}
			checkURL(t, "GeneratorURL", a.GeneratorURL)
			checkURL(t, "RunbookURL", a.RunbookURL)
			for _, l := range a.Links {
				if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") {
					t.Fatalf("alert %d: link %q to %q", i, l.Title, l.URL)
				}
			}
		}
	})
}

// checkURL fails unless u is empty or an http(s) URL.
func checkURL(t *testing.T, name, u string) {
	t.Helper()
	if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		t.Fatalf("%s %q", name, u)
	}
}
