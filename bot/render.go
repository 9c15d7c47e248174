package bot

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/incidents"
)

// Slack's limits, in characters, that rendered messages stay within.
const (
	maxHeaderText  = 150  // header block text
	maxSectionText = 3000 // section block text
	maxFieldText   = 2000 // one section field
	maxButtonText  = 75   // button label
	maxOptionText  = 75   // select option text and description
	maxOptionValue = 150  // select option value
	maxOptions     = 100  // options in a static select
	maxBlocks      = 50   // blocks in a message or modal
	maxTopic       = 250  // channel topic
	maxChannelName = 80   // channel name
)

// Renderer turns incidents into Slack text and Block Kit. Every piece of
// text that comes from people or alerts is escaped with Escape.
type Renderer struct {
	PublicURL string                   // base of links; may be empty
	People    map[string]config.Person // configured people, by name
	Now       func() time.Time
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape escapes text for Slack mrkdwn (&, <, >), so that "<!channel>" or
// "<@U123>" in a title or an alert label pings nobody.
//
// Warroom escapes plain_text fields too: Slack decodes the three entities
// in every text object (and hands plain_text back escaped in interaction
// payloads), so one rule holds everywhere and no rendered JSON carries a
// raw "<!channel>".
func Escape(s string) string { return escaper.Replace(s) }

// ChannelName is the name of an incident's channel: "<prefix>-<id>-<slug of
// title>", lowercase, only a-z0-9-_, at most 80 characters. attempt 0 is the
// first choice; attempt n > 0 is the n-th alternative after name_taken.
//
// The alternatives append "-2", "-3" and so on up to "-999"; the slug is cut
// to the same length for all of them, so that every attempt gives a
// different name. Beyond that (never in practice) they append "--1000" and
// so on, which no first choice can contain.
func ChannelName(prefix string, id incidents.ID, title string, attempt int) string {
	const (
		maxIDDigits   = 19              // an int64 without its sign
		maxShortSufx  = len("-999")     // room kept for attempts 1 to 998
		maxLongSufx   = 2 + maxIDDigits // "--" and an int64
		maxPrefixRoom = maxChannelName - 1 - maxIDDigits - maxLongSufx
	)
	p := cutSlug(slugify(prefix), maxPrefixRoom)
	if p == "" {
		p = config.DefaultChannelPrefix
	}
	base := p + "-" + strings.TrimPrefix(strconv.FormatInt(int64(id), 10), "-")

	// The slug, cut once for the first choice and the usual alternatives.
	room := maxChannelName - len(base) - 1 // after base and "-"
	slug := slugify(title)
	if len(slug) > room-maxShortSufx {
		slug = cutSlug(slug, room-maxShortSufx)
	}
	var suffix string
	switch {
	case attempt <= 0:
	case attempt < 999:
		suffix = "-" + strconv.Itoa(attempt+1)
	default:
		suffix = "--" + strconv.FormatUint(uint64(attempt)+1, 10)
		slug = cutSlug(slug, room-len(suffix))
	}
	if slug == "" {
		return base + suffix
	}
	return base + "-" + slug + suffix
}

// slugify lowercases s, spells common accented Latin letters in ASCII and
// turns every run of other characters into one "-". The result has no "-"
// or "_" at either end and never contains "--".
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range s {
		c = unicode.ToLower(c)
		var ascii string
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			ascii = string(c)
		default:
			ascii = latinASCII[c]
		}
		if ascii == "" {
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteString(ascii)
	}
	return strings.Trim(b.String(), "-_")
}

// cutSlug cuts a slug to at most n bytes, at a "-" when that keeps at least
// half of it, and never leaves "-" or "_" at the end.
func cutSlug(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	cut := n
	if i := strings.LastIndexByte(s[:n+1], '-'); i >= n/2 {
		cut = i
	}
	return strings.TrimRight(s[:cut], "-_")
}

