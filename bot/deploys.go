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

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// Deploys is what the bot asks of the deploys service; *deploys.Service
// has it. Everything that reads a provider (Recent, RequestRollback) runs in
// a job; the rest only touches the database and runs in the request.
type Deploys interface {
	Recent(ctx context.Context, service string, limit int) (deploys.Recent, error)
	HasDeploys(service string) bool
	RollbackMechanism(service string) (deploys.Mechanism, bool)
	RequestRollback(ctx context.Context, in deploys.RollbackInput) (*deploys.Rollback, error)
	ConfirmRollback(ctx context.Context, id int64, actor incidents.Actor) (*deploys.Rollback, error)
	CancelRollback(ctx context.Context, id int64, actor incidents.Actor) (*deploys.Rollback, error)
	Freeze(ctx context.Context, service string, actor incidents.Actor, reason string) (deploys.FreezeStatus, error)
	Unfreeze(ctx context.Context, service string, actor incidents.Actor) (deploys.FreezeStatus, error)
}

// The Slack jobs of deploys and rollbacks.
const (
	// JobDeploys posts a service's recent deploys: in the incident channel
	// when it is declared, or for /incident deploys (to the channel, or to
	// one person outside incident channels).
	JobDeploys = "slack.deploys"
	// JobProposeRollback proposes a rollback (it reads the service's
	// deploys); the proposal's event posts the confirmation. A proposal
	// that cannot be made is told to the person who asked.
	JobProposeRollback = "slack.rollback_propose"
)

// The actions of the deploy messages.
const (
	// ActionRollbackTo is a deploy's "Roll back to this" button. Its value
	// is "<incident>|<service>|<ref>", e.g. "INC-7|checkout|v1.4.1".
	ActionRollbackTo = "deploys_rollback_to"
	// ActionRollbackConfirm and ActionRollbackCancel are the buttons of a
	// rollback's confirmation. Their value is the rollback's ID.
	ActionRollbackConfirm = "rollback_confirm"
	ActionRollbackCancel  = "rollback_cancel"
)

// shownDeploys is how many deploys a message lists.
const shownDeploys = 5

// DeploysJob is JobDeploys's payload. With User set, the list is shown to
// that user only.
type DeploysJob struct {
	Incident incidents.ID `json:"incident,omitempty"`
	Service  string       `json:"service"`
	Channel  string       `json:"channel"`
	User     string       `json:"user,omitempty"`
	// OnDeclare is set for the list posted when the incident's channel is
	// set up: when no deploys are known it posts nothing.
	OnDeclare bool `json:"on_declare,omitempty"`
}

// ProposeRollbackJob is JobProposeRollback's payload.
type ProposeRollbackJob struct {
	Incident incidents.ID `json:"incident"`
	Service  string       `json:"service"`
	ToRef    string       `json:"to_ref,omitempty"`
	User     string       `json:"user"`
	Channel  string       `json:"channel"`
}

// registerDeployJobs registers the handlers of the deploy jobs.
func (b *Bot) registerDeployJobs(q interface {
	Handle(kind string, h jobs.Handler)
}) {
	q.Handle(JobDeploys, jobs.HandlerFunc(b.runDeploysJob))
	q.Handle(JobProposeRollback, jobs.HandlerFunc(b.runProposeRollback))
	q.Handle(JobRollbackDecided, jobs.HandlerFunc(b.runRollbackDecided))
	q.Handle(JobLookUpPerson, jobs.HandlerFunc(b.runLookUpPerson))
}

// addDeployCommands adds /incident deploys, rollback, freeze and unfreeze.
func (b *Bot) addDeployCommands() {
	for _, c := range []Command{
		{Name: "deploys", Args: "[service]", Help: "Show a service's recent deploys", Run: b.runDeploys},
		{Name: "rollback", Args: "<service> [to <ref>]", Help: "Propose rolling a service back (the lead or an approver confirms)",
			InIncident: true, Run: b.runRollback},
		{Name: "freeze", Args: "[service] [reason]", Help: "Freeze a service's deploys by hand", Run: b.runFreeze},
		{Name: "unfreeze", Args: "[service]", Help: "Lift a manual deploy freeze", Run: b.runUnfreeze},
	} {
		b.cmds.Add(c)
	}
}

