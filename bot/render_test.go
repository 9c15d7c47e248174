package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/golden"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// The renderer's clock in every test: 65 minutes after declaration.
var (
	renderDeclared = time.Date(2026, 11, 3, 14, 2, 0, 0, time.UTC)
	renderNow      = renderDeclared.Add(65 * time.Minute)
)

func newTestRenderer() *Renderer {
	return &Renderer{
		PublicURL: "https://warroom.example.com/",
		People: map[string]config.Person{
			"bob":   {Slack: "U02BOB"},
			"carol": {Email: "carol@example.com"},
		},
		Now: func() time.Time { return renderNow },
	}
}

func renderOpenIncident() *incidents.Incident {
	return &incidents.Incident{
		ID:          7,
		Title:       "Checkout is down",
		Severity:    incidents.Sev1,
		Status:      incidents.StatusInvestigating,
		Service:     "checkout",
		Description: "Payments fail with 502 since the 14:00 deploy.\nGraphs: https://grafana.example.com/d/checkout",
		DeclaredBy:  incidents.SlackActor("U01ALICE"),
		Roles:       map[incidents.Role]string{incidents.RoleLead: "U01ALICE", incidents.RoleComms: "bob"},
		ChannelID:   "C0INC7",
		ChannelName: "inc-7-checkout-is-down",
		DetectedAt:  renderDeclared,
		DeclaredAt:  renderDeclared,
		UpdatedAt:   renderDeclared,
	}
}

func renderResolvedIncident() *incidents.Incident {
	inc := renderOpenIncident()
	inc.Status = incidents.StatusResolved
	inc.Summary = "A bad config in the 14:00 deploy; rolled back."
	inc.MitigatedAt = renderDeclared.Add(2*time.Hour + 3*time.Minute)
	inc.ResolvedAt = inc.MitigatedAt
	return inc
}

// testEvents is a timeline that crosses midnight.
func renderTestEvents() []incidents.Event {
	at := func(h, m int) time.Time {
		return renderDeclared.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	alice := incidents.SlackActor("U01ALICE")
	return []incidents.Event{
		{At: at(0, 0), Kind: incidents.EventDeclared, Actor: alice, Text: "Declared INC-7 (sev1, checkout): Checkout is down",
			Data: map[string]any{"severity": "sev1", "service": "checkout"}},
		{At: at(0, 0), Kind: incidents.EventChannel, Actor: incidents.System, Text: "Channel #inc-7-checkout-is-down created",
			Data: map[string]any{"channel_id": "C0INC7", "channel_name": "inc-7-checkout-is-down"}},
		{At: at(0, 3), Kind: incidents.EventAcknowledged, Actor: "alertmanager", Text: "Acknowledged 3m after detection",
			Data: map[string]any{"tta_seconds": float64(180)}},
		{At: at(0, 5), Kind: incidents.EventRoleAssigned, Actor: alice, Text: "bob is now comms",
			Data: map[string]any{"role": "comms", "person": "bob"}},
		{At: at(0, 20), Kind: incidents.EventStatusChanged, Actor: incidents.SlackActor("U02BOB"),
			Data: map[string]any{"from": "investigating", "to": "identified"}},
		{At: at(0, 31), Kind: incidents.EventNote, Actor: alice, Text: "Rolled back the 14:00 deploy"},
		{At: at(9, 58), Kind: incidents.EventSeverity, Actor: alice, Text: "Severity lowered from sev1 to sev2",
			Data: map[string]any{"from": "sev1", "to": "sev2"}},
		{At: at(10, 1), Kind: "slack.message", Actor: incidents.SlackActor("U02BOB"), Text: "Error rate is back to normal"},
		{At: at(10, 4), Kind: incidents.EventResolved, Actor: alice, Text: "Resolved after 10h04m: rolled back",
			Data: map[string]any{"from": "identified", "summary": "rolled back", "duration_seconds": int64(36240)}},
	}
}

func renderTestCommands() []Command {
	run := func(context.Context, *Request) (Reply, error) { return Reply{}, nil }
	t := NewCommandTable()
	t.Add(Command{Name: "help", Help: "Show this help", Run: run})
	t.Add(Command{Name: "declare", Aliases: []string{"new"}, Args: "[title]", Help: "Declare an incident (opens a form without a title)", Run: run})
	t.Add(Command{Name: "list", Help: "List open incidents", Run: run})
	t.Add(Command{Name: "sev", Args: "<1-4>", Help: "Change the severity", InIncident: true, Run: run})
	t.Add(Command{Name: "lead", Args: "<@person>", Help: "Make someone the incident lead", InIncident: true, Run: run})
	t.Add(Command{Name: "note", Args: "<text>", Help: "Add a note to the timeline", InIncident: true, Run: run})
	t.Add(Command{Name: "resolve", Args: "[summary]", Help: "Resolve the incident", InIncident: true, Run: run})
	return t.All()
}

// renderJSON encodes v as indented JSON, with <, > and & as they are, so
// that what Slack receives can be read (and searched) as it is. slack-go's
// own MarshalJSON methods escape them as \u003c and so on even with
// SetEscapeHTML(false), so those escapes are undone here.
func renderJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		t.Fatalf("indent: %v", err)
	}
	return string(unescapeHTML(buf.Bytes())) + "\n"
}