// latinASCII spells lowercase accented Latin letters (Latin-1 and Latin
// Extended-A, and the Romanian comma letters) in ASCII.
var latinASCII = func() map[rune]string {
	m := map[rune]string{}
	for _, g := range []struct{ from, to string }{
		{"àáâãäåāăą", "a"}, {"æ", "ae"}, {"çćĉċč", "c"}, {"ďđð", "d"},
		{"èéêëēĕėęě", "e"}, {"ĝğġģ", "g"}, {"ĥħ", "h"}, {"ìíîïĩīĭįı", "i"},
		{"ĳ", "ij"}, {"ĵ", "j"}, {"ķĸ", "k"}, {"ĺļľŀł", "l"}, {"ñńņňŉŋ", "n"},
		{"òóôõöøōŏő", "o"}, {"œ", "oe"}, {"ŕŗř", "r"}, {"śŝşšșſ", "s"},
		{"ß", "ss"}, {"ţťŧț", "t"}, {"þ", "th"}, {"ùúûüũūŭůűų", "u"},
		{"ŵ", "w"}, {"ýÿŷ", "y"}, {"źżž", "z"},
	} {
		for _, c := range g.from {
			m[c] = g.to
		}
	}
	return m
}()

// slackUserID matches a Slack user ID such as U01ALICE or W123.
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// Person renders a person: a Slack user ID as a mention, a configured
// person by their Slack ID (or escaped name), "" as "unassigned".
// A mention as Slack sends it ("<@U123>" or "<@U123|alice>") is a mention.
func (r *Renderer) Person(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return "_unassigned_"
	}
	for _, name := range []string{p, strings.TrimPrefix(p, "@")} {
		if person, ok := r.People[name]; ok {
			if slackUserID.MatchString(person.Slack) {
				return "<@" + person.Slack + ">"
			}
			return Escape(name)
		}
	}
	if id, ok := userID(p); ok {
		return "<@" + id + ">"
	}
	return Escape(p)
}

// userID returns the Slack user ID in "U123", "<@U123>" or "<@U123|name>".
func userID(p string) (string, bool) {
	if rest, ok := strings.CutPrefix(p, "<@"); ok && strings.HasSuffix(rest, ">") {
		p, _, _ = strings.Cut(strings.TrimSuffix(rest, ">"), "|")
	}
	return p, slackUserID.MatchString(p)
}

// Actor renders who did something: a Slack user as a mention, Warroom as
// "Warroom", a CLI user as "alice (CLI)", and any other system by its name.
func (r *Renderer) Actor(a incidents.Actor) string {
	s := string(a)
	switch {
	case s == "":
		return "Someone"
	case a == incidents.System:
		return "Warroom"
	case strings.HasPrefix(s, "slack:"):
		if id := strings.TrimPrefix(s, "slack:"); slackUserID.MatchString(id) {
			return "<@" + id + ">"
		}
	case strings.HasPrefix(s, "cli:") && len(s) > len("cli:"):
		return Escape(strings.TrimPrefix(s, "cli:")) + " (CLI)"
	}
	return Escape(s)
}

// Topic is the incident channel's topic: severity, status, lead.
func (r *Renderer) Topic(inc *incidents.Incident) string {
	lead := "none"
	if inc.Lead() != "" {
		lead = r.Person(inc.Lead())
	}
	head := fmt.Sprintf("%s · %s · Lead: %s · %s ", sevLabel(inc.Severity), statusLabel(inc.Status), lead, inc.ID)
	room := maxTopic - utf8.RuneCountInString(head)
	if room < 10 {
		// A lead rendered absurdly long; keep the topic short instead.
		head = fmt.Sprintf("%s · %s · %s ", sevLabel(inc.Severity), statusLabel(inc.Status), inc.ID)
		room = maxTopic - utf8.RuneCountInString(head)
	}
	return head + cutMrkdwn(Escape(inc.Title), room)
}

// Summary is the pinned summary message, with its buttons.
func (r *Renderer) Summary(inc *incidents.Incident) (string, []slack.Block) {
	return r.SummaryWithAlerts(inc, incidents.AlertCounts{})
}