// commandService picks the service a command is about: its first word
// when that names a configured service, else the incident's. It returns
// the remaining text.
func (b *Bot) commandService(r *Request) (service, rest string, err error) {
	first, rest, _ := strings.Cut(r.Args, " ")
	if name, ok := b.serviceNamed(first); ok && first != "" {
		return name, strings.TrimSpace(rest), nil
	}
	if r.Incident != nil && r.Incident.Service != "" {
		return r.Incident.Service, r.Args, nil
	}
	if first == "" {
		return "", "", &UsageError{Msg: "Say which service" + b.serviceHint() + "."}
	}
	return "", "", &UsageError{Msg: fmt.Sprintf("%q is not a configured service%s.", first, b.serviceHint())}
}

func (b *Bot) serviceHint() string {
	names := b.serviceNames()
	if len(names) == 0 {
		return ""
	}
	return ": " + strings.Join(names, ", ")
}

// clickKey is unique per invocation, so a retried request enqueues once.
func clickKey(trigger string, now time.Time) string {
	if trigger != "" {
		return trigger
	}
	return strconv.FormatInt(now.UnixNano(), 10)
}

func (b *Bot) runDeploys(ctx context.Context, r *Request) (Reply, error) {
	service, _, err := b.commandService(r)
	if err != nil {
		return Reply{}, err
	}
	if !b.opts.Deploys.HasDeploys(service) {
		return Reply{Text: warning(fmt.Sprintf("No deploy source is configured for %s (services.%s.deploys in warroom.yaml).", service, service))}, nil
	}
	job := DeploysJob{Service: service, Channel: r.ChannelID}
	if r.Incident != nil {
		job.Incident = r.Incident.ID
	} else {
		job.User = r.UserID // outside incident channels, only to the asker
	}
	if err := b.enqueueNow(ctx, JobDeploys, "command:"+clickKey(r.TriggerID, b.now()), "channel:"+r.ChannelID, job); err != nil {
		return Reply{}, err
	}
	return Reply{Text: "Reading the recent deploys of " + Escape(service) + "…"}, nil
}

func (b *Bot) runRollback(ctx context.Context, r *Request) (Reply, error) {
	f := r.Fields()
	if len(f) == 0 {
		return Reply{}, &UsageError{Msg: "Say which service to roll back."}
	}
	service, ok := b.serviceNamed(f[0])
	if !ok {
		return Reply{}, &UsageError{Msg: fmt.Sprintf("%q is not a configured service%s.", f[0], b.serviceHint())}
	}
	var to string
	switch {
	case len(f) == 1:
	case len(f) == 3 && strings.EqualFold(f[1], "to"):
		to = f[2]
	default:
		return Reply{}, &UsageError{}
	}
	if _, ok := b.opts.Deploys.RollbackMechanism(service); !ok {
		return Reply{Text: warning(fmt.Sprintf("No rollback is configured for %s (services.%s.rollback in warroom.yaml).", service, service))}, nil
	}
	job := ProposeRollbackJob{Incident: r.Incident.ID, Service: service, ToRef: to, User: r.UserID, Channel: r.ChannelID}
	if err := b.enqueueNow(ctx, JobProposeRollback, "command:"+clickKey(r.TriggerID, b.now()), "", job); err != nil {
		return Reply{}, err
	}
	return Reply{Text: "Preparing the rollback of " + Escape(service) + "; the confirmation will appear in this channel."}, nil
}

func (b *Bot) runFreeze(ctx context.Context, r *Request) (Reply, error) {
	service, reason, err := b.commandService(r)
	if err != nil {
		return Reply{}, err
	}
	st, err := b.opts.Deploys.Freeze(ctx, service, r.Actor, slackText(reason))
	var refused *deploys.FreezeRefusedError
	if errors.As(err, &refused) {
		return Reply{Text: b.render.freezeRefusal(refused)}, nil
	}
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: b.render.freezeStatus(st)}, nil
}

