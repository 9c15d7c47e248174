package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// JobDigest posts the incident review digest to the digest channel.
const JobDigest = "slack.digest"

// DigestJob is JobDigest's payload: the period the digest covers.
type DigestJob struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// maxDigestLines bounds each list in the Slack digest; the CLI and the API
// show everything.
const maxDigestLines = 10

func (b *Bot) runDigest(ctx context.Context, j jobs.Job) error {
	p, err := decode[DigestJob](j)
	if err != nil {
		return err
	}
	if b.opts.Digest == nil || b.opts.DigestChannel == "" {
		return jobs.Permanent(fmt.Errorf("no digest source or channel configured"))
	}
	r, err := digest.Build(ctx, b.opts.Digest, p.From, p.To, digest.Tracking(b.opts.Digest)...)
	if err != nil {
		return err
	}
	text, blocks := b.render.Digest(r)
	_, err = b.postOnce(ctx, message{key: j.Key, channel: b.opts.DigestChannel, text: text, blocks: blocks})
	return err
}

// runDigestPreview answers /incident digest: the digest of the last seven
// days, shown only to the person who asked.
func (b *Bot) runDigestPreview(ctx context.Context, r *Request) (Reply, error) {
	if b.opts.Digest == nil {
		return Reply{Text: "The digest is not available in this Warroom."}, nil
	}
	to := b.now().UTC()
	rep, err := digest.Build(ctx, b.opts.Digest, to.Add(-digest.Period), to, digest.Tracking(b.opts.Digest)...)
	if err != nil {
		return Reply{}, err
	}
	text, blocks := b.render.Digest(rep)
	return Reply{Text: text, Blocks: blocks}, nil
}