// SummaryWithAlerts is the summary of an incident with alerts: it adds
// how many are firing and resolved, and their names.
func (r *Renderer) SummaryWithAlerts(inc *incidents.Incident, alerts incidents.AlertCounts) (string, []slack.Block) {
	emoji := ":rotating_light:"
	if !inc.Status.Open() {
		emoji = ":white_check_mark:"
	}
	text := fmt.Sprintf("%s %s · %s · %s — %s", emoji, inc.ID, sevLabel(inc.Severity), statusLabel(inc.Status), Escape(inc.Title))

	fields := []*slack.TextBlockObject{
		field("Severity", sevEmoji(inc.Severity)+" "+sevLabel(inc.Severity)),
		field("Status", statusEmoji(inc.Status)+" "+statusLabel(inc.Status)),
		field("Lead", r.Person(inc.Lead())),
	}
	if comms := inc.Roles[incidents.RoleComms]; comms != "" {
		fields = append(fields, field("Comms", r.Person(comms)))
	}
	if inc.Service != "" {
		fields = append(fields, field("Service", Escape(inc.Service)))
	}
	fields = append(fields, field("Duration", r.since(inc)))
	if alerts.Total() > 0 {
		emoji := ":red_circle:"
		if alerts.Firing == 0 {
			emoji = ":large_green_circle:"
		}
		fields = append(fields, field("Alerts", fmt.Sprintf("%s %d firing · %d resolved", emoji, alerts.Firing, alerts.Resolved)))
	}

	blocks := []slack.Block{
		header(fmt.Sprintf("%s: %s", inc.ID, Escape(inc.Title))),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if lines := r.alertLines(alerts); lines != "" {
		blocks = append(blocks, contextBlock(cutMrkdwn(lines, maxSectionText)))
	}
	if inc.Description != "" {
		blocks = append(blocks, section("*Description*\n"+cutMrkdwn(Escape(inc.Description), maxSectionText-len("*Description*\n"))))
	}
	if !inc.Status.Open() && inc.Summary != "" {
		blocks = append(blocks, section("*Resolution*\n"+cutMrkdwn(Escape(inc.Summary), maxSectionText-len("*Resolution*\n"))))
	}

	ctx := []string{"Declared by " + r.Actor(inc.DeclaredBy)}
	if !inc.DeclaredAt.IsZero() {
		ctx[0] += " at " + slackDate(inc.DeclaredAt)
	}
	if link := channelLink(inc.ChannelID); link != "" {
		ctx = append(ctx, link)
	}
	blocks = append(blocks, contextBlock(strings.Join(ctx, " · ")))

	if !inc.Status.Open() {
		blocks = append(blocks, contextBlock("Resolved. Reopen with `/incident reopen`"))
		return text, blocks
	}
	var elems []slack.BlockElement
	var opts []*slack.OptionBlockObject
	for _, s := range incidents.AllowedMoves(inc.Status) {
		opts = append(opts, slack.NewOptionBlockObject(
			inc.ID.String()+"|"+string(s),
			plain(statusEmoji(s)+" "+statusLabel(s)), nil))
	}
	if len(opts) > 0 {
		elems = append(elems, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic,
			plain("Change status"), ActionStatus, opts...))
	}
	elems = append(elems, r.resolveButton(inc))
	blocks = append(blocks, slack.NewActionBlock("incident_actions", elems...))
	return text, blocks
}

// duration says how long an incident has lasted (from detection), as
// "open for 1h05m" or "resolved after 2h03m".
func (r *Renderer) duration(inc *incidents.Incident) string {
	d := incidents.FormatDuration(inc.Duration(r.now()))
	if inc.Status.Open() {
		return "open for " + d
	}
	return "resolved after " + d
}

// since is how long the incident has lasted, for messages that are edited
// only when the incident changes (the summary): "open since 14:02" rather
// than a duration that would go stale. Slack shows the time in each
// reader's time zone.
func (r *Renderer) since(inc *incidents.Incident) string {
	if !inc.Status.Open() {
		return r.duration(inc)
	}
	t := inc.DetectedAt
	if t.IsZero() {
		t = inc.DeclaredAt
	}
	if t.IsZero() {
		return "open"
	}
	return fmt.Sprintf("open since <!date^%d^{time}|%s>", t.Unix(), t.UTC().Format("15:04 UTC"))
}

