package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// JobTriage posts (or edits) the message that offers an alert group below
// the declaration threshold for triage, in its service's channel.
const JobTriage = "slack.triage"

// TriageJob is JobTriage's payload.
type TriageJob struct {
	Group   int64 `json:"group"`
	Episode int   `json:"episode"`
}

// alertNames is how many alert names the summary and triage messages list.
const alertNames = 5

// AlertListener returns the alert listener that posts alerts that do not
// declare an incident to their service's channel, with a "Declare incident"
// button, and edits that message as the group changes. The message is
// edited at most once a second, however many alerts arrive: a storm of
// alerts is one message with counts.
func (b *Bot) AlertListener() incidents.AlertListener {
	return alertListener{b}
}

type alertListener struct{ b *Bot }

func (l alertListener) AlertGroupChanged(ctx context.Context, tx incidents.Tx, c incidents.AlertGroupChange) error {
	b := l.b
	if c.Incident != nil && !c.Declared {
		return nil // the incident's summary shows its alerts
	}
	if c.Incident == nil && !c.Firing {
		// Nothing to triage: only update a message that was posted.
		if _, ok, err := b.opts.Store.Post(ctx, triageKey(c.Group.ID, c.Group.Episode)); err != nil || !ok {
			return err
		}
	}
	at := b.now().Truncate(SummaryInterval).Add(SummaryInterval)
	key := fmt.Sprintf("%d:%d:t%d", c.Group.ID, c.Group.Episode, at.UnixMilli())
	return enqueueAt(ctx, tx, JobTriage, key, "triage:"+strconv.FormatInt(c.Group.ID, 10),
		TriageJob{Group: c.Group.ID, Episode: c.Group.Episode}, at)
}

func triageKey(group int64, episode int) string {
	return fmt.Sprintf("triage:%d:%d", group, episode)
}

// triageChannel is where a group's alerts are posted for triage: its
// service's channel, or the announcement channel.
func (b *Bot) triageChannel(service string) string {
	if svc, ok := b.opts.Services[service]; ok && svc.Channel != "" {
		return svc.Channel
	}
	return b.opts.Slack.AnnounceChannel
}