// Digest is the incident review digest as Block Kit, with a plain-text
// fallback that sums it up for notifications.
func (r *Renderer) Digest(rep *digest.Report) (string, []slack.Block) {
	span := fmt.Sprintf("%s – %s", rep.From.UTC().Format("Mon 2 Jan"), rep.To.UTC().Format("Mon 2 Jan 2006"))
	tta, ttr := rep.TimeToAcknowledge.Current, rep.TimeToResolve.Current
	text := fmt.Sprintf("Incident review %s: %d opened, %d resolved, %d open", span,
		rep.Opened.Current, rep.Resolved.Current, rep.OpenAtEnd)
	if ttr.Count > 0 {
		text += fmt.Sprintf("; time to resolve median %s", ttr.Median)
	}

	stat := func(s digest.DurationStats) string {
		if s.Count == 0 {
			return "–"
		}
		return fmt.Sprintf("median %s · p90 %s (%d)", s.Median, s.P90, s.Count)
	}
	fields := []*slack.TextBlockObject{
		field("Opened", rep.Opened.String()),
		field("Resolved", rep.Resolved.String()),
		field("Open at the end", fmt.Sprint(rep.OpenAtEnd)),
		field("Time to acknowledge", stat(tta)),
		field("Time to resolve", stat(ttr)),
	}
	if l := rep.Longest; l != nil {
		state := ""
		if l.Open {
			state = ", still open"
		}
		fields = append(fields, field("Longest", fmt.Sprintf("%s %s%s", l.ID, l.Duration, state)))
	}
	blocks := []slack.Block{
		header("Incident review: " + span),
		slack.NewSectionBlock(nil, fields, nil),
	}

	var sev []string
	for _, s := range rep.BySeverity {
		sev = append(sev, fmt.Sprintf("%s %s opened %s · resolved %s", sevEmoji(s.Severity), sevLabel(s.Severity), s.Opened, s.Resolved))
	}
	blocks = append(blocks, section("*By severity*\n"+strings.Join(sev, "\n")))
	var svc []string
	for i, s := range rep.ByService {
		if i == maxDigestLines {
			svc = append(svc, fmt.Sprintf("…and %d more", len(rep.ByService)-i))
			break
		}
		name := Escape(s.Service)
		if name == "" {
			name = "_no service_"
		}
		svc = append(svc, fmt.Sprintf("%s: opened %s · resolved %s", name, s.Opened, s.Resolved))
	}
	if len(svc) > 0 {
		blocks = append(blocks, section(cutMrkdwn("*By service*\n"+strings.Join(svc, "\n"), maxSectionText)))
	}

	var rep1 []string
	for _, s := range rep.RepeatServices {
		rep1 = append(rep1, fmt.Sprintf("%s: %d incidents (%s)", Escape(s.Service), len(s.Incidents), idsText(s.Incidents)))
	}
	for _, a := range rep.RepeatAlerts {
		rep1 = append(rep1, fmt.Sprintf("alert %s: %d incidents, fired %d times", Escape(a.Name), a.Incidents, a.Fired))
	}
	if len(rep1) > 0 {
		blocks = append(blocks, section(cutMrkdwn("*Repeat offenders*\n"+strings.Join(limit(rep1), "\n"), maxSectionText)))
	}

	var pm []string
	for _, m := range rep.Postmortems.Missing {
		pm = append(pm, "no postmortem yet: "+r.ref(m))
	}
	for _, p := range rep.Postmortems.OpenPullRequests {
		pm = append(pm, fmt.Sprintf("in review: %s — %s", r.ref(p.IncidentRef), slackLink(p.URL, "pull request")))
	}
	if len(pm) > 0 {
		head := "*Postmortems (sev1, sev2)*\n"
		if !rep.Postmortems.Tracked {
			head = "*Postmortems (sev1, sev2)* — not tracked yet, so every sev1 and sev2 is listed\n"
		}
		blocks = append(blocks, section(cutMrkdwn(head+strings.Join(limit(pm), "\n"), maxSectionText)))
	}
	if rep.ActionItems.Tracked {
		var ai []string
		for _, a := range rep.ActionItems.Open {
			line := fmt.Sprintf("%s: %s", a.Incident, Escape(a.Title))
			if !a.Created.IsZero() {
				line += fmt.Sprintf(" (%s old)", digest.Duration(rep.To.Sub(a.Created)))
			}
			ai = append(ai, line)
		}
		if len(ai) == 0 {
			ai = []string{"none open"}
		}
		blocks = append(blocks, section(cutMrkdwn(fmt.Sprintf("*Action items* (%d done)\n", rep.ActionItems.Done)+strings.Join(limit(ai), "\n"), maxSectionText)))
	}

	var hy []string
	for _, g := range rep.NoisiestGroups {
		title := g.Title
		if title == "" {
			title = g.Key
		}
		inc := "no incident"
		if len(g.Incidents) > 0 {
			inc = idsText(g.Incidents)
		}
		hy = append(hy, fmt.Sprintf("%s: fired %d times (%d alerts), %s", Escape(title), g.Fired, g.Alerts, inc))
	}
	for _, n := range rep.FiredWithoutIncident {
		hy = append(hy, fmt.Sprintf("%s fired %d times and never led to an incident", Escape(n.Name), n.Fired))
	}
	if len(hy) > 0 {
		blocks = append(blocks, section(cutMrkdwn("*Alert hygiene*\n"+strings.Join(limit(hy), "\n"), maxSectionText)))
	}
	blocks = append(blocks, contextBlock("`/incident digest` shows it any time; `warroom digest --format markdown` prints it for a document."))
	return text, blocks
}

// ref is an incident reference in a digest line.
func (r *Renderer) ref(i digest.IncidentRef) string {
	s := fmt.Sprintf("%s %s", i.ID, sevLabel(i.Severity))
	if i.Service != "" {
		s += " " + Escape(i.Service)
	}
	return s + ": " + cutMrkdwn(Escape(i.Title), 150)
}

func idsText(ids []incidents.ID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id.String()
	}
	return strings.Join(parts, ", ")
}

// limit keeps the first maxDigestLines lines, saying how many it left out.
func limit(lines []string) []string {
	if len(lines) <= maxDigestLines {
		return lines
	}
	return append(lines[:maxDigestLines:maxDigestLines], fmt.Sprintf("…and %d more", len(lines)-maxDigestLines))
}
