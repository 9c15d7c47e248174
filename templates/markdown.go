package templates

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text from people and from alerts is data: in a Markdown template it goes
// through MarkdownText (the "md" function), and URLs through MarkdownURL
// ("mdurl") or MarkdownLink ("mdlink"). What comes out shows the text as it
// was written, on one line, and cannot start a heading, a list, a quote, a
// table row or a link other than to an http(s) address, nor carry HTML,
// whether it lands in a paragraph, a list item, a heading or a table cell.

// MarkdownText escapes s for use inside a line of GitHub Markdown:
//
//   - line breaks, tabs and other control characters become spaces, runs of
//     spaces become one, and the ends are trimmed (so no indented code
//     block);
//   - Unicode direction overrides and isolates are dropped, so the text reads
//     in the order it is stored;
//   - < and > become &lt; and &gt;, so no HTML tag or comment gets through,
//     and & becomes &amp; where it would start a character reference
//     (&lt; &#60;), so the text shows as typed;
//   - \ ` * [ ] | ~ and $ are escaped with a backslash wherever they are
//     (emphasis, code, links, table cells, strikethrough, GitHub's math);
//   - _ is escaped except between two letters or digits, where it cannot
//     emphasize (snake_case stays readable); ! is escaped before [;
//   - # - + = at the start, and the . or ) after leading digits, are escaped
//     so the text cannot open a heading, a list or a setext underline, and
//     a closing run of # is escaped so a heading keeps its text;
//   - a bare http:// or https:// address becomes an autolink (<https://...>)
//     with |, \ and ` percent-encoded, so that it stays one link whole
//     (escaping its punctuation would cut it for renderers that find links
//     in raw text); trailing punctuation stays outside, as GitHub does.
//
// ( and ) are left alone: they only matter right after ], which is escaped.
func MarkdownText(s string) string { return markdownText(s, true) }

// markdownText is MarkdownText, with bare addresses as autolinks only
// when links is true (not in a link's text, where links cannot nest).
func markdownText(s string, links bool) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	// A closing run of # after a space would end an ATX heading.
	closing := len(strings.TrimRight(s, "#"))
	if closing > 0 && s[closing-1] != ' ' {
		closing = len(s)
	}
	var prev rune
	for i := 0; i < len(s); {
		if link, n := autolinkAt(s[i:], prev); links && n > 0 {
			b.WriteString(link)
			i += n
			prev = '>'
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			if isCharRef(s[i+1:]) {
				b.WriteString("&amp;")
			} else {
				b.WriteByte('&')
			}
		case '\\', '`', '*', '[', ']', '|', '~', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '_':
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if !isAlnum(prev) || !isAlnum(next) {
				b.WriteByte('\\')
			}
			b.WriteByte('_')
		case '!':
			if strings.HasPrefix(s[i+1:], "[") {
				b.WriteByte('\\')
			}
			b.WriteByte('!')
		case '#':
			if i == 0 || i >= closing {
				b.WriteByte('\\')
			}
			b.WriteByte('#')
		case '-', '+', '=':
			if i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '.', ')':
			if i > 0 && isDigits(s[:i]) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		prev = r
		i += size
	}
	return b.String()
}