func (b *Bot) runUnfreeze(ctx context.Context, r *Request) (Reply, error) {
	service, _, err := b.commandService(r)
	if err != nil {
		return Reply{}, err
	}
	st, err := b.opts.Deploys.Unfreeze(ctx, service, r.Actor)
	var refused *deploys.FreezeRefusedError
	if errors.As(err, &refused) {
		return Reply{Text: b.render.freezeRefusal(refused)}, nil
	}
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: b.render.freezeStatus(st)}, nil
}

// freezeRefusal says who may lift or replace a manual freeze, with people
// mentioned (the reply is shown to the asker only).
func (r *Renderer) freezeRefusal(e *deploys.FreezeRefusedError) string {
	people := func(ps []string) string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = r.Person(p)
		}
		return strings.Join(out, ", ")
	}
	svc := Escape(e.Service)
	who := []string{"who froze it (" + r.Actor(e.FrozenBy) + ")"}
	if len(e.Leads) > 0 {
		who = append(who, "the lead of an open incident of "+svc+" ("+people(e.Leads)+")")
	}
	if len(e.Approvers) > 0 {
		who = append(who, svc+"'s rollback approvers ("+people(e.Approvers)+")")
	}
	return ":warning: Only " + strings.Join(who, ", ") + " may lift or replace the manual freeze of *" + svc + "*."
}

// freezeStatus says whether a service is frozen, and why.
func (r *Renderer) freezeStatus(st deploys.FreezeStatus) string {
	svc := "*" + Escape(st.Service) + "*"
	if !st.Frozen {
		return ":white_check_mark: Deploys of " + svc + " are not frozen."
	}
	var why []string
	if m := st.Manual; m != nil {
		s := "by hand by " + r.Actor(m.By)
		if m.Reason != "" {
			s += " (" + Escape(m.Reason) + ")"
		}
		why = append(why, s)
	}
	for _, inc := range st.Incidents {
		why = append(why, fmt.Sprintf("while %s (%s) is open: %s", inc.ID, sevLabel(inc.Severity), Escape(inc.Title)))
	}
	return ":ice_cube: Deploys of " + svc + " are frozen " + strings.Join(why, "; ") + "."
}

// deploysChanged is the part of the incident listener that posts deploys
// and rollbacks: the recent deploys when the channel is set up, and each
// deploy and rollback event in the channel. It runs only with Deploys set
// and for incidents with a channel.
func (b *Bot) deploysChanged(ctx context.Context, tx incidents.Tx, c incidents.Change) error {
	if b.opts.Deploys == nil {
		return nil
	}
	inc := c.After
	id := inc.ID.String()
	if c.Has(incidents.EventChannel) && inc.Service != "" && b.opts.Deploys.HasDeploys(inc.Service) {
		job := DeploysJob{Incident: inc.ID, Service: inc.Service, Channel: inc.ChannelID, OnDeclare: true}
		if err := enqueue(ctx, tx, JobDeploys, id+":declared", "channel:"+inc.ChannelID, job); err != nil {
			return err
		}
	}
	for _, ev := range c.Events {
		post, ok, err := b.deployEventPost(inc, ev)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("%s:event:%d", id, ev.ID)
		if rb, isRollback := dataInt(ev, "rollback_id"); isRollback && ev.Kind == deploys.EventRollbackProposed {
			key = proposalKey(inc.ID, rb) // found by this key to edit it when decided
		}
		if ok {
			if err := enqueue(ctx, tx, JobPost, key, "channel:"+inc.ChannelID, post); err != nil {
				return err
			}
		}
		if err := b.rollbackDecided(ctx, tx, inc, ev); err != nil {
			return err
		}
	}
	return nil
}

