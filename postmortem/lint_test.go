package postmortem

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// found is the part of a Finding a test states; the suggestion is checked
// against the rule's.
type found struct {
	line, col    int
	phrase, rule string
}

func (f found) String() string { return fmt.Sprintf("%d:%d %s %q", f.line, f.col, f.rule, f.phrase) }

func lintFound(t *testing.T, md string) []found {
	t.Helper()
	var out []found
	for _, f := range Lint([]byte(md)) {
		if f.Suggestion == "" || f.Suggestion != lintSuggestions[f.Rule] {
			t.Errorf("finding %+v: suggestion %q is not the rule's", f, f.Suggestion)
		}
		out = append(out, found{f.Line, f.Column, f.Phrase, f.Rule})
	}
	return out
}

func TestLintFlagsBlamingLanguage(t *testing.T) {
	tests := []struct {
		md   string
		want []found
	}{
		// human error
		{"The root cause was human error.", []found{{1, 20, "human error", "human-error"}}},
		{"Human-error, again.", []found{{1, 1, "Human-error", "human-error"}}},
		{"A classic operator error.", []found{{1, 11, "operator error", "human-error"}}},
		// fault
		{"It was Alice's fault.", []found{{1, 8, "Alice's fault", "fault"}}},
		{"It was Alice’s fault.", []found{{1, 8, "Alice’s fault", "fault"}}},
		{"It was her fault.", []found{{1, 8, "her fault", "fault"}}},
		{"It was @bob's fault.", []found{{1, 8, "@bob's fault", "fault"}}},
		{"It was the on-call engineer's fault.", []found{{1, 8, "the on-call engineer's fault", "fault"}}},
		{"This was the fault of @bob.", []found{{1, 10, "the fault of @bob", "fault"}}},
		{"Mostly the fault of the developer.", []found{{1, 8, "the fault of the developer", "fault"}}},
		{"Bob was at fault.", []found{{1, 1, "Bob was at fault", "fault"}}},
		// should have, with a person as the subject
		{"Alice should have checked the diff.", []found{{1, 1, "Alice should have", "should-have"}}},
		{"@alice should've waited.", []found{{1, 1, "@alice should've", "should-have"}}},
		{"<@U024BE7LH> should not have deployed on a Friday.", []found{{1, 1, "<@U024BE7LH> should not have", "should-have"}}},
		{"Someone shouldn't have merged it.", []found{{1, 1, "Someone shouldn't have", "should-have"}}},
		{"The developer should have been more careful.", []found{{1, 1, "The developer should have", "should-have"}}},
		{"In hindsight the operator really should have known.", []found{{1, 14, "the operator really should have", "should-have"}}},
		{"I should have double-checked.", []found{{1, 1, "I should have", "should-have"}}},
		{"They should have been watching the dashboard.", []found{{1, 1, "They should have", "should-have"}}},
		// judgement words
		{"A careless change.", []found{{1, 3, "careless", "judgement"}}},
		{"The rollout was negligent.", []found{{1, 17, "negligent", "judgement"}}},
		{"This was negligence.", []found{{1, 10, "negligence", "judgement"}}},
		{"An incompetent review.", []found{{1, 4, "incompetent", "judgement"}}},
		{"Sloppy work.", []found{{1, 1, "Sloppy", "judgement"}}},
		{"The fix was lazy.", []found{{1, 13, "lazy", "judgement"}}},
		// blame
		{"We blame the deploy process.", []found{{1, 4, "blame", "blame"}}},
		{"Bob is to blame.", []found{{1, 8, "to blame", "blame"}}},
		{"Alice was blamed in the channel.", []found{{1, 11, "blamed", "blame"}}},
		// failed to, with a person as the subject
		{"The operator failed to escalate.", []found{{1, 1, "The operator failed to", "failed-to"}}},
		{"Alice failed to renew the certificate.", []found{{1, 1, "Alice failed to", "failed-to"}}},
		// a person as the subject of broke, caused, forgot, missed, ignored, didn't check
		{"Bob broke the build.", []found{{1, 1, "Bob broke", "broke"}}},
		{"Alice has broken the login page.", []found{{1, 1, "Alice has broken", "broke"}}},
		{"Alice caused the outage.", []found{{1, 1, "Alice caused", "caused"}}},
		{"The on-call engineer forgot to renew the certificate.", []found{{1, 1, "The on-call engineer forgot", "forgot"}}},
		{"@carol missed the page.", []found{{1, 1, "@carol missed", "missed"}}},
		{"On-call missed two pages.", []found{{1, 1, "On-call missed", "missed"}}},
		{"They ignored the warning.", []found{{1, 1, "They ignored", "ignored"}}},
		{"Dave didn't check the config.", []found{{1, 1, "Dave didn't check", "didnt-check"}}},
		{"Erin did not verify the backup.", []found{{1, 1, "Erin did not verify", "didnt-check"}}},
		{"Somebody never tested the rollback.", []found{{1, 1, "Somebody never tested", "didnt-check"}}},
		{"He accidentally broke prod.", []found{{1, 1, "He accidentally broke", "broke"}}},
		{"Alice Manning forgot the runbook.", []found{{1, 1, "Alice Manning forgot", "forgot"}}},
		{"Alice and Bob forgot the runbook.", []found{{1, 1, "Alice and Bob forgot", "forgot"}}},
		{"After the page, Jean-Luc ignored it.", []found{{1, 17, "Jean-Luc ignored", "ignored"}}},
		// Markup does not hide a sentence; a sentence may wrap.
		{"Alice *forgot* to renew.", []found{{1, 1, "Alice *forgot", "forgot"}}},
		{"[Alice](https://example.com/u/alice) forgot.", []found{{1, 2, "Alice](https://example.com/u/alice) forgot", "forgot"}}},
		{"the on-call\nengineer forgot to page", []found{{1, 1, "the on-call\nengineer forgot", "forgot"}}},
		// several findings, in order
		{"Alice carelessly broke prod; human error.", []found{
			{1, 1, "Alice carelessly broke", "broke"},
			{1, 7, "carelessly", "judgement"},
			{1, 30, "human error", "human-error"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.md, func(t *testing.T) {
			got := lintFound(t, tt.md)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Lint(%q)\n got %v\nwant %v", tt.md, got, tt.want)
			}
		})
	}
}

// TestLintPositions checks lines and columns (in runes) in a document with
// headings, lists, quotes, tables and multi-byte text.
func TestLintPositions(t *testing.T) {
	md := strings.Join([]string{
		"# Postmortem: certificate expiry", // 1
		"",                                 // 2
		"## Contributing factors",          // 3
		"",                                 // 4
		"Émile noted: Alice forgot to renew the certificate.", // 5
		"",                                  // 6
		"> Bob broke the build.",            // 7
		"",                                  // 8
		"| Who | What |",                    // 9
		"|-----|------|",                    // 10
		"| ops | Carol missed the page |",   // 11
		"",                                  // 12
		"## Action items",                   // 13
		"",                                  // 14
		"- [ ] Stop blaming human error",    // 15
		"  - [x] nested: Dave didn't check", // 16
	}, "\n")
	want := []found{
		{5, 14, "Alice forgot", "forgot"},
		{7, 3, "Bob broke", "broke"},
		{11, 9, "Carol missed", "missed"},
		{15, 12, "blaming", "blame"},
		{15, 20, "human error", "human-error"},
		{16, 17, "Dave didn't check", "didnt-check"},
	}
	if got := lintFound(t, md); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Lint\n got %v\nwant %v", got, want)
	}
}

