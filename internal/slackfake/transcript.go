package slackfake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Transcript describes what the workspace shows, for people to read: for
// each channel in creation order a header
//
//	#name (topic: ...)
//
// then its messages in ts order, each as
//
//	[hh:mm:ss] @user: text (edited N×) 📌 :eyes:×2
//
// with the time in UTC and users, channels and links written as Slack shows
// them (@alice, #incidents, a link's label). A message's blocks are
// summarised below its text, one line per block (section and header text,
// context elements, button labels), leaving out lines that repeat the
// text; a message with no text starts with its first block line. Thread
// replies follow their parent, marked "↳", and ephemeral messages appear in
// their channel marked "(only @user sees this)". Channels are separated by
// a blank line. The output depends only on the fake's state.
func (f *Fake) Transcript() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for i, c := range f.channels {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("#" + c.name)
		if c.topic.value != "" {
			fmt.Fprintf(&b, " (topic: %s)", f.render(c.topic.value))
		}
		if c.private {
			b.WriteString(" [private]")
		}
		if c.archived {
			b.WriteString(" [archived]")
		}
		b.WriteString("\n")
		for _, m := range f.timeline(c) {
			if m.ThreadTS != "" && !m.Ephemeral {
				continue // written after its parent
			}
			f.writeMessage(&b, "  ", m)
			for _, r := range c.replies(m.TS) {
				f.writeMessage(&b, "    ↳ ", r)
			}
		}
	}
	return b.String()
}

