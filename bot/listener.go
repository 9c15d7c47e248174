package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/warroomhq/warroom/incidents"
)

// Listener returns the incident listener that carries changes to Slack. It
// runs inside the transaction of each change and only enqueues jobs, so a
// change is committed together with the Slack work it causes:
//
//   - a declared incident gets a channel;
//   - a new channel gets its topic, its members, the pinned summary and the
//     announcement;
//   - later changes edit the summary (and the topic and announcement when
//     what they show changed), post the change in the channel, and invite a
//     newly assigned lead or comms.
func (b *Bot) Listener() incidents.Listener {
	return incidents.ListenerFunc(b.incidentChanged)
}

func (b *Bot) incidentChanged(ctx context.Context, tx incidents.Tx, c incidents.Change) error {
	inc := c.After
	id := inc.ID.String()
	job := IncidentJob{Incident: inc.ID}
	if c.Before == nil {
		return enqueue(ctx, tx, JobCreateChannel, id, "", job)
	}
	if inc.ChannelID == "" {
		return nil // the timeline has it; the channel shows the state it has when created
	}
	if err := b.deploysChanged(ctx, tx, c); err != nil {
		return err
	}
	if c.Has(incidents.EventChannel) {
		return b.setUpChannel(ctx, tx, inc)
	}

	if c.Before.Version != inc.Version {
		// The messages that show the incident's state are re-rendered by
		// one job per second at most: every change within a second shares
		// the job that runs at the end of that second (its key names the
		// second), and that job shows the state as it is then. A burst of
		// changes costs one edit a second, not one per change.
		at := b.now().Truncate(SummaryInterval).Add(SummaryInterval)
		key := id + ":t" + strconv.FormatInt(at.UnixMilli(), 10)
		if err := enqueueAt(ctx, tx, JobSummary, key, "summary:"+id, job, at); err != nil {
			return err
		}
		if b.render.Topic(c.Before) != b.render.Topic(inc) {
			if err := enqueueAt(ctx, tx, JobTopic, key, "topic:"+id, job, at); err != nil {
				return err
			}
		}
		if b.opts.Slack.AnnounceChannel != "" && announced(c.Before) != announced(inc) {
			if err := enqueueAt(ctx, tx, JobAnnounce, key, "announce:"+id, job, at); err != nil {
				return err
			}
		}
	}
	for _, ev := range c.Events {
		if ev.Kind == incidents.EventAlertsResolved {
			post, ok, err := b.allResolvedPost(inc, ev)
			if err != nil {
				return err
			}
			if ok {
				if err := enqueue(ctx, tx, JobPost, fmt.Sprintf("%s:event:%d", id, ev.ID), "channel:"+inc.ChannelID, post); err != nil {
					return err
				}
			}
			continue
		}
		text, ok := b.render.EventPost(inc, ev)
		if ok {
			post := PostJob{Incident: inc.ID, Channel: inc.ChannelID, Text: text}
			if err := enqueue(ctx, tx, JobPost, fmt.Sprintf("%s:event:%d", id, ev.ID), "channel:"+inc.ChannelID, post); err != nil {
				return err
			}
		}
		if ev.Kind == incidents.EventRoleAssigned {
			if person, _ := ev.Data["person"].(string); person != "" {
				if err := b.invite(ctx, tx, inc, person); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// announced is what the announcement shows, to tell whether it needs an
// edit.
func announced(inc *incidents.Incident) string {
	return strings.Join([]string{inc.Title, string(inc.Severity), string(inc.Status), inc.Service, inc.Lead()}, "\x00")
}

func (b *Bot) setUpChannel(ctx context.Context, tx incidents.Tx, inc *incidents.Incident) error {
	id := inc.ID.String()
	job := IncidentJob{Incident: inc.ID}
	// The summary first: it is what people joining look for.
	if err := enqueue(ctx, tx, JobSummary, id+":setup", "summary:"+id, job); err != nil {
		return err
	}
	if err := enqueue(ctx, tx, JobTopic, id+":setup", "topic:"+id, job); err != nil {
		return err
	}
	people := []string{}
	if user, ok := strings.CutPrefix(string(inc.DeclaredBy), "slack:"); ok {
		people = append(people, user)
	}
	for _, role := range []incidents.Role{incidents.RoleLead, incidents.RoleComms} {
		if p := inc.Roles[role]; p != "" {
			people = append(people, p)
		}
	}
	if svc, ok := b.opts.Services[inc.Service]; ok {
		people = append(people, svc.Responders...)
	}
	for _, p := range people {
		if err := b.invite(ctx, tx, inc, p); err != nil {
			return err
		}
	}
	if b.opts.Slack.AnnounceChannel != "" {
		if err := enqueue(ctx, tx, JobAnnounce, id+":setup", "announce:"+id, job); err != nil {
			return err
		}
	}
	return nil
}

// invite enqueues an invitation of person (a Slack user ID or a configured
// person) to inc's channel, once per incident and person.
func (b *Bot) invite(ctx context.Context, tx incidents.Tx, inc *incidents.Incident, person string) error {
	job := InviteJob{Incident: inc.ID}
	switch p, ok := b.opts.People[person]; {
	case ok && p.Slack != "":
		job.User = p.Slack
	case ok && p.Email != "":
		job.Email = p.Email
	case ok:
		return nil
	case isUserID(person):
		job.User = person
	default:
		b.log.Warn("not inviting someone who is neither a Slack user nor a configured person", "incident", inc.ID, "person", person)
		return nil
	}
	who := job.User
	if who == "" {
		who = job.Email
	}
	return enqueue(ctx, tx, JobInvite, inc.ID.String()+":"+who, "", job)
}

// isUserID reports whether s looks like a Slack user ID (U… or W…).
func isUserID(s string) bool {
	if len(s) < 3 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	for _, r := range s[1:] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