func TestLintLeavesNeutralTextAlone(t *testing.T) {
	for _, md := range []string{
		// the brief's neutral sentences: a system as the subject
		"The deploy caused a spike in 5xx responses.",
		"the deploy caused a spike",
		"The config change broke the health check.",
		"Requests should have been retried by the client.",
		"should have been retried by the client",
		"The alert should have fired at 03:10.",
		"We run blameless postmortems.",
		// Decision: a clause that denies blame or fault is not reported.
		"No one is to blame.",
		"Nobody is to blame for this.",
		"We do not blame individuals.",
		"We blame no one.",
		"It was nobody's fault.",
		"It was not her fault.",
		// systems, processes and the team
		"The job failed to start.",
		"Monitoring missed the spike.",
		"Latency caused timeouts upstream.",
		"Redis broke under load.",
		"The Scheduler forgot its lease.",
		"Retries caused a thundering herd.",
		"Kubernetes ignored the readiness probe.",
		"We should have had an alert on disk usage.",
		"We forgot to renew the certificate.",
		"They should have been paged earlier.",
		"The build is broken.",
		"It was the cache's fault.",
		"A fault of the disk controller.",
		"Page faults and fault injection.",
		"Alice was paged at 03:12 and rolled back the deploy.",
		"The pager was ignored by the routing rules.",
		// technical senses
		"Lazy loading of the config hid the error.",
		"The cache is lazily populated.",
		"Dynamo-style sloppy quorum writes.",
		"git blame shows the change.",
		"The client didn't check the status code.",
		// code, HTML and URLs are not prose
		"Run `Alice forgot` as a test fixture.",
		"```\nAlice forgot; human error; Bob is to blame\n```",
		"    indented code: human error",
		"<!-- Alice forgot -->",
		"<div>\nhuman error\n</div>",
		"See <https://example.com/human-error> and https://example.com/blame.",
		"[the postmortem](https://example.com/whose-fault/alice-forgot)",
		// a sentence does not run from one block into the next
		"- Alice\n- forgot to renew",
		"Alice\n\nforgot to renew",
		"## Alice\n\nforgot to renew",
		"Alice (on call) forgot", // parentheses break the subject, by design
		"",
	} {
		if got := lintFound(t, md); len(got) > 0 {
			t.Errorf("Lint(%q) = %v, want nothing", md, got)
		}
	}
}