// unescapeHTML turns JSON's \u003c, \u003e and \u0026 back into <, > and &.
// Every backslash in JSON starts an escape, so walking escape by escape
// never mistakes an escaped backslash followed by "u003c" for one.
func unescapeHTML(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			switch string(b[i+2 : i+6]) {
			case "003c":
				out, i = append(out, '<'), i+5
				continue
			case "003e":
				out, i = append(out, '>'), i+5
				continue
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out, i = append(out, b[i], b[i+1]), i+1
	}
	return out
}

// slackToken matches the angle-bracket tokens that Warroom writes on
// purpose: mentions, channel links, dates and links.
var slackToken = regexp.MustCompile(`<(@[UW][A-Z0-9]+|#[A-Z0-9]+|!date\^[0-9]+\^[^|<>]+\|[^<>]*|https?://[^|<>\s]+(\|[^<>]*)?)>`)

// checkTokens reports any < or > in mrkdwn that is not one of Warroom's
// own tokens: it would be a mention, a link or a broken token that
// somebody typed. It also reports a & that starts no entity.
func checkTokens(t *testing.T, at, s string) {
	t.Helper()
	rest := slackToken.ReplaceAllString(s, "")
	if strings.ContainsAny(rest, "<>") {
		t.Errorf("%s: a raw < or > in %q", at, s)
	}
	rest = strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(rest)
	if strings.Contains(rest, "&") {
		t.Errorf("%s: a raw & in %q", at, s)
	}
}

// checkGolden compares v, as JSON, with testdata/<name>.golden, or rewrites the
// file with -update.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), renderJSON(t, v), *updateGolden,
		"run go test ./bot -run Render -update")
}

// renderedMessage is a rendered message as the golden files hold it.
type renderedMessage struct {
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks"`
}

// checkRendered checks a rendered message against Slack's limits and that
// slack-go can decode its blocks again.
func checkRendered(t *testing.T, name, text string, blocks []slack.Block) {
	t.Helper()
	if text == "" {
		t.Errorf("%s: no fallback text", name)
	}
	if n := utf8.RuneCountInString(text); n > 40000 {
		t.Errorf("%s: text has %d characters", name, n)
	}
	checkTokens(t, name+": text", text)
	checkRenderedBlocks(t, name, blocks)
}

func checkRenderedBlocks(t *testing.T, name string, blocks []slack.Block) {
	t.Helper()
	if len(blocks) == 0 {
		t.Errorf("%s: no blocks", name)
	}
	if len(blocks) > maxBlocks {
		t.Errorf("%s: %d blocks; Slack allows %d", name, len(blocks), maxBlocks)
	}
	raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		t.Fatalf("%s: marshal blocks: %v", name, err)
	}
	var back slack.Blocks
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Errorf("%s: slack-go cannot decode the blocks: %v", name, err)
	} else if len(back.BlockSet) != len(blocks) {
		t.Errorf("%s: %d blocks decode as %d", name, len(blocks), len(back.BlockSet))
	}
	var generic []any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	c := limitChecker{t: t, name: name, ids: map[string]bool{}}
	for i, b := range generic {
		c.block(fmt.Sprintf("blocks[%d]", i), b.(map[string]any))
	}
}

// limitChecker walks blocks as generic JSON and reports what Slack would
// refuse with invalid_blocks.
type limitChecker struct {
	t    *testing.T
	name string
	ids  map[string]bool
}

func (c *limitChecker) errorf(at, format string, args ...any) {
	c.t.Helper()
	c.t.Errorf("%s: %s: %s", c.name, at, fmt.Sprintf(format, args...))
}

// text checks a text object: its type, that it is not empty and its length.
func (c *limitChecker) text(at string, v any, max int, plainOnly bool) {
	c.t.Helper()
	o, ok := v.(map[string]any)
	if !ok {
		c.errorf(at, "missing text object")
		return
	}
	typ, _ := o["type"].(string)
	if typ != "plain_text" && (plainOnly || typ != "mrkdwn") {
		c.errorf(at, "text type %q", typ)
	}
	s, _ := o["text"].(string)
	if s == "" {
		c.errorf(at, "empty text")
	}
	checkTokens(c.t, c.name+": "+at, s)
	if n := utf8.RuneCountInString(s); n > max {
		c.errorf(at, "text has %d characters; Slack allows %d", n, max)
	}
}

func (c *limitChecker) str(at string, o map[string]any, key string, max int) {
	c.t.Helper()
	if s, ok := o[key].(string); ok && utf8.RuneCountInString(s) > max {
		c.errorf(at, "%s has %d characters; Slack allows %d", key, utf8.RuneCountInString(s), max)
	}
}

