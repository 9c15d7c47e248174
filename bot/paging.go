package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/paging"
)

// The Slack side of paging: /incident page and /incident ack, the
// Acknowledge button, and the job that notifies one person or channel of a
// page step (paging.JobNotifySlack).

// ActionAcknowledgePage is the Acknowledge button of a page, in the direct
// message and in the channel. Its value is "INC-7|<page ID>".
const ActionAcknowledgePage = "page_ack"

// Pager is what the Slack adapter needs from paging (*paging.Service).
type Pager interface {
	// ResolveTarget reads a configured person, schedule or service name.
	ResolveTarget(word string) (paging.Target, error)
	Page(ctx context.Context, id incidents.ID, target paging.Target, actor incidents.Actor) (*paging.Page, error)
	Acknowledge(ctx context.Context, id incidents.ID, page int64, actor incidents.Actor) (paging.AckResult, error)
	Get(ctx context.Context, page int64) (*paging.Page, error)
	// NoticeFailed records that a notice cannot be delivered, warns the
	// channel and escalates when the step reached nobody.
	NoticeFailed(ctx context.Context, key string, n paging.SlackNotice, reason string) error
}

// channelWait is how long a page notice waits for the incident's channel
// to be created, so that the direct message can link to it; after that it
// is sent without the link rather than not at all.
const channelWait = 30 * time.Second

// EnablePaging adds /incident page and /incident ack and makes the
// Acknowledge button work. Call it during wiring, once.
func (b *Bot) EnablePaging(p Pager) {
	b.pager = p
	b.cmds.Add(Command{Name: "page", Args: "<@user|person|schedule|service>", InIncident: true,
		Help: "Page someone, whoever is on call for a schedule, or a service's escalation policy", Run: b.runPage})
	b.cmds.Add(Command{Name: "ack", Aliases: []string{"acknowledge"}, InIncident: true,
		Help: "Acknowledge the incident's pages: escalation stops", Run: b.runAck})
}

// RegisterPagingJobs registers the handlers of paging.JobNotifySlack,
// paging.JobSlackWarning, paging.JobSlackPageState and JobPageButton.
func (b *Bot) RegisterPagingJobs(q interface {
	Handle(kind string, h jobs.Handler)
}) {
	q.Handle(paging.JobNotifySlack, jobs.HandlerFunc(b.runPageNotice))
	q.Handle(paging.JobSlackWarning, jobs.HandlerFunc(b.runPageWarning))
	q.Handle(paging.JobSlackPageState, jobs.HandlerFunc(b.runPageState))
	q.Handle(JobPageButton, jobs.HandlerFunc(b.runPageButton))
}

// runPageWarning posts a page's warning (a step reached nobody, a notice
// could not be delivered) in the incident's channel, once.
func (b *Bot) runPageWarning(ctx context.Context, j jobs.Job) error {
	w, err := decode[paging.Warning](j)
	if err != nil {
		return err
	}
	inc, err := b.opts.Incidents.Get(ctx, w.Incident)
	if err != nil {
		return notFoundIsPermanent(err)
	}
	if inc.ChannelID == "" {
		if b.now().Sub(j.CreatedAt) < channelWait {
			return jobs.Defer(2*time.Second, nil)
		}
		b.log.WarnContext(ctx, "a page warning has no channel to go to", "incident", inc.ID.String(), "key", j.Key)
		return nil // the timeline has it
	}
	text := ":warning: " + cutMrkdwn(Escape(w.Text), maxPostText)
	_, err = b.postOnce(ctx, message{key: j.Key, incident: inc.ID, channel: inc.ChannelID, text: text,
		blocks: []slack.Block{section(text)}})
	return err
}