// Announcement is the message in the announcement channel.
func (r *Renderer) Announcement(inc *incidents.Incident) (string, []slack.Block) {
	var text string
	if inc.Status.Open() {
		text = fmt.Sprintf(":rotating_light: New %s incident %s: %s", sevLabel(inc.Severity), inc.ID, Escape(inc.Title))
		if link := channelLink(inc.ChannelID); link != "" {
			text += " — join " + link
		}
	} else {
		text = fmt.Sprintf(":white_check_mark: %s %s: %s", inc.ID, r.duration(inc), Escape(inc.Title))
		if link := channelLink(inc.ChannelID); link != "" {
			text += " — " + link
		}
	}
	fields := []*slack.TextBlockObject{
		field("Severity", sevEmoji(inc.Severity)+" "+sevLabel(inc.Severity)),
		field("Status", statusEmoji(inc.Status)+" "+statusLabel(inc.Status)),
	}
	if inc.Service != "" {
		fields = append(fields, field("Service", Escape(inc.Service)))
	}
	fields = append(fields, field("Lead", r.Person(inc.Lead())))

	ctx := "Declared by " + r.Actor(inc.DeclaredBy)
	if !inc.DeclaredAt.IsZero() {
		ctx += " at " + slackDate(inc.DeclaredAt)
	}
	return text, []slack.Block{
		slack.NewSectionBlock(mrkdwn(cutMrkdwn(text, maxSectionText)), fields, nil),
		contextBlock(ctx),
	}
}

// EventPost is what is posted in the incident's channel for a timeline
// event, and false for events that need no post: the declaration and the
// channel (the summary shows them), messages and joins that happened in
// the channel, and kinds Warroom does not know.
func (r *Renderer) EventPost(inc *incidents.Incident, ev incidents.Event) (string, bool) {
	switch ev.Kind {
	case incidents.EventStatusChanged, incidents.EventSeverity, incidents.EventRoleAssigned,
		incidents.EventResolved, incidents.EventReopened, incidents.EventAcknowledged,
		incidents.EventTitleChanged:
		emoji, line := r.describe(inc, ev, maxPostText)
		return emoji + " " + line, true
	case incidents.EventNote:
		return ":memo: Note from " + r.Actor(ev.Actor) + ": " + cutMrkdwn(Escape(ev.Text), maxPostText), true
	}
	return r.postmortemPost(inc, ev)
}

// maxPostText caps people's text in a posted line; Slack cuts messages at
// 40,000 characters and notes are at most 4,000 before escaping.
const maxPostText = 30000