func (c *limitChecker) block(at string, b map[string]any) {
	c.t.Helper()
	if id, ok := b["block_id"].(string); ok {
		if c.ids[id] {
			c.errorf(at, "block_id %q is used twice", id)
		}
		c.ids[id] = true
		c.str(at, b, "block_id", 255)
	}
	switch typ := b["type"]; typ {
	case "header":
		c.text(at+".text", b["text"], maxHeaderText, true)
	case "section":
		fields, _ := b["fields"].([]any)
		if b["text"] == nil && len(fields) == 0 {
			c.errorf(at, "a section needs text or fields")
		}
		if b["text"] != nil {
			c.text(at+".text", b["text"], maxSectionText, false)
		}
		if len(fields) > 10 {
			c.errorf(at, "%d fields; Slack allows 10", len(fields))
		}
		for i, f := range fields {
			c.text(fmt.Sprintf("%s.fields[%d]", at, i), f, maxFieldText, false)
		}
	case "context":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > 10 {
			c.errorf(at, "%d context elements; Slack allows 1 to 10", len(els))
		}
		for i, e := range els {
			c.text(fmt.Sprintf("%s.elements[%d]", at, i), e, maxSectionText, false)
		}
	case "actions":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > 25 {
			c.errorf(at, "%d action elements; Slack allows 1 to 25", len(els))
		}
		for i, e := range els {
			c.element(fmt.Sprintf("%s.elements[%d]", at, i), e.(map[string]any))
		}
	case "input":
		c.text(at+".label", b["label"], 2000, true)
		if b["hint"] != nil {
			c.text(at+".hint", b["hint"], 2000, true)
		}
		c.element(at+".element", b["element"].(map[string]any))
	case "divider":
	default:
		c.errorf(at, "unexpected block type %v", typ)
	}
}

func (c *limitChecker) element(at string, e map[string]any) {
	c.t.Helper()
	c.str(at, e, "action_id", 255)
	if e["placeholder"] != nil {
		c.text(at+".placeholder", e["placeholder"], 150, true)
	}
	if e["confirm"] != nil {
		cf := e["confirm"].(map[string]any)
		c.text(at+".confirm.title", cf["title"], 100, true)
		c.text(at+".confirm.text", cf["text"], 300, false)
		c.text(at+".confirm.confirm", cf["confirm"], 30, true)
		c.text(at+".confirm.deny", cf["deny"], 30, true)
	}
	switch typ := e["type"]; typ {
	case "button":
		c.text(at+".text", e["text"], maxButtonText, true)
		c.str(at, e, "value", 2000)
	case "static_select":
		opts, _ := e["options"].([]any)
		if len(opts) == 0 || len(opts) > maxOptions {
			c.errorf(at, "%d options; Slack allows 1 to %d", len(opts), maxOptions)
		}
		for i, o := range opts {
			c.option(fmt.Sprintf("%s.options[%d]", at, i), o.(map[string]any))
		}
		if e["initial_option"] != nil {
			c.option(at+".initial_option", e["initial_option"].(map[string]any))
		}
	case "plain_text_input":
		if n, ok := e["max_length"].(float64); ok && n > 3000 {
			c.errorf(at, "max_length %v; Slack allows 3000", n)
		}
	default:
		c.errorf(at, "unexpected element type %v", typ)
	}
}

func (c *limitChecker) option(at string, o map[string]any) {
	c.t.Helper()
	c.text(at+".text", o["text"], maxOptionText, true)
	if o["description"] != nil {
		c.text(at+".description", o["description"], maxOptionText, true)
	}
	v, _ := o["value"].(string)
	if v == "" || utf8.RuneCountInString(v) > maxOptionValue {
		c.errorf(at, "option value %q: Slack needs 1 to %d characters", v, maxOptionValue)
	}
}

// checkRenderedModal checks a modal's own limits and its blocks.
func checkRenderedModal(t *testing.T, name string, v slack.ModalViewRequest) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	c := limitChecker{t: t, name: name}
	for _, k := range []string{"title", "submit", "close"} {
		c.text(k, m[k], 24, true)
	}
	if m["type"] != "modal" {
		t.Errorf("%s: type %v", name, m["type"])
	}
	checkRenderedBlocks(t, name, v.Blocks.BlockSet)
}

func TestRenderSummaryGolden(t *testing.T) {
	r := newTestRenderer()
	for name, inc := range map[string]*incidents.Incident{
		"summary_open":     renderOpenIncident(),
		"summary_resolved": renderResolvedIncident(),
	} {
		text, blocks := r.Summary(inc)
		checkRendered(t, name, text, blocks)
		checkGolden(t, name, renderedMessage{text, blocks})
	}
}

func TestRenderSummaryActions(t *testing.T) {
	r := newTestRenderer()
	inc := renderOpenIncident()
	inc.Status = incidents.StatusIdentified
	_, blocks := r.Summary(inc)
	actions := findActions(blocks)
	if actions == nil {
		t.Fatal("no actions block in an open incident's summary")
	}
	if actions.BlockID != "incident_actions" || len(actions.Elements.ElementSet) != 2 {
		t.Fatalf("actions block %q with %d elements", actions.BlockID, len(actions.Elements.ElementSet))
	}
	sel, ok := actions.Elements.ElementSet[0].(*slack.SelectBlockElement)
	if !ok || sel.ActionID != ActionStatus || sel.Type != slack.OptTypeStatic {
		t.Fatalf("first element %#v, want the status select", actions.Elements.ElementSet[0])
	}
	var values []string
	for _, o := range sel.Options {
		values = append(values, o.Value)
	}
	if want := "INC-7|investigating INC-7|monitoring INC-7|resolved"; strings.Join(values, " ") != want {
		t.Errorf("status options %q, want %q", values, want)
	}
	btn, ok := actions.Elements.ElementSet[1].(*slack.ButtonBlockElement)
	if !ok || btn.ActionID != ActionResolve || btn.Value != "INC-7" || btn.Style != slack.StyleDanger || btn.Confirm == nil {
		t.Fatalf("second element %#v, want the Resolve button with a confirmation", actions.Elements.ElementSet[1])
	}
	if btn.Confirm.Title.Text != "Resolve INC-7?" {
		t.Errorf("confirm title %q", btn.Confirm.Title.Text)
	}

	_, blocks = r.Summary(renderResolvedIncident())
	if findActions(blocks) != nil {
		t.Error("a resolved incident's summary has actions")
	}
	if j := renderJSON(t, blocks); !strings.Contains(j, "/incident reopen") {
		t.Error("a resolved incident's summary does not say how to reopen")
	}
}