func (b *Bot) runTriage(ctx context.Context, j jobs.Job) error {
	p, err := decode[TriageJob](j)
	if err != nil {
		return err
	}
	g, err := b.opts.Store.AlertGroup(ctx, p.Group)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	if g.Episode != p.Episode {
		return nil // a later episode has its own message
	}
	counts, err := b.opts.Store.GroupAlertCounts(ctx, g.ID, g.EpisodeStart, alertNames)
	if err != nil {
		return err
	}
	var inc *incidents.Incident
	if g.IncidentID != 0 {
		if inc, err = b.opts.Incidents.Get(ctx, g.IncidentID); err != nil {
			return err
		}
	}
	text, blocks := b.render.Triage(g, counts, inc)
	key := triageKey(g.ID, g.Episode)
	prev, ok, err := b.opts.Store.Post(ctx, key)
	if err != nil {
		return err
	}
	if !ok || prev.State != PostSent {
		if inc != nil {
			return nil // declared before it was posted: the incident says it all
		}
		channel := b.triageChannel(g.Service)
		if channel == "" {
			b.log.Info("an alert below the declaration threshold has no channel to go to; set the service's channel or slack.announce_channel",
				"group", g.ID, "service", g.Service)
			return nil
		}
		_, err := b.postOnce(ctx, message{key: key, channel: channel, text: text, blocks: blocks})
		return err
	}
	err = b.call(ctx, "chat.update", "", func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, prev.ChannelID, prev.TS,
			slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
	if messageGone(err) {
		b.log.InfoContext(ctx, "triage message not edited: it cannot be edited any more", "key", prev.Key, "group", g.ID, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	prev.UpdatedAt = b.now()
	return b.opts.Store.SavePost(ctx, prev)
}

// Triage is the message that offers an alert group for triage: its worst
// severity, title, service and counts, with a "Declare incident" button;
// once declared, a link to the incident instead.
func (r *Renderer) Triage(g *incidents.AlertGroup, counts incidents.AlertCounts, inc *incidents.Incident) (string, []slack.Block) {
	title := Escape(g.Title)
	if title == "" {
		title = "Alert group " + strconv.FormatInt(g.ID, 10)
	}
	where := ""
	if g.Service != "" {
		where = " in " + Escape(g.Service)
	}
	state := fmt.Sprintf("%d firing, %d resolved", counts.Firing, counts.Resolved)
	var text string
	switch {
	case inc != nil:
		text = fmt.Sprintf(":rotating_light: Alert%s: %s — declared as %s", where, title, inc.ID)
		if link := channelLink(inc.ChannelID); link != "" {
			text += " " + link
		}
	case counts.Firing == 0:
		text = fmt.Sprintf(":white_check_mark: Alert%s resolved: %s (%s; no incident declared)", where, title, state)
	default:
		text = fmt.Sprintf(":warning: Alert%s: %s (%s)", where, title, state)
	}
	blocks := []slack.Block{section(cutMrkdwn(text, maxSectionText))}
	if lines := r.alertLines(counts); lines != "" {
		blocks = append(blocks, contextBlock(lines))
	}
	if inc == nil && counts.Firing > 0 {
		declare := slack.NewButtonBlockElement(ActionDeclareAlerts, strconv.FormatInt(g.ID, 10), plain("Declare incident")).
			WithStyle(slack.StylePrimary)
		blocks = append(blocks, slack.NewActionBlock("alert_triage", declare))
	}
	return text, blocks
}

// alertLines lists alert names with their counts, for a context block.
func (r *Renderer) alertLines(counts incidents.AlertCounts) string {
	var parts []string
	for _, n := range counts.Names {
		s := Escape(n.Name)
		if n.Total > 1 {
			s += fmt.Sprintf(" ×%d", n.Total)
		}
		if n.Firing > 0 && n.Firing < n.Total {
			s += fmt.Sprintf(" (%d firing)", n.Firing)
		} else if n.Firing == 0 {
			s += " (resolved)"
		}
		parts = append(parts, s)
	}
	if shown := namesTotal(counts.Names); shown < counts.Total() {
		parts = append(parts, fmt.Sprintf("%d more", counts.Total()-shown))
	}
	return strings.Join(parts, " · ")
}

func namesTotal(names []incidents.NameCount) int {
	n := 0
	for _, x := range names {
		n += x.Total
	}
	return n
}

// AllResolved is the message posted in an incident's channel when its last
// alert resolves: it offers a one-click resolve.
func (r *Renderer) AllResolved(inc *incidents.Incident, ev incidents.Event) (string, []slack.Block) {
	text := fmt.Sprintf(":large_green_circle: %s. If the incident is over, resolve %s.", Escape(ev.Text), inc.ID)
	return text, []slack.Block{
		section(text),
		slack.NewActionBlock("alerts_resolved", r.resolveButton(inc)),
	}
}

// resolveButton is the "Resolve" button, with its confirmation.
func (r *Renderer) resolveButton(inc *incidents.Incident) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(ActionResolve, inc.ID.String(), plain("Resolve")).
		WithStyle(slack.StyleDanger).
		WithConfirm(slack.NewConfirmationBlockObject(
			plain(fmt.Sprintf("Resolve %s?", inc.ID)),
			mrkdwn(fmt.Sprintf("%s will be marked resolved. Say what happened with `/incident resolve &lt;summary&gt;`; reopen with `/incident reopen` if it comes back.", inc.ID)),
			plain("Resolve"), plain("Cancel")).WithStyle(slack.StyleDanger))
}

// allResolvedPost is the JobPost for an EventAlertsResolved event, or false
// when the incident is no longer open.
func (b *Bot) allResolvedPost(inc *incidents.Incident, ev incidents.Event) (PostJob, bool, error) {
	if !inc.Status.Open() {
		return PostJob{}, false, nil
	}
	text, blocks := b.render.AllResolved(inc, ev)
	raw, err := json.Marshal(blocks)
	if err != nil {
		return PostJob{}, false, err
	}
	return PostJob{Incident: inc.ID, Channel: inc.ChannelID, Text: text, Blocks: raw}, true, nil
}

// declareAlerts runs the "Declare incident" button of a triage message.
func (b *Bot) declareAlerts(ctx context.Context, value string, actor incidents.Actor) error {
	if b.opts.Alerts == nil {
		return &incidents.ValidationError{Field: "alerts", Msg: "Declaring from alerts is not set up in this Warroom."}
	}
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		return &incidents.ValidationError{Field: "group", Msg: fmt.Sprintf("%q is not an alert group", value)}
	}
	_, err = b.opts.Alerts.DeclareGroup(ctx, id, actor)
	return err
}

// maxAlertList is how many alerts /incident alerts lists.
const maxAlertList = 15

// runAlerts answers /incident alerts: the incident's alerts, firing first,
// with their runbook and source links.
func (b *Bot) runAlerts(ctx context.Context, r *Request) (Reply, error) {
	counts, err := b.opts.Store.IncidentAlertCounts(ctx, r.Incident.ID, 0)
	if err != nil {
		return Reply{}, err
	}
	alerts, err := b.opts.Store.IncidentAlerts(ctx, r.Incident.ID, maxAlertList)
	if err != nil {
		return Reply{}, err
	}
	text, blocks := b.render.Alerts(r.Incident, counts, alerts)
	return Reply{Text: text, Blocks: blocks}, nil
}

// Alerts lists an incident's alerts for /incident alerts.
func (r *Renderer) Alerts(inc *incidents.Incident, counts incidents.AlertCounts, alerts []incidents.StoredAlert) (string, []slack.Block) {
	if counts.Total() == 0 {
		return fmt.Sprintf("%s has no alerts: it was declared by hand.", inc.ID), nil
	}
	head := fmt.Sprintf("*Alerts of %s*: %d firing · %d resolved", inc.ID, counts.Firing, counts.Resolved)
	lines := make([]string, 0, len(alerts))
	for _, a := range alerts {
		emoji := ":red_circle:"
		if a.Status == incidents.AlertResolved {
			emoji = ":large_green_circle:"
		}
		line := emoji + " *" + Escape(a.Name()) + "*"
		for _, l := range []string{"instance", "pod", "host", "node"} {
			if v := a.Labels[l]; v != "" {
				line += " on " + Escape(v)
				break
			}
		}
		if a.Title != "" && a.Title != a.Name() {
			line += ": " + cutMrkdwn(Escape(a.Title), 200)
		}
		var links []string
		if a.RunbookURL != "" {
			links = append(links, slackLink(a.RunbookURL, "runbook"))
		}
		if a.GeneratorURL != "" {
			links = append(links, slackLink(a.GeneratorURL, "source"))
		}
		for _, l := range a.Links {
			links = append(links, slackLink(l.URL, l.Title))
		}
		if len(links) > 0 {
			line += " · " + strings.Join(links, " · ")
		}
		lines = append(lines, line)
	}
	if more := counts.Total() - len(alerts); more > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more: GET /api/incidents/%d/alerts lists them all.", more, inc.ID))
	}
	text := head + "\n" + strings.Join(lines, "\n")
	return text, []slack.Block{section(cutMrkdwn(text, maxSectionText))}
}

// slackLink is a mrkdwn link to an http(s) URL, with the label escaped;
// anything else is shown as escaped text.
func slackLink(u, label string) string {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return Escape(label)
	}
	// "|" and ">" end a link in mrkdwn; URLs from alerts are percent-encoded
	// by the parsers, so these only appear if a sender put them there.
	u = strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace(u)
	return "<" + u + "|" + Escape(label) + ">"
}
