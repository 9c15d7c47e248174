package postmortem

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/templates"
)

// TemplateName is the template that renders a draft; config's
// postmortem.template replaces it.
const TemplateName = "postmortem.md.tmpl"

// DraftOptions are what a draft needs besides the incident's record.
type DraftOptions struct {
	// Location is the team's time zone, shown beside UTC; nil means UTC.
	Location *time.Location
	// Now is when the draft is written: the end of an open incident's
	// duration. Zero means time.Now().
	Now time.Time
	// Names maps Slack user IDs to the names people know each other by
	// (config's people); an actor or role holder not in it is shown as
	// it is stored.
	Names map[string]string
	// IssueLinks maps an action item's text to the issue filed for it.
	IssueLinks map[string]string
	// DeploysBefore are deploys of the incident's services that finished
	// before its detection: those shown when it was declared, then the
	// stored ones (Drafter reads them with Source.DeploySnapshots and
	// Source.DeploysBefore); the draft lists those DeployWindow says.
	DeploysBefore []deploys.Deploy
}

// name is how the draft shows an actor or role holder: "slack:U01ALICE"
// and "U01ALICE" become "alice" when Names has U01ALICE.
func (o DraftOptions) name(who string) string {
	if n, ok := o.Names[strings.TrimPrefix(who, "slack:")]; ok && n != "" {
		return n
	}
	return who
}

// Draft is the data of a postmortem draft, for the template. Its text is
// as people and alerts wrote it: the template escapes it (md, mdurl,
// mdlink).
type Draft struct {
	Incident *incidents.Incident
	// Open is true while the incident is not resolved.
	Open bool
	// Written is when the record the draft shows ends, in UTC: for an open
	// incident, when the draft was written (DraftOptions.Now); for a
	// resolved one, its last event, so that drafting an unchanged incident
	// again gives the same text (and commits nothing new).
	Written time.Time
	// Zone is the team's time zone name ("Europe/Berlin", "UTC"), and
	// Location the zone itself.
	Zone     string
	Location *time.Location
	// Detected is when the incident started: its detection, or its
	// declaration when it has no detection time.
	Detected time.Time
	// Duration is from detection to resolution, or to Written while open.
	Duration time.Duration
	// Services are the incident's service, then the other services of its
	// alerts, by name.
	Services []string
	// KeyTimes are detected, declared, acknowledged, mitigated and resolved,
	// in that order; At is zero for a moment that has not come.
	KeyTimes []KeyTime
	// TimesTo are time to acknowledge, to mitigate and to resolve.
	TimesTo []Interval
	// Lead and Comms hold those roles ("" when no one does); OtherRoles
	// are any further roles, by name.
	Lead, Comms string
	OtherRoles  []RoleHolder
	// Responders are the people who acted in the timeline, and Systems
	// the programs (Warroom, alert sources), each in order of first action.
	Responders []Participant
	Systems    []Participant
	// Timeline is every event, in the order they happened.
	Timeline []Entry
	// Alerts are the incident's alerts, by first firing, then name and
	// labels.
	Alerts []Alert
	// Deploys are, in the order they happened, the deploys of the
	// incident's services that finished shortly before detection (see
	// DeployWindow), and the events of kind "deploy" (package deploys: a
	// deploy of the service during the incident) or whose kind starts
	// with "deploy." or "rollback.".
	Deploys []DeployEntry
	// ActionItems are notes that start with "TODO:" or "action:", with
	// the prefix removed from Text.
	ActionItems []Entry
}

// KeyTime is one moment of the incident.
type KeyTime struct {
	Name string    // "Detected", "Declared", ...
	At   time.Time // zero: not yet
	// SinceDetection is At minus Draft.Detected.
	SinceDetection time.Duration
}

// Interval is a time to something: to acknowledge, to mitigate, to resolve.
type Interval struct {
	Name     string // "Time to acknowledge", ...
	Duration time.Duration
	Known    bool // false while the moment has not come
}

// RoleHolder is a role and who holds it.
type RoleHolder struct {
	Role   incidents.Role
	Person string
}

// Participant is an actor of the timeline.
type Participant struct {
	Actor  incidents.Actor
	Events int       // how many events they are the actor of
	First  time.Time // their first event
}