func findActions(blocks []slack.Block) *slack.ActionBlock {
	for _, b := range blocks {
		if a, ok := b.(*slack.ActionBlock); ok {
			return a
		}
	}
	return nil
}

func TestRenderSummaryMinimal(t *testing.T) {
	// Nothing optional set: no lead, service, channel, URL or times.
	r := &Renderer{}
	inc := &incidents.Incident{ID: 1, Title: "x", Severity: incidents.Sev4, Status: incidents.StatusMonitoring}
	text, blocks := r.Summary(inc)
	checkRendered(t, "summary_minimal", text, blocks)
	j := renderJSON(t, blocks)
	for _, s := range []string{"_unassigned_", "Someone"} {
		if !strings.Contains(j, s) {
			t.Errorf("minimal summary lacks %q:\n%s", s, j)
		}
	}
	text, blocks = r.Announcement(inc)
	checkRendered(t, "announcement_minimal", text, blocks)
}

func TestRenderSummaryDuration(t *testing.T) {
	r := newTestRenderer()
	j := renderJSON(t, blocksOf(r.Summary(renderOpenIncident())))
	if !strings.Contains(j, "open since <!date^") {
		t.Errorf("open summary does not say since when it is open:\n%s", j)
	}
	j = renderJSON(t, blocksOf(r.Summary(renderResolvedIncident())))
	if !strings.Contains(j, "resolved after 2h03m") {
		t.Errorf("resolved summary does not say resolved after 2h03m:\n%s", j)
	}
}

func blocksOf(_ string, blocks []slack.Block) []slack.Block { return blocks }

func TestRenderAnnouncementGolden(t *testing.T) {
	r := newTestRenderer()
	text, blocks := r.Announcement(renderOpenIncident())
	checkRendered(t, "announcement", text, blocks)
	if want := ":rotating_light: New SEV1 incident INC-7: Checkout is down — join <#C0INC7>"; text != want {
		t.Errorf("text %q, want %q", text, want)
	}
	checkGolden(t, "announcement", renderedMessage{text, blocks})

	text, blocks = r.Announcement(renderResolvedIncident())
	checkRendered(t, "announcement_resolved", text, blocks)
	if want := ":white_check_mark: INC-7 resolved after 2h03m: Checkout is down — <#C0INC7>"; text != want {
		t.Errorf("text %q, want %q", text, want)
	}
	checkGolden(t, "announcement_resolved", renderedMessage{text, blocks})
}

func TestRenderHelpGolden(t *testing.T) {
	text, blocks := newTestRenderer().Help(renderTestCommands())
	checkRendered(t, "help", text, blocks)
	checkGolden(t, "help", renderedMessage{text, blocks})
	if i, j := strings.Index(text, "*Anywhere*"), strings.Index(text, "*In an incident channel*"); i < 0 || j < i {
		t.Errorf("help is not grouped:\n%s", text)
	}
	if !strings.Contains(text, "`/incident declare [title]` (or `new`) — Declare") {
		t.Errorf("help does not show the alias of declare:\n%s", text)
	}
	if !strings.Contains(text, "`/incident sev &lt;1-4&gt;`") {
		t.Errorf("help does not show the escaped usage of sev:\n%s", text)
	}
}

func TestRenderHelpMany(t *testing.T) {
	run := func(context.Context, *Request) (Reply, error) { return Reply{}, nil }
	var cmds []Command
	for i := range 400 {
		cmds = append(cmds, Command{Name: fmt.Sprintf("verb%d", i), Args: "<a long argument list>",
			Help: strings.Repeat("Does something useful. ", 10), InIncident: i%2 == 0, Run: run})
	}
	text, blocks := newTestRenderer().Help(cmds)
	checkRendered(t, "help_many", text, blocks)
}

func TestRenderListGolden(t *testing.T) {
	r := newTestRenderer()
	second := renderOpenIncident()
	second.ID, second.Title, second.Severity, second.Status = 6, "Search is slow", incidents.Sev3, incidents.StatusMonitoring
	second.ChannelID, second.DetectedAt = "", renderNow.Add(-5*time.Minute)
	text, blocks := r.List([]*incidents.Incident{renderOpenIncident(), second})
	checkRendered(t, "list", text, blocks)
	checkGolden(t, "list", renderedMessage{text, blocks})
	if !strings.Contains(text, "*INC-7* SEV1 · Investigating · Checkout is down · <#C0INC7> · open for 1h05m") {
		t.Errorf("list line for INC-7 missing:\n%s", text)
	}

	text, blocks = r.List(nil)
	checkRendered(t, "list_empty", text, blocks)
	if text != "No open incidents. :tada:" {
		t.Errorf("empty list: %q", text)
	}
}

