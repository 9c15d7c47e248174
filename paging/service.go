package paging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// Options configure a Service.
type Options struct {
	// Incidents runs the transactions and records the timeline. Required.
	Incidents *incidents.Service
	// Pages reads pages outside transactions. Required.
	Pages Store
	// Policies are the escalation policies, by name.
	Policies map[string]Policy
	// Services maps a service to the name of its escalation policy.
	Services map[string]string
	// People and Schedules are the configured names that /incident page
	// accepts.
	People, Schedules []string
	// OnCall names who is on call; without it schedule targets notify
	// nobody (and the timeline says so).
	OnCall OnCall
	// PagerDuty and Webhook send the policies' PagerDuty events and
	// webhooks. Optional: without them those jobs fail, visibly.
	PagerDuty PagerDutySender
	Webhook   WebhookSender
	// PublicURL is the base of the links in PagerDuty events and webhooks.
	PublicURL string
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger     // default slog.Default()
}

// Service starts, escalates, acknowledges and resolves pages.
type Service struct {
	opts Options
	inc  *incidents.Service
	log  *slog.Logger
}

// New checks the policies and returns the service.
func New(opts Options) (*Service, error) {
	if opts.Incidents == nil || opts.Pages == nil {
		return nil, errors.New("paging: Incidents and Pages are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	for name, p := range opts.Policies {
		if p.Name == "" {
			p.Name = name
			opts.Policies[name] = p
		}
		if err := p.Check(); err != nil {
			return nil, err
		}
	}
	for svc, pol := range opts.Services {
		if _, ok := opts.Policies[pol]; !ok {
			return nil, fmt.Errorf("paging: service %s names unknown escalation policy %s", svc, pol)
		}
	}
	return &Service{opts: opts, inc: opts.Incidents, log: opts.Logger}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// RegisterJobs registers the handlers of JobEscalate, JobPagerDuty and
// JobWebhook. JobNotifySlack is the Slack adapter's.
func (s *Service) RegisterJobs(q interface {
	Handle(kind string, h jobs.Handler)
}) {
	q.Handle(JobEscalate, jobs.HandlerFunc(s.handleEscalate))
	q.Handle(JobPagerDuty, jobs.HandlerFunc(s.handlePagerDuty))
	q.Handle(JobWebhook, jobs.HandlerFunc(s.handleWebhook))
}

// Listener returns the incident listener that starts a page when an
// incident is declared for a service with an escalation policy (by hand or
// from an alert: both go through Declare), and resolves an incident's pages
// when it is resolved. It runs inside the change's transaction.
func (s *Service) Listener() incidents.Listener {
	return incidents.ListenerFunc(s.incidentChanged)
}

func (s *Service) incidentChanged(ctx context.Context, tx incidents.Tx, c incidents.Change) error {
	if c.Before == nil && c.Has(incidents.EventDeclared) {
		return s.pageServiceTx(ctx, tx, c.After, "")
	}
	for _, ev := range c.Events {
		if ev.Kind == incidents.EventResolved {
			return s.resolveTx(ctx, tx, c.After, ev.Actor)
		}
		if ev.Kind == incidents.EventSeverity && c.After.Status.Open() {
			if err := s.pageServiceTx(ctx, tx, c.After, c.Before.Severity); err != nil {
				return err
			}
		}
	}
	return nil
}

// pageServiceTx starts the page of inc's service's escalation policy, if
// it has one and the policy pages for inc's severity: on declare (before
// is ""), or when the severity was raised from before to one the policy
// pages for and the service was not paged yet. A declaration below the
// policy's min_severity is recorded in the timeline.
func (s *Service) pageServiceTx(ctx context.Context, tx incidents.Tx, inc *incidents.Incident, before incidents.Severity) error {
	name, ok := s.opts.Services[inc.Service]
	if !ok || name == "" {
		return nil
	}
	pol := s.opts.Policies[name]
	target := Target{Kind: TargetService, Name: inc.Service}
	if before != "" {
		if !pol.Pages(inc.Severity) || pol.Pages(before) {
			return nil
		}
		ptx, err := pageTx(tx)
		if err != nil {
			return err
		}
		pages, err := ptx.IncidentPages(ctx, inc.ID)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(pages, func(p *Page) bool { return p.Target == target }) {
			return nil
		}
	} else if !pol.Pages(inc.Severity) {
		_, err := s.inc.RecordTx(ctx, tx, inc.ID, incidents.System, incidents.Event{Kind: EventNotPaged,
			Text: fmt.Sprintf("Not paging %s's escalation policy %s: %s is below its min_severity %s", inc.Service, name, inc.Severity, pol.MinSeverity),
			Data: map[string]any{"policy": name, "target": target.String(), "severity": string(inc.Severity), "min_severity": string(pol.MinSeverity)}})
		return err
	}
	_, err := s.startTx(ctx, tx, inc, name, target, incidents.System)
	return err
}

// policyFor is the policy a page follows: its named policy, or for a
// manual page one step that notifies its target at once.
func (s *Service) policyFor(p *Page) (*Policy, error) {
	if p.Policy == "" {
		return &Policy{Steps: []Step{{Targets: []Target{p.Target}}}}, nil
	}
	pol, ok := s.opts.Policies[p.Policy]
	if !ok {
		return nil, fmt.Errorf("escalation policy %s of %s is not configured any more", p.Policy, p.Label())
	}
	return &pol, nil
}

// startTx starts a page in tx: it stores it with the deadline of its first
// step and enqueues that step.
func (s *Service) startTx(ctx context.Context, tx incidents.Tx, inc *incidents.Incident, policy string, target Target, actor incidents.Actor) (*Page, error) {
	ptx, err := pageTx(tx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p := &Page{Incident: inc.ID, Policy: policy, Target: target, State: StateTriggered,
		CreatedAt: now, CreatedBy: actor, UpdatedAt: now}
	pol, err := s.policyFor(p)
	if err != nil {
		return nil, err
	}
	p.NextAt = pol.Deadline(now, 0, 0)
	if err := ptx.CreatePage(ctx, p); err != nil {
		return nil, err
	}
	if err := enqueueStep(ctx, tx, p); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "page started", "incident", inc.ID.String(), "page", p.ID, "policy", policy, "target", target.String())
	return p, nil
}

// enqueueStep enqueues the job of p's next step at its deadline.
func enqueueStep(ctx context.Context, e jobs.Enqueuer, p *Page) error {
	payload, err := json.Marshal(EscalateJob{Page: p.ID, Round: p.Round, Step: p.Step})
	if err != nil {
		return err
	}
	_, err = e.Enqueue(ctx, jobs.NewJob{Kind: JobEscalate, Key: stepKey(p.ID, p.Round, p.Step), Payload: payload, RunAt: p.NextAt})
	return err
}

// stop cancels the queued job of p's next step, if it has one: p is being
// acknowledged or resolved. Call it before clearing p.NextAt.
func stop(ctx context.Context, ptx Tx, p *Page) error {
	if p.NextAt.IsZero() {
		return nil
	}
	_, err := ptx.CancelJob(ctx, stepKey(p.ID, p.Round, p.Step))
	return err
}

func stepKey(page int64, round, step int) string {
	return fmt.Sprintf("page:%d:r%d:s%d", page, round, step)
}

// Page starts a page of target for an open incident, by hand. A service
// target follows the service's escalation policy; a person, Slack user or
// schedule is notified once, at once. Paging a target that an open page of
// the incident already pages is refused.
func (s *Service) Page(ctx context.Context, id incidents.ID, target Target, actor incidents.Actor) (*Page, error) {
	policy := ""
	switch target.Kind {
	case TargetService:
		policy = s.opts.Services[target.Name]
		if policy == "" {
			return nil, &incidents.ValidationError{Field: "target",
				Msg: fmt.Sprintf("The service %s has no escalation_policy to page.", target.Name)}
		}
	case TargetSchedule:
		// Refused at once rather than started to reach nobody.
		_, err := s.onCall(ctx, target.Name, s.now())
		if errors.Is(err, ErrNobodyOnCall) || errors.Is(err, ErrUnknownSchedule) {
			return nil, &incidents.ValidationError{Field: "target",
				Msg: fmt.Sprintf("Nobody is on call for %s now: page a person or a service instead.", target.Name)}
		}
	case TargetPerson, TargetUser:
	default:
		return nil, &incidents.ValidationError{Field: "target", Msg: fmt.Sprintf("%s cannot be paged; page a person, a schedule or a service.", target)}
	}
	var out *Page
	err := s.inc.InTx(ctx, func(tx incidents.Tx) error {
		ptx, err := pageTx(tx)
		if err != nil {
			return err
		}
		inc, err := tx.Incident(ctx, id)
		if err != nil {
			return err
		}
		if !inc.Status.Open() {
			return &incidents.ValidationError{Field: "incident", Msg: fmt.Sprintf("%s is resolved; reopen it before paging.", inc.ID)}
		}
		pages, err := ptx.IncidentPages(ctx, id)
		if err != nil {
			return err
		}
		for _, p := range pages {
			if p.State.Open() && p.Target == target {
				return &incidents.ValidationError{Field: "target",
					Msg: fmt.Sprintf("%s is already paging %s; acknowledge it with /incident ack.", p.Label(), target)}
			}
		}
		out, err = s.startTx(ctx, tx, inc, policy, target, actor)
		return err
	})
	return out, err
}

// handleEscalate runs one step of a page: in one transaction it checks that
// the page is open and waits at this step, enqueues the step's
// notifications, records the step in the timeline, advances the page to its
// next step and enqueues that step at its deadline. A job that runs again
// after its transaction committed finds the page advanced and does nothing.
func (s *Service) handleEscalate(ctx context.Context, j jobs.Job) error {
	var in EscalateJob
	if err := json.Unmarshal(j.Payload, &in); err != nil {
		return jobs.Permanent(fmt.Errorf("decoding %s payload: %w", j.Kind, err))
	}
	return s.inc.InTx(ctx, func(tx incidents.Tx) error {
		ptx, err := pageTx(tx)
		if err != nil {
			return err
		}
		p, err := ptx.Page(ctx, in.Page)
		if errors.Is(err, ErrNotFound) {
			return jobs.Permanent(err)
		}
		if err != nil {
			return err
		}
		if !p.State.Open() || p.Round != in.Round || p.Step != in.Step {
			return nil // acknowledged, resolved, or this step already ran
		}
		pol, err := s.policyFor(p)
		if err != nil {
			return jobs.Permanent(err)
		}
		if p.Step >= len(pol.Steps) {
			return jobs.Permanent(fmt.Errorf("%s has no step %d any more", p.Label(), p.Step+1))
		}
		inc, err := tx.Incident(ctx, p.Incident)
		if err != nil {
			return err
		}
		first := !triggered(p)
		if err := s.skipMissed(ctx, tx, p, pol); err != nil {
			return err
		}
		return s.runStep(ctx, tx, ptx, p, pol, inc, first)
	})
}

// skipMissed moves p past the steps that a later step, due too, makes
// pointless: after Warroom was down, only the latest due step runs (one
// wake-up, not a burst of every step missed), and the timeline says which
// were skipped.
func (s *Service) skipMissed(ctx context.Context, tx incidents.Tx, p *Page, pol *Policy) error {
	now := s.now()
	var skipped []string
	data := s.pageData(p)
	for {
		nr, ns, ok := pol.Next(p.Round, p.Step)
		if !ok || pol.Deadline(p.CreatedAt, nr, ns).After(now) {
			break
		}
		skipped = append(skipped, fmt.Sprintf("%s (due %s UTC)", stepName(p, pol, p.Round, p.Step),
			pol.Deadline(p.CreatedAt, p.Round, p.Step).UTC().Format("15:04")))
		p.Round, p.Step, p.NextAt = nr, ns, pol.Deadline(p.CreatedAt, nr, ns)
	}
	if len(skipped) == 0 {
		return nil
	}
	s.log.WarnContext(ctx, "skipped page steps that fell due while Warroom was not running", "page", p.ID, "skipped", len(skipped))
	data["skipped"] = skipped
	_, err := s.inc.RecordTx(ctx, tx, p.Incident, incidents.System, incidents.Event{Kind: EventSkipped,
		Text: fmt.Sprintf("Skipped %s: a later step was due too (Warroom was not running), so only the latest runs",
			strings.Join(skipped, "; ")), Data: data})
	return err
}

// runStep runs p's current step; first says whether it is the first step
// of p to run (which triggers PagerDuty).
func (s *Service) runStep(ctx context.Context, tx incidents.Tx, ptx Tx, p *Page, pol *Policy, inc *incidents.Incident, first bool) error {
	now := s.now()
	round, step, due := p.Round, p.Step, p.NextAt
	sent, err := s.notifyStep(ctx, tx, p, pol, now)
	if err != nil {
		return err
	}
	notified := sent.notified
	kind, actor := EventEscalated, incidents.System
	if first {
		kind, actor = EventTriggered, p.CreatedBy
		p.State = StateTriggered
	} else {
		p.State = StateEscalated
	}
	if nr, ns, ok := pol.Next(round, step); ok {
		p.Round, p.Step, p.NextAt = nr, ns, pol.Deadline(p.CreatedAt, nr, ns)
		if len(sent.recipients) == 0 && nr == round && p.NextAt.After(now) {
			// The step reached nobody: waiting out its delay would only
			// leave the incident unanswered for longer.
			p.NextAt = now
		}
	} else {
		// Past the last step: no job matches the page any more.
		p.Step, p.NextAt = len(pol.Steps), time.Time{}
	}
	p.UpdatedAt = now
	if err := ptx.UpdatePage(ctx, p); err != nil {
		return err
	}
	if !p.NextAt.IsZero() {
		if err := enqueueStep(ctx, tx, p); err != nil {
			return err
		}
	}

	data := s.pageData(p)
	data["round"], data["step"], data["steps"], data["rounds"] = round+1, step+1, len(pol.Steps), pol.Repeat+1
	data["notified"] = notified
	data["due_at"] = due.Format(time.RFC3339)
	if !p.NextAt.IsZero() {
		data["next_at"] = p.NextAt.Format(time.RFC3339)
	}
	text := stepText(p, pol, kind, round, step, notified)
	if _, err := s.inc.RecordTx(ctx, tx, p.Incident, actor, incidents.Event{Kind: kind, Text: text, Data: data}); err != nil {
		return err
	}
	if len(sent.unreached) > 0 {
		warning := fmt.Sprintf("%s reached %s.", stepName(p, pol, round, step), strings.Join(sent.unreached, ", "))
		if len(sent.recipients) > 0 {
			warning += " The step's other targets were notified."
		} else {
			warning += " " + s.whatNext(p, round)
		}
		if err := s.warn(ctx, tx, p, stepKey(p.ID, round, step)+":nobody", warning); err != nil {
			return err
		}
	}
	pages, err := ptx.IncidentPages(ctx, p.Incident)
	if err != nil {
		return err
	}
	key := s.pagerDutyKey(p, pages)
	if kind == EventTriggered {
		if err := s.enqueuePagerDuty(ctx, tx, p, pol, PagerDutyTrigger, key); err != nil {
			return err
		}
	}
	return s.enqueueWebhook(ctx, tx, p, pol, inc, kind, now, key, func(ev *PageEvent) {
		ev.Round, ev.Step = round+1, step+1
		for _, t := range pol.Steps[step].Targets {
			ev.Targets = append(ev.Targets, t.String())
		}
		ev.Notified, ev.People, ev.Channels = notified, sent.people, sent.channels
	}, fmt.Sprintf(":r%d:s%d", round, step))
}

// stepName names a step of a page for people: "Page 1 (payments), step 1
// of 3, round 1 of 3", or "Page 2 (schedule:db)" for a page by hand.
func stepName(p *Page, pol *Policy, round, step int) string {
	label := p.Label()
	name := strings.ToUpper(label[:1]) + label[1:]
	if p.Policy == "" {
		return name
	}
	name += fmt.Sprintf(", step %d of %d", step+1, len(pol.Steps))
	if pol.Repeat > 0 {
		name += fmt.Sprintf(", round %d of %d", round+1, pol.Repeat+1)
	}
	return name
}

// whatNext says what p does next, after a step of round that reached
// nobody.
func (s *Service) whatNext(p *Page, round int) string {
	switch {
	case p.NextAt.IsZero():
		return "Nobody else will be paged: page someone with /incident page."
	case !p.NextAt.After(s.now()):
		return fmt.Sprintf("Escalating to step %d now.", p.Step+1)
	case p.Round != round:
		return fmt.Sprintf("The steps run again from %s UTC.", p.NextAt.UTC().Format("15:04"))
	}
	return fmt.Sprintf("Step %d runs at %s UTC.", p.Step+1, p.NextAt.UTC().Format("15:04"))
}

// NoticeFailed is what the Slack adapter calls when a notice of a page
// cannot be delivered and no retry will change that (key is the notice's
// job key): the timeline records it, the incident's channel is warned, and
// when no recipient of the step could be notified and the page still waits
// for its next step, that step runs now. Calling it again for the same
// notice does nothing.
func (s *Service) NoticeFailed(ctx context.Context, key string, n SlackNotice, reason string) error {
	return s.inc.InTx(ctx, func(tx incidents.Tx) error {
		ptx, err := pageTx(tx)
		if err != nil {
			return err
		}
		p, err := ptx.Page(ctx, n.Page)
		if err != nil {
			return err
		}
		pol, err := s.policyFor(p)
		if err != nil {
			return err
		}
		if told, err := ptx.HasJob(ctx, key+":failed"); err != nil || told {
			return err
		}
		now := s.now()
		recipient := n.Person + n.User + n.Channel
		where := stepName(p, pol, n.Round, n.Step)
		escalate := false
		if p.State.Open() && p.Round == n.Round && p.Step == n.Step+1 && p.NextAt.After(now) && len(n.Recipients) > 0 {
			// Escalate when this is the last recipient of the step to fail.
			escalate = true
			for _, r := range n.Recipients {
				k := NoticeKey(p.ID, n.Round, n.Step, r)
				if k == key {
					continue
				}
				failed, err := ptx.HasJob(ctx, k+":failed")
				if err != nil {
					return err
				}
				escalate = escalate && failed
			}
		}
		text := fmt.Sprintf("%s could not notify %s: %s.", where, recipient, strings.TrimSuffix(reason, "."))
		if escalate {
			p.NextAt, p.UpdatedAt = now, now
			if err := ptx.UpdatePage(ctx, p); err != nil {
				return err
			}
			if _, err := ptx.RescheduleJob(ctx, stepKey(p.ID, p.Round, p.Step), now); err != nil {
				return err
			}
			text += " " + s.whatNext(p, n.Round)
		}
		payload, err := json.Marshal(Warning{Page: p.ID, Incident: p.Incident, Text: text})
		if err != nil {
			return err
		}
		if _, err := tx.Enqueue(ctx, jobs.NewJob{Kind: JobSlackWarning, Key: key + ":failed", Payload: payload}); err != nil {
			return err
		}
		data := s.pageData(p)
		data["round"], data["step"], data["recipient"], data["reason"] = n.Round+1, n.Step+1, recipient, reason
		_, err = s.inc.RecordTx(ctx, tx, p.Incident, incidents.System, incidents.Event{Kind: EventUnreached, Text: text, Data: data})
		return err
	})
}

// warn enqueues a warning for the incident's channel, once per key.
func (s *Service) warn(ctx context.Context, tx incidents.Tx, p *Page, key, text string) error {
	payload, err := json.Marshal(Warning{Page: p.ID, Incident: p.Incident, Text: text})
	if err != nil {
		return err
	}
	_, err = tx.Enqueue(ctx, jobs.NewJob{Kind: JobSlackWarning, Key: key, Payload: payload})
	return err
}

// stepText says what a step did, for the timeline.
func stepText(p *Page, pol *Policy, kind incidents.EventKind, round, step int, notified []string) string {
	who := "nobody"
	if len(notified) > 0 {
		who = strings.Join(notified, ", ")
	}
	if p.Policy == "" {
		return "Paged " + who
	}
	where := fmt.Sprintf("step %d of %d of %s", step+1, len(pol.Steps), p.Policy)
	if pol.Repeat > 0 {
		where += fmt.Sprintf(", round %d of %d", round+1, pol.Repeat+1)
	}
	if kind == EventTriggered {
		return fmt.Sprintf("Paged %s (%s)", who, where)
	}
	return fmt.Sprintf("Escalated to %s (%s)", who, where)
}

// stepNotices is what notifyStep did: whom it notified, as text for the
// timeline; the recipients it enqueued a notice for; and the targets that
// named nobody, as text.
type stepNotices struct {
	notified   []string
	recipients []string
	unreached  []string
	// people are the people notified, plain: configured names, or Slack
	// user IDs for users paged by hand; channels the channels.
	people, channels []string
}

// notifyStep enqueues a Slack notice for each recipient of p's current step
// (a schedule's on-call person, a person, a user, a channel; each once) and
// says whom it notified and which targets reached nobody.
func (s *Service) notifyStep(ctx context.Context, tx incidents.Tx, p *Page, pol *Policy, now time.Time) (stepNotices, error) {
	var out stepNotices
	var notices []SlackNotice
	seen := map[string]bool{}
	for _, t := range pol.Steps[p.Step].Targets {
		n := SlackNotice{Page: p.ID, Incident: p.Incident, Policy: p.Policy, Round: p.Round, Rounds: pol.Repeat + 1,
			Step: p.Step, Steps: len(pol.Steps)}
		var recipient, shown string
		switch t.Kind {
		case TargetSchedule:
			person, err := s.onCall(ctx, t.Name, now)
			if errors.Is(err, ErrNobodyOnCall) || errors.Is(err, ErrUnknownSchedule) {
				s.log.WarnContext(ctx, "nobody to page on a schedule", "page", p.ID, "schedule", t.Name, "err", err)
				what := "nobody on call for " + t.Name
				if !errors.Is(err, ErrNobodyOnCall) {
					what = "nobody (unknown schedule " + t.Name + ")"
				}
				out.notified = append(out.notified, what)
				out.unreached = append(out.unreached, what)
				continue
			}
			if err != nil {
				return stepNotices{}, fmt.Errorf("who is on call for %s: %w", t.Name, err)
			}
			n.Person, n.Via = person, t.String()
			recipient, shown = "person:"+person, fmt.Sprintf("%s (on call for %s)", person, t.Name)
		case TargetPerson:
			n.Person, recipient, shown = t.Name, t.String(), t.Name
		case TargetUser:
			n.User, recipient, shown = t.Name, t.String(), "<@"+t.Name+">"
		case TargetChannel:
			n.Channel, recipient, shown = t.Name, t.String(), t.Name
		default:
			continue
		}
		if seen[recipient] {
			continue
		}
		seen[recipient] = true
		if n.Channel != "" {
			out.channels = append(out.channels, n.Channel)
		} else {
			out.people = append(out.people, n.Person+n.User)
		}
		out.notified = append(out.notified, shown)
		out.recipients = append(out.recipients, recipient)
		notices = append(notices, n)
	}
	for i, n := range notices {
		n.Recipients = out.recipients
		payload, err := json.Marshal(n)
		if err != nil {
			return stepNotices{}, err
		}
		if _, err := tx.Enqueue(ctx, jobs.NewJob{Kind: JobNotifySlack, Key: NoticeKey(p.ID, p.Round, p.Step, out.recipients[i]),
			Payload: payload}); err != nil {
			return stepNotices{}, err
		}
	}
	return out, nil
}

// NoticeKey is the key of the JobNotifySlack job of one recipient
// ("person:alice", "channel:#payments") of one step of a page.
func NoticeKey(page int64, round, step int, recipient string) string {
	return stepKey(page, round, step) + ":" + recipient
}

func (s *Service) onCall(ctx context.Context, schedule string, at time.Time) (string, error) {
	if s.opts.OnCall == nil {
		return "", fmt.Errorf("%w: no on-call schedules are wired", ErrUnknownSchedule)
	}
	return s.opts.OnCall.Who(ctx, schedule, at)
}

// pageData is the timeline data every page event has.
func (s *Service) pageData(p *Page) map[string]any {
	return map[string]any{"page": p.ID, "policy": p.Policy, "target": p.Target.String()}
}

// resolveTx resolves the incident's pages that are not resolved yet, with
// the incident, and tells PagerDuty and the webhook.
func (s *Service) resolveTx(ctx context.Context, tx incidents.Tx, inc *incidents.Incident, actor incidents.Actor) error {
	ptx, err := pageTx(tx)
	if err != nil {
		return err
	}
	pages, err := ptx.IncidentPages(ctx, inc.ID)
	if err != nil {
		return err
	}
	now := s.now()
	resolved := map[string]bool{} // PagerDuty keys resolved
	for _, p := range pages {
		if p.State == StateResolved {
			continue
		}
		if err := stop(ctx, ptx, p); err != nil {
			return err
		}
		p.State, p.ResolvedAt, p.NextAt, p.UpdatedAt = StateResolved, now, time.Time{}, now
		if err := ptx.UpdatePage(ctx, p); err != nil {
			return err
		}
		if err := enqueueSlackState(ctx, tx, p); err != nil {
			return err
		}
		if _, err := s.inc.RecordTx(ctx, tx, inc.ID, actor, incidents.Event{Kind: EventResolved,
			Text: fmt.Sprintf("Resolved %s with the incident", p.Label()), Data: s.pageData(p)}); err != nil {
			return err
		}
		pol, err := s.policyFor(p)
		if err != nil {
			s.log.WarnContext(ctx, "resolving a page of a policy no longer configured", "page", p.ID, "err", err)
			continue
		}
		if !triggered(p) {
			continue // PagerDuty and the webhook never heard of it
		}
		key := s.pagerDutyKey(p, pages)
		if !resolved[key] {
			resolved[key] = true
			if err := s.enqueuePagerDuty(ctx, tx, p, pol, PagerDutyResolve, key); err != nil {
				return err
			}
		}
		if err := s.enqueueWebhook(ctx, tx, p, pol, inc, EventResolved, now, key, nil, ""); err != nil {
			return err
		}
	}
	return nil
}

// AckResult is what Acknowledge did.
type AckResult struct {
	// Incident is the incident after the acknowledgement.
	Incident *incidents.Incident
	// Acked are the pages this call acknowledged.
	Acked []*Page
	// Already are, when Acked is empty, the asked-for page if it was
	// acknowledged or resolved before (a double click), or for all pages
	// the incident's pages acknowledged before (a second /incident ack).
	Already []*Page
}

// Acknowledge acknowledges a page of an incident (page > 0) or every open
// page of it (page 0): escalation stops, each page's acknowledgement is
// recorded in the timeline, PagerDuty and the webhook are told, and the
// incident is acknowledged (the first time, with the time to acknowledge).
// Acknowledging again changes nothing: the result lists the pages in
// Already.
func (s *Service) Acknowledge(ctx context.Context, id incidents.ID, page int64, actor incidents.Actor) (AckResult, error) {
	var res AckResult
	err := s.inc.InTx(ctx, func(tx incidents.Tx) error {
		res = AckResult{}
		ptx, err := pageTx(tx)
		if err != nil {
			return err
		}
		inc, err := tx.Incident(ctx, id)
		if err != nil {
			return err
		}
		pages, err := ptx.IncidentPages(ctx, id)
		if err != nil {
			return err
		}
		all := pages
		if page != 0 {
			i := slices.IndexFunc(pages, func(p *Page) bool { return p.ID == page })
			if i < 0 {
				return &incidents.ValidationError{Field: "page", Msg: fmt.Sprintf("%s has no page %d.", id, page)}
			}
			pages = pages[i : i+1]
		}
		now := s.now()
		for _, p := range pages {
			if !p.State.Open() {
				if page != 0 || p.State == StateAcknowledged {
					res.Already = append(res.Already, p)
				}
				continue
			}
			if err := stop(ctx, ptx, p); err != nil {
				return err
			}
			p.State, p.AckedAt, p.AckedBy, p.NextAt, p.UpdatedAt = StateAcknowledged, now, actor, time.Time{}, now
			if err := ptx.UpdatePage(ctx, p); err != nil {
				return err
			}
			if err := enqueueSlackState(ctx, tx, p); err != nil {
				return err
			}
			tta := now.Sub(p.CreatedAt)
			data := s.pageData(p)
			data["tta_seconds"] = int64(tta.Seconds())
			if _, err := s.inc.RecordTx(ctx, tx, id, actor, incidents.Event{Kind: EventAcknowledged,
				Text: fmt.Sprintf("Acknowledged %s %s after it started", p.Label(), incidents.FormatDuration(tta)), Data: data}); err != nil {
				return err
			}
			pol, err := s.policyFor(p)
			if err != nil {
				s.log.WarnContext(ctx, "acknowledging a page of a policy no longer configured", "page", p.ID, "err", err)
			} else if triggered(p) {
				key := s.pagerDutyKey(p, all)
				// The alert is acknowledged once no open page of the
				// incident holds it: another page still escalating with
				// the same key must keep waking people.
				held := slices.ContainsFunc(all, func(q *Page) bool {
					return q.ID != p.ID && q.State.Open() && s.usesPagerDuty(q) && s.pagerDutyKey(q, all) == key
				})
				if !held {
					if err := s.enqueuePagerDuty(ctx, tx, p, pol, PagerDutyAcknowledge, key); err != nil {
						return err
					}
				}
				if err := s.enqueueWebhook(ctx, tx, p, pol, inc, EventAcknowledged, now, key, nil, ""); err != nil {
					return err
				}
			}
			res.Acked = append(res.Acked, p)
		}
		if len(res.Acked) > 0 && page == 0 {
			res.Already = nil // the others of a /incident ack are not news
		}
		if len(res.Acked) == 0 && len(res.Already) > 0 {
			res.Incident = inc
			return nil
		}
		if !inc.Status.Open() {
			if len(res.Acked) == 0 {
				return &incidents.ValidationError{Field: "incident", Msg: fmt.Sprintf("%s is resolved; there is nothing to acknowledge.", inc.ID)}
			}
			res.Incident = inc
			return nil
		}
		res.Incident, err = s.inc.AcknowledgeTx(ctx, tx, id, actor)
		return err
	})
	return res, err
}

// Pages lists an incident's pages, oldest first.
func (s *Service) Pages(ctx context.Context, id incidents.ID) ([]*Page, error) {
	return s.opts.Pages.IncidentPages(ctx, id)
}

// Get reads one page.
func (s *Service) Get(ctx context.Context, id int64) (*Page, error) {
	return s.opts.Pages.Page(ctx, id)
}

// Resume enqueues, at its stored deadline, the next step of every page that
// still escalates. Each step's job is keyed by page, round and step, so a
// step that is queued already is not queued twice; Resume only repairs a
// queue that lost a job (restored from a backup, pruned by hand). It
// returns how many steps it queued.
func (s *Service) Resume(ctx context.Context) (int, error) {
	pages, err := s.opts.Pages.EscalatingPages(ctx)
	if err != nil || len(pages) == 0 {
		return 0, err
	}
	n := 0
	err = s.inc.InTx(ctx, func(tx incidents.Tx) error {
		n = 0
		for _, p := range pages {
			payload, err := json.Marshal(EscalateJob{Page: p.ID, Round: p.Round, Step: p.Step})
			if err != nil {
				return err
			}
			created, err := tx.Enqueue(ctx, jobs.NewJob{Kind: JobEscalate, Key: stepKey(p.ID, p.Round, p.Step), Payload: payload, RunAt: p.NextAt})
			if err != nil {
				return err
			}
			if created {
				n++
			}
		}
		return nil
	})
	return n, err
}

// ResolveTarget reads what /incident page was given: "person:alice",
// "schedule:payments-primary" or "service:checkout" as they are, or a bare
// name of a configured person, schedule or service (in that order of
// preference, in any case).
func (s *Service) ResolveTarget(word string) (Target, error) {
	word = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(word), "@"))
	find := func(names []string, n string) (string, bool) {
		for _, c := range names {
			if strings.EqualFold(c, n) {
				return c, true
			}
		}
		return "", false
	}
	services := make([]string, 0, len(s.opts.Services))
	for svc := range s.opts.Services {
		services = append(services, svc)
	}
	slices.Sort(services)
	kinds := []struct {
		kind  TargetKind
		names []string
	}{{TargetPerson, s.opts.People}, {TargetSchedule, s.opts.Schedules}, {TargetService, services}}
	if k, name, ok := strings.Cut(word, ":"); ok {
		for _, c := range kinds {
			if TargetKind(strings.ToLower(k)) == c.kind {
				if n, ok := find(c.names, name); ok {
					return Target{Kind: c.kind, Name: n}, nil
				}
				return Target{}, &incidents.ValidationError{Field: "target", Msg: fmt.Sprintf("There is no %s named %q.", c.kind, name)}
			}
		}
	}
	for _, c := range kinds {
		if n, ok := find(c.names, word); ok {
			return Target{Kind: c.kind, Name: n}, nil
		}
	}
	return Target{}, &incidents.ValidationError{Field: "target", Msg: fmt.Sprintf(
		"I can't tell whom to page with %q: mention someone, or name a configured person, schedule or service with an escalation policy.", word)}
}