func (b *Bot) runPage(ctx context.Context, r *Request) (Reply, error) {
	words := argWords(r.Args)
	if len(words) != 1 {
		return Reply{}, &UsageError{Msg: "Say whom to page: a person, a schedule or a service."}
	}
	target, err := b.pageTarget(words[0])
	if err != nil {
		return Reply{}, err
	}
	p, err := b.pager.Page(ctx, r.Incident.ID, target, r.Actor)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf(":pager: Paging %s for %s (page %d).", b.targetText(target), r.Incident.ID, p.ID)}, nil
}

// pageTarget reads /incident page's argument: a mention or user ID (the
// configured person with that Slack ID, if any), or what paging resolves.
func (b *Bot) pageTarget(word string) (paging.Target, error) {
	id := ""
	if m := argMention.FindStringSubmatch(word); m != nil {
		id = m[1]
	} else if argUserID.MatchString(word) {
		id = word
	}
	if id == "" {
		return b.pager.ResolveTarget(slackText(word))
	}
	for name, p := range b.opts.People {
		if p.Slack == id {
			return paging.Target{Kind: paging.TargetPerson, Name: name}, nil
		}
	}
	return paging.Target{Kind: paging.TargetUser, Name: id}, nil
}

// targetText renders a target for people.
func (b *Bot) targetText(t paging.Target) string {
	switch t.Kind {
	case paging.TargetPerson:
		return b.render.Person(t.Name)
	case paging.TargetUser:
		return "<@" + t.Name + ">"
	case paging.TargetSchedule:
		return "whoever is on call for *" + Escape(t.Name) + "*"
	case paging.TargetService:
		return "*" + Escape(t.Name) + "*'s escalation policy"
	}
	return Escape(t.String())
}

func (b *Bot) runAck(ctx context.Context, r *Request) (Reply, error) {
	if r.Args != "" {
		return Reply{}, &UsageError{Msg: "`/incident ack` takes nothing after it."}
	}
	res, err := b.pager.Acknowledge(ctx, r.Incident.ID, 0, r.Actor)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: b.ackText(r.Incident.ID, res)}, nil
}

// ackText says what an acknowledgement did, to whoever acknowledged.
func (b *Bot) ackText(id incidents.ID, res paging.AckResult) string {
	if len(res.Acked) == 0 && len(res.Already) > 0 {
		p := res.Already[0]
		if p.State == paging.StateResolved {
			return fmt.Sprintf("%s of %s is over: the incident was resolved.", Escape(p.Label()), id)
		}
		return fmt.Sprintf("%s of %s was already acknowledged by %s at %s UTC.", Escape(p.Label()), id,
			b.render.Actor(p.AckedBy), p.AckedAt.UTC().Format("15:04"))
	}
	if len(res.Acked) == 0 {
		return fmt.Sprintf(":white_check_mark: Acknowledged %s. Nothing was paging.", id)
	}
	labels := make([]string, len(res.Acked))
	for i, p := range res.Acked {
		labels[i] = Escape(p.Label())
	}
	return fmt.Sprintf(":white_check_mark: Acknowledged %s of %s: escalation stopped.", strings.Join(labels, ", "), id)
}

// acknowledgeClick runs an Acknowledge button and tells the clicker what
// it did; a second click says who acknowledged first.
func (b *Bot) acknowledgeClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, actor incidents.Actor) error {
	if b.pager == nil {
		return nil
	}
	id, page, err := parsePageValue(act.Value)
	if err != nil {
		b.log.WarnContext(ctx, "malformed acknowledge button", "value", act.Value, "err", err)
		return nil
	}
	res, err := b.pager.Acknowledge(ctx, id, page, actor)
	if err != nil {
		return err
	}
	return b.tellClickerText(ctx, cb, act, b.ackText(id, res))
}

// parsePageValue parses an Acknowledge button's value, "INC-7|12".
func parsePageValue(v string) (incidents.ID, int64, error) {
	idText, pageText, ok := strings.Cut(v, "|")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not <incident>|<page>", v)
	}
	id, err := incidents.ParseID(idText)
	if err != nil {
		return 0, 0, err
	}
	page, err := strconv.ParseInt(pageText, 10, 64)
	if err != nil || page <= 0 {
		return 0, 0, fmt.Errorf("%q is not a page ID", pageText)
	}
	return id, page, nil
}