// isCharRef reports whether an & followed by rest would start a character
// reference: &#..., or a name of letters and digits and a ;.
func isCharRef(rest string) bool {
	if strings.HasPrefix(rest, "#") {
		return true
	}
	n := 0
	for n < len(rest) && n < 40 && (isASCIIAlnum(rest[n])) {
		n++
	}
	return n > 0 && n < len(rest) && rest[n] == ';'
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// autolinkAt returns the autolink for an http(s) address at the start of s
// and the bytes it takes, or 0 when s does not start with one (or prev, the
// rune before, is a letter or digit).
func autolinkAt(s string, prev rune) (string, int) {
	if len(s) < len("http://x") || s[0] != 'h' && s[0] != 'H' || isAlnum(prev) ||
		!hasPrefixFold(s, "http://") && !hasPrefixFold(s, "https://") {
		return "", 0
	}
	n := strings.IndexAny(s, " <>")
	if n < 0 {
		n = len(s)
	}
	// Trailing punctuation is the sentence's, not the address's; so is a
	// closing parenthesis or bracket without its opening one.
	for n > 0 {
		c := s[n-1]
		switch {
		case strings.IndexByte(".,:;!?'\"*_~", c) >= 0:
		case c == ')' && strings.Count(s[:n], ")") > strings.Count(s[:n], "("):
		case c == ']' && strings.Count(s[:n], "]") > strings.Count(s[:n], "["):
		default:
			link, ok := autolink(s[:n])
			if !ok {
				return "", 0
			}
			return link, n
		}
		n--
	}
	return "", 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// autolink is u as <u> when u is an absolute http(s) URL with a host, with
// what could end the autolink or a table cell percent-encoded.
func autolink(u string) (string, bool) {
	var b strings.Builder
	b.Grow(len(u) + 2)
	b.WriteByte('<')
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte("<>|\\`", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteByte('>')
	if !isWebURL(u) {
		return "", false
	}
	return b.String(), true
}

// isWebURL reports whether u is an absolute http or https URL with a host.
func isWebURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && p.Host != "" && (strings.EqualFold(p.Scheme, "http") || strings.EqualFold(p.Scheme, "https"))
}

// oneLine turns control characters and line or paragraph separators into
// spaces, drops direction controls, collapses spaces and trims.
func oneLine(s string) string {
	clean := true
	for _, r := range s {
		if r < ' ' || r == 0x7f || r >= 0x80 && isOdd(r) {
			clean = false
			break
		}
	}
	if clean && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case isBidi(r):
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isOdd reports whether a non-ASCII rune needs oneLine's slow path.
func isOdd(r rune) bool {
	return isBidi(r) || unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
}

// isBidi reports whether r overrides or isolates text direction.
func isBidi(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f'
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// SafeURL returns u ready for a Markdown link destination or autolink, and
// true, when u is an absolute http or https URL; otherwise "" and false.
// Spaces, control and non-ASCII bytes, and the characters that could end a
// link, a cell or an autolink (()<>[]|\`"' and braces) are percent-encoded;
// a % that does not start an escape becomes %25.
func SafeURL(u string) (string, bool) {
	u = strings.TrimSpace(u)
	var b strings.Builder
	b.Grow(len(u))
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c == '%' && i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2]):
			b.WriteByte(c)
		case c <= ' ' || c >= 0x7f || strings.IndexByte("%()<>[]|\\`\"'{}", c) >= 0:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	safe := b.String()
	if !isWebURL(safe) {
		return "", false
	}
	return safe, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// MarkdownURL is u as an autolink (<https://...>) when it is an http or
// https URL, and as escaped text otherwise.
func MarkdownURL(u string) string {
	if safe, ok := SafeURL(u); ok {
		return "<" + safe + ">"
	}
	return MarkdownText(u)
}

// MarkdownLink is a link with text to u ([text](u)) when u is an http or
// https URL. Otherwise it is the text followed by the URL in parentheses,
// both escaped, so that nothing is lost and nothing can be clicked. An empty
// text shows the URL.
func MarkdownLink(text, u string) string {
	if strings.TrimSpace(u) == "" {
		return MarkdownText(text)
	}
	safe, ok := SafeURL(u)
	label := markdownText(text, !ok)
	switch {
	case ok && label == "":
		return "<" + safe + ">"
	case ok:
		return "[" + label + "](" + safe + ")"
	case label == "":
		return MarkdownText(u)
	}
	return label + " (" + MarkdownText(u) + ")"
}

// str turns a template argument into text: strings and string types
// (incidents.Severity, incidents.Actor) as they are, Stringers through
// String (incidents.ID is "INC-42").
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case fmt.Stringer:
		return v.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
