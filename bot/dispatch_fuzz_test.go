package bot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/warroomhq/warroom/config"
)

// FuzzCommandText feeds slash-command text, as Slack sends it, through the
// parsers that take it apart: they never panic, and what they return is
// made of the input.
func FuzzCommandText(f *testing.F) {
	for _, s := range []string{
		"declare Checkout is down sev1 checkout",
		"declare <!channel> &lt;b&gt; sev2",
		"lead <@U01ALICE|alice>",
		"role comms <@U02BOB>",
		"note see <https://x.io/d|the dashboard> &amp; <#C1|general>",
		"status  monitoring ",
		"<", "<@", "&amp", "sev", "declare sev1 checkout", "\u00a0declare\tx",
	} {
		f.Add(s)
	}
	b := &Bot{opts: Options{
		Services: map[string]config.Service{"checkout": {}},
		People:   map[string]config.Person{"alice": {Slack: "U01ALICE"}, "carol": {Email: "c@x.io"}},
	}}
	f.Fuzz(func(t *testing.T, text string) {
		verb, args := splitVerb(text)
		if strings.ContainsFunc(verb, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }) {
			t.Fatalf("verb %q has a space", verb)
		}
		if !strings.Contains(strings.ToLower(text), verb) {
			t.Fatalf("verb %q is not in %q", verb, text)
		}
		words := argWords(args)
		if got := strings.Join(words, ""); len(got) > len(args) {
			t.Fatalf("argWords(%q) = %q is longer than its input", args, words)
		}
		for _, w := range words {
			if w == "" {
				t.Fatalf("argWords(%q) has an empty word", args)
			}
			_, _ = b.parsePerson(w)
		}
		title, sev, service := b.splitDeclare(args)
		if !strings.HasPrefix(strings.TrimSpace(args), title) {
			t.Fatalf("splitDeclare(%q) title %q is not its start", args, title)
		}
		if sev != "" && !sev.Valid() {
			t.Fatalf("splitDeclare(%q) severity %q", args, sev)
		}
		if service != "" && service != "checkout" {
			t.Fatalf("splitDeclare(%q) service %q", args, service)
		}
		plain := slackText(args)
		if utf8.ValidString(args) && !utf8.ValidString(plain) {
			t.Fatalf("slackText(%q) = %q is not valid UTF-8", args, plain)
		}
	})
}