// describe says what an event did, as an emoji and a mrkdwn sentence that
// starts with the actor. Text from people is cut to maxText characters.
func (r *Renderer) describe(inc *incidents.Incident, ev incidents.Event, maxText int) (emoji, line string) {
	actor := r.Actor(ev.Actor)
	text := func(s string) string { return cutMrkdwn(Escape(s), maxText) }
	switch ev.Kind {
	case incidents.EventDeclared:
		what := strings.TrimPrefix(ev.Text, "Declared ")
		if what == "" {
			what = inc.ID.String()
		}
		return ":rotating_light:", actor + " declared " + text(what)
	case incidents.EventChannel:
		if link := channelLink(dataString(ev, "channel_id")); link != "" {
			return ":hash:", actor + " created the channel " + link
		}
		return ":hash:", actor + " created the channel"
	case incidents.EventStatusChanged:
		to := incidents.Status(dataString(ev, "to"))
		return statusEmoji(to), fmt.Sprintf("%s changed the status from *%s* to *%s*",
			actor, Escape(dataString(ev, "from")), Escape(string(to)))
	case incidents.EventSeverity:
		from, to := incidents.Severity(dataString(ev, "from")), incidents.Severity(dataString(ev, "to"))
		verb := "changed"
		switch {
		case !from.Valid() || !to.Valid():
		case to.AtLeast(from):
			verb = "raised"
		default:
			verb = "lowered"
		}
		return sevEmoji(to), fmt.Sprintf("%s %s the severity from *%s* to *%s*", actor, verb, sevLabel(from), sevLabel(to))
	case incidents.EventRoleAssigned:
		role, person := Escape(dataString(ev, "role")), dataString(ev, "person")
		var s string
		if ev.Actor == incidents.SlackActor(person) {
			s = fmt.Sprintf("%s took the *%s* role", actor, role)
		} else {
			s = fmt.Sprintf("%s made %s *%s*", actor, r.Person(person), role)
		}
		if prev := dataString(ev, "previous"); prev != "" {
			s += " (was " + r.Person(prev) + ")"
		}
		return ":bust_in_silhouette:", s
	case incidents.EventNote:
		return ":memo:", actor + ": " + text(ev.Text)
	case incidents.EventResolved:
		s := fmt.Sprintf("%s resolved %s", actor, inc.ID)
		if secs, ok := dataInt(ev, "duration_seconds"); ok {
			s += " after " + incidents.FormatDuration(time.Duration(secs)*time.Second)
		}
		s += "."
		if sum := dataString(ev, "summary"); sum != "" {
			s += " Summary: " + text(sum)
		}
		return ":white_check_mark:", s
	case incidents.EventReopened:
		s := fmt.Sprintf("%s reopened %s", actor, inc.ID)
		reason := dataString(ev, "reason")
		if reason == "" && ev.Data == nil {
			reason = strings.TrimPrefix(strings.TrimPrefix(ev.Text, "Reopened"), ": ")
		}
		if reason != "" {
			s += ": " + text(reason)
		}
		return ":arrows_counterclockwise:", s
	case incidents.EventAcknowledged:
		s := fmt.Sprintf("%s acknowledged %s", actor, inc.ID)
		if secs, ok := dataInt(ev, "tta_seconds"); ok {
			s += ", " + incidents.FormatDuration(time.Duration(secs)*time.Second) + " after detection"
		}
		return ":eyes:", s
	case incidents.EventTitleChanged:
		return ":pencil2:", fmt.Sprintf("%s renamed %s from *%s* to *%s*",
			actor, inc.ID, text(dataString(ev, "from")), text(dataString(ev, "to")))
	case incidents.EventAlertFiring, incidents.EventAlertsBatch:
		return ":fire:", actor + ": " + text(ev.Text)
	case incidents.EventAlertResolved, incidents.EventAlertsResolved:
		return ":large_green_circle:", actor + ": " + text(ev.Text)
	case "slack.message":
		return ":pushpin:", actor + ": " + text(ev.Text)
	case "slack.joined":
		return ":wave:", actor + " joined the channel"
	}
	what := ev.Text
	if what == "" {
		what = string(ev.Kind)
	}
	return ":small_blue_diamond:", actor + ": " + text(what)
}

// Help lists the commands, those that work anywhere first.
func (r *Renderer) Help(cmds []Command) (string, []slack.Block) {
	var anywhere, inIncident []string
	for _, c := range cmds {
		line := "• `" + Escape(c.Usage()) + "`"
		if len(c.Aliases) > 0 {
			line += " (or `" + Escape(strings.Join(c.Aliases, "`, `")) + "`)"
		}
		if c.Help != "" {
			line += " — " + Escape(c.Help)
		}
		if c.InIncident {
			inIncident = append(inIncident, line)
		} else {
			anywhere = append(anywhere, line)
		}
	}
	var lines []string
	if len(anywhere) > 0 {
		lines = append(lines, "*Anywhere*")
		lines = append(lines, anywhere...)
	}
	if len(inIncident) > 0 {
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, "*In an incident channel*")
		lines = append(lines, inIncident...)
	}
	if len(lines) == 0 {
		lines = []string{"No commands."}
	}
	blocks := []slack.Block{header("Warroom commands")}
	blocks = append(blocks, r.lineBlocks(lines, maxBlocks-len(blocks), "commands")...)
	return fallback("Warroom commands", lines), blocks
}

