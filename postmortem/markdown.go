package postmortem

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// gfmMarkdown is the one goldmark instance of the package: GitHub Flavored
// Markdown (tables, strikethrough, task lists, autolinks), nothing else.
// Raw HTML is never rendered (no html.WithUnsafe), and neither attribute
// syntax nor automatic heading IDs are enabled, so a heading's HTML has no
// attributes at all. A goldmark.Markdown may be used by many goroutines.
var gfmMarkdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

func parseMarkdown(src []byte) ast.Node {
	return gfmMarkdown.Parser().Parse(text.NewReader(src))
}

// Sections returns the texts of the document's level-2 headings, in order.
// Only top-level headings count: a heading quoted in a blockquote or nested
// in a list is not a section.
func Sections(markdown []byte) []string {
	var out []string
	for n := parseMarkdown(markdown).FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok && h.Level == 2 {
			out = append(out, mdPlainText(h, markdown))
		}
	}
	return out
}

// MissingSections returns the RequiredSections that the document has no
// level-2 heading for, in the order of RequiredSections, or nil when none is
// missing. Headings match case-insensitively, ignoring surrounding and
// repeated white space ("key   TIMES" is "Key times").
func MissingSections(markdown []byte) []string {
	have := Sections(markdown)
	var missing []string
	for _, want := range RequiredSections {
		found := false
		for _, h := range have {
			if sameHeading(h, want) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, want)
		}
	}
	return missing
}

// actionItemsSection is the section ActionItems reads.
const actionItemsSection = "Action items"

// ActionItems returns the GFM task-list entries ("- [ ] text", "- [x] text")
// of the "Action items" section: from its top-level level-2 heading to the
// next top-level heading of level 1 or 2. Nested task lists count; task
// lists in other sections, plain list items and entries with no text do
// not. Text is the entry's first paragraph as plain text (Markdown markup
// and nested lists removed); Line is the 1-based line of its checkbox.
func ActionItems(markdown []byte) []ActionItem {
	lines := newLineIndex(markdown)
	var items []ActionItem
	inSection := false
	for n := parseMarkdown(markdown).FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok && h.Level <= 2 {
			inSection = h.Level == 2 && sameHeading(mdPlainText(h, markdown), actionItemsSection)
			continue
		}
		if !inSection {
			continue
		}
		_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
			if !entering || c.Kind() != ast.KindListItem {
				return ast.WalkContinue, nil
			}
			if item, ok := taskItem(c, markdown, lines); ok {
				items = append(items, item)
			}
			return ast.WalkContinue, nil
		})
	}
	return items
}

// taskItem reads a list item whose first block starts with a task checkbox.
func taskItem(li ast.Node, src []byte, lines lineIndex) (ActionItem, bool) {
	block := li.FirstChild()
	if block == nil || (block.Kind() != ast.KindTextBlock && block.Kind() != ast.KindParagraph) {
		return ActionItem{}, false
	}
	box, ok := block.FirstChild().(*extast.TaskCheckBox)
	if !ok {
		return ActionItem{}, false
	}
	txt := mdPlainText(block, src)
	if txt == "" {
		return ActionItem{}, false
	}
	pos := box.Pos()
	if block.Lines().Len() > 0 {
		pos = block.Lines().At(0).Start
	}
	line, _ := lines.position(pos)
	return ActionItem{Text: txt, Done: box.IsChecked, Line: line}, true
}

// HTML renders a postmortem as GitHub Flavored Markdown to HTML that is safe
// to show in a browser:
//
//   - raw HTML, inline or as a block, is dropped (goldmark renders
//     "<!-- raw HTML omitted -->" in its place);
//   - a link, image or autolink whose URL has a scheme other than http,
//     https or mailto (javascript:, vbscript:, data: - images included -,
//     file:, anything unknown) loses its URL: a link or image becomes its
//     text, an autolink becomes plain text; relative URLs and #fragments stay;
//   - headings get no attributes ("## Title {onclick=x}" is plain text).
//
// Text is escaped as usual, so a postmortem may still mention "<script>" or
// "javascript:" in prose or code; it is shown, never run.
func HTML(markdown []byte) ([]byte, error) {
	doc := parseMarkdown(markdown)
	dropUnsafeLinks(doc, markdown)
	var buf bytes.Buffer
	if err := gfmMarkdown.Renderer().Render(&buf, markdown, doc); err != nil {
		return nil, fmt.Errorf("rendering postmortem as HTML: %w", err)
	}
	return buf.Bytes(), nil
}