func TestRenderListMany(t *testing.T) {
	var incs []*incidents.Incident
	for i := range 1000 {
		inc := renderOpenIncident()
		inc.ID = incidents.ID(i + 1)
		inc.Title = strings.Repeat("&", 200)
		incs = append(incs, inc)
	}
	text, blocks := newTestRenderer().List(incs)
	checkRendered(t, "list_many", text, blocks)
	last, ok := blocks[len(blocks)-1].(*slack.ContextBlock)
	if !ok || !strings.Contains(renderJSON(t, last), "more incidents") {
		t.Errorf("a long list does not end with how many it left out: %s", renderJSON(t, blocks[len(blocks)-1]))
	}
}

func TestRenderTimelineGolden(t *testing.T) {
	r := newTestRenderer()
	text, blocks := r.Timeline(renderResolvedIncident(), renderTestEvents())
	checkRendered(t, "timeline", text, blocks)
	checkGolden(t, "timeline", renderedMessage{text, blocks})
	for _, want := range []string{"`2026-11-03 14:02` :rotating_light:", "`14:22` :dart:", "`2026-11-04 00:00` :large_orange_circle:", "`00:03` :pushpin:"} {
		if !strings.Contains(text, want) {
			t.Errorf("timeline lacks %q:\n%s", want, text)
		}
	}

	text, blocks = r.Timeline(renderOpenIncident(), nil)
	checkRendered(t, "timeline_empty", text, blocks)
}

func TestRenderTimelineLong(t *testing.T) {
	r := newTestRenderer()
	var evs []incidents.Event
	for i := range 3000 {
		evs = append(evs, incidents.Event{
			At:    renderDeclared.Add(time.Duration(i) * 17 * time.Minute),
			Kind:  incidents.EventNote,
			Actor: incidents.SlackActor("U01ALICE"),
			Text:  fmt.Sprintf("note %d ", i) + strings.Repeat("<&> ", 300),
		})
	}
	text, blocks := r.Timeline(renderOpenIncident(), evs)
	checkRendered(t, "timeline_long", text, blocks)
	ctx, ok := blocks[1].(*slack.ContextBlock)
	if !ok || !strings.Contains(renderJSON(t, ctx), "earlier events; see the full timeline with") {
		t.Fatalf("a long timeline does not say how many events it left out: %s", renderJSON(t, blocks[1]))
	}
	lastBlock := renderJSON(t, blocks[len(blocks)-1])
	if !strings.Contains(lastBlock, "note 2999 ") {
		t.Errorf("the last block does not hold the last event:\n%.300s", lastBlock)
	}
	// Every shown line starts with a time; the first one with its date.
	first := blocks[2].(*slack.SectionBlock).Text.Text
	if !regexp.MustCompile("^`\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d` ").MatchString(first) {
		t.Errorf("the first shown line has no date: %.80s", first)
	}

	// Exactly as many events as fit: no note.
	text, blocks = r.Timeline(renderOpenIncident(), evs[:3])
	checkRendered(t, "timeline_short", text, blocks)
	if strings.Contains(renderJSON(t, blocks), "earlier event") {
		t.Error("a short timeline says it left events out")
	}
}

func TestRenderDeclareModalGolden(t *testing.T) {
	r := newTestRenderer()
	v := r.DeclareModal([]string{"checkout", "payments", "search"})
	checkRenderedModal(t, "declare_modal", v)
	checkGolden(t, "declare_modal", v)

	if v.CallbackID != ViewDeclare {
		t.Errorf("callback ID %q", v.CallbackID)
	}
	for _, b := range v.Blocks.BlockSet {
		in := b.(*slack.InputBlock)
		j := renderJSON(t, in.Element)
		if !strings.Contains(j, `"action_id": "`+in.BlockID+`"`) {
			t.Errorf("block %s: element action_id differs:\n%s", in.BlockID, j)
		}
		if want := in.BlockID == BlockService || in.BlockID == BlockDescription; in.Optional != want {
			t.Errorf("block %s optional = %v", in.BlockID, in.Optional)
		}
	}
	sev := v.Blocks.BlockSet[1].(*slack.InputBlock).Element.(*slack.SelectBlockElement)
	if len(sev.Options) != 4 || sev.InitialOption == nil || sev.InitialOption.Value != "sev3" {
		t.Errorf("severity select: %s", renderJSON(t, sev))
	}

	v = r.DeclareModal([]string{"<!channel> & co"})
	checkRenderedModal(t, "declare_modal_escaped", v)
	opt := v.Blocks.BlockSet[2].(*slack.InputBlock).Element.(*slack.SelectBlockElement).Options[0]
	if opt.Text.Text != "&lt;!channel&gt; &amp; co" || opt.Value != "<!channel> & co" {
		t.Errorf("service option shows %q with value %q; want the name escaped and the value as it is", opt.Text.Text, opt.Value)
	}

	v = r.DeclareModal(nil)
	checkRenderedModal(t, "declare_modal_no_services", v)
	if _, ok := v.Blocks.BlockSet[2].(*slack.InputBlock).Element.(*slack.PlainTextInputBlockElement); !ok {
		t.Errorf("without services the service field is not a text input: %s", renderJSON(t, v.Blocks.BlockSet[2]))
	}
}