// timeline merges a channel's messages and the ephemeral messages shown in
// it, in ts order.
func (f *Fake) timeline(c *channel) []*message {
	out := slices.Clone(c.msgs)
	for _, m := range f.ephemerals {
		if m.Channel == c.id {
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b *message) int {
		x, _ := parseTS(a.TS)
		y, _ := parseTS(b.TS)
		return cmpInt(x, y)
	})
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeMessage writes one message: its first line after prefix, further
// lines indented below it.
func (f *Fake) writeMessage(b *strings.Builder, prefix string, m *message) {
	var lines []string
	if m.Text != "" {
		lines = strings.Split(f.render(m.Text), "\n")
	}
	for _, l := range f.blockLines(m.Blocks) {
		if !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	who := "@" + f.userName(m.User)
	if m.Ephemeral {
		who += " (only @" + f.userName(m.EphemeralUser) + " sees this)"
	}
	fmt.Fprintf(b, "%s[%s] %s: %s", prefix, m.Time.UTC().Format("15:04:05"), who, lines[0])
	if m.Edits > 0 {
		fmt.Fprintf(b, " (edited %d×)", m.Edits)
	}
	if m.Pinned {
		b.WriteString(" 📌")
	}
	for _, name := range sortedKeys(m.Reactions) {
		fmt.Fprintf(b, " :%s:×%d", name, len(m.Reactions[name]))
	}
	b.WriteString("\n")
	indent := strings.Repeat(" ", len([]rune(prefix))+4)
	for _, l := range lines[1:] {
		b.WriteString(strings.TrimRight(indent+l, " ") + "\n")
	}
}

// userName is a user's name, or the ID of a user the fake does not know.
func (f *Fake) userName(id string) string {
	if u := f.users[id]; u != nil && u.Name != "" {
		return u.Name
	}
	return id
}

// special matches Slack's <...> markup: mentions, channels, links.
var special = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

// render writes mrkdwn text as Slack shows it: <@U1> as @name, <#C1> as
// #name, <!here> as @here, a link as its label (or its URL), and &lt;
// &gt; &amp; unescaped.
func (f *Fake) render(s string) string {
	s = special.ReplaceAllStringFunc(s, func(match string) string {
		sub := special.FindStringSubmatch(match)
		target, label := sub[1], sub[2]
		switch {
		case strings.HasPrefix(target, "@"):
			return "@" + f.userName(target[1:])
		case strings.HasPrefix(target, "#"):
			if c := f.byID[target[1:]]; c != nil {
				return "#" + c.name
			}
			if label != "" {
				return "#" + label
			}
			return target
		case strings.HasPrefix(target, "!"):
			if label != "" {
				return label
			}
			name, _, _ := strings.Cut(target[1:], "^")
			return "@" + name
		case label != "":
			return label
		}
		return target
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// blockLines summarises Block Kit blocks, one line (or more, for
// multi-line text) per block.
func (f *Fake) blockLines(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var blocks []map[string]any
	if json.Unmarshal(raw, &blocks) != nil {
		return []string{"[blocks]"}
	}
	var lines []string
	add := func(s string) {
		for l := range strings.SplitSeq(s, "\n") {
			if l = strings.TrimRight(l, " "); l != "" {
				lines = append(lines, l)
			}
		}
	}
	for _, bl := range blocks {
		switch str(bl, "type") {
		case "header", "section", "markdown":
			text := f.textOf(bl["text"])
			if str(bl, "type") == "markdown" {
				text = f.render(str(bl, "text"))
			}
			var fields []string
			for _, fl := range list(bl["fields"]) {
				fields = append(fields, oneLine(f.textOf(fl)))
			}
			if len(fields) > 0 {
				text = joinNonEmpty("\n", text, strings.Join(fields, " · "))
			}
			if acc, ok := bl["accessory"].(map[string]any); ok {
				if e := f.elementOf(acc); e != "" {
					text = joinNonEmpty(" ", text, e)
				}
			}
			add(text)
		case "context":
			var parts []string
			for _, el := range list(bl["elements"]) {
				if t := oneLine(f.textOf(el)); t != "" {
					parts = append(parts, t)
				}
			}
			add(strings.Join(parts, " · "))
		case "actions":
			var parts []string
			for _, el := range list(bl["elements"]) {
				if el, ok := el.(map[string]any); ok {
					parts = append(parts, f.elementOf(el))
				}
			}
			add(strings.Join(parts, " "))
		case "divider":
			add("───")
		case "image":
			add("[image: " + str(bl, "alt_text") + "]")
		case "input":
			add(oneLine(f.textOf(bl["label"])) + ": [input]")
		case "rich_text":
			add(f.richText(bl["elements"]))
		default:
			add("[" + str(bl, "type") + "]")
		}
	}
	return lines
}

// textOf reads a text object ({"type":"mrkdwn","text":...}) or an image
// element (its alt text).
func (f *Fake) textOf(v any) string {
	o, _ := v.(map[string]any)
	switch str(o, "type") {
	case "mrkdwn":
		return f.render(str(o, "text"))
	case "plain_text":
		return str(o, "text")
	case "image":
		return str(o, "alt_text")
	}
	return ""
}

// elementOf summarises an interactive element: a button as [label], a
// select as [placeholder ▾].
func (f *Fake) elementOf(el map[string]any) string {
	switch t := str(el, "type"); {
	case t == "button":
		return "[" + oneLine(f.textOf(el["text"])) + "]"
	case strings.HasSuffix(t, "_select") || strings.HasSuffix(t, "_multi_select"):
		label := oneLine(f.textOf(el["placeholder"]))
		if label == "" {
			label = t
		}
		return "[" + label + " ▾]"
	case t == "overflow":
		return "[⋯]"
	case t == "image":
		return ""
	default:
		return "[" + t + "]"
	}
}

// richText flattens rich text elements to text.
func (f *Fake) richText(v any) string {
	var b strings.Builder
	for _, el := range list(v) {
		o, _ := el.(map[string]any)
		switch str(o, "type") {
		case "text":
			b.WriteString(str(o, "text"))
		case "link":
			if t := str(o, "text"); t != "" {
				b.WriteString(t)
			} else {
				b.WriteString(str(o, "url"))
			}
		case "user":
			b.WriteString("@" + f.userName(str(o, "user_id")))
		case "channel":
			if c := f.byID[str(o, "channel_id")]; c != nil {
				b.WriteString("#" + c.name)
			}
		case "emoji":
			b.WriteString(":" + str(o, "name") + ":")
		case "rich_text_list":
			for _, item := range list(o["elements"]) {
				it, _ := item.(map[string]any)
				b.WriteString("\n• " + f.richText(it["elements"]))
			}
			b.WriteString("\n")
		default:
			b.WriteString(f.richText(o["elements"]))
			if str(o, "type") != "rich_text_section" {
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}

func list(v any) []any { l, _ := v.([]any); return l }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