// dropUnsafeLinks replaces links, images and autolinks whose URL is not
// safeURL by their text. goldmark's own renderer blanks javascript:,
// vbscript:, file: and non-image data: URLs; this is the stricter allow
// list, and it leaves no empty <a href=""> behind.
func dropUnsafeLinks(doc ast.Node, src []byte) {
	var unsafe []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			if !safeURL(util.URLEscape(n.Destination, true)) {
				unsafe = append(unsafe, n)
			}
		case *ast.Image:
			if !safeURL(util.URLEscape(n.Destination, true)) {
				unsafe = append(unsafe, n)
			}
		case *ast.AutoLink:
			if n.AutoLinkType != ast.AutoLinkEmail && !safeURL(util.URLEscape(n.URL(src), false)) {
				unsafe = append(unsafe, n)
			}
		}
		return ast.WalkContinue, nil
	})
	// Children before parents would not matter: a link cannot contain a
	// link, and an image's alt text holds no images that render as tags.
	for _, n := range unsafe {
		parent := n.Parent()
		if parent == nil {
			continue
		}
		if al, ok := n.(*ast.AutoLink); ok {
			label := ast.NewString(al.Label(src))
			label.SetRaw(true) // as written: escaped, references left alone
			parent.ReplaceChild(parent, n, label)
			continue
		}
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
}

// safeURL reports whether a link may point at u: a relative URL (no scheme,
// so a path, a query or a #fragment), or http, https or mailto. It reads the
// URL as a browser would: tabs and newlines anywhere and control characters
// and spaces around are ignored, and the scheme is case-insensitive.
// Anything before the first ':' that comes ahead of any '/', '?' or '#' is
// taken as a scheme, so "java\x00script:" and unknown schemes are refused.
func safeURL(u []byte) bool {
	s := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, string(u))
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	i := strings.IndexAny(s, ":/?#")
	if i < 0 || s[i] != ':' {
		return true
	}
	switch strings.ToLower(s[:i]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}

// mdPlainText returns the text of n's inline content: escapes and entities
// resolved, markup dropped, line breaks as spaces, white space collapsed.
// Raw HTML and the task checkbox contribute nothing; an image contributes
// its alt text; a nested block (a list in a list item) is not read.
func mdPlainText(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				b.Write(unescapeText(c.Segment.Value(src)))
				if c.SoftLineBreak() || c.HardLineBreak() {
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.AutoLink:
				b.Write(c.Label(src))
			case *ast.CodeSpan:
				for t := c.FirstChild(); t != nil; t = t.NextSibling() {
					if t, ok := t.(*ast.Text); ok {
						b.Write(t.Segment.Value(src))
					}
				}
			case *ast.RawHTML, *extast.TaskCheckBox:
			default:
				if c.Type() == ast.TypeInline {
					walk(c)
				}
			}
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// unescapeText resolves backslash escapes and character references in a
// Markdown text segment, as goldmark's renderer does.
func unescapeText(v []byte) []byte {
	return util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
}

func sameHeading(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// lineIndex turns byte offsets of a source into 1-based lines and columns.
type lineIndex struct {
	src    []byte
	starts []int // byte offset of each line's first byte
}

func newLineIndex(src []byte) lineIndex {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return lineIndex{src: src, starts: starts}
}

// position returns the 1-based line of the byte at off and its 1-based
// column counted in runes (an invalid byte counts as one).
func (ix lineIndex) position(off int) (line, col int) {
	off = max(0, min(off, len(ix.src)))
	i := sort.Search(len(ix.starts), func(i int) bool { return ix.starts[i] > off }) - 1
	return i + 1, utf8.RuneCount(ix.src[ix.starts[i]:off]) + 1
}