// deployEventPost is the channel message of a deploy or rollback event,
// and false for events it does not post (a refusal is shown only to who
// was refused).
func (b *Bot) deployEventPost(inc *incidents.Incident, ev incidents.Event) (PostJob, bool, error) {
	post := PostJob{Incident: inc.ID, Channel: inc.ChannelID}
	text := Escape(ev.Text)
	if u := dataString(ev, "url"); u != "" && ev.Kind != deploys.EventDeploy {
		text += " " + slackLink(u, "(details)")
	}
	switch ev.Kind {
	case deploys.EventDeploy:
		post.Text = ":package: " + text
		if u := dataString(ev, "url"); u != "" {
			post.Text += " " + slackLink(u, "(details)")
		}
	case deploys.EventRollbackProposed:
		id, ok := dataInt(ev, "rollback_id")
		if !ok {
			return post, false, nil
		}
		post.Text = ":rewind: " + b.render.Actor(ev.Actor) + " proposes rolling back " + b.render.rollbackWhat(ev) +
			". The incident's lead or a rollback approver confirms."
		blocks, err := json.Marshal([]slack.Block{
			section(post.Text),
			slack.NewActionBlock("rollback:"+strconv.FormatInt(id, 10),
				confirmButton(slack.NewButtonBlockElement(ActionRollbackConfirm, strconv.FormatInt(id, 10), plain("Confirm rollback")).WithStyle(slack.StyleDanger), ev),
				slack.NewButtonBlockElement(ActionRollbackCancel, strconv.FormatInt(id, 10), plain("Cancel")),
			),
		})
		if err != nil {
			return post, false, err
		}
		post.Blocks = blocks
	case deploys.EventRollbackConfirmed:
		post.Text = ":rewind: " + b.render.Actor(ev.Actor) + " confirmed rolling back " + b.render.rollbackWhat(ev) + "."
	case deploys.EventRollbackStarted, deploys.EventRollbackProgress:
		post.Text = ":hourglass_flowing_sand: " + text
	case deploys.EventRollbackSucceeded:
		post.Text = ":white_check_mark: " + text
	case deploys.EventRollbackFailed:
		post.Text = ":x: " + text
	case deploys.EventRollbackUnknown:
		post.Text = ":grey_question: " + text
	case deploys.EventRollbackCanceled:
		post.Text = ":no_entry_sign: " + b.render.Actor(ev.Actor) + ": " + text
	case deploys.EventFreeze, deploys.EventUnfreeze:
		post.Text = ":ice_cube: " + b.render.Actor(ev.Actor) + ": " + text
	default:
		return post, false, nil
	}
	return post, true, nil
}

// confirmButton asks Slack to confirm a click on the rollback button.
func confirmButton(btn *slack.ButtonBlockElement, ev incidents.Event) *slack.ButtonBlockElement {
	return btn.WithConfirm(slack.NewConfirmationBlockObject(plain("Roll back?"),
		plain(cutMrkdwn("Roll back "+Escape(dataString(ev, "service"))+" to "+Escape(refLabel(dataString(ev, "to_ref"), dataString(ev, "to_sha")))+"?", 300)),
		plain("Roll back"), plain("Not now")))
}

// rollbackWhat is "*checkout* from `v3` (`3333333`) to `v2` (`2222222`)
// through github_workflow", from a rollback event's data.
func (r *Renderer) rollbackWhat(ev incidents.Event) string {
	from := refLabel(dataString(ev, "from_ref"), dataString(ev, "from_sha"))
	if from == "" {
		from = "what is live now"
	}
	return fmt.Sprintf("*%s* from %s to %s through %s", Escape(dataString(ev, "service")), code(from),
		code(refLabel(dataString(ev, "to_ref"), dataString(ev, "to_sha"))), Escape(dataString(ev, "mechanism")))
}

func refLabel(ref, sha string) string {
	if ref == "" && sha == "" {
		return ""
	}
	return deploys.DeployLabel(deploys.Deploy{Ref: ref, SHA: sha})
}

// code shows outside text in code style, escaped; backticks would end it.
func code(s string) string {
	if s == "" {
		return "`?`"
	}
	return "`" + Escape(strings.ReplaceAll(s, "`", "'")) + "`"
}