// List lists incidents with links to their channels.
func (r *Renderer) List(incs []*incidents.Incident) (string, []slack.Block) {
	if len(incs) == 0 {
		const none = "No open incidents. :tada:"
		return none, []slack.Block{section(none)}
	}
	lines := make([]string, 0, len(incs))
	for _, inc := range incs {
		parts := []string{
			fmt.Sprintf("%s *%s* %s", sevEmoji(inc.Severity), inc.ID, sevLabel(inc.Severity)),
			statusLabel(inc.Status),
			cutMrkdwn(Escape(inc.Title), 300),
		}
		if link := channelLink(inc.ChannelID); link != "" {
			parts = append(parts, link)
		}
		parts = append(parts, r.duration(inc))
		lines = append(lines, strings.Join(parts, " · "))
	}
	open := 0
	for _, inc := range incs {
		if inc.Status.Open() {
			open++
		}
	}
	head := fmt.Sprintf("*%d incidents, %d open*", len(incs), open)
	switch {
	case open == 1 && len(incs) == 1:
		head = "*1 open incident*"
	case open == len(incs):
		head = fmt.Sprintf("*%d open incidents*", open)
	}
	blocks := []slack.Block{section(head)}
	blocks = append(blocks, r.lineBlocks(lines, maxBlocks-len(blocks), "incidents")...)
	return fallback(head, lines), blocks
}

// Timeline renders an incident's timeline, most recent last. When it does
// not fit in one message, it shows the last events and says how many it
// left out.
func (r *Renderer) Timeline(inc *incidents.Incident, evs []incidents.Event) (string, []slack.Block) {
	title := fmt.Sprintf("Timeline of %s: %s", inc.ID, Escape(inc.Title))
	if len(evs) == 0 {
		const none = "Nothing on the timeline yet."
		return cutMrkdwn(title, maxSectionText) + "\n" + none, []slack.Block{header(title), section(none)}
	}
	// Choose the events to show, from the end: the most recent matter
	// most. Measure each line as if it carried its date, the longest it can
	// be, so that the lines as shown pack into no more sections.
	const maxText = 1000  // of people's text per line
	room := maxBlocks - 2 // the header, and the note about earlier events
	described := make([]string, len(evs))
	first, sections, cur := len(evs), 0, 0
	for i := len(evs) - 1; i >= 0; i-- {
		emoji, what := r.describe(inc, evs[i], maxText)
		described[i] = emoji + " " + what
		n := min(len("`2006-01-02 15:04` ")+utf8.RuneCountInString(described[i]), maxSectionText)
		if sections == 0 || cur+1+n > maxSectionText {
			if sections == room {
				break
			}
			sections, cur = sections+1, n
		} else {
			cur += 1 + n
		}
		first = i
	}

	// Each line shows the time, and the date too on the first line and
	// whenever it changes.
	lines := make([]string, 0, len(evs)-first)
	var prevDay string
	for i := first; i < len(evs); i++ {
		at := evs[i].At.UTC()
		stamp := at.Format("15:04")
		if day := at.Format("2006-01-02"); day != prevDay {
			stamp, prevDay = day+" "+stamp, day
		}
		lines = append(lines, "`"+stamp+"` "+described[i])
	}

	blocks := []slack.Block{header(title)}
	head := title
	if first > 0 {
		note := fmt.Sprintf("(%d earlier events; see the full timeline with the API)", first)
		if first == 1 {
			note = "(1 earlier event; see the full timeline with the API)"
		}
		if u := r.incidentURL(inc.ID); u != "" {
			note = strings.TrimSuffix(note, "the API)") + "<" + u + "/timeline|the API>)"
		}
		blocks = append(blocks, contextBlock(note))
		head += fmt.Sprintf(" (last %d of %d events)", len(evs)-first, len(evs))
	}
	for _, c := range packLines(lines, maxSectionText) {
		blocks = append(blocks, section(c.text))
	}
	return fallback(head, lines), blocks
}