// tellClickerText shows text (mrkdwn, escaped by the caller) to the person
// who clicked, in the message's channel, once per click.
func (b *Bot) tellClickerText(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, text string) error {
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	click := cb.TriggerID
	if click == "" {
		click = act.ActionTs
	}
	if channel == "" || cb.User.ID == "" || click == "" {
		return nil
	}
	return b.enqueueNow(ctx, JobEphemeral, click+":"+act.ActionID, "", EphemeralJob{Channel: channel, User: cb.User.ID, Text: text})
}

// ackButton is the Acknowledge button of a page.
func ackButton(inc incidents.ID, page int64) slack.Block {
	btn := slack.NewButtonBlockElement(ActionAcknowledgePage, fmt.Sprintf("%s|%d", inc, page), plain("Acknowledge")).
		WithStyle(slack.StylePrimary)
	return slack.NewActionBlock(fmt.Sprintf("page_%d", page), btn)
}

// stepText is "step 2 of 3 of payments" (with the round when the policy
// repeats), or "" for a page by hand.
func stepText(n paging.SlackNotice) string {
	if n.Policy == "" {
		return ""
	}
	s := fmt.Sprintf("step %d of %d of %s", n.Step+1, n.Steps, Escape(n.Policy))
	if n.Rounds > 1 {
		s += fmt.Sprintf(", round %d of %d", n.Round+1, n.Rounds)
	}
	return s
}

// runPageNotice notifies one recipient of a page step: a person gets a
// direct message with the incident, a link to its channel and an
// Acknowledge button, is invited to the channel and mentioned there; a
// channel gets a post with the button. Nothing is sent for a page that was
// acknowledged or resolved in the meantime. Each message is posted once
// (its key is the job's), however often the job runs.
func (b *Bot) runPageNotice(ctx context.Context, j jobs.Job) error {
	n, err := decode[paging.SlackNotice](j)
	if err != nil {
		return err
	}
	err = b.pageNotice(ctx, j, n)
	if jobs.IsPermanent(err) && b.pager != nil && !errors.Is(err, errPageGone) {
		// No retry will deliver it: paging tells the channel, and
		// escalates if nobody of the step can be reached.
		if ferr := b.pager.NoticeFailed(ctx, j.Key, n, noticeReason(err)); ferr != nil {
			return ferr
		}
	}
	return err
}

// errPageGone is a notice's page or incident that does not exist.
var errPageGone = errors.New("the page or its incident does not exist")

// noticeReason is why a notice failed, for people.
func noticeReason(err error) string {
	if code := slackError(err); code != "" {
		return "Slack answered " + code
	}
	return err.Error()
}

