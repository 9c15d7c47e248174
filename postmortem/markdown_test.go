package postmortem

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestSections(t *testing.T) {
	md := strings.Join([]string{
		"# Postmortem: certificate expiry",
		"## Summary",
		"Text.",
		"### Not a section",
		"## Key   times ",
		"Impact",
		"------",
		"> ## Quoted, not a section",
		"- ## In a list, not a section",
		"## `Code` and *emphasis* \\& escapes &amp; [links](https://example.com)",
		"```",
		"## in code",
		"```",
	}, "\n")
	want := []string{"Summary", "Key times", "Impact", "Code and emphasis & escapes & links"}
	if got := Sections([]byte(md)); !slices.Equal(got, want) {
		t.Errorf("Sections = %q, want %q", got, want)
	}
	if got := Sections(nil); got != nil {
		t.Errorf("Sections(nil) = %q, want nil", got)
	}
}

func TestMissingSections(t *testing.T) {
	var all strings.Builder
	for _, s := range RequiredSections {
		fmt.Fprintf(&all, "## %s\n\nSome text.\n\n", s)
	}
	if got := MissingSections([]byte(all.String())); got != nil {
		t.Errorf("MissingSections(all) = %q, want nil", got)
	}

	md := strings.Join([]string{
		"# Summary", // level 1: does not count
		"## IMPACT",
		"## key  times",
		"## Responders",
		"### Timeline", // level 3: does not count
		"## Alerts",
		"## Deploys and rollbacks",
		"## Contributing factors",
		"## What went well",
		"## What was hard",
		"## Action items",
		"## Appendix", // extra sections are fine
	}, "\n")
	want := []string{"Summary", "Timeline", "Where we got lucky"}
	if got := MissingSections([]byte(md)); !slices.Equal(got, want) {
		t.Errorf("MissingSections = %q, want %q", got, want)
	}
	if got := MissingSections(nil); !slices.Equal(got, RequiredSections) {
		t.Errorf("MissingSections(nil) = %q, want all of RequiredSections", got)
	}
}

func TestActionItems(t *testing.T) {
	md := strings.Join([]string{
		"## Timeline", // 1
		"",            // 2
		"- [ ] In the timeline: not an action item", // 3
		"",                // 4
		"## Action Items", // 5
		"",                // 6
		"- [ ] Add an alert on certificate expiry",                                     // 7
		"- [x] Renew the certificate",                                                  // 8
		"  - [ ] Automate renewal with *cert-manager* ([#12](https://example.com/12))", // 9
		"    - [X] Nested twice, `code` kept",                                          // 10
		"- A plain list item",                                                          // 11
		"- [ ]",                                                                        // 12
		"",                                                                             // 13
		"1. [x] An ordered task",                                                       // 14
		"   over two lines",                                                            // 15
		"",                                                                             // 16
		"> - [ ] Quoted tasks count too",                                               // 17
		"",                                                                             // 18
		"### Follow-up",                                                                // 19
		"",                                                                             // 20
		"- [ ] Under a subsection",                                                     // 21
		"",                                                                             // 22
		"```",                                                                          // 23
		"- [ ] in a code block",                                                        // 24
		"```",                                                                          // 25
		"",                                                                             // 26
		"## What went well",                                                            // 27
		"",                                                                             // 28
		"- [ ] After the section: not an action item", // 29
		"",                    // 30
		"# Appendix",          // 31
		"## Action items",     // 32: a second section counts too
		"- [ ] Write it down", // 33
	}, "\n")
	want := []ActionItem{
		{Text: "Add an alert on certificate expiry", Done: false, Line: 7},
		{Text: "Renew the certificate", Done: true, Line: 8},
		{Text: "Automate renewal with cert-manager (#12)", Done: false, Line: 9},
		{Text: "Nested twice, code kept", Done: true, Line: 10},
		{Text: "An ordered task over two lines", Done: true, Line: 14},
		{Text: "Quoted tasks count too", Done: false, Line: 17},
		{Text: "Under a subsection", Done: false, Line: 21},
		{Text: "Write it down", Done: false, Line: 33},
	}
	if got := ActionItems([]byte(md)); !slices.Equal(got, want) {
		t.Errorf("ActionItems =\n%+v\nwant\n%+v", got, want)
	}
	if got := ActionItems([]byte("## Summary\n\n- [ ] not here\n")); got != nil {
		t.Errorf("ActionItems without the section = %+v, want nil", got)
	}
}