// DeclareModal is the modal that declares an incident.
func (r *Renderer) DeclareModal(services []string) slack.ModalViewRequest {
	titleInput := slack.NewPlainTextInputBlockElement(plain("Checkout fails for EU customers"), BlockTitle).
		WithMaxLength(incidents.MaxTitleLen)

	var sevOpts []*slack.OptionBlockObject
	for _, s := range incidents.Severities {
		sevOpts = append(sevOpts, slack.NewOptionBlockObject(string(s),
			plain(sevEmoji(s)+" "+sevLabel(s)), plain(sevHelp[s])))
	}
	sevSelect := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Pick a severity"), BlockSeverity, sevOpts...).
		WithInitialOption(sevOpts[incidents.Sev3.Rank()-1])

	var serviceElem slack.BlockElement
	var svcOpts []*slack.OptionBlockObject
	for _, s := range services {
		if s == "" || len(s) > maxOptionValue {
			continue
		}
		svcOpts = append(svcOpts, slack.NewOptionBlockObject(s, plain(cutMrkdwn(Escape(s), maxOptionText)), nil))
	}
	if len(svcOpts) > 0 && len(svcOpts) <= maxOptions {
		serviceElem = slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Pick a service"), BlockService, svcOpts...)
	} else {
		serviceElem = slack.NewPlainTextInputBlockElement(plain("checkout"), BlockService).WithMaxLength(maxOptionValue)
	}

	descInput := slack.NewPlainTextInputBlockElement(plain("What do you see? Links to graphs and alerts help."), BlockDescription).
		WithMultiline(true).WithMaxLength(maxSectionText)

	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: ViewDeclare,
		Title:      plain("Declare incident"),
		Submit:     plain("Declare"),
		Close:      plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(BlockTitle, plain("Title"), plain("What is wrong, in a few words."), titleInput),
			slack.NewInputBlock(BlockSeverity, plain("Severity"), nil, sevSelect),
			slack.NewInputBlock(BlockService, plain("Service"), nil, serviceElem).WithOptional(true),
			slack.NewInputBlock(BlockDescription, plain("Description"), nil, descInput).WithOptional(true),
		}},
	}
}

// sevHelp describes each severity in the declare modal.
var sevHelp = map[incidents.Severity]string{
	incidents.Sev1: "Critical: most customers cannot use the product",
	incidents.Sev2: "Major: a core feature is broken for many customers",
	incidents.Sev3: "Minor: limited impact, or a workaround exists",
	incidents.Sev4: "Low: little or no customer impact",
}

// lineBlocks packs mrkdwn lines into sections of at most maxSectionText
// characters, at most n blocks; when they do not fit, the last block says
// how many lines were left out.
func (r *Renderer) lineBlocks(lines []string, n int, what string) []slack.Block {
	chunks := packLines(lines, maxSectionText)
	var blocks []slack.Block
	if len(chunks) <= n {
		for _, c := range chunks {
			blocks = append(blocks, section(c.text))
		}
		return blocks
	}
	shown := 0
	for _, c := range chunks[:n-1] {
		blocks = append(blocks, section(c.text))
		shown += c.lines
	}
	return append(blocks, contextBlock(fmt.Sprintf("…and %d more %s", len(lines)-shown, what)))
}

// chunk is lines joined with newlines, for one section.
type chunk struct {
	text  string
	lines int
}

// packLines joins lines with newlines into chunks of at most max
// characters, in order, as few as can be. A longer line is cut.
func packLines(lines []string, max int) []chunk {
	var chunks []chunk
	var cur strings.Builder
	n, count := 0, 0 // characters and lines in cur
	for _, l := range lines {
		l = cutMrkdwn(l, max)
		ln := utf8.RuneCountInString(l)
		if count > 0 && n+1+ln > max {
			chunks = append(chunks, chunk{cur.String(), count})
			cur.Reset()
			n, count = 0, 0
		}
		if count > 0 {
			cur.WriteByte('\n')
			n++
		}
		cur.WriteString(l)
		n += ln
		count++
	}
	if count > 0 {
		chunks = append(chunks, chunk{cur.String(), count})
	}
	return chunks
}