func TestRenderEscaping(t *testing.T) {
	const evil = "<!channel> deploy & <@U123> broke <https://evil|x>"
	r := newTestRenderer()
	inc := renderOpenIncident()
	inc.Title = evil
	inc.Description = evil
	inc.Service = evil
	inc.Roles[incidents.RoleLead] = "<!here>"
	res := renderResolvedIncident()
	res.Title, res.Summary, res.Service = evil, evil, evil

	var outputs []string
	add := func(name, text string, blocks []slack.Block) {
		checkRendered(t, name, text, blocks)
		outputs = append(outputs, name+" text: "+text, name+" blocks: "+renderJSON(t, blocks))
	}
	for name, i := range map[string]*incidents.Incident{"open": inc, "resolved": res} {
		text, blocks := r.Summary(i)
		add(name+" summary", text, blocks)
		text, blocks = r.Announcement(i)
		add(name+" announcement", text, blocks)
		outputs = append(outputs, name+" topic: "+r.Topic(i))
	}
	text, blocks := r.List([]*incidents.Incident{inc, res})
	add("list", text, blocks)

	evs := []incidents.Event{
		{Kind: incidents.EventDeclared, Actor: "slack:<!channel>", Text: "Declared INC-7 (sev1): " + evil},
		{Kind: incidents.EventNote, Actor: "<!channel>", Text: evil},
		{Kind: incidents.EventTitleChanged, Actor: "cli:<!channel>", Data: map[string]any{"from": evil, "to": evil}},
		{Kind: incidents.EventStatusChanged, Data: map[string]any{"from": evil, "to": evil}},
		{Kind: incidents.EventSeverity, Data: map[string]any{"from": evil, "to": evil}},
		{Kind: incidents.EventRoleAssigned, Data: map[string]any{"role": evil, "person": evil, "previous": evil}},
		{Kind: incidents.EventResolved, Data: map[string]any{"summary": evil}},
		{Kind: incidents.EventReopened, Data: map[string]any{"reason": evil}},
		{Kind: incidents.EventChannel, Data: map[string]any{"channel_id": evil}},
		{Kind: "slack.message", Text: evil},
		{Kind: "github.deploy", Text: evil},
	}
	for i := range evs {
		evs[i].At = renderDeclared
		if post, ok := r.EventPost(inc, evs[i]); ok {
			outputs = append(outputs, fmt.Sprintf("post of %s: %s", evs[i].Kind, post))
		}
	}
	text, blocks = r.Timeline(inc, evs)
	add("timeline", text, blocks)
	text, blocks = r.Help([]Command{{Name: "x", Args: evil, Help: evil, Aliases: []string{evil}}})
	add("help", text, blocks)

	for _, out := range outputs {
		for _, bad := range []string{"<!channel>", "<!here>", "<@U123>", "<https://evil"} {
			if strings.Contains(out, bad) {
				t.Errorf("%q survives in %s", bad, out)
			}
		}
		if i := strings.Index(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(out, "&amp;", ""), "&lt;", ""), "&gt;", ""), "&"); i >= 0 {
			t.Errorf("a raw & in %s", out)
		}
	}
	if !strings.Contains(strings.Join(outputs, "\n"), "&lt;!channel&gt; deploy &amp; &lt;@U123&gt; broke &lt;https://evil|x&gt;") {
		t.Error("the escaped title appears nowhere")
	}
}

