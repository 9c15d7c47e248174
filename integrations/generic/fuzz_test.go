package generic

import (
	"testing"

	"github.com/warroomhq/warroom/integrations/internal/alerttest"
)

func FuzzParse(f *testing.F) {
	alerttest.Seed(f,
		`[]`,
		`{"title":"x"}`,
		`{"alerts":null}`,
		`{"alerts":[{"title":"x"}]`,
		`{"title":"x","status":"resolved","labels":{"a":"b","severity":"","service":null},"severity":"p1","service":"s"}`,
		`{"title":"x","links":[{"url":"HTTP://a.example.com"},{"title":"t","url":"javascript:alert(1)"}]}`,
		`{"title":"x","runbook_url":"//a.example.com","source_url":"http:a"}`,
		`{"title":"x","starts_at":"0001-01-01T00:00:00+01:00","ends_at":"9999-12-31T23:59:59.999999999-23:59"}`,
		`{"title":"\u0000\ud800","dedup_key":" ","group_key":"\u00ff","labels":{"\u0000":"\ud800"}}`,
	)
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Parse(body)
		alerttest.CheckParsed(t, b, err)
		if err != nil {
			return
		}
		if b.Receiver != "" || b.ExternalURL != "" || b.Title != "" {
			t.Fatalf("batch %q %q %q; the generic format has none", b.Receiver, b.ExternalURL, b.Title)
		}
		for i, a := range b.Alerts {
			if len([]rune(a.Title)) > MaxTitleLength {
				t.Fatalf("alert %d: title %q", i, a.Title)
			}
			if a.GroupKey == "" {
				t.Fatalf("alert %d: no group key", i)
			}
		}
	})
}