func FuzzLint(f *testing.F) {
	for _, s := range []string{
		"Human error caused the outage.",
		"It was Alice's fault. The fault of the on-call engineer. Bob was at fault.",
		"<@U123> should not have deployed. @bob should've waited.",
		"No one is to blame.\n\n```\nAlice forgot\n```\n",
		"| a | b |\n|---|---|\n| Alice broke | x |\n",
		"- [ ] Alice forgot\n  - [x] Bob didn't check\n",
		"Alice\\'s fault &amp; Bob&nbsp;forgot `x` <b>y</b> <@U1|bob> ignored",
		"É\xffAlice forgot\r\nthe on-call\r\nengineer missed",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, md []byte) {
		lines := strings.Split(string(md), "\n")
		for _, fd := range Lint(md) {
			if fd.Line < 1 || fd.Line > len(lines) {
				t.Fatalf("finding %+v: line outside 1..%d", fd, len(lines))
			}
			line := lines[fd.Line-1]
			if fd.Column < 1 || fd.Column > utf8.RuneCountInString(line)+1 {
				t.Fatalf("finding %+v: column outside line %q", fd, line)
			}
			rest := line
			for range fd.Column - 1 {
				_, size := utf8.DecodeRuneInString(rest)
				rest = rest[size:]
			}
			first, _, _ := strings.Cut(fd.Phrase, "\n")
			if fd.Phrase == "" || !strings.HasPrefix(rest, first) {
				t.Fatalf("finding %+v: phrase is not at %d:%d of %q", fd, fd.Line, fd.Column, line)
			}
			if fd.Suggestion == "" || lintSuggestions[fd.Rule] != fd.Suggestion {
				t.Fatalf("finding %+v: no suggestion for its rule", fd)
			}
		}
	})
}