// runDeploysJob posts a service's recent deploys.
func (b *Bot) runDeploysJob(ctx context.Context, j jobs.Job) error {
	p, err := decode[DeploysJob](j)
	if err != nil {
		return err
	}
	if b.opts.Deploys == nil {
		return nil
	}
	var inc *incidents.Incident
	if p.Incident != 0 {
		if inc, err = b.opts.Incidents.Get(ctx, p.Incident); err != nil {
			return notFoundIsPermanent(err)
		}
	}
	rec, err := b.opts.Deploys.Recent(ctx, p.Service, shownDeploys)
	if err != nil {
		if incidents.IsUserError(err) {
			return b.postOrTell(ctx, j.Key, p.Incident, p.Channel, p.User, warning(err.Error()), nil)
		}
		return err
	}
	for _, e := range rec.Errors {
		// A source that said when to ask again (a rate limit's Retry-After)
		// is waited for, rather than posting the deploys without it.
		if d, ok := jobs.DeferOf(e.Err); ok {
			return jobs.Defer(d, e.Err)
		}
	}
	if p.OnDeclare && len(rec.Deploys) == 0 && len(rec.Errors) == 0 {
		// On declare, an empty list would only be noise in the channel;
		// /incident deploys still says that none are known.
		return nil
	}
	_, canRollBack := b.opts.Deploys.RollbackMechanism(p.Service)
	text, blocks := b.render.RecentDeploys(inc, rec, canRollBack && inc != nil)
	return b.postOrTell(ctx, j.Key, p.Incident, p.Channel, p.User, text, blocks)
}