func TestHTMLDropsDangerousMarkup(t *testing.T) {
	md := strings.Join([]string{
		"## Heading {#id onclick=\"alert(1)\"}",
		"",
		"<script>alert(1)</script>",
		"",
		"Inline <img src=x onerror=alert(1)> HTML.",
		"",
		"[x](javascript:alert(1))",
		"",
		"[y](JAVASCRIPT:alert(1))",
		"",
		"[w](&#106;avascript:alert(1))",
		"",
		"[v](java\tscript:alert(1))",
		"",
		"[u](vbscript:msgbox(1))",
		"",
		"![z](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"",
		"![png](data:image/png;base64,iVBORw0KGgo=)",
		"",
		"[f](file:///etc/passwd)",
		"",
		"<javascript:alert(1)>",
		"",
		"[ref]",
		"",
		"[ref]: javascript:alert(1)",
	}, "\n")
	out, err := HTML([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		`<h2>Heading {#id onclick=&quot;alert(1)&quot;}</h2>`,
		`<!-- raw HTML omitted -->`,
		`<p>Inline <!-- raw HTML omitted --> HTML.</p>`,
		`<p>x</p>`,
		`<p>y</p>`,
		`<p>w</p>`,
		`<p>[v](java	script:alert(1))</p>`, // a tab: not a link at all
		`<p>u</p>`,
		`<p>z</p>`,
		`<p>png</p>`,
		`<p>f</p>`,
		`<p>javascript:alert(1)</p>`,
		`<p>ref</p>`,
		``,
	}, "\n")
	if string(out) != want {
		t.Errorf("HTML =\n%s\nwant\n%s", out, want)
	}
	if err := checkSafeHTML(out); err != nil {
		t.Error(err)
	}
	lower := strings.ToLower(string(out))
	for _, bad := range []string{"<script", "onerror", "href=\"javascript", "vbscript", "data:", "file:", "<img"} {
		if strings.Contains(lower, bad) {
			t.Errorf("HTML output contains %q:\n%s", bad, out)
		}
	}
}

func TestHTMLRendersGFM(t *testing.T) {
	md := strings.Join([]string{
		"## Action items",
		"",
		"- [ ] Add an alert",
		"- [x] Renew the certificate",
		"",
		"| Time  | Event |",
		"|:------|------:|",
		"| 03:10 | ~~paged~~ acknowledged |",
		"",
		"See the [runbook](https://example.com/runbook?a=1&b=2 \"Runbook\"), [notes](../notes.md#cause),",
		"<https://example.com/grafana>, www.example.com, <oncall@example.com> and [mail](mailto:sre@example.com).",
		"",
		"![graph](https://example.com/graph.png)",
		"",
		"```go",
		"fmt.Println(\"<script>\")",
		"```",
	}, "\n")
	out, err := HTML([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	want := `<h2>Action items</h2>
<ul>
<li><input disabled="" type="checkbox"> Add an alert</li>
<li><input checked="" disabled="" type="checkbox"> Renew the certificate</li>
</ul>
<table>
<thead>
<tr>
<th style="text-align:left">Time</th>
<th style="text-align:right">Event</th>
</tr>
</thead>
<tbody>
<tr>
<td style="text-align:left">03:10</td>
<td style="text-align:right"><del>paged</del> acknowledged</td>
</tr>
</tbody>
</table>
<p>See the <a href="https://example.com/runbook?a=1&amp;b=2" title="Runbook">runbook</a>, <a href="../notes.md#cause">notes</a>,
<a href="https://example.com/grafana">https://example.com/grafana</a>, <a href="http://www.example.com">www.example.com</a>, <a href="mailto:oncall@example.com">oncall@example.com</a> and <a href="mailto:sre@example.com">mail</a>.</p>
<p><img src="https://example.com/graph.png" alt="graph"></p>
<pre><code class="language-go">fmt.Println(&quot;&lt;script&gt;&quot;)
</code></pre>
`
	if string(out) != want {
		t.Errorf("HTML =\n%s\nwant\n%s", out, want)
	}
	if err := checkSafeHTML(out); err != nil {
		t.Error(err)
	}
}

func TestSafeURL(t *testing.T) {
	for u, want := range map[string]bool{
		"https://example.com":        true,
		"HTTP://example.com":         true,
		"mailto:sre@example.com":     true,
		"../notes.md#cause":          true,
		"#timeline":                  true,
		"?q=1":                       true,
		"/a:b":                       true,
		"//example.com/x":            true,
		"":                           true,
		"javascript:alert(1)":        false,
		" \x01JavaScript:alert(1)":   false,
		"java\tscr\nipt:alert(1)":    false,
		"java\x00script:alert(1)":    false,
		"vbscript:msgbox(1)":         false,
		"data:image/png;base64,AAAA": false,
		"file:///etc/passwd":         false,
		"ftp://example.com":          false,
		"slack://open":               false,
	} {
		if got := safeURL([]byte(u)); got != want {
			t.Errorf("safeURL(%q) = %v, want %v", u, got, want)
		}
	}
}

var (
	htmlTag  = regexp.MustCompile(`<[^>]*>`)
	htmlAttr = regexp.MustCompile(`\s([^\s="'<>/]+)(?:="([^"]*)")?`)
	htmlName = regexp.MustCompile(`^</?([a-z][a-z0-9]*)`)
	// the elements and attributes goldmark's GFM renderer writes
	htmlTags  = lintWords(`p a img h1 h2 h3 h4 h5 h6 ul ol li input table thead tbody tr th td code pre em strong del blockquote hr br`)
	htmlAttrs = lintWords(`href src alt title type checked disabled start class style`)
)

// checkSafeHTML reads HTML as goldmark writes it (attribute values in double
// quotes, '"' and '<' escaped) and returns an error for anything that could
// run script: a <script>, an element or attribute goldmark does not write,
// an event handler, a style other than table alignment, or an href or src
// whose scheme is not http, https, mailto or none. Text may mention
// "javascript:"; it is escaped and inert.
func checkSafeHTML(out []byte) error {
	if bytes.Contains(bytes.ToLower(out), []byte("<script")) {
		return fmt.Errorf("<script in HTML:\n%s", out)
	}
	for _, tag := range htmlTag.FindAllString(string(out), -1) {
		if tag == "<!-- raw HTML omitted -->" {
			continue
		}
		m := htmlName.FindStringSubmatch(tag)
		if m == nil || !htmlTags[m[1]] {
			return fmt.Errorf("unexpected tag %q", tag)
		}
		rest := strings.TrimSuffix(tag[len(m[0]):], ">")
		for _, a := range htmlAttr.FindAllStringSubmatch(rest, -1) {
			name, value := strings.ToLower(a[1]), html.UnescapeString(a[2])
			switch {
			case !htmlAttrs[name]:
				return fmt.Errorf("unexpected attribute %q in %q", name, tag)
			case name == "style" && !regexp.MustCompile(`^text-align:(left|right|center)$`).MatchString(value):
				return fmt.Errorf("unexpected style in %q", tag)
			case name == "href" || name == "src":
				u := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1
					}
					return r
				}, value))
				for _, scheme := range []string{"javascript:", "vbscript:", "data:", "file:"} {
					if strings.HasPrefix(u, scheme) {
						return fmt.Errorf("dangerous URL in %q", tag)
					}
				}
				if i := strings.IndexAny(u, ":/?#"); i >= 0 && u[i] == ':' &&
					u[:i] != "http" && u[:i] != "https" && u[:i] != "mailto" {
					return fmt.Errorf("unexpected scheme in %q", tag)
				}
			}
		}
		if leftover := strings.TrimSpace(htmlAttr.ReplaceAllString(rest, "")); leftover != "" && leftover != "/" {
			return fmt.Errorf("unparsed %q in tag %q", leftover, tag)
		}
	}
	return nil
}