// Entry is one timeline event, on one line.
type Entry struct {
	At time.Time
	// UTC and Local are At for a table: "14:02:05" and "15:02:05 CET",
	// with the date in front on the first entry and when the day changes.
	UTC, Local string
	Kind       incidents.EventKind
	Actor      incidents.Actor
	Text       string // the event's text, or its kind when it has none
	// Link is the event's permalink (a pinned Slack message), or "". In
	// ActionItems it is the issue filed for the item instead, or "".
	Link string
}

// Alert is one alert of the incident.
type Alert struct {
	Name     string
	Status   incidents.AlertStatus
	Severity incidents.Severity
	Service  string
	// First is when it started firing (its start, or when Warroom first
	// received it); Last is when it ended if resolved, when it was last
	// received if firing.
	First, Last time.Time
	// Labels sums up its labels other than alertname: "k=v, k=v", at most
	// maxLabels of them, then "+N more".
	Labels     string
	RunbookURL string
	SourceURL  string // the source's link to it (GeneratorURL)
}

// Limits of the draft's summaries.
const (
	maxLabels     = 6
	maxLabelValue = 60
)

// systems are the actors that are programs rather than people.
var systems = map[incidents.Actor]bool{
	incidents.System: true,
	incidents.Actor(incidents.SourceAlertmanager): true,
	incidents.Actor(incidents.SourceGrafana):      true,
	incidents.Actor(incidents.SourceGeneric):      true,
}

// actionPrefixes start the notes that become action items, compared
// without case.
var actionPrefixes = []string{"todo:", "action:"}

// NewDraft gathers the draft of inc from its timeline events (in the order
// they happened) and its alerts.
func NewDraft(inc *incidents.Incident, events []incidents.Event, alerts []incidents.StoredAlert, opts DraftOptions) *Draft {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	d := &Draft{
		Incident: inc,
		Open:     inc.Status.Open(),
		Written:  now.UTC(),
		Zone:     loc.String(),
		Location: loc,
		Detected: detectedAt(inc),
		Duration: inc.Duration(now),
		Lead:     opts.name(inc.Roles[incidents.RoleLead]),
		Comms:    opts.name(inc.Roles[incidents.RoleComms]),
	}
	d.keyTimes()
	for role, person := range inc.Roles {
		if role != incidents.RoleLead && role != incidents.RoleComms && person != "" {
			d.OtherRoles = append(d.OtherRoles, RoleHolder{Role: role, Person: opts.name(person)})
		}
	}
	slices.SortFunc(d.OtherRoles, func(a, b RoleHolder) int { return cmp.Compare(a.Role, b.Role) })
	d.timeline(events, opts)
	if !d.Open && len(d.Timeline) > 0 {
		d.Written = d.Timeline[len(d.Timeline)-1].At.UTC()
	}
	d.alerts(alerts)
	d.addDeploysBefore(opts.DeploysBefore, opts)
	return d
}

// detectedAt is when inc started: its detection, or its declaration when
// it has no detection time.
func detectedAt(inc *incidents.Incident) time.Time {
	if inc.DetectedAt.IsZero() {
		return inc.DeclaredAt
	}
	return inc.DetectedAt
}

func (d *Draft) keyTimes() {
	inc := d.Incident
	resolved := time.Time{}
	if !d.Open {
		resolved = inc.ResolvedAt
	}
	for _, k := range []struct {
		name string
		at   time.Time
	}{
		{"Detected", d.Detected},
		{"Declared", inc.DeclaredAt},
		{"Acknowledged", inc.AcknowledgedAt},
		{"Mitigated", inc.MitigatedAt},
		{"Resolved", resolved},
	} {
		kt := KeyTime{Name: k.name, At: k.at}
		if !k.at.IsZero() && !d.Detected.IsZero() {
			kt.SinceDetection = k.at.Sub(d.Detected)
		}
		d.KeyTimes = append(d.KeyTimes, kt)
	}
	for i, name := range []string{"Time to acknowledge", "Time to mitigate", "Time to resolve"} {
		kt := d.KeyTimes[2+i]
		d.TimesTo = append(d.TimesTo, Interval{Name: name, Duration: kt.SinceDetection, Known: !kt.At.IsZero() && !d.Detected.IsZero()})
	}
}