// postOrTell posts a message once (by key) in a channel, or shows it to
// user there when user is set.
func (b *Bot) postOrTell(ctx context.Context, key string, inc incidents.ID, channel, user, text string, blocks []slack.Block) error {
	if user == "" {
		_, err := b.postOnce(ctx, message{key: key, incident: inc, channel: channel, text: text, blocks: blocks})
		return err
	}
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	err := b.call(ctx, "chat.postEphemeral", "", func(ctx context.Context) error {
		_, err := b.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
	if isSlackError(err, "user_not_in_channel", "channel_not_found") {
		b.log.Info("ephemeral message not shown", "channel", channel, "user", user, "error", err)
		return nil
	}
	return err
}

// runProposeRollback proposes the rollback; the proposal's event posts the
// confirmation. A proposal the domain refuses is told to who asked.
func (b *Bot) runProposeRollback(ctx context.Context, j jobs.Job) error {
	p, err := decode[ProposeRollbackJob](j)
	if err != nil {
		return err
	}
	if b.opts.Deploys == nil {
		return nil
	}
	_, err = b.opts.Deploys.RequestRollback(ctx, deploys.RollbackInput{Incident: p.Incident, Service: p.Service,
		ToRef: p.ToRef, Actor: incidents.SlackActor(p.User), Key: j.Key})
	var open *deploys.ProposedError
	if errors.As(err, &open) {
		r := open.Rollback
		from := refLabel(r.From.Ref, r.From.SHA)
		if from == "" {
			from = "what is live now"
		}
		text := fmt.Sprintf(":warning: A rollback of *%s* from %s to %s was already proposed by %s and waits for a confirmation; confirm or cancel it before proposing another.",
			Escape(r.Service), code(from), code(refLabel(r.To.Ref, r.To.SHA)), b.render.Actor(r.ProposedBy))
		return b.postOrTell(ctx, j.Key, p.Incident, p.Channel, p.User, text, nil)
	}
	if err != nil && deploys.IsUserError(err) {
		return b.postOrTell(ctx, j.Key, p.Incident, p.Channel, p.User, warning(err.Error()), nil)
	}
	return err
}

// RecentDeploys renders a service's recent deploys, with how long before
// the incident's first alert each finished and, where a rollback can go
// back to it, a "Roll back to this" button.
func (r *Renderer) RecentDeploys(inc *incidents.Incident, rec deploys.Recent, rollback bool) (string, []slack.Block) {
	head := "Recent deploys of *" + Escape(rec.Service) + "*"
	blocks := []slack.Block{section(":package: " + head)}
	lines := []string{head}
	if len(rec.Deploys) == 0 {
		none := "No deploys are known."
		lines = append(lines, none)
		blocks = append(blocks, section(none))
	}
	for _, d := range rec.Deploys {
		line := r.deployLine(inc, rec, d)
		lines = append(lines, line)
		s := section(line)
		if rollback && d.Live() && !rec.RolledBack(d) && (rec.Live == nil || !deploys.SameVersion(d, *rec.Live)) {
			to := d.Ref
			if to == "" || len(to) > 1000 {
				to = d.SHA
			}
			if to != "" {
				s.Accessory = slack.NewAccessory(slack.NewButtonBlockElement(ActionRollbackTo,
					inc.ID.String()+"|"+rec.Service+"|"+to, plain("Roll back to this")))
			}
		}
		blocks = append(blocks, s)
	}
	for _, e := range rec.Errors {
		msg := ":warning: Could not read the deploys from " + Escape(string(e.Source)) + ": " + cutMrkdwn(Escape(e.Err.Error()), 500)
		lines = append(lines, msg)
		blocks = append(blocks, contextBlock(msg))
	}
	return fallback(lines[0], lines[1:]), blocks
}

func sameDeploy(a, b deploys.Deploy) bool {
	return a.Source == b.Source && a.ExternalID == b.ExternalID
}

// deployLine is one deploy: version, status, when it finished (and how
// long before the first alert), who, and a link.
func (r *Renderer) deployLine(inc *incidents.Incident, rec deploys.Recent, d deploys.Deploy) string {
	var b strings.Builder
	b.WriteString(code(refOr(d.Ref, "no ref")))
	if s := deploys.ShortSHA(d.SHA); s != "" && s != d.Ref {
		b.WriteString(" " + code(s))
	}
	b.WriteString(" " + deployStatus(d.Status))
	switch {
	case rec.Live != nil && sameDeploy(d, *rec.Live):
		b.WriteString(" · *live*")
	case rec.LastGood != nil && sameDeploy(d, *rec.LastGood):
		b.WriteString(" · last good")
	}
	at, verb := d.FinishedAt, "finished"
	if at.IsZero() {
		at, verb = d.StartedAt, "started"
	}
	if !at.IsZero() {
		b.WriteString(" · " + verb + " " + slackDate(at))
		if inc != nil && !inc.DetectedAt.IsZero() {
			if gap := inc.DetectedAt.Sub(at); gap >= 0 {
				b.WriteString(" (" + incidents.FormatDuration(gap) + " before the first alert)")
			} else {
				b.WriteString(" (" + incidents.FormatDuration(-gap) + " after the first alert)")
			}
		}
	}
	if d.Creator != "" {
		b.WriteString(" · by " + Escape(d.Creator))
	}
	if d.Rollback {
		b.WriteString(" · rollback")
	}
	if rec.RolledBack(d) {
		b.WriteString(" · rolled back")
	}
	if d.URL != "" {
		b.WriteString(" · " + slackLink(d.URL, "details"))
	}
	return b.String()
}

func refOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func deployStatus(s deploys.Status) string {
	switch s {
	case deploys.StatusSuccess:
		return ":large_green_circle: success"
	case deploys.StatusFailed:
		return ":red_circle: failed"
	case deploys.StatusRunning, deploys.StatusPending:
		return ":hourglass_flowing_sand: " + string(s)
	case deploys.StatusInactive:
		return ":white_circle: replaced"
	}
	return Escape(string(s))
}

// deployAction runs the buttons of deploy messages, and reports whether
// the action was one of them. Refusals and clicks on a rollback that moved
// on are shown to the clicker only.
func (b *Bot) deployAction(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, actor incidents.Actor) (bool, error) {
	switch act.ActionID {
	case ActionRollbackTo, ActionRollbackConfirm, ActionRollbackCancel:
	default:
		return false, nil
	}
	if b.opts.Deploys == nil {
		return true, b.tellClicker(ctx, cb, act, "Rollbacks are not available in this Warroom.")
	}
	var err error
	switch act.ActionID {
	case ActionRollbackTo:
		id, service, ref, perr := parseRollbackTo(act.Value)
		if perr != nil {
			b.log.WarnContext(ctx, "malformed rollback button", "value", act.Value, "err", perr)
			return true, nil
		}
		click := clickKey(cb.TriggerID, b.now())
		channel := cb.Channel.ID
		if channel == "" {
			channel = cb.Container.ChannelID
		}
		err = b.enqueueNow(ctx, JobProposeRollback, "click:"+click, "",
			ProposeRollbackJob{Incident: id, Service: service, ToRef: ref, User: cb.User.ID, Channel: channel})
		return true, err
	case ActionRollbackConfirm, ActionRollbackCancel:
		id, perr := strconv.ParseInt(act.Value, 10, 64)
		if perr != nil {
			b.log.WarnContext(ctx, "malformed rollback decision", "action_id", act.ActionID, "value", act.Value)
			return true, nil
		}
		// A refused decision is recorded on the timeline, so the same
		// click sent twice (a replay: the trigger ID is Slack's, one per
		// click) is decided once; a second click is decided again.
		first, forget, ferr := b.firstClick(ctx, cb, act)
		if ferr != nil || !first {
			return true, ferr
		}
		if act.ActionID == ActionRollbackConfirm {
			_, err = b.opts.Deploys.ConfirmRollback(ctx, id, actor)
		} else {
			_, err = b.opts.Deploys.CancelRollback(ctx, id, actor)
		}
		if err != nil && !deploys.IsUserError(err) {
			err = errors.Join(err, forget()) // not decided: a retry decides it
		}
	}
	if err == nil {
		return true, nil
	}
	var refused *deploys.RefusedError
	if errors.As(err, &refused) {
		return true, b.tellClickerText(ctx, cb, act, b.render.refusal(refused))
	}
	if deploys.IsUserError(err) {
		return true, b.tellClicker(ctx, cb, act, err.Error())
	}
	return true, fmt.Errorf("slack action %s by %s: %w", act.ActionID, cb.User.ID, err)
}

// firstClick remembers a click by its trigger ID and action, and reports
// whether it is the first time; forget undoes that. A click without a
// trigger ID is always first.
func (b *Bot) firstClick(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) (first bool, forget func() error, err error) {
	if cb.TriggerID == "" {
		return true, func() error { return nil }, nil
	}
	key := "click:" + cb.TriggerID + ":" + act.ActionID
	first, err = b.opts.Store.RememberEvent(ctx, key, b.now())
	return first, func() error { return b.opts.Store.ForgetEvent(context.WithoutCancel(ctx), key) }, err
}

// parseRollbackTo parses a "Roll back to this" button's value,
// "<incident>|<service>|<ref>"; the ref may hold "|".
func parseRollbackTo(v string) (incidents.ID, string, string, error) {
	parts := strings.SplitN(v, "|", 3)
	if len(parts) != 3 || parts[1] == "" || strings.TrimSpace(parts[2]) == "" {
		return 0, "", "", fmt.Errorf("%q is not <incident>|<service>|<ref>", v)
	}
	id, err := incidents.ParseID(parts[0])
	if err != nil {
		return 0, "", "", err
	}
	return id, parts[1], strings.TrimSpace(parts[2]), nil
}

// refusal says who may confirm, as mrkdwn with people mentioned (an
// ephemeral message: nobody is notified).
func (r *Renderer) refusal(e *deploys.RefusedError) string {
	approvers := make([]string, len(e.Approvers))
	for i, a := range e.Approvers {
		approvers[i] = r.Person(a)
	}
	svc := Escape(e.Service)
	var msg string
	if e.LeadChanged {
		msg = "You may not confirm this rollback: only " + svc + "'s rollback approvers (" + strings.Join(approvers, ", ") +
			") may, because the incident's lead changed after it was proposed."
	} else {
		lead := "nobody leads it yet"
		if e.Lead != "" {
			lead = r.Person(e.Lead)
		}
		msg = "You may not confirm this rollback: only the incident's lead (" + lead + ")"
		if len(approvers) > 0 {
			msg += " or " + svc + "'s rollback approvers (" + strings.Join(approvers, ", ") + ")"
		}
		msg += " may."
	}
	return ":warning: " + msg + " Your attempt was recorded in the timeline."
}
