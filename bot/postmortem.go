package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/postmortem"
)

// PostmortemRequester asks for an incident's postmortem draft;
// postmortem.Publisher implements it. The draft is written and proposed
// by a job, which records the outcome on the timeline; the listener posts
// that event (with the checker's findings) to the incident's channel.
type PostmortemRequester interface {
	Request(ctx context.Context, id incidents.ID, actor incidents.Actor) error
}

func (b *Bot) addPostmortemCommand() {
	b.cmds.Add(Command{Name: "postmortem", Help: "Draft the postmortem and propose it as a pull request",
		InIncident: true, Run: b.runPostmortem})
}

func (b *Bot) runPostmortem(ctx context.Context, r *Request) (Reply, error) {
	if err := b.opts.Postmortems.Request(ctx, r.Incident.ID, r.Actor); err != nil {
		return Reply{}, err
	}
	return Reply{Text: ":memo: Writing the postmortem draft of " + r.Incident.ID.String() +
		". The link to its pull request will be posted here, with anything the blameless-language check finds."}, nil
}

// postmortemPost is the channel message for a postmortem event: the pull
// request and what the checker found, or why it failed.
func (r *Renderer) postmortemPost(inc *incidents.Incident, ev incidents.Event) (string, bool) {
	var b strings.Builder
	switch ev.Kind {
	case postmortem.EventPublished:
		pr := slackLink(dataString(ev, "pr_url"), fmt.Sprintf("pull request #%d", dataNumber(ev, "pr_number")))
		switch {
		case dataString(ev, "pr_state") != "":
			fmt.Fprintf(&b, ":memo: The postmortem of %s is already %s in %s, so Warroom opened no other. Change it in the repository.",
				inc.ID, Escape(dataString(ev, "pr_state")), pr)
			return b.String(), true
		case ev.Data["unchanged"] == true:
			fmt.Fprintf(&b, ":memo: The postmortem draft of %s in %s is up to date.", inc.ID, pr)
		case ev.Data["edited"] == true:
			fmt.Fprintf(&b, ":memo: The postmortem file in %s was edited by people, so Warroom left it as it is. The new draft is a comment on the pull request.", pr)
		case ev.Data["created"] == true:
			fmt.Fprintf(&b, ":memo: The postmortem draft of %s is ready for review: %s", inc.ID, pr)
		default:
			fmt.Fprintf(&b, ":memo: The postmortem draft of %s is updated in %s", inc.ID, pr)
		}
		if n := dataNumber(ev, "issues"); n > 0 {
			fmt.Fprintf(&b, "\nIts action items are filed as %d %s labelled `%s`.", n, plural(n, "issue", "issues"), strings.ToLower(inc.ID.String()))
		}
	case postmortem.EventDrafted:
		fmt.Fprintf(&b, ":memo: The postmortem draft of %s is written. No GitHub repository is set up for postmortems, so get it with `warroom postmortem %d` or `GET /api/incidents/%d/postmortem`.", inc.ID, inc.ID, inc.ID)
		if ex := dataString(ev, "excerpt"); ex != "" {
			b.WriteString("\n```\n" + cutMrkdwn(Escape(strings.ReplaceAll(ex, "```", "'''")), 2500) + "\n```")
		}
	case postmortem.EventFailed:
		fmt.Fprintf(&b, ":warning: The postmortem draft of %s could not be proposed: %s", inc.ID, cutMrkdwn(Escape(dataString(ev, "error")), 1000))
		return b.String(), true
	default:
		return "", false
	}
	b.WriteString(findingsText(ev))
	return b.String(), true
}

// findingsText lists the blameless-language findings an event carries.
func findingsText(ev incidents.Event) string {
	list, _ := ev.Data["findings"].([]any)
	if len(list) == 0 {
		return "\nThe blameless-language check found nothing to reword."
	}
	total := max(len(list), dataNumber(ev, "findings_total"))
	var b strings.Builder
	fmt.Fprintf(&b, "\nThe blameless-language check suggests another wording in %d %s:", total, plural(total, "place", "places"))
	for _, f := range list {
		m, _ := f.(map[string]any)
		fmt.Fprintf(&b, "\n• line %v: “%s” — %s", m["line"], cutMrkdwn(Escape(fmt.Sprint(m["phrase"])), 200),
			cutMrkdwn(Escape(fmt.Sprint(m["suggestion"])), 300))
	}
	if total > len(list) {
		fmt.Fprintf(&b, "\n… and %d more: run `warroom postmortem lint` on the file.", total-len(list))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// dataNumber is dataInt, or 0.
func dataNumber(ev incidents.Event, key string) int {
	n, _ := dataInt(ev, key)
	return int(n)
}