func TestRenderEscape(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"plain":             "plain",
		"<!channel>":        "&lt;!channel&gt;",
		"a & b":             "a &amp; b",
		"&amp;":             "&amp;amp;",
		"<@U123|x> > 1":     "&lt;@U123|x&gt; &gt; 1",
		"émoji :fire: 🔥 ok": "émoji :fire: 🔥 ok",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderChannelName(t *testing.T) {
	long := "The payment service returns errors for every request made by customers in the European Union since the deploy"
	for _, tc := range []struct {
		prefix  string
		id      incidents.ID
		title   string
		attempt int
		want    string
	}{
		{"inc", 7, "Checkout is down", 0, "inc-7-checkout-is-down"},
		{"inc", 7, "Checkout is down", 1, "inc-7-checkout-is-down-2"},
		{"inc", 7, "Checkout is down", 2, "inc-7-checkout-is-down-3"},
		{"inc", 7, "  Checkout -- is  DOWN!!! ", 0, "inc-7-checkout-is-down"},
		{"inc", 12, "DB__primary: disk 95% full", 0, "inc-12-db__primary-disk-95-full"},
		{"inc", 7, "Café in Zürich: Straße ÆØÅ œuvre łódź", 0, "inc-7-cafe-in-zurich-strasse-aeoa-oeuvre-lodz"},
		{"inc", 7, "Ça coûte très cher", 0, "inc-7-ca-coute-tres-cher"},
		{"inc", 7, "🔥🔥🔥", 0, "inc-7"},
		{"inc", 7, "🔥🔥🔥", 1, "inc-7-2"},
		{"inc", 7, "", 0, "inc-7"},
		{"inc", 7, "数据库宕机", 0, "inc-7"},
		{"inc", 7, "API 数据库 down", 0, "inc-7-api-down"},
		{"inc", 7, "-_-", 0, "inc-7"},
		{"Ops Team!", 7, "x", 0, "ops-team-7-x"},
		{"", 7, "x", 0, "inc-7-x"},
		{"🔥", 7, "x", 0, "inc-7-x"},
		{"_inc_", 7, "x", 0, "inc-7-x"},
		{"inc", 7, long, 0, "inc-7-the-payment-service-returns-errors-for-every-request-made-by-customers"},
		{"inc", 7, long, 1, "inc-7-the-payment-service-returns-errors-for-every-request-made-by-customers-2"},
		{"inc", 7, long, 998, "inc-7-the-payment-service-returns-errors-for-every-request-made-by-customers-999"},
		{"inc", 7, long, 999, "inc-7-the-payment-service-returns-errors-for-every-request-made-by--1000"},
		{"inc", 7, long + " and more", 0, "inc-7-the-payment-service-returns-errors-for-every-request-made-by-customers"},
		{"inc", 7, strings.Repeat("a", 100), 0, "inc-7-" + strings.Repeat("a", 70)},
		{"inc", 7, strings.Repeat("a", 100), 1, "inc-7-" + strings.Repeat("a", 70) + "-2"},
		{"inc", 123456, "x", -3, "inc-123456-x"},
	} {
		got := ChannelName(tc.prefix, tc.id, tc.title, tc.attempt)
		if got != tc.want {
			t.Errorf("ChannelName(%q, %d, %q, %d) = %q, want %q", tc.prefix, tc.id, tc.title, tc.attempt, got, tc.want)
		}
		checkChannelName(t, got)
	}
}

var channelNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,79}$`)

func checkChannelName(t *testing.T, name string) {
	t.Helper()
	if !channelNameRE.MatchString(name) {
		t.Errorf("channel name %q is not valid", name)
	}
	if strings.HasSuffix(name, "-") {
		t.Errorf("channel name %q ends in -", name)
	}
}

func TestRenderPerson(t *testing.T) {
	r := newTestRenderer()
	r.People["dave"] = config.Person{Slack: "not-an-id"}
	for in, want := range map[string]string{
		"":                    "_unassigned_",
		"U01ALICE":            "<@U01ALICE>",
		"W0123":               "<@W0123>",
		" U01ALICE ":          "<@U01ALICE>",
		"<@U01ALICE>":         "<@U01ALICE>",
		"<@U01ALICE|alice>":   "<@U01ALICE>",
		"U1":                  "U1",
		"u01alice":            "u01alice",
		"bob":                 "<@U02BOB>",
		"@bob":                "<@U02BOB>",
		"carol":               "carol",
		"dave":                "dave",
		"erin & co":           "erin &amp; co",
		"<!channel>":          "&lt;!channel&gt;",
		"<@U01ALICE> <!here>": "&lt;@U01ALICE&gt; &lt;!here&gt;",
	} {
		if got := r.Person(in); got != want {
			t.Errorf("Person(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderActor(t *testing.T) {
	r := newTestRenderer()
	for in, want := range map[incidents.Actor]string{
		"slack:U01ALICE":    "<@U01ALICE>",
		"warroom":           "Warroom",
		"alertmanager":      "alertmanager",
		"cli:alice":         "alice (CLI)",
		"cli:":              "cli:",
		"slack:<!here>":     "slack:&lt;!here&gt;",
		"slack:nobody":      "slack:nobody",
		"":                  "Someone",
		"grafana & friends": "grafana &amp; friends",
	} {
		if got := r.Actor(in); got != want {
			t.Errorf("Actor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderTopic(t *testing.T) {
	r := newTestRenderer()
	inc := renderOpenIncident()
	if got, want := r.Topic(inc), "SEV1 · Investigating · Lead: <@U01ALICE> · INC-7 Checkout is down"; got != want {
		t.Errorf("Topic = %q, want %q", got, want)
	}
	inc.Roles = nil
	inc.Status = incidents.StatusMonitoring
	if got, want := r.Topic(inc), "SEV1 · Monitoring · Lead: none · INC-7 Checkout is down"; got != want {
		t.Errorf("Topic = %q, want %q", got, want)
	}
	for _, title := range []string{strings.Repeat("&", 200), strings.Repeat("é", 250), strings.Repeat("<a> ", 50)} {
		inc.Title = title
		got := r.Topic(inc)
		if n := utf8.RuneCountInString(got); n > maxTopic {
			t.Errorf("topic has %d characters: %q", n, got)
		}
		if !strings.HasSuffix(got, "…") {
			t.Errorf("a cut topic does not end in …: %q", got)
		}
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(got, "&amp;", ""), "&lt;", ""), "&gt;", ""), "&") {
			t.Errorf("the topic cuts an entity: %q", got)
		}
	}
}

func TestRenderEventPost(t *testing.T) {
	r := newTestRenderer()
	inc := renderOpenIncident()
	alice := incidents.SlackActor("U01ALICE")
	for _, tc := range []struct {
		name string
		ev   incidents.Event
		want string // "" for no post
	}{
		{"status", incidents.Event{Kind: incidents.EventStatusChanged, Actor: alice,
			Data: map[string]any{"from": "investigating", "to": "identified"}},
			":dart: <@U01ALICE> changed the status from *investigating* to *identified*"},
		{"severity raised", incidents.Event{Kind: incidents.EventSeverity, Actor: alice,
			Data: map[string]any{"from": "sev3", "to": "sev1"}},
			":red_circle: <@U01ALICE> raised the severity from *SEV3* to *SEV1*"},
		{"severity lowered", incidents.Event{Kind: incidents.EventSeverity, Actor: "warroom",
			Data: map[string]any{"from": "sev1", "to": "sev2"}},
			":large_orange_circle: Warroom lowered the severity from *SEV1* to *SEV2*"},
		{"role", incidents.Event{Kind: incidents.EventRoleAssigned, Actor: alice,
			Data: map[string]any{"role": "comms", "person": "bob"}},
			":bust_in_silhouette: <@U01ALICE> made <@U02BOB> *comms*"},
		{"role taken, replacing", incidents.Event{Kind: incidents.EventRoleAssigned, Actor: alice,
			Data: map[string]any{"role": "lead", "person": "U01ALICE", "previous": "carol"}},
			":bust_in_silhouette: <@U01ALICE> took the *lead* role (was carol)"},
		{"note", incidents.Event{Kind: incidents.EventNote, Actor: alice, Text: "rolled back <canary> & waiting"},
			":memo: Note from <@U01ALICE>: rolled back &lt;canary&gt; &amp; waiting"},
		{"resolved", incidents.Event{Kind: incidents.EventResolved, Actor: alice, Text: "Resolved after 2h03m: bad config",
			Data: map[string]any{"from": "monitoring", "summary": "bad config", "duration_seconds": int64(7380)}},
			":white_check_mark: <@U01ALICE> resolved INC-7 after 2h03m. Summary: bad config"},
		{"resolved from JSON, no summary", incidents.Event{Kind: incidents.EventResolved, Actor: alice, Text: "Resolved after 2h03m",
			Data: map[string]any{"from": "monitoring", "summary": "", "duration_seconds": float64(7380)}},
			":white_check_mark: <@U01ALICE> resolved INC-7 after 2h03m."},
		{"reopened", incidents.Event{Kind: incidents.EventReopened, Actor: alice, Text: "Reopened: errors are back",
			Data: map[string]any{"reason": "errors are back"}},
			":arrows_counterclockwise: <@U01ALICE> reopened INC-7: errors are back"},
		{"reopened without data", incidents.Event{Kind: incidents.EventReopened, Actor: alice, Text: "Reopened: errors are back"},
			":arrows_counterclockwise: <@U01ALICE> reopened INC-7: errors are back"},
		{"reopened without reason", incidents.Event{Kind: incidents.EventReopened, Actor: alice, Text: "Reopened",
			Data: map[string]any{"reason": ""}},
			":arrows_counterclockwise: <@U01ALICE> reopened INC-7"},
		{"acknowledged", incidents.Event{Kind: incidents.EventAcknowledged, Actor: "pagerduty", Text: "Acknowledged 4m after detection",
			Data: map[string]any{"tta_seconds": int64(240)}},
			":eyes: pagerduty acknowledged INC-7, 4m after detection"},
		{"title", incidents.Event{Kind: incidents.EventTitleChanged, Actor: alice,
			Data: map[string]any{"from": "Checkout down", "to": "Checkout is down"}},
			":pencil2: <@U01ALICE> renamed INC-7 from *Checkout down* to *Checkout is down*"},
		{"declared", incidents.Event{Kind: incidents.EventDeclared, Actor: alice, Text: "Declared INC-7 (sev1): Checkout is down"}, ""},
		{"channel", incidents.Event{Kind: incidents.EventChannel, Actor: "warroom"}, ""},
		{"slack message", incidents.Event{Kind: "slack.message", Actor: alice, Text: "look at this"}, ""},
		{"slack joined", incidents.Event{Kind: "slack.joined", Actor: alice}, ""},
		{"unknown", incidents.Event{Kind: "github.deploy", Actor: "github", Text: "deployed"}, ""},
	} {
		got, ok := r.EventPost(inc, tc.ev)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("%s: EventPost = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestRenderCutMrkdwn(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 5, "abcd…"},
		{"ab &amp; cd", 5, "ab …"},
		{"ab <@U123> cd", 8, "ab …"},
		{"ééééé", 3, "éé…"},
		{"abc", 0, ""},
	} {
		if got := cutMrkdwn(tc.in, tc.n); got != tc.want {
			t.Errorf("cutMrkdwn(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestRenderUnescapeHTML(t *testing.T) {
	in := `{"a":"x\u003c@U1\u003e \u0026 \\u003c \\\u003e"}`
	want := `{"a":"x<@U1> & \\u003c \\>"}`
	if got := string(unescapeHTML([]byte(in))); got != want {
		t.Errorf("unescapeHTML(%s) = %s, want %s", in, got, want)
	}
}