// pageNotice sends one notice; see runPageNotice.
func (b *Bot) pageNotice(ctx context.Context, j jobs.Job, n paging.SlackNotice) error {
	if b.pager == nil {
		return jobs.Permanent(errors.New("paging is not enabled in the Slack adapter"))
	}
	p, err := b.pager.Get(ctx, n.Page)
	if errors.Is(err, paging.ErrNotFound) {
		return jobs.Permanent(fmt.Errorf("%w: %w", errPageGone, err))
	}
	if err != nil {
		return err
	}
	if !p.State.Open() {
		b.log.InfoContext(ctx, "page over before its notice was sent", "page", p.ID, "state", p.State, "key", j.Key)
		return nil
	}
	inc, err := b.opts.Incidents.Get(ctx, n.Incident)
	if errors.Is(err, incidents.ErrNotFound) {
		return jobs.Permanent(fmt.Errorf("%w: %w", errPageGone, err))
	}
	if err != nil {
		return err
	}
	if inc.ChannelID == "" && b.now().Sub(j.CreatedAt) < channelWait {
		return jobs.Defer(2*time.Second, nil)
	}
	about := fmt.Sprintf("*%s* (%s", inc.ID, sevLabel(inc.Severity))
	if inc.Service != "" {
		about += ", " + Escape(inc.Service)
	}
	about += "): " + cutMrkdwn(Escape(inc.Title), 500)
	where := stepText(n)
	if n.Channel != "" {
		text := ":pager: Paging this channel for " + about
		if where != "" {
			text += " (" + where + ")"
		}
		if link := channelLink(inc.ChannelID); link != "" {
			text += ". Join " + link
		}
		return b.postWithButton(ctx, j.Key, inc.ID, n.Channel, text, n.Page)
	}

	user, err := b.pageUser(ctx, n)
	if err != nil || user == "" {
		return err
	}
	var dm *slack.Channel
	err = b.call(ctx, "conversations.open", "", func(ctx context.Context) (err error) {
		dm, _, _, err = b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
		return err
	})
	if err != nil {
		return err
	}
	text := ":rotating_light: You are paged for " + about
	if where != "" {
		text += " (" + where + ")"
	}
	if link := channelLink(inc.ChannelID); link != "" {
		text += ".\nJoin " + link + " and acknowledge, so that nobody else is woken up."
	} else {
		text += ".\nAcknowledge, so that nobody else is woken up."
	}
	blocks := []slack.Block{section(text), ackButton(inc.ID, n.Page)}
	posted, err := b.postPageMessage(ctx, message{key: j.Key, incident: inc.ID, channel: dm.ID, text: text, blocks: blocks, page: n.Page})
	if err != nil || !posted || inc.ChannelID == "" {
		return err
	}
	// Invited once per incident and person, like every invitation.
	if err := b.enqueueNow(ctx, JobInvite, inc.ID.String()+":"+user, "", InviteJob{Incident: inc.ID, User: user}); err != nil {
		return err
	}
	mention := ":pager: Paging <@" + user + ">"
	if where != "" {
		mention += " (" + where + ")"
	}
	raw, err := json.Marshal([]slack.Block{section(mention), ackButton(inc.ID, n.Page)})
	if err != nil {
		return err
	}
	return b.enqueueNow(ctx, JobPost, j.Key+":mention", "channel:"+inc.ChannelID,
		PostJob{Incident: inc.ID, Channel: inc.ChannelID, Text: mention, Blocks: raw, Page: n.Page})
}

// postWithButton posts text with a page's Acknowledge button to channel,
// once per key.
func (b *Bot) postWithButton(ctx context.Context, key string, inc incidents.ID, channel, text string, page int64) error {
	_, err := b.postPageMessage(ctx, message{key: key, incident: inc, channel: channel, text: text,
		blocks: []slack.Block{section(text), ackButton(inc, page)}, page: page})
	return err
}

// pageUser is the Slack user of a notice: its user ID, or its configured
// person's (looked up by email when they have only one). A person Slack
// does not know parks the job: no retry will find them.
func (b *Bot) pageUser(ctx context.Context, n paging.SlackNotice) (string, error) {
	if n.User != "" {
		return n.User, nil
	}
	p, ok := b.opts.People[n.Person]
	switch {
	case !ok:
		return "", jobs.Permanent(fmt.Errorf("%s is not in people", n.Person))
	case p.Slack != "":
		return p.Slack, nil
	case p.Email == "":
		return "", jobs.Permanent(fmt.Errorf("%s has neither a Slack ID nor an email in people", n.Person))
	}
	var u *slack.User
	err := b.call(ctx, "users.lookupByEmail", "", func(ctx context.Context) (err error) {
		u, err = b.api.GetUserByEmailContext(ctx, p.Email)
		return err
	})
	if isSlackError(err, "users_not_found") {
		return "", jobs.Permanent(fmt.Errorf("no Slack user has the email of %s", n.Person))
	}
	if err != nil {
		return "", err
	}
	return u.ID, nil
}
