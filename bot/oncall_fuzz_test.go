package bot

import (
	"strings"
	"testing"

	"github.com/warroomhq/warroom/config"
)

// FuzzOnCallOverrideArgs feeds the text after "/incident oncall override"
// through its parser and the person lookup: they never panic, a parsed
// override lasts between zero and MaxOverride, and a person found is one
// of the configuration.
func FuzzOnCallOverrideArgs(f *testing.F) {
	for _, s := range []string{
		"payments-primary <@U01BOB|bob> 2h",
		"payments-primary @carol 1d12h dentist &lt;b&gt;",
		"primary bob 30m <!channel> please",
		"primary bob 99999999999999999999h",
		"primary bob -1h", "primary bob 0", "primary <@U01BOB 1h", "x y", "<", "&amp; &amp; 1w",
	} {
		f.Add(s)
	}
	b := &Bot{opts: Options{People: map[string]config.Person{
		"alice": {Slack: "U01ALICE"}, "bob": {Slack: "U01BOB"}, "carol": {Email: "c@x.io"},
	}}}
	f.Fuzz(func(t *testing.T, text string) {
		a, err := parseOverrideArgs(argWords(text))
		if err != nil {
			if _, ok := err.(*UsageError); !ok {
				t.Fatalf("parseOverrideArgs(%q): %T %v, want a *UsageError", text, err, err)
			}
			return
		}
		if a.length <= 0 || a.length > MaxOverride {
			t.Fatalf("parseOverrideArgs(%q): length %s", text, a.length)
		}
		if !strings.Contains(text, a.who) {
			t.Fatalf("parseOverrideArgs(%q): who %q is not in the input", text, a.who)
		}
		if name, err := b.configuredPerson(a.who); err == nil {
			if _, ok := b.opts.People[name]; !ok {
				t.Fatalf("configuredPerson(%q) = %q, not a configured person", a.who, name)
			}
		}
	})
}
