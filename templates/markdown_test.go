package templates

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

func TestMarkdownText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Checkout is down", "Checkout is down"},
		{"  two\nlines\r\n\tand  tabs ", "two lines and tabs"},
		{"| broken | table", `\| broken \| table`},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"# not a heading", `\# not a heading`},
		{"fix for C# and issue #42", "fix for C# and issue #42"},
		{"closing ##", `closing \#\#`},
		{"[link](javascript:alert(1))", `\[link\](javascript:alert(1))`},
		{"![img](x)", `\!\[img\](x)`},
		{"down!", "down!"},
		{"- not a list", `\- not a list`},
		{"+1", `\+1`},
		{"===", `\===`},
		{"1. first", `1\. first`},
		{"2026) year", `2026\) year`},
		{"v1.2", "v1.2"},
		{"> quote", "&gt; quote"},
		{"**bold** _em_ snake_case __init__", `\*\*bold\*\* \_em\_ snake_case \_\_init\_\_`},
		{"`code` ~~gone~~ $x$", "\\`code\\` \\~\\~gone\\~\\~ \\$x\\$"},
		{`C:\path &amp; &#60; AT&T; a & b, x&y`, `C:\\path &amp;amp; &amp;#60; AT&amp;T; a & b, x&y`},
		{"see https://grafana.example.com/d/abc?var-env=prod&from=now-1h.", "see <https://grafana.example.com/d/abc?var-env=prod&from=now-1h>."},
		{"(https://x.example/a_(b)_c|d) and HTTPS://X.EXAMPLE/~u/*", "(<https://x.example/a_(b)_c%7Cd>) and <HTTPS://X.EXAMPLE/~u/>\\*"},
		{"<https://x.example/>", "&lt;<https://x.example/>&gt;"},
		{"javascript:alert(1) https:// http:///x xhttps://y.example", "javascript:alert(1) https:// http:///x xhttps://y.example"},
		{"rtl \u202eevil\u202c text", "rtl evil text"},
		{"", ""},
	} {
		if got := MarkdownText(tc.in); got != tc.want {
			t.Errorf("MarkdownText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMarkdownLinks(t *testing.T) {
	for _, tc := range []struct{ text, url, want string }{
		{"runbook", "https://runbooks.example.com/checkout/5xx", "[runbook](https://runbooks.example.com/checkout/5xx)"},
		{"source", `http://prom:9090/graph?g0.expr=rate(x{code=~"5.."}[5m]) > 0.05`,
			"[source](http://prom:9090/graph?g0.expr=rate%28x%7Bcode=~%225..%22%7D%5B5m%5D%29%20%3E%200.05)"},
		{"a|b", "https://x.example/a|b%zz%41", `[a\|b](https://x.example/a%7Cb%25zz%41)`},
		{"runbook", "javascript:alert(1)", "runbook (javascript:alert(1))"},
		{"runbook", "data:text/html,<script>", "runbook (data:text/html,&lt;script&gt;)"},
		{"runbook", "//evil.example/x", "runbook (//evil.example/x)"},
		{"", "https://x.example/", "<https://x.example/>"},
		{"see https://a.example/", "https://b.example/", "[see https://a.example/](https://b.example/)"},
		{"text", "", "text"},
	} {
		if got := MarkdownLink(tc.text, tc.url); got != tc.want {
			t.Errorf("MarkdownLink(%q, %q) = %q, want %q", tc.text, tc.url, got, tc.want)
		}
	}
	if got := MarkdownURL("https://grafana.example.com/d/abc?var-env=prod&from=now-1h"); got != "<https://grafana.example.com/d/abc?var-env=prod&from=now-1h>" {
		t.Errorf("MarkdownURL = %q", got)
	}
	if got := MarkdownURL("ftp://x.example/<b>"); got != "ftp://x.example/&lt;b&gt;" {
		t.Errorf("MarkdownURL of an ftp URL = %q", got)
	}
}

// gfm renders Markdown as GitHub does, less the autolinking of bare
// www. and http addresses, which would turn harmless text into links.
var gfm = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList))

func render(t testing.TB, md string) string {
	t.Helper()
	var b bytes.Buffer
	if err := gfm.Convert([]byte(md), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	anchor = regexp.MustCompile(`<a href="([^"]*)">([^<]*)</a>`)
	// undoURL decodes what autolinks encode.
	undoURL = strings.NewReplacer("%7C", "|", "%5C", `\`, "%60", "`")
)

// FuzzMarkdownText renders escaped text in a paragraph, a heading and a
// table cell with a GFM parser, and checks that it shows exactly the text
// (on one line) and nothing else: no tag, no emphasis, no link, no new
// block.
func FuzzMarkdownText(f *testing.F) {
	for _, s := range []string{
		"| broken | table", "<script>alert(1)</script>", "# not a heading", "[link](javascript:alert(1))",
		"*a* _b_ __c__ ~d~ `e` $f$", "1. one\n2. two", "- [ ] task", "> quote", "***", "___", "---", "a\\", "&amp; &#60;",
		"foo #", "[a]: http://x", "<http://x>", "![i](j)", "snake_case_name", "x_", "_x", "\u202ertl", "a\u00a0b", "é_é", "[^1]",
		"    code", "```go", "~~~", "<!-- c -->", "line  \nbreak", "a|b\\|c", "see https://x.example/a|b_(c)*.", "h https://", "&copy; & &#1;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := oneLine(strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), ""))
		md := MarkdownText(strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), ""))
		if want == "" {
			if md != "" {
				t.Fatalf("MarkdownText(%q) = %q, want empty", s, md)
			}
			return
		}
		want = undoURL.Replace(want)
		check := func(where, out, open, close string) {
			t.Helper()
			inner, ok := strings.CutPrefix(out, open)
			if ok {
				inner, ok = strings.CutSuffix(inner, close)
			}
			// Bare addresses become links to themselves.
			inner = anchor.ReplaceAllStringFunc(inner, func(a string) string {
				m := anchor.FindStringSubmatch(a)
				if !strings.HasPrefix(strings.ToLower(m[1]), "http") {
					t.Fatalf("MarkdownText(%q) = %q in a %s links to %q", s, md, where, m[1])
				}
				return m[2]
			})
			if !ok || strings.ContainsAny(inner, "<>") || undoURL.Replace(html.UnescapeString(inner)) != want {
				t.Fatalf("MarkdownText(%q) = %q in a %s renders as\n%s\nwant the text %q", s, md, where, out, want)
			}
		}
		check("paragraph", render(t, md), "<p>", "</p>\n")
		check("heading", render(t, "# "+md), "<h1>", "</h1>\n")
		check("list item", render(t, "- "+md), "<ul>\n<li>", "</li>\n</ul>\n")
		cell := render(t, "| h1 | h2 |\n| --- | --- |\n| x | "+md+" |\n")
		_, cell, _ = strings.Cut(cell, "<td>x</td>\n")
		check("table cell", cell, "<td>", "</td>\n</tr>\n</tbody>\n</table>\n")
	})
}