// fallback is the notification text for a message of lines: the head and
// as many lines as fit in a section.
func fallback(head string, lines []string) string {
	text := head
	for _, l := range lines {
		if utf8.RuneCountInString(text)+1+utf8.RuneCountInString(l) > maxSectionText-len("\n…") {
			return text + "\n…"
		}
		text += "\n" + l
	}
	return text
}

// cutMrkdwn cuts mrkdwn to at most n characters, ending with "…" when it
// cuts, and never inside an entity ("&amp;") or an angle-bracket token
// ("<@U123>", "<!date^…>").
func cutMrkdwn(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	// Byte offset of the first n-1 runes, leaving room for "…".
	end, count := 0, 0
	for i := range s {
		if count == n-1 {
			end = i
			break
		}
		count++
	}
	cut := s[:end]
	if lt := strings.LastIndexByte(cut, '<'); lt > strings.LastIndexByte(cut, '>') {
		cut = cut[:lt]
	}
	if amp := strings.LastIndexByte(cut, '&'); amp > strings.LastIndexByte(cut, ';') {
		cut = cut[:amp]
	}
	return cut + "…"
}

func (r *Renderer) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC()
	}
	return r.Now().UTC()
}

// incidentURL is the incident's address in Warroom's API, or "".
func (r *Renderer) incidentURL(id incidents.ID) string {
	if r.PublicURL == "" {
		return ""
	}
	return Escape(strings.TrimRight(r.PublicURL, "/")) + "/api/incidents/" + id.String()
}

// slackDate shows t in each reader's time zone, with a UTC fallback.
func slackDate(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.Format("2006-01-02 15:04 UTC"))
}

// channelLink links to a channel by its ID ("<#C123>"), or is "" when id
// does not look like a Slack conversation ID.
func channelLink(id string) string {
	if id == "" {
		return ""
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return "<#" + id + ">"
}

func sevLabel(s incidents.Severity) string {
	if s == "" {
		return "SEV?"
	}
	return Escape(strings.ToUpper(string(s)))
}

func sevEmoji(s incidents.Severity) string {
	switch s {
	case incidents.Sev1:
		return ":red_circle:"
	case incidents.Sev2:
		return ":large_orange_circle:"
	case incidents.Sev3:
		return ":large_yellow_circle:"
	case incidents.Sev4:
		return ":large_blue_circle:"
	}
	return ":white_circle:"
}

func statusLabel(s incidents.Status) string {
	if s == "" {
		return "Unknown"
	}
	r, size := utf8.DecodeRuneInString(string(s))
	return Escape(string(unicode.ToUpper(r)) + string(s)[size:])
}

func statusEmoji(s incidents.Status) string {
	switch s {
	case incidents.StatusInvestigating:
		return ":mag:"
	case incidents.StatusIdentified:
		return ":dart:"
	case incidents.StatusMonitoring:
		return ":eyes:"
	case incidents.StatusResolved:
		return ":white_check_mark:"
	}
	return ":grey_question:"
}

// dataString is ev.Data[key] as text.
func dataString(ev incidents.Event, key string) string {
	switch v := ev.Data[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// dataInt is ev.Data[key] as a whole number, as the domain wrote it or as
// it comes back from JSON.
func dataInt(ev incidents.Event, key string) (int64, bool) {
	switch v := ev.Data[key].(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case float64:
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func header(s string) *slack.HeaderBlock {
	return slack.NewHeaderBlock(plain(cutMrkdwn(s, maxHeaderText)))
}

func section(s string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(cutMrkdwn(s, maxSectionText)), nil, nil)
}

func field(name, value string) *slack.TextBlockObject {
	return mrkdwn(cutMrkdwn("*"+name+"*\n"+value, maxFieldText))
}

func contextBlock(s string) *slack.ContextBlock {
	return slack.NewContextBlock("", mrkdwn(cutMrkdwn(s, maxSectionText)))
}