func FuzzHTML(f *testing.F) {
	for _, s := range []string{
		"## Summary {#id onclick=alert(1)}\n\n<script>alert(1)</script>\n",
		"Inline <img src=x onerror=alert(1)> and <a href=\"javascript:x\">a</a>",
		"[x](javascript:alert(1)) [y](JAVASCRIPT:alert(1)) [w](&#106;avascript:alert(1))",
		"![z](data:text/html;base64,PHNjcmlwdD4=) ![p](data:image/png;base64,AA)",
		"<javascript:alert(1)> <vbscript:msgbox(1)> www.example.com <a@b.c>",
		"[ref]\n\n[ref]: javascript:alert(1) \"t\"\n",
		"| a | b |\n|:--|--:|\n| `x` | ~~y~~ |\n\n- [ ] task\n- [x] done\n",
		"[a](https://example.com \"javascript:\") [b](</x y>) [c](\\javascript:x)",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, md []byte) {
		out, err := HTML(md)
		if err != nil {
			t.Fatalf("HTML: %v", err)
		}
		if err := checkSafeHTML(out); err != nil {
			t.Fatalf("unsafe HTML for %q: %v", md, err)
		}
	})
}

// TestConcurrentUse runs every reader of the package at once on one input;
// with -race it shows the shared goldmark instance is safe to share.
func TestConcurrentUse(t *testing.T) {
	md := []byte("## Action items\n\n- [ ] Alice forgot [x](javascript:alert(1))\n\n| a |\n|---|\n| b |\n")
	wantHTML, err := HTML(md)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(Lint(md), ActionItems(md), Sections(md), string(wantHTML))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			out, err := HTML(md)
			if err != nil {
				errs <- err
				return
			}
			if got := fmt.Sprint(Lint(md), ActionItems(md), Sections(md), string(out)); got != want {
				errs <- fmt.Errorf("concurrent result differs:\n%s\nwant\n%s", got, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCheckSafeHTMLCatches shows the fuzz oracle rejects what it must.
func TestCheckSafeHTMLCatches(t *testing.T) {
	for _, bad := range []string{
		`<p><SCRIPT>alert(1)</SCRIPT></p>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href="JaVa&#x09;Script&colon;alert(1)">x</a>`,
		`<a href=" vbscript:x">x</a>`,
		`<img src="data:image/png;base64,AA" alt="">`,
		`<a href="slack://open">x</a>`,
		`<img src="x" onerror="alert(1)">`,
		`<img src=x onerror=alert(1)>`,
		`<div>x</div>`,
		`<h2 id="x">x</h2>`,
		`<th style="background:url(javascript:x)">x</th>`,
	} {
		if checkSafeHTML([]byte(bad)) == nil {
			t.Errorf("checkSafeHTML(%q) = nil, want an error", bad)
		}
	}
}