func (d *Draft) timeline(events []incidents.Event, opts DraftOptions) {
	// The store lists events in order; a pinned message carries the time
	// it was written, which may come before the events around it.
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return events[order[a]].At.Before(events[order[b]].At) })

	d.Timeline = make([]Entry, 0, len(events))
	seen := map[incidents.Actor]int{} // actor → index+1 in Responders (>0) or Systems (<0)
	var lastUTC, lastLocal string     // dates of the previous entry
	for _, i := range order {
		ev := &events[i]
		if strings.HasPrefix(string(ev.Kind), "postmortem.") {
			continue // about the draft itself: it would change every draft
		}
		utc, local := ev.At.UTC(), ev.At.In(d.Location)
		e := Entry{
			At:    ev.At,
			UTC:   utc.Format("15:04:05"),
			Local: local.Format("15:04:05 MST"),
			Kind:  ev.Kind,
			Actor: incidents.Actor(opts.name(string(ev.Actor))),
			Text:  ev.Text,
		}
		if day := utc.Format(time.DateOnly); day != lastUTC {
			e.UTC, lastUTC = day+" "+e.UTC, day
		}
		if day := local.Format(time.DateOnly); day != lastLocal {
			e.Local, lastLocal = day+" "+e.Local, day
		}
		if strings.TrimSpace(e.Text) == "" {
			e.Text = string(ev.Kind)
		}
		if link, ok := ev.Data["permalink"].(string); ok {
			e.Link = link
		}
		d.Timeline = append(d.Timeline, e)

		if ev.Actor != "" {
			switch n := seen[ev.Actor]; {
			case n > 0:
				d.Responders[n-1].Events++
			case n < 0:
				d.Systems[-n-1].Events++
			case systems[ev.Actor]:
				d.Systems = append(d.Systems, Participant{Actor: e.Actor, Events: 1, First: ev.At})
				seen[ev.Actor] = -len(d.Systems)
			default:
				d.Responders = append(d.Responders, Participant{Actor: e.Actor, Events: 1, First: ev.At})
				seen[ev.Actor] = len(d.Responders)
			}
		}
		kind := string(ev.Kind)
		if kind == "deploy" || strings.HasPrefix(kind, "deploy.") || strings.HasPrefix(kind, "rollback.") {
			d.Deploys = append(d.Deploys, d.deployEntry(e, ev))
		}
		if text, ok := actionItem(ev); ok {
			a := e
			a.Text, a.Link = text, opts.IssueLinks[text]
			d.ActionItems = append(d.ActionItems, a)
		}
	}
}

// actionItem is the text of a note that asks for an action.
func actionItem(ev *incidents.Event) (string, bool) {
	if ev.Kind != incidents.EventNote && ev.Kind != "slack.message" {
		return "", false
	}
	text := strings.TrimSpace(ev.Text)
	for _, p := range actionPrefixes {
		if len(text) > len(p) && strings.EqualFold(text[:len(p)], p) {
			if rest := strings.TrimSpace(text[len(p):]); rest != "" {
				return rest, true
			}
		}
	}
	return "", false
}

// draftServices are inc's service, then the other services of its
// alerts, by name.
func draftServices(inc *incidents.Incident, alerts []incidents.StoredAlert) []string {
	var out, more []string
	seen := map[string]bool{}
	if s := inc.Service; s != "" {
		seen[s] = true
		out = append(out, s)
	}
	for i := range alerts {
		if s := alerts[i].Service; s != "" && !seen[s] {
			seen[s] = true
			more = append(more, s)
		}
	}
	slices.Sort(more)
	return append(out, more...)
}

