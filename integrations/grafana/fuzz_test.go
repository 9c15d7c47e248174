package grafana

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
		`{"alerts":[null]}`,
		`{"version":"1","alerts":[{"status":"firing"}]`,
		`{"alerts":[{"status":"resolved","labels":{"a":"b"},"fingerprint":"","values":{"A":1e308,"B":null}}]}`,
		`{"alerts":[{"status":"firing","dashboardURL":"javascript:alert(1)","panelURL":"HTTP://x","silenceURL":"//x","imageURL":"http:x"}]}`,
		`{"alerts":[{"status":"firing","startsAt":"0001-01-01T00:00:00+01:00","endsAt":"9999-12-31T23:59:59.999999999-23:59"}]}`,
		`{"version":"1","receiver":"a\\","title":"\u0000","alerts":[{"status":"firing","labels":{"":"\u0000","\u00ff":"\ud800"}}]}`,
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
		checkURL(t, "ExternalURL", b.ExternalURL)
		for i, a := range b.Alerts {
			if !a.Status.Valid() {
				t.Fatalf("alert %d: status %q", i, a.Status)
			}
			if a.Labels == nil || a.Annotations == nil {
				t.Fatalf("alert %d: nil labels or annotations", i)
			}
			if a.Title == "" {
				t.Fatalf("alert %d: no title", i)
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
