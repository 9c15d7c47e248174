package bot

import (
	"strings"
	"testing"
)

func TestDispatchSlackTextIsPlain(t *testing.T) {
	cases := map[string]string{
		"plain words":                         "plain words",
		"a &lt;b&gt; &amp;amp; c":             "a <b> &amp; c",
		"<@U01ALICE|alice> and <@U02BOB>":     "@alice and @U02BOB",
		"<#C123|general> <#C456>":             "#general #C456",
		"<!channel> <!here|here> <!everyone>": "@channel here @everyone",
		"<!subteam^S1|@oncall>":               "@oncall",
		"<!date^1392734382^{date}|Feb 18>":    "Feb 18",
		"<https://x.io|x.io>":                 "x.io",
		"<https://x.io/a?b=1&amp;c=2>":        "https://x.io/a?b=1&c=2",
		"<https://x.io/d|the dashboard>":      "the dashboard (https://x.io/d)",
		"<mailto:a@b.io|a@b.io>":              "a@b.io",
		"unclosed <@U1 and &lt;!channel&gt;":  "unclosed <@U1 and <!channel>",
	}
	for in, want := range cases {
		if got := slackText(in); got != want {
			t.Errorf("slackText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDispatchArgWords(t *testing.T) {
	cases := map[string]string{
		"comms <@U1|Ann Lee>": "comms|<@U1|Ann Lee>",
		"  lead\talice  ":     "lead|alice",
		"<@U1>x y":            "<@U1>|x|y",
		"broken <@U1|Ann Lee": "broken|<@U1|Ann|Lee",
		"":                    "",
	}
	for in, want := range cases {
		if got := strings.Join(argWords(in), "|"); got != want {
			t.Errorf("argWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDispatchEditDistance(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{{"sev", "sev", 0}, {"sevv", "sev", 1}, {"stauts", "status", 2}, {"", "note", 4}, {"résolve", "resolve", 1}}
	for _, c := range cases {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