func (d *Draft) alerts(alerts []incidents.StoredAlert) {
	d.Services = draftServices(d.Incident, alerts)
	d.Alerts = make([]Alert, 0, len(alerts))
	for i := range alerts {
		a := &alerts[i]
		row := Alert{
			Name:       a.Name(),
			Status:     a.Status,
			Severity:   a.Severity,
			Service:    a.Service,
			First:      a.StartsAt,
			Labels:     labelSummary(a.Labels),
			RunbookURL: a.RunbookURL,
			SourceURL:  a.GeneratorURL,
		}
		if row.First.IsZero() {
			row.First = a.FirstSeen
		}
		switch {
		case a.Status == incidents.AlertResolved && !a.EndsAt.IsZero():
			row.Last = a.EndsAt
		case a.Status == incidents.AlertResolved:
			row.Last = a.ChangedAt
		default:
			row.Last = a.LastSeen
		}
		d.Alerts = append(d.Alerts, row)
	}
	slices.SortStableFunc(d.Alerts, func(a, b Alert) int {
		return cmp.Or(a.First.Compare(b.First), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Labels, b.Labels))
	})
}

// labelSummary is "k=v, k=v" for labels other than alertname, by name, at
// most maxLabels, with long values cut.
func labelSummary(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if k != "alertname" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i == maxLabels {
			fmt.Fprintf(&b, " +%d more", len(keys)-maxLabels)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		v := labels[k]
		if r := []rune(v); len(r) > maxLabelValue {
			v = string(r[:maxLabelValue-1]) + "…"
		}
		b.WriteString(k + "=" + v)
	}
	return b.String()
}

// UTC formats t for the draft: "2026-11-03 14:02:05" in UTC, or "" for the
// zero time.
func (d *Draft) UTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateTime)
}

// Local formats t in the team's time zone: "2026-11-03 15:02:05 CET", or ""
// for the zero time.
func (d *Draft) Local(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(d.Location).Format(time.DateTime + " MST")
}

// HasLocal reports whether the team's zone is not UTC, so that times are
// shown in both.
func (d *Draft) HasLocal() bool { return d.Zone != "UTC" }

// Render writes the draft as Markdown with the set's TemplateName. It
// writes nothing when the template fails.
func (d *Draft) Render(set *templates.Set, w io.Writer) error {
	var buf bytes.Buffer
	buf.Grow(4096 + 160*len(d.Timeline) + 200*len(d.Alerts))
	if err := set.Execute(&buf, TemplateName, d); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Slug is a short file-name-safe form of title: lower-case ASCII letters and
// digits joined by hyphens ("Checkout: 5xx on /pay" is
// "checkout-5xx-on-pay"), common accented letters folded, at most 48
// characters cut at a word, and "incident" when nothing is left.
func Slug(title string) string {
	const maxLen = 48
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(title) {
		var s string
		switch {
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			s = string(r)
		default:
			s = fold[r]
		}
		if s == "" {
			hyphen = b.Len() > 0
			continue
		}
		if hyphen {
			b.WriteByte('-')
			hyphen = false
		}
		b.WriteString(s)
	}
	slug := b.String()
	if len(slug) > maxLen {
		slug = slug[:maxLen]
		if i := strings.LastIndexByte(slug, '-'); i > 0 {
			slug = slug[:i]
		}
	}
	if slug == "" {
		return "incident"
	}
	return slug
}

// fold spells common accented Latin letters in ASCII.
var fold = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'þ': "th"}
	for ascii, runes := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćčĉ", "e": "èéêëēėęě", "i": "ìíîïīį", "n": "ñńň",
		"o": "òóôõöōő", "u": "ùúûüūůű", "y": "ýÿ", "s": "śšş", "z": "źżž", "r": "ř", "g": "ğ",
	} {
		for _, r := range runes {
			m[r] = ascii
		}
	}
	return m
}()

// name is "inc-<id>-<slug>".
func name(inc *incidents.Incident) string {
	return "inc-" + strconv.FormatInt(int64(inc.ID), 10) + "-" + Slug(inc.Title)
}

// FileName is the draft's file name, "<date>-inc-<id>-<slug>.md", with
// date as a day in its own location (pass it in the team's time zone).
func FileName(inc *incidents.Incident, date time.Time) string {
	return date.Format(time.DateOnly) + "-" + name(inc) + ".md"
}

// BranchName is the branch a draft is proposed on:
// "postmortem/inc-<id>-<slug>".
func BranchName(inc *incidents.Incident) string {
	return "postmortem/" + name(inc)
}
