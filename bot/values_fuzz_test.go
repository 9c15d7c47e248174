package bot

import (
	"testing"

	"github.com/warroomhq/warroom/incidents"
)

// FuzzParseStatusValue: a status menu's value comes back from Slack in an
// interaction, which anyone who can sign a request can shape. It never
// panics, and what it accepts is a real incident ID and status that format
// back to the same value.
func FuzzParseStatusValue(f *testing.F) {
	for _, s := range []string{"INC-7|monitoring", "7|resolved", "INC-7|", "|monitoring", "INC-0|identified",
		"INC-7|monitoring|x", "INC-99999999999999999999|resolved", "", "|", "\xff|\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		id, st, err := parseStatusValue(v)
		if err != nil {
			return
		}
		if id <= 0 {
			t.Fatalf("parseStatusValue(%q): id %d", v, id)
		}
		if _, err := incidents.ParseStatus(string(st)); err != nil {
			t.Fatalf("parseStatusValue(%q): status %q: %v", v, st, err)
		}
		id2, st2, err := parseStatusValue(id.String() + "|" + string(st))
		if err != nil || id2 != id || st2 != st {
			t.Fatalf("parseStatusValue(%q) = %v %v, which does not parse back: %v %v %v", v, id, st, id2, st2, err)
		}
	})
}
